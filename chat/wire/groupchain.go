package wire

import (
	"crypto/ed25519"
	"encoding/binary"
	"fmt"
	"io"
	"time"
	"unicode/utf8"
)

// Group message kinds (docs/PROTOCOL.md §25.1).
const (
	GroupText   uint8 = 1 // Body is text
	GroupOpKind uint8 = 2 // Op is a membership operation
)

// groupMsgHeaderSize is sent_at, kind, body_len.
const groupMsgHeaderSize = 8 + 1 + 2

// GroupFrame is a sealed group message as its sender stores it until it
// is published: the sender epoch and number it was sealed under and the
// sealed bytes.
type GroupFrame struct {
	Epoch  uint32
	N      uint64
	Sealed []byte
}

// GroupMessage is an opened group message: its sender, epoch and number,
// and either text or a membership operation (whose Proposer is Sender).
type GroupMessage struct {
	Sender MemberID
	Epoch  uint32
	N      uint64
	SentAt time.Time
	Kind   uint8
	Body   string  // GroupText
	Op     GroupOp // GroupOpKind
	// Head is the membership head that the sender epoch was made for
	// (its distribution's): an operation older than it is backdated
	// (GroupState.Backdated).
	Head [32]byte
}

// SenderKey is a member's sending side of a group in one sender epoch:
// its chain key of the next message, the header key of its records, and
// the signing seeds of its 16 slot names. Only the member has the seeds;
// the other members get the rest in a SenderKeyDistribution. It is a
// value: every operation returns a new one. It formats as a redacted
// placeholder.
type SenderKey struct {
	group   GroupID
	self    MemberID
	epoch   uint32
	firstN  uint64
	nextN   uint64
	head    [32]byte // the membership head the key was made for
	members [32]byte // and the digest of its member set
	ck, hk  key32
	seeds   [MaxSlots]key32
}

// NewSenderKey makes self's first sender key in the group of st (epoch
// 0, first message 1) for st's head and member set, drawing from rand
// (nil: crypto/rand) the chain key, the header key and 16 signing seeds,
// in this order. It returns the distribution to send to every other
// member. self must be a member.
func NewSenderKey(rand io.Reader, st *GroupState, self MemberID) (*SenderKey, SenderKeyDistribution, error) {
	return newSenderKey(rand, st, self, 0, 1)
}

func newSenderKey(rand io.Reader, st *GroupState, self MemberID, e uint32, firstN uint64) (*SenderKey, SenderKeyDistribution, error) {
	if !st.IsMember(self) {
		return nil, SenderKeyDistribution{}, fmt.Errorf("%w: a sender key for %v, not a member", ErrGroupUnauthorized, self)
	}
	head, _ := st.Head()
	k := &SenderKey{group: st.ID(), self: self, epoch: e, firstN: firstN, nextN: firstN, head: head, members: st.membersDigest()}
	var buf [32 * (2 + MaxSlots)]byte
	if err := readRand(rand, buf[:]); err != nil {
		return nil, SenderKeyDistribution{}, err
	}
	k.ck, k.hk = key32(buf[:32]), key32(buf[32:64])
	for i := range k.seeds {
		k.seeds[i] = key32(buf[64+32*i:])
	}
	return k, k.Distribution(), nil
}

// Rotate returns the sender key of the next sender epoch, fresh in every
// key, for st's head and member set (after a membership change: the new
// members cannot read the old chain, removed ones not the new), and its
// distribution. Numbers continue: the first of the new epoch is the next.
func (k *SenderKey) Rotate(rand io.Reader, st *GroupState) (*SenderKey, SenderKeyDistribution, error) {
	switch {
	case st.ID() != k.group:
		return nil, SenderKeyDistribution{}, fmt.Errorf("wire: rotate: group %v, the key's is %v", st.ID(), k.group)
	case k.epoch == ^uint32(0):
		return nil, SenderKeyDistribution{}, fmt.Errorf("wire: sender epoch exhausted")
	}
	return newSenderKey(rand, st, k.self, k.epoch+1, k.nextN)
}

