package chat

import (
	"context"
	"crypto/ed25519"
	"errors"
	"path/filepath"
	"slices"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/dhtchat/dhtchat/chat/wire"
	"github.com/dhtchat/dhtchat/dht"
	"github.com/dhtchat/dhtchat/dht/dhttest"
)

// This file is about telling our own records from another copy's (a
// restored backup, a second device with the same identity), by their
// bytes, and about marking delivered only what the friend acknowledged.

// lostReplyNet puts records, but reports the next Put of the names in
// fail as failed (the reply was lost: the DHT holds the record all the
// same).
type lostReplyNet struct {
	Network
	fail map[string]bool
	arm  atomic.Bool
}

func (n *lostReplyNet) Put(ctx context.Context, key ed25519.PrivateKey, seq uint64, payload []byte) error {
	err := n.Network.Put(ctx, key, seq, payload)
	if err == nil && n.fail[string(key.Public().(ed25519.PublicKey))] && n.arm.CompareAndSwap(true, false) {
		return errors.New("the reply was lost")
	}
	return err
}

// big returns a body of the largest size, one message to a slot.
func big(c byte) string { return strings.Repeat(string(c), wire.MaxBody) }

// TestOwnRecordAfterLostReply: our publish of two slots reached the DHT,
// but the put of slot 0 reported an error, so the messages stayed
// pending. Read back, our own record is ours: nothing is renumbered,
// nobody is alerted, the messages are published once, under their
// numbers, and the friend gets each once.
func TestOwnRecordAfterLostReply(t *testing.T) {
	net := dhttest.NewNetwork(t, 4)
	alice, bob := newUser(t, "alice", net), newUser(t, "bob", net)
	id := startChat(t, alice, bob)
	ctx := t.Context()
	cs := alice.c.chats[id]
	lost := &lostReplyNet{Network: alice.node, fail: map[string]bool{string(cs.keys.SlotPublicKey(cs.dir, 0)): true}}
	alice.c.Close()
	poll := fastPoll
	poll.OwnCheck = time.Nanosecond // read our records back at every publish
	alice.c = openClient(t, alice, filepath.Join(alice.dir, "dhtchat.db"), lost, poll)

	sendNow(t, alice.c, id, "one")
	if _, err := alice.c.Send(ctx, id, big('a'), big('b')); err != nil {
		t.Fatal(err)
	}
	lost.arm.Store(true)
	if _, err := alice.c.Flush(ctx, id); err == nil {
		t.Fatal("Flush = nil; want the lost reply")
	}
	res, err := alice.c.Flush(ctx, id)
	if err != nil {
		t.Fatal(err)
	}
	if len(res.Alerts) != 0 || len(res.Resynced) != 0 {
		t.Fatalf("Flush after the lost reply: alerts %+v, resynced %+v; want none: the record is ours", res.Alerts, res.Resynced)
	}
	want := []string{"1:one:published", "2:" + big('a') + ":published", "3:" + big('b') + ":published"}
	if got := outgoingOf(t, alice.c, id); !slices.Equal(got, want) {
		t.Fatalf("alice's messages %.60q", got)
	}
	got := receiveAll(t, bob, id, 3)
	checkInOrder(t, got, []string{"one", big('a'), big('b')})
	fetchUntilDelivered(t, alice.c, id)
	if as, err := alice.c.Alerts(ctx, id); err != nil || len(as) != 0 {
		t.Fatalf("alice's alerts = %+v, %v; want none", as, err)
	}
}

// blindCopy opens a copy of alice's database (taken now, with alice's
// Client closed and opened again) as a second device that cannot see
// alice's records in the DHT while its network is blind. It returns the
// copy and its network.
func blindCopy(t *testing.T, net *dht.LocalNetwork, alice *user, id ChatID, aliceNet Network, poll PollPolicy) (*Client, *blindNet) {
	t.Helper()
	keys, dir := alice.c.chats[id].keys, alice.c.chats[id].dir
	db := filepath.Join(alice.dir, "dhtchat.db")
	clone := filepath.Join(t.TempDir(), "clone.db")
	alice.c.Close()
	copyDB(t, db, clone)
	alice.c = openClient(t, alice, db, aliceNet, poll)
	seen := &blindNet{Network: dhttest.NewClient(t, net), names: map[string]bool{}}
	for i := range wire.MaxSlots {
		seen.names[string(keys.SlotPublicKey(dir, i))] = true
	}
	seen.blind.Store(true)
	return openClient(t, alice, clone, seen, poll), seen
}

