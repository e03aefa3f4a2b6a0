package store

import (
	"cmp"
	"context"
	"database/sql"
	"errors"
	"fmt"
	"math"
	"slices"
	"strconv"
	"time"
)

// Status is where a message stands.
type Status uint8

const (
	Pending   Status = iota // outgoing, stored but not yet in a published record
	Published               // outgoing, in a record put to the DHT
	Delivered               // outgoing, acknowledged by the peer
	Received                // incoming
)

func (st Status) String() string {
	switch st {
	case Pending:
		return "pending"
	case Published:
		return "published"
	case Delivered:
		return "delivered"
	case Received:
		return "received"
	}
	return "Status(" + strconv.Itoa(int(st)) + ")"
}

// Message is one stored message.
type Message struct {
	Seq        int64 // local display order across both directions, from 1
	Chat       ChatID
	Outgoing   bool
	N          uint64    // number within its direction of the chat, from 1
	SentAt     time.Time // the sender's timestamp
	ReceivedAt time.Time // when we stored an incoming message; zero for outgoing
	Body       string
	Status     Status
	// Digest is the message's content digest (see Digest); zero for a row
	// stored before schema version 3.
	Digest [32]byte
	// Imported marks a message of ours that another copy of this identity
	// sent: it was found in our own records in the DHT (see Resync).
	Imported bool
}

const msgCols = `seq, chat, outgoing, n, sent_at, received_at, body, status, digest, imported`

func scanMessages(rows *sql.Rows) ([]Message, error) {
	defer rows.Close()
	var out []Message
	for rows.Next() {
		var (
			m            Message
			chat         []byte
			n, sent, rcv int64
			digest       []byte
		)
		if err := rows.Scan(&m.Seq, &chat, &m.Outgoing, &n, &sent, &rcv, &m.Body, &m.Status, &digest, &m.Imported); err != nil {
			return nil, err
		}
		if len(chat) != len(m.Chat) || n < 1 || (digest != nil && len(digest) != len(m.Digest)) {
			return nil, ErrCorrupt
		}
		copy(m.Chat[:], chat)
		copy(m.Digest[:], digest)
		m.N, m.SentAt, m.ReceivedAt = uint64(n), timeFromDB(sent), timeFromDB(rcv)
		out = append(out, m)
	}
	return out, rows.Err()
}

func checkBody(i int, body string) error {
	if len(body) > MaxBody {
		return fmt.Errorf("%w: message %d is %d bytes, the limit is %d", ErrTooLarge, i, len(body), MaxBody)
	}
	return nil
}

// clampInt64 converts a message number from the caller or the peer to the
// database's int64; nothing real comes near the bound.
func clampInt64(n uint64) int64 { return int64(min(n, math.MaxInt64)) }

// counters reads a chat's counters, or ErrNotFound.
func counters(ctx context.Context, q querier, id ChatID) (Counters, error) {
	var sent, rcv, ack, read int64
	err := q.QueryRowContext(ctx, `SELECT sent, received, peer_ack, read_upto FROM chats WHERE id = ?`, id[:]).
		Scan(&sent, &rcv, &ack, &read)
	if errors.Is(err, sql.ErrNoRows) {
		return Counters{}, ErrNotFound
	}
	if err != nil {
		return Counters{}, err
	}
	if sent < 0 || rcv < 0 || ack < 0 || read < 0 {
		return Counters{}, ErrCorrupt
	}
	return Counters{Sent: uint64(sent), Received: uint64(rcv), PeerAck: uint64(ack), ReadUpTo: uint64(read)}, nil
}

// Enqueue stores bodies as new outgoing messages of chat id, numbered
// consecutively after its highest outgoing N, with status Pending. They are
// durable when Enqueue returns. A zero sentAt means now.
func (s *Store) Enqueue(ctx context.Context, id ChatID, bodies []string, sentAt time.Time) ([]Message, error) {
	return s.enqueue(ctx, id, bodies, sentAt, nil)
}

