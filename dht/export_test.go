package dht

import (
	"crypto/ed25519"
	"time"

	"github.com/libp2p/go-libp2p/core/host"
	"github.com/libp2p/go-libp2p/core/peer"
)

// Exported for the tests in package dht_test, which can use dhttest (an
// internal test could not: dhttest imports dht).
var (
	EncodeRecord     = encodeRecord
	DecodeRecord     = decodeRecord
	EncodeRecordLive = encodeRecordLive
)

// HostOf returns n's libp2p host, for tests that speak the DHT wire
// protocol themselves.
func HostOf(n *Node) host.Host { return n.host }

// Servers returns the network's server nodes. The caller must not close
// them; Close does.
func (ln *LocalNetwork) Servers() []*Node { return append([]*Node(nil), ln.servers...) }

// WithQuorum makes Get return once more than n peers have answered with a
// record (kad-dht's Quorum option), instead of DefaultQuorum. Zero means a
// full lookup: ask every peer on the way to the name, slower but the most
// complete answer. Negative values count as zero.
func WithQuorum(n int) GetOption {
	return func(o *getOptions) { o.quorum = max(n, 0) }
}

// WithTimeout bounds Get by d instead of the Node's Timeouts.Get.
// Non-positive values are ignored.
func WithTimeout(d time.Duration) GetOption {
	return func(o *getOptions) {
		if d > 0 {
			o.timeout = d
		}
	}
}

// RoutingKey returns the DHT key under which the record of pub is stored:
// "/ipns/" followed by the binary peer ID, as ipns.Name.RoutingKey has it.
func RoutingKey(pub ed25519.PublicKey) (string, error) {
	pid, err := peerID(pub)
	if err != nil {
		return "", err
	}
	return routingKey(pid), nil
}

// ID returns the node's peer ID.
func (n *Node) ID() peer.ID { return n.host.ID() }

// Mode returns the mode the node was started in.
func (n *Node) Mode() Mode { return n.mode }
