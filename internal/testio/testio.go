// Package testio holds the small I/O helpers that tests of several
// packages share: a buffer to write to from several goroutines, and a
// child process to kill in the middle of its work.
package testio

import (
	"bufio"
	"bytes"
	"os"
	"os/exec"
	"strings"
	"sync"
	"testing"

	"github.com/dhtchat/dhtchat/internal/testwait"
)

// Buffer is a bytes.Buffer that is safe for concurrent use: the code under
// test writes to it from its goroutines while the test reads what was
// written so far. The zero value is an empty buffer ready to use.
type Buffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

// Write appends p to the buffer.
func (s *Buffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

// String returns everything written so far.
func (s *Buffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// KillChild runs the test called test again, in a child process of the
// test binary, with the environment variable env set to value, by which
// the child knows it is the child. Once the child has printed lines lines
// on its stdout, KillChild kills it with SIGKILL, so that nothing it
// deferred runs and nothing it opened is closed or synced, waits for it,
// and returns the lines. It fails the test if the child ends or says
// nothing before.
func KillChild(t *testing.T, test, env, value string, lines int) []string {
	t.Helper()
	cmd := exec.CommandContext(testwait.Context(t), os.Args[0], "-test.run=^"+test+"$")
	cmd.Env = append(os.Environ(), env+"="+value)
	cmd.Stderr = os.Stderr
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	r := bufio.NewReader(out)
	var said []string
	for len(said) < lines {
		line, err := r.ReadString('\n')
		if err != nil {
			cmd.Process.Kill()
			cmd.Wait()
			t.Fatalf("the child of %s said %q, then %v", test, append(said, line), err)
		}
		said = append(said, strings.TrimSuffix(line, "\n"))
	}
	if err := cmd.Process.Kill(); err != nil {
		t.Fatal(err)
	}
	cmd.Wait()
	return said
}
