package tui

import (
	"fmt"
	"slices"
	"strings"
	"testing"

	tea "charm.land/bubbletea/v2"
)

// pasteModel is a chat with alice open, loaded, with draft typed.
func pasteModel(t *testing.T, draft string) *model {
	t.Helper()
	m := newTestModel(t, 80, 24)
	withChats(t, m, "alice")
	send(m, pageMsg{id: chatID(1)})
	typeText(m, draft)
	return m
}

// sentBodies is all chat 1's queue holds, in order.
func sentBodies(m *model) []string {
	if q := m.c.chats.queue(chatID(1)); q != nil {
		return q.bodies()
	}
	return nil
}

func statusRow(m *model) string {
	rows := strings.Split(strings.TrimRight(screen(m), "\n"), "\n")
	return strings.Join(rows[len(rows)-m.layout().statusH:], " ")
}

func burst(s string) tea.PasteMsg { return tea.PasteMsg{Content: burstMark + s} }

func TestPasteAnswers(t *testing.T) {
	long := strings.TrimSuffix(strings.Repeat("line\n", 20), "\n")
	lines20 := strings.Split(long, "\n")
	for _, tc := range []struct {
		name   string
		draft  string
		pastes []tea.PasteMsg
		prompt string // "" if it must not ask
		answer string // the key that answers
		sent   []string
		after  string // the draft after
	}{
		{name: "short bracketed paste: into the draft", draft: "x", pastes: []tea.PasteMsg{{Content: "one\r\ntwo"}},
			after: "xone\ntwo"},
		{name: "long bracketed paste, enter: a message per line", pastes: []tea.PasteMsg{{Content: long}},
			prompt: "20 lines pasted · enter: 20 messages · ctrl+o: one message · esc: into the draft", answer: "enter",
			sent: lines20},
		{name: "long bracketed paste, ctrl+o: one message", pastes: []tea.PasteMsg{{Content: long + "\n"}},
			prompt: "20 lines pasted · enter: 20 messages", answer: "ctrl+o",
			sent: []string{long}},
		{name: "long bracketed paste, esc: into the draft", draft: "so: ", pastes: []tea.PasteMsg{{Content: long}},
			prompt: "20 lines pasted", answer: "esc",
			after: "so: " + long},
		{name: "burst typed fast, enter: as typed", pastes: []tea.PasteMsg{burst("one\rtwo\rthree\r")},
			prompt: "3 lines pasted · enter: 3 messages · ctrl+o: one message · esc: into the draft", answer: "enter",
			sent: []string{"one", "two", "three"}},
		{name: "burst: the first line completes the draft", draft: "hel", pastes: []tea.PasteMsg{burst("lo\rworld\r")},
			prompt: "2 lines pasted · enter: 2 messages", answer: "enter",
			sent: []string{"hello", "world"}},
		{name: "burst, enter: the text after the last line break too", pastes: []tea.PasteMsg{burst("a\rb\rstill typ")},
			prompt: "3 lines pasted · enter: 3 messages", answer: "enter",
			sent: []string{"a", "b", "still typ"}},
		{name: "burst, ctrl+o: one message", pastes: []tea.PasteMsg{burst("a\rb\rc\r")},
			prompt: "3 lines pasted", answer: "ctrl+o",
			sent: []string{"a\nb\nc"}},
		{name: "burst, letters answer nothing: m types an m", pastes: []tea.PasteMsg{burst("see you\rto")},
			prompt: "2 lines pasted · enter: 2 messages", answer: "m",
			sent: []string{"see you"}, after: "tom"},
		{name: "burst, esc: into the draft", draft: "x", pastes: []tea.PasteMsg{burst("a\rb\r")},
			prompt: "2 lines pasted", answer: "esc",
			after: "xa\nb\n"},
		{name: "burst in pieces: one question", pastes: []tea.PasteMsg{burst("l1\rl2\rl"), {Content: burstMore + "3\rl4\r"}, burst("l5\rl6\r")},
			prompt: "6 lines pasted · enter: 6 messages", answer: "enter",
			sent: []string{"l1", "l2", "l3", "l4", "l5", "l6"}},
		{name: "burst: blank lines send nothing", pastes: []tea.PasteMsg{burst("a\r\r  \rb\r")},
			prompt: "4 lines pasted · enter: 2 messages", answer: "enter",
			sent: []string{"a", "  b"}},
		{name: "burst: a line that cannot be sent stays with the rest", pastes: []tea.PasteMsg{burst("a\r" + strings.Repeat("x", 8001) + "\rb\rc")},
			prompt: "4 lines pasted · enter: 4 messages", answer: "enter",
			sent: []string{"a"}, after: strings.Repeat("x", 8001) + "\nb\nc"},
		{name: "burst, typing on: as typed, then the key", draft: "x", pastes: []tea.PasteMsg{burst("a\rb\r")},
			prompt: "2 lines pasted", answer: "y",
			sent: []string{"xa", "b"}, after: "y"},
		{name: "burst, typing on: the text after the last line break stays", pastes: []tea.PasteMsg{burst("a\rb\rstill typ")},
			prompt: "3 lines pasted", answer: "i",
			sent: []string{"a", "b"}, after: "still typi"},
		{name: "burst, backspace: as typed, then the key", pastes: []tea.PasteMsg{burst("see you\rto")},
			prompt: "2 lines pasted", answer: "backspace",
			sent: []string{"see you"}, after: "t"},
		{name: "burst, alt+enter: as typed, then a new line", pastes: []tea.PasteMsg{burst("a\rb")},
			prompt: "2 lines pasted", answer: "alt+enter",
			sent: []string{"a"}, after: "b\n"},
		{name: "burst, a key that types nothing: into the draft, then the key", draft: "x", pastes: []tea.PasteMsg{burst("a\rb\r")},
			prompt: "2 lines pasted", answer: "pgup",
			after: "xa\nb\n"},
		{name: "bracketed paste, typing on: into the draft, then the key", pastes: []tea.PasteMsg{{Content: long}},
			prompt: "20 lines pasted", answer: "y",
			after: long + "y"},
		{name: "burst, enter: a pasted slash command is sent as text", pastes: []tea.PasteMsg{burst("/quit\r/add mallory KEY\r//x\r")},
			prompt: "3 lines pasted · enter: 3 messages", answer: "enter",
			sent: []string{"/quit", "/add mallory KEY", "//x"}},
		{name: "bracketed paste, ctrl+o: a pasted slash command is sent as text", pastes: []tea.PasteMsg{{Content: "\n/quit\n" + long}},
			prompt: "22 lines pasted", answer: "ctrl+o",
			sent: []string{"/quit\n" + long}},
		{name: "burst after a typed command: the command runs as typed", draft: "/help", pastes: []tea.PasteMsg{burst("\rhi\r")},
			prompt: "2 lines pasted", answer: "enter",
			sent: []string{"hi"}},
		{name: "burst, ctrl+c: into the draft", pastes: []tea.PasteMsg{burst("a\rb\r")},
			prompt: "2 lines pasted", answer: "ctrl+c",
			after: "a\nb\n"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			m := pasteModel(t, tc.draft)
			for _, p := range tc.pastes {
				send(m, p)
			}
			if tc.prompt == "" {
				if m.state != stateChat {
					t.Fatalf("it asks: %s", statusRow(m))
				}
			} else {
				if row := statusRow(m); !strings.Contains(row, tc.prompt) {
					t.Fatalf("the status bar is %q, want %q", row, tc.prompt)
				}
				switch tc.answer {
				case "enter":
					send(m, keyEnter)
				case "esc":
					send(m, keyEsc)
				case "ctrl+o":
					send(m, tea.KeyPressMsg{Code: 'o', Mod: tea.ModCtrl})
				case "pgup":
					send(m, keyPgUp)
				case "backspace":
					send(m, tea.KeyPressMsg{Code: tea.KeyBackspace})
				case "alt+enter":
					send(m, keyAltEnter)
				case "ctrl+c":
					send(m, tea.KeyPressMsg{Code: 'c', Mod: tea.ModCtrl})
					if m.quitting || !m.quitArmed {
						t.Errorf("ctrl+c in the question: quitting %v, armed %v", m.quitting, m.quitArmed)
					}
				default:
					r := []rune(tc.answer)[0]
					send(m, tea.KeyPressMsg{Code: r, Text: tc.answer})
				}
			}
			if got := sentBodies(m); !slices.Equal(got, tc.sent) {
				t.Errorf("sent %q, want %q", got, tc.sent)
			}
			if v, _, _ := draftState(m); v != tc.after {
				t.Errorf("draft %.60q, want %.60q", v, tc.after)
			}
			if m.state != stateChat {
				t.Errorf("still asking after the answer")
			}
		})
	}
}

// TestManyLinesOnePrompt: a 200-line burst asks once and sends 200
// messages, in order, each once.
func TestManyLinesOnePrompt(t *testing.T) {
	m := pasteModel(t, "")
	var b strings.Builder
	var want []string
	for i := 1; i <= 200; i++ {
		want = append(want, fmt.Sprintf("line %03d of 200", i))
		b.WriteString(want[i-1] + "\r")
	}
	send(m, burst(b.String()))
	if row := statusRow(m); !strings.Contains(row, "200 lines pasted · enter: 200 messages") {
		t.Fatalf("status %q", row)
	}
	send(m, keyEnter)
	if got := sentBodies(m); !slices.Equal(got, want) {
		t.Errorf("sent %d bodies, want the 200 lines in order", len(got))
	}
}
