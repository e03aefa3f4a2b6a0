package chat

import (
	"context"
	"crypto/ed25519"
	"errors"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"sync"
	"time"
	"unicode/utf8"

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
	queued     int       // FlushResult.Queued of the last publish that worked
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
	}
	switch cfg.Watch {
	case WatchUsed:
		c.used, c.fresh = make(map[ChatID]bool), make(map[ChatID]bool)
	case WatchAll:
	default:
		db.Close()
		return nil, fmt.Errorf("chat: unknown Config.Watch %d", cfg.Watch)
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
	ch, _, err := c.db.CreateChat(ctx, store.Chat{
		ID:   store.ChatID(localChatID(c.pub.Bytes(), peer.Bytes(), key.ID())),
		Wire: store.WireID(key.ID()), Peer: store.PeerKey(peer.Bytes()),
		StartedByMe: true, CreatedAt: now, LastActivity: now,
	})
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
	if !known && c.net != nil {
		if own, err = c.readOwn(ctx, keys, wire.DirectionOf(c.pub.Bytes(), peer.Bytes()), func(v ownView) uint64 { return v.maxN }); err != nil {
			return Info{}, fmt.Errorf("chat: join: %w", err)
		}
	}
	now := time.Now()
	ch, _, err := c.db.CreateChat(ctx, store.Chat{
		ID:   store.ChatID(localChatID(c.pub.Bytes(), peer.Bytes(), key.ID())),
		Wire: wid, Peer: spk, CreatedAt: now, LastActivity: now,
	})
	if err != nil {
		return Info{}, err
	}
	id := ChatID(ch.ID)
	if !c.paused(peer, ch.Blocked) {
		cs := c.track(ch, peer, keys, time.Time{})
		if !known && c.net != nil {
			cs.mu.Lock()
			cs.ownChecked = time.Now()
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
	unacked, _, err := c.Unacked(ctx, ChatID(ch.ID))
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
			Blocked: s.Blocked, Paused: c.paused(peer, s.Blocked),
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
	ms, err := c.db.Enqueue(ctx, store.ChatID(id), bodies, time.UnixMilli(time.Now().UnixMilli()))
	if err != nil {
		return nil, unknownChat(id, err)
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
// up to number n.
func (c *Client) MarkRead(ctx context.Context, id ChatID, n uint64) error {
	return unknownChat(id, c.db.MarkRead(ctx, store.ChatID(id), n))
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

// Unacked returns how many sent messages of chat id are not yet
// delivered, and how many of those are still pending.
func (c *Client) Unacked(ctx context.Context, id ChatID) (unacked, pending int, err error) {
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
