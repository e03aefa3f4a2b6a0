// This file is long because each way our own records can differ from the
// database (a restore, a second copy, a planted record, a partial read) is
// one test with a real network, and they share their forgers.

package chat

import (
	"context"
	"crypto/ed25519"
	"errors"
	"fmt"
	"io/fs"
	"maps"
	"math"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/dhtchat/dhtchat/chat/internal/store"
	"github.com/dhtchat/dhtchat/chat/wire"
	"github.com/dhtchat/dhtchat/dht"
	"github.com/dhtchat/dhtchat/dht/dhttest"
	"github.com/dhtchat/dhtchat/internal/testwait"
)

// This file is about copies of one identity's database: a home restored
// from a backup, two devices with the same identity, and records planted
// in our own slots by the friend (who can derive their keys in protocol
// version 1).

// copyDB copies the database at src (closed) to dst, with its WAL files.
func copyDB(t *testing.T, src, dst string) {
	t.Helper()
	for _, suffix := range []string{"", "-wal", "-shm"} {
		b, err := os.ReadFile(src + suffix)
		if errors.Is(err, fs.ErrNotExist) {
			if err := os.Remove(dst + suffix); err != nil && !errors.Is(err, fs.ErrNotExist) {
				t.Fatal(err)
			}
			continue
		}
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(dst+suffix, b, 0o600); err != nil {
			t.Fatal(err)
		}
	}
}

// openClient opens a Client of identity u on the database at path through
// network, closed when the test ends.
func openClient(t *testing.T, u *user, path string, network Network, poll PollPolicy) *Client {
	t.Helper()
	c, err := Open(Config{Identity: u.sk, DBPath: path, Network: network, Poll: poll})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	return c
}

// deliveredChat starts a chat of alice with bob on a network of its own,
// in which alice's first message, "base", is delivered: a chat under way.
func deliveredChat(t *testing.T) (*dht.LocalNetwork, *user, *user, ChatID) {
	t.Helper()
	net := dhttest.NewNetwork(t, 4)
	alice, bob := newUser(t, "alice", net), newUser(t, "bob", net)
	id := startChat(t, alice, bob)
	sendNow(t, alice.c, id, "base")
	receiveAll(t, bob, id, 1)
	fetchUntilDelivered(t, alice.c, id)
	return net, alice, bob, id
}

// sendNow queues bodies as c and publishes them.
func sendNow(t *testing.T, c *Client, id ChatID, bodies ...string) flushResult {
	t.Helper()
	if _, err := c.Send(t.Context(), id, bodies...); err != nil {
		t.Fatal(err)
	}
	res, err := c.Flush(t.Context(), id)
	if err != nil {
		t.Fatalf("Flush = %v", err)
	}
	return res
}

// outgoingOf returns c's outgoing messages of chat id as "N:body:status",
// by N, with ":imported" for those another copy sent.
func outgoingOf(t *testing.T, c *Client, id ChatID) []string {
	t.Helper()
	hist, err := c.History(t.Context(), id, 0, 10000)
	if err != nil {
		t.Fatal(err)
	}
	slices.SortFunc(hist, func(a, b Entry) int { return int(a.N) - int(b.N) })
	var out []string
	for _, e := range hist {
		if e.Outgoing {
			s := fmt.Sprintf("%d:%s:%v", e.N, e.Body, e.Status)
			if e.Imported {
				s += ":imported"
			}
			out = append(out, s)
		}
	}
	return out
}

func hasAlert(as []Alert, kind AlertKind) bool {
	return slices.ContainsFunc(as, func(a Alert) bool { return a.Kind == kind })
}

// fetchUntilDelivered fetches as c until every outgoing message of chat id
// is delivered, failing on any rejected record.
func fetchUntilDelivered(t *testing.T, c *Client, id ChatID) {
	t.Helper()
	ctx := testwait.Context(t)
	var o Outbox
	if err := testwait.Poll(ctx, func() bool {
		res, err := c.Fetch(ctx, id)
		if err != nil {
			t.Fatalf("Fetch = %v", err)
		}
		if res.Rejected > 0 {
			t.Fatalf("Fetch rejected %d records", res.Rejected)
		}
		if o, err = c.Outbox(ctx, id); err != nil {
			t.Fatal(err)
		}
		return o.Delivered == o.Sent
	}); err != nil {
		t.Fatalf("outbox %+v: not everything delivered: %v", o, err)
	}
}