// TestSecondCopySameNumbers: two copies of alice's database both hold
// message 2 (queued before the copy was made) and then send another
// message 3 each, of a slot of its own. The second copy, blind to the
// first's records, publishes last: its records are the ones the DHT keeps
// and bob reads. Its slot 0 has the same sequence number and the same
// message as the first copy's; only the bytes differ. When bob
// acknowledges 3, the first copy must not mark its own 3 delivered (bob
// has the other's): it sends it again under a new number, and bob gets
// every text.
func TestSecondCopySameNumbers(t *testing.T) {
	net, alice, bob, id := deliveredChat(t)
	ctx := t.Context()
	if _, err := alice.c.Send(ctx, id, big('s')); err != nil { // 2, in both copies
		t.Fatal(err)
	}
	b, seen := blindCopy(t, net, alice, id, alice.node, fastPoll)
	a := alice.c

	sendNow(t, a, id, big('a'))
	sendNow(t, b, id, big('b'))
	seen.blind.Store(false)
	got := receiveAll(t, bob, id, 2)
	if got[0].Body != big('s') || got[1].Body != big('b') {
		t.Fatalf("bob got %.20q; want the shared 2, then copy b's 3", bodies(got))
	}

	// Copy a reads bob's ack of 3.
	fetchUntil(t, alice, id, "bob's ack", func(r fetchResult) bool {
		o, err := a.Outbox(ctx, id)
		return err == nil && o.Delivered >= 2
	})
	for _, m := range outgoingOf(t, a, id) {
		if strings.HasPrefix(m, "3:"+big('a')) || strings.Contains(m, big('a')+":delivered") {
			t.Fatalf("copy a's own message 3 is %.30q...; bob has copy b's 3, not it", m[len(m)-30:])
		}
	}
	as, err := a.Alerts(ctx, id)
	if err != nil || !hasAlert(as, AlertSecondWriter) && !hasAlert(as, AlertBehind) {
		t.Fatalf("copy a's alerts = %+v, %v; want another copy told of", as, err)
	}
	fetchUntil(t, bob, id, "copy a's message again", func(fetchResult) bool {
		return slices.ContainsFunc(receivedHistory(t, bob, id), func(e Entry) bool { return e.Body == big('a') })
	})
	fetchUntilDelivered(t, a, id)
}

// gateNet fails every Get of the names in names while shut is set.
type gateNet struct {
	Network
	shut  atomic.Bool
	names map[string]bool
}

func (g *gateNet) Get(ctx context.Context, pub ed25519.PublicKey, opts ...dht.GetOption) (dht.Record, error) {
	if g.shut.Load() && g.names[string(pub)] {
		return dht.Record{}, errors.New("lookup timed out")
	}
	return g.Network.Get(ctx, pub, opts...)
}

// TestPartialReadBack: as TestSecondCopySameNumbers, but when bob's ack of
// 3 arrives, copy a cannot read its slot 1 back. It marks delivered only
// what its records confirm (2), not its own 3, however often it fetches
// meanwhile; once the slot can be read again, it finds copy b's 3 there,
// sends its own again, and bob gets it.
func TestPartialReadBack(t *testing.T) {
	net, alice, bob, id := deliveredChat(t)
	ctx := t.Context()
	if _, err := alice.c.Send(ctx, id, big('s')); err != nil {
		t.Fatal(err)
	}
	cs := alice.c.chats[id]
	gate := &gateNet{Network: alice.node, names: map[string]bool{string(cs.keys.SlotPublicKey(cs.dir, 1)): true}}
	b, seen := blindCopy(t, net, alice, id, gate, fastPoll)
	a := alice.c

	sendNow(t, a, id, big('a'))
	sendNow(t, b, id, big('b'))
	seen.blind.Store(false)
	if got := receiveAll(t, bob, id, 2); got[1].Body != big('b') {
		t.Fatalf("bob got %.20q; want copy b's 3", bodies(got))
	}

	gate.shut.Store(true)
	fetchUntil(t, alice, id, "bob's ack of 2", func(fetchResult) bool {
		o, err := a.Outbox(ctx, id)
		return err == nil && o.Delivered >= 2
	})
	for range 5 {
		fetchOnce(t, alice, id)
		if o, err := a.Outbox(ctx, id); err != nil || o.Delivered != 2 {
			t.Fatalf("with slot 1 unreadable copy a's outbox is %+v, %v; want 2 delivered, not 3", o, err)
		}
	}
	gate.shut.Store(false)
	fetchUntil(t, alice, id, "copy a's 3 renumbered", func(fetchResult) bool {
		return !slices.Contains(outgoingOf(t, a, id), "3:"+big('a')+":published")
	})
	for _, m := range outgoingOf(t, a, id) {
		if strings.Contains(m, big('a')+":delivered") {
			t.Fatalf("copy a shows its own 3 delivered before bob got it")
		}
	}
	fetchUntil(t, bob, id, "copy a's message again", func(fetchResult) bool {
		return slices.ContainsFunc(receivedHistory(t, bob, id), func(e Entry) bool { return e.Body == big('a') })
	})
	fetchUntilDelivered(t, a, id)
}

