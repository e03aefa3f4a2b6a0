package main

import (
	"cmp"
	"context"
	"flag"
	"slices"
	"time"

	"github.com/dhtchat/dhtchat/chat"
	"github.com/dhtchat/dhtchat/keyring"
)

var historyCmd = &command{
	name:  "history",
	args:  "NAME [--chat CHATKEY]",
	short: "Print both sides of a chat from the local store, with each message's status",
	long: `Prints the chat with NAME (the latest, or the one --chat names), oldest first,
from the local database; it reads no network. NAME may be a former friend:
remove-friend keeps their chats, and so their history. Each message you
sent shows its status: pending (stored, not yet in the DHT), published (in
the DHT) or delivered (acknowledged by NAME).

The order is by the time each message was sent (the time printed: yours by
your clock, NAME's by theirs), with each side's messages always in the order
they were written, even where a clock is off: a message from NAME that
arrived late still shows where it was written.

Messages "sent from another device" were sent with your identity by another
copy of this home (a second device, or this home before it was restored from
a backup): dhtchat found them in your own records in the DHT.

With --json each message is {"from":…, "n":…, "status":…, "text":…,
"sent_at":…}, where "from" is "me" or the friend's name, and "imported": true
marks a message sent from another device.

Examples:
  dhtchat history alice
  dhtchat history alice --json | jq -r 'select(.status == "pending") | .text'`,
	nargs: exactly(1),
	setup: func(fs *flag.FlagSet) runFunc {
		chatKey := fs.String("chat", "", "print the chat with this `CHATKEY` (default: the latest with NAME)")
		return func(ctx context.Context, e *env, args []string) error { return runHistory(ctx, e, args, *chatKey) }
	},
}

type historyJSON struct {
	From   string    `json:"from"`
	N      uint64    `json:"n"`
	Status string    `json:"status"`
	Text   string    `json:"text"`
	SentAt time.Time `json:"sent_at"`
	// Imported: sent by another copy of your identity (a second device,
	// or this home before it was restored from a backup), found in your
	// own records in the DHT.
	Imported bool `json:"imported,omitempty"`
}

func runHistory(ctx context.Context, e *env, args []string, chatKey string) error {
	s, f, info, err := e.openChat(ctx, false, args[0], chatKey)
	if err != nil {
		var ok bool
		if s, f, info, ok = e.openFormerChat(ctx, args[0], chatKey); !ok {
			return err
		}
		err = nil
	}
	defer s.close()
	// Pages come newest first; collect them, then order them all.
	var pages [][]chat.Entry
	for before := int64(0); ; {
		page, err := s.client.History(ctx, info.ID, before, 1000)
		if err != nil {
			return err
		}
		if len(page) == 0 {
			break
		}
		pages = append(pages, page)
		before = page[0].Seq
	}
	slices.Reverse(pages)
	return e.printEntries(f.Name, timeline(slices.Concat(pages...)))
}

// printEntries prints a chat's messages as history and search do: one
// line each ("[time] from: text (status)"), or one JSON object each with
// --json; friend is the name for the friend's messages.
func (e *env) printEntries(friend string, es []chat.Entry) error {
	for _, m := range es {
		from := "me"
		if !m.Outgoing {
			from = friend
		}
		var err error
		if e.json {
			err = e.printJSON(historyJSON{From: from, N: m.N, Status: m.Status.String(), Text: m.Body,
				SentAt: m.SentAt.UTC(), Imported: m.Imported})
		} else {
			status := ""
			if m.Outgoing {
				status = " (" + m.Status.String() + ")"
			}
			if m.Imported {
				status = " (" + m.Status.String() + ", sent from another device)"
			}
			e.printf("[%s] %s: %s%s\n", m.SentAt.Local().Format("2006-01-02 15:04:05"), from, oneLineText(m.Body), status)
		}
		if err != nil {
			return err
		}
	}
	return nil
}

// timeline orders a chat's messages for reading. They are stored in the
// order they reached this database, so a message from the friend that
// arrived late (they wrote it while we were offline) would come after
// ours written later. Instead each direction keeps its own number order
// (the order its writer wrote it in) and the two are merged by send time,
// the time history prints; a tie goes to the message stored first.
func timeline(es []chat.Entry) []chat.Entry {
	var out, in []chat.Entry
	for _, m := range es {
		if m.Outgoing {
			out = append(out, m)
		} else {
			in = append(in, m)
		}
	}
	byN := func(a, b chat.Entry) int { return cmp.Compare(a.N, b.N) }
	slices.SortFunc(out, byN)
	slices.SortFunc(in, byN)
	merged := make([]chat.Entry, 0, len(es))
	for len(out) > 0 && len(in) > 0 {
		a, b := out[0], in[0]
		if a.SentAt.Before(b.SentAt) || (a.SentAt.Equal(b.SentAt) && a.Seq < b.Seq) {
			merged, out = append(merged, a), out[1:]
		} else {
			merged, in = append(merged, b), in[1:]
		}
	}
	return append(append(merged, out...), in...)
}

// openFormerChat opens the chat with someone called name who is no longer
// a friend (remove-friend keeps their chats, paused), so that its history
// can still be read. ok is false if there is none.
func (e *env) openFormerChat(ctx context.Context, name, chatKey string) (*session, keyring.Friend, chat.Info, bool) {
	s, err := e.openSession(ctx, false)
	if err != nil {
		return nil, keyring.Friend{}, chat.Info{}, false
	}
	if _, isFriend := s.kr.Friend(name); !isFriend {
		for i := len(s.kr.PastKeys) - 1; i >= 0; i-- {
			if p := s.kr.PastKeys[i]; p.Name == name {
				f := keyring.Friend{Name: name, Key: p.Key}
				if info, err := s.chatWith(ctx, f, chatKey); err == nil {
					return s, f, info, true
				}
				break
			}
		}
	}
	s.close()
	return nil, keyring.Friend{}, chat.Info{}, false
}
