package wire

import (
	"bytes"
	"fmt"
	"slices"
	"testing"
	"time"
)

// BenchmarkGroupSealOpen1KB: a sender seals a 1 KB message and a member
// opens it from its chain.
func BenchmarkGroupSealOpen1KB(b *testing.B) {
	ms := newGroup(b, "alice", "bob")
	k, c := ms[0].key, ms[1].chains[chainID{ms[0].id, 0}]
	body := string(make([]byte, 1000))
	b.ReportAllocs()
	var f GroupFrame
	for b.Loop() {
		var err error
		k, f, err = k.SealText(nil, time.UnixMilli(0), body)
		if err != nil {
			b.Fatal(err)
		}
		if c, _, _, err = c.Open(f); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(len(f.Sealed)), "sealed-B")
}

// BenchmarkGroupSlotEncodeDecode: a full slot 0 (80 small messages) with
// the acks of a 50-member group, encoded and decoded once.
func BenchmarkGroupSlotEncodeDecode(b *testing.B) {
	ms := newGroup(b, "alice", "bob")
	a := ms[0]
	for i := range 60 {
		a.send(fmt.Sprint("m", i))
	}
	acks := make([]GroupAck, 49)
	for i := range acks {
		acks[i] = GroupAck{Member: memberID(fmt.Sprintf("%03d", i)), N: 1}
	}
	packed, err := PackGroup(a.outbox, len(acks))
	if err != nil {
		b.Fatal(err)
	}
	slices.SortFunc(acks, func(x, y GroupAck) int { return bytes.Compare(x.Member[:], y.Member[:]) })
	c := ms[1].chains[chainID{a.id, 0}]
	h := GroupSlotHeader{SlotsUsed: len(packed), Seq: 1, MaxN: a.key.NextN() - 1, Acks: acks}
	b.ReportAllocs()
	for b.Loop() {
		p, err := a.key.EncodeSlot(nil, h, packed[0])
		if err != nil {
			b.Fatal(err)
		}
		if _, _, err := c.DecodeSlot(0, 1, p); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkGroupConverge: the log of a 50-member group with 30 changes,
// recomputed from scratch as a member does when an operation arrives out
// of order.
func BenchmarkGroupConverge(b *testing.B) {
	alice := memberID("alice")
	var others []MemberID
	for i := range 49 {
		others = append(others, memberID(fmt.Sprint(i)))
	}
	create, _ := NewCreateOp(alice, [16]byte{}, "big", others)
	s, _ := NewGroupState().Apply(create)
	log := []GroupOp{create}
	for i := range 30 {
		op, err := s.NewOp(OpRemove, alice, others[i], "")
		if err != nil {
			b.Fatal(err)
		}
		s, _ = s.Apply(op)
		log = append(log, op)
	}
	b.ReportAllocs()
	for b.Loop() {
		if st, _ := Converge(log); len(st.Members()) != 20 {
			b.Fatal("wrong state")
		}
	}
}
