package tui

import (
	"errors"
	"fmt"
	"slices"
	"strings"

	tea "charm.land/bubbletea/v2"

	"github.com/dhtchat/dhtchat/chat"
)

// Chats changed elsewhere. Other dhtchat processes share the database: a
// 'dhtchat block', 'remove-friend' or 'delete-chat' in another terminal
// pauses or removes a chat under the UI, which learns it from the chat
// list (a ChatEvent, or the refresh every second). A paused chat (its
// friend blocked, or no longer a friend) is marked in the list, the
// header and a notice over its history; Enter in it keeps the draft and
// says why, and what was queued for it comes back to the draft: nothing
// is sent or retried in vain, nothing is lost. A deleted chat closes; what
// was not sent in it goes to the input history (↑ recalls it) and, if it
// was open, to the draft of no chat, with a panel that says so.

// statusWhy is what a status message is about, so that it is cleared
// when its cause is gone rather than at the next key only.
type statusWhy int

const (
	whyNone     statusWhy = iota
	whySend               // a Send of status.chat failed; retried
	whyPaused             // status.chat is paused: nothing was sent
	whyChatGone           // status.chat was deleted
)

// permanent reports whether a Send that failed with err can never work
// as things are: the chat is paused, its friend blocked, or it is gone.
// Retrying it would only fail again, forever.
func permanent(err error) bool {
	return errors.Is(err, chat.ErrPaused) || errors.Is(err, chat.ErrBlocked) || errors.Is(err, chat.ErrUnknownChat)
}

// info is chat id's entry in the list, if it is there.
func (m *model) info(id chat.ChatID) (chat.Info, bool) {
	if i := m.list.index(id); i >= 0 {
		return m.list.items[i], true
	}
	return chat.Info{}, false
}

// pausedWhy says why chat id is paused, or "" if it is not (as the list
// last read says).
func (m *model) pausedWhy(id chat.ChatID) string {
	in, ok := m.info(id)
	if !ok || !in.Paused && !in.Blocked {
		return ""
	}
	name := m.c.chats.name(id)
	_, friend := m.c.peer(id)
	switch {
	case in.Blocked && friend:
		return fmt.Sprintf("%s is blocked: 'dhtchat unblock %s' resumes the chat", name, name)
	case in.Blocked:
		return "this chat's friend is blocked: 'dhtchat unblock' resumes the chat"
	}
	return "this chat's key is no longer one of your friends' (removed?): the chat is paused until you add it back (f2 shows it)"
}

// refusePaused keeps the draft of chat id, which is paused, and says so.
// It reports whether it did.
func (m *model) refusePaused(id chat.ChatID) bool {
	why := m.pausedWhy(id)
	if why == "" {
		return false
	}
	m.status = status{text: "not sent: " + why + "; your text stays in the draft", isErr: true, chat: id, why: whyPaused}
	return true
}

// giveBack puts bodies, sent in chat id but refused for good, back at the
// start of its draft, one after the other, before what it holds now.
func (m *model) giveBack(id chat.ChatID, bodies []string) {
	if len(bodies) == 0 {
		return
	}
	d := m.in.draft(id)
	text := strings.Join(bodies, "\n")
	if old := d.Value(); old != "" {
		text += "\n" + old
	}
	d.SetValue(text)
}

// sendRefused handles a Send of chat id that failed for good (see
// permanent): its bodies, and those queued after them, go back to the
// draft, and the status says why. If the chat is gone, the list is read
// again, which closes it.
func (m *model) sendRefused(id chat.ChatID, q *sendQueue, err error) tea.Cmd {
	bodies := append(slices.Clip(q.flight), q.waiting...)
	m.c.chats.get(id).queue = nil
	m.giveBack(id, bodies)
	why, st := m.pausedWhy(id), whyPaused
	switch {
	case errors.Is(err, chat.ErrUnknownChat):
		why, st = "the chat was deleted", whyChatGone
	case why == "":
		why = "the chat is paused (its friend blocked, or no longer a friend)"
	}
	text := fmt.Sprintf("%s not sent: %s; back in the draft", plural(len(bodies), "message"), why)
	if m.quitWhenStored {
		// Quitting waited for these: it would lose them now without a
		// word. Ask again.
		m.quitWhenStored, m.quitArmed = false, true
		text += "; ctrl+c again quits without them"
	}
	m.status = status{text: text, isErr: true, chat: id, why: st}
	if st == whyChatGone {
		return m.loadChats()
	}
	return nil
}

