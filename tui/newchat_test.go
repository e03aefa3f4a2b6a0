package tui

import (
	"strings"
	"testing"
	"time"

	tea "charm.land/bubbletea/v2"

	"github.com/dhtchat/dhtchat/keyring"
)

// /start --new shows the new chat's key in a panel over the chat it
// opens, and the panel survives the chat list that arrives after.
func TestStartShowsChatKey(t *testing.T) {
	s := newShared(t, nil, 2)
	m := s.m
	typeText(m, "/start bob --new")
	send(m, keyEnter)
	if m.open == s.id {
		t.Fatal("the new chat did not open")
	}
	k, ok := m.c.chats.key(m.open)
	if in, err := s.ui.Info(t.Context(), m.open); !ok || err != nil || k != in.Key {
		t.Fatal("the new chat's key is not known")
	}
	if !strings.HasPrefix(panelTitle(m), "New chat with bob") {
		t.Fatalf("no new-chat panel; panel %+v", m.panel)
	}
	// A chat list arriving later (a refresh, an event) keeps it.
	send(m, refreshTickMsg{})
	scr := screen(m)
	if !strings.Contains(scr, "New chat with bob") || !strings.Contains(scr, "dhtchat-chat1") {
		t.Errorf("the panel is gone:\n%s", scr)
	}
	// Two chats with bob: the list tells them apart by their keys' ends.
	if m.c.chats.at(m.open).tag != chatTag(k) || m.c.chats.at(s.id).tag != chatTag(s.key) {
		t.Errorf("tags %q and %q, want %q and %q", m.c.chats.at(m.open).tag, m.c.chats.at(s.id).tag, chatTag(k), chatTag(s.key))
	}
	// The key is whole on a row: the list makes room for it, and the
	// title says which chat it is.
	if !strings.Contains(scr, k.String()) || !strings.Contains(scr, "bob "+chatTag(k)) {
		t.Errorf("the key is not whole on a row, or the title does not say which chat:\n%s", scr)
	}
	// Esc closes it, and the list is back; f2 shows the chat key again.
	send(m, keyEsc)
	if scr := screen(m); !strings.Contains(scr, "bob "+chatTag(k)) || !strings.Contains(scr, "new chat, no messages") {
		t.Errorf("the list does not tell the chats apart:\n%s", scr)
	}
	send(m, keyF2)
	info := strings.Join(strings.Fields(screen(m)), "")
	if !strings.Contains(info, "Chatkey") || !strings.Contains(info, strings.TrimPrefix(k.String(), "dhtchat-")[:20]) {
		t.Errorf("the info view lacks the chat key:\n%s", screen(m))
	}
}

// Options.NewChatWith ("dhtchat start bob" on a terminal): the chat opens
// with the panel of its key.
func TestNewChatWithOpensPanel(t *testing.T) {
	s := newShared(t, nil, 0)
	m := newModel(t.Context(), s.ui, &book{self: s.self.Public(), friends: []keyring.Friend{{Name: "bob", Key: s.peer.Public()}}}, nil)
	m.c.now, m.c.loc = func() time.Time { return base }, time.UTC
	m.wantOpen, m.newChat, m.newChatWith = s.id, s.id, "bob"
	send(m, tea.WindowSizeMsg{Width: 80, Height: 24})
	for _, msg := range run(m.Init()) {
		send(m, msg)
	}
	scr := screen(m)
	if m.open != s.id || !strings.Contains(scr, "New chat with bob") || !strings.Contains(scr, "dhtchat-chat1") {
		t.Errorf("no key panel on the new chat:\n%s", scr)
	}
}

// A friend added in another terminal: /start finds them at once (the list
// is read again before saying "not one of your friends"), and the periodic
// refresh brings the list up to date.
func TestFriendsReadAgain(t *testing.T) {
	s := newShared(t, nil, 0)
	m := s.m
	b := m.book.(*book)
	_, george := fixedKey(t, 90)
	b.friends = append(b.friends, keyring.Friend{Name: "george", Key: george})
	typeText(m, "/start george")
	send(m, keyEnter)
	if m.status.isErr || !strings.Contains(panelTitle(m), "george") {
		t.Fatalf("/start george: status %q, panel %+v", m.status.text, m.panel)
	}

	_, henry := fixedKey(t, 100)
	b.friends = append(b.friends, keyring.Friend{Name: "henry", Key: henry})
	send(m, refreshTickMsg{})
	if _, err := m.friend("henry"); err != nil {
		t.Errorf("the refresh did not read the friends again: %v", err)
	}
	typeText(m, "/friends")
	send(m, keyEnter)
	if scr := screen(m); !strings.Contains(scr, "henry") || !strings.Contains(scr, "george") {
		t.Errorf("/friends:\n%s", scr)
	}
	typeText(m, "/start zed")
	send(m, keyEnter)
	if !m.status.isErr || !strings.Contains(m.status.text, "zed is not one of your friends") {
		t.Errorf("/start zed: status %q", m.status.text)
	}
}

// A long error wraps onto more status rows instead of being cut, and the
// screen keeps its height.
func TestLongErrorWraps(t *testing.T) {
	m := newTestModel(t, 80, 24)
	withChats(t, m, "alice")
	typeText(m, "/start nobody")
	send(m, keyEnter)
	scr := screen(m)
	rows := strings.Split(strings.TrimSuffix(scr, "\n"), "\n")
	if len(rows) != 24 {
		t.Fatalf("%d rows, want 24:\n%s", len(rows), scr)
	}
	want := "nobody is not one of your friends: /friends lists them, /add nobody PUBKEY adds one"
	got := strings.Join(strings.Fields(strings.Join(rows[22:], " ")), " ")
	if !strings.Contains(got, want) {
		t.Errorf("the status rows say %q, want all of %q:\n%s", got, want, scr)
	}
	golden(t, "longerror-80x24.txt", scr)
	send(m, tea.KeyPressMsg{Code: 'x', Text: "x"})
	if l := m.layout(); l.statusH != 1 {
		t.Errorf("after a key the status takes %d rows", l.statusH)
	}
}

// Ctrl+C with a draft asks once instead of losing it; any other key
// disarms; twice quits.
func TestCtrlCWithDraftAsks(t *testing.T) {
	m := newTestModel(t, 80, 24)
	withChats(t, m, "alice")
	ctrlC := tea.KeyPressMsg{Code: 'c', Mod: tea.ModCtrl}
	typeText(m, "half a thought")
	if _, cmd := m.Update(ctrlC); cmd != nil || m.quitting {
		t.Fatal("ctrl+c with a draft quit at once")
	}
	if !strings.Contains(m.status.text, "draft not sent; ctrl+c again to quit") {
		t.Errorf("status %q", m.status.text)
	}
	typeText(m, "!")
	if _, _ = m.Update(ctrlC); m.quitting {
		t.Fatal("a key in between did not disarm ctrl+c")
	}
	if _, cmd := m.Update(ctrlC); cmd == nil || !m.quitting {
		t.Fatal("ctrl+c twice did not quit")
	}
	if v, _, _ := draftState(m); v != "half a thought!" {
		t.Errorf("draft %q", v)
	}
}

func TestCopySaysOSC52MayNotWork(t *testing.T) {
	m := newTestModel(t, 80, 24)
	typeText(m, "/copy key")
	send(m, keyEnter)
	if !strings.Contains(m.status.text, "sent your public key to your terminal's clipboard (OSC 52; works if your terminal supports it)") {
		t.Errorf("status %q", m.status.text)
	}
}
