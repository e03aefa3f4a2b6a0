package main

import (
	"context"
	"flag"
)

var startCmd = &command{
	name:  "start",
	args:  "NAME",
	short: "Start a new chat with a friend and print its chat key",
	long: `Creates a chat with NAME and prints its chat key. Give the key to NAME, who
joins with 'dhtchat respond YOURNAME CHATKEY'. The chat key is only useful to
the two of you: every name and key of the chat is derived from it and from
the secret that only your two keys make.

Then, when stdin or stdout is not a terminal, it runs in pipe mode: each line
of stdin is sent as a message and messages received are printed, one per
line (with --json as for recv). At the end of stdin it waits until all it
sent is published, then exits; --follow keeps receiving until interrupted.

Examples:
  dhtchat start alice
  echo "hello" | dhtchat start alice --json`,
	nargs: exactly(1),
	setup: func(fs *flag.FlagSet) runFunc {
		follow := fs.Bool("follow", false, "in pipe mode, keep receiving after the end of stdin")
		return func(ctx context.Context, e *env, args []string) error {
			return runStart(ctx, e, args[0], *follow)
		}
	},
}

func runStart(ctx context.Context, e *env, name string, follow bool) error {
	s, f, err := e.openFriend(ctx, true, name)
	if err != nil {
		return err
	}
	defer s.close()
	info, err := s.client.StartChat(ctx, f.Key)
	if err != nil {
		return err
	}
	key := info.Key
	if e.json {
		err = e.printJSON(struct {
			ChatKey string `json:"chat_key"`
		}{key.String()})
	} else {
		e.printf("New chat key: %s\n", key)
		e.notef("Give this chat key to %s, who joins with: dhtchat respond YOURNAME %s\n", name, key)
	}
	if err != nil {
		return err
	}
	return e.converse(ctx, s, info, name, follow)
}
