package tui

import (
	"fmt"
	"os"
	"testing"

	"github.com/dhtchat/dhtchat/internal/testwait"
	"golang.org/x/sys/unix"
)

// openPTY returns the two ends of a new pseudo-terminal, in its default
// (cooked) mode.
func openPTY(t *testing.T) (master, slave *os.File) {
	t.Helper()
	master, err := os.OpenFile("/dev/ptmx", os.O_RDWR|unix.O_NOCTTY, 0)
	if err != nil {
		t.Skipf("no pseudo-terminals here: %v", err)
	}
	t.Cleanup(func() { master.Close() })
	if err := unix.IoctlSetPointerInt(int(master.Fd()), unix.TIOCSPTLCK, 0); err != nil {
		t.Fatal(err)
	}
	n, err := unix.IoctlGetUint32(int(master.Fd()), unix.TIOCGPTN)
	if err != nil {
		t.Fatal(err)
	}
	slave, err = os.OpenFile(fmt.Sprintf("/dev/pts/%d", n), os.O_RDWR|unix.O_NOCTTY, 0)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { slave.Close() })
	return master, slave
}

// TestTakeTerminalKeepsTypeahead, on a real pseudo-terminal: what was
// typed while it was cooked, an unfinished line included, comes out
// first with its Enters as Enters (CR); what is typed after is as typed
// (a Ctrl+J stays LF); Restore gives back the mode it had.
func TestTakeTerminalKeepsTypeahead(t *testing.T) {
	master, slave := openPTY(t)
	before, err := unix.IoctlGetTermios(int(slave.Fd()), unix.TCGETS)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := master.Write([]byte("one\rtwo\rthr")); err != nil {
		t.Fatal(err)
	}
	// The line discipline works asynchronously: wait until it queued it.
	testwait.Until(t, "the line discipline to queue the input", func() bool {
		n, _ := unix.IoctlGetInt(int(slave.Fd()), unix.TIOCINQ)
		return n >= len("one\ntwo\n")
	})
	term, err := TakeTerminal(slave)
	if err != nil {
		t.Fatal(err)
	}
	defer term.Restore()
	if term.early != len("one\rtwo\rthr") {
		t.Errorf("%d bytes counted as typed before, want %d", term.early, len("one\rtwo\rthr"))
	}
	in, err := term.input()
	if err != nil {
		t.Fatal(err)
	}
	if _, err := term.input(); err == nil {
		t.Errorf("a Terminal gave its input twice")
	}
	p := make([]byte, 4096)
	n, err := in.Read(p)
	if err != nil || string(p[:n]) != "one\rtwo\rthr" {
		t.Errorf("the first read = %q, %v; want %q", p[:n], err, "one\rtwo\rthr")
	}
	if _, err := master.Write([]byte("ee\n")); err != nil { // Ctrl+J, raw
		t.Fatal(err)
	}
	if n, err := in.Read(p); err != nil || string(p[:n]) != "ee\n" {
		t.Errorf("the next read = %q, %v; want %q", p[:n], err, "ee\n")
	}
	if err := term.Restore(); err != nil {
		t.Fatal(err)
	}
	after, err := unix.IoctlGetTermios(int(slave.Fd()), unix.TCGETS)
	if err != nil {
		t.Fatal(err)
	}
	if *after != *before {
		t.Errorf("after Restore the mode is %+v, want %+v", *after, *before)
	}
	if err := term.Restore(); err != nil {
		t.Errorf("a second Restore: %v", err)
	}
}
