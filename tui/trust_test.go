package tui

import (
	"strings"
	"testing"

	tea "charm.land/bubbletea/v2"

	"github.com/dhtchat/dhtchat/chat"
	"github.com/dhtchat/dhtchat/keyring"
)

// row returns row y of the screen, and the conversation part of it (right
// of the list's border).
func row(m *model, y int) (string, string) {
	r := strings.Split(screen(m), "\n")[y]
	_, conv, _ := strings.Cut(r, "│")
	return r, conv
}

// openTestChat opens chat id as Ctrl+N would.
func openTestChat(m *model, id chat.ChatID) {
	for _, msg := range run(m.openChat(id)) {
		send(m, msg)
	}
}

// The three trust states, as the list and the header show them; all in
// words or marks that survive NO_COLOR (screen strips all styling).
func TestTrustStatesShown(t *testing.T) {
	m := trustScreen(t, 80, 24) // alice: key changed, bob: verified, carol: unverified
	for _, tc := range []struct {
		id                   chat.ChatID
		header, list1, list2 string
		banner               bool
	}{
		{chatID(1), "alice   KEY CHANGED   787a", "▌ alice ", " KEY CHANGED  last fr…", true},
		{chatID(2), "bob ✓ verified  fingerprint", "▌ bob ✓ ", "last from bob", false},
		{chatID(3), "carol  fingerprint 8818 12d6 95d6 0377 d82e  unverified", "▌ carol ", "last from carol", false},
	} {
		openTestChat(m, tc.id)
		send(m, pageMsg{id: tc.id})
		_, head := row(m, 0)
		if !strings.HasPrefix(head, tc.header) {
			t.Errorf("chat %v: header %q, want it to start with %q", tc.id, head, tc.header)
		}
		i := m.list.index(tc.id)
		l1, _ := row(m, 1+2*i)
		l2, _ := row(m, 2+2*i)
		if !strings.HasPrefix(l1, tc.list1) || !strings.Contains(l2, tc.list2) {
			t.Errorf("chat %v: list rows %q / %q, want %q / %q", tc.id, l1, l2, tc.list1, tc.list2)
		}
		_, second := row(m, 1)
		if got := strings.Contains(second, "! KEY CHANGED on 9 Mar"); got != tc.banner {
			t.Errorf("chat %v: banner shown %v, want %v; row 1: %q", tc.id, got, tc.banner, second)
		}
		if l := m.layout(); l.banner != tc.banner || l.histY+l.histH+1 != l.inputY {
			t.Errorf("chat %v: layout %+v", tc.id, l)
		}
	}
	// The ANSI rendering: KEY CHANGED in reverse video, the ✓ in colour.
	openTestChat(m, chatID(1))
	if v := ansi16(m.View().Content); !strings.Contains(v, "\x1b[1;7;31m KEY CHANGED ") {
		t.Errorf("KEY CHANGED is not in reverse video")
	}
}

func TestVerifyAndUnverify(t *testing.T) {
	m := trustScreen(t, 80, 24)
	b := m.book.(*book)
	typeText(m, "/verify")
	send(m, keyEnter)
	if !b.friends[0].Verified || b.friends[0].KeyChange != nil {
		t.Fatalf("/verify in alice's chat: book has %+v", b.friends[0])
	}
	if m.status.isErr || !strings.Contains(m.status.text, "marked alice as verified; the key-change warning is cleared") {
		t.Errorf("status %+v", m.status)
	}
	if _, head := row(m, 0); !strings.HasPrefix(head, "alice ✓ verified") {
		t.Errorf("after /verify the header is %q", head)
	}
	if strings.Contains(screen(m), "KEY CHANGED") || m.layout().banner {
		t.Errorf("the key-change warning stays after /verify:\n%s", screen(m))
	}
	typeText(m, "/unverify")
	send(m, keyEnter)
	if b.friends[0].Verified || m.status.text != "alice is no longer marked as verified" {
		t.Errorf("/unverify: friend %+v, status %+v", b.friends[0], m.status)
	}
	if _, head := row(m, 0); !strings.HasPrefix(head, "alice  fingerprint") || !strings.HasSuffix(head, "  unverified") {
		t.Errorf("after /unverify the header is %q", head)
	}
	// By name, from another chat.
	typeText(m, "/verify carol")
	send(m, keyEnter)
	if !b.friends[2].Verified {
		t.Errorf("/verify carol did not verify carol")
	}
	for _, tc := range []struct{ line, want string }{
		{"/verify zed", "zed is not one of your friends"},
		{"/verify a b", "usage: /verify [NAME]"},
		{"/info zed", "zed is not one of your friends"},
	} {
		typeText(m, tc.line)
		send(m, keyEnter)
		if !m.status.isErr || !strings.Contains(m.status.text, tc.want) {
			t.Errorf("%s: status %+v, want an error with %q", tc.line, m.status, tc.want)
		}
		m.in.clear(m.in.cur) // a refused command stays in the draft
	}
}

