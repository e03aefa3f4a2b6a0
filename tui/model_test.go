package tui

import (
	"fmt"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	tea "charm.land/bubbletea/v2"

	"github.com/dhtchat/dhtchat/chat"
)

// incoming is a MessageEvent of a received message numbered n in chat id.
func incoming(id chat.ChatID, seq int64, n uint64, body string) chat.Event {
	at := base.Add(time.Duration(seq) * time.Second)
	return chat.MessageEvent{Entry: chat.Entry{Seq: seq, Chat: id, N: n, SentAt: at, ReceivedAt: at, Body: body, Status: chat.Received}}
}

func draftState(m *model) (string, int, int) {
	d := m.in.draft(m.open)
	return d.Value(), d.Line(), d.Column()
}

func TestIncomingMessagesLeaveDraftAndCursor(t *testing.T) {
	m := newTestModel(t, 80, 24)
	withChats(t, m, "alice", "bob")
	send(m, pageMsg{id: chatID(1), entries: conversation(chatID(1), 10, func(i int) string { return fmt.Sprint("m", i) })})
	typeText(m, "hello wor")
	send(m, keyAltEnter)
	typeText(m, "second line")
	for range 4 {
		send(m, keyLeft)
	}
	value, line, col := draftState(m)
	_, cur := m.in.view()
	for i := range 5 {
		send(m, eventsMsg{incoming(chatID(1), int64(100+i), uint64(100+i), fmt.Sprintf("incoming %d\x1b[2J", i))})
		// A status change and a message in another chat too.
		send(m, eventsMsg{incoming(chatID(2), int64(200+i), uint64(200+i), "elsewhere")})
	}
	v2, l2, c2 := draftState(m)
	if v2 != value || l2 != line || c2 != col {
		t.Errorf("after 5 incoming messages the draft is %q at %d:%d, want %q at %d:%d", v2, l2, c2, value, line, col)
	}
	if value != "hello wor\nsecond line" || line != 1 || col != 7 {
		t.Errorf("draft = %q at %d:%d, want %q at 1:7", value, line, col, "hello wor\nsecond line")
	}
	_, cur2 := m.in.view()
	if cur2.Position != cur.Position {
		t.Errorf("cursor moved from %v to %v", cur.Position, cur2.Position)
	}
	if s := screen(m); !strings.Contains(s, "incoming 4") {
		t.Errorf("the incoming messages are not on screen:\n%s", s)
	}
	if got := m.list.items[m.list.index(chatID(2))].Unread; got != 5 {
		t.Errorf("unread of the other chat = %d, want 5", got)
	}
}

func TestDraftsPerChat(t *testing.T) {
	m := newTestModel(t, 80, 24)
	withChats(t, m, "alice", "bob", "carol")
	for i := byte(1); i <= 3; i++ {
		send(m, pageMsg{id: chatID(i), entries: nil})
	}
	typeText(m, "to alice")
	send(m, keyCtrlN)
	if m.open != chatID(2) {
		t.Fatalf("ctrl+n opened %v, want chat 2", m.open)
	}
	if v, _, _ := draftState(m); v != "" {
		t.Errorf("bob's draft = %q, want empty", v)
	}
	typeText(m, "to bob")
	send(m, keyCtrlN)
	typeText(m, "to carol")
	send(m, keyCtrlN) // wraps to alice
	if v, _, _ := draftState(m); m.open != chatID(1) || v != "to alice" {
		t.Errorf("back on %v: draft %q, want alice's %q", m.open, v, "to alice")
	}
	send(m, keyCtrlP)
	send(m, keyCtrlP)
	if v, _, _ := draftState(m); m.open != chatID(2) || v != "to bob" {
		t.Errorf("on %v: draft %q, want bob's %q", m.open, v, "to bob")
	}
}

