package main

import (
	"github.com/dhtchat/dhtchat/chat"
	"github.com/libp2p/go-libp2p/core/peer"
	"github.com/multiformats/go-multiaddr"
	manet "github.com/multiformats/go-multiaddr/net"
)

// liveConfig is the live path of a long-running session (README, "The
// live path"): DHTCHAT_LIVE is direct (the default), relay-only or
// dht-only; DHTCHAT_RELAYS lists the relays (`dhtchat node` relays) as
// multiaddrs ending in /p2p/<peer id>, separated by commas. Loopback
// addresses are announced to the friend when every bootstrap peer is on
// loopback (a local network, the tests).
func (e *env) liveConfig(bootstrap []peer.AddrInfo) (chat.LiveConfig, error) {
	st, err := e.settings()
	if err != nil {
		return chat.LiveConfig{}, err
	}
	mode := st.liveMode
	cfg := chat.LiveConfig{Mode: mode, AnnounceLoopback: allLoopback(bootstrap), Relays: st.relays}
	if cfg.AnnounceLoopback && mode == chat.LiveDirect {
		cfg.ListenAddrs = []multiaddr.Multiaddr{multiaddr.StringCast("/ip4/127.0.0.1/tcp/0")}
	}
	return cfg, nil
}

// allLoopback reports whether there are peers and every address of each
// is a loopback one.
func allLoopback(peers []peer.AddrInfo) bool {
	if len(peers) == 0 {
		return false
	}
	for _, p := range peers {
		for _, a := range p.Addrs {
			if !manet.IsIPLoopback(a) {
				return false
			}
		}
	}
	return true
}
