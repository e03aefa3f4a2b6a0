package tui

import (
	"strings"
	"testing"
)

// /start NAME with a chat with NAME already there opens that chat and
// says so, as 'dhtchat start NAME' does: no second chat that NAME never
// joined. --new makes another, with a warning.
func TestStartOpensExistingChat(t *testing.T) {
	s := newShared(t, nil, 1)
	m := s.m
	typeText(m, "/start bob")
	send(m, keyEnter)
	if m.open != s.id {
		t.Fatalf("/start bob opened %v, want the existing chat %v", m.open, s.id)
	}
	chats, err := s.ui.Chats(t.Context())
	if err != nil || len(chats) != 1 {
		t.Fatalf("chats after /start bob: %d, %v; want the one there was", len(chats), err)
	}
	if !strings.Contains(m.status.text, "already have a chat with bob") || !strings.Contains(m.status.text, "--new") {
		t.Errorf("status = %q", m.status.text)
	}
	if m.panel != nil {
		t.Errorf("a panel opened: %+v", m.panel)
	}

	typeText(m, "/start bob --new")
	send(m, keyEnter)
	if m.open == s.id {
		t.Fatal("/start bob --new did not open a new chat")
	}
	if chats, _ := s.ui.Chats(t.Context()); len(chats) != 2 {
		t.Fatalf("chats after /start bob --new: %d, want 2", len(chats))
	}
	if !strings.Contains(m.status.text, "another chat with bob") {
		t.Errorf("status = %q", m.status.text)
	}
}

// /respond with the key of a chat there is opens it and says so, as
// 'dhtchat respond' does, instead of saying it joined it.
func TestRespondOpensKnownChat(t *testing.T) {
	s := newShared(t, nil, 1)
	m := s.m
	chats, err := s.ui.Chats(t.Context())
	if err != nil || len(chats) != 1 {
		t.Fatalf("chats: %d, %v", len(chats), err)
	}
	typeText(m, "/respond bob "+chats[0].Key.String())
	send(m, keyEnter)
	if m.open != s.id {
		t.Fatalf("/respond opened %v, want the known chat %v", m.open, s.id)
	}
	if !strings.Contains(m.status.text, "already joined this chat with bob") {
		t.Errorf("status = %q", m.status.text)
	}
	if chats, _ := s.ui.Chats(t.Context()); len(chats) != 1 {
		t.Fatalf("chats after /respond: %d, want 1", len(chats))
	}
}
