package tui

import (
	"slices"
	"strings"
	"testing"

	tea "charm.land/bubbletea/v2"

	"github.com/dhtchat/dhtchat/chat"
	"github.com/dhtchat/dhtchat/keyring"
)

// sendNoRetry is send, except that a retry of a failed Send is dropped:
// the test looks at what one failure left.
func sendNoRetry(m *model, msg tea.Msg) {
	queue := []tea.Msg{msg}
	for len(queue) > 0 && len(queue) < 10000 {
		msg, queue = queue[0], queue[1:]
		if _, ok := msg.(retrySendMsg); ok {
			continue
		}
		_, cmd := m.Update(msg)
		queue = append(queue, run(cmd)...)
	}
}

func storedBodies(t *testing.T, c *chat.Client, id chat.ChatID) []string {
	t.Helper()
	es, err := c.History(t.Context(), id, 0, 100)
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, e := range es {
		out = append(out, e.Body)
	}
	return out
}

// TestBlockedElsewhere: the friend is blocked by another dhtchat while the
// UI shows the chat. A message sent before the UI knows it comes back to
// the draft, once, and is not retried; once the list says so, the chat is
// marked blocked in the list, the header and a notice, and Enter keeps
// the draft and says why. Unblocked, the error goes by itself, and Enter
// sends.
func TestBlockedElsewhere(t *testing.T) {
	s := newShared(t, nil, 0)
	m := s.m
	peer := s.peer.Public()
	// The UI's engine knows at once (its worker reloads the chats); the
	// UI's chat list, not yet.
	if _, _, err := s.ui.Block(t.Context(), peer); err != nil {
		t.Fatal(err)
	}
	typeText(m, "one")
	sendNoRetry(m, keyEnter)
	if v, _, _ := draftState(m); v != "one" {
		t.Errorf("after the refused send the draft is %q, want the message back in it", v)
	}
	if n := m.unstored(); n != 0 {
		t.Errorf("%d bodies still queued for a blocked chat: they would be retried forever", n)
	}
	if !m.status.isErr || !strings.Contains(m.status.text, "1 message not sent") || strings.Contains(m.status.text, "trying again") {
		t.Errorf("status %+v, want a plain 'not sent' without retries", m.status)
	}
	// Queued behind it, it comes back before what is typed since.
	q := &sendQueue{flight: []string{"a"}, batch: 99, waiting: []string{"b"}}
	m.c.chats.get(s.id).queue = q
	sendNoRetry(m, sendFailedMsg{id: s.id, batch: 99, err: chat.ErrPaused})
	if v, _, _ := draftState(m); v != "a\nb\none" {
		t.Errorf("the queue came back as %q, want a, b, then the draft", v)
	}
	m.in.clear(m.in.cur)

	// The list says it now.
	send(m, refreshTickMsg{})
	scr := screen(m)
	if _, head := row(m, 0); !strings.HasPrefix(head, "bob blocked") {
		t.Errorf("the header is %q, want it to say blocked", head)
	}
	if l2, _ := row(m, 2); !strings.Contains(l2, "blocked") {
		t.Errorf("the list row is %q, want it to say blocked", l2)
	}
	if !strings.Contains(scr, "! BLOCKED: 'dhtchat unblock bob' resumes the chat") {
		t.Errorf("no notice over the history:\n%s", scr)
	}
	typeText(m, "three")
	sendNoRetry(m, keyEnter)
	if v, _, _ := draftState(m); v != "three" {
		t.Errorf("Enter in a blocked chat left the draft %q, want it kept", v)
	}
	if !m.status.isErr || !strings.Contains(m.status.text, "not sent: bob is blocked: 'dhtchat unblock bob' resumes the chat") {
		t.Errorf("status %+v", m.status)
	}
	if got := storedBodies(t, s.ui, s.id); len(got) != 0 {
		t.Errorf("stored %q in a blocked chat", got)
	}

	// Unblocked in another terminal: the error and the marks go.
	if _, _, err := s.other.Unblock(t.Context(), peer); err != nil {
		t.Fatal(err)
	}
	send(m, refreshTickMsg{})
	if m.status.text != "" {
		t.Errorf("after the unblock the status still says %q", m.status.text)
	}
	if scr := screen(m); strings.Contains(scr, "BLOCKED") || strings.Contains(scr, "blocked") {
		t.Errorf("still marked blocked after the unblock:\n%s", scr)
	}
	sendNoRetry(m, keyEnter)
	if got := storedBodies(t, s.ui, s.id); !slices.Equal(got, []string{"three"}) {
		t.Errorf("after the unblock Enter stored %q, want [three]", got)
	}
}

