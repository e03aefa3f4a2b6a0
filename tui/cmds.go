package tui

import (
	"context"
	"errors"
	"slices"
	"time"

	tea "charm.land/bubbletea/v2"

	"github.com/dhtchat/dhtchat/chat"
	"github.com/dhtchat/dhtchat/chat/wire"
	"github.com/dhtchat/dhtchat/keyring"
)

// The messages that commands send back to Update.
type (
	eventsMsg       []chat.Event // one or more events of the worker, in order
	eventsClosedMsg struct{}     // the worker stopped
	chatsMsg        []chat.Info
	friendsMsg      []keyring.Friend
	pageMsg         struct {
		id       chat.ChatID
		entries  []chat.Entry
		readUpTo uint64
		older    bool // a page before those loaded, not the latest
		// long: the latest pages back to the first unread message, which
		// was older than one page; more: the store holds entries before.
		long, more bool
	}
	sentMsg struct { // a Send of the queue (see sendq.go) stored its bodies
		id      chat.ChatID
		batch   uint64
		entries []chat.Entry
	}
	sendFailedMsg struct {
		id    chat.ChatID
		batch uint64
		err   error
	}
	chatReadyMsg struct {
		id      chat.ChatID
		key     wire.ChatKey
		name    string
		started bool   // by us (/start), else joined (/respond) or opened
		note    string // for the status line, if set
	}
	friendAddedMsg keyring.Friend
	safetyMsg      struct {
		peer   keyring.PublicKey
		number string
	}
	verifiedMsg struct {
		name       string
		verified   bool
		wasChanged bool // the friend had a key-change warning
	}
	refreshTickMsg struct{} // time to read the store again
	refreshedMsg   struct {
		chats []chat.Info
		// The open chat when the refresh started, the syncedSeq of its
		// history then, and the entries read: those after since, and the
		// latest few before it (for their status).
		id      chat.ChatID
		since   int64
		entries []chat.Entry
		outbox  *chat.Outbox // when shown messages of ours are older than entries
		err     error
		// The friends, read again too: the keyring changes in other
		// terminals ('dhtchat add-friend'). friendsOK: they were read.
		friends   []keyring.Friend
		friendsOK bool
	}
	// retryMsg runs a command line again once the friends were read
	// again, for a command naming a friend not in the list loaded.
	retryMsg struct {
		line      string
		friends   []keyring.Friend
		friendsOK bool
	}
	errMsg         struct{ err error }
	chatsFailedMsg struct{ err error } // the chat list could not be read
	noteMsg        string
)

// maxBatch bounds how many queued events one delivery carries.
const maxBatch = 64

// listen is the one way events of the chat worker enter the program: it
// waits for the next event, takes whatever else is already queued, and
// Update re-arms it after handling them (the pattern of Bubble Tea's
// examples/realtime). So events arrive in order, one delivery at a time.
func listen(events <-chan chat.Event) tea.Cmd {
	if events == nil {
		return nil
	}
	return func() tea.Msg {
		ev, ok := <-events
		if !ok {
			return eventsClosedMsg{}
		}
		batch := eventsMsg{ev}
		for len(batch) < maxBatch {
			select {
			case ev, ok := <-events:
				if !ok {
					return batch // the next listen reports the close
				}
				batch = append(batch, ev)
			default:
				return batch
			}
		}
		return batch
	}
}

// refreshInterval is how often the UI reads the store, which other
// dhtchat processes on the same database write (a "dhtchat send" in a
// script, a "dhtchat recv"): the worker's events are only hints.
const refreshInterval = time.Second

// refreshSmall is how many of the latest entries a refresh reads first:
// when nothing changed, that one small query is all it costs the chat.
const refreshSmall = 20

// tick asks for a refresh after m.refreshEvery; Update re-arms it, like
// listen. It is a timer that ends with the program's context, so no
// command outlives the program by a tick.
func (m *model) tick() tea.Cmd {
	if m.client == nil || m.refreshEvery <= 0 {
		return nil
	}
	ctx, d := m.ctx, m.refreshEvery
	return func() tea.Msg {
		t := time.NewTimer(d)
		defer t.Stop()
		select {
		case <-t.C:
			return refreshTickMsg{}
		case <-ctx.Done():
			return nil
		}
	}
}

