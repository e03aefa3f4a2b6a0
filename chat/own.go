package chat

import (
	"context"
	"crypto/sha256"
	"errors"
	"fmt"
	"time"

	"github.com/dhtchat/dhtchat/chat/internal/store"
	"github.com/dhtchat/dhtchat/chat/wire"
	"github.com/dhtchat/dhtchat/dht"
)

// Our own records in the DHT can be ahead of this database: it was restored
// from a backup (the home copied, then put back), or another device uses
// the same identity. Then the friend already has messages under numbers
// this database would use again, and the DHT keeps our old records (higher
// sequence numbers) instead of the new ones. So the Client reads its own
// slot 0 before it first publishes a chat, before every acknowledgement
// it applies and every PollPolicy.OwnCheck while it publishes. It tells
// the record it published itself from another copy's by its bytes (the
// store remembers them), continues after another copy's, and marks a
// message delivered only where our records carry it under its number
// (docs/PROTOCOL.md 6.2).
//
// Every value read back is bounded: in protocol version 1 the friend can
// derive our slot keys and plant records in our slots. A planted record
// beyond the bounds is ignored, so that it cannot exhaust our numbers.
const (
	// maxSeqAhead is how far above our own counter a sequence number read
	// back may be: more than a publish a second for a century.
	maxSeqAhead = 1 << 32
	// maxNAhead is how far above what this database sent a message number
	// read back (our max_n, or the friend's ack) may be: 16 million
	// messages.
	maxNAhead = 1 << 24
)

// ErrSendBlocked is returned by a publish of a chat whose own slots hold
// a record that ours can never replace (see AlertSendBlocked): the friend
// cannot read what we publish. The messages stay pending.
var ErrSendBlocked = errors.New("chat: sending is blocked: a record planted in our slot has a sequence number ours cannot pass")

// blocked raises AlertSendBlocked for our slot i of cs, whose record in
// the DHT has sequence number seq, far above our own. Call with cs.mu
// held.
func (c *Client) blocked(ctx context.Context, cs *chatState, i int, seq uint64) *Alert {
	return c.raise(ctx, cs, AlertSendBlocked, uint64(i),
		"our own slot holds a sequence number far above ours (planted by the friend?): the friend cannot read what we publish",
		"slot", i, "seq", seq)
}

// ownView is what the DHT holds in our own slots of a chat.
type ownView struct {
	seq  uint64   // slot 0's sequence number; 0: no record
	hash [32]byte // the SHA-256 of slot 0's payload
	// decoded: slot 0 opens under our keys; then maxN is its max_n.
	decoded bool
	maxN    uint64
	// msgs are the messages our records carry, by N, numbered at most
	// maxN: slot 0's, and those of the further slots read.
	msgs []store.Message
	// other: the record is evidence of another copy (ownState.evidence),
	// as checkOwn judged it.
	other bool
	// complete: msgs holds every message our records carry (every slot
	// that slot 0 names was read, and opened).
	complete bool
	// live is slot 0's live announcement (sealed), if it carries one.
	live []byte
}

// ownResult is what a look at our own records changed.
type ownResult struct {
	resynced []Entry // our messages renumbered or imported
	alerts   []Alert
}

// readOwn reads our own slot 0 of the chat with keys, and then our
// further slots while they may carry numbers up to what upTo says of slot
// 0's view (0: none, v.maxN: all). A further slot that cannot be read or
// opened leaves the view incomplete (v.complete false), not an error:
// what it held is not known, and so not taken for anything.
func (c *Client) readOwn(ctx context.Context, keys *wire.Keys, dir wire.Direction, upTo func(ownView) uint64) (ownView, error) {
	var v ownView
	rec, err := c.net.Get(ctx, keys.SlotPublicKey(dir, 0))
	if errors.Is(err, dht.ErrNotFound) {
		return v, nil
	}
	if err != nil {
		return v, fmt.Errorf("chat: read back our slot 0 of chat %s: %w", keys.ID(), err)
	}
	v.seq, v.hash = rec.Seq, sha256.Sum256(rec.Payload)
	s, err := keys.DecodeSlot(dir, 0, rec.Seq, rec.Payload)
	if err != nil {
		c.log.Warn("our own slot 0 holds a record we cannot read", "chat", keys.ID(), "seq", rec.Seq, "err", err)
		return v, nil
	}
	v.decoded, v.maxN, v.live = true, s.Header.MaxN, rec.Live
	v.msgs = ownMessages(nil, s.Messages, 0, v.maxN)
	want := min(upTo(v), v.maxN)
	for i := 1; i < s.Header.SlotsUsed; i++ {
		last := uint64(0)
		if len(v.msgs) > 0 {
			last = v.msgs[len(v.msgs)-1].N
		}
		if last >= v.maxN {
			break // slots hold increasing numbers: nothing more to find
		}
		if last >= want {
			return v, nil // not all read: incomplete
		}
		rec, err := c.net.Get(ctx, keys.SlotPublicKey(dir, i))
		if err != nil {
			c.log.Info("cannot read back our own slot", "chat", keys.ID(), "slot", i, "err", err)
			return v, nil
		}
		si, err := keys.DecodeSlot(dir, i, rec.Seq, rec.Payload)
		if err != nil {
			c.log.Warn("our own slot holds a record we cannot read", "chat", keys.ID(), "slot", i, "seq", rec.Seq, "err", err)
			return v, nil
		}
		v.msgs = ownMessages(v.msgs, si.Messages, last, v.maxN)
	}
	v.complete = true
	return v, nil
}

