package chat

import (
	"context"

	"github.com/dhtchat/dhtchat/chat/internal/store"
)

// Search in a chat's history and the drafts of the full-screen UI, both
// served from the store.

// MaxSearchHits is the most entries Search returns.
const MaxSearchHits = store.MaxSearchHits

// Search returns the entries of chat id whose body contains text, ignoring
// case, oldest first: at most limit of them (limit <= 0: MaxSearchHits),
// the newest if there are more. An empty text finds nothing.
func (c *Client) Search(ctx context.Context, id ChatID, text string, limit int) ([]Entry, error) {
	ms, err := c.db.Search(ctx, store.ChatID(id), text, limit)
	if err != nil {
		return nil, unknownChat(id, err)
	}
	return entriesOf(ms), nil
}

// Draft returns the saved draft of chat id, "" if none.
func (c *Client) Draft(ctx context.Context, id ChatID) (string, error) {
	d, err := c.db.Draft(ctx, store.ChatID(id))
	return d, unknownChat(id, err)
}

// SetDraft saves draft as the draft of chat id ("" clears it), durably.
// A draft is only kept: nothing ever sends it.
func (c *Client) SetDraft(ctx context.Context, id ChatID, draft string) error {
	return unknownChat(id, c.db.SetDraft(ctx, store.ChatID(id), draft))
}
