package tui

import (
	"strings"

	"charm.land/bubbles/v2/key"
	"charm.land/bubbles/v2/textarea"
	tea "charm.land/bubbletea/v2"
	"charm.land/lipgloss/v2"

	"github.com/dhtchat/dhtchat/chat"
)

// maxInputRows is the most rows the input grows to as the draft gets long.
const maxInputRows = 6

// input is the message being written: one draft (a textarea, with its own
// cursor) per chat, kept in the chat's view while the user switches
// chats, and the history of what was sent, recalled with Up and Down on
// an empty draft. Nothing but the user's own keys and pastes reaches it.
type input struct {
	chats chatViews // whose drafts it edits (the model's: see chatViews)
	cur   chat.ChatID
	width int
	rows  int // the most rows it may take

	sent     []string // bodies sent, oldest first
	browse   int      // index into sent while recalling; len(sent) when not
	recalled string   // the text recalled, to notice edits

	comp *completion // the round of Tab going on, if any (see complete.go)
}

func newInput(chats chatViews) input {
	return input{chats: chats, width: 40, rows: maxInputRows}
}

// unsent reports whether a draft of any chat holds more than spaces.
func (in *input) unsent() bool {
	for _, v := range in.chats {
		if v.draft != nil && strings.TrimSpace(v.draft.Value()) != "" {
			return true
		}
	}
	return false
}

// draft returns the draft of chat id, creating it.
func (in *input) draft(id chat.ChatID) *textarea.Model {
	v := in.chats.get(id)
	if v.draft == nil {
		d := newDraft()
		d.MaxHeight = in.rows
		d.SetWidth(in.width)
		v.draft = &d
	}
	return v.draft
}

func newDraft() textarea.Model {
	t := textarea.New()
	t.Prompt = "> "
	t.ShowLineNumbers = false
	t.Placeholder = "Write a message; /help for commands"
	t.DynamicHeight = true
	t.MinHeight = 1
	// Without this, MaxHeight would also cap the number of lines one can
	// type; it only caps the rows shown.
	t.MaxContentHeight = 1 << 20
	t.CharLimit = 0
	t.SetVirtualCursor(false)
	st := textarea.Styles{}
	plain := lipgloss.NewStyle()
	st.Focused = textarea.StyleState{Base: plain, Text: plain, Prompt: plain.Bold(true), Placeholder: plain.Faint(true), CursorLine: plain, EndOfBuffer: plain}
	st.Blurred = st.Focused
	st.Cursor = textarea.CursorStyle{Shape: tea.CursorBar, Blink: true}
	t.SetStyles(st)
	km := textarea.DefaultKeyMap()
	// The top model owns these keys: Enter sends, Ctrl+N/P switch chats,
	// PgUp/PgDn scroll the history; Ctrl+V would read the local clipboard,
	// which over SSH is the wrong machine (terminals paste with bracketed
	// paste anyway).
	km.InsertNewline = key.NewBinding(key.WithKeys("alt+enter", "shift+enter", "ctrl+j"))
	km.LineNext = key.NewBinding(key.WithKeys("down"))
	km.LinePrevious = key.NewBinding(key.WithKeys("up"))
	km.PageUp = key.NewBinding(key.WithDisabled())
	km.PageDown = key.NewBinding(key.WithDisabled())
	km.Paste = key.NewBinding(key.WithDisabled())
	t.KeyMap = km
	t.Focus()
	return t
}

// setSize sets the width of every draft and the rows the input may take.
func (in *input) setSize(width, rows int) {
	in.width, in.rows = width, max(rows, 1)
	for _, v := range in.chats {
		if d := v.draft; d != nil {
			d.MaxHeight = in.rows
			d.SetWidth(width)
		}
	}
}

// switchTo makes chat id's draft the one being edited.
func (in *input) switchTo(id chat.ChatID) {
	if v := in.chats[in.cur]; v != nil && v.draft != nil {
		v.draft.Blur()
	}
	in.cur = id
	in.draft(id).Focus()
	in.browse = len(in.sent)
}

// value is the current draft's text.
func (in *input) value() string { return in.draft(in.cur).Value() }

// clear empties the draft of chat id.
func (in *input) clear(id chat.ChatID) {
	in.draft(id).Reset()
	if id == in.cur {
		in.browse = len(in.sent)
	}
}

// discard is Ctrl+X: it empties the draft, keeping it, or, on an empty
// draft, brings back the one it kept; each chat keeps its own.
func (m *model) discard() tea.Cmd {
	v := m.c.chats.get(m.in.cur)
	d := m.in.draft(m.in.cur)
	switch {
	case strings.TrimSpace(d.Value()) != "":
		v.discarded = d.Value()
		m.in.clear(m.in.cur)
		m.status = status{text: "draft discarded; ctrl+x brings it back"}
	case v.discarded != "":
		d.SetValue(v.discarded)
		v.discarded = ""
		m.status = status{text: "draft back"}
	default:
		m.status = status{text: "no draft to discard or bring back", isErr: true}
	}
	return nil
}

// remember adds a sent body to the input history.
func (in *input) remember(body string) {
	if n := len(in.sent); n == 0 || in.sent[n-1] != body {
		in.sent = append(in.sent, body)
	}
	if len(in.sent) > 500 {
		in.sent = in.sent[len(in.sent)-500:]
	}
	in.browse = len(in.sent)
}

// update handles a key or paste for the current draft.
func (in input) update(c *common, msg tea.Msg) (input, tea.Cmd) {
	d := in.draft(in.cur)
	if k, ok := msg.(tea.KeyPressMsg); ok {
		browsing := in.browse < len(in.sent) && d.Value() == in.recalled
		switch {
		case key.Matches(k, c.keys.HistPrev) && (d.Value() == "" || browsing) && in.browse > 0:
			in.browse--
			in.recall(d)
			return in, nil
		case key.Matches(k, c.keys.HistNext) && browsing:
			in.browse++
			if in.browse == len(in.sent) {
				d.Reset()
				return in, nil
			}
			in.recall(d)
			return in, nil
		}
	}
	nd, cmd := d.Update(msg)
	*d = nd
	return in, cmd
}

func (in *input) recall(d *textarea.Model) {
	in.recalled = in.sent[in.browse]
	d.SetValue(in.recalled)
}

// insert adds text at the cursor, in place of the selection if any (a
// paste).
func (in *input) insert(s string) {
	if s != "" {
		d := in.draft(in.cur)
		nd, _ := d.Update(tea.PasteMsg{Content: s})
		*d = nd
	}
}

// appendText adds text at the end of the draft, and puts the cursor there.
func (in *input) appendText(s string) {
	in.draft(in.cur).MoveToEnd()
	in.insert(s)
}

// height is the number of rows the input takes now.
func (in *input) height() int { return in.draft(in.cur).Height() }

// view renders the current draft and returns where its cursor is.
func (in *input) view() (string, *tea.Cursor) {
	d := in.draft(in.cur)
	return d.View(), d.Cursor()
}
