package chat

import (
	"context"
	"errors"
	"math/rand/v2"
	"sync"
	"time"

	"github.com/dhtchat/dhtchat/chat/internal/store"
	"github.com/dhtchat/dhtchat/dht"
	"github.com/dhtchat/dhtchat/keyring"
)

// Watch says which chats the worker of a Client works on (Config.Watch).
type Watch int

const (
	// WatchUsed: only the chats the caller uses, so that a command about
	// one chat does not poll every other one: the worker publishes those
	// named to Use as they change ("send"), and publishes and polls those
	// named to Focus ("recv --follow", pipe mode). Until the first Use or
	// Focus it does nothing, and does not even join the DHT.
	WatchUsed Watch = iota
	// WatchAll: every chat of the store that is not paused, those that
	// other processes sharing the database create included (ChatEvent):
	// the full-screen UI.
	WatchAll
)

// Focus makes chat id the one on screen, polled every PollPolicy.Focused;
// the zero ChatID means none. With WatchUsed, it also makes the worker
// publish and poll the chat from now on.
func (c *Client) Focus(id ChatID) {
	c.chatsMu.Lock()
	c.focus = id
	if cs, ok := c.chats[id]; ok {
		cs.nextPoll = time.Time{}
	}
	first := c.use(id, true)
	c.chatsMu.Unlock()
	c.told(first)
}

// Use makes the worker publish chat id from now on, when it changes (Send)
// and every PollPolicy.Republish, without polling it: what a command that
// sends needs. It matters with WatchUsed only; Focus does more.
func (c *Client) Use(id ChatID) {
	c.chatsMu.Lock()
	first := c.use(id, false)
	c.chatsMu.Unlock()
	c.told(first)
}

// use records that the caller uses chat id (WatchUsed), polled or not,
// and reports whether it is the first time. Call with chatsMu held.
func (c *Client) use(id ChatID, polled bool) bool {
	if c.used == nil || id == (ChatID{}) {
		return false
	}
	was, ok := c.used[id]
	c.used[id] = was || polled
	if !ok {
		c.fresh[id] = true
	}
	return !ok
}

// told wakes the worker to look at a chat used for the first time, if
// first, or at its schedule.
func (c *Client) told(first bool) {
	if first {
		select {
		case c.newUse <- struct{}{}:
		default:
		}
	}
	c.kick()
}

// watches reports whether the worker works on chat id, and polled
// whether it polls it too. Call with chatsMu held.
func (c *Client) watches(id ChatID) (watched, polled bool) {
	if c.used == nil {
		return true, true
	}
	polled, watched = c.used[id]
	return watched, polled
}

// kick wakes the worker to look at its schedule now.
func (c *Client) kick() {
	select {
	case c.wake <- struct{}{}:
	default:
	}
}

// startWorker starts the worker, which Close stops.
func (c *Client) startWorker() {
	ctx, cancel := context.WithCancel(context.Background())
	c.stopWorker = cancel
	c.workerDone = make(chan struct{})
	go func() {
		defer close(c.workerDone)
		c.run(ctx)
	}()
}

// run is the worker, from Open to Close: it waits for a chat to work on
// (WatchUsed), joins the DHT, then publishes each chat it watches when it
// changes (messages queued by Send, our ack moving, room freed by the
// friend's ack) and every PollPolicy.Republish, and fetches each on the
// PollPolicy schedule. It tells subscribers what happens (Subscribe). It
// returns when ctx is done, after every operation it started has stopped.
func (c *Client) run(ctx context.Context) {
	for c.watch == WatchUsed && !c.usesAny() {
		select {
		case <-ctx.Done():
			return
		case <-c.newUse:
		}
	}
	if !c.connect(ctx) {
		return
	}
	known := c.reload(ctx, nil, true)

	jobs := &jobs{
		slots: make(chan struct{}, c.poll.Parallel),
		done:  make(chan struct{}, 1),
	}
	defer jobs.wg.Wait()
	reload := time.NewTicker(c.poll.Reload)
	defer reload.Stop()
	timer := time.NewTimer(0)
	defer timer.Stop()

	for {
		next := c.dispatch(ctx, jobs)
		timer.Reset(time.Until(next))
		select {
		case <-ctx.Done():
			return
		case <-c.wake:
		case <-jobs.done:
		case <-timer.C:
		case <-c.newUse:
			known = c.reload(ctx, known, false)
		case <-reload.C:
			known = c.reload(ctx, known, false)
		}
	}
}

