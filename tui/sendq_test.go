package tui

import (
	"errors"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	tea "charm.land/bubbletea/v2"

	"github.com/dhtchat/dhtchat/chat"
)

// sentEntries are the entries a Send of bodies would return, numbered
// from n.
func sentEntries(id chat.ChatID, seq int64, n uint64, bodies ...string) []chat.Entry {
	es := make([]chat.Entry, len(bodies))
	for i, b := range bodies {
		es[i] = chat.Entry{Seq: seq + int64(i), Chat: id, Outgoing: true, N: n + uint64(i), SentAt: base, Body: b, Status: chat.Pending}
	}
	return es
}

// queued is the queue of chat id: in flight, then waiting.
func queued(m *model, id chat.ChatID) (flight, waiting []string) {
	q := m.c.chats.queue(id)
	if q == nil {
		return nil, nil
	}
	return q.flight, q.waiting
}

// TestEnterWhileSending: each Enter sends exactly what was typed before
// it, once, in order, though the first Send is still in flight: the draft
// empties at once, and what is typed meanwhile queues behind it.
func TestEnterWhileSending(t *testing.T) {
	m := newTestModel(t, 80, 24)
	withChats(t, m, "alice")
	send(m, pageMsg{id: chatID(1)})
	for _, s := range []string{"one", "two", "three"} {
		typeText(m, s)
		send(m, keyEnter)
		if v, _, _ := draftState(m); v != "" {
			t.Fatalf("after typing %q and enter, the draft is %q", s, v)
		}
	}
	flight, waiting := queued(m, chatID(1))
	if !slices.Equal(flight, []string{"one"}) || !slices.Equal(waiting, []string{"two", "three"}) {
		t.Fatalf("queue = %q then %q, want [one] then [two three]", flight, waiting)
	}
	s := screen(m)
	if i, j, k := strings.Index(s, "one sending…"), strings.Index(s, "two sending…"), strings.Index(s, "three sending…"); i < 0 || j < i || k < j {
		t.Errorf("the queued messages are not shown in order as sending:\n%s", s)
	}
	typeText(m, "half")
	// The first Send returns: the other two go in one Send.
	b1 := m.c.chats.queue(chatID(1)).batch
	send(m, sentMsg{id: chatID(1), batch: b1, entries: sentEntries(chatID(1), 1, 1, "one")})
	flight, waiting = queued(m, chatID(1))
	if !slices.Equal(flight, []string{"two", "three"}) || len(waiting) != 0 {
		t.Fatalf("after the first Send, queue = %q then %q, want [two three] then nothing", flight, waiting)
	}
	// A stale answer changes nothing.
	send(m, sentMsg{id: chatID(1), batch: b1, entries: sentEntries(chatID(1), 1, 1, "one")})
	if f, _ := queued(m, chatID(1)); len(f) != 2 {
		t.Fatalf("a repeated answer moved the queue: %q", f)
	}
	send(m, sentMsg{id: chatID(1), batch: m.c.chats.queue(chatID(1)).batch, entries: sentEntries(chatID(1), 2, 2, "two", "three")})
	if m.c.chats.queue(chatID(1)) != nil {
		t.Errorf("the queue is left after both Sends: %+v", m.c.chats.queue(chatID(1)))
	}
	if v, _, _ := draftState(m); v != "half" {
		t.Errorf("the Sends changed the draft to %q", v)
	}
	s = screen(m)
	if strings.Contains(s, "sending…") || !strings.Contains(s, "you      one ○") || !strings.Contains(s, "you      three ○") {
		t.Errorf("the stored messages are not shown as entries:\n%s", s)
	}
	// Up recalls them, latest first.
	m.in.clear(m.open)
	send(m, keyUp)
	if v, _, _ := draftState(m); v != "three" {
		t.Errorf("up recalls %q, want three", v)
	}
}

