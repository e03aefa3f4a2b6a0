package wire

import (
	"crypto/rand"
	"encoding/binary"
	"fmt"
	"time"
	"unicode/utf8"

	"golang.org/x/crypto/nacl/secretbox"
)

// version is the format version of protocol version 1's messages and slot
// records (docs/PROTOCOL.md, "Versions").
const version = 1

// MaxBody is the largest message body in bytes. A sealed message of this
// size (8232 bytes) still fits in one slot record with its header.
const MaxBody = 8000

const (
	nonceSize     = 24
	overhead      = secretbox.Overhead // 16, the Poly1305 tag
	msgHeaderSize = 1 + 1 + 8 + 8 + 2  // version, dir, n, sent_at, body_len
	minBucket     = 64
	// maxPlain is the bucket of the largest plaintext, msgHeaderSize+MaxBody.
	maxPlain = 8192
	// MaxSealedSize is the size of a sealed message with a MaxBody body;
	// no sealed message is larger.
	MaxSealedSize = nonceSize + overhead + maxPlain
	minSealedSize = nonceSize + overhead + minBucket
)

// Message is one chat message as its writer sealed it.
type Message struct {
	// N is the message's number in its direction: 1 for the first
	// message, then 2, 3, … without gaps.
	N uint64
	// SentAt is the writer's clock when it wrote the message, sealed with
	// millisecond precision. It is informational: order is by N.
	SentAt time.Time
	// Body is the text, valid UTF-8, at most MaxBody bytes.
	Body string
}

// bucket returns the padded size of a plaintext of n bytes: 64, 128, 256,
// 512, 1024, then the next multiple of 1024. Sizes grow by powers of two
// while small (where a few bytes reveal most), then by 1 KiB, so that
// padding never more than doubles a message and costs at most 1 KiB.
func bucket(n int) int {
	b := minBucket
	for b < n && b < 1024 {
		b *= 2
	}
	if n > b {
		b = (n + 1023) / 1024 * 1024
	}
	return b
}

// box is the authenticated encryption under a message key: NaCl secretbox
// (XSalsa20-Poly1305) in the protocol. The fuzz tests substitute an
// unauthenticated stand-in so that the fuzzer reaches the parsers behind
// the authenticator, which it could never forge.
type box struct {
	seal func(out, message []byte, nonce *[24]byte, key *[32]byte) []byte
	open func(out, box []byte, nonce *[24]byte, key *[32]byte) ([]byte, bool)
}

var secretBox = box{secretbox.Seal, secretbox.Open}

// Seal seals message m for direction d under d's message key, with a fresh
// random nonce:
//
//	sealed = nonce(24) || secretbox(plaintext, nonce, msg_key[d])
//
// m.N must be at least 1 and m.Body valid UTF-8 of at most MaxBody bytes.
func (k *Keys) Seal(d Direction, m Message) ([]byte, error) {
	if err := m.check(d); err != nil {
		return nil, err
	}
	return k.SealPlaintext(d, MessagePlaintext(d, m.N, m.SentAt.UnixMilli(), m.Body)), nil
}

// check returns an error unless m may be sealed for direction d.
func (m Message) check(d Direction) error {
	switch {
	case !d.valid():
		return errDirection(d)
	case m.N == 0:
		return fmt.Errorf("wire: message number 0 (numbers start at 1)")
	case len(m.Body) > MaxBody:
		return fmt.Errorf("wire: message body is %d bytes, at most %d fit", len(m.Body), MaxBody)
	case !utf8.ValidString(m.Body):
		return fmt.Errorf("wire: message body is not valid UTF-8")
	}
	return nil
}

// MessagePlaintext lays out the plaintext of a message of direction d,
// number n, sent_at sentAtMs (milliseconds since the Unix epoch) and body,
// zero-padded to its bucket: what Seal seals.
//
//	plaintext = version(1) | dir(1) | n(8) | sent_at(8) | body_len(2) | body | zeros
//
// It checks nothing: n may be 0 and body longer than MaxBody or invalid
// UTF-8 (its length is written modulo 2^16). Seal is the way to seal a
// message; with [Keys.SealPlaintext], this builds the messages a correct
// writer never sends, for testing a reader.
func MessagePlaintext(d Direction, n uint64, sentAtMs int64, body string) []byte {
	plain := make([]byte, bucket(msgHeaderSize+len(body)))
	plain[0] = version
	plain[1] = byte(d)
	binary.BigEndian.PutUint64(plain[2:], n)
	binary.BigEndian.PutUint64(plain[10:], uint64(sentAtMs))
	binary.BigEndian.PutUint16(plain[18:], uint16(len(body)))
	copy(plain[msgHeaderSize:], body) // the rest stays zero: the padding
	return plain
}

