//go:build linux || darwin || dragonfly || freebsd || netbsd || openbsd

package main

import (
	"os"
	"slices"
	"strings"
	"testing"

	"github.com/dhtchat/dhtchat/internal/testwait"
)

// The reading of a stdin that never ends (a pipe whose writer stays) is
// stopped, so that pipe mode can wait for its goroutine; until then it
// reads the lines as they come.
func TestStoppableStdin(t *testing.T) {
	r, w, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	defer w.Close() // only at the end: the pipe never ends meanwhile
	in, stop := stoppable(r)
	lines := make(chan []string, 16)
	ended := make(chan error, 1)
	go func() {
		ended <- readLines(in, func(batch []string) error {
			lines <- slices.Clone(batch)
			return nil
		})
	}()
	if _, err := w.WriteString("one\ntwo\n"); err != nil {
		t.Fatal(err)
	}
	var got []string
	for len(got) < 2 {
		select {
		case b := <-lines:
			got = append(got, b...)
		case err := <-ended:
			t.Fatalf("the reading ended before it was stopped: %v", err)
		case <-testwait.Context(t).Done():
			t.Fatalf("read %q of two lines", got)
		}
	}
	if !slices.Equal(got, []string{"one", "two"}) {
		t.Fatalf("read %q, want one, two", got)
	}
	stop()
	select {
	case err := <-ended:
		if err == nil || !strings.Contains(err.Error(), errStopped.Error()) {
			t.Errorf("the stopped reading ended with %v, want %q", err, errStopped)
		}
	case <-testwait.Context(t).Done():
		t.Fatal("the reading did not end when stopped")
	}
	stop() // twice is fine
}
