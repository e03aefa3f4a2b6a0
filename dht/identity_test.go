package dht_test

import (
	"bytes"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/dhtchat/dhtchat/dht"
	"github.com/libp2p/go-libp2p/core/peer"
)

func TestLoadOrCreateIdentity(t *testing.T) {
	path := filepath.Join(t.TempDir(), "new", "dir", "identity")
	k1, err := dht.LoadOrCreateIdentity(path)
	if err != nil {
		t.Fatalf("create: %v", err)
	}
	k2, err := dht.LoadOrCreateIdentity(path)
	if err != nil {
		t.Fatalf("load: %v", err)
	}
	id1, _ := peer.IDFromPrivateKey(k1)
	id2, _ := peer.IDFromPrivateKey(k2)
	if id1 == "" || id1 != id2 {
		t.Fatalf("peer IDs %s and %s, want the same", id1, id2)
	}
	fi, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	if fi.Mode().Perm() != 0o600 {
		t.Errorf("identity file mode %v, want 0600", fi.Mode().Perm())
	}
	entries, _ := os.ReadDir(filepath.Dir(path))
	if len(entries) != 1 {
		t.Errorf("directory holds %d entries, want only the identity (no temporary files)", len(entries))
	}

	// The node takes the identity: its peer ID is the file's.
	n := newNode(t, dht.Config{Identity: k2})
	if n.ID() != id1 {
		t.Errorf("node ID %s, want %s", n.ID(), id1)
	}
}

func TestLoadOrCreateIdentityCorrupt(t *testing.T) {
	for name, content := range map[string][]byte{
		"garbage":   []byte("not a key\n"),
		"empty":     {},
		"truncated": nil, // filled below
		"too large": bytes.Repeat([]byte{0}, 1<<20),
	} {
		t.Run(name, func(t *testing.T) {
			path := filepath.Join(t.TempDir(), "identity")
			if name == "truncated" {
				if _, err := dht.LoadOrCreateIdentity(path); err != nil {
					t.Fatal(err)
				}
				full, err := os.ReadFile(path)
				if err != nil {
					t.Fatal(err)
				}
				content = full[:len(full)/2]
			}
			if err := os.WriteFile(path, content, 0o600); err != nil {
				t.Fatal(err)
			}
			_, err := dht.LoadOrCreateIdentity(path)
			if !errors.Is(err, dht.ErrCorruptIdentity) {
				t.Fatalf("LoadOrCreateIdentity = %v, want ErrCorruptIdentity", err)
			}
			if !strings.HasPrefix(err.Error(), "dht: ") || !strings.Contains(err.Error(), path) {
				t.Errorf("error %q should start with \"dht: \" and name the file", err)
			}
			after, err := os.ReadFile(path)
			if err != nil || !bytes.Equal(after, content) {
				t.Errorf("corrupt identity file was changed")
			}
		})
	}
}

func TestLoadOrCreateIdentityUnreadable(t *testing.T) {
	// A directory where the file should be: a clear error, nothing created.
	path := t.TempDir()
	if _, err := dht.LoadOrCreateIdentity(path); err == nil || errors.Is(err, dht.ErrCorruptIdentity) {
		t.Fatalf("LoadOrCreateIdentity(directory) = %v, want a read error", err)
	}
}
