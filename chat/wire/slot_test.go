package wire

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"strings"
	"testing"
)

// sealN seals messages first…first+count-1 of direction d with bodies of
// bodyLen bytes.
func sealN(t testing.TB, k *Keys, d Direction, first uint64, count, bodyLen int) [][]byte {
	t.Helper()
	var out [][]byte
	for i := range count {
		n := first + uint64(i)
		body := fmt.Sprintf("%d:", n)
		body += strings.Repeat("m", max(0, bodyLen-len(body)))
		s, err := k.Seal(d, Message{N: n, SentAt: sentAt, Body: body[:bodyLen]})
		if err != nil {
			t.Fatal(err)
		}
		out = append(out, s)
	}
	return out
}

// publish packs, encodes and decodes sealed messages as a writer and a
// reader would, and returns what the reader delivers in slot order.
func publish(t *testing.T, k *Keys, d Direction, sealed [][]byte, maxN uint64) (slots int, delivered []Message) {
	t.Helper()
	packed, err := Pack(sealed)
	if err != nil {
		t.Fatal(err)
	}
	var received uint64
	var first SlotHeader
	for i, msgs := range packed {
		h := SlotHeader{Dir: d, Slot: i, SlotsUsed: len(packed), Seq: 7, Ack: 3, MaxN: maxN}
		p, err := k.EncodeSlot(h, msgs)
		if err != nil {
			t.Fatalf("EncodeSlot(slot %d of %d, %d messages) = %v", i, len(packed), len(msgs), err)
		}
		if len(p) > MaxSlotPayload || len(p) > 9500 || len(p)%1024 != 0 {
			t.Errorf("slot %d payload is %d bytes, want a multiple of 1024 ≤ %d", i, len(p), MaxSlotPayload)
		}
		if i > 0 && !first.WantsSlot(i, received) {
			t.Fatalf("WantsSlot(%d, %d) = false with MaxN %d", i, received, first.MaxN)
		}
		s, err := k.DecodeSlot(d, i, 7, p)
		if err != nil {
			t.Fatalf("DecodeSlot(slot %d) = %v", i, err)
		}
		if s.Header != h || len(s.Messages) != len(msgs) {
			t.Errorf("DecodeSlot(slot %d) = %+v with %d messages, want %+v with %d", i, s.Header, len(s.Messages), h, len(msgs))
		}
		if i == 0 {
			first = s.Header
		}
		for _, m := range s.Messages { // in increasing order: deliver each once
			if m.N == received+1 {
				delivered = append(delivered, m)
				received++
			}
		}
	}
	if first.WantsSlot(len(packed), received) {
		t.Errorf("WantsSlot(%d) = true past the slots used", len(packed))
	}
	return len(packed), delivered
}

func TestPackSpreadsOverSlots(t *testing.T) {
	k := testKeys(t)
	tests := []struct {
		count, bodyLen  int
		slots, unpacked int
	}{
		{0, 0, 1, 0},                      // an empty slot 0 still carries the ack
		{1, 10, 1, 0},                     //
		{200, 80, 4, 0},                   // 170-byte frames, 53 to a slot
		{53, 80, 1, 0},                    // exactly one full slot
		{54, 80, 2, 0},                    //
		{16, MaxBody, 16, 0},              // one maximal message per slot
		{20, MaxBody, 16, 4},              // the rest waits for acks
		{2000, 1, MaxSlots, 2000 - 16*86}, // the smallest messages, 86 a slot
	}
	for _, tt := range tests {
		sealed := sealN(t, k, FromLo, 1, tt.count, tt.bodyLen)
		packed, err := Pack(sealed)
		if err != nil {
			t.Fatal(err)
		}
		total := 0
		for _, s := range packed {
			total += len(s)
		}
		if len(packed) != tt.slots || tt.count-total != tt.unpacked {
			t.Errorf("Pack(%d × %d bytes) = %d slots, %d unpacked, want %d, %d", tt.count, tt.bodyLen, len(packed), tt.count-total, tt.slots, tt.unpacked)
		}
		slots, delivered := publish(t, k, FromLo, sealed[:total], uint64(tt.count))
		if slots != tt.slots || len(delivered) != total {
			t.Errorf("publish(%d × %d bytes) delivered %d in %d slots, want %d in %d", tt.count, tt.bodyLen, len(delivered), slots, total, tt.slots)
		}
		for i, m := range delivered {
			if m.N != uint64(i+1) || len(m.Body) != tt.bodyLen {
				t.Fatalf("message %d delivered as N=%d with %d bytes", i, m.N, len(m.Body))
			}
		}
	}
	if _, err := Pack([][]byte{make([]byte, MaxSealedSize+1)}); err == nil {
		t.Errorf("Pack(oversize message) succeeded")
	}
}

