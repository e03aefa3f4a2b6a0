package chat

import (
	"context"
	"crypto/ed25519"
	"errors"
	"fmt"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/dhtchat/dhtchat/chat/wire"
	"github.com/dhtchat/dhtchat/dht"
	"github.com/dhtchat/dhtchat/dht/dhttest"
	"github.com/dhtchat/dhtchat/internal/testwait"
	"github.com/dhtchat/dhtchat/keyring"
)

// fastPoll polls often: the loopback network answers in milliseconds.
var fastPoll = PollPolicy{
	Focused: 20 * time.Millisecond, Recent: 20 * time.Millisecond, Idle: 20 * time.Millisecond,
	MaxBackoff: 200 * time.Millisecond, Parallel: 4, Reload: 50 * time.Millisecond,
}

// user is one person with a Client on the test network.
type user struct {
	name string
	sk   keyring.SecretKey
	dir  string
	node *dht.Node
	c    *Client
}

func newUser(t *testing.T, name string, net *dht.LocalNetwork) *user {
	t.Helper()
	sk, err := keyring.GenerateSecretKey()
	if err != nil {
		t.Fatal(err)
	}
	u := &user{name: name, sk: sk, dir: t.TempDir()}
	u.online(t, net)
	return u
}

// online (re)starts the user's DHT client and Client on their database.
func (u *user) online(t *testing.T, net *dht.LocalNetwork) {
	t.Helper()
	u.node = dhttest.NewClient(t, net)
	c, err := Open(Config{Identity: u.sk, DBPath: filepath.Join(u.dir, "dhtchat.db"), Network: u.node, Poll: fastPoll})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	u.c = c
}

// offline closes the user's Client and DHT client.
func (u *user) offline(t *testing.T) {
	t.Helper()
	if err := u.c.Close(); err != nil {
		t.Fatal(err)
	}
	if err := u.node.Close(); err != nil {
		t.Fatal(err)
	}
}

// startChat has a start a chat with b, and b join it.
func startChat(t *testing.T, a, b *user) ChatID {
	t.Helper()
	ctx := t.Context()
	started, err := a.c.StartChat(ctx, b.sk.Public())
	if err != nil {
		t.Fatal(err)
	}
	parsed, err := wire.ParseChatKey(started.Key.String())
	if err != nil {
		t.Fatal(err)
	}
	joined, err := b.c.JoinChat(ctx, a.sk.Public(), parsed)
	if err != nil {
		t.Fatal(err)
	}
	if joined.ID != started.ID {
		t.Fatalf("the chat is %v for %s and %v for %s; want one ID", started.ID, a.name, joined.ID, b.name)
	}
	return started.ID
}

// receiveAll fetches as u until it holds want messages of chat id, and
// returns them.
func receiveAll(t *testing.T, u *user, id ChatID, want int) []Entry {
	t.Helper()
	ctx := testwait.Context(t)
	var got []Entry
	if err := testwait.Poll(ctx, func() bool {
		res, err := u.c.Fetch(ctx, id)
		if err != nil {
			t.Fatalf("%s: Fetch: %v (after %d of %d messages)", u.name, err, len(got), want)
		}
		got = append(got, res.Received...)
		return len(got) >= want
	}); err != nil {
		t.Fatalf("%s: got %d of %d messages: %v", u.name, len(got), want, err)
	}
	return got
}

func checkInOrder(t *testing.T, got []Entry, want []string) {
	t.Helper()
	if len(got) != len(want) {
		t.Fatalf("got %d messages, want %d", len(got), len(want))
	}
	for i, e := range got {
		if e.N != uint64(i+1) || e.Body != want[i] || e.Outgoing || e.Status != Received {
			t.Fatalf("message %d = {N:%d Body:%.40q Outgoing:%v Status:%v}, want N %d body %.40q",
				i, e.N, e.Body, e.Outgoing, e.Status, i+1, want[i])
		}
	}
}