// TestPausedMarked: a chat whose friend is no friend any more is marked
// paused, and Enter keeps the draft.
func TestPausedMarked(t *testing.T) {
	m := newTestModel(t, 80, 24)
	infos := withChats(t, m, "alice", "bob")
	infos[0].Paused = true
	send(m, chatsMsg(infos))
	if _, head := row(m, 0); !strings.HasPrefix(head, "alice paused") {
		t.Errorf("the header is %q", head)
	}
	if l2, _ := row(m, 2); !strings.HasPrefix(l2, "  paused last from alice") {
		t.Errorf("the list row is %q", l2)
	}
	if _, notice := row(m, 1); !strings.HasPrefix(notice, " ! PAUSED:") {
		t.Errorf("the notice row is %q", notice)
	}
	typeText(m, "hi")
	sendNoRetry(m, keyEnter)
	if v, _, _ := draftState(m); v != "hi" || m.c.chats.queue(chatID(1)) != nil {
		t.Errorf("Enter in a paused chat: draft %q, queue %+v", v, m.c.chats.queue(chatID(1)))
	}
}

// TestDeletedElsewhere: 'dhtchat delete-chat' in another terminal deletes
// the chat on screen. The UI closes it, and what was not sent in it (a
// message sent before the UI knew, the draft) stays in the input and the
// input history; no other chat opens under the user's typing.
func TestDeletedElsewhere(t *testing.T) {
	s := newShared(t, nil, 2)
	m := s.m
	_, carol := fixedKey(t, 90)
	if _, err := s.ui.StartChat(t.Context(), carol); err != nil {
		t.Fatal(err)
	}
	m.book.(*book).friends = append(m.book.(*book).friends, keyring.Friend{Name: "carol", Key: carol})
	send(m, refreshTickMsg{})
	if len(m.list.items) != 2 || m.open != s.id {
		t.Fatalf("list %d chats, open %v", len(m.list.items), m.open)
	}
	typeText(m, "half typed")
	if _, err := s.other.DeleteChat(t.Context(), s.id); err != nil {
		t.Fatal(err)
	}
	send(m, refreshTickMsg{})
	if m.open != (chat.ChatID{}) || m.c.chats.hist(s.id) != nil || m.list.index(s.id) >= 0 {
		t.Fatalf("the deleted chat is still open or listed: open %v", m.open)
	}
	scr := screen(m)
	if strings.Contains(scr, "stored 1") || !strings.Contains(scr, "Chat deleted") {
		t.Errorf("the screen after the deletion:\n%s", scr)
	}
	if v, _, _ := draftState(m); v != "half typed" {
		t.Errorf("the input holds %q, want the draft of the deleted chat", v)
	}
	if !slices.Contains(m.in.sent, "half typed") {
		t.Errorf("the input history %q lacks the draft", m.in.sent)
	}
	sendNoRetry(m, keyEnter)
	if v, _, _ := draftState(m); v != "half typed" {
		t.Errorf("Enter with no chat open changed the input to %q", v)
	}
	// Another chat opens only when the user asks.
	send(m, refreshTickMsg{})
	if m.open != (chat.ChatID{}) {
		t.Errorf("a refresh opened chat %v under the user's typing", m.open)
	}
	send(m, keyCtrlN)
	if m.open == (chat.ChatID{}) {
		t.Fatalf("ctrl+n opened nothing")
	}

	// Deleted before the list says so: a message sent into it comes back.
	carolChat := m.open
	if _, err := s.other.DeleteChat(t.Context(), carolChat); err != nil {
		t.Fatal(err)
	}
	typeText(m, "sent too late")
	sendNoRetry(m, keyEnter)
	if m.open != (chat.ChatID{}) || m.list.index(carolChat) >= 0 {
		t.Fatalf("the chat deleted under a send is still open")
	}
	if v, _, _ := draftState(m); v != "sent too late\nhalf typed" {
		t.Errorf("the input holds %q, want the message refused, then the draft there was", v)
	}
	if m.unstored() != 0 {
		t.Errorf("bodies still queued for the deleted chat")
	}
}