// TestRestoredDatabase is the scenario of issue 10: copy a home's
// database, send m2 and m3, put the copy back, send three more. The
// friend gets all five, once each and in order; the sender shows each as
// delivered only once the friend acknowledged it, rejects nothing, and is
// told that its database was behind. Whether the friend had read m2 and
// m3 before (then our slot 0 in the DHT is empty, only its max_n says 3)
// or not (then it still carries them, and they come back from it).
func TestRestoredDatabase(t *testing.T) {
	for _, read := range []bool{true, false} {
		t.Run(fmt.Sprintf("friend read m2 and m3 first: %v", read), func(t *testing.T) {
			net := dhttest.NewNetwork(t, 4)
			alice, bob := newUser(t, "alice", net), newUser(t, "bob", net)
			id := startChat(t, alice, bob)
			ctx := t.Context()
			sendNow(t, alice.c, id, "m1")
			receiveAll(t, bob, id, 1)
			fetchUntilDelivered(t, alice.c, id)

			db := filepath.Join(alice.dir, "dhtchat.db")
			backup := filepath.Join(t.TempDir(), "backup.db")
			alice.c.Close()
			copyDB(t, db, backup)
			alice.c = openClient(t, alice, db, alice.node, fastPoll)
			sendNow(t, alice.c, id, "m2", "m3")
			if read {
				receiveAll(t, bob, id, 2)
				fetchUntilDelivered(t, alice.c, id)
				if res, err := alice.c.Flush(ctx, id); err != nil || res.Slots != 1 {
					t.Fatalf("Flush = %+v, %v", res, err)
				}
			}

			// The copy is put back: a new process on the old database.
			alice.c.Close()
			copyDB(t, backup, db)
			alice.c = openClient(t, alice, db, alice.node, fastPoll)
			res := sendNow(t, alice.c, id, "m4", "m5", "m6")
			if !hasAlert(res.Alerts, AlertBehind) {
				t.Errorf("Flush after the restore raised %+v; want AlertBehind", res.Alerts)
			}
			want := []string{"4:m4:published", "5:m5:published", "6:m6:published"}
			if !read {
				want = append([]string{"2:m2:published:imported", "3:m3:published:imported"}, want...)
			}
			if got := outgoingOf(t, alice.c, id); !slices.Equal(got, append([]string{"1:m1:delivered"}, want...)) {
				t.Fatalf("alice's messages after the restore:\n got %q\nwant %q", got, append([]string{"1:m1:delivered"}, want...))
			}

			n := 3
			if !read {
				n = 5
			}
			receiveAll(t, bob, id, n)
			checkInOrder(t, receivedHistory(t, bob, id), []string{"m1", "m2", "m3", "m4", "m5", "m6"})
			if as, err := bob.c.Alerts(ctx, id); err != nil || len(as) != 0 {
				t.Fatalf("bob's alerts = %+v, %v; want none", as, err)
			}
			fetchUntilDelivered(t, alice.c, id)
			want = []string{"1:m1:delivered", "2:m2:delivered:imported", "3:m3:delivered:imported",
				"4:m4:delivered", "5:m5:delivered", "6:m6:delivered"}
			if read {
				want = slices.Delete(want, 1, 3) // acknowledged before: not in the DHT any more
			}
			if got := outgoingOf(t, alice.c, id); !slices.Equal(got, want) {
				t.Fatalf("alice's messages at the end:\n got %q\nwant %q", got, want)
			}
			if next := sendNow(t, alice.c, id, "m7"); len(next.Changed) != 1 || next.Changed[0].N != 7 {
				t.Fatalf("the next message is %+v, want number 7", next.Changed)
			}
		})
	}
}

