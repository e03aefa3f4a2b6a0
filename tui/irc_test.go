package tui

import (
	"slices"
	"strings"
	"testing"
)

// allQueued is what was sent in chat n and is not stored yet.
func allQueued(m *model, n byte) []string {
	f, w := queued(m, chatID(n))
	return append(f, w...)
}

func TestMeIsAnAction(t *testing.T) {
	m := newTestModel(t, 80, 24)
	withChats(t, m, "alice")
	send(m, pageMsg{id: chatID(1), entries: conversation(chatID(1), 1, func(int) string { return "/me waves at  you" }), readUpTo: 10})
	typeText(m, "/me waves back")
	send(m, keyEnter)
	if got := allQueued(m, 1); !slices.Equal(got, []string{"/me waves back"}) {
		t.Fatalf("/me queued %q, want %q", got, "/me waves back")
	}
	if v := m.in.value(); v != "" {
		t.Errorf("the draft is %q after /me", v)
	}
	s := screen(m)
	if !strings.Contains(s, "*        alice waves at  you") || !strings.Contains(s, "*        you waves back") {
		t.Errorf("actions are not shown as actions:\n%s", s)
	}
	typeText(m, "/me")
	send(m, keyEnter)
	if m.status.text != "usage: /me TEXT" {
		t.Errorf("/me alone: status %q", m.status.text)
	}
}

func TestMsgAndQuery(t *testing.T) {
	m := newTestModel(t, 80, 24)
	withChats(t, m, "alice", "bob")
	send(m, pageMsg{id: chatID(1)})
	typeText(m, "/msg bob see  you at 5")
	send(m, keyEnter)
	if got := allQueued(m, 2); !slices.Equal(got, []string{"see  you at 5"}) {
		t.Errorf("/msg bob queued %q in bob's chat", got)
	}
	if m.open != chatID(1) {
		t.Errorf("/msg switched chats")
	}
	typeText(m, "/msg carol hi")
	send(m, keyEnter)
	if !m.status.isErr || !strings.Contains(m.status.text, "carol is not one of your friends") {
		t.Errorf("/msg to a stranger: status %+v", m.status)
	}
	m.in.clear(m.open)
	for _, line := range []string{"/query bob", "/q alice"} {
		want := chatID(2)
		if strings.Contains(line, "alice") {
			want = chatID(1)
		}
		typeText(m, line)
		send(m, keyEnter)
		if m.open != want {
			t.Errorf("%s: chat %v open, want %v", line, m.open, want)
		}
	}
	typeText(m, "/q")
	send(m, keyEnter)
	if m.quitting || m.status.text != "usage: /query NAME" {
		t.Errorf("/q alone: quitting %v, status %q; want the usage of /query", m.quitting, m.status.text)
	}
}

func TestCloseAndClear(t *testing.T) {
	m := newTestModel(t, 80, 24)
	withChats(t, m, "alice")
	send(m, pageMsg{id: chatID(1), entries: conversation(chatID(1), 3, func(i int) string { return "old message" }), readUpTo: 10})
	send(m, keyF1)
	typeText(m, "/close")
	send(m, keyEnter)
	if m.panel != nil {
		t.Errorf("/close did not close the panel")
	}
	typeText(m, "/close")
	send(m, keyEnter)
	if !strings.Contains(m.status.text, "delete-chat") {
		t.Errorf("/close without a panel: status %q, want why not", m.status.text)
	}
	m.in.clear(m.open)
	typeText(m, "/clear")
	send(m, keyEnter)
	if s := screen(m); strings.Contains(s, "old message") {
		t.Errorf("/clear left the history on screen:\n%s", s)
	}
	arrive(m, chatID(1), 10, "a new one")
	if s := screen(m); !strings.Contains(s, "a new one") || strings.Contains(s, "old message") {
		t.Errorf("after /clear, a new message:\n%s", s)
	}
}
