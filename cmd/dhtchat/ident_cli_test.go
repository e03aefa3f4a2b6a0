package main

import (
	"bufio"
	"encoding/json"
	"io"
	"os/exec"
	"strings"
	"testing"

	"github.com/dhtchat/dhtchat/internal/testwait"
)

// runCode runs dhtchat as u and returns its stdout, stderr and exit code.
func (u *cliUser) runCode(t *testing.T, stdin string, args ...string) (stdout, stderr string, code int) {
	t.Helper()
	cmd := u.cmd(args...)
	cmd.Stdin = strings.NewReader(stdin)
	var out, errOut strings.Builder
	cmd.Stdout, cmd.Stderr = &out, &errOut
	err := cmd.Run()
	code = cmd.ProcessState.ExitCode()
	if err != nil && code < 0 {
		t.Fatalf("dhtchat %s: %v", strings.Join(args, " "), err)
	}
	return out.String(), errOut.String(), code
}

// chatsOf returns u's chats as 'chats --json' lists them.
func chatsOf(t *testing.T, u *cliUser) []chatJSON {
	t.Helper()
	var out []chatJSON
	for l := range strings.Lines(u.run(t, "", "chats", "--json")) {
		var c chatJSON
		if err := json.Unmarshal([]byte(l), &c); err != nil {
			t.Fatalf("chats line %q: %v", l, err)
		}
		out = append(out, c)
	}
	return out
}

// checkTexts is checkLines for messages not numbered from 1.
func checkTexts(t *testing.T, got []recvLine, from string, want []string) {
	t.Helper()
	if len(got) != len(want) {
		t.Fatalf("got %d messages, want %d", len(got), len(want))
	}
	for i, r := range got {
		if r.Text != want[i] || r.From != from {
			t.Fatalf("message %d = {from:%s text:%.50q}, want {from:%s text:%.50q}", i, r.From, r.Text, from, want[i])
		}
	}
}

// background is a dhtchat process running until it exits by itself.
type background struct {
	cmd    *exec.Cmd
	stderr strings.Builder
	lines  chan string // its stdout
	done   chan struct{}
}

func startBackground(t *testing.T, cmd *exec.Cmd) *background {
	t.Helper()
	b := &background{cmd: cmd, lines: make(chan string, 100), done: make(chan struct{})}
	cmd.Stderr = &b.stderr
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	read := make(chan struct{})
	go func() {
		defer close(read)
		sc := bufio.NewScanner(stdout)
		for sc.Scan() {
			select {
			case b.lines <- sc.Text():
			default: // nobody waits for more
			}
		}
		io.Copy(io.Discard, stdout)
	}()
	go func() { <-read; cmd.Wait(); close(b.done) }()
	t.Cleanup(func() { cmd.Process.Kill(); <-b.done })
	return b
}

// following starts 'recv NAME --follow' as u (args are more flags) and
// returns once it printed a message from from, which from sends: it is
// then surely following the chat.
func following(t *testing.T, u, from *cliUser, args ...string) *background {
	t.Helper()
	b := startBackground(t, u.cmd(append([]string{"recv", from.name, "--follow"}, args...)...))
	from.run(t, "", append([]string{"send", u.name, "ping"}, args...)...)
	select {
	case l := <-b.lines:
		if !strings.Contains(l, "ping") {
			t.Fatalf("recv --follow printed %q, want the ping", l)
		}
	case <-b.done:
		t.Fatalf("recv --follow ended: %s", b.stderr.String())
	case <-testwait.Context(t).Done():
		t.Fatal("recv --follow printed nothing")
	}
	return b
}

// exit waits for the process to end by itself and returns its exit code
// and stderr.
func (b *background) exit(t *testing.T) (int, string) {
	t.Helper()
	select {
	case <-b.done:
	case <-testwait.Context(t).Done():
		t.Fatalf("%s still runs", strings.Join(b.cmd.Args, " "))
	}
	return b.cmd.ProcessState.ExitCode(), b.stderr.String()
}

