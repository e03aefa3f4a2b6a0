package chat

// The live path (docs/LIVE.md, docs/PROTOCOL.md §17): when both friends'
// clients run, the same sealed messages also travel over a direct libp2p
// stream (package live). The DHT stays the source of truth: every message
// is still written to the slot records, and only a slot header ack drops
// it from the outbox. This file holds the engine's side of it; the hooks
// in the rest of the package are one call each (track, untrack, Send,
// publish's slot 0 Put, fetchSlot, interval, Open, Close).

import (
	"bytes"
	"context"
	"crypto/ed25519"
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/dhtchat/dhtchat/chat/internal/store"
	"github.com/dhtchat/dhtchat/chat/live"
	"github.com/dhtchat/dhtchat/chat/wire"
	"github.com/libp2p/go-libp2p/core/peer"
	"github.com/multiformats/go-multiaddr"
)

// LiveMode says whether and how a Client offers the live path
// (Config.Live).
type LiveMode int

const (
	// LiveOff (the zero value, "dht-only"): no live host; everything goes
	// through the DHT. Slot 0 records still carry a sealed "none"
	// announcement, so that the mode does not show.
	LiveOff LiveMode = iota
	// LiveDirect: a live host that listens and announces its addresses
	// (the friend learns the IP address), hole punching, and the relays.
	LiveDirect
	// LiveRelayOnly: a live host reachable only through Config.Live.Relays;
	// the friend does not learn the IP address (the relay sees both).
	LiveRelayOnly
)

// String returns "dht-only", "direct" or "relay-only".
func (m LiveMode) String() string {
	switch m {
	case LiveOff:
		return "dht-only"
	case LiveDirect:
		return "direct"
	case LiveRelayOnly:
		return "relay-only"
	}
	return fmt.Sprintf("LiveMode(%d)", int(m))
}

// ParseLiveMode parses what String returns.
func ParseLiveMode(s string) (LiveMode, error) {
	for _, m := range []LiveMode{LiveOff, LiveDirect, LiveRelayOnly} {
		if s == m.String() {
			return m, nil
		}
	}
	return 0, fmt.Errorf("unknown live mode %q: want direct, relay-only or dht-only", s)
}

// LiveConfig configures the live path of a Client.
type LiveConfig struct {
	Mode LiveMode
	// Relays are circuit relays (`dhtchat node --relay`) to keep a
	// reservation with; required for LiveRelayOnly to be reachable.
	Relays []peer.AddrInfo
	// ListenAddrs are the live host's listen addresses in LiveDirect; nil
	// means every interface, random ports.
	ListenAddrs []multiaddr.Multiaddr
	// AnnounceLoopback also announces loopback addresses: for networks
	// whose bootstrap peers are on loopback (tests, the demo).
	AnnounceLoopback bool
}

// Path is the path a chat's messages take right now.
type Path int

const (
	PathDHT         Path = iota // through the DHT only
	PathLiveDirect              // a live stream, directly connected
	PathLiveRelayed             // a live stream through a circuit relay
)

// String returns "dht", "live" or "live (relayed)".
func (p Path) String() string {
	switch p {
	case PathDHT:
		return "dht"
	case PathLiveDirect:
		return "live"
	case PathLiveRelayed:
		return "live (relayed)"
	}
	return fmt.Sprintf("Path(%d)", int(p))
}

// PathEvent: a chat's path changed (a live stream came up or ended).
type PathEvent struct {
	ID   ChatID
	Path Path
}

func (PathEvent) isEvent() {}

// Timing of the live path.
const (
	// announceRefresh is how often slot 0 is rewritten for a fresh
	// announcement, well inside its one-hour validity.
	announceRefresh = 45 * time.Minute
	// addrsDebounce gathers a burst of address changes into one rewrite.
	addrsDebounce = time.Second
	// liveWriteTimeout bounds one frame written to a stream.
	liveWriteTimeout = 10 * time.Second
)

// livePutter is a Network that can carry the live announcement beside a
// record's payload (*dht.Node).
type livePutter interface {
	PutLive(ctx context.Context, key ed25519.PrivateKey, seq uint64, payload, live []byte) error
}

