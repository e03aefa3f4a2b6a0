package wire

import (
	"bytes"
	"encoding/binary"
	"errors"
	"testing"
)

// Authentic records that break a rule of docs/PROTOCOL.md §14.2 are
// rejected whole, with the documented error, and leave the reader's state
// unchanged. The writer's header key seals each crafted plaintext, as a
// broken or hostile writer would.
func TestV2DecodeRejects(t *testing.T) {
	alice, bob := newV2Pair(t, "rejects")
	var all []v2record
	roundTrip(t, alice, bob, &all, "start") // alice in epoch 1, bob reads 0 and expects 1
	f1, f2 := alice.send("one"), alice.send("two")
	e := alice.st.SendEpoch()
	good, err := alice.st.EncodeSlot(newDetRand("g"), V2Header{Slot: 0, SlotsUsed: 1, Seq: 5, Ack: 1, MaxN: f2.N}, []Frame{f1, f2})
	if err != nil {
		t.Fatal(err)
	}
	hk := alice.st.sendHK
	plain, ok := v2OpenAEAD(&hk, good[1:], v2SlotAD(testChatID, FromLo, e, 0, 5))
	if !ok {
		t.Fatal("cannot open the good record")
	}
	seal := func(i int, p []byte) []byte {
		s, err := v2Seal(newDetRand("s"), &hk, p, v2SlotAD(testChatID, FromLo, e, i, 5))
		if err != nil {
			t.Fatal(err)
		}
		return append([]byte{version2}, s...)
	}
	edit := func(f func(p []byte) []byte) []byte { return seal(0, f(bytes.Clone(plain))) }
	frames := v2FixedSize + ratchetBlockSize // offset of the first frame
	put64 := func(at int, v uint64) []byte {
		return edit(func(p []byte) []byte { binary.BigEndian.PutUint64(p[at:], v); return p })
	}
	tests := []struct {
		name    string
		slot    int
		payload []byte
		want    error
	}{
		{"the good record", 0, good, nil},
		{"short", 0, good[:1024], ErrMalformed},
		{"long", 0, append(bytes.Clone(good), 0), ErrMalformed},
		{"empty", 0, nil, ErrTruncated},
		{"type", 0, edit(func(p []byte) []byte { p[0] = 0x81; return p }), ErrMalformed},
		{"slots_used 0", 0, edit(func(p []byte) []byte { p[1] = 0; return p }), ErrMalformed},
		{"slots_used 17", 0, edit(func(p []byte) []byte { p[1] = 17; return p }), ErrMalformed},
		{"first_n 0", 0, put64(18, 0), ErrMalformed},
		{"first_n above max_n+1", 0, put64(18, f2.N+2), ErrMalformed},
		{"first_n another", 0, put64(18, f1.N-1), ErrMalformed},
		{"count too large", 0, edit(func(p []byte) []byte { binary.BigEndian.PutUint16(p[26:], v2Slot0Count+1); return p }), ErrMalformed},
		{"count past the frames", 0, edit(func(p []byte) []byte { binary.BigEndian.PutUint16(p[26:], 3); return p }), ErrMalformed},
		{"frame epoch of the other writer", 0, edit(func(p []byte) []byte { binary.BigEndian.PutUint32(p[frames:], 2); return p }), ErrMalformed},
		{"frame epoch in the future", 0, edit(func(p []byte) []byte { binary.BigEndian.PutUint32(p[frames:], e+2); return p }), ErrMalformed},
		{"frame number again", 0, edit(func(p []byte) []byte {
			second := frames + v2FrameHead + len(f1.Sealed)
			binary.BigEndian.PutUint64(p[second+4:], f1.N)
			return p
		}), ErrMalformed},
		{"frame number above max_n", 0, put64(10, f1.N), ErrMalformed},
		{"frame length past the end", 0, edit(func(p []byte) []byte { binary.BigEndian.PutUint16(p[frames+12:], 60000); return p }), ErrTruncated},
		{"frame length too small", 0, edit(func(p []byte) []byte { binary.BigEndian.PutUint16(p[frames+12:], 50); return p }), ErrMalformed},
		{"frame under another number", 0, edit(func(p []byte) []byte {
			// both numbers move up by one: in order, in range, wrong AD
			second := frames + v2FrameHead + len(f1.Sealed)
			binary.BigEndian.PutUint64(p[10:], f2.N+1)
			binary.BigEndian.PutUint64(p[second+4:], f2.N+1)
			return p
		}), ErrDecrypt},
		{"non-zero padding", 0, edit(func(p []byte) []byte { p[len(p)-1] = 1; return p }), ErrMalformed},
		{"bad ML-KEM key", 0, edit(func(p []byte) []byte {
			for i := v2FixedSize + 32; i < v2FixedSize+32+mlkemEKSize; i++ {
				p[i] = 0xff
			}
			return p
		}), ErrMalformed},
		{"low-order X25519 key", 0, edit(func(p []byte) []byte {
			copy(p[v2FixedSize:], make([]byte, 32))
			return p
		}), ErrMalformed},
		{"slot 1 first", 1, seal(1, plain), ErrEpoch},
	}
	before := bob.st.Marshal()
	for _, tt := range tests {
		st, s, err := bob.st.DecodeSlot(newDetRand("r"), e, tt.slot, 5, tt.payload)
		switch {
		case tt.want == nil && err != nil:
			t.Errorf("%s: %v", tt.name, err)
		case tt.want == nil && len(s.Messages) != 2:
			t.Errorf("%s: %d messages", tt.name, len(s.Messages))
		case tt.want != nil && !errors.Is(err, tt.want):
			t.Errorf("%s: DecodeSlot = %v, want %v", tt.name, err, tt.want)
		case tt.want != nil && (st != nil || s.Messages != nil):
			t.Errorf("%s: a result with the error", tt.name)
		}
		if !bytes.Equal(bob.st.Marshal(), before) {
			t.Fatalf("%s: DecodeSlot changed its receiver", tt.name)
		}
	}

	// In the epoch it reads, the reader holds the writer to its first_n.
	entered, _, err := bob.st.DecodeSlot(newDetRand("r"), e, 0, 5, good)
	if err != nil {
		t.Fatal(err)
	}
	moved := edit(func(p []byte) []byte {
		binary.BigEndian.PutUint64(p[18:], f1.N+1)
		binary.BigEndian.PutUint16(p[26:], 0)
		clear(p[frames:])
		return p
	})
	if _, _, err := entered.DecodeSlot(nil, e, 0, 5, moved); !errors.Is(err, ErrMismatch) {
		t.Errorf("another first_n in the epoch read: %v, want ErrMismatch", err)
	}

	// from-lo's bootstrap announces nothing; from-hi's has no ciphertext.
	if err := checkBlock(FromLo, 0, append(make([]byte, ratchetBlockSize-1), 1)); !errors.Is(err, ErrMalformed) {
		t.Errorf("a name in from-lo's bootstrap: %v", err)
	}
	blk := bob.st.ratchetBlock()
	blk[x25519Size+mlkemEKSize] = 1
	if err := checkBlock(FromHi, 0, blk); !errors.Is(err, ErrMalformed) {
		t.Errorf("a ciphertext in from-hi's bootstrap: %v", err)
	}
}

