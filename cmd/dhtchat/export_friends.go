package main

import (
	"context"
	"flag"
)

var exportFriendsCmd = &command{
	name:  "export-friends",
	short: "Print your friends as JSON lines, for import-friends or scripts",
	long: `Prints one JSON object per friend: {"name":…, "public_key":…, …}. Contains no
secret. 'dhtchat import-friends' reads it back.

Example:
  dhtchat export-friends > friends.jsonl`,
	nargs: exactly(0),
	setup: func(*flag.FlagSet) runFunc { return runExportFriends },
}

func runExportFriends(_ context.Context, e *env, _ []string) error {
	k, err := e.loadKeyring()
	if err != nil {
		return err
	}
	for _, f := range k.Friends {
		if err := e.printJSON(newFriendJSON(f)); err != nil {
			return err
		}
	}
	return nil
}
