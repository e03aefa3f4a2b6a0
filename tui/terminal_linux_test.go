package tui

import (
	"fmt"
	"os"
	"slices"
	"strings"
	"testing"

	tea "charm.land/bubbletea/v2"
	"golang.org/x/sys/unix"

	"github.com/dhtchat/dhtchat/internal/testio"
	"github.com/dhtchat/dhtchat/internal/testwait"
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

// TestRunTypingWhileStarting runs the whole program on a real
// pseudo-terminal taken before the program starts, as dhtchat takes it
// before it opens the keyring, the database and the network: lines typed
// meanwhile arrive in one read, and are still typed keys, each Enter an
// Enter, the unfinished line kept in the draft. Once the program is
// ready, lines in one read are a burst again, and ask.
func TestRunTypingWhileStarting(t *testing.T) {
	client, sk, ids := offlineClient(t, 50)
	master, slave := openPTY(t)
	term, err := TakeTerminal(slave)
	if err != nil {
		t.Fatal(err)
	}
	defer term.Restore()
	// Typed after the terminal was taken, before Run: raw, so each Enter
	// is a CR, and all of it queued together.
	const typed = "one\rtwo\rthr"
	if _, err := master.Write([]byte(typed)); err != nil {
		t.Fatal(err)
	}
	testwait.Until(t, "the terminal to queue the input", func() bool {
		n, _ := unix.IoctlGetInt(int(slave.Fd()), unix.TIOCINQ)
		return n >= len(typed)
	})
	out := &testio.Buffer{}
	done := make(chan error, 1)
	go func() {
		done <- Run(t.Context(), Options{
			Client: client, Friends: &book{self: sk.Public()}, Open: ids[0],
			Terminal: term, Output: out, Environ: []string{"TERM=xterm-256color"},
			ExtraProgramOptions: []tea.ProgramOption{tea.WithWindowSize(100, 30)},
		})
	}()
	write := func(s string) {
		t.Helper()
		if _, err := master.Write([]byte(s)); err != nil {
			t.Fatal(err)
		}
	}
	stored := func(want ...string) {
		t.Helper()
		var got []string
		_ = testwait.Poll(testwait.Context(t), func() bool {
			es, err := client.History(t.Context(), ids[0], 0, 100)
			if err != nil {
				t.Fatal(err)
			}
			got = got[:0]
			for _, e := range es {
				got = append(got, e.Body)
			}
			return len(got) >= len(want)
		})
		if !slices.Equal(got, want) {
			t.Fatalf("stored %q, want %q; the screen so far: %q", got, want, out.String())
		}
	}
	stored("one", "two")
	write("ee\r")
	stored("one", "two", "three")
	write("x\ry\r")
	if err := testwait.Poll(testwait.Context(t), func() bool { return strings.Contains(out.String(), "2 lines pasted") }); err != nil {
		t.Fatalf("lines at once after the start did not ask; output: %q", out.String())
	}
	write("\r")
	stored("one", "two", "three", "x", "y")
	write("\x03")
	returnsNil(t, done, "ctrl+c")
}

// TestStartGate, on a real pseudo-terminal: what the terminal holds when
// the program becomes ready was typed before, and is read as typed keys
// even though it is read after; what comes later may be a burst.
func TestStartGate(t *testing.T) {
	master, slave := openPTY(t)
	term, err := TakeTerminal(slave)
	if err != nil {
		t.Fatal(err)
	}
	defer term.Restore()
	in, err := term.input()
	if err != nil {
		t.Fatal(err)
	}
	typeIn := func(s string) {
		t.Helper()
		before, _ := unix.IoctlGetInt(int(slave.Fd()), unix.TIOCINQ)
		if _, err := master.Write([]byte(s)); err != nil {
			t.Fatal(err)
		}
		testwait.Until(t, "the terminal to queue the input", func() bool {
			n, _ := unix.IoctlGetInt(int(slave.Fd()), unix.TIOCINQ)
			return n >= before+len(s)
		})
	}
	p := make([]byte, 4096)
	typeIn("a\rb\r")
	if n, err := in.Read(p); err != nil || string(p[:n]) != "a\rb\r" {
		t.Errorf("before ready: Read = %q, %v; want the keys as typed", p[:n], err)
	}
	typeIn("c\rd\r")
	in.r.gate.open()
	if n, err := in.Read(p); err != nil || string(p[:n]) != "c\rd\r" {
		t.Errorf("queued when it became ready: Read = %q, %v; want the keys as typed", p[:n], err)
	}
	typeIn("e\rf\r")
	if n, err := in.Read(p); err != nil || string(p[:n]) != wrapped(burstMark, "e\rf\r") {
		t.Errorf("after: Read = %q, %v; want a burst", p[:n], err)
	}
}
