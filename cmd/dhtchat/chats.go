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
	long: `Reads the local database only.

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
	Alerts       []string  `json:"alerts,omitempty"` // the kinds of alert raised on the chat
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
			if err := e.printJSON(chatJSON{s.nameOf(in.Peer), in.Key.String(), in.Unread, in.LastActivity.UTC(), in.StartedByMe, kinds}); err != nil {
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
	tw.Write([]byte("FRIEND\tUNREAD\tLAST ACTIVITY\tCHAT KEY\n"))
	for _, in := range infos {
		tw.Write([]byte(s.nameOf(in.Peer) + "\t" + strconv.Itoa(in.Unread) + "\t" +
			in.LastActivity.Local().Format("2006-01-02 15:04") + "\t" + in.Key.String() + "\n"))
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	// What went wrong in a chat, however long ago: once raised, alerts
	// stay, so that they are not missed.
	for _, in := range infos {
		alerts, err := latestAlerts(ctx, s, in)
		if err != nil {
			return err
		}
		for _, a := range alerts {
			what, _ := alertText(a, s.nameOf(in.Peer))
			e.notef("dhtchat: warning: %s (%s)\n", what, a.At.Local().Format("2006-01-02 15:04"))
		}
	}
	return nil
}

// latestAlerts returns the latest alert of each kind raised on the chat.
func latestAlerts(ctx context.Context, s *session, in chat.Info) ([]chat.Alert, error) {
	if in.Alerts == 0 {
		return nil, nil
	}
	all, err := s.client.Alerts(ctx, in.ID)
	if err != nil {
		return nil, err
	}
	var out []chat.Alert
	for i, a := range all {
		if !slices.ContainsFunc(all[i+1:], func(b chat.Alert) bool { return b.Kind == a.Kind }) {
			out = append(out, a)
		}
	}
	return out, nil
}
