package tui

import (
	"fmt"
	"strings"

	"charm.land/bubbles/v2/key"
	"github.com/charmbracelet/x/ansi"
)

// hints are the most useful keys, as many as fit.
func hints(st styles, width int) string {
	all := [][2]string{{"enter", "send"}, {"alt+enter", "newline"}, {"ctrl+n/p", "chats"}, {"pgup/pgdn", "scroll"}, {"f1", "keys"}, {"/help", ""}, {"ctrl+c", "quit"}}
	var b strings.Builder
	used := 0
	for _, h := range all {
		s := h[0]
		if h[1] != "" {
			s += " " + h[1]
		}
		wd := ansi.StringWidth(s)
		if used > 0 {
			wd += 3
		}
		if used+wd > width {
			break
		}
		if used > 0 {
			b.WriteString(st.bar.Render(" · "))
		}
		b.WriteString(st.barKey.Render(h[0]))
		if h[1] != "" {
			b.WriteString(st.bar.Render(" " + h[1]))
		}
		used += wd
	}
	return b.String()
}

// keysPanel lists the key bindings (f1, /keys).
func keysPanel(k keyMap) textPanel {
	p := textPanel{title: "Keys"}
	for _, b := range []key.Binding{k.Send, k.Newline, k.NextChat, k.PrevChat, k.PageUp, k.PageDown, k.Bottom, k.HistPrev, k.HistNext, k.Complete, k.Discard, k.Search, k.Info, k.Quit} {
		h := b.Help()
		p.lines = append(p.lines, fmt.Sprintf("%-12s %s", h.Key, h.Desc))
	}
	p.lines = append(p.lines,
		fmt.Sprintf("%-12s %s", "mouse wheel", "scroll"),
		fmt.Sprintf("%-12s %s", "ctrl+a/e", "start/end of line; ctrl+u/k delete before/after; ctrl+w word"),
		"",
		"? types a ?. Over 5 lines pasted, or lines at once, ask: enter sends each line, ctrl+o one message, esc to the draft.")
	return p
}

// commandsPanel is /help: the commands, one line each at 80 columns (the
// panel does not scroll there).
func commandsPanel() textPanel {
	p := textPanel{title: "Commands"}
	for _, c := range slashCommands {
		if c.help != "" {
			p.lines = append(p.lines, fmt.Sprintf("%-23s %s", strings.TrimSpace(c.name+" "+c.args), c.help))
		}
	}
	p.lines = append(p.lines, "", "A line starting with // sends a message that starts with /.")
	return p
}
