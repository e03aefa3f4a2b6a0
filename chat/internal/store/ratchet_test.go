package store

import (
	"bytes"
	"errors"
	"testing"
	"time"
)

// A version 2 chat: the state is written with what it belongs to, frames
// stay until delivered, and a state that opened messages past a gap is
// not saved (its keys would be lost with the messages).
func TestRatchetStateAndFrames(t *testing.T) {
	s, ctx := newStore(t), t.Context()
	c, _, err := s.CreateChatV2(ctx, Chat{Wire: wireID(1), Peer: peerKey(1)}, []byte("s0"))
	if err != nil {
		t.Fatal(err)
	}
	v1, _, err := s.CreateChat(ctx, Chat{Wire: wireID(2), Peer: peerKey(2)})
	if err != nil {
		t.Fatal(err)
	}
	if st, err := s.Ratchet(ctx, v1.ID); err != nil || st != nil {
		t.Fatalf("Ratchet(v1) = %q, %v", st, err)
	}
	seal := func(st []byte, msgs []Message) ([]byte, []Frame, error) {
		var fs []Frame
		for _, m := range msgs {
			fs = append(fs, Frame{N: m.N, Epoch: 1, Sealed: []byte("sealed " + m.Body)})
			st = append(st, '+')
		}
		return st, fs, nil
	}
	if _, err := s.EnqueueSealed(ctx, c.ID, []string{"a", "b", "c"}, time.Time{}, seal); err != nil {
		t.Fatal(err)
	}
	if _, err := s.EnqueueSealed(ctx, v1.ID, []string{"a"}, time.Time{}, seal); err == nil {
		t.Fatal("EnqueueSealed on a version 1 chat worked")
	}
	boom := errors.New("boom")
	if _, err := s.EnqueueSealed(ctx, c.ID, []string{"d"}, time.Time{}, func([]byte, []Message) ([]byte, []Frame, error) { return nil, nil, boom }); !errors.Is(err, boom) {
		t.Fatalf("failing seal: %v", err)
	}
	if st, _ := s.Ratchet(ctx, c.ID); string(st) != "s0+++" {
		t.Fatalf("state = %q", st)
	}
	fs, cn, err := s.Frames(ctx, c.ID, 10)
	if err != nil || len(fs) != 3 || cn.Sent != 3 || !bytes.Equal(fs[1].Sealed, []byte("sealed b")) {
		t.Fatalf("Frames = %+v, %+v, %v", fs, cn, err)
	}
	if _, err := s.MarkDelivered(ctx, c.ID, 2); err != nil {
		t.Fatal(err)
	}
	if fs, _, _ = s.Frames(ctx, c.ID, 10); len(fs) != 1 || fs[0].N != 3 {
		t.Fatalf("Frames after the ack = %+v", fs)
	}

	// Past a gap: stored nothing, state not saved.
	_, saved, err := s.AcceptRatchet(ctx, c.ID, []Message{{N: 2, Body: "x"}}, Quota{}, []byte("r1"))
	if err != nil || saved {
		t.Fatalf("AcceptRatchet past a gap = %v, %v", saved, err)
	}
	if st, _ := s.Ratchet(ctx, c.ID); string(st) != "s0+++" {
		t.Fatalf("state after a gap = %q", st)
	}
	a, saved, err := s.AcceptRatchet(ctx, c.ID, []Message{{N: 1, Body: "x"}, {N: 2, Body: "y"}}, Quota{}, []byte("r2"))
	if err != nil || !saved || len(a.Stored) != 2 {
		t.Fatalf("AcceptRatchet = %+v, %v, %v", a, saved, err)
	}
	if st, _ := s.Ratchet(ctx, c.ID); string(st) != "r2" {
		t.Fatalf("state = %q", st)
	}
	// No messages (an ack, a ratchet step): saved.
	if _, saved, err := s.AcceptRatchet(ctx, c.ID, nil, Quota{}, []byte("r3")); err != nil || !saved {
		t.Fatalf("AcceptRatchet(nil) = %v, %v", saved, err)
	}

	if err := s.SetSeqV2(ctx, c.ID, false, 3, 1, 7); err != nil {
		t.Fatal(err)
	}
	if err := s.SetSeqV2(ctx, c.ID, false, 3, 1, 5); err != nil {
		t.Fatal(err)
	}
	if q, err := s.SeqV2(ctx, c.ID, false, 3, 1); err != nil || q != 7 {
		t.Fatalf("SeqV2 = %d, %v", q, err)
	}
	if q, _ := s.SeqV2(ctx, c.ID, true, 3, 1); q != 0 {
		t.Fatalf("SeqV2(mine) = %d", q)
	}
	if _, err := s.DeleteChat(ctx, c.ID); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Ratchet(ctx, c.ID); !errors.Is(err, ErrNotFound) {
		t.Fatalf("Ratchet after delete: %v", err)
	}
}
