package main

import (
	"bufio"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"

	"github.com/dhtchat/dhtchat/dht/dhttest"
	"github.com/dhtchat/dhtchat/internal/testwait"
)

// cliUser is a person using the real dhtchat binary, with their own home,
// on a private loopback network.
type cliUser struct {
	name      string
	home      string
	bootstrap string
	pubkey    string
}

func newCLIUser(t *testing.T, name, bootstrap string) *cliUser {
	t.Helper()
	u := &cliUser{name: name, home: filepath.Join(t.TempDir(), name), bootstrap: bootstrap}
	out := u.run(t, "", "keygen", "--json")
	var k struct {
		PublicKey string `json:"public_key"`
	}
	if err := json.Unmarshal([]byte(out), &k); err != nil {
		t.Fatalf("keygen output %q: %v", out, err)
	}
	u.pubkey = k.PublicKey
	return u
}

// befriend makes a and b friends of each other.
func befriend(t *testing.T, a, b *cliUser) {
	t.Helper()
	a.run(t, "", "add-friend", b.name, b.pubkey)
	b.run(t, "", "add-friend", a.name, a.pubkey)
}

func (u *cliUser) cmd(args ...string) *exec.Cmd {
	cmd := exec.Command("dhtchat", args...)
	cmd.Env = append(cleanEnv(),
		"DHTCHAT_HOME="+u.home,
		"DHTCHAT_BOOTSTRAP="+u.bootstrap,
		"DHTCHAT_LISTEN=/ip4/127.0.0.1/tcp/0",
		"DHTCHAT_POLL_INTERVAL=50ms",
		dialTimeoutEnv,
	)
	return cmd
}

// dialTimeoutEnv lets the test's dhtchat processes join the loopback DHT
// as slowly as a loaded machine makes them.
var dialTimeoutEnv = "DHTCHAT_DIAL_TIMEOUT=" + testwait.Timeout.String()

// run runs dhtchat with stdin and returns its stdout, failing the test if
// it does not exit 0.
func (u *cliUser) run(t *testing.T, stdin string, args ...string) string {
	t.Helper()
	cmd := u.cmd(args...)
	cmd.Stdin = strings.NewReader(stdin)
	var stdout, stderr strings.Builder
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Run(); err != nil {
		t.Fatalf("%s: dhtchat %s: %v\nstderr: %s", u.name, strings.Join(args, " "), err, stderr.String())
	}
	return stdout.String()
}

// startChat has a start a chat with b (sending nothing) and b join it.
func startCLIChat(t *testing.T, a, b *cliUser) string {
	t.Helper()
	out := a.run(t, "", "start", b.name, "--json")
	var k struct {
		ChatKey string `json:"chat_key"`
	}
	if err := json.Unmarshal([]byte(strings.SplitN(out, "\n", 2)[0]), &k); err != nil {
		t.Fatalf("start output %q: %v", out, err)
	}
	b.run(t, "", "respond", a.name, k.ChatKey)
	return k.ChatKey
}

type recvLine struct {
	Chat string `json:"chat"`
	From string `json:"from"`
	N    uint64 `json:"n"`
	Text string `json:"text"`
}

func parseRecv(t *testing.T, out string) []recvLine {
	t.Helper()
	var lines []recvLine
	for l := range strings.Lines(out) {
		var r recvLine
		if err := json.Unmarshal([]byte(l), &r); err != nil {
			t.Fatalf("recv line %q: %v", l, err)
		}
		lines = append(lines, r)
	}
	return lines
}

// recvAll runs "recv --json" as u until want messages came, and returns
// them. Each recv waits up to 2 s for a first new message.
func recvAll(t *testing.T, u *cliUser, from string, want int) []recvLine {
	t.Helper()
	var got []recvLine
	testwait.Until(t, fmt.Sprintf("%s to receive %d messages", u.name, want), func() bool {
		got = append(got, parseRecv(t, u.run(t, "", "recv", from, "--json", "--timeout", "2s"))...)
		return len(got) >= want
	})
	return got
}

func checkLines(t *testing.T, got []recvLine, from string, want []string) {
	t.Helper()
	if len(got) != len(want) {
		t.Fatalf("got %d messages, want %d", len(got), len(want))
	}
	for i, r := range got {
		if r.N != uint64(i+1) || r.Text != want[i] || r.From != from {
			t.Fatalf("message %d = {n:%d from:%s text:%.50q}, want {n:%d from:%s text:%.50q}", i, r.N, r.From, r.Text, i+1, from, want[i])
		}
	}
}

