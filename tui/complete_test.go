package tui

import (
	"strings"
	"testing"

	tea "charm.land/bubbletea/v2"
)

var keyShiftTab = tea.KeyPressMsg{Code: tea.KeyTab, Mod: tea.ModShift}

func TestComplete(t *testing.T) {
	for _, tc := range []struct {
		typed string
		tabs  int
		want  string
	}{
		{"/sta", 1, "/start "},
		{"/STA", 1, "/start "},
		{"/start al", 1, "/start alfred "}, // alfred, alice: the first
		{"/start al", 2, "/start alice "},
		{"/start al", 3, "/start alfred "}, // round again
		{"/info b", 1, "/info bob "},
		{"see you b", 1, "see you bob "},
		{"Bo", 1, "bob "},
		{"zz", 1, "zz"}, // nothing to complete
		{"hello ", 1, "hello "},
		{"/zz", 1, "/zz"},
	} {
		m := newTestModel(t, 80, 24)
		withChats(t, m, "alice", "bob", "alfred")
		typeText(m, tc.typed)
		for range tc.tabs {
			send(m, keyTab)
		}
		if got := m.in.value(); got != tc.want {
			t.Errorf("%q and %d tabs: the draft is %q, want %q", tc.typed, tc.tabs, got, tc.want)
		}
		if m.panel != nil {
			t.Errorf("%q and tab opened the %q panel", tc.typed, panelTitle(m))
		}
	}
}

func TestCompleteCycleAndStatus(t *testing.T) {
	m := newTestModel(t, 80, 24)
	withChats(t, m, "alice", "bob", "alfred")
	typeText(m, "al")
	send(m, keyTab)
	if st := m.status.text; !strings.Contains(st, "alfred") || !strings.Contains(st, "alice") {
		t.Errorf("with two matches the status says %q, want both", st)
	}
	send(m, keyShiftTab)
	if got := m.in.value(); got != "alice " {
		t.Errorf("shift+tab after tab: %q, want %q", got, "alice ")
	}
	// Typing ends the round: the next tab completes the new word.
	typeText(m, "b")
	send(m, keyTab)
	if got := m.in.value(); got != "alice bob " {
		t.Errorf("after typing on: %q, want %q", got, "alice bob ")
	}
	// Only at the end of the draft.
	send(m, keyLeft)
	send(m, keyLeft)
	send(m, keyTab)
	if got := m.in.value(); got != "alice bob " {
		t.Errorf("tab in the middle of the draft changed it to %q", got)
	}
	// On an empty draft, tab is still the info.
	m.in.clear(m.open)
	send(m, keyTab)
	if m.panel == nil {
		t.Errorf("tab on an empty draft did not open the info")
	}
}
