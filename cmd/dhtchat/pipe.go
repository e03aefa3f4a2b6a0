package main

import (
	"context"
	"errors"

	"github.com/dhtchat/dhtchat/chat"
)

// pipeMode sends each stdin line as a message and prints what arrives. At
// the end of stdin it waits until everything it sent is published, then
// returns; with follow it keeps printing until ctx ends.
func (e *env) pipeMode(ctx context.Context, s *session, info chat.Info, name string, follow bool) error {
	if err := s.connect(ctx); err != nil {
		return err
	}
	p := &printer{e: e, s: s, info: info, from: name}
	var err error
	if p.upTo, err = s.client.ReadUpTo(ctx, info.ID); err != nil {
		return err
	}
	if err := p.printStored(ctx); err != nil {
		return err
	}

	runCtx, cancel := context.WithCancel(ctx)
	defer cancel()
	runDone := make(chan error, 1)
	go func() { runDone <- s.client.Run(runCtx) }()
	s.client.Focus(info.ID)

	// Lines are stored as they come; the worker publishes them.
	inputErr := make(chan error, 1)
	go func() {
		inputErr <- readLines(e.stdin, func(bodies []string) error {
			if len(bodies) == 0 {
				return nil
			}
			_, err := s.client.Send(runCtx, info.ID, bodies...)
			return sendError(err)
		})
	}()

	events := s.client.Events()
	input := inputErr
	eof := false
	for {
		if eof && !follow {
			if done, err := e.allPublished(ctx, s, info); err != nil || done {
				cancel()
				<-runDone
				return err
			}
		}
		select {
		case err := <-input:
			input = nil
			if err != nil {
				cancel()
				<-runDone
				return err
			}
			eof = true
		case ev, ok := <-events:
			if !ok {
				// Run ended: ctx is done.
				if err := <-runDone; err != nil && !errors.Is(err, context.Canceled) {
					return err
				}
				return nil
			}
			switch ev := ev.(type) {
			case chat.MessageEvent:
				if ev.Entry.Chat == info.ID {
					if err := p.print(ctx, []chat.Entry{ev.Entry}); err != nil {
						cancel()
						<-runDone
						return err
					}
				}
			case chat.NetworkEvent:
				if ev.State == chat.Offline && eof && !follow {
					cancel()
					<-runDone
					return s.connect(ctx) // the same error, said the same way
				}
				e.noteNetwork(ev)
			}
		}
	}
}

// allPublished reports whether no message of the chat is pending.
func (e *env) allPublished(ctx context.Context, s *session, info chat.Info) (bool, error) {
	_, pending, err := s.client.Unacked(ctx, info.ID)
	return pending == 0, err
}