// SealPlaintext seals plain, whatever it holds, under d's message key with
// a fresh random nonce: nonce(24) || secretbox(plain). Seal uses it for the
// plaintext of a checked message; a reader's tests use it, with
// MessagePlaintext, for the authentic but invalid messages a broken or
// newer writer could send. It panics if d is not a valid direction, as an
// index would.
func (k *Keys) SealPlaintext(d Direction, plain []byte) []byte {
	var nonce [nonceSize]byte
	rand.Read(nonce[:]) // never fails (crypto/rand, Go 1.24+)
	return k.sealWith(secretBox, make([]byte, 0, nonceSize+overhead+len(plain)), d, plain, &nonce)
}

// sealWith is the one function that seals a plaintext: it appends
// nonce || box(plain) to out. The test vectors choose the nonce and the
// fuzz tests the box; nothing else may: a nonce must never be used twice
// with the same key.
func (k *Keys) sealWith(b box, out []byte, d Direction, plain []byte, nonce *[nonceSize]byte) []byte {
	if !d.valid() {
		panic(fmt.Sprintf("wire: seal: invalid direction %d", uint8(d)))
	}
	out = append(out, nonce[:]...)
	return b.seal(out, plain, nonce, &k.msg[d])
}

// Open opens a message sealed for direction d: the direction the caller
// reads. It checks everything docs/PROTOCOL.md requires (authenticity under
// d's key, version, direction, canonical size, zero padding, UTF-8) and
// returns a typed error, never a partial message.
func (k *Keys) Open(d Direction, sealed []byte) (Message, error) {
	return k.open(secretBox, d, sealed)
}

// open is the one function that opens and parses a sealed message.
func (k *Keys) open(b box, d Direction, sealed []byte) (Message, error) {
	if !d.valid() {
		return Message{}, errDirection(d)
	}
	// Only the bounds here: the canonical size is checked after the
	// version, so that a newer client's message reports its version.
	switch {
	case len(sealed) < nonceSize+overhead+1:
		return Message{}, fmt.Errorf("%w: sealed message of %d bytes", ErrTruncated, len(sealed))
	case len(sealed) > MaxSealedSize:
		return Message{}, fmt.Errorf("%w: sealed message of %d bytes, at most %d", ErrTooLarge, len(sealed), MaxSealedSize)
	}
	nonce := [nonceSize]byte(sealed[:nonceSize])
	plain, ok := b.open(nil, sealed[nonceSize:], &nonce, &k.msg[d])
	if !ok {
		return Message{}, fmt.Errorf("%w: message", ErrDecrypt)
	}
	if plain[0] != version {
		return Message{}, &UnknownVersionError{What: "message", Version: plain[0]}
	}
	if len(plain) < msgHeaderSize {
		return Message{}, fmt.Errorf("%w: message plaintext of %d bytes", ErrTruncated, len(plain))
	}
	if Direction(plain[1]) != d {
		return Message{}, fmt.Errorf("%w: message of direction %d, expected %v", ErrWrongDirection, plain[1], d)
	}
	n := binary.BigEndian.Uint64(plain[2:])
	sentAt := int64(binary.BigEndian.Uint64(plain[10:]))
	bodyLen := int(binary.BigEndian.Uint16(plain[18:]))
	switch {
	case n == 0:
		return Message{}, fmt.Errorf("%w: message number 0", ErrMalformed)
	case bodyLen > MaxBody:
		return Message{}, fmt.Errorf("%w: body length %d, at most %d", ErrMalformed, bodyLen, MaxBody)
	case len(plain) != bucket(msgHeaderSize+bodyLen):
		// One valid size per body length: a message is either
		// canonical or rejected, never read two ways.
		return Message{}, fmt.Errorf("%w: plaintext of %d bytes for a body of %d", ErrMalformed, len(plain), bodyLen)
	}
	body := plain[msgHeaderSize : msgHeaderSize+bodyLen]
	if !allZero(plain[msgHeaderSize+bodyLen:]) {
		return Message{}, fmt.Errorf("%w: non-zero padding", ErrMalformed)
	}
	// Invalid UTF-8 is rejected rather than repaired: the writer
	// guarantees it, so a violation is a broken client, found at once
	// rather than shown as garbage. (The TUI still strips control and
	// escape sequences from valid text.)
	if !utf8.Valid(body) {
		return Message{}, fmt.Errorf("%w: body is not valid UTF-8", ErrMalformed)
	}
	return Message{N: n, SentAt: time.UnixMilli(sentAt), Body: string(body)}, nil
}

func allZero(b []byte) bool {
	var acc byte
	for _, c := range b {
		acc |= c
	}
	return acc == 0
}
