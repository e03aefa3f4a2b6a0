package live

import (
	"context"
	"slices"
	"time"

	"github.com/libp2p/go-libp2p/core/network"
	"github.com/libp2p/go-libp2p/core/peer"
	"github.com/libp2p/go-libp2p/p2p/protocol/circuitv2/client"
	"github.com/multiformats/go-multiaddr"
)

// Relay reservations. The host keeps a reservation with each of
// Config.Relays (the user's own `dhtchat node`s) itself, with the circuit
// relay v2 client, rather than through libp2p's AutoRelay: AutoRelay (in
// go-libp2p v0.51.0) builds circuit addresses only from a relay's public
// addresses, so a node on a LAN or on loopback is never used, and it
// reserves only once AutoNAT has decided the host is private, which takes
// public peers that a private network does not have. With the user's
// relays known in advance, a reservation is one request, renewed at half
// its lifetime and at once when the relay's connection drops.

const (
	reserveTimeout = 30 * time.Second
	minBackoff     = time.Second
	maxBackoff     = time.Minute
)

// keepReservation holds a reservation with the relay ai until the host
// closes, and publishes its circuit addresses while it holds one.
func (h *Host) keepReservation(ai peer.AddrInfo, lost <-chan struct{}) {
	defer h.wg.Done()
	backoff := minBackoff
	timer := time.NewTimer(0)
	defer timer.Stop()
	for {
		ctx, cancel := context.WithTimeout(h.life, reserveTimeout)
		rsvp, err := client.Reserve(ctx, h.h, ai)
		cancel()
		var wait time.Duration
		if err != nil {
			if h.life.Err() != nil {
				return
			}
			h.log.Debug("live: relay reservation failed", "relay", ai.ID, "err", err)
			h.setRelayAddrs(ai.ID, nil)
			wait, backoff = backoff, min(2*backoff, maxBackoff)
		} else {
			backoff = minBackoff
			h.setRelayAddrs(ai.ID, circuitAddrs(ai))
			wait = max(time.Until(rsvp.Expiration)/2, minBackoff)
			h.log.Debug("live: relay reservation", "relay", ai.ID, "expires", rsvp.Expiration)
		}
		timer.Reset(wait)
		select {
		case <-h.life.Done():
			return
		case <-timer.C:
		case <-lost:
			h.setRelayAddrs(ai.ID, nil)
		}
	}
}

// circuitAddrs returns the addresses at which the relay ai relays to this
// host: each of the relay's addresses followed by /p2p/<relay>/p2p-circuit.
func circuitAddrs(ai peer.AddrInfo) []multiaddr.Multiaddr {
	suffix, err := multiaddr.NewMultiaddr("/p2p/" + ai.ID.String() + "/p2p-circuit")
	if err != nil {
		return nil
	}
	var out []multiaddr.Multiaddr
	for _, a := range ai.Addrs {
		if isCircuit(a) {
			continue
		}
		out = append(out, a.Encapsulate(suffix))
	}
	return out
}

// setRelayAddrs records the circuit addresses through relay id (nil: none)
// and signals AddrsChanged if they changed.
func (h *Host) setRelayAddrs(id peer.ID, addrs []multiaddr.Multiaddr) {
	h.mu.Lock()
	old := h.relayAddrs[id]
	same := slices.EqualFunc(old, addrs, func(a, b multiaddr.Multiaddr) bool { return a.Equal(b) })
	if addrs == nil {
		delete(h.relayAddrs, id)
	} else {
		h.relayAddrs[id] = addrs
	}
	if !same {
		// Under the lock (the send never blocks), so that whoever sees
		// the new addresses in Addrs finds the signal already sent.
		h.signalChanged()
	}
	h.mu.Unlock()
}

func (h *Host) signalChanged() {
	select {
	case h.changed <- struct{}{}:
	default:
	}
}

// relayNotifiee tells each relay's keeper when its last connection to the
// relay closed: the reservation went with it.
func (h *Host) relayNotifiee(lost map[peer.ID]chan struct{}) network.Notifiee {
	return &network.NotifyBundle{
		DisconnectedF: func(n network.Network, c network.Conn) {
			ch, ok := lost[c.RemotePeer()]
			if !ok || n.Connectedness(c.RemotePeer()) == network.Connected {
				return
			}
			select {
			case ch <- struct{}{}:
			default:
			}
		},
	}
}
