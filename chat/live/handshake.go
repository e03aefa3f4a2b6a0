package live

import (
	"context"
	"crypto/ed25519"
	"fmt"
	"sync"
	"time"

	"github.com/dhtchat/dhtchat/chat/wire"
	"github.com/libp2p/go-libp2p/core/crypto"
	"github.com/libp2p/go-libp2p/core/network"
)

// Accepting and opening streams: the hello each side sends first, the
// checks of the friend it names, and the deadlines of the handshake.

// handle is the stream handler: it accepts a stream only from the peer
// that the hello's sealed announcement, under a registered chat's keys,
// names.
func (h *Host) handle(s network.Stream) {
	h.mu.Lock()
	if h.closed {
		h.mu.Unlock()
		s.Reset()
		return
	}
	h.wg.Add(1)
	h.mu.Unlock()
	defer h.wg.Done()

	remote, ok := peerKey(s)
	if !ok {
		s.Reset()
		return
	}
	deadline := time.Now().Add(h.cfg.HelloTimeout)
	_ = s.SetReadDeadline(deadline)
	f, err := readFrame(s, make([]byte, wire.MaxLiveFrameLen))
	if err != nil || f.Type != wire.FrameHello {
		h.log.Debug("live: refused stream: no hello", "peer", s.Conn().RemotePeer(), "err", err)
		s.Reset()
		return
	}
	h.mu.Lock()
	c := h.chats[f.Tag]
	h.mu.Unlock()
	if c == nil {
		h.log.Debug("live: refused stream: unknown tag", "peer", s.Conn().RemotePeer())
		s.Reset()
		return
	}
	if err := c.checkFriend(f.Announcement, remote); err != nil {
		h.log.Debug("live: refused stream", "peer", s.Conn().RemotePeer(), "err", err)
		s.Reset()
		return
	}
	_ = s.SetReadDeadline(time.Time{})
	ctx, cancel := context.WithDeadline(context.Background(), deadline)
	defer cancel()
	if _, err := c.answer(ctx, s, remote); err != nil {
		h.log.Debug("live: stream ended in its hello", "peer", s.Conn().RemotePeer(), "err", err)
		s.Reset()
	}
}

// peerKey returns the raw Ed25519 key of the stream's remote peer, as the
// secure handshake authenticated it.
func peerKey(s network.Stream) ([32]byte, bool) {
	pk := s.Conn().RemotePublicKey()
	if pk == nil || pk.Type() != crypto.Ed25519 {
		return [32]byte{}, false
	}
	raw, err := pk.Raw()
	if err != nil || len(raw) != ed25519.PublicKeySize {
		return [32]byte{}, false
	}
	return [32]byte(raw), true
}

// checkFriend opens a hello's sealed announcement as the friend's and
// checks that it names remote and has not expired.
func (c *Chat) checkFriend(sealed []byte, remote [32]byte) error {
	a, err := c.keys.OpenAnnouncement(c.self.Other(), sealed)
	if err != nil {
		return fmt.Errorf("%w: %w", ErrRefused, err)
	}
	if a.ExpiredAt(c.h.cfg.Now()) {
		return fmt.Errorf("%w: %w", ErrRefused, ErrExpired)
	}
	if a.PeerKey != remote {
		return fmt.Errorf("%w: announced peer is not the remote peer", ErrRefused)
	}
	return nil
}

// ownHello returns the frame this side sends: the tag for the friend's
// host and this host's current announcement.
func (c *Chat) ownHello(friend [32]byte) ([]byte, error) {
	ann, err := c.Announcement()
	if err != nil {
		return nil, err
	}
	return wire.AppendLiveFrame(nil, wire.LiveFrame{Type: wire.FrameHello, Tag: c.keys.HelloTag(c.self, friend), Announcement: ann})
}

