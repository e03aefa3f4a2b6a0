package wire

import (
	"crypto/mlkem"
	"encoding/binary"
	"fmt"
	"io"

	"golang.org/x/crypto/chacha20poly1305"
)

// Version 2 slot record layout (docs/PROTOCOL.md §14.1).
const (
	v2HdrType    = 0x82
	v2PlainSize  = MaxSlotPayload - 1 - chacha20poly1305.NonceSizeX - chacha20poly1305.Overhead // 9175
	v2FixedSize  = 1 + 1 + 8 + 8 + 8 + 2                                                        // type … count
	v2FrameHead  = 4 + 8 + 2                                                                    // epoch, n, len
	v2Slot0Room  = v2PlainSize - v2FixedSize - ratchetBlockSize                                 // 6331
	v2SlotRoom   = v2PlainSize - v2FixedSize                                                    // 9147
	v2Slot0Count = v2Slot0Room / (v2FrameHead + v2MinSealed)                                    // 53
	v2SlotCount  = v2SlotRoom / (v2FrameHead + v2MinSealed)                                     // 77
)

// V2Header is what a version 2 slot record says besides its messages.
type V2Header struct {
	Epoch     uint32 // the writer's epoch whose names and header key the record has
	Slot      int    // the slot index, 0 ≤ Slot < SlotsUsed
	SlotsUsed int    // 1…16
	Seq       uint64 // the IPNS sequence number, ≥ 1, bound by the seal
	Ack       uint64 // the highest n of the other direction the writer has without a gap
	MaxN      uint64 // the highest n published in this direction
	FirstN    uint64 // the first n of Epoch
}

// V2Slot is a decoded version 2 record: its header and the messages it
// carried that the reader had not opened before, in increasing order of N.
type V2Slot struct {
	Header   V2Header
	Messages []Message
	// Duplicates counts the frames skipped because their key was used
	// before (or is gone): messages the reader already has.
	Duplicates int
}

// v2SlotAD is the associated data of a version 2 record.
func v2SlotAD(id ChatID, d Direction, e uint32, i int, seq uint64) []byte {
	ad := make([]byte, 0, len(labelV2Slot)+16+1+4+1+8)
	ad = append(ad, labelV2Slot...)
	ad = append(ad, id[:]...)
	ad = append(ad, byte(d))
	ad = binary.BigEndian.AppendUint32(ad, e)
	ad = append(ad, byte(i))
	return binary.BigEndian.AppendUint64(ad, seq)
}

func v2Room(slot int) int {
	if slot == 0 {
		return v2Slot0Room
	}
	return v2SlotRoom
}

// PackV2 assigns an outbox of frames (in increasing order of N) to slots
// as Pack does for version 1: each slot as many as fit, slot 0 the oldest, at most
// MaxSlots slots; slot 0 has less room (it carries the ratchet block), so
// a frame too large for it starts in slot 1. The frames after the last
// slot's wait. There is always at least one slot.
func PackV2(frames []Frame) ([][]Frame, error) {
	slots := [][]Frame{nil}
	used := 0
	for i, f := range frames {
		if len(f.Sealed) < v2MinSealed || len(f.Sealed) > v2MaxSealed {
			return nil, fmt.Errorf("wire: pack: frame %d is %d bytes, not a sealed message", i, len(f.Sealed))
		}
		size := v2FrameHead + len(f.Sealed)
		if used+size > v2Room(len(slots)-1) {
			if len(slots) == MaxSlots {
				break
			}
			slots = append(slots, nil)
			used = 0
		}
		used += size
		last := len(slots) - 1
		slots[last] = append(slots[last], f)
	}
	return slots, nil
}

