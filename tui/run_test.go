package tui

import (
	"context"
	"io"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"

	tea "charm.land/bubbletea/v2"
	"go.uber.org/goleak"

	"github.com/dhtchat/dhtchat/chat"
	"github.com/dhtchat/dhtchat/internal/testio"
	"github.com/dhtchat/dhtchat/internal/testwait"
)

// colour finds an SGR sequence that sets a foreground or background colour.
func colour(s string) string {
	for _, m := range regexp.MustCompile("\x1b\\[([0-9;:]*)m").FindAllStringSubmatch(s, -1) {
		for _, p := range strings.FieldsFunc(m[1], func(r rune) bool { return r == ';' || r == ':' }) {
			if n, err := strconv.Atoi(p); err == nil && (n >= 30 && n <= 49 || n >= 90 && n <= 107) {
				return m[0]
			}
		}
	}
	return ""
}

// TestRun runs the whole program on an offline Client, with NO_COLOR: it
// shows the chat, sends no colour, quits on ctrl+c and leaves no goroutine
// behind.
func TestRun(t *testing.T) {
	defer goleak.VerifyNone(t, goleak.IgnoreCurrent())
	sk, _ := fixedKey(t, 1)
	_, peer := fixedKey(t, 50)
	client, err := chat.Open(chat.Config{Identity: sk, DBPath: filepath.Join(t.TempDir(), "db")})
	if err != nil {
		t.Fatal(err)
	}
	defer client.Close()
	started, err := client.StartChat(t.Context(), peer)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := client.Send(t.Context(), started.ID, "stored before the UI opened"); err != nil {
		t.Fatal(err)
	}
	inR, inW := io.Pipe()
	out := &testio.Buffer{}
	done := make(chan error, 1)
	go func() {
		done <- Run(t.Context(), Options{
			Client: client, Friends: &book{self: sk.Public()}, Open: started.ID,
			// TTY_FORCE: the output is a buffer, and colorprofile
			// applies NO_COLOR to terminals only.
			Input: inR, Output: out, Environ: []string{"TERM=xterm-256color", "TTY_FORCE=1", "NO_COLOR=1"},
			// The output is not a terminal, which would report its size.
			ExtraProgramOptions: []tea.ProgramOption{tea.WithWindowSize(80, 24)},
		})
	}()
	if err := testwait.Poll(testwait.Context(t), func() bool {
		return strings.Contains(out.String(), "stored before the UI opened")
	}); err != nil {
		t.Fatalf("the chat never showed (%v); output so far: %q", err, out.String())
	}
	if _, err := inW.Write([]byte("\x03")); err != nil { // ctrl+c
		t.Fatal(err)
	}
	returnsNil(t, done, "ctrl+c")
	inW.Close()
	if c := colour(out.String()); c != "" {
		t.Errorf("with NO_COLOR the output has the colour sequence %q", c)
	}
}

// TestRunStopsWithContext: cancelling the context ends Run cleanly.
func TestRunStopsWithContext(t *testing.T) {
	sk, _ := fixedKey(t, 1)
	client, err := chat.Open(chat.Config{Identity: sk, DBPath: filepath.Join(t.TempDir(), "db")})
	if err != nil {
		t.Fatal(err)
	}
	defer client.Close()
	inR, inW := io.Pipe()
	defer inW.Close()
	ctx, cancel := context.WithCancel(t.Context())
	done := make(chan error, 1)
	go func() {
		done <- Run(ctx, Options{Client: client, Friends: &book{self: sk.Public()}, Input: inR, Output: io.Discard})
	}()
	cancel()
	returnsNil(t, done, "its context ended")
}

// TestRunBurstAndTypeahead runs the whole program, input bytes to store:
// once it is ready, lines that arrive in one read without paste markers
// ask once, then are sent one message per line; a message may start with
// "?".
func TestRunBurstAndTypeahead(t *testing.T) {
	defer goleak.VerifyNone(t, goleak.IgnoreCurrent())
	client, sk, ids := offlineClient(t, 50)
	defer client.Close() // before goleak looks
	id := ids[0]
	inR, inW := io.Pipe()
	defer inW.Close()
	out := &testio.Buffer{}
	done := make(chan error, 1)
	go func() {
		done <- Run(t.Context(), Options{
			Client: client, Friends: &book{self: sk.Public()}, Open: id,
			Input: inR, Output: out, Environ: []string{"TERM=xterm-256color"},
			ExtraProgramOptions: []tea.ProgramOption{tea.WithWindowSize(100, 30)},
		})
	}()
	write := func(s string) {
		t.Helper()
		if _, err := inW.Write([]byte(s)); err != nil {
			t.Fatal(err)
		}
	}
	waitOut := func(what string) {
		t.Helper()
		if err := testwait.Poll(testwait.Context(t), func() bool { return strings.Contains(out.String(), what) }); err != nil {
			t.Fatalf("%q never showed; output so far: %q", what, out.String())
		}
	}
	bodies := func(want int) []string {
		t.Helper()
		var got []string
		_ = testwait.Poll(testwait.Context(t), func() bool {
			es, err := client.History(t.Context(), id, 0, 100)
			if err != nil {
				t.Fatal(err)
			}
			got = got[:0]
			for _, e := range es {
				got = append(got, e.Body)
			}
			return len(got) >= want
		}) // on timeout, what was stored is compared and reported
		return got
	}
	// Typed before the first frame: kept, Enter included. (Lines typed at
	// once while it starts: see TestRunTypingWhileStarting.)
	write("early\r")
	waitOut("early") // shown once the program is ready
	// Ready: lines in one read are a burst.
	write("one\rtwo\rthree\r")
	waitOut("3 lines pasted")
	write("\r")
	write("?")
	write("really\r")
	want := []string{"early", "one", "two", "three", "?really"}
	if got := bodies(len(want)); strings.Join(got, "|") != strings.Join(want, "|") {
		t.Errorf("stored %q, want %q", got, want)
	}
	write("\x03")
	returnsNil(t, done, "ctrl+c")
}
