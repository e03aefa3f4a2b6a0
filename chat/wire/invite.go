package wire

import (
	"bytes"
	"crypto/ed25519"
	"crypto/rand"
	"crypto/subtle"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/dhtchat/dhtchat/internal/bech32"
	"golang.org/x/crypto/chacha20poly1305"
)

// Invites and their rendezvous records (docs/PROTOCOL.md §19, §20).

// InviteHRP is the Bech32 human-readable prefix of an invite's text form.
const InviteHRP = "dhtchat-invite"

// The HKDF labels of invites (docs/PROTOCOL.md §20).
const (
	labelInviteRendezvous = "dhtchat/v1 invite-rendezvous" // info of the rendezvous record's Ed25519 seed
	labelInviteSeal       = "dhtchat/v1 invite-seal"       // info of the acceptance's AEAD key
	labelInviteConfirm    = "dhtchat/v1 invite-confirm"    // info of the acceptor's key confirmation
	labelAcceptance       = "dhtchat/v1 acceptance"        // prefix of the acceptance's associated data
)

// Sizes of the invite and acceptance formats.
const (
	inviteVersion   = 1
	inviteFixedSize = 1 + 32 + 32 + 8 + 1 // version, inviter, secret, expires_at, name_len
	// MaxInviteName is the longest suggested name, in bytes, that an
	// invite or an acceptance carries.
	MaxInviteName = 64
	// MaxInviteText is the length of the longest valid invite text: the
	// prefix, the separator, the data of the largest invite in 5-bit
	// groups and the 6-character checksum. Longer input is refused before
	// it is decoded.
	MaxInviteText = len(InviteHRP) + 1 + ((inviteFixedSize+MaxInviteName)*8+4)/5 + 6

	acceptanceType      = 0x91
	closedType          = 0x92 // the inviter's record closing the invite
	closedUsed          = 1
	closedCancelled     = 2
	acceptancePlainSize = 160 // type, acceptor, confirm, name_len, name, zero padding
	// AcceptanceSize is the size of every sealed acceptance: nonce,
	// ciphertext of the fixed-size plaintext, and tag.
	AcceptanceSize = chacha20poly1305.NonceSizeX + acceptancePlainSize + chacha20poly1305.Overhead // 200
)

// Errors returned by ParseInvite. Each may be wrapped with a detail, so
// compare with [errors.Is].
var (
	ErrInvitePrefix    = errors.New("wire: not an invite")
	ErrInviteChecksum  = errors.New("wire: invite has a typo (checksum mismatch)")
	ErrInviteMixedCase = errors.New("wire: invite mixes upper and lower case")
	ErrInviteTooLong   = errors.New("wire: invite is too long")
	ErrInviteMalformed = errors.New("wire: malformed invite")
)

// Errors returned by OpenAcceptance.
var (
	// ErrAcceptance: the sealed acceptance does not open under the
	// invite's keys (it answers another invite, was forged by someone
	// without the invite, or is corrupted), or breaks the format.
	ErrAcceptance = errors.New("wire: not an acceptance of this invite")
	// ErrAcceptanceConfirm: the acceptance opens, but its key
	// confirmation does not match the acceptor's public key: whoever wrote
	// it does not hold that key's secret.
	ErrAcceptanceConfirm = errors.New("wire: acceptance does not prove possession of its public key")
	// ErrInviteUsed: the inviter closed the invite after taking an
	// acceptance: it cannot be used again.
	ErrInviteUsed = errors.New("wire: the invite has already been used")
	// ErrInviteCancelled: the inviter cancelled the invite.
	ErrInviteCancelled = errors.New("wire: the invite was cancelled by its inviter")
)

// Invite is what `dhtchat invite` prints: the inviter's public key, a fresh
// one-time secret, an expiry and an optional name the inviter suggests for
// itself. Whoever holds an invite can answer it, so its text form is a
// bearer secret: String and Format redact it, and [Invite.Text] encodes it.
type Invite struct {
	inviter [32]byte
	expires time.Time
	name    string
	secret  [32]byte
}

// Inviter returns the inviter's X25519 public key.
func (inv Invite) Inviter() [32]byte { return inv.inviter }

// Expires returns the invite's expiry: after it, both clients refuse it.
func (inv Invite) Expires() time.Time { return inv.expires }