// EncodeSlot builds the record payload of slot h.Slot of this party's
// current epoch (h.Epoch and h.FirstN are taken from the state), carrying
// frames, sealed with the epoch's header key and a nonce from rand. It
// checks what a reader checks of the layout (frame epochs and numbers,
// sizes); it cannot open the frames, whose keys are gone. The state does
// not change.
func (s *RatchetState) EncodeSlot(rand io.Reader, h V2Header, frames []Frame) ([]byte, error) {
	h.Epoch, h.FirstN = s.sendEpoch, s.sendFirstN
	if err := checkV2Header(s.self, h, len(frames)); err != nil {
		return nil, err
	}
	size := 0
	var last uint64
	for j, f := range frames {
		if err := checkV2Frame(s.self, h, f.Epoch, f.N, last, len(f.Sealed)); err != nil {
			return nil, fmt.Errorf("wire: encode slot: frame %d: %w", j, err)
		}
		last = f.N
		size += v2FrameHead + len(f.Sealed)
	}
	if size > v2Room(h.Slot) {
		return nil, fmt.Errorf("wire: encode slot: %d bytes of frames do not fit in slot %d (at most %d)", size, h.Slot, v2Room(h.Slot))
	}
	return s.encodeSlotUnchecked(rand, h, frames)
}

// encodeSlotUnchecked lays out and seals a record as given.
func (s *RatchetState) encodeSlotUnchecked(rand io.Reader, h V2Header, frames []Frame) ([]byte, error) {
	plain := make([]byte, v2FixedSize, v2PlainSize)
	plain[0] = v2HdrType
	plain[1] = byte(h.SlotsUsed)
	binary.BigEndian.PutUint64(plain[2:], h.Ack)
	binary.BigEndian.PutUint64(plain[10:], h.MaxN)
	binary.BigEndian.PutUint64(plain[18:], h.FirstN)
	binary.BigEndian.PutUint16(plain[26:], uint16(len(frames)))
	if h.Slot == 0 {
		plain = append(plain, s.ratchetBlock()...)
	}
	for _, f := range frames {
		plain = binary.BigEndian.AppendUint32(plain, f.Epoch)
		plain = binary.BigEndian.AppendUint64(plain, f.N)
		plain = binary.BigEndian.AppendUint16(plain, uint16(len(f.Sealed)))
		plain = append(plain, f.Sealed...)
	}
	return sealV2Record(rand, &s.sendHK, plain, v2SlotAD(s.id, s.self, h.Epoch, h.Slot, h.Seq))
}

// sealV2Record pads a record plaintext (a pair's or a group's) to its
// size and seals it under header key hk: format 2, nonce, ciphertext.
func sealV2Record(rand io.Reader, hk *key32, plain, ad []byte) ([]byte, error) {
	if len(plain) > v2PlainSize {
		return nil, fmt.Errorf("wire: encode slot: %d bytes, at most %d", len(plain), v2PlainSize)
	}
	plain = append(plain, make([]byte, v2PlainSize-len(plain))...)
	sealed, err := v2Seal(randOr(rand), hk, plain, ad)
	if err != nil {
		return nil, err
	}
	return append([]byte{version2}, sealed...), nil
}

// checkV2Header checks a header's own rules (docs/PROTOCOL.md §14.2, rule 3).
func checkV2Header(d Direction, h V2Header, count int) error {
	switch {
	case !d.valid():
		return errDirection(d)
	case !isEpochOf(d, h.Epoch):
		return fmt.Errorf("%w: epoch %d is not one of %v's", ErrMalformed, h.Epoch, d)
	case h.SlotsUsed < 1 || h.SlotsUsed > MaxSlots || h.Slot < 0 || h.Slot >= h.SlotsUsed:
		return fmt.Errorf("%w: slot %d of %d used", ErrMalformed, h.Slot, h.SlotsUsed)
	case h.Seq == 0:
		return fmt.Errorf("%w: sequence number 0", ErrMalformed)
	case h.FirstN == 0 || h.MaxN == ^uint64(0) || h.FirstN > h.MaxN+1:
		return fmt.Errorf("%w: first number %d with highest %d", ErrMalformed, h.FirstN, h.MaxN)
	case h.Slot == 0 && count > v2Slot0Count, h.Slot != 0 && count > v2SlotCount:
		return fmt.Errorf("%w: %d messages cannot fit in slot %d", ErrMalformed, count, h.Slot)
	}
	return nil
}

