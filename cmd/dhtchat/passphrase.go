package main

import (
	"bytes"
	"context"
	"flag"
	"fmt"
	"io"
	"os"

	"golang.org/x/term"

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
	return promptPassphrase("Passphrase for your dhtchat keyring: ")
}

// newPassphrase returns a passphrase to encrypt the keyring with: from
// file if given, else DHTCHAT_PASSPHRASE, else asked twice on the terminal.
func (e *env) newPassphrase(file string) ([]byte, error) {
	if file != "" {
		return readPassphraseFile(file)
	}
	if p := e.getenv("DHTCHAT_PASSPHRASE"); p != "" {
		return []byte(p), nil
	}
	p, err := promptPassphrase("New passphrase: ")
	if err != nil {
		return nil, err
	}
	again, err := promptPassphrase("Repeat the passphrase: ")
	if err != nil {
		return nil, err
	}
	if !bytes.Equal(p, again) {
		return nil, usageErrorf("the passphrases do not match")
	}
	return p, nil
}

func readPassphraseFile(path string) ([]byte, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, runtimeErrorf("cannot read the passphrase file: %v", err)
	}
	defer f.Close()
	b, err := io.ReadAll(io.LimitReader(f, maxPassphrase+1))
	if err != nil {
		return nil, runtimeErrorf("cannot read the passphrase file: %v", err)
	}
	if len(b) > maxPassphrase {
		return nil, usageErrorf("the passphrase file %s is larger than %d bytes", path, maxPassphrase)
	}
	// A file written by "echo" ends in a newline that is not part of it.
	b = bytes.TrimSuffix(b, []byte("\n"))
	b = bytes.TrimSuffix(b, []byte("\r"))
	if len(b) == 0 {
		return nil, usageErrorf("the passphrase file %s is empty", path)
	}
	return b, nil
}

// promptPassphrase reads a passphrase from the controlling terminal without
// echo, so that it works even when stdin and stdout are redirected.
func promptPassphrase(prompt string) ([]byte, error) {
	tty, err := os.OpenFile("/dev/tty", os.O_RDWR, 0)
	if err != nil {
		return nil, keyring.ErrPassphraseRequired
	}
	defer tty.Close()
	fmt.Fprint(tty, prompt)
	p, err := term.ReadPassword(int(tty.Fd()))
	fmt.Fprintln(tty)
	if err != nil {
		return nil, keyring.ErrPassphraseRequired
	}
	if len(p) == 0 {
		return nil, usageErrorf("the passphrase is empty")
	}
	return p, nil
}

var passphraseCmd = &command{
	name:  "passphrase",
	args:  "set|remove",
	short: "Encrypt the keyring with a passphrase, change it, or remove it",
	long: `The keyring holds your secret key. With a passphrase it is stored encrypted
(age, scrypt) and every command that needs it asks for the passphrase on the
terminal, or reads it from --passphrase-file or DHTCHAT_PASSPHRASE.

"set" encrypts the keyring, or changes the passphrase of an encrypted one:
the new passphrase is asked twice on the terminal, or read from
--new-passphrase-file (or, for a keyring not yet encrypted, from
--passphrase-file / DHTCHAT_PASSPHRASE). "remove" stores it in clear again.

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
	f, err := e.keyringFile()
	if err != nil {
		return err
	}
	switch args[0] {
	case "set":
		enc, err := f.Encrypted()
		if err != nil {
			return err
		}
		var p []byte
		switch {
		case newPassphraseFile != "":
			p, err = readPassphraseFile(newPassphraseFile)
		case !enc && e.passphraseFile != "":
			p, err = readPassphraseFile(e.passphraseFile)
		default:
			p, err = e.newPassphrase("")
		}
		if err != nil {
			return err
		}
		if err := f.SetPassphrase(p); err != nil {
			return err
		}
		fmt.Fprintln(e.stderr, "The keyring is now encrypted with your passphrase.")
		return nil
	case "remove":
		if err := f.RemovePassphrase(); err != nil {
			return err
		}
		fmt.Fprintln(e.stderr, "The keyring is no longer encrypted.")
		return nil
	}
	return usageErrorf("usage: dhtchat passphrase set|remove")
}
