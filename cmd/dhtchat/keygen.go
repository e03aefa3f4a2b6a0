package main

import (
	"context"
	"errors"
	"flag"

	"github.com/dhtchat/dhtchat/internal/userr"
	"github.com/dhtchat/dhtchat/keyring"
)

var keygenCmd = &command{
	name:  "keygen",
	short: "Create your identity (an X25519 key pair)",
	long: `Creates your identity and prints your public key, which you give to your
friends: it is how they add you and how dhtchat knows it is really you. The
secret key stays in your keyring file (mode 0600) and is never printed.

keygen refuses to replace an existing identity. With --force it makes a new
one and keeps your friends; your friends then have to add your new key, and
chats under the old key can no longer be read or answered.

Examples:
  dhtchat keygen
  dhtchat keygen --passphrase          encrypt the keyring (asked twice)
  dhtchat --home /tmp/alice keygen --json`,
	nargs: exactly(0),
	setup: func(fs *flag.FlagSet) runFunc {
		force := fs.Bool("force", false, "replace an existing identity")
		withPass := fs.Bool("passphrase", false, "encrypt the keyring with a passphrase (terminal, --passphrase-file or DHTCHAT_PASSPHRASE)")
		return func(_ context.Context, e *env, _ []string) error {
			return runKeygen(e, *force, *withPass)
		}
	},
}

func runKeygen(e *env, force, withPass bool) error {
	f, err := e.keyringFile()
	if err != nil {
		return err
	}
	sk, err := keyring.GenerateSecretKey()
	if err != nil {
		return err
	}
	var pass []byte
	if withPass {
		if pass, err = e.newPassphrase(e.passphraseFile, true); err != nil {
			return err
		}
	}
	kept := false
	if force {
		// Keep the friends of a readable keyring; only the identity changes.
		err := f.Update(func(k *keyring.Keyring) error {
			k.Identity = sk
			return nil
		})
		switch {
		case err == nil:
			kept = true
			if withPass {
				if _, err := f.SetPassphrase(pass); err != nil {
					return err
				}
			}
		case errors.Is(err, keyring.ErrNotFound):
		default:
			var corrupt *keyring.CorruptError
			if !errors.As(err, &corrupt) {
				return err
			}
			// --force is the explicit way out of a corrupt keyring.
		}
	}
	if !kept {
		if err := f.Create(&keyring.Keyring{Identity: sk}, force, pass); err != nil {
			var corrupt *keyring.CorruptError
			if !errors.Is(err, keyring.ErrExists) {
				return err
			}
			// Say what is wrong with the file that is there, if it can be
			// read without a passphrase.
			if enc, eerr := f.Encrypted(); eerr != nil || enc {
				return err
			}
			if _, lerr := f.Load(); errors.As(lerr, &corrupt) {
				return userr.Explain(lerr).WithHint("'dhtchat keygen --force' replaces it with a new identity")
			}
			return err
		}
	}
	pk := sk.Public()
	if e.json {
		return e.printJSON(struct {
			PublicKey   string `json:"public_key"`
			Fingerprint string `json:"fingerprint"`
		}{pk.String(), pk.Fingerprint()})
	}
	e.printf("Your new public key is: %s\n", pk)
	e.printf("Share it with your friends!\n")
	if kept {
		e.notef("your previous identity was replaced; your friends were kept")
	}
	return nil
}
