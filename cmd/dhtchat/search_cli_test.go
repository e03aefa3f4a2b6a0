package main

import (
	"encoding/json"
	"strings"
	"testing"
)

// TestCLISearch: search prints the messages of both sides that contain the
// text, ignoring case, as history does, in text and --json; no match is
// no output and success.
func TestCLISearch(t *testing.T) {
	t.Parallel()
	alice, bob := chatPair(t)
	alice.run(t, "Meeting at noon\nlunch first\n", "send", "bob", "-")
	bob.run(t, "", "send", "alice", "the MEETING moved to 1")
	checkLines(t, recvAll(t, alice, "bob", 1), "bob", []string{"the MEETING moved to 1"})

	out := alice.run(t, "", "search", "bob", "meeting")
	lines := strings.Split(strings.TrimSpace(out), "\n")
	if len(lines) != 2 || !strings.Contains(lines[0], "me: Meeting at noon (") || !strings.Contains(lines[1], "bob: the MEETING moved to 1") {
		t.Errorf("search bob meeting:\n%s", out)
	}
	var got []string
	for l := range strings.Lines(alice.run(t, "", "search", "bob", "moved", "to", "--json")) {
		var h historyJSON
		if err := json.Unmarshal([]byte(l), &h); err != nil {
			t.Fatal(err)
		}
		got = append(got, h.From+": "+h.Text)
	}
	if want := "bob: the MEETING moved to 1"; strings.Join(got, "|") != want {
		t.Errorf("search --json = %q, want %q", got, want)
	}
	if out := alice.run(t, "", "search", "bob", "absent"); out != "" {
		t.Errorf("search with no match printed %q", out)
	}
}
