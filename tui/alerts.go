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
// lists them in full, and looking at it there marks them seen, in the
// store too, so that the notice does not come back at the next start
// (nor does "dhtchat chats" warn of them). They stay in the info view.

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

// alertKey tells the alerts of a chat apart, as the store does.
type alertKey struct {
	kind chat.AlertKind
	n    uint64
}

func keyOf(a chat.Alert) alertKey { return alertKey{a.Kind, a.N} }

// unseenAlerts is the number of alerts of chat id not looked at yet: of
// those read, the ones the store and this session have not marked seen;
// until the user looks at them here, the list's count if it knows more.
func (m *model) unseenAlerts(id chat.ChatID) int {
	v := m.c.chats.at(id)
	n := 0
	for _, a := range v.alerts {
		if !a.Seen && !v.seen[keyOf(a)] {
			n++
		}
	}
	if in, ok := m.info(id); ok && v.seen == nil {
		n = max(n, in.Alerts)
	}
	return n
}

// wantAlerts reads the alerts of the open chat if the list knows of more
// than were read.
func (m *model) wantAlerts() tea.Cmd {
	id := m.open
	if id == (chat.ChatID{}) {
		return nil
	}
	v := m.c.chats.get(id)
	in, ok := m.info(id)
	if !ok || v.alertsLoading || (v.alerts != nil && in.Alerts <= m.unseenAlerts(id)) {
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
	v := m.c.chats.get(msg.id)
	v.alerts = msg.alerts
	// Read before the store learnt what the user saw: what was raised
	// by then was seen.
	for _, a := range v.alerts {
		if v.seen != nil && !a.At.After(v.seenAt) {
			v.seen[keyOf(a)] = true
		}
	}
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

// seeAlerts marks the alerts of chat id looked at, here at once and in
// the store by the command it returns.
func (m *model) seeAlerts(id chat.ChatID) tea.Cmd {
	now := m.c.now()
	v := m.c.chats.get(id)
	if v.seen == nil {
		v.seen = make(map[alertKey]bool)
	}
	v.seenAt = now
	for _, a := range v.alerts {
		v.seen[keyOf(a)] = true
	}
	ctx, client := m.ctx, m.client
	if client == nil {
		return nil
	}
	return func() tea.Msg {
		if err := client.SeeAlerts(ctx, id, now); err != nil && ctx.Err() == nil && !errors.Is(err, chat.ErrUnknownChat) {
			return alertsMsg{id: id, err: err}
		}
		return nil
	}
}
