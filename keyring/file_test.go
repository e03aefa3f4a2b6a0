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
const testWorkFactor = 4

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

// setup creates a keyring with two friends and returns its file.
func setup(t *testing.T, pass string) (*File, *Keyring) {
	t.Helper()
	f := newTestFile(t, t.TempDir(), pass)
	k := newKeyring(t)
	for _, n := range []string{"alice", "bob"} {
		if _, err := k.AddFriend(n, newKey(t)); err != nil {
			t.Fatal(err)
		}
	}
	if err := f.Create(k, false, []byte(pass)); err != nil {
		t.Fatal(err)
	}
	return f, k
}

// allOps runs every operation that reads the file and reports their errors.
func allOps(f *File) map[string]error {
	return map[string]error{
		"Load":             func() error { _, err := f.Load(); return err }(),
		"Update":           f.Update(func(k *Keyring) error { _, err := k.AddFriend("carol", mustKey()); return err }),
		"SetPassphrase":    func() error { _, err := f.SetPassphrase([]byte("new")); return err }(),
		"RemovePassphrase": func() error { _, err := f.RemovePassphrase(); return err }(),
		"Create":           f.Create(mustKeyring(), false, nil),
	}
}

func mustKey() PublicKey {
	s, err := GenerateSecretKey()
	if err != nil {
		panic(err)
	}
	return s.Public()
}

func mustKeyring() *Keyring {
	k, err := New()
	if err != nil {
		panic(err)
	}
	return k
}

func TestTruncatedFile(t *testing.T) {
	for _, pass := range []string{"", "pw"} {
		f, _ := setup(t, pass)
		full := readBytes(t, f.Path())
		// Every length is loaded; every operation runs on a sample of them
		// (and, encrypted, on fewer: each attempt runs scrypt).
		loadStep, opsStep := 1, 13
		if pass != "" {
			loadStep, opsStep = 5, 40
		}
		// The last byte is the JSON's final newline: without it the file
		// is still whole.
		for n := 0; n < len(full)-1; n += loadStep {
			data := full[:n]
			if err := os.WriteFile(f.Path(), data, 0o600); err != nil {
				t.Fatal(err)
			}
			g := newTestFile(t, f.Dir(), pass)
			errs := map[string]error{"Load": func() error { _, err := g.Load(); return err }()}
			if n%opsStep == 0 {
				errs = allOps(g)
			}
			for op, err := range errs {
				if op == "Create" {
					if !errors.Is(err, ErrExists) {
						t.Errorf("Create over a damaged file = %v, want ErrExists", err)
					}
					continue
				}
				var ce *CorruptError
				if !errors.As(err, &ce) {
					t.Fatalf("pass %q, %d of %d bytes: %s = %v, want *CorruptError", pass, n, len(full), op, err)
				}
				if !strings.Contains(err.Error(), f.Path()) || !strings.Contains(err.Error(), "not modified") {
					t.Errorf("%s = %q, want it to name the file and say it was not modified", op, err)
				}
			}
			if got := readBytes(t, f.Path()); !bytes.Equal(got, data) {
				t.Fatalf("pass %q, %d bytes: file modified", pass, n)
			}
		}
	}
}

func TestWrongPassphrase(t *testing.T) {
	f, _ := setup(t, "right")
	before := readBytes(t, f.Path())
	for op, err := range allOps(newTestFile(t, f.Dir(), "wrong")) {
		want := ErrWrongPassphrase
		if op == "Create" {
			want = ErrExists
		}
		if !errors.Is(err, want) {
			t.Errorf("%s with wrong passphrase = %v, want %v", op, err, want)
		}
	}
	for op, err := range allOps(newTestFile(t, f.Dir(), "")) {
		want := ErrPassphraseRequired
		if op == "Create" {
			want = ErrExists
		}
		if !errors.Is(err, want) {
			t.Errorf("%s with no passphrase = %v, want %v", op, err, want)
		}
	}
	empty := NewFile(f.Dir(), func() ([]byte, error) { return nil, nil })
	if _, err := empty.Load(); !errors.Is(err, ErrPassphraseRequired) {
		t.Errorf("Load with empty passphrase = %v, want ErrPassphraseRequired", err)
	}
	if !bytes.Equal(before, readBytes(t, f.Path())) {
		t.Error("file modified")
	}
}

