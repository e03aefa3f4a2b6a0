package tui

import (
	"strings"

	tea "charm.land/bubbletea/v2"
	"github.com/charmbracelet/x/ansi"

	"github.com/dhtchat/dhtchat/chat"
)

// The screen: where everything goes (layout) and how the parts are put
// together (View). Each part is drawn in its own file: the chat list
// (chatlist.go), the title and banner (title.go), the notices
// (notices.go), the history (historyview.go), a panel (panel.go, and the
// info view in infoview.go), the welcome (welcome.go), the status bar
// (status.go) and the key hints (help.go).

// layout is where everything goes at the current size.
type layout struct {
	collapsed bool
	listW     int // 0 when collapsed
	convX     int // first column of the conversation
	convW     int
	banner    bool // a key-change warning over the history
	notices   int  // rows of notices under it (see model.notices)
	histY     int  // first row of the history
	histH     int
	inputY    int
	inputH    int
	statusH   int // rows of the status bar: a long message wraps
}

func (m *model) layout() layout {
	w, h := m.c.width, m.c.height
	var l layout
	l.collapsed = w < collapseBelow || m.panelWide(w)
	if !l.collapsed {
		l.listW = listWidth
		l.convX = listWidth + 1
	}
	l.convW = max(w-l.convX, 1)
	l.inputH = m.in.height()
	l.histY = 1
	if m.open != (chat.ChatID{}) && m.c.keyChanged(m.open) {
		l.banner = true
		l.histY = 2
	}
	l.notices = len(m.notices(l.convW))
	l.histY += l.notices
	l.statusH = len(m.statusLeft(l.collapsed))
	l.histH = max(h-l.histY-l.statusH-l.inputH-1, 1)
	l.inputY = l.histY + l.histH + 1
	return l
}

// resize applies a new terminal size.
func (m *model) resize(w, h int) {
	m.c.width, m.c.height = w, h
	l := m.layout()
	m.in.setSize(l.convW, max(min(maxInputRows, (h-6)/3), 1))
	if hist := m.hist(); hist != nil && hist.unreadTop {
		hist.toUnread(m.c, l.histH, l.convW)
	}
}

func (m *model) View() tea.View {
	var v tea.View
	v.AltScreen = true
	v.MouseMode = tea.MouseModeCellMotion
	v.ReportFocus = true
	v.WindowTitle = m.windowTitle()
	if m.quitting {
		return v
	}
	w, h := m.c.width, m.c.height
	if w == 0 || h == 0 {
		return v
	}
	if w < 20 || h < 8 {
		v.SetContent(ansi.Truncate("dhtchat: the terminal is too small", w, "…"))
		return v
	}
	l := m.layout()
	conv := make([]string, 0, h)
	conv = append(conv, m.titleView(l))
	if l.banner {
		conv = append(conv, m.bannerView(l.convW))
	}
	conv = append(conv, m.notices(l.convW)...)
	conv = append(conv, m.mainView(l)...)
	conv = append(conv, m.c.styles.rule.Render(strings.Repeat("─", l.convW)))
	inView, cur := m.in.view()
	inRows := strings.Split(inView, "\n")
	for len(inRows) < l.inputH {
		inRows = append(inRows, "")
	}
	conv = append(conv, inRows[:l.inputH]...)

	var list []string
	if !l.collapsed {
		list = m.list.view(m.c, m.open, m.netLabel(), l.listW, h-l.statusH, func(id chat.ChatID) bool { return m.unseenAlerts(id) > 0 })
	}
	var b strings.Builder
	b.Grow(w * h * 2)
	for y := 0; y < h-l.statusH; y++ {
		if !l.collapsed {
			b.WriteString(fit(list[y], l.listW))
			b.WriteString(m.c.styles.rule.Render("│"))
		}
		row := ""
		if y < len(conv) {
			row = conv[y]
		}
		b.WriteString(fit(row, l.convW))
		b.WriteByte('\n')
	}
	b.WriteString(m.statusView(l))
	v.SetContent(b.String())
	if cur != nil && m.state == stateChat {
		cur.X += l.convX
		cur.Y += l.inputY
		v.Cursor = cur
	}
	return v
}

// mainView is the history, a panel, or the welcome text: l.histH rows,
// bottom-aligned for the history.
func (m *model) mainView(l layout) []string {
	var rows []string
	switch {
	case m.panel != nil:
		rows = m.panelView(l)
	case m.hist() != nil:
		var queued []string
		failed := false
		if q := m.c.chats.queue(m.open); q != nil {
			queued, failed = q.bodies(), q.err != nil
		}
		rows = m.hist().view(m.c, l.histH, l.convW, queued, failed)
		if len(rows) < l.histH {
			pad := make([]string, l.histH-len(rows), l.histH)
			rows = append(pad, rows...)
		}
		return rows
	default:
		rows = m.welcomeView(l)
	}
	for len(rows) < l.histH {
		rows = append(rows, "")
	}
	return rows[:l.histH]
}

// fit truncates or pads s to exactly w cells.
func fit(s string, w int) string {
	sw := ansi.StringWidth(s)
	if sw > w {
		s = ansi.Truncate(s, w, "")
		sw = ansi.StringWidth(s)
	}
	return s + strings.Repeat(" ", max(w-sw, 0))
}
