package store

import (
	"context"
	"database/sql"
	"strings"
	"unicode/utf8"
)

// MaxSearchHits bounds the hits one Search returns, so that a query of one
// common letter on a long history stays cheap; the newest hits are kept.
const MaxSearchHits = 1000

// Search returns the messages of chat id whose body contains text,
// ignoring case (of ASCII letters for a query shorter than three
// characters), oldest first, at most limit of them (limit <= 0 or above
// MaxSearchHits: MaxSearchHits), the newest if there are more. An empty
// text finds nothing.
//
// A query of three characters or more is served by the trigram index of
// schema version 7 (messages_fts); a shorter one, for which a trigram
// index has nothing to look up, scans the chat's own rows (the
// messages_chat_seq index), which is what the index would return anyway
// for so common a pattern.
func (s *Store) Search(ctx context.Context, id ChatID, text string, limit int) ([]Message, error) {
	if limit <= 0 || limit > MaxSearchHits {
		limit = MaxSearchHits
	}
	var out []Message
	err := s.view(ctx, func(tx *sql.Tx) error {
		if err := requireChat(ctx, tx, id); err != nil {
			return err
		}
		if text == "" {
			return nil
		}
		var (
			rows *sql.Rows
			err  error
		)
		if utf8.RuneCountInString(text) >= 3 {
			// One FTS5 phrase: the trigram tokenizer matches it as a
			// substring. Double quotes inside are doubled.
			phrase := `"` + strings.ReplaceAll(text, `"`, `""`) + `"`
			rows, err = tx.QueryContext(ctx, `SELECT `+prefixed("m.", msgCols)+` FROM messages_fts f
JOIN messages m ON m.seq = f.rowid
WHERE messages_fts MATCH ? AND m.chat = ? ORDER BY m.seq DESC LIMIT ?`, phrase, id[:], limit)
		} else {
			rows, err = tx.QueryContext(ctx, `SELECT `+msgCols+` FROM messages
WHERE chat = ? AND instr(lower(body), lower(?)) > 0 ORDER BY seq DESC LIMIT ?`, id[:], text, limit)
		}
		if err != nil {
			return err
		}
		out, err = scanMessages(rows)
		return err
	})
	if err != nil {
		return nil, s.wrap("search chat "+id.String(), err)
	}
	for i, j := 0, len(out)-1; i < j; i, j = i+1, j-1 {
		out[i], out[j] = out[j], out[i]
	}
	return out, nil
}

// prefixed qualifies each of the comma-separated columns cols with p.
func prefixed(p, cols string) string {
	parts := strings.Split(cols, ", ")
	for i := range parts {
		parts[i] = p + parts[i]
	}
	return strings.Join(parts, ", ")
}

// Draft returns the saved draft of chat id ("" if none).
func (s *Store) Draft(ctx context.Context, id ChatID) (string, error) {
	var d string
	err := s.view(ctx, func(tx *sql.Tx) error {
		err := tx.QueryRowContext(ctx, `SELECT draft FROM chats WHERE id = ?`, id[:]).Scan(&d)
		if err == sql.ErrNoRows {
			return ErrNotFound
		}
		return err
	})
	if err != nil {
		return "", s.wrap("draft of chat "+id.String(), err)
	}
	return d, nil
}

// SetDraft saves draft as the draft of chat id ("" clears it). It is
// durable when SetDraft returns.
func (s *Store) SetDraft(ctx context.Context, id ChatID, draft string) error {
	if len(draft) > MaxBody {
		return ErrTooLarge
	}
	err := s.tx(ctx, func(tx *sql.Tx) error {
		res, err := tx.ExecContext(ctx, `UPDATE chats SET draft = ? WHERE id = ?`, draft, id[:])
		if err != nil {
			return err
		}
		if n, err := res.RowsAffected(); err != nil {
			return err
		} else if n == 0 {
			return ErrNotFound
		}
		return nil
	})
	return s.wrap("save draft of chat "+id.String(), err)
}
