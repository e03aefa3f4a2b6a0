package tui

import (
	"fmt"
	"os"
	"strings"
	"time"

	"github.com/charmbracelet/x/ansi"
)

// Look is how the UI draws: its colours and the time of each message.
type Look struct {
	// Theme is the palette; "" means ThemeDefault.
	Theme Theme
	// TimeFormat is the layout of a message's time, as Go's time package
	// writes layouts ("15:04", "3:04PM", "15:04:05"); "" means
	// DefaultTimeFormat. CheckTimeFormat says whether one will do.
	TimeFormat string
}

// A Theme is a palette of the UI.
type Theme string

const (
	// ThemeDefault uses the 16 ANSI colours, which terminals theme to
	// suit their background.
	ThemeDefault Theme = "default"
	// ThemeBright uses their bright variants, easier to read on a dark
	// background.
	ThemeBright Theme = "bright"
	// ThemeMono uses no colour at all, as NO_COLOR does: bold, faint and
	// reverse only.
	ThemeMono Theme = "mono"
)

// Themes are the themes there are, in the order the help lists them.
var Themes = []Theme{ThemeDefault, ThemeBright, ThemeMono}

// ParseTheme reads a theme's name.
func ParseTheme(s string) (Theme, error) {
	for _, t := range Themes {
		if strings.EqualFold(strings.TrimSpace(s), string(t)) {
			return t, nil
		}
	}
	return "", fmt.Errorf("unknown theme %q (default, bright, mono)", s)
}

// DefaultTimeFormat is the time of a message unless the user says
// otherwise: hours and minutes, 24-hour.
const DefaultTimeFormat = "15:04"

// maxStampWidth is the widest time a message may show: the history keeps
// the rest of the line for the text.
const maxStampWidth = 20

// CheckTimeFormat reports whether layout shows a time, on one line, at
// most 20 cells wide; and if so, how wide it is drawn (its widest).
func CheckTimeFormat(layout string) (width int, err error) {
	if strings.ContainsFunc(layout, func(r rune) bool { return r < ' ' || r == 0x7f }) {
		return 0, fmt.Errorf("the time format %q has control characters", layout)
	}
	// Times that differ in every field, and the widest of each.
	samples := []time.Time{
		time.Date(2006, 1, 2, 3, 4, 5, 0, time.UTC),
		time.Date(2027, 12, 31, 23, 59, 59, 999_000_000, time.UTC),
		time.Date(2026, 9, 30, 12, 30, 30, 0, time.UTC),
	}
	first := samples[0].Format(layout)
	varies := false
	for _, t := range samples {
		s := t.Format(layout)
		varies = varies || s != first
		width = max(width, ansi.StringWidth(s))
	}
	switch {
	case !varies:
		return 0, fmt.Errorf("the time format %q shows no time (Go layouts: 15:04, 3:04PM, 15:04:05, Mon 15:04)", layout)
	case width > maxStampWidth:
		return 0, fmt.Errorf("the time format %q is %d cells wide, more than %d", layout, width, maxStampWidth)
	}
	return width, nil
}

// apply sets the look on c, and returns the environment of the terminal
// as the theme sees it (ThemeMono adds NO_COLOR); environ nil means the
// process's.
func (l Look) apply(c *common, environ []string) ([]string, error) {
	theme := l.Theme
	if theme == "" {
		theme = ThemeDefault
	}
	switch theme {
	case ThemeBright:
		c.styles = stylesOf(brightColours)
	case ThemeMono:
		if environ == nil {
			environ = os.Environ()
		}
		environ = append(environ[:len(environ):len(environ)], "NO_COLOR=1")
	}
	if l.TimeFormat != "" {
		w, err := CheckTimeFormat(l.TimeFormat)
		if err != nil {
			return nil, err
		}
		c.stamp, c.stampWidth = l.TimeFormat, w
	}
	return environ, nil
}
