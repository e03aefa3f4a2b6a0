package main

import (
	"bufio"
	"crypto/ecdh"
	"crypto/rand"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/libp2p/go-libp2p/core/peer"

	"github.com/dhtchat/dhtchat/chat/live"
	"github.com/dhtchat/dhtchat/chat/wire"
	"github.com/dhtchat/dhtchat/internal/testwait"
)

// startRelayNode runs "dhtchat node --relay" in home and returns its DHT
// address and its relay's address, as it prints them, and a function that
// stops it with SIGTERM.
func startRelayNode(t *testing.T, home string) (dhtAddr string, relay peer.AddrInfo, stop func()) {
	t.Helper()
	node := &cliUser{name: "node", home: home}
	cmd := node.cmd("node", "--listen", "/ip4/127.0.0.1/tcp/0", "--bootstrap", "none",
		"--relay-listen", "/ip4/127.0.0.1/tcp/0")
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	var stderr strings.Builder
	cmd.Stderr = &stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { cmd.Process.Kill(); cmd.Wait() })
	lines := bufio.NewScanner(out)
	for lines.Scan() {
		line := lines.Text()
		if a, ok := strings.CutPrefix(line, "relay "); ok {
			ai, err := peer.AddrInfoFromString(a)
			if err != nil {
				t.Fatalf("relay line %q: %v", line, err)
			}
			relay = *ai
			break
		}
		if dhtAddr == "" {
			dhtAddr = line
		}
	}
	if dhtAddr == "" || relay.ID == "" {
		t.Fatalf("node printed DHT address %q and no relay line; stderr: %s", dhtAddr, stderr.String())
	}
	return dhtAddr, relay, func() {
		t.Helper()
		cmd.Process.Signal(syscall.SIGTERM)
		if err := cmd.Wait(); err != nil {
			t.Fatalf("node after SIGTERM: %v; stderr: %s", err, stderr.String())
		}
	}
}

// TestCLINodeRelay: "dhtchat node --relay" runs a relay with a peer ID of
// its own (not the DHT node's), the same after a restart, through which
// two relay-only live hosts reach each other with no direct connection.
func TestCLINodeRelay(t *testing.T) {
	if testing.Short() {
		t.Skip("a dhtchat node process and two libp2p hosts: slow, skipped with -short")
	}
	t.Parallel()
	home := filepath.Join(t.TempDir(), "node")
	dhtAddr, relay, stop := startRelayNode(t, home)
	if strings.HasSuffix(dhtAddr, "/p2p/"+relay.ID.String()) {
		t.Fatalf("the relay has the DHT node's peer ID %s", relay.ID)
	}
	stop()
	dhtAddr2, relay2, stop2 := startRelayNode(t, home)
	defer stop2()
	if relay2.ID != relay.ID {
		t.Fatalf("restarted relay has peer ID %s, want %s", relay2.ID, relay.ID)
	}
	if _, id, _ := strings.Cut(dhtAddr, "/p2p/"); !strings.HasSuffix(dhtAddr2, "/p2p/"+id) {
		t.Fatalf("restarted DHT node %s, want the peer ID of %s", dhtAddr2, dhtAddr)
	}

	// Two relay-only hosts, as two friends' clients configured with the
	// printed relay address.
	keys := relayTestKeys(t)
	cfg := live.Config{Mode: live.ModeRelayOnly, Relays: []peer.AddrInfo{relay2}, AnnounceLoopback: true}
	hosts := make([]*live.Host, 2)
	chats := make([]*live.Chat, 2)
	for i, d := range []wire.Direction{wire.FromLo, wire.FromHi} {
		h, err := live.New(t.Context(), cfg)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { h.Close() })
		testwait.Until(t, "a reservation with the node's relay", func() bool { return len(h.Addrs()) > 0 })
		hosts[i] = h
		if chats[i], err = h.AddChat(keys, d); err != nil {
			t.Fatal(err)
		}
	}
	sealed, err := chats[1].Announcement()
	if err != nil {
		t.Fatal(err)
	}
	bob, err := chats[0].OpenFriendAnnouncement(sealed)
	if err != nil {
		t.Fatal(err)
	}
	ctx := testwait.Context(t)
	a, err := chats[0].Dial(ctx, bob)
	if err != nil {
		t.Fatalf("dial through the node's relay: %v", err)
	}
	if !a.Relayed() {
		t.Errorf("the stream is not relayed")
	}
	var b *live.Conn
	select {
	case b = <-chats[1].Conns():
	case <-ctx.Done():
		t.Fatal("no incoming stream through the relay")
	}
	msg, err := keys.Seal(wire.FromLo, wire.Message{N: 1, SentAt: time.UnixMilli(1700000000000), Body: "via the node"})
	if err != nil {
		t.Fatal(err)
	}
	if err := a.Send(ctx, msg); err != nil {
		t.Fatal(err)
	}
	select {
	case m := <-b.Messages():
		if m.Body != "via the node" {
			t.Errorf("received %q", m.Body)
		}
	case <-b.Done():
		t.Fatalf("stream ended: %v", b.Err())
	case <-ctx.Done():
		t.Fatal("no message through the relay")
	}
}

// relayTestKeys derives a chat's keys as both friends do.
func relayTestKeys(t *testing.T) *wire.Keys {
	t.Helper()
	x, err := ecdh.X25519().GenerateKey(rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	y, err := ecdh.X25519().GenerateKey(rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	shared, err := x.ECDH(y.PublicKey())
	if err != nil {
		t.Fatal(err)
	}
	p, err := wire.DerivePairKey([32]byte(shared), [32]byte(x.PublicKey().Bytes()), [32]byte(y.PublicKey().Bytes()))
	if err != nil {
		t.Fatal(err)
	}
	return wire.DeriveKeys(p, wire.NewChatKey(p).ID())
}
