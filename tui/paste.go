package tui

import (
	"fmt"
	"strings"

	"charm.land/bubbles/v2/key"
	tea "charm.land/bubbletea/v2"
)

// Pastes. A paste of a few lines goes into the draft at the cursor, as it
// is. A longer one, and any burst (several lines that arrived in one read
// without bracketed-paste markers: see burst.go), asks first, because its
// line breaks may be meant as Enters. Only keys that never type text
// answer, so that typing on never answers by accident:
//
//	enter   one message per line, each as if typed and followed by Enter
//	        (of a burst, the text after its last line break too: this is
//	        the Enter it lacked)
//	ctrl+o  one message: the draft with the paste at the cursor, sent
//	esc     into the draft at the cursor, nothing sent
//	ctrl+c  into the draft, nothing sent; ctrl+c again quits
//
// A key of someone typing (a character, Backspace, Alt+Enter), while a
// burst waits, says that it was typing that came fast (over a slow link,
// or while the program was busy): the burst is taken as typed, each
// complete line sent, the text after the last line break left in the
// draft, and then the key does what it does. Any other
// key, and any key while a bracketed paste waits (surely a paste), puts
// the paste in the draft and then does what it always does. A paste never
// runs a slash command: a pasted line that begins with "/" is sent as
// text (see literal).

// pasteConfirmLines: a bracketed paste of more lines than this asks first.
const pasteConfirmLines = 5

// pendingPaste is a paste waiting for the user's answer.
type pendingPaste struct {
	text  string // line breaks as "\n"
	burst bool   // it came as a burst, not between bracketed-paste markers
}

// lines is the paste split into lines: the complete ones, each ended by
// a line break or (of a bracketed paste) by the end of the paste, and of
// a burst the text after its last line break.
func (p *pendingPaste) lines() (complete []string, tail string) {
	ls := strings.Split(p.text, "\n")
	last := ls[len(ls)-1]
	ls = ls[:len(ls)-1]
	if p.burst || last == "" {
		return ls, last
	}
	return append(ls, last), ""
}

// onPaste handles a paste: into the draft if short, else a question.
func (m *model) onPaste(p tea.PasteMsg) tea.Cmd {
	content, burst := p.Content, false
	for _, mark := range []string{burstMark, burstMore} {
		if s, ok := strings.CutPrefix(content, mark); ok {
			content, burst = s, true
		}
	}
	text := strings.ReplaceAll(strings.ReplaceAll(content, "\r\n", "\n"), "\r", "\n")
	if m.state == stateConfirmPaste {
		// The rest of a burst that came in several reads, or more pasted
		// before the answer: one question for all of it.
		m.paste.text += text
		m.paste.burst = m.paste.burst || burst
		return nil
	}
	pp := &pendingPaste{text: text, burst: burst}
	complete, _ := pp.lines()
	switch {
	case burst && len(complete) == 0:
		// Text without a line break (the rest of a burst whose question
		// was answered): typed.
		m.in.insert(text)
		return nil
	case !burst && len(complete) <= pasteConfirmLines:
		m.in.insert(text)
		return nil
	}
	m.state, m.paste = stateConfirmPaste, pp
	return nil
}

// onPasteAnswer handles a key while a paste waits for an answer.
func (m *model) onPasteAnswer(k tea.KeyPressMsg) tea.Cmd {
	p := m.paste
	m.state, m.paste = stateChat, nil
	keys := m.c.keys
	switch {
	case key.Matches(k, keys.Send):
		return m.pasteAsMessages(p, true)
	case key.Matches(k, keys.OneMessage):
		text := p.text
		if m.in.value() == "" {
			text = literal(text)
		}
		m.in.insert(text)
		cmd, _ := m.submit()
		return cmd
	case key.Matches(k, keys.Bottom):
		m.in.insert(p.text)
		return nil
	case key.Matches(k, keys.Quit):
		m.in.insert(p.text)
		m.quitArmed = true
		m.status = status{text: "the paste is in the draft, not sent; ctrl+c again to quit", isErr: true}
		return nil
	case p.burst && typing(keys, k):
		cmd := m.pasteAsMessages(p, false)
		return tea.Batch(cmd, m.keyAfter(k))
	}
	m.in.insert(p.text)
	return m.keyAfter(k)
}

// typing reports whether k is a key of someone typing: one that types a
// character, Backspace, or a new line (Alt+Enter).
func typing(keys keyMap, k tea.KeyPressMsg) bool {
	return k.Text != "" || k.Code == tea.KeyBackspace && k.Mod == 0 || key.Matches(k, keys.Newline)
}

// keyAfter handles key k as usual after a paste was dealt with, keeping
// what the status bar said of the paste (a line that could not be sent)
// unless the key says something else.
func (m *model) keyAfter(k tea.KeyPressMsg) tea.Cmd {
	st := m.status
	cmd := m.onKey(k)
	if m.status.text == "" {
		m.status = st
	}
	return cmd
}

// literal is s, to be sent from an empty draft, escaped so that it is sent
// as the text it is even if it begins with "/" (typed, "//x" sends "/x"):
// pasted text is data, and running a command from it (/add, /verify) is
// how a paste would be turned against the user.
func literal(s string) string {
	body := strings.TrimLeft(s, "\n")
	if strings.HasPrefix(body, "/") {
		return s[:len(s)-len(body)] + "/" + body
	}
	return s
}

// pasteAsMessages sends each complete line of p as if typed and followed
// by Enter: the first completes the draft at the cursor. withTail: the
// text after a burst's last line break is sent too, else it stays in the
// draft. If a line cannot be sent (too long, say), it and the lines after
// it stay in the draft, with the error in the status bar.
func (m *model) pasteAsMessages(p *pendingPaste, withTail bool) tea.Cmd {
	complete, tail := p.lines()
	if withTail && tail != "" {
		complete, tail = append(complete, tail), ""
	}
	var cmds []tea.Cmd
	for i, line := range complete {
		if i > 0 || m.in.value() == "" {
			line = literal(line)
		}
		m.in.insert(line)
		cmd, ok := m.submit()
		cmds = append(cmds, cmd)
		if !ok {
			var rest strings.Builder
			for _, l := range complete[i+1:] {
				rest.WriteString("\n" + l)
			}
			if tail != "" {
				rest.WriteString("\n" + tail)
			}
			m.in.appendText(rest.String())
			return tea.Batch(cmds...)
		}
	}
	m.in.insert(tail)
	return tea.Batch(cmds...)
}

// pastePrompt is the question about the paste waiting.
func (m *model) pastePrompt() string {
	p := m.paste
	complete, tail := p.lines()
	if tail != "" {
		complete = append(complete, tail) // enter sends it too
	}
	msgs := 0
	for i, l := range complete {
		if i == 0 {
			l = m.in.value() + l
		}
		if strings.TrimSpace(l) != "" {
			msgs++
		}
	}
	return fmt.Sprintf("%s pasted · enter: %s · ctrl+o: one message · esc: into the draft",
		plural(len(complete), "line"), plural(msgs, "message"))
}
