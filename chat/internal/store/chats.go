package store

import (
	"context"
	cryptorand "crypto/rand"
	"database/sql"
	"errors"
	"time"
)

// Chat is one conversation with one peer.
type Chat struct {
	ID           ChatID // local: see ChatID
	Wire         WireID // from the chat key; unique per Peer
	Peer         PeerKey
	StartedByMe  bool // we ran `start`; the peer ran `respond`
	CreatedAt    time.Time
	LastActivity time.Time // last message sent or received, else CreatedAt
	// Blocked says that the peer is blocked (see Store.Block). It is the
	// peer's state, read with the chat; CreateChat ignores it.
	Blocked bool
}

// Summary is a chat as the chat list shows it. Its LastActivity is the
// embedded Chat's.
type Summary struct {
	Chat
	Unread   int    // incoming messages received but not marked read
	LastText string // body of the latest message in either direction, "" if none
}

// querier is what *sql.DB and *sql.Tx have in common.
type querier interface {
	QueryRowContext(ctx context.Context, query string, args ...any) *sql.Row
	QueryContext(ctx context.Context, query string, args ...any) (*sql.Rows, error)
	ExecContext(ctx context.Context, query string, args ...any) (sql.Result, error)
}

// chatCols are the columns scanChat reads, from chats c.
const chatCols = `c.id, c.wire, c.peer, c.started_by_me, c.created_at, c.last_activity,
	EXISTS (SELECT 1 FROM blocked_peers b WHERE b.peer = c.peer)`

type scanner interface{ Scan(dest ...any) error }

func scanChat(r scanner, extra ...any) (Chat, error) {
	var (
		c              Chat
		id, wire, peer []byte
		created, la    int64
	)
	if err := r.Scan(append([]any{&id, &wire, &peer, &c.StartedByMe, &created, &la, &c.Blocked}, extra...)...); err != nil {
		if errors.Is(err, sql.ErrNoRows) {
			return Chat{}, ErrNotFound
		}
		return Chat{}, err
	}
	if len(id) != len(c.ID) || len(wire) != len(c.Wire) || len(peer) != len(c.Peer) {
		return Chat{}, ErrCorrupt
	}
	copy(c.ID[:], id)
	copy(c.Wire[:], wire)
	copy(c.Peer[:], peer)
	c.CreatedAt, c.LastActivity = timeFromDB(created), timeFromDB(la)
	return c, nil
}

func getChat(ctx context.Context, q querier, id ChatID) (Chat, error) {
	return scanChat(q.QueryRowContext(ctx, `SELECT `+chatCols+` FROM chats c WHERE c.id = ?`, id[:]))
}

func chatByWire(ctx context.Context, q querier, peer PeerKey, wire WireID) (Chat, error) {
	return scanChat(q.QueryRowContext(ctx, `SELECT `+chatCols+` FROM chats c WHERE c.peer = ? AND c.wire = ?`,
		peer[:], wire[:]))
}

// requireChat returns ErrNotFound unless the chat exists.
func requireChat(ctx context.Context, q querier, id ChatID) error {
	var one int
	err := q.QueryRowContext(ctx, `SELECT 1 FROM chats WHERE id = ?`, id[:]).Scan(&one)
	if errors.Is(err, sql.ErrNoRows) {
		return ErrNotFound
	}
	return err
}

// view runs fn in a read transaction, so that what it reads is one
// consistent snapshot. It takes no write lock.
func (s *Store) view(ctx context.Context, fn func(*sql.Tx) error) error {
	if s.closed.Load() {
		return ErrClosed
	}
	tx, err := s.db.BeginTx(ctx, &sql.TxOptions{ReadOnly: true})
	if err != nil {
		return err
	}
	defer tx.Rollback()
	if err := fn(tx); err != nil {
		return err
	}
	return tx.Commit()
}

// CreateChat stores a new chat with c.Peer and c.Wire, which must not be
// zero. A zero ID means a fresh random one (the usual case; a caller may
// choose it, and gets ErrChatConflict if another chat has it). A zero
// CreatedAt means now; a zero LastActivity means CreatedAt. If the peer
// already has a chat with that wire ID, CreateChat returns the stored chat
// and false, whatever c.ID says. Chats of other peers with the same wire
// ID do not matter: each peer's chats are their own.
func (s *Store) CreateChat(ctx context.Context, c Chat) (Chat, bool, error) {
	return s.createChat(ctx, c, nil)
}

// CreateChatV2 is CreateChat for a protocol version 2 chat: a new chat
// gets ratchet as its ratchet state (see Store.Ratchet), in the same
// transaction. A chat already there is returned as it is, with false.
func (s *Store) CreateChatV2(ctx context.Context, c Chat, ratchet []byte) (Chat, bool, error) {
	if ratchet == nil {
		return Chat{}, false, invalid("no ratchet state")
	}
	return s.createChat(ctx, c, ratchet)
}

