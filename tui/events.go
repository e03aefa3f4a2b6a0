package tui

import (
	"time"

	tea "charm.land/bubbletea/v2"

	"github.com/dhtchat/dhtchat/chat"
)

// What arrives from the engine: the worker's events (hints) and what a
// refresh or a page read in the store (the truth), applied to the chat
// list and to the views of the chats.

// onEvent applies one event of the chat worker.
func (m *model) onEvent(ev chat.Event) tea.Cmd {
	switch ev := ev.(type) {
	case chat.MessageEvent:
		e := ev.Entry
		if m.list.index(e.Chat) < 0 {
			return m.loadChats()
		}
		m.list = m.list.touch(e, m.open)
		if !e.Outgoing {
			m.c.chats.get(e.Chat).typingUntil = time.Time{} // they sent what they typed
		}
		if h := m.c.chats.hist(e.Chat); h != nil {
			h.add(e)
			if e.Chat == m.open {
				if !m.focused && !e.Outgoing {
					m.unseenHere++
				}
				return m.markSeen()
			}
		}
	case chat.StatusEvent:
		if h := m.c.chats.hist(ev.Entry.Chat); h != nil {
			h.add(ev.Entry)
		}
	case chat.NetworkEvent:
		m.net, m.netErr = ev.State, ev.Err != nil
	case chat.TypingEvent:
		return m.onTyping(ev)
	case chat.ReadEvent:
		m.onRead(ev)
	case chat.PathEvent:
		if i := m.list.index(ev.ID); i >= 0 {
			m.list.items[i].Path = ev.Path
		}
	case chat.ChatEvent, chat.LagEvent:
		// A LagEvent stands for events missed: the refresh after the
		// batch reads the open chat, and these the rest.
		return tea.Batch(m.loadChats(), m.loadFriends())
	case chat.AlertEvent:
		name := "?"
		if i := m.list.index(ev.Alert.Chat); i >= 0 {
			name = m.nameOf(m.list.items[i].Peer)
		}
		m.status = status{text: "with " + name + ": " + ev.Alert.String(), isErr: true}
		m.addAlert(ev.Alert)
		m.c.chats.get(ev.Alert.Chat).alertsLoading = true
		return m.loadAlerts(ev.Alert.Chat)
	}
	return nil
}

// onRefreshed applies what a refresh read in the store: the chat list,
// and the entries and statuses of the chat that was open, merged by Seq
// with what events brought, so that nothing shows twice. The draft, the
// cursor and the viewport stay as they are.
func (m *model) onRefreshed(msg refreshedMsg) tea.Cmd {
	m.refreshing = false
	cmd := m.applyRefresh(msg)
	if m.refreshAgain {
		m.refreshAgain = false
		cmd = tea.Batch(cmd, m.refresh())
	}
	return cmd
}

func (m *model) applyRefresh(msg refreshedMsg) tea.Cmd {
	if msg.friendsOK {
		m.friends = msg.friends
		m.refreshNames()
	}
	if msg.err != nil {
		if m.ctx.Err() == nil {
			m.fail(msg.err)
		}
		return nil
	}
	var cmds []tea.Cmd
	// Before the first list, the explicit load decides which chat opens.
	if m.listed {
		known := make(map[chat.ChatID]bool, len(m.list.items))
		for _, in := range m.list.items {
			known[in.ID] = true
		}
		cmds = append(cmds, m.onChats(chatsMsg(msg.chats)))
		for _, in := range msg.chats {
			if !known[in.ID] {
				// A chat from another process, perhaps with a friend
				// added there too.
				cmds = append(cmds, m.loadFriends())
				break
			}
		}
	}
	h := m.c.chats.hist(msg.id)
	// A page installed since the refresh began may end before since: the
	// entries read would leave a gap. The next refresh reads from the page.
	if h == nil || !h.loaded || msg.since > h.syncedSeq {
		return tea.Batch(cmds...)
	}
	for _, e := range msg.entries {
		h.add(e)
	}
	if n := len(msg.entries); n > 0 {
		h.syncedSeq = max(h.syncedSeq, msg.entries[n-1].Seq)
	}
	if msg.outbox != nil {
		h.applyOutbox(*msg.outbox)
	}
	if msg.id == m.open && !h.loading {
		cmds = append(cmds, m.markSeen())
	}
	return tea.Batch(cmds...)
}

func (m *model) onPage(msg pageMsg) tea.Cmd {
	h := m.c.chats.hist(msg.id)
	if h == nil {
		return nil
	}
	if msg.older {
		h.prependPage(msg.entries)
		return nil
	}
	h.setPage(msg.entries, msg.readUpTo)
	if m.client != nil {
		v := m.c.chats.get(msg.id)
		v.friendRead = max(v.friendRead, m.client.FriendRead(msg.id))
	}
	if msg.long {
		h.hasOlder = msg.more
	}
	if msg.id == m.open {
		l := m.layout()
		h.toUnread(m.c, l.histH, l.convW)
		return m.markSeen()
	}
	return nil
}
