package main

import (
	"encoding/hex"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/dhtchat/dhtchat/internal/bech32"
	"github.com/dhtchat/dhtchat/keyring"
)

// TestConcurrentAddFriend starts 20 processes that each add a different
// friend at the same moment: the keyring's lock serialises them, so all 20
// are in the keyring afterwards.
func TestConcurrentAddFriend(t *testing.T) {
	home := t.TempDir()
	if _, stderr, code := dhtchatCmd(t, home, "keygen"); code != 0 {
		t.Fatalf("keygen: exit %d: %s", code, stderr)
	}
	const n = 20
	keys := make([]string, n)
	for i := range keys {
		keys[i] = newPublicKey(t)
	}
	var wg sync.WaitGroup
	start := make(chan struct{})
	errs := make(chan string, n)
	for i := range n {
		wg.Go(func() {
			<-start
			name := fmt.Sprintf("friend%02d", i)
			if _, stderr, code := dhtchatCmd(t, home, "add-friend", name, keys[i]); code != 0 {
				errs <- fmt.Sprintf("add-friend %s: exit %d: %s", name, code, stderr)
			}
		})
	}
	close(start)
	wg.Wait()
	close(errs)
	for e := range errs {
		t.Error(e)
	}
	stdout, stderr, code := dhtchatCmd(t, home, "export-friends")
	if code != 0 {
		t.Fatalf("export-friends: exit %d: %s", code, stderr)
	}
	var got []string
	for line := range strings.Lines(stdout) {
		var f struct{ Name, PublicKey string }
		if err := json.Unmarshal([]byte(line), &f); err != nil {
			t.Fatalf("export-friends line %q: %v", line, err)
		}
		got = append(got, f.Name)
	}
	if len(got) != n {
		t.Fatalf("after %d concurrent add-friend, the keyring has %d friends: %v", n, len(got), got)
	}
}

// newPublicKey returns the public key of a fresh identity.
func newPublicKey(t *testing.T) string {
	t.Helper()
	sk, err := keyring.GenerateSecretKey()
	if err != nil {
		t.Fatal(err)
	}
	return sk.Public().String()
}

// TestAddFriendRefusesLowOrderPoints tries every public key of the
// Wycheproof X25519 vectors flagged LowOrderPublic or ZeroSharedSecret as a
// friend: each is refused with exit 2 and nothing is stored.
func TestAddFriendRefusesLowOrderPoints(t *testing.T) {
	data, err := os.ReadFile(filepath.Join("..", "..", "testdata", "wycheproof", "x25519_test.json"))
	if err != nil {
		t.Fatal(err)
	}
	var suite struct {
		TestGroups []struct {
			Tests []struct {
				TcID   int      `json:"tcId"`
				Public string   `json:"public"`
				Flags  []string `json:"flags"`
			} `json:"tests"`
		} `json:"testGroups"`
	}
	if err := json.Unmarshal(data, &suite); err != nil {
		t.Fatal(err)
	}
	home := t.TempDir()
	if _, stderr, code := dhtchatCmd(t, home, "keygen"); code != 0 {
		t.Fatalf("keygen: exit %d: %s", code, stderr)
	}
	before, err := os.ReadFile(filepath.Join(home, "keyring"))
	if err != nil {
		t.Fatal(err)
	}
	tried := 0
	for _, g := range suite.TestGroups {
		for _, tc := range g.Tests {
			if !slices.Contains(tc.Flags, "LowOrderPublic") && !slices.Contains(tc.Flags, "ZeroSharedSecret") {
				continue
			}
			raw, err := hex.DecodeString(tc.Public)
			if err != nil || len(raw) != 32 {
				t.Fatalf("tcId %d: bad public key %q", tc.TcID, tc.Public)
			}
			key, err := bech32.Encode("dhtchat", raw)
			if err != nil {
				t.Fatal(err)
			}
			tried++
			_, stderr, code := dhtchatCmd(t, home, "add-friend", "x", key)
			if code != exitUsage || !strings.Contains(stderr, "low-order") {
				t.Errorf("tcId %d: add-friend x %s = exit %d, %q; want exit 2 and a low-order error", tc.TcID, key, code, stderr)
			}
		}
	}
	if tried < 31 {
		t.Fatalf("tried %d low-order vectors, want at least 31", tried)
	}
	after, err := os.ReadFile(filepath.Join(home, "keyring"))
	if err != nil {
		t.Fatal(err)
	}
	if string(before) != string(after) {
		t.Fatal("the keyring changed")
	}
}