// chatPair returns alice and bob, friends in a chat alice started, on a
// fresh loopback network.
func chatPair(t *testing.T) (alice, bob *cliUser) {
	t.Helper()
	boot := loopbackNetwork(t)
	alice, bob = newCLIUser(t, "alice", boot), newCLIUser(t, "bob", boot)
	befriend(t, alice, bob)
	startCLIChat(t, alice, bob)
	return alice, bob
}

// startPiped starts cmd with pipes to its stdin and from its stdout; the
// process is killed when the test ends if it still runs.
func startPiped(t *testing.T, cmd *exec.Cmd) (*exec.Cmd, io.WriteCloser, io.ReadCloser) {
	t.Helper()
	stdin, err := cmd.StdinPipe()
	if err != nil {
		t.Fatal(err)
	}
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { cmd.Process.Kill(); cmd.Wait() })
	return cmd, stdin, stdout
}

// loopbackNetwork starts a loopback DHT for the test's dhtchat processes
// and returns its bootstrap addresses. The tests that need one are the
// slow ones: -short skips them.
func loopbackNetwork(t *testing.T) string {
	t.Helper()
	if testing.Short() {
		t.Skip("dhtchat processes on a loopback DHT: slow, skipped with -short")
	}
	return dhttest.FormatBootstrap(dhttest.NewNetwork(t, 4).Bootstrap())
}

// TestCLIConversation: two users start and respond, then exchange messages
// both ways with exact text, through the real binary.
func TestCLIConversation(t *testing.T) {
	t.Parallel()
	alice, bob := chatPair(t)

	toBob := []string{
		"hello bob",
		`quotes: "double" 'single' \backslash $HOME`,
		"unicode: héllo wörld — 日本語 🎉",
		strings.Repeat("1500 chars ", 136) + "1234",
	}
	alice.run(t, strings.Join(toBob, "\n")+"\n", "send", "bob", "-")
	checkLines(t, recvAll(t, bob, "alice", len(toBob)), "alice", toBob)

	bob.run(t, "", "send", "alice", "hi", "alice,", "  spaced  ")
	checkLines(t, recvAll(t, alice, "bob", 1), "bob", []string{"hi alice,   spaced  "})

	// Nothing is printed twice; --all prints everything again.
	if out := bob.run(t, "", "recv", "alice", "--json"); out != "" {
		t.Fatalf("a second recv printed %q", out)
	}
	checkLines(t, parseRecv(t, bob.run(t, "", "recv", "alice", "--json", "--all")), "alice", toBob)

	// Bob's recv acknowledged: alice's history shows delivered.
	hist := alice.run(t, "", "history", "bob", "--json")
	if got := strings.Count(hist, `"status":"delivered"`); got != len(toBob) {
		t.Fatalf("alice's history has %d delivered messages, want %d:\n%s", got, len(toBob), hist)
	}
}

// TestCLINeverOnlineTogether: alice sends 200 messages and exits; only then
// bob comes online and gets all 200; his reply reaches alice later, and her
// history shows all 200 delivered.
func TestCLINeverOnlineTogether(t *testing.T) {
	t.Parallel()
	alice, bob := chatPair(t)

	var want []string
	for i := range 200 {
		want = append(want, fmt.Sprintf("%03d %s", i+1, strings.Repeat("m", 76)))
	}
	alice.run(t, strings.Join(want, "\n"), "send", "bob", "-")
	checkLines(t, recvAll(t, bob, "alice", 200), "alice", want)
	bob.run(t, "", "send", "alice", "all 200 here")
	checkLines(t, recvAll(t, alice, "bob", 1), "bob", []string{"all 200 here"})
	hist := alice.run(t, "", "history", "bob", "--json")
	if got := strings.Count(hist, `"status":"delivered"`); got != 200 {
		t.Fatalf("alice's history shows %d delivered, want 200", got)
	}
}

