package chat

import (
	"context"
	"crypto/ed25519"
	"encoding/binary"
	"errors"
	"path/filepath"
	"slices"
	"sync/atomic"
	"testing"

	"github.com/dhtchat/dhtchat/chat/wire"
	"github.com/dhtchat/dhtchat/dht"
	"github.com/dhtchat/dhtchat/dht/dhttest"
	"github.com/dhtchat/dhtchat/internal/testwait"
	"github.com/dhtchat/dhtchat/keyring"
)

// unusedNet is a Network that fails the test if the Client uses it.
type unusedNet struct{ t *testing.T }

func (n unusedNet) Connect(context.Context) error {
	n.t.Error("the Client joined the network")
	return errors.New("unused")
}

func (n unusedNet) Put(context.Context, ed25519.PrivateKey, uint64, []byte) error {
	n.t.Error("the Client published")
	return errors.New("unused")
}

func (n unusedNet) Get(context.Context, ed25519.PublicKey, ...dht.GetOption) (dht.Record, error) {
	n.t.Error("the Client fetched")
	return dht.Record{}, errors.New("unused")
}

// idleClient is a Client with a worker that has nothing to work on
// (WatchUsed, no Focus): it must leave the network alone.
func idleClient(t *testing.T) *Client {
	t.Helper()
	sk, err := keyring.GenerateSecretKey()
	if err != nil {
		t.Fatal(err)
	}
	c, err := Open(Config{Identity: sk, DBPath: filepath.Join(t.TempDir(), "dhtchat.db"), Network: unusedNet{t}})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	return c
}

// numbered is the i-th of a run of events a test emits.
func numbered(i int) Event {
	var id ChatID
	binary.BigEndian.PutUint64(id[:], uint64(i))
	return ChatEvent{ID: id}
}

// next reads the next event of events, failing the test if none comes.
func next(t *testing.T, events <-chan Event) Event {
	t.Helper()
	select {
	case ev, ok := <-events:
		if !ok {
			t.Fatal("the stream closed")
		}
		return ev
	case <-testwait.Context(t).Done():
		t.Fatal("no event")
	}
	return nil
}

// A subscriber that does not read costs the worker nothing: past
// subscriberQueue events, what it misses becomes one LagEvent, in place,
// and the other subscribers get every event.
func TestSubscribeLag(t *testing.T) {
	c := idleClient(t)
	ctx := t.Context()
	slow, fast := c.Subscribe(ctx), c.Subscribe(ctx)
	const extra = 10
	var got []Event
	for i := range subscriberQueue + extra {
		c.emit(ctx, numbered(i)) // returns at once: slow is not read
		got = append(got, next(t, fast))
	}
	for i, ev := range got {
		if ev != numbered(i) {
			t.Fatalf("the reading subscriber's event %d = %v, want %v", i, ev, numbered(i))
		}
	}
	for i := range subscriberQueue {
		if ev := next(t, slow); ev != numbered(i) {
			t.Fatalf("the slow subscriber's event %d = %v, want %v", i, ev, numbered(i))
		}
	}
	c.emit(ctx, numbered(-1)) // after the lag
	if ev := next(t, slow); ev != (LagEvent{Missed: extra}) {
		t.Fatalf("after %d events the slow subscriber got %v, want LagEvent{Missed: %d}", subscriberQueue, ev, extra)
	}
	if ev := next(t, slow); ev != numbered(-1) {
		t.Fatalf("after the LagEvent: %v, want %v", ev, numbered(-1))
	}
	if ev := next(t, fast); ev != numbered(-1) {
		t.Fatalf("the reading subscriber got %v, want %v", ev, numbered(-1))
	}
}

