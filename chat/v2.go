package chat

// Protocol version 2 in the engine (docs/PROTOCOL.md §10–16): a chat is a
// version 2 chat if the store holds a ratchet state for it (made when the
// chat is started or joined by a Client whose Config.ChatVersion is 2, the
// default). Publishing and fetching dispatch on that (publishLocked,
// fetch); this file is the version 2 side of both, and of sending. The
// ratchet state is a value (wire.RatchetState): it is read from the store
// at every operation and written back in the transaction of what changed
// it (a message sealed: store.EnqueueSealed; messages opened:
// store.AcceptRatchet), so that several processes on one database, and a
// crash at any point, neither lose a message key nor keep a used one.
//
// What version 1 needs and version 2 does not: the read-back of our own
// records (own.go) and renumbering. Only we hold our slot names' signing
// keys, so nobody plants records under them, and a database that is
// behind what our identity published is detected (§14.4) and refused
// (AlertStale, ErrStale) rather than reconciled.

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"math"
	"time"

	"github.com/dhtchat/dhtchat/chat/internal/store"
	"github.com/dhtchat/dhtchat/chat/wire"
	"github.com/dhtchat/dhtchat/dht"
	"github.com/dhtchat/dhtchat/keyring"
)

// putMark is the epoch under which v2_seqs keeps, for slot 0, the highest
// message number this database ever put in a record of ours (stored before
// the put): an ack of the friend above it acknowledges what another copy
// of our state sent.
const putMark = math.MaxUint32

// defaultChatVersion is the protocol version of new chats when
// Config.ChatVersion is zero.
var defaultChatVersion = 2

// ErrStale: the ratchet state of a version 2 chat is older than what our
// identity published in it (see AlertStale). The chat does not publish.
var ErrStale = errors.New("chat: this database is behind what your identity published in the chat; it does not write with old keys")

// v2State is what a process knows of a version 2 chat beyond the store.
// Guarded by chatState.mu.
type v2State struct {
	// stale: the state was found behind (AlertStale); never write.
	stale bool
	// checkedEpoch is the epoch whose next names were last looked up
	// (for records a newer copy of our state wrote); 0 with checked
	// false: not yet.
	checkedEpoch uint32
	checked      bool
}

// createChat stores a new chat with peer, of the Client's version: a
// version 2 chat gets its initial ratchet state in the same transaction.
func (c *Client) createChat(ctx context.Context, ch store.Chat, p wire.PairKey, peer keyring.PublicKey) (store.Chat, bool, error) {
	if c.version == 1 {
		return c.db.CreateChat(ctx, ch)
	}
	st, err := wire.NewRatchetState(nil, p, wire.ChatID(ch.Wire), wire.DirectionOf(c.pub.Bytes(), peer.Bytes()))
	if err != nil {
		return store.Chat{}, false, err
	}
	return c.db.CreateChatV2(ctx, ch, st.Marshal())
}

// enqueue stores new messages of ours: in a version 2 chat each is sealed
// now, once, and its frame kept with it until it is acknowledged.
func (c *Client) enqueue(ctx context.Context, id store.ChatID, bodies []string, sentAt time.Time) ([]store.Message, error) {
	raw, err := c.db.Ratchet(ctx, id)
	if err != nil || raw == nil {
		if err != nil {
			return nil, err
		}
		return c.db.Enqueue(ctx, id, bodies, sentAt)
	}
	return c.db.EnqueueSealed(ctx, id, bodies, sentAt, func(raw []byte, msgs []store.Message) ([]byte, []store.Frame, error) {
		st, err := wire.UnmarshalRatchetState(raw)
		if err != nil {
			return nil, nil, fmt.Errorf("chat: the stored ratchet state of chat %s: %w", ChatID(id), err)
		}
		frames := make([]store.Frame, len(msgs))
		for i, m := range msgs {
			if m.N != st.NextN() {
				return nil, nil, fmt.Errorf("chat: message %d of chat %s, but the ratchet is at %d", m.N, ChatID(id), st.NextN())
			}
			var f wire.Frame
			if st, f, err = st.Seal(nil, m.SentAt, m.Body); err != nil {
				return nil, nil, err
			}
			frames[i] = store.Frame{N: f.N, Epoch: f.Epoch, Sealed: f.Sealed}
		}
		return st.Marshal(), frames, nil
	})
}

