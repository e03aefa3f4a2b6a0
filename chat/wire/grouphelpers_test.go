package wire

import (
	"crypto/sha256"
	"errors"
	"fmt"
	"io"
	"testing"
	"time"
)

// gRecord is one published group record as a recording DHT server keeps
// it: the sender, its epoch, the slot, the IPNS sequence number and name.
type gRecord struct {
	sender  MemberID
	epoch   uint32
	slot    int
	seq     uint64
	name    [32]byte
	payload []byte
}

// chainID names a receiving chain: a sender and its epoch.
type chainID struct {
	sender MemberID
	epoch  uint32
}

// gMember is one group member in a test, playing the client's part that
// package chat will play: the log, rotation, distribution, packing.
type gMember struct {
	t      testing.TB
	name   string
	id     MemberID
	rand   io.Reader
	st     *GroupState
	log    []GroupOp
	key    *SenderKey
	outbox []GroupFrame // of the current sender epoch
	chains map[chainID]*ReceiverChain
	got    map[MemberID][]GroupMessage // every message opened, per sender, in order of opening
	seq    uint64
	errs   []error // what read rejected
}

var gSentAt = time.UnixMilli(1700000000000)

func memberID(name string) MemberID { return MemberID(sha256.Sum256([]byte("member " + name))) }

func newGMember(t testing.TB, name string) *gMember {
	return &gMember{t: t, name: name, id: memberID(name), rand: newDetRand("group " + name),
		chains: map[chainID]*ReceiverChain{}, got: map[MemberID][]GroupMessage{}}
}

// create makes the group with the others as first members.
func (m *gMember) create(name string, others ...*gMember) GroupOp {
	m.t.Helper()
	var nonce [16]byte
	m.rand.Read(nonce[:])
	var ids []MemberID
	for _, o := range others {
		ids = append(ids, o.id)
	}
	op, err := NewCreateOp(m.id, nonce, name, ids)
	if err != nil {
		m.t.Fatal(err)
	}
	m.learn(op)
	return op
}

// learn adds an operation to the log and converges; the chains of
// members no longer in the group are dropped (their later records are
// not read).
func (m *gMember) learn(ops ...GroupOp) {
	m.log = append(m.log, ops...)
	st, _ := Converge(m.log)
	m.st = st
	for id := range m.chains {
		if st == nil || !st.IsMember(id.sender) {
			delete(m.chains, id)
		}
	}
}

// welcome gives m a member's log as its welcome body carries it; m
// converges on the union of the welcomes it got.
func (m *gMember) welcome(from *gMember) {
	m.t.Helper()
	bodies, err := WelcomeBodies(from.st.ID(), from.log)
	if err != nil {
		m.t.Fatal(err)
	}
	ops, err := assembleBodies(bodies)
	if err != nil {
		m.t.Fatal(err)
	}
	m.learn(ops...)
	if m.st == nil || !m.st.IsMember(m.id) {
		m.t.Fatalf("%s: not a member after the welcome", m.name)
	}
}

// rotate makes a new sender key for the current head (the first, or the
// next epoch) and returns its distribution body.
func (m *gMember) rotate() string {
	m.t.Helper()
	var d SenderKeyDistribution
	var err error
	if m.key == nil {
		m.key, d, err = NewSenderKey(m.rand, m.st, m.id)
	} else {
		m.key, d, err = m.key.Rotate(m.rand, m.st)
	}
	if err != nil {
		m.t.Fatal(err)
	}
	m.outbox = nil
	return d.Body()
}

// receive takes a pairwise body from a friend: a distribution is kept
// if its sender is a member and it is for this group.
func (m *gMember) receive(from *gMember, body string) error {
	if !IsControlBody(body) {
		return errors.New("not a control body")
	}
	d, err := ParseSenderKeyDistribution(body, from.id)
	if err != nil {
		return err
	}
	if d.Group != m.st.ID() || !m.st.IsMember(d.Sender) {
		return ErrGroupUnauthorized
	}
	m.chains[chainID{d.Sender, d.Epoch}] = NewReceiverChain(d)
	return nil
}

