package chat

import (
	"cmp"
	"context"
	"crypto/ed25519"
	"errors"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"sync"
	"time"

	"github.com/dhtchat/dhtchat/chat/internal/store"
	"github.com/dhtchat/dhtchat/chat/wire"
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
	ID           ChatID       // this Client's handle of the chat
	Key          wire.ChatKey // the text that "start" printed
	Peer         keyring.PublicKey
	StartedByMe  bool
	CreatedAt    time.Time
	LastActivity time.Time
	Unread       int    // received messages not yet marked read
	LastText     string // the latest message in either direction
	Alerts       int    // alerts raised on the chat and not seen yet (Client.Alerts, SeeAlerts)
	// Blocked: the friend is blocked (Client.Block). Paused: the chat is
	// neither polled nor published, because the friend is blocked or is
	// not a friend (Config.IsFriend). Its history stays readable.
	Blocked, Paused bool
	// Path is the path the chat is on now (live direct, live relayed or
	// DHT); PathEvent tells of changes.
	Path Path
}

// MaxBody is the longest message body Send accepts, in bytes: the most
// that one sealed message of the protocol carries.
const MaxBody = wire.MaxBody

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
	// ErrBlocked: the friend is blocked (Client.Block); no chat with them
	// can be started or joined.
	ErrBlocked = errors.New("chat: the friend is blocked")
	// ErrPaused: the chat is paused, its friend blocked or no longer a
	// friend; nothing is sent or fetched in it.
	ErrPaused = errors.New("chat: the chat is paused")
)

// Config configures a Client.
type Config struct {
	// Identity is the user's secret key.
	Identity keyring.SecretKey
	// DBPath is the SQLite database of chats, outbox and history.
	DBPath string
	// Network is the DHT. Nil gives an offline Client that can create and
	// list chats, queue messages and read history. With a Network, the
	// Client runs a worker from Open to Close that publishes and fetches
	// the chats Watch names.
	Network Network
	// Watch says which chats the worker works on: WatchUsed (the zero
	// value), only those named to Client.Focus, for a command about one
	// chat; WatchAll, every chat, for the full-screen UI.
	Watch Watch
	// Poll is the polling policy; the zero value means DefaultPollPolicy.
	Poll PollPolicy
	// Logger receives what the Client does, including records it rejects.
	// Nil discards it.
	Logger *slog.Logger
	// Quota bounds what each chat stores from the friend; the zero value
	// means DefaultQuota.
	Quota Quota
	// IsFriend reports whether peer is one of the user's friends. The
	// chats of anyone else (a friend removed from the keyring) are paused,
	// as those of a blocked friend are: the worker neither polls nor
	// publishes them, and Send and Sync refuse them with ErrPaused. The
	// worker asks again every PollPolicy.Reload, so a friend removed or added back by
	// another process is noticed; it must be quick and safe for
	// concurrent use. Nil means everyone is a friend.
	IsFriend func(peer keyring.PublicKey) bool
	// Live configures the live path (livepath.go); the zero value is
	// LiveOff. It needs a Network.
	Live LiveConfig
	// NoTyping turns typing indicators off, NoReadReceipts read receipts
	// (livesignals.go): this Client then neither sends its own nor tells
	// of the friend's. Both ride on the live path only.
	NoTyping, NoReadReceipts bool
	// ChatVersion is the protocol version of the chats this Client
	// starts and joins: 2 (docs/PROTOCOL.md §10–16) or 1. Zero means 2.
	// Chats keep the version they were made with (see v2.go).
	ChatVersion int
}

