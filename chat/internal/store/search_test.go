package store

import (
	"context"
	"database/sql"
	"fmt"
	"math/rand/v2"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

func bodies(msgs []Message) []string {
	out := make([]string, len(msgs))
	for i, m := range msgs {
		out[i] = m.Body
	}
	return out
}

func search(t *testing.T, s *Store, id ChatID, text string) []string {
	t.Helper()
	hits, err := s.Search(t.Context(), id, text, 0)
	if err != nil {
		t.Fatalf("Search(%q) = %v", text, err)
	}
	for i := 1; i < len(hits); i++ {
		if hits[i].Seq <= hits[i-1].Seq {
			t.Fatalf("Search(%q) not oldest first: %+v", text, hits)
		}
	}
	return bodies(hits)
}

func TestSearch(t *testing.T) {
	s := newStore(t)
	ctx := t.Context()
	id, other := mkChat(t, s, 1), mkChat(t, s, 2)
	if _, err := s.Enqueue(ctx, id, []string{"Hello World", "the meeting is at noon", `say "quoted" AND NOT this`, "naïve café", "ok"}, t0); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Receive(ctx, id, []Message{{N: 1, SentAt: t0, Body: "see you at the MEETING"}}); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Enqueue(ctx, other, []string{"another meeting, another chat"}, t0); err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		text string
		want []string
	}{
		{"meeting", []string{"the meeting is at noon", "see you at the MEETING"}},
		{"eet", []string{"the meeting is at noon", "see you at the MEETING"}}, // a substring, not a word
		{"hello world", []string{"Hello World"}},
		{"world hello", nil}, // a phrase, not a set of words
		{`"quoted"`, []string{`say "quoted" AND NOT this`}},
		{"AND NOT", []string{`say "quoted" AND NOT this`}}, // FTS5 syntax is text
		{"café", []string{"naïve café"}},
		{"ok", []string{"ok"}}, // short: the scan
		{"W", []string{"Hello World"}},
		{"*", nil},
		{"", nil},
		{"absent", nil},
	} {
		if got := search(t, s, id, c.text); !slices.Equal(got, c.want) {
			t.Errorf("Search(%q) = %q, want %q", c.text, got, c.want)
		}
	}
	if _, err := s.Search(ctx, chatID(9), "meeting", 0); err == nil {
		t.Error("Search of a missing chat succeeded")
	}

	// A deleted chat's messages leave the index with it.
	if _, err := s.DeleteChat(ctx, other); err != nil {
		t.Fatal(err)
	}
	var n int
	if err := s.db.QueryRowContext(ctx, `SELECT count(*) FROM messages_fts WHERE messages_fts MATCH '"another"'`).Scan(&n); err != nil || n != 0 {
		t.Errorf("index rows of the deleted chat = %d, %v; want 0", n, err)
	}
	if _, err := s.db.ExecContext(ctx, `INSERT INTO messages_fts (messages_fts, rank) VALUES ('integrity-check', 1)`); err != nil {
		t.Errorf("FTS integrity check: %v", err)
	}
}

func TestSearchLimitKeepsNewest(t *testing.T) {
	s := newStore(t)
	ctx := t.Context()
	id := mkChat(t, s, 1)
	var in []string
	for i := range 30 {
		in = append(in, fmt.Sprintf("note %02d", i))
	}
	if _, err := s.Enqueue(ctx, id, in, t0); err != nil {
		t.Fatal(err)
	}
	hits, err := s.Search(ctx, id, "note", 5)
	if err != nil {
		t.Fatal(err)
	}
	if got := bodies(hits); !slices.Equal(got, in[25:]) {
		t.Errorf("Search limit 5 = %q, want the newest five %q", got, in[25:])
	}
}

// TestMigrateV6Search: messages stored before the index existed are found
// after the migration to version 7, and the chat has an empty draft.
func TestMigrateV6Search(t *testing.T) {
	ctx := t.Context()
	path := filepath.Join(t.TempDir(), "v6.db")
	db, err := sql.Open("sqlite", path)
	if err != nil {
		t.Fatal(err)
	}
	id, peer := chatID(1), peerKey(1)
	for _, q := range migrations[:6] {
		if _, err := db.ExecContext(ctx, q); err != nil {
			t.Fatal(err)
		}
	}
	for _, q := range []struct {
		sql  string
		args []any
	}{
		{sql: `INSERT INTO chats (id, wire, peer, started_by_me, created_at, last_activity, received) VALUES (?, ?, ?, 0, 1, 2, 2)`, args: []any{id[:], id[:], peer[:]}},
		{sql: `INSERT INTO messages (chat, outgoing, n, sent_at, received_at, body, status) VALUES (?, 0, 1, 1, 1, 'old news', 3), (?, 0, 2, 2, 2, 'other', 3)`, args: []any{id[:], id[:]}},
		{sql: fmt.Sprintf("PRAGMA application_id = %d", applicationID)},
		{sql: "PRAGMA user_version = 6"},
	} {
		if _, err := db.ExecContext(ctx, q.sql, q.args...); err != nil {
			t.Fatalf("%s: %v", q.sql, err)
		}
	}
	db.Close()
	s := openAt(t, path)
	if got := search(t, s, id, "news"); !slices.Equal(got, []string{"old news"}) {
		t.Errorf("Search after migrating = %q, want the old message", got)
	}
	if d, err := s.Draft(ctx, id); err != nil || d != "" {
		t.Errorf("Draft after migrating = %q, %v; want empty", d, err)
	}
}

