package store

import (
	"context"
	"database/sql"
	"time"
)

// AlertKind says what an alert is about. The store keeps the number; the
// chat engine gives the kinds their meaning.
type AlertKind int

// Alert is something about a chat the user must be told, kept so that it
// can be shown again later.
type Alert struct {
	Chat ChatID
	Kind AlertKind
	N    uint64    // what it is about, as the kind says; 0 if nothing
	At   time.Time // when it was first raised
	// Seen: the user was told of it (SeeAlerts).
	Seen bool
}

// MaxAlertsPerKind bounds the alerts kept per chat and kind: a hostile
// peer can raise one with a new N at every record it publishes, and the
// store must not grow without bound. The oldest go first.
const MaxAlertsPerKind = 16

// AddAlert records a, unless an alert of the same chat, kind and N is
// already recorded, and reports whether it was new. A zero At means now.
// Of each chat and kind it keeps the MaxAlertsPerKind latest.
func (s *Store) AddAlert(ctx context.Context, a Alert) (bool, error) {
	if a.At.IsZero() {
		a.At = s.now()
	}
	var k int64
	err := s.tx(ctx, func(tx *sql.Tx) error {
		res, err := tx.ExecContext(ctx, `INSERT INTO alerts (chat, kind, n, at) VALUES (?, ?, ?, ?)
ON CONFLICT (chat, kind, n) DO NOTHING`, a.Chat[:], int64(a.Kind), clampInt64(a.N), timeToDB(a.At))
		if err != nil {
			return err
		}
		if k, err = res.RowsAffected(); err != nil || k == 0 {
			return err
		}
		_, err = tx.ExecContext(ctx, `DELETE FROM alerts WHERE chat = ?1 AND kind = ?2 AND n NOT IN
(SELECT n FROM alerts WHERE chat = ?1 AND kind = ?2 ORDER BY at DESC, n DESC LIMIT ?3)`,
			a.Chat[:], int64(a.Kind), MaxAlertsPerKind)
		return err
	})
	if err != nil {
		return false, s.wrap("add alert to chat "+a.Chat.String(), err)
	}
	return k > 0, nil
}

// Alerts returns the alerts of chat id, oldest first.
func (s *Store) Alerts(ctx context.Context, id ChatID) ([]Alert, error) {
	var out []Alert
	err := s.view(ctx, func(tx *sql.Tx) error {
		if err := requireChat(ctx, tx, id); err != nil {
			return err
		}
		rows, err := tx.QueryContext(ctx, `SELECT kind, n, at, seen FROM alerts WHERE chat = ? ORDER BY at, kind, n`, id[:])
		if err != nil {
			return err
		}
		defer rows.Close()
		for rows.Next() {
			var (
				a     = Alert{Chat: id}
				n, at int64
			)
			if err := rows.Scan(&a.Kind, &n, &at, &a.Seen); err != nil {
				return err
			}
			if n < 0 {
				return ErrCorrupt
			}
			a.N, a.At = uint64(n), timeFromDB(at)
			out = append(out, a)
		}
		return rows.Err()
	})
	if err != nil {
		return nil, s.wrap("alerts of chat "+id.String(), err)
	}
	return out, nil
}

// SeeAlerts marks the alerts of chat id raised at or before upTo as seen
// by the user.
func (s *Store) SeeAlerts(ctx context.Context, id ChatID, upTo time.Time) error {
	err := s.tx(ctx, func(tx *sql.Tx) error {
		if err := requireChat(ctx, tx, id); err != nil {
			return err
		}
		_, err := tx.ExecContext(ctx, `UPDATE alerts SET seen = 1 WHERE chat = ? AND at <= ? AND seen = 0`, id[:], timeToDB(upTo))
		return err
	})
	return s.wrap("mark the alerts of chat "+id.String()+" seen", err)
}

// AlertCounts returns how many alerts not seen yet (SeeAlerts) each chat
// that has any has.
func (s *Store) AlertCounts(ctx context.Context) (map[ChatID]int, error) {
	out := make(map[ChatID]int)
	err := s.view(ctx, func(tx *sql.Tx) error {
		rows, err := tx.QueryContext(ctx, `SELECT chat, count(*) FROM alerts WHERE seen = 0 GROUP BY chat`)
		if err != nil {
			return err
		}
		defer rows.Close()
		for rows.Next() {
			var (
				chat []byte
				n    int
			)
			if err := rows.Scan(&chat, &n); err != nil {
				return err
			}
			if len(chat) != len(ChatID{}) {
				return ErrCorrupt
			}
			out[ChatID(chat)] = n
		}
		return rows.Err()
	})
	if err != nil {
		return nil, s.wrap("count alerts", err)
	}
	return out, nil
}