// stale marks cs as behind and raises AlertStale.
func (c *Client) stale(ctx context.Context, cs *chatState, n uint64, why string, attrs ...any) *Alert {
	cs.v2.stale = true
	return c.raise(ctx, cs, AlertStale, n, "the ratchet state is behind what our identity published: "+why, attrs...)
}

// publishV2 writes our records of a version 2 chat: the frames of our
// unacknowledged messages, as sealed at send time, in the records of our
// current epoch, with our ack (docs/PROTOCOL.md §14.3). Before it writes
// with a state it checks the names the state announced for its next epoch:
// a record there was written by a newer copy of this state (§14.4).
func (c *Client) publishV2(ctx context.Context, cs *chatState, raw []byte) (res flushResult, err error) {
	sid := store.ChatID(cs.id)
	if cs.v2.stale {
		return res, fmt.Errorf("%w (chat %s)", ErrStale, cs.id)
	}
	st, err := wire.UnmarshalRatchetState(raw)
	if err != nil {
		return res, fmt.Errorf("chat: the stored ratchet state of chat %s: %w", cs.id, err)
	}
	if !cs.v2.checked || cs.v2.checkedEpoch != st.SendEpoch() {
		if names, ok := st.NextSlotNames(); ok {
			_, err := c.net.Get(ctx, names[0])
			switch {
			case err == nil:
				if a := c.stale(ctx, cs, uint64(st.SendEpoch()), "a record under our next epoch's names", "epoch", st.SendEpoch()); a != nil {
					res.Alerts = append(res.Alerts, *a)
				}
				return res, fmt.Errorf("%w (chat %s)", ErrStale, cs.id)
			case !errors.Is(err, dht.ErrNotFound) && !errors.Is(err, dht.ErrInvalidRecord):
				return res, fmt.Errorf("chat: read our next names of chat %s: %w", cs.id, err)
			}
		}
		if !cs.v2.checked {
			// Sign (1) before our first write in this process: the
			// friend's newest record may acknowledge what a newer copy
			// of this state sent.
			if err := c.checkAckV2(ctx, cs, st, &res); err != nil || cs.v2.stale {
				if err == nil {
					err = fmt.Errorf("%w (chat %s)", ErrStale, cs.id)
				}
				return res, err
			}
		}
		cs.v2.checked, cs.v2.checkedEpoch = true, st.SendEpoch()
	}
	stored, counters, err := c.db.Frames(ctx, sid, maxOutbox)
	if err != nil {
		return res, err
	}
	c.chatsMu.Lock()
	cs.sentSeen = max(cs.sentSeen, counters.Sent)
	c.chatsMu.Unlock()
	frames := make([]wire.Frame, len(stored))
	for i, f := range stored {
		frames[i] = wire.Frame{Epoch: f.Epoch, N: f.N, Sealed: f.Sealed}
	}
	slots, err := wire.PackV2(frames)
	if err != nil {
		return res, err
	}
	packed := packedCount(slots)
	maxN := counters.Sent
	if packed > 0 {
		maxN = frames[packed-1].N
	}
	epoch := st.SendEpoch()
	if err := c.db.SetSeqV2(ctx, sid, true, putMark, 0, maxN); err != nil {
		return res, err
	}
	for i := len(slots) - 1; i >= 0; i-- {
		seq, err := c.nextSeqV2(ctx, sid, epoch, i)
		if err != nil {
			return res, err
		}
		h := wire.V2Header{Slot: i, SlotsUsed: len(slots), Seq: seq, Ack: counters.Received, MaxN: maxN}
		payload, err := st.EncodeSlot(nil, h, slots[i])
		if err != nil {
			return res, err
		}
		if err := c.net.Put(ctx, st.SlotSigningKey(i), seq, payload); err != nil {
			return res, fmt.Errorf("chat: publish slot %d of chat %s: %w", i, cs.id, err)
		}
	}
	cs.published = true
	total, _, err := c.unackedCounts(ctx, cs.id)
	if err != nil {
		return res, err
	}
	res.Queued, res.Slots = max(total-packed, 0), len(slots)
	if packed > 0 {
		changed, err := c.db.MarkPublished(ctx, sid, maxN)
		if err != nil {
			return res, err
		}
		res.Changed = entriesOf(changed)
	}
	c.log.Debug("published", "chat", cs.id, "version", 2, "epoch", epoch, "slots", len(slots),
		"messages", packed, "queued", res.Queued, "ack", counters.Received)
	return res, nil
}

