package keyring

import (
	"crypto/ecdh"
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/hex"
	"errors"
	"fmt"
	"strings"

	"github.com/dhtchat/dhtchat/internal/bech32"
)

// Human-readable prefixes of the Bech32 key encodings. The public prefix is
// lower case ("dhtchat1…"), the secret one upper case
// ("DHTCHAT-SECRET-KEY-1…"), as age does, so the two can never be confused
// by eye or by parser.
const (
	publicHRP = "dhtchat"
	secretHRP = "DHTCHAT-SECRET-KEY-"
)

// KeySize is the size in bytes of public and secret keys.
const KeySize = 32

var (
	// ErrLowOrder is returned for a public key that is a low-order point of
	// Curve25519 (all zeros among them): a Diffie-Hellman with it gives the
	// all-zero shared secret whatever the secret key, so anyone could
	// compute the "secret" a message would be sealed under.
	ErrLowOrder = errors.New("keyring: not a valid public key: low-order point")

	// ErrNonCanonical is returned for a public key whose 32 bytes are not
	// the canonical encoding of a field element (the top bit set, or a value
	// of at least 2^255-19). RFC 7748 allows them, but one point would then
	// have several encodings, and so several identities; no honest
	// implementation produces them.
	ErrNonCanonical = errors.New("keyring: not a valid public key: non-canonical encoding")

	// ErrSecretAsPublic is wrapped by the ParseError returned when a secret
	// key is given where a public key is expected.
	ErrSecretAsPublic = errors.New("keyring: this is a secret key, not a public key; never share it")

	// ErrPublicAsSecret is wrapped by the ParseError returned when a public
	// key is given where a secret key is expected.
	ErrPublicAsSecret = errors.New("keyring: this is a public key, not a secret key")

	// ErrWrongPrefix is wrapped by the ParseError for a well-formed string of
	// some other kind (an age key, say).
	ErrWrongPrefix = errors.New("keyring: wrong key prefix")

	// ErrKeyLength is wrapped by the ParseError for an encoding whose payload
	// is not 32 bytes (usually a truncated paste).
	ErrKeyLength = errors.New("keyring: wrong key length")

	// ErrZeroSecretKey is returned for an all-zero secret key, which only a
	// bug produces.
	ErrZeroSecretKey = errors.New("keyring: not a valid secret key: all zeros")
)

// ParseError describes why a key string could not be parsed. Its message
// never contains the input, which may be a secret key. Err is the cause
// (ErrSecretAsPublic, ErrLowOrder, a bech32 sentinel, …) for errors.Is.
type ParseError struct {
	Kind string // "public key" or "secret key"
	Msg  string // what is wrong, for a person
	Err  error
}

func (e *ParseError) Error() string {
	return "keyring: invalid " + e.Kind + ": " + e.Msg
}

func (e *ParseError) Unwrap() error { return e.Err }

// PublicKey is an X25519 public key in the nacl/box format: a canonical,
// not low-order Curve25519 point, 32 bytes little-endian. Every PublicKey
// obtained from this package (other than the zero value) has been
// validated, so it is safe to use with box.Precompute.
type PublicKey struct {
	k [KeySize]byte
}

// SecretKey is an X25519 secret key in the nacl/box format (a raw 32-byte
// scalar, clamped when used). It never prints itself: String, GoString and
// every fmt verb give "SecretKey(redacted)", and it has no text or JSON
// marshalling, so it can't leak through a log line or an encoder.
type SecretKey struct {
	k [KeySize]byte
}

// GenerateSecretKey returns a new random secret key from crypto/rand.
func GenerateSecretKey() (SecretKey, error) {
	priv, err := ecdh.X25519().GenerateKey(rand.Reader)
	if err != nil {
		return SecretKey{}, fmt.Errorf("keyring: generating key: %w", err)
	}
	var s SecretKey
	copy(s.k[:], priv.Bytes())
	return s, nil
}