// TestCLIStartTwice: 'start bob' again opens the chat there is instead of
// making one that bob never joins, so 'send bob' still reaches bob; --new
// makes a second one, loudly.
func TestCLIStartTwice(t *testing.T) {
	t.Parallel()
	alice, bob := chatPair(t)
	first := chatsOf(t, alice)
	if len(first) != 1 {
		t.Fatalf("alice has %d chats, want 1", len(first))
	}

	out, stderr, code := alice.runCode(t, "", "start", "bob")
	if code != 0 || out != "Chat key: "+first[0].ChatKey+"\n" ||
		!strings.Contains(stderr, "dhtchat: you already have a chat with bob; opening it\ndhtchat: hint: 'dhtchat start bob --new' starts another\n") {
		t.Fatalf("start bob again: exit %d, stdout %q, stderr %q", code, out, stderr)
	}
	out = alice.run(t, "", "start", "bob", "--json")
	if line, _, _ := strings.Cut(out, "\n"); line != `{"chat_key":"`+first[0].ChatKey+`","new":false}` {
		t.Fatalf("start bob --json again printed %q", out)
	}
	if n := len(chatsOf(t, alice)); n != 1 {
		t.Fatalf("alice has %d chats after starting twice, want 1", n)
	}
	alice.run(t, "", "send", "bob", "still the same chat")
	checkLines(t, recvAll(t, bob, "alice", 1), "alice", []string{"still the same chat"})

	// So does 'respond' again: it says it opens the chat, not that it joins.
	_, stderr, code = bob.runCode(t, "", "respond", "alice", first[0].ChatKey)
	if code != 0 || stderr != "dhtchat: you already joined this chat with alice; opening it\n" {
		t.Fatalf("respond alice again: exit %d, stderr %q", code, stderr)
	}

	out, stderr, code = alice.runCode(t, "", "start", "bob", "--new", "--json")
	var started startJSON
	if err := json.Unmarshal([]byte(strings.SplitN(out, "\n", 2)[0]), &started); code != 0 || err != nil ||
		!started.New || started.ChatKey == first[0].ChatKey {
		t.Fatalf("start bob --new: exit %d, stdout %q (%v)", code, out, err)
	}
	if !strings.Contains(stderr, "dhtchat: warning: this is another chat with bob") {
		t.Errorf("start bob --new did not warn: %q", stderr)
	}
	if n := len(chatsOf(t, alice)); n != 2 {
		t.Fatalf("alice has %d chats after --new, want 2", n)
	}
}

// TestCLIBlock: a blocked friend's chat stops: a process following it
// notices and ends, nothing can be sent or fetched, the history stays;
// after unblock, what bob sent meanwhile arrives.
func TestCLIBlock(t *testing.T) {
	t.Parallel()
	alice, bob := chatPair(t)
	bob.run(t, "", "send", "alice", "before the block")
	checkLines(t, recvAll(t, alice, "bob", 1), "bob", []string{"before the block"})

	follow := following(t, alice, bob)
	out := alice.run(t, "", "block", "bob")
	if out != "Blocked bob: 1 chat paused, nothing of them fetched or published; the history stays.\n" {
		t.Fatalf("block printed %q", out)
	}
	// The other process stops, within its reload period.
	if code, stderr := follow.exit(t); code != exitRuntime || !strings.Contains(stderr, "dhtchat: bob was blocked ('dhtchat block'): the chat is paused\n") {
		t.Fatalf("recv --follow after the block: exit %d, stderr %q", code, stderr)
	}
	if out := alice.run(t, "", "block", "bob", "--json"); !strings.HasPrefix(out, `{"friend":"bob","blocked":true,"changed":false,"chats":["dhtchat-chat1`) {
		t.Errorf("block again --json printed %q", out)
	}
	for _, args := range [][]string{{"send", "bob", "x"}, {"recv", "bob"}, {"start", "bob"}, {"start", "bob", "--new"}} {
		_, stderr, code := alice.runCode(t, "", args...)
		if code != exitUsage || !strings.Contains(stderr, "dhtchat: bob is blocked") || !strings.Contains(stderr, "dhtchat: hint: 'dhtchat unblock bob'") {
			t.Errorf("%s while blocked: exit %d, stderr %q", strings.Join(args, " "), code, stderr)
		}
	}
	if hist := alice.run(t, "", "history", "bob"); !strings.Contains(hist, "bob: before the block") {
		t.Errorf("history while blocked: %q", hist)
	}
	if cs := chatsOf(t, alice); len(cs) != 1 || !cs[0].Blocked || !cs[0].Paused {
		t.Errorf("chats while blocked: %+v", cs)
	}
	if out := alice.run(t, "", "chats"); !strings.Contains(out, "bob (blocked)") {
		t.Errorf("chats while blocked:\n%s", out)
	}

	bob.run(t, "", "send", "alice", "while blocked")
	if out := alice.run(t, "", "unblock", "bob"); out != "Unblocked bob: 1 chat resumed.\n" {
		t.Fatalf("unblock printed %q", out)
	}
	checkTexts(t, recvAll(t, alice, "bob", 1), "bob", []string{"while blocked"})
	if out := alice.run(t, "", "unblock", "bob"); out != "bob was not blocked.\n" {
		t.Errorf("unblock again printed %q", out)
	}
}

