package dht_test

import (
	"bytes"
	"context"
	"crypto/ed25519"
	"crypto/rand"
	"errors"
	"io"
	"net"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/dhtchat/dhtchat/dht"
	"github.com/dhtchat/dhtchat/dht/dhttest"
	"github.com/dhtchat/dhtchat/internal/testwait"
	"github.com/libp2p/go-libp2p/core/crypto"
	"github.com/libp2p/go-libp2p/core/peer"
	"github.com/multiformats/go-multiaddr"
)

// loopback is the listen address of every node the tests start themselves.
var loopback = []multiaddr.Multiaddr{multiaddr.StringCast(dht.LocalListenAddr)}

func newKey(t testing.TB) (ed25519.PublicKey, ed25519.PrivateKey) {
	t.Helper()
	pub, priv, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	return pub, priv
}

// newNode starts a node on loopback with cfg (ListenAddrs and Bootstrap
// filled in when nil, never the public network; Timeouts, when zero, are
// dht.LocalTimeouts) and closes it at cleanup.
func newNode(t testing.TB, cfg dht.Config) *dht.Node {
	t.Helper()
	if cfg.ListenAddrs == nil {
		cfg.ListenAddrs = loopback
	}
	if cfg.Bootstrap == nil {
		cfg.Bootstrap = []peer.AddrInfo{}
	}
	if cfg.Timeouts == (dht.Timeouts{}) {
		cfg.Timeouts = dht.LocalTimeouts()
	}
	n, err := dht.New(t.Context(), cfg)
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	t.Cleanup(func() {
		if err := n.Close(); err != nil {
			t.Errorf("Close: %v", err)
		}
	})
	return n
}

func TestPutGet(t *testing.T) {
	net := dhttest.NewNetwork(t, 10)
	alice := dhttest.NewClient(t, net)
	bob := dhttest.NewClient(t, net)
	ctx := t.Context()
	pub, priv := newKey(t)

	if alice.Mode() != dht.ModeClient || net.Servers()[0].Mode() != dht.ModeServer {
		t.Fatalf("modes: client %v, server %v", alice.Mode(), net.Servers()[0].Mode())
	}
	for _, s := range net.Servers() {
		if got := s.PeerCount(); got != 9 {
			t.Errorf("server %s routing table has %d peers, want 9", s.ID(), got)
		}
	}

	if _, err := bob.Get(ctx, pub); !errors.Is(err, dht.ErrNotFound) {
		t.Fatalf("Get before any Put: err = %v, want ErrNotFound", err)
	}

	payload := []byte("hello, bob")
	if err := alice.Put(ctx, priv, 1, payload); err != nil {
		t.Fatalf("Put: %v", err)
	}
	rec, err := bob.Get(ctx, pub)
	if err != nil {
		t.Fatalf("Get: %v", err)
	}
	if rec.Seq != 1 || !bytes.Equal(rec.Payload, payload) {
		t.Fatalf("Get = seq %d %q, want seq 1 %q", rec.Seq, rec.Payload, payload)
	}
	if d := time.Until(rec.EOL); d < dht.RecordLifetime-time.Minute || d > dht.RecordLifetime {
		t.Errorf("EOL in %v, want about %v", d, dht.RecordLifetime)
	}

	// A higher sequence number replaces the record everywhere.
	if err := alice.Put(ctx, priv, 2, []byte("second")); err != nil {
		t.Fatalf("Put seq 2: %v", err)
	}
	rec, err = bob.Get(ctx, pub, dht.WithQuorum(0))
	if err != nil || rec.Seq != 2 || string(rec.Payload) != "second" {
		t.Fatalf("Get after seq 2 = %d %q, %v; want 2 \"second\"", rec.Seq, rec.Payload, err)
	}

	// A lower one from a node that never saw seq 2 changes nothing: the
	// servers keep the higher one.
	carol := dhttest.NewClient(t, net)
	if err := carol.Put(ctx, priv, 1, []byte("stale")); err != nil {
		t.Fatalf("Put of stale seq 1 from another node: %v", err)
	}
	rec, err = bob.Get(ctx, pub, dht.WithQuorum(0))
	if err != nil || rec.Seq != 2 {
		t.Fatalf("Get after stale put = seq %d, %v; want 2", rec.Seq, err)
	}
	// The node holding seq 2 refuses to go back.
	if err := alice.Put(ctx, priv, 1, []byte("stale")); err == nil {
		t.Fatal("Put of seq 1 after seq 2 on the same node succeeded")
	}

	// Empty payloads are payloads.
	pub2, priv2 := newKey(t)
	if err := alice.Put(ctx, priv2, 0, nil); err != nil {
		t.Fatalf("Put empty: %v", err)
	}
	if rec, err := bob.Get(ctx, pub2); err != nil || len(rec.Payload) != 0 {
		t.Fatalf("Get empty = %q, %v", rec.Payload, err)
	}

	if got, want := alice.Stats(), (dht.Stats{Puts: 4, PutFailures: 1}); got != want {
		t.Errorf("alice.Stats() = %+v, want %+v", got, want)
	}
	if got, want := bob.Stats(), (dht.Stats{Gets: 5, GetFailures: 1, GetNotFound: 1}); got != want {
		t.Errorf("bob.Stats() = %+v, want %+v", got, want)
	}
}

