// This file is long because it holds the live path's end-to-end tests on
// real libp2p hosts and their shared fixtures; each attacker and each
// failure mode is one test here.

package live

import (
	"context"
	"crypto/ecdh"
	"crypto/rand"
	"encoding/binary"
	"errors"
	"fmt"
	"os"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/dhtchat/dhtchat/chat/wire"
	"github.com/dhtchat/dhtchat/internal/testwait"
	"github.com/libp2p/go-libp2p"
	"github.com/libp2p/go-libp2p/core/crypto"
	"github.com/libp2p/go-libp2p/core/host"
	"github.com/libp2p/go-libp2p/core/network"
	"github.com/libp2p/go-libp2p/core/peer"
	"github.com/multiformats/go-multiaddr"
)

// TestMain fails the run if a goroutine outlives the tests: every test
// closes what it starts. libp2p's hosts end their goroutines shortly
// after Close returns, so the check retries for a while.
func TestMain(m *testing.M) {
	os.Exit(testwait.RunWithoutLeaks(m, 30*time.Second))
}

var loopback = []multiaddr.Multiaddr{multiaddr.StringCast("/ip4/127.0.0.1/tcp/0")}

// pair is a chat between two parties as each derives it.
type pair struct {
	keys   *wire.Keys // both parties derive the same keys
	lo, hi wire.Direction
	other  *wire.Keys // a chat of the lo party with someone else
}

func newPair(t testing.TB) pair {
	t.Helper()
	gen := func() *ecdh.PrivateKey {
		k, err := ecdh.X25519().GenerateKey(rand.Reader)
		if err != nil {
			t.Fatal(err)
		}
		return k
	}
	a, b, c := gen(), gen(), gen()
	keys := func(x, y *ecdh.PrivateKey) *wire.Keys {
		shared, err := x.ECDH(y.PublicKey())
		if err != nil {
			t.Fatal(err)
		}
		p, err := wire.DerivePairKey([32]byte(shared), [32]byte(x.PublicKey().Bytes()), [32]byte(y.PublicKey().Bytes()))
		if err != nil {
			t.Fatal(err)
		}
		return wire.DeriveKeys(p, wire.NewChatKey(p).ID())
	}
	return pair{keys: keys(a, b), lo: wire.FromLo, hi: wire.FromHi, other: keys(a, c)}
}

func newHost(t testing.TB, cfg Config) *Host {
	t.Helper()
	if cfg.ListenAddrs == nil && cfg.Mode == ModeDirect {
		cfg.ListenAddrs = loopback
	}
	cfg.AnnounceLoopback = true
	h, err := New(t.Context(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if err := h.Close(); err != nil {
			t.Errorf("Close: %v", err)
		}
	})
	return h
}

