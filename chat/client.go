package chat

import (
	"context"
	"crypto/ed25519"
	"errors"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"sync"
	"sync/atomic"
	"time"
	"unicode/utf8"

	"github.com/dhtchat/dhtchat/chat/internal/store"
	"github.com/dhtchat/dhtchat/dht"
	"github.com/dhtchat/dhtchat/keyring"
)

// Network is the DHT as a Client uses it; *dht.Node implements it.
type Network interface {
	// Connect joins the network, or fails with an error wrapping
	// dht.ErrNoPeers within a bounded time.
	Connect(ctx context.Context) error
	// Put publishes payload as the record of key with sequence number seq.
	Put(ctx context.Context, key ed25519.PrivateKey, seq uint64, payload []byte) error
	// Get fetches the newest record of pub, or an error wrapping
	// dht.ErrNotFound.
	Get(ctx context.Context, pub ed25519.PublicKey, opts ...dht.GetOption) (dht.Record, error)
}

// Status is the state of a message: Pending, Published or Delivered for
// those we send, Received for those we receive.
type Status = store.Status

// The statuses of a message.
const (
	Pending   = store.Pending   // stored locally, not yet in the DHT
	Published = store.Published // in the DHT, not yet acknowledged
	Delivered = store.Delivered // acknowledged by the friend
	Received  = store.Received  // a message from the friend
)

// Entry is a message of a chat's history, in either direction.
type Entry struct {
	Seq        int64 // local order across both directions
	Chat       ChatID
	Outgoing   bool
	N          uint64 // number within its direction, from 1
	SentAt     time.Time
	ReceivedAt time.Time // zero for outgoing messages
	Body       string
	Status     Status
	// Imported marks a message of ours that another copy of our identity
	// sent (found in our own records in the DHT; see AlertBehind).
	Imported bool
}

func entryOf(m store.Message) Entry {
	return Entry{
		Seq: m.Seq, Chat: ChatID(m.Chat), Outgoing: m.Outgoing, N: m.N,
		SentAt: m.SentAt, ReceivedAt: m.ReceivedAt, Body: m.Body, Status: m.Status,
		Imported: m.Imported,
	}
}

func entriesOf(ms []store.Message) []Entry {
	out := make([]Entry, len(ms))
	for i, m := range ms {
		out[i] = entryOf(m)
	}
	return out
}

// Info describes a chat.
type Info struct {
	ID           ChatID
	Key          ChatKey // the text that "start" printed
	Peer         keyring.PublicKey
	StartedByMe  bool
	CreatedAt    time.Time
	LastActivity time.Time
	Unread       int    // received messages not yet marked read
	LastText     string // the latest message in either direction
	Alerts       int    // alerts raised on the chat (Client.Alerts)
}

// Errors of the Client.
var (
	// ErrUnknownChat: no chat with that identifier or friend.
	ErrUnknownChat = errors.New("chat: no such chat")
	// ErrBodyTooLarge: a message is longer than MaxBody bytes.
	ErrBodyTooLarge = fmt.Errorf("chat: message longer than %d bytes", MaxBody)
	// ErrBadBody: a message is empty or not valid UTF-8.
	ErrBadBody = errors.New("chat: message is empty or not valid UTF-8")
	// ErrOffline: the Client has no Network.
	ErrOffline = errors.New("chat: no network")
	// ErrClosed: the Client was closed.
	ErrClosed = errors.New("chat: client closed")
)

// Config configures a Client.
type Config struct {
	// Identity is the user's secret key.
	Identity keyring.SecretKey
	// DBPath is the SQLite database of chats, outbox and history.
	DBPath string
	// Network is the DHT. Nil gives an offline Client that can create and
	// list chats, queue messages and read history.
	Network Network
	// Poll is the polling policy; the zero value means DefaultPollPolicy.
	Poll PollPolicy
	// Logger receives what the Client does, including records it rejects.
	// Nil discards it.
	Logger *slog.Logger
	// Quota bounds what each chat stores from the friend; the zero value
	// means DefaultQuota.
	Quota Quota
}