func TestDraft(t *testing.T) {
	ctx := t.Context()
	path := filepath.Join(t.TempDir(), "chats.db")
	s := openAt(t, path)
	id, other := mkChat(t, s, 1), mkChat(t, s, 2)
	if err := s.SetDraft(ctx, id, "half a thought\nsecond line"); err != nil {
		t.Fatal(err)
	}
	if err := s.SetDraft(ctx, chatID(9), "x"); err == nil {
		t.Error("SetDraft of a missing chat succeeded")
	}
	if err := s.SetDraft(ctx, id, strings.Repeat("x", MaxBody+1)); err == nil {
		t.Error("SetDraft of a too large draft succeeded")
	}
	s.Close()
	s = openAt(t, path)
	if d, err := s.Draft(ctx, id); err != nil || d != "half a thought\nsecond line" {
		t.Errorf("Draft after reopening = %q, %v", d, err)
	}
	if d, err := s.Draft(ctx, other); err != nil || d != "" {
		t.Errorf("Draft of another chat = %q, %v; want empty", d, err)
	}
	if err := s.SetDraft(ctx, id, ""); err != nil {
		t.Fatal(err)
	}
	if d, err := s.Draft(ctx, id); err != nil || d != "" {
		t.Errorf("Draft after clearing = %q, %v", d, err)
	}
}

// TestSearch100k: on the history of 100,000 messages that the paging test
// uses, a search finds exactly the bodies that contain the text, and its
// query is served by the full-text index.
func TestSearch100k(t *testing.T) {
	t.Parallel()
	s := newStore(t)
	ctx := context.Background()
	id, other := mkChat(t, s, 1), mkChat(t, s, 2)
	total := 100_000
	if testing.Short() {
		total = 10_000
	}
	fillHistory(t, s, id, other, total)
	hits, err := s.Search(ctx, id, "m1234", 0)
	if err != nil {
		t.Fatal(err)
	}
	var want []string
	for i := 1; i <= total; i++ {
		if b := fmt.Sprint("m", i); strings.Contains(b, "m1234") {
			want = append(want, b)
		}
	}
	if got := bodies(hits); !slices.Equal(got, want) {
		t.Errorf("Search(m1234) = %d hits, want %d", len(got), len(want))
	}
	rows, err := s.db.QueryContext(ctx, `EXPLAIN QUERY PLAN SELECT m.seq FROM messages_fts f JOIN messages m ON m.seq = f.rowid
WHERE messages_fts MATCH ? AND m.chat = ? ORDER BY m.seq DESC LIMIT ?`, `"m1234"`, id[:], 10)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	var plan []string
	for rows.Next() {
		var a, b, c int
		var detail string
		if err := rows.Scan(&a, &b, &c, &detail); err != nil {
			t.Fatal(err)
		}
		plan = append(plan, detail)
	}
	if p := strings.Join(plan, "; "); !strings.Contains(p, "VIRTUAL TABLE INDEX") || strings.Contains(p, "SCAN m") {
		t.Errorf("Search query plan = %q, want the FTS index first", p)
	}
}

// BenchmarkSearch: searches in a chat of 100,000 messages (with 1,000 of
// another chat in between): a query of a few hits through the trigram
// index, one of 1,000 hits, and a query of one or two characters, which
// scans the chat's rows.
func BenchmarkSearch(b *testing.B) {
	s := newStore(b)
	ctx := context.Background()
	id, other := mkChat(b, s, 1), mkChat(b, s, 2)
	fillHistory(b, s, id, other, 100_000)
	r := rand.New(rand.NewPCG(5, 6))
	b.Run("trigram", func(b *testing.B) {
		for b.Loop() {
			if _, err := s.Search(ctx, id, fmt.Sprint("m", 1000+r.IntN(99_000)), 0); err != nil {
				b.Fatal(err)
			}
		}
	})
	// "m12" is in 1,111 bodies: the limit of 1,000 hits, as a common
	// word would give.
	b.Run("trigram-1000-hits", func(b *testing.B) {
		for b.Loop() {
			if _, err := s.Search(ctx, id, "m12", 0); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("short-scan", func(b *testing.B) {
		for b.Loop() {
			if _, err := s.Search(ctx, id, fmt.Sprint(r.IntN(100)), 0); err != nil {
				b.Fatal(err)
			}
		}
	})
}
