package main

import (
	"context"
	"flag"
	"strings"

	"github.com/dhtchat/dhtchat/chat"
)

var searchCmd = &command{
	name:  "search",
	args:  "NAME TEXT... [--chat CHATKEY]",
	short: "Print the messages of a chat that contain TEXT, from the local store",
	long: `Prints the messages of the chat with NAME (the latest, or the one --chat names)
whose text contains TEXT, ignoring case, oldest first, as history prints
them; it reads no network. TEXT is the rest of the arguments joined by
spaces, found as one piece (not as separate words). At most the newest
1000 matches are printed. It exits 0 also when nothing matches.

With --json each match is one line, as in history --json.

Examples:
  dhtchat search alice meeting
  dhtchat search alice "see you" --json | jq -r .text`,
	nargs: atLeast(2),
	setup: func(fs *flag.FlagSet) runFunc {
		chatKey := fs.String("chat", "", "search the chat with this `CHATKEY` (default: the latest with NAME)")
		return func(ctx context.Context, e *env, args []string) error { return runSearch(ctx, e, args, *chatKey) }
	},
}

func runSearch(ctx context.Context, e *env, args []string, chatKey string) error {
	s, f, info, err := e.openChat(ctx, false, args[0], chatKey)
	if err != nil {
		var ok bool
		if s, f, info, ok = e.openFormerChat(ctx, args[0], chatKey); !ok {
			return err
		}
	}
	defer s.close()
	hits, err := s.client.Search(ctx, info.ID, strings.Join(args[1:], " "), chat.MaxSearchHits)
	if err != nil {
		return err
	}
	return e.printEntries(f.Name, timeline(hits))
}
