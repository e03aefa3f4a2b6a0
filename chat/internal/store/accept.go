package store

import (
	"context"
	"crypto/sha256"
	"database/sql"
	"encoding/binary"
	"errors"
	"math"
	"slices"
	"time"
)

// digestLabel separates message digests from any other use of SHA-256.
const digestLabel = "dhtchat/v1 message digest"

// Digest is the content digest of message number n with sender's time
// sentAtMs (Unix milliseconds, as the protocol carries it) and body:
//
//	SHA-256("dhtchat/v1 message digest" || u64 n || i64 sent_at_ms || body)
//
// (big-endian integers). The store keeps it with every message so that a
// number that arrives again with other content is recognised exactly,
// whatever the store did to the time (it clamps the friend's clock).
func Digest(n uint64, sentAtMs int64, body string) [32]byte {
	h := sha256.New()
	h.Write([]byte(digestLabel))
	var b [16]byte
	binary.BigEndian.PutUint64(b[:8], n)
	binary.BigEndian.PutUint64(b[8:], uint64(sentAtMs))
	h.Write(b[:])
	h.Write([]byte(body))
	return [32]byte(h.Sum(nil))
}

// digestOf returns m.Digest, computing it if it is zero.
func digestOf(m Message) [32]byte {
	if m.Digest != ([32]byte{}) {
		return m.Digest
	}
	return Digest(m.N, m.SentAt.UnixMilli(), m.Body)
}

// sameContent reports whether the stored message row and m (of the same
// number) carry the same message. Rows from before schema version 3 have
// no digest: their body and time are compared as stored.
func sameContent(row, m Message) bool {
	if row.Digest != ([32]byte{}) {
		return row.Digest == digestOf(m)
	}
	return row.Body == m.Body && timeToDB(row.SentAt) == timeToDB(m.SentAt)
}

// Quota bounds what one chat may store from the peer within any Period:
// at most Messages messages and Bytes bytes of message bodies. A zero
// Messages or Bytes does not bound that quantity; a zero Period bounds
// nothing.
type Quota struct {
	Period   time.Duration
	Messages int
	Bytes    int64
}

// quotaQuery counts the messages and body bytes received in a chat since
// a time: a range of the messages_incoming_time index, which holds at most
// about a quota's worth of rows.
const quotaQuery = `SELECT count(*), coalesce(sum(length(CAST(body AS BLOB))), 0)
FROM messages WHERE chat = ? AND outgoing = 0 AND received_at > ?`

func (q Quota) bounded() bool { return q.Period > 0 && (q.Messages > 0 || q.Bytes > 0) }

// Accepted is what Accept did with a batch of incoming messages.
type Accepted struct {
	// Stored are the newly stored messages, by N.
	Stored []Message
	// Conflicts are the numbers, in increasing order, of messages in the
	// batch that were stored before with other content. The stored
	// message is kept; the other is dropped.
	Conflicts []uint64
	// OverQuota says that storing stopped because the next message would
	// exceed the quota; it and those after it were not stored.
	OverQuota bool
}

// Accept stores incoming messages of chat id exactly once and in order.
// Of msgs only N, SentAt, Body and Digest are used (a zero Digest is
// computed). Starting at Received()+1, it stores the message numbered
// next, then the one after it, and so on while they are present in msgs,
// in any order; duplicates, numbers already stored and anything after a
// gap are ignored (the gap's messages will come again). It sets Seq,
// ReceivedAt and Status, moves the chat's LastActivity, and returns the
// newly stored messages by N (Accepted.Stored). A body over MaxBody in
// that run fails the whole call and stores nothing. Storing stops before
// a message that would exceed the quota q (Accepted.OverQuota), and the
// batch's messages that are already stored are compared to what is stored
// (Accepted.Conflicts).
func (s *Store) Accept(ctx context.Context, id ChatID, msgs []Message, q Quota) (Accepted, error) {
	return s.accept(ctx, id, msgs, q, nil)
}

