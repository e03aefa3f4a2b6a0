package main

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"golang.org/x/sys/unix"

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

// tmuxSocket is the name of the tmux server of test t (tmux -L).
func tmuxSocket(t *testing.T) string {
	return fmt.Sprintf("dhtchat-%d-%s", os.Getpid(), unsafeName.ReplaceAllString(t.Name(), "-"))
}

// newTmux starts command (a shell command line) in a w×h terminal with env
// added to its environment. When the command exits, the pane prints
// "EXITED <status>" and stays, so that the test can read the end.
func newTmux(t *testing.T, w, h int, env []string, command string) *tmux {
	t.Helper()
	return newTmuxOn(t, tmuxSocket(t), w, h, env, command)
}

// newTmuxOn is newTmux on the tmux server named socket: a test with two
// terminals gives each its own.
func newTmuxOn(t *testing.T, socket string, w, h int, env []string, command string) *tmux {
	t.Helper()
	requireTmux(t)
	s := &tmux{t: t, socket: socket}
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

// checkFrom checks that got are the messages want from from, numbered
// from first on, in order, each once and intact.
func checkFrom(t *testing.T, got []recvLine, from string, first uint64, want []string) {
	t.Helper()
	if len(got) != len(want) {
		var texts []string
		for _, r := range got {
			texts = append(texts, r.Text)
		}
		t.Fatalf("got %d messages %.300q, want %d %.300q", len(got), texts, len(want), want)
	}
	for i, r := range got {
		if r.N != first+uint64(i) || r.Text != want[i] || r.From != from {
			t.Fatalf("message %d = {n:%d from:%s text:%.60q}, want {n:%d from:%s text:%.60q}", i, r.N, r.From, r.Text, first+uint64(i), from, want[i])
		}
	}
}

// rawMode reports whether the terminal of the pane is out of cooked mode:
// dhtchat took it (it echoes nothing, and reads keys as typed).
func (s *tmux) rawMode() bool {
	s.t.Helper()
	tty, err := os.Open(strings.TrimSpace(s.run("display-message", "-p", "#{pane_tty}")))
	if err != nil {
		s.t.Fatal(err)
	}
	defer tty.Close()
	cmd := exec.Command("stty", "-a")
	cmd.Stdin = tty
	out, err := cmd.Output()
	if err != nil {
		s.t.Fatalf("stty -a: %v", err)
	}
	return regexp.MustCompile(`(^|\s)-echo(\s|$)`).Match(out) && regexp.MustCompile(`(^|\s)-icanon(\s|$)`).Match(out)
}

// lockKeyring takes the lock of the keyring in home as a writer would,
// and returns how to release it: until then dhtchat waits to read it.
func lockKeyring(t *testing.T, home string) (unlock func()) {
	t.Helper()
	f, err := os.OpenFile(filepath.Join(home, ".keyring.lock"), os.O_RDWR|os.O_CREATE, 0o600)
	if err != nil {
		t.Fatal(err)
	}
	if err := unix.Flock(int(f.Fd()), unix.LOCK_EX); err != nil {
		t.Fatal(err)
	}
	var once sync.Once
	unlock = func() {
		once.Do(func() {
			unix.Flock(int(f.Fd()), unix.LOCK_UN)
			f.Close()
		})
	}
	t.Cleanup(unlock)
	return unlock
}

// TestTUIEndToEnd: alice uses the full-screen chat in a real terminal on a
// loopback DHT while bob uses the commands. It checks, in order, with one
// network, pair and terminal:
//   - keys typed before the program started (the terminal still cooked),
//     Enter included, and right after, are sent exactly;
//   - lines typed faster than the program reads, and the letters typed
//     on while it asks about them, are sent as typed;
//   - a half-typed draft survives 5 incoming messages and a resize, cursor
//     included; finished and sent, it reaches bob exactly;
//   - a message may start with "?";
//   - lines typed faster than the program reads (one tmux send-keys of
//     three lines, then of 200) ask once, then each line is one message,
//     in order, each once and intact;
//   - a 10-line paste without bracketed-paste markers (tmux paste-buffer
//     without -p) goes as 10 messages, or as one of 10 lines;
//   - started again on an encrypted keyring, lines typed while it starts
//     (it took the terminal, and waits for the keyring, decrypts it, joins
//     the network) arrive together, and are sent exactly as typed.
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
	tmuxBin, err := exec.LookPath("tmux")
	if err != nil {
		t.Fatal(err)
	}
	// The program waits for a signal before it starts, so that keys can
	// be typed first, into the terminal in its cooked mode; and runs a
	// second time on another signal.
	const passphrase = "DHTCHAT_PASSPHRASE=correct horse"
	term := newTmux(t, 100, 30, []string{
		"DHTCHAT_HOME=" + alice.home,
		"DHTCHAT_BOOTSTRAP=" + boot,
		"DHTCHAT_LISTEN=/ip4/127.0.0.1/tcp/0",
		"DHTCHAT_POLL_INTERVAL=50ms",
		passphrase,
		dialTimeoutEnv,
	}, fmt.Sprintf(`%[1]s -L %[2]s wait-for start-dhtchat; %[3]s; echo "FIRST RUN EXITED $?"; %[1]s -L %[2]s wait-for again; %[3]s`, tmuxBin, tmuxSocket(t), bin))
	n := uint64(1) // the number of alice's next message
	expect := func(what string, want ...string) {
		t.Helper()
		t0 := time.Now()
		checkFrom(t, recvAll(t, bob, "alice", len(want)), "alice", n, want)
		n += uint64(len(want))
		t.Logf("%s: bob received %d messages in %v", what, len(want), time.Since(t0))
	}
	emptyDraft := func(s string) bool {
		d := draftLine(s)
		return d == "> Write a message; /help for commands" || d == ">"
	}

	// Typeahead: before the program runs, and while it starts.
	term.keys("early bird", "Enter", "?early", "Enter", "half")
	term.run("wait-for", "-S", "start-dhtchat")
	term.keys(" done", "Enter")
	term.waitText("● online")
	term.waitText("bob  fingerprint")
	expect("typeahead", "early bird", "?early", "half done")
	term.waitFor("the draft empty after the typeahead", emptyDraft)

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
	term.waitFor("the draft cleared", emptyDraft)
	expect("the draft", half+rest)
	// Bob's recv acknowledged it: alice sees it delivered.
	term.waitText("✓✓")
	term.run("resize-window", "-x", "100", "-y", "30")

	// "?" is text, even first.
	term.typeText("?is this a question")
	term.keys("Enter")
	expect("a message starting with ?", "?is this a question")

	// Notifications: a message while the terminal is not focused rings
	// the bell and counts in the title, which never shows its text; back
	// in focus, the count goes. tmux has no client here to report focus:
	// the test types the terminal's focus reports (CSI O, CSI I).
	paneTitle := func() string { return strings.TrimSpace(term.run("display-message", "-p", "#{pane_title}")) }
	bell := func() string { return strings.TrimSpace(term.run("display-message", "-p", "#{window_bell_flag}")) }
	if got := paneTitle(); got != "dhtchat" {
		t.Errorf("the title is %q, want %q", got, "dhtchat")
	}
	if got := bell(); got != "0" {
		t.Errorf("the bell rang for messages seen (bell flag %s)", got)
	}
	term.run("send-keys", "-H", "1b", "5b", "4f")
	bob.run(t, "while you were away\n", "send", "alice", "-")
	term.waitText("while you were away")
	if err := testwait.Poll(testwait.Context(t), func() bool { return paneTitle() == "(1) dhtchat" }); err != nil {
		t.Fatalf("the title is %q, want %q", paneTitle(), "(1) dhtchat")
	}
	if got := bell(); got != "1" {
		t.Errorf("no bell for a message while away (bell flag %s)", got)
	}
	term.run("send-keys", "-H", "1b", "5b", "49")
	if err := testwait.Poll(testwait.Context(t), func() bool { return paneTitle() == "dhtchat" }); err != nil {
		t.Fatalf("back in focus, the title is %q, want %q", paneTitle(), "dhtchat")
	}

	// Tab completes a command, and a friend's name.
	term.typeText("/wh")
	term.keys("Tab")
	term.waitFor("the command completed", func(s string) bool { return draftLine(s) == "> /whoami" })
	term.keys("Enter")
	scr = term.waitText("Your public key")
	// The key is whole on one row, to be selected and copied.
	if !regexp.MustCompile(`dhtchat1[02-9ac-hj-np-z]{58}`).MatchString(scr) {
		t.Errorf("the public key is not whole on one row:\n%s", scr)
	}
	term.keys("Escape")
	// Esc and a letter at once would be Alt+letter.
	term.waitFor("the panel closed", func(s string) bool { return !strings.Contains(s, "Your public key") })
	term.typeText("see b")
	term.keys("Tab")
	term.waitFor("the name completed", func(s string) bool { return draftLine(s) == "> see bob" })
	term.keys("Enter")
	expect("a name completed", "see bob")

	// A URL is never cut where it fits a row (ansi.Wrap cut at hyphens).
	const url = "https://example.org/a-long-path/with-hyphens-in-it"
	bob.run(t, "have a look at this page: "+url+" ok\n", "send", "alice", "-")
	scr = term.waitText("have a look")
	if !strings.Contains(scr, url) {
		t.Errorf("the URL is not whole on one row:\n%s", scr)
	}

	// IRC habits: /me is an action, /q does not quit.
	term.typeText("/me waves")
	term.keys("Enter")
	expect("an action", "/me waves")
	term.waitText("*        you waves")
	term.typeText("/q")
	term.keys("Enter")
	term.waitText("usage: /query NAME")
	term.keys("C-u")
	term.waitFor("the draft empty after /q", emptyDraft)

	// Ctrl+X discards the draft, and brings it back.
	term.typeText("a doomed draft")
	term.waitFor("the draft typed", func(s string) bool { return draftLine(s) == "> a doomed draft" })
	term.keys("C-x")
	term.waitFor("the draft discarded", emptyDraft)
	term.keys("C-x")
	term.waitFor("the draft back", func(s string) bool { return draftLine(s) == "> a doomed draft" })
	term.keys("C-x")
	term.waitFor("the draft discarded again", emptyDraft)

	// Typing on while it asks about lines that came at once: they were
	// typed, and so are the letters after them (no letter answers).
	term.keys("see you", "Enter", "to")
	term.waitText("2 lines pasted · enter: 2 messages · ctrl+o: one message")
	for _, k := range []string{"m", "o", "r", "r", "o", "w", "Enter"} {
		term.keys(k)
	}
	expect("typing on while it asks", "see you", "tomorrow")

	// Lines faster than the program reads them: one question, then one
	// message each.
	term.keys("one", "Enter", "two", "Enter", "three", "Enter")
	term.waitText("3 lines pasted · enter: 3 messages")
	term.keys("Enter")
	expect("three lines at once", "one", "two", "three")

	var lines []string
	args := []string{"send-keys"}
	for i := 1; i <= 200; i++ {
		lines = append(lines, fmt.Sprintf("line %03d of 200: the quick brown fox", i))
		args = append(args, lines[i-1], "Enter")
	}
	term.run(args...)
	term.waitText("200 lines pasted · enter: 200 messages")
	term.keys("Enter")
	expect("200 lines at once", lines...)

	// A paste without bracketed-paste markers: tmux sends each line break
	// as a CR, as if typed.
	var paste []string
	for i := 1; i <= 10; i++ {
		paste = append(paste, fmt.Sprintf("pasted line %d", i))
	}
	file := filepath.Join(t.TempDir(), "paste.txt")
	if err := os.WriteFile(file, []byte(strings.Join(paste, "\n")+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	term.run("load-buffer", file)
	term.run("paste-buffer")
	term.waitText("10 lines pasted · enter: 10 messages")
	term.keys("Enter")
	expect("a paste as 10 messages", paste...)
	term.run("paste-buffer")
	term.waitText("10 lines pasted")
	term.keys("C-o")
	expect("a paste as one message", strings.Join(paste, "\n"))
	term.waitFor("the draft empty after the pastes", emptyDraft)

	term.keys("C-c")
	scr = term.waitText("FIRST RUN EXITED 0")
	if strings.Contains(scr, "incoming 5") {
		t.Errorf("the chat is still on the screen after quitting: the terminal was not restored\n%s", scr)
	}

	// Again, on an encrypted keyring, with lines typed while it starts:
	// after it took the terminal (raw, so nothing is typed before), while
	// it waits for the keyring's lock, and then while it decrypts it and
	// joins the network.
	cmd := alice.cmd("passphrase", "set")
	cmd.Env = append(cmd.Env, passphrase)
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("passphrase set: %v\n%s", err, out)
	}
	unlock := lockKeyring(t, alice.home)
	term.run("wait-for", "-S", "again")
	term.waitFor("dhtchat to take the terminal", func(string) bool { return term.rawMode() })
	for _, l := range []string{"typed while", "it starts"} {
		term.keys(l, "Enter")
	}
	term.keys("and still")
	unlock()
	for _, k := range strings.Split(" typing", "") {
		term.keys(k)
	}
	term.keys("Enter")
	term.waitText("● online")
	expect("typed while it starts", "typed while", "it starts", "and still typing")
	term.keys("C-c")
	term.waitText("EXITED 0")
}
