package dht

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"

	"github.com/libp2p/go-libp2p/core/crypto"

	"github.com/dhtchat/dhtchat/internal/atomicfile"
)

// maxIdentitySize bounds how much of an identity file is read. A marshalled
// Ed25519 key is 68 bytes; 16 KiB leaves room for any key type libp2p knows.
const maxIdentitySize = 16 << 10

// ErrCorruptIdentity means an identity file exists but does not hold a key.
var ErrCorruptIdentity = errors.New("dht: corrupt identity file")

// LoadOrCreateIdentity returns the libp2p private key stored in the file at
// path, creating the file with a fresh Ed25519 key if it does not exist, so
// that a node keeps its peer ID across restarts. The key is stored as
// crypto.MarshalPrivateKey encodes it.
//
// A new file is written completely and synced under a temporary name, then
// linked into place (see atomicfile), so it appears whole or not at all and
// an existing file is never replaced; its mode is 0600 and missing parent
// directories are created with mode 0700. A file that exists but does not parse gives an
// error wrapping ErrCorruptIdentity and is left alone.
func LoadOrCreateIdentity(path string) (crypto.PrivKey, error) {
	key, err := loadIdentity(path)
	if !errors.Is(err, fs.ErrNotExist) {
		return key, err
	}
	key, _, err = crypto.GenerateEd25519Key(nil)
	if err != nil {
		return nil, fmt.Errorf("dht: generate identity: %w", err)
	}
	data, err := crypto.MarshalPrivateKey(key)
	if err != nil {
		return nil, fmt.Errorf("dht: marshal identity: %w", err)
	}
	switch err := createExclusive(path, data); {
	case err == nil:
		return key, nil
	case errors.Is(err, fs.ErrExist):
		// Another process created it first: use that one.
		return loadIdentity(path)
	default:
		return nil, err
	}
}

func loadIdentity(path string) (crypto.PrivKey, error) {
	data, err := atomicfile.ReadFile(path, maxIdentitySize)
	var tooLarge *atomicfile.TooLargeError
	switch {
	case errors.Is(err, fs.ErrNotExist):
		return nil, err
	case errors.As(err, &tooLarge):
		return nil, fmt.Errorf("%w %s: larger than %d bytes", ErrCorruptIdentity, path, maxIdentitySize)
	case err != nil:
		return nil, fmt.Errorf("dht: read identity: %w", err)
	}
	key, err := crypto.UnmarshalPrivateKey(data)
	if err != nil {
		return nil, fmt.Errorf("%w %s: %w", ErrCorruptIdentity, path, err)
	}
	return key, nil
}

// createExclusive writes data to a new file at path, mode 0600, failing
// with an error wrapping fs.ErrExist if path exists (atomicfile.CreateFile:
// written and synced under a temporary name, then linked into place).
func createExclusive(path string, data []byte) error {
	if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		return fmt.Errorf("dht: create identity directory: %w", err)
	}
	err := atomicfile.CreateFile(path, data, 0o600)
	if err != nil && !errors.Is(err, fs.ErrExist) {
		return fmt.Errorf("dht: create identity: %w", err)
	}
	return err
}
