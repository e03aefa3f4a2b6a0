package tui

import (
	"slices"
	"strings"
	"unicode"

	"charm.land/bubbles/v2/key"
	tea "charm.land/bubbletea/v2"
)

// Tab completion, as in irssi: Tab at the end of the draft completes the
// word before the cursor — a slash command as the first word of a
// command, else a friend's name or a chat's — with the first match and a
// space; Tab again puts the next match in its place (Shift+Tab the one
// before), round and round; the status bar lists the matches. Anything
// else typed ends the round. On an empty draft Tab is the info (F2), as
// it always was.

// completion is a round of Tab: the draft before the word, the matches,
// the one put in, and the draft that made (to notice that the user typed
// since).
type completion struct {
	base    string
	matches []string
	i       int
	value   string
}

// complete handles Tab (back: Shift+Tab) on a draft that is not empty.
func (m *model) complete(back bool) tea.Cmd {
	d := m.in.draft(m.in.cur)
	value := d.Value()
	if c := m.in.comp; c != nil && c.value == value {
		step := 1
		if back {
			step = len(c.matches) - 1
		}
		c.i = (c.i + step) % len(c.matches)
		m.in.setCompleted(c)
		m.status = status{text: matchesLine(c)}
		return nil
	}
	m.in.comp = nil
	lines := strings.Split(value, "\n")
	if d.Line() != len(lines)-1 || d.Column() != len([]rune(lines[len(lines)-1])) {
		m.status = status{text: "tab completes at the end of the draft", isErr: true}
		return nil
	}
	start := strings.LastIndexFunc(value, unicode.IsSpace) + 1
	word := value[start:]
	if word == "" {
		m.status = status{text: "tab completes a command or a name: type its beginning", isErr: true}
		return nil
	}
	var cands []string
	if start == 0 && strings.HasPrefix(word, "/") {
		cands = commandNames()
	} else {
		cands = m.names()
	}
	var matches []string
	for _, s := range cands {
		if strings.HasPrefix(strings.ToLower(s), strings.ToLower(word)) {
			matches = append(matches, s)
		}
	}
	if len(matches) == 0 {
		m.status = status{text: "nothing to complete " + word + " with", isErr: true}
		return nil
	}
	c := &completion{base: value[:start], matches: matches}
	if back {
		c.i = len(matches) - 1
	}
	m.in.setCompleted(c)
	m.in.comp = c
	m.status = status{text: matchesLine(c)}
	return nil
}

// setCompleted puts the match chosen in c into the draft, the cursor
// after it.
func (in *input) setCompleted(c *completion) {
	c.value = c.base + c.matches[c.i] + " "
	in.draft(in.cur).SetValue(c.value)
}

// matchesLine is what the status bar says of a round: the matches, the
// one in the draft marked, if there are several.
func matchesLine(c *completion) string {
	if len(c.matches) == 1 {
		return ""
	}
	parts := make([]string, len(c.matches))
	for i, s := range c.matches {
		parts[i] = s
		if i == c.i {
			parts[i] = "[" + s + "]"
		}
	}
	return strings.Join(parts, " ") + "  (tab: next)"
}

// commandNames are the names of the slash commands and their other
// names, sorted.
func commandNames() []string {
	var out []string
	for _, c := range slashCommands {
		out = append(out, c.name)
		out = append(out, c.aliases...)
	}
	slices.Sort(out)
	return slices.Compact(out)
}

// names are the names of the friends and of the chats (the names their
// friends are shown by), sorted; a stranger's stand-in ("? 1a2b") is not
// one.
func (m *model) names() []string {
	var out []string
	for _, f := range m.friends {
		out = append(out, f.Name)
	}
	for _, v := range m.c.chats {
		if v.name != "" && !strings.ContainsFunc(v.name, unicode.IsSpace) {
			out = append(out, v.name)
		}
	}
	slices.Sort(out)
	return slices.Compact(out)
}

// completes reports whether key k is Tab for completion: Tab, or
// Shift+Tab, on a draft that is not empty, with no panel open (Tab
// closes the info it opened).
func (m *model) completes(k tea.KeyPressMsg) bool {
	return key.Matches(k, m.c.keys.Complete, m.c.keys.CompleteBack) && m.panel == nil && m.in.value() != ""
}
