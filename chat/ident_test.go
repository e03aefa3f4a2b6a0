// This file is long because it covers chat identity end to end (keyed by
// friend and chat ID, blocking, deleting) with real clients and network.

package chat

import (
	"context"
	"crypto/ed25519"
	"errors"
	"fmt"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/dhtchat/dhtchat/chat/internal/store"
	"github.com/dhtchat/dhtchat/chat/wire"
	"github.com/dhtchat/dhtchat/dht"
	"github.com/dhtchat/dhtchat/dht/dhttest"
	"github.com/dhtchat/dhtchat/internal/testwait"
	"github.com/dhtchat/dhtchat/keyring"
)

// TestSameWireIDAnotherFriend: mallory saw the chat key that bob made for
// his chat with alice, and gets alice to join a chat of hers under the same
// wire ID before alice joins bob's. Alice still joins bob's chat, and the
// two chats never mix: each friend's messages arrive in their own chat
// only, through alice's worker, and what alice writes to one reaches that
// friend only.
func TestSameWireIDAnotherFriend(t *testing.T) {
	ctx := t.Context()
	net := dhttest.NewNetwork(t, 3)
	alice, bob, mallory := newUser(t, "alice", net), newUser(t, "bob", net), newUser(t, "mallory", net)

	bobs, err := bob.c.StartChat(ctx, alice.sk.Public())
	if err != nil {
		t.Fatal(err)
	}
	// Mallory's key for her and alice, with the wire ID of bob's.
	pm, err := mallory.c.pairKey(alice.sk.Public())
	if err != nil {
		t.Fatal(err)
	}
	squatKey := wire.ChatKeyFor(pm, bobs.Key.ID())
	for _, u := range []*user{alice, mallory} {
		if err := u.c.Connect(ctx); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := mallory.c.JoinChat(ctx, alice.sk.Public(), squatKey); err != nil {
		t.Fatal(err)
	}
	squat, err := alice.c.JoinChat(ctx, mallory.sk.Public(), squatKey)
	if err != nil {
		t.Fatalf("alice joins mallory's chat: %v", err)
	}
	real, err := alice.c.JoinChat(ctx, bob.sk.Public(), bobs.Key)
	if err != nil {
		t.Fatalf("alice joins bob's chat after mallory's with the same wire ID: %v", err)
	}
	if real.ID == squat.ID || real.ID != bobs.ID || real.Key != bobs.Key || !real.Peer.Equal(bob.sk.Public()) {
		t.Fatalf("bob's chat for alice = %+v (mallory's %v); want bob's chat %v", real, squat.ID, bobs.ID)
	}
	// The chat key finds each chat by its friend.
	for _, q := range []struct {
		peer keyring.PublicKey
		key  wire.ChatKey
		want ChatID
	}{{bob.sk.Public(), bobs.Key, real.ID}, {mallory.sk.Public(), squatKey, squat.ID}} {
		in, err := alice.c.ChatWithKey(ctx, q.peer, q.key)
		if err != nil || in.ID != q.want {
			t.Errorf("ChatWithKey = %v, %v; want %v", in.ID, err, q.want)
		}
		if in, err := alice.c.ChatByKey(ctx, q.key); err != nil || in.ID != q.want {
			t.Errorf("ChatByKey = %v, %v; want %v", in.ID, err, q.want)
		}
	}

	// Alice's worker receives from both.
	watchAll(t, alice)
	events := runWorker(t, alice)
	if _, err := mallory.c.Send(ctx, squat.ID, "from mallory"); err != nil {
		t.Fatal(err)
	}
	if _, err := mallory.c.Flush(ctx, squat.ID); err != nil {
		t.Fatal(err)
	}
	if _, err := bob.c.Send(ctx, bobs.ID, "from bob"); err != nil {
		t.Fatal(err)
	}
	if _, err := bob.c.Flush(ctx, bobs.ID); err != nil {
		t.Fatal(err)
	}
	got := map[ChatID][]string{}
	for len(got[real.ID]) < 1 || len(got[squat.ID]) < 1 {
		e := events.next(t)
		if m, ok := e.(MessageEvent); ok {
			got[m.Entry.Chat] = append(got[m.Entry.Chat], m.Entry.Body)
		}
	}
	if g := got[real.ID]; len(g) != 1 || g[0] != "from bob" {
		t.Errorf("alice's chat with bob received %q", g)
	}
	if g := got[squat.ID]; len(g) != 1 || g[0] != "from mallory" {
		t.Errorf("alice's chat with mallory received %q", g)
	}

	// What alice writes to bob reaches bob, not mallory.
	if _, err := alice.c.Send(ctx, real.ID, "to bob only"); err != nil {
		t.Fatal(err)
	}
	checkInOrder(t, receiveAll(t, bob, bobs.ID, 1), []string{"to bob only"})
	if res, err := mallory.c.Fetch(ctx, squat.ID); err != nil || len(res.Received) != 0 {
		t.Errorf("mallory's fetch after bob got alice's message = %d messages, %v; want none", len(res.Received), err)
	}
}

// worker is the events of a Client's worker.
type worker struct {
	events <-chan Event
}

// runWorker collects the events of u's worker until the test ends. For
// it to work on every chat, open the Client with WatchAll (watchAll).
func runWorker(t *testing.T, u *user) *worker {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	t.Cleanup(cancel)
	return &worker{events: u.c.Subscribe(ctx)}
}

// watchAll opens u's Client again with WatchAll: its worker works on every
// chat, as the full-screen UI's does.
func watchAll(t *testing.T, u *user) {
	t.Helper()
	if err := u.c.Close(); err != nil {
		t.Fatal(err)
	}
	c, err := Open(Config{Identity: u.sk, DBPath: filepath.Join(u.dir, "dhtchat.db"), Network: u.node, Poll: fastPoll, Watch: WatchAll})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	u.c = c
}

func (w *worker) next(t *testing.T) Event {
	t.Helper()
	select {
	case ev, ok := <-w.events:
		if !ok {
			t.Fatal("the worker stopped")
		}
		return ev
	case <-testwait.Context(t).Done():
		t.Fatal("no event from the worker")
	}
	return nil
}

// waitChatEvent waits for a ChatEvent about chat id, and returns the
// messages received meanwhile.
func (w *worker) waitChatEvent(t *testing.T, id ChatID) []Entry {
	t.Helper()
	var got []Entry
	for {
		switch ev := w.next(t).(type) {
		case ChatEvent:
			if ev.ID == id {
				return got
			}
		case MessageEvent:
			got = append(got, ev.Entry)
		}
	}
}

// countingNet counts the Gets and Puts of each record name, and can hold
// Puts.
type countingNet struct {
	Network
	mu         sync.Mutex
	gets, puts map[string]int
	hold       map[string]bool // Puts to these names wait for release
	held       chan struct{}   // closed when a Put is held
	release    chan struct{}
}

func newCountingNet(n Network) *countingNet {
	return &countingNet{Network: n, gets: map[string]int{}, puts: map[string]int{}}
}

func (n *countingNet) Get(ctx context.Context, pub ed25519.PublicKey, opts ...dht.GetOption) (dht.Record, error) {
	n.mu.Lock()
	n.gets[string(pub)]++
	n.mu.Unlock()
	return n.Network.Get(ctx, pub, opts...)
}

func (n *countingNet) Put(ctx context.Context, key ed25519.PrivateKey, seq uint64, payload []byte) error {
	name := string(key.Public().(ed25519.PublicKey))
	n.mu.Lock()
	n.puts[name]++
	hold := n.hold[name]
	if hold {
		delete(n.hold, name)
		close(n.held)
	}
	n.mu.Unlock()
	if hold {
		select {
		case <-n.release:
		case <-ctx.Done():
			return ctx.Err()
		}
	}
	return n.Network.Put(ctx, key, seq, payload)
}

// holdPut makes the next Put of our slot 0 of the chat with keys wait for
// release to be closed; held is closed when it does.
func (n *countingNet) holdPut(keys *wire.Keys, dir wire.Direction) (held, release chan struct{}) {
	n.mu.Lock()
	defer n.mu.Unlock()
	n.hold = map[string]bool{string(keys.SlotPublicKey(dir, 0)): true}
	n.held, n.release = make(chan struct{}), make(chan struct{})
	return n.held, n.release
}

// ops returns how many Gets and Puts went to the records of the chat with
// keys, in both directions.
func (n *countingNet) ops(keys *wire.Keys) (gets, puts int) {
	n.mu.Lock()
	defer n.mu.Unlock()
	for d := range 2 {
		for i := range wire.MaxSlots {
			pub := keys.SlotPublicKey(wire.Direction(d), i)
			gets += n.gets[string(pub)]
			puts += n.puts[string(pub)]
		}
	}
	return gets, puts
}

// keysOf returns the keys of chat in as u derives them.
func keysOf(t *testing.T, u *user, in Info) *wire.Keys {
	t.Helper()
	p, err := u.c.pairKey(in.Peer)
	if err != nil {
		t.Fatal(err)
	}
	k, err := in.Key.Keys(p)
	if err != nil {
		t.Fatal(err)
	}
	return k
}

// friendSet is a Config.IsFriend that a test changes.
type friendSet struct {
	mu  sync.Mutex
	not map[keyring.PublicKey]bool
}

func (f *friendSet) isFriend(pk keyring.PublicKey) bool {
	f.mu.Lock()
	defer f.mu.Unlock()
	return !f.not[pk]
}

func (f *friendSet) remove(pk keyring.PublicKey) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.not[pk] = true
}

