package wire

import (
	"bytes"
	"crypto/sha256"
	"fmt"
	"maps"
	"slices"
)

// Role is a member's standing in a group.
type Role uint8

// The roles (docs/PROTOCOL.md §25.3).
const (
	RoleMember  Role = 1
	RoleAdmin   Role = 2
	RoleCreator Role = 3 // an admin who cannot be removed, and who may remove admins
)

func (r Role) String() string {
	switch r {
	case RoleMember:
		return "member"
	case RoleAdmin:
		return "admin"
	case RoleCreator:
		return "creator"
	}
	return fmt.Sprintf("role(%d)", uint8(r))
}

// opKey is an operation's place in the canonical order: by epoch, then
// by hash.
type opKey struct {
	epoch uint32
	hash  [32]byte
}

func (a opKey) compare(b opKey) int {
	switch {
	case a.epoch < b.epoch:
		return -1
	case a.epoch > b.epoch:
		return 1
	}
	return bytes.Compare(a.hash[:], b.hash[:])
}

// GroupState is a group's membership as its log gives it: the members
// and their roles, the name, and the operations applied. It is a value:
// Apply returns a new state and leaves its receiver unchanged. The zero
// state (NewGroupState) has no group yet; its first operation is a create.
type GroupState struct {
	id      GroupID
	name    string
	members map[MemberID]Role
	applied map[[32]byte]uint32 // hash → epoch of every applied operation
	last    opKey               // the last applied operation
	started bool
}

// NewGroupState returns the state before a group's create operation.
func NewGroupState() *GroupState { return &GroupState{} }

func (s *GroupState) clone() *GroupState {
	c := *s
	c.members, c.applied = maps.Clone(s.members), maps.Clone(s.applied)
	return &c
}

// ID returns the group id (zero before the create operation).
func (s *GroupState) ID() GroupID { return s.id }

// Name returns the group's name.
func (s *GroupState) Name() string { return s.name }

// Role returns m's role, or 0 if m is not a member.
func (s *GroupState) Role(m MemberID) Role { return s.members[m] }

// IsMember reports whether m is a member.
func (s *GroupState) IsMember(m MemberID) bool { return s.members[m] != 0 }

// Members returns the members in increasing order of their keys.
func (s *GroupState) Members() []MemberID {
	return slices.SortedFunc(maps.Keys(s.members), func(a, b MemberID) int { return bytes.Compare(a[:], b[:]) })
}

// membersDigest identifies the member set (not the roles):
// SHA-256("dhtchat/g1 members" || the member ids in increasing order).
func (s *GroupState) membersDigest() [32]byte {
	h := sha256.New()
	h.Write([]byte(labelG1Members))
	for _, m := range s.Members() {
		h.Write(m[:])
	}
	return [32]byte(h.Sum(nil))
}

// Head returns the hash and epoch of the last operation in the canonical
// order: the parent of the next operation a member proposes, and what
// its sender key distributions name.
func (s *GroupState) Head() ([32]byte, uint32) { return s.last.hash, s.last.epoch }

// NewOp returns an operation of kind k by proposer on the state's head,
// with member (add, remove, admin) or name (rename) as its argument. It
// checks the operation as Apply would.
func (s *GroupState) NewOp(k OpKind, proposer, member MemberID, name string) (GroupOp, error) {
	if !s.started {
		return GroupOp{}, fmt.Errorf("%w: no group yet", ErrGroupOrder)
	}
	op := GroupOp{Kind: k, Group: s.id, Proposer: proposer, Epoch: s.last.epoch + 1, Prev: s.last.hash, Name: name}
	if k == OpAdd || k == OpRemove || k == OpAdmin {
		op.Member = member
	}
	if _, err := s.Apply(op); err != nil {
		return GroupOp{}, err
	}
	return op, nil
}

// Backdated reports whether op, which arrived in a sender epoch made for
// the membership head head (GroupMessage.Head), is older than that head:
// an epoch not above the head's. Its proposer had seen the head when it
// made that sender epoch, so the operation claims a past it had already
// left, to sort before changes it has seen (its own removal, say). A
// reader drops it (docs/PROTOCOL.md §25.4). known is false while the
// state has not applied head: the reader keeps the operation and asks
// again later.
func (s *GroupState) Backdated(op GroupOp, head [32]byte) (backdated, known bool) {
	e, ok := s.applied[head]
	if !ok {
		return false, false
	}
	return op.Epoch <= e, true
}

