package wire

import (
	"crypto/rand"
	"encoding/binary"
	"fmt"
)

// MaxSlotPayload is the largest slot record payload: payloads are padded to
// multiples of 1 KiB, and 9 KiB is the largest multiple within the 9.5 KiB
// budget of ciphertext per IPNS record (docs/DESIGN §3).
const MaxSlotPayload = 9 * 1024

const (
	slotPadding   = 1024
	hdrType       = 0x81 // high bit set: no message plaintext starts so
	hdrPlainSize  = 1 + 1 + 1 + 1 + 8 + 8 + 8 + 2
	hdrSealedSize = nonceSize + overhead + hdrPlainSize // 70
	frameLenSize  = 2
	// slotFixed is the part of every payload before the message frames:
	// the version byte and the header frame.
	slotFixed = 1 + frameLenSize + hdrSealedSize
	// slotCapacity is the room for message frames in one slot.
	slotCapacity = MaxSlotPayload - slotFixed
)

// MaxSlotMessages is the most messages one slot record can carry: as many
// of the smallest sealed messages as fit.
const MaxSlotMessages = slotCapacity / (frameLenSize + minSealedSize)

// SlotHeader is the sealed header of a slot record: what the writer of a
// direction tells the reader besides the messages.
type SlotHeader struct {
	Dir  Direction // the writer's direction
	Slot int       // this record's slot index, 0 ≤ Slot < SlotsUsed
	// SlotsUsed is how many slots (0…SlotsUsed-1) hold the writer's
	// unacknowledged messages, 1 ≤ SlotsUsed ≤ MaxSlots.
	SlotsUsed int
	// Seq is the IPNS record's sequence number, sealed so that a reader
	// can trust it; it must be at least 1.
	Seq uint64
	// Ack is the highest message number n such that the writer has
	// received every message 1…n of the other direction.
	Ack uint64
	// MaxN is the highest message number the writer has published in
	// this direction so far (0 if none). Every message in every slot has
	// N ≤ MaxN; a reader who has received MaxN needs no other slot.
	MaxN uint64
}

// CheckSeq returns ErrStale unless h.Seq is above prev, the highest
// sequence number already accepted for this slot (0 if none). A reader
// accepts a slot record only if CheckSeq passes, then remembers h.Seq:
// this rejects rolled-back and replayed records, and identifies a record
// read again unchanged.
func (h SlotHeader) CheckSeq(prev uint64) error {
	if h.Seq <= prev {
		return fmt.Errorf("%w: sequence number %d, already accepted %d", ErrStale, h.Seq, prev)
	}
	return nil
}

// WantsSlot reports whether a reader who has received every message up to
// number received should fetch slot i, going by h, the header of slot 0:
// only while it lacks messages (received < MaxN) and the writer uses slot i.
func (h SlotHeader) WantsSlot(i int, received uint64) bool {
	return i >= 0 && i < h.SlotsUsed && received < h.MaxN
}

// Slot is a decoded slot record: its header and its messages, in
// increasing order of N.
type Slot struct {
	Header   SlotHeader
	Messages []Message
}

// Pack assigns sealed messages to slots. sealed holds the writer's
// unacknowledged messages in increasing order of N (as Seal returned them).
// Slot 0 gets the lowest numbers, and each slot as many as fit, so that
// the reader's first fetch brings the oldest messages. At most MaxSlots
// slots are used: the messages after the last in slots[len(slots)-1] do not
// fit now and stay queued until acknowledgements make room. There is
// always at least one slot, possibly empty, to carry the ack.
//
// Pack returns an error for an element larger than MaxSealedSize, which
// Seal never produces.
func Pack(sealed [][]byte) ([][][]byte, error) {
	slots := [][][]byte{nil}
	used := 0
	start := 0
	for i, s := range sealed {
		if len(s) > MaxSealedSize || len(s) < minSealedSize {
			return nil, fmt.Errorf("wire: pack: sealed message %d is %d bytes, not a sealed message", i, len(s))
		}
		if used+frameLenSize+len(s) > slotCapacity {
			if len(slots) == MaxSlots {
				break
			}
			slots = append(slots, nil)
			used, start = 0, i
		}
		used += frameLenSize + len(s)
		slots[len(slots)-1] = sealed[start : i+1 : i+1]
	}
	return slots, nil
}

