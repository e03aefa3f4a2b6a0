// Package keyring holds a dhtchat user's identity and friends: X25519 keys
// and their Bech32 text encodings, the list of friends (name → public key),
// and the keyring file that stores both, written atomically under a lock
// and optionally encrypted with a passphrase (age, scrypt).
//
// The package never touches the network and never prints. Its errors are
// prefixed "keyring: "; sentinels (ErrNotFound, ErrNameTaken, …) are for
// branching with errors.Is, and no error, String or Format output ever
// contains a secret key.
package keyring

import (
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"
)

// Errors about friends and names.
var (
	ErrOwnKey        = errors.New("keyring: that is your own public key")
	ErrNameTaken     = errors.New("keyring: a friend with that name already exists")
	ErrKeyTaken      = errors.New("keyring: that public key already belongs to a friend")
	ErrUnknownFriend = errors.New("keyring: no such friend")
	ErrBadName       = errors.New("keyring: invalid friend name")
)

// FriendError is a friend error naming the friend concerned. It wraps one of
// ErrNameTaken, ErrKeyTaken, ErrUnknownFriend or ErrBadName, or, for a
// keyring file that holds such a friend, ErrOwnKey or ErrLowOrder.
type FriendError struct {
	Name string // the friend concerned (for ErrKeyTaken: the existing one)
	Msg  string // what is wrong, for a person: `no friend named "bob"`
	Err  error
}

func (e *FriendError) Error() string { return "keyring: " + e.Msg }
func (e *FriendError) Unwrap() error { return e.Err }

func friendErr(sentinel error, name, format string) error {
	return &FriendError{Name: name, Err: sentinel, Msg: fmt.Sprintf(format, name)}
}

// Friend is a person you chat with. JSON encodes it as
// {"name","public_key","added_at","verified"}, the format of the keyring
// file, which also suits export and import.
type Friend struct {
	Name    string    `json:"name"`
	Key     PublicKey `json:"public_key"`
	AddedAt time.Time `json:"added_at"`
	// Verified records that the user compared fingerprints (or the safety
	// number) out of band.
	Verified bool `json:"verified"`
	// KeyChange is set when this name was used before with another key
	// (the friend was removed and added again with a new key, or a new
	// friend took the name of a former one): the person behind the name
	// may not be who they were. Verifying the friend clears it.
	KeyChange *KeyChange `json:"key_change,omitempty"`
}

// KeyChange records that a friend's name was bound to another key before.
type KeyChange struct {
	OldKey    PublicKey `json:"old_public_key"` // the key the name had before
	ChangedAt time.Time `json:"changed_at"`     // when the new key was added
}

// TrustState is what the user knows about a friend's key.
type TrustState int

const (
	// Unverified: the key was added but never compared out of band.
	Unverified TrustState = iota
	// Verified: the user compared the fingerprint or safety number.
	Verified
	// KeyChanged: the name had another key before and the new one is not
	// verified yet. Interfaces should say so loudly.
	KeyChanged
)

// String returns "unverified", "verified" or "key changed".
func (t TrustState) String() string {
	switch t {
	case Unverified:
		return "unverified"
	case Verified:
		return "verified"
	case KeyChanged:
		return "key changed"
	}
	return fmt.Sprintf("TrustState(%d)", int(t))
}

// Trust returns the trust state of f's key. A pending key change wins over
// everything: it is cleared only by verifying.
func (f Friend) Trust() TrustState {
	switch {
	case f.KeyChange != nil:
		return KeyChanged
	case f.Verified:
		return Verified
	}
	return Unverified
}

// PastKey is a name-to-key binding that ended: the friend was removed, or
// renamed away from Name. The keyring keeps them (at most MaxPastKeys, the
// oldest dropped first) so that a name that comes back with another key is
// flagged (Friend.KeyChange), and one that comes back with the same key
// gets its verification back.
type PastKey struct {
	Name      string     `json:"name"`
	Key       PublicKey  `json:"public_key"`
	AddedAt   time.Time  `json:"added_at"`
	EndedAt   time.Time  `json:"ended_at"`
	Verified  bool       `json:"verified"`
	KeyChange *KeyChange `json:"key_change,omitempty"`
}

// MaxPastKeys bounds Keyring.PastKeys.
const MaxPastKeys = 256

// Keyring is a user's identity and friends. Friends is kept sorted by name;
// use the methods to change it, which keep names and keys unique.
type Keyring struct {
	Identity SecretKey
	Friends  []Friend
	// PastKeys are the ended name-to-key bindings, oldest first.
	PastKeys []PastKey
}

// New returns a keyring with a freshly generated identity and no friends.
func New() (*Keyring, error) {
	sk, err := GenerateSecretKey()
	if err != nil {
		return nil, err
	}
	return &Keyring{Identity: sk}, nil
}