// hello runs the dialler's side: send our hello, check the friend's.
func (c *Chat) hello(ctx context.Context, s network.Stream, friend [32]byte) (*Conn, error) {
	frame, err := c.ownHello(friend)
	if err != nil {
		return nil, err
	}
	stop := deadlineFromContext(ctx, s)
	defer stop()
	if _, err := s.Write(frame); err != nil {
		return nil, fmt.Errorf("live: send hello: %w", err)
	}
	f, err := readFrame(s, make([]byte, wire.MaxLiveFrameLen))
	if err != nil {
		// The acceptor resets the stream of a caller it does not accept.
		return nil, fmt.Errorf("%w: %w", ErrRefused, err)
	}
	if f.Type != wire.FrameHello || !c.keys.CheckHelloTag(c.self.Other(), c.h.key, f.Tag) {
		return nil, fmt.Errorf("%w: answer is not the friend's hello", ErrRefused)
	}
	if err := c.checkFriend(f.Announcement, friend); err != nil {
		return nil, err
	}
	if !stop() {
		// The deadline fired just now and may yet be set on the stream.
		return nil, fmt.Errorf("live: hello: %w", context.Cause(ctx))
	}
	_ = s.SetDeadline(time.Time{})
	return c.establish(s, true)
}

// answer runs the acceptor's side after the friend's hello checked out.
func (c *Chat) answer(ctx context.Context, s network.Stream, friend [32]byte) (*Conn, error) {
	frame, err := c.ownHello(friend)
	if err != nil {
		return nil, err
	}
	// The tie-break first: a stream that loses it gets no hello, and its
	// dialler finds the stream that won on its own side.
	conn, err := c.establish(s, false)
	if err != nil {
		return nil, err
	}
	// The reader runs already: bound the write only.
	stop := writeDeadlineFromContext(ctx, s)
	_, err = s.Write(frame)
	stop()
	_ = s.SetWriteDeadline(time.Time{})
	if err != nil {
		conn.fail(err)
		return nil, fmt.Errorf("live: send hello: %w", err)
	}
	if conn.claimed.CompareAndSwap(false, true) {
		select {
		case c.incoming <- conn:
		default:
			conn.fail(errNotTaken)
		}
	}
	return conn, nil
}

// deadlineFromContext makes ctx's deadline and cancellation the stream's
// read and write deadline until stop is called: for the hello exchange,
// before the stream's reader runs.
func deadlineFromContext(ctx context.Context, s network.Stream) (stop func() bool) {
	return hookDeadline(ctx, s.SetDeadline)
}

// writeDeadlineFromContext does the same for writes only: once the reader
// runs, a write's deadline must not end its reads.
func writeDeadlineFromContext(ctx context.Context, s network.Stream) (stop func() bool) {
	return hookDeadline(ctx, s.SetWriteDeadline)
}

// hookDeadline sets ctx's deadline with set, and the present time when ctx
// is cancelled, until stop is called. stop reports whether it came before
// the cancellation's hook ran; if it did not, stop waits for the hook to
// finish, so that the caller may then reset the deadline. stop may be
// called again; it returns the first call's answer.
func hookDeadline(ctx context.Context, set func(time.Time) error) (stop func() bool) {
	if d, ok := ctx.Deadline(); ok {
		_ = set(d)
	}
	ran := make(chan struct{})
	unhook := context.AfterFunc(ctx, func() {
		defer close(ran)
		_ = set(time.Now())
	})
	// Called more than once (a deferred stop after an explicit one), it
	// returns the first call's answer.
	return sync.OnceValue(func() bool {
		if unhook() {
			return true
		}
		<-ran
		return false
	})
}

// establish makes s the chat's stream, unless the tie-break keeps the
// current one (docs/PROTOCOL.md §17.4, "One stream per chat").
func (c *Chat) establish(s network.Stream, outbound bool) (*Conn, error) {
	conn := newConn(c, s, outbound)
	c.mu.Lock()
	if c.removed {
		c.mu.Unlock()
		return nil, ErrClosed
	}
	old := c.current
	if old != nil && old.Err() == nil && old.remote == conn.remote && !(conn.dialledByLo() && !old.dialledByLo()) {
		c.mu.Unlock()
		return nil, fmt.Errorf("%w: kept the stream dialled by from-lo", ErrReplaced)
	}
	if !c.h.track(conn) {
		c.mu.Unlock()
		return nil, ErrClosed
	}
	c.current = conn
	c.mu.Unlock()
	if old != nil {
		old.fail(ErrReplaced)
	}
	go conn.read()
	return conn, nil
}

// track registers a conn for Close and counts its reader in the wait
// group (under the lock that Close takes, so never after Close began),
// unless the host is closed.
func (h *Host) track(c *Conn) bool {
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.closed {
		return false
	}
	h.conns[c] = struct{}{}
	h.wg.Add(1)
	return true
}

func (h *Host) untrack(c *Conn) {
	h.mu.Lock()
	delete(h.conns, c)
	h.mu.Unlock()
}
