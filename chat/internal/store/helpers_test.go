package store

import (
	"context"
	"database/sql"
)

// The Store's methods below serve only its tests: the engine reads these
// through Counters, Snapshot and OutboxState, and stores through Accept.

// PeerAck returns the highest outgoing N the peer has acknowledged.
func (s *Store) PeerAck(ctx context.Context, id ChatID) (uint64, error) {
	c, err := s.Counters(ctx, id)
	return c.PeerAck, err
}

// NextSeq reserves and returns the next IPNS sequence number for our record
// in slot of chat id: 1 the first time, then increasing, and never the same
// number twice, also across processes and restarts.
func (s *Store) NextSeq(ctx context.Context, id ChatID, slot int) (uint64, error) {
	return s.NextSeqAfter(ctx, id, slot, 0)
}

// Unacked returns the outgoing messages of chat id that the peer has not
// acknowledged (Pending or Published), by N, at most limit of them
// (limit <= 0: all).
func (s *Store) Unacked(ctx context.Context, id ChatID, limit int) ([]Message, error) {
	if limit <= 0 {
		limit = -1 // SQLite: no limit
	}
	var out []Message
	err := s.view(ctx, func(tx *sql.Tx) error {
		c, err := counters(ctx, tx, id)
		if err != nil {
			return err
		}
		out, err = unacked(ctx, tx, id, c.PeerAck, limit)
		return err
	})
	if err != nil {
		return nil, s.wrap("unacked in chat "+id.String(), err)
	}
	return out, nil
}

// Receive is Accept without a quota.
func (s *Store) Receive(ctx context.Context, id ChatID, msgs []Message) ([]Message, error) {
	a, err := s.Accept(ctx, id, msgs, Quota{})
	return a.Stored, err
}
