// Package dht runs a libp2p host with the stock Amino (public IPFS) Kademlia
// DHT and puts and gets signed mutable records on it: standard IPNS records
// whose signed data carries an opaque payload.
//
// The package knows nothing about messages or encryption. A record is named by
// an Ed25519 public key, written by whoever holds the private key, and ordered
// by its sequence number; what the payload means is the caller's business.
//
// The DHT is used exactly as an unmodified IPFS node runs it: protocol prefix
// /ipfs, bucket size 20, and only the pk and ipns validators. That is what lets
// the public IPFS network store the records, and what lets a private network
// of "dhtchat node" servers be nothing more than peers that bootstrap from each
// other. StartLocalNetwork runs such a private network in-process on the
// loopback interface, for demos, benchmarks and tests (see package dhttest).
package dht

// This file is long because it is the Node's whole life (configuration,
// start, join, put, get, close), which shares one set of timeouts and
// one shutdown order.

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	"github.com/ipfs/go-datastore"
	dssync "github.com/ipfs/go-datastore/sync"
	"github.com/libp2p/go-libp2p"
	kad "github.com/libp2p/go-libp2p-kad-dht"
	"github.com/libp2p/go-libp2p-kad-dht/amino"
	pb "github.com/libp2p/go-libp2p-kad-dht/pb"
	"github.com/libp2p/go-libp2p-kad-dht/records"
	"github.com/libp2p/go-libp2p/core/crypto"
	"github.com/libp2p/go-libp2p/core/host"
	"github.com/libp2p/go-libp2p/core/peer"
	quic "github.com/libp2p/go-libp2p/p2p/transport/quic"
	"github.com/libp2p/go-libp2p/p2p/transport/tcp"
	"github.com/multiformats/go-multiaddr"
	manet "github.com/multiformats/go-multiaddr/net"
)

// Mode says whether a node answers DHT queries from other peers.
type Mode int

const (
	// ModeClient queries the DHT but neither stores records for others nor
	// advertises the DHT protocol. Chat clients run in this mode: they are
	// usually behind NAT and come and go, and the DHT must not route through
	// peers that cannot be dialled.
	ModeClient Mode = iota
	// ModeServer answers queries and stores other peers' records. The
	// "dhtchat node" daemon and test networks use it. (kad-dht's ModeAuto is
	// deliberately not offered: it only becomes a server once libp2p has
	// measured public reachability, which never happens on loopback.)
	ModeServer
)

// String returns "client" or "server".
func (m Mode) String() string {
	switch m {
	case ModeClient:
		return "client"
	case ModeServer:
		return "server"
	default:
		return fmt.Sprintf("Mode(%d)", int(m))
	}
}

func (m Mode) kad() (kad.ModeOpt, error) {
	switch m {
	case ModeClient:
		return kad.ModeClient, nil
	case ModeServer:
		return kad.ModeServer, nil
	default:
		return 0, fmt.Errorf("dht: unknown mode %d", int(m))
	}
}

// Config configures a Node. The zero value is a DHT client with a fresh
// identity, listening on all interfaces and bootstrapping from the public IPFS
// bootstrap peers.
type Config struct {
	// ListenAddrs are the libp2p listen multiaddrs. Nil means TCP and QUIC on
	// every IPv4 and IPv6 interface with random ports (DefaultListenAddrs).
	ListenAddrs []multiaddr.Multiaddr
	// Bootstrap are the peers Connect dials, and the peers the DHT falls back
	// to whenever its routing table runs empty. Nil means
	// DefaultBootstrapPeers (the public IPFS network); a non-nil empty slice
	// means none, for the first server of a private network.
	//
	// It also says whether the node is on a local network: with no
	// bootstrap peers, or one at a loopback or private address, it
	// advertises all its addresses; otherwise (the public DHT) it does not
	// advertise its private, LAN and loopback addresses to other peers.
	Bootstrap []peer.AddrInfo
	// Mode is ModeClient (the zero value) or ModeServer.
	Mode Mode
	// Identity is the libp2p key, which fixes the node's peer ID. Nil means a
	// fresh Ed25519 key; see LoadOrCreateIdentity for one that persists.
	Identity crypto.PrivKey
	// Datastore, if set, holds the DHT's records (see OpenDatastore), so that
	// a server keeps what it stored across restarts. Nil means in memory. The
	// Node does not close it: close it after Node.Close returns.
	Datastore datastore.Batching
	// Logger receives the node's own log lines. Nil discards them. (The
	// libraries underneath log elsewhere; see RouteLibraryLogs.)
	Logger *slog.Logger
	// Timeouts bound the node's network operations. Zero fields take
	// their DefaultTimeouts value.
	Timeouts Timeouts
}

