package chat

import (
	"context"
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
// slot 0 before it first publishes a chat or takes an acknowledgement as
// delivery, and again before every acknowledgement it applies and every
// PollPolicy.OwnCheck while it publishes, and continues after what it
// finds (docs/PROTOCOL.md 6.2).
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

// ownView is what the DHT holds in our own slots of a chat.
type ownView struct {
	seq    uint64          // slot 0's sequence number; 0: no record
	maxN   uint64          // slot 0's max_n (0 if it does not decode)
	others []store.Message // the messages our records carry, by N
}

// ownResult is what a look at our own records changed.
type ownResult struct {
	resynced []Entry // our messages renumbered or imported
	alerts   []Alert
}

// readOwn reads our own slot 0 of the chat with keys, and our further
// slots while they may carry messages of another writer: if more says so
// of slot 0's view. Records that do not decode give a sequence number at
// most.
func (c *Client) readOwn(ctx context.Context, keys *wire.Keys, dir wire.Direction, more func(ownView) bool) (ownView, error) {
	var v ownView
	rec, err := c.net.Get(ctx, keys.SlotPublicKey(dir, 0))
	if errors.Is(err, dht.ErrNotFound) {
		return v, nil
	}
	if err != nil {
		return v, fmt.Errorf("chat: read back our slot 0 of chat %s: %w", keys.ID(), err)
	}
	v.seq = rec.Seq
	s, err := keys.DecodeSlot(dir, 0, rec.Seq, rec.Payload)
	if err != nil {
		c.log.Warn("our own slot 0 holds a record we cannot read", "chat", keys.ID(), "seq", rec.Seq, "err", err)
		return v, nil
	}
	v.maxN = s.Header.MaxN
	v.others = ownMessages(nil, s.Messages, 0, v.maxN)
	if !more(v) {
		return v, nil
	}
	for i := 1; i < s.Header.SlotsUsed; i++ {
		last := uint64(0)
		if len(v.others) > 0 {
			last = v.others[len(v.others)-1].N
		}
		if last >= v.maxN {
			break
		}
		rec, err := c.net.Get(ctx, keys.SlotPublicKey(dir, i))
		if errors.Is(err, dht.ErrNotFound) {
			break // gone: what it held cannot be sent again
		}
		if err != nil {
			return v, fmt.Errorf("chat: read back our slot %d of chat %s: %w", i, keys.ID(), err)
		}
		si, err := keys.DecodeSlot(dir, i, rec.Seq, rec.Payload)
		if err != nil {
			break
		}
		v.others = ownMessages(v.others, si.Messages, last, v.maxN)
	}
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

// checkOwn reads our own records of cs and brings the store in line with
// them. Call with cs.mu held.
func (c *Client) checkOwn(ctx context.Context, cs *chatState) (ownResult, error) {
	sid := store.ChatID(cs.id)
	own0, err := c.db.OwnSeq(ctx, sid, 0)
	if err != nil {
		return ownResult{}, err
	}
	counters, err := c.db.Counters(ctx, sid)
	if err != nil {
		return ownResult{}, err
	}
	v, err := c.readOwn(ctx, cs.keys, cs.dir, func(v ownView) bool {
		return v.seq > own0 || v.maxN > counters.Sent
	})
	if err != nil {
		return ownResult{}, err
	}
	cs.ownChecked = time.Now()
	return c.applyOwn(ctx, cs, v, own0, counters.Sent)
}

// applyOwn brings the store in line with v, our own records as read back,
// within the bounds, given our slot 0 sequence counter own0 and message
// counter sent. Call with cs.mu held.
func (c *Client) applyOwn(ctx context.Context, cs *chatState, v ownView, own0, sent uint64) (ownResult, error) {
	r := store.Resync{Seq0: v.seq, Floor: v.maxN, Others: v.others}
	// Each value on its own: a plausible sequence number is still worth
	// continuing after (so that our records win again) when the record's
	// numbers are not.
	if v.seq > own0+maxSeqAhead {
		c.implausible(cs, "our own slot 0 in the DHT has a sequence number far above ours (planted by the friend?); ignored",
			"seq", v.seq, "our_seq", own0)
		r.Seq0 = 0
	}
	if v.maxN > sent+maxNAhead {
		c.implausible(cs, "our own slot 0 in the DHT has a message number far above ours (planted by the friend?); ignored",
			"max_n", v.maxN, "sent", sent)
		r.Floor, r.Others = 0, nil
	}
	if r.Seq0 == 0 && r.Floor == 0 {
		return ownResult{}, nil
	}
	return c.resync(ctx, cs, r, "seq", v.seq, "our_seq", own0, "max_n", v.maxN, "sent", sent)
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
	return cs.ownChecked.IsZero() || time.Since(cs.ownChecked) >= c.poll.OwnCheck
}
