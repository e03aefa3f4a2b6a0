// This file is long because it is the store's contract, method by method,
// against a real SQLite file: splitting it would scatter one table of
// behaviours over several files.

package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"math"
	"math/rand/v2"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"
)

func openAt(t testing.TB, path string) *Store {
	t.Helper()
	s, err := Open(path)
	if err != nil {
		t.Fatalf("Open(%q) = %v", path, err)
	}
	t.Cleanup(func() {
		if err := s.Close(); err != nil {
			t.Errorf("Close() = %v", err)
		}
	})
	return s
}

func newStore(t testing.TB) *Store {
	t.Helper()
	return openAt(t, filepath.Join(t.TempDir(), "chats.db"))
}

func chatID(i byte) ChatID   { return ChatID{0: 0xc0, 15: i} }
func wireID(i byte) WireID   { return WireID{0: 0x1d, 15: i} }
func peerKey(i byte) PeerKey { return PeerKey{0: 0x9e, 31: i} }

var t0 = time.Date(2026, 1, 2, 3, 4, 5, 6, time.UTC)

func mkChat(t testing.TB, s *Store, i byte) ChatID {
	t.Helper()
	c := Chat{ID: chatID(i), Wire: wireID(i), Peer: peerKey(i), StartedByMe: i%2 == 0, CreatedAt: t0.Add(time.Duration(i) * time.Second)}
	if _, _, err := s.CreateChat(context.Background(), c); err != nil {
		t.Fatalf("CreateChat(%d) = %v", i, err)
	}
	return c.ID
}

func ns(msgs []Message) []uint64 {
	out := make([]uint64, len(msgs))
	for i, m := range msgs {
		out[i] = m.N
	}
	return out
}

func seqRange(from, to uint64) []uint64 {
	var out []uint64
	for n := from; n <= to; n++ {
		out = append(out, n)
	}
	return out
}

func counts(t *testing.T, s *Store, id ChatID) Counters {
	t.Helper()
	c, err := s.Counters(context.Background(), id)
	if err != nil {
		t.Fatalf("Counters = %v", err)
	}
	return c
}

func TestOpenFilesArePrivate(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "missing", "data")
	path := filepath.Join(dir, "chats.db")
	s := openAt(t, path)
	id := mkChat(t, s, 1)
	if _, err := s.Enqueue(context.Background(), id, []string{"hi"}, t0); err != nil {
		t.Fatal(err)
	}
	for name, want := range map[string]os.FileMode{
		dir:           0o700,
		path:          0o600,
		path + "-wal": 0o600,
		path + "-shm": 0o600,
	} {
		fi, err := os.Stat(name)
		if err != nil {
			t.Fatal(err)
		}
		if got := fi.Mode().Perm(); got != want {
			t.Errorf("mode of %s = %v, want %v", name, got, want)
		}
	}
	var mode string
	if err := s.db.QueryRow("PRAGMA journal_mode").Scan(&mode); err != nil || mode != "wal" {
		t.Errorf("journal_mode = %q, %v; want wal", mode, err)
	}
	var sync, fk int
	if err := s.db.QueryRow("PRAGMA synchronous").Scan(&sync); err != nil || sync != 2 {
		t.Errorf("synchronous = %d, %v; want 2 (FULL)", sync, err)
	}
	if err := s.db.QueryRow("PRAGMA foreign_keys").Scan(&fk); err != nil || fk != 1 {
		t.Errorf("foreign_keys = %d, %v; want 1", fk, err)
	}
}