func TestEncodeSlotErrors(t *testing.T) {
	k := testKeys(t)
	lo := sealN(t, k, FromLo, 1, 3, 10)
	ok := SlotHeader{Dir: FromLo, Slot: 0, SlotsUsed: 1, Seq: 1, MaxN: 3}
	with := func(f func(*SlotHeader)) SlotHeader { h := ok; f(&h); return h }
	tests := []struct {
		name   string
		h      SlotHeader
		sealed [][]byte
	}{
		{"direction 2", with(func(h *SlotHeader) { h.Dir = 2 }), lo},
		{"seq 0", with(func(h *SlotHeader) { h.Seq = 0 }), lo},
		{"no slots used", with(func(h *SlotHeader) { h.SlotsUsed = 0 }), lo},
		{"too many slots", with(func(h *SlotHeader) { h.SlotsUsed = MaxSlots + 1 }), lo},
		{"slot past used", with(func(h *SlotHeader) { h.Slot = 1 }), lo},
		{"negative slot", with(func(h *SlotHeader) { h.Slot = -1 }), lo},
		{"MaxN below a message", with(func(h *SlotHeader) { h.MaxN = 2 }), lo},
		{"out of order", ok, [][]byte{lo[1], lo[0]}},
		{"repeated", ok, [][]byte{lo[0], lo[0]}},
		{"other direction", with(func(h *SlotHeader) { h.Dir = FromHi }), lo},
		{"garbage", ok, [][]byte{[]byte("garbage")}},
		{"too much", with(func(h *SlotHeader) { h.MaxN = 99 }), sealN(t, k, FromLo, 1, 2, MaxBody)},
	}
	for _, tt := range tests {
		if p, err := k.EncodeSlot(tt.h, tt.sealed); err == nil {
			t.Errorf("EncodeSlot(%s) = %d bytes, want an error", tt.name, len(p))
		}
	}
	if _, err := k.EncodeSlot(ok, lo); err != nil {
		t.Errorf("EncodeSlot(valid) = %v", err)
	}
}

func validSlot(t testing.TB, k *Keys) []byte {
	t.Helper()
	p, err := k.EncodeSlot(SlotHeader{Dir: FromHi, Slot: 1, SlotsUsed: 2, Seq: 9, Ack: 4, MaxN: 12}, sealN(t, k, FromHi, 10, 3, 30))
	if err != nil {
		t.Fatal(err)
	}
	return p
}

// DecodeSlot accepts a record only under the right chat, direction, slot
// index and sequence number.
func TestDecodeSlotMismatch(t *testing.T) {
	k := testKeys(t)
	p := validSlot(t, k)
	if _, err := k.DecodeSlot(FromHi, 1, 9, p); err != nil {
		t.Fatalf("DecodeSlot(valid) = %v", err)
	}
	otherChat := testKeysFor(t, aliceSecretHex, bobSecretHex, ChatID{1})
	otherPair := testKeysFor(t, aliceSecretHex, carolSecretHex, testChatID)
	tests := []struct {
		name string
		k    *Keys
		d    Direction
		i    int
		seq  uint64
		want error
	}{
		{"other direction", k, FromLo, 1, 9, ErrDecrypt},
		{"other chat", otherChat, FromHi, 1, 9, ErrDecrypt},
		{"other pair", otherPair, FromHi, 1, 9, ErrDecrypt},
		{"other slot", k, FromHi, 0, 9, ErrMismatch},
		{"older record seq", k, FromHi, 1, 8, ErrMismatch},
		{"newer record seq", k, FromHi, 1, 10, ErrMismatch},
	}
	for _, tt := range tests {
		if s, err := tt.k.DecodeSlot(tt.d, tt.i, tt.seq, p); !errors.Is(err, tt.want) || s.Messages != nil {
			t.Errorf("DecodeSlot(%s) = %v, want %v", tt.name, err, tt.want)
		}
	}
	if _, err := k.DecodeSlot(5, 1, 9, p); err == nil {
		t.Errorf("DecodeSlot(direction 5) succeeded")
	}
}