// checkV2Frame checks a frame's epoch, number and size against the header
// and the previous frame's number (rule 7).
func checkV2Frame(d Direction, h V2Header, e uint32, n, last uint64, size int) error {
	switch {
	case !isEpochOf(d, e) || e > h.Epoch:
		return fmt.Errorf("%w: frame of epoch %d in a record of epoch %d", ErrMalformed, e, h.Epoch)
	case n <= last || n > h.MaxN:
		return fmt.Errorf("%w: message number %d after %d, highest %d", ErrMalformed, n, last, h.MaxN)
	case e == h.Epoch && n < h.FirstN, e < h.Epoch && n >= h.FirstN:
		return fmt.Errorf("%w: message %d of epoch %d, which starts at %d", ErrMalformed, n, e, h.FirstN)
	case size < v2MinSealed || size > v2MaxSealed:
		return fmt.Errorf("%w: frame of %d bytes", ErrMalformed, size)
	}
	return nil
}

// v2Frame is a frame as decoded, before opening.
type v2Frame struct {
	epoch  uint32
	n      uint64
	sealed []byte
}

// DecodeSlot checks and opens the payload of slot i of the peer's
// records, fetched from the names of the peer's epoch e (one of
// Watches), with IPNS sequence number seq. It returns the new state and
// the record's header and new messages, or a typed error and the
// receiver unchanged (docs/PROTOCOL.md §14.2). Reading the slot 0 of a new
// epoch makes the ratchet steps, drawing from rand (nil: crypto/rand).
// The caller stores the new state and the messages in one transaction,
// and applies the sequence number check per (epoch, slot).
func (s *RatchetState) DecodeSlot(rand io.Reader, e uint32, i int, seq uint64, payload []byte) (*RatchetState, V2Slot, error) {
	peer := s.self.Other()
	switch {
	case len(payload) == 0:
		return nil, V2Slot{}, fmt.Errorf("%w: empty slot record", ErrTruncated)
	case payload[0] != version2:
		return nil, V2Slot{}, &UnknownVersionError{What: "slot record", Version: payload[0]}
	case len(payload) != MaxSlotPayload:
		return nil, V2Slot{}, fmt.Errorf("%w: version 2 slot record of %d bytes, want %d", ErrMalformed, len(payload), MaxSlotPayload)
	case i < 0 || i >= MaxSlots:
		return nil, V2Slot{}, fmt.Errorf("%w: slot %d", ErrMalformed, i)
	}
	var hk *key32
	newEpoch := false
	switch {
	case e == s.recvEpoch:
		hk = &s.recvHK
	case s.peerNext && e == nextEpochOf(peer, s.recvEpoch):
		hk, newEpoch = &s.nextHK, true
	default:
		return nil, V2Slot{}, fmt.Errorf("%w: epoch %d of %v, reading %d", ErrEpoch, e, peer, s.recvEpoch)
	}
	plain, ok := v2OpenAEAD(hk, payload[1:], v2SlotAD(s.id, peer, e, i, seq))
	if !ok {
		return nil, V2Slot{}, fmt.Errorf("%w: slot record", ErrDecrypt)
	}
	if newEpoch && i != 0 {
		return nil, V2Slot{}, fmt.Errorf("%w: slot %d of epoch %d before its slot 0", ErrEpoch, i, e)
	}
	h, block, frames, err := parseV2Plain(peer, e, i, seq, plain)
	if err != nil {
		return nil, V2Slot{}, err
	}
	c := s.clone()
	derived, err := c.enter(rand, h, block, newEpoch)
	if err != nil {
		return nil, V2Slot{}, err
	}
	out := V2Slot{Header: h}
	for _, f := range frames {
		mk, ok, err := c.messageKey(f.epoch, f.n, &derived)
		if err != nil {
			return nil, V2Slot{}, err
		}
		if !ok {
			out.Duplicates++
			continue
		}
		m, err := v2OpenMessage(&mk, v2MsgAD(c.id, peer, f.epoch, f.n), f.n, f.sealed)
		if err != nil {
			return nil, V2Slot{}, fmt.Errorf("slot %d, message %d: %w", i, f.n, err)
		}
		out.Messages = append(out.Messages, m)
	}
	if len(c.skipped) > MaxSkip { // the oldest go: their messages are lost
		c.skipped = append([]skippedKey(nil), c.skipped[len(c.skipped)-MaxSkip:]...)
	}
	return c, out, nil
}

