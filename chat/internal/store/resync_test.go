package store

import (
	"context"
	"errors"
	"fmt"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"
)

// outgoing returns the outgoing messages of chat id as "N:body:status",
// by N.
func outgoing(t *testing.T, s *Store, id ChatID) []string {
	t.Helper()
	hist, err := s.History(t.Context(), id, 0, 10000)
	if err != nil {
		t.Fatal(err)
	}
	slices.SortFunc(hist, func(a, b Message) int { return int(a.N) - int(b.N) })
	var out []string
	for _, m := range hist {
		if m.Outgoing {
			imp := ""
			if m.Imported {
				imp = ":imported"
			}
			out = append(out, fmt.Sprintf("%d:%s:%v%s", m.N, m.Body, m.Status, imp))
		}
	}
	return out
}

func other(n uint64, body string) Message {
	return Message{N: n, SentAt: t0.Add(time.Duration(n) * time.Minute), Body: body}
}

func checkStrings(t *testing.T, what string, got, want []string) {
	t.Helper()
	if !slices.Equal(got, want) {
		t.Fatalf("%s:\n got %q\nwant %q", what, got, want)
	}
}

// TestResyncRestoredCopy: the database is a copy taken after message 1;
// the other copy went on with 2 and 3 (still unacknowledged, so in our
// records in the DHT) and this one queued two more meanwhile. The two
// queued ones move after 3, the other copy's 2 and 3 are imported, and
// nothing of the other copy is marked delivered.
func TestResyncRestoredCopy(t *testing.T) {
	ctx := t.Context()
	s := newStore(t)
	id := mkChat(t, s, 1)
	if _, err := s.Enqueue(ctx, id, []string{"m1"}, t0); err != nil {
		t.Fatal(err)
	}
	if _, err := s.MarkPublished(ctx, id, 1); err != nil {
		t.Fatal(err)
	}
	if _, err := s.NextSeq(ctx, id, 0); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Enqueue(ctx, id, []string{"x", "y"}, t0.Add(time.Hour)); err != nil {
		t.Fatal(err)
	}
	res, err := s.Resync(ctx, id, Resync{Seq0: 5, Floor: 3, Others: []Message{other(2, "m2"), other(3, "m3")}})
	if err != nil {
		t.Fatal(err)
	}
	if !res.Changed() || !res.SeqRaised || len(res.Renumbered) != 2 || len(res.Imported) != 2 || len(res.Conflicts) != 0 {
		t.Fatalf("Resync = %+v; want the seq raised, 2 renumbered, 2 imported", res)
	}
	checkStrings(t, "outgoing after Resync", outgoing(t, s, id), []string{
		"1:m1:published", "2:m2:published:imported", "3:m3:published:imported", "4:x:pending", "5:y:pending"})
	if c, _ := s.Counters(ctx, id); c.Sent != 5 || c.PeerAck != 0 {
		t.Fatalf("counters after Resync = %+v; want Sent 5, PeerAck 0", c)
	}
	if seq, _ := s.OwnSeq(ctx, id, 0); seq != 5 {
		t.Fatalf("OwnSeq(0) after Resync = %d, want 5", seq)
	}
	if next, _ := s.NextSeq(ctx, id, 0); next != 6 {
		t.Fatalf("NextSeq(0) after Resync = %d, want 6", next)
	}
	// A renumbered message's digest is that of its new number.
	for _, m := range res.Renumbered {
		if m.Digest != Digest(m.N, m.SentAt.UnixMilli(), m.Body) {
			t.Errorf("renumbered message %d has the digest of another number", m.N)
		}
	}
	// The same view again changes nothing.
	if res, err := s.Resync(ctx, id, Resync{Seq0: 5, Floor: 3, Others: []Message{other(2, "m2"), other(3, "m3")}}); err != nil || res.Changed() {
		t.Fatalf("Resync again = %+v, %v; want no change", res, err)
	}
	// The friend's ack of 3 marks the other copy's messages delivered, not
	// the renumbered ones.
	d, err := s.MarkDelivered(ctx, id, 3)
	if err != nil {
		t.Fatal(err)
	}
	if got := ns(d); !slices.Equal(got, []uint64{1, 2, 3}) {
		t.Fatalf("MarkDelivered(3) delivered %v, want [1 2 3]", got)
	}
}