// A wrong passphrase is forgotten, so the caller can ask again.
func TestPassphraseRetry(t *testing.T) {
	f, _ := setup(t, "right")
	tries := []string{"wrong", "right"}
	calls := 0
	g := NewFile(f.Dir(), func() ([]byte, error) { calls++; return []byte(tries[calls-1]), nil })
	if _, err := g.Load(); !errors.Is(err, ErrWrongPassphrase) {
		t.Fatalf("Load = %v, want ErrWrongPassphrase", err)
	}
	if _, err := g.Load(); err != nil {
		t.Fatalf("second Load = %v", err)
	}
	if _, err := g.Load(); err != nil || calls != 2 {
		t.Fatalf("third Load = %v after %d calls, want the passphrase kept", err, calls)
	}
}

func TestEncryptedHoldsNoKeyMaterial(t *testing.T) {
	f, k := setup(t, "pw")
	data := readBytes(t, f.Path())
	if !bytes.HasPrefix(data, []byte("age-encryption.org/v1\n-> scrypt ")) {
		t.Fatalf("not an age scrypt file: %q", data[:40])
	}
	sec := k.Identity.Bytes()
	needles := [][]byte{
		[]byte(k.Identity.EncodeSecret()), []byte(strings.ToLower(k.Identity.EncodeSecret())),
		sec[:], []byte("DHTCHAT"), []byte("dhtchat"), []byte("alice"), []byte("bob"), []byte("friends"),
	}
	for _, fr := range k.Friends {
		b := fr.Key.Bytes()
		needles = append(needles, []byte(fr.Key.String()), b[:])
	}
	pub := k.Identity.Public().Bytes()
	needles = append(needles, pub[:])
	for _, n := range needles {
		if bytes.Contains(data, n) {
			t.Errorf("encrypted file contains %q", n)
		}
	}
}

func TestSetRemovePassphrase(t *testing.T) {
	f, k := setup(t, "")
	if _, err := f.SetPassphrase(nil); err == nil {
		t.Error("SetPassphrase(empty) succeeded")
	}
	if _, err := f.SetPassphrase([]byte("one")); err != nil {
		t.Fatal(err)
	}
	if enc, _ := f.Encrypted(); !enc {
		t.Fatal("not encrypted after SetPassphrase")
	}
	checkMode(t, f.Path(), 0o600)
	if _, err := newTestFile(t, f.Dir(), "").Load(); !errors.Is(err, ErrPassphraseRequired) {
		t.Errorf("Load without passphrase = %v", err)
	}
	// Change it, through a File that has to ask for the old one.
	g := newTestFile(t, f.Dir(), "one")
	if _, err := g.SetPassphrase([]byte("two")); err != nil {
		t.Fatal(err)
	}
	if _, err := newTestFile(t, f.Dir(), "one").Load(); !errors.Is(err, ErrWrongPassphrase) {
		t.Errorf("Load with old passphrase = %v", err)
	}
	// g remembers the new one and keeps using it for updates.
	if err := g.Update(func(k *Keyring) error { return k.RemoveFriend("bob") }); err != nil {
		t.Fatal(err)
	}
	got, err := newTestFile(t, f.Dir(), "two").Load()
	if err != nil || got.Identity != k.Identity || names(got) != "alice" {
		t.Fatalf("Load with new passphrase = %v, %v", names(got), err)
	}
	if _, err := newTestFile(t, f.Dir(), "two").RemovePassphrase(); err != nil {
		t.Fatal(err)
	}
	if enc, _ := f.Encrypted(); enc {
		t.Fatal("still encrypted after RemovePassphrase")
	}
	if _, err := newTestFile(t, f.Dir(), "").Load(); err != nil {
		t.Errorf("Load after RemovePassphrase = %v", err)
	}
}

// writeRaw writes a hand-made keyring file.
func writeRaw(t *testing.T, f *File, s string) {
	t.Helper()
	if err := os.MkdirAll(f.Dir(), 0o700); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(f.Path(), []byte(s), 0o600); err != nil {
		t.Fatal(err)
	}
}

