package live

import (
	"context"
	"fmt"

	"github.com/dhtchat/dhtchat/chat/wire"
)

// Typing indicators and read receipts (PROTOCOL.md §17.7): optional
// frames, sealed under the chat's live_sig_key, that never reach the DHT.

// SendTyping tells the friend that the user is typing (true) or stopped
// (false).
func (c *Conn) SendTyping(ctx context.Context, typing bool) error {
	s := wire.Signal{Type: wire.FrameTyping}
	if typing {
		s.Value = 1
	}
	return c.sendSignal(ctx, s)
}

// SendRead tells the friend that the user has read every message 1…n of
// the friend's direction.
func (c *Conn) SendRead(ctx context.Context, n uint64) error {
	return c.sendSignal(ctx, wire.Signal{Type: wire.FrameRead, Value: n})
}

func (c *Conn) sendSignal(ctx context.Context, s wire.Signal) error {
	sealed, err := c.chat.keys.SealSignal(c.chat.self, s)
	if err != nil {
		return err
	}
	return c.write(ctx, wire.LiveFrame{Type: s.Type, Signal: sealed})
}

// Typing delivers the friend's typing indicators: true while the friend
// types (sent again every few seconds), false when the friend stopped.
// Signals that arrive while the engine is busy are coalesced into the
// latest. It is never closed; select on Done too.
func (c *Conn) Typing() <-chan bool { return c.typing }

// Reads delivers the friend's read receipts as they grow: each value is
// the highest n such that the friend has read every message 1…n of this
// side's direction. Coalesced into the highest, as Acks. It is never
// closed; select on Done too.
func (c *Conn) Reads() <-chan uint64 { return c.reads }

// readSignal opens a TYPING or READ frame and hands it on; a signal that
// does not open for the friend's direction is a protocol violation.
// Called by the reader only, so the sends cannot block.
func (c *Conn) readSignal(f wire.LiveFrame) error {
	s, err := c.chat.keys.OpenSignal(c.chat.self.Other(), f.Type, f.Signal)
	if err != nil {
		return fmt.Errorf("%w: signal: %w", ErrProtocol, err)
	}
	switch s.Type {
	case wire.FrameTyping:
		select {
		case <-c.typing:
		default:
		}
		c.typing <- s.Value == 1
	case wire.FrameRead:
		if s.Value <= c.lastRead {
			return nil
		}
		c.lastRead = s.Value
		select {
		case <-c.reads:
		default:
		}
		c.reads <- s.Value
	}
	return nil
}
