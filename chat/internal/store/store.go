// Package store keeps the durable local state of every chat: the outbox, the
// history, the per-chat counters (message numbers, acknowledgements, read
// cursors, IPNS record sequence numbers) and the receive state. It is one
// SQLite database file (the pure-Go modernc.org/sqlite, WAL mode) in the data
// directory, and it knows nothing about encryption or the network.
//
// Several processes may use the same file at once, for example the
// full-screen UI while a script runs `dhtchat send`. Every change that takes
// more than one statement is one transaction that takes the write lock up
// front (BEGIN IMMEDIATE) and waits for another writer for up to a few
// seconds, so read-modify-write sequences such as numbering messages never
// race. The database runs with synchronous=FULL: once a method that changes
// state returns, the change survives kill -9 and power loss. That is what
// lets the chat engine report a message as queued.
//
// Message numbers (N) count each direction of a chat separately from 1.
// Outgoing messages move Pending → Published → Delivered; incoming ones are
// stored only in order and only once (see [Store.Accept]). Seq is a local,
// ever-increasing display order across both directions.
package store

import (
	"context"
	"database/sql"
	"encoding/hex"
	"errors"
	"fmt"
	"math/rand/v2"
	"net/url"
	"os"
	"path/filepath"
	"strconv"
	"sync/atomic"
	"time"

	"modernc.org/sqlite"
	sqlite3 "modernc.org/sqlite/lib"
)

// MaxBody is the largest message body, in bytes, that the store accepts.
// The protocol's limits are far lower; this bound only keeps a bug or a
// hostile input from filling the disk.
const MaxBody = 64 << 10

// SchemaVersion is the version of the database schema this package writes.
const SchemaVersion = 8

// applicationID marks the file as a dhtchat store ("dhtc") in the SQLite
// header, so that Open refuses to adopt some other application's database.
const applicationID = 0x64687463

// busyTimeout is how long a transaction waits for another process's write
// lock. Writers hold it for milliseconds; the bound only keeps a wedged
// process from blocking the others forever.
const busyTimeout = 10 * time.Second

var (
	// ErrNotFound is returned when a chat does not exist.
	ErrNotFound = errors.New("store: chat not found")
	// ErrChatConflict is returned by CreateChat when the local chat ID
	// asked for is already the ID of another chat.
	ErrChatConflict = errors.New("store: chat ID already used by another chat")
	// ErrTooLarge is returned for a message body longer than MaxBody.
	ErrTooLarge = errors.New("store: message body too large")
	// ErrCorrupt is returned when the file is not a SQLite database, is
	// damaged, or belongs to another application.
	ErrCorrupt = errors.New("store: database is corrupt or not a dhtchat database")
	// ErrClosed is returned by methods called after Close.
	ErrClosed = errors.New("store: closed")
)

// SchemaTooNewError is returned by Open when the database was written by a
// newer dhtchat whose schema this one does not know.
type SchemaTooNewError struct {
	Path    string
	Version int // the version found in the file
}

func (e *SchemaTooNewError) Error() string {
	return fmt.Sprintf("store: %s has schema version %d, newer than the %d this dhtchat understands (upgrade dhtchat)",
		e.Path, e.Version, SchemaVersion)
}

// ChatID is the local identifier of a chat: the key of its row, which the
// messages and counters of the chat refer to. The caller of CreateChat
// chooses it (the engine derives it from the parties and the WireID), or
// the store picks one at random. Chats made by schema versions before 4
// kept their WireID as their ChatID.
type ChatID [16]byte

// String returns the ID in hex.
func (id ChatID) String() string { return hex.EncodeToString(id[:]) }

// WireID is the identifier inside a chat's chat key, from which the
// protocol derives the chat's names and keys together with the pair key.
// The party who starts a chat chooses it, so it is unique only per peer:
// a chat is (Peer, WireID), and two peers' chats may share a WireID
// without touching each other.
type WireID [16]byte

// String returns the ID in hex.
func (id WireID) String() string { return hex.EncodeToString(id[:]) }

// PeerKey is the other party's X25519 public key.
type PeerKey [32]byte

// Store is an open database. Its methods are safe for concurrent use, also
// with other Stores (in this or other processes) on the same file.
type Store struct {
	db   *sql.DB
	path string

	closed atomic.Bool

	// now is the clock for times the store sets itself (ReceivedAt,
	// defaults of CreateChat); tests replace it.
	now func() time.Time
}

