package dht_test

import (
	"bytes"
	"context"
	"path/filepath"
	"testing"

	"github.com/dhtchat/dhtchat/dht"
	"github.com/libp2p/go-libp2p/core/crypto"
	"github.com/libp2p/go-libp2p/core/peer"
	"github.com/multiformats/go-multiaddr"
)

// A "dhtchat node" server keeps the records it stored across a restart on
// the same address, with the same identity and datastore.
func TestServerRestartKeepsRecords(t *testing.T) {
	dir := t.TempDir()
	id, err := dht.LoadOrCreateIdentity(filepath.Join(dir, "identity"))
	if err != nil {
		t.Fatal(err)
	}
	pub, priv := newKey(t)
	payload := []byte("still here after the restart")

	// First run: a lone server, and a client that puts a record to it.
	first := runServer(t, filepath.Join(dir, "datastore"), id, loopback, func(srv *dht.Node) {
		c := newNode(t, dht.Config{Bootstrap: []peer.AddrInfo{srv.AddrInfo()}})
		if err := c.Connect(t.Context()); err != nil {
			t.Fatalf("client Connect: %v", err)
		}
		if err := c.Put(t.Context(), priv, 7, payload); err != nil {
			t.Fatalf("Put: %v", err)
		}
		if err := c.Close(); err != nil {
			t.Fatal(err)
		}
	})

	// Second run: the same port, identity and datastore. A new client that
	// knows only the first run's address gets the record from it alone.
	var tcp multiaddr.Multiaddr
	for _, a := range first.Addrs {
		if _, err := a.ValueForProtocol(multiaddr.P_TCP); err == nil {
			tcp = a
		}
	}
	if tcp == nil {
		t.Fatalf("first run had no TCP address: %v", first.Addrs)
	}
	runServer(t, filepath.Join(dir, "datastore"), id, []multiaddr.Multiaddr{tcp}, func(srv *dht.Node) {
		if srv.ID() != first.ID {
			t.Fatalf("restarted server is %s, want %s", srv.ID(), first.ID)
		}
		c := newNode(t, dht.Config{Bootstrap: []peer.AddrInfo{first}})
		if err := c.Connect(t.Context()); err != nil {
			t.Fatalf("client Connect to restarted server: %v", err)
		}
		rec, err := c.Get(t.Context(), pub, dht.WithQuorum(0))
		if err != nil {
			t.Fatalf("Get after restart: %v", err)
		}
		if rec.Seq != 7 || !bytes.Equal(rec.Payload, payload) {
			t.Fatalf("Get after restart = seq %d %q, want 7 %q", rec.Seq, rec.Payload, payload)
		}
	})
}

// runServer runs a server with a LevelDB datastore in dir until f returns,
// then closes the server and the datastore, and returns its address.
func runServer(t *testing.T, dir string, id crypto.PrivKey, listen []multiaddr.Multiaddr, f func(*dht.Node)) peer.AddrInfo {
	t.Helper()
	ds, err := dht.OpenDatastore(dir)
	if err != nil {
		t.Fatalf("OpenDatastore: %v", err)
	}
	srv, err := dht.New(context.Background(), dht.Config{
		ListenAddrs: listen,
		Bootstrap:   []peer.AddrInfo{},
		Mode:        dht.ModeServer,
		Identity:    id,
		Datastore:   ds,
	})
	if err != nil {
		ds.Close()
		t.Fatalf("New server: %v", err)
	}
	ai := srv.AddrInfo()
	defer func() {
		if err := srv.Close(); err != nil {
			t.Errorf("close server: %v", err)
		}
		if err := ds.Close(); err != nil {
			t.Errorf("close datastore: %v", err)
		}
	}()
	f(srv)
	return ai
}

func TestOpenDatastore(t *testing.T) {
	if _, err := dht.OpenDatastore(""); err == nil {
		t.Error("OpenDatastore(\"\") succeeded")
	}
	dir := t.TempDir()
	ds, err := dht.OpenDatastore(dir)
	if err != nil {
		t.Fatal(err)
	}
	defer ds.Close()
	// LevelDB locks its directory: a second node cannot share it.
	if ds2, err := dht.OpenDatastore(dir); err == nil {
		ds2.Close()
		t.Error("second OpenDatastore of the same directory succeeded")
	}
}
