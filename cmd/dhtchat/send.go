package main

import (
	"bufio"
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"strings"
	"sync"
	"time"

	"github.com/dhtchat/dhtchat/chat"
	"github.com/dhtchat/dhtchat/internal/userr"
)

var sendCmd = &command{
	name:  "send",
	args:  "NAME [--chat CHATKEY] TEXT…|-",
	short: "Send a message (or each line of stdin) to a friend",
	long: `Sends TEXT (the arguments joined by spaces) as one message, or with "-" each
line of stdin as one message, in the most recent chat with NAME (or the one
--chat names). Exits 0 once every message is durably queued and published to
the DHT; --wait-delivered also waits for the friend's acknowledgement.

If the DHT cannot be reached the messages stay queued (exit 1) and any later
dhtchat command that goes online for this chat publishes them.

With --json it prints {"n":…,"status":"queued"} for each message as soon as
it is stored (it will be published even after a crash), then
{"n":…,"status":"published"}, and with --wait-delivered
{"n":…,"status":"delivered"}.

Examples:
  dhtchat send alice "see you at 8"
  ./build.sh 2>&1 | tail -5 | dhtchat send ops -
  dhtchat send alice --wait-delivered --timeout 5m "are you there?"`,
	nargs: atLeast(2),
	setup: func(fs *flag.FlagSet) runFunc {
		o := &sendOpts{}
		fs.StringVar(&o.chatKey, "chat", "", "send in the chat with this `CHATKEY` (default: the latest with NAME)")
		fs.BoolVar(&o.waitDelivered, "wait-delivered", false, "wait until the friend acknowledges every message")
		fs.DurationVar(&o.timeout, "timeout", 0, "give up waiting after `D` (e.g. 30s, 5m; default: no limit)")
		return func(ctx context.Context, e *env, args []string) error { return runSend(ctx, e, args, o) }
	},
}

type sendOpts struct {
	chatKey       string
	waitDelivered bool
	timeout       time.Duration
}

// sendBatch is how many stdin lines are stored in one transaction at most.
const sendBatch = 128

func runSend(ctx context.Context, e *env, args []string, o *sendOpts) error {
	if o.timeout < 0 {
		return userr.Usagef("--timeout must not be negative")
	}
	s, f, info, err := e.openChat(ctx, true, args[0], o.chatKey)
	if err != nil {
		return err
	}
	defer s.close()
	prog := &sendProgress{e: e, s: s, id: info.ID, name: f.Name, printed: map[string]uint64{}}

	if err := prog.knownAlerts(ctx); err != nil {
		return err
	}

	// Join the DHT while stdin is read; then the worker publishes each
	// batch as soon as it is stored ("tail -f log | dhtchat send ops -"
	// never ends), without polling the chat, and its events have the
	// progress printed meanwhile.
	events := s.subscribe(ctx, info)
	bgCtx, cancelBG := context.WithCancel(ctx)
	connected := make(chan error, 1)
	stdinDone := make(chan struct{})
	var bg sync.WaitGroup
	bg.Go(func() {
		err := s.connect(bgCtx)
		if err == nil {
			s.use(info)
		}
		connected <- err
		if err != nil {
			if bgCtx.Err() == nil {
				e.warnf("no DHT peers reachable; messages are stored and stay queued")
			}
			return
		}
		for {
			select {
			case <-stdinDone:
				return // waitSent reads the events from now on
			case ev, ok := <-events:
				if !ok {
					return
				}
				prog.take(bgCtx, ev, events)
			}
		}
	})
	handOver := sync.OnceFunc(func() { close(stdinDone); bg.Wait() })
	defer func() { cancelBG(); handOver() }()

	// Store first: what is stored is sent, now or by a later run. Each line
	// is checked before its batch is stored, so that a bad line stops the
	// input at that line exactly, and what came before it is still sent.
	lines := 0
	var bad error
	queue := func(bodies []string) error {
		bodies, bad = validPrefix(bodies, lines)
		if len(bodies) > 0 {
			entries, err := s.send(ctx, info, bodies)
			if err != nil {
				return err
			}
			lines += len(entries)
			if err := prog.queued(entries); err != nil {
				return err
			}
		}
		return bad
	}
	if len(args) == 2 && args[1] == "-" {
		err = readLines(e.stdin, queue)
	} else {
		err = queue([]string{strings.Join(args[1:], " ")})
	}
	if err != nil && bad == nil {
		return err
	}
	_, last := prog.span()
	if last == 0 {
		if bad != nil {
			return bad
		}
		return userr.Usagef("nothing to send: stdin had no non-empty line")
	}
	if err := <-connected; err != nil {
		return err
	}
	handOver()

	waitCtx := ctx
	if o.timeout > 0 {
		var cancel context.CancelFunc
		waitCtx, cancel = context.WithTimeout(ctx, o.timeout)
		defer cancel()
	}
	if err := e.waitSent(waitCtx, s, info, prog, events, o.waitDelivered); err != nil {
		return err
	}
	return bad // the lines before a bad one are sent; say why the rest is not
}

