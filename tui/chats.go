package tui

import (
	"charm.land/bubbles/v2/textarea"
	tea "charm.land/bubbletea/v2"
	"time"

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
	// discarded is the draft Ctrl+X emptied, to bring back (see discard).
	discarded string

	// alerts are the alerts read of the chat; seen holds those the user
	// looked at in the info view in this session (the store learns it
	// too, a moment later), nil if none; alertsLoading: a read is in
	// flight (see alerts.go).
	alerts        []chat.Alert
	seen          map[alertKey]bool
	seenAt        time.Time // when seen was last filled
	alertsLoading bool

	// typingUntil is when the friend's typing indicator expires (zero:
	// not typing), friendRead how far the friend read our messages
	// (signals.go).
	typingUntil time.Time
	friendRead  uint64
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

// Opening chats (cycling, clicking, a chat just started or joined), and
// the chat list as it arrives, with the names its chats are shown by.

// cycle opens the chat delta places away in the list.
func (m *model) cycle(delta int) tea.Cmd {
	id, ok := m.list.next(m.open, delta)
	if !ok {
		m.status = status{text: "no chats yet: /start NAME starts one", isErr: true}
		return nil
	}
	return m.openChat(id)
}

// openChat puts chat id on screen, with its own draft, loading its latest
// page unless it is loaded and has nothing unread.
func (m *model) openChat(id chat.ChatID) tea.Cmd {
	if id == m.open && m.c.chats.hist(id) != nil {
		return nil
	}
	m.open = id
	m.in.switchTo(id)
	m.closePanel()
	if id == m.newChat && m.newChatWith != "" {
		if k, ok := m.c.chats.key(id); ok {
			m.show(newChatPanel(m.newChatWith, k))
			m.newChat, m.newChatWith = chat.ChatID{}, ""
		}
	}
	m.focus(id)
	cmds := []tea.Cmd{m.wantAlerts(), m.loadDraft(id)}
	v := m.c.chats.get(id)
	h := v.hist
	unread := 0
	if i := m.list.index(id); i >= 0 {
		unread = m.list.items[i].Unread
	}
	if h == nil || unread > 0 {
		if h == nil {
			h = newHistory(id)
			v.hist = h
		}
		h.loading = true
		cmds = append(cmds, m.loadPage(id))
	} else {
		// Loaded earlier: catch up with what was stored since.
		cmds = append(cmds, m.refresh())
	}
	return tea.Batch(cmds...)
}

// onClick opens the chat clicked in the list.
func (m *model) onClick(c tea.MouseClickMsg) tea.Cmd {
	l := m.layout()
	if l.collapsed || c.X >= l.listW || c.Y < 1 {
		return nil
	}
	i := m.list.top + (c.Y-1)/2
	if i < len(m.list.items) {
		return m.openChat(m.list.items[i].ID)
	}
	return nil
}

// scroll passes a scrolling key or wheel event to the history, and loads
// older messages or marks messages read as the view moves.
func (m *model) scroll(msg tea.Msg) tea.Cmd {
	h := m.hist()
	l := m.layout()
	if m.panel != nil {
		m.scrollPanel(msg, l)
		return nil
	}
	if h == nil {
		return nil
	}
	var cmds []tea.Cmd
	if h.handle(m.c, msg, l.histH, l.convW) {
		h.loading = true
		cmds = append(cmds, m.loadOlder(h.id, h.entries[0].Seq))
	}
	cmds = append(cmds, m.markSeen())
	return tea.Batch(cmds...)
}

// markSeen marks the open chat read up to its latest message if the user
// is looking at it: it is at the bottom of the history, no panel hides
// the history, and the terminal has the focus.
func (m *model) markSeen() tea.Cmd {
	h := m.hist()
	// unreadTop: the view is about to go to the unread marker (see
	// toUnread), which the user has not seen yet.
	if h == nil || !h.loaded || !h.follow || h.unreadTop || m.panel != nil || !m.focused {
		return nil
	}
	n := h.lastReceived()
	m.list = m.list.markRead(h.id)
	if n <= h.readUpTo {
		return nil
	}
	h.readUpTo = n
	return m.markRead(h.id, n)
}

// onChats applies the chat list read, and opens a chat if none is open
// yet.
func (m *model) onChats(msg chatsMsg) tea.Cmd {
	before := m.list.items
	h := m.hist()
	m.list = m.list.set(msg, m.open, h != nil && h.loaded && h.follow && !h.unreadTop)
	m.refreshNames()
	for _, in := range msg {
		m.c.chats.setKey(in.ID, in.Key)
	}
	first := !m.listed
	m.listed = true
	changed := tea.Batch(m.chatsChanged(before), m.wantAlerts())
	// A chat opens by itself at the start, or when the first one comes;
	// not after the one open was deleted: what is typed then must not go
	// to someone else.
	if m.open != (chat.ChatID{}) || len(m.list.items) == 0 || !first && len(before) > 0 {
		return changed
	}
	want := m.wantOpen
	if !first || m.list.index(want) < 0 {
		want = m.list.items[0].ID
	}
	return tea.Batch(changed, m.openChat(want))
}

// refreshNames recomputes the name shown for each chat's friend, and the
// friend (for the trust state).
func (m *model) refreshNames() {
	per := make(map[keyring.PublicKey]int, len(m.list.items))
	for _, in := range m.list.items {
		per[in.Peer]++
	}
	for _, in := range m.list.items {
		v := m.c.chats.get(in.ID)
		v.tag = ""
		if v.hasKey && per[in.Peer] > 1 {
			v.tag = chatTag(v.key)
		}
		v.name = m.nameOf(in.Peer)
		v.friend, v.isFriend = m.friendByKey(in.Peer)
	}
}

// chatTag is the end of a chat key, to tell chats with one friend apart.
func chatTag(k wire.ChatKey) string {
	s := k.String()
	return "…" + s[max(len(s)-4, 0):]
}

// nameOf is the friend name of a key, or a stand-in for a stranger.
func (m *model) nameOf(pk keyring.PublicKey) string {
	if f, ok := m.friendByKey(pk); ok {
		return f.Name
	}
	fp := pk.Fingerprint()
	return "? " + fp[:4]
}

// onChatReady opens the chat just started or joined at once, without
// waiting for the chat list (which a load in flight may deliver without
// it): a started chat with the panel of its key, which the user must give
// their friend.
func (m *model) onChatReady(msg chatReadyMsg) tea.Cmd {
	m.c.chats.setKey(msg.id, msg.key)
	if v := m.c.chats.get(msg.id); v.name == "" {
		v.name = msg.name
	}
	if msg.started {
		m.newChat, m.newChatWith = msg.id, msg.name
	} else {
		m.status = status{text: "joined the chat with " + msg.name}
	}
	if msg.note != "" {
		m.status = status{text: msg.note}
	}
	var open tea.Cmd
	if msg.id == m.open {
		m.closePanel()
		if msg.started {
			m.show(newChatPanel(msg.name, msg.key))
			m.newChat, m.newChatWith = chat.ChatID{}, ""
		}
	} else {
		open = m.openChat(msg.id)
	}
	return tea.Batch(open, m.loadChats(), m.loadFriends())
}
