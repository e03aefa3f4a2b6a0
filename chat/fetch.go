package chat

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"time"

	"github.com/dhtchat/dhtchat/chat/internal/store"
	"github.com/dhtchat/dhtchat/chat/wire"
	"github.com/dhtchat/dhtchat/dht"
)

// fetchResult is the outcome of one fetch of a chat.
type fetchResult struct {
	// Received are the friend's messages stored by this fetch, in order:
	// each message is returned by exactly one fetch, ever.
	Received []Entry
	// Delivered are our messages that the friend's acknowledgement moved
	// to Delivered.
	Delivered []Entry
	// Rejected counts the records that were refused (undecryptable,
	// malformed or rolled back). They change nothing; details go to the
	// log.
	Rejected int
	// Resynced are our messages that a look at our own records in the DHT
	// renumbered (Pending again, under a new N) or imported (sent by
	// another copy of this identity); see AlertBehind.
	Resynced []Entry
	// Alerts are the alerts raised (see Alert), each the first of its
	// kind on the chat since the Client was opened.
	Alerts []Alert
	// Flushed says that the fetch published after fetching, and Published are
	// the messages that publish moved from Pending to Published.
	Flushed   bool
	Published []Entry
}

// fetchChat reads the friend's records of chat id from the DHT and stores
// what is new. Then it publishes, before it returns, if there is anything to
// tell the friend: our acknowledgement of what it received, messages of
// ours still pending that no publish of this Client has seen (left by a
// command that could not reach the DHT), or pending messages that the
// friend's acknowledgement made room for. The result holds what was
// stored even when an error cut the fetch short.
func (c *Client) fetchChat(ctx context.Context, id ChatID) (fetchResult, error) {
	cs, err := c.state(ctx, id)
	if err != nil {
		return fetchResult{}, err
	}
	f, err := c.fetch(ctx, cs)
	flush := len(f.Received) > 0 || len(f.Resynced) > 0
	if !flush && c.net != nil {
		o, oerr := c.db.OutboxState(ctx, store.ChatID(id))
		if oerr != nil {
			return f, errors.Join(err, oerr)
		}
		c.chatsMu.Lock()
		seen := cs.sentSeen
		c.chatsMu.Unlock()
		flush = o.Pending > 0 && (len(f.Delivered) > 0 || o.Sent > seen)
	}
	if flush {
		res, perr := c.publish(ctx, cs)
		f.Flushed, f.Published = perr == nil, res.Changed
		f.Resynced = append(f.Resynced, res.Resynced...)
		f.Alerts = append(f.Alerts, res.Alerts...)
		if perr != nil {
			err = errors.Join(err, perr)
		}
	}
	return f, err
}

// slotState says what fetchSlot found.
type slotState int

const (
	slotFresh     slotState = iota // a record newer than the last accepted: accept it
	slotUnchanged                  // the record accepted last time
	slotMissing                    // no record
	slotRejected                   // a record refused (counted in Rejected)
)