// A chat whose key is no friend's (a friend removed, or re-added with
// another key) cannot be verified: there is no name to mark.
func TestVerifyStranger(t *testing.T) {
	m := newTestModel(t, 100, 24)
	_, pk := fixedKey(t, 77)
	send(m, friendsMsg(nil))
	send(m, chatsMsg{{ID: chatID(1), Peer: pk, LastActivity: base}})
	if _, head := row(m, 0); !strings.Contains(head, "not a friend") {
		t.Errorf("header %q", head)
	}
	typeText(m, "/verify")
	send(m, keyEnter)
	if !m.status.isErr || !strings.Contains(m.status.text, "belongs to none of your friends") {
		t.Errorf("status %+v", m.status)
	}
	send(m, keyF2)
	if s := screen(m); !strings.Contains(s, "not one of your friends") || !strings.Contains(s, pk.String()[:30]) {
		t.Errorf("info of a stranger's chat:\n%s", s)
	}
}

// F2, Ctrl+I and Tab (the byte Ctrl+I sends without the kitty keyboard
// protocol) toggle the info view — Tab on an empty draft, or to close it
// (on a draft it completes); Esc closes it; the draft is untouched.
func TestInfoKeys(t *testing.T) {
	m := trustScreen(t, 80, 24)
	send(m, keyTab)
	if _, ok := m.infoShown(); !ok {
		t.Fatalf("tab on an empty draft does not open the info view")
	}
	typeText(m, "draft")
	send(m, keyTab)
	if m.panel != nil {
		t.Errorf("tab again does not close it")
	}
	send(m, keyTab) // completes nothing
	if m.panel != nil {
		t.Errorf("tab on a draft opened the info view")
	}
	for _, k := range []tea.KeyPressMsg{keyF2, keyCtrlI} {
		send(m, k)
		if _, ok := m.infoShown(); !ok {
			t.Fatalf("%s does not open the info view", k)
		}
		if s := screen(m); !strings.Contains(s, "alice · chat info") || !strings.Contains(s, "20141 28901 34007 64409") {
			t.Errorf("%s: info view:\n%s", k, s)
		}
		send(m, k)
		if m.panel != nil {
			t.Errorf("%s again does not close it", k)
		}
	}
	send(m, keyF2)
	send(m, keyEsc)
	if m.panel != nil {
		t.Errorf("esc does not close the info view")
	}
	if v, _, _ := draftState(m); v != "draft" {
		t.Errorf("the draft became %q", v)
	}
	m.in.clear(m.open)
	typeText(m, "/info bob")
	send(m, keyEnter)
	if s := screen(m); !strings.Contains(s, "bob · chat info") || !strings.Contains(s, "✓ verified (numbers compared)") {
		t.Errorf("/info bob:\n%s", s)
	}
	// /verify with the info view of bob open verifies bob, not alice.
	send(m, tea.KeyPressMsg{Code: 'x', Text: "x"}) // the info view stays while typing
	m.in.clear(m.open)
	m.book.(*book).friends[1].Verified = false
	send(m, friendsMsg(m.book.(*book).friends))
	typeText(m, "/verify")
	send(m, keyEnter)
	if f := m.book.(*book).friends; !f[1].Verified || f[0].KeyChange == nil {
		t.Errorf("/verify over bob's info view: %+v", f)
	}
	if s := screen(m); !strings.Contains(s, "You marked bob as verified") {
		t.Errorf("the info view does not show the new state:\n%s", s)
	}
	// No chat open: F2 says how to get there.
	m2 := newTestModel(t, 80, 24)
	send(m2, keyF2)
	if !m2.status.isErr || !strings.Contains(m2.status.text, "/info NAME") {
		t.Errorf("F2 with no chat: %+v", m2.status)
	}
}

// The safety number is the keyring's, computed once per peer.
func TestInfoSafetyNumber(t *testing.T) {
	m := trustScreen(t, 80, 24)
	send(m, keyF2)
	want := keyring.SafetyNumber(m.book.Self(), m.list.items[0].Peer)
	if got := m.safety[m.list.items[0].Peer]; got != want {
		t.Errorf("safety number %q, want %q", got, want)
	}
	if cmd := m.computeSafety(m.list.items[0].Peer); cmd != nil {
		t.Errorf("the safety number is computed again")
	}
}

// On a small screen the info view is taller than the room: PgUp and PgDn
// scroll it, and its title says so.
func TestInfoScrollsWhenSmall(t *testing.T) {
	m := trustScreen(t, 50, 20)
	send(m, keyF2)
	s := screen(m)
	if !strings.Contains(s, "(pgup/pgdn, esc closes)") || !strings.Contains(s, "Status") || strings.Contains(s, "/verify") {
		t.Fatalf("info view at 50x20:\n%s", s)
	}
	send(m, keyPgDown)
	send(m, keyPgDown)
	if s := screen(m); !strings.Contains(s, "type /verify") || !strings.Contains(s, "alice · chat info") {
		t.Errorf("after PgDn:\n%s", s)
	}
	send(m, keyPgUp)
	send(m, keyPgUp)
	if s := screen(m); !strings.Contains(s, "Status") || m.panel == nil {
		t.Errorf("after PgUp:\n%s", s)
	}
	send(m, keyEsc)
	if m.panel != nil {
		t.Errorf("esc does not close the info view")
	}
}