func TestOpenTightensPermissions(t *testing.T) {
	path := filepath.Join(t.TempDir(), "chats.db")
	if err := os.WriteFile(path, nil, 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.Chmod(path, 0o644); err != nil {
		t.Fatal(err)
	}
	openAt(t, path)
	fi, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	if got := fi.Mode().Perm(); got != 0o600 {
		t.Errorf("mode = %v, want 0600", got)
	}
}

func TestOpenSpecialPathCharacters(t *testing.T) {
	path := filepath.Join(t.TempDir(), "a b?c#d%20e.db")
	s := openAt(t, path)
	mkChat(t, s, 1)
	if _, err := os.Stat(path); err != nil {
		t.Errorf("database not at %q: %v", path, err)
	}
}

func TestCloseIdempotent(t *testing.T) {
	s, err := Open(filepath.Join(t.TempDir(), "chats.db"))
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Close(); err != nil {
		t.Fatalf("first Close() = %v", err)
	}
	if err := s.Close(); err != nil {
		t.Fatalf("second Close() = %v", err)
	}
	ctx := context.Background()
	if _, err := s.Enqueue(ctx, chatID(1), []string{"x"}, t0); !errors.Is(err, ErrClosed) {
		t.Errorf("Enqueue after Close = %v, want ErrClosed", err)
	}
	if _, err := s.Chat(ctx, chatID(1)); !errors.Is(err, ErrClosed) {
		t.Errorf("Chat after Close = %v, want ErrClosed", err)
	}
	if _, err := s.History(ctx, chatID(1), 0, 10); !errors.Is(err, ErrClosed) {
		t.Errorf("History after Close = %v, want ErrClosed", err)
	}
}

func TestOpenCorrupt(t *testing.T) {
	path := filepath.Join(t.TempDir(), "chats.db")
	junk := make([]byte, 16384)
	r := rand.New(rand.NewChaCha8([32]byte{1}))
	for i := range junk {
		junk[i] = byte(r.Uint32())
	}
	if err := os.WriteFile(path, junk, 0o600); err != nil {
		t.Fatal(err)
	}
	s, err := Open(path)
	if err == nil {
		s.Close()
		t.Fatal("Open(random bytes) succeeded")
	}
	if !errors.Is(err, ErrCorrupt) || !strings.HasPrefix(err.Error(), "store: ") {
		t.Errorf("Open(random bytes) = %q, want a store: error wrapping ErrCorrupt", err)
	}
	got, _ := os.ReadFile(path)
	if !slices.Equal(got, junk) {
		t.Error("Open modified the corrupt file")
	}
}

func TestOpenForeignDatabase(t *testing.T) {
	path := filepath.Join(t.TempDir(), "other.db")
	db, err := sql.Open("sqlite", path)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := db.Exec("CREATE TABLE notes (x TEXT)"); err != nil {
		t.Fatal(err)
	}
	db.Close()
	s, err := Open(path)
	if err == nil {
		s.Close()
		t.Fatal("Open(foreign database) succeeded")
	}
	if !errors.Is(err, ErrCorrupt) {
		t.Errorf("Open(foreign database) = %v, want ErrCorrupt", err)
	}
	db, err = sql.Open("sqlite", path)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	var mode string
	if err := db.QueryRow("PRAGMA journal_mode").Scan(&mode); err != nil || mode != "delete" {
		t.Errorf("foreign database journal_mode = %q, %v; Open must not change it", mode, err)
	}
}

func TestOpenTruncated(t *testing.T) {
	path := filepath.Join(t.TempDir(), "chats.db")
	s, err := Open(path)
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	id := mkChat(t, s, 1)
	bodies := make([]string, 2000)
	for i := range bodies {
		bodies[i] = strings.Repeat("x", 200)
	}
	if _, err := s.Enqueue(ctx, id, bodies, t0); err != nil {
		t.Fatal(err)
	}
	s.Close() // checkpoints the WAL into the file
	fi, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.Truncate(path, fi.Size()/3); err != nil {
		t.Fatal(err)
	}
	s, err = Open(path)
	if err != nil {
		if !errors.Is(err, ErrCorrupt) {
			t.Errorf("Open(truncated) = %v, want ErrCorrupt", err)
		}
		return
	}
	defer s.Close()
	if _, err := s.History(ctx, id, 0, 10000); !errors.Is(err, ErrCorrupt) {
		t.Errorf("History on truncated database = %v, want ErrCorrupt", err)
	}
}

func TestSchemaTooNew(t *testing.T) {
	path := filepath.Join(t.TempDir(), "chats.db")
	s, err := Open(path)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := s.db.Exec("PRAGMA user_version = 99"); err != nil {
		t.Fatal(err)
	}
	s.Close()
	_, err = Open(path)
	var tooNew *SchemaTooNewError
	if !errors.As(err, &tooNew) || tooNew.Version != 99 {
		t.Fatalf("Open(version 99) = %v, want *SchemaTooNewError", err)
	}
	if !strings.HasPrefix(err.Error(), "store: ") || !strings.Contains(err.Error(), "upgrade") {
		t.Errorf("error text %q", err)
	}
}

func TestCreateChat(t *testing.T) {
	s := newStore(t)
	ctx := context.Background()
	c := Chat{ID: chatID(1), Wire: wireID(1), Peer: peerKey(1), StartedByMe: true, CreatedAt: t0}
	got, created, err := s.CreateChat(ctx, c)
	if err != nil || !created {
		t.Fatalf("CreateChat = %v, %v, %v", got, created, err)
	}
	if got.ID != c.ID || got.Wire != c.Wire || got.Peer != c.Peer || !got.StartedByMe || !got.CreatedAt.Equal(t0) || !got.LastActivity.Equal(t0) {
		t.Errorf("CreateChat = %+v", got)
	}
	// The same peer and wire ID: the chat there is, whatever the ID asked.
	again, created, err := s.CreateChat(ctx, Chat{Wire: c.Wire, Peer: c.Peer, CreatedAt: t0.Add(time.Hour)})
	if err != nil || created || again != got {
		t.Errorf("CreateChat again = %+v, %v, %v; want %+v, false", again, created, err, got)
	}
	if _, _, err := s.CreateChat(ctx, Chat{ID: c.ID, Wire: wireID(2), Peer: peerKey(2)}); !errors.Is(err, ErrChatConflict) {
		t.Errorf("CreateChat(an ID in use) = %v, want ErrChatConflict", err)
	}
	if _, _, err := s.CreateChat(ctx, Chat{Peer: peerKey(2)}); err == nil {
		t.Error("CreateChat(zero wire ID) succeeded")
	}
	if _, _, err := s.CreateChat(ctx, Chat{Wire: wireID(3)}); err == nil {
		t.Error("CreateChat(zero peer) succeeded")
	}
	// A zero ID: a fresh random one.
	r1, _, err1 := s.CreateChat(ctx, Chat{Wire: wireID(5), Peer: peerKey(5)})
	r2, _, err2 := s.CreateChat(ctx, Chat{Wire: wireID(6), Peer: peerKey(5)})
	if err1 != nil || err2 != nil || r1.ID == (ChatID{}) || r1.ID == r2.ID || r1.ID == ChatID(r1.Wire) {
		t.Errorf("CreateChat(zero ID) twice = %v (%v), %v (%v); want two random IDs", r1.ID, err1, r2.ID, err2)
	}
	read, err := s.Chat(ctx, c.ID)
	if err != nil || read != got {
		t.Errorf("Chat = %+v, %v; want %+v", read, err, got)
	}
	if _, err := s.Chat(ctx, chatID(9)); !errors.Is(err, ErrNotFound) {
		t.Errorf("Chat(unknown) = %v, want ErrNotFound", err)
	}

	// A zero CreatedAt means now.
	s.now = func() time.Time { return t0.Add(time.Minute) }
	c2, _, err := s.CreateChat(ctx, Chat{ID: chatID(4), Wire: wireID(4), Peer: peerKey(4)})
	if err != nil || !c2.CreatedAt.Equal(t0.Add(time.Minute)) {
		t.Errorf("CreateChat(zero CreatedAt) = %+v, %v", c2, err)
	}
}

func TestChatsAndLatest(t *testing.T) {
	s := newStore(t)
	ctx := context.Background()
	a, b, c := mkChat(t, s, 1), mkChat(t, s, 2), mkChat(t, s, 3)
	// A second, older-activity chat with the same peer as a.
	a2 := Chat{ID: chatID(11), Wire: wireID(11), Peer: peerKey(1), CreatedAt: t0.Add(-time.Hour)}
	if _, _, err := s.CreateChat(ctx, a2); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Enqueue(ctx, b, []string{"to b"}, t0.Add(time.Hour)); err != nil {
		t.Fatal(err)
	}
	s.now = func() time.Time { return t0.Add(2 * time.Hour) }
	in := []Message{{N: 1, Body: "one"}, {N: 2, Body: "two"}, {N: 3, Body: "three"}}
	if _, err := s.Receive(ctx, a, in); err != nil {
		t.Fatal(err)
	}
	if err := s.MarkRead(ctx, a, 1); err != nil {
		t.Fatal(err)
	}
	sums, err := s.Chats(ctx)
	if err != nil {
		t.Fatal(err)
	}
	type row struct {
		id     ChatID
		unread int
		last   string
	}
	var got []row
	for _, sum := range sums {
		got = append(got, row{sum.ID, sum.Unread, sum.LastText})
	}
	want := []row{{a, 2, "three"}, {b, 0, "to b"}, {c, 0, ""}, {a2.ID, 0, ""}}
	if !slices.Equal(got, want) {
		t.Errorf("Chats = %+v, want %+v", got, want)
	}
	if !sums[0].LastActivity.Equal(t0.Add(2 * time.Hour)) {
		t.Errorf("LastActivity = %v", sums[0].LastActivity)
	}

	latest, err := s.LatestChatWith(ctx, peerKey(1))
	if err != nil || latest.ID != a {
		t.Errorf("LatestChatWith = %v, %v; want %v", latest.ID, err, a)
	}
	if _, err := s.LatestChatWith(ctx, peerKey(77)); !errors.Is(err, ErrNotFound) {
		t.Errorf("LatestChatWith(unknown) = %v, want ErrNotFound", err)
	}
}

func TestOutboxLifecycle(t *testing.T) {
	s := newStore(t)
	ctx := context.Background()
	id := mkChat(t, s, 1)
	msgs, err := s.Enqueue(ctx, id, []string{"a", "b", "c"}, t0)
	if err != nil {
		t.Fatal(err)
	}
	if got := ns(msgs); !slices.Equal(got, []uint64{1, 2, 3}) {
		t.Fatalf("Enqueue Ns = %v", got)
	}
	for i, m := range msgs {
		if !m.Outgoing || m.Status != Pending || m.Chat != id || !m.SentAt.Equal(t0) || m.Seq <= 0 ||
			(i > 0 && m.Seq <= msgs[i-1].Seq) {
			t.Errorf("Enqueue[%d] = %+v", i, m)
		}
	}
	un, err := s.Unacked(ctx, id, 0)
	if err != nil || !slices.Equal(un, msgs) {
		t.Errorf("Unacked = %+v, %v; want %+v", un, err, msgs)
	}
	if un, _ := s.Unacked(ctx, id, 2); !slices.Equal(ns(un), []uint64{1, 2}) {
		t.Errorf("Unacked(limit 2) = %v", ns(un))
	}

	pub, err := s.MarkPublished(ctx, id, 2)
	if err != nil || !slices.Equal(ns(pub), []uint64{1, 2}) || pub[0].Status != Published {
		t.Errorf("MarkPublished(2) = %+v, %v", pub, err)
	}
	if pub, _ := s.MarkPublished(ctx, id, 2); len(pub) != 0 {
		t.Errorf("MarkPublished(2) again = %v, want none", ns(pub))
	}

	del, err := s.MarkDelivered(ctx, id, 1)
	if err != nil || !slices.Equal(ns(del), []uint64{1}) || del[0].Status != Delivered {
		t.Errorf("MarkDelivered(1) = %+v, %v", del, err)
	}
	un, _ = s.Unacked(ctx, id, 0)
	if !slices.Equal(ns(un), []uint64{2, 3}) || un[0].Status != Published || un[1].Status != Pending {
		t.Errorf("Unacked after ack 1 = %+v", un)
	}

	// An ack above what was sent is clamped; it delivers Pending ones too
	// (the record was published, the crash came before MarkPublished).
	del, err = s.MarkDelivered(ctx, id, 1000)
	if err != nil || !slices.Equal(ns(del), []uint64{2, 3}) {
		t.Errorf("MarkDelivered(1000) = %v, %v", ns(del), err)
	}
	if c := counts(t, s, id); c.PeerAck != 3 || c.Sent != 3 {
		t.Errorf("after clamped ack: %+v, want PeerAck 3 Sent 3", c)
	}
	// Acks never go back.
	if del, err := s.MarkDelivered(ctx, id, 2); err != nil || len(del) != 0 {
		t.Errorf("MarkDelivered(2) after 3 = %v, %v", ns(del), err)
	}
	if ack, err := s.PeerAck(ctx, id); err != nil || ack != 3 {
		t.Errorf("PeerAck = %d, %v; want 3", ack, err)
	}
	// The clamped ack does not swallow the next message.
	msgs, err = s.Enqueue(ctx, id, []string{"d"}, t0)
	if err != nil || !slices.Equal(ns(msgs), []uint64{4}) {
		t.Fatalf("Enqueue after ack = %v, %v", ns(msgs), err)
	}
	if un, _ := s.Unacked(ctx, id, 0); !slices.Equal(ns(un), []uint64{4}) {
		t.Errorf("Unacked = %v, want [4]", ns(un))
	}
	if pub, _ := s.MarkPublished(ctx, id, math.MaxUint64); !slices.Equal(ns(pub), []uint64{4}) {
		t.Errorf("MarkPublished(max) = %v", ns(pub))
	}
	if del, _ := s.MarkDelivered(ctx, id, math.MaxUint64); !slices.Equal(ns(del), []uint64{4}) {
		t.Errorf("MarkDelivered(max) = %v", ns(del))
	}
	if un, _ := s.Unacked(ctx, id, 0); len(un) != 0 {
		t.Errorf("Unacked = %v, want none", ns(un))
	}
	if n, err := s.Count(ctx, id); err != nil || n != 4 {
		t.Errorf("Count = %d, %v; want 4", n, err)
	}
}

func TestUnknownChat(t *testing.T) {
	s := newStore(t)
	ctx := context.Background()
	id := chatID(42)
	errs := map[string]error{}
	_, errs["Enqueue"] = s.Enqueue(ctx, id, []string{"x"}, t0)
	_, errs["Enqueue(none)"] = s.Enqueue(ctx, id, nil, t0)
	_, errs["Unacked"] = s.Unacked(ctx, id, 0)
	_, errs["MarkPublished"] = s.MarkPublished(ctx, id, 1)
	_, errs["MarkDelivered"] = s.MarkDelivered(ctx, id, 1)
	_, errs["Receive"] = s.Receive(ctx, id, []Message{{N: 1}})
	_, errs["Received"] = s.Received(ctx, id)
	_, errs["PeerAck"] = s.PeerAck(ctx, id)
	_, errs["ReadUpTo"] = s.ReadUpTo(ctx, id)
	errs["MarkRead"] = s.MarkRead(ctx, id, 1)
	_, errs["NextSeq"] = s.NextSeq(ctx, id, 0)
	_, errs["PeerSeq"] = s.PeerSeq(ctx, id, 0)
	_, errs["AdvancePeerSeq"] = s.AdvancePeerSeq(ctx, id, 0, 1)
	_, errs["History"] = s.History(ctx, id, 0, 10)
	_, errs["Incoming"] = s.Incoming(ctx, id, 0, 10)
	_, errs["Count"] = s.Count(ctx, id)
	for name, err := range errs {
		if !errors.Is(err, ErrNotFound) {
			t.Errorf("%s(unknown chat) = %v, want ErrNotFound", name, err)
		}
	}
}

func TestBodyLimit(t *testing.T) {
	s := newStore(t)
	ctx := context.Background()
	id := mkChat(t, s, 1)
	huge := strings.Repeat("x", MaxBody+1)
	if _, err := s.Enqueue(ctx, id, []string{"ok", huge}, t0); !errors.Is(err, ErrTooLarge) {
		t.Errorf("Enqueue(huge) = %v, want ErrTooLarge", err)
	}
	if _, err := s.Receive(ctx, id, []Message{{N: 1, Body: "ok"}, {N: 2, Body: huge}}); !errors.Is(err, ErrTooLarge) {
		t.Errorf("Receive(huge) = %v, want ErrTooLarge", err)
	}
	if c := counts(t, s, id); c != (Counters{}) {
		t.Errorf("after rejected bodies: %+v, want nothing stored", c)
	}
	if _, err := s.Enqueue(ctx, id, []string{strings.Repeat("x", MaxBody)}, t0); err != nil {
		t.Errorf("Enqueue(MaxBody) = %v", err)
	}
}

func TestReceiveBasics(t *testing.T) {
	s := newStore(t)
	ctx := context.Background()
	id := mkChat(t, s, 1)
	now := t0.Add(time.Hour)
	s.now = func() time.Time { return now }
	got, err := s.Receive(ctx, id, []Message{
		{N: 3, Body: "three"}, {N: 1, Body: "one", SentAt: t0}, {N: 2, Body: "two"}, {N: 1, Body: "dup"}, {N: 5, Body: "gap"},
		{N: 0, Body: "zero"}, {N: math.MaxUint64, Body: "max"},
	})
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(ns(got), []uint64{1, 2, 3}) {
		t.Fatalf("Receive Ns = %v, want [1 2 3]", ns(got))
	}
	m := got[0]
	if m.Outgoing || m.Status != Received || m.Body != "one" || !m.SentAt.Equal(t0) || !m.ReceivedAt.Equal(now) || m.Chat != id {
		t.Errorf("Receive[0] = %+v", m)
	}
	if r, err := s.Received(ctx, id); err != nil || r != 3 {
		t.Errorf("Received = %d, %v; want 3", r, err)
	}
	if c, _ := s.Chat(ctx, id); !c.LastActivity.Equal(now) {
		t.Errorf("LastActivity = %v, want %v", c.LastActivity, now)
	}
	hist, err := s.History(ctx, id, 0, 10)
	if err != nil || !slices.Equal(hist, got) {
		t.Errorf("History = %+v, %v; want %+v", hist, err, got)
	}
	in, err := s.Incoming(ctx, id, 1, 0)
	if err != nil || !slices.Equal(ns(in), []uint64{2, 3}) {
		t.Errorf("Incoming(after 1) = %v, %v", ns(in), err)
	}
}

// TestReceiveExactlyOnceInOrder feeds Receive random batches — shuffled,
// duplicated, with gaps and with numbers already stored — and checks that
// the store holds each message exactly once, in order, with the right body.
func TestReceiveExactlyOnceInOrder(t *testing.T) {
	s := newStore(t)
	ctx := context.Background()
	r := rand.New(rand.NewPCG(1, 2))
	body := func(n uint64) string { return "m" + string(rune('a'+n%26)) + strings.Repeat("!", int(n%7)) }
	// Each step is a durable (fsynced) transaction: keep the count modest.
	const total = 80
	for round := range 12 {
		id := mkChat(t, s, byte(round+1))
		var want uint64 // model: highest contiguous N stored
		var stored []Message
		for step := 0; want < total; step++ {
			if step > 10000 {
				t.Fatalf("round %d: no progress", round)
			}
			// A batch around the current position: some old, some new,
			// some beyond, duplicated and shuffled.
			var batch []Message
			lo := uint64(max(1, int(want)-r.IntN(10)))
			hi := min(uint64(total), want+uint64(r.IntN(20)))
			for n := lo; n <= hi; n++ {
				if r.IntN(6) == 0 {
					continue // gap
				}
				for range 1 + r.IntN(3) {
					batch = append(batch, Message{N: n, Body: body(n), SentAt: t0.Add(time.Duration(n))})
				}
			}
			r.Shuffle(len(batch), func(i, j int) { batch[i], batch[j] = batch[j], batch[i] })

			present := map[uint64]bool{}
			for _, m := range batch {
				present[m.N] = true
			}
			next := want
			for present[next+1] {
				next++
			}
			got, err := s.Receive(ctx, id, batch)
			if err != nil {
				t.Fatal(err)
			}
			if !slices.Equal(ns(got), seqRange(want+1, next)) {
				t.Fatalf("round %d step %d: Receive stored %v, want %d..%d", round, step, ns(got), want+1, next)
			}
			want = next
			stored = append(stored, got...)
		}
		hist, err := s.History(ctx, id, 0, 2*total)
		if err != nil {
			t.Fatal(err)
		}
		if !slices.Equal(hist, stored) || len(hist) != total {
			t.Fatalf("round %d: History has %d messages, want the %d returned", round, len(hist), len(stored))
		}
		for i, m := range hist {
			if m.N != uint64(i+1) || m.Body != body(m.N) || !m.SentAt.Equal(t0.Add(time.Duration(m.N))) {
				t.Fatalf("round %d: History[%d] = %+v", round, i, m)
			}
		}
	}
}

func TestReceiveConcurrent(t *testing.T) {
	path := filepath.Join(t.TempDir(), "chats.db")
	a, b := openAt(t, path), openAt(t, path)
	id := mkChat(t, a, 1)
	var batch []Message
	for n := uint64(1); n <= 50; n++ {
		batch = append(batch, Message{N: n, Body: "x"})
	}
	var wg sync.WaitGroup
	results := make([][]Message, 8)
	errs := make([]error, 8)
	for i := range results {
		s := a
		if i%2 == 1 {
			s = b
		}
		wg.Go(func() {
			for k := 0; k < 50; k += 10 {
				got, err := s.Receive(context.Background(), id, batch[:k+10])
				results[i] = append(results[i], got...)
				if err != nil {
					errs[i] = err
					return
				}
			}
		})
	}
	wg.Wait()
	var all []uint64
	for i := range results {
		if errs[i] != nil {
			t.Fatal(errs[i])
		}
		all = append(all, ns(results[i])...)
	}
	slices.Sort(all)
	if !slices.Equal(all, seqRange(1, 50)) {
		t.Errorf("concurrent Receive stored %v, want 1..50 once each", all)
	}
	if n, _ := a.Count(context.Background(), id); n != 50 {
		t.Errorf("Count = %d, want 50", n)
	}
}

func TestEnqueueConcurrent(t *testing.T) {
	path := filepath.Join(t.TempDir(), "chats.db")
	ctx := context.Background()
	var stores []*Store
	for range 4 {
		stores = append(stores, openAt(t, path))
	}
	id := mkChat(t, stores[0], 1)
	const goroutines, calls = 3, 15
	var (
		mu  sync.Mutex
		got []Message
		wg  sync.WaitGroup
	)
	for i, s := range stores {
		for g := range goroutines {
			wg.Go(func() {
				for c := range calls {
					k := 1 + (i+g+c)%3
					msgs, err := s.Enqueue(ctx, id, make([]string, k), t0)
					if err != nil {
						t.Error(err)
						return
					}
					if !slices.Equal(ns(msgs), seqRange(msgs[0].N, msgs[0].N+uint64(k)-1)) {
						t.Errorf("one Enqueue got non-consecutive Ns %v", ns(msgs))
					}
					mu.Lock()
					got = append(got, msgs...)
					mu.Unlock()
				}
			})
		}
	}
	wg.Wait()
	all := ns(got)
	slices.Sort(all)
	if !slices.Equal(all, seqRange(1, uint64(len(all)))) {
		t.Fatalf("concurrent Enqueue Ns are not 1..%d without gaps or duplicates: %v", len(all), all)
	}
	seqs := map[int64]bool{}
	for _, m := range got {
		if seqs[m.Seq] {
			t.Fatalf("Seq %d assigned twice", m.Seq)
		}
		seqs[m.Seq] = true
	}
	if c := counts(t, stores[3], id); c.Sent != uint64(len(all)) {
		t.Errorf("Sent = %d, want %d", c.Sent, len(all))
	}
	un, err := stores[2].Unacked(ctx, id, 0)
	if err != nil || !slices.Equal(ns(un), all) {
		t.Errorf("Unacked = %d messages, %v; want %d", len(un), err, len(all))
	}
}

func TestNextSeqAcrossHandles(t *testing.T) {
	path := filepath.Join(t.TempDir(), "chats.db")
	ctx := context.Background()
	a, b := openAt(t, path), openAt(t, path)
	id := mkChat(t, a, 1)
	if seq, err := a.NextSeq(ctx, id, 0); err != nil || seq != 1 {
		t.Fatalf("first NextSeq = %d, %v; want 1", seq, err)
	}
	if seq, _ := b.NextSeq(ctx, id, 0); seq != 2 {
		t.Errorf("NextSeq on the other handle = %d, want 2", seq)
	}
	if seq, _ := b.NextSeq(ctx, id, 1); seq != 1 {
		t.Errorf("NextSeq(slot 1) = %d, want 1: slots are independent", seq)
	}

	var (
		mu   sync.Mutex
		seen = map[uint64]bool{1: true, 2: true}
		wg   sync.WaitGroup
	)
	for i := range 6 {
		s := []*Store{a, b}[i%2]
		wg.Go(func() {
			var last uint64
			for range 20 {
				seq, err := s.NextSeq(ctx, id, 0)
				if err != nil {
					t.Error(err)
					return
				}
				if seq <= last {
					t.Errorf("NextSeq went from %d to %d", last, seq)
				}
				last = seq
				mu.Lock()
				if seen[seq] {
					t.Errorf("NextSeq returned %d twice", seq)
				}
				seen[seq] = true
				mu.Unlock()
			}
		})
	}
	wg.Wait()
	if len(seen) != 122 {
		t.Errorf("%d distinct sequence numbers, want 122", len(seen))
	}
	if seq, _ := a.NextSeqAfter(ctx, id, 0, 1000); seq != 1001 {
		t.Errorf("NextSeqAfter(1000) = %d, want 1001", seq)
	}
	if seq, _ := b.NextSeqAfter(ctx, id, 0, 5); seq != 1002 {
		t.Errorf("NextSeqAfter(5) = %d, want 1002", seq)
	}
	if _, err := a.NextSeqAfter(ctx, id, 2, math.MaxUint64); err == nil {
		t.Error("NextSeqAfter(MaxUint64) succeeded")
	}
	if _, err := a.NextSeq(ctx, id, -1); err == nil {
		t.Error("NextSeq(slot -1) succeeded")
	}
}

func TestPeerSeq(t *testing.T) {
	s := newStore(t)
	ctx := context.Background()
	id := mkChat(t, s, 1)
	steps := []struct {
		slot int
		seq  uint64
		want bool
	}{
		{0, 5, true}, {0, 5, false}, {0, 3, false}, {1, 1, true}, {0, 6, true},
		{0, math.MaxInt64 + 1, true}, {0, math.MaxInt64, false}, {0, math.MaxUint64, true}, {0, math.MaxUint64, false},
	}
	for _, st := range steps {
		got, err := s.AdvancePeerSeq(ctx, id, st.slot, st.seq)
		if err != nil || got != st.want {
			t.Errorf("AdvancePeerSeq(slot %d, %d) = %v, %v; want %v", st.slot, st.seq, got, err, st.want)
		}
	}
	if seq, err := s.PeerSeq(ctx, id, 0); err != nil || seq != math.MaxUint64 {
		t.Errorf("PeerSeq(0) = %d, %v", seq, err)
	}
	if seq, _ := s.PeerSeq(ctx, id, 1); seq != 1 {
		t.Errorf("PeerSeq(1) = %d, want 1", seq)
	}
	if seq, _ := s.PeerSeq(ctx, id, 7); seq != 0 {
		t.Errorf("PeerSeq(7) = %d, want 0", seq)
	}
	// Ours and the peer's are separate.
	if seq, _ := s.NextSeq(ctx, id, 0); seq != 1 {
		t.Errorf("NextSeq(0) = %d, want 1", seq)
	}
}

func TestReadCursor(t *testing.T) {
	s := newStore(t)
	ctx := context.Background()
	id := mkChat(t, s, 1)
	if _, err := s.Receive(ctx, id, []Message{{N: 1}, {N: 2}, {N: 3}}); err != nil {
		t.Fatal(err)
	}
	for _, st := range []struct{ mark, want uint64 }{
		{0, 0}, {2, 2}, {1, 2}, {100, 3}, {math.MaxUint64, 3},
	} {
		if err := s.MarkRead(ctx, id, st.mark); err != nil {
			t.Fatal(err)
		}
		if got, err := s.ReadUpTo(ctx, id); err != nil || got != st.want {
			t.Errorf("MarkRead(%d): ReadUpTo = %d, %v; want %d", st.mark, got, err, st.want)
		}
	}
}

func TestReopenKeepsEverything(t *testing.T) {
	path := filepath.Join(t.TempDir(), "chats.db")
	ctx := context.Background()
	s, err := Open(path)
	if err != nil {
		t.Fatal(err)
	}
	id := mkChat(t, s, 1)
	out, _ := s.Enqueue(ctx, id, []string{"a", "b", "c"}, t0)
	s.MarkPublished(ctx, id, 2)
	s.MarkDelivered(ctx, id, 1)
	in, _ := s.Receive(ctx, id, []Message{{N: 1, Body: "x", SentAt: t0}, {N: 2, Body: "y"}})
	s.MarkRead(ctx, id, 1)
	s.NextSeq(ctx, id, 0)
	s.NextSeq(ctx, id, 0)
	s.AdvancePeerSeq(ctx, id, 1, 9)
	before, err := s.History(ctx, id, 0, 100)
	if err != nil || len(before) != len(out)+len(in) {
		t.Fatalf("History = %d, %v", len(before), err)
	}
	chatBefore, _ := s.Chat(ctx, id)
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}

	s = openAt(t, path)
	after, err := s.History(ctx, id, 0, 100)
	if err != nil || !slices.Equal(after, before) {
		t.Errorf("History after reopen = %+v, %v; want %+v", after, err, before)
	}
	if c, _ := s.Chat(ctx, id); c != chatBefore {
		t.Errorf("Chat after reopen = %+v, want %+v", c, chatBefore)
	}
	if c := counts(t, s, id); c != (Counters{Sent: 3, Received: 2, PeerAck: 1, ReadUpTo: 1}) {
		t.Errorf("Counters after reopen = %+v", c)
	}
	if seq, _ := s.NextSeq(ctx, id, 0); seq != 3 {
		t.Errorf("NextSeq after reopen = %d, want 3", seq)
	}
	if seq, _ := s.PeerSeq(ctx, id, 1); seq != 9 {
		t.Errorf("PeerSeq after reopen = %d, want 9", seq)
	}
	un, _ := s.Unacked(ctx, id, 0)
	if !slices.Equal(ns(un), []uint64{2, 3}) || un[0].Status != Published || un[1].Status != Pending {
		t.Errorf("Unacked after reopen = %+v", un)
	}
}