func (s *Store) createChat(ctx context.Context, c Chat, ratchet []byte) (Chat, bool, error) {
	if c.Wire == (WireID{}) {
		return Chat{}, false, invalid("zero wire ID")
	}
	if c.Peer == (PeerKey{}) {
		return Chat{}, false, invalid("zero peer key")
	}
	if c.ID == (ChatID{}) {
		cryptorand.Read(c.ID[:]) // never fails (Go 1.24+)
	}
	if c.CreatedAt.IsZero() {
		c.CreatedAt = s.now()
	}
	if c.LastActivity.Before(c.CreatedAt) {
		c.LastActivity = c.CreatedAt
	}
	// What we return is what a later read returns (no monotonic clock).
	c.CreatedAt = timeFromDB(timeToDB(c.CreatedAt))
	c.LastActivity = timeFromDB(timeToDB(c.LastActivity))

	var (
		out     Chat
		created bool
	)
	err := s.tx(ctx, func(tx *sql.Tx) error {
		old, err := chatByWire(ctx, tx, c.Peer, c.Wire)
		if err == nil {
			out = old
			return nil
		}
		if !errors.Is(err, ErrNotFound) {
			return err
		}
		if err := requireChat(ctx, tx, c.ID); err == nil {
			return ErrChatConflict
		} else if !errors.Is(err, ErrNotFound) {
			return err
		}
		_, err = tx.ExecContext(ctx,
			`INSERT INTO chats (id, wire, peer, started_by_me, created_at, last_activity) VALUES (?, ?, ?, ?, ?, ?)`,
			c.ID[:], c.Wire[:], c.Peer[:], c.StartedByMe, timeToDB(c.CreatedAt), timeToDB(c.LastActivity))
		if err != nil {
			return err
		}
		if ratchet != nil {
			if _, err := tx.ExecContext(ctx, `INSERT INTO ratchets (chat, state) VALUES (?, ?)`, c.ID[:], ratchet); err != nil {
				return err
			}
		}
		out, created = c, true
		out.Blocked, err = isBlocked(ctx, tx, c.Peer)
		return err
	})
	if err != nil {
		return Chat{}, false, s.wrap("create chat "+c.Wire.String(), err)
	}
	return out, created, nil
}

// Chat returns the chat with the given ID, or ErrNotFound.
func (s *Store) Chat(ctx context.Context, id ChatID) (Chat, error) {
	if s.closed.Load() {
		return Chat{}, ErrClosed
	}
	c, err := getChat(ctx, s.db, id)
	if err != nil {
		return Chat{}, s.wrap("chat "+id.String(), err)
	}
	return c, nil
}

// Chats returns every chat, most recently active first.
func (s *Store) Chats(ctx context.Context) ([]Summary, error) {
	var out []Summary
	err := s.view(ctx, func(tx *sql.Tx) error {
		rows, err := tx.QueryContext(ctx, `
SELECT `+chatCols+`,
	c.received - c.read_upto,
	coalesce((SELECT m.body FROM messages m WHERE m.chat = c.id ORDER BY m.seq DESC LIMIT 1), '')
FROM chats c
ORDER BY c.last_activity DESC, c.created_at DESC, c.id`)
		if err != nil {
			return err
		}
		defer rows.Close()
		for rows.Next() {
			var sum Summary
			if sum.Chat, err = scanChat(rows, &sum.Unread, &sum.LastText); err != nil {
				return err
			}
			out = append(out, sum)
		}
		return rows.Err()
	})
	if err != nil {
		return nil, s.wrap("list chats", err)
	}
	return out, nil
}

// LatestChatWith returns the most recently active chat with peer, or
// ErrNotFound.
func (s *Store) LatestChatWith(ctx context.Context, peer PeerKey) (Chat, error) {
	if s.closed.Load() {
		return Chat{}, ErrClosed
	}
	c, err := scanChat(s.db.QueryRowContext(ctx, `SELECT `+chatCols+` FROM chats c WHERE c.peer = ?
ORDER BY c.last_activity DESC, c.created_at DESC, c.id LIMIT 1`, peer[:]))
	if err != nil {
		return Chat{}, s.wrap("latest chat", err)
	}
	return c, nil
}

// ChatByWire returns the chat with peer whose wire ID is wire, or
// ErrNotFound.
func (s *Store) ChatByWire(ctx context.Context, peer PeerKey, wire WireID) (Chat, error) {
	if s.closed.Load() {
		return Chat{}, ErrClosed
	}
	c, err := chatByWire(ctx, s.db, peer, wire)
	if err != nil {
		return Chat{}, s.wrap("chat "+wire.String(), err)
	}
	return c, nil
}

