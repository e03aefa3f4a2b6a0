package dht

import "github.com/libp2p/go-libp2p/core/host"

// Exported for the tests in package dht_test, which can use dhttest (an
// internal test could not: dhttest imports dht).
var (
	EncodeRecord = encodeRecord
	DecodeRecord = decodeRecord
)

// HostOf returns n's libp2p host, for tests that speak the DHT wire
// protocol themselves.
func HostOf(n *Node) host.Host { return n.host }