func TestStatusString(t *testing.T) {
	for st, want := range map[Status]string{Pending: "pending", Published: "published", Delivered: "delivered", Received: "received", 9: "Status(9)"} {
		if got := st.String(); got != want {
			t.Errorf("Status(%d).String() = %q, want %q", st, got, want)
		}
	}
}

func TestInvalidArguments(t *testing.T) {
	s := newStore(t)
	ctx := context.Background()
	id := mkChat(t, s, 1)
	if _, err := s.History(ctx, id, 0, 0); err == nil {
		t.Error("History(limit 0) succeeded")
	}
	if _, err := s.PeerSeq(ctx, id, maxSlot+1); err == nil {
		t.Error("PeerSeq(slot too big) succeeded")
	}
	if _, err := Open(""); err == nil {
		t.Error(`Open("") succeeded`)
	}
}

func TestMigrationsMatchVersion(t *testing.T) {
	if len(migrations) != SchemaVersion {
		t.Fatalf("%d migrations for schema version %d", len(migrations), SchemaVersion)
	}
}

// TestConcurrentOpen opens a new file from several handles at once, as
// the UI and a script starting together would: the schema is created once
// and every handle works.
func TestConcurrentOpen(t *testing.T) {
	path := filepath.Join(t.TempDir(), "chats.db")
	stores := make([]*Store, 4)
	errs := make([]error, len(stores))
	var wg sync.WaitGroup
	for i := range stores {
		wg.Go(func() { stores[i], errs[i] = Open(path) })
	}
	wg.Wait()
	for i, s := range stores {
		if errs[i] != nil {
			t.Fatalf("Open #%d = %v", i, errs[i])
		}
		t.Cleanup(func() { s.Close() })
	}
	ctx := context.Background()
	id := mkChat(t, stores[0], 1)
	for i, s := range stores {
		if msgs, err := s.Enqueue(ctx, id, []string{"x"}, t0); err != nil || msgs[0].N != uint64(i+1) {
			t.Errorf("Enqueue on handle %d = %v, %v", i, ns(msgs), err)
		}
	}
}