// usesAny reports whether the caller used a chat (WatchUsed).
func (c *Client) usesAny() bool {
	c.chatsMu.Lock()
	defer c.chatsMu.Unlock()
	return len(c.used) > 0
}

// connect joins the DHT, retrying with backoff, and reports whether it did
// before ctx ended.
func (c *Client) connect(ctx context.Context) bool {
	c.emit(ctx, NetworkEvent{State: Connecting})
	wait := 2 * time.Second
	for {
		shared, err := c.join(ctx)
		if err == nil {
			c.emit(ctx, NetworkEvent{State: Online})
			return true
		}
		if ctx.Err() != nil {
			return false
		}
		if shared && (errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded)) {
			continue // the attempt of a caller whose context ended: make ours
		}
		c.log.Warn("cannot join the DHT", "err", err, "retry_in", wait)
		c.emit(ctx, NetworkEvent{State: Offline, Err: err})
		select {
		case <-ctx.Done():
			return false
		case <-time.After(wait):
		}
		wait = min(2*wait, c.poll.MaxBackoff)
	}
}

// reload loads the chats in the store that the worker watches and does
// not know yet, and after the first load tells of those it had not seen.
// It also stops working on the chats that were paused (their friend
// blocked, or no longer a friend) or deleted since, by this process or
// another.
func (c *Client) reload(ctx context.Context, known map[ChatID]bool, first bool) map[ChatID]bool {
	if known == nil {
		known = make(map[ChatID]bool)
	}
	infos, err := c.db.Chats(ctx)
	if err != nil {
		c.log.Warn("cannot list chats", "err", err)
		return known
	}
	c.chatsMu.Lock()
	fresh := c.fresh
	if c.fresh != nil {
		c.fresh = make(map[ChatID]bool)
	}
	c.chatsMu.Unlock()
	present := make(map[ChatID]bool, len(infos))
	for _, s := range infos {
		id := ChatID(s.ID)
		present[id] = true
		c.chatsMu.Lock()
		watched, _ := c.watches(id)
		c.chatsMu.Unlock()
		if !watched {
			continue
		}
		if peer, err := keyring.PublicKeyFromBytes(s.Peer); err == nil && c.paused(peer, s.Blocked) {
			delete(known, id)
			// A caller that uses this chat (WatchUsed) is told even if
			// it was paused before the worker could load it.
			if c.untrack(id) || fresh[id] {
				c.log.Info("chat paused", "chat", id, "blocked", s.Blocked)
				c.emit(ctx, ChatEvent{ID: id})
			}
			continue
		}
		c.chatsMu.Lock()
		cs, tracked := c.chats[id]
		recreated := tracked && !cs.created.Equal(s.CreatedAt)
		c.chatsMu.Unlock()
		if recreated {
			// Deleted and joined again by another process: start afresh.
			c.untrack(id)
			delete(known, id)
			tracked = false
		}
		if known[id] {
			c.adopt(ctx, id)
			continue
		}
		cs, err := c.state(ctx, id)
		if err != nil {
			c.log.Warn("cannot load a chat", "chat", id, "err", err)
			continue
		}
		known[id] = true
		if !first && !tracked && !fresh[id] {
			c.emit(ctx, ChatEvent{ID: cs.id})
		}
	}
	// Chats tracked but not listed were deleted, or created after the
	// list was read: the store says which.
	c.chatsMu.Lock()
	var missing []ChatID
	for id := range c.chats {
		if !present[id] {
			missing = append(missing, id)
		}
	}
	c.chatsMu.Unlock()
	for _, id := range missing {
		if _, err := c.db.Chat(ctx, store.ChatID(id)); !errors.Is(err, store.ErrNotFound) {
			continue
		}
		delete(known, id)
		if c.untrack(id) {
			c.log.Info("chat deleted", "chat", id)
			c.emit(ctx, ChatEvent{ID: id})
		}
	}
	return known
}