// blindNet hides some names from Get while blind is set: the DHT nodes
// asked have not seen the other writer's records yet.
type blindNet struct {
	Network
	blind atomic.Bool
	names map[string]bool
}

func (b *blindNet) Get(ctx context.Context, pub ed25519.PublicKey, opts ...dht.GetOption) (dht.Record, error) {
	if b.blind.Load() && b.names[string(pub)] {
		return dht.Record{}, dht.ErrNotFound
	}
	return b.Network.Get(ctx, pub, opts...)
}

// TestTwoLiveCopies: two databases of alice's identity (a copy running on
// a second device) write the chat at the same time, the second one at
// first blind to the other's records. Bob sees a number reused and is
// alerted; both copies find the other's records and are told; nothing is
// lost: every text of either copy reaches bob, and each message a copy
// shows as delivered is one bob has.
func TestTwoLiveCopies(t *testing.T) {
	net, alice, bob, id := deliveredChat(t)
	ctx := t.Context()
	keys, dir := alice.c.chats[id].keys, alice.c.chats[id].dir

	db := filepath.Join(alice.dir, "dhtchat.db")
	clone := filepath.Join(t.TempDir(), "clone.db")
	alice.c.Close()
	copyDB(t, db, clone)
	poll := fastPoll
	poll.OwnCheck = time.Nanosecond // look at our records at every publish
	a := openClient(t, alice, db, alice.node, poll)
	seen := &blindNet{Network: dhttest.NewClient(t, net), names: map[string]bool{}}
	for i := range wire.MaxSlots {
		seen.names[string(keys.SlotPublicKey(dir, i))] = true
	}
	seen.blind.Store(true)
	b := openClient(t, alice, clone, seen, poll)

	if res := sendNow(t, a, id, "a1"); len(res.Alerts) != 0 {
		t.Fatalf("copy a raised %+v before anyone else wrote", res.Alerts)
	}
	receiveAll(t, bob, id, 1)
	// Copy b, blind to a's record, writes twice: its record is the newer.
	if _, err := b.Flush(ctx, id); err != nil {
		t.Fatal(err)
	}
	sendNow(t, b, id, "b1")
	fetchUntil(t, bob, id, "the reused number", func(fetchResult) bool {
		as, err := bob.c.Alerts(ctx, id)
		return err == nil && hasAlert(as, AlertConflict)
	})
	if got := receivedHistory(t, bob, id); len(got) != 2 || got[1].Body != "a1" {
		t.Fatalf("bob's messages %q; want the first message 2 kept", bodies(got))
	}

	seen.blind.Store(false)
	if res := sendNow(t, a, id, "a2"); !hasAlert(res.Alerts, AlertSecondWriter) {
		t.Fatalf("copy a's publish after b wrote raised %+v; want AlertSecondWriter", res.Alerts)
	}
	fetchUntil(t, bob, id, "every text", func(fetchResult) bool {
		var got []string
		for _, e := range receivedHistory(t, bob, id) {
			got = append(got, e.Body)
		}
		return slices.Contains(got, "a2") && slices.Contains(got, "b1")
	})
	fetchUntilDelivered(t, a, id)
	fetchUntilDelivered(t, b, id)
	if as, err := b.Alerts(ctx, id); err != nil || !hasAlert(as, AlertSecondWriter) {
		t.Fatalf("copy b's alerts = %+v, %v; want AlertSecondWriter", as, err)
	}

	have := map[string]bool{}
	for _, e := range receivedHistory(t, bob, id) {
		have[e.Body] = true
	}
	for name, c := range map[string]*Client{"a": a, "b": b} {
		hist, err := c.History(ctx, id, 0, 100)
		if err != nil {
			t.Fatal(err)
		}
		for _, e := range hist {
			if e.Outgoing && !e.Imported && e.Status == Delivered && !have[e.Body] {
				t.Errorf("copy %s shows %q delivered, but bob never got it (bob has %v)", name, e.Body, have)
			}
		}
	}
}