func TestScrolledUpStaysWhenMessagesArrive(t *testing.T) {
	m := newTestModel(t, 80, 24)
	withChats(t, m, "alice")
	send(m, pageMsg{id: chatID(1), entries: conversation(chatID(1), 100, func(i int) string { return fmt.Sprint("message ", i+1) }), readUpTo: 1000})
	send(m, keyPgUp)
	send(m, keyPgUp)
	before := screen(m)
	if !strings.Contains(before, "message 64") || strings.Contains(before, "message 100") {
		t.Fatalf("after two PgUp the screen is not scrolled up:\n%s", before)
	}
	for i := range 3 {
		send(m, eventsMsg{incoming(chatID(1), int64(1000+i), uint64(1000+i), "new one")})
	}
	after := screen(m)
	h := m.hist()
	if h.follow {
		t.Errorf("the history follows new messages after the user scrolled up")
	}
	if !strings.Contains(after, "↓ 3 new messages below") {
		t.Errorf("no new-messages marker:\n%s", after)
	}
	// Everything but the marker row is where it was.
	b, a := strings.Split(before, "\n"), strings.Split(after, "\n")
	conv := func(row string) string { _, c, _ := strings.Cut(row, "│"); return c }
	for i := 1; i < len(b)-5; i++ {
		if conv(b[i]) != conv(a[i]) {
			t.Errorf("row %d moved: %q, now %q", i, b[i], a[i])
		}
	}
	send(m, keyEsc)
	if s := screen(m); !h.follow || !strings.Contains(s, "new one") {
		t.Errorf("esc does not jump to the latest:\n%s", s)
	}
	if h.readUpTo != 1002 {
		t.Errorf("readUpTo = %d after jumping to the latest, want 1002", h.readUpTo)
	}
	// Scrolling all the way down again also follows.
	send(m, keyPgUp)
	for range 10 {
		send(m, keyPgDown)
	}
	if !h.follow {
		t.Errorf("PgDn to the end does not follow new messages")
	}
}

func TestScrollStopsAtTheTop(t *testing.T) {
	m := newTestModel(t, 80, 24)
	withChats(t, m, "alice")
	send(m, pageMsg{id: chatID(1), entries: conversation(chatID(1), 30, func(i int) string { return fmt.Sprint("message ", i+1) }), readUpTo: 100})
	for range 20 {
		send(m, keyPgUp)
	}
	s := strings.Split(screen(m), "\n")
	if !strings.Contains(s[1], "Today") || !strings.Contains(s[2], "message 1") {
		t.Errorf("at the top, rows 1-2 are %q, %q; want the day and message 1", s[1], s[2])
	}
	send(m, tea.MouseWheelMsg{Button: tea.MouseWheelDown})
	if s := strings.Split(screen(m), "\n"); strings.Contains(s[2], "message 1") {
		t.Errorf("the mouse wheel does not scroll")
	}
}

func TestEnterSendsAltEnterNewline(t *testing.T) {
	m := newTestModel(t, 80, 24)
	withChats(t, m, "alice")
	send(m, pageMsg{id: chatID(1)})
	typeText(m, "a")
	send(m, keyAltEnter)
	send(m, tea.KeyPressMsg{Code: tea.KeyEnter, Mod: tea.ModShift})
	typeText(m, "b")
	if v, _, _ := draftState(m); v != "a\n\nb" {
		t.Errorf("draft = %q, want %q", v, "a\n\nb")
	}
	// With no engine, Enter only queues the message; feed the result the
	// send command would give.
	send(m, keyEnter)
	q := m.c.chats.queue(chatID(1))
	if q == nil || len(q.flight) != 1 || q.flight[0] != "a\n\nb" {
		t.Fatalf("enter did not send: queue %+v", q)
	}
	if v, _, _ := draftState(m); v != "" {
		t.Errorf("after enter, draft = %q", v)
	}
	if s := screen(m); !strings.Contains(s, "b sending…") {
		t.Errorf("the message being stored is not shown:\n%s", s)
	}
	e := chat.Entry{Seq: 1, Chat: chatID(1), Outgoing: true, N: 1, SentAt: base, Body: "a\n\nb", Status: chat.Pending}
	send(m, sentMsg{id: chatID(1), batch: q.batch, entries: []chat.Entry{e}})
	if m.c.chats.queue(chatID(1)) != nil {
		t.Errorf("the queue is not empty after the send")
	}
	if !strings.Contains(screen(m), "15:04 you      a") {
		t.Errorf("sent message not shown:\n%s", screen(m))
	}
	send(m, eventsMsg{chat.StatusEvent{Entry: func() chat.Entry { e.Status = chat.Delivered; return e }()}})
	if !strings.Contains(screen(m), "b ✓✓") {
		t.Errorf("delivered mark not shown:\n%s", screen(m))
	}
	// Up on an empty draft recalls it; Down goes back to empty.
	send(m, keyUp)
	if v, _, _ := draftState(m); v != "a\n\nb" {
		t.Errorf("up recalls %q", v)
	}
	send(m, keyDown)
	if v, _, _ := draftState(m); v != "" {
		t.Errorf("down leaves %q", v)
	}
}