// A stream ends with its context, and every stream with Close; a Client
// without a Network has no worker, and its streams are closed at once.
func TestSubscribeEnds(t *testing.T) {
	closed := func(events <-chan Event) bool {
		select {
		case _, ok := <-events:
			return !ok
		case <-testwait.Context(t).Done():
			return false
		}
	}
	c := idleClient(t)
	ctx, cancel := context.WithCancel(t.Context())
	mine, other := c.Subscribe(ctx), c.Subscribe(t.Context())
	c.emit(ctx, numbered(1))
	cancel()
	// The event may or may not come first; then the stream closes.
	for ev := range mine {
		if ev != numbered(1) {
			t.Fatalf("got %v after the context ended", ev)
		}
	}
	if ev := next(t, other); ev != numbered(1) {
		t.Fatalf("the other stream got %v, want %v", ev, numbered(1))
	}
	if err := c.Close(); err != nil {
		t.Fatal(err)
	}
	if !closed(other) {
		t.Error("a stream is open after Close")
	}
	if !closed(c.Subscribe(t.Context())) {
		t.Error("Subscribe after Close gave an open stream")
	}

	sk, _ := keyring.GenerateSecretKey()
	offline, err := Open(Config{Identity: sk, DBPath: filepath.Join(t.TempDir(), "dhtchat.db")})
	if err != nil {
		t.Fatal(err)
	}
	defer offline.Close()
	if !closed(offline.Subscribe(t.Context())) {
		t.Error("an offline Client's stream is open")
	}
}

// connectCounter counts the Connects of a Network.
type connectCounter struct {
	Network
	n atomic.Int32
}

func (c *connectCounter) Connect(ctx context.Context) error {
	c.n.Add(1)
	return c.Network.Connect(ctx)
}

// With WatchUsed, the worker publishes and polls the chats named to Focus,
// publishes those named to Use, and leaves the others alone; it joins the
// network once, whether Connect did first or not.
func TestWatchUsed(t *testing.T) {
	net := dhttest.NewNetwork(t, 3)
	alice, bob, carol, dave := newUser(t, "alice", net), newUser(t, "bob", net), newUser(t, "carol", net), newUser(t, "dave", net)
	toBob, toCarol, toDave := startChat(t, alice, bob), startChat(t, alice, carol), startChat(t, alice, dave)
	alice.c.Close()
	counted := newCountingNet(alice.node)
	joins := &connectCounter{Network: counted}
	c, err := Open(Config{Identity: alice.sk, DBPath: filepath.Join(alice.dir, "dhtchat.db"), Network: joins, Poll: fastPoll})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	alice.c = c
	ctx := t.Context()
	inB, err := c.Info(ctx, toBob)
	if err != nil {
		t.Fatal(err)
	}
	inC, err := c.Info(ctx, toCarol)
	if err != nil {
		t.Fatal(err)
	}
	inD, err := c.Info(ctx, toDave)
	if err != nil {
		t.Fatal(err)
	}
	kb, kc, kd := keysOf(t, alice, inB), keysOf(t, alice, inC), keysOf(t, alice, inD)
	if err := c.Connect(ctx); err != nil {
		t.Fatal(err)
	}
	// Every chat has something to publish; carol's is not used.
	if _, err := c.Send(ctx, toCarol, "for carol"); err != nil {
		t.Fatal(err)
	}
	events := c.Subscribe(ctx)
	c.Focus(toBob)
	c.Use(toDave)
	if _, err := c.Send(ctx, toBob, "for bob"); err != nil {
		t.Fatal(err)
	}
	if _, err := c.Send(ctx, toDave, "for dave"); err != nil {
		t.Fatal(err)
	}
	checkInOrder(t, receiveAll(t, bob, toBob, 1), []string{"for bob"})
	checkInOrder(t, receiveAll(t, dave, toDave, 1), []string{"for dave"})
	testwait.Until(t, "the worker to poll the chat with bob 5 times", func() bool {
		gets, _ := counted.ops(kb)
		return gets >= 5
	})
	if gets, puts := counted.ops(kc); gets != 0 || puts != 0 {
		t.Errorf("the worker made %d Gets and %d Puts in the chat with carol, which was not used", gets, puts)
	}
	// Publishing reads our own records back; polling reads dave's.
	daves := wire.DirectionOf(alice.sk.Public().Bytes(), dave.sk.Public().Bytes()).Other()
	counted.mu.Lock()
	for i := range wire.MaxSlots {
		if n := counted.gets[string(kd.SlotPublicKey(daves, i))]; n != 0 {
			t.Errorf("the worker read dave's slot %d %d times; the chat was only to publish", i, n)
		}
	}
	counted.mu.Unlock()
	for {
		if ev, ok := next(t, events).(NetworkEvent); ok && ev.State == Online {
			break
		}
	}
	if n := joins.n.Load(); n != 1 {
		t.Errorf("Connect and the worker joined the network %d times, want once", n)
	}
	// A subscriber that comes later is told the state of the network.
	if ev := next(t, c.Subscribe(ctx)); ev != (NetworkEvent{State: Online}) {
		t.Errorf("a late subscriber's first event is %v, want NetworkEvent{State: Online}", ev)
	}
}

