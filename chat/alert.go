package chat

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/dhtchat/dhtchat/chat/internal/store"
)

// AlertKind says what an Alert is about.
type AlertKind int

// The kinds of Alert.
const (
	// AlertBehind: this database was behind what our identity published
	// in the chat: it was restored from a backup, or another device uses
	// this identity. Our numbers and records now continue after what the
	// other copy published; messages of ours that collided with its
	// numbers were renumbered and are sent again. N is the highest
	// message number the other copy used.
	AlertBehind AlertKind = iota + 1
	// AlertSecondWriter: while this process was publishing the chat,
	// another copy of our identity published in it too (a second device,
	// or a copy of this database running at the same time). dhtchat
	// supports one device per identity: until it is stopped, messages
	// may be delayed, sent twice, or shown under other numbers. N: as
	// for AlertBehind.
	AlertSecondWriter
	// AlertConflict: the friend's message number N arrived again with
	// other content. The first one is kept and the other dropped. The
	// friend runs two devices on one identity, or their client is broken
	// or hostile.
	AlertConflict
	// AlertQuota: the friend sent more than the Config.Quota allows.
	// Nothing more is stored (nor acknowledged, so an honest friend's
	// messages wait in the DHT) until the period has passed. N is the
	// last message stored. A friend who floods on purpose can be blocked.
	AlertQuota
	// AlertSendBlocked: a record in our own slot N of the chat has a
	// sequence number so high that ours can never replace it (in
	// protocol version 1 the friend can write our slots: a hostile or
	// broken client of theirs planted it). The DHT keeps that record, so
	// the friend cannot read what we publish there: our messages stay
	// pending, and publishing the chat fails with ErrSendBlocked (retried
	// with backoff) until the record is gone (DHT nodes drop a record 48
	// hours after it was last put).
	AlertSendBlocked
	// AlertStale: the ratchet state of this version 2 chat is older than
	// what our identity published in it (this database was restored from
	// a backup, or another device uses this identity). Writing with it
	// would reuse key material, so the chat no longer publishes:
	// publishing fails with ErrStale, and the messages stay pending. Start
	// a new chat with the friend. N is the friend's acknowledgement or our
	// epoch that showed it.
	AlertStale
)

func (k AlertKind) String() string {
	switch k {
	case AlertBehind:
		return "behind"
	case AlertSecondWriter:
		return "second-writer"
	case AlertConflict:
		return "conflict"
	case AlertQuota:
		return "quota"
	case AlertSendBlocked:
		return "send-blocked"
	case AlertStale:
		return "stale"
	}
	return fmt.Sprintf("AlertKind(%d)", int(k))
}

// Alert is something about a chat that the user must be told. Alerts are
// kept in the database (Client.Alerts).
type Alert struct {
	Chat ChatID
	Kind AlertKind
	N    uint64    // what it is about: see the kinds
	At   time.Time // when it was first raised
	// Seen: the user has been told of it (Client.SeeAlerts). An alert is
	// told once: a command warns of the alerts not seen and marks them,
	// the full-screen chat marks them when its info view shows them.
	Seen bool
}

// String describes the alert in a sentence, without the friend's name
// (which the engine does not know).
func (a Alert) String() string {
	switch a.Kind {
	case AlertBehind:
		return fmt.Sprintf("this database was behind what your identity sent in this chat (up to message %d): "+
			"it was restored from a backup, or another device uses your identity; it now continues after it", a.N)
	case AlertSecondWriter:
		return fmt.Sprintf("another copy of your identity is writing in this chat (it sent up to message %d): "+
			"dhtchat supports one device per identity; stop the other one, or messages may arrive late, twice or renumbered", a.N)
	case AlertConflict:
		return fmt.Sprintf("the friend's message %d arrived a second time with different content; the first one is kept: "+
			"someone else may be writing with the friend's identity, or their client is broken", a.N)
	case AlertQuota:
		return fmt.Sprintf("the friend sent more than the quota allows (after message %d): nothing more is stored "+
			"for now, and the rest waits in the DHT", a.N)
	case AlertSendBlocked:
		return fmt.Sprintf("sending in this chat is blocked: a record that is not ours sits in our slot %d with a sequence number "+
			"ours cannot pass (the friend's client planted it?), so the friend cannot read what we send; "+
			"messages stay pending until it is gone", a.N)
	case AlertStale:
		return "this database is older than what your identity already sent in this chat (restored from a backup, " +
			"or another device uses your identity): to never reuse its keys it sends nothing more here; start a new chat with the friend"
	}
	return fmt.Sprintf("alert %v about message %d", a.Kind, a.N)
}

// AlertEvent: an alert was raised on a chat, the first of its kind for
// the chat since the Client was opened.
type AlertEvent struct{ Alert Alert }

func (AlertEvent) isEvent() {}

// Quota bounds what one chat may store from the friend within any Period:
// at most Messages messages and Bytes bytes of text. Past it a fetch stores
// nothing more and does not acknowledge it, so an honest friend's messages
// wait in the DHT and come later. Zero Messages or Bytes bounds nothing of
// that quantity.
type Quota = store.Quota

// DefaultQuota allows 10,000 messages and 16 MiB of text from a friend in
// any 24 hours in each chat: a message every nine seconds around the
// clock, or two thousand messages of the largest size. No conversation
// between people comes near it; a friend who floods can fill only that
// much of the disk per day before the user is told (AlertQuota).
func DefaultQuota() Quota {
	return Quota{Period: 24 * time.Hour, Messages: 10_000, Bytes: 16 << 20}
}

// Alerts returns the alerts raised on chat id, oldest first.
func (c *Client) Alerts(ctx context.Context, id ChatID) ([]Alert, error) {
	as, err := c.db.Alerts(ctx, store.ChatID(id))
	if err != nil {
		return nil, err
	}
	out := make([]Alert, len(as))
	for i, a := range as {
		out[i] = Alert{Chat: id, Kind: AlertKind(a.Kind), N: a.N, At: a.At, Seen: a.Seen}
	}
	return out, nil
}

// raise records an alert on cs and logs it. It returns the alert if it is
// the first of its kind on the chat in this process, to be told to the
// user; nil otherwise. Call with cs.mu held.
func (c *Client) raise(ctx context.Context, cs *chatState, kind AlertKind, n uint64, msg string, attrs ...any) *Alert {
	a := Alert{Chat: cs.id, Kind: kind, N: n, At: time.Now()}
	isNew, err := c.db.AddAlert(ctx, store.Alert{Chat: store.ChatID(cs.id), Kind: store.AlertKind(kind), N: n, At: a.At})
	if err != nil {
		c.log.Warn("cannot record an alert", "chat", cs.id, "kind", kind, "err", err)
	}
	if cs.alerted[kind] || (!isNew && err == nil) {
		return nil
	}
	cs.alerted[kind] = true
	c.log.Warn(msg, append([]any{"chat", cs.id, "alert", kind, "n", n}, attrs...)...)
	return &a
}

// SeeAlerts marks the alerts of chat id raised at or before upTo as seen
// by the user (Alert.Seen): Info.Alerts counts them no more. The alerts
// stay, for Alerts to list.
func (c *Client) SeeAlerts(ctx context.Context, id ChatID, upTo time.Time) error {
	err := c.db.SeeAlerts(ctx, store.ChatID(id), upTo)
	if errors.Is(err, store.ErrNotFound) {
		return ErrUnknownChat
	}
	return err
}