// Timeouts bound a Node's network operations, so that each ends even if
// the caller's context does not; a caller's earlier deadline always wins.
// The defaults suit the public DHT on an ordinary machine. Raise them for
// a very slow link, or for tests on a loaded machine (LocalTimeouts): a
// peer that refuses a connection fails at once whatever the timeout, so
// only a peer that is slow or silent waits longer.
type Timeouts struct {
	// Dial bounds the dial phase of Connect: for all bootstrap peers in
	// parallel, the connection, its security and muxer handshakes and
	// libp2p's identify exchange. (Identify has its own fixed bound of
	// 5 s, identify.DefaultTimeout, once the connection is up; a shorter
	// Dial cuts it off with "identify failed to complete".)
	Dial time.Duration
	// RoutingTable bounds how long Connect waits, after its first
	// successful dial, for a DHT server to enter the routing table
	// (identify plus one FIND_NODE round trip; a few hundred milliseconds
	// on the public DHT).
	RoutingTable time.Duration
	// Put bounds Put: a lookup of the 20 peers closest to the name followed
	// by one PUT_VALUE to each, in parallel. On loopback it takes
	// milliseconds; on the public DHT seconds, with tails near 30 s, and a
	// deadline hit during the lookup fails the Put, so it is generous. It
	// also bounds the PUT_VALUEs that Put leaves running in the background.
	Put time.Duration
	// Get is Get's bound. When it expires after
	// some record was found, Get returns the best one found.
	Get time.Duration
	// Slow is how long a lookup or a Put waits for peers slower than the
	// rest. Once ten peers (half of a bucket) answered, and then no peer
	// answered for Slow (or for twice the slowest answer so far, if that
	// is longer), the peers still silent are left behind: the lookup ends
	// with what it found, and Put returns, its PUT_VALUEs going on in the
	// background. In a network of fewer than ten servers every answer is
	// waited for.
	// A peer that vanished without closing its connections (a host gone,
	// the usual way of leaving the public DHT) never answers, and would
	// otherwise hold each call for kad-dht's own 10 s request timeout.
	Slow time.Duration
}

// DefaultTimeouts returns the Timeouts a Node uses for the fields left
// zero: Dial 5 s, RoutingTable 5 s, Put 60 s, Get 30 s, Slow 1 s.
func DefaultTimeouts() Timeouts {
	return Timeouts{
		Dial:         5 * time.Second,
		RoutingTable: 5 * time.Second,
		Put:          60 * time.Second,
		Get:          30 * time.Second,
		Slow:         time.Second,
	}
}

// orDefault returns t with each zero or negative field replaced by its
// default.
func (t Timeouts) orDefault() Timeouts {
	d := DefaultTimeouts()
	pick := func(v, def time.Duration) time.Duration {
		if v > 0 {
			return v
		}
		return def
	}
	return Timeouts{
		Dial:         pick(t.Dial, d.Dial),
		RoutingTable: pick(t.RoutingTable, d.RoutingTable),
		Put:          pick(t.Put, d.Put),
		Get:          pick(t.Get, d.Get),
		Slow:         pick(t.Slow, d.Slow),
	}
}

// rtPollInterval is how often Connect looks at the routing table while it
// waits for it to fill: kad-dht offers no event for that.
const rtPollInterval = 10 * time.Millisecond

// bucketSize is the Amino DHT's k: the size of a routing-table bucket and
// the number of peers a record is written to.
const bucketSize = amino.DefaultBucketSize

// userAgent is sent in identify. It is go-libp2p's own generic default rather
// than the one go-libp2p derives from the main module's path, which would be
// "github.com/dhtchat/dhtchat@<version>": peers on the public DHT have no need
// to learn which addresses run dhtchat.
const userAgent = "github.com/libp2p/go-libp2p"

// Errors returned by Node methods. They are wrapped with detail; test with
// errors.Is.
var (
	// ErrNoPeers means no DHT peer could be reached.
	ErrNoPeers = errors.New("dht: no reachable DHT peers")
	// ErrClosed means the Node was closed.
	ErrClosed = errors.New("dht: node closed")
)

