package dht

import (
	"slices"
	"testing"

	"github.com/libp2p/go-libp2p/core/peer"
	"github.com/multiformats/go-multiaddr"
)

// TestAdvertised: with the public bootstrap list the host's AddrsFactory
// drops loopback, private-network and link-local addresses and keeps
// public ones; on a local network (bootstrap peers on loopback or a LAN,
// or none) it keeps them all.
func TestAdvertised(t *testing.T) {
	ma := func(ss ...string) []multiaddr.Multiaddr {
		var out []multiaddr.Multiaddr
		for _, s := range ss {
			out = append(out, multiaddr.StringCast(s))
		}
		return out
	}
	public := ma("/ip4/203.0.113.7/tcp/4001", "/ip4/8.8.4.4/udp/4001/quic-v1", "/ip6/2001:4860::1/tcp/4001")
	private := ma("/ip4/127.0.0.1/tcp/4001", "/ip4/10.1.2.3/tcp/4001", "/ip4/192.168.1.5/udp/4001/quic-v1",
		"/ip4/172.16.0.9/tcp/4001", "/ip4/100.64.0.1/tcp/4001", "/ip4/169.254.3.4/tcp/4001",
		"/ip6/::1/tcp/4001", "/ip6/fe80::1/tcp/4001", "/ip6/fd00::1/tcp/4001")
	all := slices.Concat(private, public)
	peerAt := func(addr string) []peer.AddrInfo {
		return []peer.AddrInfo{{ID: "peer", Addrs: ma(addr)}}
	}
	for _, c := range []struct {
		name      string
		bootstrap []peer.AddrInfo
		want      []multiaddr.Multiaddr
	}{
		{"public bootstrap peers", DefaultBootstrapPeers(), public},
		{"a public bootstrap peer", peerAt("/ip4/203.0.113.1/tcp/4001"), public},
		{"loopback bootstrap peers", peerAt("/ip4/127.0.0.1/tcp/4001"), all},
		{"LAN bootstrap peers", peerAt("/ip4/192.168.1.5/tcp/4001"), all},
		{"no bootstrap peers", []peer.AddrInfo{}, all},
	} {
		n := &Node{}
		n.setBootstrap(c.bootstrap)
		in := slices.Clone(all)
		if got := n.advertised(in); !slices.EqualFunc(got, c.want, multiaddr.Multiaddr.Equal) {
			t.Errorf("%s: advertised %v, want %v", c.name, got, c.want)
		}
		if !slices.EqualFunc(in, all, multiaddr.Multiaddr.Equal) {
			t.Errorf("%s: advertised changed its argument", c.name)
		}
	}
}
