package store

import (
	"context"
	"errors"
	"testing"
	"time"
)

// TestSameWireIDOtherPeer: a friend who saw another friend's chat key
// creates a chat with its wire ID first. The other friend's chat with that
// ID is still created, and the two never touch: each has its own messages,
// counters, cursors and sequence numbers.
func TestSameWireIDOtherPeer(t *testing.T) {
	ctx := t.Context()
	s := newStore(t)
	wire := wireID(7)
	mallory, bob := peerKey(1), peerKey(2)
	squat, created, err := s.CreateChat(ctx, Chat{Wire: wire, Peer: mallory, CreatedAt: t0})
	if err != nil || !created {
		t.Fatalf("CreateChat(mallory) = %+v, %v, %v", squat, created, err)
	}
	if _, err := s.Receive(ctx, squat.ID, []Message{{N: 1, Body: "from mallory"}}); err != nil {
		t.Fatal(err)
	}
	if _, err := s.NextSeqAfter(ctx, squat.ID, 0, 100); err != nil {
		t.Fatal(err)
	}
	if _, err := s.AdvancePeerSeq(ctx, squat.ID, 0, 50); err != nil {
		t.Fatal(err)
	}

	real, created, err := s.CreateChat(ctx, Chat{Wire: wire, Peer: bob, StartedByMe: false, CreatedAt: t0.Add(time.Second)})
	if err != nil || !created {
		t.Fatalf("CreateChat(bob, the same wire ID) = %+v, %v, %v; want a new chat", real, created, err)
	}
	if real.ID == squat.ID {
		t.Fatalf("both chats have ID %v", real.ID)
	}
	for _, q := range []struct {
		peer PeerKey
		want ChatID
	}{{mallory, squat.ID}, {bob, real.ID}} {
		c, err := s.ChatByWire(ctx, q.peer, wire)
		if err != nil || c.ID != q.want || c.Peer != q.peer || c.Wire != wire {
			t.Errorf("ChatByWire(%x…) = %+v, %v; want chat %v", q.peer[31], c, err, q.want)
		}
	}
	if cs, err := s.ChatsByWire(ctx, wire); err != nil || len(cs) != 2 || cs[0].ID != squat.ID || cs[1].ID != real.ID {
		t.Errorf("ChatsByWire = %+v, %v; want both chats, oldest first", cs, err)
	}

	// Bob's chat starts from nothing.
	if got := counts(t, s, real.ID); got != (Counters{}) {
		t.Errorf("counters of bob's chat = %+v, want zero", got)
	}
	if seq, err := s.NextSeq(ctx, real.ID, 0); err != nil || seq != 1 {
		t.Errorf("NextSeq of bob's chat = %d, %v; want 1", seq, err)
	}
	if seq, err := s.PeerSeq(ctx, real.ID, 0); err != nil || seq != 0 {
		t.Errorf("PeerSeq of bob's chat = %d, %v; want 0", seq, err)
	}
	got, err := s.Receive(ctx, real.ID, []Message{{N: 1, Body: "from bob"}})
	if err != nil || len(got) != 1 {
		t.Fatalf("Receive(bob's chat) = %v, %v", got, err)
	}
	for _, q := range []struct {
		id   ChatID
		body string
	}{{squat.ID, "from mallory"}, {real.ID, "from bob"}} {
		h, err := s.History(ctx, q.id, 0, 10)
		if err != nil || len(h) != 1 || h[0].Body != q.body || h[0].Chat != q.id {
			t.Errorf("History(%v) = %+v, %v; want only %q", q.id, h, err, q.body)
		}
	}
	if seq, err := s.OwnSeq(ctx, squat.ID, 0); err != nil || seq != 101 {
		t.Errorf("mallory's chat's own sequence number = %d, %v; want 101, untouched", seq, err)
	}
	// Creating either again finds it.
	for _, c := range []Chat{{Wire: wire, Peer: mallory}, {Wire: wire, Peer: bob}} {
		again, created, err := s.CreateChat(ctx, c)
		if err != nil || created || again.Peer != c.Peer {
			t.Errorf("CreateChat again = %+v, %v, %v", again, created, err)
		}
	}
}

