package chat

import (
	"bytes"
	"time"

	"github.com/dhtchat/dhtchat/chat/wire"
)

// A process without a live host (a one-shot command, dht-only mode) that
// writes our slot 0 beside one with a host (the full-screen UI, the
// agent) must not take the other's announcement away: a sealed "none"
// would make the friend stop dialling until the other process next
// rewrites slot 0 (up to 45 minutes). So it carries over the
// announcement that our slot 0 record carried when it read it back
// (checkOwn reads it before the first publish of a chat in a process),
// while that one is valid, and writes "none" only when there is none.

// carryAnnouncement remembers sealed, the live announcement of our own
// slot 0 record as read back, for a process without a live host: kept if
// it opens for our direction, is not "none" and has not expired. Call
// with cs.mu held.
func (c *Client) carryAnnouncement(cs *chatState, sealed []byte) {
	if c.live != nil {
		return // we announce our own host
	}
	cs.ownAnn, cs.ownAnnExpires = nil, time.Time{}
	if len(sealed) == 0 {
		return
	}
	a, err := cs.keys.OpenAnnouncement(cs.dir, sealed)
	if err != nil || a.None() || a.ExpiredAt(time.Now()) {
		return
	}
	cs.ownAnn, cs.ownAnnExpires = bytes.Clone(sealed), a.Expires
}

// announcementWithoutHost is the sealed announcement that a process
// without a live host writes in our slot 0 of cs: the one carried over
// (carryAnnouncement) while it is valid, else a sealed "none". Call with
// cs.mu held.
func (c *Client) announcementWithoutHost(cs *chatState) ([]byte, error) {
	if cs.ownAnn != nil && time.Now().Before(cs.ownAnnExpires) {
		return cs.ownAnn, nil
	}
	return cs.keys.SealAnnouncement(cs.dir, wire.Announcement{Dir: cs.dir})
}