// parseV2Plain checks and splits an authentic record plaintext.
func parseV2Plain(d Direction, e uint32, i int, seq uint64, p []byte) (V2Header, []byte, []v2Frame, error) {
	if len(p) != v2PlainSize || p[0] != v2HdrType {
		return V2Header{}, nil, nil, fmt.Errorf("%w: slot header", ErrMalformed)
	}
	h := V2Header{
		Epoch: e, Slot: i, SlotsUsed: int(p[1]), Seq: seq,
		Ack:    binary.BigEndian.Uint64(p[2:]),
		MaxN:   binary.BigEndian.Uint64(p[10:]),
		FirstN: binary.BigEndian.Uint64(p[18:]),
	}
	count := int(binary.BigEndian.Uint16(p[26:]))
	if err := checkV2Header(d, h, count); err != nil {
		return V2Header{}, nil, nil, err
	}
	rest := p[v2FixedSize:]
	var block []byte
	if i == 0 {
		block, rest = rest[:ratchetBlockSize], rest[ratchetBlockSize:]
		if err := checkBlock(d, e, block); err != nil {
			return V2Header{}, nil, nil, err
		}
	}
	frames := make([]v2Frame, 0, count)
	var last uint64
	for j := range count {
		if len(rest) < v2FrameHead {
			return V2Header{}, nil, nil, fmt.Errorf("%w: message frame %d", ErrTruncated, j)
		}
		f := v2Frame{epoch: binary.BigEndian.Uint32(rest), n: binary.BigEndian.Uint64(rest[4:])}
		size := int(binary.BigEndian.Uint16(rest[12:]))
		rest = rest[v2FrameHead:]
		if size > len(rest) {
			return V2Header{}, nil, nil, fmt.Errorf("%w: message frame %d of %d bytes, %d left", ErrTruncated, j, size, len(rest))
		}
		if err := checkV2Frame(d, h, f.epoch, f.n, last, size); err != nil {
			return V2Header{}, nil, nil, err
		}
		f.sealed, rest, last = rest[:size], rest[size:], f.n
		frames = append(frames, f)
	}
	if !allZero(rest) {
		return V2Header{}, nil, nil, fmt.Errorf("%w: non-zero padding after %d messages", ErrMalformed, count)
	}
	return h, block, frames, nil
}

// checkBlock checks the zero fields of a ratchet block (rule 5): from-lo's
// epoch 0 announces nothing, from-hi's epoch 0 has no ciphertext.
func checkBlock(d Direction, e uint32, b []byte) error {
	ctAt := x25519Size + mlkemEKSize
	switch {
	case e == 0 && d == FromLo && !allZero(b):
		return fmt.Errorf("%w: ratchet keys in from-lo's bootstrap", ErrMalformed)
	case e == 0 && d == FromHi && !allZero(b[ctAt:ctAt+mlkemCTSize]):
		return fmt.Errorf("%w: a KEM ciphertext in from-hi's bootstrap", ErrMalformed)
	case e == 0 && d == FromLo:
		return nil
	}
	if _, err := mlkem.NewEncapsulationKey768(b[x25519Size:ctAt]); err != nil {
		return fmt.Errorf("%w: ML-KEM key: %v", ErrMalformed, err)
	}
	return nil
}