// accept is Accept; with a non-nil state it also replaces the chat's
// ratchet state (version 2) in the same transaction, if every message of
// msgs is then stored (none was left out by a gap or the quota): the
// state no longer holds the keys of the messages it opened.
func (s *Store) accept(ctx context.Context, id ChatID, msgs []Message, q Quota, state []byte) (Accepted, error) {
	byN := make(map[uint64]Message, len(msgs))
	for _, m := range msgs {
		if _, dup := byN[m.N]; !dup {
			byN[m.N] = m
		}
	}
	now := timeFromDB(timeToDB(s.now()))
	var a Accepted
	err := s.tx(ctx, func(tx *sql.Tx) error {
		if err := s.acceptTx(ctx, tx, id, byN, q, now, &a); err != nil {
			return err
		}
		if state == nil || a.OverQuota {
			return nil
		}
		return saveStateIfComplete(ctx, tx, id, msgs, state)
	})
	if err != nil {
		return Accepted{}, s.wrap("receive in chat "+id.String(), err)
	}
	return a, nil
}

func (s *Store) acceptTx(ctx context.Context, tx *sql.Tx, id ChatID, byN map[uint64]Message, q Quota, now time.Time, a *Accepted) error {
	{
		c, err := counters(ctx, tx, id)
		if err != nil {
			return err
		}
		if a.Conflicts, err = conflicts(ctx, tx, id, false, byN, c.Received); err != nil {
			return err
		}
		n := c.Received + 1
		if _, ok := byN[n]; !ok {
			return nil
		}
		var usedMsgs, usedBytes int64
		if q.bounded() {
			if err := tx.QueryRowContext(ctx, quotaQuery, id[:], timeToDB(now.Add(-q.Period))).Scan(&usedMsgs, &usedBytes); err != nil {
				return err
			}
		}
		stmt, err := tx.PrepareContext(ctx,
			`INSERT INTO messages (chat, outgoing, n, sent_at, received_at, body, status, digest) VALUES (?, 0, ?, ?, ?, ?, ?, ?)`)
		if err != nil {
			return err
		}
		defer stmt.Close()
		for ; n <= math.MaxInt64; n++ {
			m, ok := byN[n]
			if !ok {
				break
			}
			if err := checkBody(len(a.Stored), m.Body); err != nil {
				return err
			}
			if q.bounded() && ((q.Messages > 0 && usedMsgs+1 > int64(q.Messages)) ||
				(q.Bytes > 0 && usedBytes+int64(len(m.Body)) > q.Bytes)) {
				a.OverQuota = true
				break
			}
			usedMsgs, usedBytes = usedMsgs+1, usedBytes+int64(len(m.Body))
			sentAt := timeFromDB(timeToDB(m.SentAt))
			d := digestOf(m)
			res, err := stmt.ExecContext(ctx, id[:], int64(n), timeToDB(sentAt), timeToDB(now), m.Body, Received, d[:])
			if err != nil {
				return err
			}
			seq, err := res.LastInsertId()
			if err != nil {
				return err
			}
			a.Stored = append(a.Stored, Message{Seq: seq, Chat: id, N: n, SentAt: sentAt, ReceivedAt: now, Body: m.Body, Status: Received, Digest: d})
		}
		if len(a.Stored) == 0 {
			return nil
		}
		_, err = tx.ExecContext(ctx, `UPDATE chats SET received = ?, last_activity = max(last_activity, ?) WHERE id = ?`,
			int64(n-1), timeToDB(now), id[:])
		return err
	}
}

// conflicts returns, in increasing order, the numbers of the messages of
// byN numbered at most upTo that are stored in direction outgoing with
// other content. A number not stored is no conflict.
func conflicts(ctx context.Context, tx *sql.Tx, id ChatID, outgoing bool, byN map[uint64]Message, upTo uint64) ([]uint64, error) {
	var out []uint64
	for n, m := range byN {
		if n > upTo || n > math.MaxInt64 {
			continue
		}
		row, err := storedMessage(ctx, tx, id, outgoing, n)
		if errors.Is(err, sql.ErrNoRows) {
			continue
		}
		if err != nil {
			return nil, err
		}
		if !sameContent(row, m) {
			out = append(out, n)
		}
	}
	slices.Sort(out)
	return out, nil
}

// storedMessage reads message n of direction outgoing of chat id, or
// sql.ErrNoRows.
func storedMessage(ctx context.Context, tx *sql.Tx, id ChatID, outgoing bool, n uint64) (Message, error) {
	rows, err := tx.QueryContext(ctx, `SELECT `+msgCols+` FROM messages WHERE chat = ? AND outgoing = ? AND n = ?`,
		id[:], outgoing, int64(n))
	if err != nil {
		return Message{}, err
	}
	ms, err := scanMessages(rows)
	if err != nil {
		return Message{}, err
	}
	if len(ms) == 0 {
		return Message{}, sql.ErrNoRows
	}
	return ms[0], nil
}
