package live

import (
	"github.com/libp2p/go-libp2p/core/control"
	"github.com/libp2p/go-libp2p/core/network"
	"github.com/libp2p/go-libp2p/core/peer"
	"github.com/multiformats/go-multiaddr"
)

// relayOnlyGater keeps a relay-only host from ever dialling anyone
// directly but its relays. Filtering the friend's announced addresses is
// not enough: identify, over the relayed connection, tells libp2p the
// friend's direct addresses, and libp2p would dial them for the next
// stream, showing the friend the user's IP address.
type relayOnlyGater struct {
	relays map[peer.ID]bool
}

func (g relayOnlyGater) InterceptPeerDial(peer.ID) bool { return true }

func (g relayOnlyGater) InterceptAddrDial(p peer.ID, a multiaddr.Multiaddr) bool {
	return g.relays[p] || isCircuit(a)
}

func (g relayOnlyGater) InterceptAccept(network.ConnMultiaddrs) bool { return true }

func (g relayOnlyGater) InterceptSecured(network.Direction, peer.ID, network.ConnMultiaddrs) bool {
	return true
}

func (g relayOnlyGater) InterceptUpgraded(network.Conn) (bool, control.DisconnectReason) {
	return true, 0
}