// Client is one user's side of all their chats: the local store, and the
// publishing and fetching of records through the Network. Its methods are
// safe for concurrent use, and several processes may use the same database
// at once.
type Client struct {
	self    keyring.SecretKey
	pub     keyring.PublicKey
	db      *store.Store
	net     Network
	poll    PollPolicy
	quota   Quota
	log     *slog.Logger
	events  chan Event
	wake    chan struct{}
	pairsMu sync.Mutex
	pairs   map[keyring.PublicKey]PairKey

	chatsMu sync.Mutex
	chats   map[ChatID]*chatState
	focus   ChatID
	only    map[ChatID]bool // if set, the chats Run works on (Only)

	running       atomic.Bool // Run was called
	reconnectMu   sync.Mutex
	lastReconnect time.Time // guarded by reconnectMu

	closeOnce sync.Once
	closeErr  error
}

// chatState is what the Client keeps in memory about one chat.
type chatState struct {
	id   ChatID
	peer keyring.PublicKey
	keys *Keys
	dir  Direction // the direction we write

	// mu serialises publishing and fetching this chat within the process;
	// the store serialises processes.
	mu sync.Mutex

	// Scheduling, guarded by Client.chatsMu.
	nextPoll   time.Time
	failures   int
	dirty      bool      // our record is out of date: publish
	lastPut    time.Time // last successful publish
	sentSeen   uint64    // the highest message number that publish saw
	busy       bool      // Run has an operation on this chat in flight
	lastActive time.Time // last message either way

	// rejected is, per slot of the friend's direction, the sequence number
	// of the last record rejected, so that a bad record that stays in the
	// DHT is rejected (and logged) once, not at every poll. Guarded by mu.
	rejected [MaxSlots]uint64
	// synced says, per slot of ours above 0, that this process knows the
	// store's sequence number is at least the DHT's (see syncSlot).
	// Guarded by mu, as are the fields below.
	synced [MaxSlots]bool
	// ownChecked is when this process last read our own slot 0 back
	// (checkOwn); zero: not yet.
	ownChecked time.Time
	// published says that this process published the chat: our records
	// were in line with the DHT, so if they fall behind again another copy
	// of our identity is writing (AlertSecondWriter).
	published bool
	// alerted holds the kinds of alert told about in this process.
	alerted map[AlertKind]bool
	// implausibleLogged: a value read back beyond its bound was logged.
	implausibleLogged bool
}

// Open opens the database and returns a Client. Close it when done.
func Open(cfg Config) (*Client, error) {
	db, err := store.Open(cfg.DBPath)
	if err != nil {
		return nil, err
	}
	logger := cfg.Logger
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	poll := cfg.Poll
	if poll == (PollPolicy{}) {
		poll = DefaultPollPolicy()
	}
	quota := cfg.Quota
	if quota == (Quota{}) {
		quota = DefaultQuota()
	}
	return &Client{
		self:   cfg.Identity,
		pub:    cfg.Identity.Public(),
		db:     db,
		net:    cfg.Network,
		poll:   poll.withDefaults(),
		quota:  quota,
		log:    logger,
		events: make(chan Event, 256),
		wake:   make(chan struct{}, 1),
		pairs:  make(map[keyring.PublicKey]PairKey),
		chats:  make(map[ChatID]*chatState),
	}, nil
}

// Close closes the database. Stop Run (cancel its context) first. Close is
// idempotent.
func (c *Client) Close() error {
	c.closeOnce.Do(func() { c.closeErr = c.db.Close() })
	return c.closeErr
}

// Connect joins the network: see Network.Connect.
func (c *Client) Connect(ctx context.Context) error {
	if c.net == nil {
		return ErrOffline
	}
	return c.net.Connect(ctx)
}

// pairKey returns the pair key we share with peer.
func (c *Client) pairKey(peer keyring.PublicKey) (PairKey, error) {
	c.pairsMu.Lock()
	defer c.pairsMu.Unlock()
	if p, ok := c.pairs[peer]; ok {
		return p, nil
	}
	shared, err := c.self.SharedSecret(peer)
	if err != nil {
		return PairKey{}, err
	}
	p, err := DerivePairKey(shared, c.pub.Bytes(), peer.Bytes())
	if err != nil {
		return PairKey{}, err
	}
	c.pairs[peer] = p
	return p, nil
}

