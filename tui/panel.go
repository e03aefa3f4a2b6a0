package tui

import (
	"fmt"
	"strings"

	"charm.land/bubbles/v2/key"
	tea "charm.land/bubbletea/v2"
	"github.com/charmbracelet/x/ansi"

	"github.com/dhtchat/dhtchat/chat/wire"
	"github.com/dhtchat/dhtchat/keyring"
)

// panel is a block of text shown over the history (/help, /friends, f1,
// f2), until Esc; the input stays usable under it. Each kind makes its
// title and lines as it is drawn, so that a panel showing what changes
// (the friends, a friend's trust) shows the change at once.
type panel interface {
	content(m *model) (title string, lines []string)
}

// textPanel is a panel of fixed text.
type textPanel struct {
	title string
	lines []string
}

func (p textPanel) content(*model) (string, []string) { return p.title, p.lines }

// friendsPanel is /friends.
type friendsPanel struct{}

func (friendsPanel) content(m *model) (string, []string) {
	var lines []string
	if len(m.friends) == 0 {
		lines = []string{"No friends yet. /add NAME PUBKEY adds one; /whoami shows the key to give them."}
	}
	for _, f := range m.friends {
		lines = append(lines, fmt.Sprintf("%-16s %s  %s", f.Name, f.Key.Fingerprint(), trustLabel(m.c.styles, f, true)))
	}
	return "Friends", lines
}

// infoPanel is the info view of the chat with the holder of peer (see
// model.infoView).
type infoPanel struct{ peer keyring.PublicKey }

func (p infoPanel) content(m *model) (string, []string) { return m.infoView(p.peer) }

// show puts p over the history, from its first line.
func (m *model) show(p panel) {
	m.panel, m.panelTop = p, 0
}

// closePanel takes the panel away.
func (m *model) closePanel() { m.panel = nil }

// infoShown is the info view on screen, if it is.
func (m *model) infoShown() (infoPanel, bool) {
	p, ok := m.panel.(infoPanel)
	return p, ok
}

// newChatPanel shows the key of a chat the user started with name.
func newChatPanel(name string, key wire.ChatKey) textPanel {
	return textPanel{title: "New chat with " + name, lines: []string{
		"Give " + name + " this chat key:",
		"",
		key.String(),
		"",
		"They join with: dhtchat respond YOURNAME <chat key>",
		"/copy chat copies it (OSC 52); f2 shows it again. Esc closes this.",
	}}
}

// scrollPanel scrolls a panel taller than the room by a page (PgUp,
// PgDn) or three lines (the wheel).
func (m *model) scrollPanel(msg tea.Msg, l layout) {
	page := max(l.histH-2, 1)
	switch msg := msg.(type) {
	case tea.KeyPressMsg:
		switch {
		case key.Matches(msg, m.c.keys.PageUp):
			m.panelTop -= page
		case key.Matches(msg, m.c.keys.PageDown):
			m.panelTop += page
		}
	case tea.MouseWheelMsg:
		switch msg.Button {
		case tea.MouseWheelUp:
			m.panelTop -= 3
		case tea.MouseWheelDown:
			m.panelTop += 3
		}
	}
	_, body := m.panelRows(l)
	m.panelTop = max(min(m.panelTop, len(body)-page), 0)
}

// panelView is the panel in l.histH rows: its title, then as much of its
// body as fits from panelTop, saying when there is more.
func (m *model) panelView(l layout) []string {
	st := m.c.styles
	title, body := m.panelRows(l)
	room := max(l.histH-2, 1)
	hint := "  (esc closes)"
	if len(body) > room {
		hint = "  (pgup/pgdn, esc closes)"
	}
	top := max(min(m.panelTop, len(body)-room), 0)
	body = body[top:min(top+room, len(body))]
	return append([]string{st.title.Render(title) + st.dim.Render(hint), ""}, body...)
}

// panelRows is the title of the panel and its lines wrapped to the width
// of the conversation. Lines break at spaces only (wrapLine): a key or a
// URL is never cut where it fits a row, so that it can be selected and
// copied whole.
func (m *model) panelRows(l layout) (string, []string) {
	title, lines := m.panel.content(m)
	var rows []string
	width := max(l.convW-1, 1)
	for _, line := range lines {
		// "term    description": wrap the description under itself,
		// unless a word of it is too long for that: then the term is a
		// row of its own, and the description goes under it.
		hang := 0
		if i := strings.Index(line, "  "); i > 0 {
			hang = i + len(line[i:]) - len(strings.TrimLeft(line[i:], " "))
		}
		if hang > 0 && longestWord(line[hang:]) > width-hang {
			rows = append(rows, " "+strings.TrimRight(line[:hang], " "))
			line, hang = line[hang:], 0
		}
		if hang == 0 || hang > width/2 {
			for _, r := range wrapLine(line, width) {
				rows = append(rows, " "+r)
			}
			continue
		}
		for j, r := range wrapLine(line[hang:], width-hang) {
			lead := line[:hang]
			if j > 0 {
				lead = strings.Repeat(" ", hang)
			}
			rows = append(rows, " "+lead+r)
		}
	}
	return title, rows
}

// longestWord is the width of the widest word of s.
func longestWord(s string) int {
	n := 0
	for _, w := range strings.Fields(s) {
		n = max(n, ansi.StringWidth(w))
	}
	return n
}

// panelWide reports whether the panel shown holds a word (a key) too
// wide for the conversation beside the chat list, at terminal width w:
// the list then makes room for it.
func (m *model) panelWide(w int) bool {
	if m.panel == nil || w < collapseBelow {
		return false
	}
	_, lines := m.panel.content(m)
	room := w - listWidth - 1 - 2 // the margin of the panel, and a cell
	for _, line := range lines {
		if longestWord(line) > room {
			return true
		}
	}
	return false
}
