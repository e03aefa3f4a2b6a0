package store

// The state of protocol version 2 chats (schema version 8): the ratchet
// state of each chat, the sealed frames of our unacknowledged messages, and
// the IPNS sequence numbers per (epoch, slot). The store does not know what
// a ratchet state holds: the engine passes it as bytes and gets it back,
// and every change of it is written in the transaction of what it belongs
// to (a message sealed, messages received), so that a crash can neither
// lose a message key nor keep one that was used.

import (
	"context"
	"database/sql"
	"errors"
	"time"
)

// Frame is one of our version 2 messages as it was sealed at send time:
// its number, the ratchet epoch it was sealed in and the sealed bytes. It
// is kept until the message is delivered and never sealed again.
type Frame struct {
	N      uint64
	Epoch  uint32
	Sealed []byte
}

// Sealer seals the new messages msgs (numbered, as Enqueue stores them)
// with the ratchet state state, and returns the new state and one frame per
// message.
type Sealer func(state []byte, msgs []Message) (newState []byte, frames []Frame, err error)

// Ratchet returns the ratchet state of chat id, or nil for a version 1
// chat; ErrNotFound if there is no such chat.
func (s *Store) Ratchet(ctx context.Context, id ChatID) ([]byte, error) {
	var st []byte
	err := s.view(ctx, func(tx *sql.Tx) error {
		var err error
		st, err = ratchetTx(ctx, tx, id)
		return err
	})
	if err != nil {
		return nil, s.wrap("read the ratchet of chat "+id.String(), err)
	}
	return st, nil
}

func ratchetTx(ctx context.Context, q querier, id ChatID) ([]byte, error) {
	if err := requireChat(ctx, q, id); err != nil {
		return nil, err
	}
	var st []byte
	err := q.QueryRowContext(ctx, `SELECT state FROM ratchets WHERE chat = ?`, id[:]).Scan(&st)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, nil
	}
	return st, err
}

// EnqueueSealed is Enqueue for a version 2 chat: in the same transaction it
// seals the new messages with seal, stores their frames and the new
// ratchet state. A failing seal stores nothing.
func (s *Store) EnqueueSealed(ctx context.Context, id ChatID, bodies []string, sentAt time.Time, seal Sealer) ([]Message, error) {
	return s.enqueue(ctx, id, bodies, sentAt, seal)
}

func sealTx(ctx context.Context, tx *sql.Tx, id ChatID, msgs []Message, seal Sealer) error {
	st, err := ratchetTx(ctx, tx, id)
	if err != nil {
		return err
	}
	if st == nil {
		return invalid("chat %s is not a version 2 chat", id)
	}
	st, frames, err := seal(st, msgs)
	if err != nil {
		return err
	}
	if len(frames) != len(msgs) {
		return invalid("%d frames for %d messages", len(frames), len(msgs))
	}
	for i, f := range frames {
		if f.N != msgs[i].N {
			return invalid("frame %d for message %d", f.N, msgs[i].N)
		}
		if _, err := tx.ExecContext(ctx, `INSERT INTO frames (chat, n, epoch, sealed) VALUES (?, ?, ?, ?)`,
			id[:], clampInt64(f.N), int64(f.Epoch), f.Sealed); err != nil {
			return err
		}
	}
	_, err = tx.ExecContext(ctx, `UPDATE ratchets SET state = ? WHERE chat = ?`, st, id[:])
	return err
}

// Frames returns the frames of our messages of chat id that are not
// delivered, by N, at most limit of them, and the chat's counters.
func (s *Store) Frames(ctx context.Context, id ChatID, limit int) ([]Frame, Counters, error) {
	var (
		out []Frame
		c   Counters
	)
	err := s.view(ctx, func(tx *sql.Tx) error {
		var err error
		if c, err = counters(ctx, tx, id); err != nil {
			return err
		}
		rows, err := tx.QueryContext(ctx, `SELECT n, epoch, sealed FROM frames WHERE chat = ? ORDER BY n LIMIT ?`, id[:], limit)
		if err != nil {
			return err
		}
		defer rows.Close()
		for rows.Next() {
			var (
				n, e int64
				f    Frame
			)
			if err := rows.Scan(&n, &e, &f.Sealed); err != nil {
				return err
			}
			if n < 1 || e < 0 || e > 1<<32-1 {
				return ErrCorrupt
			}
			f.N, f.Epoch = uint64(n), uint32(e)
			out = append(out, f)
		}
		return rows.Err()
	})
	if err != nil {
		return nil, Counters{}, s.wrap("read the frames of chat "+id.String(), err)
	}
	return out, c, nil
}

