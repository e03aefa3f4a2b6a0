package wire

import (
	"encoding/binary"
	"errors"
	"maps"
	"slices"
	"testing"
)

// framesOf opens records with the writer's own header key, as an
// omniscient attacker would, to hand their sealed frames to the attacker
// under test: the tests then do not depend on the header key alone.
func framesOf(t testing.TB, k *SenderKey, recs []gRecord) []GroupFrame {
	t.Helper()
	var out []GroupFrame
	for _, r := range recs {
		p, ok := v2OpenAEAD(&k.hk, r.payload[1:], groupSlotAD(k.group, k.self, r.epoch, r.slot, r.seq))
		if !ok {
			t.Fatal("cannot open the writer's own record")
		}
		count, acks := int(binary.BigEndian.Uint16(p[18:])), int(p[20])
		rest := p[groupFixedSize+groupAckSize*acks:]
		for range count {
			n, size := binary.BigEndian.Uint64(rest), int(binary.BigEndian.Uint16(rest[8:]))
			out = append(out, GroupFrame{Epoch: r.epoch, N: n, Sealed: rest[groupFrameHead : groupFrameHead+size]})
			rest = rest[groupFrameHead+size:]
		}
	}
	return out
}

// sendAll has each member send text with its name and publish; it returns
// the records and, opened by framesOf, their frames.
func sendAll(t *testing.T, text string, ms ...*gMember) ([]gRecord, []GroupFrame) {
	var recs []gRecord
	var frames []GroupFrame
	for _, m := range ms {
		m.send(text + ", from " + m.name)
		r := m.publish()
		recs, frames = append(recs, r...), append(frames, framesOf(t, m.key, r)...)
	}
	return recs, frames
}

// tryAll has every chain of a member's full state try every record (as
// fetched, whatever its name) and every frame (relabelled to the chain's
// epoch, and at its own): it returns how many opened.
func tryAll(chains map[chainID]*ReceiverChain, recs []gRecord, frames []GroupFrame) int {
	opened := 0
	for _, c := range chains {
		for _, r := range recs {
			if _, s, err := c.DecodeSlot(r.slot, r.seq, r.payload); err == nil {
				opened += len(s.Messages) + 1
			}
		}
		for _, f := range frames {
			for _, e := range []uint32{f.Epoch, c.epoch} {
				if _, _, ok, err := c.Open(GroupFrame{Epoch: e, N: f.N, Sealed: f.Sealed}); err == nil && ok {
					opened++
				}
			}
		}
	}
	return opened
}

// A removed member, with its whole state (every chain it ever received,
// its own key, the log), opens nothing that the others send after they
// rotated; the control: the same attack opens what was sent before.
func TestGroupRemovedMemberCannotRead(t *testing.T) {
	ms := newGroup(t, "alice", "bob", "carol", "dave")
	a, b, c, d := ms[0], ms[1], ms[2], ms[3]
	before, beforeFrames := sendAll(t, "before", ms[:3]...)
	if _, err := a.propose(OpRemove, d.id, ""); err != nil {
		t.Fatal(err)
	}
	removal := a.publish()
	stillMember := d.st // the state in which dave is a member
	for _, m := range ms[1:] {
		m.read(before)
		m.read(removal)
	}
	if _, _, err := d.key.Rotate(d.rand, d.st); !errors.Is(err, ErrGroupUnauthorized) {
		t.Errorf("the removed member makes a new sender key: %v", err)
	}
	if d.st.IsMember(d.id) || !sameGroupState(b.st, a.st) || !sameGroupState(c.st, a.st) {
		t.Fatal("the removal did not converge")
	}
	rotateAll(t, a, b, c)
	after, afterFrames := sendAll(t, "after", ms[:3]...)
	stolen := maps.Clone(d.chains)
	if n := tryAll(stolen, after, afterFrames); n != 0 {
		t.Fatalf("the removed member opened %d records or messages sent after the removal", n)
	}
	if n := tryAll(stolen, before, beforeFrames); n == 0 {
		t.Fatal("control: the attack opens nothing sent before the removal either")
	}
	// The others read each other; the removed member's new key is refused.
	b.read(after)
	if got := b.texts(c); got[len(got)-1] != "after, from carol" {
		t.Errorf("bob reads carol after the removal: %q", got)
	}
	// What the removed member still writes in its old epoch is not read:
	// its chains went with its removal.
	had := len(b.texts(d))
	d.send("still here")
	b.read(d.publish())
	if got := b.texts(d); len(got) != had {
		t.Errorf("bob reads the removed member after its removal: %q", got[had:])
	}
	_, dist, err := d.key.Rotate(d.rand, stillMember) // as if it had not read its removal
	if err != nil {
		t.Fatal(err)
	}
	if err := b.receive(d, dist.Body()); !errors.Is(err, ErrGroupUnauthorized) {
		t.Errorf("bob takes the removed member's new distribution: %v", err)
	}
}

