package tui

import (
	"fmt"
	"strings"
	"time"

	tea "charm.land/bubbletea/v2"
	"github.com/charmbracelet/x/ansi"

	"github.com/dhtchat/dhtchat/chat"
)

// Notifications. A message the user is not looking at — in a chat not on
// screen, or in any chat while the terminal is not focused (focus
// reporting: tea.FocusMsg and tea.BlurMsg; a terminal that never reports
// is taken to be focused) — rings the terminal's bell, sends a desktop
// notification (OSC 9, as iTerm2, kitty, WezTerm and foot take it; OSC
// 777, as VTE terminals and urxvt do), and counts in the window title
// (OSC 2), each as switched on. Neither the title nor a desktop
// notification ever holds the text of a message: a title is shown to
// whoever looks at the screen, and desktop notifications are often kept
// in a log; they name the friend only.

// Notify says which of the notifications are on.
type Notify struct {
	Bell   bool // the terminal's bell (BEL)
	Title  bool // the count of unread messages in the window title (OSC 2)
	OSC9   bool // a desktop notification by OSC 9
	OSC777 bool // a desktop notification by OSC 777
}

// DefaultNotify is what is on unless the user says otherwise: the bell and
// the count in the title, which every terminal takes without harm. The
// desktop notifications are off: a terminal that knows neither OSC 9 nor
// OSC 777 may print them (OSC 9 is also ConEmu's progress report).
func DefaultNotify() Notify { return Notify{Bell: true, Title: true} }

// ParseNotify reads a list of notifications, as DHTCHAT_NOTIFY gives it:
// words among bell, title, osc9, osc777 and desktop (both OSCs), separated
// by commas; or none (also off), all, or default ("" too).
func ParseNotify(s string) (Notify, error) {
	switch strings.ToLower(strings.TrimSpace(s)) {
	case "", "default":
		return DefaultNotify(), nil
	case "none", "off":
		return Notify{}, nil
	case "all":
		return Notify{Bell: true, Title: true, OSC9: true, OSC777: true}, nil
	}
	var n Notify
	for _, w := range strings.Split(s, ",") {
		switch strings.ToLower(strings.TrimSpace(w)) {
		case "bell":
			n.Bell = true
		case "title":
			n.Title = true
		case "osc9":
			n.OSC9 = true
		case "osc777":
			n.OSC777 = true
		case "desktop":
			n.OSC9, n.OSC777 = true, true
		default:
			return Notify{}, fmt.Errorf("tui: unknown notification %q (bell, title, osc9, osc777, desktop, all, none)", strings.TrimSpace(w))
		}
	}
	return n, nil
}

// looking reports whether the user sees the messages of chat id as they
// come: it is on screen, in a focused terminal.
func (m *model) looking(id chat.ChatID) bool {
	return m.focused && id == m.open
}

// notifyEvery is the least time between two notifications: a backlog
// delivered in several batches, or a friend typing fast, rings once (the
// title counts them all).
const notifyEvery = 3 * time.Second

// notifyOf is what tells of an incoming message in a chat the user is not
// looking at, the friend of which is shown as name ("" if not known yet).
func (m *model) notifyOf(name string) tea.Cmd {
	now := m.c.now()
	if !m.lastNotify.IsZero() && now.Sub(m.lastNotify) < notifyEvery && now.Sub(m.lastNotify) >= 0 {
		return nil
	}
	m.lastNotify = now
	if name == "" {
		name = "someone new"
	}
	var seq strings.Builder
	if m.notify.Bell {
		seq.WriteByte('\a')
	}
	what := "message from " + notifyText(name)
	if m.notify.OSC9 {
		seq.WriteString(ansi.Notify("dhtchat: " + what))
	}
	if m.notify.OSC777 {
		seq.WriteString("\x1b]777;notify;dhtchat;" + what + "\a")
	}
	if seq.Len() == 0 {
		return nil
	}
	return tea.Raw(seq.String())
}

// notifyText is s without what could end an OSC sequence or add a field
// to one: controls and semicolons.
func notifyText(s string) string {
	return strings.Map(func(r rune) rune {
		if r < 0x20 || r == 0x7f || (r >= 0x80 && r < 0xa0) || r == ';' {
			return -1
		}
		return r
	}, s)
}

// windowTitle is the title of the terminal's window: the number of
// messages not seen yet, if any, and never their text; "" (the title left
// alone) when the title is switched off.
func (m *model) windowTitle() string {
	if !m.notify.Title {
		return ""
	}
	if n := m.list.totalUnread(m.open) + m.unseenHere; n > 0 {
		return fmt.Sprintf("(%d) dhtchat", n)
	}
	return "dhtchat"
}

// onFocus notes that the terminal gained or lost the focus. Back in it,
// the chat on screen is seen.
func (m *model) onFocus(focused bool) tea.Cmd {
	m.focused = focused
	if !focused {
		return nil
	}
	m.unseenHere = 0
	return m.markSeen()
}