// TestPausedChatsAreLeftAlone: alice's worker polls her chats with bob,
// carol and dave. Another Client on her database (another dhtchat process)
// blocks bob, then deletes the chat with carol, and dave stops being a
// friend. Each time alice's worker notices within its reload period (it
// says so with a ChatEvent) and from then on makes not one DHT read or
// write in that chat, while it goes on polling the others. Bob's message
// sent while he is blocked arrives only once he is unblocked.
func TestPausedChatsAreLeftAlone(t *testing.T) {
	ctx := t.Context()
	netw := dhttest.NewNetwork(t, 3)
	alice := newUser(t, "alice", netw)
	bob, carol, dave := newUser(t, "bob", netw), newUser(t, "carol", netw), newUser(t, "dave", netw)
	chats := map[string]ChatID{}
	for _, u := range []*user{bob, carol, dave} {
		chats[u.name] = startChat(t, alice, u)
	}
	// Alice again, with her network counted and a friend list.
	alice.c.Close()
	counted := newCountingNet(alice.node)
	friends := &friendSet{not: map[keyring.PublicKey]bool{}}
	c, err := Open(Config{Identity: alice.sk, DBPath: filepath.Join(alice.dir, "dhtchat.db"), Network: counted,
		Poll: fastPoll, IsFriend: friends.isFriend, Watch: WatchAll})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	alice.c = c
	keys := map[string]*wire.Keys{}
	for name, id := range chats {
		in, err := c.Info(ctx, id)
		if err != nil {
			t.Fatal(err)
		}
		keys[name] = keysOf(t, alice, in)
	}
	// The other process: no network needed to block or delete.
	other, err := Open(Config{Identity: alice.sk, DBPath: filepath.Join(alice.dir, "dhtchat.db")})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { other.Close() })

	events := runWorker(t, alice)
	// waitPolled waits until the worker has read the records of chat name
	// n more times.
	waitPolled := func(name string, n int) {
		t.Helper()
		start, _ := counted.ops(keys[name])
		testwait.Until(t, fmt.Sprintf("the worker to poll the chat with %s %d more times", name, n), func() bool {
			got, _ := counted.ops(keys[name])
			return got >= start+n
		})
	}
	// leftAlone checks that chat name had no DHT operation while the
	// worker polled chat control ten more times.
	leftAlone := func(name, control string) {
		t.Helper()
		gets, puts := counted.ops(keys[name])
		waitPolled(control, 10)
		if g, p := counted.ops(keys[name]); g != gets || p != puts {
			t.Fatalf("the paused chat with %s had %d gets and %d puts more", name, g-gets, p-puts)
		}
	}
	for _, name := range []string{"bob", "carol", "dave"} {
		waitPolled(name, 2)
	}

	// Blocked by the other process.
	if _, changed, err := other.Block(ctx, bob.sk.Public()); err != nil || !changed {
		t.Fatalf("Block = %v, %v", changed, err)
	}
	events.waitChatEvent(t, chats["bob"])
	if _, err := bob.c.Send(ctx, chats["bob"], "while blocked"); err != nil {
		t.Fatal(err)
	}
	if _, err := bob.c.Flush(ctx, chats["bob"]); err != nil {
		t.Fatal(err)
	}
	leftAlone("bob", "dave")
	if in, err := c.Info(ctx, chats["bob"]); err != nil || !in.Blocked || !in.Paused {
		t.Errorf("Info of bob's chat = %+v, %v; want Blocked and Paused", in, err)
	}
	if _, err := c.Send(ctx, chats["bob"], "x"); !errors.Is(err, ErrPaused) {
		t.Errorf("Send in a blocked chat = %v, want ErrPaused", err)
	}
	if _, err := c.StartChat(ctx, bob.sk.Public()); !errors.Is(err, ErrBlocked) {
		t.Errorf("StartChat with a blocked friend = %v, want ErrBlocked", err)
	}

	// Deleted by the other process.
	d, err := other.DeleteChat(ctx, chats["carol"])
	if err != nil {
		t.Fatal(err)
	}
	if d.Info.ID != chats["carol"] {
		t.Errorf("DeleteChat = %+v", d)
	}
	events.waitChatEvent(t, chats["carol"])
	leftAlone("carol", "dave")
	if _, err := c.Info(ctx, chats["carol"]); !errors.Is(err, ErrUnknownChat) {
		t.Errorf("Info of the deleted chat = %v, want ErrUnknownChat", err)
	}

	// Unblocked: bob's chat resumes, and his message arrives.
	if _, changed, err := other.Unblock(ctx, bob.sk.Public()); err != nil || !changed {
		t.Fatalf("Unblock = %v, %v", changed, err)
	}
	events.waitChatEvent(t, chats["bob"])
	for got := []Entry(nil); len(got) == 0; {
		if m, ok := events.next(t).(MessageEvent); ok && m.Entry.Chat == chats["bob"] {
			got = append(got, m.Entry)
			checkInOrder(t, got, []string{"while blocked"})
		}
	}

	// No longer a friend: paused too.
	friends.remove(dave.sk.Public())
	events.waitChatEvent(t, chats["dave"])
	leftAlone("dave", "bob")
	if in, err := c.Info(ctx, chats["dave"]); err != nil || in.Blocked || !in.Paused {
		t.Errorf("Info of dave's chat = %+v, %v; want Paused, not Blocked", in, err)
	}
}

