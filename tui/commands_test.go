package tui

import "testing"

// Each command refuses wrong arguments with its usage, whatever name it
// was typed with, and its other names run it.
func TestSlashCommandUsagesAndAliases(t *testing.T) {
	m := newTestModel(t, 80, 24)
	withChats(t, m, "alice")
	for _, tc := range []struct{ line, want string }{
		{"/add bob", "usage: /add NAME PUBKEY"},
		{"/start alice now", "usage: /start NAME [--new]"},
		{"/start", "usage: /start NAME [--new]"},
		{"/respond alice", "usage: /respond NAME CHATKEY"},
		{"/JOIN alice", "usage: /respond NAME CHATKEY"},
		{"/info alice bob", "usage: /info [NAME]"},
		{"/verify alice bob", "usage: /verify [NAME]"},
		{"/unverify alice bob", "usage: /unverify [NAME]"},
		{"/copy it", "usage: /copy key|chat"},
		{"/copy key chat", "usage: /copy key|chat"},
		{"/me", "usage: /me TEXT"},
		{"/msg alice", "usage: /msg NAME TEXT"},
		{"/q", "usage: /query NAME"},
		{"/query alice bob", "usage: /query NAME"},
		{"/clear it", "usage: /clear"},
		{"/close it", "usage: /close"},
	} {
		typeText(m, tc.line)
		send(m, keyEnter)
		if !m.status.isErr || m.status.text != tc.want {
			t.Errorf("%s: status %q, want the error %q", tc.line, m.status.text, tc.want)
		}
		if v, _, _ := draftState(m); v != tc.line {
			t.Errorf("%s: the draft became %q; a refused command stays", tc.line, v)
		}
		m.in.clear(m.in.cur)
	}
	for _, tc := range []struct{ line, title string }{
		{"/help", "Commands"}, {"/h", "Commands"}, {"/keys", "Keys"},
		{"/whoami", "Your public key"},
		{"/friends", "Friends"}, {"/info", "alice · chat info"}, {"/info alice", "alice · chat info"},
	} {
		send(m, keyEsc)
		typeText(m, tc.line)
		send(m, keyEnter)
		if got := panelTitle(m); got != tc.title {
			t.Errorf("%s shows the panel %q, want %q", tc.line, got, tc.title)
		}
	}
	for _, line := range []string{"/quit", "/exit"} {
		m := newTestModel(t, 80, 24)
		typeText(m, line)
		send(m, keyEnter)
		if !m.quitting {
			t.Errorf("%s does not quit", line)
		}
	}
}
