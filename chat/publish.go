package chat

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/dhtchat/dhtchat/chat/internal/store"
	"github.com/dhtchat/dhtchat/dht"
)

// maxOutbox bounds how many unacknowledged messages one publish reads from
// the store: more than the slots can ever hold (MaxSlots records of at
// least minSealedSize-byte messages), so the bound never holds back
// anything that would fit.
const maxOutbox = MaxSlots * (slotCapacity / (frameLenSize + minSealedSize))

// FlushResult is the outcome of one publish of a chat.
type FlushResult struct {
	// Changed are the messages that went from Pending to Published.
	Changed []Entry
	// Queued is how many unacknowledged messages did not fit in the slots
	// and wait, Pending, for acknowledgements to make room.
	Queued int
	// Slots is how many slot records were written.
	Slots int
}

// Flush publishes chat id now: its unacknowledged messages (as many as fit
// in MaxSlots records) and our acknowledgement of the friend's messages.
func (c *Client) Flush(ctx context.Context, id ChatID) (FlushResult, error) {
	cs, err := c.state(ctx, id)
	if err != nil {
		return FlushResult{}, err
	}
	return c.publish(ctx, cs)
}

// publish writes our slot records of cs: each record carries the messages
// Pack gives it and a header with our ack. Slots above 0 are written first
// and slot 0 last, so that a reader who sees the new slot 0 finds the other
// slots already there. A crash anywhere in between is harmless: a message
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

func (c *Client) publishLocked(ctx context.Context, cs *chatState) (FlushResult, error) {
	sid := store.ChatID(cs.id)
	floor0, err := c.syncSlot(ctx, cs, 0)
	if err != nil {
		return FlushResult{}, err
	}
	snap, err := c.db.Snapshot(ctx, sid, maxOutbox, floor0)
	if err != nil {
		return FlushResult{}, err
	}
	counters, unacked := snap.Counters, snap.Unacked
	c.chatsMu.Lock()
	cs.sentSeen = max(cs.sentSeen, counters.Sent)
	c.chatsMu.Unlock()
	sealed := make([][]byte, len(unacked))
	for i, m := range unacked {
		if sealed[i], err = cs.keys.Seal(cs.dir, Message{N: m.N, SentAt: m.SentAt, Body: m.Body}); err != nil {
			// Send checks bodies, so this is a message stored by an older
			// or broken client; it would block the outbox for good.
			return FlushResult{}, fmt.Errorf("chat: message %d of chat %s cannot be sealed: %w", m.N, cs.id, err)
		}
	}
	slots, err := Pack(sealed)
	if err != nil {
		return FlushResult{}, err
	}
	packed := 0
	for _, s := range slots {
		packed += len(s)
	}
	// MaxN tells the reader the highest number it can find in our slots.
	// With nothing unacknowledged, every message sent was delivered.
	maxN := counters.PeerAck
	if packed > 0 {
		maxN = unacked[packed-1].N
	}
	for i := len(slots) - 1; i >= 0; i-- {
		seq := snap.Seq0
		if i > 0 {
			floor, err := c.syncSlot(ctx, cs, i)
			if err != nil {
				return FlushResult{}, err
			}
			if seq, err = c.db.NextSeqAfter(ctx, sid, i, floor); err != nil {
				return FlushResult{}, err
			}
		}
		h := SlotHeader{Dir: cs.dir, Slot: i, SlotsUsed: len(slots), Seq: seq, Ack: counters.Received, MaxN: maxN}
		payload, err := cs.keys.EncodeSlot(h, slots[i])
		if err != nil {
			return FlushResult{}, err
		}
		if err := c.net.Put(ctx, cs.keys.SlotPrivateKey(cs.dir, i), seq, payload); err != nil {
			return FlushResult{}, fmt.Errorf("chat: publish slot %d of chat %s: %w", i, cs.id, err)
		}
	}
	queued := len(unacked) - packed
	if len(unacked) == maxOutbox {
		// More may wait than one publish reads: count them all.
		total, _, err := c.Unacked(ctx, cs.id)
		if err != nil {
			return FlushResult{}, err
		}
		queued = total - packed
	}
	res := FlushResult{Queued: queued, Slots: len(slots)}
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

// syncSlot returns the sequence number that our next record in slot i must
// exceed beyond what the store knows: nonzero only when this database has
// never published that slot but the DHT holds a record of ours there (the
// database was lost or restored, or the chat was joined again). For slot
// 0 it also raises our message counter above what that record carried, so
// that new messages never reuse a number the friend already has. It looks
// at the DHT once per slot per process, and never for a chat this process
// started.
func (c *Client) syncSlot(ctx context.Context, cs *chatState, i int) (uint64, error) {
	if cs.synced[i] {
		return 0, nil
	}
	sid := store.ChatID(cs.id)
	own, err := c.db.OwnSeq(ctx, sid, i)
	if err != nil {
		return 0, err
	}
	if own > 0 {
		cs.synced[i] = true
		return 0, nil
	}
	seq, maxN, err := readOwnSlot(ctx, c.net, cs.keys, cs.dir, i)
	if err != nil {
		return 0, err
	}
	cs.synced[i] = true
	if err := c.continueAfter(ctx, cs.id, seq, maxN); err != nil {
		return 0, err
	}
	return seq, nil
}

// readOwnSlot reads back our record in slot i of the chat with keys: its
// sequence number and, for a record that decodes, its max_n. Both are 0 if
// there is no record.
func readOwnSlot(ctx context.Context, net Network, keys *Keys, dir Direction, i int) (seq, maxN uint64, err error) {
	rec, err := net.Get(ctx, keys.SlotPublicKey(dir, i))
	if errors.Is(err, dht.ErrNotFound) {
		return 0, 0, nil
	}
	if err != nil {
		return 0, 0, fmt.Errorf("chat: read back our slot %d of chat %s: %w", i, keys.ID(), err)
	}
	if s, err := keys.DecodeSlot(dir, i, rec.Seq, rec.Payload); err == nil {
		maxN = s.Header.MaxN
	}
	return rec.Seq, maxN, nil
}

// continueAfter makes our next message of chat id numbered above maxN,
// what a record of ours in the DHT carried that this database did not
// know of.
func (c *Client) continueAfter(ctx context.Context, id ChatID, seq, maxN uint64) error {
	if maxN == 0 {
		return nil
	}
	c.log.Warn("this database is behind our records in the DHT; continuing after them",
		"chat", id, "seq", seq, "max_n", maxN)
	_, err := c.db.Resync(ctx, store.ChatID(id), store.Resync{Floor: maxN})
	return err
}
