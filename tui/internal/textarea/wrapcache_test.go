package textarea

import (
	"strings"
	"testing"

	tea "charm.land/bubbletea/v2"
)

// A line edited in place, its length the same (Ctrl+T transposes), is
// wrapped and drawn anew: the caches compare the runes, not the slices.
func TestWrapCacheSeesEditsInPlace(t *testing.T) {
	m := New()
	m.SetWidth(20)
	m.MaxHeight = 5
	m.DynamicHeight = true
	m.Focus()
	m.SetValue("first line\nab cd\nlast")
	m.MoveToBegin()
	m.CursorDown()
	m.SetCursorColumn(5)
	if !strings.Contains(m.View(), "ab cd") {
		t.Fatalf("the view lacks the line:\n%s", m.View())
	}
	m, _ = m.Update(tea.KeyPressMsg{Code: 't', Mod: tea.ModCtrl})
	if got := strings.Split(m.Value(), "\n")[1]; got != "ab dc" {
		t.Fatalf("after ctrl+t the line is %q, want %q", got, "ab dc")
	}
	if v := m.View(); !strings.Contains(v, "ab dc") || strings.Contains(v, "ab cd") {
		t.Errorf("the view shows the line before the edit:\n%s", v)
	}
	// A line that wraps, made shorter in place: fewer rows.
	m.SetValue(strings.Repeat("word ", 10))
	before := m.Height()
	for range 30 {
		m, _ = m.Update(tea.KeyPressMsg{Code: tea.KeyBackspace})
	}
	if m.Height() >= before {
		t.Errorf("height %d after deleting most of a wrapped line, was %d", m.Height(), before)
	}
}