// A member added later, with its whole state, opens nothing sent before
// it joined; the control: it opens what is sent after.
func TestGroupLaterMemberCannotReadEarlier(t *testing.T) {
	ms := newGroup(t, "alice", "bob", "carol")
	a := ms[0]
	early, earlyFrames := sendAll(t, "early", ms...)
	e := newGMember(t, "erin")
	if _, err := a.propose(OpAdd, e.id, ""); err != nil {
		t.Fatal(err)
	}
	add := a.publish()
	for _, m := range ms[1:] {
		m.read(early)
		m.read(add)
	}
	e.welcome(a)
	all := append(slices.Clone(ms), e)
	rotateAll(t, all...)
	if n := tryAll(e.chains, early, earlyFrames); n != 0 {
		t.Fatalf("the new member opened %d records or messages sent before it joined", n)
	}
	late, lateFrames := sendAll(t, "late", ms...)
	if n := tryAll(maps.Clone(e.chains), late, lateFrames); n == 0 {
		t.Fatal("control: the new member opens nothing sent after it joined")
	}
	e.read(late)
	if got := e.texts(ms[1]); !slices.Equal(got, []string{"late, from bob"}) {
		t.Errorf("erin reads bob: %q", got)
	}
}

// A plain member's remove, sealed in its own chain and published, is
// rejected by every reader: the member stays, all states agree.
func TestGroupUnauthorizedRemoveRejected(t *testing.T) {
	ms := newGroup(t, "alice", "bob", "carol")
	a, b, c := ms[0], ms[1], ms[2]
	head, epoch := c.st.Head()
	op := GroupOp{Kind: OpRemove, Group: c.st.ID(), Proposer: c.id, Epoch: epoch + 1, Prev: head, Member: b.id}
	if _, err := c.st.Apply(op); !errors.Is(err, ErrGroupUnauthorized) {
		t.Fatalf("Apply(carol removes bob) = %v", err)
	}
	if _, err := c.st.NewOp(OpRemove, c.id, b.id, ""); !errors.Is(err, ErrGroupUnauthorized) {
		t.Fatalf("NewOp(carol removes bob) = %v", err)
	}
	k, f, err := c.key.SealOp(c.rand, gSentAt, op)
	if err != nil {
		t.Fatal(err)
	}
	c.key, c.outbox = k, append(c.outbox, f)
	recs := c.publish()
	for _, m := range []*gMember{a, b} {
		msgs := m.read(recs)
		if len(msgs) != 1 || msgs[0].Kind != GroupOpKind {
			t.Fatalf("%s did not receive the operation: %v", m.name, m.errs)
		}
		if !m.st.IsMember(b.id) {
			t.Errorf("%s applied carol's removal of bob", m.name)
		}
		if _, skipped := Converge(m.log); len(skipped) != 1 || skipped[0].Hash() != op.Hash() {
			t.Errorf("%s: Converge skipped %d operations, want carol's", m.name, len(skipped))
		}
	}
	if !sameGroupState(a.st, b.st) {
		t.Error("alice and bob disagree")
	}
}

