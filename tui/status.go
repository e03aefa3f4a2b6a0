package tui

import (
	"strings"

	"github.com/charmbracelet/x/ansi"

	"github.com/dhtchat/dhtchat/chat"
	"github.com/dhtchat/dhtchat/internal/userr"
)

// status is the message in the status bar, until the next key press, or
// until its cause is gone (see statusWhy).
type status struct {
	text  string
	isErr bool
	chat  chat.ChatID // the chat it is about, if why says
	why   statusWhy
}

// fail shows err in the status bar, in plain words.
func (m *model) fail(err error) {
	m.status = status{text: userr.Line(err), isErr: true}
}

// netLabel is the network state, for the list or the status bar.
func (m *model) netLabel() string {
	st := m.c.styles
	switch m.net {
	case chat.Online:
		return st.info.Render("● online" + m.pathLabel())
	case chat.Offline:
		return st.err.Render("✗ offline, retrying")
	}
	return st.warn.Render("○ connecting…")
}

// pathLabel is the path of the chat on screen (live, live relayed or
// through the DHT), after the network state; empty without an open chat.
// It is short: the chat list's column is narrow.
func (m *model) pathLabel() string {
	i := m.list.index(m.open)
	if m.open == (chat.ChatID{}) || i < 0 {
		return ""
	}
	switch m.list.items[i].Path {
	case chat.PathLiveDirect:
		return " · live"
	case chat.PathLiveRelayed:
		return " · relayed"
	}
	return " · dht"
}

// maxStatusRows is the most rows a long status message wraps onto.
const maxStatusRows = 3

// statusRight is the right of the status bar: the banner and, with the
// list collapsed, the network state.
func (m *model) statusRight(collapsed bool) string {
	st := m.c.styles
	right := ""
	if m.banner != "" {
		right = st.warn.Render(m.banner)
	}
	if collapsed {
		if right != "" {
			right += " "
		}
		right += m.netLabel()
	}
	if rw := ansi.StringWidth(right); rw > m.c.width/2 {
		right = m.netLabel() // the banner does not fit beside it
		if !collapsed {
			right = ansi.Truncate(st.warn.Render(m.banner), m.c.width/2, "…")
		}
	}
	return right
}

// statusLeft is the left of the status bar, one string per row: a
// message (wrapped onto up to maxStatusRows rows, so that a long error
// can be read whole), a question, or key hints.
func (m *model) statusLeft(collapsed bool) []string {
	st := m.c.styles
	width := max(m.c.width-ansi.StringWidth(m.statusRight(collapsed))-1, 1)
	style := st.info
	switch {
	case m.state == stateConfirmPaste:
		rows := strings.Split(ansi.Wrap(m.pastePrompt(), width, ""), "\n")
		for i, r := range rows {
			rows[i] = st.warn.Render(r)
		}
		return rows
	case m.status.text == "" && m.typingLine() != "":
		return []string{st.dim.Render(ansi.Truncate(m.typingLine(), width, "…"))}
	case m.status.text == "":
		return []string{hints(st, width)}
	case m.status.isErr:
		style = st.err
	}
	rows := strings.Split(ansi.Wrap(m.status.text, width, ""), "\n")
	if len(rows) > maxStatusRows {
		rows = rows[:maxStatusRows]
		rows[maxStatusRows-1] = ansi.Truncate(rows[maxStatusRows-1], width-1, "") + "…"
	}
	for i, r := range rows {
		rows[i] = style.Render(r)
	}
	return rows
}

// statusView is the status bar: l.statusH rows, the message or hints on
// the left and the banner and network state on the right of the first.
func (m *model) statusView(l layout) string {
	right := m.statusRight(l.collapsed)
	left := m.statusLeft(l.collapsed)
	gap := m.c.width - ansi.StringWidth(left[0]) - ansi.StringWidth(right)
	left[0] += strings.Repeat(" ", max(gap, 0)) + right
	return strings.Join(left, "\n")
}