func TestNotFoundMessage(t *testing.T) {
	s := newStore(t)
	_, err := s.Received(context.Background(), chatID(5))
	if !errors.Is(err, ErrNotFound) || !strings.Contains(err.Error(), chatID(5).String()) ||
		!strings.HasPrefix(err.Error(), "store: ") {
		t.Errorf("Received(unknown) = %q, want store: not found naming the chat", err)
	}
}

func TestOwnSeq(t *testing.T) {
	ctx := t.Context()
	s := newStore(t)
	id := mkChat(t, s, 1)
	if seq, err := s.OwnSeq(ctx, id, 0); err != nil || seq != 0 {
		t.Fatalf("OwnSeq of a new chat = %d, %v; want 0", seq, err)
	}
	if _, err := s.NextSeqAfter(ctx, id, 0, 41); err != nil {
		t.Fatal(err)
	}
	if seq, err := s.OwnSeq(ctx, id, 0); err != nil || seq != 42 {
		t.Fatalf("OwnSeq after NextSeqAfter(41) = %d, %v; want 42", seq, err)
	}
}

func TestPrintedCursorApartFromRead(t *testing.T) {
	ctx := t.Context()
	s := newStore(t)
	id := mkChat(t, s, 1)
	if _, err := s.Receive(ctx, id, []Message{{N: 1, Body: "a"}, {N: 2, Body: "b"}, {N: 3, Body: "c"}}); err != nil {
		t.Fatal(err)
	}
	// Seen in the UI: not printed.
	if err := s.MarkRead(ctx, id, 3); err != nil {
		t.Fatal(err)
	}
	if n, err := s.PrintedUpTo(ctx, id); err != nil || n != 0 {
		t.Fatalf("PrintedUpTo after MarkRead = %d, %v; want 0", n, err)
	}
	// Printed: also read; never past received; never back.
	if err := s.MarkPrinted(ctx, id, 9); err != nil {
		t.Fatal(err)
	}
	if n, _ := s.PrintedUpTo(ctx, id); n != 3 {
		t.Fatalf("PrintedUpTo after MarkPrinted(9) = %d, want 3 (received)", n)
	}
	if err := s.MarkPrinted(ctx, id, 1); err != nil {
		t.Fatal(err)
	}
	if n, _ := s.PrintedUpTo(ctx, id); n != 3 {
		t.Fatalf("PrintedUpTo went back to %d", n)
	}
	if _, err := s.PrintedUpTo(ctx, chatID(99)); !errors.Is(err, ErrNotFound) {
		t.Fatalf("PrintedUpTo of an unknown chat = %v, want ErrNotFound", err)
	}
}

