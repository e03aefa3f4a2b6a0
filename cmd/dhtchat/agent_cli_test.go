package main

import (
	"bufio"
	"encoding/json"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"syscall"
	"testing"

	"github.com/dhtchat/dhtchat/internal/agent"
	"github.com/dhtchat/dhtchat/internal/testwait"
)

// startAgent starts "dhtchat agent" as u and waits until it serves its
// socket; the process is killed when the test ends if it still runs.
func startAgent(t *testing.T, u *cliUser) *exec.Cmd {
	t.Helper()
	return startAgentEnv(t, u, nil)
}

// startAgentEnv is startAgent with extra environment.
func startAgentEnv(t *testing.T, u *cliUser, env []string) *exec.Cmd {
	t.Helper()
	return startUntilEnv(t, u, func(l string) bool { return strings.Contains(l, "serving ") }, env, "agent")
}

// startUntil starts dhtchat as u with args and waits until ready accepts
// a line of its stderr; the process is killed when the test ends if it
// still runs.
func startUntil(t *testing.T, u *cliUser, ready func(line string) bool, args ...string) *exec.Cmd {
	t.Helper()
	return startUntilEnv(t, u, ready, nil, args...)
}

// startUntilEnv is startUntil with extra environment.
func startUntilEnv(t *testing.T, u *cliUser, ready func(line string) bool, env []string, args ...string) *exec.Cmd {
	t.Helper()
	cmd := u.cmd(args...)
	cmd.Env = append(cmd.Env, env...)
	stderr, err := cmd.StderrPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { cmd.Process.Kill(); cmd.Wait() })
	// Buffered, so that lines close together all count; once it is full
	// (nobody reads after ready), lines are dropped, never blocking the
	// process on its stderr.
	lines := make(chan string, 64)
	go func() {
		sc := bufio.NewScanner(stderr)
		for sc.Scan() {
			select {
			case lines <- sc.Text():
			default:
			}
		}
		close(lines)
	}()
	ctx := testwait.Context(t)
	for {
		select {
		case l, ok := <-lines:
			if !ok {
				t.Fatalf("%s: dhtchat %s ended before it was ready", u.name, args[0])
			}
			if ready(l) {
				return cmd
			}
		case <-ctx.Done():
			t.Fatalf("%s: dhtchat %s is not ready", u.name, args[0])
		}
	}
}

// runEnv runs dhtchat as u with extra environment and returns its
// output and exit code.
func (u *cliUser) runEnv(t *testing.T, env []string, args ...string) (stdout, stderr string, code int) {
	t.Helper()
	cmd := u.cmd(args...)
	cmd.Env = append(cmd.Env, env...)
	var o, e strings.Builder
	cmd.Stdout, cmd.Stderr = &o, &e
	err := cmd.Run()
	if ee, ok := err.(*exec.ExitError); ok {
		return o.String(), e.String(), ee.ExitCode()
	} else if err != nil {
		t.Fatal(err)
	}
	return o.String(), e.String(), 0
}

// unreachable is the environment of a command that cannot join the DHT
// (its one bootstrap peer's port is closed: the dial fails at once): it
// succeeds only through a running agent.
func unreachable(u *cliUser) []string {
	first := strings.Split(u.bootstrap, ",")[0]
	return []string{"DHTCHAT_BOOTSTRAP=" + regexp.MustCompile(`/tcp/[0-9]+/`).ReplaceAllString(first, "/tcp/1/"), "DHTCHAT_DIAL_TIMEOUT=5s"}
}

// noAgent is the environment of a command that ignores a running agent.
var noAgent = []string{"DHTCHAT_NO_AGENT=1"}

var (
	numbers   = regexp.MustCompile(`"n":[0-9]+`)
	published = regexp.MustCompile(`(?m)^\{"n":N,"status":"published"\}\n`)
)