// nextSeqV2 returns the sequence number of our next record in slot i of
// epoch e, and stores it before the put (which may reach DHT nodes even
// when it fails). It is the time in milliseconds, or one more than the
// last if the clock did not move: it tells nobody how often we publish
// (docs/PROTOCOL.md §14.5).
func (c *Client) nextSeqV2(ctx context.Context, id store.ChatID, e uint32, i int) (uint64, error) {
	last, err := c.db.SeqV2(ctx, id, true, e, i)
	if err != nil {
		return 0, err
	}
	seq := max(uint64(max(time.Now().UnixMilli(), 1)), last+1)
	return seq, c.db.SetSeqV2(ctx, id, true, e, i, seq)
}

// fetchV2 reads the friend's records of a version 2 chat: for each epoch
// the state watches (the one it reads, and the next once announced), slot
// 0, then the other slots its header names while messages are missing.
// Each accepted record's messages are stored with the state that opened
// them, in one transaction (store.AcceptRatchet); a record whose messages
// could not all be stored (a gap, the quota) leaves the state as it was,
// keys and all, and ends the fetch: it is opened again next time.
func (c *Client) fetchV2(ctx context.Context, cs *chatState, raw []byte, res *fetchResult) error {
	sid := store.ChatID(cs.id)
	st, err := wire.UnmarshalRatchetState(raw)
	if err != nil {
		return fmt.Errorf("chat: the stored ratchet state of chat %s: %w", cs.id, err)
	}
	sendEpoch := st.SendEpoch()
	defer func() {
		if st.SendEpoch() != sendEpoch {
			// We made a ratchet step: our next records carry it.
			c.chatsMu.Lock()
			cs.dirty = true
			c.chatsMu.Unlock()
		}
	}()
	for _, w := range st.Watches() {
		if w.Epoch < st.RecvEpoch() {
			continue // left behind by a step made in this fetch
		}
		for i := 0; i < wire.MaxSlots; i++ {
			next, h, done, err := c.fetchSlotV2(ctx, cs, st, w, i, res)
			if err != nil || done == fetchStop {
				return err
			}
			if done == fetchNextEpoch {
				// Nothing (more) here: the next epoch may have it. Both
				// of from-lo's first epochs have the same names, so a
				// record of the one is rejected under the other.
				break
			}
			st = next
			rcv, err := c.db.Received(ctx, sid)
			if err != nil {
				return err
			}
			if i+1 >= h.SlotsUsed || rcv >= h.MaxN {
				break
			}
		}
	}
	return nil
}

// What fetchSlotV2 tells fetchV2 to do next.
type fetchNext int

const (
	fetchOn        fetchNext = iota // stored: go on with the next slot
	fetchNextEpoch                  // nothing here (missing, rejected): go on with the next epoch
	fetchStop                       // a record to open again later with the old state: stop
)

