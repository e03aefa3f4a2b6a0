package wire

import (
	"bytes"
	"testing"
)

// groupSeeds returns a short group's members and records, for the fuzz
// corpora: alice wrote a text and an operation, bob reads her.
func groupSeeds(t testing.TB) (a, b *gMember, recs []gRecord) {
	ms := newGroup(t, "fuzz alice", "fuzz bob", "fuzz carol")
	a, b = ms[0], ms[1]
	a.send("hello")
	if _, err := a.propose(OpRename, MemberID{}, "renamed"); err != nil {
		t.Fatal(err)
	}
	return a, b, a.publish()
}

// FuzzParseGroupOp: what parses encodes back to the same bytes (one
// encoding per operation), and nothing panics.
func FuzzParseGroupOp(f *testing.F) {
	a, _, _ := groupSeeds(f)
	for _, op := range a.log {
		b, _ := op.Encode()
		f.Add(b)
	}
	f.Add([]byte{byte(OpLeave)})
	f.Fuzz(func(t *testing.T, b []byte) {
		op, err := ParseGroupOp(b)
		if err != nil {
			return
		}
		got, err := op.Encode()
		if err != nil || !bytes.Equal(got, b) {
			t.Fatalf("Encode(ParseGroupOp(b)) = %x, %v; want b", got, err)
		}
		_, _ = Converge([]GroupOp{op})
	})
}

// FuzzParseSenderKeyDistribution: one encoding per distribution.
func FuzzParseSenderKeyDistribution(f *testing.F) {
	a, _, _ := groupSeeds(f)
	k, _, err := a.key.Rotate(a.rand, a.st)
	if err != nil {
		f.Fatal(err)
	}
	d := k.Distribution()
	f.Add(d.Body())
	f.Add(prefixSKD)
	f.Fuzz(func(t *testing.T, body string) {
		got, err := ParseSenderKeyDistribution(body, a.id)
		if err != nil {
			return
		}
		if got.Body() != body {
			t.Fatal("Body(Parse(body)) differs from body")
		}
		_ = NewReceiverChain(got)
	})
}

// FuzzParseWelcomePart: one encoding per welcome part.
func FuzzParseWelcomePart(f *testing.F) {
	a, _, _ := groupSeeds(f)
	bodies, err := WelcomeBodies(a.st.ID(), a.log)
	if err != nil {
		f.Fatal(err)
	}
	f.Add(bodies[0])
	f.Add(prefixWelcome)
	f.Fuzz(func(t *testing.T, body string) {
		p, err := ParseWelcomePart(body)
		if err != nil {
			return
		}
		if p.Body() != body {
			t.Fatal("Body(ParseWelcomePart(body)) differs from body")
		}
		_, _ = AssembleWelcome([]WelcomePart{p})
	})
}

// FuzzWelcomeLog: the assembled log's parser accepts one encoding per
// log (WelcomeBodies makes it again); whatever parses converges without
// a panic.
func FuzzWelcomeLog(f *testing.F) {
	a, _, _ := groupSeeds(f)
	g := a.st.ID()
	bodies, err := WelcomeBodies(g, a.log)
	if err != nil {
		f.Fatal(err)
	}
	p, _ := ParseWelcomePart(bodies[0])
	f.Add(p.chunk)
	f.Add([]byte{0, 0, 0, 0})
	f.Fuzz(func(t *testing.T, log []byte) {
		ops, err := parseWelcomeLog(g, log)
		if err != nil {
			return
		}
		again, err := WelcomeBodies(g, ops)
		if err != nil {
			return // a log too long for a welcome: not made by WelcomeBodies
		}
		var chunks []byte
		for _, b := range again {
			p, err := ParseWelcomePart(b)
			if err != nil {
				t.Fatal(err)
			}
			chunks = append(chunks, p.chunk...)
		}
		if !bytes.Equal(chunks, log) {
			t.Fatal("WelcomeBodies(parseWelcomeLog(log)) carries another log")
		}
		Converge(ops)
	})
}

// FuzzGroupDecodeSlot feeds raw payloads to a reader's chain: the
// fuzzer's bytes, zero-padded to its size (a short input makes a record
// of any length, and minimizes fast: a record as a seed would make the
// fuzzer spend its time minimizing 9216-byte inputs). The real record
// decodes in TestGroupDecodeRejects.
// Past the AEAD the fuzzer cannot go; FuzzGroupDecodeSlotPlain does.
func FuzzGroupDecodeSlot(f *testing.F) {
	a, b, recs := groupSeeds(f)
	for _, r := range recs {
		f.Add(uint8(r.slot), r.seq, r.payload[:64], uint16(len(r.payload)))
	}
	f.Add(uint8(0), uint64(1), []byte{version2}, uint16(1))
	c := b.chains[chainID{a.id, a.key.Epoch()}]
	f.Fuzz(func(t *testing.T, i uint8, seq uint64, head []byte, size uint16) {
		if int(size) > MaxSlotPayload+64 || len(head) > int(size) {
			return
		}
		payload := append(bytes.Clone(head), make([]byte, int(size)-len(head))...)
		next, s, err := c.DecodeSlot(int(i), seq, payload)
		if err != nil && (next != nil || s.Messages != nil) {
			t.Fatalf("a result with error %v", err)
		}
	})
}