// With WatchUsed, a chat named to Focus that is paused is told of
// (ChatEvent), so that the command using it can say so.
func TestWatchUsedPausedChat(t *testing.T) {
	net := dhttest.NewNetwork(t, 3)
	alice, bob := newUser(t, "alice", net), newUser(t, "bob", net)
	id := startChat(t, alice, bob)
	if _, _, err := alice.c.Block(t.Context(), bob.sk.Public()); err != nil {
		t.Fatal(err)
	}
	events := alice.c.Subscribe(t.Context())
	alice.c.Focus(id)
	for {
		if ev, ok := next(t, events).(ChatEvent); ok {
			if ev.ID != id {
				t.Fatalf("ChatEvent about %v, want %v", ev.ID, id)
			}
			return
		}
	}
}

// Sync publishes what is pending, fetches once, publishes our ack, and
// tells subscribers what it did.
func TestSync(t *testing.T) {
	net := dhttest.NewNetwork(t, 3)
	alice, bob := newUser(t, "alice", net), newUser(t, "bob", net)
	id := startChat(t, alice, bob)
	ctx := t.Context()
	if _, err := alice.c.Send(ctx, id, "a1"); err != nil {
		t.Fatal(err)
	}
	res, err := alice.c.Sync(ctx, id)
	if err != nil || len(res.Published) != 1 || res.Published[0].Body != "a1" || len(res.Received) != 0 || res.Pending != 0 {
		t.Fatalf("alice's Sync = %+v, %v; want a1 published, nothing received or pending", res, err)
	}
	if _, err := bob.c.Send(ctx, id, "b1"); err != nil {
		t.Fatal(err)
	}
	var got []Entry
	testwait.Until(t, "bob to receive a1", func() bool {
		res, err := bob.c.Sync(ctx, id)
		if err != nil {
			t.Fatalf("bob's Sync: %v", err)
		}
		got = append(got, res.Received...)
		return len(got) > 0
	})
	checkInOrder(t, got, []string{"a1"})

	events := alice.c.Subscribe(ctx)
	var received, delivered []string
	testwait.Until(t, "alice to receive b1 and the ack of a1", func() bool {
		res, err := alice.c.Sync(ctx, id)
		if err != nil {
			t.Fatalf("alice's Sync: %v", err)
		}
		for _, e := range res.Received {
			received = append(received, e.Body)
		}
		for _, e := range res.Delivered {
			delivered = append(delivered, e.Body)
		}
		return len(received) > 0 && len(delivered) > 0
	})
	if !slices.Equal(received, []string{"b1"}) || !slices.Equal(delivered, []string{"a1"}) {
		t.Fatalf("alice's Syncs received %q and delivered %q; want b1 and a1", received, delivered)
	}
	var told []string
	for len(told) < 2 {
		switch ev := next(t, events).(type) {
		case MessageEvent:
			told = append(told, "received "+ev.Entry.Body)
		case StatusEvent:
			if ev.Entry.Status == Delivered {
				told = append(told, "delivered "+ev.Entry.Body)
			}
		}
	}
	slices.Sort(told)
	if !slices.Equal(told, []string{"delivered a1", "received b1"}) {
		t.Errorf("the subscriber was told %q", told)
	}

	if _, err := alice.c.Sync(ctx, ChatID{1}); !errors.Is(err, ErrUnknownChat) {
		t.Errorf("Sync of no chat = %v, want ErrUnknownChat", err)
	}
	offline, err := Open(Config{Identity: alice.sk, DBPath: filepath.Join(alice.dir, "dhtchat.db")})
	if err != nil {
		t.Fatal(err)
	}
	defer offline.Close()
	if _, err := offline.Sync(ctx, id); !errors.Is(err, ErrOffline) {
		t.Errorf("Sync without a Network = %v, want ErrOffline", err)
	}
}