func (s *Store) enqueue(ctx context.Context, id ChatID, bodies []string, sentAt time.Time, seal Sealer) ([]Message, error) {
	for i, b := range bodies {
		if err := checkBody(i, b); err != nil {
			return nil, err
		}
	}
	if sentAt.IsZero() {
		sentAt = s.now()
	}
	sentAt = timeFromDB(timeToDB(sentAt))
	var out []Message
	err := s.tx(ctx, func(tx *sql.Tx) error {
		c, err := counters(ctx, tx, id)
		if err != nil {
			return err
		}
		if len(bodies) == 0 {
			return nil
		}
		stmt, err := tx.PrepareContext(ctx,
			`INSERT INTO messages (chat, outgoing, n, sent_at, received_at, body, status, digest) VALUES (?, 1, ?, ?, 0, ?, ?, ?)`)
		if err != nil {
			return err
		}
		defer stmt.Close()
		out = make([]Message, 0, len(bodies))
		n := c.Sent
		for _, b := range bodies {
			n++
			d := Digest(n, sentAt.UnixMilli(), b)
			res, err := stmt.ExecContext(ctx, id[:], int64(n), timeToDB(sentAt), b, Pending, d[:])
			if err != nil {
				return err
			}
			seq, err := res.LastInsertId()
			if err != nil {
				return err
			}
			out = append(out, Message{Seq: seq, Chat: id, Outgoing: true, N: n, SentAt: sentAt, Body: b, Status: Pending, Digest: d})
		}
		_, err = tx.ExecContext(ctx, `UPDATE chats SET sent = ?, last_activity = max(last_activity, ?) WHERE id = ?`,
			int64(n), timeToDB(sentAt), id[:])
		if err != nil || seal == nil {
			return err
		}
		return sealTx(ctx, tx, id, out, seal)
	})
	if err != nil {
		return nil, s.wrap("enqueue in chat "+id.String(), err)
	}
	return out, nil
}

// setStatus moves outgoing messages with from < N <= to and a status in
// olds to status st, and returns them by N.
func setStatus(ctx context.Context, tx *sql.Tx, id ChatID, from, to uint64, st Status, olds ...Status) ([]Message, error) {
	if to <= from {
		return nil, nil
	}
	q := `UPDATE messages SET status = ? WHERE chat = ? AND outgoing = 1 AND n > ? AND n <= ? AND status IN (`
	args := []any{st, id[:], int64(from), int64(to)}
	for i, o := range olds {
		if i > 0 {
			q += ", "
		}
		q += "?"
		args = append(args, o)
	}
	rows, err := tx.QueryContext(ctx, q+`) RETURNING `+msgCols, args...)
	if err != nil {
		return nil, err
	}
	out, err := scanMessages(rows)
	if err != nil {
		return nil, err
	}
	// RETURNING has no defined order.
	slices.SortFunc(out, func(a, b Message) int { return cmp.Compare(a.N, b.N) })
	return out, nil
}

// MarkPublished moves the Pending outgoing messages of chat id with
// N <= upTo to Published and returns them by N.
func (s *Store) MarkPublished(ctx context.Context, id ChatID, upTo uint64) ([]Message, error) {
	var out []Message
	err := s.tx(ctx, func(tx *sql.Tx) error {
		c, err := counters(ctx, tx, id)
		if err != nil {
			return err
		}
		out, err = setStatus(ctx, tx, id, c.PeerAck, min(upTo, c.Sent), Published, Pending)
		return err
	})
	if err != nil {
		return nil, s.wrap("mark published in chat "+id.String(), err)
	}
	return out, nil
}

// MarkDelivered records the peer's acknowledgement ack (the highest of our
// message numbers it has received) and moves every not yet delivered
// outgoing message with N <= ack to Delivered, returning those by N.
// Acknowledgements only increase: a lower one changes nothing. One above
// the highest N we sent (a broken or malicious peer) is clamped to it.
func (s *Store) MarkDelivered(ctx context.Context, id ChatID, ack uint64) ([]Message, error) {
	var out []Message
	err := s.tx(ctx, func(tx *sql.Tx) error {
		c, err := counters(ctx, tx, id)
		if err != nil {
			return err
		}
		ack = min(ack, c.Sent)
		if ack <= c.PeerAck {
			return nil
		}
		if out, err = setStatus(ctx, tx, id, c.PeerAck, ack, Delivered, Pending, Published); err != nil {
			return err
		}
		_, err = tx.ExecContext(ctx, `UPDATE chats SET peer_ack = ? WHERE id = ?`, int64(ack), id[:])
		return err
	})
	if err != nil {
		return nil, s.wrap("mark delivered in chat "+id.String(), err)
	}
	return out, nil
}

