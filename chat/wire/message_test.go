package wire

import (
	"encoding/binary"
	"errors"
	"strings"
	"testing"
	"time"
)

func TestBucket(t *testing.T) {
	tests := []struct{ n, want int }{
		{0, 64}, {20, 64}, {64, 64}, {65, 128}, {128, 128}, {129, 256},
		{300, 512}, {513, 1024}, {1024, 1024}, {1025, 2048}, {4096, 4096},
		{4097, 5120}, {msgHeaderSize + MaxBody, maxPlain},
	}
	for _, tt := range tests {
		if got := bucket(tt.n); got != tt.want {
			t.Errorf("bucket(%d) = %d, want %d", tt.n, got, tt.want)
		}
	}
}

var sentAt = time.UnixMilli(1700000000123)

func TestSealOpenRoundTrip(t *testing.T) {
	k := testKeys(t)
	for _, n := range []int{0, 1, 44, 45, 108, 1004, 1005, 4000, MaxBody - 1, MaxBody} {
		body := strings.Repeat("é", n/2) + strings.Repeat("x", n%2)
		for d := range Direction(2) {
			m := Message{N: uint64(n) + 1, SentAt: sentAt, Body: body}
			sealed, err := k.Seal(d, m)
			if err != nil {
				t.Fatalf("Seal(%v, body of %d) = %v", d, n, err)
			}
			if want := nonceSize + overhead + bucket(msgHeaderSize+n); len(sealed) != want {
				t.Errorf("Seal(%v, body of %d) is %d bytes, want %d", d, n, len(sealed), want)
			}
			got, err := k.Open(d, sealed)
			if err != nil || got.N != m.N || !got.SentAt.Equal(m.SentAt) || got.Body != m.Body {
				t.Errorf("Open(Seal(%v, body of %d)) = %v, %v", d, n, got.N, err)
			}
		}
	}
	// Fresh nonces: sealing twice gives different bytes.
	a, _ := k.Seal(FromLo, Message{N: 1, Body: "x"})
	b, _ := k.Seal(FromLo, Message{N: 1, Body: "x"})
	if string(a) == string(b) {
		t.Errorf("Seal reused a nonce")
	}
}

func TestSealErrors(t *testing.T) {
	k := testKeys(t)
	tests := []struct {
		d Direction
		m Message
	}{
		{2, Message{N: 1}},
		{FromLo, Message{N: 0, Body: "hi"}},
		{FromLo, Message{N: 1, Body: strings.Repeat("x", MaxBody+1)}},
		{FromHi, Message{N: 1, Body: "\xff"}},
	}
	for _, tt := range tests {
		if got, err := k.Seal(tt.d, tt.m); err == nil {
			t.Errorf("Seal(%v, N=%d, %d bytes) = %d bytes, want an error", tt.d, tt.m.N, len(tt.m.Body), len(got))
		}
	}
}

// A message copied into the other direction, or into another chat, or
// from another pair, does not open.
func TestOpenCrossDirectionAndChat(t *testing.T) {
	k := testKeys(t)
	otherChat := testKeysFor(t, aliceSecretHex, bobSecretHex, ChatID{1})
	otherPair := testKeysFor(t, aliceSecretHex, carolSecretHex, testChatID)
	sealed, err := k.Seal(FromLo, Message{N: 1, SentAt: sentAt, Body: "hi"})
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		name string
		k    *Keys
		d    Direction
	}{{"other direction", k, FromHi}, {"other chat", otherChat, FromLo}, {"other pair", otherPair, FromLo}} {
		if m, err := c.k.Open(c.d, sealed); !errors.Is(err, ErrDecrypt) {
			t.Errorf("Open(%s) = %v, %v, want ErrDecrypt", c.name, m, err)
		}
	}
	if _, err := k.Open(7, sealed); err == nil {
		t.Errorf("Open(direction 7) succeeded")
	}
}

