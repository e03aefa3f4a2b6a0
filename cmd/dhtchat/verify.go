package main

import (
	"context"
	"flag"
	"time"

	"github.com/dhtchat/dhtchat/internal/userr"
	"github.com/dhtchat/dhtchat/keyring"
)

var verifyCmd = &command{
	name:  "verify",
	args:  "NAME",
	short: "Show the safety number to compare with a friend; mark them verified",
	long: `Prints the safety number of your conversations with NAME: 60 digits computed
from both your public keys, the same on both sides. Compare it with NAME in
person, or over a voice or video call where you recognise them (not through
dhtchat itself, nor a channel an attacker could control). If it matches, nobody
swapped a key on the way, and you can record it with --mark. Your friend runs
'dhtchat verify' with your name and sees the same number.

If a friend's name was used before with another key (removed and added again
with a new key), verify says so loudly until you verify the new key.

Examples:
  dhtchat verify alice
  dhtchat verify alice --mark
  dhtchat verify alice --unmark
  dhtchat verify alice --json | jq -r .safety_number`,
	nargs: exactly(1),
	setup: func(fs *flag.FlagSet) runFunc {
		mark := fs.Bool("mark", false, "record that you compared the safety number and it matched")
		unmark := fs.Bool("unmark", false, "remove the verified mark")
		return func(ctx context.Context, e *env, args []string) error {
			if *mark && *unmark {
				return userr.Usagef("verify: --mark and --unmark cannot be used together")
			}
			return runVerify(ctx, e, args[0], *mark, *unmark)
		}
	},
}

// verifyJSON is verify's --json output.
type verifyJSON struct {
	Name            string          `json:"name"`
	PublicKey       string          `json:"public_key"`
	Fingerprint     string          `json:"fingerprint"`
	YourKey         string          `json:"your_public_key"`
	YourFingerprint string          `json:"your_fingerprint"`
	SafetyNumber    string          `json:"safety_number"`
	Verified        bool            `json:"verified"`
	Trust           string          `json:"trust"` // "unverified", "verified" or "key changed"
	KeyChange       *keyChangeJSON  `json:"key_change,omitempty"`
	Changed         *verifyChangeTo `json:"changed,omitempty"`
}

type keyChangeJSON struct {
	OldPublicKey   string    `json:"old_public_key"`
	OldFingerprint string    `json:"old_fingerprint"`
	ChangedAt      time.Time `json:"changed_at"`
}

// verifyChangeTo reports what --mark or --unmark did.
type verifyChangeTo struct {
	Verified bool `json:"verified"`
}

func newKeyChangeJSON(c *keyring.KeyChange) *keyChangeJSON {
	if c == nil {
		return nil
	}
	return &keyChangeJSON{OldPublicKey: c.OldKey.String(), OldFingerprint: c.OldKey.Fingerprint(), ChangedAt: c.ChangedAt.UTC()}
}

func runVerify(_ context.Context, e *env, name string, mark, unmark bool) error {
	if err := keyring.ValidName(name); err != nil {
		return userr.BadInput(err)
	}
	var (
		k      *keyring.Keyring
		before keyring.Friend
		err    error
	)
	if mark || unmark {
		f, ferr := e.keyringFile()
		if ferr != nil {
			return ferr
		}
		err = f.Update(func(kr *keyring.Keyring) error {
			fr, ok := kr.Friend(name)
			if !ok {
				return kr.SetVerified(name, mark) // the "no friend named" error
			}
			before = fr
			if err := kr.SetVerified(name, mark); err != nil {
				return err
			}
			k = kr
			return nil
		})
	} else {
		k, err = e.loadKeyring()
	}
	if err != nil {
		return err
	}
	fr, ok := k.Friend(name)
	if !ok {
		return k.SetVerified(name, false) // the "no friend named" error
	}
	me := k.Identity.Public()
	safety := keyring.SafetyNumber(me, fr.Key)

	if e.json {
		out := verifyJSON{
			Name: fr.Name, PublicKey: fr.Key.String(), Fingerprint: fr.Key.Fingerprint(),
			YourKey: me.String(), YourFingerprint: me.Fingerprint(),
			SafetyNumber: safety, Verified: fr.Verified, Trust: fr.Trust().String(),
			KeyChange: newKeyChangeJSON(fr.KeyChange),
		}
		if mark || unmark {
			out.Changed = &verifyChangeTo{Verified: mark}
		}
		return e.printJSON(out)
	}

	switch {
	case mark:
		e.printf("Marked %s as verified.\n", name)
		if before.KeyChange != nil {
			e.printf("The warning about %s's changed key is cleared.\n", name)
		}
		return nil
	case unmark:
		e.printf("%s is no longer marked as verified.\n", name)
		return nil
	}

	if c := fr.KeyChange; c != nil {
		e.printf("WARNING: the key of %s changed on %s.\n", name, c.ChangedAt.Local().Format("2006-01-02 15:04"))
		e.printf("  old fingerprint: %s\n", c.OldKey.Fingerprint())
		e.printf("  new fingerprint: %s\n", fr.Key.Fingerprint())
		e.printf("Someone else may be using the name %s. Verify the new key before you\n", name)
		e.printf("trust anything sent with it.\n\n")
	}
	e.printf("Safety number with %s:\n\n", name)
	for _, line := range keyring.SafetyNumberLines(safety) {
		e.printf("    %s\n", line)
	}
	e.printf("\nYour fingerprint:        %s\n", me.Fingerprint())
	e.printf("%-24s %s\n", name+"'s fingerprint:", fr.Key.Fingerprint())
	e.printf("Status:                  %s\n\n", fr.Trust())
	e.printf("Compare the number with %s in person, or over a voice or video call where\n", name)
	e.printf("you recognise them; they see the same number with 'dhtchat verify' and your\n")
	e.printf("name. If every digit matches, run:\n\n    dhtchat verify %s --mark\n", name)
	if fr.Verified && fr.KeyChange == nil {
		e.printf("\n(You already marked %s as verified.)\n", name)
	}
	return nil
}