// fetch reads slot 0 of the friend's direction, then the other slots it
// points to while messages are missing (docs/PROTOCOL.md 6.3). A record is
// accepted only if it opens under the chat's key for the friend's
// direction, names the slot and sequence number it was read under, and has
// a sequence number above the last accepted one for that slot; anything
// else is counted in Rejected and changes nothing. Messages are stored
// exactly once and in order by the store; the sequence number is
// remembered only after, so a crash in between makes the next fetch
// process the record again, harmlessly.
//
// Slot 0's header drives the other slots even when slot 0 is unchanged:
// otherwise one failed read of slot 1 would strand the rest of a backlog
// whose writer is offline. The result holds what was stored even when an
// error ends the fetch early.
func (c *Client) fetch(ctx context.Context, cs *chatState) (res fetchResult, err error) {
	if c.net == nil {
		return fetchResult{}, ErrOffline
	}
	cs.mu.Lock()
	defer cs.mu.Unlock()
	defer func() {
		if len(res.Received) > 0 {
			c.chatsMu.Lock()
			cs.dirty = true // our ack moved
			cs.lastActive = res.Received[len(res.Received)-1].ReceivedAt
			c.chatsMu.Unlock()
		}
	}()
	sid := store.ChatID(cs.id)
	if raw, rerr := c.db.Ratchet(ctx, sid); rerr != nil || raw != nil {
		if rerr == nil {
			rerr = c.fetchV2(ctx, cs, raw, &res)
		}
		return res, rerr
	}

	slot0, state, err := c.fetchSlot(ctx, cs, 0, &res)
	if err != nil || state == slotMissing || state == slotRejected {
		return res, err
	}
	if state == slotFresh {
		if full, err := c.accept(ctx, cs, slot0, &res); err != nil || full {
			return res, err
		}
	} else {
		// The same record: an ack of it that could not be applied in full
		// (our messages were not confirmed in our records) is tried again,
		// when it is time (see ack).
		if err := c.ack(ctx, cs, slot0.Header.Ack, &res); err != nil {
			return res, err
		}
	}
	counters, err := c.db.Counters(ctx, sid)
	if err != nil {
		return res, err
	}
	for i := 1; slot0.Header.WantsSlot(i, counters.Received); i++ {
		s, state, err := c.fetchSlot(ctx, cs, i, &res)
		if err != nil {
			return res, err
		}
		switch state {
		case slotMissing, slotRejected:
			// Messages past a gap would be dropped anyway (delivery
			// stops at the first gap); poll again later.
			return res, nil
		case slotUnchanged:
			continue
		}
		if full, err := c.accept(ctx, cs, s, &res); err != nil || full {
			return res, err
		}
		if counters, err = c.db.Counters(ctx, sid); err != nil {
			return res, err
		}
	}
	return res, nil
}

// fetchSlot gets and decodes slot i of the friend's direction. For slot 0
// an unchanged record is decoded too, for its header.
func (c *Client) fetchSlot(ctx context.Context, cs *chatState, i int, res *fetchResult) (wire.Slot, slotState, error) {
	peerDir := cs.dir.Other()
	rec, err := c.net.Get(ctx, cs.keys.SlotPublicKey(peerDir, i))
	if errors.Is(err, dht.ErrNotFound) {
		return wire.Slot{}, slotMissing, nil
	}
	if errors.Is(err, dht.ErrInvalidRecord) {
		res.Rejected++
		c.log.Warn("rejected a record", "chat", cs.id, "slot", i, "err", err)
		return wire.Slot{}, slotRejected, nil
	}
	if err != nil {
		return wire.Slot{}, slotMissing, fmt.Errorf("chat: fetch slot %d of chat %s: %w", i, cs.id, err)
	}
	prev, err := c.db.PeerSeq(ctx, store.ChatID(cs.id), i)
	if err != nil {
		return wire.Slot{}, slotMissing, err
	}
	if rec.Seq == prev && i > 0 {
		return wire.Slot{}, slotUnchanged, nil
	}
	if rec.Seq == cs.rejected[i] {
		res.Rejected++ // the same bad record again: refused and logged before
		return wire.Slot{}, slotRejected, nil
	}
	s, err := cs.keys.DecodeSlot(peerDir, i, rec.Seq, rec.Payload)
	switch {
	case err != nil:
	case rec.Seq == prev:
		c.liveFriend(cs, i, rec.Live)
		return s, slotUnchanged, nil
	default:
		err = s.Header.CheckSeq(prev)
	}
	if err != nil {
		res.Rejected++
		cs.rejected[i] = rec.Seq
		level := slog.LevelWarn
		if errors.Is(err, wire.ErrStale) {
			level = slog.LevelDebug // a lagging DHT node: normal
		}
		c.log.Log(ctx, level, "rejected a record", "chat", cs.id, "slot", i, "seq", rec.Seq, "err", err)
		return wire.Slot{}, slotRejected, nil
	}
	c.liveFriend(cs, i, rec.Live)
	return s, slotFresh, nil
}

