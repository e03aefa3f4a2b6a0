package tui

import (
	"context"
	"crypto/ed25519"
	"fmt"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	tea "charm.land/bubbletea/v2"

	"github.com/dhtchat/dhtchat/chat"
	"github.com/dhtchat/dhtchat/chat/wire"
	"github.com/dhtchat/dhtchat/dht"
	"github.com/dhtchat/dhtchat/keyring"
)

// mapNet is a DHT in memory: the newest record of each key.
type mapNet struct {
	mu   sync.Mutex
	recs map[string]dht.Record
}

func newMapNet() *mapNet { return &mapNet{recs: make(map[string]dht.Record)} }

func (n *mapNet) Connect(context.Context) error { return nil }

func (n *mapNet) Put(_ context.Context, key ed25519.PrivateKey, seq uint64, payload []byte) error {
	n.mu.Lock()
	defer n.mu.Unlock()
	k := string(key.Public().(ed25519.PublicKey))
	if r, ok := n.recs[k]; ok && r.Seq > seq {
		return fmt.Errorf("mapnet: seq %d older than %d", seq, r.Seq)
	}
	n.recs[k] = dht.Record{Seq: seq, Payload: append([]byte(nil), payload...), EOL: time.Now().Add(48 * time.Hour)}
	return nil
}

func (n *mapNet) Get(_ context.Context, pub ed25519.PublicKey, _ ...dht.GetOption) (dht.Record, error) {
	n.mu.Lock()
	defer n.mu.Unlock()
	r, ok := n.recs[string(pub)]
	if !ok {
		return dht.Record{}, fmt.Errorf("mapnet: %w", dht.ErrNotFound)
	}
	return r, nil
}

// shared is a chat as the UI sees it, and a second handle on the same
// database: another dhtchat process ("dhtchat send", "dhtchat recv").
type shared struct {
	m     *model
	ui    *chat.Client // the UI's, offline like a UI whose worker is stuck
	other *chat.Client // another process, same DB file
	id    chat.ChatID
	key   wire.ChatKey
	self  keyring.SecretKey
	peer  keyring.SecretKey
}

func openClient(t *testing.T, sk keyring.SecretKey, db string, net chat.Network) *chat.Client {
	t.Helper()
	c, err := chat.Open(chat.Config{Identity: sk, DBPath: db, Network: net})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	return c
}

// newShared opens a chat with `stored` messages of ours in it and the UI
// on it; other has network net (nil: offline).
func newShared(t *testing.T, net chat.Network, stored int) *shared {
	t.Helper()
	sk, _ := fixedKey(t, 1)
	peerSK, peer := fixedKey(t, 50)
	db := filepath.Join(t.TempDir(), "dhtchat.db")
	ui := openClient(t, sk, db, nil)
	started, err := ui.StartChat(t.Context(), peer)
	if err != nil {
		t.Fatal(err)
	}
	for i := range stored {
		if _, err := ui.Send(t.Context(), started.ID, fmt.Sprint("stored ", i+1)); err != nil {
			t.Fatal(err)
		}
	}
	m := newModel(t.Context(), ui, &book{self: sk.Public(), friends: []keyring.Friend{{Name: "bob", Key: peer}}}, nil)
	m.c.now, m.c.loc = func() time.Time { return base }, time.UTC
	send(m, tea.WindowSizeMsg{Width: 80, Height: 24})
	for _, msg := range run(m.Init()) {
		send(m, msg)
	}
	if m.open != started.ID || !m.hist().loaded {
		t.Fatalf("the UI did not open the chat")
	}
	return &shared{m: m, ui: ui, other: openClient(t, sk, db, net), id: started.ID, key: started.Key, self: sk, peer: peerSK}
}