// TestWorkerAlertsSecondWriter: a running worker learns from the friend's
// ack that another copy of our identity wrote, tells it as an AlertEvent,
// and shows that copy's message in the history.
func TestWorkerAlertsSecondWriter(t *testing.T) {
	net := dhttest.NewNetwork(t, 4)
	alice, bob := newUser(t, "alice", net), newUser(t, "bob", net)
	id := startChat(t, alice, bob)
	ctx := testwait.Context(t)
	db := filepath.Join(alice.dir, "dhtchat.db")
	clone := filepath.Join(t.TempDir(), "clone.db")
	alice.c.Close()
	copyDB(t, db, clone)
	alice.c = openClient(t, alice, db, alice.node, fastPoll)

	events := alice.c.Subscribe(ctx)
	alice.c.Focus(id)
	if _, err := alice.c.Send(ctx, id, "from the laptop"); err != nil {
		t.Fatal(err)
	}
	receiveAll(t, bob, id, 1)

	phone := openClient(t, alice, clone, dhttest.NewClient(t, net), fastPoll)
	if res := sendNow(t, phone, id, "from the phone"); !hasAlert(res.Alerts, AlertBehind) {
		t.Fatalf("the phone's publish raised %+v; want AlertBehind", res.Alerts)
	}
	receiveAll(t, bob, id, 1) // and bob acknowledges 2, above what the laptop published
	for {
		select {
		case ev := <-events:
			if a, ok := ev.(AlertEvent); ok {
				if a.Alert.Kind != AlertSecondWriter || a.Alert.Chat != id {
					t.Fatalf("AlertEvent %+v; want AlertSecondWriter on the chat", a.Alert)
				}
				if s := a.Alert.String(); !strings.Contains(s, "another copy of your identity") {
					t.Errorf("the alert says %q", s)
				}
				got := outgoingOf(t, alice.c, id)
				if !slices.Contains(got, "2:from the phone:delivered:imported") && !slices.Contains(got, "2:from the phone:published:imported") {
					t.Fatalf("the laptop's messages are %q; want the phone's imported", got)
				}
				return
			}
		case <-ctx.Done():
			t.Fatal("no AlertEvent")
		}
	}
}

// TestAckAboveWhatWePublished: the friend acknowledges numbers this
// database never published and our own records do not explain (another
// copy's records have not reached the DHT nodes we ask). The record is
// kept, not rejected; we are told; our pending message, whose number the
// friend already has, moves above the ack and is sent; only what we
// published is marked delivered.
func TestAckAboveWhatWePublished(t *testing.T) {
	net := dhttest.NewNetwork(t, 4)
	alice, bob := newUser(t, "alice", net), newUser(t, "bob", net)
	id := startChat(t, alice, bob)
	ctx := t.Context()
	sendNow(t, alice.c, id, "one")
	if _, err := alice.c.Send(ctx, id, "two"); err != nil {
		t.Fatal(err)
	}
	m := newForger(t, bob, id)
	m.put(t, 0, wire.SlotHeader{SlotsUsed: 1, MaxN: 1, Ack: 5}, m.text(1, "hi alice"))
	res := fetchUntil(t, alice, id, "bob's record", func(r fetchResult) bool { return len(r.Received) > 0 })
	if res.Rejected != 0 || len(res.Delivered) != 1 || res.Delivered[0].Body != "one" {
		t.Fatalf("Fetch = %d rejected, delivered %q; want none rejected, \"one\" delivered", res.Rejected, bodies(res.Delivered))
	}
	if !hasAlert(res.Alerts, AlertSecondWriter) {
		t.Errorf("Fetch raised %+v; want AlertSecondWriter", res.Alerts)
	}
	if len(res.Resynced) != 1 || res.Resynced[0].N != 6 || res.Resynced[0].Body != "two" {
		t.Errorf("Fetch renumbered %+v; want \"two\" as 6", res.Resynced)
	}
	if got, want := outgoingOf(t, alice.c, id), []string{"1:one:delivered", "6:two:published"}; !slices.Equal(got, want) {
		t.Fatalf("alice's messages %q, want %q", got, want)
	}
}

