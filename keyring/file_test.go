package keyring

import (
	"bytes"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// testWorkFactor keeps scrypt fast in tests; users get age's default.
const testWorkFactor = 10

func newTestFile(t *testing.T, dir string, pass string) *File {
	t.Helper()
	var cb func() ([]byte, error)
	if pass != "" {
		cb = func() ([]byte, error) { return []byte(pass), nil }
	}
	return NewFile(dir, cb, WithScryptWorkFactor(testWorkFactor))
}

func newKey(t testing.TB) PublicKey {
	t.Helper()
	s, err := GenerateSecretKey()
	if err != nil {
		t.Fatal(err)
	}
	return s.Public()
}

func newKeyring(t testing.TB) *Keyring {
	t.Helper()
	k, err := New()
	if err != nil {
		t.Fatal(err)
	}
	return k
}

func checkMode(t *testing.T, path string, want os.FileMode) {
	t.Helper()
	fi, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	if got := fi.Mode().Perm(); got != want {
		t.Errorf("mode of %s = %o, want %o", path, got, want)
	}
}

func TestCreateLoadUpdate(t *testing.T) {
	for _, pass := range []string{"", "correct horse battery staple"} {
		name := "plain"
		if pass != "" {
			name = "encrypted"
		}
		t.Run(name, func(t *testing.T) {
			dir := filepath.Join(t.TempDir(), "home", "dhtchat")
			f := newTestFile(t, dir, pass)
			if ok, err := f.Exists(); ok || err != nil {
				t.Fatalf("Exists() = %v, %v before Create", ok, err)
			}
			if _, err := f.Load(); !errors.Is(err, ErrNotFound) {
				t.Fatalf("Load() before Create = %v, want ErrNotFound", err)
			}
			if err := f.Update(func(*Keyring) error { return nil }); !errors.Is(err, ErrNotFound) {
				t.Fatalf("Update() before Create = %v, want ErrNotFound", err)
			}
			k := newKeyring(t)
			if err := f.Create(k, false, []byte(pass)); err != nil {
				t.Fatal(err)
			}
			checkMode(t, dir, 0o700)
			checkMode(t, f.Path(), 0o600)
			if err := f.Create(newKeyring(t), false, nil); !errors.Is(err, ErrExists) {
				t.Fatalf("second Create = %v, want ErrExists", err)
			}
			if enc, err := f.Encrypted(); err != nil || enc != (pass != "") {
				t.Errorf("Encrypted() = %v, %v", enc, err)
			}

			alice, bob := newKey(t), newKey(t)
			err := f.Update(func(k *Keyring) error {
				if _, err := k.AddFriend("bob", bob); err != nil {
					return err
				}
				_, err := k.AddFriend("alice", alice)
				return err
			})
			if err != nil {
				t.Fatal(err)
			}
			checkMode(t, f.Path(), 0o600)

			// A fresh File, as a new process would have.
			got, err := newTestFile(t, dir, pass).Load()
			if err != nil {
				t.Fatal(err)
			}
			if got.Identity != k.Identity {
				t.Error("identity changed")
			}
			if len(got.Friends) != 2 || got.Friends[0].Name != "alice" || !got.Friends[0].Key.Equal(alice) ||
				got.Friends[1].Name != "bob" || !got.Friends[1].Key.Equal(bob) {
				t.Errorf("friends = %+v", got.Friends)
			}
			if enc, _ := f.Encrypted(); enc != (pass != "") {
				t.Errorf("Update changed encryption to %v", enc)
			}

			// An error from fn writes nothing.
			before := readBytes(t, f.Path())
			boom := errors.New("boom")
			err = f.Update(func(k *Keyring) error {
				k.RemoveFriend("alice")
				return boom
			})
			if !errors.Is(err, boom) {
				t.Fatalf("Update = %v, want boom", err)
			}
			if !bytes.Equal(before, readBytes(t, f.Path())) {
				t.Error("failed Update modified the file")
			}
			// No change, no write (an age file would get a new nonce).
			if err := f.Update(func(*Keyring) error { return nil }); err != nil {
				t.Fatal(err)
			}
			if !bytes.Equal(before, readBytes(t, f.Path())) {
				t.Error("no-op Update modified the file")
			}
			if names, _ := filepath.Glob(filepath.Join(dir, ".keyring-*")); len(names) != 0 {
				t.Errorf("temporary files left: %v", names)
			}
		})
	}
}

func readBytes(t *testing.T, path string) []byte {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func TestPlainFormat(t *testing.T) {
	dir := t.TempDir()
	f := newTestFile(t, dir, "")
	k := &Keyring{Identity: fixedSecret(t)}
	if err := f.Create(k, false, nil); err != nil {
		t.Fatal(err)
	}
	want := "{\n  \"version\": 1,\n  \"identity\": \"" + fixedSecretText + "\",\n  \"friends\": []\n}\n"
	if got := string(readBytes(t, f.Path())); got != want {
		t.Errorf("file =\n%s\nwant\n%s", got, want)
	}
}

func TestCreateForceKeepsBackup(t *testing.T) {
	dir := t.TempDir()
	f := newTestFile(t, dir, "")
	k1 := newKeyring(t)
	if err := f.Create(k1, false, nil); err != nil {
		t.Fatal(err)
	}
	old := readBytes(t, f.Path())
	k2 := newKeyring(t)
	if err := f.Create(k2, true, nil); err != nil {
		t.Fatal(err)
	}
	got, err := f.Load()
	if err != nil || got.Identity != k2.Identity {
		t.Fatalf("Load after force = %v", err)
	}
	backups, _ := filepath.Glob(filepath.Join(dir, backupPrefix+"*"))
	if len(backups) != 1 || !bytes.Equal(readBytes(t, backups[0]), old) {
		t.Fatalf("backups = %v, want one holding the old keyring", backups)
	}
	checkMode(t, backups[0], 0o600)
	// A second force in the same second gets its own backup.
	if err := f.Create(newKeyring(t), true, nil); err != nil {
		t.Fatal(err)
	}
	if backups, _ := filepath.Glob(filepath.Join(dir, backupPrefix+"*")); len(backups) != 2 {
		t.Errorf("backups = %v, want two", backups)
	}
}

func TestCreateRefusesBadKeyring(t *testing.T) {
	f := newTestFile(t, t.TempDir(), "")
	if err := f.Create(&Keyring{}, false, nil); err == nil {
		t.Error("Create(no identity) succeeded")
	}
	if ok, _ := f.Exists(); ok {
		t.Error("file created")
	}
	if !strings.HasPrefix(ErrNotFound.Error(), "keyring: ") {
		t.Error("bad prefix")
	}
}
