package main

import (
	"bytes"
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"strconv"
	"strings"

	"golang.org/x/term"

	"github.com/dhtchat/dhtchat/internal/userr"
	"github.com/dhtchat/dhtchat/keyring"
)

// maxPassphrase bounds what is read from a passphrase file.
const maxPassphrase = 4 << 10

// keyringFile returns the user's keyring file. When the file is encrypted,
// its passphrase comes from --passphrase-file, else DHTCHAT_PASSPHRASE, else
// the terminal.
func (e *env) keyringFile() (*keyring.File, error) {
	return e.keyringFileAsking(e.passphrase)
}

// keyringFileAsking is keyringFile with ask in place of e.passphrase.
func (e *env) keyringFileAsking(ask func() ([]byte, error)) (*keyring.File, error) {
	dir, err := e.configDir()
	if err != nil {
		return nil, err
	}
	var opts []keyring.Option
	if testScryptWorkFactor > 0 {
		opts = append(opts, keyring.WithScryptWorkFactor(testScryptWorkFactor))
	}
	return keyring.NewFile(dir, ask, opts...), nil
}

// passphraseNoPrompt is passphrase where the terminal can't be asked (the
// full-screen UI owns it): --passphrase-file or DHTCHAT_PASSPHRASE, else
// errNeedPassphrase.
func (e *env) passphraseNoPrompt() ([]byte, error) {
	if e.passphraseFile != "" {
		return readPassphraseFile(e.passphraseFile)
	}
	if p := e.getenv("DHTCHAT_PASSPHRASE"); p != "" {
		return []byte(p), nil
	}
	return nil, errNeedPassphrase
}

// testScryptWorkFactor, when set, replaces age's scrypt work factor. Only the
// test binary sets it (main_test.go), to keep the CLI tests fast; the dhtchat
// binary always uses age's default.
var testScryptWorkFactor int

// loadKeyring loads the keyring for commands that only read it.
func (e *env) loadKeyring() (*keyring.Keyring, error) {
	f, err := e.keyringFile()
	if err != nil {
		return nil, err
	}
	return f.Load()
}

// passphrase returns the passphrase of an encrypted keyring.
func (e *env) passphrase() ([]byte, error) {
	if e.passphraseFile != "" {
		return readPassphraseFile(e.passphraseFile)
	}
	if p := e.getenv("DHTCHAT_PASSPHRASE"); p != "" {
		return []byte(p), nil
	}
	p, err := promptPassphrase("Passphrase for your dhtchat keyring: ")
	if errors.Is(err, errNoTerminal) {
		return nil, keyring.ErrPassphraseRequired
	}
	return p, err
}

// newPassphrase returns a passphrase to encrypt the keyring with: from
// file if given, else (with env) DHTCHAT_PASSPHRASE, else asked twice on
// the terminal. Without a terminal to ask on, it fails with a usage error
// that says how to give it.
func (e *env) newPassphrase(file string, env bool) ([]byte, error) {
	if file != "" {
		return readPassphraseFile(file)
	}
	if p := e.getenv("DHTCHAT_PASSPHRASE"); env && p != "" {
		return []byte(p), nil
	}
	p, err := promptPassphrase("New passphrase: ")
	if errors.Is(err, errNoTerminal) {
		u := userr.Usagef("no new passphrase given, and no terminal to ask for one")
		if env {
			u.WithHint("give it in a file with --passphrase-file FILE, or itself in DHTCHAT_PASSPHRASE")
		} else {
			u.WithHint("give it in a file with --new-passphrase-file FILE")
		}
		return nil, u.WithHint("nothing was changed")
	}
	if err != nil {
		return nil, err
	}
	again, err := promptPassphrase("Repeat the passphrase: ")
	if err != nil {
		return nil, err
	}
	if !bytes.Equal(p, again) {
		return nil, userr.Usagef("the passphrases do not match")
	}
	return p, nil
}

func readPassphraseFile(path string) ([]byte, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, userr.Runtimef("cannot read the passphrase file: %v", err)
	}
	defer f.Close()
	b, err := io.ReadAll(io.LimitReader(f, maxPassphrase+1))
	if err != nil {
		return nil, userr.Runtimef("cannot read the passphrase file: %v", err)
	}
	if len(b) > maxPassphrase {
		return nil, userr.Usagef("the passphrase file %s is larger than %d bytes", path, maxPassphrase)
	}
	// A file written by "echo" ends in a newline that is not part of it.
	b = bytes.TrimSuffix(b, []byte("\n"))
	b = bytes.TrimSuffix(b, []byte("\r"))
	if len(b) == 0 {
		return nil, userr.Usagef("the passphrase file %s is empty", path)
	}
	return b, nil
}

// errNoTerminal: there is no terminal to ask for a passphrase on.
var errNoTerminal = errors.New("no terminal to ask for the passphrase")