// SecretKeyFromBytes returns the secret key with the raw scalar b.
func SecretKeyFromBytes(b [KeySize]byte) (SecretKey, error) {
	if b == [KeySize]byte{} {
		return SecretKey{}, ErrZeroSecretKey
	}
	return SecretKey{k: b}, nil
}

// IsZero reports whether s is the zero value (no key).
func (s SecretKey) IsZero() bool { return s.k == [KeySize]byte{} }

func (s SecretKey) private() *ecdh.PrivateKey {
	// NewPrivateKey only fails for a wrong length.
	priv, err := ecdh.X25519().NewPrivateKey(s.k[:])
	if err != nil {
		panic("keyring: internal error: " + err.Error())
	}
	return priv
}

// Public returns the public key of s.
func (s SecretKey) Public() PublicKey {
	var p PublicKey
	copy(p.k[:], s.private().PublicKey().Bytes())
	return p
}

// SharedSecret returns the X25519 Diffie-Hellman shared secret of s and
// peer, or ErrLowOrder if it is all zeros (peer is the zero PublicKey).
// It is the raw X25519 output: derive keys from it with a KDF.
func (s SecretKey) SharedSecret(peer PublicKey) ([32]byte, error) {
	var out [32]byte
	pub, err := ecdh.X25519().NewPublicKey(peer.k[:])
	if err != nil {
		return out, ErrLowOrder
	}
	// crypto/ecdh refuses an all-zero result, as RFC 7748 §6.1 recommends.
	shared, err := s.private().ECDH(pub)
	if err != nil {
		return out, ErrLowOrder
	}
	copy(out[:], shared)
	return out, nil
}

// String returns "SecretKey(redacted)": a secret key never prints itself.
func (s SecretKey) String() string { return "SecretKey(redacted)" }

// GoString is like String, for %#v.
func (s SecretKey) GoString() string { return "keyring.SecretKey(redacted)" }

// Format makes every fmt verb (%x and %d included) print the redacted form.
func (s SecretKey) Format(f fmt.State, verb rune) {
	if verb == 'v' && f.Flag('#') {
		fmt.Fprint(f, s.GoString())
		return
	}
	fmt.Fprint(f, s.String())
}

// EncodeSecret returns the text encoding of s, "DHTCHAT-SECRET-KEY-1…".
// It is the secret itself: it belongs in the keyring file and nowhere else.
func (s SecretKey) EncodeSecret() string {
	str, err := bech32.Encode(secretHRP, s.k[:])
	if err != nil {
		panic("keyring: internal error: " + err.Error())
	}
	return str
}

// lowOrderProbe is a fixed, public scalar. Every X25519 scalar is clamped to
// a multiple of the cofactor 8, so multiplying any point of order 1, 2, 4 or
// 8 by it gives the identity, which crypto/ecdh reports as an error. The
// scalar's value is otherwise irrelevant, so a constant does as well as a
// fresh random one and keeps validation deterministic.
var lowOrderProbe = func() *ecdh.PrivateKey {
	seed := sha256.Sum256([]byte("dhtchat low-order probe"))
	k, err := ecdh.X25519().NewPrivateKey(seed[:])
	if err != nil {
		panic(err)
	}
	return k
}()

// PublicKeyFromBytes returns the public key with the raw encoding b, or
// ErrLowOrder or ErrNonCanonical if b is not one to use. The all-zero key
// and the other low-order points can't be constructed.
func PublicKeyFromBytes(b [KeySize]byte) (PublicKey, error) {
	pub, err := ecdh.X25519().NewPublicKey(b[:])
	if err != nil {
		return PublicKey{}, ErrLowOrder
	}
	if _, err := lowOrderProbe.ECDH(pub); err != nil {
		return PublicKey{}, ErrLowOrder
	}
	if !canonical(b) {
		return PublicKey{}, ErrNonCanonical
	}
	return PublicKey{k: b}, nil
}

