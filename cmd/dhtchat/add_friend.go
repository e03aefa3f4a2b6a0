package main

import (
	"context"
	"errors"
	"flag"

	"github.com/dhtchat/dhtchat/internal/userr"
	"github.com/dhtchat/dhtchat/keyring"
)

var addFriendCmd = &command{
	name:  "add-friend",
	args:  "NAME PUBKEY",
	short: "Add a friend by their public key",
	long: `Adds a friend under NAME (letters, digits, '-', '_', '.'). PUBKEY is the key
their 'dhtchat whoami' printed. A name is never silently re-pointed to another
key: to change a friend's key, remove the friend first. Adding the same friend
again changes nothing.

Compare the fingerprint printed here with the one your friend's 'dhtchat
whoami' shows, in person or over a call you trust.

Examples:
  dhtchat add-friend alice dhtchat1…
  dhtchat add-friend --json bob "$(cat bob.pub)"`,
	nargs: exactly(2),
	setup: func(*flag.FlagSet) runFunc { return runAddFriend },
}

func runAddFriend(_ context.Context, e *env, args []string) error {
	name, text := args[0], args[1]
	if err := keyring.ValidName(name); err != nil {
		return userr.BadInput(err)
	}
	pk, err := keyring.ParsePublicKey(text)
	if err != nil {
		return invalidKey(name, err)
	}
	f, err := e.keyringFile()
	if err != nil {
		return err
	}
	var (
		added  bool
		friend keyring.Friend
	)
	err = f.Update(func(k *keyring.Keyring) error {
		added, err = k.AddFriend(name, pk)
		friend, _ = k.Friend(name)
		return err
	})
	if err != nil {
		return err
	}
	if e.json {
		j := newFriendJSON(keyring.Friend{Name: name, Key: pk, Verified: friend.Verified})
		j.KeyChange = newKeyChangeJSON(friend.KeyChange)
		return e.printJSON(struct {
			friendJSON
			Added bool `json:"added"`
		}{j, added})
	}
	if added {
		e.printf("Added %s (fingerprint %s).\n", name, pk.Fingerprint())
		if c := friend.KeyChange; c != nil {
			// The name had another key: loudly, since this is how a
			// swapped key would arrive.
			e.warnf("%s had another key before (old fingerprint %s)", name, c.OldKey.Fingerprint())
			e.hintf("make sure it really is %s's new key: dhtchat verify %s", name, name)
		}
	} else {
		e.printf("%s is already your friend with this key.\n", name)
	}
	return nil
}

// invalidKey describes why the public key given for friend name is not one.
func invalidKey(name string, err error) *userr.Error {
	var pe *keyring.ParseError
	if errors.As(err, &pe) {
		return userr.Usagef("invalid public key for %s: %s", name, pe.Msg).Because(err)
	}
	return userr.Usagef("invalid public key for %s: %s", name, userr.Msg(err)).Because(err)
}
