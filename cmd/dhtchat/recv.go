package main

import (
	"context"
	"errors"
	"flag"
	"time"

	"github.com/dhtchat/dhtchat/chat"
)

var recvCmd = &command{
	name:  "recv",
	args:  "NAME [--chat CHATKEY]",
	short: "Fetch and print the messages from a friend not printed before",
	long: `Fetches the friend's records from the DHT, prints the messages from NAME
that no recv has printed before (--all: the whole history), one line each,
and exits. Fetching also acknowledges them to the friend.

--timeout D waits up to D for at least one new message. --follow keeps
running and prints messages as they arrive, until interrupted.

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
	s, f, info, err := e.openChat(ctx, true, args[0], o.chatKey)
	if err != nil {
		return err
	}
	defer s.close()
	p := &printer{e: e, s: s, info: info, from: f.Name}
	if !o.all {
		if p.upTo, err = s.client.ReadUpTo(ctx, info.ID); err != nil {
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
		return p.follow(ctx)
	}
	var deadline <-chan time.Time
	if o.timeout > 0 {
		t := time.NewTimer(o.timeout)
		defer t.Stop()
		deadline = t.C
	}
	for {
		res, err := s.client.Fetch(ctx, info.ID)
		if err != nil {
			return waitError(ctx, err, "fetching")
		}
		if err := p.print(ctx, res.Received); err != nil {
			return err
		}
		if p.printed > 0 || deadline == nil {
			return nil
		}
		select {
		case <-ctx.Done():
			return nil
		case <-deadline:
			return nil
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

// printStored prints the stored messages after upTo.
func (p *printer) printStored(ctx context.Context) error {
	for {
		ms, err := p.s.client.Incoming(ctx, p.info.ID, p.upTo, 1000)
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
	for _, m := range ms {
		if m.N <= p.upTo {
			continue
		}
		if err := p.e.printMessage(p.info.Key, p.from, m); err != nil {
			return err
		}
		p.upTo, p.printed = m.N, p.printed+1
	}
	if p.upTo > last {
		// Printed is printed: record it even if an interrupt just came.
		return p.s.client.MarkRead(context.WithoutCancel(ctx), p.info.ID, p.upTo)
	}
	return nil
}

// follow runs the worker on the chat and prints messages as they arrive,
// until ctx ends.
func (p *printer) follow(ctx context.Context) error {
	runCtx, cancel := context.WithCancel(ctx)
	defer cancel()
	done := make(chan error, 1)
	go func() { done <- p.s.client.Run(runCtx) }()
	p.s.client.Focus(p.info.ID)
	for ev := range p.s.client.Events() {
		switch ev := ev.(type) {
		case chat.MessageEvent:
			if ev.Entry.Chat == p.info.ID {
				if err := p.print(ctx, []chat.Entry{ev.Entry}); err != nil {
					cancel()
					<-done
					return err
				}
			}
		case chat.NetworkEvent:
			p.e.noteNetwork(ev)
		}
	}
	if err := <-done; err != nil && !errors.Is(err, context.Canceled) {
		return err
	}
	return nil
}

// noteNetwork tells the user on stderr when the DHT becomes unreachable
// and when it comes back.
func (e *env) noteNetwork(ev chat.NetworkEvent) {
	switch ev.State {
	case chat.Offline:
		e.notef("dhtchat: no DHT peers reachable; retrying (messages stay queued)\n")
	case chat.Online:
		// Only worth saying after Offline; Run reports Online first thing.
	}
}
