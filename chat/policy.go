package chat

import "time"

// PollPolicy says how often the worker reads the friend's records of each
// chat. On the public DHT a read is a lookup across the network that takes
// seconds, so the policy is adaptive: fast for the chat on screen, slower
// for chats active lately, slow for idle ones, with exponential backoff
// after errors.
type PollPolicy struct {
	Focused      time.Duration // the chat on screen (Client.Focus)
	Recent       time.Duration // chats with a message within RecentWindow
	RecentWindow time.Duration
	Idle         time.Duration // every other chat
	MaxBackoff   time.Duration // the longest wait after repeated errors
	// Republish is how often a chat's records are written again even if
	// nothing changed: DHT servers drop records 48 h after they got them.
	Republish time.Duration
	// Parallel bounds the DHT operations in flight at once.
	Parallel int
	// Reload is how often the worker looks in the store for what other
	// processes sharing it did: chats they created, messages they queued.
	Reload time.Duration
	// OwnCheck is how often, at most, a publish first reads our own slot
	// 0 back, to notice another copy of our identity writing the chat
	// (AlertSecondWriter). It is also read back before the first publish
	// and before every acknowledgement is applied.
	OwnCheck time.Duration
}

// DefaultPollPolicy is polite on the public DHT: at most one lookup per
// second for the chat on screen and one a minute for an idle chat, so that
// 50 idle chats cost 50 lookups a minute.
func DefaultPollPolicy() PollPolicy {
	return PollPolicy{
		Focused:      time.Second,
		Recent:       10 * time.Second,
		RecentWindow: 10 * time.Minute,
		Idle:         time.Minute,
		MaxBackoff:   5 * time.Minute,
		Republish:    4 * time.Hour,
		Parallel:     4,
		Reload:       10 * time.Second,
		OwnCheck:     5 * time.Minute,
	}
}

// withDefaults fills the zero fields of p from DefaultPollPolicy.
func (p PollPolicy) withDefaults() PollPolicy {
	d := DefaultPollPolicy()
	set := func(v *time.Duration, def time.Duration) {
		if *v <= 0 {
			*v = def
		}
	}
	set(&p.Focused, d.Focused)
	set(&p.Recent, d.Recent)
	set(&p.RecentWindow, d.RecentWindow)
	set(&p.Idle, d.Idle)
	set(&p.MaxBackoff, d.MaxBackoff)
	set(&p.Republish, d.Republish)
	set(&p.Reload, d.Reload)
	set(&p.OwnCheck, d.OwnCheck)
	if p.Parallel <= 0 {
		p.Parallel = d.Parallel
	}
	return p
}