// TestCLIBurstFollow: 1,000 messages piped into "send -" while the receiver
// follows: all arrive, in order, exactly once.
func TestCLIBurstFollow(t *testing.T) {
	t.Parallel()
	alice, bob := chatPair(t)

	follow := bob.cmd("recv", "alice", "--follow", "--json")
	stdout, err := follow.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	var stderr strings.Builder
	follow.Stderr = &stderr
	if err := follow.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { follow.Process.Kill(); follow.Wait() })

	const n = 1000
	want := make([]string, n)
	for i := range want {
		want[i] = fmt.Sprintf("burst message %04d", i+1)
	}
	alice.run(t, strings.Join(want, "\n")+"\n", "send", "bob", "-")

	lines := make(chan string)
	go func() {
		defer close(lines)
		sc := bufio.NewScanner(stdout)
		for sc.Scan() {
			lines <- sc.Text()
		}
	}()
	var got []recvLine
	timeout := testwait.Context(t).Done()
	for len(got) < n {
		select {
		case l, ok := <-lines:
			if !ok {
				t.Fatalf("recv --follow ended after %d messages: %s", len(got), stderr.String())
			}
			got = append(got, parseRecv(t, l+"\n")...)
		case <-timeout:
			t.Fatalf("recv --follow printed %d of %d messages", len(got), n)
		}
	}
	checkLines(t, got, "alice", want)

	// An interrupt ends --follow cleanly.
	follow.Process.Signal(os.Interrupt)
	for range lines {
	}
	if err := follow.Wait(); err != nil {
		t.Fatalf("recv --follow after SIGINT: %v; stderr: %s", err, stderr.String())
	}
}

// TestCLIKill9MidBurst: the sender is killed with SIGKILL while it stores a
// burst; when it runs again, every message it reported queued is
// delivered, and the receiver's copy has no gap and no duplicate.
func TestCLIKill9MidBurst(t *testing.T) {
	t.Parallel()
	alice, bob := chatPair(t)

	send, stdin, stdout := startPiped(t, alice.cmd("send", "bob", "-", "--json"))
	// Feed lines while reading the "queued" reports; kill after 150 are
	// reported, with more lines in flight.
	go func() {
		for i := 1; i <= 5000; i++ {
			if _, err := fmt.Fprintf(stdin, "line %04d\n", i); err != nil {
				return
			}
		}
	}()
	queued := uint64(0)
	sc := bufio.NewScanner(stdout)
	for sc.Scan() {
		var s statusJSON
		if err := json.Unmarshal(sc.Bytes(), &s); err != nil {
			t.Fatalf("send output %q: %v", sc.Text(), err)
		}
		if s.Status == "queued" {
			queued = max(queued, s.N)
		}
		if queued >= 150 {
			break
		}
	}
	send.Process.Signal(syscall.SIGKILL)
	go io.Copy(io.Discard, stdout)
	send.Wait()
	stdin.Close()
	if queued < 150 {
		t.Fatalf("send reported only %d queued before it was killed", queued)
	}

	// Run again: the rest of the outbox goes out with the new message.
	alice.run(t, "", "send", "bob", "after the crash")
	got := recvAll(t, bob, "alice", int(queued)+1)
	for {
		more := parseRecv(t, bob.run(t, "", "recv", "alice", "--json"))
		if len(more) == 0 {
			break
		}
		got = append(got, more...)
	}
	for i, r := range got {
		if r.N != uint64(i+1) {
			t.Fatalf("message %d has number %d: a gap or a duplicate", i, r.N)
		}
	}
	if last := got[len(got)-1].Text; last != "after the crash" {
		t.Fatalf("last message = %q, want the one sent after the crash", last)
	}
	for i, r := range got[:len(got)-1] {
		if want := fmt.Sprintf("line %04d", i+1); r.Text != want {
			t.Fatalf("message %d = %q, want %q", i+1, r.Text, want)
		}
	}
}

// TestCLINodeRestart: a "dhtchat node" with --datastore, restarted on the
// same address, serves the records it stored before.
func TestCLINodeRestart(t *testing.T) {
	if testing.Short() {
		t.Skip("dhtchat processes on a dhtchat node: slow, skipped with -short")
	}
	t.Parallel()
	dir := t.TempDir()
	nodeHome, store := filepath.Join(dir, "node"), filepath.Join(dir, "records")
	node := &cliUser{name: "node", home: nodeHome}

	startNode := func(listen string) (*exec.Cmd, string) {
		t.Helper()
		cmd := node.cmd("node", "--datastore", store, "--listen", listen, "--bootstrap", "none")
		out, err := cmd.StdoutPipe()
		if err != nil {
			t.Fatal(err)
		}
		var stderr strings.Builder
		cmd.Stderr = &stderr
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { cmd.Process.Kill(); cmd.Wait() })
		line, err := bufio.NewReader(out).ReadString('\n')
		if err != nil {
			t.Fatalf("node printed no address: %v; stderr: %s", err, stderr.String())
		}
		return cmd, strings.TrimSpace(line)
	}
	stop := func(cmd *exec.Cmd) {
		t.Helper()
		cmd.Process.Signal(syscall.SIGTERM)
		if err := cmd.Wait(); err != nil {
			t.Fatalf("node after SIGTERM: %v", err)
		}
	}

	first, addr := startNode("/ip4/127.0.0.1/tcp/0")
	alice, bob := newCLIUser(t, "alice", addr), newCLIUser(t, "bob", addr)
	befriend(t, alice, bob)
	startCLIChat(t, alice, bob)
	alice.run(t, "kept across the restart\n", "send", "bob", "-")
	stop(first)

	// Same identity and port: the same address.
	again, addr2 := startNode(strings.Split(addr, "/p2p/")[0])
	if addr2 != addr {
		t.Fatalf("restarted node listens on %q, want %q", addr2, addr)
	}
	checkLines(t, recvAll(t, bob, "alice", 1), "alice", []string{"kept across the restart"})
	stop(again)
}

