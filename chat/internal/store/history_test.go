package store

import (
	"context"
	"fmt"
	"math/rand/v2"
	"strings"
	"testing"
)

// fillHistory stores total messages in chat id, alternating directions,
// with the messages of another chat between its first and second half, all
// in one transaction. Message i (1-based) has body "m<i>".
func fillHistory(tb testing.TB, s *Store, id, other ChatID, total int) {
	tb.Helper()
	ctx := context.Background()
	conn, err := s.db.Conn(ctx)
	if err != nil {
		tb.Fatal(err)
	}
	defer conn.Close()
	// A page cache that holds the whole transaction keeps SQLite from
	// spilling it to the WAL halfway; it roughly halves the time under -race.
	if _, err := conn.ExecContext(ctx, "PRAGMA cache_size = -65536"); err != nil {
		tb.Fatal(err)
	}
	defer conn.ExecContext(ctx, "PRAGMA cache_size = -2000")
	tx, err := conn.BeginTx(ctx, nil)
	if err != nil {
		tb.Fatal(err)
	}
	defer tx.Rollback()
	const insert = `WITH RECURSIVE x(i) AS (SELECT ? UNION ALL SELECT i + 1 FROM x WHERE i < ?)
INSERT INTO messages (chat, outgoing, n, sent_at, received_at, body, status)
SELECT ?, i % 2, (i + 1) / 2, i, i, 'm' || i, CASE i % 2 WHEN 1 THEN 2 ELSE 3 END FROM x`
	half := total / 2
	for _, r := range []struct {
		chat     ChatID
		from, to int
	}{{id, 1, half}, {other, 1, 1000}, {id, half + 1, total}} {
		if _, err := tx.ExecContext(ctx, insert, r.from, r.to, r.chat[:]); err != nil {
			tb.Fatal(err)
		}
	}
	for _, c := range []struct {
		chat ChatID
		n    int
	}{{id, total}, {other, 1000}} {
		if _, err := tx.ExecContext(ctx, `UPDATE chats SET sent = ?, received = ?, peer_ack = ? WHERE id = ?`,
			(c.n+1)/2, c.n/2, (c.n+1)/2, c.chat[:]); err != nil {
			tb.Fatal(err)
		}
	}
	if err := tx.Commit(); err != nil {
		tb.Fatal(err)
	}
}

func TestHistoryPaging(t *testing.T) {
	// The slowest test by far under -race (SQLite's transpiled C with
	// checkptr): let it overlap with the others.
	t.Parallel()
	s := newStore(t)
	ctx := context.Background()
	id, other := mkChat(t, s, 1), mkChat(t, s, 2)
	total := 100_000
	if testing.Short() {
		total = 10_000 // the same paging, a tenth of the rows
	}
	fillHistory(t, s, id, other, total)

	if n, err := s.Count(ctx, id); err != nil || n != total {
		t.Fatalf("Count = %d, %v; want %d", n, err, total)
	}
	// Page backwards from the end, as a UI scrolling up does.
	const limit = 997
	var before int64
	next := total // body index expected at the end of the next page
	pages := 0
	for {
		page, err := s.History(ctx, id, before, limit)
		if err != nil {
			t.Fatal(err)
		}
		if len(page) == 0 {
			break
		}
		pages++
		if want := min(limit, next); len(page) != want {
			t.Fatalf("page %d has %d messages, want %d", pages, len(page), want)
		}
		for j, m := range page {
			i := next - len(page) + 1 + j
			if m.Chat != id || m.Body != fmt.Sprint("m", i) || m.N != uint64(i+1)/2 || m.Outgoing != (i%2 == 1) ||
				(j > 0 && m.Seq <= page[j-1].Seq) || (before > 0 && m.Seq >= before) {
				t.Fatalf("page %d [%d] = %+v, want message %d", pages, j, m, i)
			}
		}
		next -= len(page)
		before = page[0].Seq
	}
	if next != 0 || pages != (total+limit-1)/limit {
		t.Errorf("paging ended with %d messages unseen after %d pages", next, pages)
	}

	// The page query must be an index range, not a scan of the table.
	rows, err := s.db.QueryContext(ctx, `EXPLAIN QUERY PLAN SELECT `+msgCols+` FROM messages
WHERE chat = ? AND seq < ? ORDER BY seq DESC LIMIT ?`, id[:], 1000, 10)
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
	if p := strings.Join(plan, "; "); !strings.Contains(p, "USING INDEX messages_chat_seq (chat=? AND seq<?)") ||
		strings.Contains(p, "TEMP B-TREE") {
		t.Errorf("History query plan = %q, want a range of messages_chat_seq without sorting", p)
	}
}

func BenchmarkHistoryPage(b *testing.B) {
	s := newStore(b)
	ctx := context.Background()
	id, other := mkChat(b, s, 1), mkChat(b, s, 2)
	const total = 100_000
	fillHistory(b, s, id, other, total)
	last, err := s.History(ctx, id, 0, 1)
	if err != nil {
		b.Fatal(err)
	}
	maxSeq := last[0].Seq
	r := rand.New(rand.NewPCG(3, 4))
	b.ResetTimer()
	for b.Loop() {
		before := 1 + r.Int64N(maxSeq)
		if _, err := s.History(ctx, id, before, 50); err != nil {
			b.Fatal(err)
		}
	}
}
