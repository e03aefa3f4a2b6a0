package chat

import (
	"context"
	"crypto/ed25519"
	"fmt"
	"path/filepath"
	"sync/atomic"
	"testing"

	"github.com/dhtchat/dhtchat/chat/live"
	"github.com/dhtchat/dhtchat/dht"
	"github.com/dhtchat/dhtchat/dht/dhttest"
	"github.com/dhtchat/dhtchat/internal/testwait"
	"github.com/libp2p/go-libp2p/core/peer"
	"github.com/multiformats/go-multiaddr"
)

// blindableNet is a user's DHT client that can be made blind: while blind,
// every Get finds nothing, so that messages can only arrive over the live
// path. Puts (with the live announcement) go through.
type blindableNet struct {
	*dht.Node
	blind atomic.Bool
}

func (n *blindableNet) Get(ctx context.Context, pub ed25519.PublicKey, opts ...dht.GetOption) (dht.Record, error) {
	if n.blind.Load() {
		return dht.Record{}, dht.ErrNotFound
	}
	return n.Node.Get(ctx, pub, opts...)
}

// liveUser is a user whose Client runs the live path on loopback, with
// WatchAll (as the full-screen UI).
type liveUser struct {
	*user
	net     *blindableNet
	live    LiveConfig
	version int // Config.ChatVersion; 0: the tests' default
}

// loopbackLive is the live path in direct mode on 127.0.0.1.
var loopbackLive = LiveConfig{Mode: LiveDirect, AnnounceLoopback: true,
	ListenAddrs: []multiaddr.Multiaddr{multiaddr.StringCast("/ip4/127.0.0.1/tcp/0")}}

func newLiveUser(t *testing.T, name string, net *dht.LocalNetwork) *liveUser {
	t.Helper()
	return newLiveUserWith(t, name, net, loopbackLive)
}

func newLiveUserWith(t *testing.T, name string, net *dht.LocalNetwork, cfg LiveConfig) *liveUser {
	t.Helper()
	u := &liveUser{user: newUser(t, name, net), live: cfg}
	u.user.offline(t)
	u.online(t, net)
	return u
}

// online (re)starts the user's DHT client and Client, with a new live host.
func (u *liveUser) online(t *testing.T, net *dht.LocalNetwork) {
	t.Helper()
	u.node = dhttest.NewClient(t, net)
	u.net = &blindableNet{Node: u.node}
	c, err := Open(Config{Identity: u.sk, DBPath: filepath.Join(u.dir, "dhtchat.db"), Network: u.net, Poll: fastPoll,
		Watch: WatchAll, Live: u.live, ChatVersion: u.version})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	u.c = c
}

// waitPath waits until chat id is on path p for u.
func waitPath(t *testing.T, u *liveUser, id ChatID, p Path) {
	t.Helper()
	testwait.Until(t, fmt.Sprintf("%s's chat on path %v", u.name, p), func() bool { return u.c.Path(id) == p })
}

