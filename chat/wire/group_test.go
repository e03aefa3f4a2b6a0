package wire

import (
	"bytes"
	"errors"
	"fmt"
	"slices"
	"strings"
	"testing"
)

// Four members each write; every other reads each message exactly once,
// in its sender's order; a record read again gives duplicates only.
func TestGroupRoundTrip(t *testing.T) {
	ms := newGroup(t, "alice", "bob", "carol", "dave")
	var recs []gRecord
	for round := range 3 {
		for _, m := range ms {
			m.send(fmt.Sprintf("%s %d", m.name, round))
		}
	}
	for _, m := range ms {
		recs = append(recs, m.publish()...)
	}
	for _, r := range ms {
		r.read(recs)
		r.read(recs) // again: nothing new
		for _, s := range ms {
			if s == r {
				continue
			}
			want := []string{s.name + " 0", s.name + " 1", s.name + " 2"}
			if got := r.texts(s); !slices.Equal(got, want) {
				t.Errorf("%s reads %s: %q, want %q", r.name, s.name, got, want)
			}
		}
		if len(r.errs) != 0 {
			t.Errorf("%s: %v", r.name, r.errs)
		}
	}
}

// A backlog over several slots arrives whole, whatever order the slots
// are read in, and a sender's numbers continue across its epochs.
func TestGroupBacklogAcrossSlots(t *testing.T) {
	ms := newGroup(t, "alice", "bob")
	a, b := ms[0], ms[1]
	big := strings.Repeat("x", 3000)
	for i := range 20 {
		a.send(fmt.Sprint(i, big))
	}
	recs := a.publish()
	if len(recs) < 3 {
		t.Fatalf("%d records for 20 messages of 3 kB", len(recs))
	}
	slices.Reverse(recs)
	b.read(recs)
	if got := len(b.texts(a)); got != 20 || len(b.errs) != 0 {
		t.Fatalf("bob read %d of 20 (%v)", got, b.errs)
	}
	rotateAll(t, a, b)
	if f := a.send("after"); f.N != 21 || f.Epoch != 1 {
		t.Errorf("first message of epoch 1 is %d of epoch %d, want 21 of 1", f.N, f.Epoch)
	}
	b.read(a.publish())
	if got := b.texts(a); got[len(got)-1] != "after" {
		t.Errorf("bob's last of alice: %q", got[len(got)-1])
	}
}

// Every kind of operation encodes to one encoding and parses back.
func TestGroupOpEncoding(t *testing.T) {
	alice, bob := memberID("alice"), memberID("bob")
	create, err := NewCreateOp(alice, [16]byte{1}, "friends", []MemberID{bob, alice, bob})
	if err != nil {
		t.Fatal(err)
	}
	if len(create.Members) != 1 {
		t.Errorf("create's members %v, want bob alone", create.Members)
	}
	s, err := NewGroupState().Apply(create)
	if err != nil {
		t.Fatal(err)
	}
	ops := []GroupOp{create}
	for _, k := range []OpKind{OpAdd, OpRemove, OpLeave, OpRename, OpAdmin} {
		op := GroupOp{Kind: k, Group: s.ID(), Proposer: alice, Epoch: 1, Prev: create.Hash(), Member: bob}
		if k == OpRename {
			op.Member, op.Name = MemberID{}, "new name"
		}
		if k == OpLeave {
			op.Member = MemberID{}
		}
		ops = append(ops, op)
	}
	for _, op := range ops {
		b, err := op.Encode()
		if err != nil {
			t.Fatalf("%v: %v", op.Kind, err)
		}
		got, err := ParseGroupOp(b)
		if err != nil {
			t.Fatalf("ParseGroupOp(%v) = %v", op.Kind, err)
		}
		if got.Hash() != op.Hash() {
			t.Errorf("%v does not parse back to itself", op.Kind)
		}
		if _, err := ParseGroupOp(append(b, 0)); !errors.Is(err, ErrMalformed) {
			t.Errorf("%v with a byte after it: %v", op.Kind, err)
		}
		if _, err := ParseGroupOp(b[:len(b)-1]); err == nil {
			t.Errorf("%v cut short parses", op.Kind)
		}
	}
	bad := create
	bad.Nonce[0]++ // the group id is no longer the creator's
	if _, err := bad.Encode(); !errors.Is(err, ErrMalformed) {
		t.Errorf("create with a foreign group id: %v", err)
	}
}

