package wire

import (
	"bytes"
	"crypto/ed25519"
	"crypto/hkdf"
	"crypto/sha256"
	"crypto/subtle"
	"errors"
	"fmt"
)

// The HKDF labels of protocol version 1. They are part of the wire format:
// changing one changes every name and key (docs/PROTOCOL.md, "Derivations").
const (
	labelPair       = "dhtchat/v1 pair"         // salt of pair_key
	labelChatKeyTag = "dhtchat/v1 chat-key-tag" // info of the chat key's tag
	labelChat       = "dhtchat/v1 chat"         // info of chat_secret
	labelMsg        = "dhtchat/v1 msg"          // info prefix of msg_key[d]
	labelSlot       = "dhtchat/v1 slot"         // info prefix of a slot's signing seed
	// The live path's keys (live.go).
	labelLiveAnn   = "dhtchat/v1 live-ann"   // info prefix of live_ann_key[d]
	labelLiveHello = "dhtchat/v1 live-hello" // info prefix of live_hello_key[d]
	labelLiveSig   = "dhtchat/v1 live-sig"   // info prefix of live_sig_key[d]
)

// MaxSlots is the number of slots (IPNS records) each direction of a chat
// may use. More slots let a larger backlog wait in the DHT while its writer
// is offline; a reader fetches only the slots it needs (see SlotHeader.MaxN).
const MaxSlots = 16

// Direction names the writer of a message or slot: the party with the
// bytewise smaller public key writes [FromLo], the other writes [FromHi].
type Direction uint8

const (
	FromLo Direction = 0 // written by the party whose public key sorts first
	FromHi Direction = 1 // written by the party whose public key sorts last
)

// DirectionOf returns the direction that the party with public key self
// writes in its chats with peer. The keys must differ ([DerivePairKey]
// rejects equal keys).
func DirectionOf(self, peer [32]byte) Direction {
	if bytes.Compare(self[:], peer[:]) < 0 {
		return FromLo
	}
	return FromHi
}

// Other returns the opposite direction: the one a party reads.
func (d Direction) Other() Direction { return d ^ 1 }

// String returns "from-lo", "from-hi", or a description of an invalid value.
func (d Direction) String() string {
	switch d {
	case FromLo:
		return "from-lo"
	case FromHi:
		return "from-hi"
	}
	return fmt.Sprintf("Direction(%d)", uint8(d))
}

func (d Direction) valid() bool { return d == FromLo || d == FromHi }

func errDirection(d Direction) error {
	return fmt.Errorf("wire: invalid direction %d", uint8(d))
}

var (
	// ErrSameKey is returned by DerivePairKey for a pair of identical
	// public keys: a user cannot befriend their own key.
	ErrSameKey = errors.New("wire: the friend's public key is your own public key")
	// ErrZeroSecret is returned by DerivePairKey for an all-zero shared
	// secret, the result of a low-order public key: such a "secret" is
	// public, so nothing may be derived from it.
	ErrZeroSecret = errors.New("wire: the shared secret is all zeros (invalid public key)")
)

// PairKey is the secret that two parties share for all their chats,
// derived from their X25519 shared secret. It formats as a redacted
// placeholder; the key itself never leaves the package.
type PairKey struct {
	k [32]byte
}

// DerivePairKey derives the pair key of the parties with X25519 public keys
// a and b (in either order) from their raw X25519 shared secret. The caller
// computes shared with crypto/ecdh, which validates the peer's key.
//
//	pair_key = HKDF-SHA256(ikm = shared, salt = "dhtchat/v1 pair", info = pk_lo || pk_hi)
func DerivePairKey(shared, a, b [32]byte) (PairKey, error) {
	var zero [32]byte
	if subtle.ConstantTimeCompare(shared[:], zero[:]) == 1 {
		return PairKey{}, ErrZeroSecret
	}
	if a == b {
		return PairKey{}, ErrSameKey
	}
	lo, hi := a, b
	if bytes.Compare(lo[:], hi[:]) > 0 {
		lo, hi = hi, lo
	}
	info := string(lo[:]) + string(hi[:])
	return PairKey{k: hkdf32(shared[:], []byte(labelPair), info)}, nil
}

// Equal reports in constant time whether p and q are the same key.
func (p PairKey) Equal(q PairKey) bool {
	return subtle.ConstantTimeCompare(p.k[:], q.k[:]) == 1
}

// String returns a placeholder: a pair key is never printed.
func (PairKey) String() string { return "wire.PairKey{REDACTED}" }

// GoString returns a placeholder: a pair key is never printed.
func (PairKey) GoString() string { return "wire.PairKey{REDACTED}" }

// Format prints the placeholder for every verb, so that %x or %d cannot
// reveal the key either.
func (p PairKey) Format(f fmt.State, _ rune) { fmt.Fprint(f, p.String()) }