// TestResyncAcknowledged: everything the other copy sent was acknowledged
// (our slot 0 carries no message, only max_n): the numbers are skipped,
// and a published message of ours within them stays as it is.
func TestResyncAcknowledged(t *testing.T) {
	ctx := t.Context()
	s := newStore(t)
	id := mkChat(t, s, 1)
	if _, err := s.Enqueue(ctx, id, []string{"m1"}, t0); err != nil {
		t.Fatal(err)
	}
	if _, err := s.MarkPublished(ctx, id, 1); err != nil {
		t.Fatal(err)
	}
	res, err := s.Resync(ctx, id, Resync{Seq0: 9, Floor: 3})
	if err != nil {
		t.Fatal(err)
	}
	if !res.Raised || len(res.Renumbered) != 0 || len(res.Imported) != 0 {
		t.Fatalf("Resync = %+v; want only the counter raised", res)
	}
	ms, err := s.Enqueue(ctx, id, []string{"next"}, t0)
	if err != nil {
		t.Fatal(err)
	}
	if ms[0].N != 4 {
		t.Fatalf("next message numbered %d, want 4", ms[0].N)
	}
	checkStrings(t, "outgoing", outgoing(t, s, id), []string{"1:m1:published", "4:next:pending"})
}

// TestResyncConflicts: a published message of ours that the other writer's
// record shows with other content is sent again under a new number, with
// every unacknowledged message after it, and so is the other writer's (the
// friend has one of the two, it is not known which); one already
// acknowledged is reported, not moved.
func TestResyncConflicts(t *testing.T) {
	ctx := t.Context()
	s := newStore(t)
	id := mkChat(t, s, 1)
	if _, err := s.Enqueue(ctx, id, []string{"a", "b", "c", "d"}, t0); err != nil {
		t.Fatal(err)
	}
	if _, err := s.MarkPublished(ctx, id, 4); err != nil {
		t.Fatal(err)
	}
	if _, err := s.MarkDelivered(ctx, id, 1); err != nil {
		t.Fatal(err)
	}
	// The other writer also used 1 and 3; its 2 is ours (a copy).
	mine, err := s.Unacked(ctx, id, 0)
	if err != nil {
		t.Fatal(err)
	}
	two := mine[0]
	res, err := s.Resync(ctx, id, Resync{Seq0: 1, Floor: 3, Others: []Message{
		other(1, "A"), {N: 2, SentAt: two.SentAt, Body: two.Body}, other(3, "C")}})
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(res.Conflicts, []uint64{1}) {
		t.Fatalf("Conflicts = %v, want [1] (acknowledged, with other content)", res.Conflicts)
	}
	checkStrings(t, "outgoing", outgoing(t, s, id), []string{
		"1:a:delivered", "2:b:published", "3:C:published:imported", "4:c:pending", "5:d:pending",
		"6:C:pending:imported"})
}

// TestResyncBounds: Resync rejects numbers a caller should have bounded.
func TestResyncBounds(t *testing.T) {
	ctx := t.Context()
	s := newStore(t)
	id := mkChat(t, s, 1)
	if _, err := s.Resync(ctx, id, Resync{Floor: 1 << 62}); err == nil {
		t.Error("Resync to number 2^62 succeeded")
	}
	if _, err := s.Resync(ctx, id, Resync{Seq0: 1 << 63}); err == nil {
		t.Error("Resync to sequence number 2^63 succeeded")
	}
	if _, err := s.Resync(ctx, chatID(9), Resync{Floor: 1}); err == nil {
		t.Error("Resync of an unknown chat succeeded")
	}
}