// StartChat creates a new chat with peer and returns its chat key, which
// the peer needs to join it (JoinChat).
func (c *Client) StartChat(ctx context.Context, peer keyring.PublicKey) (ChatKey, error) {
	p, err := c.pairKey(peer)
	if err != nil {
		return ChatKey{}, err
	}
	key := NewChatKey(p)
	now := time.Now()
	if _, _, err := c.db.CreateChat(ctx, store.Chat{
		ID: store.ChatID(key.ID()), Peer: store.PeerKey(peer.Bytes()),
		StartedByMe: true, CreatedAt: now, LastActivity: now,
	}); err != nil {
		return ChatKey{}, err
	}
	cs := c.track(peer, deriveKeys(p, key), time.Time{})
	cs.mu.Lock()
	for i := range cs.synced {
		cs.synced[i] = true // a new random chat: nothing of ours in the DHT
	}
	cs.ownChecked = time.Now()
	cs.mu.Unlock()
	return key, nil
}

// CheckChatKey returns an error wrapping ErrChatKeyNotForYou if key was not
// made for a chat between us and peer. It needs no network.
func (c *Client) CheckChatKey(peer keyring.PublicKey, key ChatKey) error {
	p, err := c.pairKey(peer)
	if err != nil {
		return err
	}
	_, err = key.Keys(p)
	return err
}

// JoinChat joins the chat with key that peer started. It returns an error
// wrapping ErrChatKeyNotForYou if the key was made for another pair of
// people. Joining a chat again is harmless.
//
// With a Network, it first looks in the DHT for records of ours in that
// chat (this database may be new while the chat is not: a lost or restored
// database, or another device with the same identity), so that our next
// messages and records continue after them. Connect first; if the DHT
// cannot be read, JoinChat fails and nothing is stored.
func (c *Client) JoinChat(ctx context.Context, peer keyring.PublicKey, key ChatKey) error {
	p, err := c.pairKey(peer)
	if err != nil {
		return err
	}
	keys, err := key.Keys(p)
	if err != nil {
		return err
	}
	sid := store.ChatID(key.ID())
	_, err = c.db.Chat(ctx, sid)
	known := err == nil
	if err != nil && !errors.Is(err, store.ErrNotFound) {
		return err
	}
	// Records of ours that this database does not know of; read before
	// anything is stored, so that a failure stores nothing.
	var own ownView
	if !known && c.net != nil {
		if own, err = c.readOwn(ctx, keys, DirectionOf(c.pub.Bytes(), peer.Bytes()), func(ownView) bool { return true }); err != nil {
			return fmt.Errorf("chat: join: %w", err)
		}
	}
	now := time.Now()
	if _, _, err := c.db.CreateChat(ctx, store.Chat{
		ID: sid, Peer: store.PeerKey(peer.Bytes()),
		CreatedAt: now, LastActivity: now,
	}); err != nil {
		return err
	}
	cs := c.track(peer, keys, time.Time{})
	if !known && c.net != nil {
		cs.mu.Lock()
		defer cs.mu.Unlock()
		cs.ownChecked = time.Now()
		_, err := c.applyOwn(ctx, cs, own, 0, 0)
		return err
	}
	return nil
}

// track makes the chat known to the worker, which polls it from now on.
// It publishes it at once if lastPut is zero, else a Republish after
// lastPut.
func (c *Client) track(peer keyring.PublicKey, keys *Keys, lastPut time.Time) *chatState {
	c.chatsMu.Lock()
	defer c.chatsMu.Unlock()
	if cs, ok := c.chats[keys.ID()]; ok {
		return cs
	}
	cs := &chatState{
		id: keys.ID(), peer: peer, keys: keys,
		dir: DirectionOf(c.pub.Bytes(), peer.Bytes()), lastPut: lastPut,
		dirty: lastPut.IsZero(), alerted: make(map[AlertKind]bool),
	}
	c.chats[cs.id] = cs
	c.kick()
	return cs
}

// state returns the in-memory state of chat id, loading it from the store.
func (c *Client) state(ctx context.Context, id ChatID) (*chatState, error) {
	c.chatsMu.Lock()
	cs, ok := c.chats[id]
	c.chatsMu.Unlock()
	if ok {
		return cs, nil
	}
	ch, err := c.db.Chat(ctx, store.ChatID(id))
	if errors.Is(err, store.ErrNotFound) {
		return nil, fmt.Errorf("%w: %s", ErrUnknownChat, id)
	}
	if err != nil {
		return nil, err
	}
	return c.load(ctx, ch)
}

