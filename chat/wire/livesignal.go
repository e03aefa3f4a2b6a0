package wire

import (
	"crypto/rand"
	"encoding/binary"
	"fmt"
)

// Typing indicators and read receipts: optional frames of the live
// stream, never written to the DHT (PROTOCOL.md §17.7). Each carries a
// sealed signal under live_sig_key of the sender's direction, so that
// they hold the chat's keys as the messages do, and a frame of one type
// cannot be replayed as the other or in the other direction.

// The signal frame types. A reader that does not know them skips them
// (§17.4).
const (
	FrameTyping LiveFrameType = 0x10 // a sealed signal: the sender is typing (1) or stopped (0)
	FrameRead   LiveFrameType = 0x11 // a sealed signal: the sender has read messages 1…n of the receiver
)

const (
	signalPlainSize = 1 + 1 + 8 // type || dir || u64 value
	// SealedSignalSize is the size of a sealed signal, the body of a
	// FrameTyping or FrameRead.
	SealedSignalSize = nonceSize + overhead + signalPlainSize // 50
)

// Signal is a typing indicator or a read receipt.
type Signal struct {
	// Type is FrameTyping or FrameRead.
	Type LiveFrameType
	// Value is, for FrameTyping, 1 (typing) or 0 (stopped typing); for
	// FrameRead, n: the sender has read every message 1…n of the
	// receiver's direction.
	Value uint64
}

// isSignal reports whether t is a signal frame type.
func isSignal(t LiveFrameType) bool { return t == FrameTyping || t == FrameRead }

func (s Signal) check() error {
	switch {
	case !isSignal(s.Type):
		return fmt.Errorf("wire: signal of frame type %#02x", uint8(s.Type))
	case s.Type == FrameTyping && s.Value > 1:
		return fmt.Errorf("wire: typing signal with value %d, want 0 or 1", s.Value)
	}
	return nil
}

// SealSignal seals s for direction d (the sender's). The result is
// always SealedSignalSize bytes.
func (k *Keys) SealSignal(d Direction, s Signal) ([]byte, error) {
	var nonce [nonceSize]byte
	rand.Read(nonce[:]) // never fails (crypto/rand, Go 1.24+)
	return k.sealSignalWith(secretBox, d, s, &nonce)
}

func (k *Keys) sealSignalWith(b box, d Direction, s Signal, nonce *[nonceSize]byte) ([]byte, error) {
	if !d.valid() {
		return nil, errDirection(d)
	}
	if err := s.check(); err != nil {
		return nil, err
	}
	plain := binary.BigEndian.AppendUint64([]byte{byte(s.Type), byte(d)}, s.Value)
	out := append(make([]byte, 0, SealedSignalSize), nonce[:]...)
	return b.seal(out, plain, nonce, &k.liveSig[d]), nil
}

// OpenSignal opens a signal that came in a frame of type t, sealed for
// direction d (the sender's: the direction the caller reads), and checks
// it. It returns a typed error and a zero Signal for anything SealSignal
// would not produce for t.
func (k *Keys) OpenSignal(d Direction, t LiveFrameType, sealed []byte) (Signal, error) {
	return k.openSignal(secretBox, d, t, sealed)
}

func (k *Keys) openSignal(b box, d Direction, t LiveFrameType, sealed []byte) (Signal, error) {
	switch {
	case !d.valid():
		return Signal{}, errDirection(d)
	case !isSignal(t):
		return Signal{}, fmt.Errorf("%w: frame type %#02x carries no signal", ErrMalformed, uint8(t))
	case len(sealed) < SealedSignalSize:
		return Signal{}, fmt.Errorf("%w: signal of %d bytes, want %d", ErrTruncated, len(sealed), SealedSignalSize)
	case len(sealed) > SealedSignalSize:
		return Signal{}, fmt.Errorf("%w: signal of %d bytes, want %d", ErrTooLarge, len(sealed), SealedSignalSize)
	}
	nonce := [nonceSize]byte(sealed[:nonceSize])
	p, ok := b.open(nil, sealed[nonceSize:], &nonce, &k.liveSig[d])
	if !ok {
		return Signal{}, fmt.Errorf("%w: signal", ErrDecrypt)
	}
	if len(p) != signalPlainSize {
		return Signal{}, fmt.Errorf("%w: signal plaintext of %d bytes", ErrMalformed, len(p))
	}
	s := Signal{Type: LiveFrameType(p[0]), Value: binary.BigEndian.Uint64(p[2:])}
	switch {
	case s.Type != t:
		return Signal{}, fmt.Errorf("%w: signal of type %#02x in a frame of type %#02x", ErrMalformed, p[0], uint8(t))
	case Direction(p[1]) != d:
		return Signal{}, fmt.Errorf("%w: signal of direction %d, expected %v", ErrWrongDirection, p[1], d)
	}
	if err := s.check(); err != nil {
		return Signal{}, fmt.Errorf("%w: %v", ErrMalformed, err)
	}
	return s, nil
}
