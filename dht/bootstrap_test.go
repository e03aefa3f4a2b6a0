package dht_test

import (
	"errors"
	"slices"
	"testing"

	"github.com/dhtchat/dhtchat/dht"
	"github.com/dhtchat/dhtchat/dht/dhttest"
	"github.com/libp2p/go-libp2p/core/peer"
)

const (
	idA = "12D3KooWDpJ7As7BWAwRMfu1VU2WCqNjvq387JEYKDBj4kx6nXTN"
	idB = "QmNnooDu7bfjPFoTZYxMNLWUQJyrVwtbZg5gBMjTezGAJN"
)

func TestParseBootstrap(t *testing.T) {
	type want struct {
		id    string
		addrs []string
	}
	for _, tc := range []struct {
		in   string
		want []want
		err  error // nil: must succeed
	}{
		{"/ip4/127.0.0.1/tcp/4001/p2p/" + idA, []want{{idA, []string{"/ip4/127.0.0.1/tcp/4001"}}}, nil},
		{" /ip4/1.2.3.4/tcp/1/p2p/" + idA + " , /dns4/example.com/udp/4001/quic-v1/p2p/" + idB + ",",
			[]want{{idA, []string{"/ip4/1.2.3.4/tcp/1"}}, {idB, []string{"/dns4/example.com/udp/4001/quic-v1"}}}, nil},
		// Addresses of one peer merge, in order.
		{"/ip4/1.2.3.4/tcp/1/p2p/" + idA + ",/ip6/::1/tcp/2/p2p/" + idB + ",/ip4/1.2.3.4/udp/1/quic-v1/p2p/" + idA,
			[]want{{idA, []string{"/ip4/1.2.3.4/tcp/1", "/ip4/1.2.3.4/udp/1/quic-v1"}}, {idB, []string{"/ip6/::1/tcp/2"}}}, nil},
		// A bare peer ID is allowed: its addresses may be known otherwise.
		{"/p2p/" + idA, []want{{idA, nil}}, nil},
		{",,  ,/p2p/" + idA + ",,", []want{{idA, nil}}, nil},

		{"", nil, dht.ErrEmptyBootstrap},
		{" , ,", nil, dht.ErrEmptyBootstrap},
		{"/ip4/127.0.0.1/tcp/4001", nil, dht.ErrNoPeerID},
		{"/ip4/127.0.0.1/tcp/4001/p2p/" + idA + ",/ip4/127.0.0.1/tcp/4002", nil, dht.ErrNoPeerID},
		{"garbage", nil, &dht.AddrError{}},
		{"/ip4/999.0.0.1/tcp/1/p2p/" + idA, nil, &dht.AddrError{}},
		{"/ip4/127.0.0.1/tcp/1/p2p/notapeerid", nil, &dht.AddrError{}},
		{"/ip4/127.0.0.1/tcp/1/p2p/" + idA + " /ip4/127.0.0.1/tcp/2/p2p/" + idB, nil, &dht.AddrError{}}, // spaces do not separate
		{"12D3KooWDpJ7As7BWAwRMfu1VU2WCqNjvq387JEYKDBj4kx6nXTN", nil, &dht.AddrError{}},
	} {
		got, err := dht.ParseBootstrap(tc.in)
		if tc.err != nil {
			var ae *dht.AddrError
			switch want := tc.err.(type) {
			case *dht.AddrError:
				if !errors.As(err, &ae) {
					t.Errorf("ParseBootstrap(%q) = %v, %v; want *AddrError", tc.in, got, err)
				}
			default:
				if !errors.Is(err, want) {
					t.Errorf("ParseBootstrap(%q) = %v, %v; want %v", tc.in, got, err, want)
				}
			}
			if err != nil && err.Error()[:4] != "dht:" {
				t.Errorf("ParseBootstrap(%q) error %q lacks the dht: prefix", tc.in, err)
			}
			continue
		}
		if err != nil {
			t.Errorf("ParseBootstrap(%q) = %v", tc.in, err)
			continue
		}
		var gotW []want
		for _, ai := range got {
			w := want{id: ai.ID.String()}
			for _, a := range ai.Addrs {
				w.addrs = append(w.addrs, a.String())
			}
			gotW = append(gotW, w)
		}
		if !slices.EqualFunc(gotW, tc.want, func(a, b want) bool { return a.id == b.id && slices.Equal(a.addrs, b.addrs) }) {
			t.Errorf("ParseBootstrap(%q) = %v, want %v", tc.in, gotW, tc.want)
		}
	}
}

func TestFormatBootstrap(t *testing.T) {
	in := "/ip4/1.2.3.4/tcp/1/p2p/" + idA + ",/ip4/1.2.3.4/udp/1/quic-v1/p2p/" + idA + ",/ip6/::1/tcp/2/p2p/" + idB
	peers, err := dht.ParseBootstrap(in)
	if err != nil {
		t.Fatal(err)
	}
	if got := dhttest.FormatBootstrap(peers); got != in {
		t.Errorf("FormatBootstrap(ParseBootstrap(%q)) = %q", in, got)
	}
	if got := dhttest.FormatBootstrap([]peer.AddrInfo{}); got != "" {
		t.Errorf("FormatBootstrap(nil) = %q, want \"\"", got)
	}
}

func TestDefaultBootstrapPeers(t *testing.T) {
	peers := dht.DefaultBootstrapPeers()
	if len(peers) == 0 {
		t.Fatal("DefaultBootstrapPeers() is empty")
	}
	for _, ai := range peers {
		if ai.ID == "" || len(ai.Addrs) == 0 {
			t.Errorf("DefaultBootstrapPeers() has %v without ID or addresses", ai)
		}
	}
}
