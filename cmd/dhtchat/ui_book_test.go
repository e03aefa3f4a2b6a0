package main

import (
	"errors"
	"testing"

	"github.com/dhtchat/dhtchat/keyring"
)

// The UI's friend book uses the keyring file that opened the session:
// after the passphrase was typed once, /add and /verify change an
// encrypted keyring without asking again; and friends added from another
// terminal show up without a restart.
func TestFriendBookReusesPassphraseAndReloads(t *testing.T) {
	dir := t.TempDir()
	pass := []byte("correct horse")
	k, err := keyring.New()
	if err != nil {
		t.Fatal(err)
	}
	opt := keyring.WithScryptWorkFactor(10)
	if err := keyring.NewFile(dir, nil, opt).Create(k, false, pass); err != nil {
		t.Fatal(err)
	}
	asked := 0
	f := keyring.NewFile(dir, func() ([]byte, error) {
		asked++
		if asked > 1 {
			return nil, errNeedPassphrase // the terminal is the UI's now
		}
		return pass, nil
	}, opt)
	loaded, err := f.Load() // as openSession does, asking once
	if err != nil {
		t.Fatal(err)
	}
	e := &env{getenv: func(string) string { return "" }}
	b := &friendBook{e: e, kf: f, snapshot: loaded}

	_, alice := mustKey(t)
	if _, err := b.Add("alice", alice.String()); err != nil {
		t.Fatalf("/add with the passphrase typed at start: %v", err)
	}
	if err := b.SetVerified("alice", true); err != nil {
		t.Fatalf("/verify with the passphrase typed at start: %v", err)
	}
	if asked != 1 {
		t.Errorf("the passphrase was asked %d times, want once", asked)
	}

	// Another terminal: 'dhtchat add-friend george …'.
	_, george := mustKey(t)
	other := keyring.NewFile(dir, func() ([]byte, error) { return pass, nil }, opt)
	if err := other.Update(func(k *keyring.Keyring) error {
		_, err := k.AddFriend("george", george)
		return err
	}); err != nil {
		t.Fatal(err)
	}
	fs, err := b.List()
	if err != nil {
		t.Fatal(err)
	}
	names := map[string]bool{}
	for _, fr := range fs {
		names[fr.Name] = fr.Key.Equal(george) || fr.Verified
	}
	if !names["george"] || !names["alice"] {
		t.Errorf("List = %v, want alice (verified) and george", fs)
	}
}

// Without a passphrase known, the book still says how to add friends.
func TestFriendBookNeedsPassphrase(t *testing.T) {
	dir := t.TempDir()
	k, err := keyring.New()
	if err != nil {
		t.Fatal(err)
	}
	opt := keyring.WithScryptWorkFactor(10)
	if err := keyring.NewFile(dir, nil, opt).Create(k, false, []byte("pw")); err != nil {
		t.Fatal(err)
	}
	e := &env{getenv: func(string) string { return "" }}
	b := &friendBook{e: e, kf: keyring.NewFile(dir, e.passphraseNoPrompt, opt), snapshot: k}
	_, alice := mustKey(t)
	if _, err := b.Add("alice", alice.String()); !errors.Is(err, errNeedPassphrase) {
		t.Errorf("Add = %v, want errNeedPassphrase", err)
	}
}

func mustKey(t *testing.T) (keyring.SecretKey, keyring.PublicKey) {
	t.Helper()
	sk, err := keyring.GenerateSecretKey()
	if err != nil {
		t.Fatal(err)
	}
	return sk, sk.Public()
}