// AcceptRatchet is Accept for a version 2 chat: state, the ratchet state
// that opened msgs, replaces the chat's in the same transaction if every
// message of msgs is stored by it (or was before). It reports whether the
// state was saved; when it was not (a gap, the quota), the caller must
// open the record again later with the old state, whose keys are kept.
func (s *Store) AcceptRatchet(ctx context.Context, id ChatID, msgs []Message, q Quota, state []byte) (Accepted, bool, error) {
	if state == nil {
		return Accepted{}, false, invalid("no ratchet state")
	}
	a, err := s.accept(ctx, id, msgs, q, state)
	if err != nil {
		return a, false, err
	}
	if a.OverQuota {
		return a, false, nil
	}
	rcv, err := s.Received(ctx, id)
	if err != nil {
		return a, false, err
	}
	for _, m := range msgs {
		if m.N > rcv {
			return a, false, nil
		}
	}
	return a, true, nil
}

func saveStateIfComplete(ctx context.Context, tx *sql.Tx, id ChatID, msgs []Message, state []byte) error {
	c, err := counters(ctx, tx, id)
	if err != nil {
		return err
	}
	for _, m := range msgs {
		if m.N > c.Received {
			return nil // kept for later: the old state still has its key
		}
	}
	res, err := tx.ExecContext(ctx, `UPDATE ratchets SET state = ? WHERE chat = ?`, state, id[:])
	if err != nil {
		return err
	}
	if n, err := res.RowsAffected(); err != nil || n != 1 {
		return errors.Join(err, invalid("chat %s is not a version 2 chat", id))
	}
	return nil
}

// SeqV2 returns the highest IPNS sequence number of (epoch, slot) of chat
// id: of our records (mine) or of the peer's we accepted; 0 if none.
func (s *Store) SeqV2(ctx context.Context, id ChatID, mine bool, epoch uint32, slot int) (uint64, error) {
	var seq int64
	err := s.view(ctx, func(tx *sql.Tx) error {
		err := tx.QueryRowContext(ctx, `SELECT seq FROM v2_seqs WHERE chat = ? AND mine = ? AND epoch = ? AND slot = ?`,
			id[:], mine, int64(epoch), slot).Scan(&seq)
		if errors.Is(err, sql.ErrNoRows) {
			return nil
		}
		return err
	})
	if err != nil {
		return 0, s.wrap("read a sequence number of chat "+id.String(), err)
	}
	return uint64(seq), nil
}

// SetSeqV2 raises the sequence number SeqV2 returns to seq (never lowers
// it).
func (s *Store) SetSeqV2(ctx context.Context, id ChatID, mine bool, epoch uint32, slot int, seq uint64) error {
	if err := checkSlot(slot); err != nil {
		return err
	}
	err := s.tx(ctx, func(tx *sql.Tx) error {
		var old int64
		err := tx.QueryRowContext(ctx, `SELECT seq FROM v2_seqs WHERE chat = ? AND mine = ? AND epoch = ? AND slot = ?`,
			id[:], mine, int64(epoch), slot).Scan(&old)
		if err != nil && !errors.Is(err, sql.ErrNoRows) {
			return err
		}
		if err == nil && uint64(old) >= seq {
			return nil
		}
		_, err = tx.ExecContext(ctx, `INSERT INTO v2_seqs (chat, mine, epoch, slot, seq) VALUES (?, ?, ?, ?, ?)
			ON CONFLICT (chat, mine, epoch, slot) DO UPDATE SET seq = excluded.seq`,
			id[:], mine, int64(epoch), slot, int64(seq))
		return err
	})
	return s.wrap("store a sequence number of chat "+id.String(), err)
}
