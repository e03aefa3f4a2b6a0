package wire

import (
	"bytes"
	"encoding/binary"
	"errors"
	"slices"
	"testing"
)

// Each decoding rule of docs/PROTOCOL.md §25.5, broken by an authentic
// writer (the test seals the broken plaintext with the writer's header
// key), rejects the record, and the reader's chain is unchanged.
func TestGroupDecodeRejects(t *testing.T) {
	a, b, recs := groupSeeds(t)
	k := a.key
	c := b.chains[chainID{a.id, k.Epoch()}]
	good, ok := v2OpenAEAD(&k.hk, recs[0].payload[1:], groupSlotAD(k.group, k.self, 0, 0, recs[0].seq))
	if !ok || len(recs) != 1 {
		t.Fatal("cannot open the seed record")
	}
	seal := func(i int, seq uint64, plain []byte) []byte {
		s, err := v2Seal(newDetRand("reject"), &k.hk, plain, groupSlotAD(k.group, k.self, k.epoch, i, seq))
		if err != nil {
			t.Fatal(err)
		}
		return append([]byte{version2}, s...)
	}
	frame2 := groupFixedSize + groupFrameHead + int(binary.BigEndian.Uint16(good[groupFixedSize+8:])) // where frame 2 starts
	edit := func(f func(p []byte) []byte) []byte { return f(bytes.Clone(good)) }
	withAck := func(p []byte, acks ...GroupAck) []byte {
		p[20] = byte(len(acks))
		var ab []byte
		for _, x := range acks {
			ab = binary.BigEndian.AppendUint64(append(ab, x.Member[:]...), x.N)
		}
		out := append(append(p[:groupFixedSize:groupFixedSize], ab...), p[groupFixedSize:]...)
		return out[:v2PlainSize]
	}
	tests := []struct {
		name    string
		slot    int
		seq     uint64
		payload []byte
		want    error
	}{
		{"empty", 0, 1, nil, ErrTruncated},
		{"short", 0, 1, recs[0].payload[:MaxSlotPayload-1], ErrMalformed},
		{"another seq", 0, recs[0].seq + 1, recs[0].payload, ErrDecrypt},
		{"another slot", 1, recs[0].seq, recs[0].payload, ErrDecrypt},
		{"type", 0, 1, seal(0, 1, edit(func(p []byte) []byte { p[0] = v2HdrType; return p })), ErrMalformed},
		{"slots_used 0", 0, 1, seal(0, 1, edit(func(p []byte) []byte { p[1] = 0; return p })), ErrMalformed},
		{"slot past slots_used", 1, 1, seal(1, 1, good), ErrMalformed},
		{"seq 0", 0, 0, seal(0, 0, good), ErrMalformed},
		{"first_n", 0, 1, seal(0, 1, edit(func(p []byte) []byte { p[17] = 2; return p })), ErrMismatch},
		{"count", 0, 1, seal(0, 1, edit(func(p []byte) []byte { binary.BigEndian.PutUint16(p[18:], 200); return p })), ErrMalformed},
		{"max_n below a frame", 0, 1, seal(0, 1, edit(func(p []byte) []byte { p[9] = 1; return p })), ErrMalformed},
		{"frames out of order", 0, 1, seal(0, 1, edit(func(p []byte) []byte { p[frame2+7] = 1; return p })), ErrMalformed},
		{"frame too long", 0, 1, seal(0, 1, edit(func(p []byte) []byte { p[groupFixedSize+8] = 0x40; return p })), ErrTruncated},
		{"padding", 0, 1, seal(0, 1, edit(func(p []byte) []byte { p[len(p)-1] = 1; return p })), ErrMalformed},
		{"acks out of order", 0, 1, seal(0, 1, edit(func(p []byte) []byte {
			return withAck(p, GroupAck{Member: MemberID{2}}, GroupAck{Member: MemberID{1}})
		})), ErrMalformed},
		{"too many skipped", 0, 1, seal(0, 1, edit(func(p []byte) []byte {
			binary.BigEndian.PutUint64(p[2:], 5000)
			binary.BigEndian.PutUint64(p[groupFixedSize:], 4000)
			binary.BigEndian.PutUint64(p[frame2:], 4001)
			return p
		})), ErrTooManySkipped},
	}
	sealedFrame := good[groupFixedSize+groupFrameHead : frame2]
	tests = append(tests, struct {
		name    string
		slot    int
		seq     uint64
		payload []byte
		want    error
	}{"frame sealed for another number", 0, 1, seal(0, 1, edit(func(p []byte) []byte {
		copy(p[frame2+groupFrameHead:], sealedFrame) // frame 1's sealed bytes as frame 2
		binary.BigEndian.PutUint16(p[frame2+8:], uint16(len(sealedFrame)))
		for j := frame2 + groupFrameHead + len(sealedFrame); j < len(p); j++ {
			p[j] = 0
		}
		return p
	})), ErrDecrypt})
	before := *c
	for _, tt := range tests {
		next, s, err := c.DecodeSlot(tt.slot, tt.seq, tt.payload)
		if !errors.Is(err, tt.want) || next != nil || s.Messages != nil {
			t.Errorf("%s: DecodeSlot = %v, %d messages; want %v", tt.name, err, len(s.Messages), tt.want)
		}
	}
	var uv *UnknownVersionError
	if _, _, err := c.DecodeSlot(0, 1, append([]byte{1}, recs[0].payload[1:]...)); !errors.As(err, &uv) {
		t.Errorf("format 1: %v", err)
	}
	// Acks in slot 0 are fine and come back.
	acked := seal(0, 1, edit(func(p []byte) []byte { return withAck(p, GroupAck{MemberID{1}, 7}, GroupAck{MemberID{2}, 9}) }))
	if _, s, err := c.DecodeSlot(0, 1, acked); err != nil || len(s.Header.Acks) != 2 || s.Header.Acks[1].N != 9 || len(s.Messages) != 2 {
		t.Errorf("a record with acks: %v %+v", err, s.Header)
	}
	// Every flipped byte of an authentic record is refused.
	for j := 0; j < MaxSlotPayload; j += 97 {
		p := bytes.Clone(recs[0].payload)
		p[j] ^= 0x10
		if _, _, err := c.DecodeSlot(0, recs[0].seq, p); err == nil {
			t.Fatalf("byte %d flipped: accepted", j)
		}
	}
	if c.nextN != before.nextN || c.ck != before.ck || len(c.skipped) != len(before.skipped) {
		t.Error("a rejected record changed the chain")
	}
	if _, s, err := c.DecodeSlot(0, recs[0].seq, recs[0].payload); err != nil || len(s.Messages) != 2 {
		t.Errorf("the good record: %v, %d messages", err, len(s.Messages))
	}
}