// TestAcceptConflicts: a number that comes again with other content is
// reported and the first message kept; with the same content it is not.
func TestAcceptConflicts(t *testing.T) {
	ctx := t.Context()
	s := newStore(t)
	id := mkChat(t, s, 1)
	first := []Message{other(1, "one"), other(2, "two")}
	if a, err := s.Accept(ctx, id, first, Quota{}); err != nil || len(a.Stored) != 2 {
		t.Fatalf("Accept = %+v, %v", a, err)
	}
	a, err := s.Accept(ctx, id, []Message{other(1, "one"), other(2, "EVIL"), other(3, "three")}, Quota{})
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(a.Conflicts, []uint64{2}) || len(a.Stored) != 1 || a.Stored[0].N != 3 {
		t.Fatalf("Accept = %+v; want conflict [2] and message 3 stored", a)
	}
	// Same body, another time: other content too.
	late := other(1, "one")
	late.SentAt = late.SentAt.Add(time.Millisecond)
	if a, _ := s.Accept(ctx, id, []Message{late}, Quota{}); !slices.Equal(a.Conflicts, []uint64{1}) {
		t.Fatalf("Accept(message 1 with another time) conflicts = %v, want [1]", a.Conflicts)
	}
	in, err := s.Incoming(ctx, id, 0, 0)
	if err != nil {
		t.Fatal(err)
	}
	if in[1].Body != "two" || in[1].Digest != Digest(2, first[1].SentAt.UnixMilli(), "two") {
		t.Fatalf("message 2 = %q (digest %x); want the first one kept", in[1].Body, in[1].Digest)
	}
}

// TestAcceptQuota: past the quota nothing more is stored and the ack does
// not move; after the period it goes on where it stopped.
func TestAcceptQuota(t *testing.T) {
	ctx := t.Context()
	s := newStore(t)
	now := t0
	s.now = func() time.Time { return now }
	id := mkChat(t, s, 1)
	q := Quota{Period: time.Hour, Messages: 3, Bytes: 1000}
	var batch []Message
	for n := uint64(1); n <= 5; n++ {
		batch = append(batch, other(n, fmt.Sprint("m", n)))
	}
	a, err := s.Accept(ctx, id, batch, q)
	if err != nil {
		t.Fatal(err)
	}
	if len(a.Stored) != 3 || !a.OverQuota {
		t.Fatalf("Accept = %d stored, over quota %v; want 3, true", len(a.Stored), a.OverQuota)
	}
	if r, _ := s.Received(ctx, id); r != 3 {
		t.Fatalf("Received = %d, want 3", r)
	}
	if a, _ := s.Accept(ctx, id, batch, q); len(a.Stored) != 0 || !a.OverQuota || len(a.Conflicts) != 0 {
		t.Fatalf("Accept within the period = %+v; want nothing stored, over quota", a)
	}
	now = now.Add(time.Hour + time.Second)
	if a, _ := s.Accept(ctx, id, batch, q); len(a.Stored) != 2 || a.OverQuota {
		t.Fatalf("Accept after the period = %d stored, over quota %v; want 2, false", len(a.Stored), a.OverQuota)
	}
	// Bytes: one body that alone exceeds the bound is never stored.
	big := strings.Repeat("x", 1001)
	if a, _ := s.Accept(ctx, id, []Message{other(6, big)}, q); len(a.Stored) != 0 || !a.OverQuota {
		t.Fatalf("Accept(1001 bytes) = %+v; want refused by the byte quota", a)
	}
	if a, _ := s.Accept(ctx, id, []Message{other(6, big)}, Quota{}); len(a.Stored) != 1 {
		t.Fatalf("Accept without a quota = %+v; want stored", a)
	}
}

// TestQuotaQueryPlan: counting what a chat received lately reads a range
// of an index, not the chat's whole history.
func TestQuotaQueryPlan(t *testing.T) {
	s := newStore(t)
	id := mkChat(t, s, 1)
	rows, err := s.db.QueryContext(t.Context(), `EXPLAIN QUERY PLAN `+quotaQuery, id[:], 0)
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
	if p := strings.Join(plan, "; "); !strings.Contains(p, "USING INDEX messages_incoming_time (chat=? AND received_at>?)") {
		t.Errorf("quota query plan = %q, want a range of messages_incoming_time", p)
	}
}

