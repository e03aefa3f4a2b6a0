// Package dhttest starts real dht nodes on the loopback interface for tests:
// a private network of servers and clients that join it, each closed by
// t.Cleanup. Starting waits up to testwait.Timeout, and the nodes use
// dht.LocalTimeouts, so that a loaded machine slows the tests down rather
// than failing them.
package dhttest

import (
	"context"
	"strings"
	"testing"

	"github.com/dhtchat/dhtchat/dht"
	"github.com/dhtchat/dhtchat/internal/testwait"
	"github.com/libp2p/go-libp2p/core/peer"
	"github.com/multiformats/go-multiaddr"
)

// NewNetwork starts a LocalNetwork of n servers, ready for Put and Get, and
// closes it when the test ends. It fails the test if the network cannot
// start or does not close cleanly.
func NewNetwork(tb testing.TB, n int) *dht.LocalNetwork {
	tb.Helper()
	ctx, cancel := context.WithTimeout(tb.Context(), testwait.Timeout)
	defer cancel()
	net, err := dht.StartLocalNetwork(ctx, n, nil)
	if err != nil {
		tb.Fatalf("dhttest: %v", err)
	}
	tb.Cleanup(func() {
		if err := net.Close(); err != nil {
			tb.Errorf("dhttest: close network: %v", err)
		}
	})
	return net
}

// NewClient starts a DHT client (ModeClient) listening on 127.0.0.1 only,
// with dht.LocalTimeouts, connects it to net and closes it when the test
// ends.
func NewClient(tb testing.TB, net *dht.LocalNetwork) *dht.Node {
	tb.Helper()
	ctx, cancel := context.WithTimeout(tb.Context(), testwait.Timeout)
	defer cancel()
	n, err := dht.New(ctx, dht.Config{
		ListenAddrs: []multiaddr.Multiaddr{multiaddr.StringCast(dht.LocalListenAddr)},
		Bootstrap:   net.Bootstrap(),
		Mode:        dht.ModeClient,
		Timeouts:    dht.LocalTimeouts(),
	})
	if err != nil {
		tb.Fatalf("dhttest: start client: %v", err)
	}
	tb.Cleanup(func() {
		if err := n.Close(); err != nil {
			tb.Errorf("dhttest: close client: %v", err)
		}
	})
	if err := n.Connect(ctx); err != nil {
		tb.Fatalf("dhttest: connect client: %v", err)
	}
	return n
}

// FormatBootstrap is the inverse of dht.ParseBootstrap: the full
// multiaddrs of the peers, comma-separated, as a --bootstrap flag takes
// them.
func FormatBootstrap(peers []peer.AddrInfo) string {
	var parts []string
	for _, ai := range peers {
		addrs, err := peer.AddrInfoToP2pAddrs(&ai)
		if err != nil {
			continue
		}
		for _, a := range addrs {
			parts = append(parts, a.String())
		}
	}
	return strings.Join(parts, ",")
}
