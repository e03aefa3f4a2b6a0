package tui

import (
	"errors"
	"os"
)

var errTerminalUsed = errors.New("tui: the terminal was already given to a Run")

// input is the terminal as Bubble Tea reads it: the file itself (its
// descriptor makes it raw and lets it cancel a read), whose Read goes
// through an inputFilter, and typing only until its gate opens.
func (t *Terminal) input() (*ttyInput, error) {
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.taken {
		return nil, errTerminalUsed
	}
	t.taken = true
	in := &ttyInput{File: t.f}
	in.r = filteredReader{read: t.f.Read, readable: in.waiter(), f: inputFilter{early: t.early},
		gate: &startGate{queued: in.counter()}}
	return in, nil
}

// ttyInput is a terminal whose reads are filtered. Bubble Tea finds in it
// the *os.File methods it needs of a terminal (Fd, Name, Write, Close), so
// that it still makes it raw, reads its size and cancels reads on it.
type ttyInput struct {
	*os.File
	r filteredReader
}

func (in *ttyInput) Read(p []byte) (int, error) { return in.r.Read(p) }