// NeedsRotation reports whether st's member set differs from the one the
// key was made for: then the member MUST rotate before it seals anything
// more (docs/PROTOCOL.md §24.4).
func (k *SenderKey) NeedsRotation(st *GroupState) bool { return st.membersDigest() != k.members }

// Epoch returns the sender epoch.
func (k *SenderKey) Epoch() uint32 { return k.epoch }

// NextN returns the number of the next message to seal.
func (k *SenderKey) NextN() uint64 { return k.nextN }

// FirstN returns the first message number of the epoch.
func (k *SenderKey) FirstN() uint64 { return k.firstN }

// SlotSigningKey returns the Ed25519 key that signs slot i of this
// sender epoch; it panics if i is out of range.
func (k *SenderKey) SlotSigningKey(i int) ed25519.PrivateKey {
	return ed25519.NewKeyFromSeed(k.seeds[i][:])
}

// SlotName returns the public key naming slot i of this sender epoch.
func (k *SenderKey) SlotName(i int) ed25519.PublicKey {
	return k.SlotSigningKey(i).Public().(ed25519.PublicKey)
}

// Distribution returns what another member needs to read this sender
// epoch from the next message on: NewSenderKey's and Rotate's (from the
// epoch's first message) go to every member; one made later serves a
// member who lost the first, and opens nothing sealed before it.
func (k *SenderKey) Distribution() SenderKeyDistribution {
	d := SenderKeyDistribution{Group: k.group, Sender: k.self, Epoch: k.epoch, FirstN: k.firstN, N: k.nextN, Head: k.head, ck: k.ck, hk: k.hk}
	for i := range d.Names {
		d.Names[i] = [32]byte(k.SlotName(i))
	}
	return d
}

func (SenderKey) String() string               { return "wire.SenderKey{REDACTED}" }
func (SenderKey) GoString() string             { return "wire.SenderKey{REDACTED}" }
func (k SenderKey) Format(f fmt.State, _ rune) { fmt.Fprint(f, k.String()) }

// groupMsgAD binds a group message to its group, sender, epoch and number.
func groupMsgAD(g GroupID, sender MemberID, e uint32, n uint64) []byte {
	ad := make([]byte, 0, len(labelG1Msg)+16+32+4+8)
	ad = append(ad, labelG1Msg...)
	ad = append(ad, g[:]...)
	ad = append(ad, sender[:]...)
	ad = binary.BigEndian.AppendUint32(ad, e)
	return binary.BigEndian.AppendUint64(ad, n)
}

// groupChainStep is the group chain's step:
// (MK_j, CK_{j+1}) = split(HKDF(CK_j, "", "dhtchat/g1 chain", 64)).
func groupChainStep(ck *key32) (mk, next key32) { return hkdf64(ck[:], nil, labelG1Chain) }

// SealText seals a text message under the sender's chain, with a nonce
// from rand; the message key is deleted (the chain moves on).
func (k *SenderKey) SealText(rand io.Reader, sentAt time.Time, body string) (*SenderKey, GroupFrame, error) {
	if err := checkV2Body(body); err != nil {
		return nil, GroupFrame{}, err
	}
	return k.seal(rand, sentAt, GroupText, []byte(body))
}

// SealOp seals a membership operation that this member proposes.
func (k *SenderKey) SealOp(rand io.Reader, sentAt time.Time, op GroupOp) (*SenderKey, GroupFrame, error) {
	if op.Proposer != k.self || op.Group != k.group {
		return nil, GroupFrame{}, fmt.Errorf("wire: seal op: proposed by %v in %v, sealing as %v in %v", op.Proposer, op.Group, k.self, k.group)
	}
	b, err := op.Encode()
	if err != nil {
		return nil, GroupFrame{}, err
	}
	if len(b) > MaxBody {
		return nil, GroupFrame{}, fmt.Errorf("wire: seal op: %d bytes, at most %d", len(b), MaxBody)
	}
	return k.seal(rand, sentAt, GroupOpKind, b)
}