// TestCLIRemoveFriendPausesChats: remove-friend pauses the friend's chats
// (a process following one ends), says so and how to delete them; adding
// the friend back resumes them.
func TestCLIRemoveFriendPausesChats(t *testing.T) {
	t.Parallel()
	alice, bob := chatPair(t)
	key := chatsOf(t, alice)[0].ChatKey
	follow := following(t, alice, bob)
	out, stderr, code := alice.runCode(t, "", "remove-friend", "bob")
	if code != 0 || out != "Removed bob.\n" ||
		!strings.Contains(stderr, "dhtchat: your 1 chat with bob is kept, paused: nothing is fetched or published\n") ||
		!strings.Contains(stderr, "dhtchat: hint: to delete: dhtchat delete-chat --chat "+key+"\n") {
		t.Fatalf("remove-friend: exit %d, stdout %q, stderr %q", code, out, stderr)
	}
	if code, stderr := follow.exit(t); code != exitRuntime || !strings.Contains(stderr, "dhtchat: bob is no longer your friend: the chat is paused\n") {
		t.Fatalf("recv --follow after remove-friend: exit %d, stderr %q", code, stderr)
	}
	if cs := chatsOf(t, alice); len(cs) != 1 || !cs[0].Paused || cs[0].Blocked {
		t.Errorf("chats after remove-friend: %+v", cs)
	}

	bob.run(t, "", "send", "alice", "while removed")
	alice.run(t, "", "add-friend", "bob", bob.pubkey)
	if cs := chatsOf(t, alice); len(cs) != 1 || cs[0].Paused || cs[0].Friend != "bob" {
		t.Errorf("chats after adding bob back: %+v", cs)
	}
	checkTexts(t, recvAll(t, alice, "bob", 1), "bob", []string{"while removed"})

	// --json.
	out = alice.run(t, "", "remove-friend", "bob", "--json")
	if out != `{"removed":"bob","paused_chats":["`+key+`"]}`+"\n" {
		t.Errorf("remove-friend --json printed %q", out)
	}
}

// TestCLIDeleteChat: delete-chat removes a chat and says what it removed;
// with several chats it wants to know which; a process following the
// chat ends.
func TestCLIDeleteChat(t *testing.T) {
	t.Parallel()
	alice, bob := chatPair(t)
	first := chatsOf(t, alice)[0].ChatKey
	alice.run(t, "one\ntwo\n", "send", "bob", "-")
	checkLines(t, recvAll(t, bob, "alice", 2), "alice", []string{"one", "two"})
	bob.run(t, "", "send", "alice", "three")
	checkLines(t, recvAll(t, alice, "bob", 1), "bob", []string{"three"})
	out := alice.run(t, "", "start", "bob", "--new", "--json")
	var second startJSON
	if err := json.Unmarshal([]byte(strings.SplitN(out, "\n", 2)[0]), &second); err != nil {
		t.Fatal(err)
	}

	// Two chats: which one?
	_, stderr, code := alice.runCode(t, "", "delete-chat", "bob")
	if code != exitUsage || !strings.Contains(stderr, "dhtchat: you have 2 chats with bob: say which to delete\n") ||
		!strings.Contains(stderr, "dhtchat: hint: dhtchat delete-chat bob --chat "+first) ||
		!strings.Contains(stderr, "dhtchat: hint: or all of them: dhtchat delete-chat bob --all\n") {
		t.Fatalf("delete-chat with two chats: exit %d, stderr %q", code, stderr)
	}
	if n := len(chatsOf(t, alice)); n != 2 {
		t.Fatalf("a refused delete-chat deleted something: %d chats", n)
	}

	follow := following(t, alice, bob, "--chat", first)
	out, stderr, code = alice.runCode(t, "", "delete-chat", "bob", "--chat", first)
	if code != 0 || out != "Deleted the chat with bob (chat key "+first+"): 2 messages sent, 2 messages received.\n" || stderr != "" {
		t.Fatalf("delete-chat --chat: exit %d, stdout %q, stderr %q", code, out, stderr)
	}
	if code, stderr := follow.exit(t); code != exitRuntime || !strings.Contains(stderr, "dhtchat: the chat with bob was deleted") {
		t.Fatalf("recv --follow after delete-chat: exit %d, stderr %q", code, stderr)
	}
	_, stderr, code = alice.runCode(t, "", "history", "bob", "--chat", first)
	if code != exitUsage || !strings.Contains(stderr, "you have no chat with bob under that chat key") {
		t.Errorf("history of the deleted chat: exit %d, stderr %q", code, stderr)
	}

	// By chat key alone, with --json; one message never delivered.
	alice.run(t, "", "send", "bob", "never delivered")
	out = alice.run(t, "", "delete-chat", "--chat", second.ChatKey, "--json")
	if out != `{"friend":"bob","chat_key":"`+second.ChatKey+`","sent":1,"received":0,"undelivered":1}`+"\n" {
		t.Errorf("delete-chat --chat --json printed %q", out)
	}
	if cs := chatsOf(t, alice); len(cs) != 0 {
		t.Errorf("chats left: %+v", cs)
	}
	_, stderr, code = alice.runCode(t, "", "delete-chat", "bob")
	if code != exitUsage || !strings.Contains(stderr, "dhtchat: you have no chat with bob\n") {
		t.Errorf("delete-chat with no chat: exit %d, stderr %q", code, stderr)
	}
}
