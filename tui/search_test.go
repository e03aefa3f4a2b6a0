package tui

import (
	"fmt"
	"strings"
	"testing"
	"time"

	tea "charm.land/bubbletea/v2"
)

var (
	keyCtrlF = tea.KeyPressMsg{Code: 'f', Mod: tea.ModCtrl}
	keyN     = tea.KeyPressMsg{Code: 'n', Text: "n"}
	keyShN   = tea.KeyPressMsg{Code: 'N', Text: "N"}
)

// searchModel is a model on a real database whose one chat holds total
// messages "message i", three of which (at hits) say "Needle i" instead.
func searchModel(t *testing.T, total int, hits ...int) *model {
	t.Helper()
	client, sk, ids := offlineClient(t, 50)
	var bodies []string
	for i := range total {
		b := fmt.Sprint("message ", i)
		for _, h := range hits {
			if h == i {
				b = fmt.Sprint("a Needle ", i, " in the haystack")
			}
		}
		bodies = append(bodies, b)
	}
	if _, err := client.Send(t.Context(), ids[0], bodies...); err != nil {
		t.Fatal(err)
	}
	m := newModel(t.Context(), client, &book{self: sk.Public()}, nil)
	m.c.now, m.c.loc = func() time.Time { return base }, time.UTC
	send(m, tea.WindowSizeMsg{Width: 80, Height: 24})
	for _, msg := range run(m.Init()) {
		send(m, msg)
	}
	return m
}

func TestSearchJumpsBetweenHits(t *testing.T) {
	// More than two pages: the oldest hit is not loaded when the search
	// starts.
	m := searchModel(t, 2*pageSize+100, 3, 250, 420)
	if s := screen(m); strings.Contains(s, "Needle") {
		t.Fatalf("a hit on screen before the search:\n%s", s)
	}
	typeText(m, "hello")
	send(m, keyCtrlF)
	typeText(m, "needle")
	send(m, keyEnter)
	hl := "Needle"
	check := func(i, of int, body string) {
		t.Helper()
		if !strings.Contains(m.status.text, fmt.Sprintf("%d of %d", i, of)) {
			t.Errorf("status %q, want hit %d of %d", m.status.text, i, of)
		}
		s := screen(m)
		if !strings.Contains(s, body) {
			t.Errorf("hit %d (%q) not on screen:\n%s", i, body, s)
		}
		if want := m.c.styles.hitCur.Render(hl); !strings.Contains(m.View().Content, want) {
			t.Errorf("hit %d not highlighted", i)
		}
	}
	check(3, 3, "a Needle 420 in")
	if got := m.in.value(); got != "hello" {
		t.Errorf("the draft during the search = %q, want it back", got)
	}
	send(m, keyN)
	check(2, 3, "a Needle 250 in")
	send(m, keyN)
	check(1, 3, "a Needle 3 in")
	send(m, keyN) // no older hit: it stays
	check(1, 3, "a Needle 3 in")
	send(m, keyShN)
	check(2, 3, "a Needle 250 in")
	send(m, keyDown)
	check(3, 3, "a Needle 420 in")
	send(m, keyUp)
	check(2, 3, "a Needle 250 in")
	send(m, keyEsc)
	if m.search != nil {
		t.Fatal("esc did not leave the search")
	}
	s := screen(m)
	if strings.Contains(s, "Needle") || !strings.Contains(s, fmt.Sprint("message ", 2*pageSize+99)) {
		t.Errorf("after esc, not back at the latest message:\n%s", s)
	}
	if strings.Contains(m.View().Content, m.c.styles.hitCur.Render("Needle")) {
		t.Error("highlight left after esc")
	}
	if got := m.in.value(); got != "hello" {
		t.Errorf("the draft after the search = %q", got)
	}
	// Typing leaves the search and goes to the draft.
	hl = "Needle 2"
	send(m, keyCtrlF)
	typeText(m, "NEEDLE 2")
	send(m, keyEnter)
	check(1, 1, "a Needle 250 in")
	typeText(m, "x")
	if m.search != nil || m.in.value() != "hellox" {
		t.Errorf("a key after the search: search %v, draft %q; want it left and the key typed", m.search != nil, m.in.value())
	}
}

func TestSearchNoHit(t *testing.T) {
	m := searchModel(t, 10)
	typeText(m, "/search absent")
	send(m, keyEnter)
	if m.search != nil || !strings.Contains(m.status.text, `no message here contains "absent"`) {
		t.Errorf("status %q, search %v", m.status.text, m.search != nil)
	}
	send(m, keyCtrlF)
	send(m, keyEsc)
	if got := m.in.value(); got != "" {
		t.Errorf("esc after ctrl+f left %q in the input", got)
	}
}

// TestUnreadMarkerOnTop: more unread than a screen holds (the pages back
// to the first unread message came with the chat), the chat opens with
// the marker at the top, not at the latest message; Esc goes down.
func TestUnreadMarkerOnTop(t *testing.T) {
	m := newTestModel(t, 80, 24)
	withChats(t, m, "alice")
	es := conversation(chatID(1), 2*pageSize+50, func(i int) string { return fmt.Sprint("msg ", i) })
	// The first unread is msg 100 (incoming N 51).
	send(m, pageMsg{id: chatID(1), entries: es, readUpTo: 50, long: true, more: false})
	s := screen(m)
	rows := strings.Split(s, "\n")
	marker := -1
	for i, r := range rows {
		if strings.Contains(r, "── unread ──") {
			marker = i
		}
	}
	if marker < 0 || marker > 3 || !strings.Contains(rows[marker+1], "msg 100") {
		t.Fatalf("the unread marker is not at the top above msg 100:\n%s", s)
	}
	if m.hist().follow {
		t.Error("the view follows the latest message, above which nothing was read")
	}
	send(m, keyEsc)
	if s := screen(m); !strings.Contains(s, fmt.Sprint("msg ", 2*pageSize+49)) {
		t.Errorf("esc did not go to the latest message:\n%s", s)
	}

	// The same when the page comes before the terminal's size.
	m = newTestModel(t, 0, 0)
	withChats(t, m, "alice")
	send(m, pageMsg{id: chatID(1), entries: es, readUpTo: 50, long: true, more: false})
	if h := m.hist(); h.readUpTo != 50 {
		t.Errorf("read up to %d before the terminal's size came, want 50: nothing was seen", h.readUpTo)
	}
	send(m, tea.WindowSizeMsg{Width: 80, Height: 24})
	if s := screen(m); !strings.Contains(s, "── unread ──") || m.hist().follow {
		t.Errorf("page before the size: the marker is not on screen:\n%s", s)
	}

	// A few unread that fit: the view stays at the latest message.
	m = newTestModel(t, 80, 24)
	withChats(t, m, "alice")
	send(m, pageMsg{id: chatID(1), entries: conversation(chatID(1), 50, func(i int) string { return fmt.Sprint("msg ", i) }), readUpTo: 23})
	if s := screen(m); !m.hist().follow || !strings.Contains(s, "── unread ──") || !strings.Contains(s, "msg 49") {
		t.Errorf("a few unread: follow %v\n%s", m.hist().follow, s)
	}
}
