package chat

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/dhtchat/dhtchat/chat/internal/store"
	"github.com/dhtchat/dhtchat/chat/wire"
	"github.com/dhtchat/dhtchat/keyring"
)

// The chats of a Client: starting and joining them, finding them, the
// list, blocking a friend and deleting a chat.

// StartChat creates a new chat with peer and returns it; its Key is the
// chat key that the peer needs to join it (JoinChat). A peer may have
// several chats with us. It fails with ErrBlocked if peer is blocked.
func (c *Client) StartChat(ctx context.Context, peer keyring.PublicKey) (Info, error) {
	p, err := c.pairKey(peer)
	if err != nil {
		return Info{}, err
	}
	if err := c.checkNotBlocked(ctx, peer); err != nil {
		return Info{}, err
	}
	key := wire.NewChatKey(p)
	now := time.Now()
	ch, _, err := c.createChat(ctx, store.Chat{
		ID:   store.ChatID(localChatID(c.pub.Bytes(), peer.Bytes(), key.ID())),
		Wire: store.WireID(key.ID()), Peer: store.PeerKey(peer.Bytes()),
		StartedByMe: true, CreatedAt: now, LastActivity: now,
	}, p, peer)
	if err != nil {
		return Info{}, err
	}
	if !c.paused(peer, ch.Blocked) {
		cs := c.track(ch, peer, wire.DeriveKeys(p, key.ID()), time.Time{})
		cs.mu.Lock()
		for i := range cs.synced {
			cs.synced[i] = true // a new random chat: nothing of ours in the DHT
		}
		cs.ownChecked = time.Now()
		cs.mu.Unlock()
	}
	return c.Info(ctx, ChatID(ch.ID))
}

func (c *Client) checkNotBlocked(ctx context.Context, peer keyring.PublicKey) error {
	blocked, err := c.db.Blocked(ctx, store.PeerKey(peer.Bytes()))
	if err != nil {
		return err
	}
	if blocked {
		return ErrBlocked
	}
	return nil
}

// CheckChatKey returns an error wrapping wire.ErrChatKeyNotForYou if key
// was not made for a chat between us and peer. It needs no network.
func (c *Client) CheckChatKey(peer keyring.PublicKey, key wire.ChatKey) error {
	p, err := c.pairKey(peer)
	if err != nil {
		return err
	}
	_, err = key.Keys(p)
	return err
}

// JoinChat joins the chat with key that peer started and returns it. It
// returns an error wrapping wire.ErrChatKeyNotForYou if the key was made
// for another pair of people, and ErrBlocked if peer is blocked. Joining a
// chat again is harmless. The chat is peer's alone: another friend's chat
// with the same wire.ChatID (one who saw the chat key, say) neither blocks
// it nor touches it.
//
// With a Network, it first looks in the DHT for records of ours in that
// chat (this database may be new while the chat is not: a lost or restored
// database, or another device with the same identity), so that our next
// messages and records continue after them. Connect first; if the DHT
// cannot be read, JoinChat fails and nothing is stored.
func (c *Client) JoinChat(ctx context.Context, peer keyring.PublicKey, key wire.ChatKey) (Info, error) {
	p, err := c.pairKey(peer)
	if err != nil {
		return Info{}, err
	}
	keys, err := key.Keys(p)
	if err != nil {
		return Info{}, err
	}
	if err := c.checkNotBlocked(ctx, peer); err != nil {
		return Info{}, err
	}
	spk, wid := store.PeerKey(peer.Bytes()), store.WireID(key.ID())
	_, err = c.db.ChatByWire(ctx, spk, wid)
	known := err == nil
	if err != nil && !errors.Is(err, store.ErrNotFound) {
		return Info{}, err
	}
	// Records of ours that this database does not know of; read before
	// anything is stored, so that a failure stores nothing.
	var own ownView
	if !known && c.net != nil && c.version == 1 {
		if own, err = c.readOwn(ctx, keys, wire.DirectionOf(c.pub.Bytes(), peer.Bytes()), func(v ownView) uint64 { return v.maxN }); err != nil {
			return Info{}, fmt.Errorf("chat: join: %w", err)
		}
	}
	now := time.Now()
	ch, _, err := c.createChat(ctx, store.Chat{
		ID:   store.ChatID(localChatID(c.pub.Bytes(), peer.Bytes(), key.ID())),
		Wire: wid, Peer: spk, CreatedAt: now, LastActivity: now,
	}, p, peer)
	if err != nil {
		return Info{}, err
	}
	id := ChatID(ch.ID)
	if !c.paused(peer, ch.Blocked) {
		cs := c.track(ch, peer, keys, time.Time{})
		if !known && c.net != nil && c.version == 1 {
			cs.mu.Lock()
			cs.ownChecked = time.Now()
			c.carryAnnouncement(cs, own.live)
			_, err := c.applyOwn(ctx, cs, own, 0, 0)
			cs.mu.Unlock()
			if err != nil {
				return Info{}, err
			}
		}
	}
	return c.Info(ctx, id)
}