// hkdf32 is HKDF-SHA256 (RFC 5869, extract then expand) with a 32-byte output.
func hkdf32(secret, salt []byte, info string) [32]byte {
	out, err := hkdf.Key(sha256.New, secret, salt, info, 32)
	if err != nil {
		// Only an output longer than 255*32 bytes (or a FIPS 140-only
		// restriction on tiny secrets, which ours never are) fails.
		panic("wire: hkdf: " + err.Error())
	}
	return [32]byte(out)
}

// Keys holds every key of one chat, both directions: the message keys and
// the slots' Ed25519 signing keys. Both parties derive the same Keys; each
// uses its own direction to write and the other to read. Keys is immutable
// and safe for concurrent use. It formats as a redacted placeholder.
type Keys struct {
	key   ChatKey
	msg   [2][32]byte
	slots [2][MaxSlots]ed25519.PrivateKey
	// The live path's keys (live.go): one seals a direction's reachability
	// announcements, the other makes the tags of its hellos.
	liveAnn, liveHello [2][32]byte
	// liveSig seals a direction's typing indicators and read receipts
	// (livesignal.go).
	liveSig [2][32]byte
}

// DeriveKeys derives the keys of the chat with identifier id for the pair
// whose pair key is p, with no check: for a chat that this party started
// (NewChatKey) or joined before. A chat key from elsewhere goes through
// [ChatKey.Keys], which catches one made for another pair.
func DeriveKeys(p PairKey, id ChatID) *Keys {
	return deriveKeys(p, ChatKeyFor(p, id))
}

// deriveKeys derives the keys of chat key c from the pair key. The caller
// has checked c's tag against p.
//
//	chat_secret  = HKDF(pair_key, salt = id, info = "dhtchat/v1 chat")
//	msg_key[d]   = HKDF(chat_secret, salt = "", info = "dhtchat/v1 msg" || d)
//	slot_seed[d][i] = HKDF(chat_secret, salt = "", info = "dhtchat/v1 slot" || d || i)
//	live_ann_key[d]   = HKDF(chat_secret, salt = "", info = "dhtchat/v1 live-ann" || d)
//	live_hello_key[d] = HKDF(chat_secret, salt = "", info = "dhtchat/v1 live-hello" || d)
//	live_sig_key[d]   = HKDF(chat_secret, salt = "", info = "dhtchat/v1 live-sig" || d)
func deriveKeys(p PairKey, c ChatKey) *Keys {
	k := &Keys{key: c}
	secret := hkdf32(p.k[:], c.id[:], labelChat)
	for d := range 2 {
		k.msg[d] = hkdf32(secret[:], nil, labelMsg+string([]byte{byte(d)}))
		k.liveAnn[d] = hkdf32(secret[:], nil, labelLiveAnn+string([]byte{byte(d)}))
		k.liveHello[d] = hkdf32(secret[:], nil, labelLiveHello+string([]byte{byte(d)}))
		k.liveSig[d] = hkdf32(secret[:], nil, labelLiveSig+string([]byte{byte(d)}))
		for i := range MaxSlots {
			seed := hkdf32(secret[:], nil, labelSlot+string([]byte{byte(d), byte(i)}))
			k.slots[d][i] = ed25519.NewKeyFromSeed(seed[:])
		}
	}
	return k
}

// ID returns the chat's identifier in the protocol.
func (k *Keys) ID() ChatID { return k.key.id }

// ChatKey returns the chat key these keys were derived from, for showing
// it again.
func (k *Keys) ChatKey() ChatKey { return k.key }

// SlotPrivateKey returns the Ed25519 key that signs the IPNS record of slot
// i of direction d. Only the owner of direction d should use it. It panics
// if d or i is out of range, as an index would.
func (k *Keys) SlotPrivateKey(d Direction, i int) ed25519.PrivateKey {
	k.checkSlot(d, i)
	return bytes.Clone(k.slots[d][i])
}

// SlotPublicKey returns the public key of slot i of direction d; the slot's
// IPNS name is the name of this key. It panics if d or i is out of range.
func (k *Keys) SlotPublicKey(d Direction, i int) ed25519.PublicKey {
	k.checkSlot(d, i)
	return bytes.Clone(k.slots[d][i][ed25519.SeedSize:])
}

func (k *Keys) checkSlot(d Direction, i int) {
	if !d.valid() || i < 0 || i >= MaxSlots {
		panic(fmt.Sprintf("wire: slot %v/%d out of range", d, i))
	}
}

// String returns a placeholder: chat keys are never printed.
func (Keys) String() string { return "wire.Keys{REDACTED}" }

// GoString returns a placeholder: chat keys are never printed.
func (Keys) GoString() string { return "wire.Keys{REDACTED}" }

// Format prints the placeholder for every verb. It has a value receiver so
// that a dereferenced Keys is redacted too.
func (k Keys) Format(f fmt.State, _ rune) { fmt.Fprint(f, k.String()) }
