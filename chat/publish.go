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

// maxOutbox bounds how many unacknowledged messages one publish reads from
// the store: as many as the slots can ever hold, so the bound never holds
// back anything that would fit.
const maxOutbox = wire.MaxSlots * wire.MaxSlotMessages

// FlushResult is the outcome of one publish of a chat.
type FlushResult struct {
	// Changed are the messages that went from Pending to Published.
	Changed []Entry
	// Queued is how many unacknowledged messages did not fit in the slots
	// and wait, Pending, for acknowledgements to make room.
	Queued int
	// Slots is how many slot records were written.
	Slots int
	// Resynced are our messages that a look at our own records in the DHT
	// renumbered (Pending again, under a new N) or imported (sent by
	// another copy of this identity); see AlertBehind.
	Resynced []Entry
	// Alerts are the alerts raised (see Alert), each the first of its
	// kind on the chat since the Client was opened.
	Alerts []Alert
}

// publish writes our slot records of cs: each record carries the messages
// wire.Pack gives it and a header with our ack. Slots above 0 are written
// first and slot 0 last, so that a reader who sees the new slot 0 finds the
// other slots already there. A crash anywhere in between is harmless: a message
// keeps its number and text in every record that carries it, and readers
// deduplicate by number.
func (c *Client) publish(ctx context.Context, cs *chatState) (FlushResult, error) {
	if c.net == nil {
		return FlushResult{}, ErrOffline
	}
	cs.mu.Lock()
	defer cs.mu.Unlock()
	c.chatsMu.Lock()
	cs.dirty = false
	c.chatsMu.Unlock()
	res, err := c.publishLocked(ctx, cs)
	c.chatsMu.Lock()
	if err != nil {
		cs.dirty = true
	} else {
		cs.lastPut = time.Now()
	}
	c.chatsMu.Unlock()
	return res, err
}

func (c *Client) publishLocked(ctx context.Context, cs *chatState) (res FlushResult, err error) {
	sid := store.ChatID(cs.id)
	if c.ownDue(cs) {
		// Our records must continue after what the DHT holds of ours:
		// this database may be behind it (docs/PROTOCOL.md 6.2).
		own, err := c.checkOwn(ctx, cs)
		res.Resynced, res.Alerts = own.resynced, own.alerts
		if err != nil {
			return res, err
		}
	}
	snap, err := c.db.Snapshot(ctx, sid, maxOutbox, 0)
	if err != nil {
		return res, err
	}
	counters, unacked := snap.Counters, snap.Unacked
	c.chatsMu.Lock()
	cs.sentSeen = max(cs.sentSeen, counters.Sent)
	c.chatsMu.Unlock()
	sealed := make([][]byte, len(unacked))
	for i, m := range unacked {
		if sealed[i], err = cs.keys.Seal(cs.dir, wire.Message{N: m.N, SentAt: m.SentAt, Body: m.Body}); err != nil {
			// Send checks bodies, so this is a message stored by an older
			// or broken client; it would block the outbox for good.
			return res, fmt.Errorf("chat: message %d of chat %s cannot be sealed: %w", m.N, cs.id, err)
		}
	}
	slots, err := wire.Pack(sealed)
	if err != nil {
		return res, err
	}
	packed := 0
	for _, s := range slots {
		packed += len(s)
	}
	// MaxN tells the reader the highest number it can find in our slots.
	// With nothing unacknowledged, every number given out was delivered
	// (or used by another copy of this identity, and is taken): a copy of
	// this database that reads it back must continue after it.
	maxN := counters.Sent
	if packed > 0 {
		maxN = unacked[packed-1].N
	}
	for i := len(slots) - 1; i >= 0; i-- {
		seq := snap.Seq0
		if i > 0 {
			floor, err := c.syncSlot(ctx, cs, i)
			if err != nil {
				return res, err
			}
			if seq, err = c.db.NextSeqAfter(ctx, sid, i, floor); err != nil {
				return res, err
			}
		}
		h := wire.SlotHeader{Dir: cs.dir, Slot: i, SlotsUsed: len(slots), Seq: seq, Ack: counters.Received, MaxN: maxN}
		payload, err := cs.keys.EncodeSlot(h, slots[i])
		if err != nil {
			return res, err
		}
		if err := c.net.Put(ctx, cs.keys.SlotPrivateKey(cs.dir, i), seq, payload); err != nil {
			return res, fmt.Errorf("chat: publish slot %d of chat %s: %w", i, cs.id, err)
		}
	}
	cs.published = true
	queued := len(unacked) - packed
	if len(unacked) == maxOutbox {
		// More may wait than one publish reads: count them all.
		total, _, err := c.Unacked(ctx, cs.id)
		if err != nil {
			return res, err
		}
		queued = total - packed
	}
	res.Queued, res.Slots = queued, len(slots)
	if packed > 0 {
		changed, err := c.db.MarkPublished(ctx, sid, maxN)
		if err != nil {
			return res, err
		}
		res.Changed = entriesOf(changed)
	}
	c.log.Debug("published", "chat", cs.id, "slots", len(slots), "messages", packed,
		"queued", res.Queued, "ack", counters.Received)
	return res, nil
}

// syncSlot returns the sequence number that our next record in slot i > 0
// must exceed beyond what the store knows: the DHT may hold a record of
// ours there with a higher one (this database was behind, or another copy
// of our identity wrote it). It looks once per slot per process, and again
// after a look at our slot 0 found another writer. Only the sequence
// number is taken from slots above 0, never a message counter, and only
// within maxSeqAhead of ours.
func (c *Client) syncSlot(ctx context.Context, cs *chatState, i int) (uint64, error) {
	if cs.synced[i] {
		return 0, nil
	}
	own, err := c.db.OwnSeq(ctx, store.ChatID(cs.id), i)
	if err != nil {
		return 0, err
	}
	rec, err := c.net.Get(ctx, cs.keys.SlotPublicKey(cs.dir, i))
	switch {
	case errors.Is(err, dht.ErrNotFound):
		rec.Seq = 0
	case err != nil:
		return 0, fmt.Errorf("chat: read back our slot %d of chat %s: %w", i, cs.id, err)
	}
	cs.synced[i] = true
	if rec.Seq > own+maxSeqAhead {
		c.implausible(cs, "our own slot in the DHT holds a sequence number far above ours (planted by the friend?); ignored",
			"slot", i, "seq", rec.Seq, "our_seq", own)
		return 0, nil
	}
	return rec.Seq, nil
}
