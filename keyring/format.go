package keyring

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"time"
)

// The versions of the plaintext keyring format. Version 2 adds what a
// version 1 reader would refuse (it refuses unknown fields): key changes
// and past keys. A keyring that has neither is still written as version 1,
// so that an older dhtchat keeps reading it until there is something it
// could not keep; both versions are read.
const (
	formatVersion1 = 1
	formatVersion2 = 2
	formatVersion  = formatVersion2 // the newest version this code reads
)

// ErrUnsupportedVersion is wrapped by the error for a keyring file written
// in a format version this code does not know (by a newer dhtchat).
var ErrUnsupportedVersion = errors.New("keyring: unsupported keyring file version")

// fileV2 is the plaintext keyring file, versions 1 and 2:
//
//	{
//	  "version": 2,
//	  "identity": "DHTCHAT-SECRET-KEY-1…",
//	  "friends": [
//	    {"name": "alice", "public_key": "dhtchat1…", "added_at": "2026-01-02T15:04:05Z", "verified": false,
//	     "key_change": {"old_public_key": "dhtchat1…", "changed_at": "2026-03-04T10:00:00Z"}}
//	  ],
//	  "past_keys": [
//	    {"name": "alice", "public_key": "dhtchat1…", "added_at": "…", "ended_at": "…", "verified": true}
//	  ]
//	}
//
// Version 1 is the same without "key_change" and "past_keys". Friends are
// sorted by name; past keys are oldest first. Unknown fields are refused
// rather than dropped on the next write: a field only a newer version
// understands comes with a new version number.
type fileV2 struct {
	Version  int          `json:"version"`
	Identity string       `json:"identity"`
	Friends  []fileFriend `json:"friends"`
	PastKeys []filePast   `json:"past_keys,omitempty"`
}

// fileFriend keeps the key a string so that a bad key is reported with the
// friend's name, which json.Unmarshal through PublicKey.UnmarshalText
// would not do.
type fileFriend struct {
	Name      string         `json:"name"`
	PublicKey string         `json:"public_key"`
	AddedAt   time.Time      `json:"added_at"`
	Verified  bool           `json:"verified"`
	KeyChange *fileKeyChange `json:"key_change,omitempty"`
}

type fileKeyChange struct {
	OldKey    string    `json:"old_public_key"`
	ChangedAt time.Time `json:"changed_at"`
}

type filePast struct {
	Name      string         `json:"name"`
	PublicKey string         `json:"public_key"`
	AddedAt   time.Time      `json:"added_at"`
	EndedAt   time.Time      `json:"ended_at"`
	Verified  bool           `json:"verified"`
	KeyChange *fileKeyChange `json:"key_change,omitempty"`
}

func encodeKeyChange(c *KeyChange) *fileKeyChange {
	if c == nil {
		return nil
	}
	return &fileKeyChange{OldKey: c.OldKey.String(), ChangedAt: c.ChangedAt}
}

func decodeKeyChange(c *fileKeyChange) (*KeyChange, error) {
	if c == nil {
		return nil, nil
	}
	pk, err := ParsePublicKey(c.OldKey)
	if err != nil {
		return nil, fmt.Errorf("old key: %v", err)
	}
	return &KeyChange{OldKey: pk, ChangedAt: c.ChangedAt}, nil
}

// marshalKeyring returns the plaintext file contents for k.
func marshalKeyring(k *Keyring) ([]byte, error) {
	if err := k.check(); err != nil {
		return nil, err
	}
	v := fileV2{
		Version:  formatVersion1,
		Identity: k.Identity.EncodeSecret(),
		Friends:  make([]fileFriend, 0, len(k.Friends)),
	}
	for _, f := range k.Friends {
		if f.KeyChange != nil {
			v.Version = formatVersion2
		}
		v.Friends = append(v.Friends, fileFriend{
			Name:      f.Name,
			PublicKey: f.Key.String(),
			AddedAt:   f.AddedAt,
			Verified:  f.Verified,
			KeyChange: encodeKeyChange(f.KeyChange),
		})
	}
	for _, p := range k.PastKeys {
		v.Version = formatVersion2
		v.PastKeys = append(v.PastKeys, filePast{
			Name: p.Name, PublicKey: p.Key.String(), AddedAt: p.AddedAt, EndedAt: p.EndedAt,
			Verified: p.Verified, KeyChange: encodeKeyChange(p.KeyChange),
		})
	}
	out, err := json.MarshalIndent(v, "", "  ")
	if err != nil {
		return nil, fmt.Errorf("keyring: encoding: %w", err)
	}
	return append(out, '\n'), nil
}

