package main

import (
	"cmp"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/libp2p/go-libp2p/core/peer"
	"github.com/multiformats/go-multiaddr"
)

// runErr runs dhtchat as u with stdin and returns its stdout and stderr,
// failing the test if it does not exit 0.
func (u *cliUser) runErr(t *testing.T, stdin string, args ...string) (stdout, stderr string) {
	t.Helper()
	cmd := u.cmd(args...)
	cmd.Stdin = strings.NewReader(stdin)
	var out, errOut strings.Builder
	cmd.Stdout, cmd.Stderr = &out, &errOut
	if err := cmd.Run(); err != nil {
		t.Fatalf("%s: dhtchat %s: %v\nstderr: %s", u.name, strings.Join(args, " "), err, errOut.String())
	}
	return out.String(), errOut.String()
}

// copyHome copies the home directory src to dst (which must not exist).
func copyHome(t *testing.T, src, dst string) {
	t.Helper()
	if err := os.CopyFS(dst, os.DirFS(src)); err != nil {
		t.Fatal(err)
	}
}

type historyLine struct {
	From   string `json:"from"`
	N      uint64 `json:"n"`
	Status string `json:"status"`
	Text   string `json:"text"`
}

// sentHistory returns u's messages to friend as "N:text:status", by N.
// (History shows them in the order this database learned of them: what a
// restored copy finds of the other copy's comes after its own.)
func sentHistory(t *testing.T, u *cliUser, friend string) []string {
	t.Helper()
	var hs []historyLine
	for l := range strings.Lines(u.run(t, "", "history", friend, "--json")) {
		var h historyLine
		if err := json.Unmarshal([]byte(l), &h); err != nil {
			t.Fatalf("history line %q: %v", l, err)
		}
		if h.From != friend {
			hs = append(hs, h)
		}
	}
	slices.SortFunc(hs, func(a, b historyLine) int { return cmp.Compare(a.N, b.N) })
	var out []string
	for _, h := range hs {
		out = append(out, fmt.Sprintf("%d:%s:%s", h.N, h.Text, h.Status))
	}
	return out
}

func checkNumbered(t *testing.T, got []recvLine, from string, want []string) {
	t.Helper()
	if len(got) != len(want) {
		t.Fatalf("got %d messages %+v, want %d", len(got), got, len(want))
	}
	for i, r := range got {
		if r.Text != want[i] || r.From != from {
			t.Fatalf("message %d = {n:%d from:%s text:%q}, want from %s text %q", i, r.N, r.From, r.Text, from, want[i])
		}
		if i > 0 && r.N != got[i-1].N+1 {
			t.Fatalf("message %d has number %d after %d", i, r.N, got[i-1].N)
		}
	}
}

