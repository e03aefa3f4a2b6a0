package main

import (
	"context"
	"flag"
	"slices"
	"strconv"
	"text/tabwriter"
	"time"

	"github.com/dhtchat/dhtchat/chat"
)

var chatsCmd = &command{
	name:  "chats",
	short: "List your chats: friend, chat key, unread messages, last activity",
	long: `Reads the local database only. A chat with a blocked friend shows
"(blocked)" after the name, one with someone no longer your friend
"NAME (removed), paused": neither is fetched or published. With --json each chat is
{"friend":…, "chat_key":…, "unread":…, "last_activity":…,
"started_by_me":…, "paused":…, "blocked":…}, and "removed":true for a
former friend's (named as they were).

An alert on a chat (a database restored from a backup, another device
using your identity, a friend's message that came twice with different
content, a flood, sending blocked) is told once: this command warns of
those not told yet on stderr and marks them told, as the full-screen
chat's info view does; with --json, "alerts" lists the kinds not told
yet and marks nothing.

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
	Paused  bool     `json:"paused"`
	Blocked bool     `json:"blocked"`
	Removed bool     `json:"removed,omitempty"` // the friend was removed (remove-friend)
	Alerts  []string `json:"alerts,omitempty"`  // the kinds of alert raised on the chat and not seen yet
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
			alerts, err := latestAlerts(ctx, s, in)
			if err != nil {
				return err
			}
			var kinds []string
			for _, a := range alerts {
				kinds = append(kinds, a.Kind.String())
			}
			name, removed := s.bareNameOf(in.Peer)
			if err := e.printJSON(chatJSON{name, in.Key.String(), in.Unread, in.LastActivity.UTC(), in.StartedByMe, in.Paused, in.Blocked, removed, kinds}); err != nil {
				return err
			}
		}
		return nil
	}
	if len(infos) == 0 {
		e.notef("no chats yet")
		e.hintf("start one with 'dhtchat start NAME'")
		return nil
	}
	tw := tabwriter.NewWriter(e.stdout, 0, 0, 2, ' ', 0)
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
	if err := tw.Flush(); err != nil {
		return err
	}
	// What went wrong in a chat and was not told yet: each alert is told
	// once (the full-screen chat's info view lists them all).
	for _, in := range infos {
		alerts, err := latestAlerts(ctx, s, in)
		if err != nil {
			return err
		}
		var upTo time.Time
		for _, a := range alerts {
			what, _ := alertText(a, s.nameOf(in.Peer))
			e.warnf("%s (%s)", what, a.At.Local().Format("2006-01-02 15:04"))
			if a.At.After(upTo) {
				upTo = a.At
			}
		}
		if len(alerts) > 0 {
			if err := s.client.SeeAlerts(ctx, in.ID, upTo); err != nil {
				return err
			}
		}
	}
	return nil
}

// latestAlerts returns the latest alert of each kind raised on the chat and
// not seen yet.
func latestAlerts(ctx context.Context, s *session, in chat.Info) ([]chat.Alert, error) {
	if in.Alerts == 0 {
		return nil, nil
	}
	all, err := s.client.Alerts(ctx, in.ID)
	if err != nil {
		return nil, err
	}
	all = slices.DeleteFunc(all, func(a chat.Alert) bool { return a.Seen })
	var out []chat.Alert
	for i, a := range all {
		if !slices.ContainsFunc(all[i+1:], func(b chat.Alert) bool { return b.Kind == a.Kind }) {
			out = append(out, a)
		}
	}
	return out, nil
}
