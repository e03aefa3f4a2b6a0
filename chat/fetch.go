package chat

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"time"

	"github.com/dhtchat/dhtchat/chat/internal/store"
	"github.com/dhtchat/dhtchat/dht"
)

// FetchResult is the outcome of one fetch of a chat.
type FetchResult struct {
	// Received are the friend's messages stored by this fetch, in order:
	// each message is returned by exactly one fetch, ever.
	Received []Entry
	// Delivered are our messages that the friend's acknowledgement moved
	// to Delivered.
	Delivered []Entry
	// Rejected counts the records that were refused (undecryptable,
	// malformed, rolled back, or with an impossible ack). They change
	// nothing; details go to the log.
	Rejected int
}

// Fetch reads the friend's records of chat id from the DHT and stores what
// is new. If it received messages, it publishes our acknowledgement before
// it returns, so that the friend learns of the delivery. The result holds
// what was stored even when an error cut the fetch short.
func (c *Client) Fetch(ctx context.Context, id ChatID) (FetchResult, error) {
	cs, err := c.state(ctx, id)
	if err != nil {
		return FetchResult{}, err
	}
	f, err := c.fetch(ctx, cs)
	if len(f.Received) > 0 {
		if _, perr := c.publish(ctx, cs); perr != nil {
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
func (c *Client) fetch(ctx context.Context, cs *chatState) (res FetchResult, err error) {
	if c.net == nil {
		return FetchResult{}, ErrOffline
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

	slot0, state, err := c.fetchSlot(ctx, cs, 0, &res)
	if err != nil || state == slotMissing || state == slotRejected {
		return res, err
	}
	if state == slotFresh {
		if err := c.accept(ctx, cs, slot0, &res); err != nil {
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
		if err := c.accept(ctx, cs, s, &res); err != nil {
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
func (c *Client) fetchSlot(ctx context.Context, cs *chatState, i int, res *FetchResult) (Slot, slotState, error) {
	peerDir := cs.dir.Other()
	rec, err := c.net.Get(ctx, cs.keys.SlotPublicKey(peerDir, i))
	if errors.Is(err, dht.ErrNotFound) {
		return Slot{}, slotMissing, nil
	}
	if errors.Is(err, dht.ErrInvalidRecord) {
		res.Rejected++
		c.log.Warn("rejected a record", "chat", cs.id, "slot", i, "err", err)
		return Slot{}, slotRejected, nil
	}
	if err != nil {
		return Slot{}, slotMissing, fmt.Errorf("chat: fetch slot %d of chat %s: %w", i, cs.id, err)
	}
	prev, err := c.db.PeerSeq(ctx, store.ChatID(cs.id), i)
	if err != nil {
		return Slot{}, slotMissing, err
	}
	if rec.Seq == prev && i > 0 {
		return Slot{}, slotUnchanged, nil
	}
	if rec.Seq == cs.rejected[i] {
		res.Rejected++ // the same bad record again: refused and logged before
		return Slot{}, slotRejected, nil
	}
	s, err := cs.keys.DecodeSlot(peerDir, i, rec.Seq, rec.Payload)
	switch {
	case err != nil:
	case rec.Seq == prev:
		return s, slotUnchanged, nil
	default:
		err = s.Header.CheckSeq(prev)
	}
	if err != nil {
		res.Rejected++
		cs.rejected[i] = rec.Seq
		level := slog.LevelWarn
		if errors.Is(err, ErrStale) {
			level = slog.LevelDebug // a lagging DHT node: normal
		}
		c.log.Log(ctx, level, "rejected a record", "chat", cs.id, "slot", i, "seq", rec.Seq, "err", err)
		return Slot{}, slotRejected, nil
	}
	return s, slotFresh, nil
}

// accept stores the messages and the ack of an accepted slot record, then
// remembers its sequence number. A header that acknowledges messages we
// never sent is a broken or hostile peer: the record is rejected whole
// (docs/PROTOCOL.md 6.3, step 3).
func (c *Client) accept(ctx context.Context, cs *chatState, s Slot, res *FetchResult) error {
	sid := store.ChatID(cs.id)
	out, err := c.Outbox(ctx, cs.id)
	if err != nil {
		return err
	}
	if err := s.Header.CheckAck(out.Published); err != nil {
		res.Rejected++
		cs.rejected[s.Header.Slot] = s.Header.Seq
		c.log.Warn("rejected a record", "chat", cs.id, "slot", s.Header.Slot, "seq", s.Header.Seq, "err", err)
		return nil
	}
	msgs := make([]store.Message, len(s.Messages))
	for i, m := range s.Messages {
		msgs[i] = store.Message{N: m.N, SentAt: clampTime(m.SentAt), Body: m.Body}
	}
	got, err := c.db.Receive(ctx, sid, msgs)
	if err != nil {
		return err
	}
	res.Received = append(res.Received, entriesOf(got)...)
	if s.Header.Ack > out.Delivered {
		delivered, err := c.db.MarkDelivered(ctx, sid, s.Header.Ack)
		if err != nil {
			return err
		}
		res.Delivered = append(res.Delivered, entriesOf(delivered)...)
		if len(delivered) > 0 {
			// Publish again: what was queued now fits, and the delivered
			// messages leave our records, which every poll of the
			// friend's downloads (a full record is ~9 KiB per slot).
			c.chatsMu.Lock()
			cs.dirty = true
			c.chatsMu.Unlock()
		}
	}
	_, err = c.db.AdvancePeerSeq(ctx, sid, s.Header.Slot, s.Header.Seq)
	return err
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