func TestChatBothWays(t *testing.T) {
	net := dhttest.NewNetwork(t, 6)
	alice, bob := newUser(t, "alice", net), newUser(t, "bob", net)
	id := startChat(t, alice, bob)
	ctx := t.Context()

	toBob := []string{"hello bob", `quotes "double" 'single' and \backslash`, "unicode: héllo wörld — 日本語 🎉", strings.Repeat("long line ", 150)}
	if _, err := alice.c.Send(ctx, id, toBob...); err != nil {
		t.Fatal(err)
	}
	res, err := alice.c.Flush(ctx, id)
	if err != nil {
		t.Fatal(err)
	}
	if len(res.Changed) != len(toBob) || res.Queued != 0 {
		t.Fatalf("Flush = %d changed, %d queued; want %d, 0", len(res.Changed), res.Queued, len(toBob))
	}
	checkInOrder(t, receiveAll(t, bob, id, len(toBob)), toBob)

	toAlice := []string{"hi alice", "second"}
	if _, err := bob.c.Send(ctx, id, toAlice...); err != nil {
		t.Fatal(err)
	}
	if _, err := bob.c.Flush(ctx, id); err != nil {
		t.Fatal(err)
	}
	checkInOrder(t, receiveAll(t, alice, id, len(toAlice)), toAlice)

	// Bob acknowledged alice's messages when he fetched them.
	hist, err := alice.c.History(ctx, id, 0, 100)
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range hist {
		if e.Outgoing && e.Status != Delivered {
			t.Errorf("alice's message %d is %v, want delivered", e.N, e.Status)
		}
	}
	if len(hist) != len(toBob)+len(toAlice) {
		t.Errorf("alice's history has %d messages, want %d", len(hist), len(toBob)+len(toAlice))
	}
}

// TestNeverOnlineTogether: alice sends 200 messages, more than one record
// holds, and goes offline; only then bob comes online and gets them all.
func TestNeverOnlineTogether(t *testing.T) {
	if testing.Short() {
		t.Skip("200 messages through a 6-server network: slow, skipped with -short")
	}
	net := dhttest.NewNetwork(t, 6)
	alice, bob := newUser(t, "alice", net), newUser(t, "bob", net)
	id := startChat(t, alice, bob)
	bob.offline(t)

	ctx := t.Context()
	var want []string
	for i := range 200 {
		want = append(want, fmt.Sprintf("message %03d %s", i+1, strings.Repeat("x", 68)))
	}
	if _, err := alice.c.Send(ctx, id, want...); err != nil {
		t.Fatal(err)
	}
	res, err := alice.c.Flush(ctx, id)
	if err != nil {
		t.Fatal(err)
	}
	if res.Slots < 2 || res.Queued != 0 {
		t.Fatalf("Flush used %d slots and queued %d; want several slots and nothing queued", res.Slots, res.Queued)
	}
	alice.offline(t)

	bob.online(t, net)
	checkInOrder(t, receiveAll(t, bob, id, len(want)), want)
	if _, err := bob.c.Send(ctx, id, "got them all"); err != nil {
		t.Fatal(err)
	}
	if _, err := bob.c.Flush(ctx, id); err != nil {
		t.Fatal(err)
	}
	bob.offline(t)

	alice.online(t, net)
	checkInOrder(t, receiveAll(t, alice, id, 1), []string{"got them all"})
	hist, err := alice.c.History(ctx, id, 0, 1000)
	if err != nil {
		t.Fatal(err)
	}
	delivered := 0
	for _, e := range hist {
		if e.Outgoing && e.Status == Delivered {
			delivered++
		}
	}
	if delivered != 200 {
		t.Fatalf("alice's history shows %d delivered, want 200", delivered)
	}
}

// TestWorkerBurst runs both workers: 1,000 messages sent at once, more than
// all slots hold, arrive in order and exactly once, and all are delivered.
func TestWorkerBurst(t *testing.T) {
	if testing.Short() {
		t.Skip("1,000 messages through two workers: slow, skipped with -short")
	}
	net := dhttest.NewNetwork(t, 6)
	alice, bob := newUser(t, "alice", net), newUser(t, "bob", net)
	id := startChat(t, alice, bob)
	ctx := testwait.Context(t)

	aliceEvents, bobEvents := alice.c.Subscribe(ctx), bob.c.Subscribe(ctx)
	bob.c.Focus(id)
	alice.c.Focus(id)

	const n = 1000
	want := make([]string, n)
	for i := range want {
		want[i] = fmt.Sprintf("burst %04d", i+1)
	}
	if _, err := alice.c.Send(ctx, id, want...); err != nil {
		t.Fatal(err)
	}

	var got []Entry
	delivered := 0
	for len(got) < n || delivered < n {
		select {
		case ev := <-bobEvents:
			if m, ok := ev.(MessageEvent); ok {
				got = append(got, m.Entry)
			}
		case ev := <-aliceEvents:
			if s, ok := ev.(StatusEvent); ok && s.Entry.Status == Delivered {
				delivered++
			}
		case <-ctx.Done():
			t.Fatalf("received %d and delivered %d of %d messages", len(got), delivered, n)
		}
	}
	checkInOrder(t, got, want)
}