// groupPlaintext lays out a group message plaintext, zero-padded to its
// bucket. It checks nothing.
func groupPlaintext(sentAtMs int64, kind uint8, body []byte) []byte {
	plain := make([]byte, bucket(groupMsgHeaderSize+len(body)))
	binary.BigEndian.PutUint64(plain, uint64(sentAtMs))
	plain[8] = kind
	binary.BigEndian.PutUint16(plain[9:], uint16(len(body)))
	copy(plain[groupMsgHeaderSize:], body)
	return plain
}

func (k *SenderKey) seal(rand io.Reader, sentAt time.Time, kind uint8, body []byte) (*SenderKey, GroupFrame, error) {
	plain := groupPlaintext(sentAt.UnixMilli(), kind, body)
	c := *k
	mk, next := groupChainStep(&c.ck)
	n := c.nextN
	c.ck, c.nextN = next, n+1
	sealed, err := v2Seal(randOr(rand), &mk, plain, groupMsgAD(c.group, c.self, c.epoch, n))
	if err != nil {
		return nil, GroupFrame{}, err
	}
	return &c, GroupFrame{Epoch: c.epoch, N: n, Sealed: sealed}, nil
}

// ReceiverChain is a member's reading side of another member's sender
// epoch: the chain key of the next message, the keys it derived and has
// not used (at most MaxSkip), the header key and the slot names. It is
// made from that member's distribution and is a value, as SenderKey.
type ReceiverChain struct {
	group   GroupID
	sender  MemberID
	epoch   uint32
	firstN  uint64
	nextN   uint64
	ck, hk  key32
	names   [MaxSlots][32]byte
	head    [32]byte
	skipped []skippedKey
}

// NewReceiverChain returns the reading side of a distribution.
func NewReceiverChain(d SenderKeyDistribution) *ReceiverChain {
	return &ReceiverChain{group: d.Group, sender: d.Sender, epoch: d.Epoch, firstN: d.FirstN, nextN: d.N,
		ck: d.ck, hk: d.hk, names: d.Names, head: d.Head}
}

func (c *ReceiverChain) clone() *ReceiverChain {
	o := *c
	o.skipped = append([]skippedKey(nil), c.skipped...)
	return &o
}

// Sender returns the member whose chain this is.
func (c *ReceiverChain) Sender() MemberID { return c.sender }

// Epoch returns the sender epoch.
func (c *ReceiverChain) Epoch() uint32 { return c.epoch }

// Names returns the public keys naming the sender's 16 slots of the epoch.
func (c *ReceiverChain) Names() [MaxSlots]ed25519.PublicKey {
	var out [MaxSlots]ed25519.PublicKey
	for i := range c.names {
		out[i] = ed25519.PublicKey(append([]byte(nil), c.names[i][:]...))
	}
	return out
}

func (ReceiverChain) String() string               { return "wire.ReceiverChain{REDACTED}" }
func (ReceiverChain) GoString() string             { return "wire.ReceiverChain{REDACTED}" }
func (c ReceiverChain) Format(f fmt.State, _ rune) { fmt.Fprint(f, c.String()) }

