package keyring

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"time"
)

// formatVersion is the version of the plaintext keyring format.
const formatVersion = 1

// ErrUnsupportedVersion is wrapped by the error for a keyring file written
// in a format version this code does not know (by a newer dhtchat).
var ErrUnsupportedVersion = errors.New("keyring: unsupported keyring file version")

// fileV1 is the plaintext keyring file, version 1:
//
//	{
//	  "version": 1,
//	  "identity": "DHTCHAT-SECRET-KEY-1…",
//	  "friends": [
//	    {"name": "alice", "public_key": "dhtchat1…", "added_at": "2026-01-02T15:04:05Z", "verified": false}
//	  ]
//	}
//
// Friends are sorted by name. Unknown fields are refused rather than
// dropped on the next write: a field only a newer version understands
// comes with a new version number.
type fileV1 struct {
	Version  int          `json:"version"`
	Identity string       `json:"identity"`
	Friends  []fileFriend `json:"friends"`
}

// fileFriend keeps the key a string so that a bad key is reported with the
// friend's name, which json.Unmarshal through PublicKey.UnmarshalText
// would not do.
type fileFriend struct {
	Name      string    `json:"name"`
	PublicKey string    `json:"public_key"`
	AddedAt   time.Time `json:"added_at"`
	Verified  bool      `json:"verified"`
}

// marshalKeyring returns the plaintext file contents for k.
func marshalKeyring(k *Keyring) ([]byte, error) {
	if err := k.check(); err != nil {
		return nil, err
	}
	v := fileV1{
		Version:  formatVersion,
		Identity: k.Identity.EncodeSecret(),
		Friends:  make([]fileFriend, 0, len(k.Friends)),
	}
	for _, f := range k.Friends {
		v.Friends = append(v.Friends, fileFriend{
			Name:      f.Name,
			PublicKey: f.Key.String(),
			AddedAt:   f.AddedAt,
			Verified:  f.Verified,
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
	case *head.Version != formatVersion:
		return nil, fmt.Errorf("%w %d (this dhtchat reads version %d; upgrade dhtchat)",
			ErrUnsupportedVersion, *head.Version, formatVersion)
	}

	var v fileV1
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
		k.Friends = append(k.Friends, Friend{Name: f.Name, Key: pk, AddedAt: f.AddedAt, Verified: f.Verified})
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
