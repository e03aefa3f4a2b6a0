package tui

import (
	"strings"
	"testing"
	"time"

	tea "charm.land/bubbletea/v2"

	"github.com/dhtchat/dhtchat/chat"
)

// "bob is typing…" shows in the status line for the chat on screen, until
// it expires, bob stops, or his message arrives.
func TestTypingShown(t *testing.T) {
	m := newTestModel(t, 100, 24)
	withChats(t, m, "bob", "carol")
	send(m, pageMsg{id: chatID(1)})
	typing := func() bool { return strings.Contains(screen(m), "bob is typing…") }
	send(m, eventsMsg{chat.TypingEvent{ID: chatID(2), Typing: true}})
	if strings.Contains(screen(m), "is typing") {
		t.Fatalf("carol's typing shows in bob's chat:\n%s", screen(m))
	}
	send(m, eventsMsg{chat.TypingEvent{ID: chatID(1), Typing: true}})
	if !typing() {
		t.Fatalf("no typing indicator:\n%s", screen(m))
	}
	now := base
	m.c.now = func() time.Time { return now }
	now = base.Add(chat.TypingExpiry - time.Millisecond)
	send(m, typingExpiredMsg{})
	if !typing() {
		t.Fatalf("the typing indicator expired early")
	}
	now = base.Add(chat.TypingExpiry)
	send(m, typingExpiredMsg{})
	if typing() {
		t.Fatalf("the typing indicator did not expire:\n%s", screen(m))
	}

	send(m, eventsMsg{chat.TypingEvent{ID: chatID(1), Typing: true}})
	send(m, eventsMsg{chat.TypingEvent{ID: chatID(1), Typing: false}})
	if typing() {
		t.Fatalf("still typing after bob stopped")
	}
	send(m, eventsMsg{chat.TypingEvent{ID: chatID(1), Typing: true}})
	send(m, eventsMsg{chat.MessageEvent{Entry: chat.Entry{Seq: 1, Chat: chatID(1), N: 1, Body: "done", Status: chat.Received, SentAt: now, ReceivedAt: now}}})
	if typing() {
		t.Fatalf("still typing after bob's message:\n%s", screen(m))
	}
}

// Typing a message tells the engine; emptying the draft says stopped; a
// command is not typing.
func TestTypingSent(t *testing.T) {
	m := newTestModel(t, 100, 24)
	withChats(t, m, "bob")
	send(m, pageMsg{id: chatID(1)})
	var got []bool
	m.setTyping = func(id chat.ChatID, typing bool) {
		if id != chatID(1) {
			t.Errorf("typing told for chat %v", id)
		}
		got = append(got, typing)
	}
	typeText(m, "hi")
	send(m, tea.KeyPressMsg{Code: tea.KeyBackspace})
	send(m, tea.KeyPressMsg{Code: tea.KeyBackspace})
	if want := []bool{true, true, true, false}; !equalBools(got, want) {
		t.Errorf("typing told %v, want %v", got, want)
	}
	got = nil
	typeText(m, "/help")
	if len(got) != 0 {
		t.Errorf("a command told typing %v", got)
	}
}

func equalBools(a, b []bool) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

// A message the friend read has the read mark (✔✔, not delivered's ✓✓).
func TestReadMark(t *testing.T) {
	m := newTestModel(t, 100, 24)
	withChats(t, m, "bob")
	es := conversation(chatID(1), 4, func(i int) string { return []string{"question one", "answer one", "question two", "answer two"}[i] })
	send(m, pageMsg{id: chatID(1), entries: es})
	line := func(text string) string {
		for l := range strings.Lines(screen(m)) {
			if strings.Contains(l, text) {
				return l
			}
		}
		t.Fatalf("no line with %q:\n%s", text, screen(m))
		return ""
	}
	if l := line("answer one"); !strings.Contains(l, "✓✓") || strings.Contains(screen(m), readMark) {
		t.Fatalf("before any read receipt: %q\n%s", l, screen(m))
	}
	send(m, eventsMsg{chat.ReadEvent{ID: chatID(1), N: 1}})
	if l := line("answer one"); !strings.Contains(l, readMark) {
		t.Errorf("a1, read, is %q", l)
	}
	if l := line("answer two"); strings.Contains(l, readMark) || !strings.Contains(l, "✓✓") {
		t.Errorf("a2, delivered and not read, is %q", l)
	}
	// Distinct under NO_COLOR too: the glyph differs, not only the colour.
	if readMark == statusMark(chat.Delivered) {
		t.Errorf("the read mark is delivered's")
	}
}