// Client is one user's side of all their chats: the local store, and the
// publishing and fetching of records through the Network by a worker that
// the Client owns, from Open to Close. What the worker does is told to
// subscribers (Subscribe) and kept in the store, which is the truth:
// events say when to read it. Its methods are safe for concurrent use,
// and several processes may use the same database at once.
type Client struct {
	self    keyring.SecretKey
	pub     keyring.PublicKey
	db      *store.Store
	net     Network
	poll    PollPolicy
	quota   Quota
	log     *slog.Logger
	watch   Watch
	wake    chan struct{}
	newUse  chan struct{} // a chat was used for the first time (WatchUsed)
	pairsMu sync.Mutex
	pairs   map[keyring.PublicKey]wire.PairKey
	friend  func(keyring.PublicKey) bool // Config.IsFriend, or nil
	live    *liveEngine                  // the live path, or nil (livepath.go)
	sig     *signals                     // typing indicators and read receipts (livesignals.go)
	version int                          // Config.ChatVersion: of new chats

	chatsMu sync.Mutex
	chats   map[ChatID]*chatState
	// leaving holds the chats that untrack took out of chats and waits
	// for, so that another untrack of them waits too.
	leaving map[ChatID]*chatState
	focus   ChatID
	// used holds the chats the caller used (Use, Focus), which the worker
	// works on, each true if it polls it too (Focus); nil with WatchAll.
	// fresh holds those the worker has not looked at since, to tell of one
	// that is paused (ChatEvent).
	used, fresh map[ChatID]bool

	// Joining the DHT (join): joined says it was done, joining is the
	// attempt in flight, if any. Guarded by joinMu.
	joinMu        sync.Mutex
	joined        bool
	joining       *joinAttempt
	reconnectMu   sync.Mutex
	lastReconnect time.Time // guarded by reconnectMu

	// The worker: stopWorker cancels it, workerDone is closed when it
	// returned; both nil without a Network.
	stopWorker context.CancelFunc
	workerDone chan struct{}

	// The streams of Subscribe; closing is closed by Close, after the
	// worker stopped. lastNet is the latest NetworkEvent told.
	subsMu     sync.Mutex
	subs       map[*subscriber]struct{}
	lastNet    *NetworkEvent
	subsClosed bool
	closing    chan struct{}
	subsWG     sync.WaitGroup

	closeOnce sync.Once
	closeErr  error
}

// chatState is what the Client keeps in memory about one chat.
type chatState struct {
	id   ChatID
	peer keyring.PublicKey
	keys *wire.Keys
	dir  wire.Direction // the direction we write

	// mu serialises publishing and fetching this chat within the process;
	// the store serialises processes.
	mu sync.Mutex
	// run is held by the worker's operation on the chat (work), so that
	// untrack can wait for one in flight to end.
	run sync.Mutex
	// gone: the chat was paused or deleted, and the worker must leave it
	// alone. Guarded by Client.chatsMu; set only with the chat out of
	// Client.chats.
	gone bool
	// created is the chat's CreatedAt in the store: a chat that another
	// process deleted and joined again has the same ID but not the same
	// CreatedAt, and nothing of this state applies to it.
	created time.Time

	// Scheduling, guarded by Client.chatsMu.
	nextPoll   time.Time
	failures   int
	dirty      bool      // our record is out of date: publish
	lastPut    time.Time // last successful publish
	sentSeen   uint64    // the highest message number that publish saw
	busy       bool      // the worker has an operation on this chat in flight
	queued     int       // flushResult.Queued of the last publish that worked
	lastActive time.Time // last message either way

	// rejected is, per slot of the friend's direction, the sequence number
	// of the last record rejected, so that a bad record that stays in the
	// DHT is rejected (and logged) once, not at every poll. Guarded by mu.
	rejected [wire.MaxSlots]uint64
	// synced says, per slot of ours above 0, that this process knows the
	// store's sequence number is at least the DHT's (see syncSlot).
	// Guarded by mu, as are the fields below.
	synced [wire.MaxSlots]bool
	// ownChecked is when this process last read our own slot 0 back
	// (checkOwn); zero: not yet.
	ownChecked time.Time
	// ownAnn is the live announcement our slot 0 record carried when
	// read back (checkOwn), if it was a valid, unexpired one, and
	// ownAnnExpires its expiry: a process without a live host carries it
	// over (announcementWithoutHost).
	ownAnn        []byte
	ownAnnExpires time.Time
	// published says that this process published the chat: our records
	// were in line with the DHT, so if they fall behind again another copy
	// of our identity is writing (AlertSecondWriter).
	published bool
	// verifyAt is when verifyAck, an ack of the friend's that our records
	// did not confirm in full, or a lower one, is tried again, and
	// verifyWait the wait before it (doubling while it fails); see
	// Client.ack.
	verifyAt   time.Time
	verifyAck  uint64
	verifyWait time.Duration
	// blocked: our slot 0 in the DHT holds a planted record that ours
	// cannot replace (AlertSendBlocked), as last read.
	blocked bool
	// alerted holds the kinds of alert told about in this process.
	alerted map[AlertKind]bool
	// implausibleLogged: a value read back beyond its bound was logged.
	implausibleLogged bool
	// v2 is what this process knows of a version 2 chat (v2.go).
	v2 v2State
}