// conn returns u's current live stream of chat id, or nil.
func (u *liveUser) conn(id ChatID) *live.Conn {
	u.c.chatsMu.Lock()
	cs := u.c.chats[id]
	u.c.chatsMu.Unlock()
	if cs == nil {
		return nil
	}
	l := u.c.liveOf(cs)
	if l == nil {
		return nil
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.conn
}

// waitReceived waits until u's history of chat id holds want received
// messages, and checks they are want, in order, exactly once.
func waitReceived(t *testing.T, u *user, id ChatID, want []string) {
	t.Helper()
	var got []Entry
	testwait.Until(t, fmt.Sprintf("%s to receive %d messages", u.name, len(want)), func() bool {
		got = receivedHistory(t, u, id)
		return len(got) >= len(want)
	})
	if len(got) != len(want) {
		for _, e := range got {
			t.Logf("%s: N %d %q", u.name, e.N, e.Body)
		}
	}
	checkInOrder(t, got, want)
}

// send sends each body on its own, as a user typing does.
func sendEach(t *testing.T, u *user, id ChatID, bodies []string) {
	t.Helper()
	for _, b := range bodies {
		if _, err := u.c.Send(t.Context(), id, b); err != nil {
			t.Fatal(err)
		}
	}
}

func liveBodies(prefix string, from, to int) []string {
	var out []string
	for i := from; i <= to; i++ {
		out = append(out, fmt.Sprintf("%s %03d", prefix, i))
	}
	return out
}

// The live path comes up from the announcements in the slot 0 records,
// carries messages both ways with the DHT blind, and a killed stream
// falls back to the DHT and comes back; nothing is lost or duplicated.
func TestLivePath(t *testing.T) {
	net := dhttest.NewNetwork(t, 6)
	alice, bob := newLiveUser(t, "alice", net), newLiveUser(t, "bob", net)
	id := startChat(t, alice.user, bob.user)
	events := alice.c.Subscribe(t.Context())
	waitPath(t, alice, id, PathLiveDirect)
	waitPath(t, bob, id, PathLiveDirect)
	if in, err := alice.c.Info(t.Context(), id); err != nil || in.Path != PathLiveDirect {
		t.Errorf("alice's Info = path %v, %v; want %v", in.Path, err, PathLiveDirect)
	}

	// With both DHT clients blind, only the stream carries messages.
	alice.net.blind.Store(true)
	bob.net.blind.Store(true)
	toBob, toAlice := liveBodies("to bob", 1, 20), liveBodies("to alice", 1, 5)
	sendEach(t, alice.user, id, toBob)
	sendEach(t, bob.user, id, toAlice)
	waitReceived(t, bob.user, id, toBob)
	waitReceived(t, alice.user, id, toAlice)
	testwait.Until(t, "bob's live acks", func() bool { return alice.c.LiveAcked(id) == 20 })

	// A killed stream: the chat goes back to the DHT path, and messages
	// sent meanwhile arrive through it.
	alice.net.blind.Store(false)
	bob.net.blind.Store(false)
	c := alice.conn(id)
	if c == nil {
		t.Fatal("alice has no stream")
	}
	c.Close()
	w := &worker{events: events}
	for sawDHT := false; !sawDHT; {
		ev := w.next(t)
		if p, ok := ev.(PathEvent); ok && p.ID == id && p.Path == PathDHT {
			sawDHT = true
		}
	}
	more := liveBodies("to bob", 21, 30)
	sendEach(t, alice.user, id, more)
	toBob = append(toBob, more...)
	waitReceived(t, bob.user, id, toBob)

	// It comes back, and carries messages again with the DHT blind.
	testwait.Until(t, "a new stream", func() bool {
		n := alice.conn(id)
		return n != nil && n != c
	})
	alice.net.blind.Store(true)
	bob.net.blind.Store(true)
	more = liveBodies("to bob", 31, 40)
	sendEach(t, alice.user, id, more)
	toBob = append(toBob, more...)
	waitReceived(t, bob.user, id, toBob)
}

// Cutting the stream mid-burst, and restarting the receiver mid-burst,
// loses, duplicates and reorders nothing: the DHT fills what the stream
// did not carry.
func TestLivePathCutMidBurst(t *testing.T) {
	if testing.Short() {
		t.Skip("bursts through two workers and restarts: slow, skipped with -short")
	}
	net := dhttest.NewNetwork(t, 6)
	alice, bob := newLiveUser(t, "alice", net), newLiveUser(t, "bob", net)
	id := startChat(t, alice.user, bob.user)
	waitPath(t, alice, id, PathLiveDirect)
	waitPath(t, bob, id, PathLiveDirect)

	var want []string
	for round := range 3 {
		burst := liveBodies(fmt.Sprintf("round %d", round), 1, 60)
		sendEach(t, alice.user, id, burst[:20])
		switch round {
		case 0: // the sender cuts the stream
			if c := alice.conn(id); c != nil {
				c.Close()
			}
		case 1: // the receiver cuts it
			if c := bob.conn(id); c != nil {
				c.Close()
			}
		case 2: // the receiver restarts (a new live host, a new peer ID)
			bob.offline(t)
		}
		sendEach(t, alice.user, id, burst[20:40])
		if round == 2 {
			bob.online(t, net)
		}
		sendEach(t, alice.user, id, burst[40:])
		want = append(want, burst...)
		waitReceived(t, bob.user, id, want)
		waitPath(t, alice, id, PathLiveDirect)
		waitPath(t, bob, id, PathLiveDirect)
	}
	// And the other way, with the sender restarted mid-burst.
	burst := liveBodies("to alice", 1, 40)
	sendEach(t, bob.user, id, burst[:20])
	bob.offline(t)
	bob.online(t, net)
	sendEach(t, bob.user, id, burst[20:])
	waitReceived(t, alice.user, id, burst)
}

// Relay-only: both clients reach each other only through a circuit relay
// (what `dhtchat node` runs); their announcements, written once the
// reservation came (AddrsChanged), name only circuit addresses, and the
// chat is on the relayed path.
func TestLivePathRelayOnly(t *testing.T) {
	r, err := live.NewRelay(t.Context(), live.RelayConfig{ListenAddrs: loopbackLive.ListenAddrs})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { r.Close() })
	net := dhttest.NewNetwork(t, 6)
	cfg := LiveConfig{Mode: LiveRelayOnly, Relays: []peer.AddrInfo{r.AddrInfo()}, AnnounceLoopback: true}
	alice, bob := newLiveUserWith(t, "alice", net, cfg), newLiveUserWith(t, "bob", net, cfg)
	id := startChat(t, alice.user, bob.user)
	waitPath(t, alice, id, PathLiveRelayed)
	waitPath(t, bob, id, PathLiveRelayed)
	alice.net.blind.Store(true)
	bob.net.blind.Store(true)
	toBob, toAlice := liveBodies("to bob", 1, 10), liveBodies("to alice", 1, 10)
	sendEach(t, alice.user, id, toBob)
	sendEach(t, bob.user, id, toAlice)
	waitReceived(t, bob.user, id, toBob)
	waitReceived(t, alice.user, id, toAlice)
}

// TestLivePathLeavesV2ChatsOnTheDHT: a version 2 chat of a client that
// runs the live path is not registered with the live host (its frames
// would bypass the ratchet: §17 has no version 2 frames yet), so it stays
// on the DHT path; a version 1 chat of the same kind of client is.
func TestLivePathLeavesV2ChatsOnTheDHT(t *testing.T) {
	net := dhttest.NewNetwork(t, 2)
	bob := newUser(t, "bob", net)
	for _, version := range []int{2, 1} {
		u := &liveUser{user: newUser(t, fmt.Sprint("alice v", version), net), live: loopbackLive, version: version}
		u.user.offline(t)
		u.online(t, net)
		started, err := u.c.StartChat(t.Context(), bob.sk.Public())
		if err != nil {
			t.Fatal(err)
		}
		u.c.chatsMu.Lock()
		cs := u.c.chats[started.ID]
		u.c.chatsMu.Unlock()
		if cs == nil {
			t.Fatalf("%s does not track the chat", u.name)
		}
		if registered := u.c.liveOf(cs) != nil; registered != (version == 1) {
			t.Errorf("version %d chat registered with the live host: %v", version, registered)
		}
	}
}
