package main

import (
	"bytes"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
)

// noTTY runs dhtchat with home and the extra environment, in a session of
// its own (so without a terminal to ask on, even if the tests run in one),
// stdin from /dev/null.
func noTTY(t *testing.T, home string, env []string, args ...string) (stdout, stderr string, code int) {
	t.Helper()
	cmd := execCommand(home, args...)
	cmd.Env = append(cmd.Env, env...)
	cmd.SysProcAttr = &syscall.SysProcAttr{Setsid: true}
	var out, errOut strings.Builder
	cmd.Stdout, cmd.Stderr = &out, &errOut
	err := cmd.Run()
	code = cmd.ProcessState.ExitCode()
	if _, ok := err.(*exec.ExitError); err != nil && !ok {
		t.Fatalf("dhtchat %s: %v", strings.Join(args, " "), err)
	}
	return out.String(), errOut.String(), code
}

// secretsInClear returns the files under dir that hold a secret key in the
// clear.
func secretsInClear(t *testing.T, dir string) []string {
	t.Helper()
	var found []string
	err := filepath.WalkDir(dir, func(path string, d os.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		b, err := os.ReadFile(path)
		if err != nil {
			return err
		}
		if bytes.Contains(b, []byte("DHTCHAT-SECRET-KEY-1")) {
			found = append(found, filepath.Base(path))
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return found
}

// TestCLIPassphraseBackups: keygen --force keeps the old keyring as a
// backup; passphrase set then encrypts it too, and says so, so that no
// secret key stays in the clear; a change of passphrase re-encrypts the
// backups, and passphrase remove decrypts them, saying so.
func TestCLIPassphraseBackups(t *testing.T) {
	home := t.TempDir()
	for _, args := range [][]string{{"keygen"}, {"keygen", "--force"}} {
		if _, stderr, code := noTTY(t, home, nil, args...); code != 0 {
			t.Fatalf("%v: exit %d: %s", args, code, stderr)
		}
	}
	backups, _ := filepath.Glob(filepath.Join(home, "keyring.bak-*"))
	if len(backups) != 1 {
		t.Fatalf("backups = %v, want one", backups)
	}
	name := filepath.Base(backups[0])

	pw1 := []string{"DHTCHAT_PASSPHRASE=first passphrase"}
	_, stderr, code := noTTY(t, home, pw1, "passphrase", "set")
	if code != 0 || !strings.Contains(stderr, "dhtchat: the keyring is now encrypted with your passphrase\ndhtchat: 1 backup of older keyrings ("+name+"), which hold older secret keys, is encrypted with it too\n") {
		t.Fatalf("passphrase set: exit %d, stderr %q", code, stderr)
	}
	if clear := secretsInClear(t, home); len(clear) != 0 {
		t.Fatalf("secret keys in the clear after passphrase set: %v", clear)
	}

	// Another new identity while encrypted: its backup is encrypted too.
	if _, stderr, code := noTTY(t, home, pw1, "keygen", "--force"); code != 0 {
		t.Fatalf("keygen --force: exit %d: %s", code, stderr)
	}
	if clear := secretsInClear(t, home); len(clear) != 0 {
		t.Fatalf("secret keys in the clear after keygen --force: %v", clear)
	}

	newFile := filepath.Join(t.TempDir(), "new")
	if err := os.WriteFile(newFile, []byte("second passphrase\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	out, stderr, code := noTTY(t, home, pw1, "passphrase", "set", "--new-passphrase-file", newFile, "--json")
	if code != 0 || !strings.HasPrefix(out, `{"encrypted":true,"backups_resealed":["keyring.bak-`) || !strings.HasSuffix(out, `"],"backups_left":[]}`+"\n") ||
		strings.Count(out, "keyring.bak-") != 2 {
		t.Fatalf("passphrase set --json: exit %d, stdout %q, stderr %q", code, out, stderr)
	}
	// The old passphrase opens nothing any more.
	if _, _, code := noTTY(t, home, pw1, "whoami"); code != exitUsage {
		t.Errorf("whoami with the old passphrase: exit %d, want 2", code)
	}

	_, stderr, code = noTTY(t, home, []string{"DHTCHAT_PASSPHRASE=second passphrase"}, "passphrase", "remove")
	if code != 0 || !strings.Contains(stderr, "dhtchat: the keyring is no longer encrypted\ndhtchat: 2 backups of older keyrings (") ||
		!strings.Contains(stderr, "are no longer encrypted either\n") {
		t.Fatalf("passphrase remove: exit %d, stderr %q", code, stderr)
	}
	if clear := secretsInClear(t, home); len(clear) != 3 {
		t.Errorf("files with a secret key in the clear after passphrase remove: %v, want the keyring and 2 backups", clear)
	}
}

// TestCLIPassphraseSetWithoutTerminal: 'passphrase set' with no new
// passphrase and no terminal to ask for one fails clearly, exit 2, and
// changes nothing (it used to claim the keyring was encrypted); for an
// encrypted keyring DHTCHAT_PASSPHRASE is the current passphrase, not a
// new one.
func TestCLIPassphraseSetWithoutTerminal(t *testing.T) {
	home := t.TempDir()
	if _, stderr, code := noTTY(t, home, nil, "keygen"); code != 0 {
		t.Fatalf("keygen: exit %d: %s", code, stderr)
	}
	path := filepath.Join(home, "keyring")
	before, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	_, stderr, code := noTTY(t, home, nil, "passphrase", "set")
	want := "dhtchat: no new passphrase given, and no terminal to ask for one\n" +
		"dhtchat: hint: give it in a file with --passphrase-file FILE, or itself in DHTCHAT_PASSPHRASE\n" +
		"dhtchat: hint: nothing was changed\n"
	if code != exitUsage || stderr != want {
		t.Errorf("passphrase set on a plain keyring, no terminal: exit %d, stderr %q; want 2, %q", code, stderr, want)
	}
	if after, _ := os.ReadFile(path); !bytes.Equal(after, before) {
		t.Error("the keyring changed")
	}

	pw := []string{"DHTCHAT_PASSPHRASE=current"}
	if _, stderr, code := noTTY(t, home, pw, "passphrase", "set"); code != 0 {
		t.Fatalf("passphrase set from DHTCHAT_PASSPHRASE: exit %d: %s", code, stderr)
	}
	before, _ = os.ReadFile(path)
	_, stderr, code = noTTY(t, home, pw, "passphrase", "set")
	want = "dhtchat: no new passphrase given, and no terminal to ask for one\n" +
		"dhtchat: hint: give it in a file with --new-passphrase-file FILE\n" +
		"dhtchat: hint: nothing was changed\n"
	if code != exitUsage || stderr != want {
		t.Errorf("passphrase set on an encrypted keyring, no terminal: exit %d, stderr %q; want 2, %q", code, stderr, want)
	}
	if after, _ := os.ReadFile(path); !bytes.Equal(after, before) {
		t.Error("the keyring changed")
	}
}