// Name returns the name the inviter suggests for itself, "" for none.
func (inv Invite) Name() string { return inv.name }

// NewInvite makes an invite with a fresh random secret. name must pass the
// rules of [ParseInvite] (at most MaxInviteName bytes of printable UTF-8).
func NewInvite(inviter [32]byte, expires time.Time, name string) (Invite, error) {
	var secret [32]byte
	rand.Read(secret[:]) // never fails (crypto/rand, Go 1.24+)
	return newInvite(inviter, secret, expires, name)
}

func newInvite(inviter, secret [32]byte, expires time.Time, name string) (Invite, error) {
	if err := checkInviteName(name); err != nil {
		return Invite{}, err
	}
	if expires.UnixMilli() <= 0 {
		return Invite{}, fmt.Errorf("wire: invite expiry %v is not after 1970", expires)
	}
	return Invite{inviter: inviter, expires: time.UnixMilli(expires.UnixMilli()), name: name, secret: secret}, nil
}

// checkInviteName returns an error unless name may be carried in an invite
// or an acceptance: at most MaxInviteName bytes of valid UTF-8 made of
// printable characters (spaces allowed), so that a name cannot move the
// cursor or reorder text on the other side's terminal.
func checkInviteName(name string) error {
	if len(name) > MaxInviteName {
		return fmt.Errorf("wire: suggested name is %d bytes, at most %d fit", len(name), MaxInviteName)
	}
	if !utf8.ValidString(name) {
		return errors.New("wire: suggested name is not valid UTF-8")
	}
	for _, r := range name {
		if !unicode.IsPrint(r) {
			return fmt.Errorf("wire: suggested name has the unprintable character %U", r)
		}
	}
	return nil
}

// Expired reports whether the invite has expired at now. Checking it is
// the caller's job, on both sides (docs/PROTOCOL.md §19).
func (inv Invite) Expired(now time.Time) bool { return !now.Before(inv.expires) }

// Equal reports whether inv and o are the same invite, comparing the
// secrets in constant time.
func (inv Invite) Equal(o Invite) bool {
	return subtle.ConstantTimeCompare(inv.secret[:], o.secret[:]) == 1 &&
		inv.inviter == o.inviter && inv.expires.Equal(o.expires) && inv.name == o.name
}

// Text returns the invite's text form, "dhtchat-invite1…" in lower case.
// It carries the secret: show it only to the person invited.
func (inv Invite) Text() string {
	b := make([]byte, 0, inviteFixedSize+len(inv.name))
	b = append(b, inviteVersion)
	b = append(b, inv.inviter[:]...)
	b = append(b, inv.secret[:]...)
	b = binary.BigEndian.AppendUint64(b, uint64(inv.expires.UnixMilli()))
	b = append(b, byte(len(inv.name)))
	b = append(b, inv.name...)
	s, err := bech32.Encode(InviteHRP, b)
	if err != nil {
		panic("wire: bech32: " + err.Error()) // constant HRP: cannot fail
	}
	return s
}

// String returns a placeholder: the invite's secret is never printed by
// accident. Use [Invite.Text] to show it.
func (Invite) String() string { return "wire.Invite{REDACTED}" }

// GoString returns a placeholder, as String does.
func (Invite) GoString() string { return "wire.Invite{REDACTED}" }

// Format prints the placeholder for every verb.
func (inv Invite) Format(f fmt.State, _ rune) { fmt.Fprint(f, inv.String()) }

