package chat

import (
	"context"
	"crypto/ed25519"
	"crypto/rand"
	"sync"
	"testing"
	"time"

	"github.com/dhtchat/dhtchat/chat/internal/store"
	"github.com/dhtchat/dhtchat/chat/wire"
	"github.com/dhtchat/dhtchat/dht"
	"github.com/dhtchat/dhtchat/dht/dhttest"
)

// replayNet is the DHT as a dishonest or lagging node makes it look: Get
// returns a chosen record for a name instead of the network's answer.
// Everything else goes to the real network.
type replayNet struct {
	Network
	mu       sync.Mutex
	override map[string]dht.Record
}

func (r *replayNet) Get(ctx context.Context, pub ed25519.PublicKey, opts ...dht.GetOption) (dht.Record, error) {
	r.mu.Lock()
	rec, ok := r.override[string(pub)]
	r.mu.Unlock()
	if ok {
		return rec, nil
	}
	return r.Network.Get(ctx, pub, opts...)
}

func (r *replayNet) serve(pub ed25519.PublicKey, rec dht.Record) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.override == nil {
		r.override = make(map[string]dht.Record)
	}
	r.override[string(pub)] = rec
}

func (r *replayNet) stop() {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.override = nil
}

// bobState is what a rejected record must not change.
type bobState struct {
	counters store.Counters
	seqs     [wire.MaxSlots]uint64
	count    int
}

func stateOf(t *testing.T, c *Client, id ChatID) bobState {
	t.Helper()
	ctx := t.Context()
	var s bobState
	var err error
	if s.counters, err = c.db.Counters(ctx, store.ChatID(id)); err != nil {
		t.Fatal(err)
	}
	for i := range wire.MaxSlots {
		if s.seqs[i], err = c.db.PeerSeq(ctx, store.ChatID(id), i); err != nil {
			t.Fatal(err)
		}
	}
	if s.count, err = c.db.Count(ctx, store.ChatID(id)); err != nil {
		t.Fatal(err)
	}
	return s
}