func TestMaxPayloadOverNetwork(t *testing.T) {
	net := dhttest.NewNetwork(t, 4)
	a := dhttest.NewClient(t, net)
	b := dhttest.NewClient(t, net)
	pub, priv := newKey(t)

	big := bytes.Repeat([]byte{0xa5}, dht.MaxPayload+1)
	err := a.Put(t.Context(), priv, dht.MaxSeq, big)
	if !errors.Is(err, dht.ErrTooLarge) {
		t.Fatalf("Put(MaxPayload+1) = %v, want ErrTooLarge", err)
	}
	if err := a.Put(t.Context(), priv, dht.MaxSeq, big[:dht.MaxPayload]); err != nil {
		t.Fatalf("Put(MaxPayload) at MaxSeq: %v", err)
	}
	rec, err := b.Get(t.Context(), pub)
	if err != nil {
		t.Fatalf("Get: %v", err)
	}
	if rec.Seq != dht.MaxSeq || !bytes.Equal(rec.Payload, big[:dht.MaxPayload]) {
		t.Fatalf("Get = seq %d, %d bytes; want seq %d, %d bytes", rec.Seq, len(rec.Payload), uint64(dht.MaxSeq), dht.MaxPayload)
	}
}

func TestBadKeys(t *testing.T) {
	n := newNode(t, dht.Config{})
	if err := n.Put(t.Context(), ed25519.PrivateKey{1, 2, 3}, 1, nil); !errors.Is(err, dht.ErrInvalidKey) {
		t.Errorf("Put with short key: err = %v, want ErrInvalidKey", err)
	}
	if _, err := n.Get(t.Context(), ed25519.PublicKey{1, 2, 3}); !errors.Is(err, dht.ErrInvalidKey) {
		t.Errorf("Get with short key: err = %v, want ErrInvalidKey", err)
	}
	_, priv := newKey(t)
	if err := n.Put(t.Context(), priv, uint64(dht.MaxSeq)+1, nil); err == nil {
		t.Error("Put with seq MaxSeq+1 succeeded")
	}
}

// A node with no peers says so, rather than "not found".
func TestOffline(t *testing.T) {
	n := newNode(t, dht.Config{})
	pub, priv := newKey(t)
	if err := n.Put(t.Context(), priv, 1, []byte("x")); !errors.Is(err, dht.ErrNoPeers) {
		t.Errorf("Put offline: err = %v, want ErrNoPeers", err)
	}
	other, _ := newKey(t)
	if _, err := n.Get(t.Context(), other); !errors.Is(err, dht.ErrNoPeers) {
		t.Errorf("Get offline: err = %v, want ErrNoPeers", err)
	}
	// Its own record it has: Put stores locally before it looks for peers.
	if rec, err := n.Get(t.Context(), pub); err != nil || rec.Seq != 1 {
		t.Errorf("Get own record offline = seq %d, %v", rec.Seq, err)
	}
}

func TestConnectNoPeers(t *testing.T) {
	// A bootstrap peer that accepts TCP connections and closes them at once:
	// reachable, but never a libp2p peer.
	closing := tcpPeer(t, func(c net.Conn) { c.Close() })
	selfKey, selfID := newPeerKey(t)
	for _, tc := range []struct {
		name string
		cfg  dht.Config
	}{
		{"accept and close", dht.Config{Bootstrap: []peer.AddrInfo{closing}}},
		{"none", dht.Config{Bootstrap: []peer.AddrInfo{}}},
		{"only itself", dht.Config{Identity: selfKey, Bootstrap: []peer.AddrInfo{{ID: selfID, Addrs: loopback}}}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			n := newNode(t, tc.cfg)
			err := n.Connect(t.Context())
			if !errors.Is(err, dht.ErrNoPeers) {
				t.Fatalf("Connect = %v, want ErrNoPeers", err)
			}
			t.Logf("Connect failed: %v", err)
		})
	}
}