// The rule of who may make which change, one case each.
func TestGroupAuthorization(t *testing.T) {
	alice, bob, carol, dave, erin := memberID("alice"), memberID("bob"), memberID("carol"), memberID("dave"), memberID("erin")
	create, _ := NewCreateOp(alice, [16]byte{}, "g", []MemberID{bob, carol, dave})
	base, err := NewGroupState().Apply(create)
	if err != nil {
		t.Fatal(err)
	}
	// bob becomes an admin.
	op, err := base.NewOp(OpAdmin, alice, bob, "")
	if err != nil {
		t.Fatal(err)
	}
	base, _ = base.Apply(op)
	tests := []struct {
		name     string
		kind     OpKind
		by, whom MemberID
		want     error
	}{
		{"member adds", OpAdd, carol, erin, ErrGroupUnauthorized},
		{"member removes", OpRemove, carol, dave, ErrGroupUnauthorized},
		{"member renames", OpRename, carol, MemberID{}, ErrGroupUnauthorized},
		{"member makes an admin", OpAdmin, carol, dave, ErrGroupUnauthorized},
		{"non-member leaves", OpLeave, erin, MemberID{}, ErrGroupUnauthorized},
		{"non-member adds", OpAdd, erin, erin, ErrGroupUnauthorized},
		{"admin removes the creator", OpRemove, bob, alice, ErrGroupUnauthorized},
		{"admin removes itself", OpRemove, bob, bob, ErrGroupUnauthorized},
		{"admin adds a member twice", OpAdd, bob, carol, ErrGroupUnauthorized},
		{"admin removes a non-member", OpRemove, bob, erin, ErrGroupUnauthorized},
		{"admin makes an admin an admin", OpAdmin, alice, bob, ErrGroupUnauthorized},
		{"admin adds", OpAdd, bob, erin, nil},
		{"admin removes a member", OpRemove, bob, carol, nil},
		{"admin renames", OpRename, bob, MemberID{}, nil},
		{"member leaves", OpLeave, carol, MemberID{}, nil},
		{"creator removes an admin", OpRemove, alice, bob, nil},
	}
	for _, tt := range tests {
		op := GroupOp{Kind: tt.kind, Group: base.ID(), Proposer: tt.by, Member: tt.whom, Name: "renamed"}
		op.Prev, op.Epoch = base.Head()
		op.Epoch++
		if tt.kind == OpLeave || tt.kind == OpRename {
			op.Member = MemberID{}
		}
		_, err := base.Apply(op)
		if !errors.Is(err, tt.want) || (tt.want == nil) != (err == nil) {
			t.Errorf("%s: Apply = %v, want %v", tt.name, err, tt.want)
		}
	}
	// Only the creator removes an admin: make carol an admin, then bob tries.
	op, _ = base.NewOp(OpAdmin, bob, carol, "")
	s, err := base.Apply(op)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := s.NewOp(OpRemove, bob, carol, ""); !errors.Is(err, ErrGroupUnauthorized) {
		t.Errorf("admin removes an admin: %v", err)
	}
	// An operation whose parent is not applied waits.
	orphan := GroupOp{Kind: OpLeave, Group: base.ID(), Proposer: carol, Epoch: 7, Prev: [32]byte{9}}
	if _, err := base.Apply(orphan); !errors.Is(err, ErrGroupOrder) {
		t.Errorf("orphan: %v", err)
	}
	// Another group's operation.
	other, _ := NewCreateOp(erin, [16]byte{}, "other", nil)
	foreign := GroupOp{Kind: OpLeave, Group: other.Group, Proposer: carol, Epoch: 1, Prev: create.Hash()}
	if _, err := base.Apply(foreign); !errors.Is(err, ErrGroupUnauthorized) {
		t.Errorf("foreign group: %v", err)
	}
}

