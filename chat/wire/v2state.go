package wire

import (
	"encoding/binary"
	"fmt"
)

// stateFormat is the first byte of an encoded RatchetState (docs/PROTOCOL.md §15).
const stateFormat = 0x01

// Flags of an encoded state.
const (
	flagHasNext  = 1 << 0
	flagHasKeys  = 1 << 1
	flagPeerNext = 1 << 2
	flagsKnown   = flagHasNext | flagHasKeys | flagPeerNext
)

// stateFixedSize is the size of an encoded state without its skipped keys.
const stateFixedSize = 1 + 16 + 1 + 32 + // format, chat_id, self, rk
	4 + 32 + 32 + 8 + 8 + namesSize + // send_epoch, send_ck, send_hk, send_first_n, next_n, send_names
	1 + namesSize + x25519Size + mlkemSeed + mlkemCTSize + // flags, next_names, my_x, my_dk, send_ct
	4 + 32 + 8 + 8 + 32 + namesSize + // recv_epoch, recv_ck, recv_first_n, recv_next_n, recv_hk, recv_names
	32 + namesSize + 2 // next_hk, next_peer_names, skipped_count

const skippedSize = 4 + 8 + 32

// MaxRatchetStateSize is the size of the largest encoded RatchetState.
const MaxRatchetStateSize = stateFixedSize + MaxSkip*skippedSize

// Marshal returns the state's encoding, which holds every secret of the
// chat's ratchet: store it as the keyring is stored.
func (s *RatchetState) Marshal() []byte {
	b := make([]byte, 0, stateFixedSize+len(s.skipped)*skippedSize)
	b = append(b, stateFormat)
	b = append(b, s.id[:]...)
	b = append(b, byte(s.self))
	b = append(b, s.rk[:]...)
	b = binary.BigEndian.AppendUint32(b, s.sendEpoch)
	b = append(b, s.sendCK[:]...)
	b = append(b, s.sendHK[:]...)
	b = binary.BigEndian.AppendUint64(b, s.sendFirstN)
	b = binary.BigEndian.AppendUint64(b, s.nextN)
	for i := range s.sendNames {
		b = append(b, s.sendNames[i][:]...)
	}
	var flags byte
	if s.hasNext {
		flags |= flagHasNext
	}
	if s.hasKeys {
		flags |= flagHasKeys
	}
	if s.peerNext {
		flags |= flagPeerNext
	}
	b = append(b, flags)
	for i := range s.nextNames {
		b = append(b, s.nextNames[i][:]...)
	}
	b = append(b, s.myX[:]...)
	b = append(b, s.myDK[:]...)
	b = append(b, s.sendCT[:]...)
	b = binary.BigEndian.AppendUint32(b, s.recvEpoch)
	b = append(b, s.recvCK[:]...)
	b = binary.BigEndian.AppendUint64(b, s.recvFirstN)
	b = binary.BigEndian.AppendUint64(b, s.recvNextN)
	b = append(b, s.recvHK[:]...)
	for i := range s.recvNames {
		b = append(b, s.recvNames[i][:]...)
	}
	b = append(b, s.nextHK[:]...)
	for i := range s.nextPeer {
		b = append(b, s.nextPeer[i][:]...)
	}
	b = binary.BigEndian.AppendUint16(b, uint16(len(s.skipped)))
	for _, k := range s.skipped {
		b = binary.BigEndian.AppendUint32(b, k.epoch)
		b = binary.BigEndian.AppendUint64(b, k.n)
		b = append(b, k.mk[:]...)
	}
	return b
}

// stateReader takes fixed-size fields off the front of an encoding whose
// length was checked.
type stateReader struct{ b []byte }

func (r *stateReader) take(n int) []byte { v := r.b[:n]; r.b = r.b[n:]; return v }
func (r *stateReader) u32() uint32       { return binary.BigEndian.Uint32(r.take(4)) }
func (r *stateReader) u64() uint64       { return binary.BigEndian.Uint64(r.take(8)) }
func (r *stateReader) key(k *key32)      { copy(k[:], r.take(32)) }
func (r *stateReader) names(n *[MaxSlots][32]byte) {
	for i := range n {
		copy(n[i][:], r.take(32))
	}
}

