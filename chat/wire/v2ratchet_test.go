package wire

import (
	"bytes"
	"errors"
	"fmt"
	"strings"
	"testing"
)

// Two parties talk for several round trips; every message arrives once,
// and the epochs advance with every round trip.
func TestV2Conversation(t *testing.T) {
	alice, bob := newV2Pair(t, "conversation")
	var all []v2record
	for i := range 6 {
		roundTrip(t, alice, bob, &all, fmt.Sprint("round ", i))
		roundTrip(t, bob, alice, &all, fmt.Sprint("back ", i))
	}
	for _, p := range []*v2party{alice, bob} {
		if p.received != 12 {
			t.Errorf("%v received %d messages without a gap, want 12 (%v)", p.st.Direction(), p.received, p.got)
		}
	}
	if e := alice.st.SendEpoch(); e < 9 {
		t.Errorf("after 12 round trips alice writes epoch %d", e)
	}
	t.Logf("epochs: alice sends %d reads %d; bob sends %d reads %d", alice.st.SendEpoch(), alice.st.RecvEpoch(), bob.st.SendEpoch(), bob.st.RecvEpoch())
}

// Both parties write before either has read anything, and go on without
// waiting: the bootstrap epochs carry the first messages, and the
// ratchet starts as soon as from-lo reads from-hi.
func TestV2BothWriteFirst(t *testing.T) {
	alice, bob := newV2Pair(t, "both first")
	alice.send("hi from alice")
	bob.send("hi from bob")
	ra, rb := alice.publish(), bob.publish()
	bob.read(ra)
	alice.read(rb)
	if alice.received != 1 || bob.received != 1 {
		t.Fatalf("received %d and %d, want 1 each", alice.received, bob.received)
	}
	if alice.st.SendEpoch() != 1 || bob.st.SendEpoch() != 0 {
		t.Fatalf("epochs %d and %d, want 1 (from-lo stepped) and 0", alice.st.SendEpoch(), bob.st.SendEpoch())
	}
	// alice's bootstrap message is still unacknowledged: it travels on
	// in her epoch-1 records, on the same (bootstrap) names.
	alice.send("second from alice")
	bob.send("second from bob")
	ra, rb = alice.publish(), bob.publish()
	bob.read(ra)
	alice.read(rb)
	bob.send("third from bob")
	alice.read(bob.publish())
	bob.read(alice.publish())
	if alice.received != 3 || bob.received != 2 {
		t.Fatalf("received %d and %d, want 3 and 2", alice.received, bob.received)
	}
	if alice.st.SendEpoch() != 3 || bob.st.SendEpoch() != 4 {
		t.Errorf("epochs %d and %d, want 3 and 4", alice.st.SendEpoch(), bob.st.SendEpoch())
	}
}

// A writer offline from its reader for a long time fills many slots
// across several epochs' worth of steps it could not make; the reader
// catches up from one fetch of all the slots, and every message arrives
// once.
func TestV2Backlog(t *testing.T) {
	alice, bob := newV2Pair(t, "backlog")
	var all []v2record
	roundTrip(t, alice, bob, &all, "start")
	long := strings.Repeat("x", 2000)
	for range 40 {
		alice.send(long)
	}
	recs := alice.publish()
	if len(recs) < 10 {
		t.Fatalf("40 messages of 2000 bytes in %d slots", len(recs))
	}
	got := bob.read(recs)
	if len(got) != 40 || bob.received != 41 {
		t.Fatalf("bob opened %d messages, has %d without a gap", len(got), bob.received)
	}
	// The reader reads the same records again: nothing new, no error.
	if got := bob.read(recs); len(got) != 0 {
		t.Errorf("reading again opened %d messages", len(got))
	}
}

// The state survives being stored and loaded at every step of a
// conversation: what a client does with every transaction.
func TestV2StateRoundTrip(t *testing.T) {
	alice, bob := newV2Pair(t, "store")
	reload := func(p *v2party) {
		b := p.st.Marshal()
		s, err := UnmarshalRatchetState(b)
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(s.Marshal(), b) {
			t.Fatal("Marshal(Unmarshal(b)) != b")
		}
		p.st = s
	}
	for i := range 5 {
		alice.send(fmt.Sprint("a", i))
		reload(alice)
		bob.read(alice.publish())
		reload(bob)
		bob.send(fmt.Sprint("b", i))
		reload(bob)
		alice.read(bob.publish())
		reload(alice)
	}
	if alice.received != 5 || bob.received != 5 {
		t.Errorf("received %d and %d, want 5 each", alice.received, bob.received)
	}
}

