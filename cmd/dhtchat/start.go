package main

import (
	"context"
	"errors"
	"flag"

	"github.com/dhtchat/dhtchat/chat"
	"github.com/dhtchat/dhtchat/internal/userr"
)

var startCmd = &command{
	name:  "start",
	args:  "NAME [--new]",
	short: "Start a chat with a friend (or open yours) and print its chat key",
	long: `Creates a chat with NAME and prints its chat key: "New chat key: CHATKEY"
(with --json {"chat_key":…, "new":true}). Give the key to NAME, who joins
with 'dhtchat respond YOURNAME CHATKEY'. The chat key is only useful to the
two of you: every name and key of the chat is derived from it and from the
secret that only your two keys make.

If you already have a chat with NAME, start opens it (the most recently
active one) instead of making another that NAME never joined, and prints
"Chat key: CHATKEY" ({"chat_key":…, "new":false}). --new starts another
chat anyway: NAME must join it with its key before anything you send in it
reaches them, and it is the chat that 'dhtchat send NAME' uses from then on.

Then, on a terminal, the full-screen chat opens on it. When stdin or stdout
is not a terminal it runs in pipe mode: each line of stdin is sent as a
message and messages received are printed, one per line (with --json as
for recv). At the end of stdin it waits until all it sent is published,
then exits; --follow keeps receiving until interrupted.

Examples:
  dhtchat start alice
  dhtchat start alice --new
  echo "hello" | dhtchat start alice --json`,
	nargs: exactly(1),
	setup: func(fs *flag.FlagSet) runFunc {
		follow := fs.Bool("follow", false, "in pipe mode, keep receiving after the end of stdin")
		another := fs.Bool("new", false, "start another chat even if you have one with NAME")
		return func(ctx context.Context, e *env, args []string) error {
			return runStart(ctx, e, args[0], *another, *follow)
		}
	},
}

type startJSON struct {
	ChatKey string `json:"chat_key"`
	New     bool   `json:"new"`
}

func runStart(ctx context.Context, e *env, name string, another, follow bool) error {
	e.long = true // the full-screen chat or pipe mode: both run on
	s, f, err := e.openFriendWatching(ctx, true, e.converseWatch(), name)
	if err != nil {
		return err
	}
	defer s.close()
	existing, err := s.client.ChatsWith(ctx, f.Key)
	if err != nil {
		return err
	}
	if blocked, err := s.client.Blocked(ctx, f.Key); err != nil || blocked {
		if err == nil {
			err = userr.Usagef("%s is blocked: no chat with them can be started", name).
				WithHint("'dhtchat unblock %s' first", name)
		}
		return err
	}
	if len(existing) > 0 && !another {
		info := existing[0] // the most recently active
		if e.json {
			err = e.printJSON(startJSON{ChatKey: info.Key.String()})
		} else {
			e.printf("Chat key: %s\n", info.Key)
			if len(existing) == 1 {
				e.notef("you already have a chat with %s; opening it", name)
			} else {
				e.notef("you have %d chats with %s; opening the latest", len(existing), name)
			}
			e.hintf("'dhtchat start %s --new' starts another", name)
		}
		if err != nil {
			return err
		}
		return e.converse(ctx, s, info, name, follow, false)
	}
	info, err := s.client.StartChat(ctx, f.Key)
	if errors.Is(err, chat.ErrBlocked) {
		return userr.Usagef("%s is blocked: no chat with them can be started", name).
			WithHint("'dhtchat unblock %s' first", name)
	}
	if err != nil {
		return err
	}
	key := info.Key
	if e.json {
		err = e.printJSON(startJSON{ChatKey: key.String(), New: true})
	} else {
		e.printf("New chat key: %s\n", key)
		e.notef("give this chat key to %s, who joins with: dhtchat respond YOURNAME %s", name, key)
	}
	if err != nil {
		return err
	}
	if len(existing) > 0 {
		e.warnf("this is another chat with %s, beside the %s you have: nothing you send in it reaches %s until they join it with this key",
			name, chatCount(len(existing)), name)
		e.hintf("'dhtchat send %s' now sends in this one", name)
	}
	return e.converse(ctx, s, info, name, follow, true)
}
