package chat

import (
	"context"
	"errors"
	"fmt"
	"time"
	"unicode/utf8"

	"github.com/dhtchat/dhtchat/chat/internal/store"
)

// The messages of a chat: sending, the outbox, the history and the
// cursors of what the user read and a command printed.

// Send queues bodies as messages of chat id, durably: when Send returns
// they survive a crash, and they are published by the worker (if it
// watches the chat), by Sync, or by a later dhtchat process. It returns
// them with their numbers, in status Pending.
func (c *Client) Send(ctx context.Context, id ChatID, bodies ...string) ([]Entry, error) {
	for _, b := range bodies {
		if err := ValidBody(b); err != nil {
			return nil, err
		}
	}
	cs, err := c.state(ctx, id)
	if err != nil {
		return nil, err
	}
	// The protocol carries milliseconds; store what the friend will see.
	ms, err := c.enqueue(ctx, store.ChatID(id), bodies, time.UnixMilli(time.Now().UnixMilli()))
	if err != nil {
		return nil, unknownChat(id, err)
	}
	c.chatsMu.Lock()
	cs.dirty = true
	cs.lastActive = time.Now()
	c.chatsMu.Unlock()
	c.kick()
	c.liveKick(cs) // the live stream, if up, sends them now
	return entriesOf(ms), nil
}

// ValidBody returns ErrBodyTooLarge or ErrBadBody if Send would refuse
// body.
func ValidBody(body string) error {
	switch {
	case len(body) > MaxBody:
		return ErrBodyTooLarge
	case body == "" || !utf8.ValidString(body):
		return ErrBadBody
	}
	return nil
}

// Outbox is the progress of the messages we sent in a chat.
type Outbox struct {
	Sent      uint64 // the highest number given to a message
	Published uint64 // every message up to this number is in the DHT (or delivered)
	Delivered uint64 // every message up to this number is acknowledged
	// Queued is how many messages the last publish of this Client (the
	// worker's or Sync's) found no room for in the slots: the last ones
	// it saw, which wait, pending, for the friend's acknowledgements.
	Queued int
}

// Outbox returns the progress of our messages in chat id, as the store
// knows it, whichever process published them or saw the ack; Queued is
// what this Client knows.
func (c *Client) Outbox(ctx context.Context, id ChatID) (Outbox, error) {
	st, err := c.db.OutboxState(ctx, store.ChatID(id))
	if err != nil {
		return Outbox{}, unknownChat(id, err)
	}
	o := Outbox{Sent: st.Sent, Published: st.Sent, Delivered: st.PeerAck}
	if st.FirstPending > 0 {
		o.Published = st.FirstPending - 1
	}
	c.chatsMu.Lock()
	if cs, ok := c.chats[id]; ok {
		o.Queued = min(cs.queued, st.Pending)
	}
	c.chatsMu.Unlock()
	return o, nil
}

// History returns up to limit entries of chat id with Seq below before (0:
// the latest), oldest first.
func (c *Client) History(ctx context.Context, id ChatID, before int64, limit int) ([]Entry, error) {
	ms, err := c.db.History(ctx, store.ChatID(id), before, limit)
	if err != nil {
		return nil, unknownChat(id, err)
	}
	return entriesOf(ms), nil
}

// Incoming returns up to limit received messages of chat id numbered
// above after, in order.
func (c *Client) Incoming(ctx context.Context, id ChatID, after uint64, limit int) ([]Entry, error) {
	ms, err := c.db.Incoming(ctx, store.ChatID(id), after, limit)
	if err != nil {
		return nil, unknownChat(id, err)
	}
	return entriesOf(ms), nil
}

// ReadUpTo returns the number of the last received message the user has
// seen in chat id.
func (c *Client) ReadUpTo(ctx context.Context, id ChatID) (uint64, error) {
	n, err := c.db.ReadUpTo(ctx, store.ChatID(id))
	return n, unknownChat(id, err)
}

// MarkRead records that the user has seen the received messages of chat id
// up to number n, and tells the friend over the live path (a read
// receipt, unless Config.NoReadReceipts).
func (c *Client) MarkRead(ctx context.Context, id ChatID, n uint64) error {
	if err := c.db.MarkRead(ctx, store.ChatID(id), n); err != nil {
		return unknownChat(id, err)
	}
	c.tellRead(id, n)
	return nil
}

// PrintedUpTo returns the number of the last received message of chat id
// that a command printed (recv, pipe mode): a cursor apart from what the
// user saw in the full-screen chat.
func (c *Client) PrintedUpTo(ctx context.Context, id ChatID) (uint64, error) {
	n, err := c.db.PrintedUpTo(ctx, store.ChatID(id))
	return n, unknownChat(id, err)
}

// MarkPrinted records that a command printed the received messages of
// chat id up to number n; they count as read too.
func (c *Client) MarkPrinted(ctx context.Context, id ChatID, n uint64) error {
	return unknownChat(id, c.db.MarkPrinted(ctx, store.ChatID(id), n))
}

// unackedCounts returns how many sent messages of chat id are not yet
// delivered, and how many of those are still pending.
func (c *Client) unackedCounts(ctx context.Context, id ChatID) (unacked, pending int, err error) {
	st, err := c.db.OutboxState(ctx, store.ChatID(id))
	return st.Unacked, st.Pending, unknownChat(id, err)
}

// unknownChat makes the store's "not found" for chat id the Client's
// ErrUnknownChat: the chat was never there, or was deleted since.
func unknownChat(id ChatID, err error) error {
	if errors.Is(err, store.ErrNotFound) && !errors.Is(err, ErrUnknownChat) {
		return fmt.Errorf("%w: %s", ErrUnknownChat, id)
	}
	return err
}