// TestCLISendBadLine: a line too long to send stops "send -" at that line:
// the lines before it are sent, the error says which line, exit 2.
func TestCLISendBadLine(t *testing.T) {
	t.Parallel()
	alice, bob := chatPair(t)

	cmd := alice.cmd("send", "bob", "-")
	cmd.Stdin = strings.NewReader("first\nsecond\n" + strings.Repeat("x", 9000) + "\nnever sent\n")
	var stderr strings.Builder
	cmd.Stderr = &stderr
	err := cmd.Run()
	if code := cmd.ProcessState.ExitCode(); code != exitUsage {
		t.Fatalf("send with a 9000-byte line: exit %d (%v), want 2; stderr: %s", code, err, stderr.String())
	}
	if got := stderr.String(); !strings.Contains(got, "dhtchat: message 3 is longer than 8000 bytes\n") ||
		!strings.Contains(got, "dhtchat: hint: the 2 messages before it were sent; nothing from it on was\n") {
		t.Fatalf("stderr = %q", got)
	}
	checkLines(t, recvAll(t, bob, "alice", 2), "alice", []string{"first", "second"})
	if hist := alice.run(t, "", "history", "bob", "--json"); strings.Count(hist, "\n") != 2 || strings.Contains(hist, "never sent") {
		t.Fatalf("alice's history after the bad line:\n%s", hist)
	}
}

// TestCLISendStreams: "send -" publishes each line as it comes, without
// waiting for the end of stdin ("tail -f log | dhtchat send ops -").
func TestCLISendStreams(t *testing.T) {
	t.Parallel()
	alice, bob := chatPair(t)

	send, stdin, stdout := startPiped(t, alice.cmd("send", "bob", "-", "--json"))
	fmt.Fprintln(stdin, "first, while stdin stays open")
	lines := bufio.NewScanner(stdout)
	for want := []string{`{"n":1,"status":"queued"}`, `{"n":1,"status":"published"}`}; len(want) > 0; {
		if !lines.Scan() {
			t.Fatalf("send ended before printing %s", want[0])
		}
		if lines.Text() == want[0] {
			want = want[1:]
		}
	}
	// Published while stdin is still open: bob can read it now.
	checkLines(t, recvAll(t, bob, "alice", 1), "alice", []string{"first, while stdin stays open"})
	stdin.Close()
	for lines.Scan() {
	}
	if err := send.Wait(); err != nil {
		t.Fatalf("send after the end of stdin: %v", err)
	}
}

// TestCLIPipeModePrintsWhatWaits: a one-shot pipe mode run ('echo hi |
// dhtchat start bob') prints what bob sent before it ran, as its help
// promises, and not only what a poll happened to bring before it exits.
func TestCLIPipeModePrintsWhatWaits(t *testing.T) {
	t.Parallel()
	alice, bob := chatPair(t)
	// A pipe run just now: alice's next fetch is not due at once, and she
	// has a message bob did not acknowledge yet.
	alice.run(t, "first\n", "start", "bob")
	bob.run(t, "", "send", "alice", "sent before the pipe ran")
	// No poll comes in time: what it prints must not depend on one.
	cmd := alice.cmd("start", "bob", "--json")
	cmd.Env = append(cmd.Env, "DHTCHAT_POLL_INTERVAL=1h")
	cmd.Stdin = strings.NewReader("hi from the pipe\n")
	var stderr strings.Builder
	cmd.Stderr = &stderr
	outb, err := cmd.Output()
	if err != nil {
		t.Fatalf("pipe mode: %v: %s", err, stderr.String())
	}
	out := string(outb)
	_, msgs, _ := strings.Cut(out, "\n") // the first line is the chat key
	checkLines(t, parseRecv(t, msgs), "bob", []string{"sent before the pipe ran"})
	checkLines(t, recvAll(t, bob, "alice", 2), "alice", []string{"first", "hi from the pipe"})
}
