package tui

import (
	"errors"
	"fmt"

	tea "charm.land/bubbletea/v2"
	"github.com/charmbracelet/x/ansi"

	"github.com/dhtchat/dhtchat/chat"
)

// Alerts. The engine keeps the alerts of each chat in the database (a
// restored database, a second device on the identity, a friend's message
// that came twice with other content, a quota reached), raised by this
// process or another. A chat with alerts the user has not looked at says
// so in a notice over its history, and in the list; the info view (f2)
// lists them in full, and looking at it there takes the notice away for
// this session. They stay in the info view.

// alertsMsg: the alerts of chat id, read from the store, or why not.
type alertsMsg struct {
	id     chat.ChatID
	alerts []chat.Alert
	err    error
}

// loadAlerts reads the alerts of chat id.
func (m *model) loadAlerts(id chat.ChatID) tea.Cmd {
	ctx, client := m.ctx, m.client
	if client == nil {
		return nil
	}
	return func() tea.Msg {
		as, err := client.Alerts(ctx, id)
		return alertsMsg{id: id, alerts: as, err: err}
	}
}

// alertCount is the number of alerts of chat id, as the list or the
// alerts read say, whichever knows more.
func (m *model) alertCount(id chat.ChatID) int {
	n := len(m.alerts[id])
	if in, ok := m.info(id); ok {
		n = max(n, in.Alerts)
	}
	return n
}

// unseenAlerts is the number of alerts of chat id not looked at yet.
func (m *model) unseenAlerts(id chat.ChatID) int {
	return max(m.alertCount(id)-m.alertsSeen[id], 0)
}

// wantAlerts reads the alerts of the open chat if the list knows of more
// than were read.
func (m *model) wantAlerts() tea.Cmd {
	id := m.open
	if id == (chat.ChatID{}) || len(m.alerts[id]) >= m.alertCount(id) || m.alertsLoading[id] {
		return nil
	}
	m.alertsLoading[id] = true
	return m.loadAlerts(id)
}

func (m *model) onAlerts(msg alertsMsg) {
	delete(m.alertsLoading, msg.id)
	if msg.err != nil {
		if m.ctx.Err() == nil && !errors.Is(msg.err, chat.ErrUnknownChat) {
			m.fail(msg.err)
		}
		return
	}
	if m.list.index(msg.id) < 0 {
		return
	}
	m.alerts[msg.id] = msg.alerts
}

// addAlert adds an alert the worker just raised to those of its chat,
// before they are read again.
func (m *model) addAlert(a chat.Alert) {
	if m.list.index(a.Chat) < 0 {
		return
	}
	for _, b := range m.alerts[a.Chat] {
		if b.Kind == a.Kind && b.N == a.N {
			return
		}
	}
	m.alerts[a.Chat] = append(m.alerts[a.Chat], a)
}

// seeAlerts marks the alerts of chat id looked at.
func (m *model) seeAlerts(id chat.ChatID) {
	if n := m.alertCount(id); n > 0 {
		m.alertsSeen[id] = n
	}
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
	if as := m.alerts[m.open]; len(as) > 0 {
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

// alertLines are the alerts of chat id for the info view.
func (m *model) alertLines(id chat.ChatID) []string {
	as := m.alerts[id]
	if len(as) == 0 {
		return nil
	}
	st := m.c.styles
	lines := []string{"", st.err.Render(plural(len(as), "alert")) + " in this chat:"}
	for _, a := range as {
		lines = append(lines, a.At.In(m.c.loc).Format("2 Jan 15:04")+"  "+a.String())
	}
	return lines
}