// TestMigrateV1: a version 1 database, made with version 1's SQL, gets the
// printed cursor, starting at the read cursor, and keeps everything else.
func TestMigrateV1(t *testing.T) {
	ctx := t.Context()
	path := filepath.Join(t.TempDir(), "v1.db")
	db, err := sql.Open("sqlite", path)
	if err != nil {
		t.Fatal(err)
	}
	id, peer := chatID(1), peerKey(1)
	for _, q := range []struct {
		sql  string
		args []any
	}{
		{sql: migrations[0]},
		{sql: `INSERT INTO chats (id, peer, started_by_me, created_at, last_activity, sent, received, read_upto) VALUES (?, ?, 0, 1, 2, 0, 2, 2)`, args: []any{id[:], peer[:]}},
		{sql: `INSERT INTO messages (chat, outgoing, n, sent_at, received_at, body, status) VALUES (?, 0, 1, 1, 1, 'a', 3), (?, 0, 2, 2, 2, 'b', 3)`, args: []any{id[:], id[:]}},
		{sql: fmt.Sprintf("PRAGMA application_id = %d", applicationID)},
		{sql: "PRAGMA user_version = 1"},
	} {
		if _, err := db.ExecContext(ctx, q.sql, q.args...); err != nil {
			t.Fatalf("%s: %v", q.sql, err)
		}
	}
	db.Close()
	s := openAt(t, path)
	if n, err := s.PrintedUpTo(ctx, id); err != nil || n != 2 {
		t.Fatalf("PrintedUpTo after migrating = %d, %v; want 2 (the read cursor)", n, err)
	}
	if c, err := s.Count(ctx, id); err != nil || c != 2 {
		t.Fatalf("Count after migrating = %d, %v; want 2", c, err)
	}
	if c, err := s.ChatByWire(ctx, peer, WireID(id)); err != nil || c.ID != id {
		t.Fatalf("ChatByWire after migrating = %v, %v; want the chat, its ID its wire ID", c.ID, err)
	}
}

