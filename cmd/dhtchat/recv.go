package main

import (
	"context"
	"errors"
	"flag"
	"time"

	"github.com/dhtchat/dhtchat/chat"
	"github.com/dhtchat/dhtchat/internal/userr"
)

var recvCmd = &command{
	name:  "recv",
	args:  "NAME [--chat CHATKEY]",
	short: "Fetch and print the messages from a friend not printed before",
	long: `Fetches the friend's records from the DHT, prints the messages from NAME
that no recv (or pipe mode) has printed before, one line each, and exits;
--all prints the whole history. Reading messages in the full-screen chat
does not hide them from recv. Fetching also acknowledges them to the friend,
and publishes what earlier commands left queued.

--timeout D waits up to D for at least one new message (and exits 0 with
nothing printed if none came: check the output, not the exit status).
--follow keeps running and prints messages as they arrive, until
interrupted.

With --json each message is {"chat":…, "from":…, "n":…, "sent_at":…,
"received_at":…, "text":…}; text output shows newlines in a message as \n
and never passes terminal control sequences through.

Examples:
  dhtchat recv alice
  dhtchat recv alice --timeout 30s --json
  dhtchat recv alice --follow | while read -r line; do notify-send "$line"; done`,
	nargs: exactly(1),
	setup: func(fs *flag.FlagSet) runFunc {
		o := &recvOpts{}
		fs.StringVar(&o.chatKey, "chat", "", "read the chat with this `CHATKEY` (default: the latest with NAME)")
		fs.BoolVar(&o.follow, "follow", false, "keep printing messages as they arrive")
		fs.BoolVar(&o.all, "all", false, "print the whole history from NAME, not only what is new")
		fs.DurationVar(&o.timeout, "timeout", 0, "wait up to `D` for at least one new message")
		return func(ctx context.Context, e *env, args []string) error { return runRecv(ctx, e, args, o) }
	},
}

type recvOpts struct {
	chatKey string
	follow  bool
	all     bool
	timeout time.Duration
}

func runRecv(ctx context.Context, e *env, args []string, o *recvOpts) error {
	if o.timeout < 0 {
		return userr.Usagef("--timeout must not be negative")
	}
	if o.follow && o.timeout > 0 {
		// --follow would run for ever, silently ignoring the timeout.
		return userr.Usagef("recv: --follow and --timeout do not go together").
			WithHint("--follow runs until interrupted; --timeout waits for the first new message and exits")
	}
	// --follow runs long: it does its own network work, and serves this
	// home's control socket if no other process does.
	e.noAgent = o.follow
	e.long = o.follow
	s, f, info, err := e.openChat(ctx, true, args[0], o.chatKey)
	if err != nil {
		return err
	}
	defer s.close()
	p := &printer{e: e, s: s, info: info, from: f.Name}
	if !o.all {
		if p.upTo, err = s.client.PrintedUpTo(ctx, info.ID); err != nil {
			return err
		}
	}
	// What earlier commands stored but nobody printed comes first.
	if err := p.printStored(ctx); err != nil {
		return err
	}
	if err := s.connect(ctx); err != nil {
		return err
	}
	if o.follow {
		e.serveAgent(ctx, s)
		return p.follow(ctx)
	}
	// Without --timeout: one Sync. With it: one at each poll until a
	// message came or the time is up, retrying errors of the network
	// meanwhile. (Not the worker: a command that ends as soon as it has
	// printed would stop it in the middle of a fetch, with the messages
	// stored and the acknowledgement that came with them not yet.)
	waitCtx := ctx
	if o.timeout > 0 {
		var cancel context.CancelFunc
		waitCtx, cancel = context.WithTimeout(ctx, o.timeout)
		defer cancel()
	}
	for {
		// Sync also publishes what is pending (send --help promises it).
		res, err := s.sync(waitCtx, info)
		e.noteAlerts(f.Name, res.Alerts)
		if perr := p.printStored(ctx); perr != nil {
			return perr
		}
		if p.printed > 0 {
			return nil
		}
		if o.timeout <= 0 {
			if err != nil {
				return waitError(ctx, err, "fetching")
			}
			return nil
		}
		select {
		case <-waitCtx.Done():
			if ctx.Err() != nil {
				return nil // interrupted
			}
			return nil // no message within the timeout: nothing to print
		case <-time.After(e.pollPolicy().Focused):
		}
	}
}