func (c *Client) load(ctx context.Context, ch store.Chat) (*chatState, error) {
	peer, err := keyring.PublicKeyFromBytes(ch.Peer)
	if err != nil {
		return nil, fmt.Errorf("chat: chat %s has an invalid peer key: %w", ChatID(ch.ID), err)
	}
	p, err := c.pairKey(peer)
	if err != nil {
		return nil, err
	}
	// A chat with messages not yet acknowledged is published at once: they
	// may never have left a process that crashed. The others are
	// republished (for our ack) at a random time in the next quarter hour,
	// so that a start-up does not write every chat at once.
	unacked, _, err := c.Unacked(ctx, ChatID(ch.ID))
	if err != nil {
		return nil, err
	}
	var lastPut time.Time
	if unacked == 0 {
		lastPut = time.Now().Add(-c.poll.Republish + rand.N(15*time.Minute))
	}
	cs := c.track(peer, deriveKeys(p, chatKeyFor(p, ChatID(ch.ID))), lastPut)
	c.chatsMu.Lock()
	if cs.lastActive.IsZero() {
		cs.lastActive = ch.LastActivity
	}
	c.chatsMu.Unlock()
	return cs, nil
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
			ID: ChatID(s.ID), Key: chatKeyFor(p, ChatID(s.ID)), Peer: peer,
			StartedByMe: s.StartedByMe, CreatedAt: s.CreatedAt, LastActivity: s.LastActivity,
			Unread: s.Unread, LastText: s.LastText, Alerts: alerts[s.ID],
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

// Send queues bodies as messages of chat id, durably: when Send returns
// they survive a crash, and they are published by Flush or by Run. It
// returns them with their numbers, in status Pending.
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
	ms, err := c.db.Enqueue(ctx, store.ChatID(id), bodies, time.UnixMilli(time.Now().UnixMilli()))
	if err != nil {
		return nil, err
	}
	c.chatsMu.Lock()
	cs.dirty = true
	cs.lastActive = time.Now()
	c.chatsMu.Unlock()
	c.kick()
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
}

// Outbox returns the progress of our messages in chat id, as the store
// knows it, whichever process published them or saw the ack.
func (c *Client) Outbox(ctx context.Context, id ChatID) (Outbox, error) {
	st, err := c.db.OutboxState(ctx, store.ChatID(id))
	if err != nil {
		return Outbox{}, err
	}
	o := Outbox{Sent: st.Sent, Published: st.Sent, Delivered: st.PeerAck}
	if st.FirstPending > 0 {
		o.Published = st.FirstPending - 1
	}
	return o, nil
}

// History returns up to limit entries of chat id with Seq below before (0:
// the latest), oldest first.
func (c *Client) History(ctx context.Context, id ChatID, before int64, limit int) ([]Entry, error) {
	ms, err := c.db.History(ctx, store.ChatID(id), before, limit)
	if err != nil {
		return nil, err
	}
	return entriesOf(ms), nil
}

// Incoming returns up to limit received messages of chat id numbered
// above after, in order.
func (c *Client) Incoming(ctx context.Context, id ChatID, after uint64, limit int) ([]Entry, error) {
	ms, err := c.db.Incoming(ctx, store.ChatID(id), after, limit)
	if err != nil {
		return nil, err
	}
	return entriesOf(ms), nil
}

// ReadUpTo returns the number of the last received message the user has
// seen in chat id.
func (c *Client) ReadUpTo(ctx context.Context, id ChatID) (uint64, error) {
	return c.db.ReadUpTo(ctx, store.ChatID(id))
}

// MarkRead records that the user has seen the received messages of chat id
// up to number n.
func (c *Client) MarkRead(ctx context.Context, id ChatID, n uint64) error {
	return c.db.MarkRead(ctx, store.ChatID(id), n)
}

// PrintedUpTo returns the number of the last received message of chat id
// that a command printed (recv, pipe mode): a cursor apart from what the
// user saw in the full-screen chat.
func (c *Client) PrintedUpTo(ctx context.Context, id ChatID) (uint64, error) {
	return c.db.PrintedUpTo(ctx, store.ChatID(id))
}

// MarkPrinted records that a command printed the received messages of
// chat id up to number n; they count as read too.
func (c *Client) MarkPrinted(ctx context.Context, id ChatID, n uint64) error {
	return c.db.MarkPrinted(ctx, store.ChatID(id), n)
}

// Unacked returns how many sent messages of chat id are not yet
// delivered, and how many of those are still pending.
func (c *Client) Unacked(ctx context.Context, id ChatID) (unacked, pending int, err error) {
	st, err := c.db.OutboxState(ctx, store.ChatID(id))
	return st.Unacked, st.Pending, err
}
