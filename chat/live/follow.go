package live

import (
	"errors"
	"time"

	"github.com/dhtchat/dhtchat/chat/wire"
)

// Following the friend. The engine could call Dial itself; Follow is the
// policy that docs/PROTOCOL.md §17.4 asks for, in one tested place: keep
// the stream up while the friend's announcement is valid, redial with
// bounded backoff, never dial an expired announcement, and start afresh
// when a new announcement arrives.

// Follow's redial policy.
const (
	FollowMinBackoff = time.Second
	FollowMaxBackoff = time.Minute
	// followStable is how long a stream must have lasted for its end to
	// be redialled at once: a friend whose streams keep ending at once
	// gets the backoff too, not a dial loop.
	followStable = 30 * time.Second
)

// Follow gives the chat the friend's latest announcement (from the "_l"
// of its slot 0 record, opened with OpenFriendAnnouncement) and keeps a
// stream to it up: while the chat has no open stream and the
// announcement has not expired, the chat dials it; after a failure, or a
// stream that ended within 30 s, again after 1 s, 2 s, 4 s … up to a
// minute. A new announcement resets the backoff. The streams it opens
// arrive on Conns, like the friend's. Calling Follow again replaces the
// announcement; a "none" or expired one stops the dialling (the friend's
// streams are still accepted). The follower ends with Remove or
// Host.Close.
func (c *Chat) Follow(a wire.Announcement) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.removed {
		return
	}
	c.friend = a
	c.friendGen++
	select {
	case c.wake <- struct{}{}:
	default:
	}
	if c.following {
		return
	}
	c.h.mu.Lock()
	defer c.h.mu.Unlock()
	if c.h.closed {
		return
	}
	c.following = true
	c.h.wg.Add(1)
	go c.follow()
}

func (c *Chat) follow() {
	defer c.h.wg.Done()
	backoff := FollowMinBackoff
	var (
		lastGen uint64
		delay   time.Duration // to wait before the next dial
		upSince time.Time
	)
	timer := time.NewTimer(time.Hour)
	timer.Stop()
	defer timer.Stop()
	for {
		c.mu.Lock()
		a, gen, cur := c.friend, c.friendGen, c.current
		c.mu.Unlock()
		if gen != lastGen {
			lastGen, backoff, delay = gen, FollowMinBackoff, 0
		}
		var up <-chan struct{}
		var retry <-chan time.Time
		switch {
		case cur != nil && cur.Err() == nil:
			up = cur.Done()
		case a.ExpiredAt(c.h.cfg.Now()):
			// Nothing to dial until a new announcement.
		case delay > 0:
			timer.Reset(delay)
			retry = timer.C
		default:
			conn, err := c.dialFor(c.h.life, a)
			if err == nil {
				if conn != nil {
					select {
					case c.incoming <- conn:
					default:
						conn.fail(errNotTaken)
					}
				}
				upSince = time.Now()
				continue
			}
			if errors.Is(err, ErrClosed) || c.h.life.Err() != nil {
				return
			}
			c.h.log.Debug("live: dial failed", "retry_in", backoff, "err", err)
			delay, backoff = backoff, min(2*backoff, FollowMaxBackoff)
			continue
		}
		select {
		case <-c.h.life.Done():
			return
		case <-c.gone:
			return
		case <-c.wake:
			timer.Stop()
		case <-up:
			if time.Since(upSince) >= followStable {
				backoff, delay = FollowMinBackoff, 0
			} else {
				delay, backoff = backoff, min(2*backoff, FollowMaxBackoff)
			}
		case <-retry:
			delay = 0
		}
	}
}
