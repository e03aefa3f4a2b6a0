package wire

import (
	"bytes"
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"errors"
	"fmt"
	"slices"
	"unicode/utf8"
)

// Groups (docs/PROTOCOL.md §24–§26): sender keys per member over the
// pairwise version 2 sessions, and a membership log of group messages.

// The labels of groups. They are part of the wire format.
const (
	labelG1GroupID = "dhtchat/g1 group id"
	labelG1Chain   = "dhtchat/g1 chain"
	labelG1Msg     = "dhtchat/g1 msg"
	labelG1Slot    = "dhtchat/g1 slot"
	labelG1Op      = "dhtchat/g1 op"
	labelG1Pair    = "dhtchat/g1 pair"
	labelG1Members = "dhtchat/g1 members"
)

// Limits of groups.
const (
	// MaxGroupMembers bounds a group's members, the creator included.
	MaxGroupMembers = 64
	// MaxGroupName bounds a group's name, in bytes of UTF-8.
	MaxGroupName = 64
)

// Errors of groups.
var (
	// ErrGroupUnauthorized: a membership operation that its proposer may
	// not make in the state it applies to (not a member, not an admin,
	// a member added twice, the creator removed).
	ErrGroupUnauthorized = errors.New("wire: group operation not allowed")
	// ErrGroupOrder: an operation whose parent the state has not applied
	// (it waits for it, or its parent was rejected), or that comes before
	// the last applied one in the canonical order (Converge replays).
	ErrGroupOrder = errors.New("wire: group operation out of order")
)

// GroupID names a group: 16 bytes derived from its creator and a nonce.
type GroupID [16]byte

// String returns the group id in hex; it is not a secret.
func (g GroupID) String() string { return hex.EncodeToString(g[:]) }

// MemberID is a group member: its dhtchat public key (X25519, 32 bytes),
// the key its friends have for it.
type MemberID [32]byte

// String returns a short hex prefix of the key, for logs and errors.
func (m MemberID) String() string { return hex.EncodeToString(m[:4]) }

func (m MemberID) less(o MemberID) bool { return bytes.Compare(m[:], o[:]) < 0 }

// DeriveGroupID is the id of the group that creator makes with nonce:
//
//	group_id = SHA-256("dhtchat/g1 group id" || creator || nonce)[:16]
func DeriveGroupID(creator MemberID, nonce [16]byte) GroupID {
	h := sha256.New()
	h.Write([]byte(labelG1GroupID))
	h.Write(creator[:])
	h.Write(nonce[:])
	return GroupID(h.Sum(nil)[:16])
}

// GroupPairChatID is the chat id of the control session of two members
// (docs/PROTOCOL.md §24.3): the version 2 chat, made from their pair key,
// that carries their sender key distributions and welcomes for every
// group they share, whether or not they are friends.
//
//	control_chat_id = HKDF(pair_key, salt = "", info = "dhtchat/g1 pair")[:16]
func GroupPairChatID(p PairKey) ChatID {
	k := hkdf32(p.k[:], nil, labelG1Pair)
	return ChatID(k[:16])
}

// OpKind is the kind of a membership operation.
type OpKind uint8

// The membership operations (docs/PROTOCOL.md §25.2).
const (
	OpCreate OpKind = 1 // the first operation: the creator, the name, the first members
	OpAdd    OpKind = 2 // an admin adds Member
	OpRemove OpKind = 3 // an admin removes Member
	OpLeave  OpKind = 4 // the proposer leaves
	OpRename OpKind = 5 // an admin renames the group
	OpAdmin  OpKind = 6 // an admin makes Member an admin
)

func (k OpKind) String() string {
	switch k {
	case OpCreate:
		return "create"
	case OpAdd:
		return "add"
	case OpRemove:
		return "remove"
	case OpLeave:
		return "leave"
	case OpRename:
		return "rename"
	case OpAdmin:
		return "admin"
	}
	return fmt.Sprintf("op(%d)", uint8(k))
}

// GroupOp is one membership operation: an entry of the group's log, sent
// as a group message by its proposer. Epoch is its parent's plus one
// (0 for create), Prev its parent's hash (zero for create).
type GroupOp struct {
	Kind     OpKind
	Group    GroupID
	Proposer MemberID
	Epoch    uint32
	Prev     [32]byte
	Member   MemberID   // add, remove, admin
	Name     string     // create, rename
	Nonce    [16]byte   // create
	Members  []MemberID // create: the first members besides the creator, in increasing order
}

// opHeadSize is kind, group, proposer, epoch, prev.
const opHeadSize = 1 + 16 + 32 + 4 + 32

// Encode returns the operation's one encoding (docs/PROTOCOL.md §25.2).
// It checks the shape (CheckShape), not the authority.
func (op *GroupOp) Encode() ([]byte, error) {
	if err := op.checkShape(); err != nil {
		return nil, err
	}
	return op.encode(), nil
}

// encode lays out the operation as it is, checking nothing.
func (op *GroupOp) encode() []byte {
	b := make([]byte, 0, opHeadSize+16+1+len(op.Name)+2+32*len(op.Members))
	b = append(b, byte(op.Kind))
	b = append(b, op.Group[:]...)
	b = append(b, op.Proposer[:]...)
	b = binary.BigEndian.AppendUint32(b, op.Epoch)
	b = append(b, op.Prev[:]...)
	switch op.Kind {
	case OpCreate:
		b = append(b, op.Nonce[:]...)
		b = append(append(b, byte(len(op.Name))), op.Name...)
		b = binary.BigEndian.AppendUint16(b, uint16(len(op.Members)))
		for _, m := range op.Members {
			b = append(b, m[:]...)
		}
	case OpAdd, OpRemove, OpAdmin:
		b = append(b, op.Member[:]...)
	case OpRename:
		b = append(append(b, byte(len(op.Name))), op.Name...)
	}
	return b
}