// ownMessages appends to out the messages of ms numbered above after and
// at most maxN, as the store keeps messages, with their digests.
func ownMessages(out []store.Message, ms []wire.Message, after, maxN uint64) []store.Message {
	for _, m := range ms {
		if m.N > after && m.N <= maxN {
			out = append(out, store.Message{N: m.N, SentAt: clampTime(m.SentAt), Body: m.Body,
				Digest: store.Digest(m.N, m.SentAt.UnixMilli(), m.Body)})
			after = m.N
		}
	}
	return out
}

// ownState is what the store knows of our records of a chat, to judge
// what is read back.
type ownState struct {
	seq0 uint64       // our slot 0 sequence counter
	sent uint64       // the highest message number given out
	pub  store.Record // the record we last published in slot 0
}

// ours reports whether v is exactly the record we last published in slot
// 0: the same sequence number and the same bytes.
func (o ownState) ours(v ownView) bool {
	return o.pub.Seq != 0 && v.seq == o.pub.Seq && v.hash == o.pub.Hash
}

// evidence reports whether v, read back from our slot 0, shows that
// another copy of our identity wrote there: a record that is not the one
// we published last and that we cannot have written, because its
// sequence number is one we never used (at or above our counter: a number
// we reserved, but published with other bytes or not at all) or the one
// we published with other bytes, or because it carries message numbers we
// never gave out. An older record of ours (a DHT node that lags) is no
// evidence.
func (o ownState) evidence(v ownView) bool {
	if v.seq == 0 || o.ours(v) {
		return false
	}
	return v.seq >= o.seq0 || v.seq == o.pub.Seq || (v.decoded && v.maxN > o.sent)
}

// loadOwn reads what the store knows of our records of cs.
func (c *Client) loadOwn(ctx context.Context, cs *chatState) (ownState, error) {
	sid := store.ChatID(cs.id)
	var o ownState
	var err error
	if o.seq0, err = c.db.OwnSeq(ctx, sid, 0); err != nil {
		return o, err
	}
	counters, err := c.db.Counters(ctx, sid)
	if err != nil {
		return o, err
	}
	o.sent = counters.Sent
	o.pub, err = c.db.Published(ctx, sid)
	return o, err
}

// checkOwn reads our own records of cs and brings the store in line with
// them if they show another writer (ownState.evidence): then it reads
// every slot our slot 0 names. Otherwise it reads the slots that may
// carry numbers up to upTo, so that the view lists what our records carry
// there. Call with cs.mu held.
func (c *Client) checkOwn(ctx context.Context, cs *chatState, upTo uint64) (ownView, ownResult, error) {
	o, err := c.loadOwn(ctx, cs)
	if err != nil {
		return ownView{}, ownResult{}, err
	}
	v, err := c.readOwn(ctx, cs.keys, cs.dir, func(v ownView) uint64 {
		if o.evidence(v) {
			return v.maxN
		}
		return upTo
	})
	if err != nil {
		return v, ownResult{}, err
	}
	cs.ownChecked = time.Now()
	c.carryAnnouncement(cs, v.live)
	if v.seq > o.seq0+maxSeqAhead || v.maxN > o.sent+maxNAhead {
		// Planted: what it carries is taken for nothing (see applyOwn).
		v.msgs, v.complete = nil, false
	}
	if v.seq > o.seq0+maxSeqAhead {
		// Planted, and our records cannot pass it: nothing else of it is
		// believed; sending is blocked until it is gone.
		var res ownResult
		cs.blocked = true
		if a := c.blocked(ctx, cs, 0, v.seq); a != nil {
			res.alerts = append(res.alerts, *a)
		}
		return v, res, nil
	}
	cs.blocked = false
	if v.other = o.evidence(v); !v.other {
		return v, ownResult{}, nil
	}
	res, err := c.applyOwn(ctx, cs, v, o.seq0, o.sent)
	return v, res, err
}

