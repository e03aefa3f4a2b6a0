package main

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"time"

	"github.com/libp2p/go-libp2p/core/peer"
	"github.com/multiformats/go-multiaddr"

	"github.com/dhtchat/dhtchat/chat"
	"github.com/dhtchat/dhtchat/dht"
	"github.com/dhtchat/dhtchat/keyring"
)

// user is one person in this process: a DHT client node and a chat.Client
// on a database of their own, as "dhtchat" runs them.
type user struct {
	sk   keyring.SecretKey
	db   string
	node *dht.Node // nil while offline
	c    *chat.Client

	// With run: the worker, and what its events said.
	cancel   context.CancelFunc
	done     chan struct{}
	mu       sync.Mutex
	recvAt   map[uint64]time.Time // incoming message N → when its event came
	ackAt    map[uint64]time.Time // outgoing message N → when it turned Delivered
	online   chan struct{}        // closed at the first Online event
	lastRecv uint64
}

func newUser(dir string) (*user, error) {
	sk, err := keyring.GenerateSecretKey()
	if err != nil {
		return nil, err
	}
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, err
	}
	return &user{sk: sk, db: filepath.Join(dir, "dhtchat.db")}, nil
}

// open opens the user's client: online (a DHT client joined to bootstrap)
// if bootstrap is non-nil, offline otherwise.
func (u *user) open(ctx context.Context, bootstrap []peer.AddrInfo, poll chat.PollPolicy) error {
	return u.openWith(ctx, bootstrap, chat.Config{Poll: poll})
}

// openWith is open with the settings of cfg; the identity, database and
// network are the user's.
func (u *user) openWith(ctx context.Context, bootstrap []peer.AddrInfo, cfg chat.Config) error {
	var network chat.Network
	if bootstrap != nil {
		n, err := dht.New(ctx, dht.Config{
			ListenAddrs: []multiaddr.Multiaddr{multiaddr.StringCast(dht.LocalListenAddr)},
			Bootstrap:   bootstrap,
			Mode:        dht.ModeClient,
		})
		if err != nil {
			return err
		}
		if err := n.Connect(ctx); err != nil {
			n.Close()
			return err
		}
		u.node, network = n, n
	}
	cfg.Identity, cfg.DBPath, cfg.Network = u.sk, u.db, network
	c, err := chat.Open(cfg)
	if err != nil {
		if u.node != nil {
			u.node.Close()
			u.node = nil
		}
		return err
	}
	u.c = c
	return nil
}

// run starts the background worker and records its events.
func (u *user) run(ctx context.Context) {
	ctx, u.cancel = context.WithCancel(ctx)
	u.done = make(chan struct{})
	u.recvAt = make(map[uint64]time.Time)
	u.ackAt = make(map[uint64]time.Time)
	u.online = make(chan struct{})
	var once sync.Once
	events := u.c.Subscribe(ctx)
	go func() {
		defer close(u.done)
		for ev := range events {
			now := time.Now()
			switch ev := ev.(type) {
			case chat.MessageEvent:
				u.mu.Lock()
				u.recvAt[ev.Entry.N] = now
				u.lastRecv = max(u.lastRecv, ev.Entry.N)
				u.mu.Unlock()
			case chat.StatusEvent:
				if ev.Entry.Status == chat.Delivered {
					u.mu.Lock()
					u.ackAt[ev.Entry.N] = now
					u.mu.Unlock()
				}
			case chat.NetworkEvent:
				if ev.State == chat.Online {
					once.Do(func() { close(u.online) })
				}
			}
		}
	}()
}

// waitFor polls cond every 2 ms until it holds, ctx ends or d passes. The
// events are timestamped as they arrive, so the polling adds no error to
// the figures.
func waitFor(ctx context.Context, d time.Duration, cond func() bool) error {
	ctx, cancel := context.WithTimeout(ctx, d)
	defer cancel()
	t := time.NewTicker(2 * time.Millisecond)
	defer t.Stop()
	for !cond() {
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-t.C:
		}
	}
	return nil
}

// received returns when incoming message n arrived, if it has.
func (u *user) received(n uint64) (time.Time, bool) {
	u.mu.Lock()
	defer u.mu.Unlock()
	t, ok := u.recvAt[n]
	return t, ok
}

// acked returns when outgoing message n was acknowledged, if it was.
func (u *user) acked(n uint64) (time.Time, bool) {
	u.mu.Lock()
	defer u.mu.Unlock()
	t, ok := u.ackAt[n]
	return t, ok
}

// close stops the worker, the client and the node. It is idempotent.
func (u *user) close() error {
	if u.cancel != nil {
		u.cancel()
		<-u.done
		u.cancel = nil
	}
	var errs []error
	if u.c != nil {
		errs = append(errs, u.c.Close())
		u.c = nil
	}
	if u.node != nil {
		errs = append(errs, u.node.Close())
		u.node = nil
	}
	return errors.Join(errs...)
}

func (u *user) stats() dht.Stats {
	if u.node == nil {
		return dht.Stats{}
	}
	return u.node.Stats()
}

// pair is two users online with one chat between them.
type pair struct {
	a, b *user // a sends, b receives
	id   chat.ChatID
}

// newPair starts two online users with a chat between them, a started by
// and b joined, both workers running with the chat focused.
func newPair(ctx context.Context, dir string, bootstrap []peer.AddrInfo, poll chat.PollPolicy) (*pair, error) {
	p := &pair{}
	var err error
	if p.a, err = newUser(filepath.Join(dir, "a")); err != nil {
		return nil, err
	}
	if p.b, err = newUser(filepath.Join(dir, "b")); err != nil {
		return nil, err
	}
	for _, u := range []*user{p.a, p.b} {
		if err := u.open(ctx, bootstrap, poll); err != nil {
			p.close()
			return nil, err
		}
	}
	if p.id, err = join(ctx, p.a, p.b); err != nil {
		p.close()
		return nil, err
	}
	for _, u := range []*user{p.a, p.b} {
		u.run(ctx)
		u.c.Focus(p.id)
	}
	for _, u := range []*user{p.a, p.b} {
		select {
		case <-u.online:
		case <-ctx.Done():
			p.close()
			return nil, ctx.Err()
		}
	}
	return p, nil
}

// join has a start a chat with b and b join it.
func join(ctx context.Context, a, b *user) (chat.ChatID, error) {
	started, err := a.c.StartChat(ctx, b.sk.Public())
	if err != nil {
		return chat.ChatID{}, err
	}
	if _, err := b.c.JoinChat(ctx, a.sk.Public(), started.Key); err != nil {
		return chat.ChatID{}, err
	}
	return started.ID, nil
}

func (p *pair) close() error {
	var errs []error
	for _, u := range []*user{p.a, p.b} {
		if u != nil {
			errs = append(errs, u.close())
		}
	}
	return errors.Join(errs...)
}

// body returns a message body of exactly size bytes that names message i.
func body(i, size int) string {
	s := fmt.Sprintf("benchnet message %d ", i)
	if len(s) >= size {
		return s[:size]
	}
	return s + strings.Repeat("x", size-len(s))
}

// bootstrapString renders peers as the comma-separated multiaddrs that
// --bootstrap and dht.ParseBootstrap take.
func bootstrapString(peers []peer.AddrInfo) (string, error) {
	var parts []string
	for _, ai := range peers {
		addrs, err := peer.AddrInfoToP2pAddrs(&ai)
		if err != nil {
			return "", err
		}
		for _, a := range addrs {
			parts = append(parts, a.String())
		}
	}
	return strings.Join(parts, ","), nil
}
