package store

import (
	"context"
	"database/sql"
	"errors"
	"math"
)

// Counters are a chat's message counters, read together.
type Counters struct {
	Sent     uint64 // highest outgoing N assigned
	Received uint64 // highest contiguous incoming N stored: our ack
	PeerAck  uint64 // highest outgoing N the peer acknowledged
	ReadUpTo uint64 // highest incoming N the user has seen
}

// Counters returns the counters of chat id.
func (s *Store) Counters(ctx context.Context, id ChatID) (Counters, error) {
	if s.closed.Load() {
		return Counters{}, ErrClosed
	}
	c, err := counters(ctx, s.db, id)
	if err != nil {
		return Counters{}, s.wrap("counters of chat "+id.String(), err)
	}
	return c, nil
}

// Received returns the highest N up to which every incoming message of
// chat id is stored: the acknowledgement we send.
func (s *Store) Received(ctx context.Context, id ChatID) (uint64, error) {
	c, err := s.Counters(ctx, id)
	return c.Received, err
}

// ReadUpTo returns the highest incoming N the user has seen.
func (s *Store) ReadUpTo(ctx context.Context, id ChatID) (uint64, error) {
	c, err := s.Counters(ctx, id)
	return c.ReadUpTo, err
}

// MarkRead records that the user has seen the incoming messages of chat id
// up to N n. The cursor only moves forward and never past Received.
func (s *Store) MarkRead(ctx context.Context, id ChatID, n uint64) error {
	if s.closed.Load() {
		return ErrClosed
	}
	// One statement: atomic without an explicit transaction.
	res, err := s.db.ExecContext(ctx,
		`UPDATE chats SET read_upto = max(read_upto, min(?, received)) WHERE id = ?`, clampInt64(n), id[:])
	if err == nil {
		var rows int64
		if rows, err = res.RowsAffected(); err == nil && rows == 0 {
			err = ErrNotFound
		}
	}
	return s.wrap("mark read in chat "+id.String(), err)
}

// PrintedUpTo returns the highest incoming N that a command (recv, pipe
// mode) printed.
func (s *Store) PrintedUpTo(ctx context.Context, id ChatID) (uint64, error) {
	var n int64
	err := s.view(ctx, func(tx *sql.Tx) error {
		return tx.QueryRowContext(ctx, `SELECT printed_upto FROM chats WHERE id = ?`, id[:]).Scan(&n)
	})
	if errors.Is(err, sql.ErrNoRows) {
		err = ErrNotFound
	}
	if err == nil && n < 0 {
		err = invalid("printed_upto %d", n)
	}
	return uint64(n), s.wrap("printed cursor of chat "+id.String(), err)
}

// MarkPrinted records that a command printed the incoming messages of chat
// id up to N n; they count as read too. Both cursors only move forward,
// and never past Received.
func (s *Store) MarkPrinted(ctx context.Context, id ChatID, n uint64) error {
	if s.closed.Load() {
		return ErrClosed
	}
	res, err := s.db.ExecContext(ctx, `UPDATE chats SET
	printed_upto = max(printed_upto, min(?1, received)),
	read_upto = max(read_upto, min(?1, received)) WHERE id = ?2`, clampInt64(n), id[:])
	if err == nil {
		var rows int64
		if rows, err = res.RowsAffected(); err == nil && rows == 0 {
			err = ErrNotFound
		}
	}
	return s.wrap("mark printed in chat "+id.String(), err)
}

// maxSlot bounds slot numbers; the protocol uses a handful.
const maxSlot = 1<<16 - 1

func checkSlot(slot int) error {
	if slot < 0 || slot > maxSlot {
		return invalid("slot %d out of range", slot)
	}
	return nil
}

// recordSeq reads a stored record sequence number, 0 if none. Sequence
// numbers are uint64 (IPNS) stored as their int64 bit pattern.
func recordSeq(ctx context.Context, q querier, id ChatID, mine bool, slot int) (uint64, error) {
	var v int64
	err := q.QueryRowContext(ctx, `SELECT seq FROM record_seqs WHERE chat = ? AND mine = ? AND slot = ?`,
		id[:], mine, slot).Scan(&v)
	if errors.Is(err, sql.ErrNoRows) {
		return 0, nil
	}
	return uint64(v), err
}

func setRecordSeq(ctx context.Context, tx *sql.Tx, id ChatID, mine bool, slot int, seq uint64) error {
	_, err := tx.ExecContext(ctx, `INSERT INTO record_seqs (chat, mine, slot, seq) VALUES (?, ?, ?, ?)
ON CONFLICT (chat, mine, slot) DO UPDATE SET seq = excluded.seq`, id[:], mine, slot, int64(seq))
	return err
}

// NextSeqAfter reserves and returns the next IPNS sequence number for our
// record in slot of chat id, above floor: 1 the first time (floor 0), then
// increasing, and never the same number twice, also across processes and
// restarts. A floor above what the store knows is for when the DHT holds a
// record of ours with a higher sequence number (a restored or lost
// database): the DHT keeps the record with the highest one, so a lower
// number would never be seen.
func (s *Store) NextSeqAfter(ctx context.Context, id ChatID, slot int, floor uint64) (uint64, error) {
	if err := checkSlot(slot); err != nil {
		return 0, err
	}
	var next uint64
	err := s.tx(ctx, func(tx *sql.Tx) error {
		if err := requireChat(ctx, tx, id); err != nil {
			return err
		}
		var err error
		next, err = reserveSeq(ctx, tx, id, slot, floor)
		return err
	})
	if err != nil {
		return 0, s.wrap("next sequence number in chat "+id.String(), err)
	}
	return next, nil
}

