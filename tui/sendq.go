package tui

import (
	"bytes"
	"context"
	"fmt"
	"maps"
	"slices"
	"sync"
	"time"

	tea "charm.land/bubbletea/v2"

	"github.com/dhtchat/dhtchat/chat"
	"github.com/dhtchat/dhtchat/internal/userr"
)

// Sending. Enter takes the draft as it is at that instant, empties it and
// appends the text to the chat's send queue, so that the user can type the
// next message at once. One Send per chat is in flight at a time, with all
// that was queued when it started (Client.Send numbers its bodies in order,
// in one transaction): Bubble Tea runs commands concurrently, so the order
// comes from here, never from their timing. What is queued shows at once
// at the bottom of the history, as "sending…", until the store has it.

// maxSendBatch bounds the bodies of one Send.
const maxSendBatch = 500

// sendQueue is what the user sent in one chat that the store does not
// hold yet, oldest first: the bodies of the Send in flight, then those
// waiting for it.
type sendQueue struct {
	flight  []string // handed to the Send in flight; nil when none is
	batch   uint64   // that Send's number (see sendLedger)
	waiting []string
	// err is why the last Send failed, nil if it did not: its bodies wait
	// again, first, and a retry is due after a backoff.
	err     error
	retries int
}

func (q *sendQueue) len() int { return len(q.flight) + len(q.waiting) }

// bodies are the queue's bodies in order.
func (q *sendQueue) bodies() []string {
	return append(slices.Clip(q.flight), q.waiting...)
}

// Retries after a failed Send: after 1 s, doubling to at most 30 s.
const (
	retryFirst = time.Second
	retryMax   = 30 * time.Second
)

// retrySendMsg: time to try chat id's queue again.
type retrySendMsg struct{ id chat.ChatID }

// enqueue appends text to chat id's queue and starts a Send if none is in
// flight.
func (m *model) enqueue(id chat.ChatID, text string) tea.Cmd {
	v := m.c.chats.get(id)
	if v.queue == nil {
		v.queue = &sendQueue{}
	}
	q := v.queue
	q.waiting = append(q.waiting, text)
	if h := v.hist; h != nil {
		h.follow, h.newBelow = true, 0
		h.toBottom()
	}
	return m.dispatch(id)
}

// dispatch starts a Send of what waits in chat id's queue, unless one is
// in flight.
func (m *model) dispatch(id chat.ChatID) tea.Cmd {
	q := m.c.chats.queue(id)
	if q == nil || q.flight != nil || len(q.waiting) == 0 {
		return nil
	}
	n := min(len(q.waiting), maxSendBatch)
	q.flight, q.waiting = slices.Clip(q.waiting[:n]), q.waiting[n:]
	m.batches++
	q.batch = m.batches
	return m.send(id, q.batch, q.flight)
}

// onSent: the store holds the Send's bodies; show them as entries, and
// send what queued meanwhile.
func (m *model) onSent(msg sentMsg) tea.Cmd {
	q := m.c.chats.queue(msg.id)
	if q == nil || q.flight == nil || q.batch != msg.batch {
		return nil
	}
	q.flight, q.err, q.retries = nil, nil, 0
	if m.status.why == whySend && m.status.chat == msg.id {
		m.status = status{} // stored after all
	}
	h := m.c.chats.hist(msg.id)
	for _, e := range msg.entries {
		if h != nil {
			h.add(e)
		}
		m.list = m.list.touch(e, m.open)
	}
	if h != nil && h.follow {
		h.toBottom()
	}
	if q.len() == 0 {
		m.c.chats[msg.id].queue = nil
		if m.quitWhenStored && m.unstored() == 0 {
			m.quitting = true
			return tea.Quit
		}
		return nil
	}
	return m.dispatch(msg.id)
}

// onSendFailed: the store refused the Send. Nothing is lost: if the chat
// is paused or gone, its bodies go back to the draft (see sendRefused);
// else (a database error) they wait again, first, and are tried again
// after a backoff, or at the next Enter in the chat.
func (m *model) onSendFailed(msg sendFailedMsg) tea.Cmd {
	q := m.c.chats.queue(msg.id)
	if q == nil || q.flight == nil || q.batch != msg.batch {
		return nil
	}
	if permanent(msg.err) {
		return m.sendRefused(msg.id, q, msg.err)
	}
	q.waiting = append(q.flight, q.waiting...)
	q.flight, q.err = nil, msg.err
	wait := min(retryFirst<<min(q.retries, 5), retryMax)
	q.retries++
	n := m.unstored()
	text := fmt.Sprintf("%s not stored: %s; trying again in %v", plural(q.len(), "message"), userr.Line(msg.err), wait)
	if m.quitWhenStored {
		// Do not quit with them in the air: say so, and let a second
		// Ctrl+C leave anyway (Run tries to store them once more).
		m.quitWhenStored, m.quitArmed = false, true
		text = fmt.Sprintf("%s not stored: %s; ctrl+c again quits anyway", plural(n, "message"), userr.Line(msg.err))
	}
	m.status = status{text: text, isErr: true, chat: msg.id, why: whySend}
	ctx, id := m.ctx, msg.id
	return func() tea.Msg {
		t := time.NewTimer(wait)
		defer t.Stop()
		select {
		case <-t.C:
			return retrySendMsg{id}
		case <-ctx.Done():
			return nil
		}
	}
}