// Converge gives one state for every order of the same operations, and
// the same as applying them one by one in the canonical order.
func TestGroupConvergeOrderFree(t *testing.T) {
	alice, bob, carol, dave, erin := memberID("alice"), memberID("bob"), memberID("carol"), memberID("dave"), memberID("erin")
	create, _ := NewCreateOp(alice, [16]byte{3}, "g", []MemberID{bob, carol, dave})
	s0, _ := NewGroupState().Apply(create)
	grant, _ := s0.NewOp(OpAdmin, alice, bob, "")
	s1, _ := s0.Apply(grant)
	// Concurrent on s1: alice removes bob, bob removes carol, bob adds
	// erin, carol renames (unauthorized), dave leaves.
	var ops []GroupOp
	for _, p := range []struct {
		k        OpKind
		by, whom MemberID
		name     string
	}{{OpRemove, alice, bob, ""}, {OpRemove, bob, carol, ""}, {OpAdd, bob, erin, ""}, {OpLeave, dave, MemberID{}, ""}} {
		op, err := s1.NewOp(p.k, p.by, p.whom, p.name)
		if err != nil {
			t.Fatal(err)
		}
		ops = append(ops, op)
	}
	rename := GroupOp{Kind: OpRename, Group: s1.ID(), Proposer: carol, Epoch: 2, Prev: grant.Hash(), Name: "mine"}
	ops = append(ops, rename)
	all := append([]GroupOp{create, grant}, ops...)
	want, _ := Converge(all)
	perm := slices.Clone(all)
	for i := range 200 {
		r := newDetRand(fmt.Sprint("perm ", i))
		for j := len(perm) - 1; j > 0; j-- {
			var b [1]byte
			r.Read(b[:])
			k := int(b[0]) % (j + 1)
			perm[j], perm[k] = perm[k], perm[j]
		}
		got, _ := Converge(append(perm, perm[0])) // a duplicate too
		if !sameGroupState(got, want) {
			t.Fatalf("order %d converges to %v, want %v", i, got.Members(), want.Members())
		}
	}
	if want.IsMember(dave) || want.Name() != "g" {
		t.Errorf("dave's leave or carol's rename: members %v, name %q", want.Members(), want.Name())
	}
	// Whichever of alice's removal of bob and bob's ops sorts first
	// decides: bob's ops apply only if they sort before his removal.
	rm := ops[0].Hash()
	for _, op := range ops[1:3] {
		h := op.Hash()
		before := bytes.Compare(h[:], rm[:]) < 0
		applied := want.IsMember(erin)
		if op.Kind == OpRemove {
			applied = !want.IsMember(carol)
		}
		if applied != before {
			t.Errorf("bob's %v applied = %v, sorts before his removal = %v", op.Kind, applied, before)
		}
	}
}

// sameGroupState compares what members can see of two states.
func sameGroupState(a, b *GroupState) bool {
	if a == nil || b == nil {
		return a == b
	}
	ha, ea := a.Head()
	hb, eb := b.Head()
	if a.ID() != b.ID() || a.Name() != b.Name() || ha != hb || ea != eb || !slices.Equal(a.Members(), b.Members()) {
		return false
	}
	for _, m := range a.Members() {
		if a.Role(m) != b.Role(m) {
			return false
		}
	}
	return true
}

// A distribution and a welcome survive their bodies; text is not a
// control body; a distribution relayed by another friend is refused.
func TestGroupControlBodies(t *testing.T) {
	ms := newGroup(t, "alice", "bob", "carol")
	a, b, c := ms[0], ms[1], ms[2]
	body := a.rotate()
	if !IsControlBody(body) || IsControlBody("hello") || IsControlBody("") {
		t.Error("IsControlBody misjudges")
	}
	if _, err := ParseSenderKeyDistribution(body, b.id); !errors.Is(err, ErrMalformed) {
		t.Errorf("alice's distribution from bob: %v", err)
	}
	d, err := ParseSenderKeyDistribution(body, a.id)
	if err != nil || d.Epoch != 1 || d.Sender != a.id || d.Body() != body {
		t.Errorf("ParseSenderKeyDistribution = %v, %v", d, err)
	}
	for _, bad := range []string{body + "A", body[:len(body)-1], strings.Replace(body, "gk1", "gk2", 1), body[:40] + "\n" + body[40:]} {
		if _, err := ParseSenderKeyDistribution(bad, a.id); err == nil {
			t.Errorf("a broken distribution parses: %q…", bad[:20])
		}
	}
	if s := fmt.Sprintf("%v %#v %+v", *a.key, *c.chains[chainID{b.id, 0}], d); strings.Contains(s, "{0x") || !strings.Contains(s, "REDACTED") {
		t.Errorf("secrets format as %s", s)
	}
}

// A distribution and a welcome are ordinary version 2 bodies: sealed in a
// pairwise session, published, read and parsed on the other side.
func TestGroupControlOverV2(t *testing.T) {
	ms := newGroup(t, "alice", "bob")
	a, b := ms[0], ms[1]
	pa, pb := newV2Pair(t, "control")
	welcome, err := WelcomeBodies(a.st.ID(), a.log)
	if err != nil || len(welcome) != 1 {
		t.Fatalf("WelcomeBodies = %d bodies, %v", len(welcome), err)
	}
	pa.send(welcome[0])
	pa.send(a.rotate())
	got := pb.read(pa.publish())
	if len(got) != 2 || !IsControlBody(got[0].Body) || !IsControlBody(got[1].Body) {
		t.Fatalf("bob reads %d bodies", len(got))
	}
	ops, err := assembleBodies([]string{got[0].Body})
	if err != nil || len(ops) != 1 || ops[0].Hash() != a.log[0].Hash() {
		t.Fatalf("the welcome = %d ops, %v", len(ops), err)
	}
	if err := b.receive(a, got[1].Body); err != nil {
		t.Fatal(err)
	}
	a.send("over the new epoch")
	b.read(a.publish())
	if got := b.texts(a); len(got) != 1 || got[0] != "over the new epoch" {
		t.Errorf("bob reads %q", got)
	}
}