func TestAlerts(t *testing.T) {
	ctx := t.Context()
	s := newStore(t)
	id, id2 := mkChat(t, s, 1), mkChat(t, s, 2)
	for i, want := range []bool{true, false} {
		if isNew, err := s.AddAlert(ctx, Alert{Chat: id, Kind: 3, N: 7, At: t0}); err != nil || isNew != want {
			t.Fatalf("AddAlert #%d = %v, %v; want %v", i, isNew, err, want)
		}
	}
	if isNew, _ := s.AddAlert(ctx, Alert{Chat: id, Kind: 3, N: 8}); !isNew {
		t.Fatal("AddAlert of another number is not new")
	}
	as, err := s.Alerts(ctx, id)
	if err != nil || len(as) != 2 || as[0].N != 7 || !as[0].At.Equal(t0) || as[0].Kind != 3 {
		t.Fatalf("Alerts = %+v, %v", as, err)
	}
	counts, err := s.AlertCounts(ctx)
	if err != nil || counts[id] != 2 || counts[id2] != 0 {
		t.Fatalf("AlertCounts = %v, %v", counts, err)
	}
	if _, err := s.AddAlert(ctx, Alert{Chat: chatID(9), Kind: 1}); err == nil {
		t.Error("AddAlert to an unknown chat succeeded")
	}

	// Seen alerts are told no more: AlertCounts leaves them out, Alerts
	// still lists them, marked; one raised later is not seen.
	if err := s.SeeAlerts(ctx, id, t0); err != nil {
		t.Fatal(err)
	}
	if counts, err := s.AlertCounts(ctx); err != nil || counts[id] != 1 {
		t.Fatalf("after SeeAlerts up to the first, AlertCounts = %v, %v; want 1", counts, err)
	}
	if err := s.SeeAlerts(ctx, id, time.Now().Add(time.Hour)); err != nil {
		t.Fatal(err)
	}
	if _, err := s.AddAlert(ctx, Alert{Chat: id, Kind: 4, N: 1, At: time.Now().Add(2 * time.Hour)}); err != nil {
		t.Fatal(err)
	}
	as, err = s.Alerts(ctx, id)
	if err != nil || len(as) != 3 || !as[0].Seen || !as[1].Seen || as[2].Seen {
		t.Fatalf("after SeeAlerts and a new alert, Alerts = %+v, %v; want the first two seen", as, err)
	}
	if counts, err := s.AlertCounts(ctx); err != nil || counts[id] != 1 {
		t.Fatalf("AlertCounts = %v, %v; want the new one", counts, err)
	}
	if err := s.SeeAlerts(ctx, chatID(9), t0); !errors.Is(err, ErrNotFound) {
		t.Errorf("SeeAlerts of an unknown chat = %v, want ErrNotFound", err)
	}

	// A peer that raises an alert with a new number at every record
	// cannot grow the store: the latest of each kind are kept.
	for n := range uint64(1000) {
		if _, err := s.AddAlert(ctx, Alert{Chat: id2, Kind: 1, N: n, At: t0.Add(time.Duration(n) * time.Second)}); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := s.AddAlert(ctx, Alert{Chat: id2, Kind: 2, N: 1}); err != nil {
		t.Fatal(err)
	}
	as, err = s.Alerts(ctx, id2)
	if err != nil || len(as) != MaxAlertsPerKind+1 || as[0].N != 1000-MaxAlertsPerKind {
		t.Fatalf("after 1000 alerts of one kind and one of another, Alerts = %d alerts (first %+v), %v; want %d, from %d",
			len(as), as[0], err, MaxAlertsPerKind+1, 1000-MaxAlertsPerKind)
	}
}

// TestMigrateV2: a version 2 database gets digests (none for old rows,
// which are then compared by body and time), the imported mark and the
// alerts table, and keeps everything else.
func TestMigrateV2(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "v2.db")
	s := openAt(t, path)
	id := mkChat(t, s, 1)
	if _, err := s.Receive(ctx, id, []Message{other(1, "a"), other(2, "b")}); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Enqueue(ctx, id, []string{"out"}, t0); err != nil {
		t.Fatal(err)
	}
	downgradeTo2(t, s)
	s.Close()
	s = openAt(t, path)
	in, err := s.Incoming(ctx, id, 0, 0)
	if err != nil || len(in) != 2 || in[0].Digest != ([32]byte{}) {
		t.Fatalf("Incoming after migrating = %+v, %v; want 2 messages without digests", in, err)
	}
	a, err := s.Accept(ctx, id, []Message{other(1, "a"), other(2, "B")}, Quota{})
	if err != nil || !slices.Equal(a.Conflicts, []uint64{2}) {
		t.Fatalf("Accept after migrating = %+v, %v; want conflict [2] only", a, err)
	}
	if isNew, err := s.AddAlert(ctx, Alert{Chat: id, Kind: 1}); err != nil || !isNew {
		t.Fatalf("AddAlert after migrating = %v, %v", isNew, err)
	}
	checkStrings(t, "outgoing after migrating", outgoing(t, s, id), []string{"1:out:pending"})
}