// TestFlushCountsEveryQueuedMessage: when more messages wait than one
// publish reads, Queued still counts them all.
func TestFlushCountsEveryQueuedMessage(t *testing.T) {
	net := dhttest.NewNetwork(t, 3)
	alice, bob := newUser(t, "alice", net), newUser(t, "bob", net)
	id := startChat(t, alice, bob)
	ctx := t.Context()
	bodies := make([]string, maxOutbox+500)
	for i := range bodies {
		bodies[i] = fmt.Sprint(i)
	}
	if _, err := alice.c.Send(ctx, id, bodies...); err != nil {
		t.Fatal(err)
	}
	res, err := alice.c.Flush(ctx, id)
	if err != nil {
		t.Fatal(err)
	}
	if got, want := res.Queued, len(bodies)-len(res.Changed); got != want {
		t.Fatalf("Flush published %d and reports %d queued, want %d", len(res.Changed), got, want)
	}
}

// TestLostDatabase: alice loses her database and joins the chat again.
// Her next message gets a new number (not one bob already has), her
// records a sequence number above her old ones, what her old records in
// the DHT still carry comes back into her history (imported), she is
// told, and bob's acks are not refused: nothing is lost, nothing falsely
// shown delivered.
func TestLostDatabase(t *testing.T) {
	net := dhttest.NewNetwork(t, 4)
	alice, bob := newUser(t, "alice", net), newUser(t, "bob", net)
	id := startChat(t, alice, bob)
	ctx := t.Context()
	if _, err := alice.c.Send(ctx, id, "one", "two", "three"); err != nil {
		t.Fatal(err)
	}
	if _, err := alice.c.Flush(ctx, id); err != nil {
		t.Fatal(err)
	}
	receiveAll(t, bob, id, 3) // and bob acknowledges them

	// A new database, the same identity.
	alice.c.Close()
	fresh, err := Open(Config{Identity: alice.sk, DBPath: filepath.Join(t.TempDir(), "new.db"), Network: alice.node, Poll: fastPoll})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { fresh.Close() })
	alice.c = fresh
	key, err := bob.c.Info(ctx, id)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := alice.c.JoinChat(ctx, bob.sk.Public(), key.Key); err != nil {
		t.Fatal(err)
	}
	sent, err := alice.c.Send(ctx, id, "after the loss")
	if err != nil {
		t.Fatal(err)
	}
	if sent[0].N != 4 {
		t.Fatalf("the first message after the loss is numbered %d, want 4", sent[0].N)
	}
	if _, err := alice.c.Flush(ctx, id); err != nil {
		t.Fatal(err)
	}
	got := receiveAll(t, bob, id, 1)
	if got[0].N != 4 || got[0].Body != "after the loss" {
		t.Fatalf("bob got %+v, want message 4", got[0])
	}
	res, err := alice.c.Fetch(ctx, id)
	if err != nil {
		t.Fatal(err)
	}
	if res.Rejected != 0 || len(res.Delivered) != 4 || res.Delivered[3].N != 4 {
		t.Fatalf("alice's fetch: %d rejected, delivered %+v; want messages 1-4 delivered", res.Rejected, res.Delivered)
	}
	for i, e := range res.Delivered[:3] {
		if want := []string{"one", "two", "three"}[i]; e.Body != want || !e.Imported {
			t.Errorf("alice's message %d is %q (imported %v); want %q imported from her old records", e.N, e.Body, e.Imported, want)
		}
	}
	as, err := alice.c.Alerts(ctx, id)
	if err != nil || len(as) != 1 || as[0].Kind != AlertBehind || as[0].N != 3 {
		t.Fatalf("alice's alerts = %+v, %v; want one: behind, at 3", as, err)
	}
}

// flakyNet fails the first Get of one name, as a lookup can on a real DHT.
type flakyNet struct {
	Network
	mu     sync.Mutex
	failed bool
	name   string
}

func (f *flakyNet) Get(ctx context.Context, pub ed25519.PublicKey, opts ...dht.GetOption) (dht.Record, error) {
	f.mu.Lock()
	fail := !f.failed && string(pub) == f.name
	f.failed = f.failed || fail
	f.mu.Unlock()
	if fail {
		return dht.Record{}, fmt.Errorf("lookup timed out: %w", context.DeadlineExceeded)
	}
	return f.Network.Get(ctx, pub, opts...)
}

