package tui

import (
	"errors"

	tea "charm.land/bubbletea/v2"

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
	n := len(m.c.chats.at(id).alerts)
	if in, ok := m.info(id); ok {
		n = max(n, in.Alerts)
	}
	return n
}

// unseenAlerts is the number of alerts of chat id not looked at yet.
func (m *model) unseenAlerts(id chat.ChatID) int {
	return max(m.alertCount(id)-m.c.chats.at(id).alertsSeen, 0)
}

// wantAlerts reads the alerts of the open chat if the list knows of more
// than were read.
func (m *model) wantAlerts() tea.Cmd {
	id := m.open
	if id == (chat.ChatID{}) {
		return nil
	}
	v := m.c.chats.get(id)
	if len(v.alerts) >= m.alertCount(id) || v.alertsLoading {
		return nil
	}
	v.alertsLoading = true
	return m.loadAlerts(id)
}

func (m *model) onAlerts(msg alertsMsg) {
	if v := m.c.chats[msg.id]; v != nil {
		v.alertsLoading = false
	}
	if msg.err != nil {
		if m.ctx.Err() == nil && !errors.Is(msg.err, chat.ErrUnknownChat) {
			m.fail(msg.err)
		}
		return
	}
	if m.list.index(msg.id) < 0 {
		return
	}
	m.c.chats.get(msg.id).alerts = msg.alerts
}

// addAlert adds an alert the worker just raised to those of its chat,
// before they are read again.
func (m *model) addAlert(a chat.Alert) {
	if m.list.index(a.Chat) < 0 {
		return
	}
	v := m.c.chats.get(a.Chat)
	for _, b := range v.alerts {
		if b.Kind == a.Kind && b.N == a.N {
			return
		}
	}
	v.alerts = append(v.alerts, a)
}

// seeAlerts marks the alerts of chat id looked at.
func (m *model) seeAlerts(id chat.ChatID) {
	if n := m.alertCount(id); n > 0 {
		m.c.chats.get(id).alertsSeen = n
	}
}