// ChatWithKey returns the chat with peer that key names, or an error
// wrapping ErrUnknownChat if there is none, or wire.ErrChatKeyNotForYou if
// the key was not made for us and peer.
func (c *Client) ChatWithKey(ctx context.Context, peer keyring.PublicKey, key wire.ChatKey) (Info, error) {
	if err := c.CheckChatKey(peer, key); err != nil {
		return Info{}, err
	}
	ch, err := c.db.ChatByWire(ctx, store.PeerKey(peer.Bytes()), store.WireID(key.ID()))
	if errors.Is(err, store.ErrNotFound) {
		return Info{}, fmt.Errorf("%w: %s", ErrUnknownChat, key.ID())
	}
	if err != nil {
		return Info{}, err
	}
	return c.Info(ctx, ChatID(ch.ID))
}

// ChatByKey returns the chat that key names, whoever the friend: a chat
// key names one pair of people, so it names at most one of our chats. It
// returns an error wrapping ErrUnknownChat if we have none.
func (c *Client) ChatByKey(ctx context.Context, key wire.ChatKey) (Info, error) {
	chats, err := c.db.ChatsByWire(ctx, store.WireID(key.ID()))
	if err != nil {
		return Info{}, err
	}
	for _, ch := range chats {
		peer, err := keyring.PublicKeyFromBytes(ch.Peer)
		if err != nil {
			continue
		}
		if c.CheckChatKey(peer, key) == nil {
			return c.Info(ctx, ChatID(ch.ID))
		}
	}
	return Info{}, fmt.Errorf("%w: %s", ErrUnknownChat, key.ID())
}

// Info returns the description of chat id.
func (c *Client) Info(ctx context.Context, id ChatID) (Info, error) {
	infos, err := c.Chats(ctx)
	if err != nil {
		return Info{}, err
	}
	for _, in := range infos {
		if in.ID == id {
			return in, nil
		}
	}
	return Info{}, fmt.Errorf("%w: %s", ErrUnknownChat, id)
}

// Chats lists every chat, the most recently active first.
func (c *Client) Chats(ctx context.Context) ([]Info, error) {
	sums, err := c.db.Chats(ctx)
	if err != nil {
		return nil, err
	}
	alerts, err := c.db.AlertCounts(ctx)
	if err != nil {
		return nil, err
	}
	infos := make([]Info, 0, len(sums))
	for _, s := range sums {
		peer, err := keyring.PublicKeyFromBytes(s.Peer)
		if err != nil {
			c.log.Warn("chat with an invalid peer key", "chat", ChatID(s.ID), "err", err)
			continue
		}
		p, err := c.pairKey(peer)
		if err != nil {
			c.log.Warn("chat with an unusable peer key", "chat", ChatID(s.ID), "err", err)
			continue
		}
		infos = append(infos, Info{
			ID: ChatID(s.ID), Key: wire.ChatKeyFor(p, wire.ChatID(s.Wire)), Peer: peer,
			StartedByMe: s.StartedByMe, CreatedAt: s.CreatedAt, LastActivity: s.LastActivity,
			Unread: s.Unread, LastText: s.LastText, Alerts: alerts[s.ID],
			Blocked: s.Blocked, Paused: c.paused(peer, s.Blocked), Path: c.Path(ChatID(s.ID)),
		})
	}
	return infos, nil
}

