package tui

import (
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/charmbracelet/x/ansi"

	"github.com/dhtchat/dhtchat/chat"
	"github.com/dhtchat/dhtchat/internal/textsafe"
	"github.com/dhtchat/dhtchat/keyring"
)

// listWidth is the width of the chat list beside the conversation, and
// collapseBelow the terminal width under which the list is hidden (Ctrl+N
// and Ctrl+P still switch chats).
const (
	listWidth     = 24
	collapseBelow = 60
)

// chatList is the list of chats, the most recently active first.
type chatList struct {
	items []chat.Info
	top   int // first item shown, to keep the current one in view
}

// set replaces the items, with no unread count for chat open if the user
// is reading it (at its latest message): the store's count, which is
// what the unread marker shows, until the store hears that it was read.
func (l chatList) set(infos []chat.Info, open chat.ChatID, reading bool) chatList {
	l.items = slices.Clone(infos)
	for i := range l.items {
		if l.items[i].ID == open && reading {
			l.items[i].Unread = 0
		}
	}
	return l
}

func (l chatList) index(id chat.ChatID) int {
	return slices.IndexFunc(l.items, func(in chat.Info) bool { return in.ID == id })
}

// next returns the chat delta places after id, wrapping around.
func (l chatList) next(id chat.ChatID, delta int) (chat.ChatID, bool) {
	if len(l.items) == 0 {
		return chat.ChatID{}, false
	}
	i := l.index(id)
	if i < 0 {
		return l.items[0].ID, true
	}
	n := len(l.items)
	return l.items[((i+delta)%n+n)%n].ID, true
}

// touch records activity in chat e.Chat: its last text and time, and one
// more unread message unless it is open. It moves the chat to the top.
func (l chatList) touch(e chat.Entry, open chat.ChatID) chatList {
	i := l.index(e.Chat)
	if i < 0 {
		return l
	}
	in := l.items[i]
	in.LastText = e.Body
	in.LastActivity = e.SentAt
	if !e.Outgoing && e.ReceivedAt.After(e.SentAt) {
		in.LastActivity = e.ReceivedAt
	}
	if !e.Outgoing && e.Chat != open {
		in.Unread++
	}
	l.items = slices.Delete(l.items, i, i+1)
	l.items = slices.Insert(l.items, 0, in)
	return l
}

// markRead sets chat id's unread count to zero.
func (l chatList) markRead(id chat.ChatID) chatList {
	if i := l.index(id); i >= 0 {
		l.items[i].Unread = 0
	}
	return l
}

// totalUnread is the number of unread messages in chats other than open.
func (l chatList) totalUnread(open chat.ChatID) int {
	n := 0
	for _, in := range l.items {
		if in.ID != open {
			n += in.Unread
		}
	}
	return n
}

// listShown is how many chats a list height rows tall shows: two rows
// each, under its title and over a blank row and the network state.
func listShown(height int) int { return max((height-3)/2, 1) }

// scrollTo moves the list as little as it must for chat open to be among
// the shown at the top. Update calls it, so that where the list is
// scrolled persists from frame to frame, and a click finds what was drawn.
func (l *chatList) scrollTo(open chat.ChatID, shown int) {
	cur := max(l.index(open), 0)
	l.top = max(min(l.top, cur, len(l.items)-shown), 0)
	if cur >= l.top+shown {
		l.top = cur - shown + 1
	}
}

// view renders the list in width × height: two rows per chat (name,
// unread count and time; the last message), then the network state.
// alerted says which chats have alerts not looked at yet.
func (l chatList) view(c *common, open chat.ChatID, net string, width, height int, alerted func(chat.ChatID) bool) []string {
	st := c.styles
	rows := make([]string, 0, height)
	rows = append(rows, st.title.Render("Chats"))
	shown := listShown(height)
	if len(l.items) == 0 {
		rows = append(rows, st.dim.Render("no chats yet"), st.dim.Render("/start NAME"))
	}
	for i := l.top; i < len(l.items) && i < l.top+shown; i++ {
		in := l.items[i]
		name := c.chats.name(in.ID)
		f, isFriend := c.peer(in.ID)
		mark := listMark(st, f, isFriend)
		if tag := c.chats.at(in.ID).tag; tag != "" {
			mark += st.dim.Render(" " + tag)
		}
		right := shortTime(in.LastActivity.In(c.loc), c.now().In(c.loc))
		badge := ""
		if in.Unread > 0 {
			badge = fmt.Sprintf(" (%d)", in.Unread)
		}
		nameW := width - 2 - ansi.StringWidth(right) - 1 - ansi.StringWidth(badge) - ansi.StringWidth(mark)
		line1 := ansi.Truncate(name, max(nameW, 1), "…")
		gap := width - 2 - ansi.StringWidth(line1) - ansi.StringWidth(mark) - ansi.StringWidth(badge) - ansi.StringWidth(right)
		last := textsafe.OneLine(in.LastText)
		if a, ok := actionText(last); ok {
			last = "* " + a
		}
		if in.LastText == "" {
			last = "new chat, no messages"
		}
		text := st.dim.Render(ansi.Truncate(last, width-2, "…"))
		label := pausedLabel(in)
		if alerted != nil && alerted(in.ID) {
			label = "ALERT" // loudest: it says something went wrong
		}
		if label != "" {
			// Before a key change: nothing flows in it anyway. In words,
			// for NO_COLOR.
			text = st.warn.Render(label)
			if label == "ALERT" {
				text = st.keyChanged.Render(label)
			}
			if rest := width - 2 - len(label) - 1; rest > 0 {
				text += " " + st.dim.Render(ansi.Truncate(last, rest, "…"))
			}
		} else if isFriend && f.Trust() == keyring.KeyChanged {
			// Loud, and in words: it survives NO_COLOR.
			text = st.keyChanged.Render(keyChangedLabel)
			if rest := width - 2 - len(keyChangedLabel) - 1; rest > 0 {
				text += " " + st.dim.Render(ansi.Truncate(textsafe.OneLine(in.LastText), rest, "…"))
			}
		}
		marker := "  "
		nameSt := st.title
		if in.ID == open {
			marker = "▌ "
			nameSt = st.selected.Bold(true)
		}
		l1 := marker + nameSt.Render(line1) + mark + st.unread.Render(badge) + strings.Repeat(" ", max(gap, 1)) + st.dim.Render(right)
		l2 := "  " + text
		rows = append(rows, l1, l2)
	}
	for len(rows) < height-1 {
		rows = append(rows, "")
	}
	return append(rows[:height-1], net)
}

// shortTime is a time in a list: the time today, else the day.
func shortTime(t, now time.Time) string {
	if t.IsZero() {
		return ""
	}
	y, m, d := t.Date()
	ny, nm, nd := now.Date()
	switch {
	case y == ny && m == nm && d == nd:
		return t.Format("15:04")
	case now.Sub(t) < 6*24*time.Hour:
		return t.Format("Mon")
	case y == ny:
		return t.Format("2 Jan")
	}
	return t.Format("Jan 2006")
}