// sendProgress prints a send's --json lines: "queued" for each message as
// it is stored, then "published" and "delivered" as the store shows them,
// each once and in order, whichever goroutine (or process) got there. It
// tells of the alerts raised on the chat, each kind once.
type sendProgress struct {
	e           *env
	s           *session
	id          chat.ChatID
	name        string // the friend's
	mu          sync.Mutex
	first, last uint64            // the numbers of the messages of this send
	seqs        [2]int64          // the Seq of the first and the last
	printed     map[string]uint64 // per status, the last number printed
	alerted     map[chat.AlertKind]bool
	liveAcked   uint64 // the friend's client acked up to it over the live path
	netErr      error  // why the worker last said the DHT is unreachable
	blocked     bool   // the worker said sending in the chat is blocked (AlertSendBlocked, AlertStale)
	blocked2    bool   // … because the chat's state is stale (AlertStale)
}

func (p *sendProgress) queued(entries []chat.Entry) error {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.first == 0 {
		p.first, p.seqs[0] = entries[0].N, entries[0].Seq
		p.printed["published"], p.printed["delivered"] = p.first-1, p.first-1
	}
	p.last, p.seqs[1] = entries[len(entries)-1].N, entries[len(entries)-1].Seq
	if !p.e.json {
		return nil
	}
	for _, m := range entries {
		if err := p.e.printJSON(statusJSON{N: m.N, Status: "queued"}); err != nil {
			return err
		}
	}
	return nil
}

// knownAlerts takes the alerts stored before this send as told.
func (p *sendProgress) knownAlerts(ctx context.Context) error {
	as, err := p.s.client.Alerts(ctx, p.id)
	p.mu.Lock()
	defer p.mu.Unlock()
	p.alerted = make(map[chat.AlertKind]bool)
	for _, a := range as {
		p.alerted[a.Kind] = true
	}
	return err
}

// storedAlerts tells of the alerts stored and not told of yet: those
// raised by a publish whose events came too late to be read.
func (p *sendProgress) storedAlerts(ctx context.Context) {
	if as, err := p.s.client.Alerts(ctx, p.id); err == nil {
		p.alerts(as)
	}
}

// alerts tells of the alerts not told of yet, each kind once (the events
// and the store both have them).
func (p *sendProgress) alerts(as []chat.Alert) {
	p.mu.Lock()
	var fresh []chat.Alert
	for _, a := range as {
		if !p.alerted[a.Kind] {
			p.alerted[a.Kind] = true
			fresh = append(fresh, a)
		}
	}
	p.mu.Unlock()
	p.e.noteAlerts(p.name, fresh)
}

// take takes in ev and whatever else events holds already, then prints
// the progress the store shows.
func (p *sendProgress) take(ctx context.Context, ev chat.Event, events <-chan chat.Event) {
	for ev != nil {
		switch ev := ev.(type) {
		case chat.AlertEvent:
			if ev.Alert.Chat == p.id {
				p.alerts([]chat.Alert{ev.Alert})
				if ev.Alert.Kind == chat.AlertSendBlocked || ev.Alert.Kind == chat.AlertStale {
					p.mu.Lock()
					p.blocked = true
					p.blocked2 = ev.Alert.Kind == chat.AlertStale
					p.mu.Unlock()
				}
			}
		case chat.NetworkEvent:
			p.mu.Lock()
			if ev.State == chat.Offline {
				p.netErr = ev.Err
			}
			p.mu.Unlock()
		case chat.StatusEvent:
			// Delivered before the store says so: the friend's client
			// acked over the live path (the store waits for the
			// friend's records).
			if e := ev.Entry; e.Chat == p.id && e.Outgoing && e.Status == chat.Delivered {
				p.mu.Lock()
				p.liveAcked = max(p.liveAcked, e.N)
				p.mu.Unlock()
			}
		}
		ev = nil
		select {
		case next, ok := <-events:
			if ok {
				ev = next
			}
		default:
		}
	}
	p.report(ctx)
}