// rotateAll has every member rotate and distribute to every other.
func rotateAll(t testing.TB, ms ...*gMember) {
	t.Helper()
	for _, a := range ms {
		body := a.rotate()
		for _, b := range ms {
			if b != a {
				if err := b.receive(a, body); err != nil {
					t.Fatalf("%s receives %s's distribution: %v", b.name, a.name, err)
				}
			}
		}
	}
}

func (m *gMember) send(text string) GroupFrame {
	m.t.Helper()
	k, f, err := m.key.SealText(m.rand, gSentAt, text)
	if err != nil {
		m.t.Fatal(err)
	}
	m.key, m.outbox = k, append(m.outbox, f)
	return f
}

// propose makes, applies and queues an operation.
func (m *gMember) propose(k OpKind, member MemberID, name string) (GroupOp, error) {
	op, err := m.st.NewOp(k, m.id, member, name)
	if err != nil {
		return GroupOp{}, err
	}
	key, f, err := m.key.SealOp(m.rand, gSentAt, op)
	if err != nil {
		m.t.Fatal(err)
	}
	m.key, m.outbox = key, append(m.outbox, f)
	m.learn(op)
	return op, nil
}

// publish encodes the outbox into records of the current sender epoch.
func (m *gMember) publish() []gRecord {
	m.t.Helper()
	slots, err := PackGroup(m.outbox, 0)
	if err != nil {
		m.t.Fatal(err)
	}
	maxN := m.key.NextN() - 1
	var out []gRecord
	for i, fs := range slots {
		m.seq++
		h := GroupSlotHeader{Slot: i, SlotsUsed: len(slots), Seq: m.seq, MaxN: maxN}
		p, err := m.key.EncodeSlot(m.rand, h, fs)
		if err != nil {
			m.t.Fatal(err)
		}
		out = append(out, gRecord{m.id, m.key.Epoch(), i, m.seq, [32]byte(m.key.SlotName(i)), p})
	}
	return out
}

// read decodes what it has a chain for, under the chain's names, and
// learns the operations; it returns the messages opened.
func (m *gMember) read(recs []gRecord) []GroupMessage {
	var all []GroupMessage
	for _, r := range recs {
		c := m.chains[chainID{r.sender, r.epoch}]
		if c == nil || c.names[r.slot] != r.name {
			continue
		}
		next, s, err := c.DecodeSlot(r.slot, r.seq, r.payload)
		if err != nil {
			m.errs = append(m.errs, err)
			continue
		}
		m.chains[chainID{r.sender, r.epoch}] = next
		for _, msg := range s.Messages {
			m.got[r.sender] = append(m.got[r.sender], msg)
			if msg.Kind == GroupOpKind {
				if backdated, _ := m.st.Backdated(msg.Op, msg.Head); backdated {
					m.errs = append(m.errs, fmt.Errorf("backdated %v", msg.Op.Kind))
					continue
				}
				m.learn(msg.Op)
			}
		}
		all = append(all, s.Messages...)
	}
	return all
}

// texts returns the bodies of sender's text messages m opened.
func (m *gMember) texts(sender *gMember) []string {
	var out []string
	for _, msg := range m.got[sender.id] {
		if msg.Kind == GroupText {
			out = append(out, msg.Body)
		}
	}
	return out
}

// newGroup returns a group of the named members, the first the creator,
// each with a first sender key distributed to all.
func newGroup(t testing.TB, names ...string) []*gMember {
	t.Helper()
	ms := make([]*gMember, len(names))
	for i, n := range names {
		ms[i] = newGMember(t, n)
	}
	ms[0].create("friends", ms[1:]...)
	for _, m := range ms[1:] {
		m.welcome(ms[0])
	}
	rotateAll(t, ms...)
	return ms
}

// assembleBodies parses and assembles the bodies of one welcome.
func assembleBodies(bodies []string) ([]GroupOp, error) {
	var parts []WelcomePart
	for _, b := range bodies {
		p, err := ParseWelcomePart(b)
		if err != nil {
			return nil, err
		}
		parts = append(parts, p)
	}
	return AssembleWelcome(parts)
}