// Open opens the database at path, creating it (mode 0600, and its
// directory with mode 0700) if it does not exist, and brings its schema up
// to date. It fails with an error wrapping ErrCorrupt if the file is not a
// dhtchat database, and with a *SchemaTooNewError if a newer dhtchat wrote it.
func Open(path string) (*Store, error) {
	if path == "" {
		return nil, errors.New("store: empty database path")
	}
	abs, err := filepath.Abs(path)
	if err != nil {
		return nil, fmt.Errorf("store: %w", err)
	}
	if err := os.MkdirAll(filepath.Dir(abs), 0o700); err != nil {
		return nil, fmt.Errorf("store: %w", err)
	}
	if err := createPrivate(abs); err != nil {
		return nil, err
	}

	q := url.Values{}
	q.Set("_busy_timeout", strconv.FormatInt(busyTimeout.Milliseconds(), 10))
	q.Set("_foreign_keys", "on")
	q.Set("_synchronous", "FULL")
	q.Set("_txlock", "immediate") // BeginTx (not read-only) = BEGIN IMMEDIATE
	// A file: URI escapes '?', '#' and '%' in the path, which a plain name
	// with a query appended would not.
	dsn := (&url.URL{Scheme: "file", Path: filepath.ToSlash(abs), RawQuery: q.Encode()}).String()
	db, err := sql.Open("sqlite", dsn)
	if err != nil {
		return nil, fmt.Errorf("store: open %s: %w", abs, err)
	}
	// The connections of one process share nothing SQLite could use, so a
	// few are plenty: readers run beside the one writer WAL allows.
	db.SetMaxOpenConns(4)
	db.SetMaxIdleConns(4)

	s := &Store{db: db, path: abs, now: time.Now}
	ctx, cancel := context.WithTimeout(context.Background(), busyTimeout+5*time.Second)
	defer cancel()
	for {
		err := s.migrate(ctx)
		if err == nil {
			return s, nil
		}
		// Switching a new file to WAL needs an exclusive lock, and SQLite
		// reports that conflict at once instead of calling the busy
		// handler, so several processes opening a new file at the same
		// time retry here.
		if !isBusy(err) || ctx.Err() != nil {
			db.Close()
			return nil, err
		}
		select {
		case <-ctx.Done():
		case <-time.After(time.Duration(5+rand.IntN(20)) * time.Millisecond):
		}
	}
}

func isBusy(err error) bool {
	var se *sqlite.Error
	return errors.As(err, &se) && (se.Code()&0xff == sqlite3.SQLITE_BUSY || se.Code()&0xff == sqlite3.SQLITE_LOCKED)
}

// createPrivate creates the database file with mode 0600 if it is missing.
// SQLite itself would create it with 0644 &^ umask; it gives the -wal and
// -shm files the mode of the database file, so they are private too. An
// existing file readable by others is tightened: it holds plaintext history.
func createPrivate(path string) error {
	f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE, 0o600)
	if err != nil {
		return fmt.Errorf("store: %w", err)
	}
	defer f.Close()
	fi, err := f.Stat()
	if err != nil {
		return fmt.Errorf("store: %w", err)
	}
	if !fi.Mode().IsRegular() {
		return fmt.Errorf("store: %s is not a regular file", path)
	}
	if perm := fi.Mode().Perm(); perm&0o077 != 0 {
		if err := f.Chmod(perm &^ 0o077); err != nil {
			return fmt.Errorf("store: %w", err)
		}
	}
	return nil
}