// adopt marks chat id for publishing if it has messages pending that this
// process did not queue: another process sharing the database (a
// "dhtchat send" that could not reach the DHT) left them for us.
func (c *Client) adopt(ctx context.Context, id ChatID) {
	o, err := c.Outbox(ctx, id)
	if err != nil || o.Published >= o.Sent {
		return
	}
	c.chatsMu.Lock()
	// Only messages numbered above what our last publish saw: those below
	// are waiting for room in the slots, and a publish now would not help.
	if cs, ok := c.chats[id]; ok && !cs.dirty && o.Sent > cs.sentSeen {
		cs.dirty = true
		c.log.Debug("pending messages from another process", "chat", id)
	}
	c.chatsMu.Unlock()
	c.kick()
}

// jobs are the operations the worker has in flight: at most one per chat (see
// chatState.busy), and PollPolicy.Parallel in all.
type jobs struct {
	wg    sync.WaitGroup
	slots chan struct{} // one token per operation in flight
	done  chan struct{} // an operation ended: look at the schedule again
}

// dispatch starts the work that is due and returns when to look again.
func (c *Client) dispatch(ctx context.Context, j *jobs) time.Time {
	now := time.Now()
	next := now.Add(c.poll.Reload)
	c.chatsMu.Lock()
	var due []*chatState
	for _, cs := range c.chats {
		watched, polled := c.watches(cs.id)
		if !watched || cs.busy {
			continue
		}
		needPut := cs.dirty || now.Sub(cs.lastPut) >= c.poll.Republish
		if !polled && !needPut {
			continue // published, and not to be polled
		}
		at := cs.nextPoll
		if needPut && cs.failures == 0 {
			at = now // after failures, a publish waits for the backoff too
		}
		if !at.After(now) {
			due = append(due, cs)
		} else if at.Before(next) {
			next = at
		}
	}
	c.chatsMu.Unlock()

	for _, cs := range due {
		select {
		case j.slots <- struct{}{}:
		default:
			return next // all busy: the next job to finish wakes the worker (done)
		}
		c.chatsMu.Lock()
		cs.busy = true
		c.chatsMu.Unlock()
		j.wg.Go(func() {
			defer func() {
				c.chatsMu.Lock()
				cs.busy = false
				c.chatsMu.Unlock()
				<-j.slots
				select {
				case j.done <- struct{}{}:
				default:
				}
			}()
			c.work(ctx, cs)
		})
	}
	return next
}

// work does what is due for one chat: publish if needed, then fetch if
// due. A failed publish does not stop the fetch: receiving must not depend
// on sending. Whatever was stored is announced, even when an error ended
// the operation early.
func (c *Client) work(ctx context.Context, cs *chatState) {
	cs.run.Lock()
	defer cs.run.Unlock()
	c.chatsMu.Lock()
	if cs.gone {
		c.chatsMu.Unlock()
		return // paused or deleted since dispatch chose it
	}
	_, polled := c.watches(cs.id)
	needPut := cs.dirty || time.Since(cs.lastPut) >= c.poll.Republish
	needGet := polled && !time.Now().Before(cs.nextPoll)
	c.chatsMu.Unlock()

	var putErr, getErr error
	if needPut {
		var res flushResult
		res, putErr = c.publish(ctx, cs)
		c.queued(cs, res, putErr)
		c.emitOwn(ctx, res.Resynced, res.Alerts)
		for _, e := range res.Changed {
			c.emit(ctx, StatusEvent{Entry: e})
		}
	}
	if needGet {
		var res fetchResult
		res, getErr = c.fetch(ctx, cs)
		c.emitOwn(ctx, res.Resynced, res.Alerts)
		for _, e := range res.Received {
			c.emit(ctx, MessageEvent{Entry: e})
		}
		for _, e := range res.Delivered {
			c.emit(ctx, StatusEvent{Entry: e})
		}
	}
	if ctx.Err() != nil {
		return
	}
	err := errors.Join(putErr, getErr)
	if ev := c.schedule(cs, needGet, err); ev != nil {
		c.emit(ctx, *ev)
	}
	if errors.Is(err, dht.ErrNoPeers) {
		c.reconnect(ctx)
	}
}

