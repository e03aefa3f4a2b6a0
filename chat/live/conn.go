package live

import (
	"context"
	"crypto/rand"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"sync"
	"sync/atomic"
	"time"

	"github.com/dhtchat/dhtchat/chat/wire"
	"github.com/libp2p/go-libp2p/core/network"
	"github.com/libp2p/go-libp2p/core/peer"
)

// Message is a message received over a live stream: opened and checked
// for the direction the client reads, with the sealed bytes it came in
// (the same bytes the friend's slot records carry).
type Message struct {
	wire.Message
	Sealed []byte
}

// Conn is an open live stream of one chat, after both hellos checked
// out. Send, Ack and Ping may be called concurrently; Messages and Acks
// deliver what the friend sends until the stream ends, which Done and
// Err report.
type Conn struct {
	chat     *Chat
	s        network.Stream
	remote   peer.ID
	outbound bool
	// claimed is set once the stream was handed to the engine, by Dial or
	// on Chat.Conns, so that it is never handed twice.
	claimed atomic.Bool

	wmu sync.Mutex // one frame at a time

	msgs chan Message
	acks chan uint64 // holds at most the latest ack: see deliverAck
	// typing and reads hold at most the latest signal of each kind
	// (signals.go); lastRead is the highest read receipt taken.
	typing   chan bool
	reads    chan uint64
	lastRead uint64

	pmu   sync.Mutex
	pings map[uint64]chan struct{}

	done    chan struct{}
	errOnce sync.Once
	err     error
}

// messageBuffer is how many received messages wait for the engine before
// the reader stops reading the stream (and the friend's writes block).
const messageBuffer = 64

// pongTimeout bounds the write of a pong.
const pongTimeout = 10 * time.Second

func newConn(c *Chat, s network.Stream, outbound bool) *Conn {
	return &Conn{
		chat: c, s: s, remote: s.Conn().RemotePeer(), outbound: outbound,
		msgs:   make(chan Message, messageBuffer),
		acks:   make(chan uint64, 1),
		typing: make(chan bool, 1), reads: make(chan uint64, 1),
		pings: map[uint64]chan struct{}{},
		done:  make(chan struct{}),
	}
}

// RemotePeer returns the friend's live host.
func (c *Conn) RemotePeer() peer.ID { return c.remote }

// Outbound reports whether this side dialled the stream.
func (c *Conn) Outbound() bool { return c.outbound }

// Relayed reports whether the stream runs through a circuit relay.
func (c *Conn) Relayed() bool {
	return c.s.Conn().Stat().Limited || isCircuit(c.s.Conn().RemoteMultiaddr())
}

// dialledByLo reports whether the party writing from-lo opened the stream.
func (c *Conn) dialledByLo() bool { return c.outbound == (c.chat.self == wire.FromLo) }

// Messages delivers the messages the friend sends, in the order sent. It
// is never closed; select on Done too.
func (c *Conn) Messages() <-chan Message { return c.msgs }

// Acks delivers the friend's acks as they grow: each value is the highest
// n such that the friend received every message 1…n of this side's
// direction. Acks that arrive while the engine is busy are coalesced
// into the highest. It is never closed; select on Done too.
func (c *Conn) Acks() <-chan uint64 { return c.acks }

// Done is closed when the stream has ended.
func (c *Conn) Done() <-chan struct{} { return c.done }

// Err returns why the stream ended (ErrReplaced, ErrClosed, ErrProtocol,
// a network error, io.EOF for a close by the friend), or nil while it is
// open.
func (c *Conn) Err() error {
	select {
	case <-c.done:
		return c.err
	default:
		return nil
	}
}

// Close ends the stream. It is idempotent.
func (c *Conn) Close() error {
	c.fail(ErrClosed)
	return nil
}

// fail ends the stream with err, once.
func (c *Conn) fail(err error) {
	c.errOnce.Do(func() {
		c.err = err
		_ = c.s.Reset()
		close(c.done)
		c.chat.h.untrack(c)
	})
}

// Send writes one sealed message (as Keys.Seal returned it, the bytes the
// slot records carry) to the friend. A nil error means the frame was
// handed to the stream, not that it arrived: the friend's ack says that.
func (c *Conn) Send(ctx context.Context, sealed []byte) error {
	return c.write(ctx, wire.LiveFrame{Type: wire.FrameMessage, Sealed: sealed})
}

// Ack tells the friend that every message 1…n of its direction has been
// received.
func (c *Conn) Ack(ctx context.Context, n uint64) error {
	return c.write(ctx, wire.LiveFrame{Type: wire.FrameAck, N: n})
}

