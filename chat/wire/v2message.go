package wire

import (
	"encoding/binary"
	"fmt"
	"io"
	"time"
	"unicode/utf8"

	"golang.org/x/crypto/chacha20poly1305"
)

// Version 2's format byte and sizes (docs/PROTOCOL.md §13, §14).
const (
	version2        = 2
	v2MsgHeaderSize = 8 + 2 // sent_at, body_len
	v2Overhead      = chacha20poly1305.NonceSizeX + chacha20poly1305.Overhead
	v2MinSealed     = v2Overhead + minBucket // 104
	v2MaxSealed     = v2Overhead + maxPlain  // 8232
)

// v2MsgAD is the associated data of a version 2 message: the chat, the
// direction, the epoch and the number, so that a sealed message opens
// nowhere else.
func v2MsgAD(id ChatID, d Direction, e uint32, n uint64) []byte {
	ad := make([]byte, 0, len(labelV2Msg)+16+1+4+8)
	ad = append(ad, labelV2Msg...)
	ad = append(ad, id[:]...)
	ad = append(ad, byte(d))
	ad = binary.BigEndian.AppendUint32(ad, e)
	return binary.BigEndian.AppendUint64(ad, n)
}

// v2Plaintext lays out a version 2 message plaintext, zero-padded to its
// bucket. It checks nothing.
func v2Plaintext(sentAtMs int64, body string) []byte {
	plain := make([]byte, bucket(v2MsgHeaderSize+len(body)))
	binary.BigEndian.PutUint64(plain, uint64(sentAtMs))
	binary.BigEndian.PutUint16(plain[8:], uint16(len(body)))
	copy(plain[v2MsgHeaderSize:], body)
	return plain
}

// v2Seal seals plain with message key mk under ad, with a nonce read from
// rand: nonce(24) || XChaCha20-Poly1305(mk, nonce, plain, ad).
func v2Seal(rand io.Reader, mk *key32, plain, ad []byte) ([]byte, error) {
	aead, err := chacha20poly1305.NewX(mk[:])
	if err != nil {
		panic("wire: " + err.Error()) // only for a key of the wrong size
	}
	out := make([]byte, chacha20poly1305.NonceSizeX, v2Overhead+len(plain))
	if _, err := io.ReadFull(rand, out); err != nil {
		return nil, fmt.Errorf("wire: random source: %w", err)
	}
	return aead.Seal(out, out, plain, ad), nil
}

// v2OpenAEAD opens nonce || ciphertext sealed by v2Seal.
func v2OpenAEAD(key *key32, sealed, ad []byte) ([]byte, bool) {
	if len(sealed) < v2Overhead {
		return nil, false
	}
	aead, err := chacha20poly1305.NewX(key[:])
	if err != nil {
		panic("wire: " + err.Error())
	}
	plain, err := aead.Open(nil, sealed[:chacha20poly1305.NonceSizeX], sealed[chacha20poly1305.NonceSizeX:], ad)
	return plain, err == nil
}

// checkV2Body returns an error unless a message with this body may be
// sealed.
func checkV2Body(body string) error {
	switch {
	case len(body) > MaxBody:
		return fmt.Errorf("wire: message body is %d bytes, at most %d fit", len(body), MaxBody)
	case !utf8.ValidString(body):
		return fmt.Errorf("wire: message body is not valid UTF-8")
	}
	return nil
}

// v2OpenMessage opens a version 2 sealed message with its message key
// and parses it (docs/PROTOCOL.md §13). n is the number the frame gave,
// bound by the associated data.
func v2OpenMessage(mk *key32, ad []byte, n uint64, sealed []byte) (Message, error) {
	switch {
	case len(sealed) < v2MinSealed:
		return Message{}, fmt.Errorf("%w: sealed message of %d bytes", ErrTruncated, len(sealed))
	case len(sealed) > v2MaxSealed:
		return Message{}, fmt.Errorf("%w: sealed message of %d bytes, at most %d", ErrTooLarge, len(sealed), v2MaxSealed)
	}
	plain, ok := v2OpenAEAD(mk, sealed, ad)
	if !ok {
		return Message{}, fmt.Errorf("%w: message %d", ErrDecrypt, n)
	}
	return parseV2Plaintext(n, plain)
}

// parseV2Plaintext checks and parses an authentic version 2 message
// plaintext: one valid encoding per message, as in version 1.
func parseV2Plaintext(n uint64, plain []byte) (Message, error) {
	if len(plain) < v2MsgHeaderSize {
		return Message{}, fmt.Errorf("%w: message plaintext of %d bytes", ErrTruncated, len(plain))
	}
	sentAt := int64(binary.BigEndian.Uint64(plain))
	bodyLen := int(binary.BigEndian.Uint16(plain[8:]))
	switch {
	case bodyLen > MaxBody:
		return Message{}, fmt.Errorf("%w: body length %d, at most %d", ErrMalformed, bodyLen, MaxBody)
	case len(plain) != bucket(v2MsgHeaderSize+bodyLen):
		return Message{}, fmt.Errorf("%w: plaintext of %d bytes for a body of %d", ErrMalformed, len(plain), bodyLen)
	}
	body := plain[v2MsgHeaderSize : v2MsgHeaderSize+bodyLen]
	if !allZero(plain[v2MsgHeaderSize+bodyLen:]) {
		return Message{}, fmt.Errorf("%w: non-zero padding", ErrMalformed)
	}
	if !utf8.Valid(body) {
		return Message{}, fmt.Errorf("%w: body is not valid UTF-8", ErrMalformed)
	}
	return Message{N: n, SentAt: time.UnixMilli(sentAt), Body: string(body)}, nil
}
