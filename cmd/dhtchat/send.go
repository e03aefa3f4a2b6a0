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
	prog := &sendProgress{e: e, s: s, id: info.ID, printed: map[string]uint64{}}

	// Join the DHT while stdin is read, and publish each batch as soon as
	// it is stored: "tail -f log | dhtchat send ops -" never ends.
	pubCtx, stopPub := context.WithCancel(ctx)
	kick := make(chan struct{}, 1)
	connected := make(chan error, 1)
	var pub sync.WaitGroup
	pub.Go(func() {
		err := s.connect(pubCtx)
		connected <- err
		if err != nil && pubCtx.Err() == nil {
			e.warnf("no DHT peers reachable; messages are stored and stay queued")
		}
		for err == nil {
			select {
			case <-pubCtx.Done():
				return
			case <-kick:
				// Errors are retried by the wait at the end.
				res, ferr := s.client.Flush(pubCtx, info.ID)
				prog.resynced(f.Name, res.Resynced, res.Alerts)
				if ferr == nil {
					prog.report(pubCtx)
				}
			}
		}
	})
	defer func() { stopPub(); pub.Wait() }()

	// Store first: what is stored is sent, now or by a later run. Each line
	// is checked before its batch is stored, so that a bad line stops the
	// input at that line exactly, and what came before it is still sent.
	lines := 0
	var bad error
	queue := func(bodies []string) error {
		bodies, bad = validPrefix(bodies, lines)
		if len(bodies) > 0 {
			entries, err := s.client.Send(ctx, info.ID, bodies...)
			if err != nil {
				return err
			}
			lines += len(entries)
			if err := prog.queued(entries); err != nil {
				return err
			}
			select {
			case kick <- struct{}{}:
			default:
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
	stopPub()
	pub.Wait()

	waitCtx := ctx
	if o.timeout > 0 {
		var cancel context.CancelFunc
		waitCtx, cancel = context.WithTimeout(ctx, o.timeout)
		defer cancel()
	}
	if err := e.waitSent(waitCtx, s, f.Name, prog, o.waitDelivered); err != nil {
		return err
	}
	return bad // the lines before a bad one are sent; say why the rest is not
}

// sendProgress prints a send's --json lines: "queued" for each message as
// it is stored, then "published" and "delivered" as the store shows them,
// each once and in order, whichever goroutine (or process) got there.
type sendProgress struct {
	e           *env
	s           *session
	id          chat.ChatID
	mu          sync.Mutex
	first, last uint64            // the numbers of the messages of this send
	seqs        [2]int64          // the Seq of the first and the last
	printed     map[string]uint64 // per status, the last number printed
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

// resynced takes in what a publish or fetch in the chat with the friend
// called name did besides: it tells of the alerts, and follows the
// messages of this send if they were renumbered (this database was behind
// another copy of it: they are sent again under new numbers, and --json
// says "queued" again for each under its new number).
func (p *sendProgress) resynced(name string, entries []chat.Entry, alerts []chat.Alert) {
	p.e.noteAlerts(name, alerts)
	p.mu.Lock()
	defer p.mu.Unlock()
	moved, was, firstMoved := false, p.first, false
	for _, e := range entries {
		if p.first == 0 || e.Imported {
			continue
		}
		if e.Seq == p.seqs[0] {
			p.first, moved, firstMoved = e.N, true, true
		}
		if e.Seq == p.seqs[1] {
			p.last, moved = e.N, true
		}
	}
	if moved {
		// Renumbered messages are stored under their new numbers and
		// pending again: report them anew.
		p.printed["published"], p.printed["delivered"] = p.first-1, p.first-1
		if p.e.json {
			for n := p.first; n <= p.last; n++ {
				// Renumbering keeps them in order, one after the other.
				l := statusJSON{N: n, Status: "queued"}
				if firstMoved {
					l.Was = was + (n - p.first)
				}
				p.e.printJSON(l)
			}
		}
	}
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
	o, err := p.s.client.Outbox(ctx, p.id)
	if err != nil || p.first == 0 {
		return o, err
	}
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

// waitSent publishes the chat until the messages of prog are published
// (and, with delivered, acknowledged), printing --json progress. Progress
// comes from the store, so it counts what another process sharing it did.
// Errors of the network are retried until ctx ends.
func (e *env) waitSent(ctx context.Context, s *session, name string, prog *sendProgress, delivered bool) error {
	_, last := prog.span()
	notified, needFlush := false, true
	var lastErr error
	for {
		if needFlush {
			res, err := s.client.Flush(ctx, prog.id)
			prog.resynced(name, res.Resynced, res.Alerts)
			_, last = prog.span()
			if errors.Is(err, chat.ErrSendBlocked) {
				return err // waiting would not help: the alert says why
			}
			if err != nil {
				lastErr = err
			} else if res.Queued > 0 && !notified && !e.json {
				e.notef("%d messages wait for %s to acknowledge earlier ones…", res.Queued, name)
				notified = true
			}
			needFlush = err != nil
		}
		o, err := prog.report(ctx)
		if err != nil {
			return err
		}
		if o.Published >= last && (!delivered || o.Delivered >= last) {
			return nil
		}
		// Wait for acknowledgements: they free room and mark delivery.
		// (Fetch publishes if they made room.)
		fetched, err := s.client.Fetch(ctx, prog.id)
		prog.resynced(name, fetched.Resynced, fetched.Alerts)
		_, last = prog.span()
		if err != nil {
			lastErr = err
		}
		if len(fetched.Delivered) > 0 {
			needFlush = !fetched.Flushed // room for what was queued
			continue
		}
		select {
		case <-ctx.Done():
			if o.Published >= last && ctx.Err() == context.DeadlineExceeded {
				return userr.Runtimef("timed out waiting for %s to acknowledge", name).
					WithHint("the messages are published; %s's client acknowledges them when it next reads the chat", name)
			}
			if lastErr != nil && !errors.Is(lastErr, context.DeadlineExceeded) && !errors.Is(lastErr, context.Canceled) {
				return waitError(ctx, fmt.Errorf("%w (last error: %v)", ctx.Err(), lastErr), "waiting for "+name)
			}
			return waitError(ctx, ctx.Err(), "waiting for "+name)
		case <-time.After(e.pollPolicy().Focused):
		}
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