func TestSlashCommandErrorsInPlainWords(t *testing.T) {
	m := newTestModel(t, 80, 24)
	withChats(t, m, "alice")
	for _, tc := range []struct {
		line, want string
		kept       bool // refused at once: the draft stays, to be corrected
	}{
		{"/start zed", "zed is not one of your friends", false},
		{"/respond alice dhtchat-chat1qqqq", "invalid chat key", true},
		{"/add bob dhtchat1nope", "invalid key", false},
		{"/frobnicate", "unknown command /frobnicate", true},
		{"/copy", "usage: /copy key|chat", true},
	} {
		typeText(m, tc.line)
		send(m, keyEnter)
		if got := m.status.text; !m.status.isErr || !strings.Contains(got, tc.want) {
			t.Errorf("%s: status %q, want an error containing %q", tc.line, got, tc.want)
		}
		if strings.Contains(m.status.text, "chat: ") || strings.Contains(m.status.text, "wire: ") || strings.Contains(m.status.text, "keyring: ") {
			t.Errorf("%s: raw error %q", tc.line, m.status.text)
		}
		want := ""
		if tc.kept {
			want = tc.line
		}
		if v, _, _ := draftState(m); v != want {
			t.Errorf("%s: the draft is %q after, want %q", tc.line, v, want)
		}
		m.in.clear(m.in.cur)
	}
	typeText(m, "/whoami")
	send(m, keyEnter)
	if s := screen(m); !strings.Contains(s, "Your public key") || !strings.Contains(s, "dhtchat1") {
		t.Errorf("/whoami:\n%s", s)
	}
	send(m, keyEsc)
	send(m, keyF1)
	if s := screen(m); !strings.Contains(s, "Keys") || !strings.Contains(s, "alt+enter") {
		t.Errorf("f1:\n%s", s)
	}
	send(m, keyEsc)
}

// sgr matches the styling sequences the UI itself emits.
var sgr = regexp.MustCompile("\x1b\\[[0-9;:]*m")

func TestEscapeSequencesAreInert(t *testing.T) {
	hostile := "A\x1b[2J\x1b[H\x1b[31mred" + // CSI: clear, home, colour
		"\x1b]0;pwned title\x07" + // OSC title, BEL-terminated
		"\x1b]52;c;ZXZpbA==\x1b\\" + // OSC 52 clipboard write
		"\x07bell" +
		"\u009b31mC1-CSI\u009d0;t\u009c" + // C1 CSI and OSC, ST
		"\x1bPdcs\x1b\\" + "\u202eevil\u202c" + "\rZ"
	m := newTestModel(t, 80, 24)
	withChats(t, m, "alice")
	send(m, pageMsg{id: chatID(1)})
	send(m, eventsMsg{incoming(chatID(1), 1, 1, hostile)})
	view := m.View().Content
	rest := sgr.ReplaceAllString(view, "")
	for _, r := range rest {
		if (r < 0x20 && r != '\n') || r == 0x7f || (r >= 0x80 && r <= 0x9f) || r == 0x202e || r == 0x202c {
			t.Errorf("the screen holds control %U", r)
		}
	}
	for _, bad := range []string{"pwned", "ZXZpbA", "dcs", "0;t"} {
		if strings.Contains(rest, bad) {
			t.Errorf("the payload %q of an escape sequence reached the screen", bad)
		}
	}
	if s := screen(m); !strings.Contains(s, "Ared") || !strings.Contains(s, "AredbellC1-CSIevil") {
		t.Errorf("the text around the sequences is missing:\n%s", s)
	}
	// The chat list's last-message line too.
	if strings.Contains(rest, "\x1b") {
		t.Errorf("an escape character reached the screen outside styling")
	}
}