// TestCLIRestoredHome is issue 10's scenario with the real binary: copy a
// home, send m2 and m3 (the friend reads them), put the copy back, send
// three more. The friend gets all five once each and in order; the
// sender is told its database was behind, shows the three as delivered
// only once the friend acknowledged them, and refuses none of the
// friend's records.
func TestCLIRestoredHome(t *testing.T) {
	t.Parallel()
	alice, bob := chatPair(t)
	alice.run(t, "", "send", "bob", "m1")
	checkLines(t, recvAll(t, bob, "alice", 1), "alice", []string{"m1"})
	alice.run(t, "", "recv", "bob") // the ack

	backup := filepath.Join(t.TempDir(), "backup")
	copyHome(t, alice.home, backup)
	alice.run(t, "m2\nm3\n", "send", "bob", "-")
	checkNumbered(t, recvAll(t, bob, "alice", 2), "alice", []string{"m2", "m3"})

	if err := os.RemoveAll(alice.home); err != nil {
		t.Fatal(err)
	}
	copyHome(t, backup, alice.home)
	stdout, stderr := alice.runErr(t, "m4\nm5\nm6\n", "send", "bob", "-", "--json")
	if !strings.Contains(stderr, "this database was behind what your identity sent to bob") {
		t.Errorf("send after the restore did not say the database was behind; stderr:\n%s", stderr)
	}
	// Queued as 2-4 (all this database knew), renumbered, sent as 4-6:
	// the second "queued" of each says what it was.
	for _, n := range []int{4, 5, 6} {
		for _, line := range []string{
			fmt.Sprintf(`{"n":%d,"status":"queued","was":%d}`, n, n-2),
			fmt.Sprintf(`{"n":%d,"status":"published"}`, n),
		} {
			if !strings.Contains(stdout, line) {
				t.Errorf("send --json did not print %s:\n%s", line, stdout)
			}
		}
	}
	for _, h := range sentHistory(t, alice, "bob")[1:] {
		if strings.HasSuffix(h, ":delivered") {
			t.Fatalf("before bob acknowledged it, alice shows %s", h)
		}
	}

	checkNumbered(t, recvAll(t, bob, "alice", 3), "alice", []string{"m4", "m5", "m6"})
	all := parseRecv(t, bob.run(t, "", "recv", "alice", "--all", "--json"))
	checkLines(t, all, "alice", []string{"m1", "m2", "m3", "m4", "m5", "m6"})

	_, stderr = alice.runErr(t, "", "recv", "bob")
	if stderr != "" {
		t.Errorf("alice's recv said:\n%s", stderr)
	}
	want := []string{"1:m1:delivered", "2:m2:delivered", "3:m3:delivered", "4:m4:delivered", "5:m5:delivered", "6:m6:delivered"}
	got := sentHistory(t, alice, "bob")
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Fatalf("alice's history:\n got %q\nwant %q", got, want)
	}
	// The alert is told once: "chats" shows it, the first time only. (The
	// send that raised it told it as well: chats says it again, once,
	// for whoever did not see that send's stderr.)
	for i, want := range []bool{true, false} {
		var chats strings.Builder
		cmd := alice.cmd("chats")
		cmd.Stderr = &chats
		if err := cmd.Run(); err != nil || strings.Contains(chats.String(), "was behind") != want {
			t.Fatalf("dhtchat chats #%d: %v, stderr %q; want the alert: %v", i+1, err, chats.String(), want)
		}
	}
}

// TestCLITwoDevices: a copy of alice's home runs as a second device. Both
// send; each is told plainly that another copy of the identity writes, and
// bob gets both messages.
func TestCLITwoDevices(t *testing.T) {
	t.Parallel()
	alice, bob := chatPair(t)
	alice.run(t, "", "send", "bob", "hello")
	recvAll(t, bob, "alice", 1)

	phone := &cliUser{name: "alice's phone", home: filepath.Join(t.TempDir(), "phone"), bootstrap: alice.bootstrap}
	copyHome(t, alice.home, phone.home)
	alice.run(t, "", "send", "bob", "from the laptop")
	_, stderr := phone.runErr(t, "", "send", "bob", "from the phone")
	if !strings.Contains(stderr, "another device uses your identity") {
		t.Errorf("the phone's send did not say so; stderr:\n%s", stderr)
	}
	checkNumbered(t, recvAll(t, bob, "alice", 2), "alice", []string{"from the laptop", "from the phone"})
	_, stderr = alice.runErr(t, "", "recv", "bob")
	if !strings.Contains(stderr, "another device uses your identity") && !strings.Contains(stderr, "another device is writing") {
		t.Errorf("the laptop's recv did not say so; stderr:\n%s", stderr)
	}
	hist := sentHistory(t, alice, "bob")
	if len(hist) != 3 || hist[2] != "3:from the phone:delivered" {
		t.Fatalf("the laptop's history %q; want the phone's message as 3, delivered", hist)
	}
}

// TestCLIRecvPublishesQueued: a message sent while no DHT peer answered
// stays queued; a later plain "recv" (no --follow) publishes it, as "send
// --help" promises of any command that goes online.
func TestCLIRecvPublishesQueued(t *testing.T) {
	t.Parallel()
	alice, bob := chatPair(t)

	// A bootstrap peer that is not there: a real peer ID, a closed port.
	info, err := peer.AddrInfoFromString(strings.Split(alice.bootstrap, ",")[0])
	if err != nil {
		t.Fatal(err)
	}
	dead, err := multiaddr.NewMultiaddr("/ip4/127.0.0.1/tcp/1/p2p/" + info.ID.String())
	if err != nil {
		t.Fatal(err)
	}
	cmd := alice.cmd("send", "bob", "sent while offline")
	cmd.Env = append(cmd.Env, "DHTCHAT_BOOTSTRAP="+dead.String())
	var stderr strings.Builder
	cmd.Stderr = &stderr
	err = cmd.Run()
	var exit *exec.ExitError
	if !errors.As(err, &exit) || exit.ExitCode() != 1 || !strings.Contains(stderr.String(), "stay queued") {
		t.Fatalf("send without a DHT: %v, stderr %q; want exit 1, queued", err, stderr.String())
	}
	if h := sentHistory(t, alice, "bob"); len(h) != 1 || h[0] != "1:sent while offline:pending" {
		t.Fatalf("alice's history %q, want the message pending", h)
	}

	if out := alice.run(t, "", "recv", "bob"); out != "" {
		t.Fatalf("recv printed %q", out)
	}
	checkLines(t, recvAll(t, bob, "alice", 1), "alice", []string{"sent while offline"})
}