// checkMatchesStore fails unless the UI's history holds each entry of the
// store from its first loaded one on exactly once, in order, with the
// store's status.
func (s *shared) checkMatchesStore(t *testing.T) {
	t.Helper()
	h := s.m.c.chats.hist(s.id)
	want, err := s.ui.History(t.Context(), s.id, 0, 10000)
	if err != nil {
		t.Fatal(err)
	}
	if len(h.entries) > 0 {
		for len(want) > 0 && want[0].Seq < h.entries[0].Seq {
			want = want[1:]
		}
	}
	if len(h.entries) != len(want) {
		t.Fatalf("the UI holds %d entries, the store %d", len(h.entries), len(want))
	}
	for i, e := range h.entries {
		w := want[i]
		if e.Seq != w.Seq || e.Body != w.Body || e.Status != w.Status {
			t.Errorf("entry %d: UI has seq %d %q status %d, store seq %d %q status %d", i, e.Seq, e.Body, e.Status, w.Seq, w.Body, w.Status)
		}
	}
}

// conversationPane is the screen right of the chat list.
func conversationPane(m *model) string {
	var b strings.Builder
	for _, row := range strings.Split(screen(m), "\n") {
		if _, c, ok := strings.Cut(row, "│"); ok {
			b.WriteString(c + "\n")
		}
	}
	return b.String()
}

func TestRefreshShowsWhatAnotherProcessStored(t *testing.T) {
	s := newShared(t, nil, 2)
	m := s.m
	typeText(m, "half typed")
	send(m, keyAltEnter)
	typeText(m, "draft")
	send(m, keyLeft)
	send(m, keyLeft)
	value, line, col := draftState(m)
	_, cur := m.in.view()

	// "dhtchat send" in another process.
	es, err := s.other.Send(t.Context(), s.id, "from a script 1", "from a script 2")
	if err != nil {
		t.Fatal(err)
	}
	send(m, refreshTickMsg{})
	for _, body := range []string{"from a script 1", "from a script 2", "stored 1"} {
		if n := strings.Count(conversationPane(m), body); n != 1 {
			t.Errorf("%q is on screen %d times, want once:\n%s", body, n, screen(m))
		}
	}
	s.checkMatchesStore(t)
	if i := m.list.index(s.id); m.list.items[i].LastText != "from a script 2" {
		t.Errorf("the chat list's last text is %q", m.list.items[i].LastText)
	}

	// The same message as an event too, and refreshed again: still once.
	send(m, eventsMsg{chat.StatusEvent{Entry: es[1]}})
	send(m, refreshTickMsg{})
	if n := strings.Count(conversationPane(m), "from a script 2"); n != 1 {
		t.Errorf("after an event and a refresh of the same message it shows %d times", n)
	}

	// An event for a later message before the refresh brings an earlier
	// one: each lands in its place, once.
	later, err := s.other.Send(t.Context(), s.id, "third", "fourth")
	if err != nil {
		t.Fatal(err)
	}
	send(m, eventsMsg{chat.StatusEvent{Entry: later[1]}})
	send(m, refreshTickMsg{})
	s.checkMatchesStore(t)
	if sc := conversationPane(m); strings.Index(sc, "third") > strings.Index(sc, "fourth") || strings.Count(sc, "third") != 1 {
		t.Errorf("third and fourth out of order or repeated:\n%s", sc)
	}

	v2, l2, c2 := draftState(m)
	if v2 != value || l2 != line || c2 != col {
		t.Errorf("after the refreshes the draft is %q at %d:%d, want %q at %d:%d", v2, l2, c2, value, line, col)
	}
	if _, cur2 := m.in.view(); cur2.Position != cur.Position {
		t.Errorf("the cursor moved from %v to %v", cur.Position, cur2.Position)
	}
}

// A new chat made by another process appears in the list.
func TestRefreshListsNewChats(t *testing.T) {
	s := newShared(t, nil, 0)
	_, carol := fixedKey(t, 90)
	if _, err := s.other.StartChat(t.Context(), carol); err != nil {
		t.Fatal(err)
	}
	send(s.m, refreshTickMsg{})
	if len(s.m.list.items) != 2 {
		t.Fatalf("the list has %d chats, want 2", len(s.m.list.items))
	}
	if s.m.open != s.id {
		t.Errorf("a refresh switched the open chat")
	}
}

