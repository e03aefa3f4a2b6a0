package main

import (
	"context"
	"flag"
	"strconv"
	"text/tabwriter"
	"time"
)

var chatsCmd = &command{
	name:  "chats",
	short: "List your chats: friend, chat key, unread messages, last activity",
	long: `Reads the local database only. A chat with a blocked friend shows
"(blocked)" after the name, one with someone no longer your friend
"NAME (removed), paused": neither is fetched or published. With --json each chat is
{"friend":…, "chat_key":…, "unread":…, "last_activity":…,
"started_by_me":…, "paused":…, "blocked":…}.

Examples:
  dhtchat chats
  dhtchat chats --json | jq -r 'select(.unread > 0) | .friend'`,
	nargs: exactly(0),
	setup: func(*flag.FlagSet) runFunc { return runChats },
}

type chatJSON struct {
	Friend       string    `json:"friend"`
	ChatKey      string    `json:"chat_key"`
	Unread       int       `json:"unread"`
	LastActivity time.Time `json:"last_activity"`
	StartedByMe  bool      `json:"started_by_me"`
	// Paused: neither fetched nor published, because the friend is
	// blocked (Blocked) or no longer a friend.
	Paused  bool `json:"paused"`
	Blocked bool `json:"blocked"`
}

func runChats(ctx context.Context, e *env, _ []string) error {
	s, err := e.openSession(ctx, false)
	if err != nil {
		return err
	}
	defer s.close()
	infos, err := s.client.Chats(ctx)
	if err != nil {
		return err
	}
	if e.json {
		for _, in := range infos {
			if err := e.printJSON(chatJSON{s.nameOf(in.Peer), in.Key.String(), in.Unread, in.LastActivity.UTC(), in.StartedByMe, in.Paused, in.Blocked}); err != nil {
				return err
			}
		}
		return nil
	}
	if len(infos) == 0 {
		e.notef("No chats yet. Start one with: dhtchat start NAME\n")
		return nil
	}
	tw := tabwriter.NewWriter(e.stdout, 0, 0, 2, ' ', 0)
	defer tw.Flush()
	tw.Write([]byte("FRIEND\tUNREAD\tLAST ACTIVITY\tCHAT KEY\n"))
	for _, in := range infos {
		name := s.nameOf(in.Peer)
		switch {
		case in.Blocked:
			name += " (blocked)"
		case in.Paused:
			name += ", paused"
		}
		tw.Write([]byte(name + "\t" + strconv.Itoa(in.Unread) + "\t" +
			in.LastActivity.Local().Format("2006-01-02 15:04") + "\t" + in.Key.String() + "\n"))
	}
	return nil
}
