package main

import (
	"context"
	"errors"
	"flag"

	"github.com/dhtchat/dhtchat/chat"
	"github.com/dhtchat/dhtchat/chat/wire"
	"github.com/dhtchat/dhtchat/internal/userr"
)

var respondCmd = &command{
	name:  "respond",
	args:  "NAME CHATKEY",
	short: "Join the chat a friend started",
	long: `Joins the chat that NAME started with 'dhtchat start', whose chat key they
gave you. A chat key made for someone else, or by someone other than NAME, is
refused. Then, as for start: pipe mode when stdin or stdout is not a
terminal.

Examples:
  dhtchat respond bob dhtchat-chat1…
  dhtchat respond bob dhtchat-chat1… < answers.txt`,
	nargs: exactly(2),
	setup: func(fs *flag.FlagSet) runFunc {
		follow := fs.Bool("follow", false, "in pipe mode, keep receiving after the end of stdin")
		return func(ctx context.Context, e *env, args []string) error {
			return runRespond(ctx, e, args[0], args[1], *follow)
		}
	},
}

func runRespond(ctx context.Context, e *env, name, chatKey string, follow bool) error {
	key, err := wire.ParseChatKey(chatKey)
	if err != nil {
		return err
	}
	e.long = true // the full-screen chat or pipe mode: both run on
	s, f, err := e.openFriendWatching(ctx, true, e.converseWatch(), name)
	if err != nil {
		return err
	}
	defer s.close()
	if blocked, err := s.client.Blocked(ctx, f.Key); err != nil || blocked {
		if err == nil {
			err = userr.Usagef("%s is blocked: no chat with them can be joined", name).
				WithHint("'dhtchat unblock %s' first", name)
		}
		return err
	}
	if err := s.client.CheckChatKey(f.Key, key); err != nil {
		if errors.Is(err, wire.ErrChatKeyNotForYou) {
			return userr.Usagef("this chat key was not made for you and %s", name).
				WithHint("check that %s is the friend who started it, and that they started it with your public key", name)
		}
		return err
	}
	// Responding again opens the chat joined before, as start does.
	_, err = s.client.ChatWithKey(ctx, f.Key, key)
	joined := err == nil
	if err != nil && !errors.Is(err, chat.ErrUnknownChat) {
		return err
	}
	if joined {
		e.notef("you already joined this chat with %s; opening it", name)
	} else {
		// Joining reads the chat's records first (see chat.Client.JoinChat).
		e.notef("joining the chat through the DHT…")
	}
	if err := s.connect(ctx); err != nil {
		return err
	}
	info, err := s.client.JoinChat(ctx, f.Key, key)
	if err != nil {
		return err
	}
	if !joined {
		e.notef("joined the chat with %s", name)
	}
	return e.converse(ctx, s, info, name, follow, false)
}
