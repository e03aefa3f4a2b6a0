//go:build unix

package keyring

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"time"

	"golang.org/x/sys/unix"
)

// lockTimeout is how long lock waits for another process to release the
// keyring before failing with ErrLocked.
const lockTimeout = time.Minute

// lock takes an advisory flock on the lock file beside the keyring,
// shared or exclusive, waiting up to lockTimeout. The lock is
// released by the returned function, or by the kernel if the process
// dies, so a crash never leaves the keyring locked.
func (f *File) lock(exclusive bool) (unlock func(), err error) {
	path := filepath.Join(f.dir, lockName)
	fh, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE, 0o600)
	if err != nil && !exclusive && !errors.Is(err, fs.ErrNotExist) {
		// A reader in a directory it can't write to (read-only media, say)
		// can't create the lock file. Reading without the lock is still
		// safe: writers replace the file by rename, so a reader sees
		// either the old or the new file, never half of one.
		if fh, err = os.Open(path); err != nil {
			return func() {}, nil
		}
	}
	if errors.Is(err, fs.ErrNotExist) {
		return nil, &PathError{Path: f.Path(), Err: ErrNotFound}
	}
	if err != nil {
		return nil, fmt.Errorf("keyring: %w", err)
	}
	how := unix.LOCK_SH
	if exclusive {
		how = unix.LOCK_EX
	}
	// Poll rather than block, so that a process that hangs holding the
	// lock gives an error instead of a silent hang.
	deadline := time.Now().Add(lockTimeout)
	for wait := time.Millisecond; ; wait = min(2*wait, 50*time.Millisecond) {
		err = unix.Flock(int(fh.Fd()), how|unix.LOCK_NB)
		if err == nil {
			break
		}
		if !errors.Is(err, unix.EWOULDBLOCK) && !errors.Is(err, unix.EINTR) {
			fh.Close()
			return nil, fmt.Errorf("keyring: locking %s: %w", path, err)
		}
		if time.Now().After(deadline) {
			fh.Close()
			return nil, fmt.Errorf("%w (%s)", ErrLocked, path)
		}
		time.Sleep(wait)
	}
	return func() {
		unix.Flock(int(fh.Fd()), unix.LOCK_UN)
		fh.Close()
	}, nil
}
