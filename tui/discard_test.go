package tui

import (
	"fmt"
	"strings"
	"testing"

	tea "charm.land/bubbletea/v2"
)

var keyCtrlX = tea.KeyPressMsg{Code: 'x', Mod: tea.ModCtrl}

func TestDiscardDraftAndUndo(t *testing.T) {
	m := newTestModel(t, 80, 24)
	withChats(t, m, "alice", "bob")
	send(m, pageMsg{id: chatID(1)})
	typeText(m, "a long draft")
	send(m, keyAltEnter)
	typeText(m, "of two lines")
	send(m, keyCtrlX)
	if v := m.in.value(); v != "" {
		t.Fatalf("ctrl+x left the draft %q", v)
	}
	if !strings.Contains(m.status.text, "ctrl+x") {
		t.Errorf("the status %q does not say how to undo", m.status.text)
	}
	if m.in.unsent() {
		t.Errorf("a discarded draft counts as unsent")
	}
	send(m, keyCtrlX)
	if v := m.in.value(); v != "a long draft\nof two lines" {
		t.Fatalf("ctrl+x again brought back %q", v)
	}
	typeText(m, "!") // the cursor is at the end
	if v := m.in.value(); v != "a long draft\nof two lines!" {
		t.Errorf("typing after the undo: %q", v)
	}
	// Each chat has its own.
	send(m, keyCtrlX)
	send(m, keyCtrlN)
	send(m, pageMsg{id: chatID(2)})
	send(m, keyCtrlX)
	if v := m.in.value(); v != "" {
		t.Errorf("ctrl+x in bob's chat brought back %q", v)
	}
	send(m, keyCtrlP)
	send(m, keyCtrlX)
	if v := m.in.value(); v != "a long draft\nof two lines!" {
		t.Errorf("back in alice's chat, ctrl+x brought back %q", v)
	}
}

// BenchmarkKeystrokeLargeDraft is the cost of one keystroke at the end of
// a draft of 1,500 lines: Update with the key, then View. The goal is at
// most 2 ms.
func BenchmarkKeystrokeLargeDraft(b *testing.B) {
	m := newTestModel(b, 120, 40)
	withChats(b, m, "alice")
	send(m, pageMsg{id: chatID(1), entries: conversation(chatID(1), 50, func(i int) string { return fmt.Sprintf("message %d", i) }), readUpTo: 100})
	lines := make([]string, 1500)
	for i := range lines {
		lines[i] = fmt.Sprintf("line %d of a long draft, pasted from somewhere, with some words in it", i)
	}
	m.in.insert(strings.Join(lines, "\n"))
	keys := []tea.KeyPressMsg{{Code: 'a', Text: "a"}, {Code: tea.KeyBackspace}}
	b.ReportAllocs()
	i := 0
	for b.Loop() {
		m.Update(keys[i%2])
		_ = m.View()
		i++
	}
}
