package tui

import (
	"strings"
	"testing"
	"time"

	tea "charm.land/bubbletea/v2"
	"github.com/charmbracelet/x/ansi"

	"github.com/dhtchat/dhtchat/chat"
)

func TestParseNotify(t *testing.T) {
	for _, tc := range []struct {
		in   string
		want Notify
		err  bool
	}{
		{"", DefaultNotify(), false},
		{"default", DefaultNotify(), false},
		{"none", Notify{}, false},
		{"off", Notify{}, false},
		{"bell", Notify{Bell: true}, false},
		{"title", Notify{Title: true}, false},
		{"bell,title,osc9", Notify{Bell: true, Title: true, OSC9: true}, false},
		{" OSC777 , bell ", Notify{Bell: true, OSC777: true}, false},
		{"desktop", Notify{OSC9: true, OSC777: true}, false},
		{"all", Notify{Bell: true, Title: true, OSC9: true, OSC777: true}, false},
		{"beep", Notify{}, true},
		{"bell,,title", Notify{}, true},
	} {
		got, err := ParseNotify(tc.in)
		if (err != nil) != tc.err || !tc.err && got != tc.want {
			t.Errorf("ParseNotify(%q) = %+v, %v; want %+v, error %v", tc.in, got, err, tc.want, tc.err)
		}
	}
}

// raws are the bytes the commands of cmd write to the terminal as they are
// (tea.Raw), in order.
func raws(cmd tea.Cmd) string {
	var b strings.Builder
	for _, msg := range run(cmd) {
		if r, ok := msg.(tea.RawMsg); ok {
			b.WriteString(r.Msg.(string))
		}
	}
	return b.String()
}

// arrive delivers one message from the friend of chat id, as the worker
// does, and returns what it wrote to the terminal.
func arrive(m *model, id chat.ChatID, n uint64, body string) string {
	e := chat.Entry{Seq: int64(1000 + n), Chat: id, N: n, Body: body, SentAt: base, ReceivedAt: base, Status: chat.Received}
	_, cmd := m.Update(eventsMsg{chat.MessageEvent{Entry: e}})
	return raws(cmd)
}

func TestNotifyOtherChat(t *testing.T) {
	m := newTestModel(t, 80, 24)
	withChats(t, m, "alice", "bob")
	send(m, pageMsg{id: chatID(1)})
	if got := m.View().WindowTitle; got != "dhtchat" {
		t.Fatalf("title with nothing unread = %q, want %q", got, "dhtchat")
	}
	if !m.View().ReportFocus {
		t.Errorf("the view does not ask for focus reports")
	}
	// In the chat on screen, in a focused terminal: nothing.
	if got := arrive(m, chatID(1), 1, "seen at once"); got != "" {
		t.Errorf("a message in the chat on screen wrote %q to the terminal, want nothing", got)
	}
	// In another chat: the bell, and the count in the title, without the
	// text.
	if got := arrive(m, chatID(2), 1, "secret plans"); got != "\a" {
		t.Errorf("a message in another chat wrote %q, want the bell", got)
	}
	// Another at once does not ring again; later it does.
	if got := arrive(m, chatID(2), 2, "more secret plans"); got != "" {
		t.Errorf("a second message at once wrote %q, want nothing", got)
	}
	m.c.now = func() time.Time { return base.Add(notifyEvery) }
	if got := arrive(m, chatID(2), 3, "later"); got != "\a" {
		t.Errorf("a message %v later wrote %q, want the bell", notifyEvery, got)
	}
	title := m.View().WindowTitle
	if title != "(3) dhtchat" {
		t.Errorf("title = %q, want %q", title, "(3) dhtchat")
	}
	if strings.Contains(title, "secret") {
		t.Errorf("the title %q shows a message", title)
	}
	send(m, keyCtrlN) // bob's chat: read
	send(m, pageMsg{id: chatID(2)})
	if got := m.View().WindowTitle; got != "dhtchat" {
		t.Errorf("title after reading = %q, want %q", got, "dhtchat")
	}
}

func TestNotifyBlurred(t *testing.T) {
	m := newTestModel(t, 80, 24)
	withChats(t, m, "alice", "bob")
	send(m, pageMsg{id: chatID(1)})
	send(m, tea.BlurMsg{})
	if got := arrive(m, chatID(1), 1, "while you were away"); got != "\a" {
		t.Errorf("a message while the terminal is not focused wrote %q, want the bell", got)
	}
	if got := m.View().WindowTitle; got != "(1) dhtchat" {
		t.Errorf("title while away = %q, want %q", got, "(1) dhtchat")
	}
	if h := m.hist(); h.readUpTo != 0 {
		t.Errorf("the message was marked read (up to %d) while the terminal was not focused", h.readUpTo)
	}
	send(m, tea.FocusMsg{})
	if got := m.View().WindowTitle; got != "dhtchat" {
		t.Errorf("title back in focus = %q, want %q", got, "dhtchat")
	}
	if h := m.hist(); h.readUpTo != 1 {
		t.Errorf("back in focus, read up to %d, want 1", h.readUpTo)
	}
}

func TestNotifySwitches(t *testing.T) {
	m := newTestModel(t, 80, 24)
	withChats(t, m, "alice", "bob")
	send(m, pageMsg{id: chatID(1)})
	m.notify = Notify{OSC9: true, OSC777: true}
	got := arrive(m, chatID(2), 1, "secret plans")
	want := ansi.Notify("dhtchat: message from bob") + "\x1b]777;notify;dhtchat;message from bob\a"
	if got != want {
		t.Errorf("desktop notifications = %q, want %q", got, want)
	}
	if title := m.View().WindowTitle; title != "" {
		t.Errorf("title %q set with the title switched off", title)
	}
	m.notify = Notify{}
	if got := arrive(m, chatID(2), 2, "x"); got != "" {
		t.Errorf("with notifications off, wrote %q", got)
	}
	// A name cannot end the sequence or add a field.
	if got := notifyText("a;b\x07\x1b]2;x"); strings.ContainsAny(got, ";\x07\x1b") {
		t.Errorf("notifyText kept a separator or a control: %q", got)
	}
}
