package keyring

import (
	"bytes"
	"os"
	"path/filepath"
	"slices"
	"testing"
)

// backupFiles returns the names of the backups in dir.
func backupFiles(t *testing.T, dir string) []string {
	t.Helper()
	paths, err := filepath.Glob(filepath.Join(dir, backupPrefix+"*"))
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, p := range paths {
		names = append(names, filepath.Base(p))
	}
	return names
}

// backupIdentity opens backup name with pass ("": in the clear) and
// returns its identity, failing the test if it does not open.
func backupIdentity(t *testing.T, dir, name, pass string) SecretKey {
	t.Helper()
	data := readBytes(t, filepath.Join(dir, name))
	if pass != "" {
		if !bytes.HasPrefix(data, ageIntro) {
			t.Fatalf("backup %s is in the clear, want it encrypted", name)
		}
		var err error
		if data, err = open(data, []byte(pass)); err != nil {
			t.Fatalf("backup %s does not open with %q: %v", name, pass, err)
		}
	} else if bytes.HasPrefix(data, ageIntro) {
		t.Fatalf("backup %s is encrypted, want it in the clear", name)
	}
	k, err := parseKeyring(data)
	if err != nil {
		t.Fatalf("backup %s: %v", name, err)
	}
	return k.Identity
}

// TestBackupsFollowThePassphrase: the backups of replaced keyrings hold
// older secret keys. Setting a passphrase encrypts those in the clear,
// changing it re-encrypts those with the old one, removing it decrypts
// them; one encrypted with another passphrase is left as it is. Each
// change says which it changed.
func TestBackupsFollowThePassphrase(t *testing.T) {
	dir := t.TempDir()
	f := newTestFile(t, dir, "")
	k1 := newKeyring(t)
	if err := f.Create(k1, false, nil); err != nil {
		t.Fatal(err)
	}
	if err := f.Create(newKeyring(t), true, nil); err != nil {
		t.Fatal(err)
	}
	b1 := backupFiles(t, dir)
	if len(b1) != 1 || backupIdentity(t, dir, b1[0], "") != k1.Identity {
		t.Fatalf("backups = %v, want one of the first keyring, in the clear", b1)
	}

	bc, err := f.SetPassphrase([]byte("one"))
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(bc.Resealed, b1) || len(bc.Left) != 0 {
		t.Errorf("SetPassphrase = %+v, want %v resealed", bc, b1)
	}
	if backupIdentity(t, dir, b1[0], "one") != k1.Identity {
		t.Fatal("the backup lost its identity")
	}
	if bytes.Contains(readBytes(t, filepath.Join(dir, b1[0])), []byte(k1.Identity.EncodeSecret())) {
		t.Fatal("the backup still holds the secret key in the clear")
	}
	checkMode(t, filepath.Join(dir, b1[0]), 0o600)

	// A second backup, made while encrypted (a new identity through Update).
	k2, err := f.Load()
	if err != nil {
		t.Fatal(err)
	}
	if err := f.Update(func(k *Keyring) error { k.Identity = newKeyring(t).Identity; return nil }); err != nil {
		t.Fatal(err)
	}
	both := backupFiles(t, dir)
	if len(both) != 2 {
		t.Fatalf("backups = %v, want two", both)
	}
	// And a stray one with a passphrase from long ago.
	stray := backupPrefix + "19990101T000000Z"
	old, err := f.seal([]byte("{}"), []byte("ancient"))
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, stray), old, 0o600); err != nil {
		t.Fatal(err)
	}

	// Changing the passphrase, through a File that asks for the old one.
	bc, err = newTestFile(t, dir, "one").SetPassphrase([]byte("two"))
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(bc.Resealed, both) || !slices.Equal(bc.Left, []string{stray}) {
		t.Errorf("changing the passphrase = %+v, want %v resealed and %s left", bc, both, stray)
	}
	ids := map[SecretKey]bool{}
	for _, name := range both {
		ids[backupIdentity(t, dir, name, "two")] = true
	}
	if !ids[k1.Identity] || !ids[k2.Identity] {
		t.Errorf("the backups hold %d of the 2 older identities", len(ids))
	}
	if !bytes.Equal(readBytes(t, filepath.Join(dir, stray)), old) {
		t.Error("the backup with another passphrase was changed")
	}

	bc, err = newTestFile(t, dir, "two").RemovePassphrase()
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(bc.Resealed, both) || !slices.Equal(bc.Left, []string{stray}) {
		t.Errorf("RemovePassphrase = %+v, want %v resealed and %s left", bc, both, stray)
	}
	for _, name := range both {
		backupIdentity(t, dir, name, "")
	}
}

// TestCreateWithPassphraseSealsBackup: keygen --force --passphrase over a
// keyring in the clear leaves no backup in the clear.
func TestCreateWithPassphraseSealsBackup(t *testing.T) {
	dir := t.TempDir()
	f := newTestFile(t, dir, "")
	k1 := newKeyring(t)
	if err := f.Create(k1, false, nil); err != nil {
		t.Fatal(err)
	}
	if err := f.Create(newKeyring(t), true, []byte("pw")); err != nil {
		t.Fatal(err)
	}
	b := backupFiles(t, dir)
	if len(b) != 1 || backupIdentity(t, dir, b[0], "pw") != k1.Identity {
		t.Fatalf("backups = %v, want one of the first keyring, encrypted", b)
	}
}