// unstored is the number of bodies sent that the store does not hold yet,
// over all chats.
func (m *model) unstored() int {
	n := 0
	for _, v := range m.c.chats {
		if v.queue != nil {
			n += v.queue.len()
		}
	}
	return n
}

// plural is "1 message", "2 messages".
func plural(n int, what string) string {
	if n == 1 {
		return "1 " + what
	}
	return fmt.Sprintf("%d %ss", n, what)
}

// storeTimeout bounds a Send that outlives the program (the store's own
// busy timeout should end it long before).
const storeTimeout = 30 * time.Second

// send stores bodies as messages of chat id; the worker publishes them.
// The Send runs to its end even if the program ends meanwhile: the user
// pressed Enter while it ran, so the text is theirs to keep.
func (m *model) send(id chat.ChatID, batch uint64, bodies []string) tea.Cmd {
	ctx, client, ledger := m.ctx, m.client, m.ledger
	if client == nil {
		return nil
	}
	return func() tea.Msg {
		if !ledger.begin() {
			return nil // the program ended before this ran: Run stores them
		}
		sctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), storeTimeout)
		defer cancel()
		es, err := client.Send(sctx, id, bodies...)
		ledger.end(batch, err == nil)
		if err != nil {
			return sendFailedMsg{id: id, batch: batch, err: err}
		}
		return sentMsg{id: id, batch: batch, entries: es}
	}
}

// sendLedger lets Run store, after the program ended, what the user sent
// that the store does not hold yet, exactly once: it knows which Sends
// started, waits for those, and remembers which of them succeeded. A nil
// ledger (tests without Run) records nothing.
type sendLedger struct {
	mu     sync.Mutex
	closed bool
	stored map[uint64]bool
	wg     sync.WaitGroup
}

func newSendLedger() *sendLedger { return &sendLedger{stored: make(map[uint64]bool)} }

// begin reports whether a Send may start: not once the ledger is closed.
func (l *sendLedger) begin() bool {
	if l == nil {
		return true
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.closed {
		return false
	}
	l.wg.Add(1)
	return true
}

// end records that the Send of batch ended, stored or not.
func (l *sendLedger) end(batch uint64, stored bool) {
	if l == nil {
		return
	}
	l.mu.Lock()
	if stored {
		l.stored[batch] = true
	}
	l.mu.Unlock()
	l.wg.Done()
}

// close lets no Send start any more and waits for those that did.
func (l *sendLedger) close() {
	l.mu.Lock()
	l.closed = true
	l.mu.Unlock()
	l.wg.Wait()
}

// NotStoredError is returned by Run when messages the user sent could not
// be stored before it ended. Bodies holds their text, so that the caller
// can give it back.
type NotStoredError struct {
	Bodies []string
	Err    error
}

func (e *NotStoredError) Error() string {
	return fmt.Sprintf("tui: %s not stored: %v", plural(len(e.Bodies), "message"), e.Err)
}

func (e *NotStoredError) Unwrap() error { return e.Err }

// storeRest stores, after the program ended, what its queues still held:
// Sends that never ran or failed, and bodies that waited (a quit by
// signal, or by a second Ctrl+C while a Send failed).
func (m *model) storeRest(ctx context.Context) error {
	m.ledger.close()
	var failed NotStoredError
	for _, id := range slices.SortedFunc(maps.Keys(m.c.chats), compareIDs) {
		q := m.c.chats[id].queue
		if q == nil {
			continue
		}
		bodies := q.waiting
		if q.flight != nil && !m.ledger.stored[q.batch] {
			bodies = q.bodies()
		}
		if len(bodies) == 0 {
			continue
		}
		if _, err := m.client.Send(ctx, id, bodies...); err != nil {
			failed.Bodies = append(failed.Bodies, bodies...)
			failed.Err = err
		}
	}
	if failed.Err != nil {
		return &failed
	}
	return nil
}

func compareIDs(a, b chat.ChatID) int { return bytes.Compare(a[:], b[:]) }