// Every single-bit change of a sealed message is rejected.
func TestOpenByteFlip(t *testing.T) {
	k := testKeys(t)
	sealed, err := k.Seal(FromHi, Message{N: 42, SentAt: sentAt, Body: "flip me"})
	if err != nil {
		t.Fatal(err)
	}
	for i := range sealed {
		for bit := range 8 {
			c := []byte(string(sealed))
			c[i] ^= 1 << bit
			if m, err := k.Open(FromHi, c); err == nil {
				t.Fatalf("Open with byte %d bit %d flipped = %+v, want an error", i, bit, m)
			}
		}
	}
	for n := range len(sealed) {
		if _, err := k.Open(FromHi, sealed[:n]); err == nil {
			t.Fatalf("Open of the first %d bytes succeeded", n)
		}
	}
	if _, err := k.Open(FromHi, append(sealed, 0)); err == nil {
		t.Fatalf("Open with a byte appended succeeded")
	}
}

func plaintext(ver, dir byte, n uint64, bodyLen int, body string, size int) []byte {
	p := make([]byte, size)
	p[0], p[1] = ver, dir
	binary.BigEndian.PutUint64(p[2:], n)
	binary.BigEndian.PutUint64(p[10:], 1700000000000)
	binary.BigEndian.PutUint16(p[18:], uint16(bodyLen))
	copy(p[msgHeaderSize:], body)
	return p
}

func TestOpenAuthenticButInvalid(t *testing.T) {
	k := testKeys(t)
	padded := plaintext(1, 0, 1, 2, "hi", 64)
	padded[63] = 1
	var uv *UnknownVersionError
	tests := []struct {
		name  string
		plain []byte
		want  error
	}{
		{"valid", plaintext(1, 0, 1, 2, "hi", 64), nil},
		{"version 0", plaintext(0, 0, 1, 2, "hi", 64), uv},
		{"version 2", plaintext(2, 0, 1, 2, "hi", 64), uv},
		{"version 2, other layout", []byte{2}, uv},
		{"short plaintext", []byte{1, 0, 0}, ErrTruncated},
		{"other direction byte", plaintext(1, 1, 1, 2, "hi", 64), ErrWrongDirection},
		{"direction 9", plaintext(1, 9, 1, 2, "hi", 64), ErrWrongDirection},
		{"number 0", plaintext(1, 0, 0, 2, "hi", 64), ErrMalformed},
		{"body longer than plaintext", plaintext(1, 0, 1, 60, "hi", 64), ErrMalformed},
		{"body over MaxBody", plaintext(1, 0, 1, MaxBody+1, "", maxPlain), ErrMalformed},
		{"body length 65535", plaintext(1, 0, 1, 65535, "", 64), ErrMalformed},
		{"bucket too big", plaintext(1, 0, 1, 2, "hi", 128), ErrMalformed},
		{"not a bucket", plaintext(1, 0, 1, 2, "hi", 100), ErrMalformed},
		{"non-zero padding", padded, ErrMalformed},
		{"invalid UTF-8", plaintext(1, 0, 1, 2, "\xc3\x28", 64), ErrMalformed},
		{"oversize", plaintext(1, 0, 1, MaxBody, "", maxPlain+1024), ErrTooLarge},
	}
	for _, tt := range tests {
		m, err := k.Open(FromLo, k.SealPlaintext(FromLo, tt.plain))
		switch want := tt.want.(type) {
		case nil:
			if err != nil || m.Body != "hi" || m.N != 1 {
				t.Errorf("Open(%s) = %+v, %v, want body \"hi\"", tt.name, m, err)
			}
		case *UnknownVersionError:
			if !errors.As(err, &want) || want.Version != tt.plain[0] || want.What != "message" ||
				!strings.Contains(err.Error(), "unknown format version") {
				t.Errorf("Open(%s) = %v, want UnknownVersionError %d", tt.name, err, tt.plain[0])
			}
		default:
			if !errors.Is(err, tt.want) || m != (Message{}) {
				t.Errorf("Open(%s) = %+v, %v, want %v", tt.name, m, err, tt.want)
			}
		}
	}
}