// The engine, for real: an offline Client on a SQLite file.
func TestSendThroughClient(t *testing.T) {
	sk, _ := fixedKey(t, 1)
	_, peer := fixedKey(t, 50)
	client, err := chat.Open(chat.Config{Identity: sk, DBPath: filepath.Join(t.TempDir(), "db")})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { client.Close() })
	started, err := client.StartChat(t.Context(), peer)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := client.Send(t.Context(), started.ID, "earlier"); err != nil {
		t.Fatal(err)
	}
	m := newModel(t.Context(), client, &book{self: sk.Public()}, nil)
	m.c.now, m.c.loc = func() time.Time { return base }, time.UTC
	send(m, tea.WindowSizeMsg{Width: 80, Height: 24})
	for _, c := range []tea.Cmd{m.Init()} {
		for _, msg := range run(c) {
			send(m, msg)
		}
	}
	if m.open != started.ID {
		t.Fatalf("the UI opened %v, want the only chat %v", m.open, started.ID)
	}
	typeText(m, "héllo 👋")
	send(m, keyEnter)
	es, err := client.History(t.Context(), started.ID, 0, 10)
	if err != nil {
		t.Fatal(err)
	}
	if len(es) != 2 || es[1].Body != "héllo 👋" || es[1].Status != chat.Pending {
		t.Fatalf("stored history = %+v", es)
	}
	if v, _, _ := draftState(m); v != "" {
		t.Errorf("draft after send = %q", v)
	}
	if s := screen(m); !strings.Contains(s, "héllo 👋 ○") || !strings.Contains(s, "earlier") {
		t.Errorf("screen:\n%s", s)
	}
	// Too long: the draft stays and the error is in words.
	typeText(m, "x")
	m.in.draft(m.open).SetValue(strings.Repeat("x", chat.MaxBody+1))
	send(m, keyEnter)
	if !m.status.isErr || !strings.Contains(m.status.text, "too long") {
		t.Errorf("status = %+v", m.status)
	}
	if v, _, _ := draftState(m); len(v) != chat.MaxBody+1 {
		t.Errorf("a refused message cleared the draft")
	}
}

func TestOpeningAHugeChatLoadsOnePage(t *testing.T) {
	client, id := bigChat(t, 3*pageSize+7)
	m := newModel(t.Context(), client, &book{self: client0Self}, nil)
	send(m, tea.WindowSizeMsg{Width: 80, Height: 24})
	for _, msg := range run(m.Init()) {
		send(m, msg)
	}
	h := m.c.chats.hist(id)
	if h == nil || len(h.entries) != pageSize {
		t.Fatalf("opening the chat loaded %d entries, want one page of %d", len(h.entries), pageSize)
	}
	// Scrolling up far enough loads the older pages, one at a time.
	for range 400 {
		send(m, keyPgUp)
	}
	if len(h.entries) != 3*pageSize+7 || h.hasOlder {
		t.Errorf("after scrolling to the top: %d entries loaded (hasOlder %v)", len(h.entries), h.hasOlder)
	}
	if s := strings.Split(screen(m), "\n"); !strings.Contains(s[2], "body 0 ") {
		t.Errorf("the top row is %q, want the first message", s[2])
	}
}

// TestMultiLineCommandNotRun: a command is one line. A draft of several
// lines that begins with "/" (a paste put into the draft) is never run as
// a command and never loses its other lines: Enter refuses it, says how to
// send it, and keeps it; with "//" it is sent as text.
func TestMultiLineCommandNotRun(t *testing.T) {
	m := pasteModel(t, "")
	send(m, burst("/quit\rhello\r"))
	send(m, keyEsc) // into the draft
	send(m, keyEnter)
	if m.quitting || m.quitWhenStored {
		t.Fatalf("a pasted /quit with a second line quit the program")
	}
	if v, _, _ := draftState(m); v != "/quit\nhello\n" {
		t.Errorf("the draft is %q, want it kept", v)
	}
	if !m.status.isErr || !strings.Contains(m.status.text, "a command is one line: to send this as a message, start it with //") {
		t.Errorf("status %+v", m.status)
	}
	if got := sentBodies(m); len(got) != 0 {
		t.Errorf("sent %q", got)
	}
	send(m, tea.KeyPressMsg{Code: tea.KeyHome, Mod: tea.ModCtrl}) // to the start of the draft
	typeText(m, "/")
	send(m, keyEnter)
	if got := sentBodies(m); !slices.Equal(got, []string{"/quit\nhello"}) {
		t.Errorf("with //: sent %q, want the text", got)
	}
}