// ParseInvite parses an invite's text form. Surrounding white space is
// ignored; all upper case (as in a QR code's alphanumeric mode) is
// accepted, mixed case is not. It does not check the expiry (see
// [Invite.Expired]). The errors never echo the input.
func ParseInvite(s string) (Invite, error) {
	s = strings.TrimSpace(s)
	if len(s) > MaxInviteText {
		return Invite{}, fmt.Errorf("%w: %d characters, at most %d", ErrInviteTooLong, len(s), MaxInviteText)
	}
	if i := strings.LastIndexByte(s, '1'); i >= 0 {
		hrp := strings.ToLower(s[:i])
		switch {
		case strings.Contains(hrp, secretMarker):
			return Invite{}, fmt.Errorf("%w: this is a secret key; keep it private and paste the invite (%s1…) instead", ErrInvitePrefix, InviteHRP)
		case hrp == publicKeyHRP:
			return Invite{}, fmt.Errorf("%w: this is a public key; an invite starts with %q", ErrInvitePrefix, InviteHRP+"1")
		case hrp == ChatKeyHRP:
			return Invite{}, fmt.Errorf("%w: this is a chat key; an invite starts with %q", ErrInvitePrefix, InviteHRP+"1")
		}
	}
	hrp, data, err := bech32.Decode(s)
	switch {
	case errors.Is(err, bech32.ErrMixedCase):
		return Invite{}, ErrInviteMixedCase
	case errors.Is(err, bech32.ErrChecksum):
		return Invite{}, ErrInviteChecksum
	case err != nil:
		return Invite{}, fmt.Errorf("%w: %v", ErrInviteMalformed, err)
	case hrp != InviteHRP:
		return Invite{}, fmt.Errorf("%w: an invite starts with %q", ErrInvitePrefix, InviteHRP+"1")
	}
	return decodeInvite(data)
}

// decodeInvite parses the bytes of an invite (§19).
func decodeInvite(b []byte) (Invite, error) {
	if len(b) == 0 {
		return Invite{}, fmt.Errorf("%w: empty", ErrInviteMalformed)
	}
	if b[0] != inviteVersion {
		return Invite{}, &UnknownVersionError{What: "invite", Version: b[0]}
	}
	if len(b) < inviteFixedSize {
		return Invite{}, fmt.Errorf("%w: %d bytes, at least %d", ErrInviteMalformed, len(b), inviteFixedSize)
	}
	n := int(b[inviteFixedSize-1])
	if len(b) != inviteFixedSize+n {
		return Invite{}, fmt.Errorf("%w: %d bytes for a name of %d", ErrInviteMalformed, len(b), n)
	}
	ms := int64(binary.BigEndian.Uint64(b[65:73]))
	if ms <= 0 {
		return Invite{}, fmt.Errorf("%w: expiry %d", ErrInviteMalformed, ms)
	}
	name := string(b[inviteFixedSize:])
	if err := checkInviteName(name); err != nil {
		return Invite{}, fmt.Errorf("%w: %v", ErrInviteMalformed, err)
	}
	inv := Invite{inviter: [32]byte(b[1:33]), secret: [32]byte(b[33:65]), expires: time.UnixMilli(ms), name: name}
	var zero [32]byte
	if inv.secret == zero {
		return Invite{}, fmt.Errorf("%w: all-zero secret", ErrInviteMalformed)
	}
	return inv, nil
}

// RendezvousKeys are the keys of an invite's rendezvous record: the Ed25519
// key whose IPNS name the record has and which signs it, and the AEAD key
// that seals the acceptance in it. Both are derived from the invite's
// secret, bound to the inviter's public key.
type RendezvousKeys struct {
	inviter [32]byte
	secret  [32]byte
	signing ed25519.PrivateKey
	seal    [32]byte
}

// Rendezvous derives the keys of the invite's rendezvous record (§20.1).
//
//	rendezvous_seed = HKDF(invite_secret, salt = inviter_public, info = "dhtchat/v1 invite-rendezvous")
//	seal_key        = HKDF(invite_secret, salt = inviter_public, info = "dhtchat/v1 invite-seal")
func (inv Invite) Rendezvous() *RendezvousKeys {
	seed := hkdf32(inv.secret[:], inv.inviter[:], labelInviteRendezvous)
	return &RendezvousKeys{
		inviter: inv.inviter,
		secret:  inv.secret,
		signing: ed25519.NewKeyFromSeed(seed[:]),
		seal:    hkdf32(inv.secret[:], inv.inviter[:], labelInviteSeal),
	}
}

// PrivateKey returns the Ed25519 key that signs the rendezvous record. The
// acceptor signs with it; the inviter only reads.
func (r *RendezvousKeys) PrivateKey() ed25519.PrivateKey { return bytes.Clone(r.signing) }

// PublicKey returns the rendezvous record's public key; the record's IPNS
// name is the name of this key.
func (r *RendezvousKeys) PublicKey() ed25519.PublicKey {
	return bytes.Clone(r.signing[ed25519.SeedSize:])
}