// ChatsByWire returns every chat whose wire ID is wire, whoever the peer:
// usually one, but nothing stops two peers from choosing the same ID.
func (s *Store) ChatsByWire(ctx context.Context, wire WireID) ([]Chat, error) {
	var out []Chat
	err := s.view(ctx, func(tx *sql.Tx) error {
		rows, err := tx.QueryContext(ctx, `SELECT `+chatCols+` FROM chats c WHERE c.wire = ? ORDER BY c.created_at, c.id`, wire[:])
		if err != nil {
			return err
		}
		defer rows.Close()
		for rows.Next() {
			c, err := scanChat(rows)
			if err != nil {
				return err
			}
			out = append(out, c)
		}
		return rows.Err()
	})
	if err != nil {
		return nil, s.wrap("chats "+wire.String(), err)
	}
	return out, nil
}

// Deleted is what DeleteChat removed.
type Deleted struct {
	Chat     Chat
	Sent     int // outgoing messages
	Received int // incoming messages
	Unacked  int // of Sent, those the peer had not acknowledged
}

// DeleteChat removes chat id and everything of it: its messages in both
// directions, its outbox, counters and record sequence numbers. It returns
// what it removed, or ErrNotFound.
func (s *Store) DeleteChat(ctx context.Context, id ChatID) (Deleted, error) {
	var d Deleted
	err := s.tx(ctx, func(tx *sql.Tx) error {
		var err error
		if d.Chat, err = getChat(ctx, tx, id); err != nil {
			return err
		}
		c, err := counters(ctx, tx, id)
		if err != nil {
			return err
		}
		err = tx.QueryRowContext(ctx, `SELECT count(*) FILTER (WHERE outgoing = 1), count(*) FILTER (WHERE outgoing = 0),
	count(*) FILTER (WHERE outgoing = 1 AND n > ?)
FROM messages WHERE chat = ?`, int64(c.PeerAck), id[:]).Scan(&d.Sent, &d.Received, &d.Unacked)
		if err != nil {
			return err
		}
		// Explicitly, not by ON DELETE CASCADE alone: the deletion must not
		// depend on the connection's foreign_keys setting.
		for _, q := range []string{
			`DELETE FROM messages WHERE chat = ?`,
			`DELETE FROM record_seqs WHERE chat = ?`,
			`DELETE FROM ratchets WHERE chat = ?`,
			`DELETE FROM frames WHERE chat = ?`,
			`DELETE FROM v2_seqs WHERE chat = ?`,
			`DELETE FROM alerts WHERE chat = ?`,
			`DELETE FROM chats WHERE id = ?`,
		} {
			if _, err := tx.ExecContext(ctx, q, id[:]); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return Deleted{}, s.wrap("delete chat "+id.String(), err)
	}
	return d, nil
}

func isBlocked(ctx context.Context, q querier, peer PeerKey) (bool, error) {
	var blocked bool
	err := q.QueryRowContext(ctx, `SELECT EXISTS (SELECT 1 FROM blocked_peers WHERE peer = ?)`, peer[:]).Scan(&blocked)
	return blocked, err
}

// Block marks peer as blocked, and reports whether it was not already.
// A blocked peer's chats stay in the store; the engine neither polls nor
// publishes them (Chat.Blocked) until Unblock.
func (s *Store) Block(ctx context.Context, peer PeerKey) (bool, error) {
	if peer == (PeerKey{}) {
		return false, invalid("zero peer key")
	}
	if s.closed.Load() {
		return false, ErrClosed
	}
	res, err := s.db.ExecContext(ctx, `INSERT INTO blocked_peers (peer, blocked_at) VALUES (?, ?) ON CONFLICT DO NOTHING`,
		peer[:], timeToDB(s.now()))
	if err != nil {
		return false, s.wrap("block", err)
	}
	n, err := res.RowsAffected()
	return n > 0, s.wrap("block", err)
}

// Unblock lifts a block, and reports whether peer was blocked.
func (s *Store) Unblock(ctx context.Context, peer PeerKey) (bool, error) {
	if s.closed.Load() {
		return false, ErrClosed
	}
	res, err := s.db.ExecContext(ctx, `DELETE FROM blocked_peers WHERE peer = ?`, peer[:])
	if err != nil {
		return false, s.wrap("unblock", err)
	}
	n, err := res.RowsAffected()
	return n > 0, s.wrap("unblock", err)
}

// Blocked reports whether peer is blocked.
func (s *Store) Blocked(ctx context.Context, peer PeerKey) (bool, error) {
	if s.closed.Load() {
		return false, ErrClosed
	}
	b, err := isBlocked(ctx, s.db, peer)
	return b, s.wrap("blocked", err)
}