// UnmarshalRatchetState decodes a state that Marshal encoded. It rejects,
// with ErrMalformed, every encoding that Marshal does not produce: a wrong
// length or format, an invalid direction or epoch, numbers out of order,
// set fields whose flag is clear, skipped keys out of order or over
// MaxSkip. A stored state is trusted no more than a record.
func UnmarshalRatchetState(b []byte) (*RatchetState, error) {
	bad := func(what string) (*RatchetState, error) {
		return nil, fmt.Errorf("%w: ratchet state: %s", ErrMalformed, what)
	}
	if len(b) < stateFixedSize {
		return bad("truncated")
	}
	if len(b) > MaxRatchetStateSize {
		return bad("too large")
	}
	if b[0] != stateFormat {
		return nil, &UnknownVersionError{What: "ratchet state", Version: b[0]}
	}
	r := &stateReader{b: b[1:]}
	s := &RatchetState{}
	copy(s.id[:], r.take(16))
	s.self = Direction(r.take(1)[0])
	r.key(&s.rk)
	s.sendEpoch = r.u32()
	r.key(&s.sendCK)
	r.key(&s.sendHK)
	s.sendFirstN, s.nextN = r.u64(), r.u64()
	for i := range s.sendNames {
		r.key(&s.sendNames[i])
	}
	flags := r.take(1)[0]
	s.hasNext, s.hasKeys, s.peerNext = flags&flagHasNext != 0, flags&flagHasKeys != 0, flags&flagPeerNext != 0
	nextAt := len(b) - len(r.b)
	for i := range s.nextNames {
		r.key(&s.nextNames[i])
	}
	keysAt := len(b) - len(r.b)
	copy(s.myX[:], r.take(x25519Size))
	copy(s.myDK[:], r.take(mlkemSeed))
	copy(s.sendCT[:], r.take(mlkemCTSize))
	s.recvEpoch = r.u32()
	r.key(&s.recvCK)
	s.recvFirstN, s.recvNextN = r.u64(), r.u64()
	r.key(&s.recvHK)
	r.names(&s.recvNames)
	peerAt := len(b) - len(r.b)
	r.key(&s.nextHK)
	r.names(&s.nextPeer)
	count := int(binary.BigEndian.Uint16(r.take(2)))
	switch {
	case !s.self.valid():
		return bad("direction")
	case flags&^flagsKnown != 0:
		return bad("unknown flags")
	case !isEpochOf(s.self, s.sendEpoch) || !isEpochOf(s.self.Other(), s.recvEpoch):
		return bad("epochs")
	case s.sendFirstN == 0 || s.nextN < s.sendFirstN || s.nextN == ^uint64(0):
		return bad("message numbers")
	case s.recvFirstN == 0 || s.recvNextN < s.recvFirstN || s.recvNextN == ^uint64(0):
		return bad("received numbers")
	case !s.hasNext && !allZero(b[nextAt:keysAt]):
		return bad("names without their flag")
	case !s.hasKeys && !allZero(b[keysAt:keysAt+x25519Size+mlkemSeed]):
		return bad("ratchet keys without their flag")
	case !s.peerNext && !allZero(b[peerAt:peerAt+32+namesSize]):
		return bad("next epoch without its flag")
	case count > MaxSkip || len(r.b) != count*skippedSize:
		return bad("skipped keys")
	}
	s.skipped = make([]skippedKey, count)
	for j := range s.skipped {
		k := &s.skipped[j]
		k.epoch, k.n = r.u32(), r.u64()
		r.key(&k.mk)
		if j > 0 {
			p := s.skipped[j-1]
			if k.epoch < p.epoch || k.epoch == p.epoch && k.n <= p.n {
				return bad("skipped keys out of order")
			}
		}
	}
	return s, nil
}
