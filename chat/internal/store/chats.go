package store

import (
	"context"
	"database/sql"
	"errors"
	"time"
)

// Chat is one conversation with one peer.
type Chat struct {
	ID           ChatID
	Peer         PeerKey
	StartedByMe  bool // we ran `start`; the peer ran `respond`
	CreatedAt    time.Time
	LastActivity time.Time // last message sent or received, else CreatedAt
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

const chatCols = `id, peer, started_by_me, created_at, last_activity`

type scanner interface{ Scan(dest ...any) error }

func scanChat(r scanner, extra ...any) (Chat, error) {
	var (
		c           Chat
		id, peer    []byte
		created, la int64
	)
	if err := r.Scan(append([]any{&id, &peer, &c.StartedByMe, &created, &la}, extra...)...); err != nil {
		if errors.Is(err, sql.ErrNoRows) {
			return Chat{}, ErrNotFound
		}
		return Chat{}, err
	}
	if len(id) != len(c.ID) || len(peer) != len(c.Peer) {
		return Chat{}, ErrCorrupt
	}
	copy(c.ID[:], id)
	copy(c.Peer[:], peer)
	c.CreatedAt, c.LastActivity = timeFromDB(created), timeFromDB(la)
	return c, nil
}

func getChat(ctx context.Context, q querier, id ChatID) (Chat, error) {
	return scanChat(q.QueryRowContext(ctx, `SELECT `+chatCols+` FROM chats WHERE id = ?`, id[:]))
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

// CreateChat stores a new chat. A zero CreatedAt means now; a zero
// LastActivity means CreatedAt. Creating a chat that already exists with
// the same peer returns the stored chat and false; an existing ID with
// another peer is ErrChatConflict.
func (s *Store) CreateChat(ctx context.Context, c Chat) (Chat, bool, error) {
	if c.ID == (ChatID{}) {
		return Chat{}, false, invalid("zero chat ID")
	}
	if c.Peer == (PeerKey{}) {
		return Chat{}, false, invalid("zero peer key")
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
		old, err := getChat(ctx, tx, c.ID)
		if err == nil {
			if old.Peer != c.Peer {
				return ErrChatConflict
			}
			out = old
			return nil
		}
		if !errors.Is(err, ErrNotFound) {
			return err
		}
		_, err = tx.ExecContext(ctx,
			`INSERT INTO chats (id, peer, started_by_me, created_at, last_activity) VALUES (?, ?, ?, ?, ?)`,
			c.ID[:], c.Peer[:], c.StartedByMe, timeToDB(c.CreatedAt), timeToDB(c.LastActivity))
		out, created = c, true
		return err
	})
	if err != nil {
		return Chat{}, false, s.wrap("create chat "+c.ID.String(), err)
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
SELECT c.id, c.peer, c.started_by_me, c.created_at, c.last_activity,
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
	c, err := scanChat(s.db.QueryRowContext(ctx, `SELECT `+chatCols+` FROM chats WHERE peer = ?
ORDER BY last_activity DESC, created_at DESC, id LIMIT 1`, peer[:]))
	if err != nil {
		return Chat{}, s.wrap("latest chat", err)
	}
	return c, nil
}