// peerOf is the friend's side of s's chat, on its own database and net.
func (s *shared) peerOf(t *testing.T, net chat.Network) *chat.Client {
	t.Helper()
	bob := openClient(t, s.peer, filepath.Join(t.TempDir(), "bob.db"), net)
	if _, err := bob.JoinChat(t.Context(), s.self.Public(), s.key); err != nil {
		t.Fatal(err)
	}
	return bob
}

func TestRefreshShowsStatusChangesOfAnotherHandle(t *testing.T) {
	net := newMapNet()
	s := newShared(t, net, 0)
	m := s.m
	typeText(m, "hello bob")
	send(m, keyEnter)
	if !strings.Contains(screen(m), "hello bob ○") {
		t.Fatalf("the sent message is not pending:\n%s", screen(m))
	}
	// Another process publishes it: the UI's own worker never saw that.
	if _, err := s.other.Sync(t.Context(), s.id); err != nil {
		t.Fatal(err)
	}
	send(m, refreshTickMsg{})
	if !strings.Contains(screen(m), "hello bob ✓") || strings.Contains(screen(m), "hello bob ✓✓") {
		t.Errorf("published by another handle, not shown as published:\n%s", screen(m))
	}
	// Bob reads it and answers; another process ("dhtchat recv") fetches.
	bob := s.peerOf(t, net)
	if _, err := bob.Sync(t.Context(), s.id); err != nil {
		t.Fatal(err)
	}
	if _, err := bob.Send(t.Context(), s.id, "hi alice"); err != nil {
		t.Fatal(err)
	}
	if _, err := bob.Sync(t.Context(), s.id); err != nil {
		t.Fatal(err)
	}
	if _, err := s.other.Sync(t.Context(), s.id); err != nil {
		t.Fatal(err)
	}
	send(m, refreshTickMsg{})
	sc := conversationPane(m)
	if !strings.Contains(sc, "hello bob ✓✓") || strings.Count(sc, "hi alice") != 1 {
		t.Errorf("delivered and received by another handle, not shown:\n%s", sc)
	}
	s.checkMatchesStore(t)
	// On screen, so read.
	if n, err := s.ui.ReadUpTo(t.Context(), s.id); err != nil || n != 1 {
		t.Errorf("ReadUpTo = %d, %v; want 1", n, err)
	}
}

// Our messages older than the small page of a refresh get their status
// from the outbox counters.
func TestRefreshUpdatesOlderStatuses(t *testing.T) {
	net := newMapNet()
	s := newShared(t, net, 3*refreshSmall)
	if _, err := s.other.Sync(t.Context(), s.id); err != nil {
		t.Fatal(err)
	}
	send(s.m, refreshTickMsg{})
	s.checkMatchesStore(t)
	if s.m.c.chats.hist(s.id).entries[0].Status == chat.Pending {
		t.Errorf("the first message is still pending after another handle published it")
	}
}

