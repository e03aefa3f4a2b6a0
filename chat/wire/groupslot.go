package wire

import (
	"encoding/binary"
	"fmt"
	"io"
)

// Group slot record layout (docs/PROTOCOL.md §25.5): the 9216 bytes of a
// version 2 record, type 0x83.
const (
	groupHdrType   = 0x83
	groupFixedSize = 1 + 1 + 8 + 8 + 2 + 1 // type … ack_count
	groupAckSize   = 32 + 8
	groupFrameHead = 8 + 2                        // n, len
	groupSlotRoom  = v2PlainSize - groupFixedSize // 9154
	// MaxGroupAcks bounds the acks of a slot 0: one per other member.
	MaxGroupAcks = MaxGroupMembers - 1
)

// GroupAck says how far a writer has read another member: every message
// 1…N of Member's, without a gap.
type GroupAck struct {
	Member MemberID
	N      uint64
}

// GroupSlotHeader is what a group record says besides its messages.
type GroupSlotHeader struct {
	Epoch     uint32 // the sender epoch: its names and header key
	Slot      int    // 0 ≤ Slot < SlotsUsed
	SlotsUsed int    // 1…16
	Seq       uint64 // the IPNS sequence number, ≥ 1, bound by the seal
	MaxN      uint64 // the highest n of the sender epoch published
	FirstN    uint64 // the first n of the sender epoch
	// Acks, in slot 0 only: the writer's reading of the other members, in
	// increasing order of Member, at most MaxGroupAcks.
	Acks []GroupAck
}

// GroupSlot is a decoded group record: its header and the messages that
// the reader had not opened, in increasing order of N.
type GroupSlot struct {
	Header     GroupSlotHeader
	Messages   []GroupMessage
	Duplicates int
}

// groupSlotAD binds a record to its group, sender, epoch, slot and seq.
func groupSlotAD(g GroupID, sender MemberID, e uint32, i int, seq uint64) []byte {
	ad := make([]byte, 0, len(labelG1Slot)+16+32+4+1+8)
	ad = append(ad, labelG1Slot...)
	ad = append(ad, g[:]...)
	ad = append(ad, sender[:]...)
	ad = binary.BigEndian.AppendUint32(ad, e)
	ad = append(ad, byte(i))
	return binary.BigEndian.AppendUint64(ad, seq)
}

// GroupSlotRoom is the room for frames in a record with acks acks (slot 0).
func GroupSlotRoom(acks int) int { return groupSlotRoom - groupAckSize*acks }

// PackGroup assigns frames (increasing N, one sender epoch) to at most
// MaxSlots slots, slot 0 the oldest, with room for acks acks in slot 0;
// the frames after the last slot's wait. There is always one slot.
func PackGroup(frames []GroupFrame, acks int) ([][]GroupFrame, error) {
	if acks < 0 || acks > MaxGroupAcks {
		return nil, fmt.Errorf("wire: pack: %d acks, at most %d", acks, MaxGroupAcks)
	}
	slots := [][]GroupFrame{nil}
	used, room := 0, GroupSlotRoom(acks)
	for i, f := range frames {
		if len(f.Sealed) < v2MinSealed || len(f.Sealed) > v2MaxSealed {
			return nil, fmt.Errorf("wire: pack: frame %d is %d bytes, not a sealed message", i, len(f.Sealed))
		}
		size := groupFrameHead + len(f.Sealed)
		if used+size > room {
			if len(slots) == MaxSlots {
				break
			}
			slots, used, room = append(slots, nil), 0, groupSlotRoom
		}
		used += size
		slots[len(slots)-1] = append(slots[len(slots)-1], f)
	}
	return slots, nil
}