// fetchSlotV2 reads, decodes and stores slot i of the friend's epoch w.
// With fetchOn it returns the new state and the record's header.
func (c *Client) fetchSlotV2(ctx context.Context, cs *chatState, st *wire.RatchetState, w wire.Watch, i int, res *fetchResult) (next *wire.RatchetState, h wire.V2Header, done fetchNext, err error) {
	sid := store.ChatID(cs.id)
	rec, err := c.net.Get(ctx, w.Names[i])
	switch {
	case errors.Is(err, dht.ErrNotFound):
		return nil, h, fetchNextEpoch, nil
	case errors.Is(err, dht.ErrInvalidRecord):
		res.Rejected++
		c.log.Warn("rejected a record", "chat", cs.id, "epoch", w.Epoch, "slot", i, "err", err)
		return nil, h, fetchNextEpoch, nil
	case err != nil:
		return nil, h, fetchStop, fmt.Errorf("chat: fetch slot %d of chat %s: %w", i, cs.id, err)
	}
	prev, err := c.db.SeqV2(ctx, sid, false, w.Epoch, i)
	if err != nil {
		return nil, h, fetchStop, err
	}
	if rec.Seq < prev {
		c.log.Debug("rejected a record", "chat", cs.id, "epoch", w.Epoch, "slot", i, "seq", rec.Seq, "err", wire.ErrStale)
		res.Rejected++
		return nil, h, fetchNextEpoch, nil
	}
	next, s, err := st.DecodeSlot(nil, w.Epoch, i, rec.Seq, rec.Payload)
	if err != nil {
		res.Rejected++
		level := slog.LevelWarn
		if rec.Seq == prev {
			level = slog.LevelDebug
		}
		c.log.Log(ctx, level, "rejected a record", "chat", cs.id, "epoch", w.Epoch, "slot", i, "seq", rec.Seq, "err", err)
		return nil, h, fetchNextEpoch, nil
	}
	if err := c.behindV2(ctx, cs, next, s.Header, &res.Alerts); err != nil {
		return nil, h, fetchStop, err
	}
	msgs := make([]store.Message, len(s.Messages))
	for j, m := range s.Messages {
		msgs[j] = store.Message{N: m.N, SentAt: clampTime(m.SentAt), Body: m.Body,
			Digest: store.Digest(m.N, m.SentAt.UnixMilli(), m.Body)}
	}
	got, saved, err := c.db.AcceptRatchet(ctx, sid, msgs, c.quota, next.Marshal())
	if err != nil {
		return nil, h, fetchStop, err
	}
	res.Received = append(res.Received, entriesOf(got.Stored)...)
	for _, n := range got.Conflicts {
		if a := c.raise(ctx, cs, AlertConflict, n,
			"the friend sent a message number again with other content; kept the first one",
			"slot", i, "seq", rec.Seq); a != nil {
			res.Alerts = append(res.Alerts, *a)
		}
	}
	if got.OverQuota {
		received, err := c.db.Received(ctx, sid)
		if err != nil {
			return nil, h, fetchStop, err
		}
		if a := c.raise(ctx, cs, AlertQuota, received,
			"the friend sent more than the quota; storing nothing more from them for now",
			"messages", c.quota.Messages, "bytes", c.quota.Bytes, "period", c.quota.Period); a != nil {
			res.Alerts = append(res.Alerts, *a)
		}
	}
	if !saved {
		return nil, h, fetchStop, nil
	}
	if err := c.db.SetSeqV2(ctx, sid, false, w.Epoch, i, rec.Seq); err != nil {
		return nil, h, fetchStop, err
	}
	delivered, err := c.db.MarkDelivered(ctx, sid, s.Header.Ack)
	if err != nil {
		return nil, h, fetchStop, err
	}
	res.Delivered = append(res.Delivered, entriesOf(delivered)...)
	if len(delivered) > 0 {
		c.chatsMu.Lock()
		cs.dirty = true // the delivered frames leave our records
		c.chatsMu.Unlock()
	}
	return next, s.Header, fetchOn, nil
}

// behindV2 checks sign (1) of docs/PROTOCOL.md §14.4 on h, an accepted
// header of the friend: it acknowledges a message this state has not
// sealed, or one above what this database ever put in a record (another
// copy sent it: the numbers, and keys, of this state's later messages are
// taken). Either marks cs stale.
func (c *Client) behindV2(ctx context.Context, cs *chatState, st *wire.RatchetState, h wire.V2Header, alerts *[]Alert) error {
	put, err := c.db.SeqV2(ctx, store.ChatID(cs.id), true, putMark, 0)
	if err != nil {
		return err
	}
	if st.Behind(h) || h.Ack > put {
		if a := c.stale(ctx, cs, h.Ack, "the friend acknowledges messages this database did not send",
			"ack", h.Ack, "next", st.NextN(), "put", put); a != nil {
			*alerts = append(*alerts, *a)
		}
	}
	return nil
}

// checkAckV2 reads the friend's slot 0 of each epoch st watches and checks
// its header with behindV2, storing nothing: the fetch does that.
func (c *Client) checkAckV2(ctx context.Context, cs *chatState, st *wire.RatchetState, res *flushResult) error {
	for _, w := range st.Watches() {
		rec, err := c.net.Get(ctx, w.Names[0])
		switch {
		case errors.Is(err, dht.ErrNotFound), errors.Is(err, dht.ErrInvalidRecord):
			continue
		case err != nil:
			return fmt.Errorf("chat: fetch slot 0 of chat %s: %w", cs.id, err)
		}
		next, s, err := st.DecodeSlot(nil, w.Epoch, 0, rec.Seq, rec.Payload)
		if err != nil {
			continue
		}
		if err := c.behindV2(ctx, cs, next, s.Header, &res.Alerts); err != nil || cs.v2.stale {
			return err
		}
	}
	return nil
}