// Open opens one frame of the chain's epoch and returns the new chain and
// the message; ok is false for a duplicate (a key used before, or
// dropped). Deriving ahead keeps the keys in between, at most MaxSkip.
func (c *ReceiverChain) Open(f GroupFrame) (*ReceiverChain, GroupMessage, bool, error) {
	switch {
	case f.Epoch != c.epoch:
		return nil, GroupMessage{}, false, fmt.Errorf("%w: frame of sender epoch %d in a chain of %d", ErrEpoch, f.Epoch, c.epoch)
	case f.N < c.firstN:
		return nil, GroupMessage{}, false, fmt.Errorf("%w: message %d of an epoch starting at %d", ErrMalformed, f.N, c.firstN)
	case len(f.Sealed) < v2MinSealed:
		return nil, GroupMessage{}, false, fmt.Errorf("%w: sealed message of %d bytes", ErrTruncated, len(f.Sealed))
	case len(f.Sealed) > v2MaxSealed:
		return nil, GroupMessage{}, false, fmt.Errorf("%w: sealed message of %d bytes, at most %d", ErrTooLarge, len(f.Sealed), v2MaxSealed)
	}
	o := c.clone()
	var mk key32
	switch {
	case f.N >= o.nextN:
		if f.N-o.nextN >= MaxSkip {
			return nil, GroupMessage{}, false, fmt.Errorf("%w: message %d, next %d", ErrTooManySkipped, f.N, o.nextN)
		}
		for o.nextN < f.N {
			k, next := groupChainStep(&o.ck)
			o.skipped = append(o.skipped, skippedKey{epoch: o.epoch, n: o.nextN, mk: k})
			o.ck, o.nextN = next, o.nextN+1
		}
		mk, o.ck = groupChainStep(&o.ck)
		o.nextN++
		if len(o.skipped) > MaxSkip { // the oldest go: their messages are lost
			o.skipped = append([]skippedKey(nil), o.skipped[len(o.skipped)-MaxSkip:]...)
		}
	default:
		j := -1
		for i, k := range o.skipped {
			if k.n == f.N {
				j = i
			}
		}
		if j < 0 {
			return c, GroupMessage{}, false, nil
		}
		mk = o.skipped[j].mk
		o.skipped = append(o.skipped[:j:j], o.skipped[j+1:]...)
	}
	plain, ok := v2OpenAEAD(&mk, f.Sealed, groupMsgAD(o.group, o.sender, o.epoch, f.N))
	if !ok {
		return nil, GroupMessage{}, false, fmt.Errorf("%w: group message %d of %v", ErrDecrypt, f.N, o.sender)
	}
	m, err := parseGroupPlaintext(o.group, o.sender, plain)
	if err != nil {
		return nil, GroupMessage{}, false, err
	}
	m.Epoch, m.N, m.Head = f.Epoch, f.N, o.head
	return o, m, true, nil
}

// parseGroupPlaintext checks an authentic plaintext (docs/PROTOCOL.md
// §25.1): one encoding per message; an operation proposed by the sender
// in this group.
func parseGroupPlaintext(g GroupID, sender MemberID, plain []byte) (GroupMessage, error) {
	if len(plain) < groupMsgHeaderSize {
		return GroupMessage{}, fmt.Errorf("%w: group plaintext of %d bytes", ErrTruncated, len(plain))
	}
	m := GroupMessage{Sender: sender, SentAt: time.UnixMilli(int64(binary.BigEndian.Uint64(plain))), Kind: plain[8]}
	n := int(binary.BigEndian.Uint16(plain[9:]))
	switch {
	case n > MaxBody:
		return GroupMessage{}, fmt.Errorf("%w: body length %d, at most %d", ErrMalformed, n, MaxBody)
	case len(plain) != bucket(groupMsgHeaderSize+n):
		return GroupMessage{}, fmt.Errorf("%w: plaintext of %d bytes for a body of %d", ErrMalformed, len(plain), n)
	case !allZero(plain[groupMsgHeaderSize+n:]):
		return GroupMessage{}, fmt.Errorf("%w: non-zero padding", ErrMalformed)
	}
	body := plain[groupMsgHeaderSize : groupMsgHeaderSize+n]
	switch m.Kind {
	case GroupText:
		if !utf8.Valid(body) {
			return GroupMessage{}, fmt.Errorf("%w: body is not valid UTF-8", ErrMalformed)
		}
		m.Body = string(body)
	case GroupOpKind:
		op, err := ParseGroupOp(body)
		if err != nil {
			return GroupMessage{}, err
		}
		if op.Proposer != sender || op.Group != g {
			return GroupMessage{}, fmt.Errorf("%w: operation proposed by %v in %v, sent by %v in %v", ErrMalformed, op.Proposer, op.Group, sender, g)
		}
		m.Op = op
	default:
		return GroupMessage{}, fmt.Errorf("%w: group message kind %d", ErrMalformed, m.Kind)
	}
	return m, nil
}
