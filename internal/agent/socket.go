package agent

import (
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"syscall"
	"time"
)

// ErrRunning: another process of the same home already serves the socket.
var ErrRunning = errors.New("agent: another dhtchat already serves this home's control socket")

// SocketPath returns where the control socket of the home whose data
// directory is dataDir lives: in runtimeDir ($XDG_RUNTIME_DIR) if it is
// set, named by a hash of dataDir so that each home has its own, else in
// dataDir itself.
func SocketPath(runtimeDir, dataDir string) string {
	if runtimeDir != "" && filepath.IsAbs(runtimeDir) {
		h := sha256.Sum256([]byte(dataDir))
		return filepath.Join(runtimeDir, "dhtchat", "agent-"+hex.EncodeToString(h[:8])+".sock")
	}
	return filepath.Join(dataDir, "agent.sock")
}

// Listener is the control socket, held by one process of a home.
type Listener struct {
	net.Listener
	path string
	lock *os.File
}

// Listen creates the control socket at path, mode 0600 in a directory of
// mode 0700. One process per home holds it: a lock file beside it says
// who, so that a second process gets ErrRunning and leaves the live
// socket alone, and a socket file that no process holds (left by one that
// was killed) is stale and replaced.
func Listen(path string) (*Listener, error) {
	dir := filepath.Dir(path)
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, fmt.Errorf("agent: %w", err)
	}
	lock, err := os.OpenFile(path+".lock", os.O_RDWR|os.O_CREATE, 0o600)
	if err != nil {
		return nil, fmt.Errorf("agent: %w", err)
	}
	if err := syscall.Flock(int(lock.Fd()), syscall.LOCK_EX|syscall.LOCK_NB); err != nil {
		lock.Close()
		if errors.Is(err, syscall.EWOULDBLOCK) {
			return nil, ErrRunning
		}
		return nil, fmt.Errorf("agent: locking %s: %w", lock.Name(), err)
	}
	// Ours now: whatever socket file is there is stale.
	if err := os.Remove(path); err != nil && !errors.Is(err, os.ErrNotExist) {
		lock.Close()
		return nil, fmt.Errorf("agent: removing the stale socket: %w", err)
	}
	// The directory is private (0700), so the moment between bind and
	// chmod exposes nothing; the chmod keeps the socket 0600 even in a
	// shared directory's umask.
	ln, err := net.Listen("unix", path)
	if err != nil {
		lock.Close()
		return nil, fmt.Errorf("agent: %w", err)
	}
	ln.(*net.UnixListener).SetUnlinkOnClose(true)
	if err := os.Chmod(path, 0o600); err != nil {
		ln.Close()
		lock.Close()
		return nil, fmt.Errorf("agent: %w", err)
	}
	return &Listener{Listener: ln, path: path, lock: lock}, nil
}

// Path returns the socket's path.
func (l *Listener) Path() string { return l.path }

// Accept accepts the next connection of our own user; a connection of
// another user (which the file mode should already keep out) is closed.
func (l *Listener) Accept() (net.Conn, error) {
	for {
		c, err := l.Listener.Accept()
		if err != nil {
			return nil, err
		}
		if sameUser(c) {
			return c, nil
		}
		c.Close()
	}
}

// Close removes the socket and releases the home's lock.
func (l *Listener) Close() error {
	err := l.Listener.Close()
	l.lock.Close()
	return err
}

// Dial connects to the control socket at path. It fails at once, without
// waiting, when nothing serves it (no socket, or a stale one).
func Dial(path string) (net.Conn, error) {
	d := net.Dialer{Timeout: 2 * time.Second}
	c, err := d.Dial("unix", path)
	if err != nil {
		return nil, err
	}
	return c, nil
}
