package dht_test

import (
	"io"
	"net"
	"sync"
	"testing"

	"github.com/dhtchat/dhtchat/dht"
	"github.com/dhtchat/dhtchat/dht/dhttest"
	"github.com/dhtchat/dhtchat/internal/testwait"
	"github.com/libp2p/go-libp2p/core/peer"
)

// TestConnectReturnsAtFirstPeer: Connect returns once a DHT server is in
// the routing table, while its dial to a bootstrap peer that accepts the
// TCP connection and never says a word is still waiting (for
// Timeouts.Dial, a minute with LocalTimeouts). A Connect that waited for
// every dial would return only after that connection ended.
func TestConnectReturnsAtFirstPeer(t *testing.T) {
	ln := dhttest.NewNetwork(t, 2)
	accepted, ended := make(chan struct{}), make(chan struct{})
	var acceptOnce, endOnce sync.Once
	silent := tcpPeer(t, func(c net.Conn) {
		acceptOnce.Do(func() { close(accepted) })
		io.Copy(io.Discard, c)
		c.Close()
		endOnce.Do(func() { close(ended) })
	})
	n := newNode(t, dht.Config{Bootstrap: append([]peer.AddrInfo{silent}, ln.Bootstrap()...)})
	if err := n.Connect(testwait.Context(t)); err != nil {
		t.Fatalf("Connect = %v", err)
	}
	if n.PeerCount() == 0 {
		t.Fatal("Connect returned with an empty routing table")
	}
	// The silent peer was dialled too (perhaps only now: the dials run in
	// parallel), and its connection is still open.
	select {
	case <-accepted:
	case <-testwait.Context(t).Done():
		t.Fatal("the silent bootstrap peer was never dialled")
	}
	select {
	case <-ended:
		t.Fatal("Connect returned only after the dial to the silent peer ended")
	default:
	}
}
