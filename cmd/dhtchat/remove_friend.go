package main

import (
	"context"
	"flag"
	"slices"

	"github.com/dhtchat/dhtchat/chat"
	"github.com/dhtchat/dhtchat/keyring"
)

var removeFriendCmd = &command{
	name:  "remove-friend",
	args:  "NAME",
	short: "Remove a friend; their chats are kept, paused",
	long: `Removes NAME from your friends. Your chats with them stay in the local
database, with their history, but are paused: dhtchat no longer fetches or
publishes them (a dhtchat already running stops within seconds). Adding the
same key back ('dhtchat add-friend NAME PUBKEY') resumes them;
'dhtchat delete-chat --chat CHATKEY' deletes one (it prints the commands).
To stop a friend without removing them, use 'dhtchat block NAME'.

With --json: {"removed":…, "paused_chats":[CHATKEY…]}.

Example:
  dhtchat remove-friend alice`,
	nargs: exactly(1),
	setup: func(*flag.FlagSet) runFunc { return runRemoveFriend },
}

func runRemoveFriend(ctx context.Context, e *env, args []string) error {
	name := args[0]
	s, err := e.openSession(ctx, false)
	if err != nil {
		return err
	}
	defer s.close()
	var removed keyring.Friend
	err = s.krFile.Update(func(k *keyring.Keyring) error {
		removed, _ = k.Friend(name)
		return k.RemoveFriend(name)
	})
	if err != nil {
		return err
	}
	chats, err := s.client.ChatsWith(ctx, removed.Key)
	if err != nil {
		return err
	}
	if e.json {
		j := struct {
			Removed string   `json:"removed"`
			Paused  []string `json:"paused_chats"`
		}{name, []string{}}
		for _, in := range chats {
			j.Paused = append(j.Paused, in.Key.String())
		}
		return e.printJSON(j)
	}
	e.printf("Removed %s.\n", name)
	if len(chats) > 0 {
		notePaused(e, name, chats)
	}
	return nil
}

// notePaused tells what became of a removed friend's chats, and how to
// delete them.
func notePaused(e *env, name string, chats []chat.Info) {
	e.notef("your %s with %s %s kept, paused: nothing is fetched or published",
		chatCount(len(chats)), name, map[bool]string{true: "is", false: "are"}[len(chats) == 1])
	them := map[bool]string{true: "it", false: "them"}[len(chats) == 1]
	if slices.ContainsFunc(chats, func(in chat.Info) bool { return in.Blocked }) {
		// The block outlives the friendship: adding back alone resumes nothing.
		e.hintf("adding %s back, then 'dhtchat unblock %s', resumes %s", name, name, them)
	} else {
		e.hintf("adding %s back resumes %s", name, them)
	}
	for _, in := range chats {
		e.hintf("to delete: dhtchat delete-chat --chat %s", in.Key)
	}
}