// TestRejectedRecords: records that are replayed, rolled back, from the
// other direction, garbage, truncated, oversized or of an unknown version
// are each rejected with no change of state, and later valid messages are
// still delivered. (An ack above what we published is not a reason to
// reject a record: see TestAckAboveWhatWePublished.)
func TestRejectedRecords(t *testing.T) {
	net := dhttest.NewNetwork(t, 4)
	alice, bob := newUser(t, "alice", net), newUser(t, "bob", net)
	// Bob reads through a network that can be made to lie.
	liar := &replayNet{Network: bob.node}
	bc, err := Open(Config{Identity: bob.sk, DBPath: bob.dir + "/lying.db", Network: liar, Poll: fastPoll})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { bc.Close() })
	bob.c = bc
	id := startChat(t, alice, bob)
	ctx := t.Context()

	acs, err := alice.c.state(ctx, id)
	if err != nil {
		t.Fatal(err)
	}
	slot0 := acs.keys.SlotPublicKey(acs.dir, 0)
	send := func(body string) {
		t.Helper()
		if _, err := alice.c.Send(ctx, id, body); err != nil {
			t.Fatal(err)
		}
		if _, err := alice.c.Flush(ctx, id); err != nil {
			t.Fatal(err)
		}
	}
	current := func() dht.Record {
		t.Helper()
		rec, err := alice.node.Get(ctx, slot0)
		if err != nil {
			t.Fatal(err)
		}
		return rec
	}

	send("one")
	old := current()
	checkInOrder(t, receiveAll(t, bob, id, 1), []string{"one"})
	send("two")
	if got := receiveAll(t, bob, id, 1); got[0].N != 2 || got[0].Body != "two" {
		t.Fatalf("bob got %+v, want message 2 \"two\"", got[0])
	}

	// A bob-direction record (bob's own) to serve as alice's.
	if _, err := bob.c.Send(ctx, id, "from bob"); err != nil {
		t.Fatal(err)
	}
	if _, err := bob.c.Flush(ctx, id); err != nil {
		t.Fatal(err)
	}
	bcs, err := bob.c.state(ctx, id)
	if err != nil {
		t.Fatal(err)
	}
	bobsOwn, err := bob.node.Get(ctx, bcs.keys.SlotPublicKey(bcs.dir, 0))
	if err != nil {
		t.Fatal(err)
	}

	fresh := current()
	seq := fresh.Seq + 1000 // above anything accepted, so only content can be at fault
	validPayload := func() []byte {
		t.Helper()
		sealed, err := acs.keys.Seal(acs.dir, wire.Message{N: 3, SentAt: time.Now(), Body: "three"})
		if err != nil {
			t.Fatal(err)
		}
		p, err := acs.keys.EncodeSlot(wire.SlotHeader{Dir: acs.dir, Slot: 0, SlotsUsed: 1, Seq: seq, MaxN: 3}, [][]byte{sealed})
		if err != nil {
			t.Fatal(err)
		}
		return p
	}
	garbage := make([]byte, 2048)
	rand.Read(garbage)
	unknownVersion := validPayload()
	unknownVersion[0] = 2
	// A valid record but for its message, whose plaintext says version 2.
	plain := wire.MessagePlaintext(acs.dir, 3, time.Now().UnixMilli(), "three")
	plain[0] = 2
	unknownMsgVersion := acs.keys.EncodeSlotUnchecked(wire.SlotHeader{Dir: acs.dir, Slot: 0, SlotsUsed: 1, Seq: seq, MaxN: 3},
		[][]byte{acs.keys.SealPlaintext(acs.dir, plain)})

	cases := []struct {
		name string
		rec  dht.Record
	}{
		{"replay of an older record", old},
		{"record from the other direction", dht.Record{Seq: seq, Payload: bobsOwn.Payload}},
		{"garbage payload", dht.Record{Seq: seq, Payload: garbage}},
		{"truncated payload", dht.Record{Seq: seq, Payload: validPayload()[:200]}},
		{"empty payload", dht.Record{Seq: seq, Payload: nil}},
		{"oversized payload", dht.Record{Seq: seq, Payload: append(validPayload(), make([]byte, 1024)...)}},
		{"unknown record version", dht.Record{Seq: seq, Payload: unknownVersion}},
		{"unknown message version", dht.Record{Seq: seq, Payload: unknownMsgVersion}},
		{"sequence number not the record's", dht.Record{Seq: seq + 1, Payload: validPayload()}},
	}
	for _, tc := range cases {
		before := stateOf(t, bob.c, id)
		liar.serve(slot0, tc.rec)
		res, err := bob.c.Fetch(ctx, id)
		if err != nil {
			t.Fatalf("%s: Fetch error %v; want the record rejected quietly", tc.name, err)
		}
		if res.Rejected != 1 || len(res.Received) != 0 || len(res.Delivered) != 0 {
			t.Errorf("%s: Fetch = %d received, %d delivered, %d rejected; want only a rejection",
				tc.name, len(res.Received), len(res.Delivered), res.Rejected)
		}
		if after := stateOf(t, bob.c, id); after != before {
			t.Errorf("%s: state changed from %+v to %+v", tc.name, before, after)
		}
	}

	// The real record is still accepted, and the next message delivered.
	liar.stop()
	send("three")
	got := receiveAll(t, bob, id, 1)
	if got[0].N != 3 || got[0].Body != "three" {
		t.Fatalf("after the rejections bob got %+v, want message 3 \"three\"", got[0])
	}
}

func TestClampTime(t *testing.T) {
	now := time.Now()
	tests := []struct{ in, want time.Time }{
		{now, now},
		{time.UnixMilli(-1 << 62), minSentAt},
		{time.UnixMilli(1 << 62), maxSentAt},
	}
	for _, tt := range tests {
		if got := clampTime(tt.in); !got.Equal(tt.want) {
			t.Errorf("clampTime(%v) = %v, want %v", tt.in, got, tt.want)
		}
	}
}