// EncodeSlot builds the record payload of slot h.Slot of direction h.Dir,
// carrying sealed (one element of Pack's result). It checks the messages
// as a reader will (they open under h.Dir's key, their numbers increase
// and do not exceed h.MaxN) so that a writer never publishes what its
// reader would reject. The header is sealed with a fresh random nonce.
//
//	payload = version(1) | u16 len | sealed header | (u16 len | sealed message)* | zeros to a multiple of 1024
func (k *Keys) EncodeSlot(h SlotHeader, sealed [][]byte) ([]byte, error) {
	if err := k.checkRecord(secretBox, h, sealed); err != nil {
		return nil, err
	}
	return k.EncodeSlotUnchecked(h, sealed), nil
}

// checkRecord returns an error unless h and sealed make a slot record that
// its reader accepts, opening the messages with b.
func (k *Keys) checkRecord(b box, h SlotHeader, sealed [][]byte) error {
	switch {
	case !h.Dir.valid():
		return errDirection(h.Dir)
	case h.SlotsUsed < 1 || h.SlotsUsed > MaxSlots:
		return fmt.Errorf("wire: encode slot: %d slots used, want 1 to %d", h.SlotsUsed, MaxSlots)
	case h.Slot < 0 || h.Slot >= h.SlotsUsed:
		return fmt.Errorf("wire: encode slot: slot %d of %d used", h.Slot, h.SlotsUsed)
	case h.Seq == 0:
		return fmt.Errorf("wire: encode slot: sequence number 0 (they start at 1)")
	}
	size := slotFixed
	for _, s := range sealed {
		size += frameLenSize + len(s)
	}
	if size > MaxSlotPayload {
		return fmt.Errorf("wire: encode slot: %d bytes of messages do not fit in one slot (at most %d)", size-slotFixed, slotCapacity)
	}
	var last uint64
	for i, s := range sealed {
		m, err := k.open(b, h.Dir, s)
		if err != nil {
			return fmt.Errorf("wire: encode slot: message %d: %w", i, err)
		}
		if m.N <= last || m.N > h.MaxN {
			return fmt.Errorf("wire: encode slot: message %d has number %d after %d, max %d", i, m.N, last, h.MaxN)
		}
		last = m.N
	}
	return nil
}

// EncodeSlotUnchecked lays out the record payload of a slot with header h
// and the message frames sealed, as EncodeSlot does, sealing the header
// under h.Dir's key with a fresh random nonce. It checks nothing: every
// header field is written as given (Slot and SlotsUsed as one byte each),
// the frames need not be sealed messages, and the payload may exceed
// MaxSlotPayload. EncodeSlot uses it once its checks pass; a reader's
// tests use it to build the hostile records a correct writer never
// publishes. It panics if h.Dir is not a valid direction, as an index
// would.
func (k *Keys) EncodeSlotUnchecked(h SlotHeader, sealed [][]byte) []byte {
	var nonce [nonceSize]byte
	rand.Read(nonce[:]) // never fails (crypto/rand, Go 1.24+)
	return k.encodeSlotWith(secretBox, h, sealed, &nonce)
}

// encodeSlotWith is the one function that lays out a slot record. The
// test vectors choose the nonce and the fuzz tests the box.
func (k *Keys) encodeSlotWith(b box, h SlotHeader, sealed [][]byte, nonce *[nonceSize]byte) []byte {
	plain := make([]byte, hdrPlainSize)
	plain[0] = hdrType
	plain[1] = byte(h.Dir)
	plain[2] = byte(h.Slot)
	plain[3] = byte(h.SlotsUsed)
	binary.BigEndian.PutUint64(plain[4:], h.Seq)
	binary.BigEndian.PutUint64(plain[12:], h.Ack)
	binary.BigEndian.PutUint64(plain[20:], h.MaxN)
	binary.BigEndian.PutUint16(plain[28:], uint16(len(sealed)))

	size := slotFixed
	for _, s := range sealed {
		size += frameLenSize + len(s)
	}
	padded := (size + slotPadding - 1) / slotPadding * slotPadding
	out := make([]byte, 0, padded)
	out = append(out, version)
	out = binary.BigEndian.AppendUint16(out, hdrSealedSize)
	out = k.sealWith(b, out, h.Dir, plain, nonce)
	for _, s := range sealed {
		out = binary.BigEndian.AppendUint16(out, uint16(len(s)))
		out = append(out, s...)
	}
	return append(out, make([]byte, padded-len(out))...) // the zero padding
}

// DecodeSlot checks and opens the payload of the record of slot i of
// direction d, whose IPNS sequence number is seq. It returns the slot, or
// a typed error and nothing: the version is known, the size bounded and
// padded, the header authentic and naming d, i and seq, and every message
// opens (see Open), in increasing order, numbered at most MaxN. The caller
// then applies SlotHeader.CheckSeq and delivers, of a reader who has
// received every message up to number n, those numbered n+1, n+2, …
// without a gap: each message once, in order.
func (k *Keys) DecodeSlot(d Direction, i int, seq uint64, payload []byte) (Slot, error) {
	return k.decodeSlot(secretBox, d, i, seq, payload)
}