// TestPlantedOwnRecords: the friend plants records in our own slots with
// the largest sequence numbers and max_n there are. Our numbers and
// sequence numbers stay in range, in the running client, after a restart,
// and for a new database that joins the chat again. A plausible sequence
// number with a planted max_n is passed: sends go on. A sequence number
// ours can never pass blocks the chat's sending, and says so: Flush fails
// with ErrSendBlocked and raises AlertSendBlocked (kept in the store), the
// messages stay pending and nothing is put; once the planted record is
// gone, they go out. IPNS carries sequence numbers up to 2^63-1 (boxo
// reads them as int64), so 2^64-1 comes from a lying DHT node.
func TestPlantedOwnRecords(t *testing.T) {
	for _, tc := range []struct{ seq, maxN uint64 }{
		{math.MaxInt64, math.MaxInt64},
		{math.MaxInt64, math.MaxUint64},
		{math.MaxUint64, math.MaxInt64},
		{1000, math.MaxInt64}, // a plausible sequence number: continued after
	} {
		t.Run(fmt.Sprintf("seq %d max_n %d", tc.seq, tc.maxN), func(t *testing.T) {
			blocked := tc.seq > maxSeqAhead
			net := dhttest.NewNetwork(t, 4)
			alice, bob := newUser(t, "alice", net), newUser(t, "bob", net)
			// Alice reads through a network that can lie, for 2^64-1.
			liar := &replayNet{Network: alice.node}
			alice.c.Close()
			poll := fastPoll
			poll.OwnCheck = time.Nanosecond // the running client reads our slots back at every publish
			alice.c = openClient(t, alice, filepath.Join(alice.dir, "dhtchat.db"), liar, poll)
			id := startChat(t, alice, bob)
			ctx := t.Context()
			sendNow(t, alice.c, id, "one")

			p := newForger(t, alice, id) // alice's direction, as bob can derive it
			p.node = bob.node
			for slot := range 2 {
				h := wire.SlotHeader{Slot: slot, SlotsUsed: wire.MaxSlots, MaxN: tc.maxN, Ack: 1 << 62}
				if tc.seq <= dht.MaxSeq {
					p.seq[slot] = tc.seq - 1
					p.put(t, slot, h)
					continue
				}
				h.Dir, h.Seq = p.dir, tc.seq
				payload, err := p.keys.EncodeSlot(h, nil)
				if err != nil {
					t.Fatal(err)
				}
				liar.serve(p.keys.SlotPublicKey(p.dir, slot), dht.Record{Seq: tc.seq, Payload: payload})
			}
			inRange := func(c *Client, what string) {
				t.Helper()
				cs, err := c.db.Counters(ctx, store.ChatID(id))
				if err != nil {
					t.Fatal(err)
				}
				if cs.Sent > 100 {
					t.Fatalf("%s: our message counter jumped to %d", what, cs.Sent)
				}
				for slot := range 2 {
					if seq, err := c.db.OwnSeq(ctx, store.ChatID(id), slot); err != nil || seq > 2000 {
						t.Fatalf("%s: our slot %d sequence number is %d, %v", what, slot, seq, err)
					}
				}
			}
			// send queues bodies as c and publishes them: the messages
			// numbered from first are published, or, blocked, stay pending.
			send := func(c *Client, what string, first uint64, bodies ...string) {
				t.Helper()
				if _, err := c.Send(ctx, id, bodies...); err != nil {
					t.Fatal(err)
				}
				res, err := c.Flush(ctx, id)
				if !blocked {
					if err != nil || len(res.Changed) != len(bodies) || res.Changed[0].N != first {
						t.Fatalf("%s: Flush = %+v, %v; want %d published from %d", what, res.Changed, err, len(bodies), first)
					}
					return
				}
				if !errors.Is(err, ErrSendBlocked) || len(res.Changed) != 0 {
					t.Fatalf("%s: Flush = %+v, %v; want ErrSendBlocked, nothing published", what, res.Changed, err)
				}
				if as, err := c.Alerts(ctx, id); err != nil || !hasAlert(as, AlertSendBlocked) {
					t.Fatalf("%s: alerts = %+v, %v; want AlertSendBlocked", what, as, err)
				}
				if o, err := c.Outbox(ctx, id); err != nil || o.Published != 1 || o.Sent != first-1+uint64(len(bodies)) {
					t.Fatalf("%s: outbox %+v, %v; want 1 published, %d sent", what, o, err, first-1+uint64(len(bodies)))
				}
			}
			send(alice.c, "running client", 2, "two")
			inRange(alice.c, "running client")
			if blocked {
				// Told once per process, kept in the store for good.
				res, err := alice.c.Flush(ctx, id)
				if !errors.Is(err, ErrSendBlocked) || len(res.Alerts) != 0 {
					t.Fatalf("a second Flush = %+v, %v; want ErrSendBlocked and no new alert", res.Alerts, err)
				}
				if s := (Alert{Kind: AlertSendBlocked}).String(); !strings.Contains(s, "sending in this chat is blocked") {
					t.Errorf("the alert says %q", s)
				}
			}

			// A new process on the same database: its first look at our
			// slots, with a backlog that needs a second one.
			alice.c.Close()
			alice.c = openClient(t, alice, filepath.Join(alice.dir, "dhtchat.db"), liar, fastPoll)
			big := func(c byte) string { return strings.Repeat(string(c), wire.MaxBody) }
			send(alice.c, "restarted client", 3, big('a'), big('b'))
			send(alice.c, "restarted client", 5, "five")
			inRange(alice.c, "restarted client")

			// A new database, in a new process, that joins the chat again.
			liar.mu.Lock()
			fresh := openClient(t, alice, filepath.Join(t.TempDir(), "fresh.db"),
				&replayNet{Network: dhttest.NewClient(t, net), override: maps.Clone(liar.override)}, fastPoll)
			liar.mu.Unlock()
			info, err := bob.c.Info(ctx, id)
			if err != nil {
				t.Fatal(err)
			}
			if _, err := fresh.JoinChat(ctx, bob.sk.Public(), info.Key); err != nil {
				t.Fatalf("JoinChat = %v", err)
			}
			if _, err := fresh.Send(ctx, id, "after the loss"); err != nil {
				t.Fatal(err)
			}
			if _, err := fresh.Flush(ctx, id); err != nil && !(blocked && errors.Is(err, ErrSendBlocked)) {
				t.Fatalf("Flush of the new database = %v", err)
			}
			inRange(fresh, "new database")
			if _, err := fresh.Fetch(ctx, id); err != nil && !(blocked && errors.Is(err, ErrSendBlocked)) {
				t.Fatalf("Fetch of the new database = %v", err)
			}

			if tc.seq > dht.MaxSeq {
				// The lying node goes: what waited is sent.
				liar.stop()
				if _, err := alice.c.Flush(ctx, id); err != nil {
					t.Fatalf("Flush once the planted record is gone = %v", err)
				}
				got := receiveAll(t, bob, id, 5)
				checkInOrder(t, got, []string{"one", "two", big('a'), big('b'), "five"})
			}
		})
	}
}

