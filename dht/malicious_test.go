package dht_test

import (
	"bytes"
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/dhtchat/dhtchat/dht"
	"github.com/dhtchat/dhtchat/dht/dhttest"
	"github.com/ipfs/go-datastore"
	dssync "github.com/ipfs/go-datastore/sync"
	recpb "github.com/libp2p/go-libp2p-record/pb"
	"google.golang.org/protobuf/proto"
)

// evilMode is how a malicious DHT server answers GET_VALUE for IPNS names.
type evilMode int

const (
	evilNone     evilMode = iota // claims to have nothing
	evilStale                    // serves the first record it ever got, forever
	evilCorrupt                  // flips a byte in the middle of the record
	evilTruncate                 // serves the first half of the record
	evilOversize                 // appends 64 KiB to the record
	evilSwap                     // serves a record of another name
)

var evilModes = []evilMode{evilNone, evilStale, evilCorrupt, evilTruncate, evilOversize, evilSwap}

func (m evilMode) String() string {
	return [...]string{"none", "stale", "corrupt", "truncate", "oversize", "swap"}[m]
}

// evilStore is a malicious server's datastore. kad-dht validates a record
// when a peer PUTs it, but serves what its datastore holds without looking
// again (handlers.go, handleGetValue): tampering with the datastore is how
// a server that lies on GET_VALUE is built from a stock kad-dht node.
type evilStore struct {
	datastore.Batching
	mode evilMode

	mu    sync.Mutex
	first map[datastore.Key][]byte // the first record stored under each key
	last  map[datastore.Key][]byte // the latest
}

func newEvilStore(mode evilMode) *evilStore {
	return &evilStore{
		Batching: dssync.MutexWrap(datastore.NewMapDatastore()),
		mode:     mode,
		first:    make(map[datastore.Key][]byte),
		last:     make(map[datastore.Key][]byte),
	}
}

func isIPNS(k datastore.Key) bool { return strings.HasPrefix(k.String(), "/ipns/") }

func (s *evilStore) Put(ctx context.Context, k datastore.Key, v []byte) error {
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

func (s *evilStore) Get(ctx context.Context, k datastore.Key) ([]byte, error) {
	v, err := s.Batching.Get(ctx, k)
	if err != nil || !isIPNS(k) {
		return v, err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	switch s.mode {
	case evilNone:
		return nil, datastore.ErrNotFound
	case evilStale:
		return s.first[k], nil
	case evilSwap:
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
	case evilCorrupt:
		val[len(val)/2] ^= 0x40
	case evilTruncate:
		val = val[:len(val)/2]
	case evilOversize:
		junk := make([]byte, 64<<10)
		rand.Read(junk)
		val = append(val, junk...)
	}
	rec.Value = val
	out, err := proto.Marshal(rec)
	if err != nil {
		panic(err)
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
		panic(err)
	}
	return out
}

// startEvilServer starts a DHT server with an evilStore on the loopback
// network net and waits until every honest server routes to it, so that
// it receives every Put and is asked on every Get.
func startEvilServer(t *testing.T, net *dht.LocalNetwork, mode evilMode) *evilStore {
	t.Helper()
	ctx, cancel := context.WithTimeout(t.Context(), 30*time.Second)
	defer cancel()
	store := newEvilStore(mode)
	n, err := dht.New(ctx, dht.Config{
		ListenAddrs: loopback, Bootstrap: net.Bootstrap(), Mode: dht.ModeServer, Datastore: store,
	})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if err := n.Close(); err != nil {
			t.Errorf("close evil server: %v", err)
		}
	})
	if err := n.Connect(ctx); err != nil {
		t.Fatal(err)
	}
	return store
}

// waitRouted waits until each honest server's routing table holds at
// least want peers.
func waitRouted(t *testing.T, net *dht.LocalNetwork, want int) {
	t.Helper()
	waitFor(t, 20*time.Second, fmt.Sprintf("every server to route to %d peers", want), func() bool {
		for _, s := range net.Servers() {
			if s.PeerCount() < want {
				return false
			}
		}
		return true
	})
}

