package tui

import (
	"charm.land/bubbles/v2/textarea"

	"github.com/dhtchat/dhtchat/chat"
	"github.com/dhtchat/dhtchat/chat/wire"
	"github.com/dhtchat/dhtchat/keyring"
)

// chatView is all the UI holds of one chat beside its entry in the chat
// list (which is the store's summary: last message, unread count, paused):
// who it is with, as shown; its key; the history loaded and where it is
// scrolled; its draft; what was sent in it that the store does not hold
// yet; and its alerts. It is made when the chat is first listed, opened or
// typed into, and forgotten when the chat is deleted.
type chatView struct {
	// name is the name shown for the chat's friend ("" until known), and
	// friend the friend itself, if isFriend (the chat's key belongs to
	// one of them).
	name     string
	friend   keyring.Friend
	isFriend bool
	// tag tells apart chats with the same friend: the end of each one's
	// chat key, e.g. "…x7kq"; "" for a friend's only chat.
	tag    string
	key    wire.ChatKey
	hasKey bool

	hist  *history        // nil until the chat is opened
	draft *textarea.Model // nil until the chat is opened or typed into
	queue *sendQueue      // nil when all sent is stored (see sendq.go)

	// alerts are the alerts read of the chat, alertsSeen how many of them
	// the user looked at in the info view, alertsLoading whether a read
	// is in flight (see alerts.go).
	alerts        []chat.Alert
	alertsSeen    int
	alertsLoading bool
}

// chatViews are the views of the chats, by ID; the zero ID's holds the
// draft of no chat. The one map is shared by the model, the input (the
// drafts) and the renderers (the names), through common: it is made once
// and never replaced.
type chatViews map[chat.ChatID]*chatView

// get is the view of chat id, made if there is none.
func (cs chatViews) get(id chat.ChatID) *chatView {
	v := cs[id]
	if v == nil {
		v = &chatView{}
		cs[id] = v
	}
	return v
}

// at is a copy of the view of chat id, the zero view if there is none:
// for reading, in code (such as View) that must not make one.
func (cs chatViews) at(id chat.ChatID) chatView {
	if v := cs[id]; v != nil {
		return *v
	}
	return chatView{}
}

// hist is the history of chat id, nil if it was never opened.
func (cs chatViews) hist(id chat.ChatID) *history {
	if v := cs[id]; v != nil {
		return v.hist
	}
	return nil
}

// queue is the send queue of chat id, nil if it is empty.
func (cs chatViews) queue(id chat.ChatID) *sendQueue {
	if v := cs[id]; v != nil {
		return v.queue
	}
	return nil
}

// key is the chat key of chat id, if it is known.
func (cs chatViews) key(id chat.ChatID) (wire.ChatKey, bool) {
	if v := cs[id]; v != nil && v.hasKey {
		return v.key, true
	}
	return wire.ChatKey{}, false
}

// name is the name shown for the friend of chat id, "" if not known.
func (cs chatViews) name(id chat.ChatID) string {
	if v := cs[id]; v != nil {
		return v.name
	}
	return ""
}

// setKey records the chat key of chat id.
func (cs chatViews) setKey(id chat.ChatID, k wire.ChatKey) {
	v := cs.get(id)
	v.key, v.hasKey = k, true
}
