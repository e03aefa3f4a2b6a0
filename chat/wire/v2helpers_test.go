package wire

import (
	"crypto/sha256"
	"encoding/binary"
	"errors"
	"io"
	"slices"
	"testing"
	"time"
)

// detRand is the random source of the version 2 tests and vectors
// (docs/PROTOCOL.md §16): the concatenation of SHA-256(seed || u64(i)) for
// i = 0, 1, 2, …, simple enough for another implementation to reproduce.
type detRand struct {
	seed []byte
	i    uint64
	buf  []byte
}

func newDetRand(seed string) *detRand { return &detRand{seed: []byte(seed)} }

func (r *detRand) Read(p []byte) (int, error) {
	n := 0
	for n < len(p) {
		if len(r.buf) == 0 {
			h := sha256.Sum256(binary.BigEndian.AppendUint64(append([]byte(nil), r.seed...), r.i))
			r.i++
			r.buf = h[:]
		}
		c := copy(p[n:], r.buf)
		r.buf, n = r.buf[c:], n+c
	}
	return n, nil
}

// v2record is one published record as a recording DHT server keeps it.
type v2record struct {
	dir     Direction
	epoch   uint32
	slot    int
	seq     uint64
	name    [32]byte // the signing key's public key: the record's IPNS name
	payload []byte
}

// v2party is one side of a version 2 conversation in a test: its state,
// its outbox and what it received. It plays the client's part that
// package chat will play: packing, acks, sequence numbers.
type v2party struct {
	t        testing.TB
	st       *RatchetState
	rand     io.Reader
	outbox   []Frame
	got      map[uint64]string // every message received, by number
	received uint64            // the highest n with every 1…n received
	seq      uint64            // one counter for all slots: always increasing
	accepted map[[2]uint64]uint64
}

func newV2Pair(t testing.TB, seed string) (alice, bob *v2party) {
	t.Helper()
	a, b := newParty(t, aliceSecretHex), newParty(t, bobSecretHex)
	mk := func(self, peer party, s string) *v2party {
		st, err := NewRatchetState(newDetRand(s), pairKey(t, self, peer), testChatID, DirectionOf(self.pub, peer.pub))
		if err != nil {
			t.Fatal(err)
		}
		return &v2party{t: t, st: st, rand: newDetRand(s + " ops"), got: map[uint64]string{}, accepted: map[[2]uint64]uint64{}}
	}
	return mk(a, b, seed+" alice"), mk(b, a, seed+" bob")
}

func (p *v2party) send(body string) Frame {
	p.t.Helper()
	st, f, err := p.st.Seal(p.rand, time.UnixMilli(1700000000000), body)
	if err != nil {
		p.t.Fatal(err)
	}
	p.st, p.outbox = st, append(p.outbox, f)
	return f
}

// publish encodes every slot the outbox needs and returns the records.
func (p *v2party) publish() []v2record {
	p.t.Helper()
	slots, err := PackV2(p.outbox)
	if err != nil {
		p.t.Fatal(err)
	}
	var maxN uint64
	if len(p.outbox) > 0 {
		maxN = p.outbox[len(p.outbox)-1].N
	}
	maxN = max(maxN, p.st.NextN()-1)
	var recs []v2record
	for i, frames := range slots {
		p.seq++
		h := V2Header{Slot: i, SlotsUsed: len(slots), Seq: p.seq, Ack: p.received, MaxN: maxN}
		payload, err := p.st.EncodeSlot(p.rand, h, frames)
		if err != nil {
			p.t.Fatal(err)
		}
		recs = append(recs, v2record{dir: p.st.Direction(), epoch: p.st.SendEpoch(), slot: i, seq: p.seq,
			name: [32]byte(p.st.SlotName(i)), payload: payload})
	}
	return recs
}

// read reads the peer's records as a client would: of each watched epoch
// (found by its names), slot 0 first, with the seq check. It returns the
// messages opened, in order of number.
func (p *v2party) read(recs []v2record) []Message {
	p.t.Helper()
	var out []Message
	for _, ordered := range [][]v2record{slot0First(recs)} {
		for _, r := range ordered {
			for _, w := range p.st.Watches() {
				if [32]byte(w.Names[r.slot]) != r.name {
					continue
				}
				key := [2]uint64{uint64(w.Epoch), uint64(r.slot)}
				if r.seq <= p.accepted[key] {
					continue
				}
				st, s, err := p.st.DecodeSlot(p.rand, w.Epoch, r.slot, r.seq, r.payload)
				if errors.Is(err, ErrDecrypt) || errors.Is(err, ErrEpoch) {
					continue // another epoch on the same names
				}
				if err != nil {
					p.t.Fatalf("%v reading slot %d of epoch %d: %v", p.st.Direction(), r.slot, w.Epoch, err)
				}
				p.st, p.accepted[key] = st, r.seq
				p.ack(s.Header.Ack)
				for _, m := range s.Messages {
					if _, dup := p.got[m.N]; dup {
						p.t.Fatalf("message %d opened twice", m.N)
					}
					p.got[m.N] = m.Body
					out = append(out, m)
				}
				for p.got[p.received+1] != "" {
					p.received++
				}
				break
			}
		}
	}
	slices.SortFunc(out, func(a, b Message) int { return int(a.N) - int(b.N) })
	return out
}

func (p *v2party) ack(n uint64) {
	p.outbox = slices.DeleteFunc(p.outbox, func(f Frame) bool { return f.N <= n })
}

// slot0First orders records so that, as a reader fetches, slot 0 of an
// epoch comes before its other slots, in publishing order otherwise.
func slot0First(recs []v2record) []v2record {
	out := slices.Clone(recs)
	slices.SortStableFunc(out, func(a, b v2record) int {
		if a.epoch != b.epoch {
			return int(a.epoch) - int(b.epoch)
		}
		return a.slot - b.slot
	})
	return out
}

// roundTrip: a sends, publishes, b reads; b answers, publishes, a reads.
func roundTrip(t testing.TB, a, b *v2party, all *[]v2record, text string) {
	t.Helper()
	a.send(text + " from " + a.st.Direction().String())
	ra := a.publish()
	*all = append(*all, ra...)
	b.read(ra)
	b.send(text + " from " + b.st.Direction().String())
	rb := b.publish()
	*all = append(*all, rb...)
	a.read(rb)
}