// applyOwn brings the store in line with v, our own records as read back
// and written by another copy of our identity, within the bounds, given
// our slot 0 sequence counter own0 and message counter sent. Call with
// cs.mu held.
func (c *Client) applyOwn(ctx context.Context, cs *chatState, v ownView, own0, sent uint64) (ownResult, error) {
	// A number the other copy used and no longer carries (the friend
	// acknowledged it) may hold another message than ours only if we
	// published ours after the copies parted. Before this process
	// published the chat (AlertBehind: a restored backup, a device that
	// was off), our published messages were published by the database
	// that both copies come from, so the other copy had them too: they
	// stay, and are confirmed by our records once we publish again. Once
	// this process published (AlertSecondWriter), they may be ours alone
	// and are sent again (Resync.Complete).
	r := store.Resync{Seq0: v.seq, Floor: v.maxN, Others: v.msgs, Complete: v.complete && cs.published}
	if v.seq > own0+maxSeqAhead {
		// Planted: nothing of it is believed, and our records cannot pass
		// it. The next publish reads it again, and tells (checkOwn).
		c.implausible(cs, "our own slot 0 in the DHT has a sequence number far above ours (planted by the friend?); ignored",
			"seq", v.seq, "our_seq", own0)
		cs.blocked = true
		return ownResult{}, nil
	}
	if v.maxN > sent+maxNAhead {
		// A plausible sequence number is still worth continuing after (so
		// that our records win again) when the record's numbers are not.
		c.implausible(cs, "our own slot 0 in the DHT has a message number far above ours (planted by the friend?); ignored",
			"max_n", v.maxN, "sent", sent)
		r.Floor, r.Others, r.Complete = 0, nil, false
	}
	if r.Seq0 == 0 && r.Floor == 0 {
		return ownResult{}, nil
	}
	return c.resync(ctx, cs, r, "seq", v.seq, "our_seq", own0, "max_n", v.maxN, "sent", sent, "complete", v.complete)
}

// resync applies r to the store and tells of what it changed: the
// renumbered and imported messages, and an alert that this database was
// behind (before this process published the chat) or that another copy of
// our identity is writing (after). The caller publishes next: renumbered
// messages wait, and our records must win over the other copy's again.
// Call with cs.mu held.
func (c *Client) resync(ctx context.Context, cs *chatState, r store.Resync, attrs ...any) (ownResult, error) {
	got, err := c.db.Resync(ctx, store.ChatID(cs.id), r)
	if err != nil || !got.Changed() {
		return ownResult{}, err
	}
	var res ownResult
	res.resynced = append(entriesOf(got.Renumbered), entriesOf(got.Imported)...)
	// Another writer may have written our other slots too: read them again
	// before we write them.
	for i := 1; i < wire.MaxSlots; i++ {
		cs.synced[i] = false
	}
	kind, msg := AlertBehind, "this database was behind our own records in the DHT (restored from a backup, or another device uses this identity); continuing after them"
	if cs.published {
		kind, msg = AlertSecondWriter, "another copy of this identity is writing in this chat (one identity = one device)"
	}
	attrs = append(attrs, "renumbered", len(got.Renumbered), "imported", len(got.Imported))
	if len(got.Conflicts) > 0 {
		// Messages of ours the friend acknowledged, under numbers the other
		// copy also used: the friend has one of the two.
		attrs = append(attrs, "acknowledged_conflicts", got.Conflicts)
	}
	if a := c.raise(ctx, cs, kind, r.Floor, msg, attrs...); a != nil {
		res.alerts = append(res.alerts, *a)
	}
	return res, nil
}

// implausible logs, once per chat and process, a value read back from the
// DHT that is beyond its bound and was ignored. Call with cs.mu held.
func (c *Client) implausible(cs *chatState, msg string, attrs ...any) {
	if cs.implausibleLogged {
		return
	}
	cs.implausibleLogged = true
	c.log.Warn(msg, append([]any{"chat", cs.id}, attrs...)...)
}

// ownDue reports whether a publish of cs should look at our own records
// first: the first time in this process, then every PollPolicy.OwnCheck.
// Call with cs.mu held.
func (c *Client) ownDue(cs *chatState) bool {
	// While blocked, at every try: the planted record may be gone.
	return cs.blocked || cs.ownChecked.IsZero() || time.Since(cs.ownChecked) >= c.poll.OwnCheck
}
