package tui

import (
	"fmt"
	"strings"

	tea "charm.land/bubbletea/v2"

	"github.com/dhtchat/dhtchat/chat"
	"github.com/dhtchat/dhtchat/internal/userr"
	"github.com/dhtchat/dhtchat/keyring"
)

// Trust on screen (issue 6, "Key verification"): every chat says what the
// user knows about its friend's key. Verified friends get a quiet ✓, the
// unverified a faint word in the header, and a friend whose name came
// back with another key a reverse-video KEY CHANGED in the list, the
// header and a banner over the conversation, until the user verifies the
// new key. The info view (F2, /info) shows the safety number to compare
// and how; /verify and /unverify record the result in the keyring. Every
// state reads as text too, so NO_COLOR loses nothing.

// peer returns the friend of chat id, and false if its key is no friend's.
func (c *common) peer(id chat.ChatID) (keyring.Friend, bool) {
	if v := c.chats[id]; v != nil && v.isFriend {
		return v.friend, true
	}
	return keyring.Friend{}, false
}

// keyChanged reports whether chat id's friend has an unverified new key.
func (c *common) keyChanged(id chat.ChatID) bool {
	f, ok := c.peer(id)
	return ok && f.Trust() == keyring.KeyChanged
}

// keyChangedLabel is the loud label, padded so that reverse video makes a
// block of it.
const keyChangedLabel = " KEY CHANGED "

// listMark is the mark after a friend's name in the chat list: ✓ when
// verified, nothing otherwise (a key change has its own line).
func listMark(st styles, f keyring.Friend, ok bool) string {
	if ok && f.Trust() == keyring.Verified {
		return st.verified.Render(" ✓")
	}
	return ""
}

// trustLabel is the header's word for the trust state of a chat's friend.
func trustLabel(st styles, f keyring.Friend, ok bool) string {
	if !ok {
		return st.unverified.Render("not a friend")
	}
	switch f.Trust() {
	case keyring.Verified:
		return st.verified.Render("✓ verified")
	case keyring.KeyChanged:
		return st.keyChanged.Render(keyChangedLabel)
	}
	return st.unverified.Render("unverified")
}

// headerGap is the space between the name and the trust label in the
// header: the ✓ sits close to the name, the reverse-video block apart.
func headerGap(f keyring.Friend) string {
	if f.Trust() == keyring.Verified {
		return " "
	}
	return "  "
}

// shortTrust is the trust state in the collapsed header, where every
// cell counts: the banner below says the rest.
func shortTrust(st styles, f keyring.Friend, ok bool) string {
	switch {
	case !ok:
		return ""
	case f.Trust() == keyring.Verified:
		return st.verified.Render(" ✓")
	case f.Trust() == keyring.KeyChanged:
		return " " + st.keyChanged.Render(keyChangedLabel)
	}
	return ""
}

// openInfo shows the info view of the friend with key peer, and computes
// the safety number if it is not known yet.
func (m *model) openInfo(peer keyring.PublicKey) tea.Cmd {
	m.show(infoPanel{peer: peer})
	var alerts, seen tea.Cmd
	if i := m.list.index(m.open); i >= 0 && m.list.items[i].Peer.Equal(peer) {
		// The notice of its alerts has done its work: the user is
		// reading them.
		seen = m.seeAlerts(m.open)
		alerts = m.loadAlerts(m.open)
	}
	return tea.Batch(m.computeSafety(peer), m.loadFriends(), alerts, seen)
}

// toggleInfo is the Info key: the info view of the open chat, or closed if
// it is showing.
func (m *model) toggleInfo() tea.Cmd {
	if _, ok := m.infoShown(); ok {
		m.closePanel()
		return m.markSeen()
	}
	i := m.list.index(m.open)
	if i < 0 {
		m.status = status{text: "no chat is open: /info NAME shows a friend's safety number", isErr: true}
		return nil
	}
	return m.openInfo(m.list.items[i].Peer)
}

// computeSafety works out the safety number with peer in a command: it
// takes a few milliseconds of hashing, too long for Update.
func (m *model) computeSafety(peer keyring.PublicKey) tea.Cmd {
	if _, ok := m.safety[peer]; ok {
		return nil
	}
	self := m.book.Self()
	return func() tea.Msg {
		return safetyMsg{peer: peer, number: keyring.SafetyNumber(self, peer)}
	}
}

// friendByKey is the friend holding key pk in the last list loaded.
func (m *model) friendByKey(pk keyring.PublicKey) (keyring.Friend, bool) {
	for _, f := range m.friends {
		if f.Key.Equal(pk) {
			return f, true
		}
	}
	return keyring.Friend{}, false
}

// verifyTarget is the friend /verify and /unverify are about: the one
// named, or that of the info view or the open chat.
func (m *model) verifyTarget(args []string) (keyring.Friend, error) {
	if len(args) == 1 {
		return m.friend(args[0])
	}
	var pk keyring.PublicKey
	info, shown := m.infoShown()
	switch i := m.list.index(m.open); {
	case shown:
		pk = info.peer
	case i >= 0:
		pk = m.list.items[i].Peer
	default:
		return keyring.Friend{}, userr.Usagef("no chat is open: /verify NAME verifies a friend")
	}
	f, ok := m.friendByKey(pk)
	if !ok {
		return keyring.Friend{}, userr.Usagef("this chat's key belongs to none of your friends: /add NAME KEY first (f2 shows the key)")
	}
	return f, nil
}

// setVerified runs /verify (v) or /unverify through the FriendBook.
func (m *model) setVerified(args []string, v bool) tea.Cmd {
	f, err := m.verifyTarget(args)
	if err != nil {
		m.fail(err)
		return nil
	}
	book := m.book
	return func() tea.Msg {
		if err := book.SetVerified(f.Name, v); err != nil {
			return errMsg{err}
		}
		return verifiedMsg{name: f.Name, verified: v, wasChanged: f.KeyChange != nil}
	}
}

// onVerified reports a /verify or /unverify done and reloads the friends,
// whose new state the list, header and info view then show.
func (m *model) onVerified(msg verifiedMsg) tea.Cmd {
	var b strings.Builder
	switch {
	case msg.verified && msg.wasChanged:
		fmt.Fprintf(&b, "marked %s as verified; the key-change warning is cleared", msg.name)
	case msg.verified:
		fmt.Fprintf(&b, "marked %s as verified", msg.name)
	default:
		fmt.Fprintf(&b, "%s is no longer marked as verified", msg.name)
	}
	m.status = status{text: b.String()}
	return m.loadFriends()
}
