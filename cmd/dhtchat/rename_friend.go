package main

import (
	"context"
	"flag"

	"github.com/dhtchat/dhtchat/internal/userr"
	"github.com/dhtchat/dhtchat/keyring"
)

var renameFriendCmd = &command{
	name:  "rename-friend",
	args:  "OLD NEW",
	short: "Rename a friend (their key and chats stay)",
	long: `Example:
  dhtchat rename-friend alice alice.work`,
	nargs: exactly(2),
	setup: func(*flag.FlagSet) runFunc { return runRenameFriend },
}

func runRenameFriend(_ context.Context, e *env, args []string) error {
	if err := keyring.ValidName(args[1]); err != nil {
		return userr.BadInput(err)
	}
	f, err := e.keyringFile()
	if err != nil {
		return err
	}
	if err := f.Update(func(k *keyring.Keyring) error { return k.RenameFriend(args[0], args[1]) }); err != nil {
		return err
	}
	if e.json {
		return e.printJSON(struct {
			From string `json:"from"`
			To   string `json:"to"`
		}{args[0], args[1]})
	}
	e.printf("Renamed %s to %s.\n", args[0], args[1])
	return nil
}