func (k *Keys) decodeSlot(b box, d Direction, i int, seq uint64, p []byte) (Slot, error) {
	if !d.valid() {
		return Slot{}, errDirection(d)
	}
	switch {
	case len(p) == 0:
		return Slot{}, fmt.Errorf("%w: empty slot record", ErrTruncated)
	case len(p) > MaxSlotPayload:
		return Slot{}, fmt.Errorf("%w: slot record of %d bytes, at most %d", ErrTooLarge, len(p), MaxSlotPayload)
	case p[0] != version:
		return Slot{}, &UnknownVersionError{What: "slot record", Version: p[0]}
	case len(p)%slotPadding != 0:
		return Slot{}, fmt.Errorf("%w: slot record of %d bytes, not a multiple of %d", ErrMalformed, len(p), slotPadding)
	}
	// len(p) ≥ 1024 > slotFixed from here on.
	if n := binary.BigEndian.Uint16(p[1:]); n != hdrSealedSize {
		return Slot{}, fmt.Errorf("%w: header frame of %d bytes, want %d", ErrMalformed, n, hdrSealedSize)
	}
	sh := p[3:slotFixed]
	nonce := [nonceSize]byte(sh[:nonceSize])
	plain, ok := b.open(nil, sh[nonceSize:], &nonce, &k.msg[d])
	if !ok {
		return Slot{}, fmt.Errorf("%w: slot header", ErrDecrypt)
	}
	if len(plain) != hdrPlainSize || plain[0] != hdrType {
		return Slot{}, fmt.Errorf("%w: slot header", ErrMalformed)
	}
	h := SlotHeader{
		Dir:       Direction(plain[1]),
		Slot:      int(plain[2]),
		SlotsUsed: int(plain[3]),
		Seq:       binary.BigEndian.Uint64(plain[4:]),
		Ack:       binary.BigEndian.Uint64(plain[12:]),
		MaxN:      binary.BigEndian.Uint64(plain[20:]),
	}
	count := int(binary.BigEndian.Uint16(plain[28:]))
	switch {
	case h.Dir != d:
		return Slot{}, fmt.Errorf("%w: slot header of direction %d, expected %v", ErrWrongDirection, plain[1], d)
	case h.Slot != i:
		return Slot{}, fmt.Errorf("%w: header of slot %d in the record of slot %d", ErrMismatch, h.Slot, i)
	case h.Seq != seq:
		return Slot{}, fmt.Errorf("%w: header sequence number %d in a record with %d", ErrMismatch, h.Seq, seq)
	case seq == 0:
		return Slot{}, fmt.Errorf("%w: sequence number 0", ErrMalformed)
	case h.SlotsUsed < 1 || h.SlotsUsed > MaxSlots || h.Slot >= h.SlotsUsed:
		return Slot{}, fmt.Errorf("%w: slot %d of %d used", ErrMalformed, h.Slot, h.SlotsUsed)
	case count > MaxSlotMessages:
		return Slot{}, fmt.Errorf("%w: %d messages cannot fit in a slot", ErrMalformed, count)
	}

	msgs := make([]Message, 0, count)
	rest := p[slotFixed:]
	var last uint64
	for j := range count {
		if len(rest) < frameLenSize {
			return Slot{}, fmt.Errorf("%w: message frame %d", ErrTruncated, j)
		}
		n := int(binary.BigEndian.Uint16(rest))
		rest = rest[frameLenSize:]
		if n > len(rest) {
			return Slot{}, fmt.Errorf("%w: message frame %d of %d bytes, %d left", ErrTruncated, j, n, len(rest))
		}
		m, err := k.open(b, d, rest[:n])
		if err != nil {
			return Slot{}, fmt.Errorf("slot %d, message %d: %w", i, j, err)
		}
		if m.N <= last || m.N > h.MaxN {
			return Slot{}, fmt.Errorf("%w: message number %d after %d, max %d", ErrMalformed, m.N, last, h.MaxN)
		}
		last = m.N
		msgs = append(msgs, m)
		rest = rest[n:]
	}
	if !allZero(rest) {
		return Slot{}, fmt.Errorf("%w: non-zero padding after %d messages", ErrMalformed, count)
	}
	// The padding is canonical too: a payload no longer than needed.
	if len(rest) >= slotPadding {
		return Slot{}, fmt.Errorf("%w: %d bytes of padding", ErrMalformed, len(rest))
	}
	return Slot{Header: h, Messages: msgs}, nil
}
