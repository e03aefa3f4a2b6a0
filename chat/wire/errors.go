package wire

import (
	"errors"
	"fmt"
)

// Errors returned by the parsers of untrusted bytes ([Keys.Open],
// [Keys.DecodeSlot]) and by the sequence check. Each is wrapped
// with a detail, so compare with [errors.Is].
var (
	// ErrTruncated: the input is shorter than the smallest valid encoding,
	// or ends inside a length-prefixed frame.
	ErrTruncated = errors.New("wire: truncated")
	// ErrTooLarge: the input is longer than any valid encoding can be.
	ErrTooLarge = errors.New("wire: too large")
	// ErrMalformed: the input has a valid length and (where sealed)
	// authenticates, but breaks a rule of the format: a bad length,
	// non-zero padding, a non-canonical size, invalid UTF-8, a count that
	// cannot fit, messages out of order.
	ErrMalformed = errors.New("wire: malformed")
	// ErrDecrypt: a sealed header or message does not authenticate under
	// the expected key. It was sealed for another chat or the other
	// direction, or it was corrupted or forged.
	ErrDecrypt = errors.New("wire: cannot be opened (another chat, the other direction, or corrupted)")
	// ErrWrongDirection: an authenticated message or header names the other
	// direction. With per-direction keys this cannot happen unless a key is
	// reused; it is checked anyway, as docs/PROTOCOL.md requires.
	ErrWrongDirection = errors.New("wire: written in the other direction")
	// ErrMismatch: an authenticated slot header names another slot index or
	// another sequence number than the record it arrived in.
	ErrMismatch = errors.New("wire: slot header does not match its record")
	// ErrStale: a slot record's sequence number is not above the highest
	// already accepted for that slot: an unchanged record read again, a
	// replay, or a rollback by a DHT node serving an old record.
	ErrStale = errors.New("wire: stale slot record (not newer than the last accepted)")
)

// UnknownVersionError is returned when a message or slot record carries a
// format version this client does not speak. It is never misparsed as a
// known version.
type UnknownVersionError struct {
	What    string // "message" or "slot record"
	Version uint8
}

func (e *UnknownVersionError) Error() string {
	return fmt.Sprintf("wire: %s has unknown format version %d (this client speaks version %d; the other client may be newer)",
		e.What, e.Version, version)
}

// Errors of protocol version 2.
var (
	// ErrEpoch: a version 2 record of an epoch the reader does not read
	// now and does not expect next, or a slot other than 0 of an epoch not
	// entered yet through slot 0.
	ErrEpoch = errors.New("wire: record of an epoch this reader does not expect")
	// ErrTooManySkipped: a version 2 record would make the reader derive
	// more than MaxSkip message keys ahead.
	ErrTooManySkipped = errors.New("wire: too many skipped messages")
)