// MaxNameLen is the maximum length of a friend name in bytes.
const MaxNameLen = 64

// ValidName reports (as an error wrapping ErrBadName) whether name is
// usable as a friend name: 1 to 64 ASCII letters, digits, '-', '_' and
// '.', not starting with '-' (it would read as a flag), and not "." or "..".
//
// Only ASCII is allowed on purpose: a friend name is how a person picks
// whom a message goes to, and Unicode would allow names that look
// identical but differ (Cyrillic "а" in "аlice", NFC versus NFD forms,
// invisible and bidirectional-control characters), as well as terminal
// escape tricks. ASCII names can be typed on any keyboard and are safe in
// shells, file names and terminals.
func ValidName(name string) error {
	bad := func(why string) error {
		return &FriendError{Name: name, Err: ErrBadName,
			Msg: fmt.Sprintf("invalid friend name %q: %s", name, why)}
	}
	switch {
	case name == "":
		return &FriendError{Err: ErrBadName, Msg: "invalid friend name: empty"}
	case len(name) > MaxNameLen:
		return &FriendError{Name: name, Err: ErrBadName,
			Msg: fmt.Sprintf("invalid friend name: longer than %d characters", MaxNameLen)}
	case name == "." || name == "..":
		return bad(`"." and ".." are reserved`)
	case name[0] == '-':
		return bad("must not start with '-'")
	}
	for i := range len(name) {
		c := name[i]
		if !('a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' || c == '-' || c == '_' || c == '.') {
			return bad("only letters a-z, A-Z, digits, '-', '_' and '.' are allowed")
		}
	}
	return nil
}

func (k *Keyring) index(name string) (int, bool) {
	return slices.BinarySearchFunc(k.Friends, name, func(f Friend, name string) int {
		return strings.Compare(f.Name, name)
	})
}

// nameClash returns the friend whose name equals name ignoring case, other
// than except: "Alice" and "alice" side by side would invite mistakes.
func (k *Keyring) nameClash(name, except string) (Friend, bool) {
	for _, f := range k.Friends {
		if f.Name != except && strings.EqualFold(f.Name, name) {
			return f, true
		}
	}
	return Friend{}, false
}

// Friend returns the friend called name.
func (k *Keyring) Friend(name string) (Friend, bool) {
	i, ok := k.index(name)
	if !ok {
		return Friend{}, false
	}
	return k.Friends[i], true
}

// FriendByKey returns the friend whose public key is key.
func (k *Keyring) FriendByKey(key PublicKey) (Friend, bool) {
	for _, f := range k.Friends {
		if f.Key.Equal(key) {
			return f, true
		}
	}
	return Friend{}, false
}

// AddFriend adds a friend called name with key. Adding the same name with
// the same key again does nothing and returns added false. Otherwise it
// fails with ErrBadName, ErrOwnKey, ErrNameTaken (the name, or the same
// name in another case, is someone else's) or ErrKeyTaken (the key is
// already a friend's under another name, which the FriendError names).
func (k *Keyring) AddFriend(name string, key PublicKey) (added bool, err error) {
	if err := ValidName(name); err != nil {
		return false, err
	}
	if key.IsZero() {
		return false, ErrLowOrder
	}
	if !k.Identity.IsZero() && key.Equal(k.Identity.Public()) {
		return false, ErrOwnKey
	}
	if f, ok := k.Friend(name); ok {
		if f.Key.Equal(key) {
			return false, nil
		}
		return false, friendErr(ErrNameTaken, name, "friend %q already exists with a different key")
	}
	if f, ok := k.nameClash(name, ""); ok {
		return false, friendErr(ErrNameTaken, f.Name, "friend %q already exists (names differing only in case are not allowed)")
	}
	if f, ok := k.FriendByKey(key); ok {
		return false, friendErr(ErrKeyTaken, f.Name, "that public key already belongs to friend %q")
	}
	now := time.Now().UTC().Truncate(time.Second)
	f := Friend{Name: name, Key: key, AddedAt: now}
	if past, ok := k.lastPastKey(name); ok {
		if past.Key.Equal(key) {
			// The same person back under the same name: what the user
			// knew of this key still holds.
			f.Verified, f.KeyChange = past.Verified, past.KeyChange
		} else {
			f.KeyChange = &KeyChange{OldKey: past.Key, ChangedAt: now}
		}
	}
	i, _ := k.index(name)
	k.Friends = slices.Insert(k.Friends, i, f)
	return true, nil
}

// lastPastKey returns the latest ended binding of name (ignoring case, as
// names that differ only in case are one name).
func (k *Keyring) lastPastKey(name string) (PastKey, bool) {
	for i := len(k.PastKeys) - 1; i >= 0; i-- {
		if strings.EqualFold(k.PastKeys[i].Name, name) {
			return k.PastKeys[i], true
		}
	}
	return PastKey{}, false
}