// TestBacklogAfterFailedSlotRead: one failed read of slot 1 does not
// strand the rest of a backlog whose writer has gone offline.
func TestBacklogAfterFailedSlotRead(t *testing.T) {
	net := dhttest.NewNetwork(t, 4)
	alice, bob := newUser(t, "alice", net), newUser(t, "bob", net)
	id := startChat(t, alice, bob)
	ctx := t.Context()
	var want []string
	for i := range 200 {
		want = append(want, fmt.Sprintf("%03d %s", i+1, strings.Repeat("b", 76)))
	}
	if _, err := alice.c.Send(ctx, id, want...); err != nil {
		t.Fatal(err)
	}
	if _, err := alice.c.Flush(ctx, id); err != nil {
		t.Fatal(err)
	}
	acs, err := alice.c.state(ctx, id)
	if err != nil {
		t.Fatal(err)
	}
	alice.offline(t)

	flaky := &flakyNet{Network: bob.node, name: string(acs.keys.SlotPublicKey(acs.dir, 1))}
	bc, err := Open(Config{Identity: bob.sk, DBPath: filepath.Join(bob.dir, "dhtchat.db"), Network: flaky, Poll: fastPoll})
	if err != nil {
		t.Fatal(err)
	}
	bob.c.Close()
	bob.c = bc
	t.Cleanup(func() { bc.Close() })

	first, err := bob.c.Fetch(ctx, id)
	if err == nil || len(first.Received) == 0 {
		t.Fatalf("first fetch = %d messages, error %v; want slot 0's messages and the failed lookup", len(first.Received), err)
	}
	rest := receiveAll(t, bob, id, len(want)-len(first.Received))
	checkInOrder(t, append(first.Received, rest...), want)
}

// failingPuts is a network on which every Put fails, and that counts.
type failingPuts struct {
	Network
	puts, gets atomic.Int64
}

func (f *failingPuts) Put(context.Context, ed25519.PrivateKey, uint64, []byte) error {
	f.puts.Add(1)
	return errors.New("put refused")
}

func (f *failingPuts) Get(ctx context.Context, pub ed25519.PublicKey, opts ...dht.GetOption) (dht.Record, error) {
	f.gets.Add(1)
	return f.Network.Get(ctx, pub, opts...)
}

// TestWorkerBacksOffFailingPublish: a publish that keeps failing is retried
// with backoff, not in a loop, and fetching goes on meanwhile.
func TestWorkerBacksOffFailingPublish(t *testing.T) {
	net := dhttest.NewNetwork(t, 3)
	alice, bob := newUser(t, "alice", net), newUser(t, "bob", net)
	id := startChat(t, alice, bob)
	failing := &failingPuts{Network: alice.node}
	c, err := Open(Config{Identity: alice.sk, DBPath: filepath.Join(alice.dir, "dhtchat.db"), Network: failing, Watch: WatchAll,
		Poll: PollPolicy{Focused: 20 * time.Millisecond, Recent: 20 * time.Millisecond, Idle: 20 * time.Millisecond, MaxBackoff: 100 * time.Millisecond}})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	if _, err := c.Send(t.Context(), id, "stuck"); err != nil {
		t.Fatal(err)
	}
	// Let it run until it has fetched a few times.
	testwait.Until(t, "5 fetches while publishing fails", func() bool { return failing.gets.Load() >= 5 })
	c.Close()
	// With backoff capped at 100 ms, each fetch cycle allows about one put;
	// a loop without backoff makes thousands.
	if puts, gets := failing.puts.Load(), failing.gets.Load(); puts > 4*gets+10 {
		t.Fatalf("%d puts for %d gets: the failing publish is retried without backoff", puts, gets)
	}
}

// TestWorkerPublishesAnotherProcessQueue: messages that another process
// sharing the database queued (and could not publish) are published by a
// running worker.
func TestWorkerPublishesAnotherProcessQueue(t *testing.T) {
	net := dhttest.NewNetwork(t, 3)
	alice, bob := newUser(t, "alice", net), newUser(t, "bob", net)
	id := startChat(t, alice, bob)
	alice.c.Focus(id)

	// Another process: the same database, no network.
	other, err := Open(Config{Identity: alice.sk, DBPath: filepath.Join(alice.dir, "dhtchat.db")})
	if err != nil {
		t.Fatal(err)
	}
	defer other.Close()
	if _, err := other.Send(t.Context(), id, "queued elsewhere"); err != nil {
		t.Fatal(err)
	}
	got := receiveAll(t, bob, id, 1)
	if got[0].Body != "queued elsewhere" {
		t.Fatalf("bob got %q", got[0].Body)
	}
}