// migrations[i] brings the schema from version i to i+1.
var migrations = []string{
	`
CREATE TABLE chats (
	id            BLOB PRIMARY KEY CHECK (length(id) = 16),
	peer          BLOB NOT NULL CHECK (length(peer) = 32),
	started_by_me INTEGER NOT NULL,
	created_at    INTEGER NOT NULL, -- Unix nanoseconds, 0 = zero time
	last_activity INTEGER NOT NULL,
	sent          INTEGER NOT NULL DEFAULT 0, -- highest outgoing N assigned
	received      INTEGER NOT NULL DEFAULT 0, -- highest contiguous incoming N stored
	peer_ack      INTEGER NOT NULL DEFAULT 0, -- highest outgoing N the peer acknowledged
	read_upto     INTEGER NOT NULL DEFAULT 0  -- highest incoming N the user has seen
) STRICT;
CREATE INDEX chats_peer ON chats (peer, last_activity);
CREATE INDEX chats_activity ON chats (last_activity);

CREATE TABLE messages (
	seq         INTEGER PRIMARY KEY AUTOINCREMENT,
	chat        BLOB NOT NULL REFERENCES chats (id) ON DELETE CASCADE,
	outgoing    INTEGER NOT NULL,
	n           INTEGER NOT NULL CHECK (n >= 1),
	sent_at     INTEGER NOT NULL,
	received_at INTEGER NOT NULL,
	body        TEXT NOT NULL,
	status      INTEGER NOT NULL,
	UNIQUE (chat, outgoing, n)
) STRICT;
-- History pages and the last message of a chat: (chat, seq) order.
CREATE INDEX messages_chat_seq ON messages (chat, seq);

-- IPNS record sequence numbers per slot: ours (mine = 1) and the peer's.
-- Stored as the int64 bit pattern of the uint64; compared in Go.
CREATE TABLE record_seqs (
	chat BLOB NOT NULL REFERENCES chats (id) ON DELETE CASCADE,
	mine INTEGER NOT NULL,
	slot INTEGER NOT NULL,
	seq  INTEGER NOT NULL,
	PRIMARY KEY (chat, mine, slot)
) STRICT, WITHOUT ROWID;
`,
	// Version 2: a cursor of its own for what the commands printed (recv,
	// pipe mode), apart from what the user saw in the full-screen chat, so
	// that one does not hide messages from the other. It starts where the
	// shared cursor was, so that nothing is printed twice.
	`
ALTER TABLE chats ADD COLUMN printed_upto INTEGER NOT NULL DEFAULT 0;
UPDATE chats SET printed_upto = read_upto;
`,
	// Version 3: a digest of every message (see Digest), so that a number
	// that comes again with other content is noticed; a mark on messages of
	// ours that another copy of this identity sent (imported from our own
	// records in the DHT); the alerts raised on a chat; and an index for the
	// receive quota (see Quota). Rows from before have no digest: they are
	// compared by body and time instead.
	`
ALTER TABLE messages ADD COLUMN digest BLOB CHECK (digest IS NULL OR length(digest) = 32);
ALTER TABLE messages ADD COLUMN imported INTEGER NOT NULL DEFAULT 0;
CREATE INDEX messages_incoming_time ON messages (chat, received_at) WHERE outgoing = 0;
CREATE TABLE alerts (
	chat BLOB NOT NULL REFERENCES chats (id) ON DELETE CASCADE,
	kind INTEGER NOT NULL,
	n    INTEGER NOT NULL, -- what the alert is about (see AlertKind); one alert per (chat, kind, n)
	at   INTEGER NOT NULL, -- Unix nanoseconds, when it was first raised
	PRIMARY KEY (chat, kind, n)
) STRICT, WITHOUT ROWID;
`,
	// Version 4: a chat is (peer, wire ID), not the wire ID alone, so that
	// a friend who learns another friend's chat key cannot take its ID
	// first. The row key (id) stays: it becomes a local identifier (new
	// chats get one the engine derives from the pair and the wire ID), and
	// existing chats keep theirs (their wire ID, which was random and
	// unique), so no message row is rewritten.
	// And friends can be blocked: their chats are neither polled nor
	// published.
	`
ALTER TABLE chats ADD COLUMN wire BLOB CHECK (length(wire) = 16);
UPDATE chats SET wire = id;
CREATE UNIQUE INDEX chats_peer_wire ON chats (peer, wire);

CREATE TABLE blocked_peers (
	peer       BLOB PRIMARY KEY CHECK (length(peer) = 32),
	blocked_at INTEGER NOT NULL
) STRICT, WITHOUT ROWID;
`,
	// Version 5: what we last published in our slot 0 of each chat (its
	// sequence number and a hash of its payload), so that a record read
	// back can be told apart from one another copy of this identity
	// wrote (see Published).
	`
CREATE TABLE published (
	chat BLOB PRIMARY KEY REFERENCES chats (id) ON DELETE CASCADE,
	seq  INTEGER NOT NULL, -- the int64 bit pattern of the uint64
	hash BLOB NOT NULL CHECK (length(hash) = 32)
) STRICT, WITHOUT ROWID;
`,
	// Version 6: whether the user has seen each alert, so that it is told
	// once (a command's warning, the UI's info view) and not at every
	// start.
	`
ALTER TABLE alerts ADD COLUMN seen INTEGER NOT NULL DEFAULT 0;
`,
	// Version 7: a full-text index of message bodies for search (see
	// Search): an FTS5 table with the trigram tokenizer, so that any
	// substring of three or more characters is found, case-insensitively,
	// as a user typing a fragment expects. It holds no copy of the text
	// (content= the messages table); triggers keep it in step with every
	// insert, body change and delete (including a chat's cascade), and the
	// rebuild indexes the history stored before. And a draft per chat: the
	// half-typed input of the full-screen UI, kept across restarts.
	`
CREATE VIRTUAL TABLE messages_fts USING fts5(body, content = 'messages', content_rowid = 'seq', tokenize = 'trigram');
INSERT INTO messages_fts (messages_fts) VALUES ('rebuild');
CREATE TRIGGER messages_fts_insert AFTER INSERT ON messages BEGIN
	INSERT INTO messages_fts (rowid, body) VALUES (new.seq, new.body);
END;
CREATE TRIGGER messages_fts_delete AFTER DELETE ON messages BEGIN
	INSERT INTO messages_fts (messages_fts, rowid, body) VALUES ('delete', old.seq, old.body);
END;
CREATE TRIGGER messages_fts_update AFTER UPDATE OF body ON messages BEGIN
	INSERT INTO messages_fts (messages_fts, rowid, body) VALUES ('delete', old.seq, old.body);
	INSERT INTO messages_fts (rowid, body) VALUES (new.seq, new.body);
END;
ALTER TABLE chats ADD COLUMN draft TEXT NOT NULL DEFAULT '';
`,
	// Version 8: protocol version 2 chats (see ratchet.go). A chat with a
	// row in ratchets is a version 2 chat; state is its wire.RatchetState,
	// written in the transaction of the delivery it belongs to. frames
	// holds the ciphertext of each of our version 2 messages as sealed at
	// send time, until it is acknowledged (the trigger deletes it then).
	// v2_seqs are the IPNS sequence numbers per (epoch, slot).
	`
CREATE TABLE ratchets (
	chat  BLOB PRIMARY KEY REFERENCES chats (id) ON DELETE CASCADE,
	state BLOB NOT NULL
) STRICT, WITHOUT ROWID;
CREATE TABLE frames (
	chat   BLOB NOT NULL REFERENCES chats (id) ON DELETE CASCADE,
	n      INTEGER NOT NULL CHECK (n >= 1),
	epoch  INTEGER NOT NULL,
	sealed BLOB NOT NULL,
	PRIMARY KEY (chat, n)
) STRICT, WITHOUT ROWID;
CREATE TRIGGER frames_delivered AFTER UPDATE OF status ON messages
	WHEN NEW.outgoing = 1 AND NEW.status = 2
BEGIN
	DELETE FROM frames WHERE chat = NEW.chat AND n = NEW.n;
END;
CREATE TABLE v2_seqs (
	chat  BLOB NOT NULL REFERENCES chats (id) ON DELETE CASCADE,
	mine  INTEGER NOT NULL,
	epoch INTEGER NOT NULL,
	slot  INTEGER NOT NULL,
	seq   INTEGER NOT NULL, -- the int64 bit pattern of the uint64
	PRIMARY KEY (chat, mine, epoch, slot)
) STRICT, WITHOUT ROWID;
`,
}

