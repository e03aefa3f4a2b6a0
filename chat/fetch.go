package chat

import (
	"context"
	"errors"
	"fmt"
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
// it returns, so that the friend learns of the delivery.
func (c *Client) Fetch(ctx context.Context, id ChatID) (FetchResult, error) {
	cs, err := c.state(ctx, id)
	if err != nil {
		return FetchResult{}, err
	}
	f, err := c.fetch(ctx, cs)
	if err != nil || len(f.Received) == 0 {
		return f, err
	}
	if _, err := c.publish(ctx, cs); err != nil {
		return f, err
	}
	return f, nil
}

// fetch reads slot 0 of the friend's direction, then the other slots it
// points to while messages are missing. A record is accepted only if it
// opens under the chat's key for the friend's direction, names the slot
// and sequence number it was read under, and has a sequence number above
// the last accepted one for that slot; anything else is counted in
// Rejected and changes nothing. Messages are stored exactly once and in
// order by the store; the sequence number is remembered only after, so a
// crash in between makes the next fetch process the record again,
// harmlessly.
func (c *Client) fetch(ctx context.Context, cs *chatState) (FetchResult, error) {
	if c.net == nil {
		return FetchResult{}, ErrOffline
	}
	cs.mu.Lock()
	defer cs.mu.Unlock()
	sid := store.ChatID(cs.id)
	peerDir := cs.dir.Other()
	var res FetchResult

	slot0, ok, err := c.fetchSlot(ctx, cs, 0, &res)
	if err != nil || !ok {
		return res, err
	}
	if err := c.accept(ctx, cs, slot0, &res); err != nil {
		return res, err
	}
	counters, err := c.db.Counters(ctx, sid)
	if err != nil {
		return res, err
	}
	for i := 1; slot0.Header.WantsSlot(i, counters.Received); i++ {
		s, ok, err := c.fetchSlot(ctx, cs, i, &res)
		if err != nil {
			return res, err
		}
		if !ok {
			continue
		}
		if s.Header.Dir != peerDir {
			res.Rejected++
			continue
		}
		if err := c.accept(ctx, cs, s, &res); err != nil {
			return res, err
		}
		if counters, err = c.db.Counters(ctx, sid); err != nil {
			return res, err
		}
	}
	if len(res.Received) > 0 {
		c.chatsMu.Lock()
		cs.dirty = true // our ack moved
		cs.lastActive = res.Received[len(res.Received)-1].ReceivedAt
		c.chatsMu.Unlock()
	}
	return res, nil
}

// fetchSlot gets and decodes slot i of the friend's direction. ok is false
// if there is nothing new to accept: no record yet, a record already
// accepted, or one rejected (counted in res).
func (c *Client) fetchSlot(ctx context.Context, cs *chatState, i int, res *FetchResult) (Slot, bool, error) {
	peerDir := cs.dir.Other()
	rec, err := c.net.Get(ctx, cs.keys.SlotPublicKey(peerDir, i))
	if errors.Is(err, dht.ErrNotFound) {
		return Slot{}, false, nil
	}
	if errors.Is(err, dht.ErrInvalidRecord) {
		res.Rejected++
		c.log.Warn("rejected a record", "chat", cs.id, "slot", i, "err", err)
		return Slot{}, false, nil
	}
	if err != nil {
		return Slot{}, false, fmt.Errorf("chat: fetch slot %d of chat %s: %w", i, cs.id, err)
	}
	prev, err := c.db.PeerSeq(ctx, store.ChatID(cs.id), i)
	if err != nil {
		return Slot{}, false, err
	}
	if rec.Seq == prev {
		return Slot{}, false, nil // read again, unchanged
	}
	s, err := cs.keys.DecodeSlot(peerDir, i, rec.Seq, rec.Payload)
	if err == nil {
		err = s.Header.CheckSeq(prev)
	}
	if err != nil {
		res.Rejected++
		if cs.rejected[i] != rec.Seq {
			cs.rejected[i] = rec.Seq
			c.log.Warn("rejected a record", "chat", cs.id, "slot", i, "seq", rec.Seq, "err", err)
		}
		return Slot{}, false, nil
	}
	return s, true, nil
}

// accept stores the messages and the ack of an accepted slot record, then
// remembers its sequence number. A header that acknowledges messages we
// never sent is a broken or hostile peer: the record is rejected whole
// (docs/PROTOCOL.md 6.3, step 3).
func (c *Client) accept(ctx context.Context, cs *chatState, s Slot, res *FetchResult) error {
	sid := store.ChatID(cs.id)
	counters, err := c.db.Counters(ctx, sid)
	if err != nil {
		return err
	}
	if err := s.Header.CheckAck(counters.Sent); err != nil {
		res.Rejected++
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
	if s.Header.Ack > counters.PeerAck {
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