// renumbered follows the messages of this send if they were renumbered
// (this database was behind another copy of it: they are sent again under
// new numbers, and --json says "queued" again for each under its new
// number). The store says where they are, by their Seq, which stays.
// Call with mu held.
func (p *sendProgress) renumbered(ctx context.Context) error {
	if p.first == 0 {
		return nil
	}
	moved, was, firstMoved := false, p.first, false
	for i, n := range [2]*uint64{&p.first, &p.last} {
		es, err := p.s.client.History(ctx, p.id, p.seqs[i]+1, 1)
		if err != nil {
			return err
		}
		if len(es) == 1 && es[0].Seq == p.seqs[i] && es[0].N != *n {
			*n, moved = es[0].N, true
			firstMoved = firstMoved || i == 0
		}
	}
	if moved {
		// Renumbered messages are stored under their new numbers and
		// pending again: report them anew.
		p.printed["published"], p.printed["delivered"] = p.first-1, p.first-1
		p.liveAcked = 0 // of the old numbers
		if p.e.json {
			for n := p.first; n <= p.last; n++ {
				// Renumbering keeps them in order, one after the other.
				l := statusJSON{N: n, Status: "queued"}
				if firstMoved {
					l.Was = was + (n - p.first)
				}
				if err := p.e.printJSON(l); err != nil {
					return err
				}
			}
		}
	}
	return nil
}

func (p *sendProgress) span() (first, last uint64) {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.first, p.last
}

// report reads the outbox and prints the lines not printed yet.
func (p *sendProgress) report(ctx context.Context) (chat.Outbox, error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if err := p.renumbered(ctx); err != nil {
		return chat.Outbox{}, err
	}
	o, err := p.s.client.Outbox(ctx, p.id)
	if err != nil || p.first == 0 {
		return o, err
	}
	// What the friend's client acked over the live path counts as
	// delivered (PROTOCOL.md §17.4), even before it is published.
	o.Delivered = max(o.Delivered, p.liveAcked, p.s.client.LiveAcked(p.id))
	for _, st := range []struct {
		status string
		upTo   uint64
	}{{"published", o.Published}, {"delivered", o.Delivered}} {
		for n := p.printed[st.status] + 1; n <= min(st.upTo, p.last); n++ {
			if p.e.json {
				if err := p.e.printJSON(statusJSON{N: n, Status: st.status}); err != nil {
					return o, err
				}
			}
			p.printed[st.status] = n
		}
	}
	return o, nil
}

