package tui

import (
	"fmt"
	"path/filepath"
	"testing"

	tea "charm.land/bubbletea/v2"

	"github.com/dhtchat/dhtchat/chat"
	"github.com/dhtchat/dhtchat/keyring"
)

var client0Self keyring.PublicKey

// bigChat returns an offline Client whose one chat holds n messages.
func bigChat(tb testing.TB, n int) (*chat.Client, chat.ChatID) {
	tb.Helper()
	sk, self := fixedKey(tb, 1)
	client0Self = self
	_, peer := fixedKey(tb, 50)
	client, err := chat.Open(chat.Config{Identity: sk, DBPath: filepath.Join(tb.TempDir(), "db")})
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { client.Close() })
	started, err := client.StartChat(tb.Context(), peer)
	if err != nil {
		tb.Fatal(err)
	}
	const batch = 5000
	bodies := make([]string, 0, batch)
	for i := range n {
		bodies = append(bodies, fmt.Sprintf("body %d of a conversation that goes on and on, long enough to wrap on a narrow screen", i))
		if len(bodies) == batch || i == n-1 {
			if _, err := client.Send(tb.Context(), started.ID, bodies...); err != nil {
				tb.Fatal(err)
			}
			bodies = bodies[:0]
		}
	}
	return client, started.ID
}

// BenchmarkKeystrokeView is the cost of one keystroke in a chat of 100,000
// stored messages: Update with the key, then View. The goal is well under
// 2 ms and allocations independent of the chat's length.
func BenchmarkKeystrokeView(b *testing.B) {
	client, id := bigChat(b, 100_000)
	m := newModel(b.Context(), client, &book{self: client0Self}, nil)
	send(m, tea.WindowSizeMsg{Width: 120, Height: 40})
	for _, msg := range run(m.Init()) {
		send(m, msg)
	}
	if h := m.c.chats.hist(id); h == nil || len(h.entries) != pageSize {
		b.Fatalf("the chat did not open with one page")
	}
	keys := []tea.KeyPressMsg{{Code: 'a', Text: "a"}, {Code: tea.KeyBackspace}}
	b.ReportAllocs()
	i := 0
	for b.Loop() {
		m.Update(keys[i%2])
		_ = m.View()
		i++
	}
}