// MarkDeliveredVerified records the peer's acknowledgement ack as
// MarkDelivered does, but only as far as carried confirms it: carried are
// the messages that our records in the DHT hold (as read back), and a
// message of ours counts as acknowledged only if carried has it under its
// number with the same content, for then it is the message the peer read
// under that number, not another writer's. From the lowest message not
// yet delivered on, it moves to Delivered each message so confirmed and
// stops before the first that is not; numbers with no message of ours
// (another writer of our direction used them) are passed over. A message
// numbered at most taken that carried does not hold at all counts as
// confirmed: taken is the max_n of another writer's records that carried
// lists in full, and they left it out because the peer acknowledged it.
// It returns the messages delivered, by N, and the acknowledgement
// recorded: below ack if a message could not be confirmed.
func (s *Store) MarkDeliveredVerified(ctx context.Context, id ChatID, ack uint64, carried []Message, taken uint64) ([]Message, uint64, error) {
	byN := make(map[uint64]Message, len(carried))
	for _, m := range carried {
		byN[m.N] = m
	}
	var (
		out  []Message
		upTo uint64
	)
	err := s.tx(ctx, func(tx *sql.Tx) error {
		c, err := counters(ctx, tx, id)
		if err != nil {
			return err
		}
		upTo = c.PeerAck
		ack = min(ack, c.Sent)
		if ack <= c.PeerAck {
			return nil
		}
		rows, err := unacked(ctx, tx, id, c.PeerAck, -1)
		if err != nil {
			return err
		}
		upTo = ack
		for _, row := range rows {
			if row.N > ack {
				break
			}
			m, ok := byN[row.N]
			if (ok && !sameContent(row, m)) || (!ok && row.N > taken) {
				upTo = row.N - 1
				break
			}
		}
		if upTo <= c.PeerAck {
			upTo = c.PeerAck
			return nil
		}
		if out, err = setStatus(ctx, tx, id, c.PeerAck, upTo, Delivered, Pending, Published); err != nil {
			return err
		}
		_, err = tx.ExecContext(ctx, `UPDATE chats SET peer_ack = ? WHERE id = ?`, int64(upTo), id[:])
		return err
	})
	if err != nil {
		return nil, 0, s.wrap("mark delivered in chat "+id.String(), err)
	}
	return out, upTo, nil
}

// History returns up to limit messages of chat id with Seq < beforeSeq
// (beforeSeq <= 0: from the newest), oldest first. To page backwards, pass
// the Seq of the first message of the previous page. limit must be positive.
func (s *Store) History(ctx context.Context, id ChatID, beforeSeq int64, limit int) ([]Message, error) {
	if limit <= 0 {
		return nil, invalid("history limit %d", limit)
	}
	if beforeSeq <= 0 {
		beforeSeq = math.MaxInt64
	}
	var out []Message
	err := s.view(ctx, func(tx *sql.Tx) error {
		if err := requireChat(ctx, tx, id); err != nil {
			return err
		}
		rows, err := tx.QueryContext(ctx, `SELECT `+msgCols+` FROM messages
WHERE chat = ? AND seq < ? ORDER BY seq DESC LIMIT ?`, id[:], beforeSeq, limit)
		if err != nil {
			return err
		}
		out, err = scanMessages(rows)
		return err
	})
	if err != nil {
		return nil, s.wrap("history of chat "+id.String(), err)
	}
	slices.Reverse(out)
	return out, nil
}

// Unacked returns the outgoing messages of chat id that the peer has not
// acknowledged (Pending or Published), by N, at most limit of them
// (limit <= 0: all). The live path sends them (chat/livepath.go).
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

// Incoming returns up to limit incoming messages of chat id with N > afterN,
// by N (limit <= 0: all). `recv` uses it with afterN = ReadUpTo.
func (s *Store) Incoming(ctx context.Context, id ChatID, afterN uint64, limit int) ([]Message, error) {
	if limit <= 0 {
		limit = -1
	}
	var out []Message
	err := s.view(ctx, func(tx *sql.Tx) error {
		if err := requireChat(ctx, tx, id); err != nil {
			return err
		}
		rows, err := tx.QueryContext(ctx, `SELECT `+msgCols+` FROM messages
WHERE chat = ? AND outgoing = 0 AND n > ? ORDER BY n LIMIT ?`, id[:], clampInt64(afterN), limit)
		if err != nil {
			return err
		}
		out, err = scanMessages(rows)
		return err
	})
	if err != nil {
		return nil, s.wrap("incoming of chat "+id.String(), err)
	}
	return out, nil
}