// Open opens the database and returns a Client; with a Network, it starts
// the Client's worker (see Config.Watch). Close it when done.
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
	c := &Client{
		self:    cfg.Identity,
		pub:     cfg.Identity.Public(),
		db:      db,
		net:     cfg.Network,
		poll:    poll.withDefaults(),
		quota:   quota,
		version: cmp.Or(cfg.ChatVersion, defaultChatVersion),
		log:     logger,
		watch:   cfg.Watch,
		wake:    make(chan struct{}, 1),
		newUse:  make(chan struct{}, 1),
		pairs:   make(map[keyring.PublicKey]wire.PairKey),
		friend:  cfg.IsFriend,
		chats:   make(map[ChatID]*chatState),
		leaving: make(map[ChatID]*chatState),
		subs:    make(map[*subscriber]struct{}),
		closing: make(chan struct{}),
		sig:     newSignals(cfg),
	}
	switch cfg.Watch {
	case WatchUsed:
		c.used, c.fresh = make(map[ChatID]bool), make(map[ChatID]bool)
	case WatchAll:
	default:
		db.Close()
		return nil, fmt.Errorf("chat: unknown Config.Watch %d", cfg.Watch)
	}
	if err := c.openLive(cfg); err != nil {
		db.Close()
		return nil, err
	}
	if c.net != nil {
		c.startWorker()
	}
	return c, nil
}

// isFriend is Config.IsFriend, true without one.
func (c *Client) isFriend(peer keyring.PublicKey) bool {
	return c.friend == nil || c.friend(peer)
}

// paused reports whether a chat with peer, blocked or not, is paused.
func (c *Client) paused(peer keyring.PublicKey, blocked bool) bool {
	return blocked || !c.isFriend(peer)
}

// Close stops the worker and waits until every operation it started has
// ended, closes the streams of Subscribe, then closes the database. Close
// is idempotent.
func (c *Client) Close() error {
	c.closeOnce.Do(func() {
		if c.stopWorker != nil {
			c.stopWorker()
			<-c.workerDone
		}
		c.closeLive()
		c.closeSubscribers()
		c.closeErr = c.db.Close()
	})
	return c.closeErr
}

// Connect joins the network (see Network.Connect), for a command that
// needs it before it goes on (JoinChat reads the DHT); the worker joins
// by itself. Once joined, by Connect or by the worker, Connect returns
// nil at once.
func (c *Client) Connect(ctx context.Context) error {
	if c.net == nil {
		return ErrOffline
	}
	_, err := c.join(ctx)
	return err
}

// joinAttempt is one Network.Connect of join; done is closed when err is
// set.
type joinAttempt struct {
	done chan struct{}
	err  error
}

// join joins the network once: a caller's Connect and the worker do not
// both dial and refresh. One that comes while the other's attempt is in
// flight shares its outcome, success or failure, and is told so (shared).
func (c *Client) join(ctx context.Context) (shared bool, _ error) {
	c.joinMu.Lock()
	if c.joined {
		c.joinMu.Unlock()
		return false, nil
	}
	if a := c.joining; a != nil {
		c.joinMu.Unlock()
		select {
		case <-a.done:
			return true, a.err
		case <-ctx.Done():
			return false, ctx.Err()
		}
	}
	a := &joinAttempt{done: make(chan struct{})}
	c.joining = a
	c.joinMu.Unlock()
	a.err = c.net.Connect(ctx)
	c.joinMu.Lock()
	c.joining, c.joined = nil, a.err == nil
	c.joinMu.Unlock()
	close(a.done)
	return false, a.err
}