// parseKeyring parses plaintext file contents. Every key is validated
// again (a hand-edited low-order friend key is refused, naming the friend).
// Errors other than ErrUnsupportedVersion mean the data is damaged; they
// never contain the secret key.
func parseKeyring(data []byte) (*Keyring, error) {
	var head struct {
		Version *int `json:"version"`
	}
	if err := json.Unmarshal(data, &head); err != nil {
		return nil, fmt.Errorf("not valid JSON: %v", jsonErr(err))
	}
	switch {
	case head.Version == nil:
		return nil, errors.New(`no "version" field`)
	case *head.Version != formatVersion1 && *head.Version != formatVersion2:
		return nil, fmt.Errorf("%w %d (this dhtchat reads versions 1 and %d; upgrade dhtchat)",
			ErrUnsupportedVersion, *head.Version, formatVersion)
	}

	var v fileV2
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&v); err != nil {
		return nil, fmt.Errorf("not a valid keyring: %v", jsonErr(err))
	}
	if _, err := dec.Token(); err != io.EOF {
		return nil, errors.New("unexpected data after the keyring")
	}
	if v.Identity == "" {
		return nil, errors.New(`no "identity" field`)
	}
	sk, err := ParseSecretKey(v.Identity)
	if err != nil {
		return nil, fmt.Errorf("identity: %v", err)
	}
	k := &Keyring{Identity: sk, Friends: make([]Friend, 0, len(v.Friends))}
	for _, f := range v.Friends {
		if err := ValidName(f.Name); err != nil {
			return nil, err
		}
		pk, err := ParsePublicKey(f.PublicKey)
		if err != nil {
			return nil, fmt.Errorf("friend %q: %v", f.Name, err)
		}
		change, err := decodeKeyChange(f.KeyChange)
		if err != nil {
			return nil, fmt.Errorf("friend %q: %v", f.Name, err)
		}
		k.Friends = append(k.Friends, Friend{Name: f.Name, Key: pk, AddedAt: f.AddedAt, Verified: f.Verified, KeyChange: change})
		if change != nil && v.Version < formatVersion2 {
			return nil, fmt.Errorf(`friend %q: "key_change" in a version %d file`, f.Name, v.Version)
		}
	}
	if len(v.PastKeys) > 0 && v.Version < formatVersion2 {
		return nil, fmt.Errorf(`"past_keys" in a version %d file`, v.Version)
	}
	if len(v.PastKeys) > MaxPastKeys {
		return nil, fmt.Errorf("more than %d past keys", MaxPastKeys)
	}
	for _, p := range v.PastKeys {
		if err := ValidName(p.Name); err != nil {
			return nil, err
		}
		pk, err := ParsePublicKey(p.PublicKey)
		if err != nil {
			return nil, fmt.Errorf("past key of %q: %v", p.Name, err)
		}
		change, err := decodeKeyChange(p.KeyChange)
		if err != nil {
			return nil, fmt.Errorf("past key of %q: %v", p.Name, err)
		}
		k.PastKeys = append(k.PastKeys, PastKey{Name: p.Name, Key: pk, AddedAt: p.AddedAt, EndedAt: p.EndedAt,
			Verified: p.Verified, KeyChange: change})
	}
	if err := k.check(); err != nil {
		return nil, err
	}
	return k, nil
}

// jsonErr drops the decoder's "json: " prefix; the messages name a type
// or a character, never a whole value, so the secret can't leak through.
func jsonErr(err error) string {
	if errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) ||
		err.Error() == "unexpected end of JSON input" {
		return "unexpected end (truncated?)"
	}
	s := err.Error()
	if len(s) > 5 && s[:6] == "json: " {
		s = s[6:]
	}
	return s
}