// TestSendFailureKeepsText: a Send the store refuses loses nothing: its
// bodies wait again, first, are shown as not stored, and are tried again
// after a backoff, or at the next Enter, in the order typed.
func TestSendFailureKeepsText(t *testing.T) {
	m := newTestModel(t, 80, 24)
	withChats(t, m, "alice")
	send(m, pageMsg{id: chatID(1)})
	typeText(m, "one")
	send(m, keyEnter)
	typeText(m, "two")
	send(m, keyEnter)
	q := m.c.chats.queue(chatID(1))
	// Update, not send: the retry timer the failure arms is not run.
	m.Update(sendFailedMsg{id: chatID(1), batch: q.batch, err: errors.New("store: disk I/O error")})
	flight, waiting := queued(m, chatID(1))
	if flight != nil || !slices.Equal(waiting, []string{"one", "two"}) {
		t.Fatalf("after a failure, queue = %q then %q, want nothing then [one two]", flight, waiting)
	}
	if !m.status.isErr || !strings.Contains(m.status.text, "2 messages not stored: store: disk I/O error; trying again in 1s") {
		t.Errorf("status = %+v", m.status)
	}
	if s := screen(m); !strings.Contains(s, "one not stored yet") || !strings.Contains(s, "two not stored yet") {
		t.Errorf("the failed messages are not shown as not stored:\n%s", s)
	}
	// The next Enter tries again at once, with everything in order.
	typeText(m, "three")
	send(m, keyEnter)
	flight, _ = queued(m, chatID(1))
	if !slices.Equal(flight, []string{"one", "two", "three"}) {
		t.Fatalf("after enter, the Send in flight has %q, want [one two three]", flight)
	}
	m.Update(sendFailedMsg{id: chatID(1), batch: m.c.chats.queue(chatID(1)).batch, err: errors.New("store: disk I/O error")})
	if !strings.Contains(m.status.text, "trying again in 2s") {
		t.Errorf("the second failure does not back off: %q", m.status.text)
	}
	// The retry tick sends them again.
	send(m, retrySendMsg{id: chatID(1)})
	flight, _ = queued(m, chatID(1))
	if !slices.Equal(flight, []string{"one", "two", "three"}) {
		t.Fatalf("the retry sends %q, want [one two three]", flight)
	}
	send(m, sentMsg{id: chatID(1), batch: m.c.chats.queue(chatID(1)).batch, entries: sentEntries(chatID(1), 1, 1, "one", "two", "three")})
	if m.c.chats.queue(chatID(1)) != nil {
		t.Errorf("the queue is left after the retry succeeded")
	}
	// An invalid body is never queued: it stays in the draft.
	m.in.draft(m.open).SetValue(strings.Repeat("x", chat.MaxBody+1))
	send(m, keyEnter)
	if m.c.chats.queue(chatID(1)) != nil || !strings.Contains(m.status.text, "too long") {
		t.Errorf("a body too long was queued (status %q)", m.status.text)
	}
	if v, _, _ := draftState(m); len(v) != chat.MaxBody+1 {
		t.Errorf("a body too long left the draft")
	}
}

// TestQuitWaitsForTheStore: Ctrl+C while messages are being stored quits
// once they are; if the store fails meanwhile, it says so and a second
// Ctrl+C quits anyway.
func TestQuitWaitsForTheStore(t *testing.T) {
	keyCtrlC := tea.KeyPressMsg{Code: 'c', Mod: tea.ModCtrl}
	m := newTestModel(t, 80, 24)
	withChats(t, m, "alice")
	send(m, pageMsg{id: chatID(1)})
	typeText(m, "one")
	send(m, keyEnter)
	_, cmd := m.Update(keyCtrlC)
	if m.quitting || cmd != nil || !strings.Contains(m.status.text, "storing 1 message before quitting") {
		t.Fatalf("ctrl+c with a message being stored: quitting %v, status %q", m.quitting, m.status.text)
	}
	_, cmd = m.Update(sentMsg{id: chatID(1), batch: m.c.chats.queue(chatID(1)).batch, entries: sentEntries(chatID(1), 1, 1, "one")})
	if !m.quitting || cmd == nil {
		t.Fatalf("stored: not quitting")
	}
	if _, ok := cmd().(tea.QuitMsg); !ok {
		t.Errorf("stored: the command is not tea.Quit")
	}

	m = newTestModel(t, 80, 24)
	withChats(t, m, "alice")
	send(m, pageMsg{id: chatID(1)})
	typeText(m, "one")
	send(m, keyEnter)
	send(m, keyCtrlC)
	send(m, sendFailedMsg{id: chatID(1), batch: m.c.chats.queue(chatID(1)).batch, err: errors.New("store: disk full")})
	if m.quitting || !strings.Contains(m.status.text, "1 message not stored: store: disk full; ctrl+c again quits anyway") {
		t.Fatalf("a failure while quitting: quitting %v, status %q", m.quitting, m.status.text)
	}
	send(m, keyCtrlC)
	if !m.quitting {
		t.Errorf("a second ctrl+c does not quit")
	}
}