// LatestChatWith returns the most recently active chat with peer, or an
// error wrapping ErrUnknownChat.
func (c *Client) LatestChatWith(ctx context.Context, peer keyring.PublicKey) (Info, error) {
	ch, err := c.db.LatestChatWith(ctx, store.PeerKey(peer.Bytes()))
	if errors.Is(err, store.ErrNotFound) {
		return Info{}, ErrUnknownChat
	}
	if err != nil {
		return Info{}, err
	}
	return c.Info(ctx, ChatID(ch.ID))
}

// Block blocks peer: every chat with them is paused (neither polled nor
// published, by this process at once and by others sharing the database
// within their PollPolicy.Reload) and none can be started or joined, until
// Unblock. Their history stays. It returns the chats with peer, and
// whether peer was not blocked already.
func (c *Client) Block(ctx context.Context, peer keyring.PublicKey) ([]Info, bool, error) {
	changed, err := c.db.Block(ctx, store.PeerKey(peer.Bytes()))
	if err != nil {
		return nil, false, err
	}
	// Stored first: a reload of the worker meanwhile reads the block and
	// does not track the chats again.
	chats, err := c.ChatsWith(ctx, peer)
	for _, in := range chats {
		c.untrack(in.ID)
	}
	return chats, changed, err
}

// Unblock lifts the block of peer; their chats resume, unless peer is not
// a friend (Config.IsFriend). It returns the chats with peer, and whether
// peer was blocked.
func (c *Client) Unblock(ctx context.Context, peer keyring.PublicKey) ([]Info, bool, error) {
	changed, err := c.db.Unblock(ctx, store.PeerKey(peer.Bytes()))
	if err != nil {
		return nil, false, err
	}
	chats, err := c.ChatsWith(ctx, peer)
	if err != nil {
		return nil, changed, err
	}
	for _, in := range chats {
		if !in.Paused {
			if _, err := c.state(ctx, in.ID); err != nil {
				return chats, changed, err
			}
		}
	}
	return chats, changed, nil
}

// Blocked reports whether peer is blocked.
func (c *Client) Blocked(ctx context.Context, peer keyring.PublicKey) (bool, error) {
	return c.db.Blocked(ctx, store.PeerKey(peer.Bytes()))
}

// ChatsWith returns the chats with peer, the most recently active first.
func (c *Client) ChatsWith(ctx context.Context, peer keyring.PublicKey) ([]Info, error) {
	all, err := c.Chats(ctx)
	if err != nil {
		return nil, err
	}
	var out []Info
	for _, in := range all {
		if in.Peer.Equal(peer) {
			out = append(out, in)
		}
	}
	return out, nil
}

// Deleted is what DeleteChat removed.
type Deleted struct {
	Info     Info // the chat as it was
	Sent     int  // messages we sent
	Received int  // messages received
	Unacked  int  // of Sent, those never acknowledged: they will not be delivered
}

// DeleteChat removes chat id from the database, with its history in both
// directions, its outbox and its counters, and stops working on it: at
// once in this process, within PollPolicy.Reload in others sharing the
// database. It cannot be undone. Our records stay in the DHT until they
// expire (48 hours).
func (c *Client) DeleteChat(ctx context.Context, id ChatID) (Deleted, error) {
	in, err := c.Info(ctx, id)
	if err != nil {
		return Deleted{}, err
	}
	// Deleted first, then forgotten: a reload of the worker meanwhile
	// finds nothing to track again, and an operation on it in flight
	// fails on the missing chat without writing anything.
	d, err := c.db.DeleteChat(ctx, store.ChatID(id))
	if errors.Is(err, store.ErrNotFound) {
		return Deleted{}, fmt.Errorf("%w: %s", ErrUnknownChat, id)
	}
	if err != nil {
		return Deleted{}, err
	}
	c.untrack(id)
	c.chatsMu.Lock()
	if c.focus == id {
		c.focus = ChatID{}
	}
	c.chatsMu.Unlock()
	return Deleted{Info: in, Sent: d.Sent, Received: d.Received, Unacked: d.Unacked}, nil
}