// Replays, reordering and skips, each bounded.
func TestV2ReplayReorderSkip(t *testing.T) {
	alice, bob := newV2Pair(t, "replay")
	var all []v2record
	roundTrip(t, alice, bob, &all, "start")
	var fs []Frame
	for i := range 5 {
		fs = append(fs, alice.send(fmt.Sprint("m", i)))
	}
	encode := func(frames ...Frame) []byte {
		maxN := alice.st.NextN() - 1
		p, err := alice.st.EncodeSlot(newDetRand("e"), V2Header{Slot: 0, SlotsUsed: 1, Seq: 99, MaxN: maxN}, frames)
		if err != nil {
			t.Fatal(err)
		}
		return p
	}
	e := alice.st.SendEpoch()
	decode := func(st *RatchetState, p []byte) (*RatchetState, V2Slot, error) {
		return st.DecodeSlot(newDetRand("d"), e, 0, 99, p)
	}
	// Reordered: the fifth and third first, then the rest.
	st, s, err := decode(bob.st, encode(fs[2], fs[4]))
	if err != nil || len(s.Messages) != 2 {
		t.Fatalf("first record: %v, %d messages", err, len(s.Messages))
	}
	st, s, err = decode(st, encode(fs...))
	if err != nil || len(s.Messages) != 3 || s.Duplicates != 2 {
		t.Fatalf("second record: %v, %d messages, %d duplicates; want 3 and 2", err, len(s.Messages), s.Duplicates)
	}
	if len(st.skipped) != 0 {
		t.Errorf("%d skipped keys left after every message arrived", len(st.skipped))
	}
	// Replayed: the same record again opens nothing, changes nothing.
	st2, s, err := decode(st, encode(fs...))
	if err != nil || len(s.Messages) != 0 || !bytes.Equal(st2.Marshal(), st.Marshal()) {
		t.Errorf("replay: %v, %d messages", err, len(s.Messages))
	}
	// A record with its seq changed, its epoch changed or a byte flipped
	// does not open.
	p := encode(fs[0])
	if _, _, err := st.DecodeSlot(nil, e, 0, 100, p); !errors.Is(err, ErrDecrypt) {
		t.Errorf("other seq: %v, want ErrDecrypt", err)
	}
	for _, at := range []int{1, 30, 500, len(p) - 1} {
		q := bytes.Clone(p)
		q[at] ^= 1
		if _, _, err := decode(st, q); !errors.Is(err, ErrDecrypt) {
			t.Errorf("flipped byte %d: %v, want ErrDecrypt", at, err)
		}
	}
	// Skips beyond MaxSkip are refused, and leave the state usable.
	for range MaxSkip + 1 {
		alice.send("skip")
	}
	far := alice.outbox[len(alice.outbox)-1]
	before := bob.st.Marshal()
	if _, _, err := decode(bob.st, encode(far)); !errors.Is(err, ErrTooManySkipped) {
		t.Errorf("a skip of %d: %v, want ErrTooManySkipped", MaxSkip+1, err)
	}
	if !bytes.Equal(bob.st.Marshal(), before) {
		t.Error("a refused record changed the state")
	}
	if _, s, err := decode(bob.st, encode(fs[0])); err != nil || len(s.Messages) != 1 {
		t.Errorf("after the refusal: %v", err)
	}
	// A record of an old epoch, after the reader moved on, is refused.
	old := all[0]
	if _, _, err := st.DecodeSlot(nil, old.epoch, old.slot, old.seq, old.payload); !errors.Is(err, ErrEpoch) {
		t.Errorf("old epoch: %v, want ErrEpoch", err)
	}
	// A slot other than 0 of an epoch not entered is refused.
	r1 := alice.publish()[1]
	if _, _, err := bob.st.DecodeSlot(nil, r1.epoch, 1, r1.seq, r1.payload); !errors.Is(err, ErrEpoch) {
		t.Errorf("slot 1 of an epoch not entered: %v, want ErrEpoch", err)
	}
}

// A version 2 reader rejects a version 1 record as another version, and a
// version 1 reader a version 2 record.
func TestV2VersionsApart(t *testing.T) {
	alice, bob := newV2Pair(t, "versions")
	alice.send("v2")
	r := alice.publish()[0]
	var uv *UnknownVersionError
	if _, err := testKeys(t).DecodeSlot(FromLo, 0, r.seq, r.payload); !errors.As(err, &uv) || uv.Version != 2 {
		t.Errorf("v1 DecodeSlot(v2 record) = %v, want unknown version 2", err)
	}
	v1 := testKeys(t).EncodeSlotUnchecked(SlotHeader{Dir: FromLo, SlotsUsed: 1, Seq: 1}, nil)
	if _, _, err := bob.st.DecodeSlot(nil, 0, 0, 1, v1); !errors.As(err, &uv) || uv.Version != 1 {
		t.Errorf("v2 DecodeSlot(v1 record) = %v, want unknown version 1", err)
	}
}