// TestBlockInProcess: Block stops the worker of the same Client at once:
// when it returns, the chat has no DHT operation in flight and gets none.
func TestBlockInProcess(t *testing.T) {
	ctx := t.Context()
	netw := dhttest.NewNetwork(t, 3)
	alice, bob, carol := newUser(t, "alice", netw), newUser(t, "bob", netw), newUser(t, "carol", netw)
	toBob, toCarol := startChat(t, alice, bob), startChat(t, alice, carol)
	alice.c.Close()
	counted := newCountingNet(alice.node)
	c, err := Open(Config{Identity: alice.sk, DBPath: filepath.Join(alice.dir, "dhtchat.db"), Network: counted, Poll: fastPoll, Watch: WatchAll})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	alice.c = c
	inB, err := c.Info(ctx, toBob)
	if err != nil {
		t.Fatal(err)
	}
	inC, err := c.Info(ctx, toCarol)
	if err != nil {
		t.Fatal(err)
	}
	kb, kc := keysOf(t, alice, inB), keysOf(t, alice, inC)
	runWorker(t, alice)
	waitGets := func(k *wire.Keys, n int) {
		t.Helper()
		start, _ := counted.ops(k)
		testwait.Until(t, "the worker to poll", func() bool {
			g, _ := counted.ops(k)
			return g >= start+n
		})
	}
	waitGets(kb, 3)
	chats, changed, err := c.Block(ctx, bob.sk.Public())
	if err != nil || !changed || len(chats) != 1 || chats[0].ID != toBob {
		t.Fatalf("Block = %+v, %v, %v", chats, changed, err)
	}
	gets, puts := counted.ops(kb)
	waitGets(kc, 10)
	if g, p := counted.ops(kb); g != gets || p != puts {
		t.Fatalf("bob's chat had %d gets and %d puts after Block returned", g-gets, p-puts)
	}
	if _, err := c.JoinChat(ctx, bob.sk.Public(), inB.Key); !errors.Is(err, ErrBlocked) {
		t.Errorf("JoinChat with a blocked friend = %v, want ErrBlocked", err)
	}
	if _, err := c.Fetch(ctx, toBob); !errors.Is(err, ErrPaused) {
		t.Errorf("Fetch of a blocked chat = %v, want ErrPaused", err)
	}
	// Delete in process: the same.
	d, err := c.DeleteChat(ctx, toCarol)
	if err != nil || d.Info.ID != toCarol {
		t.Fatalf("DeleteChat = %+v, %v", d, err)
	}
	gets, puts = counted.ops(kc)
	if _, _, err := c.Unblock(ctx, bob.sk.Public()); err != nil {
		t.Fatal(err)
	}
	waitGets(kb, 10)
	if g, p := counted.ops(kc); g != gets || p != puts {
		t.Fatalf("carol's chat had %d gets and %d puts after DeleteChat returned", g-gets, p-puts)
	}
}

