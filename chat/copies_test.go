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
func blindCopy(t *testing.T, net *dht.LocalNetwork, alice *user, id ChatID, poll PollPolicy) (*Client, *blindNet) {
	t.Helper()
	keys, dir := alice.c.chats[id].keys, alice.c.chats[id].dir
	db := filepath.Join(alice.dir, "dhtchat.db")
	clone := filepath.Join(t.TempDir(), "clone.db")
	alice.c.Close()
	copyDB(t, db, clone)
	alice.c = openClient(t, alice, db, alice.node, poll)
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
	net := dhttest.NewNetwork(t, 4)
	alice, bob := newUser(t, "alice", net), newUser(t, "bob", net)
	id := startChat(t, alice, bob)
	ctx := t.Context()
	sendNow(t, alice.c, id, "base")
	receiveAll(t, bob, id, 1)
	fetchUntilDelivered(t, alice.c, id)
	if _, err := alice.c.Send(ctx, id, big('s')); err != nil { // 2, in both copies
		t.Fatal(err)
	}
	b, seen := blindCopy(t, net, alice, id, fastPoll)
	a := alice.c

	sendNow(t, a, id, big('a'))
	sendNow(t, b, id, big('b'))
	seen.blind.Store(false)
	got := receiveAll(t, bob, id, 2)
	if got[0].Body != big('s') || got[1].Body != big('b') {
		t.Fatalf("bob got %.20q; want the shared 2, then copy b's 3", bodies(got))
	}

	// Copy a reads bob's ack of 3.
	fetchUntil(t, alice, id, "bob's ack", func(r FetchResult) bool {
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
	fetchUntil(t, bob, id, "copy a's message again", func(FetchResult) bool {
		return slices.ContainsFunc(receivedHistory(t, bob, id), func(e Entry) bool { return e.Body == big('a') })
	})
	fetchUntilDelivered(t, a, id)
}