// accept stores the messages and the ack of an accepted slot record, then
// remembers its sequence number. A message number we have already stored
// with other content is dropped, the first kept, and raises AlertConflict.
// Past the quota it stores nothing more and does not remember the record,
// so that the next fetch takes up the rest; full reports that. The ack is
// applied by ack.
func (c *Client) accept(ctx context.Context, cs *chatState, s wire.Slot, res *fetchResult) (full bool, err error) {
	sid := store.ChatID(cs.id)
	overQuota, err := c.deliver(ctx, cs, s.Messages, res, "slot", s.Header.Slot, "seq", s.Header.Seq)
	if err != nil {
		return false, err
	}
	if err := c.ack(ctx, cs, s.Header.Ack, res); err != nil {
		return overQuota, err
	}
	if overQuota {
		return true, nil
	}
	_, err = c.db.AdvancePeerSeq(ctx, sid, s.Header.Slot, s.Header.Seq)
	return false, err
}

// deliver stores the friend's messages ms, from a slot record or a live
// stream alike: exactly once and in order (store.Accept skips numbers
// already stored and stops at a gap), a number stored before with other
// content raising AlertConflict, the quota raising AlertQuota. where
// says where they came from, for the log. Call with cs.mu held.
func (c *Client) deliver(ctx context.Context, cs *chatState, ms []wire.Message, res *fetchResult, where ...any) (overQuota bool, err error) {
	sid := store.ChatID(cs.id)
	msgs := make([]store.Message, len(ms))
	for i, m := range ms {
		// The digest covers the time as sent, before it is clamped.
		msgs[i] = store.Message{N: m.N, SentAt: clampTime(m.SentAt), Body: m.Body,
			Digest: store.Digest(m.N, m.SentAt.UnixMilli(), m.Body)}
	}
	got, err := c.db.Accept(ctx, sid, msgs, c.quota)
	if err != nil {
		return false, err
	}
	res.Received = append(res.Received, entriesOf(got.Stored)...)
	for _, n := range got.Conflicts {
		if a := c.raise(ctx, cs, AlertConflict, n,
			"the friend sent a message number again with other content; kept the first one",
			where...); a != nil {
			res.Alerts = append(res.Alerts, *a)
		}
	}
	if got.OverQuota {
		received, err := c.db.Received(ctx, sid)
		if err != nil {
			return true, err
		}
		if a := c.raise(ctx, cs, AlertQuota, received,
			"the friend sent more than the quota; storing nothing more from them for now",
			"messages", c.quota.Messages, "bytes", c.quota.Bytes, "period", c.quota.Period); a != nil {
			res.Alerts = append(res.Alerts, *a)
		}
	}
	return got.OverQuota, nil
}

