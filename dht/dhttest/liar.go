package dhttest

import (
	"bytes"
	"context"
	"crypto/rand"
	"strings"
	"sync"
	"testing"

	"github.com/ipfs/go-datastore"
	dssync "github.com/ipfs/go-datastore/sync"
	recpb "github.com/libp2p/go-libp2p-record/pb"
	"github.com/multiformats/go-multiaddr"
	"google.golang.org/protobuf/proto"

	"github.com/dhtchat/dhtchat/dht"
	"github.com/dhtchat/dhtchat/internal/testwait"
)

// LieMode is how a malicious DHT server answers GET_VALUE for IPNS names.
type LieMode int

const (
	LieNone     LieMode = iota // claims to have nothing
	LieStale                   // serves the first record it ever got, forever
	LieCorrupt                 // flips a byte in the middle of the record
	LieTruncate                // serves the first half of the record
	LieOversize                // appends 64 KiB to the record
	LieSwap                    // serves a record of another name
)

// LieModes are all the ways a LyingStore lies.
var LieModes = []LieMode{LieNone, LieStale, LieCorrupt, LieTruncate, LieOversize, LieSwap}

func (m LieMode) String() string {
	return [...]string{"none", "stale", "corrupt", "truncate", "oversize", "swap"}[m]
}

// LyingStore is a malicious server's datastore. kad-dht validates a record
// when a peer PUTs it, but serves what its datastore holds without looking
// again (handlers.go, handleGetValue): tampering with the datastore is how
// a server that lies on GET_VALUE is built from a stock kad-dht node.
type LyingStore struct {
	datastore.Batching
	mode LieMode

	mu    sync.Mutex
	first map[datastore.Key][]byte // the first record stored under each key
	last  map[datastore.Key][]byte // the latest
}

// NewLyingStore returns an in-memory datastore that lies as mode says.
func NewLyingStore(mode LieMode) *LyingStore {
	return &LyingStore{
		Batching: dssync.MutexWrap(datastore.NewMapDatastore()),
		mode:     mode,
		first:    make(map[datastore.Key][]byte),
		last:     make(map[datastore.Key][]byte),
	}
}

// Stored returns how many IPNS records the store was given.
func (s *LyingStore) Stored() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return len(s.last)
}

func isIPNS(k datastore.Key) bool { return strings.HasPrefix(k.String(), "/ipns/") }

// Put stores v, remembering the first and latest record of each name.
func (s *LyingStore) Put(ctx context.Context, k datastore.Key, v []byte) error {
	if isIPNS(k) {
		s.mu.Lock()
		if _, ok := s.first[k]; !ok {
			s.first[k] = bytes.Clone(v)
		}
		s.last[k] = bytes.Clone(v)
		s.mu.Unlock()
	}
	return s.Batching.Put(ctx, k, v)
}

// Get returns what the store holds for k, lied about if k is an IPNS name.
func (s *LyingStore) Get(ctx context.Context, k datastore.Key) ([]byte, error) {
	v, err := s.Batching.Get(ctx, k)
	if err != nil || !isIPNS(k) {
		return v, err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	switch s.mode {
	case LieNone:
		return nil, datastore.ErrNotFound
	case LieStale:
		return s.first[k], nil
	case LieSwap:
		for other, ov := range s.last {
			if other != k {
				return rekey(ov, v), nil
			}
		}
		return v, nil
	}
	rec := new(recpb.Record)
	if err := proto.Unmarshal(v, rec); err != nil {
		return v, nil
	}
	val := bytes.Clone(rec.Value)
	switch s.mode {
	case LieCorrupt:
		val[len(val)/2] ^= 0x40
	case LieTruncate:
		val = val[:len(val)/2]
	case LieOversize:
		junk := make([]byte, 64<<10)
		rand.Read(junk)
		val = append(val, junk...)
	}
	rec.Value = val
	out, err := proto.Marshal(rec)
	if err != nil {
		panic(err) // a record that was just unmarshalled
	}
	return out, nil
}

// rekey returns the stored record other filed under the key of the stored
// record mine, so that kad-dht serves it for mine's name.
func rekey(other, mine []byte) []byte {
	o, m := new(recpb.Record), new(recpb.Record)
	if proto.Unmarshal(other, o) != nil || proto.Unmarshal(mine, m) != nil {
		return mine
	}
	o.Key = m.Key
	out, err := proto.Marshal(o)
	if err != nil {
		panic(err) // a record that was just unmarshalled
	}
	return out
}

// NewLiar starts a DHT server with a LyingStore on net, connected to it,
// and closes it when the test ends. Use WaitRouted before relying on the
// honest servers knowing it.
func NewLiar(tb testing.TB, net *dht.LocalNetwork, mode LieMode) *LyingStore {
	tb.Helper()
	ctx, cancel := context.WithTimeout(tb.Context(), testwait.Timeout)
	defer cancel()
	store := NewLyingStore(mode)
	n, err := dht.New(ctx, dht.Config{
		ListenAddrs: []multiaddr.Multiaddr{multiaddr.StringCast(dht.LocalListenAddr)},
		Bootstrap:   net.Bootstrap(), Mode: dht.ModeServer, Datastore: store,
		Timeouts: dht.LocalTimeouts(),
	})
	if err != nil {
		tb.Fatalf("dhttest: start lying server: %v", err)
	}
	tb.Cleanup(func() {
		if err := n.Close(); err != nil {
			tb.Errorf("dhttest: close lying server: %v", err)
		}
	})
	if err := n.Connect(ctx); err != nil {
		tb.Fatalf("dhttest: connect lying server: %v", err)
	}
	return store
}

// WaitRouted waits until each server of net routes to at least want peers.
func WaitRouted(tb testing.TB, net *dht.LocalNetwork, want int) {
	tb.Helper()
	if err := net.WaitRouted(testwait.Context(tb), want); err != nil {
		tb.Fatalf("dhttest: waiting for every server to route to %d peers: %v", want, err)
	}
}