// reserveSeq reserves, in tx, the next sequence number of our record in
// slot of chat id above both the last one used and floor.
func reserveSeq(ctx context.Context, tx *sql.Tx, id ChatID, slot int, floor uint64) (uint64, error) {
	cur, err := recordSeq(ctx, tx, id, true, slot)
	if err != nil {
		return 0, err
	}
	cur = max(cur, floor)
	if cur == math.MaxUint64 {
		return 0, errors.New("record sequence numbers exhausted")
	}
	return cur + 1, setRecordSeq(ctx, tx, id, true, slot, cur+1)
}

// PeerSeq returns the highest IPNS sequence number accepted for the peer's
// record in slot of chat id, 0 if none.
func (s *Store) PeerSeq(ctx context.Context, id ChatID, slot int) (uint64, error) {
	return s.seqOf(ctx, id, false, slot, "peer sequence number in chat ")
}

// seqOf reads a record sequence number: ours (mine) or the peer's.
func (s *Store) seqOf(ctx context.Context, id ChatID, mine bool, slot int, what string) (uint64, error) {
	if err := checkSlot(slot); err != nil {
		return 0, err
	}
	var seq uint64
	err := s.view(ctx, func(tx *sql.Tx) error {
		if err := requireChat(ctx, tx, id); err != nil {
			return err
		}
		var err error
		seq, err = recordSeq(ctx, tx, id, mine, slot)
		return err
	})
	if err != nil {
		return 0, s.wrap(what+id.String(), err)
	}
	return seq, nil
}

// AdvancePeerSeq stores seq as the peer's sequence number for slot of chat
// id if it is higher than the stored one, and reports whether it was. A
// false result means the record is a replay or a rollback.
func (s *Store) AdvancePeerSeq(ctx context.Context, id ChatID, slot int, seq uint64) (bool, error) {
	if err := checkSlot(slot); err != nil {
		return false, err
	}
	var advanced bool
	err := s.tx(ctx, func(tx *sql.Tx) error {
		if err := requireChat(ctx, tx, id); err != nil {
			return err
		}
		cur, err := recordSeq(ctx, tx, id, false, slot)
		if err != nil || seq <= cur {
			return err
		}
		advanced = true
		return setRecordSeq(ctx, tx, id, false, slot, seq)
	})
	if err != nil {
		return false, s.wrap("advance peer sequence number in chat "+id.String(), err)
	}
	return advanced, nil
}

// OwnSeq returns the highest IPNS sequence number used for our record in
// slot of chat id, 0 if this database never published it.
func (s *Store) OwnSeq(ctx context.Context, id ChatID, slot int) (uint64, error) {
	return s.seqOf(ctx, id, true, slot, "own sequence number in chat ")
}

// Record identifies one record we wrote: its IPNS sequence number and the
// SHA-256 of its payload.
type Record struct {
	Seq  uint64
	Hash [32]byte
}

// SetPublished remembers r as the record we are about to publish in our
// slot 0 of chat id, unless one with a higher sequence number is already
// remembered (another process on this database published after us). Call
// it before the record is put: a put that fails may still have reached
// some DHT nodes, and what they hold is ours.
func (s *Store) SetPublished(ctx context.Context, id ChatID, r Record) error {
	if s.closed.Load() {
		return ErrClosed
	}
	if r.Seq > math.MaxInt64 {
		return invalid("sequence number %d", r.Seq)
	}
	_, err := s.db.ExecContext(ctx, `INSERT INTO published (chat, seq, hash) VALUES (?, ?, ?)
ON CONFLICT (chat) DO UPDATE SET seq = excluded.seq, hash = excluded.hash WHERE excluded.seq >= published.seq`,
		id[:], int64(r.Seq), r.Hash[:])
	return s.wrap("remember our record in chat "+id.String(), err)
}

// Published returns the record SetPublished remembered last for chat id;
// the zero Record if none.
func (s *Store) Published(ctx context.Context, id ChatID) (Record, error) {
	var r Record
	err := s.view(ctx, func(tx *sql.Tx) error {
		if err := requireChat(ctx, tx, id); err != nil {
			return err
		}
		var (
			seq  int64
			hash []byte
		)
		err := tx.QueryRowContext(ctx, `SELECT seq, hash FROM published WHERE chat = ?`, id[:]).Scan(&seq, &hash)
		if errors.Is(err, sql.ErrNoRows) {
			return nil
		}
		if err != nil {
			return err
		}
		if seq < 0 || len(hash) != len(r.Hash) {
			return ErrCorrupt
		}
		r.Seq, r.Hash = uint64(seq), [32]byte(hash)
		return nil
	})
	if err != nil {
		return Record{}, s.wrap("our record in chat "+id.String(), err)
	}
	return r, nil
}
