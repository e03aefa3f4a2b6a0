package wire

import (
	"bytes"
	"errors"
	"slices"
	"testing"
)

// the restored ones seal and open as the originals would.
func TestGroupStoredState(t *testing.T) {
	ms := newGroup(t, "alice", "bob")
	a, b := ms[0], ms[1]
	a.send("1")
	f2 := a.send("2")
	c := b.chains[chainID{a.id, 0}]
	c, _, _, err := c.Open(f2) // 1 is now a skipped key
	if err != nil {
		t.Fatal(err)
	}
	k, err := UnmarshalSenderKey(a.key.Marshal())
	if err != nil || !bytes.Equal(k.Marshal(), a.key.Marshal()) {
		t.Fatalf("UnmarshalSenderKey: %v", err)
	}
	rc, err := UnmarshalReceiverChain(c.Marshal())
	if err != nil || !bytes.Equal(rc.Marshal(), c.Marshal()) || len(rc.skipped) != 1 {
		t.Fatalf("UnmarshalReceiverChain: %v", err)
	}
	a.key = k
	b.chains[chainID{a.id, 0}] = rc
	a.send("3")
	b.read(a.publish())
	if got := b.texts(a); !slices.Equal(got, []string{"1", "3"}) || len(b.errs) != 0 {
		t.Errorf("restored bob reads %q (%v)", got, b.errs)
	}
	if _, err := UnmarshalReceiverChain(append(rc.Marshal(), 0)); !errors.Is(err, ErrMalformed) {
		t.Errorf("a stored chain with a byte after it: %v", err)
	}
	if len(k.Marshal()) != senderKeySize {
		t.Errorf("a stored sender key is %d bytes", len(k.Marshal()))
	}
}

// has not sealed.
func TestGroupSenderKeyBehind(t *testing.T) {
	ms := newGroup(t, "alice", "bob")
	a := ms[0]
	stored := a.key.Marshal()
	a.send("1")
	restored, err := UnmarshalSenderKey(stored)
	if err != nil {
		t.Fatal(err)
	}
	if a.key.Behind(GroupAck{Member: a.id, N: 1}) || !restored.Behind(GroupAck{Member: a.id, N: 1}) {
		t.Error("Behind misjudges an ack of message 1")
	}
	if restored.Behind(GroupAck{Member: ms[1].id, N: 5}) {
		t.Error("an ack of another member makes the key behind")
	}
}

// grant does not; a rotated key does not again.
func TestGroupNeedsRotation(t *testing.T) {
	ms := newGroup(t, "alice", "bob", "carol")
	a, c := ms[0], ms[2]
	steps := []struct {
		kind OpKind
		whom MemberID
		name string
		want bool
	}{
		{OpRename, MemberID{}, "new", false},
		{OpAdmin, ms[1].id, "", false},
		{OpAdd, memberID("dave"), "", true},
		{OpRemove, c.id, "", true},
	}
	for _, s := range steps {
		if _, err := a.propose(s.kind, s.whom, s.name); err != nil {
			t.Fatal(err)
		}
		if got := a.key.NeedsRotation(a.st); got != s.want {
			t.Errorf("after %v: NeedsRotation = %v, want %v", s.kind, got, s.want)
		}
		if s.want {
			a.rotate()
			if a.key.NeedsRotation(a.st) {
				t.Errorf("after %v and a rotation: NeedsRotation", s.kind)
			}
		}
	}
}
