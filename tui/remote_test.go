package tui

import (
	"io"
	"strings"
	"testing"

	"github.com/charmbracelet/x/ansi"

	"github.com/dhtchat/dhtchat/internal/testio"
	"github.com/dhtchat/dhtchat/internal/testwait"
)

// TestRunRemote runs the program on a remote terminal (an SSH session's):
// its colours come from its environment although the output is no local
// terminal, it is drawn at the size told, and at each size told later.
func TestRunRemote(t *testing.T) {
	resizes := make(chan Size)
	out, inW, done := runRemote(t, Options{Remote: &Remote{Width: 80, Height: 24, Resizes: resizes}})
	defer inW.Close()
	const helpEnd = "ctrl+c quit" // cut at 80 columns, whole at 100
	wait := func(what string, ok func(string) bool) {
		t.Helper()
		if err := testwait.Poll(testwait.Context(t), func() bool { return ok(ansi.Strip(out.String())) }); err != nil {
			t.Fatalf("gave up waiting for %s (%v); output so far: %q", what, err, out.String())
		}
	}
	wait("the first frame", func(s string) bool { return strings.Contains(s, "f1 keys") })
	if strings.Contains(ansi.Strip(out.String()), helpEnd) {
		t.Fatalf("at 80 columns the key help ends with %q: the resize below tests nothing", helpEnd)
	}
	if colour(out.String()) == "" {
		t.Error("a remote xterm-256color got no colour")
	}
	resizes <- Size{Width: 100, Height: 30}
	wait("the frame at 100 columns", func(s string) bool { return strings.Contains(s, helpEnd) })
	inW.Write([]byte{3}) // ctrl+c
	returnsNil(t, done, "ctrl+c")
}

// runRemote runs the program on an offline Client with opts, whose
// Remote is set, on an xterm-256color; it returns its output, its input,
// and Run's result.
func runRemote(t *testing.T, opts Options) (*testio.Buffer, *io.PipeWriter, <-chan error) {
	t.Helper()
	client, sk, ids := offlineClient(t, 50)
	inR, inW := io.Pipe()
	out := &testio.Buffer{}
	done := make(chan error, 1)
	opts.Client, opts.Friends, opts.Open = client, &book{self: sk.Public()}, ids[0]
	opts.Input, opts.Output, opts.Environ = inR, out, []string{"TERM=xterm-256color"}
	go func() { done <- Run(t.Context(), opts) }()
	return out, inW, done
}

// returnsNil waits for Run to return nil after what ended it.
func returnsNil(t *testing.T, done <-chan error, after string) {
	t.Helper()
	select {
	case err := <-done:
		if err != nil {
			t.Fatalf("Run = %v, want nil", err)
		}
	case <-testwait.Context(t).Done():
		t.Fatalf("Run did not return after %s", after)
	}
}
