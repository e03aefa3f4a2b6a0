package tui

import (
	"strings"
	"testing"
	"time"

	"github.com/charmbracelet/x/ansi"

	"github.com/dhtchat/dhtchat/internal/testwait"
)

// TestLookTimeFormat: a message's time is drawn in the layout given, each
// as wide as the widest it can be, so that the text column stays put.
func TestLookTimeFormat(t *testing.T) {
	c := newCommon()
	c.loc = time.UTC
	if _, err := (Look{TimeFormat: "3:04PM"}).apply(c, nil); err != nil {
		t.Fatal(err)
	}
	morning := renderRows(c, time.Date(2026, 5, 5, 9, 5, 0, 0, time.UTC), "alice", false, "one", "", 60, hlSpec{})
	evening := renderRows(c, time.Date(2026, 5, 5, 22, 45, 0, 0, time.UTC), "alice", false, "two", "", 60, hlSpec{})
	m, e := ansi.Strip(morning[0]), ansi.Strip(evening[0])
	if !strings.HasPrefix(m, "9:05AM ") || !strings.HasPrefix(e, "10:45PM ") {
		t.Fatalf("rows %q and %q: want the times as 3:04PM", m, e)
	}
	if strings.Index(m, "one") != strings.Index(e, "two") {
		t.Errorf("the text moves with the time's width:\n%q\n%q", m, e)
	}
	for _, bad := range []string{"now", "\x1b[2J15:04", strings.Repeat("15:04 ", 5)} {
		if _, err := CheckTimeFormat(bad); err == nil {
			t.Errorf("CheckTimeFormat(%q) = nil, want an error", bad)
		}
	}
}

// TestLookThemes: bright draws with the bright colours; mono with none,
// even where the terminal has them.
func TestLookThemes(t *testing.T) {
	c := newCommon()
	if _, err := (Look{Theme: ThemeBright}).apply(c, nil); err != nil {
		t.Fatal(err)
	}
	if got := c.styles.me.Render("me"); !strings.Contains(got, "\x1b[1;94m") {
		t.Errorf("bright: your name is %q, want bright blue (94)", got)
	}
	if got := newCommon().styles.me.Render("me"); strings.Contains(got, "94") {
		t.Errorf("default: your name is %q, bright blue", got)
	}

	out, inW, done := runRemote(t, Options{Remote: &Remote{Width: 80, Height: 24}, Look: Look{Theme: ThemeMono}})
	defer inW.Close()
	if err := testwait.Poll(testwait.Context(t), func() bool { return strings.Contains(ansi.Strip(out.String()), "f1 keys") }); err != nil {
		t.Fatalf("no first frame (%v): %q", err, out.String())
	}
	inW.Write([]byte{3})
	returnsNil(t, done, "ctrl+c")
	if c := colour(out.String()); c != "" {
		t.Errorf("mono: the output has the colour sequence %q", c)
	}
}
