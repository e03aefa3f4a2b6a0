package dht

import (
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"

	"github.com/libp2p/go-libp2p/core/crypto"
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
// linked into place, so it appears whole or not at all and an existing file
// is never replaced; its mode is 0600 and missing parent directories are
// created with mode 0700. A file that exists but does not parse gives an
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
	f, err := os.Open(path)
	if err != nil {
		if errors.Is(err, fs.ErrNotExist) {
			return nil, err
		}
		return nil, fmt.Errorf("dht: read identity: %w", err)
	}
	defer f.Close()
	data, err := io.ReadAll(io.LimitReader(f, maxIdentitySize+1))
	if err != nil {
		return nil, fmt.Errorf("dht: read identity: %w", err)
	}
	if len(data) > maxIdentitySize {
		return nil, fmt.Errorf("%w %s: larger than %d bytes", ErrCorruptIdentity, path, maxIdentitySize)
	}
	key, err := crypto.UnmarshalPrivateKey(data)
	if err != nil {
		return nil, fmt.Errorf("%w %s: %w", ErrCorruptIdentity, path, err)
	}
	return key, nil
}

// createExclusive writes data to a new file at path, failing with an error
// wrapping fs.ErrExist if path exists. The file is written and synced under
// a temporary name and then hard-linked into place: the link is atomic and,
// unlike rename, never replaces an existing file.
func createExclusive(path string, data []byte) (err error) {
	dir := filepath.Dir(path)
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return fmt.Errorf("dht: create identity directory: %w", err)
	}
	tmp, err := os.CreateTemp(dir, "."+filepath.Base(path)+".tmp-*")
	if err != nil {
		return fmt.Errorf("dht: create identity: %w", err)
	}
	defer func() {
		err = errors.Join(err, os.Remove(tmp.Name()))
	}()
	// CreateTemp opens O_EXCL with mode 0600.
	if _, err := tmp.Write(data); err != nil {
		tmp.Close()
		return fmt.Errorf("dht: write identity: %w", err)
	}
	if err := tmp.Sync(); err != nil {
		tmp.Close()
		return fmt.Errorf("dht: write identity: %w", err)
	}
	if err := tmp.Close(); err != nil {
		return fmt.Errorf("dht: write identity: %w", err)
	}
	if err := os.Link(tmp.Name(), path); err != nil {
		if errors.Is(err, fs.ErrExist) {
			return err
		}
		return fmt.Errorf("dht: create identity: %w", err)
	}
	if d, err := os.Open(dir); err == nil {
		// Make the new directory entry durable too; best effort, as not
		// every system can sync a directory.
		_ = d.Sync()
		d.Close()
	}
	return nil
}
