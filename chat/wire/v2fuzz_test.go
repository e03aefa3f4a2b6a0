package wire

import (
	"bytes"
	"encoding/binary"
	"errors"
	"testing"
	"time"
)

// v2Seeds returns states and records of a short conversation, for the
// fuzz corpora: alice and bob as they are, and records of both.
func v2Seeds(t testing.TB) (alice, bob *v2party, ra, rb []v2record) {
	alice, bob = newV2Pair(t, "fuzz")
	var all []v2record
	roundTrip(t, alice, bob, &all, "one")
	alice.send("pending")
	return alice, bob, alice.publish(), bob.publish()
}

// FuzzUnmarshalRatchetState: whatever decodes encodes back to the same
// bytes (one encoding per state), and nothing panics.
func FuzzUnmarshalRatchetState(f *testing.F) {
	alice, bob, _, _ := v2Seeds(f)
	f.Add(alice.st.Marshal())
	f.Add(bob.st.Marshal())
	f.Add([]byte{stateFormat})
	f.Fuzz(func(t *testing.T, b []byte) {
		s, err := UnmarshalRatchetState(b)
		if err != nil {
			if s != nil {
				t.Fatal("a state with an error")
			}
			return
		}
		if got := s.Marshal(); !bytes.Equal(got, b) {
			t.Fatalf("Marshal(Unmarshal(b)) differs from b")
		}
	})
}

// FuzzV2DecodeSlot feeds raw payloads to a reader. Past the AEAD the
// fuzzer cannot go; FuzzV2DecodeSlotPlain does.
func FuzzV2DecodeSlot(f *testing.F) {
	alice, bob, ra, _ := v2Seeds(f)
	for _, r := range ra {
		f.Add(r.epoch, uint8(r.slot), r.seq, r.payload)
	}
	f.Add(uint32(0), uint8(0), uint64(1), []byte{2})
	f.Add(uint32(0), uint8(0), uint64(1), []byte{1})
	_ = alice
	f.Fuzz(func(t *testing.T, e uint32, i uint8, seq uint64, payload []byte) {
		before := bob.st.Marshal()
		st, s, err := bob.st.DecodeSlot(newDetRand("fuzz"), e, int(i), seq, payload)
		if !bytes.Equal(bob.st.Marshal(), before) {
			t.Fatal("DecodeSlot changed its receiver")
		}
		if err != nil {
			if st != nil || s.Messages != nil {
				t.Fatalf("a result with error %v", err)
			}
		}
	})
}

// FuzzV2DecodeSlotPlain seals the fuzzer's record plaintext as the writer
// would (the test knows the writer's header key), so that every rule
// behind the AEAD is reached, the ratchet block and the frames included.
func FuzzV2DecodeSlotPlain(f *testing.F) {
	alice, bob, ra, _ := v2Seeds(f)
	for _, r := range ra {
		hk := alice.st.sendHK
		plain, ok := v2OpenAEAD(&hk, r.payload[1:], v2SlotAD(testChatID, FromLo, r.epoch, r.slot, r.seq))
		if !ok {
			f.Fatal("cannot open a seed record")
		}
		f.Add(uint8(r.slot), r.seq, plain)
	}
	f.Fuzz(func(t *testing.T, i uint8, seq uint64, plain []byte) {
		if i >= MaxSlots {
			return
		}
		hk := alice.st.sendHK
		e := alice.st.SendEpoch()
		sealed, err := v2Seal(newDetRand("n"), &hk, plain, v2SlotAD(testChatID, FromLo, e, int(i), seq))
		if err != nil {
			t.Fatal(err)
		}
		payload := append([]byte{version2}, sealed...)
		st, s, err := bob.st.DecodeSlot(newDetRand("fuzz"), e, int(i), seq, payload)
		if err != nil {
			if st != nil || s.Messages != nil {
				t.Fatalf("a result with error %v", err)
			}
			return
		}
		// What was accepted satisfies every header rule, and the state
		// it returned encodes and decodes.
		if err := checkV2Header(FromLo, s.Header, len(s.Messages)); err != nil {
			t.Fatalf("accepted a header that breaks a rule: %v", err)
		}
		if _, err := UnmarshalRatchetState(st.Marshal()); err != nil {
			t.Fatalf("DecodeSlot returned a state that does not decode: %v", err)
		}
	})
}

// FuzzV2MessagePlaintext: the message parser accepts exactly the
// plaintexts that v2Plaintext makes.
func FuzzV2MessagePlaintext(f *testing.F) {
	f.Add(v2Plaintext(1700000000000, "hello"))
	f.Add(v2Plaintext(-1, string(bytes.Repeat([]byte{'x'}, MaxBody))))
	f.Add([]byte{})
	f.Fuzz(func(t *testing.T, plain []byte) {
		m, err := parseV2Plaintext(1, plain)
		if err != nil {
			return
		}
		if got := v2Plaintext(m.SentAt.UnixMilli(), m.Body); !bytes.Equal(got, plain) {
			t.Fatalf("accepted a non-canonical plaintext")
		}
		if checkV2Body(m.Body) != nil {
			t.Fatal("accepted a body that Seal rejects")
		}
	})
}

// Every rejection of a sealed v2 message leaves no message, and a few
// crafted plaintexts are rejected for the documented reason.
func TestV2MessagePlaintextRules(t *testing.T) {
	good := v2Plaintext(5, "hi")
	tests := []struct {
		name  string
		plain []byte
		want  error
	}{
		{"short", good[:9], ErrTruncated},
		{"long body", binary.BigEndian.AppendUint16(make([]byte, 8), MaxBody+1), ErrMalformed},
		{"wrong bucket", append(bytes.Clone(good), make([]byte, 64)...), ErrMalformed},
		{"padding", append(bytes.Clone(good[:63]), 1), ErrMalformed},
		{"utf-8", v2Plaintext(5, "\xff"), ErrMalformed},
	}
	for _, tt := range tests {
		if _, err := parseV2Plaintext(1, tt.plain); !errors.Is(err, tt.want) {
			t.Errorf("%s: parseV2Plaintext = %v, want %v", tt.name, err, tt.want)
		}
	}
	if m, err := parseV2Plaintext(3, good); err != nil || m.Body != "hi" || m.N != 3 || !m.SentAt.Equal(time.UnixMilli(5)) {
		t.Errorf("parseV2Plaintext(good) = %+v, %v", m, err)
	}
}