// waitSent waits until the messages of prog are published (and, with
// delivered, acknowledged), printing --json progress. The worker publishes
// them; it polls the chat too when acknowledgements are awaited (for
// delivery, or for room in the slots). Its events say when to look, and
// the store what there is, so that what another process sharing it did
// counts too. The worker retries errors of the network until ctx ends.
func (e *env) waitSent(ctx context.Context, s *session, info chat.Info, prog *sendProgress, events <-chan chat.Event, delivered bool) error {
	name := prog.name
	defer prog.storedAlerts(context.WithoutCancel(ctx))
	if delivered {
		s.focus(info)
	}
	notified := false
	for {
		o, err := prog.report(context.WithoutCancel(ctx))
		if err != nil {
			return err
		}
		_, last := prog.span()
		if o.Published >= last && !delivered || delivered && o.Delivered >= last {
			// Delivered over the live path may come before published:
			// the running dhtchat publishes the rest.
			return nil
		}
		if !notified && o.Queued > 0 && o.Published+uint64(o.Queued) >= last {
			// Published what fits: the rest waits for room.
			notified = true
			if !e.json {
				e.notef("%d messages wait for %s to acknowledge earlier ones…", o.Queued, name)
			}
			s.focus(info)
		}
		select {
		case ev, ok := <-events:
			if !ok {
				events = nil // ctx is ending
				continue
			}
			prog.take(ctx, ev, events)
			prog.mu.Lock()
			blocked, stale := prog.blocked, prog.blocked2
			prog.mu.Unlock()
			if stale {
				return chat.ErrStale // waiting would not help: the alert says why
			}
			if blocked {
				return chat.ErrSendBlocked // waiting would not help: the alert says why
			}
			continue
		case <-s.agentDone():
			// The running dhtchat that did the network work stopped.
			return userr.Runtimef("the running dhtchat stopped while %s", "waiting for "+name).
				WithHint("the messages are stored and will be sent by the next dhtchat command that goes online")
		case <-ctx.Done():
		}
		prog.mu.Lock()
		lastErr := prog.netErr
		prog.mu.Unlock()
		if o.Published >= last && ctx.Err() == context.DeadlineExceeded {
			return userr.Runtimef("timed out waiting for %s to acknowledge", name).
				WithHint("the messages are published; %s's client acknowledges them when it next reads the chat", name)
		}
		if lastErr != nil && !errors.Is(lastErr, context.DeadlineExceeded) && !errors.Is(lastErr, context.Canceled) {
			return waitError(ctx, fmt.Errorf("%w (last error: %v)", ctx.Err(), lastErr), "waiting for "+name)
		}
		return waitError(ctx, ctx.Err(), "waiting for "+name)
	}
}

// validPrefix returns the messages of bodies up to the first that cannot
// be sent, and the error that explains why (nil if all can). before is how
// many messages of the same input came before bodies.
func validPrefix(bodies []string, before int) ([]string, error) {
	for i, b := range bodies {
		if err := chat.ValidBody(b); err != nil {
			return bodies[:i], badLine(err, b, before+i+1, before+i)
		}
	}
	return bodies, nil
}

// badLine explains why message n (body) cannot be sent; the queued
// messages before it are sent.
func badLine(err error, body string, n, queued int) *userr.Error {
	what, hint := "is not valid UTF-8 text", "convert the text to UTF-8"
	switch {
	case errors.Is(err, chat.ErrBodyTooLarge):
		what, hint = fmt.Sprintf("is longer than %d bytes", chat.MaxBody), "split long text into several messages"
	case body == "":
		what, hint = "is empty", "a message needs some text"
	}
	u := userr.Usagef("message %d %s", n, what)
	if queued > 0 {
		return u.WithHint("the %d messages before it were sent; nothing from it on was", queued)
	}
	return u.WithHint("nothing was sent; %s", hint)
}

// readLines calls fn with the non-empty lines of r, in batches: as many as
// are already buffered, up to sendBatch, so that each batch is stored in
// one transaction and a slow writer's lines are stored as they come.
func readLines(r io.Reader, fn func([]string) error) error {
	br := bufio.NewReaderSize(r, 64<<10)
	var batch []string
	for {
		line, err := br.ReadString('\n')
		if len(line) > 0 {
			line = strings.TrimRight(line, "\r\n")
			if line != "" {
				batch = append(batch, line)
			}
		}
		if err != nil && !errors.Is(err, io.EOF) {
			return userr.Runtimef("reading stdin: %v", err)
		}
		eof := err != nil
		if eof || len(batch) >= sendBatch || br.Buffered() == 0 {
			if err := fn(batch); err != nil {
				return err
			}
			batch = batch[:0]
		}
		if eof {
			return nil
		}
	}
}

// waitError explains an error that ended a wait on the network.
func waitError(ctx context.Context, err error, doing string) error {
	if errors.Is(err, context.DeadlineExceeded) && ctx.Err() != nil {
		return userr.Runtimef("timed out %s", doing).
			WithHint("the messages are stored and will be sent by the next dhtchat command that goes online")
	}
	if errors.Is(err, context.Canceled) {
		return userr.Runtimef("interrupted while %s", doing).
			WithHint("the messages are stored and will be sent by the next dhtchat command that goes online")
	}
	return err
}