// printer prints the received messages of one chat in order, each once,
// and records how far the user has read.
type printer struct {
	e       *env
	s       *session
	info    chat.Info
	from    string
	upTo    uint64 // the last message number printed (or read before)
	printed int
}

// printStored prints the stored messages after upTo. It reads only the
// local database, quickly, so an interrupt does not cut it short.
func (p *printer) printStored(ctx context.Context) error {
	ctx = context.WithoutCancel(ctx)
	for {
		ms, err := p.s.client.Incoming(ctx, p.info.ID, p.upTo, 1000)
		if errors.Is(err, chat.ErrUnknownChat) {
			return chatDeleted(p.from)
		}
		if err != nil {
			return err
		}
		if len(ms) == 0 {
			return nil
		}
		if err := p.print(ctx, ms); err != nil {
			return err
		}
	}
}

// print prints the messages after upTo and marks them read.
func (p *printer) print(ctx context.Context, ms []chat.Entry) error {
	last := p.upTo
	var werr error
	for _, m := range ms {
		if m.N <= p.upTo {
			continue
		}
		if werr = p.e.printMessage(p.info.Key, p.from, m); werr != nil {
			werr = userr.Runtimef("cannot write the messages: %v", werr)
			break // not printed: not marked read
		}
		p.upTo, p.printed = m.N, p.printed+1
	}
	if p.upTo > last {
		// Printed is printed: record it even if an interrupt just came.
		if err := p.s.client.MarkPrinted(context.WithoutCancel(ctx), p.info.ID, p.upTo); err != nil {
			return err
		}
	}
	return werr
}

// follow has the worker work on the chat and prints messages as they
// arrive, until ctx ends. Events say when to look and the store what there
// is, so that messages another process sharing the database fetched are
// printed too.
func (p *printer) follow(ctx context.Context) error {
	events := p.s.client.Subscribe(ctx)
	p.s.client.Focus(p.info.ID)
	tick := time.NewTicker(p.e.pollPolicy().Focused)
	defer tick.Stop()
	for {
		select {
		case ev, ok := <-events:
			if !ok {
				return nil // ctx ended: interrupted
			}
			switch ev := ev.(type) {
			case chat.NetworkEvent:
				p.e.noteNetwork(ev)
				continue
			case chat.AlertEvent:
				p.e.noteAlerts(p.from, []chat.Alert{ev.Alert})
				continue
			case chat.ChatEvent:
				if ev.ID != p.info.ID {
					continue
				}
				if err := stillOn(ctx, p.s, p.info, p.from); err != nil {
					return err
				}
				continue
			case chat.MessageEvent, chat.LagEvent:
			default:
				continue
			}
		case <-tick.C:
		}
		if ctx.Err() != nil {
			return nil // interrupted: the end of --follow
		}
		if err := p.printStored(ctx); err != nil {
			return err
		}
	}
}

// stillOn returns an error if the chat, which the worker says changed, was
// deleted or paused by another dhtchat process: nothing more will be sent
// or received in it.
func stillOn(ctx context.Context, s *session, info chat.Info, name string) error {
	now, err := s.client.Info(ctx, info.ID)
	switch {
	case errors.Is(err, chat.ErrUnknownChat):
		return chatDeleted(name)
	case err != nil:
		return err
	case now.Blocked:
		return userr.Runtimef("%s was blocked ('dhtchat block'): the chat is paused", name).
			WithHint("'dhtchat unblock %s' resumes it", name)
	case now.Paused:
		return userr.Runtimef("%s is no longer your friend: the chat is paused", name).
			WithHint("adding %s back ('dhtchat add-friend') resumes it", name)
	}
	return nil
}

// chatDeleted is the error of a command whose chat another process deleted.
func chatDeleted(name string) error {
	return userr.Runtimef("the chat with %s was deleted ('dhtchat delete-chat')", name)
}

// noteNetwork tells the user on stderr when the DHT becomes unreachable
// and when it comes back.
func (e *env) noteNetwork(ev chat.NetworkEvent) {
	if ev.State == chat.Offline {
		e.warnf("no DHT peers reachable; retrying (messages stay queued)")
	}
}
