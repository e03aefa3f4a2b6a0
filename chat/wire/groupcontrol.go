package wire

import (
	"encoding/base64"
	"encoding/binary"
	"fmt"
	"strings"
)

// Control bodies: what group members send one another over their
// pairwise version 2 sessions, as the body of an ordinary v2 message
// (docs/PROTOCOL.md §24.3). A body that begins with U+0000 is a control
// body, never text: a client MUST NOT send text that begins with it.
const (
	controlMark   = "\x00"
	prefixSKD     = controlMark + "dhtchat-gk1 " // a sender key distribution
	prefixWelcome = controlMark + "dhtchat-gw1 " // the log, for a new member
	skdType       = 0x01
	skdSize       = 1 + 16 + 32 + 4 + 8 + 8 + 32 + 32 + 32 + namesSize // 677
)

// IsControlBody reports whether a pairwise message body is a control
// body (a sender key distribution, a welcome, or one this client does not
// know yet) rather than text.
func IsControlBody(body string) bool { return strings.HasPrefix(body, controlMark) }

// SenderKeyDistribution is what a member sends every other member, over
// their pairwise session, at the start of each of its sender epochs (and
// again to a member who lost it): the chain key of message N, the header
// key of its records, the public keys naming its 16 slots, and the
// membership head it was made for (docs/PROTOCOL.md §24.2). Its receiver
// reads the epoch's messages from N on. It formats as a redacted
// placeholder.
type SenderKeyDistribution struct {
	Group  GroupID
	Sender MemberID
	Epoch  uint32
	FirstN uint64 // the epoch's first message number
	N      uint64 // the number whose chain key it carries, ≥ FirstN
	Head   [32]byte
	Names  [MaxSlots][32]byte
	ck, hk key32
}

func (SenderKeyDistribution) String() string               { return "wire.SenderKeyDistribution{REDACTED}" }
func (SenderKeyDistribution) GoString() string             { return "wire.SenderKeyDistribution{REDACTED}" }
func (d SenderKeyDistribution) Format(f fmt.State, _ rune) { fmt.Fprint(f, d.String()) }

// bytes is the distribution's binary encoding.
func (d *SenderKeyDistribution) bytes() []byte {
	b := make([]byte, 0, skdSize)
	b = append(b, skdType)
	b = append(b, d.Group[:]...)
	b = append(b, d.Sender[:]...)
	b = binary.BigEndian.AppendUint32(b, d.Epoch)
	b = binary.BigEndian.AppendUint64(b, d.FirstN)
	b = binary.BigEndian.AppendUint64(b, d.N)
	b = append(b, d.Head[:]...)
	b = append(b, d.ck[:]...)
	b = append(b, d.hk[:]...)
	for i := range d.Names {
		b = append(b, d.Names[i][:]...)
	}
	return b
}

// Body returns the distribution as a pairwise message body: the prefix
// "\x00dhtchat-gk1 " and the 677 bytes in unpadded standard base64.
func (d *SenderKeyDistribution) Body() string {
	return prefixSKD + base64.RawStdEncoding.EncodeToString(d.bytes())
}

// controlBytes strips prefix and decodes the base64 after it: exactly one
// encoding (strict, unpadded).
func controlBytes(body, prefix, what string) ([]byte, error) {
	if !strings.HasPrefix(body, prefix) {
		return nil, fmt.Errorf("%w: not a %s", ErrMalformed, what)
	}
	text := body[len(prefix):]
	b, err := base64.RawStdEncoding.Strict().DecodeString(text)
	if err != nil {
		return nil, fmt.Errorf("%w: %s: %v", ErrMalformed, what, err)
	}
	if base64.RawStdEncoding.EncodeToString(b) != text { // the decoder skips newlines
		return nil, fmt.Errorf("%w: %s: not canonical base64", ErrMalformed, what)
	}
	return b, nil
}

// ParseSenderKeyDistribution parses a pairwise body from the friend from:
// the distribution must be from's own (a member distributes only its own
// keys). Whether from is a member of the group, and whether the epoch is
// newer than the chain the reader has, the caller checks against its
// GroupState and chains (docs/PROTOCOL.md §24.2).
func ParseSenderKeyDistribution(body string, from MemberID) (SenderKeyDistribution, error) {
	b, err := controlBytes(body, prefixSKD, "sender key distribution")
	if err != nil {
		return SenderKeyDistribution{}, err
	}
	if len(b) != skdSize || b[0] != skdType {
		return SenderKeyDistribution{}, fmt.Errorf("%w: sender key distribution of %d bytes, want %d", ErrMalformed, len(b), skdSize)
	}
	var d SenderKeyDistribution
	copy(d.Group[:], b[1:])
	copy(d.Sender[:], b[17:])
	d.Epoch = binary.BigEndian.Uint32(b[49:])
	d.FirstN = binary.BigEndian.Uint64(b[53:])
	d.N = binary.BigEndian.Uint64(b[61:])
	copy(d.Head[:], b[69:])
	copy(d.ck[:], b[101:])
	copy(d.hk[:], b[133:])
	for i := range d.Names {
		copy(d.Names[i][:], b[165+32*i:])
	}
	switch {
	case d.Sender != from:
		return SenderKeyDistribution{}, fmt.Errorf("%w: distribution of %v sent by %v", ErrMalformed, d.Sender, from)
	case d.FirstN == 0 || d.N < d.FirstN || d.N == ^uint64(0):
		return SenderKeyDistribution{}, fmt.Errorf("%w: distribution of message %d in an epoch from %d", ErrMalformed, d.N, d.FirstN)
	}
	return d, nil
}