// enter applies a record's header to the state: the first_n of the epoch
// it reads, or, for slot 0 of a new epoch, the skipped keys of the old
// epoch, the peer's step and this party's answering step; for from-lo, its
// first step on reading from-hi's bootstrap.
// It returns how many message keys it derived.
func (c *RatchetState) enter(rand io.Reader, h V2Header, block []byte, newEpoch bool) (int, error) {
	var peerX, ek, ct []byte
	var next [MaxSlots][32]byte
	if block != nil {
		peerX, ek = block[:x25519Size], block[x25519Size:x25519Size+mlkemEKSize]
		ct = block[x25519Size+mlkemEKSize : x25519Size+mlkemEKSize+mlkemCTSize]
		for j := range next {
			copy(next[j][:], block[ratchetBlockSize-namesSize+32*j:])
		}
	}
	if !newEpoch {
		if h.FirstN != c.recvFirstN {
			return 0, fmt.Errorf("%w: epoch %d starts at %d, accepted %d", ErrMismatch, h.Epoch, h.FirstN, c.recvFirstN)
		}
		// from-lo answers from-hi's bootstrap keys with step 1.
		if block != nil && c.self == FromLo && h.Epoch == 0 && c.sendEpoch == 0 {
			return 0, c.step(rand, 0, peerX, ek, &next)
		}
		return 0, nil
	}
	if h.FirstN < c.recvNextN {
		return 0, fmt.Errorf("%w: epoch %d starts at %d, below %d of the last", ErrMalformed, h.Epoch, h.FirstN, c.recvNextN)
	}
	skip := h.FirstN - c.recvNextN
	if skip > MaxSkip {
		return 0, fmt.Errorf("%w: %d messages of epoch %d", ErrTooManySkipped, skip, c.recvEpoch)
	}
	for c.recvNextN < h.FirstN {
		mk, nxt := chainStep(&c.recvCK)
		c.skipped = append(c.skipped, skippedKey{epoch: c.recvEpoch, n: c.recvNextN, mk: mk})
		c.recvCK, c.recvNextN = nxt, c.recvNextN+1
	}
	if err := c.receiveStep(h.Epoch, peerX, ct); err != nil {
		return 0, err
	}
	c.recvEpoch, c.recvFirstN, c.recvNextN = h.Epoch, h.FirstN, h.FirstN
	c.recvHK, c.recvNames, c.peerNext = c.nextHK, c.nextPeer, false
	c.nextHK = key32{}
	return int(skip), c.step(rand, h.Epoch, peerX, ek, &next)
}

// messageKey returns the key of message n of the peer's epoch e and
// deletes it from the state; ok is false if the key was used before (or
// dropped). It derives forward in the current epoch, keeping the keys in
// between, and counts what it derives in *derived (at most MaxSkip per
// record).
func (c *RatchetState) messageKey(e uint32, n uint64, derived *int) (key32, bool, error) {
	if e == c.recvEpoch && n >= c.recvNextN {
		if n-c.recvNextN >= uint64(MaxSkip-*derived) {
			return key32{}, false, fmt.Errorf("%w: message %d, next %d", ErrTooManySkipped, n, c.recvNextN)
		}
		for c.recvNextN < n {
			mk, nxt := chainStep(&c.recvCK)
			c.skipped = append(c.skipped, skippedKey{epoch: e, n: c.recvNextN, mk: mk})
			c.recvCK, c.recvNextN = nxt, c.recvNextN+1
			*derived++
		}
		mk, nxt := chainStep(&c.recvCK)
		c.recvCK, c.recvNextN = nxt, c.recvNextN+1
		*derived++
		return mk, true, nil
	}
	for j, k := range c.skipped {
		if k.epoch == e && k.n == n {
			c.skipped = append(c.skipped[:j:j], c.skipped[j+1:]...)
			return k.mk, true, nil
		}
	}
	return key32{}, false, nil
}
