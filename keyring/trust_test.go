package keyring

import (
	"encoding/hex"
	"regexp"
	"strings"
	"testing"
)

// The RFC 7748 section 6.1 public keys, as in docs/PROTOCOL.md's vectors.
const (
	rfcAlicePublic = "8520f0098930a754748b7ddcb43ef75a0dbf3a0d26381af4eba4a98eaa9b4e6a"
	rfcBobPublic   = "de9edb7d7b7dc1b4d35b61c2ece435373f8343c85b78674dadfc7e146f882b4f"
	// The vector of docs/SECURITY.md, "Safety numbers" (checked against an
	// independent Python implementation of the spec when it was written).
	rfcSafetyNumber = "30441 53726 70221 06516 10408 94901 85452 63638 22803 80640 91963 88032"
)

func publicFromHex(t *testing.T, s string) PublicKey {
	t.Helper()
	b, err := hex.DecodeString(s)
	if err != nil {
		t.Fatal(err)
	}
	k, err := PublicKeyFromBytes([KeySize]byte(b))
	if err != nil {
		t.Fatal(err)
	}
	return k
}

func TestSafetyNumberVector(t *testing.T) {
	a, b := publicFromHex(t, rfcAlicePublic), publicFromHex(t, rfcBobPublic)
	if got := SafetyNumber(a, b); got != rfcSafetyNumber {
		t.Errorf("SafetyNumber(alice, bob) = %q, want %q", got, rfcSafetyNumber)
	}
	if got := SafetyNumber(b, a); got != rfcSafetyNumber {
		t.Errorf("SafetyNumber(bob, alice) = %q, want %q", got, rfcSafetyNumber)
	}
	// Each half stands for one key, so each party finds its own.
	if got := safetyHalf(a); got != "304415372670221065161040894901" {
		t.Errorf("half(alice) = %s", got)
	}
	if got := safetyHalf(b); got != "854526363822803806409196388032" {
		t.Errorf("half(bob) = %s", got)
	}
	want := []string{"30441 53726 70221 06516", "10408 94901 85452 63638", "22803 80640 91963 88032"}
	if got := SafetyNumberLines(rfcSafetyNumber); strings.Join(got, "|") != strings.Join(want, "|") {
		t.Errorf("SafetyNumberLines = %q, want %q", got, want)
	}
}

// The vector printed in docs/SECURITY.md must be the one the code computes.
func TestSafetyNumberDocumented(t *testing.T) {
	doc := string(readBytes(t, "../docs/SECURITY.md"))
	for _, s := range []string{rfcAlicePublic, rfcBobPublic, rfcSafetyNumber} {
		if !strings.Contains(doc, s) {
			t.Errorf("docs/SECURITY.md does not contain %q", s)
		}
	}
}

func TestSafetyNumberProperties(t *testing.T) {
	format := regexp.MustCompile(`^[0-9]{5}( [0-9]{5}){11}$`)
	seen := map[string]bool{}
	keys := []PublicKey{newKey(t), newKey(t), newKey(t), newKey(t)}
	for i, a := range keys {
		for j, b := range keys {
			if i >= j {
				continue
			}
			s := SafetyNumber(a, b)
			if !format.MatchString(s) || len(strings.ReplaceAll(s, " ", "")) != SafetyNumberDigits {
				t.Fatalf("SafetyNumber = %q: not 12 groups of 5 digits", s)
			}
			if s != SafetyNumber(b, a) {
				t.Fatalf("SafetyNumber depends on the order of the keys")
			}
			if seen[s] {
				t.Fatalf("two pairs share the safety number %s", s)
			}
			seen[s] = true
			// Changing one key changes that key's half: the number as a
			// whole never survives a key change.
			c := newKey(t)
			if s2 := SafetyNumber(a, c); s2 == s {
				t.Fatalf("a key change kept the safety number")
			}
		}
	}
}

func TestKeyChangeOnReAdd(t *testing.T) {
	k := newKeyring(t)
	old, nu := newKey(t), newKey(t)
	mustAdd(t, k, "alice", old)
	if err := k.SetVerified("alice", true); err != nil {
		t.Fatal(err)
	}
	if f, _ := k.Friend("alice"); f.Trust() != Verified {
		t.Fatalf("Trust = %v, want verified", f.Trust())
	}
	if err := k.RemoveFriend("alice"); err != nil {
		t.Fatal(err)
	}
	// The same key back under the same name: still verified, no warning.
	mustAdd(t, k, "alice", old)
	if f, _ := k.Friend("alice"); f.Trust() != Verified || f.KeyChange != nil {
		t.Fatalf("re-added with the same key: Trust = %v, KeyChange = %v; want verified, nil", f.Trust(), f.KeyChange)
	}
	if err := k.RemoveFriend("alice"); err != nil {
		t.Fatal(err)
	}
	// Another key under the name (even spelt in another case): key change.
	mustAdd(t, k, "Alice", nu)
	f, _ := k.Friend("Alice")
	if f.Trust() != KeyChanged || f.Verified || f.KeyChange == nil || !f.KeyChange.OldKey.Equal(old) ||
		f.KeyChange.ChangedAt.IsZero() {
		t.Fatalf("re-added with another key: %+v, want a key change from the old key", f)
	}
	if h := k.KeyHistory("alice"); len(h) != 2 || !h[0].Key.Equal(old) || !h[0].Verified {
		t.Fatalf("KeyHistory = %+v", h)
	}
	// Unverifying does not clear the warning; verifying does.
	if err := k.SetVerified("Alice", false); err != nil {
		t.Fatal(err)
	}
	if f, _ := k.Friend("Alice"); f.Trust() != KeyChanged {
		t.Fatalf("after unmark: Trust = %v, want key changed", f.Trust())
	}
	if err := k.SetVerified("Alice", true); err != nil {
		t.Fatal(err)
	}
	if f, _ := k.Friend("Alice"); f.Trust() != Verified || f.KeyChange != nil {
		t.Fatalf("after verifying: %+v", f)
	}
}

