package main

import (
	"context"
	"flag"

	"github.com/dhtchat/dhtchat/keyring"
)

var removeFriendCmd = &command{
	name:  "remove-friend",
	args:  "NAME",
	short: "Remove a friend",
	long: `Removes NAME from your friends. Your chat history with them stays in the
local database.

Example:
  dhtchat remove-friend alice`,
	nargs: exactly(1),
	setup: func(*flag.FlagSet) runFunc { return runRemoveFriend },
}

func runRemoveFriend(_ context.Context, e *env, args []string) error {
	f, err := e.keyringFile()
	if err != nil {
		return err
	}
	if err := f.Update(func(k *keyring.Keyring) error { return k.RemoveFriend(args[0]) }); err != nil {
		return err
	}
	if e.json {
		return e.printJSON(struct {
			Removed string `json:"removed"`
		}{args[0]})
	}
	e.printf("Removed %s.\n", args[0])
	return nil
}
