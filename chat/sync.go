package chat

import (
	"context"
	"errors"

	"github.com/dhtchat/dhtchat/chat/internal/store"
)

// SyncResult is what one Sync did in a chat.
type SyncResult struct {
	// Received are the friend's messages this Sync stored, in order: each
	// message is stored, and returned, once ever, by a Sync or the worker.
	Received []Entry
	// Published are our messages that went from Pending to Published.
	Published []Entry
	// Delivered are our messages that the friend's acknowledgement moved
	// to Delivered.
	Delivered []Entry
	// Pending is how many of our messages are still pending when Sync
	// returns: with no error, those that wait for the friend's
	// acknowledgements to make room in the slots.
	Pending int
	// Rejected counts the friend's records that were refused
	// (undecryptable, malformed or rolled back); details go to the log.
	Rejected int
	// Resynced are our messages that a look at our own records in the DHT
	// renumbered (Pending again, under a new N) or imported (sent by
	// another copy of this identity); see AlertBehind.
	Resynced []Entry
	// Alerts are the alerts raised, each the first of its kind on the
	// chat since the Client was opened.
	Alerts []Alert
}

// Sync does in chat id, at once, what a command that runs once needs: it
// publishes our pending messages, reads the friend's records once and
// stores what is new, then publishes again if that calls for it (our
// acknowledgement of what it stored; the friend's acknowledgement, which
// made room and takes the delivered messages out of our records). It
// returns what it did, even when an error cut it short, and tells
// subscribers as the worker would. It works beside the worker, whose
// publishes and fetches of the chat it waits for: a message is stored,
// and told, by one of them.
func (c *Client) Sync(ctx context.Context, id ChatID) (SyncResult, error) {
	if c.net == nil {
		return SyncResult{}, ErrOffline
	}
	cs, err := c.state(ctx, id)
	if err != nil {
		return SyncResult{}, err
	}
	var res SyncResult
	// A failed publish does not stop the fetch: receiving must not depend
	// on sending.
	p, err := c.publishPending(ctx, cs)
	c.queued(cs, p, err)
	res.Published, res.Resynced, res.Alerts = p.Changed, p.Resynced, p.Alerts
	errs := []error{err}
	f, err := c.fetchChat(ctx, id)
	errs = append(errs, err)
	res.Received, res.Delivered, res.Rejected = f.Received, f.Delivered, f.Rejected
	res.Published = append(res.Published, f.Published...)
	res.Resynced = append(res.Resynced, f.Resynced...)
	res.Alerts = append(res.Alerts, f.Alerts...)
	if len(f.Delivered) > 0 && !f.Flushed && err == nil {
		// As the worker does: the delivered messages leave our records,
		// which every poll of the friend's downloads.
		p, err := c.publish(ctx, cs)
		c.queued(cs, p, err)
		res.Published = append(res.Published, p.Changed...)
		res.Resynced = append(res.Resynced, p.Resynced...)
		res.Alerts = append(res.Alerts, p.Alerts...)
		errs = append(errs, err)
	}
	if o, err := c.db.OutboxState(context.WithoutCancel(ctx), store.ChatID(id)); err == nil {
		res.Pending = o.Pending
	} else {
		errs = append(errs, unknownChat(id, err))
	}
	c.tell(ctx, res)
	return res, errors.Join(errs...)
}

// tell gives subscribers the events of what a Sync did.
func (c *Client) tell(ctx context.Context, res SyncResult) {
	c.emitOwn(ctx, res.Resynced, res.Alerts)
	for _, e := range res.Published {
		c.emit(ctx, StatusEvent{Entry: e})
	}
	for _, e := range res.Received {
		c.emit(ctx, MessageEvent{Entry: e})
	}
	for _, e := range res.Delivered {
		c.emit(ctx, StatusEvent{Entry: e})
	}
}

// publishPending publishes cs if messages of ours are pending once a
// publish of the worker in flight, if any, has ended: then there is
// nothing to publish again.
func (c *Client) publishPending(ctx context.Context, cs *chatState) (flushResult, error) {
	cs.mu.Lock()
	o, err := c.db.OutboxState(ctx, store.ChatID(cs.id))
	cs.mu.Unlock()
	if err != nil || o.Pending == 0 {
		return flushResult{}, unknownChat(cs.id, err)
	}
	return c.publish(ctx, cs)
}
