package store

import (
	"context"
)

// The Store's methods below serve only its tests: the engine reads these
// through Counters, Snapshot, OutboxState and Unacked, and stores through Accept.

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

// Receive is Accept without a quota.
func (s *Store) Receive(ctx context.Context, id ChatID, msgs []Message) ([]Message, error) {
	a, err := s.Accept(ctx, id, msgs, Quota{})
	return a.Stored, err
}