// chatsChanged is called with the chat list as it was before the list
// just read: it clears what the status said of a chat that is paused no
// more, and checks whether the chats that left the list were deleted.
func (m *model) chatsChanged(before []chat.Info) tea.Cmd {
	if m.status.why == whyPaused && m.pausedWhy(m.status.chat) == "" {
		m.status = status{}
	}
	var gone []chat.ChatID
	for _, in := range before {
		if m.list.index(in.ID) < 0 {
			gone = append(gone, in.ID)
		}
	}
	if len(gone) == 0 || m.client == nil {
		return nil
	}
	// A list read before a chat was started may arrive after one read
	// since: the store says whether each is really gone.
	ctx, client := m.ctx, m.client
	return func() tea.Msg {
		var msg chatsGoneMsg
		for _, id := range gone {
			if _, err := client.Info(ctx, id); errors.Is(err, chat.ErrUnknownChat) {
				msg = append(msg, id)
			}
		}
		if len(msg) == 0 {
			return nil
		}
		return msg
	}
}

// chatsGoneMsg: these chats were deleted from the store.
type chatsGoneMsg []chat.ChatID

// onChatsGone closes the chats deleted elsewhere.
func (m *model) onChatsGone(ids chatsGoneMsg) tea.Cmd {
	var cmds []tea.Cmd
	for _, id := range ids {
		cmds = append(cmds, m.closeChat(id))
	}
	return tea.Batch(cmds...)
}

// closeChat forgets chat id, deleted in the store. What was not sent in
// it, its queue and its draft, goes to the input history, and if it was
// the open chat, to the draft of no chat, where Enter sends nothing.
func (m *model) closeChat(id chat.ChatID) tea.Cmd {
	if m.list.index(id) >= 0 {
		return nil // back in the list: not gone after all
	}
	name := m.c.chats.name(id)
	if name == "" {
		name = "a friend"
	}
	var unsent []string
	v := m.c.chats.get(id)
	if v.queue != nil {
		unsent = append(unsent, v.queue.bodies()...)
		v.queue = nil
	}
	if d := v.draft; d != nil && strings.TrimSpace(d.Value()) != "" {
		unsent = append(unsent, d.Value())
	}
	wasOpen := m.open == id
	if wasOpen {
		m.open = chat.ChatID{}
		m.in.switchTo(chat.ChatID{})
		m.giveBack(chat.ChatID{}, unsent)
	}
	for _, s := range unsent {
		m.in.remember(s)
	}
	delete(m.c.chats, id)
	if m.status.chat == id {
		m.status = status{}
	}
	kept := ""
	if len(unsent) > 0 {
		kept = "; what you had not sent is in the input history (↑ on an empty draft)"
		if wasOpen {
			kept = "; what you had not sent is in the input below, and ↑ recalls it in any chat"
		}
	}
	m.status = status{text: fmt.Sprintf("the chat with %s was deleted (by 'dhtchat delete-chat'?)%s", name, kept), isErr: true, chat: id, why: whyChatGone}
	if !wasOpen {
		return nil
	}
	next := "/start NAME starts a new chat."
	if len(m.list.items) > 0 {
		next = "ctrl+n / ctrl+p open your other chats; /start NAME starts a new one."
	}
	lines := []string{
		fmt.Sprintf("The chat with %s was deleted from this computer's database, by another dhtchat ('dhtchat delete-chat'). Its history is gone.", name),
		"",
	}
	if len(unsent) > 0 {
		lines = append(lines, "What you had not sent in it is in the input below (Enter sends nothing here: no chat is open), and ↑ on an empty draft recalls it in any chat.", "")
	}
	m.show(textPanel{title: "Chat deleted", lines: append(lines, next)})
	m.focus(chat.ChatID{})
	return nil
}

// pausedLabel is the word for a paused chat in the list and the header,
// or "".
func pausedLabel(in chat.Info) string {
	switch {
	case in.Blocked:
		return "blocked"
	case in.Paused:
		return "paused"
	}
	return ""
}
