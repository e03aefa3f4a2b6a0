package live

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"sync"
	"time"

	"github.com/dhtchat/dhtchat/chat/wire"
	"github.com/libp2p/go-libp2p"
	"github.com/libp2p/go-libp2p/core/crypto"
	"github.com/libp2p/go-libp2p/core/event"
	"github.com/libp2p/go-libp2p/core/host"
	"github.com/libp2p/go-libp2p/core/network"
	"github.com/libp2p/go-libp2p/core/peer"
	"github.com/libp2p/go-libp2p/core/protocol"
	quic "github.com/libp2p/go-libp2p/p2p/transport/quic"
	"github.com/libp2p/go-libp2p/p2p/transport/tcp"
	"github.com/multiformats/go-multiaddr"
	manet "github.com/multiformats/go-multiaddr/net"
)

// ProtocolID is the libp2p protocol of a live stream.
const ProtocolID = protocol.ID(wire.LiveProtocolID)

// Mode says what a Host offers its friends.
type Mode int

const (
	// ModeDirect (the zero value) listens, announces its own addresses
	// and relay addresses, and punches holes: the fastest, and the friend
	// learns the user's IP address.
	ModeDirect Mode = iota
	// ModeRelayOnly does not listen, announces only relay circuit
	// addresses, dials only the friend's circuit addresses and never
	// punches holes: the friend does not learn the user's IP address
	// (the relay sees both).
	ModeRelayOnly
)

// String returns "direct" or "relay-only".
func (m Mode) String() string {
	switch m {
	case ModeDirect:
		return "direct"
	case ModeRelayOnly:
		return "relay-only"
	}
	return fmt.Sprintf("Mode(%d)", int(m))
}

// Config configures a Host. The zero value listens on every interface
// (TCP and QUIC, random ports), punches holes, uses no relay and
// announces its public and private (LAN) addresses.
type Config struct {
	// Mode is ModeDirect (the zero value) or ModeRelayOnly.
	Mode Mode
	// ListenAddrs are the listen multiaddrs in ModeDirect; nil means TCP
	// and QUIC on all IPv4 and IPv6 interfaces, random ports. ModeRelayOnly
	// never listens.
	ListenAddrs []multiaddr.Multiaddr
	// Relays are circuit relays (the user's `dhtchat node`s that run
	// NewRelay) with which the host keeps a reservation, announcing the
	// circuit addresses through them (see reserve.go).
	Relays []peer.AddrInfo
	// AnnounceLoopback also announces loopback addresses (tests, and two
	// clients on one machine). Link-local addresses are never announced.
	AnnounceLoopback bool
	// AnnounceTTL is how long an announcement is valid; zero means
	// DefaultAnnounceTTL. The engine writes a new one (a new slot 0
	// record) before it expires.
	AnnounceTTL time.Duration
	// HelloTimeout bounds the hello exchange of a new stream; zero means
	// DefaultHelloTimeout.
	HelloTimeout time.Duration
	// Logger receives the host's log lines; nil discards them.
	Logger *slog.Logger
	// Now is the clock for expiries; nil means time.Now.
	Now func() time.Time
}

// Defaults of Config.
const (
	DefaultAnnounceTTL  = time.Hour
	DefaultHelloTimeout = 10 * time.Second
	// maxAnnounceAhead caps how far ahead a friend's expiry is believed
	// (docs/PROTOCOL.md §17.2).
	maxAnnounceAhead = 48 * time.Hour
)

// Errors of the package; they are wrapped with detail, test with errors.Is.
var (
	ErrClosed       = errors.New("live: closed")
	ErrExpired      = errors.New("live: announcement expired or none")
	ErrRefused      = errors.New("live: the friend's host did not answer the hello as the friend")
	ErrReplaced     = errors.New("live: stream replaced by another one for the same chat")
	ErrProtocol     = errors.New("live: protocol violation")
	ErrNotPermitted = errors.New("live: address not permitted in this mode")
)