// String returns a placeholder: rendezvous keys are never printed.
func (RendezvousKeys) String() string { return "wire.RendezvousKeys{REDACTED}" }

// GoString returns a placeholder, as String does.
func (RendezvousKeys) GoString() string { return "wire.RendezvousKeys{REDACTED}" }

// Format prints the placeholder for every verb.
func (r RendezvousKeys) Format(f fmt.State, _ rune) { fmt.Fprint(f, r.String()) }

// ad is the acceptance's associated data: the label, the inviter's public
// key and the record's public key.
func (r *RendezvousKeys) ad() []byte {
	ad := make([]byte, 0, len(labelAcceptance)+32+32)
	ad = append(ad, labelAcceptance...)
	ad = append(ad, r.inviter[:]...)
	return append(ad, r.signing[ed25519.SeedSize:]...)
}

// confirm is the acceptor's key confirmation: only a holder of pair's
// secret half and of the invite's secret can compute it.
//
//	confirm = HKDF(pair_key, salt = invite_secret, info = "dhtchat/v1 invite-confirm")
func (r *RendezvousKeys) confirm(pair PairKey) [32]byte {
	return hkdf32(pair.k[:], r.secret[:], labelInviteConfirm)
}

// Acceptance is what the acceptor of an invite tells the inviter through
// the rendezvous record: its public key and the name it suggests for
// itself.
type Acceptance struct {
	Acceptor [32]byte // the acceptor's X25519 public key
	Name     string   // suggested name of the acceptor, "" for none
}

// SealAcceptance seals the acceptance a for the rendezvous record of the
// invite whose keys are r. pair is the pair key of the acceptor and the
// inviter, as the acceptor derives it (its secret key, the inviter's public
// key): it proves to the inviter that the acceptor holds a.Acceptor's
// secret key. The result is always AcceptanceSize bytes.
func (r *RendezvousKeys) SealAcceptance(a Acceptance, pair PairKey) ([]byte, error) {
	return r.sealAcceptance(rand.Reader, a, pair)
}

func (r *RendezvousKeys) sealAcceptance(rnd io.Reader, a Acceptance, pair PairKey) ([]byte, error) {
	if err := checkInviteName(a.Name); err != nil {
		return nil, err
	}
	if a.Acceptor == r.inviter {
		return nil, ErrSameKey
	}
	if r.secret == ([32]byte{}) {
		return nil, errors.New("wire: the invite has no secret (a zero Invite)")
	}
	plain := make([]byte, acceptancePlainSize)
	plain[0] = acceptanceType
	copy(plain[1:33], a.Acceptor[:])
	c := r.confirm(pair)
	copy(plain[33:65], c[:])
	plain[65] = byte(len(a.Name))
	copy(plain[66:], a.Name)
	k := key32(r.seal)
	return v2Seal(rnd, &k, plain, r.ad())
}

// RendezvousRecord is what a rendezvous record holds once opened: an
// acceptance, or the inviter's note that the invite is closed.
type RendezvousRecord struct {
	// Closed is ErrInviteUsed or ErrInviteCancelled for a closed invite,
	// nil for an acceptance.
	Closed error
	// Acceptance is the acceptance, not yet confirmed: see
	// [RendezvousKeys.Confirms]. Zero for a closed invite.
	Acceptance Acceptance
	confirm    [32]byte
}

// SealUsed seals the record with which the inviter closes a used invite,
// so that a second acceptor's client refuses it with a clear message. It
// is AcceptanceSize bytes, like an acceptance.
func (r *RendezvousKeys) SealUsed() ([]byte, error) { return r.sealClosed(rand.Reader, closedUsed) }

// SealCancelled seals the record with which the inviter closes an invite
// it cancels.
func (r *RendezvousKeys) SealCancelled() ([]byte, error) {
	return r.sealClosed(rand.Reader, closedCancelled)
}

func (r *RendezvousKeys) sealClosed(rnd io.Reader, reason byte) ([]byte, error) {
	plain := make([]byte, acceptancePlainSize)
	plain[0] = closedType
	plain[1] = reason
	k := key32(r.seal)
	return v2Seal(rnd, &k, plain, r.ad())
}

