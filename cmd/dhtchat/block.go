package main

import (
	"context"
	"flag"
	"strconv"

	"github.com/dhtchat/dhtchat/chat"
	"github.com/dhtchat/dhtchat/internal/userr"
)

var blockCmd = &command{
	name:  "block",
	args:  "NAME",
	short: "Stop fetching and publishing every chat with a friend",
	long: `Blocks NAME: dhtchat no longer reads NAME's records from the DHT nor
publishes yours in any chat with them, so nothing NAME writes reaches your
disk, and no new chat with NAME can be started or joined. A dhtchat already
running (the full-screen chat, recv --follow) stops within seconds.

The chats and their history stay (dhtchat history still shows them);
'dhtchat delete-chat NAME --all' deletes them. NAME stays your friend; the
block is on their key, so it also stays if you remove NAME and add them
again.
'dhtchat unblock NAME' resumes the chats; what NAME sent meanwhile arrives
then, if it is still in the DHT (records live 48 hours).

With --json: {"friend":…, "blocked":true, "changed":…, "chats":[CHATKEY…]},
"changed" false if NAME was blocked already.

Examples:
  dhtchat block mallory
  dhtchat unblock mallory`,
	nargs: exactly(1),
	setup: func(*flag.FlagSet) runFunc {
		return func(ctx context.Context, e *env, args []string) error { return runBlock(ctx, e, args[0], true) }
	},
}

var unblockCmd = &command{
	name:  "unblock",
	args:  "NAME",
	short: "Resume the chats with a blocked friend",
	long: `Lifts 'dhtchat block NAME': the chats with NAME are fetched and published
again. With --json, as for block, with "blocked" false.

Example:
  dhtchat unblock mallory`,
	nargs: exactly(1),
	setup: func(*flag.FlagSet) runFunc {
		return func(ctx context.Context, e *env, args []string) error { return runBlock(ctx, e, args[0], false) }
	},
}

type blockJSON struct {
	Friend  string   `json:"friend"`
	Blocked bool     `json:"blocked"`
	Changed bool     `json:"changed"`
	Chats   []string `json:"chats"`
}

func runBlock(ctx context.Context, e *env, name string, block bool) error {
	s, f, err := e.openFriend(ctx, false, name)
	if err != nil {
		return err
	}
	defer s.close()
	do := s.client.Unblock
	if block {
		do = s.client.Block
	}
	chats, changed, err := do(ctx, f.Key)
	if err != nil {
		return err
	}
	if e.json {
		j := blockJSON{Friend: name, Blocked: block, Changed: changed, Chats: []string{}}
		for _, in := range chats {
			j.Chats = append(j.Chats, in.Key.String())
		}
		return e.printJSON(j)
	}
	n := chatCount(len(chats))
	switch {
	case block && !changed:
		e.printf("%s was blocked already (%s paused).\n", name, n)
	case block:
		e.printf("Blocked %s: %s paused, nothing of them fetched or published; the history stays.\n", name, n)
	case !changed:
		e.printf("%s was not blocked.\n", name)
	default:
		e.printf("Unblocked %s: %s resumed.\n", name, n)
	}
	if block && len(chats) > 0 {
		them := map[bool]string{true: "it", false: "them"}[len(chats) == 1]
		e.hintf("'dhtchat unblock %s' resumes %s; 'dhtchat delete-chat %s --all' deletes %s", name, them, name, them)
	}
	return nil
}

// chatCount is "1 chat", "2 chats", "no chat".
func chatCount(n int) string {
	switch n {
	case 0:
		return "no chat"
	case 1:
		return "1 chat"
	}
	return strconv.Itoa(n) + " chats"
}

// notBlocked returns a usage error if the chat with f is paused because f
// is blocked: commands that would send or fetch in it say why they cannot.
func notBlocked(info chat.Info, name string) error {
	if !info.Blocked {
		return nil
	}
	return userr.Usagef("%s is blocked: nothing is sent to or fetched from them", name).
		WithHint("'dhtchat unblock %s' resumes the chats with them", name)
}