// A writer refuses to encode what its reader would refuse.
func TestV2EncodeChecks(t *testing.T) {
	alice, _ := newV2Pair(t, "encode")
	f1 := alice.send("one")
	f2 := alice.send("two")
	big := Frame{Epoch: 0, N: 3, Sealed: make([]byte, v2MaxSealed)}
	tests := []struct {
		name   string
		h      V2Header
		frames []Frame
	}{
		{"seq 0", V2Header{SlotsUsed: 1, MaxN: 2}, []Frame{f1}},
		{"slot beyond used", V2Header{Slot: 1, SlotsUsed: 1, Seq: 1, MaxN: 2}, nil},
		{"out of order", V2Header{SlotsUsed: 1, Seq: 1, MaxN: 2}, []Frame{f2, f1}},
		{"above max_n", V2Header{SlotsUsed: 1, Seq: 1, MaxN: 1}, []Frame{f1, f2}},
		{"too large for slot 0", V2Header{SlotsUsed: 1, Seq: 1, MaxN: 3}, []Frame{big}},
		{"future epoch", V2Header{SlotsUsed: 1, Seq: 1, MaxN: 2}, []Frame{{Epoch: 3, N: 1, Sealed: f1.Sealed}}},
	}
	for _, tt := range tests {
		if _, err := alice.st.EncodeSlot(nil, tt.h, tt.frames); err == nil {
			t.Errorf("%s: EncodeSlot accepted it", tt.name)
		}
	}
	if _, err := alice.st.EncodeSlot(nil, V2Header{Slot: 1, SlotsUsed: 2, Seq: 1, MaxN: 3}, []Frame{big}); err != nil {
		t.Errorf("a maximal message in slot 1: %v", err)
	}
	// PackV2 starts a maximal message in slot 1.
	slots, err := PackV2([]Frame{big})
	if err != nil || len(slots) != 2 || len(slots[0]) != 0 || len(slots[1]) != 1 {
		t.Errorf("PackV2(maximal) = %d slots, %v", len(slots), err)
	}
}