// errNotTaken ends a stream that the engine did not take from Conns.
var errNotTaken = fmt.Errorf("%w: the engine takes no new streams", ErrClosed)

// Host is a process's live endpoint. Its methods are safe for concurrent
// use.
type Host struct {
	h     host.Host
	key   [32]byte
	cfg   Config
	log   *slog.Logger
	addrs event.Subscription

	mu     sync.Mutex
	closed bool
	chats  map[[wire.HelloTagSize]byte]*Chat // by the tag the friend sends us
	conns  map[*Conn]struct{}
	wg     sync.WaitGroup // the handlers, the readers, the address watcher

	relayAddrs map[peer.ID][]multiaddr.Multiaddr // circuit addresses, by relay
	notifiee   network.Notifiee
	life       context.Context // cancelled by Close: ends the reservation keepers
	kill       context.CancelFunc

	changed chan struct{}

	closeOnce sync.Once
	closeErr  error
}

// New starts a live host with a fresh identity. If it fails, nothing it
// started is left running.
func New(ctx context.Context, cfg Config) (*Host, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	if cfg.Mode != ModeDirect && cfg.Mode != ModeRelayOnly {
		return nil, fmt.Errorf("live: unknown mode %d", int(cfg.Mode))
	}
	if cfg.AnnounceTTL <= 0 {
		cfg.AnnounceTTL = DefaultAnnounceTTL
	}
	if cfg.HelloTimeout <= 0 {
		cfg.HelloTimeout = DefaultHelloTimeout
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	log := cfg.Logger
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	sk, pk, err := crypto.GenerateEd25519Key(nil)
	if err != nil {
		return nil, fmt.Errorf("live: generate identity: %w", err)
	}
	raw, err := pk.Raw()
	if err != nil {
		return nil, fmt.Errorf("live: identity: %w", err)
	}
	opts := []libp2p.Option{
		libp2p.Identity(sk),
		libp2p.NoListenAddrs, // listen below, so a failure can be cleaned up
		libp2p.Transport(tcp.NewTCPTransport),
		libp2p.Transport(quic.NewTransport),
		libp2p.UserAgent("github.com/libp2p/go-libp2p"), // as dht: no "dhtchat" in identify
		libp2p.DisableMetrics(),
		libp2p.EnableRelay(), // the circuit v2 client: dial and accept through relays
	}
	if cfg.Mode == ModeDirect {
		// DCUtR: a relayed connection is upgraded to a direct one by
		// simultaneous dials from both sides, when NATs allow.
		opts = append(opts, libp2p.EnableHolePunching())
	} else {
		// No direct connection may be made, so none is offered, and
		// none dialled but to the relays.
		g := relayOnlyGater{relays: map[peer.ID]bool{}}
		for _, ai := range cfg.Relays {
			g.relays[ai.ID] = true
		}
		opts = append(opts, libp2p.ForceReachabilityPrivate(), libp2p.ConnectionGater(g))
	}
	h, err := libp2p.New(opts...)
	if err != nil {
		return nil, fmt.Errorf("live: start libp2p host: %w", err)
	}
	if cfg.Mode == ModeDirect {
		listen := cfg.ListenAddrs
		if listen == nil {
			listen = []multiaddr.Multiaddr{
				multiaddr.StringCast("/ip4/0.0.0.0/tcp/0"),
				multiaddr.StringCast("/ip4/0.0.0.0/udp/0/quic-v1"),
				multiaddr.StringCast("/ip6/::/tcp/0"),
				multiaddr.StringCast("/ip6/::/udp/0/quic-v1"),
			}
		}
		if len(listen) > 0 {
			if err := h.Network().Listen(listen...); err != nil {
				return nil, errors.Join(fmt.Errorf("live: listen: %w", err), h.Close())
			}
		}
	}
	sub, err := h.EventBus().Subscribe(new(event.EvtLocalAddressesUpdated))
	if err != nil {
		return nil, errors.Join(fmt.Errorf("live: subscribe: %w", err), h.Close())
	}
	lh := &Host{
		h: h, key: [32]byte(raw), cfg: cfg, log: log, addrs: sub,
		chats:      map[[wire.HelloTagSize]byte]*Chat{},
		conns:      map[*Conn]struct{}{},
		relayAddrs: map[peer.ID][]multiaddr.Multiaddr{},
		changed:    make(chan struct{}, 1),
	}
	lh.life, lh.kill = context.WithCancel(context.Background())
	lh.wg.Go(lh.watchAddrs)
	lost := map[peer.ID]chan struct{}{}
	for _, ai := range cfg.Relays {
		lost[ai.ID] = make(chan struct{}, 1)
	}
	lh.notifiee = lh.relayNotifiee(lost)
	h.Network().Notify(lh.notifiee)
	for _, ai := range cfg.Relays {
		lh.wg.Add(1)
		go lh.keepReservation(ai, lost[ai.ID])
	}
	h.SetStreamHandler(ProtocolID, lh.handle)
	log.Info("live host started", "peer", h.ID(), "mode", cfg.Mode, "addrs", h.Addrs())
	return lh, nil
}

// watchAddrs turns address updates into AddrsChanged signals.
func (h *Host) watchAddrs() {
	for range h.addrs.Out() {
		h.signalChanged()
	}
}

// Close resets every stream, stops the host and waits for the package's
// goroutines. It is idempotent.
func (h *Host) Close() error {
	h.closeOnce.Do(func() {
		h.mu.Lock()
		h.closed = true
		conns := make([]*Conn, 0, len(h.conns))
		for c := range h.conns {
			conns = append(conns, c)
		}
		h.mu.Unlock()
		h.kill()
		h.h.RemoveStreamHandler(ProtocolID)
		h.h.Network().StopNotify(h.notifiee)
		for _, c := range conns {
			c.fail(ErrClosed)
		}
		var errs []error
		if err := h.addrs.Close(); err != nil {
			errs = append(errs, err)
		}
		if err := h.h.Close(); err != nil {
			errs = append(errs, fmt.Errorf("live: close host: %w", err))
		}
		h.wg.Wait()
		h.closeErr = errors.Join(errs...)
		h.log.Info("live host stopped", "peer", h.h.ID())
	})
	return h.closeErr
}

// ID returns the host's peer ID: what the friend sees, and nobody else
// should.
func (h *Host) ID() peer.ID { return h.h.ID() }

// PeerKey returns the Ed25519 public key behind ID.
func (h *Host) PeerKey() [32]byte { return h.key }

// AddrsChanged signals (coalesced) that the host's addresses changed,
// e.g. a relay reservation came or went: the engine then writes new
// announcements.
func (h *Host) AddrsChanged() <-chan struct{} { return h.changed }

// Addrs returns the addresses the host announces, in the order it
// announces them (public, then relay circuits, then private and
// loopback), filtered by its mode.
func (h *Host) Addrs() []multiaddr.Multiaddr {
	var public, relay, private []multiaddr.Multiaddr
	h.mu.Lock()
	for _, ai := range h.cfg.Relays { // in the configured order
		relay = append(relay, h.relayAddrs[ai.ID]...)
	}
	h.mu.Unlock()
	for _, a := range h.h.Addrs() {
		switch {
		case isCircuit(a), h.cfg.Mode == ModeRelayOnly:
		case manet.IsIPLoopback(a):
			if h.cfg.AnnounceLoopback {
				private = append(private, a)
			}
		case manet.IsIP6LinkLocal(a) || manet.IsIPUnspecified(a):
		case manet.IsPublicAddr(a):
			public = append(public, a)
		default:
			private = append(private, a)
		}
	}
	return slices.Concat(public, relay, private)
}

func isCircuit(a multiaddr.Multiaddr) bool {
	_, err := a.ValueForProtocol(multiaddr.P_CIRCUIT)
	return err == nil
}

// announcement returns the host's current announcement for direction d:
// as many of Addrs as fit.
func (h *Host) announcement(d wire.Direction) wire.Announcement {
	a := wire.Announcement{Dir: d, Expires: h.cfg.Now().Add(h.cfg.AnnounceTTL), PeerKey: h.key}
	room := wire.AnnouncementAddrRoom
	for _, m := range h.Addrs() {
		b := m.Bytes()
		if len(a.Addrs) == wire.MaxAnnouncedAddrs || len(b) > 255 || 1+len(b) > room {
			continue
		}
		a.Addrs = append(a.Addrs, b)
		room -= 1 + len(b)
	}
	return a
}

// Chat is a chat registered with a Host: the keys and direction the host
// needs to announce it, to dial the friend and to accept the friend's
// streams.
type Chat struct {
	h        *Host
	keys     *wire.Keys
	self     wire.Direction
	tag      [wire.HelloTagSize]byte // what the friend sends us
	incoming chan *Conn

	mu      sync.Mutex
	current *Conn
	removed bool
	gone    chan struct{} // closed by Remove: ends the follower

	// The follower (follow.go): the friend's latest announcement, how
	// often it changed, whether the follower runs, and its wake-up call.
	friend    wire.Announcement
	friendGen uint64
	following bool
	wake      chan struct{}
}

// AddChat registers a chat whose keys are keys and in which this client
// writes direction self. Streams for it are accepted from then on and
// arrive on [Chat.Conns].
func (h *Host) AddChat(keys *wire.Keys, self wire.Direction) (*Chat, error) {
	if self != wire.FromLo && self != wire.FromHi {
		return nil, fmt.Errorf("live: invalid direction %d", uint8(self))
	}
	c := &Chat{h: h, keys: keys, self: self, tag: keys.HelloTag(self.Other(), h.key), incoming: make(chan *Conn, 4),
		gone: make(chan struct{}), wake: make(chan struct{}, 1)}
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.closed {
		return nil, ErrClosed
	}
	if _, dup := h.chats[c.tag]; dup {
		return nil, fmt.Errorf("live: chat already registered")
	}
	h.chats[c.tag] = c
	return c, nil
}

// Remove unregisters the chat and closes its stream. It is idempotent.
func (c *Chat) Remove() {
	c.h.mu.Lock()
	if c.h.chats[c.tag] == c {
		delete(c.h.chats, c.tag)
	}
	c.h.mu.Unlock()
	c.mu.Lock()
	if !c.removed {
		close(c.gone)
	}
	c.removed = true
	cur := c.current
	c.mu.Unlock()
	if cur != nil {
		cur.fail(ErrClosed)
	}
}

// Announcement returns the chat's sealed announcement (552 bytes): what
// the engine writes under the metadata key "_l" of each slot 0 record,
// valid for Config.AnnounceTTL from now.
func (c *Chat) Announcement() ([]byte, error) {
	return c.keys.SealAnnouncement(c.self, c.h.announcement(c.self))
}

// Conns delivers each new stream of the chat that the caller did not get
// from Dial: those the friend opens, once their hellos checked out, and
// those Follow dials. A stream that replaces the current one (the friend
// restarted, or both dialled at once) arrives here too; the one it
// replaces ends with ErrReplaced.
func (c *Chat) Conns() <-chan *Conn { return c.incoming }

// Current returns the chat's open stream, or nil.
func (c *Chat) Current() *Conn {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.current != nil && c.current.Err() != nil {
		return nil
	}
	return c.current
}

// OpenFriendAnnouncement opens the friend's sealed announcement (from
// the "_l" entry of the friend's slot 0 record) and returns it. It does
// not check the expiry; Dial does.
func (c *Chat) OpenFriendAnnouncement(sealed []byte) (wire.Announcement, error) {
	return c.keys.OpenAnnouncement(c.self.Other(), sealed)
}

// Dial opens a stream to the friend's host as announced in friend, and
// returns it once both hellos checked out. If the chat already has an
// open stream to that peer, Dial returns it. Dial does not retry: the
// caller redials with backoff, and never an expired announcement.
func (c *Chat) Dial(ctx context.Context, friend wire.Announcement) (*Conn, error) {
	pid, now, err := c.friendPeer(friend)
	if err != nil {
		return nil, err
	}
	if cur := c.Current(); cur != nil && cur.remote == pid {
		cur.claimed.Store(true)
		return cur, nil
	}
	conn, err := c.dial(ctx, friend, pid, now)
	if err == nil {
		conn.claimed.Store(true)
	}
	return conn, err
}

// friendPeer checks that friend is the friend's announcement and not
// expired, and returns the peer ID it announces and the time it checked.
func (c *Chat) friendPeer(friend wire.Announcement) (peer.ID, time.Time, error) {
	now := c.h.cfg.Now()
	if friend.Dir != c.self.Other() || friend.ExpiredAt(now) {
		return "", now, fmt.Errorf("%w: expires %v", ErrExpired, friend.Expires)
	}
	pub, err := crypto.UnmarshalEd25519PublicKey(friend.PeerKey[:])
	if err != nil {
		return "", now, fmt.Errorf("live: friend's peer key: %w", err)
	}
	pid, err := peer.IDFromPublicKey(pub)
	if err != nil {
		return "", now, fmt.Errorf("live: friend's peer key: %w", err)
	}
	return pid, now, nil
}

// dialFor is Dial for the follower: it returns the stream only if nobody
// has been handed it yet (by Dial or on Conns), and marks it handed.
func (c *Chat) dialFor(ctx context.Context, friend wire.Announcement) (*Conn, error) {
	pid, now, err := c.friendPeer(friend)
	if err != nil {
		return nil, err
	}
	conn := c.Current()
	if conn == nil || conn.remote != pid {
		if conn, err = c.dial(ctx, friend, pid, now); err != nil {
			return nil, err
		}
	}
	if !conn.claimed.CompareAndSwap(false, true) {
		return nil, nil
	}
	return conn, nil
}

// dial opens a new stream to the friend, whatever streams the chat has.
func (c *Chat) dial(ctx context.Context, friend wire.Announcement, pid peer.ID, now time.Time) (*Conn, error) {
	var addrs []multiaddr.Multiaddr
	for _, b := range friend.Addrs {
		m, err := multiaddr.NewMultiaddrBytes(b)
		if err != nil {
			continue // a friend's client may know protocols we do not
		}
		if c.h.cfg.Mode == ModeRelayOnly && !isCircuit(m) {
			continue // dialling it would show the friend our address
		}
		addrs = append(addrs, m)
	}
	if len(addrs) == 0 {
		return nil, fmt.Errorf("%w: the friend announced no address this host may dial", ErrNotPermitted)
	}
	ttl := min(friend.Expires.Sub(now), maxAnnounceAhead)
	c.h.h.Peerstore().AddAddrs(pid, addrs, ttl)

	dctx, cancel := context.WithTimeout(ctx, c.h.cfg.HelloTimeout)
	defer cancel()
	// Relayed connections are "limited" in libp2p; the live path opts in.
	s, err := c.h.h.NewStream(network.WithAllowLimitedConn(dctx, "dhtchat live"), pid, ProtocolID)
	if err != nil {
		return nil, fmt.Errorf("live: dial %s: %w", pid, err)
	}
	conn, err := c.hello(dctx, s, friend.PeerKey)
	if errors.Is(err, ErrReplaced) {
		// The friend dialled at the same time and its stream won.
		s.Reset()
		if cur := c.Current(); cur != nil {
			return cur, nil
		}
	}
	if err != nil {
		s.Reset()
		return nil, err
	}
	return conn, nil
}
