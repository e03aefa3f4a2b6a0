package wire

import (
	"crypto/rand"
	"strings"
	"testing"
)

func BenchmarkSealOpen1KB(b *testing.B) {
	k := testKeys(b)
	m := Message{N: 1, SentAt: sentAt, Body: strings.Repeat("x", 1000)}
	b.SetBytes(int64(len(m.Body)))
	var size int
	for b.Loop() {
		s, err := k.Seal(FromLo, m)
		if err != nil {
			b.Fatal(err)
		}
		if _, err := k.Open(FromLo, s); err != nil {
			b.Fatal(err)
		}
		size = len(s)
	}
	b.ReportMetric(float64(size), "sealed-B")
}

// BenchmarkSlotEncodeDecode encodes and decodes a full slot: 53 messages
// of 80 bytes (encoding opens each message once to check it).
func BenchmarkSlotEncodeDecode(b *testing.B) {
	k := testKeys(b)
	sealed := sealN(b, k, FromLo, 1, 53, 80)
	h := SlotHeader{Dir: FromLo, Slot: 0, SlotsUsed: 1, Seq: 1, MaxN: 53}
	var size int
	for b.Loop() {
		p, err := k.EncodeSlot(h, sealed)
		if err != nil {
			b.Fatal(err)
		}
		if _, err := k.DecodeSlot(FromLo, 0, 1, p); err != nil {
			b.Fatal(err)
		}
		size = len(p)
	}
	b.ReportMetric(float64(size), "record-B")
}

// BenchmarkV2SealOpen1KB is BenchmarkSealOpen1KB in version 2: a chain
// step and an XChaCha20-Poly1305 seal for the writer, the same for the
// reader.
func BenchmarkV2SealOpen1KB(b *testing.B) {
	body := strings.Repeat("x", 1000)
	b.SetBytes(int64(len(body)))
	var ckW, ckR key32
	ad := v2MsgAD(testChatID, FromLo, 1, 1)
	var size int
	for b.Loop() {
		mk, next := chainStep(&ckW)
		ckW = next
		sealed, err := v2Seal(rand.Reader, &mk, v2Plaintext(1, body), ad)
		if err != nil {
			b.Fatal(err)
		}
		mk2, next2 := chainStep(&ckR)
		ckR = next2
		if _, err := v2OpenMessage(&mk2, ad, 1, sealed); err != nil {
			b.Fatal(err)
		}
		ckW, ckR = key32{}, key32{} // the same key each time, as v1's benchmark
		size = len(sealed)
	}
	b.ReportMetric(float64(size), "sealed-B")
}

// BenchmarkV2SlotEncodeDecode is BenchmarkSlotEncodeDecode in version 2:
// a full slot 1, 50 messages of 80 bytes (version 1 fits 53: a version 2
// frame has 12 more bytes: the epoch and number beside the length), encoded and decoded by a reader that opens each message.
func BenchmarkV2SlotEncodeDecode(b *testing.B) {
	alice, bob := newV2Pair(b, "bench slot")
	var all []v2record
	roundTrip(b, alice, bob, &all, "warm up")
	alice.send("enter the epoch")
	bob.read(alice.publish())
	alice.outbox = nil
	for range 50 {
		alice.send(strings.Repeat("y", 80))
	}
	frames := alice.outbox
	h := V2Header{Slot: 1, SlotsUsed: 2, Seq: 1, MaxN: frames[49].N}
	var size int
	for b.Loop() {
		p, err := alice.st.EncodeSlot(nil, h, frames)
		if err != nil {
			b.Fatal(err)
		}
		_, s, err := bob.st.DecodeSlot(nil, alice.st.SendEpoch(), 1, 1, p)
		if err != nil || len(s.Messages) != 50 {
			b.Fatal(err, len(s.Messages))
		}
		size = len(p)
	}
	b.ReportMetric(float64(size), "record-B")
}

// BenchmarkV2RecordSealOpen1KB: seal one 1000-byte message, publish it in
// slot 1 and read it back: what one message costs end to end.
func BenchmarkV2RecordSealOpen1KB(b *testing.B) {
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