// TestCLITwoDevicesTakeTurns: a laptop and a phone with one identity take
// turns sending, each with its own one-shot commands, while bob reads
// after each. Bob gets every message once and in order, and at the end
// both devices show every message of either as delivered, none twice.
func TestCLITwoDevicesTakeTurns(t *testing.T) {
	t.Parallel()
	alice, bob := chatPair(t)
	alice.run(t, "", "send", "bob", "hello")
	recvAll(t, bob, "alice", 1)
	alice.run(t, "", "recv", "bob")
	phone := &cliUser{name: "alice's phone", home: filepath.Join(t.TempDir(), "phone"), bootstrap: alice.bootstrap}
	copyHome(t, alice.home, phone.home)

	want := []string{"hello"}
	for round := range 3 {
		for _, dev := range []*cliUser{alice, phone} {
			text := fmt.Sprintf("%s %d", dev.name, round)
			dev.runErr(t, "", "send", "bob", text)
			want = append(want, text)
			recvAll(t, bob, "alice", 1)
		}
	}
	all := parseRecv(t, bob.run(t, "", "recv", "alice", "--all", "--json"))
	checkNumbered(t, all, "alice", want)
	for _, dev := range []*cliUser{alice, phone} {
		dev.runErr(t, "", "recv", "bob")
		var texts []string
		for _, h := range sentHistory(t, dev, "bob") {
			if !strings.HasSuffix(h, ":delivered") {
				t.Errorf("%s shows %s", dev.name, h)
			}
			texts = append(texts, h[strings.Index(h, ":")+1:strings.LastIndex(h, ":")])
		}
		slices.Sort(texts)
		sorted := slices.Clone(want)
		slices.Sort(sorted)
		if !slices.Equal(texts, sorted) {
			t.Errorf("%s's history has %q; want each of %q once", dev.name, texts, sorted)
		}
	}
}

// TestCLIRestoredHomeWithUnacknowledged: the backup is taken while m1 is
// published and bob has not read it yet. Restored after bob read m1 and m2
// and the original saw the acks, the home sends m3: bob gets m3 once and
// m1 not again, and alice shows m1 and m3 delivered. m2 is not in the
// restored history: once bob acknowledged it, the original's "recv"
// published records without it, so only bob has it now; its number is
// not used again.
func TestCLIRestoredHomeWithUnacknowledged(t *testing.T) {
	t.Parallel()
	alice, bob := chatPair(t)
	alice.run(t, "", "send", "bob", "m1")
	backup := filepath.Join(t.TempDir(), "backup")
	copyHome(t, alice.home, backup)
	checkLines(t, recvAll(t, bob, "alice", 1), "alice", []string{"m1"})
	alice.run(t, "", "recv", "bob") // the ack
	alice.run(t, "", "send", "bob", "m2")
	checkNumbered(t, recvAll(t, bob, "alice", 1), "alice", []string{"m2"})
	alice.run(t, "", "recv", "bob")

	if err := os.RemoveAll(alice.home); err != nil {
		t.Fatal(err)
	}
	copyHome(t, backup, alice.home)
	alice.runErr(t, "", "send", "bob", "m3")
	checkNumbered(t, recvAll(t, bob, "alice", 1), "alice", []string{"m3"})
	if extra := parseRecv(t, bob.run(t, "", "recv", "alice", "--json")); len(extra) != 0 {
		t.Fatalf("bob got more: %+v", extra)
	}
	checkNumbered(t, parseRecv(t, bob.run(t, "", "recv", "alice", "--all", "--json")), "alice", []string{"m1", "m2", "m3"})
	alice.runErr(t, "", "recv", "bob")
	want := []string{"1:m1:delivered", "3:m3:delivered"}
	if got := sentHistory(t, alice, "bob"); !slices.Equal(got, want) {
		t.Fatalf("alice's history:\n got %q\nwant %q", got, want)
	}
}
