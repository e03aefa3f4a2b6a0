package tui

import (
	"strings"
	"time"

	tea "charm.land/bubbletea/v2"

	"github.com/dhtchat/dhtchat/chat"
)

// Typing indicators and read receipts (the live path's, chat/livesignals.go):
// "bob is typing…" in the status line while the friend types in the chat
// on screen, and a read mark (✔✔) on our messages the friend has read.

// typingExpiredMsg asks for the status line to be drawn again once a
// typing indicator may have expired.
type typingExpiredMsg struct{}

// onTyping takes the friend's typing indicator: shown until
// chat.TypingExpiry after the last, or until they stopped or sent.
func (m *model) onTyping(ev chat.TypingEvent) tea.Cmd {
	v := m.c.chats.get(ev.ID)
	if !ev.Typing {
		v.typingUntil = time.Time{}
		return nil
	}
	v.typingUntil = m.c.now().Add(chat.TypingExpiry)
	return m.after(chat.TypingExpiry, func(time.Time) tea.Msg { return typingExpiredMsg{} })
}

// onRead takes the friend's read receipt.
func (m *model) onRead(ev chat.ReadEvent) {
	v := m.c.chats.get(ev.ID)
	v.friendRead = max(v.friendRead, ev.N)
}

// typingLine is what the status line says of the friend typing in the chat
// on screen, or "".
func (m *model) typingLine() string {
	if m.open == (chat.ChatID{}) {
		return ""
	}
	v := m.c.chats[m.open]
	if v == nil || !m.c.now().Before(v.typingUntil) {
		return ""
	}
	return m.c.chats.name(m.open) + " is typing…"
}

// typingDraft reports whether a draft says the user is writing a message
// (not a command).
func typingDraft(s string) bool {
	return strings.TrimSpace(s) != "" && !strings.HasPrefix(s, "/")
}

// typed tells the engine whether the user is typing in the chat on screen,
// from the draft before and after a key or a paste. The engine sends at
// most one indicator every few seconds.
func (m *model) typed(before string) {
	if m.setTyping == nil || m.open == (chat.ChatID{}) || m.in.cur != m.open {
		return
	}
	after := m.in.value()
	if after == before {
		return
	}
	switch {
	case typingDraft(after):
		m.setTyping(m.open, true)
	case typingDraft(before):
		m.setTyping(m.open, false)
	}
}

// isRead reports whether the friend has read e, one of our messages.
func (h *history) isRead(c *common, e chat.Entry) bool {
	if !e.Outgoing || e.N == 0 {
		return false
	}
	v := c.chats[h.id]
	return v != nil && e.N <= v.friendRead
}