func TestHandEditedFiles(t *testing.T) {
	zeroKey := mustEncode(t, "dhtchat", make([]byte, 32))
	friend := func(name, key string) string {
		return `{"name":"` + name + `","public_key":"` + key + `","added_at":"2026-01-02T15:04:05Z","verified":false}`
	}
	file := func(version, friends string) string {
		return `{"version":` + version + `,"identity":"` + fixedSecretText + `","friends":[` + friends + `]}`
	}
	tests := []struct {
		name, data string
		corrupt    bool
		msg        string
	}{
		{"ok", file("1", friend("alice", fixedPublicTextOther(t))), false, ""},
		{"version 3", file("3", ""), false, "unsupported keyring file version 3"},
		{"key change in v1", `{"version":1,"identity":"` + fixedSecretText + `","friends":[{"name":"a","public_key":"` + fixedPublicTextOther(t) + `","key_change":{"old_public_key":"` + fixedPublicTextOther(t) + `"}}]}`, true, "key_change\" in a version 1 file"},
		{"past keys in v1", `{"version":1,"identity":"` + fixedSecretText + `","friends":[],"past_keys":[{"name":"a","public_key":"` + fixedPublicTextOther(t) + `"}]}`, true, "past_keys\" in a version 1 file"},
		{"v2 low-order past key", `{"version":2,"identity":"` + fixedSecretText + `","friends":[],"past_keys":[{"name":"a","public_key":"` + zeroKey + `"}]}`, true, "past key of \"a\""},
		{"no version", `{"identity":"` + fixedSecretText + `","friends":[]}`, true, `no "version" field`},
		{"low-order friend", file("1", friend("mallory", zeroKey)), true, `friend "mallory": keyring: invalid public key: not a valid public key: low-order point`},
		{"own key", file("1", friend("me", fixedPublicText)), true, `friend "me"`},
		{"bad name", file("1", friend("a b", fixedPublicTextOther(t))), true, "invalid friend name"},
		{"unknown field", `{"version":1,"identity":"` + fixedSecretText + `","friends":[],"extra":1}`, true, "unknown field"},
		{"trailing", file("1", "") + "{}", true, "after top-level value"},
		{"no identity", `{"version":1,"friends":[]}`, true, `no "identity"`},
		{"public identity", `{"version":1,"identity":"` + fixedPublicText + `","friends":[]}`, true, "this is a public key"},
		{"empty", "", true, "truncated"},
		{"not json", "hello", true, "not valid JSON"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := newTestFile(t, t.TempDir(), "")
			writeRaw(t, f, tt.data)
			k, err := f.Load()
			if tt.msg == "" {
				if err != nil {
					t.Fatalf("Load = %v", err)
				}
				if k.Identity != fixedSecret(t) {
					t.Error("wrong identity")
				}
				return
			}
			var ce *CorruptError
			if err == nil || errors.As(err, &ce) != tt.corrupt || !strings.Contains(err.Error(), tt.msg) {
				t.Fatalf("Load = %v, want corrupt %v and %q", err, tt.corrupt, tt.msg)
			}
			if strings.Contains(err.Error(), fixedSecretText[20:]) {
				t.Errorf("error contains the secret key: %v", err)
			}
			if err := f.Update(func(*Keyring) error { return nil }); err == nil {
				t.Error("Update succeeded")
			}
			if got := string(readBytes(t, f.Path())); got != tt.data {
				t.Error("file modified")
			}
		})
	}
}

func fixedPublicTextOther(t *testing.T) string {
	var b [32]byte
	b[0] = 9 // the base point
	p, err := PublicKeyFromBytes(b)
	if err != nil {
		t.Fatal(err)
	}
	return p.String()
}

func TestOversizedFile(t *testing.T) {
	f := newTestFile(t, t.TempDir(), "")
	writeRaw(t, f, `{"version":1,"x":"`+strings.Repeat("a", MaxFileSize)+`"}`)
	var ce *CorruptError
	if _, err := f.Load(); !errors.As(err, &ce) || !strings.Contains(err.Error(), "larger than 4 MiB") {
		t.Errorf("Load = %v, want a size error", err)
	}
}

func TestStaleTempRemoved(t *testing.T) {
	f, _ := setup(t, "")
	stale := filepath.Join(f.Dir(), ".keyring-123.tmp")
	if err := os.WriteFile(stale, []byte("x"), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := f.Update(func(k *Keyring) error { return k.RemoveFriend("bob") }); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(stale); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("stale temp file still there: %v", err)
	}
}

func TestUpdateIdentityKeepsBackup(t *testing.T) {
	f, _ := setup(t, "")
	if err := f.Update(func(k *Keyring) error { return k.SetVerified("alice", true) }); err != nil {
		t.Fatal(err)
	}
	if backups, _ := filepath.Glob(filepath.Join(f.Dir(), backupPrefix+"*")); len(backups) != 0 {
		t.Fatalf("backup made without an identity change: %v", backups)
	}
	old := readBytes(t, f.Path())
	sk, _ := GenerateSecretKey()
	if err := f.Update(func(k *Keyring) error { k.Identity = sk; return nil }); err != nil {
		t.Fatal(err)
	}
	backups, _ := filepath.Glob(filepath.Join(f.Dir(), backupPrefix+"*"))
	if len(backups) != 1 || !bytes.Equal(readBytes(t, backups[0]), old) {
		t.Fatalf("backups = %v, want one holding the old keyring", backups)
	}
}