// holdSends is send, except that the results of Sends (sentMsg,
// sendFailedMsg) are held, not fed back: they are the Sends in flight.
func holdSends(m *model, msg tea.Msg) (held []tea.Msg) {
	_, cmd := m.Update(msg)
	queue := run(cmd)
	for len(queue) > 0 {
		msg, queue = queue[0], queue[1:]
		switch msg.(type) {
		case sentMsg, sendFailedMsg:
			held = append(held, msg)
			continue
		}
		_, cmd := m.Update(msg)
		queue = append(queue, run(cmd)...)
	}
	return held
}

// TestSendOrderAcrossChats, with the engine on a real database: messages
// typed in two chats while Sends are in flight, whose results come back
// in the opposite order, are stored in each chat in the order typed, each
// once.
func TestSendOrderAcrossChats(t *testing.T) {
	client, sk, ids := offlineClient(t, 50, 60)
	m := newModel(t.Context(), client, &book{self: sk.Public()}, nil)
	m.c.now, m.c.loc = func() time.Time { return base }, time.UTC
	send(m, tea.WindowSizeMsg{Width: 80, Height: 24})
	for _, msg := range run(m.Init()) {
		send(m, msg)
	}
	first := m.open
	var held []tea.Msg
	enter := func(text string) {
		typeText(m, text)
		held = append(held, holdSends(m, keyEnter)...)
	}
	want := map[chat.ChatID][]string{}
	for round := range 4 {
		for range 2 {
			text := fmt.Sprintf("%d-%d", m.list.index(m.open), round)
			want[m.open] = append(want[m.open], text)
			enter(text)
		}
		held = append(held, holdSends(m, keyCtrlN)...)
	}
	if m.open != first {
		t.Fatalf("ctrl+n did not come back to the first chat")
	}
	if len(held) != 2 {
		t.Fatalf("%d Sends in flight, want one per chat", len(held))
	}
	// Deliver the results, latest first, until no Send is left.
	for len(held) > 0 {
		last := held[len(held)-1]
		held = held[:len(held)-1]
		held = append(held, holdSends(m, last)...)
	}
	for _, id := range ids {
		es, err := client.History(t.Context(), id, 0, 100)
		if err != nil {
			t.Fatal(err)
		}
		var got []string
		for i, e := range es {
			if e.N != uint64(i+1) {
				t.Errorf("chat %d: entry %d numbered %d", m.list.index(id), i, e.N)
			}
			got = append(got, e.Body)
		}
		if !slices.Equal(got, want[id]) {
			t.Errorf("chat %d stored %q, want %q", m.list.index(id), got, want[id])
		}
	}
	if n := m.unstored(); n != 0 {
		t.Errorf("%d bodies left in the queues", n)
	}
}

