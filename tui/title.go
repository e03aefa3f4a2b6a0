package tui

import (
	"fmt"

	"github.com/charmbracelet/x/ansi"

	"github.com/dhtchat/dhtchat/chat"
	"github.com/dhtchat/dhtchat/keyring"
)

// titleView is the conversation's top row: who it is with, whether their
// key is verified, and its fingerprint if there is room.
func (m *model) titleView(l layout) string {
	st := m.c.styles
	if m.open == (chat.ChatID{}) {
		return st.title.Render("dhtchat")
	}
	f, ok := m.c.peer(m.open)
	i := m.list.index(m.open)
	paused := ""
	if i >= 0 {
		if label := pausedLabel(m.list.items[i]); label != "" {
			paused = " " + st.warn.Render(label)
		}
	}
	if i >= 0 && l.collapsed && len(m.list.items) > 1 {
		t := st.title.Render(m.c.chats.name(m.open))
		if tag := m.c.chats.at(m.open).tag; tag != "" {
			t += st.dim.Render(" " + tag)
		}
		t += paused + shortTrust(st, f, ok) + st.dim.Render(fmt.Sprintf("  (%d/%d, ctrl+n/p)", i+1, len(m.list.items)))
		if n := m.list.totalUnread(m.open); n > 0 {
			t += st.unread.Render(fmt.Sprintf(" %d unread", n))
		}
		return t
	}
	// A verified or changed key is said first; the quiet states come
	// after the fingerprint, when there is room.
	t := st.title.Render(m.c.chats.name(m.open))
	if tag := m.c.chats.at(m.open).tag; tag != "" {
		t += st.dim.Render(" " + tag)
	}
	t += paused
	loud := ok && f.Trust() != keyring.Unverified
	if loud {
		t += headerGap(f) + trustLabel(st, f, ok)
	}
	if i >= 0 {
		fp := m.list.items[i].Peer.Fingerprint()
		for _, s := range []string{"  fingerprint " + fp, "  " + fp} {
			if ansi.StringWidth(t)+ansi.StringWidth(s) <= l.convW {
				t += st.dim.Render(s)
				break
			}
		}
	}
	if q := "  " + trustLabel(st, f, ok); !loud && ansi.StringWidth(t)+ansi.StringWidth(q) <= l.convW {
		t += q
	}
	return t
}

// bannerView is the one-line warning over a conversation whose friend's
// key changed, width cells wide: the longest wording that fits.
func (m *model) bannerView(width int) string {
	f, _ := m.c.peer(m.open)
	when := ""
	if f.KeyChange != nil {
		when = " on " + f.KeyChange.ChangedAt.In(m.c.loc).Format("2 Jan")
	}
	name := m.c.chats.name(m.open)
	text := ""
	for _, s := range []string{
		fmt.Sprintf(" ! KEY CHANGED%s: is this still %s? Verify: f2 or /info", when, name),
		fmt.Sprintf(" ! KEY CHANGED%s: verify with f2 or /info", when),
		" ! KEY CHANGED: verify with f2 or /info",
		" ! KEY CHANGED: f2",
	} {
		text = s
		if ansi.StringWidth(s) <= width {
			break
		}
	}
	return m.c.styles.keyChanged.Render(fit(text, width))
}