// A state never prints a secret, whatever the verb.
func TestV2StateRedacted(t *testing.T) {
	alice, _ := newV2Pair(t, "redact")
	st := alice.st
	secret := fmt.Sprintf("%x", st.rk[:8])
	for _, s := range []string{
		fmt.Sprint(st), fmt.Sprint(*st), fmt.Sprintf("%+v", st), fmt.Sprintf("%#v", *st),
		fmt.Sprintf("%x", *st), fmt.Sprintf("%d", st), fmt.Sprintf("%s", st),
	} {
		if strings.Contains(s, secret) || !strings.Contains(s, "REDACTED") {
			t.Errorf("a state prints as %q", s)
		}
	}
}

// Republishing re-encodes the records, but the sealed messages inside are
// the frames made at send time, byte for byte: nothing is sealed again.
func TestV2RepublishKeepsCiphertext(t *testing.T) {
	alice, _ := newV2Pair(t, "republish")
	f := alice.send("once")
	r1, r2 := alice.publish()[0], alice.publish()[0]
	if bytes.Equal(r1.payload, r2.payload) {
		t.Fatal("two encodings of a record are equal: no fresh nonce")
	}
	for _, r := range []v2record{r1, r2} {
		hk := alice.st.sendHK
		plain, ok := v2OpenAEAD(&hk, r.payload[1:], v2SlotAD(testChatID, FromLo, r.epoch, 0, r.seq))
		if !ok {
			t.Fatal("cannot open the writer's own record")
		}
		if !bytes.Contains(plain, f.Sealed) {
			t.Error("a republished record does not carry the frame sealed at send time")
		}
	}
}

// A state restored from a backup finds out that it is behind: from the
// peer's acks, and from a record under its own next epoch's names (which
// only a newer copy of itself can have signed). The current state does not.
func TestV2RestoredStateBehind(t *testing.T) {
	alice, bob := newV2Pair(t, "restore")
	var all []v2record
	roundTrip(t, alice, bob, &all, "start")
	roundTrip(t, alice, bob, &all, "more")
	backup := alice.st.Marshal()
	next, ok := alice.st.NextSlotNames()
	if !ok {
		t.Fatal("no next names announced")
	}
	// Life goes on after the backup.
	alice.send("after the backup")
	bob.read(alice.publish())
	bob.send("answer")
	rb := bob.publish()
	alice.read(rb)
	alice.send("in the next epoch")
	ra := alice.publish()
	if [32]byte(ra[0].name) != [32]byte(next[0]) {
		t.Fatal("alice's next epoch is not on the names she announced")
	}
	restored, err := UnmarshalRatchetState(backup)
	if err != nil {
		t.Fatal(err)
	}
	// The peer's ack: bob acknowledges a message the backup never sealed.
	var h V2Header
	for _, w := range restored.Watches() {
		if _, s, err := restored.DecodeSlot(nil, w.Epoch, 0, rb[0].seq, rb[0].payload); err == nil {
			h = s.Header
		}
	}
	if h.Seq == 0 {
		t.Fatal("the restored state reads nothing of bob's")
	}
	if !restored.Behind(h) {
		t.Error("the restored state does not see that bob acknowledges more than it sealed")
	}
	if alice.st.Behind(h) {
		t.Error("the current state thinks it is behind")
	}
	// The names: a record exists under the backup's next names.
	rn, _ := restored.NextSlotNames()
	if [32]byte(rn[0]) != [32]byte(ra[0].name) {
		t.Error("the restored state does not recognise its newer copy's record")
	}
}

// A reader that fetched only slot 0 of a large backlog answers, so the
// writer steps: the rest of the backlog, sealed in the old epoch, travels
// on in the new epoch's slots beside new messages, and opens with the
// keys the reader kept.
func TestV2StepWithBacklog(t *testing.T) {
	alice, bob := newV2Pair(t, "step with backlog")
	var all []v2record
	roundTrip(t, alice, bob, &all, "start")
	body := strings.Repeat("z", 2000)
	for range 30 {
		alice.send(body)
	}
	recs := alice.publish()
	bob.read(recs[:1]) // only slot 0
	if bob.received != 4 {
		t.Fatalf("bob has %d messages after slot 0, want 4", bob.received)
	}
	bob.send("got the first ones")
	alice.read(bob.publish()) // alice steps; bob's ack drops 1…4
	alice.send("new epoch")
	recs = alice.publish()
	got := bob.read(recs)
	if bob.received != 32 || len(got) != 28 {
		t.Fatalf("bob opened %d, has %d without a gap, want 28 and 32", len(got), bob.received)
	}
	if len(bob.st.skipped) != 0 {
		t.Errorf("%d skipped keys left", len(bob.st.skipped))
	}
}