// liveEngine is the Client's live host and what it knows per chat.
type liveEngine struct {
	host   *live.Host
	ctx    context.Context // ended by closeLive
	cancel context.CancelFunc
	wg     sync.WaitGroup

	mu    sync.Mutex
	chats map[*chatState]*liveChat
}

// liveChat is one chat's live state. Its mutex is never held while
// taking Client.chatsMu (interval reads it with chatsMu held).
type liveChat struct {
	lc   *live.Chat
	gone chan struct{} // closed by liveUntrack
	kick chan struct{} // new messages in the outbox: send them

	mu     sync.Mutex
	friend []byte     // the sealed announcement last followed
	conn   *live.Conn // the current stream, or nil
	path   Path
	acked  uint64 // the friend's highest live ack
	sent   uint64 // the highest of our numbers sent over a stream in this process
}

// openLive starts the live host of cfg.Live, if any.
func (c *Client) openLive(cfg Config) error {
	if cfg.Live.Mode == LiveOff || c.net == nil {
		return nil
	}
	lcfg := live.Config{Relays: cfg.Live.Relays, ListenAddrs: cfg.Live.ListenAddrs,
		AnnounceLoopback: cfg.Live.AnnounceLoopback, Logger: c.log.With("part", "live")}
	switch cfg.Live.Mode {
	case LiveDirect:
		lcfg.Mode = live.ModeDirect
	case LiveRelayOnly:
		lcfg.Mode = live.ModeRelayOnly
	default:
		return fmt.Errorf("chat: unknown live mode %d", cfg.Live.Mode)
	}
	ctx, cancel := context.WithCancel(context.Background())
	h, err := live.New(ctx, lcfg)
	if err != nil {
		cancel()
		return fmt.Errorf("chat: cannot start the live path: %w", err)
	}
	e := &liveEngine{host: h, ctx: ctx, cancel: cancel, chats: make(map[*chatState]*liveChat)}
	c.live = e
	e.wg.Go(func() { c.refreshAnnouncements(e) })
	return nil
}

// closeLive closes the live host and waits for the live goroutines. Call
// after the worker stopped.
func (c *Client) closeLive() {
	e := c.live
	if e == nil {
		return
	}
	e.cancel()
	if err := e.host.Close(); err != nil {
		c.log.Debug("closing the live host", "err", err)
	}
	e.wg.Wait()
}

// refreshAnnouncements marks every chat for a new slot 0 record (a fresh
// announcement) every announceRefresh, and soon after the host's
// addresses changed (a relay reservation came or went).
func (c *Client) refreshAnnouncements(e *liveEngine) {
	tick := time.NewTicker(announceRefresh)
	defer tick.Stop()
	for {
		select {
		case <-e.ctx.Done():
			return
		case <-tick.C:
		case <-e.host.AddrsChanged():
			select {
			case <-e.ctx.Done():
				return
			case <-time.After(addrsDebounce):
			}
		}
		e.mu.Lock()
		css := make([]*chatState, 0, len(e.chats))
		for cs := range e.chats {
			css = append(css, cs)
		}
		e.mu.Unlock()
		c.chatsMu.Lock()
		for _, cs := range css {
			cs.dirty = true
		}
		c.chatsMu.Unlock()
		c.kick()
	}
}

// liveTrack registers a newly tracked chat with the live host. Version 2
// chats are not registered: the live path carries version 1's sealed
// messages and announcements under the chat's static keys, which would
// bypass the ratchet (PROTOCOL.md §17 has no version 2 frames yet), so
// they stay on the DHT path.
func (c *Client) liveTrack(cs *chatState) {
	e := c.live
	if e == nil {
		return
	}
	if raw, err := c.db.Ratchet(context.Background(), store.ChatID(cs.id)); err != nil || raw != nil {
		if err != nil {
			c.log.Warn("cannot tell the chat's version; no live path for it", "chat", cs.id, "err", err)
		}
		return
	}
	lc, err := e.host.AddChat(cs.keys, cs.dir)
	if err != nil {
		c.log.Warn("cannot register a chat for the live path", "chat", cs.id, "err", err)
		return
	}
	l := &liveChat{lc: lc, gone: make(chan struct{}), kick: make(chan struct{}, 1)}
	e.mu.Lock()
	e.chats[cs] = l
	e.mu.Unlock()
	e.wg.Go(func() { c.liveAccept(e, cs, l) })
}