// TestMigrateV2File opens a version 2 database that dhtchat at c4cd06f
// wrote (testdata/gen_v2.go.txt made it): every chat, message, counter,
// cursor and sequence number is there, each chat's old ID is now both its
// local ID and its wire ID, and the chats work on.
func TestMigrateV2File(t *testing.T) {
	ctx := t.Context()
	data, err := os.ReadFile(filepath.Join("testdata", "v2.db"))
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(t.TempDir(), "dhtchat.db")
	if err := os.WriteFile(path, data, 0o600); err != nil {
		t.Fatal(err)
	}
	s := openAt(t, path)
	var version int
	if err := s.db.QueryRowContext(ctx, "PRAGMA user_version").Scan(&version); err != nil || version != SchemaVersion {
		t.Fatalf("user_version after Open = %d, %v; want %d", version, err, SchemaVersion)
	}
	a, b := ChatID{0xa1, 15: 1}, ChatID{0xb2, 15: 2}
	pa, pb := PeerKey{0x9e, 31: 1}, PeerKey{0x9e, 31: 2}
	base := time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)

	sums, err := s.Chats(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if len(sums) != 2 {
		t.Fatalf("Chats = %+v, want 2 chats", sums)
	}
	for _, want := range []struct {
		id      ChatID
		peer    PeerKey
		started bool
		created time.Time
	}{{a, pa, true, base}, {b, pb, false, base.Add(time.Minute)}} {
		c, err := s.ChatByWire(ctx, want.peer, WireID(want.id))
		if err != nil || c.ID != want.id || c.Wire != WireID(want.id) || c.Peer != want.peer ||
			c.StartedByMe != want.started || !c.CreatedAt.Equal(want.created) || c.Blocked {
			t.Errorf("ChatByWire(%v) = %+v, %v", want.id, c, err)
		}
	}
	if got := counts(t, s, a); got != (Counters{Sent: 3, Received: 2, PeerAck: 1, ReadUpTo: 1}) {
		t.Errorf("counters of chat a = %+v", got)
	}
	hist, err := s.History(ctx, a, 0, 100)
	if err != nil {
		t.Fatal(err)
	}
	type msg struct {
		out    bool
		n      uint64
		body   string
		status Status
	}
	var got []msg
	for _, m := range hist {
		got = append(got, msg{m.Outgoing, m.N, m.Body, m.Status})
	}
	want := []msg{{true, 1, "a out 1", Delivered}, {true, 2, "a out 2", Published}, {true, 3, "a out 3", Pending},
		{false, 1, "a in 1", Received}, {false, 2, "a in 2", Received}}
	if !slices.Equal(got, want) {
		t.Errorf("history of chat a = %+v, want %+v", got, want)
	}
	for _, q := range []struct {
		mine bool
		slot int
		want uint64
	}{{true, 0, 7}, {true, 1, 3}, {false, 0, 5}} {
		seq, err := s.seqOf(ctx, a, q.mine, q.slot, "")
		if err != nil || seq != q.want {
			t.Errorf("sequence number (mine %v, slot %d) = %d, %v; want %d", q.mine, q.slot, seq, err, q.want)
		}
	}
	if n, err := s.PrintedUpTo(ctx, b); err != nil || n != 1 {
		t.Errorf("PrintedUpTo(b) = %d, %v; want 1", n, err)
	}
	// The migrated chats go on: numbering continues, and another peer can
	// have a chat with the same wire ID.
	if ms, err := s.Enqueue(ctx, a, []string{"after the upgrade"}, time.Now()); err != nil || ms[0].N != 4 {
		t.Fatalf("Enqueue after migrating = %v, %v; want number 4", ns(ms), err)
	}
	other, created, err := s.CreateChat(ctx, Chat{Wire: WireID(a), Peer: pb})
	if err != nil || !created || other.ID == a {
		t.Fatalf("CreateChat(wire ID of a, peer b) = %+v, %v, %v; want a new chat", other, created, err)
	}
}

func TestOutboxState(t *testing.T) {
	ctx := t.Context()
	s := newStore(t)
	id := mkChat(t, s, 1)
	if _, err := s.Enqueue(ctx, id, []string{"a", "b", "c", "d"}, t0); err != nil {
		t.Fatal(err)
	}
	if _, err := s.MarkPublished(ctx, id, 2); err != nil {
		t.Fatal(err)
	}
	if _, err := s.MarkDelivered(ctx, id, 1); err != nil {
		t.Fatal(err)
	}
	o, err := s.OutboxState(ctx, id)
	if err != nil {
		t.Fatal(err)
	}
	if o.Sent != 4 || o.PeerAck != 1 || o.Unacked != 3 || o.Pending != 2 || o.FirstPending != 3 {
		t.Fatalf("OutboxState = %+v; want Sent 4, PeerAck 1, Unacked 3, Pending 2, FirstPending 3", o)
	}
}
