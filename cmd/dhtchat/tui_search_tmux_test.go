package main

import (
	"fmt"
	"os/exec"
	"strings"
	"testing"
)

// TestTUISearchAndUnread, with the real binary in tmux at 80×24: Ctrl+F
// finds a message scrolled far off the screen and highlights it, Esc goes
// back to the latest; messages that came while the terminal was not
// focused, more than a page of them, are below the unread marker at the
// top of the chat when the UI runs again (and counted in the chat list
// until read down to the latest), and the
// draft typed in the first run is there in the second, unsent.
func TestTUISearchAndUnread(t *testing.T) {
	t.Parallel()
	requireTmux(t)
	alice, bob := chatPair(t)
	var lines strings.Builder
	for i := 1; i <= 60; i++ {
		if i == 5 {
			fmt.Fprintln(&lines, "a needle in the haystack")
			continue
		}
		fmt.Fprintf(&lines, "line %d of the history\n", i)
	}
	alice.run(t, lines.String(), "send", "bob", "-")

	bin, err := exec.LookPath("dhtchat")
	if err != nil {
		t.Fatal(err)
	}
	tmuxBin, err := exec.LookPath("tmux")
	if err != nil {
		t.Fatal(err)
	}
	term := newTmux(t, 80, 24, []string{
		"DHTCHAT_HOME=" + alice.home,
		"DHTCHAT_BOOTSTRAP=" + alice.bootstrap,
		"DHTCHAT_LISTEN=/ip4/127.0.0.1/tcp/0",
		"DHTCHAT_POLL_INTERVAL=50ms",
		dialTimeoutEnv,
	}, fmt.Sprintf(`%[3]s; echo "FIRST RUN EXITED $?"; %[1]s -L %[2]s wait-for again; %[3]s`, tmuxBin, tmuxSocket(t), bin))
	term.waitText("● online")
	scr := term.waitText("line 60 of the history")
	if strings.Contains(scr, "needle") {
		t.Fatalf("the hit is on screen before the search:\n%s", scr)
	}

	term.keys("C-f")
	term.waitFor("the search prompt", func(s string) bool { return draftLine(s) == "> /search" || draftLine(s) == "> /search " })
	term.typeText("NEEDLE")
	term.keys("Enter")
	scr = term.waitText("a needle in the haystack")
	if !strings.Contains(scr, `"NEEDLE": 1 of 1`) {
		t.Errorf("no hit count in the status bar:\n%s", scr)
	}
	// The hit is in reverse video (capture-pane -e keeps the escapes).
	if esc := term.run("capture-pane", "-p", "-e"); !strings.Contains(esc, ";7mneedle\x1b[0m") {
		t.Errorf("the hit is not highlighted:\n%q", esc)
	}
	term.keys("Escape")
	term.waitFor("back at the latest message", func(s string) bool {
		return !strings.Contains(s, "needle") && strings.Contains(s, "line 60 of the history")
	})

	// Away (the terminal's focus-out report, CSI O): bob's messages are
	// not marked read.
	term.run("send-keys", "-H", "1b", "5b", "4f")
	// More than a page (200) of them: the UI loads back to the first.
	const away = 230
	var awayLines strings.Builder
	for i := 1; i <= away; i++ {
		fmt.Fprintf(&awayLines, "while you were away %d\n", i)
	}
	bob.run(t, awayLines.String(), "send", "alice", "-")
	term.waitText(fmt.Sprint("while you were away ", away))
	const draft = "a draft to finish later"
	term.typeText(draft)
	term.waitFor("the draft", func(s string) bool { return draftLine(s) == "> "+draft })
	term.keys("C-c")
	term.waitText("ctrl+c again")
	term.keys("C-c")
	term.waitText("FIRST RUN EXITED 0")

	term.run("wait-for", "-S", "again")
	scr = term.waitText("── unread ──")
	rows := strings.Split(scr, "\n")
	marker := -1
	for i, r := range rows {
		if strings.Contains(r, "── unread ──") {
			marker = i
		}
	}
	if marker < 0 || marker+1 >= len(rows) || !strings.Contains(rows[marker+1], "while you were away 1") {
		t.Errorf("no unread marker right above the first message that came while away:\n%s", scr)
	}
	if !strings.Contains(scr, fmt.Sprintf("bob (%d)", away)) {
		t.Errorf("the chat list does not count %d unread:\n%s", away, scr)
	}
	// Down to the latest: all read, the count goes.
	term.keys("Escape")
	term.waitFor("the latest message and no unread count", func(s string) bool {
		return strings.Contains(s, fmt.Sprint("while you were away ", away)) && !strings.Contains(s, "bob (")
	})
	term.waitFor("the draft of the first run", func(s string) bool { return draftLine(s) == "> "+draft })
	term.keys("C-c")
	term.waitText("ctrl+c again")
	term.keys("C-c")
	term.waitText("EXITED 0")
	// The draft was never sent.
	if out := alice.run(t, "", "search", "bob", "draft to finish"); out != "" {
		t.Errorf("the draft was sent:\n%s", out)
	}
}
