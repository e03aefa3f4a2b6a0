package wire

import (
	"bytes"
	"encoding/binary"
	"strings"
	"testing"
)

func FuzzParseChatKey(f *testing.F) {
	k := testKeys(f).ChatKey()
	f.Add(k.String())
	f.Add(strings.ToUpper(k.String()))
	f.Add(" " + k.String() + "\n")
	f.Add(mustEncode(f, "dhtchat", make([]byte, 32)))
	f.Add(mustEncode(f, "dhtchat-secret-key-", make([]byte, 32)))
	f.Add(mustEncode(f, ChatKeyHRP, make([]byte, 31)))
	f.Add("dhtchat-chat1")
	f.Fuzz(func(t *testing.T, s string) {
		c, err := ParseChatKey(s)
		if err != nil {
			if c != (ChatKey{}) {
				t.Fatalf("ParseChatKey(%q) returned a key with error %v", s, err)
			}
			return
		}
		if got := c.String(); got != strings.ToLower(strings.TrimSpace(s)) {
			t.Fatalf("ParseChatKey(%q).String() = %q, not the input", s, got)
		}
		if c2, err := ParseChatKey(c.String()); err != nil || c2 != c {
			t.Fatalf("ParseChatKey(String()) = %v, %v, want %v", c2, err, c)
		}
	})
}

// FuzzOpen feeds raw bytes to Open under the real keys. Past the
// authenticator the fuzzer cannot go; FuzzOpenPlaintext covers that.
func FuzzOpen(f *testing.F) {
	k := testKeys(f)
	for _, n := range []int{0, 5, 44, 45, 1000, MaxBody} {
		f.Add(sealN(f, k, FromLo, 1, 1, n)[0])
	}
	f.Add(sealN(f, k, FromHi, 1, 1, 3)[0])
	f.Add([]byte{})
	f.Fuzz(func(t *testing.T, sealed []byte) {
		m, err := k.Open(FromLo, sealed)
		if err != nil {
			if m != (Message{}) {
				t.Fatalf("Open returned a message with error %v", err)
			}
			return
		}
		if _, err := k.Seal(FromLo, m); err != nil {
			t.Fatalf("Open accepted a message Seal rejects: %v", err)
		}
	})
}

// FuzzOpenPlaintext reaches Open's parser with arbitrary authentic
// plaintexts (plainBox), and checks that whatever opens is canonical:
// sealing it again with the same nonce gives the same bytes.
func FuzzOpenPlaintext(f *testing.F) {
	k := testKeys(f)
	var nonce [nonceSize]byte
	for _, n := range []int{0, 5, 44, 45, 1000, MaxBody} {
		s, err := sealBox(k, plainBox, FromLo, Message{N: 3, SentAt: sentAt, Body: strings.Repeat("ü", n/2)}, &nonce)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, sealed []byte) {
		m, err := k.open(plainBox, FromLo, sealed)
		if err != nil {
			if m != (Message{}) {
				t.Fatalf("open returned a message with error %v", err)
			}
			return
		}
		nonce := [nonceSize]byte(sealed)
		again, err := sealBox(k, plainBox, FromLo, m, &nonce)
		if err != nil || !bytes.Equal(again, sealed) {
			t.Fatalf("open accepted a non-canonical message: re-sealed %x, %v; was %x", again, err, sealed)
		}
	})
}

// FuzzDecodeSlot feeds raw bytes to DecodeSlot under the real keys.
func FuzzDecodeSlot(f *testing.F) {
	k := testKeys(f)
	f.Add(validSlot(f, k))
	for _, c := range []struct{ count, body int }{{0, 0}, {3, 10}, {1, MaxBody}, {53, 80}} {
		h := SlotHeader{Dir: FromHi, Slot: 1, SlotsUsed: 2, Seq: 9, MaxN: 100}
		p, err := k.EncodeSlot(h, sealN(f, k, FromHi, 1, c.count, c.body))
		if err != nil {
			f.Fatal(err)
		}
		f.Add(p)
	}
	f.Fuzz(func(t *testing.T, p []byte) {
		for _, p := range [][]byte{p, padded(p)} {
			s, err := k.DecodeSlot(FromHi, 1, 9, p)
			if err != nil && (s.Messages != nil || s.Header != (SlotHeader{})) {
				t.Fatalf("DecodeSlot returned a partial slot with error %v", err)
			}
		}
	})
}

// FuzzDecodeSlotPlaintext reaches the slot parser behind the authenticator
// (plainBox) and checks that whatever decodes is canonical: encoding the
// decoded header with the same frames and nonce gives the same payload.
func FuzzDecodeSlotPlaintext(f *testing.F) {
	k := testKeys(f)
	var nonce [nonceSize]byte
	for _, c := range []struct{ count, body int }{{0, 0}, {3, 10}, {1, MaxBody}, {53, 80}, {86, 0}} {
		var sealed [][]byte
		for i := range c.count {
			s, err := sealBox(k, plainBox, FromHi, Message{N: uint64(i + 1), Body: strings.Repeat("z", c.body)}, &nonce)
			if err != nil {
				f.Fatal(err)
			}
			sealed = append(sealed, s)
		}
		h := SlotHeader{Dir: FromHi, Slot: 1, SlotsUsed: 2, Seq: 9, MaxN: 100}
		p, err := encodeSlotBox(k, plainBox, h, sealed, &nonce)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(p)
	}
	f.Fuzz(func(t *testing.T, p []byte) {
		p = padded(p)
		s, err := k.decodeSlot(plainBox, FromHi, 1, 9, p)
		if err != nil {
			if s.Messages != nil || s.Header != (SlotHeader{}) {
				t.Fatalf("decodeSlot returned a partial slot with error %v", err)
			}
			return
		}
		// Recover the frames of the valid payload to encode them again.
		var frames [][]byte
		rest := p[slotFixed:]
		for range s.Messages {
			n := int(binary.BigEndian.Uint16(rest))
			frames = append(frames, rest[2:2+n])
			rest = rest[2+n:]
		}
		nonce := [nonceSize]byte(p[3:])
		again, err := encodeSlotBox(k, plainBox, s.Header, frames, &nonce)
		if err != nil || !bytes.Equal(again, p) {
			t.Fatalf("decodeSlot accepted a non-canonical payload: %v", err)
		}
	})
}

// padded pads p with zeros to a multiple of 1024 bytes. Most mutations
// change the length, and a length that is not a multiple of 1024 is
// rejected at once; padding lets the fuzzer explore the content instead.
// (The length rules have their own unit tests.)
func padded(p []byte) []byte {
	if r := len(p) % slotPadding; r != 0 || len(p) == 0 {
		p = append(p[:len(p):len(p)], make([]byte, slotPadding-r)...)
	}
	return p
}