// TestConnectTimeouts: Connect gives up on a peer that never answers after
// Timeouts.Dial, and on peers that are no DHT servers after
// Timeouts.RoutingTable, and says which bound it hit. (No clock is read: a
// Connect that ignored them would wait for the defaults and say so.)
func TestConnectTimeouts(t *testing.T) {
	t.Run("dial", func(t *testing.T) {
		// Accepts TCP connections and never says a word: the security
		// handshake waits until the dial deadline.
		silent := tcpPeer(t, func(c net.Conn) {
			io.Copy(io.Discard, c)
			c.Close()
		})
		n := newNode(t, dht.Config{
			Bootstrap: []peer.AddrInfo{silent},
			Timeouts:  dht.Timeouts{Dial: 200 * time.Millisecond},
		})
		err := n.Connect(t.Context())
		if !errors.Is(err, dht.ErrNoPeers) || !errors.Is(err, context.DeadlineExceeded) ||
			!strings.Contains(err.Error(), "answered within 200ms") {
			t.Fatalf("Connect to a silent peer = %v, want ErrNoPeers: none answered within 200ms, DeadlineExceeded", err)
		}
	})
	t.Run("routing table", func(t *testing.T) {
		// A DHT client is a libp2p peer that a dial reaches, but never a
		// routing-table entry.
		client := newNode(t, dht.Config{})
		n := newNode(t, dht.Config{
			Bootstrap: []peer.AddrInfo{client.AddrInfo()},
			Timeouts:  dht.Timeouts{RoutingTable: 200 * time.Millisecond},
		})
		err := n.Connect(t.Context())
		if !errors.Is(err, dht.ErrNoPeers) || !errors.Is(err, context.DeadlineExceeded) ||
			!strings.Contains(err.Error(), "none joined the routing table within 200ms") {
			t.Fatalf("Connect to a DHT client = %v, want ErrNoPeers: none joined the routing table within 200ms, DeadlineExceeded", err)
		}
	})
}

func TestDefaultTimeouts(t *testing.T) {
	want := dht.Timeouts{Dial: 5 * time.Second, RoutingTable: 5 * time.Second,
		Put: 60 * time.Second, Get: 30 * time.Second, Slow: time.Second}
	if got := dht.DefaultTimeouts(); got != want {
		t.Errorf("DefaultTimeouts() = %+v, want %+v", got, want)
	}
	if got := dht.LocalTimeouts(); got.Dial < want.Dial || got.RoutingTable < want.RoutingTable ||
		got.Put < want.Put || got.Get < want.Get || got.Slow < want.Slow {
		t.Errorf("LocalTimeouts() = %+v, shorter than the defaults %+v", got, want)
	}
}

// tcpPeer listens on loopback and hands each connection to serve, in its
// own goroutine; it returns the listener as a bootstrap peer with a peer
// ID of no one. Everything stops when the test ends.
func tcpPeer(t *testing.T, serve func(net.Conn)) peer.AddrInfo {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	var (
		wg     sync.WaitGroup
		mu     sync.Mutex // guards conns and closed
		conns  []net.Conn
		closed bool
	)
	wg.Go(func() {
		for {
			c, err := l.Accept()
			if err != nil {
				return
			}
			mu.Lock()
			if closed {
				mu.Unlock()
				c.Close()
				continue
			}
			conns = append(conns, c)
			mu.Unlock()
			wg.Go(func() { serve(c) })
		}
	})
	t.Cleanup(func() {
		mu.Lock()
		closed = true
		for _, c := range conns {
			c.Close()
		}
		mu.Unlock()
		l.Close()
		wg.Wait()
	})
	addr, err := multiaddr.NewMultiaddr("/ip4/127.0.0.1/tcp/" + strconv.Itoa(l.Addr().(*net.TCPAddr).Port))
	if err != nil {
		t.Fatal(err)
	}
	_, id := newPeerKey(t)
	return peer.AddrInfo{ID: id, Addrs: []multiaddr.Multiaddr{addr}}
}