func TestDigestVector(t *testing.T) {
	// Pinned: SECURITY.md documents the construction.
	got := fmt.Sprintf("%x", Digest(1, 1700000000000, "Hello, Bob! ✓"))
	want := digestVector
	if got != want {
		t.Fatalf("Digest = %s, want %s", got, want)
	}
	if Digest(1, 0, "x") == Digest(2, 0, "x") || Digest(1, 0, "x") == Digest(1, 1, "x") || Digest(1, 0, "x") == Digest(1, 0, "y") {
		t.Fatal("Digest ignores one of its inputs")
	}
}

// digestVector was computed independently (Python's hashlib).
const digestVector = "86a3f5c4b35d4193d46a2d42b4d7c6913eb9cdb1652677da80548b23fa327c40"

// downgradeTo2 turns the schema of s back into version 2.
func downgradeTo2(t *testing.T, s *Store) {
	t.Helper()
	for _, q := range []string{
		`DROP TRIGGER messages_fts_insert`, `DROP TRIGGER messages_fts_delete`, `DROP TRIGGER messages_fts_update`,
		`DROP TABLE messages_fts`, `ALTER TABLE chats DROP COLUMN draft`,
		`DROP TRIGGER frames_delivered`, `DROP TABLE frames`, `DROP TABLE ratchets`, `DROP TABLE v2_seqs`,
		`DROP TABLE published`, `DROP TABLE blocked_peers`, `DROP INDEX chats_peer_wire`, `ALTER TABLE chats DROP COLUMN wire`,
		`DROP TABLE alerts`, `DROP INDEX messages_incoming_time`,
		`ALTER TABLE messages DROP COLUMN digest`, `ALTER TABLE messages DROP COLUMN imported`,
		`PRAGMA user_version = 2`,
	} {
		if _, err := s.db.ExecContext(t.Context(), q); err != nil {
			t.Fatalf("%s: %v", q, err)
		}
	}
}

// TestPublished: the record remembered is the one with the highest
// sequence number, whichever process wrote it last.
func TestPublished(t *testing.T) {
	ctx := t.Context()
	s := newStore(t)
	id := mkChat(t, s, 1)
	if r, err := s.Published(ctx, id); err != nil || r != (Record{}) {
		t.Fatalf("Published of a new chat = %+v, %v; want none", r, err)
	}
	for _, r := range []Record{{Seq: 7, Hash: [32]byte{7}}, {Seq: 9, Hash: [32]byte{9}}, {Seq: 8, Hash: [32]byte{8}}} {
		if err := s.SetPublished(ctx, id, r); err != nil {
			t.Fatal(err)
		}
	}
	if r, err := s.Published(ctx, id); err != nil || r != (Record{Seq: 9, Hash: [32]byte{9}}) {
		t.Fatalf("Published = %+v, %v; want seq 9", r, err)
	}
	if err := s.SetPublished(ctx, id, Record{Seq: 1 << 63}); err == nil {
		t.Fatal("SetPublished of a sequence number above 2^63-1 = nil")
	}
}