// migrate checks that the file is ours, upgrades the schema in one
// transaction, and switches the file to WAL mode (a persistent setting).
// The check comes first so that a foreign file is never modified.
func (s *Store) migrate(ctx context.Context) error {
	err := s.tx(ctx, func(tx *sql.Tx) error {
		var appID, version, objects int
		if err := tx.QueryRowContext(ctx, "PRAGMA application_id").Scan(&appID); err != nil {
			return err
		}
		if err := tx.QueryRowContext(ctx, "PRAGMA user_version").Scan(&version); err != nil {
			return err
		}
		if err := tx.QueryRowContext(ctx, "SELECT count(*) FROM sqlite_schema").Scan(&objects); err != nil {
			return err
		}
		switch {
		case appID == 0 && version == 0 && objects == 0:
			// A new, empty file.
		case appID != applicationID:
			return fmt.Errorf("%w: %s belongs to another application (application_id %#x)", ErrCorrupt, s.path, appID)
		case version > SchemaVersion:
			return &SchemaTooNewError{Path: s.path, Version: version}
		}
		if version == SchemaVersion {
			return nil
		}
		for v := version; v < SchemaVersion; v++ {
			if _, err := tx.ExecContext(ctx, migrations[v]); err != nil {
				return fmt.Errorf("migrate to schema version %d: %w", v+1, err)
			}
		}
		// PRAGMA arguments cannot be bound; both values are our constants.
		if _, err := tx.ExecContext(ctx, fmt.Sprintf("PRAGMA application_id = %d", applicationID)); err != nil {
			return err
		}
		_, err := tx.ExecContext(ctx, fmt.Sprintf("PRAGMA user_version = %d", SchemaVersion))
		return err
	})
	if err != nil {
		return s.wrap("open", err)
	}
	var mode string
	if err := s.db.QueryRowContext(ctx, "PRAGMA journal_mode = WAL").Scan(&mode); err != nil {
		return s.wrap("open", err)
	}
	if mode != "wal" {
		return fmt.Errorf("store: open %s: journal mode is %q, not wal", s.path, mode)
	}
	return nil
}