// Apply applies one operation, made by its Proposer (the member whose
// sender chain it arrived in: ParseGroupMessage checks that), and returns
// the new state (docs/PROTOCOL.md §25.3). It returns an error and no
// state for an operation of another group, one that the proposer may not
// make (ErrGroupUnauthorized), or one that is not next in the canonical
// order (ErrGroupOrder: its parent is not applied, or it sorts before the
// last applied operation; Converge replays the log then).
func (s *GroupState) Apply(op GroupOp) (*GroupState, error) {
	if err := op.checkShape(); err != nil {
		return nil, err
	}
	key := opKey{op.Epoch, op.Hash()}
	if op.Kind == OpCreate {
		if s.started {
			return nil, fmt.Errorf("%w: a second create", ErrGroupUnauthorized)
		}
		c := &GroupState{id: op.Group, name: op.Name, members: map[MemberID]Role{op.Proposer: RoleCreator},
			applied: map[[32]byte]uint32{key.hash: 0}, last: key, started: true}
		for _, m := range op.Members {
			c.members[m] = RoleMember
		}
		return c, nil
	}
	switch pe, ok := s.applied[op.Prev]; {
	case !s.started || op.Group != s.id:
		return nil, fmt.Errorf("%w: operation of group %v in group %v", ErrGroupUnauthorized, op.Group, s.id)
	case !ok || pe+1 != op.Epoch:
		return nil, fmt.Errorf("%w: %v of epoch %d: parent not applied", ErrGroupOrder, op.Kind, op.Epoch)
	case key.compare(s.last) <= 0:
		return nil, fmt.Errorf("%w: %v of epoch %d sorts before the last applied", ErrGroupOrder, op.Kind, op.Epoch)
	}
	if err := s.authorize(op); err != nil {
		return nil, err
	}
	c := s.clone()
	c.applied[key.hash], c.last = op.Epoch, key
	switch op.Kind {
	case OpAdd:
		c.members[op.Member] = RoleMember
	case OpRemove:
		delete(c.members, op.Member)
	case OpLeave:
		delete(c.members, op.Proposer)
	case OpRename:
		c.name = op.Name
	case OpAdmin:
		c.members[op.Member] = RoleAdmin
	}
	return c, nil
}

// authorize is the rule of who may make which change: members may leave;
// admins (and the creator) may add, rename and make admins; admins may
// remove members, and only the creator may remove an admin; nobody may
// remove the creator.
func (s *GroupState) authorize(op GroupOp) error {
	by, target := s.members[op.Proposer], s.members[op.Member]
	deny := func(why string) error {
		return fmt.Errorf("%w: %v by %v: %s", ErrGroupUnauthorized, op.Kind, op.Proposer, why)
	}
	switch {
	case by == 0:
		return deny("not a member")
	case op.Kind == OpLeave:
		return nil
	case by < RoleAdmin:
		return deny("not an admin")
	}
	switch op.Kind {
	case OpAdd:
		if target != 0 {
			return deny("already a member")
		}
		if len(s.members) >= MaxGroupMembers {
			return deny(fmt.Sprintf("the group has %d members", len(s.members)))
		}
	case OpRemove:
		switch {
		case target == 0:
			return deny("not a member")
		case op.Member == op.Proposer:
			return deny("remove oneself (leave instead)")
		case target == RoleCreator:
			return deny("the creator cannot be removed")
		case target == RoleAdmin && by != RoleCreator:
			return deny("only the creator removes an admin")
		}
	case OpAdmin:
		if target != RoleMember {
			return deny("not a plain member")
		}
	}
	return nil
}

// Converge applies a set of operations (in any order, duplicates
// allowed) from the state before the group: sorted by (epoch, hash),
// each applied if it is authorized and its parent was applied, else
// skipped. Every member that has the same operations has the same state,
// whatever order they arrived in (docs/PROTOCOL.md §25.4). It returns
// the state and the operations skipped; the state is nil if no create
// applies.
func Converge(ops []GroupOp) (*GroupState, []GroupOp) {
	type keyed struct {
		key opKey
		op  GroupOp
	}
	var ks []keyed
	seen := map[[32]byte]bool{}
	var skipped []GroupOp
	for _, op := range ops {
		if op.checkShape() != nil {
			skipped = append(skipped, op)
			continue
		}
		h := op.Hash()
		if !seen[h] {
			seen[h] = true
			ks = append(ks, keyed{opKey{op.Epoch, h}, op})
		}
	}
	slices.SortFunc(ks, func(a, b keyed) int { return a.key.compare(b.key) })
	s := NewGroupState()
	for _, k := range ks {
		next, err := s.Apply(k.op)
		if err != nil {
			skipped = append(skipped, k.op)
			continue
		}
		s = next
	}
	if !s.started {
		return nil, skipped
	}
	return s, skipped
}