// Two admins change the membership at once (alice removes dave, bob
// removes carol and renames); a member offline during it reads the
// records in the other order; all converge on one state.
func TestGroupConcurrentAdminsConverge(t *testing.T) {
	ms := newGroup(t, "alice", "bob", "carol", "dave", "erin")
	a, b, c, d, e := ms[0], ms[1], ms[2], ms[3], ms[4]
	if _, err := a.propose(OpAdmin, b.id, ""); err != nil {
		t.Fatal(err)
	}
	grant := a.publish()
	for _, m := range ms[1:] {
		m.read(grant)
	}
	// Concurrently: neither has read the other's.
	if _, err := a.propose(OpRemove, d.id, ""); err != nil {
		t.Fatal(err)
	}
	if _, err := b.propose(OpRemove, c.id, ""); err != nil {
		t.Fatal(err)
	}
	if _, err := b.propose(OpRename, MemberID{}, "bob's"); err != nil {
		t.Fatal(err)
	}
	ra, rb := a.publish(), b.publish()
	a.read(rb)
	b.read(ra)
	c.read(append(slices.Clone(ra), rb...))
	d.read(append(slices.Clone(rb), ra...))
	e.read(rb) // erin reads bob's first, then later alice's
	e.read(ra)
	for _, m := range ms[1:] {
		if !sameGroupState(m.st, a.st) {
			t.Errorf("%s: %v %q, alice: %v %q", m.name, m.st.Members(), m.st.Name(), a.st.Members(), a.st.Name())
		}
	}
	if a.st.IsMember(c.id) || a.st.IsMember(d.id) || a.st.Name() != "bob's" || len(a.st.Members()) != 3 {
		t.Errorf("converged to %v %q, want alice, bob, erin in \"bob's\"", a.st.Members(), a.st.Name())
	}
}

// A non-member who knows the group id, a member's id and its names
// cannot make a record or a message that a member opens, nor have a
// distribution taken; a member cannot send an operation as another.
func TestGroupNonMemberCannotForge(t *testing.T) {
	ms := newGroup(t, "alice", "bob")
	a, b := ms[0], ms[1]
	mallory := newGMember(t, "mallory")
	// Mallory's own key, claiming to be alice's epoch 0.
	fake, _, err := NewSenderKey(mallory.rand, a.st, a.id) // she even knows the member list
	if err != nil {
		t.Fatal(err)
	}
	fake, f, err := fake.SealText(mallory.rand, gSentAt, "I am alice")
	if err != nil {
		t.Fatal(err)
	}
	p, err := fake.EncodeSlot(mallory.rand, GroupSlotHeader{SlotsUsed: 1, Seq: 99, MaxN: 1}, []GroupFrame{f})
	if err != nil {
		t.Fatal(err)
	}
	chain := b.chains[chainID{a.id, 0}]
	if _, _, err := chain.DecodeSlot(0, 99, p); !errors.Is(err, ErrDecrypt) {
		t.Errorf("bob decodes mallory's record as alice's: %v", err)
	}
	if _, _, _, err := chain.Open(f); !errors.Is(err, ErrDecrypt) {
		t.Errorf("bob opens mallory's message as alice's: %v", err)
	}
	// Her distributions: as alice's, or as her own.
	_, asAlice, err := NewSenderKey(mallory.rand, a.st, a.id)
	if err != nil {
		t.Fatal(err)
	}
	if err := b.receive(mallory, asAlice.Body()); !errors.Is(err, ErrMalformed) {
		t.Errorf("bob takes alice's distribution from mallory: %v", err)
	}
	mine := a.st.clone() // a state of her own making, in which she is a member
	mine.members[mallory.id] = RoleMember
	_, own, err := NewSenderKey(mallory.rand, mine, mallory.id)
	if err != nil {
		t.Fatal(err)
	}
	if err := b.receive(mallory, own.Body()); !errors.Is(err, ErrGroupUnauthorized) {
		t.Errorf("bob takes a non-member's distribution: %v", err)
	}
	// Bob, a member, seals in his own chain an operation proposed as alice.
	op, err := a.st.NewOp(OpRename, a.id, MemberID{}, "bob's now")
	if err != nil {
		t.Fatal(err)
	}
	if _, _, err := b.key.SealOp(b.rand, gSentAt, op); err == nil {
		t.Error("SealOp seals another member's operation")
	}
	enc, _ := op.Encode()
	k, f2, err := b.key.seal(b.rand, gSentAt, GroupOpKind, enc)
	if err != nil {
		t.Fatal(err)
	}
	b.key, b.outbox = k, append(b.outbox, f2)
	a.read(b.publish())
	if len(a.errs) != 1 || !errors.Is(a.errs[0], ErrMalformed) || a.st.Name() != "friends" {
		t.Errorf("alice reads bob's operation as hers: %v, name %q", a.errs, a.st.Name())
	}
}