func TestDecodeSlotByteFlip(t *testing.T) {
	k := testKeys(t)
	p := validSlot(t, k)
	for i := range p {
		for _, x := range []byte{1, 0x80} {
			c := []byte(string(p))
			c[i] ^= x
			if s, err := k.DecodeSlot(FromHi, 1, 9, c); err == nil {
				t.Fatalf("DecodeSlot with byte %d ^ %#x = %+v, want an error", i, x, s.Header)
			}
		}
	}
	for _, n := range []int{0, 1, 3, 72, 73, 100, 1023, 1025, 2048} {
		c := make([]byte, n)
		copy(c, p)
		if _, err := k.DecodeSlot(FromHi, 1, 9, c); err == nil {
			t.Fatalf("DecodeSlot of %d bytes succeeded", n)
		}
	}
}

// slotPayload builds a payload from an arbitrary header plaintext and
// frames, sealed under k's real key: what a broken or hostile peer could
// publish.
func slotPayload(k *Keys, d Direction, ver byte, hdr []byte, frames [][]byte, size int) []byte {
	out := []byte{ver}
	sh := k.SealPlaintext(d, hdr)
	out = binary.BigEndian.AppendUint16(out, uint16(len(sh)))
	out = append(out, sh...)
	for _, f := range frames {
		out = binary.BigEndian.AppendUint16(out, uint16(len(f)))
		out = append(out, f...)
	}
	if size > len(out) {
		out = append(out, make([]byte, size-len(out))...)
	}
	return out
}

func header(typ, dir, slot, used byte, seq, ack, maxN uint64, count uint16) []byte {
	h := []byte{typ, dir, slot, used}
	h = binary.BigEndian.AppendUint64(h, seq)
	h = binary.BigEndian.AppendUint64(h, ack)
	h = binary.BigEndian.AppendUint64(h, maxN)
	return binary.BigEndian.AppendUint16(h, count)
}

func TestDecodeSlotAuthenticButInvalid(t *testing.T) {
	k := testKeys(t)
	d := FromLo
	m := sealN(t, k, d, 1, 3, 10)
	hiMsg := sealN(t, k, FromHi, 1, 1, 10)
	good := header(hdrType, 0, 0, 1, 5, 0, 3, 3)
	var uv *UnknownVersionError
	tests := []struct {
		name string
		p    []byte
		want error
	}{
		{"valid", slotPayload(k, d, 1, good, m, 1024), nil},
		{"version 2", slotPayload(k, d, 2, good, m, 1024), uv},
		{"version 0", slotPayload(k, d, 0, good, m, 1024), uv},
		{"not padded", slotPayload(k, d, 1, good, m, 0), ErrMalformed},
		{"padded too much", slotPayload(k, d, 1, good, m, 2048), ErrMalformed},
		{"oversize", slotPayload(k, d, 1, good, m, MaxSlotPayload+1024), ErrTooLarge},
		{"header type", slotPayload(k, d, 1, header(1, 0, 0, 1, 5, 0, 3, 3), m, 1024), ErrMalformed},
		{"short header", slotPayload(k, d, 1, good[:29], m, 1024), ErrMalformed},
		{"header direction", slotPayload(k, d, 1, header(hdrType, 1, 0, 1, 5, 0, 3, 3), m, 1024), ErrWrongDirection},
		{"header slot", slotPayload(k, d, 1, header(hdrType, 0, 1, 2, 5, 0, 3, 3), m, 1024), ErrMismatch},
		{"header seq", slotPayload(k, d, 1, header(hdrType, 0, 0, 1, 6, 0, 3, 3), m, 1024), ErrMismatch},
		{"seq 0", slotPayload(k, d, 1, header(hdrType, 0, 0, 1, 0, 0, 3, 3), m, 1024), ErrMalformed},
		{"no slots used", slotPayload(k, d, 1, header(hdrType, 0, 0, 0, 5, 0, 3, 3), m, 1024), ErrMalformed},
		{"17 slots used", slotPayload(k, d, 1, header(hdrType, 0, 0, 17, 5, 0, 3, 3), m, 1024), ErrMalformed},
		{"huge count", slotPayload(k, d, 1, header(hdrType, 0, 0, 1, 5, 0, 3, 65535), m, 1024), ErrMalformed},
		{"count above frames", slotPayload(k, d, 1, header(hdrType, 0, 0, 1, 5, 0, 3, 4), m, 1024), ErrTruncated},
		{"count above frames, end", slotPayload(k, d, 1, header(hdrType, 0, 0, 1, 5, 0, 3, 86), m, 9*1024), ErrTruncated},
		{"count below frames", slotPayload(k, d, 1, header(hdrType, 0, 0, 1, 5, 0, 3, 2), m, 1024), ErrMalformed},
		{"message above MaxN", slotPayload(k, d, 1, header(hdrType, 0, 0, 1, 5, 0, 2, 3), m, 1024), ErrMalformed},
		{"messages out of order", slotPayload(k, d, 1, good, [][]byte{m[0], m[2], m[1]}, 1024), ErrMalformed},
		{"message repeated", slotPayload(k, d, 1, good, [][]byte{m[0], m[0], m[1]}, 1024), ErrMalformed},
		{"message of the other direction", slotPayload(k, d, 1, header(hdrType, 0, 0, 1, 5, 0, 3, 1), hiMsg, 1024), ErrDecrypt},
		{"frame past the end", slotPayload(k, d, 1, header(hdrType, 0, 0, 1, 5, 0, 3, 1), [][]byte{append(m[0], make([]byte, 2000)...)}, 0)[:1024], ErrTruncated},
	}
	for _, tt := range tests {
		seq := uint64(5)
		if tt.name == "seq 0" {
			seq = 0
		}
		s, err := k.DecodeSlot(d, 0, seq, tt.p)
		switch want := tt.want.(type) {
		case nil:
			if err != nil || len(s.Messages) != 3 {
				t.Errorf("DecodeSlot(%s) = %v", tt.name, err)
			}
		case *UnknownVersionError:
			if !errors.As(err, &want) || want.What != "slot record" {
				t.Errorf("DecodeSlot(%s) = %v, want UnknownVersionError", tt.name, err)
			}
		default:
			if !errors.Is(err, tt.want) || s.Messages != nil || s.Header != (SlotHeader{}) {
				t.Errorf("DecodeSlot(%s) = %+v, %v, want %v", tt.name, s.Header, err, tt.want)
			}
		}
	}
}