func addChat(t testing.TB, h *Host, k *wire.Keys, self wire.Direction) *Chat {
	t.Helper()
	c, err := h.AddChat(k, self)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// friendAnnouncement is what the engine does with the friend's slot 0
// record: take its "_l" entry and open it.
func friendAnnouncement(t testing.TB, mine, friends *Chat) wire.Announcement {
	t.Helper()
	sealed, err := friends.Announcement()
	if err != nil {
		t.Fatal(err)
	}
	if len(sealed) != wire.SealedAnnouncementSize {
		t.Fatalf("Announcement() is %d bytes", len(sealed))
	}
	a, err := mine.OpenFriendAnnouncement(sealed)
	if err != nil {
		t.Fatal(err)
	}
	return a
}

func incoming(t testing.TB, c *Chat) *Conn {
	t.Helper()
	select {
	case conn := <-c.Conns():
		return conn
	case <-testwait.Context(t).Done():
		t.Fatal("no incoming stream")
	}
	return nil
}

func seal(t testing.TB, k *wire.Keys, d wire.Direction, n uint64, body string) []byte {
	t.Helper()
	s, err := k.Seal(d, wire.Message{N: n, SentAt: time.UnixMilli(1700000000000), Body: body})
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func recvMessage(t testing.TB, c *Conn) Message {
	t.Helper()
	select {
	case m := <-c.Messages():
		return m
	case <-c.Done():
		t.Fatalf("stream ended: %v", c.Err())
	case <-testwait.Context(t).Done():
		t.Fatal("no message")
	}
	return Message{}
}

func recvAck(t testing.TB, c *Conn, want uint64) {
	t.Helper()
	ctx := testwait.Context(t)
	for {
		select {
		case n := <-c.Acks():
			if n >= want {
				if n != want {
					t.Fatalf("ack %d, want %d", n, want)
				}
				return
			}
		case <-c.Done():
			t.Fatalf("stream ended: %v", c.Err())
		case <-ctx.Done():
			t.Fatalf("no ack %d", want)
		}
	}
}

// connected sets up Alice (from-lo) and Bob (from-hi) with a live stream
// that Alice dialled.
func connected(t testing.TB) (p pair, alice, bob *Chat, a, b *Conn) {
	t.Helper()
	p = newPair(t)
	ha, hb := newHost(t, Config{}), newHost(t, Config{})
	alice, bob = addChat(t, ha, p.keys, p.lo), addChat(t, hb, p.keys, p.hi)
	a, err := alice.Dial(testwait.Context(t), friendAnnouncement(t, alice, bob))
	if err != nil {
		t.Fatal(err)
	}
	b = incoming(t, bob)
	return p, alice, bob, a, b
}

// Two hosts on loopback exchange messages and acks both ways, and each
// side sees the other's announced peer.
func TestExchange(t *testing.T) {
	p, alice, bob, a, b := connected(t)
	if a.RemotePeer() != bob.h.ID() || b.RemotePeer() != alice.h.ID() {
		t.Errorf("remote peers %s, %s; want %s, %s", a.RemotePeer(), b.RemotePeer(), bob.h.ID(), alice.h.ID())
	}
	if !a.Outbound() || b.Outbound() || a.Relayed() {
		t.Errorf("Outbound() = %v, %v, Relayed() = %v", a.Outbound(), b.Outbound(), a.Relayed())
	}
	ctx := testwait.Context(t)
	for n := uint64(1); n <= 3; n++ {
		sealed := seal(t, p.keys, p.lo, n, fmt.Sprintf("hello %d", n))
		if err := a.Send(ctx, sealed); err != nil {
			t.Fatal(err)
		}
		m := recvMessage(t, b)
		if m.N != n || m.Body != fmt.Sprintf("hello %d", n) || string(m.Sealed) != string(sealed) {
			t.Fatalf("Bob received %+v, want message %d", m.Message, n)
		}
		if err := b.Ack(ctx, n); err != nil {
			t.Fatal(err)
		}
		recvAck(t, a, n)
	}
	if err := b.Send(ctx, seal(t, p.keys, p.hi, 1, "hi Alice")); err != nil {
		t.Fatal(err)
	}
	if m := recvMessage(t, a); m.Body != "hi Alice" || m.N != 1 {
		t.Fatalf("Alice received %+v", m.Message)
	}
	if err := a.Ack(ctx, 1); err != nil {
		t.Fatal(err)
	}
	recvAck(t, b, 1)
	if _, err := a.Ping(ctx); err != nil {
		t.Fatalf("Ping: %v", err)
	}
	// A second Dial to the same peer returns the open stream.
	again, err := alice.Dial(ctx, friendAnnouncement(t, alice, bob))
	if err != nil || again != a {
		t.Errorf("Dial again = %p, %v; want the open stream %p", again, err, a)
	}
}

// A message sealed for the other direction, or for another chat, ends
// the stream: the receiver opens every message it is given.
func TestForeignMessageEndsStream(t *testing.T) {
	p, _, _, a, b := connected(t)
	if err := a.Send(testwait.Context(t), seal(t, p.other, p.lo, 1, "from another chat")); err != nil {
		t.Fatal(err)
	}
	select {
	case <-b.Done():
	case m := <-b.Messages():
		t.Fatalf("Bob received %+v from another chat", m.Message)
	case <-testwait.Context(t).Done():
		t.Fatal("stream did not end")
	}
	if !errors.Is(b.Err(), ErrProtocol) || !errors.Is(b.Err(), wire.ErrDecrypt) {
		t.Errorf("Bob's stream ended with %v, want a protocol error (cannot be opened)", b.Err())
	}
	waitDone(t, a)
}

func waitDone(t testing.TB, c *Conn) {
	t.Helper()
	select {
	case <-c.Done():
	case <-testwait.Context(t).Done():
		t.Fatal("stream not reported ended")
	}
}

// A stream cut by either side, or by the friend's host going away, is
// reported on the other side.
func TestCutStream(t *testing.T) {
	t.Run("closed", func(t *testing.T) {
		_, _, _, a, b := connected(t)
		if err := b.Close(); err != nil {
			t.Fatal(err)
		}
		waitDone(t, a)
		if a.Err() == nil || errors.Is(a.Err(), ErrClosed) {
			t.Errorf("Alice's stream ended with %v, want the network's error", a.Err())
		}
		if !errors.Is(b.Err(), ErrClosed) {
			t.Errorf("Bob's stream ended with %v, want ErrClosed", b.Err())
		}
		if err := a.Send(testwait.Context(t), make([]byte, 200)); err == nil {
			t.Errorf("Send on an ended stream = nil error")
		}
	})
	t.Run("host gone", func(t *testing.T) {
		_, alice, bob, a, b := connected(t)
		if err := bob.h.Close(); err != nil {
			t.Fatal(err)
		}
		waitDone(t, a)
		waitDone(t, b)
		if alice.Current() != nil {
			t.Errorf("Current() = %v after the stream ended", alice.Current())
		}
	})
}

// dialRaw opens a live stream from h to target by hand, for the attacks.
func dialRaw(t testing.TB, h host.Host, target *Host) network.Stream {
	t.Helper()
	ctx := testwait.Context(t)
	if err := h.Connect(ctx, peer.AddrInfo{ID: target.ID(), Addrs: target.h.Addrs()}); err != nil {
		t.Fatal(err)
	}
	s, err := h.NewStream(ctx, target.ID(), ProtocolID)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func rawHost(t testing.TB) (host.Host, [32]byte) {
	t.Helper()
	sk, pk, err := crypto.GenerateEd25519Key(nil)
	if err != nil {
		t.Fatal(err)
	}
	h, err := libp2p.New(libp2p.Identity(sk), libp2p.ListenAddrs(loopback...), libp2p.DisableMetrics())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { h.Close() })
	raw, _ := pk.Raw()
	return h, [32]byte(raw)
}

// refused checks that the acceptor reset s without writing a byte.
func refused(t testing.TB, s network.Stream) {
	t.Helper()
	_ = s.SetReadDeadline(time.Now().Add(testwait.Timeout))
	var b [1]byte
	if n, err := s.Read(b[:]); n != 0 || err == nil || errors.Is(err, os.ErrDeadlineExceeded) {
		t.Fatalf("acceptor answered: %d bytes, %v; want a reset and nothing", n, err)
	}
}

// Nobody but the friend's announced peer gets a stream.
func TestRefusesStrangers(t *testing.T) {
	p := newPair(t)
	hb := newHost(t, Config{})
	bob := addChat(t, hb, p.keys, p.hi)

	// Mallory knows Bob's announcement (his peer ID and addresses: say
	// she is the relay, or watched his traffic) but not the chat's keys:
	// she dials him with a chat of her own.
	t.Run("without the keys", func(t *testing.T) {
		hm := newHost(t, Config{})
		mallory := addChat(t, hm, p.other, p.lo)
		ann := must(p.keys.OpenAnnouncement(p.hi, must(bob.Announcement())))
		_, err := mallory.Dial(testwait.Context(t), ann)
		if !errors.Is(err, ErrRefused) {
			t.Fatalf("Dial without the keys = %v, want ErrRefused", err)
		}
	})

	// Mallory replays Alice's hello (tag and sealed announcement, both
	// authentic) from her own peer ID.
	t.Run("replayed hello", func(t *testing.T) {
		ha := newHost(t, Config{})
		alice := addChat(t, ha, p.keys, p.lo)
		hello, err := alice.ownHello(hb.PeerKey())
		if err != nil {
			t.Fatal(err)
		}
		hm, _ := rawHost(t)
		s := dialRaw(t, hm, hb)
		if _, err := s.Write(hello); err != nil {
			t.Fatal(err)
		}
		refused(t, s)
	})

	// A hello with a forged tag, or no hello at all.
	t.Run("garbage", func(t *testing.T) {
		hm, mk := rawHost(t)
		ann, err := p.keys.SealAnnouncement(p.lo, wire.Announcement{Dir: p.lo, Expires: time.Now().Add(time.Hour), PeerKey: mk})
		if err != nil {
			t.Fatal(err)
		}
		for name, frame := range map[string][]byte{
			"wrong tag":  must(wire.AppendLiveFrame(nil, wire.LiveFrame{Type: wire.FrameHello, Tag: [32]byte{1}, Announcement: ann})),
			"not hello":  must(wire.AppendLiveFrame(nil, wire.LiveFrame{Type: wire.FramePing, N: 1})),
			"over bound": {0xff, 0xff, 1},
		} {
			t.Run(name, func(t *testing.T) {
				s := dialRaw(t, hm, hb)
				if _, err := s.Write(frame); err != nil {
					t.Fatal(err)
				}
				refused(t, s)
			})
		}
	})

	// An expired announcement of the right peer, with the right keys:
	// a hello from a process that ended long ago.
	t.Run("expired", func(t *testing.T) {
		hm, mk := rawHost(t)
		ann, err := p.keys.SealAnnouncement(p.lo, wire.Announcement{Dir: p.lo, Expires: time.Now().Add(-time.Second), PeerKey: mk})
		if err != nil {
			t.Fatal(err)
		}
		s := dialRaw(t, hm, hb)
		if _, err := s.Write(must(wire.AppendLiveFrame(nil, wire.LiveFrame{Type: wire.FrameHello, Tag: p.keys.HelloTag(p.lo, hb.PeerKey()), Announcement: ann}))); err != nil {
			t.Fatal(err)
		}
		refused(t, s)
	})

	if len(bob.Conns()) != 0 || bob.Current() != nil {
		t.Errorf("Bob has a stream after the attacks")
	}
}

func must[T any](v T, err error) T {
	if err != nil {
		panic(err)
	}
	return v
}

// The dialler checks too: an announcement whose addresses lead to
// another host (Mallory answering at Bob's address) gets no stream, and
// neither does Bob's real peer if it cannot show the chat's keys.
func TestDiallerChecks(t *testing.T) {
	p := newPair(t)
	ha, hb, hm := newHost(t, Config{}), newHost(t, Config{}), newHost(t, Config{})
	alice, bob := addChat(t, ha, p.keys, p.lo), addChat(t, hb, p.keys, p.hi)
	addChat(t, hm, p.keys, p.hi) // Mallory even has the keys, but not Bob's peer ID
	ann := friendAnnouncement(t, alice, bob)
	ann.Addrs = nil
	for _, m := range hm.Addrs() {
		ann.Addrs = append(ann.Addrs, m.Bytes())
	}
	if _, err := alice.Dial(testwait.Context(t), ann); err == nil {
		t.Fatal("Dial reached Mallory under Bob's peer ID")
	}
	if alice.Current() != nil {
		t.Error("Alice has a stream")
	}
	// An expired announcement is not dialled at all.
	old := friendAnnouncement(t, alice, bob)
	old.Expires = time.Now().Add(-time.Millisecond)
	if _, err := alice.Dial(testwait.Context(t), old); !errors.Is(err, ErrExpired) {
		t.Errorf("Dial(expired) = %v, want ErrExpired", err)
	}
}

// handshake runs a hello by hand as Alice's process with peer key mk, so
// that a test can then send Bob what a correct client never would.
func handshake(t testing.TB, p pair, hm host.Host, mk [32]byte, hb *Host) network.Stream {
	t.Helper()
	ann, err := p.keys.SealAnnouncement(p.lo, wire.Announcement{Dir: p.lo, Expires: time.Now().Add(time.Hour), PeerKey: mk})
	if err != nil {
		t.Fatal(err)
	}
	s := dialRaw(t, hm, hb)
	if _, err := s.Write(must(wire.AppendLiveFrame(nil, wire.LiveFrame{Type: wire.FrameHello, Tag: p.keys.HelloTag(p.lo, hb.PeerKey()), Announcement: ann}))); err != nil {
		t.Fatal(err)
	}
	f, err := readFrame(s, make([]byte, wire.MaxLiveFrameLen))
	if err != nil || f.Type != wire.FrameHello || !p.keys.CheckHelloTag(p.hi, mk, f.Tag) {
		t.Fatalf("Bob's hello: %+v, %v", f.Type, err)
	}
	return s
}

// Frames over the bound, or malformed, end an established stream, before
// anything is read or allocated for them.
func TestFrameBound(t *testing.T) {
	p := newPair(t)
	hb := newHost(t, Config{})
	bob := addChat(t, hb, p.keys, p.hi)
	for name, frame := range map[string][]byte{
		"over the bound": binary.BigEndian.AppendUint16(nil, wire.MaxLiveFrameLen+1),
		"largest prefix": {0xff, 0xff},
		"zero length":    {0, 0},
		"short ack":      {0, 3, byte(wire.FrameAck), 0, 0},
		"second hello":   append(binary.BigEndian.AppendUint16(nil, 585), append([]byte{1}, make([]byte, 584)...)...),
	} {
		t.Run(name, func(t *testing.T) {
			hm, mk := rawHost(t)
			s := handshake(t, p, hm, mk, hb)
			b := incoming(t, bob)
			if _, err := s.Write(frame); err != nil {
				t.Fatal(err)
			}
			waitDone(t, b)
			if !errors.Is(b.Err(), ErrProtocol) {
				t.Errorf("stream ended with %v, want ErrProtocol", b.Err())
			}
		})
	}
	// The largest frame is fine, an unknown type is skipped.
	t.Run("largest and unknown", func(t *testing.T) {
		hm, mk := rawHost(t)
		s := handshake(t, p, hm, mk, hb)
		b := incoming(t, bob)
		big := seal(t, p.keys, p.lo, 1, strings.Repeat("x", wire.MaxBody))
		unknown := append(binary.BigEndian.AppendUint16(nil, 4), 0x7f, 1, 2, 3)
		if _, err := s.Write(append(unknown, must(wire.AppendLiveFrame(nil, wire.LiveFrame{Type: wire.FrameMessage, Sealed: big}))...)); err != nil {
			t.Fatal(err)
		}
		if m := recvMessage(t, b); m.N != 1 || len(m.Body) != wire.MaxBody {
			t.Errorf("received %d, %d bytes", m.N, len(m.Body))
		}
	})
}

// One stream per chat: a Dial while a stream is open returns it, and
// when both sides dialled at once (simulated with dial, which skips that
// check), both keep the stream dialled by from-lo, which carries messages.
func TestOneStreamPerChat(t *testing.T) {
	p := newPair(t)
	ha, hb := newHost(t, Config{}), newHost(t, Config{})
	alice, bob := addChat(t, ha, p.keys, p.lo), addChat(t, hb, p.keys, p.hi)
	ctx := testwait.Context(t)
	first, err := bob.Dial(ctx, friendAnnouncement(t, bob, alice)) // from-hi dials first
	if err != nil {
		t.Fatal(err)
	}
	firstAtAlice := incoming(t, alice)
	if again, err := alice.Dial(ctx, friendAnnouncement(t, alice, bob)); err != nil || again != firstAtAlice {
		t.Fatalf("Dial with a stream open = %p, %v; want it, %p", again, err, firstAtAlice)
	}

	// from-lo's stream wins over from-hi's.
	ann := friendAnnouncement(t, alice, bob)
	a, err := alice.dial(ctx, ann, bob.h.ID(), time.Now())
	if err != nil {
		t.Fatal(err)
	}
	b := incoming(t, bob)
	waitDone(t, first)
	waitDone(t, firstAtAlice)
	// Bob replaced it before he answered Alice's hello; Alice may see
	// Bob's reset of it before her own replacement.
	if !errors.Is(first.Err(), ErrReplaced) {
		t.Errorf("from-hi's stream ended with %v at from-hi; want ErrReplaced", first.Err())
	}
	if bob.Current() != b || alice.Current() != a {
		t.Fatalf("Current() = %p, %p; want %p, %p", bob.Current(), alice.Current(), b, a)
	}

	// from-hi's stream loses to from-lo's: it is refused.
	if _, err := bob.dial(ctx, friendAnnouncement(t, bob, alice), alice.h.ID(), time.Now()); !errors.Is(err, ErrRefused) {
		t.Errorf("from-hi's second stream = %v, want ErrRefused", err)
	}
	if bob.Current() != b || alice.Current() != a || len(alice.Conns()) != 0 {
		t.Fatalf("the open stream changed")
	}
	if err := b.Send(ctx, seal(t, p.keys, p.hi, 1, "one stream")); err != nil {
		t.Fatal(err)
	}
	if m := recvMessage(t, a); m.Body != "one stream" {
		t.Errorf("received %q", m.Body)
	}
}

// A removed chat's stream ends, and the chat accepts no more.
func TestRemoveChat(t *testing.T) {
	p, alice, bob, a, b := connected(t)
	bob.Remove()
	waitDone(t, b)
	waitDone(t, a)
	if _, err := alice.Dial(testwait.Context(t), friendAnnouncement(t, alice, bob)); !errors.Is(err, ErrRefused) {
		t.Errorf("Dial a removed chat = %v, want ErrRefused", err)
	}
	if _, err := bob.h.AddChat(p.keys, p.hi); err != nil {
		t.Errorf("AddChat after Remove: %v", err)
	}
}

// Relay-only: both hosts reach each other only through a relay (the
// service `dhtchat node` runs), and announce no address of their own.
func TestRelayOnly(t *testing.T) {
	r, err := NewRelay(t.Context(), RelayConfig{ListenAddrs: loopback})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { r.Close() })
	p := newPair(t)
	cfg := Config{Mode: ModeRelayOnly, Relays: []peer.AddrInfo{r.AddrInfo()}}
	ha, hb := newHost(t, cfg), newHost(t, cfg)
	for _, h := range []*Host{ha, hb} {
		testwait.Until(t, "a relay reservation", func() bool { return len(h.Addrs()) > 0 })
		for _, a := range h.Addrs() {
			if !isCircuit(a) {
				t.Errorf("relay-only host announces %s", a)
			}
		}
	}
	alice, bob := addChat(t, ha, p.keys, p.lo), addChat(t, hb, p.keys, p.hi)
	ctx := testwait.Context(t)
	a, err := alice.Dial(ctx, friendAnnouncement(t, alice, bob))
	if err != nil {
		t.Fatal(err)
	}
	b := incoming(t, bob)
	if !a.Relayed() || !b.Relayed() {
		t.Errorf("Relayed() = %v, %v; want a relayed stream", a.Relayed(), b.Relayed())
	}
	for _, c := range ha.h.Network().ConnsToPeer(hb.ID()) {
		if !isCircuit(c.RemoteMultiaddr()) {
			t.Errorf("relay-only hosts have a direct connection: %s", c.RemoteMultiaddr())
		}
	}
	if err := a.Send(ctx, seal(t, p.keys, p.lo, 1, "through the relay")); err != nil {
		t.Fatal(err)
	}
	if m := recvMessage(t, b); m.Body != "through the relay" {
		t.Errorf("received %q", m.Body)
	}
	// A relay-only host does not dial the friend's direct addresses:
	// neither those announced nor those identify tells it once a relayed
	// connection is up.
	hd := newHost(t, Config{Relays: []peer.AddrInfo{r.AddrInfo()}})
	direct := addChat(t, hd, p.other, p.hi)
	mine := addChat(t, ha, p.other, p.lo)
	if _, err := mine.Dial(ctx, friendAnnouncement(t, mine, direct)); !errors.Is(err, ErrNotPermitted) {
		t.Errorf("relay-only Dial of direct addresses only = %v, want ErrNotPermitted", err)
	}
	testwait.Until(t, "the direct host's relay reservation", func() bool {
		return slices.ContainsFunc(hd.Addrs(), isCircuit)
	})
	c, err := mine.Dial(ctx, friendAnnouncement(t, mine, direct))
	if err != nil {
		t.Fatalf("relay-only Dial of a host with direct and relay addresses: %v", err)
	}
	if !c.Relayed() {
		t.Errorf("relay-only host reached a direct host directly")
	}
	// Identify has told Alice's host the direct host's own addresses by
	// now; even a dial forced to be direct (as libp2p makes to upgrade a
	// relayed connection) must not use them.
	ha.h.Peerstore().AddAddrs(hd.ID(), hd.h.Addrs(), time.Minute)
	if _, err := ha.h.Network().DialPeer(network.WithForceDirectDial(ctx, "test"), hd.ID()); err == nil {
		t.Errorf("relay-only host dialled the direct host directly")
	}
	for _, conn := range ha.h.Network().ConnsToPeer(hd.ID()) {
		if !isCircuit(conn.RemoteMultiaddr()) {
			t.Errorf("relay-only host has a direct connection to %s", conn.RemoteMultiaddr())
		}
	}
}

// The vector addresses of docs/PROTOCOL.md §17.6 are the multiaddrs the
// document names.
func TestVectorAddrs(t *testing.T) {
	for hexAddr, want := range map[string]string{
		"04c0000201060fa1":       "/ip4/192.0.2.1/tcp/4001",
		"04c000020191020fa1cd03": "/ip4/192.0.2.1/udp/4001/quic-v1",
	} {
		b := make([]byte, len(hexAddr)/2)
		fmt.Sscanf(hexAddr, "%x", &b)
		m, err := multiaddr.NewMultiaddrBytes(b)
		if err != nil || m.String() != want {
			t.Errorf("%s = %v, %v; want %s", hexAddr, m, err, want)
		}
	}
}

// After a cut the stream comes back: Alice redials, and when Bob's
// process restarts (a new host, a new peer ID) and dials Alice, she
// accepts it from its hello alone — before any slot record could have
// told her the new peer ID — and it replaces the old stream.
func TestReconnect(t *testing.T) {
	p, alice, bob, a, b := connected(t)
	ctx := testwait.Context(t)
	if err := b.Close(); err != nil {
		t.Fatal(err)
	}
	waitDone(t, a)
	a2, err := alice.Dial(ctx, friendAnnouncement(t, alice, bob))
	if err != nil {
		t.Fatalf("redial: %v", err)
	}
	b2 := incoming(t, bob)
	if err := a2.Send(ctx, seal(t, p.keys, p.lo, 1, "again")); err != nil {
		t.Fatal(err)
	}
	if m := recvMessage(t, b2); m.Body != "again" {
		t.Errorf("received %q", m.Body)
	}

	// Bob restarts: a new host, a new identity.
	hb2 := newHost(t, Config{})
	bobAgain := addChat(t, hb2, p.keys, p.hi)
	if hb2.ID() == bob.h.ID() {
		t.Fatal("a new host has the old peer ID")
	}
	b3, err := bobAgain.Dial(ctx, friendAnnouncement(t, bobAgain, alice))
	if err != nil {
		t.Fatal(err)
	}
	a3 := incoming(t, alice)
	waitDone(t, a2)
	if !errors.Is(a2.Err(), ErrReplaced) {
		t.Errorf("the old stream ended with %v, want ErrReplaced", a2.Err())
	}
	if a3.RemotePeer() != hb2.ID() || alice.Current() != a3 {
		t.Errorf("Alice's stream is with %s, want %s", a3.RemotePeer(), hb2.ID())
	}
	if err := b3.Send(ctx, seal(t, p.keys, p.hi, 1, "restarted")); err != nil {
		t.Fatal(err)
	}
	if m := recvMessage(t, a3); m.Body != "restarted" {
		t.Errorf("received %q", m.Body)
	}
}

// The dialler checks the answer: the host at Bob's announced peer ID must
// answer with Bob's tag for Alice's host and an announcement of its own
// peer key, under the chat's keys.
func TestDiallerChecksAnswer(t *testing.T) {
	p := newPair(t)
	ha := newHost(t, Config{})
	alice := addChat(t, ha, p.keys, p.lo)
	hm, mk := rawHost(t) // the host Alice dials as Bob's
	annOf := func(key [32]byte) []byte {
		return must(p.keys.SealAnnouncement(p.hi, wire.Announcement{Dir: p.hi, Expires: time.Now().Add(time.Hour), PeerKey: key}))
	}
	for name, answer := range map[string][]byte{
		"good":        must(wire.AppendLiveFrame(nil, wire.LiveFrame{Type: wire.FrameHello, Tag: p.keys.HelloTag(p.hi, ha.PeerKey()), Announcement: annOf(mk)})),
		"wrong tag":   must(wire.AppendLiveFrame(nil, wire.LiveFrame{Type: wire.FrameHello, Tag: p.keys.HelloTag(p.hi, mk), Announcement: annOf(mk)})),
		"other peer":  must(wire.AppendLiveFrame(nil, wire.LiveFrame{Type: wire.FrameHello, Tag: p.keys.HelloTag(p.hi, ha.PeerKey()), Announcement: annOf([32]byte{7})})),
		"other chat":  must(wire.AppendLiveFrame(nil, wire.LiveFrame{Type: wire.FrameHello, Tag: p.other.HelloTag(p.hi, ha.PeerKey()), Announcement: must(p.other.SealAnnouncement(p.hi, wire.Announcement{Dir: p.hi, Expires: time.Now().Add(time.Hour), PeerKey: mk}))})),
		"not a hello": must(wire.AppendLiveFrame(nil, wire.LiveFrame{Type: wire.FrameAck, N: 1})),
		"nothing":     nil,
	} {
		t.Run(name, func(t *testing.T) {
			hm.SetStreamHandler(ProtocolID, func(s network.Stream) {
				if _, err := readFrame(s, make([]byte, wire.MaxLiveFrameLen)); err != nil {
					s.Reset()
					return
				}
				if answer == nil {
					s.Reset()
					return
				}
				s.Write(answer)
				// Hold the stream open until Alice ends it.
				readFrame(s, make([]byte, wire.MaxLiveFrameLen))
				s.Reset()
			})
			var addrs [][]byte
			for _, m := range hm.Addrs() {
				addrs = append(addrs, m.Bytes())
			}
			conn, err := alice.Dial(testwait.Context(t), wire.Announcement{Dir: p.hi, Expires: time.Now().Add(time.Hour), PeerKey: mk, Addrs: addrs})
			if name == "good" {
				if err != nil {
					t.Fatalf("Dial = %v", err)
				}
				conn.Close()
				return
			}
			if !errors.Is(err, ErrRefused) {
				t.Errorf("Dial = %v, %v; want ErrRefused", conn, err)
			}
		})
	}
}

// A Send's deadline bounds that write only: the stream outlives it.
func TestSendDeadlineIsTheWritesOnly(t *testing.T) {
	p, _, _, a, b := connected(t)
	deadline := time.Now().Add(20 * time.Millisecond)
	ctx, cancel := context.WithDeadline(t.Context(), deadline)
	defer cancel()
	if err := a.Send(ctx, seal(t, p.keys, p.lo, 1, "before")); err != nil {
		t.Fatal(err)
	}
	recvMessage(t, b)
	testwait.Until(t, "the Send's deadline to pass", func() bool { return time.Now().After(deadline) })
	if err := b.Ack(testwait.Context(t), 1); err != nil {
		t.Fatal(err)
	}
	recvAck(t, a, 1)
	if err := a.Send(testwait.Context(t), seal(t, p.keys, p.lo, 2, "after")); err != nil {
		t.Fatal(err)
	}
	if m := recvMessage(t, b); m.Body != "after" {
		t.Errorf("received %q", m.Body)
	}
}

// When the relay goes away, so do the circuit addresses through it, and
// the host says its addresses changed (the engine then announces again).
func TestRelayLost(t *testing.T) {
	r, err := NewRelay(t.Context(), RelayConfig{ListenAddrs: loopback})
	if err != nil {
		t.Fatal(err)
	}
	h := newHost(t, Config{Mode: ModeRelayOnly, Relays: []peer.AddrInfo{r.AddrInfo()}})
	testwait.Until(t, "a relay reservation", func() bool { return len(h.Addrs()) > 0 })
	// Drain the signal of the reservation itself.
	select {
	case <-h.AddrsChanged():
	default:
	}
	if err := r.Close(); err != nil {
		t.Fatal(err)
	}
	testwait.Until(t, "the circuit addresses to go", func() bool { return len(h.Addrs()) == 0 })
	select {
	case <-h.AddrsChanged():
	case <-testwait.Context(t).Done():
		t.Fatal("no AddrsChanged signal")
	}
}

// Follow keeps the stream up: it dials the friend's announcement, and
// after the stream is cut it dials again, the new stream arriving on
// both sides' Conns. A new announcement (the friend restarted at another
// peer ID) replaces one that leads nowhere.
func TestFollow(t *testing.T) {
	p := newPair(t)
	ha, hb := newHost(t, Config{}), newHost(t, Config{})
	alice, bob := addChat(t, ha, p.keys, p.lo), addChat(t, hb, p.keys, p.hi)

	// First an announcement of a host that is gone, then at once the
	// right one: whichever the follower dials first, it ends on the
	// right one.
	hGone := newHost(t, Config{})
	gone := addChat(t, hGone, p.keys, p.hi)
	stale := friendAnnouncement(t, alice, gone)
	if err := hGone.Close(); err != nil {
		t.Fatal(err)
	}
	alice.Follow(stale)
	alice.Follow(friendAnnouncement(t, alice, bob))
	a := incoming(t, alice)
	b := incoming(t, bob)
	if !a.Outbound() || a.RemotePeer() != hb.ID() {
		t.Fatalf("followed stream: outbound %v to %s, want Alice's to %s", a.Outbound(), a.RemotePeer(), hb.ID())
	}

	// Cut: the follower dials again (after its backoff: the stream was
	// short-lived).
	if err := b.Close(); err != nil {
		t.Fatal(err)
	}
	waitDone(t, a)
	a2, b2 := incoming(t, alice), incoming(t, bob)
	ctx := testwait.Context(t)
	if err := a2.Send(ctx, seal(t, p.keys, p.lo, 1, "followed")); err != nil {
		t.Fatal(err)
	}
	if m := recvMessage(t, b2); m.Body != "followed" {
		t.Errorf("received %q", m.Body)
	}
	// A Dial now returns the followed stream, which is not handed out
	// twice on Conns.
	if c, err := alice.Dial(ctx, friendAnnouncement(t, alice, bob)); err != nil || c != a2 {
		t.Errorf("Dial = %p, %v; want the followed stream %p", c, err, a2)
	}
	alice.Remove()
	waitDone(t, a2)
}

// A caller that opens a stream and says nothing is reset once the hello
// timeout passes: it holds nothing for long.
func TestHelloTimeout(t *testing.T) {
	p := newPair(t)
	hb := newHost(t, Config{HelloTimeout: 50 * time.Millisecond})
	addChat(t, hb, p.keys, p.hi)
	hm, _ := rawHost(t)
	s := dialRaw(t, hm, hb)
	refused(t, s)
}

// Acks only grow: a smaller ack after a larger one is not passed on.
func TestAcksOnlyGrow(t *testing.T) {
	p := newPair(t)
	ha := newHost(t, Config{})
	alice := addChat(t, ha, p.keys, p.lo)
	hm, mk := rawHost(t) // Bob's process, by hand
	annOf := must(p.keys.SealAnnouncement(p.hi, wire.Announcement{Dir: p.hi, Expires: time.Now().Add(time.Hour), PeerKey: mk}))
	hm.SetStreamHandler(ProtocolID, func(s network.Stream) {
		if _, err := readFrame(s, make([]byte, wire.MaxLiveFrameLen)); err != nil {
			s.Reset()
			return
		}
		var out []byte
		out = must(wire.AppendLiveFrame(out, wire.LiveFrame{Type: wire.FrameHello, Tag: p.keys.HelloTag(p.hi, ha.PeerKey()), Announcement: annOf}))
		for _, n := range []uint64{5, 3, 5, 7, 2} {
			out = must(wire.AppendLiveFrame(out, wire.LiveFrame{Type: wire.FrameAck, N: n}))
		}
		s.Write(out)
		readFrame(s, make([]byte, wire.MaxLiveFrameLen)) // until Alice ends it
		s.Reset()
	})
	var addrs [][]byte
	for _, m := range hm.Addrs() {
		addrs = append(addrs, m.Bytes())
	}
	a, err := alice.Dial(testwait.Context(t), wire.Announcement{Dir: p.hi, Expires: time.Now().Add(time.Hour), PeerKey: mk, Addrs: addrs})
	if err != nil {
		t.Fatal(err)
	}
	var last uint64
	for last != 7 {
		select {
		case n := <-a.Acks():
			if n <= last {
				t.Fatalf("ack %d after %d", n, last)
			}
			last = n
		case <-a.Done():
			t.Fatalf("stream ended: %v", a.Err())
		case <-testwait.Context(t).Done():
			t.Fatalf("no ack 7; last %d", last)
		}
	}
	a.Close()
}