// pairKey returns the pair key we share with peer.
func (c *Client) pairKey(peer keyring.PublicKey) (wire.PairKey, error) {
	c.pairsMu.Lock()
	defer c.pairsMu.Unlock()
	if p, ok := c.pairs[peer]; ok {
		return p, nil
	}
	shared, err := c.self.SharedSecret(peer)
	if err != nil {
		return wire.PairKey{}, err
	}
	p, err := wire.DerivePairKey(shared, c.pub.Bytes(), peer.Bytes())
	if err != nil {
		return wire.PairKey{}, err
	}
	c.pairs[peer] = p
	return p, nil
}

// track makes chat ch known to the worker, which polls it from now on.
// It publishes it at once if lastPut is zero, else a Republish after
// lastPut.
func (c *Client) track(ch store.Chat, peer keyring.PublicKey, keys *wire.Keys, lastPut time.Time) *chatState {
	c.chatsMu.Lock()
	defer c.chatsMu.Unlock()
	id := ChatID(ch.ID)
	if cs, ok := c.chats[id]; ok {
		return cs
	}
	cs := &chatState{
		id: id, peer: peer, keys: keys,
		dir: wire.DirectionOf(c.pub.Bytes(), peer.Bytes()), lastPut: lastPut,
		dirty: lastPut.IsZero(), created: ch.CreatedAt, alerted: make(map[AlertKind]bool),
	}
	c.chats[cs.id] = cs
	c.liveTrack(cs)
	c.kick()
	return cs
}

// untrack makes the worker forget chat id (paused or deleted) and waits
// for an operation of the worker on it to end: when it returns, the
// worker reads and writes nothing of the chat until it is tracked again.
// That holds too when another untrack (the worker's reload, seeing the
// same block) took the chat out first. It reports whether the chat was
// tracked, and this call took it out.
func (c *Client) untrack(id ChatID) bool {
	c.chatsMu.Lock()
	cs, ok := c.chats[id]
	if ok {
		delete(c.chats, id)
		cs.gone = true
		c.leaving[id] = cs
	} else if l, leaving := c.leaving[id]; leaving {
		// Another untrack (the worker's reload) took it out and waits:
		// so must this one (Block, DeleteChat promise it).
		cs = l
	}
	c.chatsMu.Unlock()
	if cs == nil {
		return false
	}
	if ok {
		c.liveUntrack(cs)
	}
	cs.run.Lock()
	//lint:ignore SA2001 an empty critical section: waiting for the holder is the point
	cs.run.Unlock()
	if ok {
		c.chatsMu.Lock()
		if c.leaving[id] == cs {
			delete(c.leaving, id)
		}
		c.chatsMu.Unlock()
	}
	return ok
}

// state returns the in-memory state of chat id, loading it from the
// store. A paused chat has none: ErrPaused.
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
	if ch.Blocked {
		return nil, fmt.Errorf("%w: the friend is blocked", ErrPaused)
	}
	if !c.isFriend(peer) {
		return nil, fmt.Errorf("%w: they are not a friend any more", ErrPaused)
	}
	p, err := c.pairKey(peer)
	if err != nil {
		return nil, err
	}
	// A chat with messages not yet acknowledged is published at once: they
	// may never have left a process that crashed. The others are
	// republished (for our ack) at a random time in the next quarter hour,
	// so that a start-up does not write every chat at once.
	unacked, _, err := c.unackedCounts(ctx, ChatID(ch.ID))
	if err != nil {
		return nil, err
	}
	var lastPut time.Time
	if unacked == 0 {
		lastPut = time.Now().Add(-c.poll.Republish + rand.N(15*time.Minute))
	}
	cs := c.track(ch, peer, wire.DeriveKeys(p, wire.ChatID(ch.Wire)), lastPut)
	c.chatsMu.Lock()
	if cs.lastActive.IsZero() {
		cs.lastActive = ch.LastActivity
	}
	c.chatsMu.Unlock()
	return cs, nil
}
