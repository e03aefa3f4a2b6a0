package chat

import (
	"context"
	"sync"
)

// LagEvent: the subscriber fell more than subscriberQueue events behind
// and Missed events were dropped from its stream, where the LagEvent
// stands; the events after it are whole again. The store has what the
// missed events said (messages, statuses, chats, alerts): read it again.
type LagEvent struct{ Missed int }

func (LagEvent) isEvent() {}

// subscriberQueue bounds the events queued for one subscriber that does
// not read: a slow reader costs it a LagEvent, never the worker's time.
const subscriberQueue = 1024

// subscriber is one stream of Subscribe: the worker appends to queue
// without waiting, and a goroutine of its own hands the events out.
type subscriber struct {
	mu    sync.Mutex
	queue []Event
	ready chan struct{} // a token when queue is not empty
	out   chan Event
}

// push queues ev, or counts it in the LagEvent at the end of the queue
// when the queue is full.
func (s *subscriber) push(ev Event) {
	s.mu.Lock()
	switch n := len(s.queue); {
	case n < subscriberQueue:
		s.queue = append(s.queue, ev)
	default:
		if lag, ok := s.queue[n-1].(LagEvent); ok {
			s.queue[n-1] = LagEvent{Missed: lag.Missed + 1}
		} else {
			s.queue = append(s.queue, LagEvent{Missed: 1})
		}
	}
	s.mu.Unlock()
	select {
	case s.ready <- struct{}{}:
	default:
	}
}

// first returns the first event queued, if any. It stays queued, and
// counts against subscriberQueue, until it was handed out (done).
func (s *subscriber) first() (Event, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if len(s.queue) == 0 {
		return nil, false
	}
	return s.queue[0], true
}

// done removes the first event queued: it was handed out. (push changes
// only the last event of a full queue, never the first.)
func (s *subscriber) done() {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.queue[0] = nil
	s.queue = s.queue[1:]
	if len(s.queue) == 0 {
		s.queue = nil // let the array go
	}
}

// Subscribe returns a new stream of what the worker does (MessageEvent,
// StatusEvent, NetworkEvent, ChatEvent, AlertEvent), and of what Sync
// does, in the order it happened. Each caller gets its own stream: the
// full-screen UI, a printer of "recv --follow". The worker never waits for
// a reader: a stream whose reader falls behind by more than
// subscriberQueue events gets a LagEvent in place of those it missed.
//
// A stream starts with the latest NetworkEvent, if the worker has told
// one: the state of the connection when the caller subscribed. It is
// closed when ctx ends or the Client is closed; a Client without a
// Network has no worker, and its stream is closed at once.
func (c *Client) Subscribe(ctx context.Context) <-chan Event {
	s := &subscriber{ready: make(chan struct{}, 1), out: make(chan Event)}
	c.subsMu.Lock()
	defer c.subsMu.Unlock()
	if c.net == nil || c.subsClosed {
		close(s.out)
		return s.out
	}
	if c.lastNet != nil {
		s.queue = []Event{*c.lastNet}
	}
	c.subs[s] = struct{}{}
	c.subsWG.Go(func() {
		defer close(s.out)
		defer c.unsubscribe(s)
		for {
			ev, ok := s.first()
			if !ok {
				select {
				case <-s.ready:
					continue
				case <-ctx.Done():
					return
				case <-c.closing:
					return
				}
			}
			select {
			case s.out <- ev:
				s.done()
			case <-ctx.Done():
				return
			case <-c.closing:
				return
			}
		}
	})
	return s.out
}

func (c *Client) unsubscribe(s *subscriber) {
	c.subsMu.Lock()
	delete(c.subs, s)
	c.subsMu.Unlock()
}

// emit delivers ev to every subscriber, without waiting for any. ctx is
// the operation's: an event of one that was cut short is still told.
func (c *Client) emit(_ context.Context, ev Event) {
	c.subsMu.Lock()
	defer c.subsMu.Unlock()
	if ne, ok := ev.(NetworkEvent); ok {
		c.lastNet = &ne
	}
	for s := range c.subs {
		s.push(ev)
	}
}

// closeSubscribers ends every stream and waits for their goroutines.
func (c *Client) closeSubscribers() {
	c.subsMu.Lock()
	if !c.subsClosed {
		c.subsClosed = true
		close(c.closing)
	}
	c.subsMu.Unlock()
	c.subsWG.Wait()
}

// An Event is something the worker tells the user interface: one of
// MessageEvent, StatusEvent, NetworkEvent, ChatEvent, AlertEvent.
type Event interface{ isEvent() }

// MessageEvent: a message from a friend was received and stored.
type MessageEvent struct{ Entry Entry }

// StatusEvent: one of our messages changed status (Published, Delivered),
// or it was renumbered (same Seq, another N, Pending again), or it was
// added to the history as sent by another copy of our identity (Imported).
type StatusEvent struct{ Entry Entry }

// NetState is the state of the connection to the DHT.
type NetState int

const (
	Connecting NetState = iota // joining the DHT
	Online                     // the last DHT operation worked
	Offline                    // no DHT peer reachable; retrying
)

func (s NetState) String() string {
	switch s {
	case Connecting:
		return "connecting"
	case Online:
		return "online"
	case Offline:
		return "offline"
	}
	return "unknown"
}

// NetworkEvent: the connection to the DHT changed state. Err says why it
// is Offline.
type NetworkEvent struct {
	State NetState
	Err   error
}

// ChatEvent: a chat appeared, was paused or resumed, or was deleted, by
// another dhtchat process using the same database (or, for a chat that
// appeared, here); also a chat the caller uses (WatchUsed) that is paused
// when the worker first looks at it. Read the chat list again
// (Client.Chats).
type ChatEvent struct{ ID ChatID }

func (MessageEvent) isEvent() {}
func (StatusEvent) isEvent()  {}
func (NetworkEvent) isEvent() {}
func (ChatEvent) isEvent()    {}