// refresh reads the store: the chat list (unread counts, new chats, last
// messages) and what the open chat's history lacks. One refresh is in
// flight at a time; asking during one runs another after it.
func (m *model) refresh() tea.Cmd {
	if m.client == nil {
		return nil
	}
	if m.refreshing {
		m.refreshAgain = true
		return nil
	}
	m.refreshing = true
	ctx, client, book := m.ctx, m.client, m.book
	var id chat.ChatID
	var since, unacked int64
	if h := m.hist(); h != nil && h.loaded {
		id, since, unacked = h.id, h.syncedSeq, h.oldestUnacked()
	}
	return func() tea.Msg {
		msg := refreshedMsg{id: id, since: since}
		if book != nil {
			// Cheap when the keyring did not change (see FriendBook.List).
			fs, err := book.List()
			msg.friends, msg.friendsOK = fs, err == nil
		}
		msg.chats, msg.err = client.Chats(ctx)
		if msg.err != nil || id == (chat.ChatID{}) {
			return msg
		}
		msg.entries, msg.outbox, msg.err = catchUp(ctx, client, id, since, unacked)
		if errors.Is(msg.err, chat.ErrUnknownChat) {
			// Deleted meanwhile: the list read first says so, and the
			// chat closes (see chatsChanged).
			msg.entries, msg.outbox, msg.err = nil, nil, nil
		}
		return msg
	}
}

// catchUp reads the entries of chat id after Seq since, from the end, a
// small page first and whole pages if there are more; and the outbox
// counters if a message of ours that may have changed status (Seq
// unacked) is older than what it read.
func catchUp(ctx context.Context, client *chat.Client, id chat.ChatID, since, unacked int64) ([]chat.Entry, *chat.Outbox, error) {
	es, err := client.History(ctx, id, 0, refreshSmall)
	if err != nil {
		return nil, nil, err
	}
	for page, limit := es, refreshSmall; len(page) == limit && page[0].Seq > since; {
		limit = pageSize
		if page, err = client.History(ctx, id, page[0].Seq, limit); err != nil {
			return nil, nil, err
		}
		es = append(slices.Clip(page), es...)
	}
	if unacked == 0 || (len(es) > 0 && es[0].Seq <= unacked) {
		return es, nil, nil
	}
	o, err := client.Outbox(ctx, id)
	if err != nil {
		return nil, nil, err
	}
	return es, &o, nil
}

func (m *model) loadChats() tea.Cmd {
	ctx, client := m.ctx, m.client
	if client == nil {
		return nil
	}
	return func() tea.Msg {
		infos, err := client.Chats(ctx)
		if err != nil {
			return chatsFailedMsg{err}
		}
		return chatsMsg(infos)
	}
}

func (m *model) loadFriends() tea.Cmd {
	book := m.book
	if book == nil {
		return nil
	}
	return func() tea.Msg {
		fs, err := book.List()
		if err != nil {
			return errMsg{err}
		}
		return friendsMsg(fs)
	}
}

// loadPage loads the latest page of chat id and how far it was read.
func (m *model) loadPage(id chat.ChatID) tea.Cmd {
	ctx, client := m.ctx, m.client
	if client == nil {
		return nil
	}
	return func() tea.Msg {
		n, err := client.ReadUpTo(ctx, id)
		if err != nil {
			return errMsg{err}
		}
		es, err := client.History(ctx, id, 0, pageSize)
		if err != nil {
			return errMsg{err}
		}
		msg := pageMsg{id: id, entries: es, readUpTo: n}
		// More than a page unread: the history back to the first unread
		// message, so that the unread marker is above it.
		first, err := client.Incoming(ctx, id, n, 1)
		if err != nil {
			return errMsg{err}
		}
		if len(first) == 1 && len(es) == pageSize && first[0].Seq < es[0].Seq {
			msg.long, msg.more = true, true
			for len(msg.entries) < maxUnreadLoaded && msg.entries[0].Seq > first[0].Seq {
				page, err := client.History(ctx, id, msg.entries[0].Seq, pageSize)
				if err != nil {
					return errMsg{err}
				}
				msg.entries = append(page, msg.entries...)
				if len(page) < pageSize {
					msg.more = false
					break
				}
			}
		}
		return msg
	}
}

// maxUnreadLoaded bounds what opening a chat loads to show the first
// unread message: past it, the marker is where scrolling up finds it.
const maxUnreadLoaded = 20_000

// loadOlder loads the page before entry seq.
func (m *model) loadOlder(id chat.ChatID, before int64) tea.Cmd {
	ctx, client := m.ctx, m.client
	if client == nil {
		return nil
	}
	return func() tea.Msg {
		es, err := client.History(ctx, id, before, pageSize)
		if err != nil {
			return errMsg{err}
		}
		return pageMsg{id: id, entries: es, older: true}
	}
}

// focus tells the worker which chat is on screen, to poll it fast. It is
// called in Update, not from a command: commands run concurrently, and two
// quick switches would reach the worker in either order. Client.Focus
// takes a lock held only briefly and never blocks.
func (m *model) focus(id chat.ChatID) {
	if m.setFocus != nil {
		m.setFocus(id)
	}
}

func (m *model) markRead(id chat.ChatID, n uint64) tea.Cmd {
	ctx, client := m.ctx, m.client
	if client == nil {
		return nil
	}
	return func() tea.Msg {
		if err := client.MarkRead(ctx, id, n); err != nil {
			return errMsg{err}
		}
		return nil
	}
}