// queued records what a publish of cs that ended with err left queued
// (Outbox.Queued).
func (c *Client) queued(cs *chatState, res flushResult, err error) {
	if err != nil {
		return
	}
	c.chatsMu.Lock()
	cs.queued = res.Queued
	c.chatsMu.Unlock()
}

// reconnect dials the bootstrap peers again after the routing table ran
// empty (the network went away), so that the next try can work. One
// reconnect at a time, and at most one per reconnectEvery, however many
// chats fail.
func (c *Client) reconnect(ctx context.Context) {
	if !c.reconnectMu.TryLock() {
		return
	}
	defer c.reconnectMu.Unlock()
	if time.Since(c.lastReconnect) < reconnectEvery {
		return
	}
	c.lastReconnect = time.Now()
	if err := c.net.Connect(ctx); err == nil {
		c.emit(ctx, NetworkEvent{State: Online})
	}
}

// reconnectEvery bounds how often the worker redials the bootstrap peers.
const reconnectEvery = 10 * time.Second

// schedule sets when cs is fetched next, after an operation that ended
// with err.
// It returns the NetworkEvent that the outcome implies, if any.
func (c *Client) schedule(cs *chatState, fetched bool, err error) *NetworkEvent {
	c.chatsMu.Lock()
	defer c.chatsMu.Unlock()
	if err != nil {
		cs.failures++
		// Back off from the chat's own interval: errors never make
		// polling faster than it would be without them.
		wait := min(c.interval(cs)<<min(cs.failures, 16), c.poll.MaxBackoff)
		cs.nextPoll = time.Now().Add(jitter(wait))
		c.log.Warn("chat operation failed", "chat", cs.id, "failures", cs.failures, "retry_in", wait, "err", err)
		if errors.Is(err, dht.ErrNoPeers) {
			return &NetworkEvent{State: Offline, Err: err}
		}
		return nil
	}
	var ev *NetworkEvent
	if cs.failures > 0 {
		ev = &NetworkEvent{State: Online}
	}
	cs.failures = 0
	if !fetched && !cs.nextPoll.IsZero() {
		return ev // only published; the fetch schedule stands
	}
	cs.nextPoll = time.Now().Add(jitter(c.interval(cs)))
	return ev
}

// interval is how often cs is polled when all is well. Call with chatsMu
// held.
func (c *Client) interval(cs *chatState) time.Duration {
	switch {
	case c.liveUp(cs):
		return c.poll.Idle // acks and other devices still come through the DHT
	case cs.id == c.focus:
		return c.poll.Focused
	case time.Since(cs.lastActive) < c.poll.RecentWindow:
		return c.poll.Recent
	}
	return c.poll.Idle
}

// jitter spreads d by ±10% so that chats polled at the same interval do not
// fire together.
func jitter(d time.Duration) time.Duration {
	return d - d/10 + rand.N(d/5+1)
}

// emitOwn delivers the alerts, and the messages a look at our own records
// renumbered or imported.
func (c *Client) emitOwn(ctx context.Context, resynced []Entry, alerts []Alert) {
	for _, a := range alerts {
		c.emit(ctx, AlertEvent{Alert: a})
	}
	for _, e := range resynced {
		c.emit(ctx, StatusEvent{Entry: e})
	}
}