// Count returns the number of messages in chat id, both directions.
func (s *Store) Count(ctx context.Context, id ChatID) (int, error) {
	var n int
	err := s.view(ctx, func(tx *sql.Tx) error {
		if err := requireChat(ctx, tx, id); err != nil {
			return err
		}
		return tx.QueryRowContext(ctx, `SELECT count(*) FROM messages WHERE chat = ?`, id[:]).Scan(&n)
	})
	if err != nil {
		return 0, s.wrap("count chat "+id.String(), err)
	}
	return n, nil
}

// Snapshot is what a publish of a chat needs, read at one instant.
type Snapshot struct {
	Seq0     uint64 // the sequence number reserved for our slot 0
	Counters Counters
	Unacked  []Message // the outgoing messages not acknowledged (Pending or Published), by N
}

// Snapshot reserves the next sequence number of our slot 0 of chat id
// (above floor, as NextSeqAfter) and reads the counters and up to limit
// unacknowledged messages, all in one write transaction. So when two
// processes publish the same chat, the one with the higher sequence number
// (the record the DHT keeps) is the one that read the later state.
func (s *Store) Snapshot(ctx context.Context, id ChatID, limit int, floor uint64) (Snapshot, error) {
	if limit <= 0 {
		limit = -1
	}
	var snap Snapshot
	err := s.tx(ctx, func(tx *sql.Tx) error {
		if err := requireChat(ctx, tx, id); err != nil {
			return err
		}
		var err error
		if snap.Seq0, err = reserveSeq(ctx, tx, id, 0, floor); err != nil {
			return err
		}
		if snap.Counters, err = counters(ctx, tx, id); err != nil {
			return err
		}
		snap.Unacked, err = unacked(ctx, tx, id, snap.Counters.PeerAck, limit)
		return err
	})
	if err != nil {
		return Snapshot{}, s.wrap("snapshot of chat "+id.String(), err)
	}
	return snap, nil
}

// OutboxState summarises the unacknowledged outgoing messages of a chat.
type OutboxState struct {
	Counters
	Unacked      int    // outgoing messages Pending or Published
	Pending      int    // of those, Pending
	FirstPending uint64 // the lowest Pending N, 0 if none
}

// OutboxState reads the counters of chat id and the shape of its
// unacknowledged tail in one read transaction, without loading messages.
func (s *Store) OutboxState(ctx context.Context, id ChatID) (OutboxState, error) {
	var o OutboxState
	err := s.view(ctx, func(tx *sql.Tx) error {
		var err error
		if o.Counters, err = counters(ctx, tx, id); err != nil {
			return err
		}
		var first sql.NullInt64
		err = tx.QueryRowContext(ctx, `SELECT count(*), count(*) FILTER (WHERE status = ?), min(n) FILTER (WHERE status = ?)
FROM messages WHERE chat = ? AND outgoing = 1 AND n > ? AND status IN (?, ?)`,
			Pending, Pending, id[:], int64(o.PeerAck), Pending, Published).Scan(&o.Unacked, &o.Pending, &first)
		if first.Valid {
			o.FirstPending = uint64(first.Int64)
		}
		return err
	})
	if err != nil {
		return OutboxState{}, s.wrap("outbox of chat "+id.String(), err)
	}
	return o, nil
}

// unacked reads, in tx, up to limit (-1: all) outgoing messages of chat id
// above peerAck that are Pending or Published, by N. Everything up to
// peer_ack is Delivered; starting there keeps the scan to the
// unacknowledged tail of the (chat, outgoing, n) index.
func unacked(ctx context.Context, tx *sql.Tx, id ChatID, peerAck uint64, limit int) ([]Message, error) {
	rows, err := tx.QueryContext(ctx, `SELECT `+msgCols+` FROM messages
WHERE chat = ? AND outgoing = 1 AND n > ? AND status IN (?, ?) ORDER BY n LIMIT ?`,
		id[:], int64(peerAck), Pending, Published, limit)
	if err != nil {
		return nil, err
	}
	return scanMessages(rows)
}
