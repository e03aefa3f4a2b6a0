package main

import (
	"encoding/json"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/dhtchat/dhtchat/dht/dhttest"
	"github.com/dhtchat/dhtchat/internal/testwait"
)

// TestCLIAgentWaitDeliveredLive: with both agents on the live path,
// send --wait-delivered through alice's agent returns on bob's client's
// live ack. Once the live path is up the DHT is shut down, so that bob's
// acknowledgement in his slot records cannot reach alice: only the live
// ack can end the wait, and only the live stream can carry the message.
func TestCLIAgentWaitDeliveredLive(t *testing.T) {
	t.Parallel()
	if testing.Short() {
		t.Skip("dhtchat processes on a loopback DHT: slow, skipped with -short")
	}
	network := dhttest.NewNetwork(t, 4)
	boot := dhttest.FormatBootstrap(network.Bootstrap())
	alice, bob := newCLIUser(t, "alice", boot), newCLIUser(t, "bob", boot)
	befriend(t, alice, bob)
	startCLIChat(t, alice, bob)
	debug := []string{"DHTCHAT_DEBUG=1"}
	startAgentEnv(t, alice, debug)
	startAgentEnv(t, bob, debug)
	for _, u := range []*cliUser{alice, bob} {
		testwait.Until(t, u.name+"'s agent on the live path", func() bool {
			b, _ := os.ReadFile(filepath.Join(u.home, "debug.log"))
			return regexp.MustCompile(`msg="chat path".* path=live`).Match(b)
		})
	}
	if err := network.Close(); err != nil {
		t.Fatal(err)
	}
	for _, text := range []string{"one", "two"} {
		out, stderr, code := alice.runEnv(t, nil, "send", "--json", "--wait-delivered", "--timeout", "2m", "bob", text)
		if code != 0 {
			t.Fatalf("send --wait-delivered %q: exit %d\n%s", text, code, stderr)
		}
		if !strings.Contains(out, `"status":"delivered"`) {
			t.Errorf("send --wait-delivered %q printed %q: no delivered", text, out)
		}
	}
	checkHistory(t, bob, "alice", []string{"one", "two"})
}

// TestCLIAgentWaitDeliveredDHTOnly: the same with the live path off
// (DHTCHAT_LIVE=dht-only): the acknowledgement comes through the DHT.
func TestCLIAgentWaitDeliveredDHTOnly(t *testing.T) {
	t.Parallel()
	alice, bob := chatPair(t)
	dhtOnly := []string{"DHTCHAT_LIVE=dht-only"}
	startAgentEnv(t, alice, dhtOnly)
	startAgentEnv(t, bob, dhtOnly)
	out, stderr, code := alice.runEnv(t, dhtOnly, "send", "--json", "--wait-delivered", "--timeout", "2m", "bob", "one")
	if code != 0 {
		t.Fatalf("send --wait-delivered: exit %d\n%s", code, stderr)
	}
	if !strings.Contains(out, `"status":"delivered"`) {
		t.Errorf("send --wait-delivered printed %q: no delivered", out)
	}
	checkHistory(t, bob, "alice", []string{"one"})
}

// checkHistory checks that u's history with friend holds exactly the
// friend's messages want, in order.
func checkHistory(t *testing.T, u *cliUser, friend string, want []string) {
	t.Helper()
	var got []string
	for l := range strings.Lines(u.run(t, "", "history", friend, "--json")) {
		var m struct {
			From string `json:"from"`
			Text string `json:"text"`
		}
		if err := json.Unmarshal([]byte(l), &m); err != nil {
			t.Fatalf("history line %q: %v", l, err)
		}
		if m.From == friend {
			got = append(got, m.Text)
		}
	}
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Errorf("%s's history from %s = %q, want %q", u.name, friend, got, want)
	}
}