// TestCLIAgent: with an agent running, send and recv work without joining
// the DHT, print exactly what they print without it, --wait-delivered
// returns once the friend's client acknowledged; a killed agent leaves a
// stale socket that commands fall back from and the next agent replaces.
func TestCLIAgent(t *testing.T) {
	t.Parallel()
	alice, bob := chatPair(t)
	aliceAgent := startAgent(t, alice)
	offline := unreachable(alice)
	startAgent(t, bob)

	sock := filepath.Join(alice.home, "agent.sock")
	if fi, err := os.Stat(sock); err != nil || fi.Mode().Type() != os.ModeSocket || fi.Mode().Perm() != 0o600 {
		t.Fatalf("control socket %s: %v, %v; want a socket of mode 0600", sock, fi, err)
	}

	// Through the agent: no DHT needed (offline would fail otherwise), and
	// bob's agent acknowledges.
	viaAgent, stderr, code := alice.runEnv(t, offline, "send", "--json", "--wait-delivered", "bob", "one")
	if code != 0 {
		t.Fatalf("send through the agent: exit %d\n%s", code, stderr)
	}
	if !strings.Contains(viaAgent, `"status":"delivered"`) {
		t.Errorf("send --wait-delivered printed %q: no delivered", viaAgent)
	}
	// Text mode and errors too: recorded here, compared with the same
	// commands once the agent is gone (two processes of one home sending
	// at once is another test's matter).
	cases := [][]string{
		{"send", "bob", "three"},
		{"send", "carol", "hi"},
		{"send", "bob", ""},
		{"recv", "carol"},
	}
	type outcome struct {
		stdout, stderr string
		code           int
	}
	var through []outcome
	for _, args := range cases {
		o, e, c := alice.runEnv(t, nil, args...)
		through = append(through, outcome{o, e, c})
	}

	// bob reads through his agent what alice sent, as without it.
	got := parseRecv(t, bob.run(t, "", "recv", "alice", "--json"))
	if len(got) == 0 {
		testwait.Until(t, "bob to receive through his agent", func() bool {
			got = append(got, parseRecv(t, bob.run(t, "", "recv", "alice", "--json"))...)
			return len(got) >= 3
		})
	}
	all := bob.run(t, "", "recv", "alice", "--json", "--all", "--chat", got[0].Chat)
	allDirect, _, _ := bob.runEnv(t, noAgent, "recv", "alice", "--json", "--all", "--chat", got[0].Chat)
	if all != allDirect {
		t.Errorf("recv --all through the agent printed\n%s\nwithout it\n%s", all, allDirect)
	}

	// Killed: the socket stays, stale; commands fall back to the DHT.
	aliceAgent.Process.Signal(syscall.SIGKILL)
	aliceAgent.Wait()
	if _, err := os.Stat(sock); err != nil {
		t.Fatalf("no stale socket after the kill: %v", err)
	}
	if _, stderr, code := alice.runEnv(t, nil, "send", "bob", "after the kill"); code != 0 {
		t.Fatalf("send after the agent was killed: exit %d\n%s", code, stderr)
	}
	if _, _, code := alice.runEnv(t, offline, "send", "bob", "y"); code != 1 {
		t.Fatalf("send with a stale socket and no DHT: exit %d, want 1", code)
	}
	// Without the agent (fallback from the stale socket): the same output,
	// but for the published line, which a live ack (the agents run the
	// live path) may come before: then the command returns without it.
	direct, stderr, code := alice.runEnv(t, nil, "send", "--json", "--wait-delivered", "bob", "two")
	if code != 0 {
		t.Fatalf("send without the agent: exit %d\n%s", code, stderr)
	}
	unpublished := func(s string) string {
		return published.ReplaceAllString(numbers.ReplaceAllString(s, `"n":N`), "")
	}
	if a, d := unpublished(viaAgent), unpublished(direct); a != d {
		t.Errorf("send --json through the agent printed\n%s\nwithout it\n%s", viaAgent, direct)
	}
	for i, args := range cases {
		o, e, c := alice.runEnv(t, nil, args...)
		if w := through[i]; o != w.stdout || e != w.stderr || c != w.code {
			t.Errorf("dhtchat %q through the agent = %q, %q, exit %d; without = %q, %q, exit %d", args, w.stdout, w.stderr, w.code, o, e, c)
		}
	}
	// The next agent replaces the stale socket; a second one leaves it.
	startAgent(t, alice)
	if _, stderr, code := alice.runEnv(t, nil, "agent"); code != 1 || !strings.Contains(stderr, "already serves") {
		t.Fatalf("a second agent: exit %d, %q; want exit 1, already serves", code, stderr)
	}
	if _, stderr, code := alice.runEnv(t, offline, "send", "bob", "z"); code != 0 {
		t.Fatalf("send through the new agent: exit %d\n%s", code, stderr)
	}

	// A bot's malformed lines get JSON-RPC errors; the agent keeps serving.
	c, err := net.Dial("unix", sock)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	r := bufio.NewReader(c)
	for _, line := range []string{"garbage", `{"jsonrpc":"2.0","id":1,"method":"nope"}`, `{"jsonrpc":"2.0","id":2,"method":"chats"}`} {
		c.Write([]byte(line + "\n"))
		resp, err := r.ReadBytes('\n')
		if err != nil {
			t.Fatalf("%s: %v", line, err)
		}
		var m struct {
			Error  *agent.Error
			Result struct{ Chats []agent.ChatInfo }
		}
		if err := json.Unmarshal(resp, &m); err != nil {
			t.Fatalf("%s -> %s: %v", line, resp, err)
		}
		if (m.Error == nil) != strings.HasSuffix(line, `"chats"}`) {
			t.Errorf("%s -> %s", line, resp)
		}
		if m.Error == nil && (len(m.Result.Chats) != 1 || m.Result.Chats[0].Friend != "bob") {
			t.Errorf("chats -> %s", resp)
		}
	}
}