// A long log goes in several bodies, each a valid v2 body, reassembled
// in any order and with duplicates; a missing part, a part of another
// welcome or of another group is refused.
func TestGroupWelcomeParts(t *testing.T) {
	alice := memberID("alice")
	var others []MemberID
	for i := range MaxGroupMembers - 1 {
		others = append(others, memberID(fmt.Sprint("m", i)))
	}
	create, err := NewCreateOp(alice, [16]byte{7}, strings.Repeat("n", MaxGroupName), others)
	if err != nil {
		t.Fatal(err)
	}
	s, _ := NewGroupState().Apply(create)
	log := []GroupOp{create}
	for i := range 200 {
		op, err := s.NewOp(OpRename, alice, MemberID{}, fmt.Sprintf("%064d", i))
		if err != nil {
			t.Fatal(err)
		}
		s, _ = s.Apply(op)
		log = append(log, op)
	}
	bodies, err := WelcomeBodies(s.ID(), log)
	if err != nil || len(bodies) < 3 {
		t.Fatalf("WelcomeBodies = %d bodies, %v", len(bodies), err)
	}
	for i, b := range bodies {
		if checkV2Body(b) != nil {
			t.Fatalf("welcome body %d (%d bytes) is not a v2 body", i, len(b))
		}
		p, err := ParseWelcomePart(b)
		if err != nil || p.Body() != b {
			t.Fatalf("ParseWelcomePart(%d) = %v", i, err)
		}
	}
	shuffled := append(slices.Clone(bodies), bodies[1])
	slices.Reverse(shuffled)
	ops, err := assembleBodies(shuffled)
	if err != nil || len(ops) != len(log) {
		t.Fatalf("assembled %d of %d operations: %v", len(ops), len(log), err)
	}
	if st, _ := Converge(ops); !sameGroupState(st, s) {
		t.Error("the assembled log converges elsewhere")
	}
	if _, err := assembleBodies(bodies[1:]); !errors.Is(err, ErrTruncated) {
		t.Errorf("a part missing: %v", err)
	}
	other, _ := WelcomeBodies(s.ID(), log[:len(log)-1])
	if _, err := assembleBodies(append(slices.Clone(bodies[:1]), other[1:]...)); !errors.Is(err, ErrMismatch) {
		t.Errorf("parts of two welcomes: %v", err)
	}
	if _, err := WelcomeBodies(GroupID{1}, log); err == nil {
		t.Error("a welcome to another group's id")
	}
	if _, err := ParseWelcomePart(bodies[0][:len(bodies[0])-4]); !errors.Is(err, ErrMalformed) {
		t.Errorf("a part before the last cut short: %v", err)
	}
}

// Sender keys and chains survive their stored forms mid-conversation:
// A restored sender key is behind once another member acks a message it
// A member offline while three others send 100 messages each catches up
// from the records as they stand at its return, read in any order: every
// message exactly once.
func TestGroupCatchUp(t *testing.T) {
	ms := newGroup(t, "alice", "bob", "carol", "dave")
	var latest []gRecord
	for _, m := range ms[:3] {
		var recs []gRecord
		for i := range 100 {
			m.send(fmt.Sprintf("%s %03d", m.name, i))
			if i%10 == 9 {
				recs = m.publish() // each publish replaces the last
			}
		}
		latest = append(latest, recs...)
	}
	slices.Reverse(latest)
	d := ms[3]
	d.read(latest)
	d.read(latest)
	for _, s := range ms[:3] {
		got := d.texts(s)
		slices.Sort(got)
		if len(got) != 100 || len(slices.Compact(slices.Clone(got))) != 100 || got[0] != s.name+" 000" || got[99] != s.name+" 099" {
			t.Errorf("dave has %d of %s's 100 messages", len(got), s.name)
		}
		seen := map[uint64]bool{}
		for _, m := range d.got[s.id] {
			if seen[m.N] {
				t.Fatalf("message %d of %s opened twice", m.N, s.name)
			}
			seen[m.N] = true
		}
	}
	if len(d.errs) != 0 {
		t.Errorf("dave: %v", d.errs)
	}
}

// A change of the member set calls for a rotation; a rename or an admin