// OpenRecord opens a rendezvous record's sealed content (§20.2): an
// acceptance, whose confirmation it does not check (an acceptor checks
// its own with [RendezvousKeys.Confirms]; the inviter uses
// [RendezvousKeys.OpenAcceptance]), or a closed invite. It returns
// ErrAcceptance for content that does not open or breaks the format.
func (r *RendezvousKeys) OpenRecord(sealed []byte) (RendezvousRecord, error) {
	if len(sealed) != AcceptanceSize {
		return RendezvousRecord{}, fmt.Errorf("%w: %d bytes, want %d", ErrAcceptance, len(sealed), AcceptanceSize)
	}
	k := key32(r.seal)
	plain, ok := v2OpenAEAD(&k, sealed, r.ad())
	if !ok {
		return RendezvousRecord{}, fmt.Errorf("%w: does not authenticate", ErrAcceptance)
	}
	switch plain[0] {
	case acceptanceType:
	case closedType:
		if !allZero(plain[2:]) {
			return RendezvousRecord{}, fmt.Errorf("%w: non-zero padding", ErrAcceptance)
		}
		switch plain[1] {
		case closedUsed:
			return RendezvousRecord{Closed: ErrInviteUsed}, nil
		case closedCancelled:
			return RendezvousRecord{Closed: ErrInviteCancelled}, nil
		}
		return RendezvousRecord{}, fmt.Errorf("%w: closed for unknown reason %d", ErrAcceptance, plain[1])
	default:
		return RendezvousRecord{}, &UnknownVersionError{What: "rendezvous record", Version: plain[0]}
	}
	n := int(plain[65])
	if n > MaxInviteName {
		return RendezvousRecord{}, fmt.Errorf("%w: name of %d bytes", ErrAcceptance, n)
	}
	if !allZero(plain[66+n:]) {
		return RendezvousRecord{}, fmt.Errorf("%w: non-zero padding", ErrAcceptance)
	}
	a := Acceptance{Acceptor: [32]byte(plain[1:33]), Name: string(plain[66 : 66+n])}
	if err := checkInviteName(a.Name); err != nil {
		return RendezvousRecord{}, fmt.Errorf("%w: %v", ErrAcceptance, err)
	}
	if a.Acceptor == r.inviter {
		return RendezvousRecord{}, fmt.Errorf("%w: names the inviter's own key", ErrAcceptance)
	}
	return RendezvousRecord{Acceptance: a, confirm: [32]byte(plain[33:65])}, nil
}

// Confirms reports whether rec is an acceptance whose confirmation matches
// pair, the pair key of its acceptor and the inviter: whether its writer
// holds the acceptor key it names. An acceptor that finds an acceptance
// naming its own key checks it with its own pair key; one that does not
// confirm was planted by someone else holding the invite.
func (r *RendezvousKeys) Confirms(rec RendezvousRecord, pair PairKey) bool {
	if rec.Closed != nil || rec.Acceptance.Acceptor == ([32]byte{}) {
		return false
	}
	want := r.confirm(pair)
	return subtle.ConstantTimeCompare(want[:], rec.confirm[:]) == 1
}

// OpenAcceptance opens, as the inviter, a sealed acceptance read from the
// rendezvous record of the invite whose keys are r. pairWith derives the
// pair key of the inviter and the given acceptor public key (crypto/ecdh
// with the inviter's secret key, then [DerivePairKey]); its error is
// returned as is. OpenAcceptance returns ErrAcceptance for a record that
// does not open or breaks the format, ErrAcceptanceConfirm for one whose
// writer does not hold the acceptor key it names, and ErrInviteUsed or
// ErrInviteCancelled for the inviter's own closing record. It does not
// check the invite's expiry, nor whether the caller took an acceptance
// already: that is the caller's.
func (r *RendezvousKeys) OpenAcceptance(sealed []byte, pairWith func(acceptor [32]byte) (PairKey, error)) (Acceptance, error) {
	rec, err := r.OpenRecord(sealed)
	if err != nil {
		return Acceptance{}, err
	}
	if rec.Closed != nil {
		return Acceptance{}, rec.Closed
	}
	pair, err := pairWith(rec.Acceptance.Acceptor)
	if err != nil {
		return Acceptance{}, err
	}
	if !r.Confirms(rec, pair) {
		return Acceptance{}, ErrAcceptanceConfirm
	}
	return rec.Acceptance, nil
}