// TestRestoredWithUnacknowledged: the backup was taken while message 1
// was published and not yet acknowledged; the live database then saw it
// acknowledged. Restored, the database finds the number taken and not
// carried any more: it is the same message (the backup and the live copy
// shared it), so it is not sent again, and it is marked delivered.
func TestRestoredWithUnacknowledged(t *testing.T) {
	net := dhttest.NewNetwork(t, 4)
	alice, bob := newUser(t, "alice", net), newUser(t, "bob", net)
	id := startChat(t, alice, bob)
	ctx := t.Context()
	sendNow(t, alice.c, id, "m1")
	db := filepath.Join(alice.dir, "dhtchat.db")
	backup := filepath.Join(t.TempDir(), "backup.db")
	alice.c.Close()
	copyDB(t, db, backup)
	alice.c = openClient(t, alice, db, alice.node, fastPoll)
	receiveAll(t, bob, id, 1)
	fetchUntilDelivered(t, alice.c, id)
	if _, err := alice.c.Flush(ctx, id); err != nil { // m1 leaves our records
		t.Fatal(err)
	}

	alice.c.Close()
	copyDB(t, backup, db)
	alice.c = openClient(t, alice, db, alice.node, fastPoll)
	res := sendNow(t, alice.c, id, "m2")
	if !hasAlert(res.Alerts, AlertBehind) {
		t.Errorf("Flush after the restore raised %+v; want AlertBehind", res.Alerts)
	}
	got := receiveAll(t, bob, id, 1)
	checkInOrder(t, append(receivedHistory(t, bob, id)[:1], got...), []string{"m1", "m2"})
	fetchUntilDelivered(t, alice.c, id)
	if got, want := outgoingOf(t, alice.c, id), []string{"1:m1:delivered", "2:m2:delivered"}; !slices.Equal(got, want) {
		t.Fatalf("alice's messages %q, want %q", got, want)
	}
	for range 3 {
		if r := fetchOnce(t, bob, id); len(r.Received) != 0 {
			t.Fatalf("bob received %q again", bodies(r.Received))
		}
	}
}

// TestAckReadsOnlyTheSlotsItNeeds: confirming an ack reads back our slots
// only as far as the numbers acknowledged: on the public DHT each read
// takes seconds.
func TestAckReadsOnlyTheSlotsItNeeds(t *testing.T) {
	net := dhttest.NewNetwork(t, 4)
	alice, bob := newUser(t, "alice", net), newUser(t, "bob", net)
	id := startChat(t, alice, bob)
	counted := newCountingNet(alice.node)
	alice.c.Close()
	alice.c = openClient(t, alice, filepath.Join(alice.dir, "dhtchat.db"), counted, fastPoll)
	sendNow(t, alice.c, id, big('a'), big('b'), big('c'))
	cs := alice.c.chats[id]
	gets := func() int {
		counted.mu.Lock()
		defer counted.mu.Unlock()
		return counted.gets[string(cs.keys.SlotPublicKey(cs.dir, 1))] + counted.gets[string(cs.keys.SlotPublicKey(cs.dir, 2))]
	}
	before := gets()
	m := newForger(t, bob, id)
	m.put(t, 0, wire.SlotHeader{SlotsUsed: 1, Ack: 1})
	fetchUntil(t, alice, id, "the ack of 1", func(r fetchResult) bool { return len(r.Delivered) == 1 })
	if n := gets() - before; n != 0 {
		t.Fatalf("confirming the ack of message 1 (in slot 0) read our slots 1 and 2 %d times", n)
	}
}

// TestUnconfirmedAckIsNotReadAgainAtOnce: an ack that our records cannot
// confirm (our slot 1 cannot be read) is tried again at growing
// intervals, not at every slot of the friend's record and every poll.
func TestUnconfirmedAckIsNotReadAgainAtOnce(t *testing.T) {
	net := dhttest.NewNetwork(t, 4)
	alice, bob := newUser(t, "alice", net), newUser(t, "bob", net)
	id := startChat(t, alice, bob)
	cs := alice.c.chats[id]
	counted := newCountingNet(alice.node)
	gate := &gateNet{Network: counted, names: map[string]bool{string(cs.keys.SlotPublicKey(cs.dir, 1)): true}}
	alice.c.Close()
	poll := fastPoll
	poll.Focused, poll.OwnCheck = time.Hour, time.Hour // one retry an hour
	alice.c = openClient(t, alice, filepath.Join(alice.dir, "dhtchat.db"), gate, poll)
	sendNow(t, alice.c, id, big('a'), big('b'))
	gate.shut.Store(true)
	slot0 := func() int {
		counted.mu.Lock()
		defer counted.mu.Unlock()
		return counted.gets[string(cs.keys.SlotPublicKey(cs.dir, 0))]
	}
	// Bob's record: two slots, each acknowledging 2.
	m := newForger(t, bob, id)
	m.put(t, 1, wire.SlotHeader{Slot: 1, SlotsUsed: 2, MaxN: 2, Ack: 2}, m.text(2, "b2"))
	m.put(t, 0, wire.SlotHeader{SlotsUsed: 2, MaxN: 2, Ack: 2}, m.text(1, "b1"))
	before := slot0()
	fetchUntil(t, alice, id, "bob's messages", func(r fetchResult) bool { return len(r.Received) > 0 })
	for range 5 {
		fetchOnce(t, alice, id)
	}
	if n := slot0() - before; n != 1 {
		t.Fatalf("the unconfirmed ack read our slot 0 back %d times; want once", n)
	}
	if o, err := alice.c.Outbox(t.Context(), id); err != nil || o.Delivered != 1 {
		t.Fatalf("outbox %+v, %v; want message 1 delivered, 2 not confirmed", o, err)
	}
}
