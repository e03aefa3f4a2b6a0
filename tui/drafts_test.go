package tui

import (
	"testing"
	"time"

	tea "charm.land/bubbletea/v2"

	"github.com/dhtchat/dhtchat/chat"
)

var keyCtrlC = tea.KeyPressMsg{Code: 'c', Mod: tea.ModCtrl}

func startModel(t *testing.T, client *chat.Client) *model {
	t.Helper()
	_, pk := fixedKey(t, 1)
	m := newModel(t.Context(), client, &book{self: pk}, nil)
	m.c.now, m.c.loc = func() time.Time { return base }, time.UTC
	send(m, tea.WindowSizeMsg{Width: 80, Height: 24})
	for _, msg := range run(m.Init()) {
		send(m, msg)
	}
	return m
}

// TestDraftSurvivesRestart: a draft typed and left is in the input when
// the UI runs again on the same database, saved both as it is typed and
// when the program quits; it is never sent; and one sent is gone.
func TestDraftSurvivesRestart(t *testing.T) {
	client, _, ids := offlineClient(t, 50)
	m := startModel(t, client)
	typeText(m, "half a")
	if d, err := client.Draft(t.Context(), ids[0]); err != nil || d != "half a" {
		t.Errorf("stored draft while typing = %q, %v", d, err)
	}
	typeText(m, " thought")
	send(m, keyCtrlC)
	send(m, keyCtrlC)
	if !m.quitting {
		t.Fatal("ctrl+c twice did not quit")
	}

	m = startModel(t, client)
	if got := m.in.value(); got != "half a thought" {
		t.Fatalf("draft after a restart = %q, want %q", got, "half a thought")
	}
	if es, err := client.History(t.Context(), ids[0], 0, 10); err != nil || len(es) != 0 {
		t.Fatalf("history after a restart = %v, %v; want nothing sent", es, err)
	}
	send(m, keyEnter)
	if es, err := client.History(t.Context(), ids[0], 0, 10); err != nil || len(es) != 1 || es[0].Body != "half a thought" {
		t.Fatalf("history after Enter = %v, %v; want the draft sent", es, err)
	}
	m = startModel(t, client)
	if got := m.in.value(); got != "" {
		t.Errorf("draft after sending it and a restart = %q, want none", got)
	}
}

// TestDraftTypedWhileStarting: text typed before the saved draft is read
// stays, and the saved one is not lost: Ctrl+X brings it back.
func TestDraftTypedWhileStarting(t *testing.T) {
	client, _, ids := offlineClient(t, 50)
	if err := client.SetDraft(t.Context(), ids[0], "saved before"); err != nil {
		t.Fatal(err)
	}
	m := startModel(t, client)
	m.in.clear(m.open)
	delete(m.drafts.saved, m.open)
	typeText(m, "typed")
	send(m, draftMsg{id: m.open, text: "saved before"})
	if got := m.in.value(); got != "typed" {
		t.Fatalf("draft = %q, want what was typed", got)
	}
	send(m, tea.KeyPressMsg{Code: 'u', Mod: tea.ModCtrl}) // the textarea's delete to line start
	send(m, tea.KeyPressMsg{Code: 'x', Mod: tea.ModCtrl})
	if got := m.in.value(); got != "saved before" {
		t.Errorf("ctrl+x on an empty draft = %q, want the saved draft", got)
	}
}