// Node is a libp2p host running the Amino DHT. Its methods are safe for
// concurrent use.
type Node struct {
	host host.Host
	kad  *kad.IpfsDHT
	// values is a second view of kad-dht's value store, over the same
	// datastore: Put writes there what kad-dht's own PutValue would
	// have. pm sends PUT_VALUE through kad-dht's streams.
	values *records.ValueStore
	pm     *pb.ProtocolMessenger
	mode   Mode
	log    *slog.Logger
	// timeouts has every field set (Config.Timeouts.orDefault).
	timeouts Timeouts

	// bootstrap is the peer list of Connect and of kad-dht's low-peers
	// fallback. It only changes inside this package, when StartLocalNetwork
	// tells each server about the others it started after it.
	bootstrap atomic.Pointer[[]peer.AddrInfo]

	stats counters

	// life is cancelled by Close; every call in flight derives its context
	// from it as well as from the caller's, so Close can end them and wait.
	life   context.Context
	kill   context.CancelFunc
	mu     sync.Mutex // guards closed and ops.Add
	closed bool
	ops    sync.WaitGroup

	closeOnce sync.Once
	closeErr  error
}

// DefaultListenAddrs returns the listen multiaddrs used when
// Config.ListenAddrs is nil: TCP and QUIC v1 on all IPv4 and IPv6 interfaces,
// random ports. Listening fails only if none of them can be bound.
func DefaultListenAddrs() []multiaddr.Multiaddr {
	return []multiaddr.Multiaddr{
		multiaddr.StringCast("/ip4/0.0.0.0/tcp/0"),
		multiaddr.StringCast("/ip4/0.0.0.0/udp/0/quic-v1"),
		multiaddr.StringCast("/ip6/::/tcp/0"),
		multiaddr.StringCast("/ip6/::/udp/0/quic-v1"),
	}
}

// DefaultBootstrapPeers returns the public IPFS bootstrap peers, as kad-dht
// lists them.
func DefaultBootstrapPeers() []peer.AddrInfo {
	return kad.GetDefaultBootstrapPeerAddrInfos()
}

// New starts a libp2p host and a DHT on it. It listens at once but does not
// dial anyone in the foreground; call Connect. (The DHT itself dials the
// bootstrap peers in the background whenever its routing table is empty.)
// If New fails, nothing it started is left running.
func New(ctx context.Context, cfg Config) (*Node, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	mode, err := cfg.Mode.kad()
	if err != nil {
		return nil, err
	}
	log := cfg.Logger
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	listen := cfg.ListenAddrs
	if listen == nil {
		listen = DefaultListenAddrs()
	}
	bootstrap := cfg.Bootstrap
	if bootstrap == nil {
		bootstrap = DefaultBootstrapPeers()
	}
	bootstrap = slices.Clone(bootstrap)
	// n is filled in below; the host's address filter reads its
	// bootstrap list, which is set before the host can identify to anyone.
	n := &Node{mode: cfg.Mode, log: log, timeouts: cfg.Timeouts.orDefault()}
	n.bootstrap.Store(&bootstrap)
	id := cfg.Identity
	if id == nil {
		if id, _, err = crypto.GenerateEd25519Key(nil); err != nil {
			return nil, fmt.Errorf("dht: generate identity: %w", err)
		}
	}

	h, err := libp2p.New(
		libp2p.Identity(id),
		// Listening comes after the host is up: when libp2p.New itself
		// fails to listen it leaves the half-built host's goroutines
		// running (go-libp2p v0.51.0), whereas a failed Listen below can
		// be cleaned up with Close.
		libp2p.NoListenAddrs,
		// TCP and QUIC only: the transports every DHT server speaks. The
		// browser transports (WebSocket, WebTransport, WebRTC) would only
		// add listeners and attack surface.
		libp2p.Transport(tcp.NewTCPTransport),
		libp2p.Transport(quic.NewTransport),
		libp2p.UserAgent(userAgent),
		libp2p.AddrsFactory(n.advertised),
		// Nothing scrapes metrics, and they would go to the process-wide
		// Prometheus registry shared by every Node in the process.
		libp2p.DisableMetrics(),
		// The resource manager is left at its default (a fixed limiter
		// auto-scaled to the machine): it caps connections at 8 per IPv4
		// address but exempts loopback, so local networks need no tuning.
	)
	if err != nil {
		return nil, fmt.Errorf("dht: start libp2p host: %w", err)
	}
	if len(listen) > 0 {
		if err := h.Network().Listen(listen...); err != nil {
			return nil, errors.Join(fmt.Errorf("dht: listen: %w", err), h.Close())
		}
	}

	opts := []kad.Option{
		kad.Mode(mode),
		// Everything else stays at the Amino defaults (protocol prefix
		// /ipfs, bucket size 20, pk and ipns validators): kad-dht rejects
		// any other validator set under /ipfs, and so would the network.
	}
	// The datastore is always ours, so that Put can store its own
	// records where kad-dht's value store finds them.
	store := cfg.Datastore
	if store == nil {
		store = dssync.MutexWrap(datastore.NewMapDatastore())
	}
	opts = append(opts, kad.Datastore(store))
	n.host = h
	opts = append(opts, kad.BootstrapPeersFunc(n.bootstrapPeers))
	d, err := kad.New(h, opts...)
	if err != nil {
		return nil, errors.Join(fmt.Errorf("dht: start kad-dht: %w", err), h.Close())
	}
	n.kad = d
	n.values = records.NewValueStore(store, d.Validator, amino.DefaultMaxRecordAge)
	if n.pm, err = pb.NewProtocolMessenger(d.MessageSender()); err != nil {
		return nil, errors.Join(fmt.Errorf("dht: start kad-dht: %w", err), d.Close(), h.Close())
	}
	n.life, n.kill = context.WithCancel(context.Background())
	log.Info("dht node started", "peer", h.ID(), "mode", cfg.Mode, "addrs", h.Addrs())
	return n, nil
}

