package main

import (
	"strings"

	"github.com/dhtchat/dhtchat/chat"
	"github.com/dhtchat/dhtchat/internal/userr"
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

// liveSignalsOff reads DHTCHAT_TYPING and DHTCHAT_READ_RECEIPTS: "on"
// (the default) or "off" each. Off, the client neither sends typing
// indicators (read receipts) nor shows the friend's; both ride on the
// live path only.
func (e *env) liveSignalsOff() (noTyping, noRead bool, err error) {
	off := func(name string) (bool, error) {
		switch v := strings.TrimSpace(e.getenv(name)); v {
		case "", "on":
			return false, nil
		case "off":
			return true, nil
		default:
			return false, userr.Usagef("bad %s %q", name, v).WithHint("give on or off")
		}
	}
	if noTyping, err = off("DHTCHAT_TYPING"); err != nil {
		return false, false, err
	}
	noRead, err = off("DHTCHAT_READ_RECEIPTS")
	return noTyping, noRead, err
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
