package main

import (
	"os/exec"
	"strings"
	"testing"
)

// TestTUILiveSignals: two full-screen chats on the live path. While alice
// types, bob's status line says so; her message replaces it; bob has it
// on screen, so alice's message gets the read mark.
func TestTUILiveSignals(t *testing.T) {
	t.Parallel()
	requireTmux(t)
	alice, bob := chatPair(t)
	bin, err := exec.LookPath("dhtchat")
	if err != nil {
		t.Fatal(err)
	}
	ui := func(u *cliUser) *tmux {
		return newTmuxOn(t, tmuxSocket(t)+"-"+u.name, 100, 30, []string{
			"DHTCHAT_HOME=" + u.home,
			"DHTCHAT_BOOTSTRAP=" + u.bootstrap,
			"DHTCHAT_LISTEN=/ip4/127.0.0.1/tcp/0",
			"DHTCHAT_POLL_INTERVAL=50ms",
			dialTimeoutEnv,
		}, bin)
	}
	at, bt := ui(alice), ui(bob)
	at.waitText("online · live")
	bt.waitText("online · live")

	at.typeText("hello over the live path")
	bt.waitText("alice is typing…")
	at.keys("Enter")
	bt.waitFor("alice's message, and no typing", func(s string) bool {
		return strings.Contains(s, "hello over the live path") && !strings.Contains(s, "is typing")
	})
	// On bob's screen, scrolled to, his terminal focused: read.
	at.waitFor("the read mark", func(s string) bool {
		for l := range strings.Lines(s) {
			if strings.Contains(l, "hello over the live path") {
				return strings.Contains(l, "✔✔")
			}
		}
		return false
	})
}