// Close stops the node: it cancels the Connect, Put and Get calls in flight
// (they return errors wrapping ErrClosed) and waits for them, then stops the
// DHT and the host and waits for their goroutines. It returns their errors
// joined. It is idempotent: later calls return the first call's result.
// A datastore given in Config can be closed once Close has returned.
func (n *Node) Close() error {
	n.closeOnce.Do(func() {
		n.mu.Lock()
		n.closed = true
		n.mu.Unlock()
		n.kill()
		n.ops.Wait()
		// The DHT first, so its loops stop using the host; then the host,
		// which ends the stream handlers still reading the datastore.
		var errs []error
		if err := n.kad.Close(); err != nil {
			errs = append(errs, fmt.Errorf("dht: close kad-dht: %w", err))
		}
		if err := n.host.Close(); err != nil {
			errs = append(errs, fmt.Errorf("dht: close host: %w", err))
		}
		n.closeErr = errors.Join(errs...)
		n.log.Info("dht node stopped", "peer", n.host.ID())
	})
	return n.closeErr
}

// advertised is the host's AddrsFactory: the addresses it tells other
// peers in identify (and so the ones DHT peers pass on to anyone who
// looks this node up). On the public network it drops private, LAN and
// loopback addresses (10/8, 192.168/16, 127/8, fc00::/7, link-local, …):
// they are of no use to a peer elsewhere and tell every DHT server what
// the local network looks like. On a local network they are the only
// addresses there are, so they are kept. (The live path offers private
// addresses only to the friend, inside its sealed announcement.)
func (n *Node) advertised(addrs []multiaddr.Multiaddr) []multiaddr.Multiaddr {
	if onLocalNetwork(n.bootstrapPeers()) {
		return addrs
	}
	return slices.DeleteFunc(slices.Clone(addrs), manet.IsPrivateAddr)
}

// onLocalNetwork reports whether a node with these bootstrap peers is on a
// local network: none at all (the first server of a private network), or
// one of them at a loopback or private address (a LocalNetwork, a LAN of
// dhtchat nodes). A list of public addresses, the default, is the public
// DHT.
func onLocalNetwork(bootstrap []peer.AddrInfo) bool {
	if len(bootstrap) == 0 {
		return true
	}
	for _, ai := range bootstrap {
		if slices.ContainsFunc(ai.Addrs, manet.IsPrivateAddr) {
			return true
		}
	}
	return false
}

// allAddrs returns every address the host listens on, before the
// AddrsFactory: what the node's operator can give to clients, including
// the LAN addresses the node does not advertise on the public network.
func (n *Node) allAddrs() []multiaddr.Multiaddr {
	if h, ok := n.host.(interface{ AllAddrs() []multiaddr.Multiaddr }); ok {
		return h.AllAddrs()
	}
	return n.host.Addrs()
}