// A removed friend with an unresolved key change that comes back with the
// same (new) key keeps the warning: removing and re-adding is no way to
// silence it.
func TestKeyChangeSurvivesRemoveAndReAdd(t *testing.T) {
	k := newKeyring(t)
	old, nu := newKey(t), newKey(t)
	mustAdd(t, k, "bob", old)
	k.RemoveFriend("bob")
	mustAdd(t, k, "bob", nu)
	k.RemoveFriend("bob")
	mustAdd(t, k, "bob", nu)
	if f, _ := k.Friend("bob"); f.Trust() != KeyChanged || !f.KeyChange.OldKey.Equal(old) {
		t.Fatalf("Trust = %v (%+v), want key changed from the first key", f.Trust(), f.KeyChange)
	}
}

// A rename frees the old name; another key under it is a key change.
func TestKeyChangeAfterRename(t *testing.T) {
	k := newKeyring(t)
	old, nu := newKey(t), newKey(t)
	mustAdd(t, k, "carol", old)
	if err := k.RenameFriend("carol", "carol-old"); err != nil {
		t.Fatal(err)
	}
	if f, _ := k.Friend("carol-old"); f.Trust() != Unverified {
		t.Fatalf("renamed friend: Trust = %v, want unverified", f.Trust())
	}
	mustAdd(t, k, "carol", nu)
	if f, _ := k.Friend("carol"); f.Trust() != KeyChanged {
		t.Fatalf("Trust = %v, want key changed", f.Trust())
	}
	// A brand-new name has no history.
	mustAdd(t, k, "dave", newKey(t))
	if f, _ := k.Friend("dave"); f.Trust() != Unverified {
		t.Fatalf("new friend: Trust = %v", f.Trust())
	}
}

func TestPastKeysBounded(t *testing.T) {
	k := newKeyring(t)
	for range MaxPastKeys + 10 {
		mustAdd(t, k, "x", newKey(t))
		if err := k.RemoveFriend("x"); err != nil {
			t.Fatal(err)
		}
	}
	if len(k.PastKeys) != MaxPastKeys {
		t.Fatalf("%d past keys, want %d", len(k.PastKeys), MaxPastKeys)
	}
	if _, err := marshalKeyring(k); err != nil {
		t.Fatal(err)
	}
}

// A version 1 file loads; it stays version 1 while nothing needs version
// 2, becomes version 2 with the first key history, and reads back whole.
func TestKeyringV1Migration(t *testing.T) {
	f := newTestFile(t, t.TempDir(), "")
	alice := fixedPublicTextOther(t)
	v1 := `{"version":1,"identity":"` + fixedSecretText + `","friends":[` +
		`{"name":"alice","public_key":"` + alice + `","added_at":"2026-01-02T15:04:05Z","verified":true}]}`
	writeRaw(t, f, v1)
	k, err := f.Load()
	if err != nil {
		t.Fatalf("Load(v1) = %v", err)
	}
	if fr, ok := k.Friend("alice"); !ok || fr.Trust() != Verified {
		t.Fatalf("v1 friend = %+v", fr)
	}
	// An update that adds nothing of version 2 keeps version 1.
	if err := f.Update(func(k *Keyring) error { return k.SetVerified("alice", false) }); err != nil {
		t.Fatal(err)
	}
	if s := string(readBytes(t, f.Path())); !strings.Contains(s, `"version": 1`) || strings.Contains(s, "past_keys") {
		t.Fatalf("file after a v1-only update:\n%s", s)
	}
	nu := newKey(t)
	err = f.Update(func(k *Keyring) error {
		if err := k.RemoveFriend("alice"); err != nil {
			return err
		}
		_, err := k.AddFriend("alice", nu)
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	s := string(readBytes(t, f.Path()))
	if !strings.Contains(s, `"version": 2`) || !strings.Contains(s, `"past_keys"`) || !strings.Contains(s, `"old_public_key": "`+alice+`"`) {
		t.Fatalf("file after a key change:\n%s", s)
	}
	k, err = f.Load()
	if err != nil {
		t.Fatalf("Load(v2) = %v", err)
	}
	fr, _ := k.Friend("alice")
	if fr.Trust() != KeyChanged || fr.KeyChange.OldKey.String() != alice || len(k.PastKeys) != 1 {
		t.Fatalf("v2 round trip: friend %+v, past keys %+v", fr, k.PastKeys)
	}
}

func mustAdd(t *testing.T, k *Keyring, name string, key PublicKey) {
	t.Helper()
	if added, err := k.AddFriend(name, key); err != nil || !added {
		t.Fatalf("AddFriend(%s) = %v, %v", name, added, err)
	}
}
