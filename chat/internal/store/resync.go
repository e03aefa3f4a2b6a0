package store

import (
	"context"
	"database/sql"
	"errors"
	"math"
	"slices"
)

// Resync is what the DHT shows that another writer of our direction did
// in a chat (another copy of this database: a backup that was restored,
// or a second device with the same identity), as read back from our own
// records. See [Store.Resync].
type Resync struct {
	// Seq0 is the sequence number of our slot 0 record in the DHT: our
	// next record there must be above it.
	Seq0 uint64
	// Floor is the highest message number another writer used (our slot
	// 0's max_n, or an acknowledgement of the friend's above what we
	// published): our new messages must be numbered above it.
	Floor uint64
	// Others are the messages our records in the DHT carry, numbered at
	// most Floor, by N. Of each, N, SentAt, Body and Digest are used.
	Others []Message
	// Complete says that Others is everything the other writer's records
	// carry: a number at most Floor that they do not carry was used by
	// the other writer and dropped from its records, acknowledged by the
	// friend.
	Complete bool
}

// Resynced is what Resync changed.
type Resynced struct {
	// SeqRaised: our slot 0 sequence counter was below Seq0.
	SeqRaised bool
	// Raised: the message counter was below Floor.
	Raised bool
	// Renumbered are our messages that were moved above Floor (they
	// collided with numbers another writer used), by their new N; they
	// are Pending again.
	Renumbered []Message
	// Imported are the messages of Others that this database did not have,
	// now in the history as outgoing, Published and Imported.
	Imported []Message
	// Conflicts are numbers at which Others has another message than one
	// of ours already acknowledged by the peer: the peer has one of the
	// two, and which is not known.
	Conflicts []uint64
}

// Changed reports whether anything was behind.
func (r Resynced) Changed() bool {
	return r.SeqRaised || r.Raised || len(r.Renumbered) > 0 || len(r.Imported) > 0 || len(r.Conflicts) > 0
}

// renumberOffset moves messages out of the way while they are renumbered,
// so that no two rows ever share a number (message numbers stay far below
// it).
const renumberOffset = 1 << 62