// Addrs returns the node's listen addresses as full multiaddrs ending in
// /p2p/<peer id>, the form Config.Bootstrap and ParseBootstrap take. They
// include the private and loopback addresses that the node does not
// advertise to peers on the public network (see Config.Bootstrap).
func (n *Node) Addrs() []multiaddr.Multiaddr {
	addrs, err := peer.AddrInfoToP2pAddrs(&peer.AddrInfo{ID: n.host.ID(), Addrs: n.allAddrs()})
	if err != nil {
		// Only possible for an invalid peer ID, and ours is valid.
		n.log.Error("dht: build p2p addrs", "err", err)
		return nil
	}
	return addrs
}

// AddrInfo returns the node's peer ID and listen addresses (all of them,
// as Addrs), as another node's Config.Bootstrap takes them.
func (n *Node) AddrInfo() peer.AddrInfo {
	return peer.AddrInfo{ID: n.host.ID(), Addrs: n.allAddrs()}
}

// PeerCount returns the number of peers in the DHT routing table: the DHT
// servers this node knows and can route through. Zero means offline.
func (n *Node) PeerCount() int { return n.kad.RoutingTable().Size() }

// ConnectedPeers returns the number of peers the host has connections with,
// DHT servers or not.
func (n *Node) ConnectedPeers() int { return len(n.host.Network().Peers()) }

// Connect dials the bootstrap peers, in parallel, and returns as soon as
// one DHT server is in the routing table: a node with one routing-table
// peer can look up any name, which is all that a Put or a Get needs. The
// dials still in progress go on in the background (each within
// Timeouts.Dial), and so does the routing-table refresh that Connect
// starts, which fills the table with the peers close to this node.
//
// It returns an error wrapping ErrNoPeers, with each peer's failure, if no
// bootstrap peer is reachable within Timeouts.Dial, if none of those reached
// joins the routing table within Timeouts.RoutingTable of the first dial that
// worked, or if there are no bootstrap peers besides this node itself. It may
// be called again, e.g. after the network came back.
func (n *Node) Connect(ctx context.Context) error {
	ctx, done, err := n.begin(ctx)
	if err != nil {
		return err
	}
	defer done()
	err = n.connect(ctx)
	if err != nil && n.isClosing(ctx) {
		return fmt.Errorf("dht: connect: %w", ErrClosed)
	}
	return err
}

func (n *Node) connect(ctx context.Context) error {
	start := time.Now()
	peers := slices.DeleteFunc(slices.Clone(n.bootstrapPeers()), func(ai peer.AddrInfo) bool {
		return ai.ID == n.host.ID()
	})
	if len(peers) == 0 {
		return fmt.Errorf("%w: no bootstrap peers configured", ErrNoPeers)
	}

	// The dials outlive this call when a first peer is enough: they run
	// in the background, bounded by Timeouts.Dial and ended by Close.
	results := make(chan error, len(peers))
	for _, ai := range peers {
		n.background(n.timeouts.Dial, func(ctx context.Context) {
			err := n.host.Connect(ctx, ai)
			if err != nil {
				err = fmt.Errorf("%s: %w", ai.ID, err)
			}
			results <- err
		})
	}

	// A connection is not yet a routing-table entry: kad-dht adds a peer
	// once identify says it speaks the DHT protocol and it answered one
	// FIND_NODE. Poll, since kad-dht offers no event for it.
	tick := time.NewTicker(rtPollInterval)
	defer tick.Stop()
	var (
		errs     []error
		reached  int
		rtExpiry <-chan time.Time // set once a dial worked
	)
	for n.PeerCount() == 0 {
		select {
		case <-ctx.Done():
			return ctx.Err()
		case err := <-results:
			if err != nil {
				errs = append(errs, err)
			} else if reached++; rtExpiry == nil {
				t := time.NewTimer(n.timeouts.RoutingTable)
				defer t.Stop()
				rtExpiry = t.C
			}
			if len(errs) == len(peers) {
				return fmt.Errorf("%w: none of %d bootstrap peers answered within %v: %w",
					ErrNoPeers, len(peers), n.timeouts.Dial, errors.Join(errs...))
			}
		case <-rtExpiry:
			if n.PeerCount() > 0 {
				break
			}
			return fmt.Errorf("%w: reached %d of %d bootstrap peers, but none joined the routing table within %v: %w",
				ErrNoPeers, reached, len(peers), n.timeouts.RoutingTable, context.DeadlineExceeded)
		case <-tick.C:
		}
	}

	// The refresh runs in kad-dht's own goroutines, which its Close
	// stops; its result channel is buffered and may be ignored.
	n.kad.RefreshRoutingTable()
	n.log.Info("connected to the DHT", "bootstrap_reached", reached, "routing_table", n.PeerCount(),
		"took", time.Since(start).Round(time.Millisecond))
	return nil
}

