package tui

import (
	"strings"
	"testing"

	"github.com/charmbracelet/x/ansi"

	"github.com/dhtchat/dhtchat/chat"
)

func TestWrapLine(t *testing.T) {
	for _, tc := range []struct {
		line  string
		width int
		want  []string // the rows, without the links
		links []string // the URL linked on each row, "" for none
	}{
		{"see https://ex.com/a-b-c ok", 20, []string{"see", "https://ex.com/a-b-c", "ok"}, []string{"", "https://ex.com/a-b-c", ""}},
		{"(https://ex.com/x).", 40, []string{"(https://ex.com/x)."}, []string{"https://ex.com/x"}},
		{"go to https://ex.com/wiki/A_(b) now", 40, []string{"go to https://ex.com/wiki/A_(b) now"}, []string{"https://ex.com/wiki/A_(b)"}},
		{"a https://example.com/abcdefghij/klmnop", 16, []string{"a", "https://example.", "com/abcdefghij/k", "lmnop"}, []string{"", "https://example.com/abcdefghij/klmnop", "https://example.com/abcdefghij/klmnop", "https://example.com/abcdefghij/klmnop"}},
		{"a dhtchat-chat1qqqq-long key", 20, []string{"a", "dhtchat-chat1qqqq-lo", "ng key"}, nil},
		{"two  spaces kept", 40, []string{"two  spaces kept"}, nil},
		{"", 10, []string{""}, nil},
	} {
		rows := wrapLine(tc.line, tc.width)
		var got []string
		for i, r := range rows {
			got = append(got, ansi.Strip(r))
			if w := ansi.StringWidth(r); w > tc.width {
				t.Errorf("wrapLine(%q, %d) row %d is %d cells wide", tc.line, tc.width, i, w)
			}
			if tc.links == nil {
				continue
			}
			link := ""
			if i < len(tc.links) {
				link = tc.links[i]
			}
			has := strings.Contains(r, "\x1b]8;")
			if link == "" && has || link != "" && !strings.Contains(r, ";"+link+"\x07") {
				t.Errorf("wrapLine(%q, %d) row %d = %q, want a link to %q", tc.line, tc.width, i, r, link)
			}
		}
		if strings.Join(got, "|") != strings.Join(tc.want, "|") {
			t.Errorf("wrapLine(%q, %d) = %q, want %q", tc.line, tc.width, got, tc.want)
		}
	}
}

// A URL in a message is never broken at a hyphen, and is a link.
func TestHistoryLinks(t *testing.T) {
	// 80 cells for the text: the URL fits a row, but not after the text
	// before it; ansi.Wrap would cut it at a hyphen.
	m := newTestModel(t, 120, 24)
	withChats(t, m, "alice")
	const url = "https://example.org/some-long-path-with-hyphens/and-more"
	es := conversation(chatID(1), 1, func(int) string { return "read this one, it is worth it: " + url + " later" })
	send(m, pageMsg{id: chatID(1), entries: es, readUpTo: 10})
	if !strings.Contains(screen(m), url) {
		t.Errorf("the URL is not whole on one row:\n%s", screen(m))
	}
	if !strings.Contains(m.View().Content, ansi.SetHyperlink(url, "id="+linkID(url))) {
		t.Errorf("the URL is not a link (OSC 8)")
	}
	// A friend's message cannot make a link of anything but its own URL.
	es = conversation(chatID(1), 1, func(int) string { return "x \x1b]8;;https://evil.example/\x07click\x1b]8;;\x07" })
	send(m, pageMsg{id: chatID(1), entries: es, readUpTo: 10})
	if strings.Contains(m.View().Content, "evil") && strings.Contains(m.View().Content, "]8;;https://evil") {
		t.Errorf("a message's own OSC 8 reached the terminal")
	}
}

// Keys in panels are on one row, whole, to be selected and copied.
func TestPanelKeysWhole(t *testing.T) {
	for _, w := range []int{80, 120} {
		m := trustScreen(t, w, 24)
		k := chatKeyOf(t, m, chatID(1))
		send(m, keyF2)
		s := screen(m)
		f, _ := m.c.peer(m.open)
		for _, key := range []string{k, f.Key.String()} {
			if !strings.Contains(s, key) {
				t.Errorf("at %d columns, %s is not whole on one row:\n%s", w, key, s)
			}
		}
	}
}

func chatKeyOf(t *testing.T, m *model, id chat.ChatID) string {
	t.Helper()
	k, ok := m.c.chats.key(id)
	if !ok {
		t.Fatalf("no chat key for %v", id)
	}
	return k.String()
}
