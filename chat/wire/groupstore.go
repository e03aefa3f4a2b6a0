package wire

import (
	"encoding/binary"
	"fmt"
)

// The stored forms of a member's group keys (docs/PROTOCOL.md §25.6): a
// client keeps them as it keeps a RatchetState, and never sends them.
const (
	senderKeyFormat     = 0x11
	receiverChainFormat = 0x12
	groupKeyFixedSize   = 1 + 16 + 32 + 4 + 8 + 8 + 32 + 32 + 32 + namesSize // 677
	groupSkippedSize    = 8 + 32
	senderKeySize       = groupKeyFixedSize + 32 // 709: and the member set's digest
	// MaxReceiverChainSize is the size of the largest encoded ReceiverChain.
	MaxReceiverChainSize = groupKeyFixedSize + 2 + MaxSkip*groupSkippedSize
)

// appendGroupKey lays out the fields that both stored forms have.
func appendGroupKey(format byte, g GroupID, m MemberID, e uint32, firstN, nextN uint64, head *[32]byte, ck, hk *key32, names *[MaxSlots][32]byte) []byte {
	b := make([]byte, 0, groupKeyFixedSize)
	b = append(b, format)
	b = append(b, g[:]...)
	b = append(b, m[:]...)
	b = binary.BigEndian.AppendUint32(b, e)
	b = binary.BigEndian.AppendUint64(b, firstN)
	b = binary.BigEndian.AppendUint64(b, nextN)
	b = append(b, head[:]...)
	b = append(b, ck[:]...)
	b = append(b, hk[:]...)
	for i := range names {
		b = append(b, names[i][:]...)
	}
	return b
}

// groupKeyFields is what parseGroupKey reads.
type groupKeyFields struct {
	g             GroupID
	m             MemberID
	e             uint32
	firstN, nextN uint64
	head          [32]byte
	ck, hk        key32
	names         [MaxSlots][32]byte
}

// parseGroupKey reads the common fields and checks their numbers.
func parseGroupKey(format byte, what string, b []byte) (groupKeyFields, error) {
	var f groupKeyFields
	if len(b) < groupKeyFixedSize || b[0] != format {
		return f, fmt.Errorf("%w: stored %s of %d bytes", ErrMalformed, what, len(b))
	}
	copy(f.g[:], b[1:])
	copy(f.m[:], b[17:])
	f.e = binary.BigEndian.Uint32(b[49:])
	f.firstN, f.nextN = binary.BigEndian.Uint64(b[53:]), binary.BigEndian.Uint64(b[61:])
	copy(f.head[:], b[69:])
	copy(f.ck[:], b[101:])
	copy(f.hk[:], b[133:])
	for i := range f.names {
		copy(f.names[i][:], b[165+32*i:])
	}
	if f.firstN == 0 || f.nextN < f.firstN || f.nextN == ^uint64(0) {
		return f, fmt.Errorf("%w: stored %s at %d of an epoch from %d", ErrMalformed, what, f.nextN, f.firstN)
	}
	return f, nil
}

// Marshal returns the sender key's encoding (709 bytes), which holds its
// chain key and signing seeds: store it as the keyring is stored.
func (k *SenderKey) Marshal() []byte {
	b := appendGroupKey(senderKeyFormat, k.group, k.self, k.epoch, k.firstN, k.nextN, &k.head, &k.ck, &k.hk, &k.seeds)
	return append(b, k.members[:]...)
}

// Behind reports whether another member's ack (from its slot 0 record)
// shows that this sender key is older than what its member has
// published: the reader has message ack.N, and this key would seal that
// number again. A client checks every ack of itself before it writes with
// a stored key, and refuses (as §14.4 for a pair) if any is behind.
func (k *SenderKey) Behind(a GroupAck) bool { return a.Member == k.self && a.N >= k.nextN }

// UnmarshalSenderKey accepts exactly the encodings Marshal produces.
func UnmarshalSenderKey(b []byte) (*SenderKey, error) {
	f, err := parseGroupKey(senderKeyFormat, "sender key", b)
	if err != nil {
		return nil, err
	}
	if len(b) != senderKeySize {
		return nil, fmt.Errorf("%w: stored sender key of %d bytes, want %d", ErrMalformed, len(b), senderKeySize)
	}
	k := &SenderKey{group: f.g, self: f.m, epoch: f.e, firstN: f.firstN, nextN: f.nextN, head: f.head, ck: f.ck, hk: f.hk, seeds: f.names}
	copy(k.members[:], b[groupKeyFixedSize:])
	return k, nil
}

// Marshal returns the chain's encoding: its keys, names and skipped keys.
func (c *ReceiverChain) Marshal() []byte {
	b := appendGroupKey(receiverChainFormat, c.group, c.sender, c.epoch, c.firstN, c.nextN, &c.head, &c.ck, &c.hk, &c.names)
	b = binary.BigEndian.AppendUint16(b, uint16(len(c.skipped)))
	for _, k := range c.skipped {
		b = append(binary.BigEndian.AppendUint64(b, k.n), k.mk[:]...)
	}
	return b
}

// UnmarshalReceiverChain accepts exactly the encodings Marshal produces:
// at most MaxSkip skipped keys, in increasing order, each of a number
// from the epoch's first to below the next.
func UnmarshalReceiverChain(b []byte) (*ReceiverChain, error) {
	f, err := parseGroupKey(receiverChainFormat, "receiver chain", b)
	if err != nil {
		return nil, err
	}
	rest := b[groupKeyFixedSize:]
	if len(rest) < 2 {
		return nil, fmt.Errorf("%w: stored receiver chain without its skipped keys", ErrTruncated)
	}
	count := int(binary.BigEndian.Uint16(rest))
	rest = rest[2:]
	if count > MaxSkip || len(rest) != count*groupSkippedSize {
		return nil, fmt.Errorf("%w: %d skipped keys in %d bytes", ErrMalformed, count, len(rest))
	}
	c := &ReceiverChain{group: f.g, sender: f.m, epoch: f.e, firstN: f.firstN, nextN: f.nextN, head: f.head, ck: f.ck, hk: f.hk, names: f.names}
	for j := range count {
		k := skippedKey{epoch: f.e, n: binary.BigEndian.Uint64(rest[groupSkippedSize*j:]), mk: key32(rest[groupSkippedSize*j+8:])}
		if k.n < f.firstN || k.n >= f.nextN || (j > 0 && k.n <= c.skipped[j-1].n) {
			return nil, fmt.Errorf("%w: skipped key %d of message %d", ErrMalformed, j, k.n)
		}
		c.skipped = append(c.skipped, k)
	}
	return c, nil
}