// newPeerKey returns a fresh libp2p identity and its peer ID.
func newPeerKey(t *testing.T) (crypto.PrivKey, peer.ID) {
	t.Helper()
	sk, _, err := crypto.GenerateEd25519Key(rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	id, err := peer.IDFromPrivateKey(sk)
	if err != nil {
		t.Fatal(err)
	}
	return sk, id
}

func TestClose(t *testing.T) {
	n, err := dht.New(t.Context(), dht.Config{ListenAddrs: loopback, Bootstrap: []peer.AddrInfo{}})
	if err != nil {
		t.Fatal(err)
	}
	if err := n.Close(); err != nil {
		t.Fatalf("Close: %v", err)
	}
	if err := n.Close(); err != nil {
		t.Fatalf("second Close: %v", err)
	}
	pub, priv := newKey(t)
	if err := n.Put(t.Context(), priv, 1, nil); !errors.Is(err, dht.ErrClosed) {
		t.Errorf("Put after Close: err = %v, want ErrClosed", err)
	}
	if _, err := n.Get(t.Context(), pub); !errors.Is(err, dht.ErrClosed) {
		t.Errorf("Get after Close: err = %v, want ErrClosed", err)
	}
	if err := n.Connect(t.Context()); !errors.Is(err, dht.ErrClosed) {
		t.Errorf("Connect after Close: err = %v, want ErrClosed", err)
	}
}

// Close ends calls in flight and waits for them.
func TestCloseDuringGet(t *testing.T) {
	// A network of one server that never has the record: a full lookup
	// ends fast, so keep asking until Close interrupts.
	net := dhttest.NewNetwork(t, 1)
	n, err := dht.New(t.Context(), dht.Config{ListenAddrs: loopback, Bootstrap: net.Bootstrap(), Timeouts: dht.LocalTimeouts()})
	if err != nil {
		t.Fatal(err)
	}
	if err := n.Connect(t.Context()); err != nil {
		t.Fatal(err)
	}
	pub, _ := newKey(t)
	errc := make(chan error, 1)
	go func() {
		for {
			if _, err := n.Get(context.Background(), pub); !errors.Is(err, dht.ErrNotFound) {
				errc <- err
				return
			}
		}
	}()
	if err := n.Close(); err != nil {
		t.Fatalf("Close: %v", err)
	}
	select {
	case err := <-errc:
		if !errors.Is(err, dht.ErrClosed) {
			t.Fatalf("Get during Close: err = %v, want ErrClosed", err)
		}
	case <-time.After(testwait.Timeout):
		t.Fatalf("Get still running %v after Close returned", testwait.Timeout)
	}
}

func TestNewFails(t *testing.T) {
	// An address that cannot be listened on: New must fail and leave
	// nothing running (TestMain checks for leaked goroutines).
	bad := []multiaddr.Multiaddr{multiaddr.StringCast("/ip4/192.0.2.1/tcp/1")}
	if n, err := dht.New(t.Context(), dht.Config{ListenAddrs: bad, Bootstrap: []peer.AddrInfo{}}); err == nil {
		n.Close()
		t.Fatal("New listening on a foreign address succeeded")
	}
	if _, err := dht.New(t.Context(), dht.Config{Mode: 7, Bootstrap: []peer.AddrInfo{}}); err == nil {
		t.Fatal("New with Mode(7) succeeded")
	}
}

func TestLocalNetworkAddrs(t *testing.T) {
	ln := dhttest.NewNetwork(t, 3)
	for _, ai := range ln.Bootstrap() {
		for _, a := range ai.Addrs {
			ip, err := a.ValueForProtocol(multiaddr.P_IP4)
			if err != nil || ip != "127.0.0.1" {
				t.Errorf("server %s listens on %s, want 127.0.0.1 only", ai.ID, a)
			}
			if _, err := a.ValueForProtocol(multiaddr.P_TCP); err != nil {
				t.Errorf("server %s listens on %s, want TCP only", ai.ID, a)
			}
		}
	}
	if err := ln.Close(); err != nil {
		t.Fatalf("Close: %v", err)
	}
	if err := ln.Close(); err != nil {
		t.Fatalf("second Close: %v", err)
	}
}

// TestRefresh: Refresh waits for a routing-table refresh, after which
// the client knows every server of a small network (each answered the
// refresh's lookups); on a closed node it fails with ErrClosed.
func TestRefresh(t *testing.T) {
	net := dhttest.NewNetwork(t, 5)
	n := newNode(t, dht.Config{Bootstrap: net.Bootstrap()[:1]})
	if err := n.Connect(t.Context()); err != nil {
		t.Fatal(err)
	}
	if err := n.Refresh(t.Context()); err != nil {
		t.Fatalf("Refresh = %v", err)
	}
	testwait.Until(t, "the client routes to all five servers", func() bool { return n.PeerCount() == 5 })
	if err := n.Close(); err != nil {
		t.Fatal(err)
	}
	if err := n.Refresh(t.Context()); !errors.Is(err, dht.ErrClosed) {
		t.Fatalf("Refresh after Close = %v, want ErrClosed", err)
	}
}