// Refresh refreshes the routing table, as Connect does in the
// background, and waits until the refresh is done or ctx is: it looks up
// this node's own ID and a random ID in each bucket, filling the table
// with the peers close to this node. A long-running server calls it to
// hold a full table early; a node that only reads and writes records does
// not need it. A refresh whose lookups partly failed still leaves a
// usable table: that is logged, not returned. It returns ctx's error, or
// ErrClosed.
func (n *Node) Refresh(ctx context.Context) error {
	ctx, done, err := n.begin(ctx)
	if err != nil {
		return err
	}
	defer done()
	select {
	case err := <-n.kad.RefreshRoutingTable():
		if err != nil {
			n.log.Debug("routing table refresh incomplete", "err", err)
		}
		return nil
	case <-ctx.Done():
		if n.isClosing(ctx) {
			return fmt.Errorf("dht: refresh: %w", ErrClosed)
		}
		return ctx.Err()
	}
}

// background runs f in a goroutine that Close cancels and waits for, with
// a context that expires after d. It must be called from a call in flight
// (between begin and its done), so that Close cannot have started waiting.
func (n *Node) background(d time.Duration, f func(ctx context.Context)) {
	n.ops.Add(1)
	go func() {
		defer n.ops.Done()
		ctx, cancel := context.WithTimeout(n.life, d)
		defer cancel()
		f(ctx)
	}()
}

// bootstrapPeers returns the current bootstrap list. kad-dht calls it too,
// whenever its routing table runs empty.
func (n *Node) bootstrapPeers() []peer.AddrInfo { return *n.bootstrap.Load() }

// setBootstrap replaces the bootstrap list.
func (n *Node) setBootstrap(peers []peer.AddrInfo) {
	peers = slices.Clone(peers)
	n.bootstrap.Store(&peers)
}

// begin registers a call in flight, so that Close can cancel it and wait for
// it. The returned context is done when ctx is or when Close starts; done
// must be called when the call returns.
func (n *Node) begin(ctx context.Context) (_ context.Context, done func(), _ error) {
	n.mu.Lock()
	defer n.mu.Unlock()
	if n.closed {
		return nil, nil, ErrClosed
	}
	n.ops.Add(1)
	ctx, cancel := context.WithCancelCause(ctx)
	stop := context.AfterFunc(n.life, func() { cancel(ErrClosed) })
	return ctx, func() {
		stop()
		cancel(nil)
		n.ops.Done()
	}, nil
}

// isClosing reports whether ctx, from begin, was cancelled by Close.
func (n *Node) isClosing(ctx context.Context) bool {
	return errors.Is(context.Cause(ctx), ErrClosed)
}

// Stats are counts of a Node's Put and Get calls since it started, for
// benchmarks and status lines.
type Stats struct {
	// Puts is the number of Put calls; PutFailures, of those that
	// returned an error.
	Puts, PutFailures uint64
	// Gets is the number of Get calls; GetFailures, of those that returned
	// an error, including ErrNotFound; GetNotFound, of those whose error
	// wraps ErrNotFound.
	Gets, GetFailures, GetNotFound uint64
}

type counters struct {
	puts, putFailures, gets, getFailures, getNotFound atomic.Uint64
}

// Stats returns the node's request counters. Each is read atomically; the
// set is not a consistent snapshot while calls are in flight.
func (n *Node) Stats() Stats {
	return Stats{
		Puts:        n.stats.puts.Load(),
		PutFailures: n.stats.putFailures.Load(),
		Gets:        n.stats.gets.Load(),
		GetFailures: n.stats.getFailures.Load(),
		GetNotFound: n.stats.getNotFound.Load(),
	}
}
