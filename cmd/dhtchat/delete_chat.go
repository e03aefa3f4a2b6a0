package main

import (
	"context"
	"errors"
	"flag"
	"strconv"

	"github.com/dhtchat/dhtchat/chat"
	"github.com/dhtchat/dhtchat/chat/wire"
	"github.com/dhtchat/dhtchat/internal/userr"
)

const deleteChatArgs = "NAME [--chat CHATKEY | --all] | --chat CHATKEY"

var deleteChatCmd = &command{
	name:  "delete-chat",
	args:  deleteChatArgs,
	short: "Delete a chat and its history from this computer",
	long: `Deletes the chat with NAME from the local database: its messages in both
directions, the messages still waiting to be delivered, and its counters.
dhtchat stops fetching and publishing it at once, and a dhtchat already
running (the full-screen chat, recv --follow) stops within seconds. It asks
nothing, and cannot be undone. NAME is not told, and keeps their copy.

If you have several chats with NAME, say which with --chat CHATKEY ('dhtchat
chats' lists them) or delete them all with --all. --chat CHATKEY without
NAME deletes that chat whoever it is with, also one with someone who is no
longer your friend.

A deleted chat cannot be taken up again with its old chat key; start a new
one. To keep the history but stop the chat, use 'dhtchat block NAME'.

It prints what it deleted; with --json one object per chat:
{"friend":…, "chat_key":…, "sent":…, "received":…, "undelivered":…}.

Examples:
  dhtchat delete-chat mallory
  dhtchat delete-chat bob --chat dhtchat-chat1…
  dhtchat delete-chat --chat dhtchat-chat1…`,
	nargs: func(n int) bool { return n <= 1 },
	setup: func(fs *flag.FlagSet) runFunc {
		chatKey := fs.String("chat", "", "delete the chat with this `CHATKEY`")
		all := fs.Bool("all", false, "delete every chat with NAME")
		return func(ctx context.Context, e *env, args []string) error {
			return runDeleteChat(ctx, e, args, *chatKey, *all)
		}
	},
}

type deletedJSON struct {
	Friend      string `json:"friend"`
	ChatKey     string `json:"chat_key"`
	Sent        int    `json:"sent"`
	Received    int    `json:"received"`
	Undelivered int    `json:"undelivered"`
}

func runDeleteChat(ctx context.Context, e *env, args []string, chatKey string, all bool) error {
	switch {
	case len(args) == 0 && chatKey == "":
		return userr.Usagef("usage: dhtchat delete-chat %s", deleteChatArgs).
			WithHint("name the friend, or the chat with --chat CHATKEY")
	case all && chatKey != "":
		return userr.Usagef("--all and --chat exclude each other")
	case all && len(args) == 0:
		return userr.Usagef("--all needs a friend's NAME")
	}
	s, err := e.openSession(ctx, false)
	if err != nil {
		return err
	}
	defer s.close()
	chats, err := chatsToDelete(ctx, s, args, chatKey, all)
	if err != nil {
		return err
	}
	for _, in := range chats {
		d, err := s.client.DeleteChat(ctx, in.ID)
		if err != nil {
			return err
		}
		name := s.nameOf(in.Peer)
		if e.json {
			err := e.printJSON(deletedJSON{Friend: name, ChatKey: in.Key.String(), Sent: d.Sent, Received: d.Received, Undelivered: d.Unacked})
			if err != nil {
				return err
			}
			continue
		}
		e.printf("Deleted the chat with %s (chat key %s): %s sent, %s received.\n",
			name, in.Key, messageCount(d.Sent), messageCount(d.Received))
		if d.Unacked > 0 {
			e.warnf("of the messages you sent in it, %d had not been delivered, and never will be", d.Unacked)
		}
	}
	return nil
}

// chatsToDelete returns the chats that delete-chat's arguments name.
func chatsToDelete(ctx context.Context, s *session, args []string, chatKey string, all bool) ([]chat.Info, error) {
	if len(args) == 0 {
		key, err := wire.ParseChatKey(chatKey)
		if err != nil {
			return nil, err
		}
		in, err := s.client.ChatByKey(ctx, key)
		if errors.Is(err, chat.ErrUnknownChat) {
			return nil, userr.Usagef("you have no chat under that chat key").
				WithHint("'dhtchat chats' lists your chats")
		}
		return []chat.Info{in}, err
	}
	f, err := s.friend(args[0])
	if err != nil {
		return nil, err
	}
	if chatKey != "" {
		in, err := s.chatWith(ctx, f, chatKey)
		return []chat.Info{in}, err
	}
	chats, err := s.client.ChatsWith(ctx, f.Key)
	switch {
	case err != nil:
		return nil, err
	case len(chats) == 0:
		return nil, userr.Usagef("you have no chat with %s", f.Name)
	case len(chats) > 1 && !all:
		u := userr.Usagef("you have %d chats with %s: say which to delete", len(chats), f.Name)
		for _, in := range chats {
			u.WithHint("dhtchat delete-chat %s --chat %s   (last active %s)", f.Name, in.Key, in.LastActivity.Local().Format("2006-01-02 15:04"))
		}
		return nil, u.WithHint("or all of them: dhtchat delete-chat %s --all", f.Name)
	}
	return chats, nil
}

// messageCount is "1 message", "2 messages", "no message".
func messageCount(n int) string {
	switch n {
	case 0:
		return "no message"
	case 1:
		return "1 message"
	}
	return strconv.Itoa(n) + " messages"
}
