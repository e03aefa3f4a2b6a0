//go:build linux || darwin || dragonfly || freebsd || netbsd || openbsd

package tui

import (
	"errors"
	"fmt"
	"os"
	"sync"
	"time"

	"golang.org/x/sys/unix"
)

// A Terminal is the terminal the full-screen chat runs in, taken by
// TakeTerminal as early as the program can, before it opens its database
// and joins the network. A terminal is in cooked mode until the UI makes
// it raw: what the user types meanwhile is echoed, held until Enter, and
// each Enter (CR) becomes a newline (LF). Taken, it keeps each key as
// typed, unechoed; and Run hands what was typed while it was still cooked
// to the UI first, each Enter an Enter again, and all that is typed until
// the UI is ready as typed keys, never as a burst (see startGate). Ctrl+C
// still interrupts (the terminal still makes signals) until the UI starts.
type Terminal struct {
	f     *os.File
	saved unix.Termios
	early int // bytes queued, typed while cooked, when it was taken

	mu       sync.Mutex
	restored bool
	taken    bool // its input was handed to a Run
}

// TakeTerminal takes the terminal f for the UI (see Terminal). The caller
// must call Restore on every way out; Run restores it too.
func TakeTerminal(f *os.File) (*Terminal, error) {
	fd := int(f.Fd())
	saved, err := unix.IoctlGetTermios(fd, ioctlGetTermios)
	if err != nil {
		return nil, fmt.Errorf("tui: not a terminal: %w", err)
	}
	t := *saved
	// Bytes as typed: no CR to LF, no line editing, no echo, no flow
	// control. Signals and output processing stay, so that Ctrl+C works
	// and what the program prints before the UI still looks right.
	t.Iflag &^= unix.ICRNL | unix.INLCR | unix.IGNCR | unix.ISTRIP | unix.IXON
	t.Lflag &^= unix.ECHO | unix.ECHONL | unix.ICANON | unix.IEXTEN
	t.Cc[unix.VMIN], t.Cc[unix.VTIME] = 1, 0
	if err := unix.IoctlSetTermios(fd, ioctlSetTermios, &t); err != nil {
		return nil, fmt.Errorf("tui: cannot set the terminal's mode: %w", err)
	}
	// Counted after the switch: in cooked mode the count leaves out a
	// line not yet ended, which is now readable too.
	n, err := unix.IoctlGetInt(fd, ioctlInQueue)
	if err != nil {
		n = 0
	}
	return &Terminal{f: f, saved: *saved, early: n}, nil
}

// Restore puts the terminal back in the mode it had when it was taken. It
// may be called more than once.
func (t *Terminal) Restore() error {
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.restored {
		return nil
	}
	t.restored = true
	if err := unix.IoctlSetTermios(int(t.f.Fd()), ioctlSetTermios, &t.saved); err != nil {
		return fmt.Errorf("tui: cannot restore the terminal: %w", err)
	}
	return nil
}

// counter is how the terminal's input counts the bytes queued in it.
func (in *ttyInput) counter() func() int { return in.inQueue }

// inQueue is the number of bytes the terminal holds unread (0 if it
// cannot tell: then they may be taken for a burst).
func (in *ttyInput) inQueue() int {
	n, err := unix.IoctlGetInt(int(in.File.Fd()), ioctlInQueue)
	if err != nil {
		return 0
	}
	return n
}

// waiter is how the terminal's input waits for more of a burst.
func (in *ttyInput) waiter() func(time.Duration) bool { return in.readable }

// readable reports whether the terminal has input within d.
func (in *ttyInput) readable(d time.Duration) bool {
	fds := []unix.PollFd{{Fd: int32(in.File.Fd()), Events: unix.POLLIN}}
	deadline := time.Now().Add(d)
	for {
		n, err := unix.Poll(fds, max(int(time.Until(deadline).Milliseconds()), 0))
		if errors.Is(err, unix.EINTR) {
			continue
		}
		return err == nil && n > 0 && fds[0].Revents&unix.POLLIN != 0
	}
}
