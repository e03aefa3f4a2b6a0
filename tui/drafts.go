package tui

import (
	"context"
	"time"

	tea "charm.land/bubbletea/v2"

	"github.com/dhtchat/dhtchat/chat"
)

// Drafts are kept in the store (chat.Client.SetDraft), so that a
// half-typed message survives quitting, a crash or a dropped SSH
// connection: a chat's draft is read when the chat first opens and put in
// its input if that is still empty, and saved as it changes (one save in
// flight at most, so fast typing makes few writes), and at once when the
// program ends. A draft read back is
// only text in the input: nothing sends it but the user's Enter.

type (
	// draftMsg is a chat's draft as the store had it.
	draftMsg struct {
		id   chat.ChatID
		text string
	}
	// draftSavedMsg: a save of drafts is done.
	draftSavedMsg struct{ err error }
)

// drafts is what the model knows of the stored drafts.
type drafts struct {
	saved  map[chat.ChatID]string // as last read or saved, by chat read
	saving bool                   // a save is in flight
}

// loadDraft reads chat id's stored draft, once per chat.
func (m *model) loadDraft(id chat.ChatID) tea.Cmd {
	ctx, client := m.ctx, m.client
	if client == nil || id == (chat.ChatID{}) {
		return nil
	}
	if _, ok := m.drafts.saved[id]; ok {
		return nil
	}
	return func() tea.Msg {
		text, err := client.Draft(ctx, id)
		if err != nil {
			return errMsg{err}
		}
		return draftMsg{id: id, text: text}
	}
}

func (m *model) onDraft(msg draftMsg) {
	if m.drafts.saved == nil {
		m.drafts.saved = make(map[chat.ChatID]string)
	}
	if _, ok := m.drafts.saved[msg.id]; ok {
		return
	}
	m.drafts.saved[msg.id] = msg.text
	d := m.in.draft(msg.id)
	switch v := m.c.chats.get(msg.id); {
	case msg.text == "" || d.Value() == msg.text:
	case d.Value() == "":
		d.SetValue(msg.text)
		d.MoveToEnd()
	case v.discarded == "":
		// Typed while the program started: that stays, and the saved
		// draft is where Ctrl+X on an empty draft brings it back from.
		v.discarded = msg.text
		m.status = status{text: "the draft saved before is put aside: ctrl+x on an empty draft brings it back"}
	}
}

// dirtyDrafts are the drafts read from the store that changed since.
func (m *model) dirtyDrafts() map[chat.ChatID]string {
	var out map[chat.ChatID]string
	for id, saved := range m.drafts.saved {
		v := m.c.chats[id]
		if v == nil || v.draft == nil {
			continue
		}
		if text := v.draft.Value(); text != saved {
			if out == nil {
				out = make(map[chat.ChatID]string)
			}
			out[id] = text
		}
	}
	return out
}

// saveDrafts saves the drafts that changed, with one save in flight at
// most (what changes meanwhile is saved when it is done), or, when the
// program is ending, saves them now: the program may be gone before a
// command would run.
func (m *model) saveDrafts() tea.Cmd {
	if m.client == nil {
		return nil
	}
	if m.quitting {
		ctx, cancel := context.WithTimeout(context.WithoutCancel(m.ctx), 2*time.Second)
		defer cancel()
		for id, text := range m.dirtyDrafts() {
			if m.client.SetDraft(ctx, id, text) == nil {
				m.drafts.saved[id] = text
			}
		}
		return nil
	}
	if m.drafts.saving {
		return nil
	}
	dirty := m.dirtyDrafts()
	if len(dirty) == 0 {
		return nil
	}
	m.drafts.saving = true
	for id, text := range dirty {
		m.drafts.saved[id] = text
	}
	ctx, client := m.ctx, m.client
	return func() tea.Msg {
		for id, text := range dirty {
			if err := client.SetDraft(ctx, id, text); err != nil {
				return draftSavedMsg{err: err}
			}
		}
		return draftSavedMsg{}
	}
}

func (m *model) onDraftSaved(msg draftSavedMsg) {
	m.drafts.saving = false
	if msg.err != nil {
		m.fail(msg.err)
	}
}