// TestBlockWaitsForOperation: Block returns only once the worker's
// operation on the chat that was in flight has ended, so that nothing of
// the chat goes on after it.
func TestBlockWaitsForOperation(t *testing.T) {
	ctx := t.Context()
	netw := dhttest.NewNetwork(t, 3)
	alice, bob := newUser(t, "alice", netw), newUser(t, "bob", netw)
	id := startChat(t, alice, bob)
	alice.c.Close()
	counted := newCountingNet(alice.node)
	c, err := Open(Config{Identity: alice.sk, DBPath: filepath.Join(alice.dir, "dhtchat.db"), Network: counted, Poll: fastPoll, Watch: WatchAll})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	alice.c = c
	in, err := c.Info(ctx, id)
	if err != nil {
		t.Fatal(err)
	}
	keys := keysOf(t, alice, in)
	held, release := counted.holdPut(keys, wire.DirectionOf(alice.sk.Public().Bytes(), bob.sk.Public().Bytes()))
	runWorker(t, alice)
	if _, err := c.Send(ctx, id, "held"); err != nil {
		t.Fatal(err)
	}
	select {
	case <-held:
	case <-testwait.Context(t).Done():
		t.Fatal("the worker did not publish")
	}
	var released sync.Mutex // held by the test until it releases the Put
	released.Lock()
	done := make(chan bool, 1)
	go func() {
		_, _, err := c.Block(ctx, bob.sk.Public())
		if err != nil {
			t.Error(err)
		}
		done <- released.TryLock() // false: Block returned before the release
	}()
	testwait.Until(t, "the block to be stored", func() bool {
		blocked, err := c.Blocked(ctx, bob.sk.Public())
		if err != nil {
			t.Fatal(err)
		}
		return blocked
	})
	released.Unlock()
	close(release)
	if !<-done {
		t.Fatal("Block returned while the worker's publish of the chat was still in flight")
	}
}