// canonical reports whether b, little-endian, is below p = 2^255 - 19.
func canonical(b [KeySize]byte) bool {
	if b[31]&0x80 != 0 {
		return false
	}
	// The values from p to 2^255-1 are 0x7fff…ffed to 0x7fff…ffff.
	if b[31] != 0x7f || b[0] < 0xed {
		return true
	}
	for _, c := range b[1:31] {
		if c != 0xff {
			return true
		}
	}
	return false
}

// IsZero reports whether p is the zero value (no key).
func (p PublicKey) IsZero() bool { return p.k == [KeySize]byte{} }

// Bytes returns the raw 32-byte encoding, for nacl/box.
func (p PublicKey) Bytes() [KeySize]byte { return p.k }

// Equal reports whether p and q are the same key, in constant time.
func (p PublicKey) Equal(q PublicKey) bool {
	return subtle.ConstantTimeCompare(p.k[:], q.k[:]) == 1
}

// String returns the text encoding of p, "dhtchat1…".
func (p PublicKey) String() string {
	str, err := bech32.Encode(publicHRP, p.k[:])
	if err != nil {
		panic("keyring: internal error: " + err.Error())
	}
	return str
}

// MarshalText implements encoding.TextMarshaler. The zero key is refused,
// so that no file ever holds a key that would not parse back.
func (p PublicKey) MarshalText() ([]byte, error) {
	if p.IsZero() {
		return nil, errors.New("keyring: cannot encode the zero public key")
	}
	return []byte(p.String()), nil
}

// UnmarshalText implements encoding.TextUnmarshaler, with ParsePublicKey.
func (p *PublicKey) UnmarshalText(text []byte) error {
	k, err := ParsePublicKey(string(text))
	if err != nil {
		return err
	}
	*p = k
	return nil
}

// fingerprintLabel domain-separates fingerprints from any other hash of a key.
const fingerprintLabel = "dhtchat fingerprint v1"

// Fingerprint returns a short string for two people to compare, out of
// band, to check they hold the same key: the first 10 bytes (80 bits) of
// SHA-256("dhtchat fingerprint v1" || key) in lower-case hex, in five groups
// of four digits separated by spaces, e.g. "3f2a 91c0 5be7 0d44 e1a9".
// 80 bits is enough against a second-preimage search for one given key,
// and short enough that people actually read all of it.
func (p PublicKey) Fingerprint() string {
	h := sha256.New()
	h.Write([]byte(fingerprintLabel))
	h.Write(p.k[:])
	sum := hex.EncodeToString(h.Sum(nil)[:10])
	var b strings.Builder
	for i := 0; i < len(sum); i += 4 {
		if i > 0 {
			b.WriteByte(' ')
		}
		b.WriteString(sum[i : i+4])
	}
	return b.String()
}

// ParsePublicKey parses a public key "dhtchat1…", ignoring surrounding
// white space. Errors are *ParseError with a message fit for the user; a
// secret key is recognized and refused with a warning not to share it,
// even if it has a typo.
func ParsePublicKey(s string) (PublicKey, error) {
	s = strings.TrimSpace(s)
	lower := strings.ToLower(s)
	perr := func(msg string, err error) (PublicKey, error) {
		return PublicKey{}, &ParseError{Kind: "public key", Msg: msg, Err: err}
	}
	// Checked first, before anything could echo a character of it.
	if strings.HasPrefix(lower, strings.ToLower(secretHRP)) {
		return perr("this is a secret key, not a public key; never share it", ErrSecretAsPublic)
	}
	hrp, data, err := decode(s)
	if err != nil {
		return perr(describeDecodeError(err, lengthHint(s, publicHRP), true), err)
	}
	if hrp != publicHRP {
		return perr(fmt.Sprintf("unknown prefix %q, want a key starting with %q", truncate(hrp, 20), publicHRP+"1"), ErrWrongPrefix)
	}
	if len(data) != KeySize {
		return perr(fmt.Sprintf("wrong length (%d bytes, want %d); was it cut short?", len(data), KeySize), ErrKeyLength)
	}
	k, err := PublicKeyFromBytes([KeySize]byte(data))
	switch {
	case errors.Is(err, ErrLowOrder):
		return perr("not a valid public key: low-order point", err)
	case err != nil:
		return perr("not a valid public key: non-canonical encoding", err)
	}
	return k, nil
}

