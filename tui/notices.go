package tui

import (
	"fmt"

	"github.com/charmbracelet/x/ansi"

	"github.com/dhtchat/dhtchat/chat"
)

// Notices: the rows over a chat's history that say what the user must
// know of it, its alerts not looked at (alerts.go) and whether it is
// paused (lifecycle.go), each the longest wording that fits.

// notices are the rows over the open chat's history: its unseen alerts,
// then whether it is paused.
func (m *model) notices(width int) []string {
	var rows []string
	if a := m.alertNotice(width); a != "" {
		rows = append(rows, m.c.styles.keyChanged.Render(fit(a, width)))
	}
	return append(rows, m.noticeRows(width)...)
}

// noticeRows are the lines over the history of the open chat that say
// what the user must know of it, each the longest wording that fits
// width: that it is paused.
func (m *model) noticeRows(width int) []string {
	in, ok := m.info(m.open)
	if !ok || !in.Paused && !in.Blocked {
		return nil
	}
	name := m.c.chats.name(m.open)
	_, friend := m.c.peer(m.open)
	var texts []string
	switch {
	case in.Blocked && friend:
		texts = []string{
			fmt.Sprintf(" ! BLOCKED: nothing is sent or received; 'dhtchat unblock %s' resumes the chat", name),
			fmt.Sprintf(" ! BLOCKED: 'dhtchat unblock %s' resumes the chat", name),
			" ! BLOCKED: nothing is sent or received",
		}
	case in.Blocked:
		texts = []string{" ! BLOCKED: nothing is sent or received; 'dhtchat unblock' resumes the chat", " ! BLOCKED: nothing is sent or received"}
	default:
		texts = []string{
			" ! PAUSED: this key is not one of your friends' (removed?): nothing is sent or received",
			" ! PAUSED: not one of your friends (f2): nothing is sent",
			" ! PAUSED: not a friend",
		}
	}
	text := texts[len(texts)-1]
	for _, s := range texts {
		if ansi.StringWidth(s) <= width {
			text = s
			break
		}
	}
	return []string{m.c.styles.warn.Render(fit(text, width))}
}

// alertShort is an alert in a few words, for the notice.
func alertShort(a chat.Alert) string {
	switch a.Kind {
	case chat.AlertBehind:
		return "this database was behind what your identity sent here"
	case chat.AlertSecondWriter:
		return "another copy of your identity is writing in this chat"
	case chat.AlertConflict:
		return fmt.Sprintf("their message %d came again with other content", a.N)
	case chat.AlertQuota:
		return "they sent more than the quota allows"
	case chat.AlertSendBlocked:
		return "sending here is blocked: a record you cannot replace sits in your slot"
	case chat.AlertStale:
		return "this database is older than what you sent here: start a new chat"
	}
	return "something happened that you must know"
}

// alertNotice is the notice of the open chat's unseen alerts, the longest
// wording that fits width, or "".
func (m *model) alertNotice(width int) string {
	n := m.unseenAlerts(m.open)
	if n == 0 {
		return ""
	}
	head := " ! ALERT"
	if n > 1 {
		head = fmt.Sprintf(" ! %d ALERTS", n)
	}
	short := "see f2"
	if as := m.c.chats.at(m.open).alerts; len(as) > 0 {
		short = alertShort(as[len(as)-1])
	}
	for _, s := range []string{
		head + ": " + short + " · f2: details",
		head + ": " + short,
		head + ": f2 for details",
	} {
		if ansi.StringWidth(s) <= width {
			return s
		}
	}
	return head
}
