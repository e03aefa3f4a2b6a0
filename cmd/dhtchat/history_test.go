package main

import (
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/dhtchat/dhtchat/chat"
)

func TestTimeline(t *testing.T) {
	at := func(s int) time.Time { return time.Unix(1_700_000_000+int64(s), 0) }
	out := func(seq int64, n uint64, s int) chat.Entry {
		return chat.Entry{Seq: seq, Outgoing: true, N: n, SentAt: at(s)}
	}
	in := func(seq int64, n uint64, s int) chat.Entry { return chat.Entry{Seq: seq, N: n, SentAt: at(s)} }
	for _, tc := range []struct {
		name string
		es   []chat.Entry
		want []int64 // Seqs
	}{
		{"empty", nil, nil},
		{"stored in time order", []chat.Entry{out(1, 1, 10), in(2, 1, 20), out(3, 2, 30)}, []int64{1, 2, 3}},
		// Ours at 10 and 30; theirs written at 20 and 25, stored after.
		{"received late", []chat.Entry{out(1, 1, 10), out(2, 2, 30), in(3, 1, 20), in(4, 2, 25)}, []int64{1, 3, 4, 2}},
		// Their clock went back: their order is kept all the same.
		{"clock back", []chat.Entry{in(1, 1, 50), in(2, 2, 5), out(3, 1, 20)}, []int64{3, 1, 2}},
		{"tie: stored first", []chat.Entry{in(2, 1, 10), out(1, 1, 10)}, []int64{1, 2}},
	} {
		var got []int64
		for _, e := range timeline(tc.es) {
			got = append(got, e.Seq)
		}
		if len(got) != len(tc.want) {
			t.Errorf("%s: timeline = %v, want %v", tc.name, got, tc.want)
			continue
		}
		for i := range got {
			if got[i] != tc.want[i] {
				t.Errorf("%s: timeline = %v, want %v", tc.name, got, tc.want)
				break
			}
		}
	}
}

// TestCLIHistoryInTimeOrder: bob writes while alice has not fetched; alice
// writes after him; then her recv stores his message after hers. history
// shows bob's first, where it was written, in text and --json alike.
func TestCLIHistoryInTimeOrder(t *testing.T) {
	t.Parallel()
	alice, bob := chatPair(t)
	bob.run(t, "", "send", "alice", "bob first")
	alice.run(t, "", "send", "bob", "alice second")
	alice.run(t, "", "send", "bob", "alice third")
	checkLines(t, recvAll(t, alice, "bob", 1), "bob", []string{"bob first"})

	var got []string
	var last time.Time
	for l := range strings.Lines(alice.run(t, "", "history", "bob", "--json")) {
		var h historyJSON
		if err := json.Unmarshal([]byte(l), &h); err != nil {
			t.Fatal(err)
		}
		if h.SentAt.Before(last) {
			t.Errorf("history --json goes back in time at %q", h.Text)
		}
		last = h.SentAt
		got = append(got, h.From+": "+h.Text)
	}
	if want := "bob: bob first|me: alice second|me: alice third"; strings.Join(got, "|") != want {
		t.Errorf("history --json = %q, want %q", strings.Join(got, "|"), want)
	}
	text := alice.run(t, "", "history", "bob")
	if i, j := strings.Index(text, "bob: bob first"), strings.Index(text, "me: alice second"); i < 0 || j < 0 || i > j {
		t.Errorf("history:\n%s", text)
	}
}
