package dht_test

import (
	"bytes"
	"errors"
	"testing"

	"github.com/dhtchat/dhtchat/dht"
	"github.com/dhtchat/dhtchat/dht/dhttest"
	"github.com/dhtchat/dhtchat/internal/testwait"
)

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
	stores := map[dhttest.LieMode]*dhttest.LyingStore{}
	for _, m := range dhttest.LieModes {
		stores[m] = dhttest.NewLiar(t, net, m)
	}
	dhttest.WaitRouted(t, net, 2+len(dhttest.LieModes))
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
		if n := s.Stored(); n < 2 {
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
	for _, m := range dhttest.LieModes {
		t.Run(m.String(), func(t *testing.T) {
			net := dhttest.NewNetwork(t, 1)
			dhttest.NewLiar(t, net, m)
			dhttest.NewLiar(t, net, m)
			dhttest.WaitRouted(t, net, 2)
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
			// Connect returns at the first routing-table peer; the
			// refresh it starts brings in the liars. Wait for them, or
			// the reader has nobody left to ask.
			testwait.Until(t, "the reader routes to all three servers", func() bool { return reader.PeerCount() >= 3 })
			// Take the one honest server away: only liars are left.
			if err := net.Servers()[0].Close(); err != nil {
				t.Fatal(err)
			}
			rec, err := reader.Get(ctx, pub, dht.WithTimeout(testwait.Timeout))
			switch {
			case m == dhttest.LieStale:
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