func TestRefreshWhileScrolledUp(t *testing.T) {
	net := newMapNet()
	s := newShared(t, net, 60)
	m := s.m
	bob := s.peerOf(t, net)
	send(m, keyPgUp)
	send(m, keyPgUp)
	before := screen(m)
	if _, err := bob.Send(t.Context(), s.id, "while you were up"); err != nil {
		t.Fatal(err)
	}
	if _, err := bob.Sync(t.Context(), s.id); err != nil {
		t.Fatal(err)
	}
	if _, err := s.other.Sync(t.Context(), s.id); err != nil {
		t.Fatal(err)
	}
	send(m, refreshTickMsg{})
	after := screen(m)
	if !strings.Contains(after, "↓ 1 new message below") {
		t.Errorf("no new-message marker:\n%s", after)
	}
	b, a := strings.Split(before, "\n"), strings.Split(after, "\n")
	// The other handle's fetch also published our messages: only their
	// marks may change.
	conv := func(row string) string {
		_, c, _ := strings.Cut(row, "│")
		return strings.TrimRight(c, " ○✓")
	}
	for i := 1; i < len(b)-5; i++ {
		if conv(b[i]) != conv(a[i]) {
			t.Errorf("row %d moved: %q, now %q", i, b[i], a[i])
		}
	}
	if n, _ := s.ui.ReadUpTo(t.Context(), s.id); n != 0 {
		t.Errorf("a message not on screen was marked read (ReadUpTo %d)", n)
	}
	send(m, keyEsc)
	if !strings.Contains(screen(m), "while you were up") {
		t.Errorf("esc does not show it:\n%s", screen(m))
	}
	if n, _ := s.ui.ReadUpTo(t.Context(), s.id); n != 1 {
		t.Errorf("ReadUpTo = %d after jumping to it, want 1", n)
	}
}

// A panel over the history hides new messages: they are not read until
// it closes.
func TestRefreshUnderAPanelMarksNothingRead(t *testing.T) {
	net := newMapNet()
	s := newShared(t, net, 0)
	m := s.m
	bob := s.peerOf(t, net)
	typeText(m, "/help")
	send(m, keyEnter)
	if _, err := bob.Send(t.Context(), s.id, "under the panel"); err != nil {
		t.Fatal(err)
	}
	if _, err := bob.Sync(t.Context(), s.id); err != nil {
		t.Fatal(err)
	}
	if _, err := s.other.Sync(t.Context(), s.id); err != nil {
		t.Fatal(err)
	}
	send(m, refreshTickMsg{})
	if n, _ := s.ui.ReadUpTo(t.Context(), s.id); n != 0 {
		t.Errorf("read under a panel: ReadUpTo %d", n)
	}
	send(m, keyEsc)
	if n, _ := s.ui.ReadUpTo(t.Context(), s.id); n != 1 || !strings.Contains(screen(m), "under the panel") {
		t.Errorf("after esc: ReadUpTo %d, want 1; screen:\n%s", n, screen(m))
	}
}

// A message another process received in a chat that is not open counts
// as unread in the list, and is not marked read.
func TestRefreshCountsUnreadInOtherChats(t *testing.T) {
	net := newMapNet()
	s := newShared(t, net, 0)
	carolSK, carol := fixedKey(t, 90)
	started, err := s.other.StartChat(t.Context(), carol)
	if err != nil {
		t.Fatal(err)
	}
	cc := openClient(t, carolSK, filepath.Join(t.TempDir(), "carol.db"), net)
	if _, err := cc.JoinChat(t.Context(), s.self.Public(), started.Key); err != nil {
		t.Fatal(err)
	}
	if _, err := cc.Send(t.Context(), started.ID, "from carol 1", "from carol 2"); err != nil {
		t.Fatal(err)
	}
	if _, err := cc.Sync(t.Context(), started.ID); err != nil {
		t.Fatal(err)
	}
	if _, err := s.other.Sync(t.Context(), started.ID); err != nil {
		t.Fatal(err)
	}
	send(s.m, refreshTickMsg{})
	i := s.m.list.index(started.ID)
	if i < 0 {
		t.Fatalf("carol's chat is not listed")
	}
	if in := s.m.list.items[i]; in.Unread != 2 || in.LastText != "from carol 2" {
		t.Errorf("carol's chat: unread %d, last %q; want 2, %q", in.Unread, in.LastText, "from carol 2")
	}
	if s.m.open != s.id {
		t.Errorf("a refresh switched the open chat")
	}
	if n, _ := s.ui.ReadUpTo(t.Context(), started.ID); n != 0 {
		t.Errorf("carol's messages were marked read (%d) without being shown", n)
	}
}
