package tui

import (
	"fmt"
	"strings"
	"testing"

	tea "charm.land/bubbletea/v2"

	"github.com/dhtchat/dhtchat/chat"
)

// listRows are the names in the chat list on screen, top to bottom.
func listRows(m *model) []string {
	var names []string
	for _, row := range strings.Split(screen(m), "\n") {
		bar := strings.Index(row, "│")
		if bar < 0 {
			continue
		}
		cell := strings.TrimPrefix(row[:bar], "▌")
		if f := strings.Fields(cell); len(f) > 0 && strings.HasPrefix(f[0], "friend") {
			names = append(names, f[0])
		}
	}
	return names
}

// The list scrolls as little as it must to keep the open chat in view,
// and stays where it is from one frame to the next: moving up one chat
// from the bottom does not move it.
func TestChatListScrollStays(t *testing.T) {
	m := newTestModel(t, 80, 20)
	var names []string
	for i := range 12 {
		names = append(names, fmt.Sprintf("friend%02d", i))
	}
	withChats(t, m, names...)
	rows := listRows(m)
	if len(rows) == 0 || rows[0] != "friend00" || len(rows) >= len(names) {
		t.Fatalf("the list shows %q, want friend00 first and not all %d", rows, len(names))
	}
	shown := len(rows)
	send(m, keyCtrlP) // wraps to the last chat
	rows = listRows(m)
	if rows[len(rows)-1] != "friend11" {
		t.Fatalf("after ctrl+p from the first chat the list shows %q, want friend11 last", rows)
	}
	top := rows[0]
	send(m, keyCtrlP)
	if m.open != chatID(11) {
		t.Fatalf("open %v, want chat 11", m.open)
	}
	if rows = listRows(m); rows[0] != top || len(rows) != shown {
		t.Errorf("one chat up from the bottom, the list shows %q, want it unmoved from %s", rows, top)
	}
	// A click goes to the chat drawn where it is clicked.
	send(m, tea.MouseClickMsg{X: 2, Y: 1, Button: tea.MouseLeft})
	if want := chatIDOf(t, m, top); m.open != want {
		t.Errorf("a click on %s opened %v, want %v", top, m.open, want)
	}
}

// chatIDOf is the ID of the chat with the friend called name.
func chatIDOf(t *testing.T, m *model, name string) chat.ChatID {
	t.Helper()
	for _, in := range m.list.items {
		if m.c.chats.name(in.ID) == name {
			return in.ID
		}
	}
	t.Fatalf("no chat with %s", name)
	return chat.ChatID{}
}

// The worker polls fast the chat on screen: after two quick switches it
// is the second, however the commands the switches return are run (Bubble
// Tea runs them concurrently, in no order).
func TestFocusFollowsQuickSwitches(t *testing.T) {
	m := newTestModel(t, 80, 24)
	withChats(t, m, "alice", "bob", "carol")
	var focused []chat.ChatID
	m.setFocus = func(id chat.ChatID) { focused = append(focused, id) }
	_, first := m.Update(keyCtrlN)
	_, second := m.Update(keyCtrlN)
	if m.open != chatID(3) {
		t.Fatalf("open %v after two ctrl+n, want chat 3", m.open)
	}
	run(second)
	run(first)
	if len(focused) == 0 || focused[len(focused)-1] != m.open {
		t.Errorf("the worker was told the chats on screen were %v; the last should be %v", focused, m.open)
	}
}
