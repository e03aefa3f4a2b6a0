package wire

import (
	"crypto/rand"
	"crypto/subtle"
	"encoding/hex"
	"errors"
	"fmt"
	"strings"

	"github.com/dhtchat/dhtchat/internal/bech32"
)

// ChatKeyHRP is the Bech32 human-readable prefix of a chat key's text form.
// It differs from the prefixes of public and secret keys, so that no key of
// one kind parses as another.
const ChatKeyHRP = "dhtchat-chat"

// The human-readable prefixes of the other kinds of dhtchat keys, recognised
// only to say what was pasted instead of a chat key.
const (
	publicKeyHRP = "dhtchat"
	secretMarker = "secret" // any prefix containing it is a secret key's
)

// ChatID is the identifier of a chat in the protocol: the id inside its
// chat key, from which, with the pair key, every name and key of the chat
// is derived (docs/PROTOCOL.md). It is random, chosen by the party who
// starts the chat, and not secret. It is unique only per pair of parties:
// anyone who saw a chat key can start a chat of their own with you under
// the same ChatID, so a client must tell its chats apart by the pair too.
type ChatID [16]byte

// String returns the identifier in lower-case hex.
func (id ChatID) String() string { return hex.EncodeToString(id[:]) }

// ChatKey is what `start` prints and `respond` takes: the chat identifier
// and a tag that binds it to the pair of parties, so that a chat key pasted
// to the wrong friend is caught ([ErrChatKeyNotForYou]) instead of silently
// opening an empty chat nobody writes to.
//
//	chat_key = id(16) || tag(16)
//	tag      = HKDF-SHA256(pair_key, salt = id, info = "dhtchat/v1 chat-key-tag")[:16]
//
// A chat key is not secret: without the pair key it yields no DHT name.
type ChatKey struct {
	id  ChatID
	tag [16]byte
}

// Errors returned by ParseChatKey and ChatKey.Keys.
var (
	ErrChatKeyMixedCase = errors.New("wire: chat key mixes upper and lower case")
	ErrChatKeyChecksum  = errors.New("wire: chat key has a typo (checksum mismatch)")
	ErrChatKeyPrefix    = errors.New("wire: not a chat key")
	ErrChatKeyLength    = errors.New("wire: chat key has the wrong length")
	ErrChatKeyMalformed = errors.New("wire: malformed chat key")
	// ErrChatKeyNotForYou: the chat key was made for another pair of
	// people (or the wrong friend was chosen).
	ErrChatKeyNotForYou = errors.New("wire: this chat key was made for a different pair of people")
)

// NewChatKey makes a chat key with a fresh random identifier for the pair
// whose pair key is p.
func NewChatKey(p PairKey) ChatKey {
	var id ChatID
	rand.Read(id[:]) // never fails (crypto/rand, Go 1.24+)
	return ChatKeyFor(p, id)
}

// ChatKeyFor returns the chat key of the chat with identifier id for the
// pair whose pair key is p: the key NewChatKey made for it, to show again.
func ChatKeyFor(p PairKey, id ChatID) ChatKey {
	full := hkdf32(p.k[:], id[:], labelChatKeyTag)
	return ChatKey{id: id, tag: [16]byte(full[:16])}
}

// ID returns the chat's identifier in the protocol, unique only per pair
// of parties: see [ChatID].
func (c ChatKey) ID() ChatID { return c.id }

// String returns the Bech32 text form, "dhtchat-chat1…" in lower case.
func (c ChatKey) String() string {
	s, err := bech32.Encode(ChatKeyHRP, c.bytes())
	if err != nil {
		panic("wire: bech32: " + err.Error()) // constant HRP, 32 bytes: cannot fail
	}
	return s
}

func (c ChatKey) bytes() []byte {
	return append(c.id[:len(c.id):len(c.id)], c.tag[:]...)
}

// MarshalText returns the text form, as String does.
func (c ChatKey) MarshalText() ([]byte, error) { return []byte(c.String()), nil }

// UnmarshalText parses the text form, as ParseChatKey does.
func (c *ChatKey) UnmarshalText(text []byte) error {
	k, err := ParseChatKey(string(text))
	if err != nil {
		return err
	}
	*c = k
	return nil
}

// ParseChatKey parses the text form of a chat key. Surrounding white space
// (a pasted newline) is ignored; all upper case is accepted, mixed case is
// not. The errors say what is wrong without echoing the input, which might
// be a pasted secret key.
func ParseChatKey(s string) (ChatKey, error) {
	s = strings.TrimSpace(s)
	// Look at the prefix before decoding, so that a secret key pasted here
	// is named as such whatever else is wrong with it.
	if i := strings.LastIndexByte(s, '1'); i >= 0 {
		hrp := strings.ToLower(s[:i])
		switch {
		case strings.Contains(hrp, secretMarker):
			return ChatKey{}, fmt.Errorf("%w: this is a secret key; keep it private and paste the chat key (%s1…) instead", ErrChatKeyPrefix, ChatKeyHRP)
		case hrp == publicKeyHRP:
			return ChatKey{}, fmt.Errorf("%w: this is a public key; a chat key starts with %q", ErrChatKeyPrefix, ChatKeyHRP+"1")
		}
	}
	hrp, data, err := bech32.Decode(s)
	switch {
	case errors.Is(err, bech32.ErrMixedCase):
		return ChatKey{}, ErrChatKeyMixedCase
	case errors.Is(err, bech32.ErrChecksum):
		return ChatKey{}, ErrChatKeyChecksum
	case err != nil:
		return ChatKey{}, fmt.Errorf("%w: %v", ErrChatKeyMalformed, err)
	case hrp != ChatKeyHRP:
		return ChatKey{}, fmt.Errorf("%w: prefix %q, a chat key starts with %q", ErrChatKeyPrefix, hrp+"1", ChatKeyHRP+"1")
	case len(data) != len(ChatID{})+16:
		return ChatKey{}, fmt.Errorf("%w: %d bytes, want %d", ErrChatKeyLength, len(data), len(ChatID{})+16)
	}
	return ChatKey{id: ChatID(data[:16]), tag: [16]byte(data[16:])}, nil
}

// Keys checks in constant time that c was made for the pair whose pair key
// is p and derives the chat's keys. It returns ErrChatKeyNotForYou for a
// chat key made for another pair.
func (c ChatKey) Keys(p PairKey) (*Keys, error) {
	want := ChatKeyFor(p, c.id)
	if subtle.ConstantTimeCompare(want.tag[:], c.tag[:]) != 1 {
		return nil, ErrChatKeyNotForYou
	}
	return deriveKeys(p, c), nil
}
