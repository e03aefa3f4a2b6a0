package chat

import (
	"context"
	"sync"
	"time"

	"github.com/dhtchat/dhtchat/chat/internal/store"
	"github.com/dhtchat/dhtchat/chat/live"
)

// Typing indicators and read receipts ride on the live path only
// (PROTOCOL.md §17.7): never written to the DHT, lost when no stream is
// up, and each switchable off (Config.NoTyping, Config.NoReadReceipts).
// The UI says what its user does (Typing, and MarkRead, which also
// tells the friend: tellRead); one goroutine per
// live stream sends it and takes the friend's, which the Client tells as
// TypingEvent and ReadEvent.

const (
	// TypingResend is how often, at most, a typing indicator is sent
	// again while the user keeps typing.
	TypingResend = 3 * time.Second
	// TypingExpiry is how long a typing indicator lasts without a new
	// one: a UI shows the friend typing for this long after the last.
	TypingExpiry = 5 * time.Second
)

// TypingEvent: the friend is typing in chat ID (Typing), or stopped. A
// typing friend sends it again every TypingResend; show it for
// TypingExpiry after the last.
type TypingEvent struct {
	ID     ChatID
	Typing bool
}

func (TypingEvent) isEvent() {}

// ReadEvent: the friend has read our messages of chat ID up to N.
type ReadEvent struct {
	ID ChatID
	N  uint64
}

func (ReadEvent) isEvent() {}

// signals is the Client's typing and read state, per chat.
type signals struct {
	typing, read bool // on

	mu    sync.Mutex
	chats map[ChatID]*chatSignals
}

// chatSignals is one chat's, guarded by signals.mu.
type chatSignals struct {
	kick chan struct{} // our state changed: the stream's goroutine sends it
	// typing is whether our user is typing, typingAt when Typing last
	// asked for an indicator to be sent.
	typing   bool
	typingAt time.Time
	read     uint64 // our user has read the friend's messages up to it
	friend   uint64 // the friend's highest read receipt
}

func newSignals(cfg Config) *signals {
	return &signals{typing: !cfg.NoTyping, read: !cfg.NoReadReceipts, chats: make(map[ChatID]*chatSignals)}
}

// of returns chat id's state. Call with mu held.
func (s *signals) of(id ChatID) *chatSignals {
	st, ok := s.chats[id]
	if !ok {
		st = &chatSignals{kick: make(chan struct{}, 1)}
		s.chats[id] = st
	}
	return st
}

func (st *chatSignals) poke() {
	select {
	case st.kick <- struct{}{}:
	default:
	}
}

// Typing says whether the user is typing in chat id (a key that changed
// the draft: true; the draft sent or emptied: false). It never blocks;
// the friend is told over the live stream, if one is up, at most every
// TypingResend while the user types.
func (c *Client) Typing(id ChatID, typing bool) {
	if !c.sig.typing || c.live == nil {
		return
	}
	c.sig.mu.Lock()
	st := c.sig.of(id)
	now := time.Now()
	changed := typing != st.typing || typing && now.Sub(st.typingAt) >= TypingResend
	if changed {
		st.typing = typing
		if typing {
			st.typingAt = now
		}
	}
	c.sig.mu.Unlock()
	if changed {
		st.poke()
	}
}

// tellRead tells the friend that the user has read the friend's messages
// of chat id up to n (MarkRead: the chat on screen, showing them, with the
// terminal focused). It never blocks; the friend is told over the live
// stream, now if one is up, else when one comes up.
func (c *Client) tellRead(id ChatID, n uint64) {
	if !c.sig.read || c.live == nil {
		return
	}
	c.sig.mu.Lock()
	st := c.sig.of(id)
	changed := n > st.read
	st.read = max(st.read, n)
	c.sig.mu.Unlock()
	if changed {
		st.poke()
	}
}

// FriendRead returns how far the friend has read our messages of chat
// id, as their read receipts said in this process (0: none came).
func (c *Client) FriendRead(id ChatID) uint64 {
	if !c.sig.read {
		return 0
	}
	c.sig.mu.Lock()
	defer c.sig.mu.Unlock()
	if st, ok := c.sig.chats[id]; ok {
		return st.friend
	}
	return 0
}

// liveSignals runs one stream's signals: it sends our read point once
// the stream is up and then what Typing and MarkRead ask, and tells of
// the friend's until the stream ends.
func (c *Client) liveSignals(ctx context.Context, cs *chatState, conn *live.Conn) {
	c.sig.mu.Lock()
	st := c.sig.of(cs.id)
	c.sig.mu.Unlock()
	var sentRead uint64
	var sentTyping bool
	var sentAt time.Time
	send := func(f func(context.Context) error) bool {
		wctx, cancel := context.WithTimeout(ctx, liveWriteTimeout)
		defer cancel()
		if err := f(wctx); err != nil {
			c.log.Debug("live: cannot send a signal", "chat", cs.id, "err", err)
			return false
		}
		return true
	}
	flush := func() bool {
		c.sig.mu.Lock()
		read, typing, at := st.read, st.typing, st.typingAt
		c.sig.mu.Unlock()
		if c.sig.read && read > sentRead {
			if !send(func(ctx context.Context) error { return conn.SendRead(ctx, read) }) {
				return false
			}
			sentRead = read
		}
		// A typing indicator that is already stale is not sent: the user
		// typed before this stream came up.
		fresh := typing && time.Since(at) < TypingResend
		if c.sig.typing && (typing != sentTyping && (fresh || !typing) || fresh && at.After(sentAt)) {
			if !send(func(ctx context.Context) error { return conn.SendTyping(ctx, typing) }) {
				return false
			}
			sentTyping, sentAt = typing, at
		}
		return true
	}
	if !flush() {
		return
	}
	for {
		select {
		case <-ctx.Done():
			return
		case <-conn.Done():
			return
		case <-st.kick:
			if !flush() {
				return
			}
		case typing := <-conn.Typing():
			if c.sig.typing {
				c.emit(ctx, TypingEvent{ID: cs.id, Typing: typing})
			}
		case n := <-conn.Reads():
			c.friendRead(ctx, cs, st, n)
		}
	}
}

// friendRead takes the friend's read receipt n: above anything we sent it
// is ignored (the friend cannot have read it).
func (c *Client) friendRead(ctx context.Context, cs *chatState, st *chatSignals, n uint64) {
	if !c.sig.read {
		return
	}
	out, err := c.db.OutboxState(ctx, store.ChatID(cs.id))
	if err != nil {
		return
	}
	if n > out.Sent {
		c.log.Info("live: ignored a read receipt above what we sent", "chat", cs.id, "n", n, "sent", out.Sent)
		return
	}
	c.sig.mu.Lock()
	grew := n > st.friend
	st.friend = max(st.friend, n)
	c.sig.mu.Unlock()
	if grew {
		c.emit(ctx, ReadEvent{ID: cs.id, N: n})
	}
}