// checkGroupHeader checks a header's own rules (§25.5, rule 3).
func checkGroupHeader(h *GroupSlotHeader, count int) error {
	switch {
	case h.SlotsUsed < 1 || h.SlotsUsed > MaxSlots || h.Slot < 0 || h.Slot >= h.SlotsUsed:
		return fmt.Errorf("%w: slot %d of %d used", ErrMalformed, h.Slot, h.SlotsUsed)
	case h.Seq == 0:
		return fmt.Errorf("%w: sequence number 0", ErrMalformed)
	case h.FirstN == 0 || h.MaxN == ^uint64(0) || h.FirstN > h.MaxN+1:
		return fmt.Errorf("%w: first number %d with highest %d", ErrMalformed, h.FirstN, h.MaxN)
	case len(h.Acks) > MaxGroupAcks || (h.Slot != 0 && len(h.Acks) != 0):
		return fmt.Errorf("%w: %d acks in slot %d", ErrMalformed, len(h.Acks), h.Slot)
	case count > GroupSlotRoom(len(h.Acks))/(groupFrameHead+v2MinSealed):
		return fmt.Errorf("%w: %d messages cannot fit in slot %d", ErrMalformed, count, h.Slot)
	}
	for j := 1; j < len(h.Acks); j++ {
		if !h.Acks[j-1].Member.less(h.Acks[j].Member) {
			return fmt.Errorf("%w: acks not in increasing order of member", ErrMalformed)
		}
	}
	return nil
}

// checkGroupFrame checks a frame's number and size (rule 5).
func checkGroupFrame(h *GroupSlotHeader, n, last uint64, size int) error {
	switch {
	case n <= last || n < h.FirstN || n > h.MaxN:
		return fmt.Errorf("%w: message number %d after %d, epoch from %d to %d", ErrMalformed, n, last, h.FirstN, h.MaxN)
	case size < v2MinSealed || size > v2MaxSealed:
		return fmt.Errorf("%w: frame of %d bytes", ErrMalformed, size)
	}
	return nil
}

// EncodeSlot builds the payload of slot h.Slot of this sender epoch (the
// epoch and first number are the key's), carrying frames of the epoch,
// sealed under the header key with a nonce from rand. The key does not
// change.
func (k *SenderKey) EncodeSlot(rand io.Reader, h GroupSlotHeader, frames []GroupFrame) ([]byte, error) {
	h.Epoch, h.FirstN = k.epoch, k.firstN
	if err := checkGroupHeader(&h, len(frames)); err != nil {
		return nil, err
	}
	plain := make([]byte, groupFixedSize, v2PlainSize)
	plain[0], plain[1] = groupHdrType, byte(h.SlotsUsed)
	binary.BigEndian.PutUint64(plain[2:], h.MaxN)
	binary.BigEndian.PutUint64(plain[10:], h.FirstN)
	binary.BigEndian.PutUint16(plain[18:], uint16(len(frames)))
	plain[20] = byte(len(h.Acks))
	for _, a := range h.Acks {
		plain = binary.BigEndian.AppendUint64(append(plain, a.Member[:]...), a.N)
	}
	var last uint64
	for j, f := range frames {
		if f.Epoch != k.epoch {
			return nil, fmt.Errorf("wire: encode group slot: frame %d of epoch %d in epoch %d", j, f.Epoch, k.epoch)
		}
		if err := checkGroupFrame(&h, f.N, last, len(f.Sealed)); err != nil {
			return nil, fmt.Errorf("wire: encode group slot: frame %d: %w", j, err)
		}
		last = f.N
		plain = binary.BigEndian.AppendUint64(plain, f.N)
		plain = binary.BigEndian.AppendUint16(plain, uint16(len(f.Sealed)))
		plain = append(plain, f.Sealed...)
	}
	return sealV2Record(rand, &k.hk, plain, groupSlotAD(k.group, k.self, k.epoch, h.Slot, h.Seq))
}

