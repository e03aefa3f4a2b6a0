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

// maxOutbox bounds how many unacknowledged messages one publish reads from
// the store: as many as the slots can ever hold, so the bound never holds
// back anything that would fit.
const maxOutbox = wire.MaxSlots * wire.MaxSlotMessages

// flushResult is the outcome of one publish of a chat.
type flushResult struct {
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
func (c *Client) publish(ctx context.Context, cs *chatState) (flushResult, error) {
	if c.net == nil {
		return flushResult{}, ErrOffline
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

func (c *Client) publishLocked(ctx context.Context, cs *chatState) (res flushResult, err error) {
	sid := store.ChatID(cs.id)
	if raw, err := c.db.Ratchet(ctx, sid); err != nil || raw != nil {
		if err != nil {
			return res, err
		}
		return c.publishV2(ctx, cs, raw)
	}
	if c.ownDue(cs) {
		// Our records must continue after what the DHT holds of ours:
		// this database may be behind it (docs/PROTOCOL.md 6.2).
		_, own, err := c.checkOwn(ctx, cs, 0)
		res.Resynced, res.Alerts = own.resynced, own.alerts
		if err != nil {
			return res, err
		}
		// And our other slots, before they are written next: a record may
		// have been planted there since they were last read.
		for i := 1; i < wire.MaxSlots; i++ {
			cs.synced[i] = false
		}
	}
	if cs.blocked {
		// Our records would not replace the planted one: the friend
		// could not read them. The messages stay pending.
		return res, fmt.Errorf("%w (chat %s)", ErrSendBlocked, cs.id)
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
	packed := packedCount(slots)
	// MaxN tells the reader the highest number it can find in our slots.
	// With nothing unacknowledged, every number given out was delivered
	// (or used by another copy of this identity, and is taken): a copy of
	// this database that reads it back must continue after it.
	maxN := counters.Sent
	if packed > 0 {
		maxN = unacked[packed-1].N
	}
	blockedAt := -1 // the lowest of our slots that a planted record blocks
	for i := len(slots) - 1; i >= 0; i-- {
		seq := snap.Seq0
		if i > 0 {
			floor, blocked, err := c.syncSlot(ctx, cs, i)
			if err != nil {
				return res, err
			}
			if blocked {
				if a := c.blocked(ctx, cs, i, floor); a != nil {
					res.Alerts = append(res.Alerts, *a)
				}
				blockedAt = i
				continue // the friend would not read it
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
		if i == 0 {
			// Remembered before the put, which may reach DHT nodes even
			// when it fails: a read back then knows the record for ours.
			if err := c.db.SetPublished(ctx, sid, store.Record{Seq: seq, Hash: sha256.Sum256(payload)}); err != nil {
				return res, err
			}
		}
		if err := c.putSlot(ctx, cs, i, seq, payload); err != nil {
			return res, fmt.Errorf("chat: publish slot %d of chat %s: %w", i, cs.id, err)
		}
	}
	cs.published = true
	if blockedAt > 0 {
		// What the blocked slot and those after it carry cannot be read:
		// those messages stay pending.
		packed = packedCount(slots[:blockedAt])
		if packed > 0 {
			maxN = unacked[packed-1].N
		}
	}
	queued := len(unacked) - packed
	if len(unacked) == maxOutbox {
		// More may wait than one publish reads: count them all.
		total, _, err := c.unackedCounts(ctx, cs.id)
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
	if blockedAt > 0 {
		return res, fmt.Errorf("%w (chat %s, slot %d)", ErrSendBlocked, cs.id, blockedAt)
	}
	return res, nil
}

// syncSlot returns the sequence number that our next record in slot i > 0
// must exceed beyond what the store knows: the DHT may hold a record of
// ours there with a higher one (this database was behind, or another copy
// of our identity wrote it). It looks once per slot per process, and again
// after a look at our slot 0 found another writer. Only the sequence
// number is taken from slots above 0, never a message counter, and only
// within maxSeqAhead of ours: a record beyond it (planted) blocks the
// slot, and then it returns that record's sequence number and blocked,
// and looks again next time.
func (c *Client) syncSlot(ctx context.Context, cs *chatState, i int) (floor uint64, blocked bool, err error) {
	if cs.synced[i] {
		return 0, false, nil
	}
	own, err := c.db.OwnSeq(ctx, store.ChatID(cs.id), i)
	if err != nil {
		return 0, false, err
	}
	rec, err := c.net.Get(ctx, cs.keys.SlotPublicKey(cs.dir, i))
	switch {
	case errors.Is(err, dht.ErrNotFound):
		rec.Seq = 0
	case err != nil:
		return 0, false, fmt.Errorf("chat: read back our slot %d of chat %s: %w", i, cs.id, err)
	}
	if rec.Seq > own+maxSeqAhead {
		return rec.Seq, true, nil
	}
	cs.synced[i] = true
	return rec.Seq, false, nil
}

// packedCount returns how many messages the packed slots carry (the first
// that many of those given to wire.Pack or wire.PackV2).
func packedCount[T any](slots [][]T) int {
	n := 0
	for _, s := range slots {
		n += len(s)
	}
	return n
}