// TestPlantedSlotBlocksBacklog: a record planted in our slot 1 that ours
// cannot pass blocks what would go there. A backlog of two slots publishes
// its first, keeps the second pending, and says so.
func TestPlantedSlotBlocksBacklog(t *testing.T) {
	net := dhttest.NewNetwork(t, 4)
	alice, bob := newUser(t, "alice", net), newUser(t, "bob", net)
	id := startChat(t, alice, bob)
	ctx := t.Context()
	p := newForger(t, alice, id)
	p.node = bob.node
	p.seq[1] = math.MaxInt64 - 1
	p.put(t, 1, wire.SlotHeader{Slot: 1, SlotsUsed: 2, MaxN: 2})
	alice.c.Close()
	alice.c = openClient(t, alice, filepath.Join(alice.dir, "dhtchat.db"), alice.node, fastPoll)

	if _, err := alice.c.Send(ctx, id, strings.Repeat("a", wire.MaxBody), strings.Repeat("b", wire.MaxBody)); err != nil {
		t.Fatal(err)
	}
	res, err := alice.c.Flush(ctx, id)
	if !errors.Is(err, ErrSendBlocked) || len(res.Changed) != 1 || res.Changed[0].N != 1 {
		t.Fatalf("Flush = %+v, %v; want message 1 published, ErrSendBlocked", res.Changed, err)
	}
	if len(res.Alerts) != 1 || res.Alerts[0].Kind != AlertSendBlocked || res.Alerts[0].N != 1 {
		t.Fatalf("Flush raised %+v; want AlertSendBlocked on slot 1", res.Alerts)
	}
	if o, err := alice.c.Outbox(ctx, id); err != nil || o.Published != 1 || o.Sent != 2 {
		t.Fatalf("outbox %+v, %v; want 1 published of 2", o, err)
	}
	checkInOrder(t, receiveAll(t, bob, id, 1), []string{strings.Repeat("a", wire.MaxBody)})
}