// DecodeSlot checks and opens the payload of slot i of the chain's
// sender epoch, with IPNS sequence number seq. The caller fetched it
// from the chain's name i (Names), whose signature the DHT layer
// checked: that signature, which only the sender can make, is what
// authenticates the sender; the header key only keeps non-members out.
// It returns the new chain, the header and the new messages, or an error
// and the receiver unchanged (§25.5). The caller applies the seq check
// per (sender, epoch, slot) and stores the chain and the messages together.
func (c *ReceiverChain) DecodeSlot(i int, seq uint64, payload []byte) (*ReceiverChain, GroupSlot, error) {
	switch {
	case len(payload) == 0:
		return nil, GroupSlot{}, fmt.Errorf("%w: empty group record", ErrTruncated)
	case payload[0] != version2:
		return nil, GroupSlot{}, &UnknownVersionError{What: "group record", Version: payload[0]}
	case len(payload) != MaxSlotPayload:
		return nil, GroupSlot{}, fmt.Errorf("%w: group record of %d bytes, want %d", ErrMalformed, len(payload), MaxSlotPayload)
	case i < 0 || i >= MaxSlots:
		return nil, GroupSlot{}, fmt.Errorf("%w: slot %d", ErrMalformed, i)
	}
	p, ok := v2OpenAEAD(&c.hk, payload[1:], groupSlotAD(c.group, c.sender, c.epoch, i, seq))
	if !ok {
		return nil, GroupSlot{}, fmt.Errorf("%w: group record", ErrDecrypt)
	}
	if p[0] != groupHdrType {
		return nil, GroupSlot{}, fmt.Errorf("%w: group record type %#x", ErrMalformed, p[0])
	}
	h := GroupSlotHeader{Epoch: c.epoch, Slot: i, SlotsUsed: int(p[1]), Seq: seq,
		MaxN: binary.BigEndian.Uint64(p[2:]), FirstN: binary.BigEndian.Uint64(p[10:])}
	count, acks := int(binary.BigEndian.Uint16(p[18:])), int(p[20])
	if acks > MaxGroupAcks || (i != 0 && acks != 0) {
		return nil, GroupSlot{}, fmt.Errorf("%w: %d acks in slot %d", ErrMalformed, acks, i)
	}
	rest := p[groupFixedSize:]
	for j := range acks {
		h.Acks = append(h.Acks, GroupAck{Member: MemberID(rest[groupAckSize*j:]), N: binary.BigEndian.Uint64(rest[groupAckSize*j+32:])})
	}
	rest = rest[groupAckSize*acks:]
	if err := checkGroupHeader(&h, count); err != nil {
		return nil, GroupSlot{}, err
	}
	if h.FirstN != c.firstN {
		return nil, GroupSlot{}, fmt.Errorf("%w: epoch %d starts at %d, distributed %d", ErrMismatch, c.epoch, h.FirstN, c.firstN)
	}
	o, out := c, GroupSlot{Header: h}
	var last uint64
	for j := range count {
		if len(rest) < groupFrameHead {
			return nil, GroupSlot{}, fmt.Errorf("%w: message frame %d", ErrTruncated, j)
		}
		n, size := binary.BigEndian.Uint64(rest), int(binary.BigEndian.Uint16(rest[8:]))
		rest = rest[groupFrameHead:]
		if size > len(rest) {
			return nil, GroupSlot{}, fmt.Errorf("%w: message frame %d of %d bytes, %d left", ErrTruncated, j, size, len(rest))
		}
		if err := checkGroupFrame(&h, n, last, size); err != nil {
			return nil, GroupSlot{}, err
		}
		if n >= c.nextN && n-c.nextN >= MaxSkip { // at most MaxSkip keys derived per record
			return nil, GroupSlot{}, fmt.Errorf("%w: message %d, next %d", ErrTooManySkipped, n, c.nextN)
		}
		next, m, ok, err := o.Open(GroupFrame{Epoch: c.epoch, N: n, Sealed: rest[:size]})
		if err != nil {
			return nil, GroupSlot{}, fmt.Errorf("group slot %d, message %d: %w", i, n, err)
		}
		if ok {
			o, out.Messages = next, append(out.Messages, m)
		} else {
			out.Duplicates++
		}
		rest, last = rest[size:], n
	}
	if !allZero(rest) {
		return nil, GroupSlot{}, fmt.Errorf("%w: non-zero padding after %d messages", ErrMalformed, count)
	}
	if o == c {
		o = c.clone()
	}
	return o, out, nil
}