// Close closes the database. It is safe to call more than once; later calls
// return nil.
func (s *Store) Close() error {
	if !s.closed.CompareAndSwap(false, true) {
		return nil
	}
	if err := s.db.Close(); err != nil {
		return fmt.Errorf("store: close %s: %w", s.path, err)
	}
	return nil
}

// tx runs fn in one write transaction (BEGIN IMMEDIATE: the write lock is
// taken before fn reads anything) and commits it if fn returns nil.
func (s *Store) tx(ctx context.Context, fn func(*sql.Tx) error) error {
	if s.closed.Load() {
		return ErrClosed
	}
	tx, err := s.db.BeginTx(ctx, nil)
	if err != nil {
		return err
	}
	if err := fn(tx); err != nil {
		tx.Rollback()
		return err
	}
	return tx.Commit()
}

// wrap prefixes err with the package and operation, and makes corruption
// and use after Close recognizable with errors.Is. Errors already made by
// this package keep their text.
func (s *Store) wrap(op string, err error) error {
	if err == nil {
		return nil
	}
	if errors.Is(err, sql.ErrConnDone) || err.Error() == "sql: database is closed" {
		return fmt.Errorf("%w: %s", ErrClosed, op)
	}
	var se *sqlite.Error
	if errors.As(err, &se) {
		switch se.Code() & 0xff {
		case sqlite3.SQLITE_NOTADB, sqlite3.SQLITE_CORRUPT:
			return fmt.Errorf("%w: %s %s: %w", ErrCorrupt, op, s.path, err)
		}
	}
	if errors.Is(err, ErrNotFound) {
		return fmt.Errorf("%w (%s)", err, op)
	}
	if isOurs(err) {
		return err
	}
	return fmt.Errorf("store: %s: %w", op, err)
}

func isOurs(err error) bool {
	var tooNew *SchemaTooNewError
	return errors.Is(err, ErrNotFound) || errors.Is(err, ErrChatConflict) ||
		errors.Is(err, ErrTooLarge) || errors.Is(err, ErrCorrupt) ||
		errors.Is(err, ErrClosed) || errors.As(err, &tooNew) ||
		errors.Is(err, errInvalid)
}

// errInvalid marks a caller error (bad argument).
var errInvalid = errors.New("store: invalid argument")

func invalid(format string, args ...any) error {
	return fmt.Errorf("%w: "+format, append([]any{errInvalid}, args...)...)
}

// Times are stored as Unix nanoseconds; 0 stands for the zero time, whose
// UnixNano is undefined.
func timeToDB(t time.Time) int64 {
	if t.IsZero() {
		return 0
	}
	return t.UnixNano()
}

func timeFromDB(n int64) time.Time {
	if n == 0 {
		return time.Time{}
	}
	return time.Unix(0, n)
}