// endBinding records that f's name no longer points to f's key.
func (k *Keyring) endBinding(f Friend) {
	k.PastKeys = append(k.PastKeys, PastKey{
		Name: f.Name, Key: f.Key, AddedAt: f.AddedAt,
		EndedAt: time.Now().UTC().Truncate(time.Second), Verified: f.Verified, KeyChange: f.KeyChange,
	})
	if n := len(k.PastKeys) - MaxPastKeys; n > 0 {
		k.PastKeys = slices.Delete(k.PastKeys, 0, n)
	}
}

// RemoveFriend removes the friend called name, or returns ErrUnknownFriend.
func (k *Keyring) RemoveFriend(name string) error {
	i, ok := k.index(name)
	if !ok {
		return friendErr(ErrUnknownFriend, name, "no friend named %q")
	}
	k.endBinding(k.Friends[i])
	k.Friends = slices.Delete(k.Friends, i, i+1)
	return nil
}

// RenameFriend renames the friend called oldName to newName, keeping its
// key, date and verification. Renaming to the same name does nothing.
func (k *Keyring) RenameFriend(oldName, newName string) error {
	i, ok := k.index(oldName)
	if !ok {
		return friendErr(ErrUnknownFriend, oldName, "no friend named %q")
	}
	if oldName == newName {
		return nil
	}
	if err := ValidName(newName); err != nil {
		return err
	}
	if f, ok := k.nameClash(newName, oldName); ok {
		return friendErr(ErrNameTaken, f.Name, "friend %q already exists")
	}
	f := k.Friends[i]
	// The old name is free again; should it come back with another key,
	// that is a key change. (Renaming into a name does not flag anything:
	// the user knows this friend's key under its former name.)
	k.endBinding(f)
	f.Name = newName
	k.Friends = slices.Delete(k.Friends, i, i+1)
	j, _ := k.index(newName)
	k.Friends = slices.Insert(k.Friends, j, f)
	return nil
}

// SetVerified records whether the user has verified the friend's
// fingerprint or safety number out of band. Verifying clears a pending
// key change: the user has now checked the new key.
func (k *Keyring) SetVerified(name string, verified bool) error {
	i, ok := k.index(name)
	if !ok {
		return friendErr(ErrUnknownFriend, name, "no friend named %q")
	}
	k.Friends[i].Verified = verified
	if verified {
		k.Friends[i].KeyChange = nil
	}
	return nil
}

// check validates a whole keyring, as it is about to be stored or has just
// been read: an identity, valid unique names and keys, not our own key.
// It sorts Friends, in case a caller appended to it directly.
func (k *Keyring) check() error {
	if k.Identity.IsZero() {
		return errors.New("keyring: no identity key")
	}
	own := k.Identity.Public()
	slices.SortFunc(k.Friends, func(a, b Friend) int { return strings.Compare(a.Name, b.Name) })
	for i, f := range k.Friends {
		if err := ValidName(f.Name); err != nil {
			return err
		}
		if f.Key.IsZero() {
			return &FriendError{Name: f.Name, Err: ErrLowOrder, Msg: fmt.Sprintf("friend %q has no valid public key", f.Name)}
		}
		if f.Key.Equal(own) {
			return &FriendError{Name: f.Name, Err: ErrOwnKey, Msg: fmt.Sprintf("friend %q has your own public key", f.Name)}
		}
		if f.KeyChange != nil && f.KeyChange.OldKey.IsZero() {
			return fmt.Errorf("keyring: friend %q: key change without the old key", f.Name)
		}
		for _, g := range k.Friends[:i] {
			if strings.EqualFold(f.Name, g.Name) {
				return friendErr(ErrNameTaken, f.Name, "friend %q appears twice")
			}
			if f.Key.Equal(g.Key) {
				return &FriendError{Name: f.Name, Err: ErrKeyTaken,
					Msg: fmt.Sprintf("friends %q and %q have the same public key", g.Name, f.Name)}
			}
		}
	}
	for _, p := range k.PastKeys {
		if err := ValidName(p.Name); err != nil {
			return err
		}
		if p.Key.IsZero() {
			return fmt.Errorf("keyring: past key of %q: %w", p.Name, ErrLowOrder)
		}
		if p.KeyChange != nil && p.KeyChange.OldKey.IsZero() {
			return fmt.Errorf("keyring: past key of %q: key change without the old key", p.Name)
		}
	}
	if len(k.PastKeys) > MaxPastKeys {
		return fmt.Errorf("keyring: more than %d past keys", MaxPastKeys)
	}
	return nil
}