// ParseSecretKey parses a secret key "DHTCHAT-SECRET-KEY-1…", ignoring
// surrounding white space. Its errors never contain any part of s.
func ParseSecretKey(s string) (SecretKey, error) {
	s = strings.TrimSpace(s)
	perr := func(msg string, err error) (SecretKey, error) {
		return SecretKey{}, &ParseError{Kind: "secret key", Msg: msg, Err: err}
	}
	hrp, data, err := decode(s)
	if err != nil {
		return perr(describeDecodeError(err, lengthHint(s, secretHRP), false), err)
	}
	switch hrp {
	case strings.ToLower(secretHRP):
	case publicHRP:
		return perr("this is a public key, not a secret key", ErrPublicAsSecret)
	default:
		return perr(fmt.Sprintf("unknown prefix, want a key starting with %q", secretHRP+"1"), ErrWrongPrefix)
	}
	if len(data) != KeySize {
		return perr(fmt.Sprintf("wrong length (%d bytes, want %d); was it cut short?", len(data), KeySize), ErrKeyLength)
	}
	k, err := SecretKeyFromBytes([KeySize]byte(data))
	if err != nil {
		return perr("all zeros", err)
	}
	return k, nil
}

func decode(s string) (string, []byte, error) {
	if s == "" {
		return "", nil, errEmpty
	}
	return bech32.Decode(s)
}

var errEmpty = errors.New("keyring: empty key")

// encodedLen is the length of the encoding of a key with prefix hrp: the
// prefix, '1', 52 characters for 32 bytes and 6 for the checksum.
func encodedLen(hrp string) int { return len(hrp) + 1 + (KeySize*8+4)/5 + 6 }

// lengthHint explains a checksum failure by the length of s when a key
// with prefix hrp would be longer or shorter: a paste cut short is more
// common than a typo, and "check for a typo" would send the user looking
// in the wrong place.
func lengthHint(s, hrp string) string {
	if !strings.HasPrefix(strings.ToLower(s), strings.ToLower(hrp)+"1") {
		return ""
	}
	switch n, want := len(s), encodedLen(hrp); {
	case n < want:
		return fmt.Sprintf("too short (%d characters, want %d); was it cut short?", n, want)
	case n > want:
		return fmt.Sprintf("too long (%d characters, want %d); check for extra characters", n, want)
	}
	return ""
}

// describeDecodeError turns a bech32 error into words for the user. For
// secret keys (echo false) it never quotes a character of the input.
func describeDecodeError(err error, hint string, echo bool) string {
	switch {
	case errors.Is(err, bech32.ErrChecksum) && hint != "":
		return hint
	case errors.Is(err, errEmpty):
		return "empty"
	case errors.Is(err, bech32.ErrMixedCase):
		return "mixed upper and lower case; keys are all lower case (or all upper case)"
	case errors.Is(err, bech32.ErrChecksum):
		return "checksum mismatch; check for a typo"
	case errors.Is(err, bech32.ErrTooShort):
		return "too short; was it cut short?"
	case errors.Is(err, bech32.ErrTooLong):
		return "too long"
	case errors.Is(err, bech32.ErrInvalidBits):
		return "wrong length; was it cut short?"
	case errors.Is(err, bech32.ErrNoSeparator), errors.Is(err, bech32.ErrInvalidHRP):
		return "not a key (no recognizable prefix)"
	case errors.Is(err, bech32.ErrInvalidChar):
		if echo {
			// The bech32 message names the character and its position.
			return strings.TrimPrefix(err.Error(), "bech32: ") + "; check for a typo"
		}
		return "invalid character; check for a typo"
	}
	return "not a key"
}

func truncate(s string, n int) string {
	if len(s) > n {
		return s[:n] + "…"
	}
	return s
}