// An admin removes a member while the creator, who has not seen it, adds
// a new one: the adder's welcome lacks the removal, sealed in a chain the
// new member never gets; the welcomes of every member (§24.3) bring it,
// and the new member converges with the others.
func TestGroupNewMemberGetsConcurrentOps(t *testing.T) {
	ms := newGroup(t, "alice", "bob", "carol", "dave")
	a, b, c, d := ms[0], ms[1], ms[2], ms[3]
	if _, err := a.propose(OpAdmin, b.id, ""); err != nil {
		t.Fatal(err)
	}
	grant := a.publish()
	for _, m := range ms[1:] {
		m.read(grant)
	}
	e := newGMember(t, "erin")
	if _, err := a.propose(OpAdd, e.id, ""); err != nil {
		t.Fatal(err)
	}
	if _, err := b.propose(OpRemove, d.id, ""); err != nil {
		t.Fatal(err)
	}
	e.welcome(a) // alice has not read bob's removal yet
	if !e.st.IsMember(d.id) {
		t.Fatal("the adder's welcome already has the removal")
	}
	ra, rb := a.publish(), b.publish()
	a.read(rb)
	b.read(ra)
	c.read(append(ra, rb...))
	for _, m := range []*gMember{a, b, c} {
		e.welcome(m)
	}
	for _, m := range []*gMember{b, c} {
		if !sameGroupState(m.st, a.st) {
			t.Fatalf("%s disagrees with alice", m.name)
		}
	}
	if !sameGroupState(e.st, a.st) || e.st.IsMember(d.id) || !e.st.IsMember(e.id) {
		t.Errorf("erin: %v, alice: %v", e.st.Members(), a.st.Members())
	}
}

// An admin who has rotated for a head cannot send an operation made on
// an older head (to sort before changes it has seen): readers see it is
// backdated. An operation on its current head is not.
func TestGroupBackdatedOpRefused(t *testing.T) {
	ms := newGroup(t, "alice", "bob", "carol", "dave")
	a, b, c := ms[0], ms[1], ms[2]
	if _, err := a.propose(OpAdmin, b.id, ""); err != nil {
		t.Fatal(err)
	}
	early, _ := Converge(a.log) // the state after the grant, before the removal of dave
	if _, err := a.propose(OpRemove, ms[3].id, ""); err != nil {
		t.Fatal(err)
	}
	for _, m := range ms[1:3] {
		m.read(a.publish())
	}
	rotateAll(t, a, b, c) // bob's new epoch names the head after the removal
	// Bob makes an op on the head before the removal (epoch 2, sorting
	// before the removal of epoch 2 or not) and one on his current head.
	old, err := early.NewOp(OpRename, b.id, MemberID{}, "backdated")
	if err != nil {
		t.Fatal(err)
	}
	k, f1, err := b.key.SealOp(b.rand, gSentAt, old)
	if err != nil {
		t.Fatal(err)
	}
	b.key, b.outbox = k, append(b.outbox, f1)
	if _, err := b.propose(OpRename, MemberID{}, "current"); err != nil {
		t.Fatal(err)
	}
	chain := c.chains[chainID{b.id, b.key.Epoch()}]
	frames := framesOf(t, b.key, b.publish())
	var verdicts []bool
	for _, f := range frames {
		next, m, ok, err := chain.Open(f)
		if err != nil || !ok || m.Kind != GroupOpKind {
			t.Fatalf("carol opens bob's operation: %v %v", ok, err)
		}
		chain = next
		backdated, known := c.st.Backdated(m.Op, m.Head)
		if !known {
			t.Fatal("carol does not know the head of bob's epoch")
		}
		verdicts = append(verdicts, backdated)
	}
	if !slices.Equal(verdicts, []bool{true, false}) {
		t.Errorf("backdated verdicts %v, want the old one only", verdicts)
	}
}