// A message whose key was derived ahead opens later; a duplicate is
// skipped; more than MaxSkip ahead is refused.
func TestGroupSkippedKeys(t *testing.T) {
	ms := newGroup(t, "alice", "bob")
	a, b := ms[0], ms[1]
	f1, f2, f3 := a.send("1"), a.send("2"), a.send("3")
	c := b.chains[chainID{a.id, 0}]
	c, m3, ok, err := c.Open(f3)
	if err != nil || !ok || m3.Body != "3" || len(c.skipped) != 2 {
		t.Fatalf("open 3 first: %v %v %q, %d skipped", err, ok, m3.Body, len(c.skipped))
	}
	c, m1, ok, err := c.Open(f1)
	if err != nil || !ok || m1.Body != "1" {
		t.Fatalf("open 1: %v %v", err, ok)
	}
	if _, _, ok, err := c.Open(f1); err != nil || ok {
		t.Errorf("open 1 again: %v %v, want a duplicate", err, ok)
	}
	c, _, ok, _ = c.Open(f2)
	if !ok || len(c.skipped) != 0 {
		t.Errorf("open 2: %v, %d skipped left", ok, len(c.skipped))
	}
	far := GroupFrame{Epoch: 0, N: c.nextN + MaxSkip, Sealed: f1.Sealed}
	if _, _, _, err := c.Open(far); !errors.Is(err, ErrTooManySkipped) {
		t.Errorf("a frame MaxSkip ahead: %v", err)
	}
}

// A distribution made mid-epoch (for a member who lost the first) reads
// from its number on and opens nothing sealed before it.
func TestGroupLateDistribution(t *testing.T) {
	ms := newGroup(t, "alice", "bob")
	a, b := ms[0], ms[1]
	early := a.send("early")
	late := a.key.Distribution()
	if late.N != 2 || late.FirstN != 1 {
		t.Fatalf("late distribution of %d from %d", late.N, late.FirstN)
	}
	d, err := ParseSenderKeyDistribution(late.Body(), a.id)
	if err != nil {
		t.Fatal(err)
	}
	c := NewReceiverChain(d)
	if _, _, ok, err := c.Open(early); ok || err != nil {
		t.Errorf("the late chain opens the earlier message: %v %v", ok, err)
	}
	a.send("later")
	b.chains[chainID{a.id, 0}] = c
	b.read(a.publish())
	if got := b.texts(a); !slices.Equal(got, []string{"later"}) || len(b.errs) != 0 {
		t.Errorf("bob with the late chain reads %q (%v)", got, b.errs)
	}
}
