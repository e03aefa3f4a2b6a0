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