// Resync brings chat id in line with what another writer of our direction
// did, in one transaction:
//
//   - our slot 0 sequence counter is raised to r.Seq0;
//   - our unacknowledged messages numbered at most r.Floor that the
//     friend cannot have had from us (Pending ones, and Published ones
//     that r.Others shows with other content), and every unacknowledged
//     message after the first of them, are renumbered above r.Floor, in
//     their order, and become Pending: they are sent again, so they are
//     not lost and are never marked delivered by an acknowledgement of
//     the other writer's messages;
//   - the messages of r.Others this database does not have are added as
//     outgoing, Published and Imported (they stay in our records until
//     acknowledged, so that the friend gets them); where a Published
//     message of ours collided with one of them, the friend may have
//     either, so the other writer's is also added again after ours,
//     Pending (it may arrive twice, but it is not lost);
//   - with r.Complete, a Published message of ours numbered at most
//     r.Floor that r.Others does not carry collided too: the other writer
//     used the number and the friend acknowledged its message, which may
//     be another than ours, so ours is renumbered and sent again (it may
//     arrive twice);
//   - the message counter is raised to r.Floor.
//
// With nothing behind it changes nothing. Numbers and sequence numbers
// above math.MaxInt64 are refused (the caller bounds them).
func (s *Store) Resync(ctx context.Context, id ChatID, r Resync) (Resynced, error) {
	if r.Floor >= renumberOffset/2 || r.Seq0 > math.MaxInt64 {
		return Resynced{}, invalid("resync to number %d, sequence number %d", r.Floor, r.Seq0)
	}
	others := make(map[uint64]Message, len(r.Others))
	for _, m := range r.Others {
		if m.N >= 1 && m.N <= r.Floor {
			others[m.N] = m
		}
	}
	var out Resynced
	err := s.tx(ctx, func(tx *sql.Tx) error {
		c, err := counters(ctx, tx, id)
		if err != nil {
			return err
		}
		if own, err := recordSeq(ctx, tx, id, true, 0); err != nil {
			return err
		} else if r.Seq0 > own {
			out.SeqRaised = true
			if err := setRecordSeq(ctx, tx, id, true, 0, r.Seq0); err != nil {
				return err
			}
		}
		// What the friend acknowledged cannot be sent again: compare only.
		delivered := make(map[uint64]Message)
		for n, m := range others {
			if n <= c.PeerAck {
				delivered[n] = m
				delete(others, n)
			}
		}
		if out.Conflicts, err = conflicts(ctx, tx, id, true, delivered, c.PeerAck); err != nil {
			return err
		}

		rows, err := unacked(ctx, tx, id, c.PeerAck, -1)
		if err != nil {
			return err
		}
		first := -1 // the index in rows of the first message to renumber
		var same []uint64
		for i, row := range rows {
			if row.N > r.Floor {
				break
			}
			o, ok := others[row.N]
			switch {
			case ok && sameContent(row, o):
				// The other writer published this very message (a copy
				// made while it was pending): it is in the DHT.
				same = append(same, row.N)
				continue
			case ok || row.Status == Pending:
			case r.Complete && row.Status == Published:
				// The other writer's records no longer carry this number:
				// the friend acknowledged its message under it.
			default:
				continue // ours, published; the friend may have it from us
			}
			first = i
			break
		}
		for _, n := range same {
			if _, err := setStatus(ctx, tx, id, n-1, n, Published, Pending); err != nil {
				return err
			}
		}
		sent := max(c.Sent, r.Floor)
		if first >= 0 {
			moved := rows[first:]
			if _, err := tx.ExecContext(ctx, `UPDATE messages SET n = n + ? WHERE chat = ? AND outgoing = 1 AND n >= ? AND n > ?`,
				int64(renumberOffset), id[:], int64(moved[0].N), int64(c.PeerAck)); err != nil {
				return err
			}
			stmt, err := tx.PrepareContext(ctx, `UPDATE messages SET n = ?, status = ?, digest = ? WHERE seq = ?`)
			if err != nil {
				return err
			}
			defer stmt.Close()
			var again []Message // the other writer's, where ours was published too
			for i, m := range moved {
				if o, ok := others[m.N]; ok && m.Status == Published {
					again = append(again, o)
				}
				m.N, m.Status = r.Floor+1+uint64(i), Pending
				m.Digest = Digest(m.N, m.SentAt.UnixMilli(), m.Body)
				if _, err := stmt.ExecContext(ctx, int64(m.N), m.Status, m.Digest[:], m.Seq); err != nil {
					return err
				}
				out.Renumbered = append(out.Renumbered, m)
			}
			sent = r.Floor + uint64(len(moved))
			// Both messages of such a number were published, and the friend
			// has at most one of them: the other writer's goes out again
			// too, after ours (it may arrive twice; it is not lost).
			for _, o := range again {
				sent++
				m, err := insertOutgoing(ctx, tx, id, sent, o, Pending)
				if err != nil {
					return err
				}
				out.Imported = append(out.Imported, m)
			}
		}
		// What the other writer published and we do not have.
		ns := make([]uint64, 0, len(others))
		for n := range others {
			ns = append(ns, n)
		}
		slices.Sort(ns)
		for _, n := range ns {
			if _, err := storedMessage(ctx, tx, id, true, n); err == nil {
				continue // ours already, the same message
			} else if !errors.Is(err, sql.ErrNoRows) {
				return err
			}
			m, err := insertOutgoing(ctx, tx, id, n, others[n], Published)
			if err != nil {
				return err
			}
			out.Imported = append(out.Imported, m)
		}
		out.Raised = r.Floor > c.Sent
		if sent == c.Sent {
			return nil
		}
		_, err = tx.ExecContext(ctx, `UPDATE chats SET sent = ? WHERE id = ?`, int64(sent), id[:])
		return err
	})
	if err != nil {
		return Resynced{}, s.wrap("resync chat "+id.String(), err)
	}
	return out, nil
}

// insertOutgoing stores m, a message of another writer of our direction,
// as our outgoing message number n with status st, marked Imported.
func insertOutgoing(ctx context.Context, tx *sql.Tx, id ChatID, n uint64, m Message, st Status) (Message, error) {
	if err := checkBody(0, m.Body); err != nil {
		return Message{}, err
	}
	sentAt := timeFromDB(timeToDB(m.SentAt))
	d := Digest(n, sentAt.UnixMilli(), m.Body)
	if n == m.N {
		d = digestOf(m) // as the record carries it
	}
	res, err := tx.ExecContext(ctx, `INSERT INTO messages (chat, outgoing, n, sent_at, received_at, body, status, digest, imported)
VALUES (?, 1, ?, ?, 0, ?, ?, ?, 1)`, id[:], int64(n), timeToDB(sentAt), m.Body, st, d[:])
	if err != nil {
		return Message{}, err
	}
	seq, err := res.LastInsertId()
	if err != nil {
		return Message{}, err
	}
	return Message{Seq: seq, Chat: id, Outgoing: true, N: n, SentAt: sentAt, Body: m.Body, Status: st,
		Digest: d, Imported: true}, nil
}