// TestTypeaheadBeforeTheChatOpens: keys typed before the first chat list
// arrives (the program just started) are kept and handled in order once it
// does, Enter included: they go to the chat that opens.
func TestTypeaheadBeforeTheChatOpens(t *testing.T) {
	client, sk, ids := offlineClient(t, 50)
	m := newModel(t.Context(), client, &book{self: sk.Public()}, nil)
	m.c.now, m.c.loc = func() time.Time { return base }, time.UTC
	init := m.Init()
	send(m, tea.WindowSizeMsg{Width: 80, Height: 24})
	typeText(m, "early bird")
	send(m, keyEnter)
	typeText(m, "?")
	send(m, keyEnter)
	typeText(m, "still typing")
	if m.unstored() != 0 || m.open != (chat.ChatID{}) {
		t.Fatalf("keys were handled before the chat list arrived")
	}
	for _, msg := range run(init) {
		send(m, msg)
	}
	if m.open != ids[0] {
		t.Fatalf("the chat did not open")
	}
	es, err := client.History(t.Context(), ids[0], 0, 10)
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, e := range es {
		got = append(got, e.Body)
	}
	if !slices.Equal(got, []string{"early bird", "?"}) {
		t.Errorf("stored %q, want [early bird ?]", got)
	}
	if v, _, _ := draftState(m); v != "still typing" {
		t.Errorf("draft = %q, want %q", v, "still typing")
	}
}

// TestQuestionMarkIsText: "?" types a "?", even first in an empty draft;
// F1 shows the keys.
func TestQuestionMarkIsText(t *testing.T) {
	m := newTestModel(t, 80, 24)
	withChats(t, m, "alice")
	send(m, pageMsg{id: chatID(1)})
	typeText(m, "?!")
	if v, _, _ := draftState(m); v != "?!" || m.panel != nil {
		t.Fatalf("? on an empty draft: draft %q, panel %v", v, m.panel)
	}
	send(m, keyEnter)
	if f, _ := queued(m, chatID(1)); !slices.Equal(f, []string{"?!"}) {
		t.Errorf("sent %q, want [?!]", f)
	}
	send(m, keyF1)
	if panelTitle(m) != "Keys" {
		t.Errorf("f1 does not show the keys")
	}
	if s := screen(m); !strings.Contains(s, "f1 keys") {
		t.Errorf("the hints do not name f1:\n%s", s)
	}
}

// TestStoreRestOnce: when the program ends with bodies still queued (a
// quit by signal), Run stores them, in order, and a Send that did run is
// not stored twice.
func TestStoreRestOnce(t *testing.T) {
	client, sk, ids := offlineClient(t, 50, 60)
	m := newModel(t.Context(), client, &book{self: sk.Public()}, nil)
	m.ledger = newSendLedger()
	// Chat 0: its Send in flight ran and stored "a1"; "a2" waited.
	if !m.ledger.begin() {
		t.Fatal("the ledger refused a Send")
	}
	if _, err := client.Send(t.Context(), ids[0], "a1"); err != nil {
		t.Fatal(err)
	}
	m.ledger.end(7, true)
	m.c.chats.get(ids[0]).queue = &sendQueue{flight: []string{"a1"}, batch: 7, waiting: []string{"a2"}}
	// Chat 1: its Send never ran.
	m.c.chats.get(ids[1]).queue = &sendQueue{flight: []string{"b1", "b2"}, batch: 8, waiting: []string{"b3"}}
	if err := m.storeRest(t.Context()); err != nil {
		t.Fatal(err)
	}
	if m.ledger.begin() {
		t.Errorf("a Send may start after the program ended")
	}
	for i, want := range [][]string{{"a1", "a2"}, {"b1", "b2", "b3"}} {
		es, err := client.History(t.Context(), ids[i], 0, 10)
		if err != nil {
			t.Fatal(err)
		}
		var got []string
		for _, e := range es {
			got = append(got, e.Body)
		}
		if !slices.Equal(got, want) {
			t.Errorf("chat %d stored %q, want %q", i, got, want)
		}
	}
	// A store that fails gives the text back.
	client.Close()
	for _, v := range m.c.chats {
		v.queue = nil
	}
	m.c.chats.get(ids[0]).queue = &sendQueue{waiting: []string{"lost?"}}
	m.ledger = newSendLedger()
	err := m.storeRest(t.Context())
	var ns *NotStoredError
	if !errors.As(err, &ns) || !slices.Equal(ns.Bodies, []string{"lost?"}) {
		t.Errorf("storeRest on a closed store = %v, want a NotStoredError with the body", err)
	}
}
