//go:build !(linux || darwin || dragonfly || freebsd || netbsd || openbsd)

package tui

import (
	"os"
	"sync"
	"time"
)

// A Terminal is the terminal the full-screen chat runs in. On this system
// TakeTerminal leaves its mode to Bubble Tea, and its input is filtered
// without waiting for the rest of a burst.
type Terminal struct {
	f     *os.File
	early int // always 0 here

	mu    sync.Mutex
	taken bool
}

// TakeTerminal takes the terminal f for the UI.
func TakeTerminal(f *os.File) (*Terminal, error) { return &Terminal{f: f}, nil }

// Restore does nothing here.
func (t *Terminal) Restore() error { return nil }

// counter is nil here: the bytes queued when the program is ready are
// not known, and may be taken for a burst.
func (in *ttyInput) counter() func() int { return nil }

// waiter is nil here: the input does not wait for more of a burst.
func (in *ttyInput) waiter() func(time.Duration) bool { return nil }
