package dht_test

import (
	"testing"

	"github.com/libp2p/go-libp2p"
	"github.com/libp2p/go-libp2p/core/event"
	"github.com/libp2p/go-libp2p/core/peer"
	"github.com/multiformats/go-multiaddr"
	manet "github.com/multiformats/go-multiaddr/net"

	"github.com/dhtchat/dhtchat/dht"
	"github.com/dhtchat/dhtchat/dht/dhttest"
	"github.com/dhtchat/dhtchat/internal/testwait"
)

// identifiedAddrs connects a plain libp2p host to n and returns the
// listen addresses n told it in identify: what any DHT peer learns, and
// passes on to whoever looks n up.
func identifiedAddrs(t *testing.T, n *dht.Node) []multiaddr.Multiaddr {
	t.Helper()
	h, err := libp2p.New(libp2p.ListenAddrs(loopback...), libp2p.DisableMetrics())
	if err != nil {
		t.Fatal(err)
	}
	defer h.Close()
	sub, err := h.EventBus().Subscribe(new(event.EvtPeerIdentificationCompleted))
	if err != nil {
		t.Fatal(err)
	}
	defer sub.Close()
	ctx := testwait.Context(t)
	if err := h.Connect(ctx, n.AddrInfo()); err != nil {
		t.Fatal(err)
	}
	for {
		select {
		case e := <-sub.Out():
			if ev := e.(event.EvtPeerIdentificationCompleted); ev.Peer == n.AddrInfo().ID {
				return ev.ListenAddrs
			}
		case <-ctx.Done():
			t.Fatal("no identify from the node")
		}
	}
}

// publicBootstrap is the public IPFS bootstrap list by peer ID only: a
// node configured with it is on the public network, and the test dials
// nothing but loopback.
func publicBootstrap() []peer.AddrInfo {
	var ids []peer.AddrInfo
	for _, ai := range dht.DefaultBootstrapPeers() {
		ids = append(ids, peer.AddrInfo{ID: ai.ID})
	}
	return ids
}

// TestPublicNodeHidesPrivateAddrs: a node bootstrapping from the public
// network does not advertise its loopback (or any other private)
// addresses in identify, though it still lists them for its operator
// (Addrs); a node of a local network advertises them, and works.
func TestPublicNodeHidesPrivateAddrs(t *testing.T) {
	listen := []multiaddr.Multiaddr{
		multiaddr.StringCast("/ip4/127.0.0.1/tcp/0"),
		multiaddr.StringCast("/ip4/127.0.0.1/udp/0/quic-v1"),
	}
	public := newNode(t, dht.Config{Mode: dht.ModeServer, ListenAddrs: listen, Bootstrap: publicBootstrap()})
	if len(public.Addrs()) != 2 {
		t.Errorf("Addrs() = %v, want both listen addresses", public.Addrs())
	}
	for _, a := range identifiedAddrs(t, public) {
		if manet.IsPrivateAddr(a) {
			t.Errorf("a node on the public network advertises %s", a)
		}
	}

	ln := dhttest.NewNetwork(t, 3)
	local := newNode(t, dht.Config{Mode: dht.ModeServer, ListenAddrs: listen, Bootstrap: ln.Bootstrap()})
	if got := identifiedAddrs(t, local); len(got) != 2 {
		t.Errorf("a node on a local network advertises %v, want its two loopback addresses", got)
	}
	if err := local.Connect(testwait.Context(t)); err != nil {
		t.Fatalf("Connect on the local network: %v", err)
	}
	for _, s := range ln.Servers() {
		if got := identifiedAddrs(t, s); len(got) == 0 {
			t.Errorf("a LocalNetwork server advertises no address")
		}
	}
}
