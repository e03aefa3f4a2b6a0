package wire

import (
	"strings"
	"testing"
)

func BenchmarkSealOpen1KB(b *testing.B) {
	k := testKeys(b)
	m := Message{N: 1, SentAt: sentAt, Body: strings.Repeat("x", 1000)}
	b.SetBytes(int64(len(m.Body)))
	for b.Loop() {
		s, err := k.Seal(FromLo, m)
		if err != nil {
			b.Fatal(err)
		}
		if _, err := k.Open(FromLo, s); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkSlotEncodeDecode encodes and decodes a full slot: 53 messages
// of 80 bytes (encoding opens each message once to check it).
func BenchmarkSlotEncodeDecode(b *testing.B) {
	k := testKeys(b)
	sealed := sealN(b, k, FromLo, 1, 53, 80)
	h := SlotHeader{Dir: FromLo, Slot: 0, SlotsUsed: 1, Seq: 1, MaxN: 53}
	for b.Loop() {
		p, err := k.EncodeSlot(h, sealed)
		if err != nil {
			b.Fatal(err)
		}
		if _, err := k.DecodeSlot(FromLo, 0, 1, p); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkV2SealOpen: seal one 1000-byte message, publish it in slot 0
// and read it back (the reader's key schedule included).
func BenchmarkV2SealOpen1KB(b *testing.B) {
	body := strings.Repeat("x", 1000)
	b.SetBytes(int64(len(body)))
	alice, bob := newV2Pair(b, "bench")
	var all []v2record
	roundTrip(b, alice, bob, &all, "warm up")
	roundTrip(b, alice, bob, &all, "warm up")
	alice.send("enter the epoch")
	bob.read(alice.publish())
	for b.Loop() {
		st, f, err := alice.st.Seal(nil, sentAt, body)
		if err != nil {
			b.Fatal(err)
		}
		alice.st = st
		p, err := alice.st.EncodeSlot(nil, V2Header{Slot: 1, SlotsUsed: 2, Seq: 1, MaxN: f.N}, []Frame{f})
		if err != nil {
			b.Fatal(err)
		}
		st, _, err = bob.st.DecodeSlot(nil, alice.st.SendEpoch(), 1, 1, p)
		if err != nil {
			b.Fatal(err)
		}
		bob.st = st
	}
}

// BenchmarkV2RatchetStep: a reader reads slot 0 of a new epoch: it
// decapsulates, makes its own step (X25519, ML-KEM encapsulation and key
// generation, 16 name seeds) and opens the message.
func BenchmarkV2RatchetStep(b *testing.B) {
	alice, bob := newV2Pair(b, "bench")
	var all []v2record
	roundTrip(b, alice, bob, &all, "warm up")
	alice.send("step")
	recs := alice.publish()
	r := recs[0]
	b.SetBytes(int64(len(r.payload)))
	for b.Loop() {
		if _, _, err := bob.st.DecodeSlot(nil, r.epoch, 0, r.seq, r.payload); err != nil {
			b.Fatal(err)
		}
	}
}