// liveUntrack unregisters a chat that the worker left (paused, deleted).
func (c *Client) liveUntrack(cs *chatState) {
	e := c.live
	if e == nil {
		return
	}
	e.mu.Lock()
	l, ok := e.chats[cs]
	delete(e.chats, cs)
	e.mu.Unlock()
	if ok {
		close(l.gone)
		l.lc.Remove()
	}
}

// liveOf returns the live state of cs, or nil.
func (c *Client) liveOf(cs *chatState) *liveChat {
	e := c.live
	if e == nil {
		return nil
	}
	e.mu.Lock()
	defer e.mu.Unlock()
	return e.chats[cs]
}

// liveUp reports whether cs has a live stream up.
func (c *Client) liveUp(cs *chatState) bool {
	l := c.liveOf(cs)
	if l == nil {
		return false
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.conn != nil
}

// Path returns the path chat id is on now.
func (c *Client) Path(id ChatID) Path {
	c.chatsMu.Lock()
	cs, ok := c.chats[id]
	c.chatsMu.Unlock()
	if !ok {
		return PathDHT
	}
	l := c.liveOf(cs)
	if l == nil {
		return PathDHT
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.path
}

// liveKick tells the chat's stream, if any, that new messages were
// stored in the outbox (Send).
func (c *Client) liveKick(cs *chatState) {
	if l := c.liveOf(cs); l != nil {
		select {
		case l.kick <- struct{}{}:
		default:
		}
	}
}

// putSlot writes one of our slot records; slot 0 carries the chat's live
// announcement under "_l" (without a live host, the one already there or
// a sealed "none": announcementWithoutHost), if the Network can carry it.
// Call with cs.mu held.
func (c *Client) putSlot(ctx context.Context, cs *chatState, i int, seq uint64, payload []byte) error {
	key := cs.keys.SlotPrivateKey(cs.dir, i)
	lp, ok := c.net.(livePutter)
	if i != 0 || !ok {
		return c.net.Put(ctx, key, seq, payload)
	}
	var ann []byte
	var err error
	if l := c.liveOf(cs); l != nil {
		ann, err = l.lc.Announcement()
	} else {
		ann, err = c.announcementWithoutHost(cs)
	}
	if err != nil {
		return fmt.Errorf("chat: seal the live announcement of chat %s: %w", cs.id, err)
	}
	return lp.PutLive(ctx, key, seq, payload, ann)
}

// liveFriend takes the live announcement of the friend's slot 0 record,
// once the record was accepted (DecodeSlot and CheckSeq passed), and
// follows it. A missing or bad one never fails the record; the friend
// then counts as having no announcement (PROTOCOL.md §17.2), and the
// chat stops dialling (the friend's streams are still accepted).
func (c *Client) liveFriend(cs *chatState, slot int, sealed []byte) {
	if slot != 0 {
		return
	}
	l := c.liveOf(cs)
	if l == nil {
		return
	}
	if sealed == nil {
		sealed = []byte{} // none: distinct from nil, "nothing followed yet"
	}
	l.mu.Lock()
	same := l.friend != nil && bytes.Equal(l.friend, sealed)
	l.mu.Unlock()
	if same {
		return
	}
	var a wire.Announcement // none
	if len(sealed) > 0 {
		var err error
		if a, err = l.lc.OpenFriendAnnouncement(sealed); err != nil {
			c.log.Info("ignored the friend's live announcement", "chat", cs.id, "err", err)
			a = wire.Announcement{}
		}
	}
	l.mu.Lock()
	l.friend = bytes.Clone(sealed)
	l.mu.Unlock()
	c.log.Debug("following the friend's live announcement", "chat", cs.id, "none", a.None(), "expires", a.Expires)
	l.lc.Follow(a)
}

// liveAccept takes each new stream of the chat and serves it.
func (c *Client) liveAccept(e *liveEngine, cs *chatState, l *liveChat) {
	for {
		select {
		case <-e.ctx.Done():
			return
		case <-l.gone:
			return
		case conn := <-l.lc.Conns():
			// The path is set here, in the order the streams came, not
			// by the goroutines, which may start in any order.
			c.setPath(cs, l, conn, nil)
			e.wg.Go(func() { c.liveServe(e, cs, l, conn) })
		}
	}
}

// setPath records the chat's stream (nil: none) and tells subscribers if
// the path changed.
func (c *Client) setPath(cs *chatState, l *liveChat, conn, ended *live.Conn) {
	l.mu.Lock()
	if ended != nil && l.conn != ended {
		l.mu.Unlock()
		return // a newer stream took over
	}
	l.conn = conn
	p := PathDHT
	if conn != nil {
		p = PathLiveDirect
		if conn.Relayed() {
			p = PathLiveRelayed
		}
	}
	changed := p != l.path
	l.path = p
	l.mu.Unlock()
	if changed {
		c.log.Info("chat path", "chat", cs.id, "path", p)
		c.emit(context.Background(), PathEvent{ID: cs.id, Path: p})
	}
}

// liveServe runs one stream: it acks what we received, sends the outbox
// above what the friend acknowledged, then each new message as it is
// stored, delivers what comes in (liveRead), and takes the friend's live
// acks. When the stream ends the chat is back on the DHT path: every
// unacknowledged message is in the slot records anyway.
func (c *Client) liveServe(e *liveEngine, cs *chatState, l *liveChat, conn *live.Conn) {
	ctx, cancel := context.WithCancel(e.ctx)
	defer cancel()
	defer conn.Close()
	defer c.setPath(cs, l, nil, conn)
	c.chatsMu.Lock()
	cs.nextPoll = time.Now().Add(jitter(c.interval(cs))) // polled at the idle rate from now on
	c.chatsMu.Unlock()
	sid := store.ChatID(cs.id)
	received, err := c.db.Received(ctx, sid)
	if err != nil {
		c.log.Warn("live: cannot read our ack", "chat", cs.id, "err", err)
		return
	}
	if err := c.liveAck(ctx, conn, received); err != nil {
		return
	}
	e.wg.Go(func() { c.liveRead(ctx, cs, conn) })
	e.wg.Go(func() { c.liveSignals(ctx, cs, conn) })
	out, err := c.db.OutboxState(ctx, sid)
	if err != nil {
		c.log.Warn("live: cannot read the outbox", "chat", cs.id, "err", err)
		return
	}
	sentUpTo := out.PeerAck // the friend has every message up to it
	flush := func() bool {
		ms, err := c.db.Unacked(ctx, sid, maxOutbox)
		if err != nil {
			c.log.Warn("live: cannot read the outbox", "chat", cs.id, "err", err)
			return false
		}
		for _, m := range ms {
			if m.N <= sentUpTo {
				continue
			}
			sealed, err := cs.keys.Seal(cs.dir, wire.Message{N: m.N, SentAt: m.SentAt, Body: m.Body})
			if err != nil {
				c.log.Warn("live: cannot seal a message", "chat", cs.id, "n", m.N, "err", err)
				return false
			}
			wctx, wcancel := context.WithTimeout(ctx, liveWriteTimeout)
			err = conn.Send(wctx, sealed)
			wcancel()
			if err != nil {
				c.log.Debug("live: send failed; the DHT carries it", "chat", cs.id, "n", m.N, "err", err)
				return false
			}
			sentUpTo = m.N
			l.mu.Lock()
			l.sent = max(l.sent, m.N)
			l.mu.Unlock()
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
		case <-l.gone:
			return
		case <-conn.Done():
			c.log.Debug("live stream ended", "chat", cs.id, "err", conn.Err())
			return
		case <-l.kick:
			if !flush() {
				return
			}
		case a := <-conn.Acks():
			if !c.liveAcked(ctx, cs, l, conn, a) {
				return
			}
		}
	}
}

// liveAcked takes the friend's live ack a: the messages up to it are
// shown delivered, but stay in the outbox (and the slot records) until a
// slot header ack drops them (PROTOCOL.md §17.4). An ack above anything
// we numbered is a protocol violation: the stream is closed.
func (c *Client) liveAcked(ctx context.Context, cs *chatState, l *liveChat, conn *live.Conn, a uint64) bool {
	sid := store.ChatID(cs.id)
	out, err := c.db.OutboxState(ctx, sid)
	if err != nil {
		return false
	}
	if a > out.Sent {
		c.log.Warn("live: the friend acknowledged a message we never sent; closing the stream",
			"chat", cs.id, "ack", a, "sent", out.Sent)
		return false
	}
	l.mu.Lock()
	prev := max(l.acked, out.PeerAck)
	if a > l.acked {
		l.acked = a
	}
	l.mu.Unlock()
	if a <= prev {
		return true
	}
	ms, err := c.db.Unacked(ctx, sid, maxOutbox)
	if err != nil {
		return true
	}
	for _, m := range ms {
		if m.N > prev && m.N <= a {
			e := entryOf(m)
			e.Status = Delivered
			c.emit(ctx, StatusEvent{Entry: e})
		}
	}
	return true
}

// liveSent returns the highest of our message numbers in cs sent over
// the live path in this process: an ack of the friend's up to it is
// explained even before our records carry those messages (Client.ack).
func (c *Client) liveSent(cs *chatState) uint64 {
	l := c.liveOf(cs)
	if l == nil {
		return 0
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.sent
}

// LiveAcked returns the highest of our message numbers in chat id that
// the friend acknowledged over the live path in this process: delivered
// to the friend's client, though the store marks them Delivered only when
// the friend's slot records acknowledge them too.
func (c *Client) LiveAcked(id ChatID) uint64 {
	c.chatsMu.Lock()
	cs, ok := c.chats[id]
	c.chatsMu.Unlock()
	if !ok {
		return 0
	}
	l := c.liveOf(cs)
	if l == nil {
		return 0
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.acked
}

// liveAck writes our ack to the stream.
func (c *Client) liveAck(ctx context.Context, conn *live.Conn, n uint64) error {
	wctx, cancel := context.WithTimeout(ctx, liveWriteTimeout)
	defer cancel()
	err := conn.Ack(wctx, n)
	if err != nil {
		conn.Close()
	}
	return err
}

// liveRead delivers the messages of a stream through the same function
// as the DHT path (deliver: exactly once, in order, a gap waits for the
// DHT), then acks at once. It reads a batch of what is waiting at a time.
func (c *Client) liveRead(ctx context.Context, cs *chatState, conn *live.Conn) {
	var acked uint64
	for {
		var batch []wire.Message
		select {
		case <-ctx.Done():
			return
		case <-conn.Done():
			return
		case m := <-conn.Messages():
			batch = append(batch, m.Message)
		}
	more:
		for len(batch) < 64 {
			select {
			case m := <-conn.Messages():
				batch = append(batch, m.Message)
			default:
				break more
			}
		}
		var res fetchResult
		cs.mu.Lock()
		_, err := c.deliver(ctx, cs, batch, &res)
		cs.mu.Unlock()
		for _, a := range res.Alerts {
			c.emit(ctx, AlertEvent{Alert: a})
		}
		for _, e := range res.Received {
			c.emit(ctx, MessageEvent{Entry: e})
		}
		if err != nil {
			if !errors.Is(err, context.Canceled) {
				c.log.Warn("live: cannot store messages", "chat", cs.id, "err", err)
			}
			conn.Close()
			return
		}
		if len(res.Received) > 0 {
			c.chatsMu.Lock()
			cs.dirty = true // our ack moved: the slot records say so too
			cs.lastActive = res.Received[len(res.Received)-1].ReceivedAt
			c.chatsMu.Unlock()
			c.kick()
		}
		// The store's counter, not the batch: the DHT path may have
		// delivered these, or more, meanwhile.
		received, err := c.db.Received(ctx, store.ChatID(cs.id))
		if err != nil || received <= acked {
			continue
		}
		if err := c.liveAck(ctx, conn, received); err != nil {
			return
		}
		acked = received
	}
}