func TestDeleteChat(t *testing.T) {
	ctx := t.Context()
	s := newStore(t)
	id, keep := mkChat(t, s, 1), mkChat(t, s, 2)
	if _, err := s.Enqueue(ctx, id, []string{"a", "b", "c"}, t0); err != nil {
		t.Fatal(err)
	}
	if _, err := s.MarkPublished(ctx, id, 3); err != nil {
		t.Fatal(err)
	}
	if _, err := s.MarkDelivered(ctx, id, 1); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Receive(ctx, id, []Message{{N: 1, Body: "x"}, {N: 2, Body: "y"}}); err != nil {
		t.Fatal(err)
	}
	if _, err := s.NextSeq(ctx, id, 0); err != nil {
		t.Fatal(err)
	}
	if _, err := s.AdvancePeerSeq(ctx, id, 0, 4); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Enqueue(ctx, keep, []string{"kept"}, t0); err != nil {
		t.Fatal(err)
	}

	d, err := s.DeleteChat(ctx, id)
	if err != nil {
		t.Fatal(err)
	}
	if d.Chat.ID != id || d.Sent != 3 || d.Received != 2 || d.Unacked != 2 {
		t.Errorf("DeleteChat = %+v; want chat %v, 3 sent, 2 received, 2 unacked", d, id)
	}
	if _, err := s.Chat(ctx, id); !errors.Is(err, ErrNotFound) {
		t.Errorf("Chat after DeleteChat = %v, want ErrNotFound", err)
	}
	var rows int
	for _, table := range []string{"messages", "record_seqs"} {
		if err := s.db.QueryRowContext(ctx, `SELECT count(*) FROM `+table+` WHERE chat = ?`, id[:]).Scan(&rows); err != nil || rows != 0 {
			t.Errorf("%s rows of the deleted chat: %d, %v", table, rows, err)
		}
	}
	if _, err := s.DeleteChat(ctx, id); !errors.Is(err, ErrNotFound) {
		t.Errorf("DeleteChat again = %v, want ErrNotFound", err)
	}
	// What the deleted chat did cannot come back through it.
	if _, err := s.Receive(ctx, id, []Message{{N: 3, Body: "late"}}); !errors.Is(err, ErrNotFound) {
		t.Errorf("Receive in the deleted chat = %v, want ErrNotFound", err)
	}
	if _, err := s.AdvancePeerSeq(ctx, id, 0, 9); !errors.Is(err, ErrNotFound) {
		t.Errorf("AdvancePeerSeq in the deleted chat = %v, want ErrNotFound", err)
	}
	if n, err := s.Count(ctx, keep); err != nil || n != 1 {
		t.Errorf("the other chat has %d messages, %v; want 1", n, err)
	}
}

func TestBlock(t *testing.T) {
	ctx := t.Context()
	s := newStore(t)
	a, b := mkChat(t, s, 1), mkChat(t, s, 2)
	peer := peerKey(1)
	blocked := func(id ChatID) bool {
		t.Helper()
		c, err := s.Chat(ctx, id)
		if err != nil {
			t.Fatal(err)
		}
		return c.Blocked
	}
	if changed, err := s.Block(ctx, peer); err != nil || !changed {
		t.Fatalf("Block = %v, %v; want true", changed, err)
	}
	if changed, err := s.Block(ctx, peer); err != nil || changed {
		t.Fatalf("Block again = %v, %v; want false", changed, err)
	}
	if !blocked(a) || blocked(b) {
		t.Errorf("after Block: chat a blocked %v, chat b blocked %v; want true, false", blocked(a), blocked(b))
	}
	sums, err := s.Chats(ctx)
	if err != nil {
		t.Fatal(err)
	}
	for _, sum := range sums {
		if sum.Blocked != (sum.ID == a) {
			t.Errorf("Chats: chat %v Blocked = %v", sum.ID, sum.Blocked)
		}
	}
	// A chat created while the peer is blocked is blocked too.
	c, _, err := s.CreateChat(ctx, Chat{Wire: wireID(9), Peer: peer})
	if err != nil || !c.Blocked {
		t.Errorf("CreateChat with a blocked peer = %+v, %v; want Blocked", c, err)
	}
	if ok, err := s.Blocked(ctx, peer); err != nil || !ok {
		t.Errorf("Blocked = %v, %v", ok, err)
	}
	if changed, err := s.Unblock(ctx, peer); err != nil || !changed {
		t.Fatalf("Unblock = %v, %v; want true", changed, err)
	}
	if changed, err := s.Unblock(ctx, peer); err != nil || changed {
		t.Fatalf("Unblock again = %v, %v; want false", changed, err)
	}
	if blocked(a) {
		t.Error("chat a still blocked after Unblock")
	}
	if _, err := s.Block(context.Background(), PeerKey{}); err == nil {
		t.Error("Block(zero key) succeeded")
	}
}