// FuzzGroupDecodeSlotPlain seals the fuzzer's record plaintext with the
// writer's header key, so that every rule behind the AEAD is reached.
// The fuzzer's bytes are the plaintext's start, padded with zeros (short
// inputs minimize fast).
func FuzzGroupDecodeSlotPlain(f *testing.F) {
	a, b, recs := groupSeeds(f)
	k := a.key
	for _, r := range recs {
		plain, ok := v2OpenAEAD(&k.hk, r.payload[1:], groupSlotAD(k.group, k.self, r.epoch, r.slot, r.seq))
		if !ok {
			f.Fatal("cannot open a seed record")
		}
		f.Add(uint8(r.slot), r.seq, bytes.TrimRight(plain, "\x00"))
	}
	c := b.chains[chainID{a.id, k.Epoch()}]
	f.Fuzz(func(t *testing.T, i uint8, seq uint64, plain []byte) {
		if i >= MaxSlots || len(plain) > v2PlainSize {
			return
		}
		plain = append(plain, make([]byte, v2PlainSize-len(plain))...)
		sealed, err := v2Seal(newDetRand("n"), &k.hk, plain, groupSlotAD(k.group, k.self, k.epoch, int(i), seq))
		if err != nil {
			t.Fatal(err)
		}
		next, s, err := c.DecodeSlot(int(i), seq, append([]byte{version2}, sealed...))
		if err != nil {
			if next != nil || s.Messages != nil {
				t.Fatalf("a result with error %v", err)
			}
			return
		}
		if err := checkGroupHeader(&s.Header, len(s.Messages)); err != nil {
			t.Fatalf("accepted a header that breaks a rule: %v", err)
		}
	})
}

// FuzzGroupPlaintext: the message parser accepts exactly the plaintexts
// that a sender lays out, with operations of the sender only.
func FuzzGroupPlaintext(f *testing.F) {
	a, _, _ := groupSeeds(f)
	f.Add(groupPlaintext(1700000000000, GroupText, []byte("hello")))
	op, _ := a.log[len(a.log)-1].Encode()
	f.Add(groupPlaintext(-1, GroupOpKind, op))
	f.Add([]byte{})
	f.Fuzz(func(t *testing.T, plain []byte) {
		m, err := parseGroupPlaintext(a.st.ID(), a.id, plain)
		if err != nil {
			return
		}
		body := []byte(m.Body)
		if m.Kind == GroupOpKind {
			if m.Op.Proposer != a.id {
				t.Fatal("accepted another member's operation")
			}
			body, _ = m.Op.Encode()
		}
		if got := groupPlaintext(m.SentAt.UnixMilli(), m.Kind, body); !bytes.Equal(got, plain) {
			t.Fatal("accepted a non-canonical plaintext")
		}
	})
}

// FuzzUnmarshalSenderKey: one encoding per stored sender key.
func FuzzUnmarshalSenderKey(f *testing.F) {
	a, _, _ := groupSeeds(f)
	f.Add(a.key.Marshal())
	f.Add([]byte{senderKeyFormat})
	f.Fuzz(func(t *testing.T, b []byte) {
		k, err := UnmarshalSenderKey(b)
		if err != nil {
			if k != nil {
				t.Fatal("a key with an error")
			}
			return
		}
		if !bytes.Equal(k.Marshal(), b) {
			t.Fatal("Marshal(Unmarshal(b)) differs from b")
		}
	})
}

// FuzzUnmarshalReceiverChain: one encoding per stored chain.
func FuzzUnmarshalReceiverChain(f *testing.F) {
	a, b, recs := groupSeeds(f)
	c := b.chains[chainID{a.id, a.key.Epoch()}]
	f.Add(c.Marshal())
	// With skipped keys: the second message opened first.
	next, _, _, err := c.Open(framesOf(f, a.key, recs)[1])
	if err != nil {
		f.Fatal(err)
	}
	f.Add(next.Marshal())
	f.Fuzz(func(t *testing.T, in []byte) {
		c, err := UnmarshalReceiverChain(in)
		if err != nil {
			if c != nil {
				t.Fatal("a chain with an error")
			}
			return
		}
		if !bytes.Equal(c.Marshal(), in) {
			t.Fatal("Marshal(Unmarshal(b)) differs from b")
		}
	})
}
