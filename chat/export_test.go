package chat

import "context"

// The steps of Sync and of the worker, one at a time, for the tests that
// drive a Client by hand (with WatchUsed and no Focus, its worker leaves
// every chat alone).

// Flush publishes chat id now: its unacknowledged messages (as many as fit
// in wire.MaxSlots records) and our acknowledgement of the friend's
// messages.
func (c *Client) Flush(ctx context.Context, id ChatID) (flushResult, error) {
	cs, err := c.state(ctx, id)
	if err != nil {
		return flushResult{}, err
	}
	return c.publish(ctx, cs)
}

// Fetch is fetchChat.
func (c *Client) Fetch(ctx context.Context, id ChatID) (fetchResult, error) {
	return c.fetchChat(ctx, id)
}