func TestCheckSeq(t *testing.T) {
	tests := []struct {
		seq, prev uint64
		ok        bool
	}{
		{1, 0, true}, {5, 4, true}, {1 << 63, 3, true},
		{4, 4, false}, // read again, or replayed
		{3, 4, false}, // rolled back
		{0, 0, false},
	}
	for _, tt := range tests {
		err := SlotHeader{Seq: tt.seq}.CheckSeq(tt.prev)
		if (err == nil) != tt.ok || (err != nil && !errors.Is(err, ErrStale)) {
			t.Errorf("SlotHeader{Seq: %d}.CheckSeq(%d) = %v, want ok=%v", tt.seq, tt.prev, err, tt.ok)
		}
	}
}

func TestWantsSlot(t *testing.T) {
	h := SlotHeader{SlotsUsed: 3, MaxN: 100}
	tests := []struct {
		i        int
		received uint64
		want     bool
	}{
		{1, 50, true}, {2, 99, true}, {3, 50, false}, {1, 100, false}, {-1, 0, false},
	}
	for _, tt := range tests {
		if got := h.WantsSlot(tt.i, tt.received); got != tt.want {
			t.Errorf("WantsSlot(%d, %d) = %v, want %v", tt.i, tt.received, got, tt.want)
		}
	}
}

// TestDecodeErrorsAreTyped checks the errors the engine's rejections rely on (chat/reject_test.go).
func TestDecodeErrorsAreTyped(t *testing.T) {
	k := testKeys(t)
	_, err := k.DecodeSlot(FromLo, 0, 1, []byte{2, 0, 0})
	var uv *UnknownVersionError
	if !errors.As(err, &uv) {
		t.Fatalf("DecodeSlot of version 2 = %v, want an UnknownVersionError", err)
	}
	if _, err := k.DecodeSlot(FromLo, 0, 1, bytes.Repeat([]byte{1}, MaxSlotPayload+1)); !errors.Is(err, ErrTooLarge) {
		t.Fatalf("DecodeSlot of an oversized payload = %v, want ErrTooLarge", err)
	}
}
