package main

import (
	"context"
	"errors"
	"sync"
	"time"

	"github.com/dhtchat/dhtchat/chat"
	"github.com/dhtchat/dhtchat/internal/userr"
)

// pipeMode sends each stdin line as a message and prints what arrives. At
// the end of stdin it waits until everything it sent is published, then
// returns; with follow it keeps printing until ctx ends. A bad line ends
// the input there: the lines before it are sent, and the error is returned
// once they are published.
func (e *env) pipeMode(ctx context.Context, s *session, info chat.Info, name string, follow bool) error {
	if err := s.connect(ctx); err != nil {
		return err
	}
	p := &printer{e: e, s: s, info: info, from: name}
	var err error
	if p.upTo, err = s.client.PrintedUpTo(ctx, info.ID); err != nil {
		return err
	}
	if err := p.printStored(ctx); err != nil {
		return err
	}

	// The worker works on the chat from now on (the session watches the
	// chats it uses), and tells when to look.
	events := s.client.Subscribe(ctx)
	s.client.Focus(info.ID)

	// Lines are stored as they come; the worker publishes them. The
	// reading of stdin is stopped and waited for on every way out, so
	// that nothing is sent once the command is done.
	inCtx, cancelInput := context.WithCancel(ctx)
	stdin, stopStdin := stoppable(e.stdin)
	inputErr := make(chan error, 1)
	var reading sync.WaitGroup
	defer func() { cancelInput(); stopStdin(); reading.Wait() }()
	reading.Go(func() {
		lines := 0
		inputErr <- readLines(stdin, func(bodies []string) error {
			bodies, bad := validPrefix(bodies, lines)
			if len(bodies) > 0 {
				if _, err := s.client.Send(inCtx, info.ID, bodies...); err != nil {
					return err
				}
				lines += len(bodies)
			}
			return bad
		})
	})

	// Events say when to look; the store says what there is, so that what
	// another process sharing the database fetched is printed too.
	tick := time.NewTicker(e.pollPolicy().Focused)
	defer tick.Stop()
	input := inputErr
	eof := false
	var badInput error
	for {
		if eof && !follow {
			if done, err := e.allPublished(ctx, s, info); err != nil || done {
				if err == nil {
					err = e.lastFetch(ctx, s, p, name)
				}
				if err == nil {
					err = badInput
				}
				return err
			}
		}
		select {
		case err := <-input:
			input = nil
			eof = true
			if err != nil && userr.Explain(err).Kind == userr.Usage {
				badInput = err // send what came before it first
			} else if err != nil {
				return err
			}
		case <-tick.C:
			if ctx.Err() != nil {
				return e.interrupted(s, info, follow)
			}
			if err := p.printStored(ctx); err != nil {
				return err
			}
		case ev, ok := <-events:
			if !ok {
				// The stream ends with ctx (an interrupt).
				return e.interrupted(s, info, follow)
			}
			switch ev := ev.(type) {
			case chat.MessageEvent, chat.LagEvent:
				if ctx.Err() != nil {
					continue // interrupted: the stream is ending
				}
				if err := p.printStored(ctx); err != nil {
					return err
				}
			case chat.NetworkEvent:
				// The worker retries with backoff; say so and wait.
				e.noteNetwork(ev)
			case chat.AlertEvent:
				e.noteAlerts(name, []chat.Alert{ev.Alert})
			case chat.ChatEvent:
				if ev.ID != info.ID {
					continue
				}
				if err := stillOn(ctx, s, info, name); err != nil {
					return err
				}
			}
		}
	}
}

// lastFetch fetches the chat once more before a pipe run without --follow
// exits, and prints what came: the worker may have published without
// fetching (a poll was not due), and what the friend sent before this run
// is printed here, as recv would. A network failure of this last look only
// warns: everything sent is out.
func (e *env) lastFetch(ctx context.Context, s *session, p *printer, name string) error {
	res, err := s.client.Sync(ctx, p.info.ID)
	e.noteAlerts(name, res.Alerts)
	if perr := p.printStored(ctx); perr != nil {
		return perr
	}
	if err != nil && ctx.Err() == nil {
		e.warnf("could not fetch what %s sent: %s", name, userr.Line(err))
	}
	return nil
}

// interrupted is the outcome of an interrupt in pipe mode: fine with
// --follow or when everything is out, else an error saying what is queued.
func (e *env) interrupted(s *session, info chat.Info, follow bool) error {
	if follow {
		return nil
	}
	o, err := s.client.Outbox(context.Background(), info.ID)
	if err != nil || o.Published >= o.Sent {
		return err
	}
	return userr.Runtimef("interrupted before %d messages were published", o.Sent-o.Published).
		WithHint("they are stored, and the next dhtchat command that goes online for this chat sends them")
}

// allPublished reports whether no message of the chat is pending.
func (e *env) allPublished(ctx context.Context, s *session, info chat.Info) (bool, error) {
	o, err := s.client.Outbox(ctx, info.ID)
	return o.Published >= o.Sent, err
}

// errStopped ends the reading of stdin when the command is done with it
// (see stoppable).
var errStopped = errors.New("reading stdin stopped")
