package tui

import (
	"image/color"
	"time"

	"charm.land/bubbles/v2/key"
	"charm.land/lipgloss/v2"
)

// common is what every sub-model shares: the terminal size, styles, keys,
// the clock (a field, so that tests render fixed times), and the views of
// the chats (the list and the history show their names).
type common struct {
	width, height int
	styles        styles
	keys          keyMap
	now           func() time.Time
	loc           *time.Location
	chats         chatViews
	// stamp is the layout of a message's time (Look.TimeFormat), drawn
	// stampWidth cells wide.
	stamp      string
	stampWidth int
}

func newCommon() *common {
	return &common{styles: newStyles(), keys: newKeyMap(), now: time.Now, loc: time.Local, chats: make(chatViews),
		stamp: DefaultTimeFormat, stampWidth: len(DefaultTimeFormat)}
}

// styles uses only the 16 ANSI colours, which every terminal themes to suit
// its own background, plus bold, faint and reverse: readable in a light or
// a dark terminal, and still usable under NO_COLOR (Bubble Tea drops the
// colours and keeps the attributes).
type styles struct {
	title, dim, me, friend, unread, selected, err, info, warn, separator, newMark, bar, barKey, rule lipgloss.Style
	// hit is a search's match; hitCur, in the hit shown.
	hit, hitCur lipgloss.Style
	statusMark  [4]lipgloss.Style
	read        lipgloss.Style // the mark of a message the friend read
	// verified marks a verified friend (✓), unverified says so quietly,
	// keyChanged shouts: reverse video stays loud without colour.
	verified, unverified, keyChanged lipgloss.Style
}

// palette is the colours the styles use: the 16 ANSI colours, whose
// shades each terminal chooses.
type palette struct {
	red, green, yellow, blue, magenta, cyan color.Color
}

// normalColours are the default theme's; brightColours, the bright
// variants (ThemeBright), easier to read on a dark background.
var (
	normalColours = palette{lipgloss.Red, lipgloss.Green, lipgloss.Yellow, lipgloss.Blue, lipgloss.Magenta, lipgloss.Cyan}
	brightColours = palette{lipgloss.BrightRed, lipgloss.BrightGreen, lipgloss.BrightYellow, lipgloss.BrightBlue, lipgloss.BrightMagenta, lipgloss.BrightCyan}
)

func newStyles() styles { return stylesOf(normalColours) }

func stylesOf(p palette) styles {
	red, green, yellow, blue, magenta, cyan := p.red, p.green, p.yellow, p.blue, p.magenta, p.cyan
	s := lipgloss.NewStyle
	st := styles{
		title:     s().Bold(true),
		dim:       s().Faint(true),
		me:        s().Foreground(blue).Bold(true),
		friend:    s().Foreground(magenta).Bold(true),
		unread:    s().Foreground(yellow).Bold(true),
		selected:  s().Reverse(true),
		err:       s().Foreground(red).Bold(true),
		info:      s().Foreground(green),
		warn:      s().Foreground(yellow),
		separator: s().Faint(true),
		newMark:   s().Foreground(red),
		bar:       s().Faint(true),
		barKey:    s().Bold(true),
		rule:      s().Faint(true),
		hit:       s().Underline(true).Bold(true),
		hitCur:    s().Reverse(true).Bold(true),

		verified:   s().Foreground(green).Bold(true),
		unverified: s().Faint(true),
		keyChanged: s().Foreground(red).Bold(true).Reverse(true),
	}
	st.statusMark[0] = s().Faint(true)      // pending
	st.statusMark[1] = s().Faint(true)      // published
	st.statusMark[2] = s().Foreground(cyan) // delivered
	st.statusMark[3] = s()
	st.read = s().Foreground(green).Bold(true)
	return st
}

// keyMap holds the bindings that the top model routes; the textarea keeps
// its own editing keys (see newDraft).
type keyMap struct {
	Send, Newline, NextChat, PrevChat, PageUp, PageDown, Bottom, Info, Help, Quit, HistPrev, HistNext key.Binding
	// Complete and CompleteBack are Tab on a draft that is not empty
	// (see complete.go); on an empty one Tab is Info.
	Complete, CompleteBack key.Binding
	// Discard empties the draft, keeping it; on an empty draft it brings
	// back the one discarded.
	Discard key.Binding
	// Search starts a search in the chat's history (see search.go).
	Search key.Binding
	// OneMessage answers the question about a paste: all of it as one
	// message. A key that never types text, so that typing on never
	// answers it.
	OneMessage key.Binding
}

func newKeyMap() keyMap {
	return keyMap{
		Send:     key.NewBinding(key.WithKeys("enter"), key.WithHelp("enter", "send")),
		Newline:  key.NewBinding(key.WithKeys("alt+enter", "shift+enter", "ctrl+j"), key.WithHelp("alt+enter", "new line")),
		NextChat: key.NewBinding(key.WithKeys("ctrl+n", "alt+down"), key.WithHelp("ctrl+n", "next chat")),
		PrevChat: key.NewBinding(key.WithKeys("ctrl+p", "alt+up"), key.WithHelp("ctrl+p", "previous chat")),
		PageUp:   key.NewBinding(key.WithKeys("pgup"), key.WithHelp("pgup", "scroll up")),
		PageDown: key.NewBinding(key.WithKeys("pgdown"), key.WithHelp("pgdn", "scroll down")),
		Bottom:   key.NewBinding(key.WithKeys("esc"), key.WithHelp("esc", "latest / close")),
		// Ctrl+I is the same byte as Tab (HT) in terminals without the
		// kitty keyboard protocol, so Tab opens the info too, on an empty
		// draft (on another, it completes; the draft does not take tabs).
		// F2 is the key that works everywhere.
		Info: key.NewBinding(key.WithKeys("f2", "ctrl+i", "tab"), key.WithHelp("f2/ctrl+i", "chat info: safety number, verify")),
		// "?" is text: a message may begin with it.
		Help:     key.NewBinding(key.WithKeys("f1"), key.WithHelp("f1", "keys")),
		Quit:     key.NewBinding(key.WithKeys("ctrl+c"), key.WithHelp("ctrl+c", "quit")),
		HistPrev: key.NewBinding(key.WithKeys("up"), key.WithHelp("↑", "previous sent (empty draft)")),
		HistNext: key.NewBinding(key.WithKeys("down"), key.WithHelp("↓", "next sent")),

		Discard:      key.NewBinding(key.WithKeys("ctrl+x"), key.WithHelp("ctrl+x", "discard the draft / bring it back")),
		Complete:     key.NewBinding(key.WithKeys("tab"), key.WithHelp("tab", "complete a command or name")),
		CompleteBack: key.NewBinding(key.WithKeys("shift+tab"), key.WithHelp("shift+tab", "previous completion")),
		Search:       key.NewBinding(key.WithKeys("ctrl+f"), key.WithHelp("ctrl+f", "search this chat (n/N: older/newer hit)")),

		OneMessage: key.NewBinding(key.WithKeys("ctrl+o"), key.WithHelp("ctrl+o", "a paste as one message")),
	}
}