// promptPassphrase reads a passphrase from the controlling terminal without
// echo, so that it works even when stdin and stdout are redirected. With
// no terminal it returns errNoTerminal.
func promptPassphrase(prompt string) ([]byte, error) {
	tty, err := os.OpenFile("/dev/tty", os.O_RDWR, 0)
	if err != nil {
		return nil, errNoTerminal
	}
	defer tty.Close()
	fmt.Fprint(tty, prompt)
	p, err := term.ReadPassword(int(tty.Fd()))
	fmt.Fprintln(tty)
	if err != nil {
		return nil, errNoTerminal
	}
	if len(p) == 0 {
		return nil, userr.Usagef("the passphrase is empty")
	}
	return p, nil
}

var passphraseCmd = &command{
	name:  "passphrase",
	args:  "set|remove",
	short: "Encrypt the keyring with a passphrase, change it, or remove it",
	long: `The keyring holds your secret key. With a passphrase it is stored encrypted
(age, scrypt) and every command that needs it asks for the passphrase on the
terminal, or reads it from the file --passphrase-file FILE names, or takes
it from DHTCHAT_PASSPHRASE (which holds the passphrase itself, not a file
name; the file wins if both are given).

"set" encrypts the keyring, or changes the passphrase of an encrypted one:
the new passphrase is asked twice on the terminal, or read from
--new-passphrase-file (or, for a keyring not yet encrypted, from
--passphrase-file / DHTCHAT_PASSPHRASE; for an encrypted one those give
the current passphrase). Without a terminal and without one of those,
"set" fails (exit 2) and changes nothing. "remove" stores it in clear again.

The backups of replaced keyrings (keyring.bak-…, made by keygen --force)
hold your older secret keys. They are kept as the keyring is: "set"
encrypts them with the new passphrase too, "remove" stores them in clear,
and both say which they changed. A backup encrypted with a passphrase older
than the current one is left as it is.

With --json: {"encrypted":…, "backups_resealed":[…], "backups_left":[…]}.

Examples:
  dhtchat passphrase set
  dhtchat passphrase set --new-passphrase-file new.txt --passphrase-file old.txt
  DHTCHAT_PASSPHRASE=… dhtchat passphrase remove`,
	nargs: exactly(1),
	setup: func(fs *flag.FlagSet) runFunc {
		newFile := fs.String("new-passphrase-file", "", "read the new passphrase from `FILE`")
		return func(ctx context.Context, e *env, args []string) error {
			return runPassphrase(ctx, e, args, *newFile)
		}
	},
}

func runPassphrase(_ context.Context, e *env, args []string, newPassphraseFile string) error {
	if args[0] != "set" && args[0] != "remove" {
		return userr.Usagef("usage: dhtchat passphrase set|remove")
	}
	f, err := e.keyringFile()
	if err != nil {
		return err
	}
	enc, err := f.Encrypted()
	if err != nil {
		return err
	}
	var bc keyring.BackupChange
	if args[0] == "remove" {
		if !enc {
			if _, err := f.Load(); err != nil {
				return err // a damaged file is reported, not called fine
			}
			return e.passphraseDone(false, bc, "the keyring is not encrypted; nothing was changed")
		}
		if bc, err = f.RemovePassphrase(); err != nil {
			return err
		}
		return e.passphraseDone(false, bc, "the keyring is no longer encrypted")
	}
	var p []byte
	switch {
	case newPassphraseFile != "":
		p, err = readPassphraseFile(newPassphraseFile)
	case !enc && e.passphraseFile != "":
		p, err = readPassphraseFile(e.passphraseFile)
	default:
		// For an encrypted keyring, --passphrase-file and
		// DHTCHAT_PASSPHRASE are the current passphrase, not the new one.
		p, err = e.newPassphrase("", !enc)
	}
	if err != nil {
		return err
	}
	if bc, err = f.SetPassphrase(p); err != nil {
		return err
	}
	return e.passphraseDone(true, bc, "the keyring is now encrypted with your passphrase")
}

// passphraseDone reports a passphrase change, and what became of the
// backups of older keyrings, which hold older secret keys.
func (e *env) passphraseDone(encrypted bool, bc keyring.BackupChange, msg string) error {
	if e.json {
		return e.printJSON(struct {
			Encrypted bool     `json:"encrypted"`
			Resealed  []string `json:"backups_resealed"`
			Left      []string `json:"backups_left"`
		}{encrypted, append([]string{}, bc.Resealed...), append([]string{}, bc.Left...)})
	}
	e.notef("%s", msg)
	if n := len(bc.Resealed); n > 0 {
		what := "encrypted with it too"
		if !encrypted {
			what = "no longer encrypted either"
		}
		e.notef("%s of older keyrings (%s), which hold older secret keys, %s %s",
			countOf(n, "backup", "backups"), strings.Join(bc.Resealed, ", "), map[bool]string{true: "is", false: "are"}[n == 1], what)
	}
	if n := len(bc.Left); n > 0 {
		e.warnf("%s (%s) %s encrypted with another, older passphrase and %s left as %s",
			countOf(n, "backup", "backups"), strings.Join(bc.Left, ", "), map[bool]string{true: "is", false: "are"}[n == 1],
			map[bool]string{true: "was", false: "were"}[n == 1], map[bool]string{true: "it was", false: "they were"}[n == 1])
	}
	return nil
}

// countOf is "1 backup", "2 backups".
func countOf(n int, one, many string) string {
	if n == 1 {
		return "1 " + one
	}
	return strconv.Itoa(n) + " " + many
}
