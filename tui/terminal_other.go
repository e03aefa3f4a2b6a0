//go:build !(linux || darwin || dragonfly || freebsd || netbsd || openbsd)

package tui

import (
	"errors"
	"os"
	"sync"
)

// A Terminal is the terminal the full-screen chat runs in. On this system
// TakeTerminal leaves its mode to Bubble Tea, and its input is filtered
// without waiting for the rest of a burst.
type Terminal struct {
	f     *os.File
	mu    sync.Mutex
	taken bool
}

// TakeTerminal takes the terminal f for the UI.
func TakeTerminal(f *os.File) (*Terminal, error) { return &Terminal{f: f}, nil }

// Restore does nothing here.
func (t *Terminal) Restore() error { return nil }

var errTerminalUsed = errors.New("tui: the terminal was already given to a Run")

func (t *Terminal) input() (*ttyInput, error) {
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.taken {
		return nil, errTerminalUsed
	}
	t.taken = true
	in := &ttyInput{File: t.f}
	in.r = filteredReader{read: t.f.Read}
	return in, nil
}

// ttyInput is a terminal whose reads are filtered (see the Unix version).
type ttyInput struct {
	*os.File
	r filteredReader
}

func (in *ttyInput) Read(p []byte) (int, error) { return in.r.Read(p) }
