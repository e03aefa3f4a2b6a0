package dht

import (
	"errors"
	"fmt"
	"strings"

	"github.com/libp2p/go-libp2p/core/peer"
	"github.com/multiformats/go-multiaddr"
)

var (
	// ErrNoPeerID means a bootstrap address lacks its /p2p/<peer id>
	// part. It is the Err of an *AddrError, whose message names the
	// package.
	ErrNoPeerID = errors.New("does not end in /p2p/<peer id>")
	// ErrEmptyBootstrap means a bootstrap list holds no address at all.
	ErrEmptyBootstrap = errors.New("dht: empty bootstrap list")
)

// AddrError is a malformed address in a bootstrap list.
type AddrError struct {
	Addr string // the address as given
	Err  error  // what is wrong with it
}

func (e *AddrError) Error() string {
	return fmt.Sprintf("dht: bad bootstrap address %q: %v", e.Addr, e.Err)
}

func (e *AddrError) Unwrap() error { return e.Err }

// ParseBootstrap parses a comma-separated list of multiaddrs, each ending in
// /p2p/<peer id>, such as the lines "dhtchat node" prints. Spaces around
// entries and empty entries are ignored; addresses of the same peer are
// merged, in order of first appearance. A malformed entry gives an *AddrError;
// a list with no address at all gives ErrEmptyBootstrap, so that an empty
// flag or variable never silently means "no bootstrap peers".
func ParseBootstrap(list string) ([]peer.AddrInfo, error) {
	var infos []peer.AddrInfo
	index := make(map[peer.ID]int)
	for s := range strings.SplitSeq(list, ",") {
		s = strings.TrimSpace(s)
		if s == "" {
			continue
		}
		a, err := multiaddr.NewMultiaddr(s)
		if err != nil {
			return nil, &AddrError{Addr: s, Err: err}
		}
		transport, id := peer.SplitAddr(a)
		if id == "" {
			return nil, &AddrError{Addr: s, Err: ErrNoPeerID}
		}
		i, ok := index[id]
		if !ok {
			i = len(infos)
			index[id] = i
			infos = append(infos, peer.AddrInfo{ID: id})
		}
		if len(transport) > 0 {
			infos[i].Addrs = append(infos[i].Addrs, transport)
		}
	}
	if len(infos) == 0 {
		return nil, ErrEmptyBootstrap
	}
	return infos, nil
}