// TestBlockWaitsWhileReloadUntracks: as TestBlockWaitsForOperation, when
// the worker's reload has already seen the block in the store and is
// taking the chat out (waiting for the operation itself) as Block runs.
// Block must still wait for the operation. (The race that once failed
// TestBlockWaitsForOperation in a loaded run, made certain.)
func TestBlockWaitsWhileReloadUntracks(t *testing.T) {
	ctx := t.Context()
	netw := dhttest.NewNetwork(t, 3)
	alice, bob := newUser(t, "alice", netw), newUser(t, "bob", netw)
	id := startChat(t, alice, bob)
	alice.c.Close()
	counted := newCountingNet(alice.node)
	c := openClient(t, alice, filepath.Join(alice.dir, "dhtchat.db"), counted, fastPoll)
	alice.c = c
	in, err := c.Info(ctx, id)
	if err != nil {
		t.Fatal(err)
	}
	held, release := counted.holdPut(keysOf(t, alice, in), wire.DirectionOf(alice.sk.Public().Bytes(), bob.sk.Public().Bytes()))
	runWorker(t, alice)
	c.Use(id) // the worker publishes the chat, as for "dhtchat send"
	var reloads sync.WaitGroup
	unhold := sync.OnceFunc(func() { close(release) })
	t.Cleanup(func() { unhold(); reloads.Wait() }) // before the worker stops
	if _, err := c.Send(ctx, id, "held"); err != nil {
		t.Fatal(err)
	}
	select {
	case <-held:
	case <-testwait.Context(t).Done():
		t.Fatal("the worker did not publish")
	}
	// The block is stored, and a reload takes the chat out first.
	if _, err := c.db.Block(ctx, store.PeerKey(bob.sk.Public().Bytes())); err != nil {
		t.Fatal(err)
	}
	c.chatsMu.Lock()
	cs := c.chats[id]
	c.chatsMu.Unlock()
	reloads.Go(func() { c.reload(ctx, nil, false) })
	testwait.Until(t, "the reload to take the chat out", func() bool {
		c.chatsMu.Lock()
		defer c.chatsMu.Unlock()
		_, ok := c.chats[id]
		return !ok
	})
	done := make(chan bool, 1)
	go func() {
		if _, _, err := c.Block(ctx, bob.sk.Public()); err != nil {
			t.Error(err)
		}
		// The operation holds cs.run until it ends.
		ended := cs.run.TryLock()
		if ended {
			cs.run.Unlock()
		}
		done <- ended
	}()
	// Give a Block that does not wait the time to return; one that waits
	// passes whatever the timing (this is no timed assertion).
	select {
	case ended := <-done:
		if !ended {
			t.Fatal("Block returned while the worker's publish of the chat was still in flight")
		}
		t.Fatal("Block returned before the held publish was released")
	case <-time.After(100 * time.Millisecond):
	}
	unhold()
	if !<-done {
		t.Fatal("Block returned while the worker's publish of the chat was still in flight")
	}
}