// TestResyncComplete: with every message of the other writer's records
// known, a published message of ours under a number they used and no
// longer carry (the friend acknowledged theirs) is renumbered and sent
// again; without, it is left alone.
func TestResyncComplete(t *testing.T) {
	for _, complete := range []bool{false, true} {
		ctx := t.Context()
		s := newStore(t)
		id := mkChat(t, s, 1)
		if _, err := s.Enqueue(ctx, id, []string{"m1", "m2"}, t0); err != nil {
			t.Fatal(err)
		}
		if _, err := s.MarkPublished(ctx, id, 2); err != nil {
			t.Fatal(err)
		}
		res, err := s.Resync(ctx, id, Resync{Floor: 2, Others: []Message{other(2, "x2")}, Complete: complete})
		if err != nil {
			t.Fatal(err)
		}
		want := []string{"1:m1:published", "2:x2:published:imported", "3:m2:pending", "4:x2:pending:imported"}
		if complete {
			want = []string{"2:x2:published:imported", "3:m1:pending", "4:m2:pending", "5:x2:pending:imported"}
		}
		checkStrings(t, fmt.Sprintf("outgoing after Resync (complete %v) %+v", complete, res), outgoing(t, s, id), want)
	}
}

// TestMarkDeliveredVerified: an ack moves only over the messages that the
// records read back carry with the same content, and passes over numbers
// with no message of ours.
func TestMarkDeliveredVerified(t *testing.T) {
	ctx := t.Context()
	s := newStore(t)
	id := mkChat(t, s, 1)
	ms, err := s.Enqueue(ctx, id, []string{"m1", "m2", "m3", "m4"}, t0)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := s.MarkPublished(ctx, id, 4); err != nil {
		t.Fatal(err)
	}
	other2 := ms[1]
	other2.Body, other2.Digest = "not m2", [32]byte{}
	for _, tc := range []struct {
		ack     uint64
		carried []Message
		want    uint64
	}{
		{2, nil, 0},                            // nothing confirmed
		{2, []Message{ms[0], other2}, 1},       // 2 is another message
		{4, []Message{ms[1], ms[2], ms[3]}, 4}, // 1 was confirmed before
		{9, []Message{ms[0], ms[1], ms[2]}, 4}, // nothing above what we sent
	} {
		got, upTo, err := s.MarkDeliveredVerified(ctx, id, tc.ack, tc.carried, 0)
		if err != nil || upTo != tc.want {
			t.Fatalf("MarkDeliveredVerified(%d) = %+v, %d, %v; want up to %d", tc.ack, got, upTo, err, tc.want)
		}
		if c, _ := s.Counters(ctx, id); c.PeerAck != tc.want {
			t.Fatalf("PeerAck = %d, want %d", c.PeerAck, tc.want)
		}
	}
	checkStrings(t, "outgoing", outgoing(t, s, id), []string{"1:m1:delivered", "2:m2:delivered", "3:m3:delivered", "4:m4:delivered"})

	// Numbers another writer used, with no message of ours, are passed over.
	id = mkChat(t, s, 2)
	if _, err := s.Enqueue(ctx, id, []string{"m1"}, t0); err != nil {
		t.Fatal(err)
	}
	if _, err := s.MarkPublished(ctx, id, 1); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Resync(ctx, id, Resync{Floor: 3, Others: []Message{other(3, "x3")}, Complete: true}); err != nil {
		t.Fatal(err)
	}
	// 1 moved to 4 (collided: the other writer used it and no longer
	// carries it), 2 is nobody's here, 3 is the other writer's.
	if _, upTo, err := s.MarkDeliveredVerified(ctx, id, 3, []Message{other(3, "x3")}, 0); err != nil || upTo != 3 {
		t.Fatalf("MarkDeliveredVerified over another writer's numbers = %d, %v; want 3", upTo, err)
	}
	checkStrings(t, "outgoing", outgoing(t, s, id), []string{"3:x3:delivered:imported", "4:m1:pending"})

	// Another writer's records, read in full, that leave out numbers up
	// to their max_n confirm those (the peer acknowledged them), and only
	// those.
	id = mkChat(t, s, 3)
	if _, err := s.Enqueue(ctx, id, []string{"m1", "m2", "m3"}, t0); err != nil {
		t.Fatal(err)
	}
	if _, err := s.MarkPublished(ctx, id, 3); err != nil {
		t.Fatal(err)
	}
	if _, upTo, err := s.MarkDeliveredVerified(ctx, id, 3, nil, 2); err != nil || upTo != 2 {
		t.Fatalf("MarkDeliveredVerified with taken 2 = %d, %v; want 2", upTo, err)
	}
}