// ack applies the friend's acknowledgement ack (the highest of our message
// numbers it has received every message up to). Before it marks anything
// delivered it reads our own records back (checkOwn), the slots up to ack:
// another copy of our identity may have used those numbers, and then its
// messages, not ours, are what the friend acknowledges. A message of ours
// is marked delivered only if our records in the DHT carry it under its
// number (Store.MarkDeliveredVerified); where they do not (a slot could not
// be read, a DHT node lags) the rest waits, and the ack is tried again
// later, at growing intervals. An ack above what this database published
// means another copy published more, even when our records do not show it
// (the DHT lags): our messages are renumbered above it (docs/PROTOCOL.md
// 6.3, step 3). An ack beyond any plausible bound (maxNAhead) is ignored,
// and the record kept.
func (c *Client) ack(ctx context.Context, cs *chatState, ack uint64, res *fetchResult) error {
	sid := store.ChatID(cs.id)
	out, err := c.Outbox(ctx, cs.id)
	if err != nil || ack <= out.Delivered {
		return err
	}
	if ack > out.Sent+maxNAhead {
		c.implausible(cs, "the friend acknowledges numbers far above what we sent; ignored", "ack", ack, "sent", out.Sent)
		return nil
	}
	if ack <= cs.verifyAck && time.Now().Before(cs.verifyAt) {
		return nil // this ack could not be confirmed a moment ago: not yet again
	}
	view, own, err := c.checkOwn(ctx, cs, ack) // the slots up to ack
	c.addOwn(cs, res, own)
	if err != nil {
		return err
	}
	if out, err = c.Outbox(ctx, cs.id); err != nil {
		return err
	}
	if ack > out.Published && ack > c.liveSent(cs) {
		// Our records did not explain it, nor did the live path (the
		// friend may ack what it got over the stream before our
		// records carry it): the other copy's may not have
		// reached the DHT nodes we asked. Continue above the ack anyway.
		own, err := c.resync(ctx, cs, store.Resync{Floor: ack}, "ack", ack, "published", out.Published)
		c.addOwn(cs, res, own)
		if err != nil {
			return err
		}
		if out, err = c.Outbox(ctx, cs.id); err != nil {
			return err
		}
	}
	want := min(ack, out.Published)
	// Numbers the other copy used and dropped, acknowledged, that are
	// still ours here were kept as the messages both copies share (see
	// applyOwn): its records confirm them by leaving them out.
	var taken uint64
	if view.other && view.complete {
		taken = view.maxN
	}
	delivered, upTo, err := c.db.MarkDeliveredVerified(ctx, sid, want, view.msgs, taken)
	if err != nil {
		return err
	}
	res.Delivered = append(res.Delivered, entriesOf(delivered)...)
	if upTo < want || want < ack {
		// Try again later (also when the friend acked, from the live
		// path, more than our records carry yet); meanwhile publish, so that our records are
		// what the DHT holds.
		cs.verifyWait = min(max(2*cs.verifyWait, c.poll.Focused), c.poll.OwnCheck)
		cs.verifyAt, cs.verifyAck = time.Now().Add(cs.verifyWait), ack
		c.log.Info("the friend's ack is not confirmed by our records yet; retrying", "chat", cs.id,
			"ack", ack, "delivered", upTo, "complete", view.complete, "retry_in", cs.verifyWait)
	} else {
		cs.verifyWait, cs.verifyAt, cs.verifyAck = 0, time.Time{}, 0
	}
	if len(delivered) > 0 || upTo < want {
		// Publish again: what was queued now fits, and the delivered
		// messages leave our records, which every poll of the friend's
		// downloads (a full record is ~9 KiB per slot).
		c.chatsMu.Lock()
		cs.dirty = true
		c.chatsMu.Unlock()
	}
	return nil
}

// addOwn adds what a look at our own records changed to res, and marks cs
// for publishing if it changed anything.
func (c *Client) addOwn(cs *chatState, res *fetchResult, own ownResult) {
	res.Resynced = append(res.Resynced, own.resynced...)
	res.Alerts = append(res.Alerts, own.alerts...)
	if len(own.resynced) > 0 || len(own.alerts) > 0 {
		c.chatsMu.Lock()
		cs.dirty = true
		c.chatsMu.Unlock()
	}
}

// The range of send times kept as sent: the friend's clock is only
// informative (order is by number), and the store keeps times as Unix
// nanoseconds, which cannot hold dates outside about 1678–2262.
var (
	minSentAt = time.Date(1970, 1, 1, 0, 0, 0, 0, time.UTC)
	maxSentAt = time.Date(2200, 1, 1, 0, 0, 0, 0, time.UTC)
)

// clampTime brings a send time from the network into that range.
func clampTime(t time.Time) time.Time {
	switch {
	case t.Before(minSentAt):
		return minSentAt
	case t.After(maxSentAt):
		return maxSentAt
	}
	return t
}