// Hash is the operation's hash, the Prev of its children:
// SHA-256("dhtchat/g1 op" || encoding). (Of an operation that Encode
// refuses it hashes the layout as it is; no valid operation has that
// hash.)
func (op *GroupOp) Hash() [32]byte {
	return sha256.Sum256(append([]byte(labelG1Op), op.encode()...))
}

// checkShape checks what an encoding can say on its own.
func (op *GroupOp) checkShape() error {
	checkName := func() error {
		if len(op.Name) == 0 || len(op.Name) > MaxGroupName || !utf8.ValidString(op.Name) {
			return fmt.Errorf("%w: group name of %d bytes (1…%d of UTF-8)", ErrMalformed, len(op.Name), MaxGroupName)
		}
		return nil
	}
	var zero [32]byte
	switch op.Kind {
	case OpCreate:
		switch {
		case op.Epoch != 0 || op.Prev != zero:
			return fmt.Errorf("%w: create with a parent", ErrMalformed)
		case DeriveGroupID(op.Proposer, op.Nonce) != op.Group:
			return fmt.Errorf("%w: group id is not the creator's", ErrMalformed)
		case len(op.Members) > MaxGroupMembers-1:
			return fmt.Errorf("%w: %d first members, at most %d", ErrMalformed, len(op.Members), MaxGroupMembers-1)
		}
		for i, m := range op.Members {
			if m == op.Proposer || (i > 0 && !op.Members[i-1].less(m)) {
				return fmt.Errorf("%w: first members not strictly increasing or the creator among them", ErrMalformed)
			}
		}
		return checkName()
	case OpAdd, OpRemove, OpLeave, OpRename, OpAdmin:
		if op.Epoch == 0 {
			return fmt.Errorf("%w: %v in epoch 0", ErrMalformed, op.Kind)
		}
		if op.Kind == OpRename {
			return checkName()
		}
		return nil
	}
	return fmt.Errorf("%w: operation kind %d", ErrMalformed, op.Kind)
}

// ParseGroupOp parses an operation's encoding: exactly one, no bytes
// after it. It checks the shape, not the authority (GroupState.Apply).
func ParseGroupOp(b []byte) (GroupOp, error) {
	if len(b) < opHeadSize {
		return GroupOp{}, fmt.Errorf("%w: group operation of %d bytes", ErrTruncated, len(b))
	}
	op := GroupOp{Kind: OpKind(b[0])}
	copy(op.Group[:], b[1:])
	copy(op.Proposer[:], b[17:])
	op.Epoch = binary.BigEndian.Uint32(b[49:])
	copy(op.Prev[:], b[53:])
	rest := b[opHeadSize:]
	short := fmt.Errorf("%w: %v operation", ErrTruncated, op.Kind)
	name := func() bool {
		if len(rest) < 1 || len(rest) < 1+int(rest[0]) {
			return false
		}
		op.Name, rest = string(rest[1:1+int(rest[0])]), rest[1+int(rest[0]):]
		return true
	}
	switch op.Kind {
	case OpCreate:
		if len(rest) < 16 {
			return GroupOp{}, short
		}
		copy(op.Nonce[:], rest)
		rest = rest[16:]
		if !name() || len(rest) < 2 {
			return GroupOp{}, short
		}
		count := int(binary.BigEndian.Uint16(rest))
		rest = rest[2:]
		if count > MaxGroupMembers-1 || len(rest) < 32*count {
			return GroupOp{}, fmt.Errorf("%w: %d first members in %d bytes", ErrMalformed, count, len(rest))
		}
		op.Members = make([]MemberID, count)
		for i := range op.Members {
			copy(op.Members[i][:], rest[32*i:])
		}
		rest = rest[32*count:]
	case OpAdd, OpRemove, OpAdmin:
		if len(rest) < 32 {
			return GroupOp{}, short
		}
		copy(op.Member[:], rest)
		rest = rest[32:]
	case OpRename:
		if !name() {
			return GroupOp{}, short
		}
	}
	if err := op.checkShape(); err != nil {
		return GroupOp{}, err
	}
	if len(rest) != 0 {
		return GroupOp{}, fmt.Errorf("%w: %d bytes after a %v operation", ErrMalformed, len(rest), op.Kind)
	}
	return op, nil
}

// NewCreateOp is the first operation of a new group: creator makes it
// with a 16-byte nonce (random), a name and the first members (in any
// order; they are sorted, and the creator and duplicates dropped).
func NewCreateOp(creator MemberID, nonce [16]byte, name string, members []MemberID) (GroupOp, error) {
	ms := slices.Clone(members)
	ms = slices.DeleteFunc(ms, func(m MemberID) bool { return m == creator })
	slices.SortFunc(ms, func(a, b MemberID) int { return bytes.Compare(a[:], b[:]) })
	ms = slices.Compact(ms)
	op := GroupOp{Kind: OpCreate, Group: DeriveGroupID(creator, nonce), Proposer: creator, Nonce: nonce, Name: name, Members: ms}
	if err := op.checkShape(); err != nil {
		return GroupOp{}, err
	}
	return op, nil
}