// TestMaliciousServers: six malicious servers, one of each kind, outnumber
// the three honest ones. Every Get still returns the newest record with
// its exact payload: kad-dht discards what does not validate against the
// name (corrupt, truncated, oversized, another name's record), a server
// with nothing only costs a round trip, and the one stale server can't win
// against any honest answer because Select prefers the higher sequence
// number. Get never returns an error but "not found" for a name nobody
// wrote.
func TestMaliciousServers(t *testing.T) {
	net := dhttest.NewNetwork(t, 3)
	stores := map[evilMode]*evilStore{}
	for _, m := range evilModes {
		stores[m] = startEvilServer(t, net, m)
	}
	waitRouted(t, net, 2+len(evilModes))
	writer, reader := dhttest.NewClient(t, net), dhttest.NewClient(t, net)
	ctx := t.Context()

	pub, priv := newKey(t)
	other, otherPriv := newKey(t)
	// A record of another name, for the swapping server to serve.
	if err := writer.Put(ctx, otherPriv, 7, []byte("another name's payload")); err != nil {
		t.Fatal(err)
	}
	for seq := uint64(1); seq <= 3; seq++ {
		payload := bytes.Repeat([]byte{byte(seq)}, 9000)
		if err := writer.Put(ctx, priv, seq, payload); err != nil {
			t.Fatal(err)
		}
		for _, q := range []int{dht.DefaultQuorum, 1, 0} {
			rec, err := reader.Get(ctx, pub, dht.WithQuorum(q))
			if err != nil {
				t.Fatalf("seq %d, quorum %d: Get = %v", seq, q, err)
			}
			if rec.Seq != seq || !bytes.Equal(rec.Payload, payload) {
				t.Fatalf("seq %d, quorum %d: Get returned seq %d with %d bytes of payload", seq, q, rec.Seq, len(rec.Payload))
			}
		}
	}
	if rec, err := reader.Get(ctx, other); err != nil || rec.Seq != 7 {
		t.Fatalf("Get(other) = seq %d, %v", rec.Seq, err)
	}
	// The malicious servers really were asked to store the records: the
	// test is not passing because they were left out.
	for m, s := range stores {
		s.mu.Lock()
		n := len(s.last)
		s.mu.Unlock()
		if n < 2 {
			t.Errorf("the %v server stored %d records, want 2", m, n)
		}
	}
	nobody, _ := newKey(t)
	if _, err := reader.Get(ctx, nobody); !errors.Is(err, dht.ErrNotFound) {
		t.Fatalf("Get(unwritten name) = %v, want ErrNotFound", err)
	}
}

// TestOnlyMaliciousServers: when every server that holds a name lies, Get
// fails cleanly (not found, or the stale record, which carries a valid
// signature and is the chat layer's to reject by sequence number); it
// never returns a record that does not validate.
func TestOnlyMaliciousServers(t *testing.T) {
	for _, m := range evilModes {
		t.Run(m.String(), func(t *testing.T) {
			net := dhttest.NewNetwork(t, 1)
			startEvilServer(t, net, m)
			startEvilServer(t, net, m)
			waitRouted(t, net, 2)
			writer, reader := dhttest.NewClient(t, net), dhttest.NewClient(t, net)
			ctx := t.Context()
			pub, priv := newKey(t)
			_, otherPriv := newKey(t)
			if err := writer.Put(ctx, otherPriv, 1, []byte("other")); err != nil {
				t.Fatal(err)
			}
			if err := writer.Put(ctx, priv, 1, []byte("first")); err != nil {
				t.Fatal(err)
			}
			if err := writer.Put(ctx, priv, 2, []byte("second")); err != nil {
				t.Fatal(err)
			}
			// Take the one honest server away: only liars are left.
			if err := net.Servers()[0].Close(); err != nil {
				t.Fatal(err)
			}
			rec, err := reader.Get(ctx, pub, dht.WithTimeout(5*time.Second))
			switch {
			case m == evilStale:
				if err != nil || rec.Seq != 1 || string(rec.Payload) != "first" {
					t.Fatalf("Get = seq %d %q, %v; want the stale, valid record", rec.Seq, rec.Payload, err)
				}
			case err == nil:
				t.Fatalf("Get returned seq %d %q from servers that only lie", rec.Seq, rec.Payload)
			case !errors.Is(err, dht.ErrNotFound):
				t.Fatalf("Get = %v, want ErrNotFound", err)
			}
		})
	}
}