// TestWorkerBlockedBacksOff: the worker tells of a blocked chat once, as
// an AlertEvent, and then retries with backoff: it never puts a record
// that could not be read, and it does not loop.
func TestWorkerBlockedBacksOff(t *testing.T) {
	net := dhttest.NewNetwork(t, 4)
	alice, bob := newUser(t, "alice", net), newUser(t, "bob", net)
	id := startChat(t, alice, bob)
	ctx := t.Context()
	p := newForger(t, alice, id)
	p.node = bob.node
	p.seq[0] = math.MaxInt64 - 1
	p.put(t, 0, wire.SlotHeader{SlotsUsed: 1})
	counted := newCountingNet(alice.node)
	alice.c.Close()
	alice.c = openClient(t, alice, filepath.Join(alice.dir, "dhtchat.db"), counted, fastPoll)
	w := runWorker(t, alice)
	alice.c.Use(id) // the worker publishes the chat, as for "dhtchat send"
	if _, err := alice.c.Send(ctx, id, "stuck"); err != nil {
		t.Fatal(err)
	}
	for {
		if a, ok := w.next(t).(AlertEvent); ok {
			if a.Alert.Kind != AlertSendBlocked {
				t.Fatalf("AlertEvent %+v; want AlertSendBlocked", a.Alert)
			}
			break
		}
	}
	cs := alice.c.chats[id]
	testwait.Until(t, "the worker to back off", func() bool {
		alice.c.chatsMu.Lock()
		defer alice.c.chatsMu.Unlock()
		return cs.failures >= 3
	})
	counted.mu.Lock()
	puts := counted.puts[string(cs.keys.SlotPublicKey(cs.dir, 0))]
	counted.mu.Unlock()
	if puts != 0 {
		t.Fatalf("the worker put our blocked slot 0 %d times", puts)
	}
	if o, err := alice.c.Outbox(ctx, id); err != nil || o.Published != 0 {
		t.Fatalf("outbox %+v, %v; want the message pending", o, err)
	}
}

