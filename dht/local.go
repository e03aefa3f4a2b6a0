package dht

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"time"

	"github.com/libp2p/go-libp2p/core/peer"
	"github.com/multiformats/go-multiaddr"
)

// LocalListenAddr is the only address the servers of a LocalNetwork listen
// on: TCP on the IPv4 loopback, a port chosen by the kernel.
const LocalListenAddr = "/ip4/127.0.0.1/tcp/0"

// localReadyTimeout bounds StartLocalNetwork when the caller's context does
// not: 20 servers are up in about a second on a quiet machine, and it is
// generous for a loaded one.
const localReadyTimeout = 2 * time.Minute

// LocalTimeouts returns the Timeouts for the nodes that join a
// LocalNetwork (the demo's clients, tests). They are generous: on loopback
// a refused connection still fails at once, so a long bound costs nothing
// unless the machine is so loaded that handshakes and lookups crawl, and
// then it is what keeps a slow join from failing.
func LocalTimeouts() Timeouts {
	return Timeouts{
		Dial:         time.Minute,
		RoutingTable: time.Minute,
		Put:          2 * time.Minute,
		Get:          time.Minute,
	}.orDefault()
}

// LocalNetwork is a private DHT of server nodes in this process, reachable
// only on the loopback interface: a stand-in for the public IPFS DHT in
// "dhtchat demo", benchmarks and tests. Its servers run the same stock Amino
// configuration as any other Node, so a record they accept is one the public
// network accepts.
type LocalNetwork struct {
	servers []*Node

	closeOnce sync.Once
	closeErr  error
}

// StartLocalNetwork starts n DHT servers (ModeServer) listening on
// LocalListenAddr only, connects each to all the others (each server's
// bootstrap list is all of them) and waits until
// every routing table holds all of them (or, past bucket-size servers, at
// least a bucket's worth), so that the network is ready for Put and Get
// when it returns. logger, which may be nil, receives the servers' logs,
// each with a "server" attribute.
//
// If it fails, nothing it started is left running. Close the network when
// done with it.
func StartLocalNetwork(ctx context.Context, n int, logger *slog.Logger) (*LocalNetwork, error) {
	if n < 1 {
		return nil, fmt.Errorf("dht: local network of %d servers: need at least 1", n)
	}
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	ctx, cancel := context.WithTimeout(ctx, localReadyTimeout)
	defer cancel()

	start := time.Now()
	ln := &LocalNetwork{}
	fail := func(err error) (*LocalNetwork, error) {
		return nil, errors.Join(err, ln.Close())
	}
	listen := []multiaddr.Multiaddr{multiaddr.StringCast(LocalListenAddr)}
	for i := range n {
		s, err := New(ctx, Config{
			ListenAddrs: listen,
			// Non-nil and empty until all servers exist: a local network
			// must never fall back to the public bootstrap peers.
			Bootstrap: []peer.AddrInfo{},
			Mode:      ModeServer,
			Logger:    logger.With("server", i),
		})
		if err != nil {
			return fail(fmt.Errorf("dht: local network: server %d: %w", i, err))
		}
		ln.servers = append(ln.servers, s)
	}
	if n == 1 {
		return ln, nil
	}

	// Each pair of servers is dialled once, by the later one: dialling
	// both ways at once would double the handshakes and make libp2p
	// resolve simultaneous connections, which is slow on a loaded machine.
	// The bootstrap lists are for kad-dht's fallback should a routing
	// table ever run empty.
	all := ln.Bootstrap()
	var (
		mu   sync.Mutex
		errs []error
		wg   sync.WaitGroup
	)
	for i, s := range ln.servers {
		s.setBootstrap(all)
		for j := range i {
			wg.Go(func() {
				if err := s.host.Connect(ctx, all[j]); err != nil {
					mu.Lock()
					errs = append(errs, fmt.Errorf("server %d to %d: %w", i, j, err))
					mu.Unlock()
				}
			})
		}
	}
	wg.Wait()
	if err := errors.Join(errs...); err != nil {
		return fail(fmt.Errorf("dht: local network: %w", err))
	}

	logger.Debug("local network dialled", "took", time.Since(start))
	// A connected DHT server enters the routing table once identify and
	// one FIND_NODE round trip are done. Every server is connected to
	// every other, so each table can hold
	// min(n-1, bucket size) peers at least: a bucket only overflows when it
	// alone has more than that.
	want := min(n-1, bucketSize)
	if err := ln.WaitRouted(ctx, want); err != nil {
		return fail(fmt.Errorf("dht: local network: routing tables not full (want %d peers each): %w", want, err))
	}
	logger.Debug("local network ready", "took", time.Since(start))
	return ln, nil
}

// WaitRouted waits until the routing table of every server of the network
// holds at least want peers, or until ctx ends. StartLocalNetwork waits so
// for the servers to know each other; nodes that join later (more
// servers, say) may be waited for the same way.
func (ln *LocalNetwork) WaitRouted(ctx context.Context, want int) error {
	// kad-dht has no event for a peer entering a routing table: poll.
	tick := time.NewTicker(rtPollInterval)
	defer tick.Stop()
	for {
		ready := true
		for _, s := range ln.servers {
			if s.PeerCount() < want {
				ready = false
				break
			}
		}
		if ready {
			return nil
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-tick.C:
		}
	}
}

// Bootstrap returns the peer ID and loopback addresses of every server, for
// Config.Bootstrap of the nodes that join the network.
func (ln *LocalNetwork) Bootstrap() []peer.AddrInfo {
	peers := make([]peer.AddrInfo, len(ln.servers))
	for i, s := range ln.servers {
		peers[i] = s.AddrInfo()
	}
	return peers
}

// Close stops every server, in parallel, and returns their errors joined.
// It is idempotent.
func (ln *LocalNetwork) Close() error {
	ln.closeOnce.Do(func() {
		errs := make([]error, len(ln.servers))
		var wg sync.WaitGroup
		for i, s := range ln.servers {
			wg.Go(func() { errs[i] = s.Close() })
		}
		wg.Wait()
		ln.closeErr = errors.Join(errs...)
	})
	return ln.closeErr
}
