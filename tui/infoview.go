package tui

import (
	"fmt"
	"time"

	"github.com/dhtchat/dhtchat/chat"
	"github.com/dhtchat/dhtchat/keyring"
)

// The info view (f2, /info; see trust.go): what the user knows of a
// friend's key, the safety number to compare, and the chat's alerts and
// key.

// infoView is the title and lines of the info view of peer.
func (m *model) infoView(peer keyring.PublicKey) (string, []string) {
	st := m.c.styles
	f, ok := m.friendByKey(peer)
	name := m.nameOf(peer)
	at := func(t time.Time) string { return t.In(m.c.loc).Format("2 Jan 2006 15:04") }
	var lines []string
	row := func(label, value string) { lines = append(lines, fmt.Sprintf("%-12s %s", label, value)) }
	switch {
	case !ok:
		row("Status", st.unverified.Render("not one of your friends"))
	case f.Trust() == keyring.KeyChanged:
		changed := ""
		if f.KeyChange != nil {
			changed = " " + st.err.Render("on "+at(f.KeyChange.ChangedAt))
		}
		row("Status", st.keyChanged.Render(keyChangedLabel)+changed)
	case f.Trust() == keyring.Verified:
		row("Status", st.verified.Render("✓ verified")+" (numbers compared)")
	default:
		row("Status", "unverified: safety number not compared")
	}
	row("Fingerprint", peer.Fingerprint())
	if ok && f.KeyChange != nil {
		row("Old key", f.KeyChange.OldKey.Fingerprint())
	}
	row("Public key", peer.String())
	row("Yours", m.book.Self().Fingerprint())
	lines = append(lines, "")
	safety, known := m.safety[peer]
	if !known {
		row("Safety", "computing…")
	} else {
		for i, l := range keyring.SafetyNumberLines(safety) {
			label := []string{"Safety", "number", ""}[min(i, 2)]
			row(label, st.title.Render(l))
		}
	}
	lines = append(lines, "")
	switch {
	case !ok:
		lines = append(lines, "This chat's key belongs to none of your friends: it may be a friend's old key. /add NAME with the key above to verify it.")
	case f.Trust() == keyring.KeyChanged:
		lines = append(lines,
			fmt.Sprintf("%s had another key before: someone else may be using the name. Compare the safety number with %s in person or on a call where you know their voice. If every digit matches, type /verify.", name, name))
	case f.Trust() == keyring.Verified:
		lines = append(lines, fmt.Sprintf("You marked %s as verified. /unverify removes the mark.", name))
	default:
		lines = append(lines,
			fmt.Sprintf("Compare the safety number with %s in person or on a call where you know their voice: their info view shows the same digits. If every digit matches, type /verify.", name))
	}
	// Last, the alerts of the chat on screen and its key, to give again
	// (it is not secret): what the friend joins with, shown when it was
	// started.
	if i := m.list.index(m.open); i >= 0 && m.list.items[i].Peer.Equal(peer) {
		lines = append(lines, m.alertLines(m.open)...)
		if k, ok := m.c.chats.key(m.open); ok {
			lines = append(lines, "")
			row("Chat key", k.String())
			lines = append(lines, "Your friend joins this chat with its key: /copy chat copies it.")
		}
	}
	return name + " · chat info", lines
}

// alertLines are the alerts of chat id for the info view.
func (m *model) alertLines(id chat.ChatID) []string {
	as := m.c.chats.at(id).alerts
	if len(as) == 0 {
		return nil
	}
	st := m.c.styles
	lines := []string{"", st.err.Render(plural(len(as), "alert")) + " in this chat:"}
	for _, a := range as {
		lines = append(lines, a.At.In(m.c.loc).Format("2 Jan 15:04")+"  "+a.String())
	}
	return lines
}