// TestQuota: a hostile friend sends more than the quota. The chat stores
// exactly the quota, says so once, does not acknowledge the rest (which
// waits in the DHT), and stores nothing more however often it fetches.
func TestQuota(t *testing.T) {
	net := dhttest.NewNetwork(t, 4)
	alice, bob := newUser(t, "alice", net), newUser(t, "bob", net)
	id := startChat(t, alice, bob)
	ctx := t.Context()
	alice.c.Close()
	c, err := Open(Config{Identity: alice.sk, DBPath: filepath.Join(alice.dir, "dhtchat.db"), Network: alice.node,
		Poll: fastPoll, Quota: Quota{Period: time.Hour, Messages: 8, Bytes: 1 << 20}})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	alice.c = c

	m := newForger(t, bob, id)
	var frames1, frames0 [][]byte
	for n := uint64(1); n <= 40; n++ {
		f := m.text(n, fmt.Sprintf("flood %02d", n))
		if n <= 20 {
			frames0 = append(frames0, f)
		} else {
			frames1 = append(frames1, f)
		}
	}
	m.put(t, 1, wire.SlotHeader{Slot: 1, SlotsUsed: 2, MaxN: 40}, frames1...)
	m.put(t, 0, wire.SlotHeader{SlotsUsed: 2, MaxN: 40}, frames0...)
	first := fetchUntil(t, alice, id, "the flood", func(r fetchResult) bool { return len(r.Received) > 0 })
	// (fetchUntil stops at the first fetch that received anything.)
	if len(first.Received) != 8 || len(first.Alerts) != 1 || first.Alerts[0].Kind != AlertQuota || first.Alerts[0].N != 8 {
		t.Fatalf("first fetch: %d received, alerts %+v; want 8 and one quota alert at 8", len(first.Received), first.Alerts)
	}
	for range 5 {
		if r := fetchOnce(t, alice, id); len(r.Received) != 0 || len(r.Alerts) != 0 || r.Rejected != 0 {
			t.Fatalf("a later fetch: %d received, alerts %+v, %d rejected; want nothing", len(r.Received), r.Alerts, r.Rejected)
		}
	}
	if n, err := alice.c.db.Count(ctx, store.ChatID(id)); err != nil || n != 8 {
		t.Fatalf("alice stored %d messages, %v; want 8", n, err)
	}
	// Alice's record acknowledges 8, not the rest.
	acs := alice.c.chats[id]
	rec, err := bob.node.Get(ctx, acs.keys.SlotPublicKey(acs.dir, 0))
	if err != nil {
		t.Fatal(err)
	}
	s, err := acs.keys.DecodeSlot(acs.dir, 0, rec.Seq, rec.Payload)
	if err != nil {
		t.Fatal(err)
	}
	if s.Header.Ack != 8 {
		t.Fatalf("alice's record acknowledges %d, want 8", s.Header.Ack)
	}
	if as, err := alice.c.Alerts(ctx, id); err != nil || len(as) != 1 {
		t.Fatalf("alice's alerts = %+v, %v; want the one quota alert", as, err)
	}
}

// TestFetchPublishesPending: a fetch (a one-shot "dhtchat recv") publishes
// what an earlier command left pending: messages queued while the DHT
// could not be reached, and messages that waited for room in the slots.
func TestFetchPublishesPending(t *testing.T) {
	net := dhttest.NewNetwork(t, 4)
	alice, bob := newUser(t, "alice", net), newUser(t, "bob", net)
	id := startChat(t, alice, bob)
	ctx := t.Context()
	db := filepath.Join(alice.dir, "dhtchat.db")

	offline := openClient(t, alice, db, nil, fastPoll)
	if _, err := offline.Send(ctx, id, "queued offline"); err != nil {
		t.Fatal(err)
	}
	offline.Close()
	alice.c.Close()
	recv := openClient(t, alice, db, alice.node, fastPoll)
	if res, err := recv.Fetch(ctx, id); err != nil || !res.Flushed || len(res.Published) != 1 {
		t.Fatalf("Fetch = %+v, %v; want the queued message published", res, err)
	}
	first := receiveAll(t, bob, id, 1)
	checkInOrder(t, first, []string{"queued offline"})

	// More than the slots hold: one max-size message per slot.
	var want []string
	for i := range wire.MaxSlots + 1 {
		want = append(want, strings.Repeat(string(rune('a'+i)), wire.MaxBody))
	}
	if res := sendNow(t, recv, id, want...); res.Queued != 1 {
		t.Fatalf("Flush queued %d, want 1", res.Queued)
	}
	recv.Close()
	got := receiveAll(t, bob, id, wire.MaxSlots) // and bob acknowledges them
	later := openClient(t, alice, db, alice.node, fastPoll)
	res, err := later.Fetch(ctx, id)
	// Delivered: the first message too, whose ack came after recv ended.
	if err != nil || len(res.Delivered) != 1+wire.MaxSlots || !res.Flushed || len(res.Published) != 1 {
		t.Fatalf("Fetch = %d delivered, flushed %v, %d published, %v; want %d, true, 1",
			len(res.Delivered), res.Flushed, len(res.Published), err, 1+wire.MaxSlots)
	}
	got = append(append(first, got...), receiveAll(t, bob, id, 1)...)
	checkInOrder(t, got, append([]string{"queued offline"}, want...))
}