// Ping measures a round trip over the stream.
func (c *Conn) Ping(ctx context.Context) (time.Duration, error) {
	var b [8]byte
	rand.Read(b[:])
	nonce := binary.BigEndian.Uint64(b[:])
	pong := make(chan struct{})
	c.pmu.Lock()
	c.pings[nonce] = pong
	c.pmu.Unlock()
	defer func() {
		c.pmu.Lock()
		delete(c.pings, nonce)
		c.pmu.Unlock()
	}()
	start := time.Now()
	if err := c.write(ctx, wire.LiveFrame{Type: wire.FramePing, N: nonce}); err != nil {
		return 0, err
	}
	select {
	case <-pong:
		return time.Since(start), nil
	case <-c.done:
		return 0, c.err
	case <-ctx.Done():
		return 0, ctx.Err()
	}
}

func (c *Conn) write(ctx context.Context, f wire.LiveFrame) error {
	b, err := wire.AppendLiveFrame(nil, f)
	if err != nil {
		return err
	}
	if err := c.Err(); err != nil {
		return err
	}
	c.wmu.Lock()
	defer c.wmu.Unlock()
	stop := writeDeadlineFromContext(ctx, c.s)
	_, err = c.s.Write(b)
	stop()
	_ = c.s.SetWriteDeadline(time.Time{})
	if err != nil {
		if e := c.Err(); e != nil {
			return e
		}
		if ctx.Err() != nil {
			// A write cut off midway leaves the stream unusable.
			c.fail(ctx.Err())
			return ctx.Err()
		}
		c.fail(err)
		return fmt.Errorf("live: send: %w", err)
	}
	return nil
}

// read is the stream's reader: it runs until the stream ends.
func (c *Conn) read() {
	defer c.chat.h.wg.Done()
	buf := make([]byte, wire.MaxLiveFrameLen)
	var lastAck uint64
	for {
		f, err := readFrame(c.s, buf)
		if err != nil {
			c.fail(err)
			return
		}
		switch f.Type {
		case wire.FrameMessage:
			m, err := c.chat.keys.Open(c.chat.self.Other(), f.Sealed)
			if err != nil {
				c.fail(fmt.Errorf("%w: message: %w", ErrProtocol, err))
				return
			}
			select {
			case c.msgs <- Message{Message: m, Sealed: f.Sealed}:
			case <-c.done:
				return
			}
		case wire.FrameAck:
			if f.N > lastAck {
				lastAck = f.N
				c.deliverAck(f.N)
			}
		case wire.FramePing:
			// Answered from the reader itself, so that a flood of pings
			// costs no goroutines; a friend that does not read its pongs
			// stalls only its own stream, until pongTimeout ends it.
			ctx, cancel := context.WithTimeout(context.Background(), pongTimeout)
			err := c.write(ctx, wire.LiveFrame{Type: wire.FramePong, N: f.N})
			cancel()
			if err != nil {
				return
			}
		case wire.FramePong:
			c.pmu.Lock()
			if ch, ok := c.pings[f.N]; ok {
				close(ch)
				delete(c.pings, f.N)
			}
			c.pmu.Unlock()
		case wire.FrameTyping, wire.FrameRead:
			if err := c.readSignal(f); err != nil {
				c.fail(err)
				return
			}
		case wire.FrameHello:
			c.fail(fmt.Errorf("%w: a second hello", ErrProtocol))
			return
		default:
			// An optional frame of a newer client: skipped.
		}
	}
}

// deliverAck replaces the ack waiting in the channel, if any, with n,
// which is higher. Only the reader sends, so the send cannot block.
func (c *Conn) deliverAck(n uint64) {
	select {
	case <-c.acks:
	default:
	}
	c.acks <- n
}

// readFrame reads one frame from r into buf (at least MaxLiveFrameLen bytes),
// checking the length prefix before it reads the rest.
func readFrame(r io.Reader, buf []byte) (wire.LiveFrame, error) {
	var prefix [wire.LiveFramePrefixSize]byte
	if _, err := io.ReadFull(r, prefix[:]); err != nil {
		return wire.LiveFrame{}, err
	}
	n, err := wire.LiveFrameLen(prefix)
	if err != nil {
		return wire.LiveFrame{}, fmt.Errorf("%w: %w", ErrProtocol, err)
	}
	if _, err := io.ReadFull(r, buf[:n]); err != nil {
		if errors.Is(err, io.EOF) {
			err = io.ErrUnexpectedEOF
		}
		return wire.LiveFrame{}, err
	}
	f, err := wire.DecodeLiveFrame(buf[:n])
	if err != nil {
		return wire.LiveFrame{}, fmt.Errorf("%w: %w", ErrProtocol, err)
	}
	return f, nil
}
