//go:build linux || darwin || dragonfly || freebsd || netbsd || openbsd

package main

import (
	"errors"
	"io"
	"os"
	"sync"

	"golang.org/x/sys/unix"
)

// stoppable returns a reader of r and a function that stops it: a Read
// in progress, or any later, returns errStopped, so that the goroutine
// reading stdin can be joined however stdin is (a pipe that never ends, a
// terminal). A file is read only once poll(2) says it is readable, with a
// pipe of our own beside it that stop closes; other readers do not block
// for ever and are read as they are.
func stoppable(r io.Reader) (io.Reader, func()) {
	f, ok := r.(*os.File)
	if !ok {
		return r, func() {}
	}
	wakeR, wakeW, err := os.Pipe()
	if err != nil {
		return r, func() {}
	}
	s := &stoppableFile{f: f, wake: wakeR}
	var once sync.Once
	return s, func() {
		once.Do(func() {
			wakeW.Close() // the read end polls as hung up from now on
			s.mu.Lock()   // no Read polls it any more
			s.stopped = true
			wakeR.Close()
			s.mu.Unlock()
		})
	}
}

type stoppableFile struct {
	f       *os.File
	wake    *os.File
	mu      sync.Mutex // held by a Read; stop closes wake under it
	stopped bool
}

func (s *stoppableFile) Read(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.stopped {
		return 0, errStopped
	}
	fds := []unix.PollFd{
		{Fd: int32(s.f.Fd()), Events: unix.POLLIN},
		{Fd: int32(s.wake.Fd()), Events: unix.POLLIN},
	}
	for {
		_, err := unix.Poll(fds, -1)
		if errors.Is(err, unix.EINTR) {
			continue
		}
		if err != nil {
			break // a file poll(2) cannot wait for: read it as it is
		}
		if fds[1].Revents != 0 {
			return 0, errStopped
		}
		if fds[0].Revents != 0 {
			break // readable, at its end, or failed: Read says which
		}
	}
	return s.f.Read(p)
}
