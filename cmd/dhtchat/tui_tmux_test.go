package main

import (
	"fmt"
	"os"
	"os/exec"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/dhtchat/dhtchat/internal/testwait"
)

// tmux runs the real dhtchat in a real terminal: a tmux server of its own
// (-L with a name unique to the test), driven with send-keys and read with
// capture-pane.
type tmux struct {
	t      *testing.T
	socket string
}

// requireTmux skips the test without tmux, except in CI, where the test
// must run; and with -short, since a terminal test is a slow one.
func requireTmux(t *testing.T) {
	t.Helper()
	if testing.Short() {
		t.Skip("dhtchat in a real terminal: slow, skipped with -short")
	}
	if _, err := exec.LookPath("tmux"); err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatal("tmux is required for the terminal tests in CI")
		}
		t.Skip("tmux not installed: skipping the test in a real terminal")
	}
}

var unsafeName = regexp.MustCompile(`[^A-Za-z0-9]+`)

// newTmux starts command (a shell command line) in a w×h terminal with env
// added to its environment. When the command exits, the pane prints
// "EXITED <status>" and stays, so that the test can read the end.
func newTmux(t *testing.T, w, h int, env []string, command string) *tmux {
	t.Helper()
	requireTmux(t)
	s := &tmux{t: t, socket: fmt.Sprintf("dhtchat-%d-%s", os.Getpid(), unsafeName.ReplaceAllString(t.Name(), "-"))}
	args := []string{"new-session", "-d", "-x", fmt.Sprint(w), "-y", fmt.Sprint(h)}
	for _, kv := range env {
		args = append(args, "-e", kv)
	}
	args = append(args, command+`; echo "EXITED $?"; sleep 3600`)
	s.run(args...)
	t.Cleanup(func() { _ = exec.Command("tmux", "-L", s.socket, "kill-server").Run() })
	return s
}

func (s *tmux) run(args ...string) string {
	s.t.Helper()
	out, err := exec.Command("tmux", append([]string{"-L", s.socket, "-f", "/dev/null"}, args...)...).CombinedOutput()
	if err != nil {
		s.t.Fatalf("tmux %s: %v\n%s", strings.Join(args, " "), err, out)
	}
	return string(out)
}

// screen is what the terminal shows now.
func (s *tmux) screen() string { return s.run("capture-pane", "-p") }

// cursor is the terminal cursor's position.
func (s *tmux) cursor() string {
	return strings.TrimSpace(s.run("display-message", "-p", "#{cursor_x},#{cursor_y}"))
}

// waitFor polls the screen until ok accepts it, and returns it.
func (s *tmux) waitFor(what string, ok func(screen string) bool) string {
	s.t.Helper()
	var scr string
	if err := testwait.Poll(testwait.Context(s.t), func() bool {
		scr = s.screen()
		return ok(scr)
	}); err != nil {
		s.t.Fatalf("gave up waiting for %s (%v); the screen is:\n%s", what, err, scr)
	}
	return scr
}

func (s *tmux) waitText(text string) string {
	s.t.Helper()
	return s.waitFor(fmt.Sprintf("%q on screen", text), func(scr string) bool { return strings.Contains(scr, text) })
}

// typeText types text literally; keys sends key names (Enter, C-c…).
func (s *tmux) typeText(text string) { s.run("send-keys", "-l", text) }
func (s *tmux) keys(keys ...string)  { s.run(append([]string{"send-keys"}, keys...)...) }

// draftLine is the row of the screen with the input prompt.
func draftLine(scr string) string {
	for l := range strings.Lines(scr) {
		if _, rest, ok := strings.Cut(l, "│"); ok && strings.HasPrefix(rest, "> ") {
			return strings.TrimRight(rest, " \n")
		}
		if strings.HasPrefix(l, "> ") {
			return strings.TrimRight(l, " \n")
		}
	}
	return ""
}

// TestTUIEndToEnd: alice uses the full-screen chat in a real terminal on a
// loopback DHT while bob uses the commands. A half-typed draft survives 5
// incoming messages and a resize, cursor included; finished and sent, it
// reaches bob exactly.
func TestTUIEndToEnd(t *testing.T) {
	t.Parallel()
	requireTmux(t)
	boot := loopbackNetwork(t)
	alice, bob := newCLIUser(t, "alice", boot), newCLIUser(t, "bob", boot)
	befriend(t, alice, bob)
	t0 := time.Now()
	startCLIChat(t, bob, alice)
	t.Logf("setup took %v", time.Since(t0))

	bin, err := exec.LookPath("dhtchat")
	if err != nil {
		t.Fatal(err)
	}
	term := newTmux(t, 100, 30, []string{
		"DHTCHAT_HOME=" + alice.home,
		"DHTCHAT_BOOTSTRAP=" + boot,
		"DHTCHAT_LISTEN=/ip4/127.0.0.1/tcp/0",
		"DHTCHAT_POLL_INTERVAL=50ms",
		dialTimeoutEnv,
	}, bin)
	term.waitText("● online")
	term.waitText("bob  fingerprint")

	const half = "half-typed: ünïcode, 日本, quotes \"'$HOME"
	term.typeText(half)
	term.waitFor("the draft", func(s string) bool { return draftLine(s) == "> "+half })
	cursor := term.cursor()

	var incoming strings.Builder
	for i := 1; i <= 5; i++ {
		fmt.Fprintf(&incoming, "incoming %d from bob\n", i)
	}
	t0 = time.Now()
	bob.run(t, incoming.String(), "send", "alice", "-")
	t.Logf("send took %v", time.Since(t0))
	scr := term.waitText("incoming 5 from bob")
	if got := draftLine(scr); got != "> "+half {
		t.Fatalf("after 5 incoming messages the draft line is %q, want %q\n%s", got, "> "+half, scr)
	}
	if got := term.cursor(); got != cursor {
		t.Errorf("after 5 incoming messages the cursor is at %s, was at %s", got, cursor)
	}

	term.run("resize-window", "-x", "70", "-y", "24")
	term.waitFor("the resized screen", func(s string) bool {
		lines := strings.Split(strings.TrimRight(s, "\n"), "\n")
		return len(lines) <= 24 && strings.Contains(s, "incoming 5 from bob") && draftLine(s) == "> "+half
	})

	const rest = " — and finished after the resize"
	term.typeText(rest)
	term.waitText("the resize")
	term.keys("Enter")
	term.waitFor("the draft cleared", func(s string) bool {
		d := draftLine(s)
		return d == "> Write a message; /help for commands" || d == ">"
	})

	t0 = time.Now()
	checkLines(t, recvAll(t, bob, "alice", 1), "alice", []string{half + rest})
	t.Logf("recv took %v", time.Since(t0))
	// Bob's recv acknowledged it: alice sees it delivered.
	term.waitText("✓✓")

	term.keys("C-c")
	scr = term.waitText("EXITED 0")
	if strings.Contains(scr, "incoming 5") {
		t.Errorf("the chat is still on the screen after quitting: the terminal was not restored\n%s", scr)
	}
}
