package dht_test

import (
	"bytes"
	"context"
	"fmt"
	"testing"

	"github.com/dhtchat/dhtchat/dht"
	"github.com/dhtchat/dhtchat/dht/dhttest"
	"github.com/dhtchat/dhtchat/internal/testwait"
	"github.com/ipfs/boxo/ipns"
	ipns_pb "github.com/ipfs/boxo/ipns/pb"
	"github.com/libp2p/go-libp2p"
	kad "github.com/libp2p/go-libp2p-kad-dht"
	"github.com/libp2p/go-libp2p-kad-dht/amino"
	kadpb "github.com/libp2p/go-libp2p-kad-dht/pb"
	"github.com/libp2p/go-libp2p/core/crypto"
	"github.com/libp2p/go-libp2p/core/host"
	"github.com/libp2p/go-libp2p/core/peer"
	"github.com/libp2p/go-msgio/pbio"
	"google.golang.org/protobuf/proto"
)

// The records Put writes are standard IPNS records: a DHT server that knows
// nothing of dhtchat stores them, serves them back byte for byte over the
// wire, and boxo's own validation and resolution accept them.
func TestStandardIPNSRecord(t *testing.T) {
	ctx := t.Context()
	net := dhttest.NewNetwork(t, 4)

	// An unmodified kad-dht server: kad.New with nothing but server mode
	// and a loopback bootstrap list (the default list is the public
	// network, which tests never touch). Its validators are the defaults.
	stockHost, err := libp2p.New(libp2p.ListenAddrs(loopback...), libp2p.DisableMetrics())
	if err != nil {
		t.Fatal(err)
	}
	stock, err := kad.New(stockHost, kad.Mode(kad.ModeServer), kad.BootstrapPeers(net.Bootstrap()...))
	if err != nil {
		stockHost.Close()
		t.Fatal(err)
	}
	t.Cleanup(func() {
		stock.Close()
		stockHost.Close()
	})
	for _, ai := range net.Bootstrap() {
		if err := stockHost.Connect(ctx, ai); err != nil {
			t.Fatalf("stock node connect: %v", err)
		}
	}
	// Wait until every server routes to the stock node, so Put reaches it.
	testwait.Until(t, "servers to add the stock node", func() bool {
		for _, s := range net.Servers() {
			if s.PeerCount() < len(net.Servers()) {
				return false
			}
		}
		return true
	})

	client := dhttest.NewClient(t, net)
	pub, priv := newKey(t)
	payload := []byte("sealed bytes, opaque to the DHT")
	const seq = 42
	if err := client.Put(ctx, priv, seq, payload); err != nil {
		t.Fatalf("Put: %v", err)
	}
	key, err := dht.RoutingKey(pub)
	if err != nil {
		t.Fatal(err)
	}
	lpub, err := crypto.UnmarshalEd25519PublicKey(pub)
	if err != nil {
		t.Fatal(err)
	}
	pid, err := peer.IDFromPublicKey(lpub)
	if err != nil {
		t.Fatal(err)
	}

	// Put returns after the PUT_VALUE round trips, so both kinds of server
	// hold the record now: fetch the raw bytes with a GET_VALUE RPC.
	from := map[string]peer.ID{
		"dhtchat server":    net.Servers()[0].ID(),
		"stock IPFS server": stockHost.ID(),
	}
	var raws [][]byte
	for what, p := range from {
		raw, err := rawGetValue(ctx, dht.HostOf(client), p, key)
		if err != nil {
			t.Fatalf("GET_VALUE from %s: %v", what, err)
		}
		raws = append(raws, raw)
		checkStandardRecord(t, what, raw, key, pid, seq, payload)
	}
	if !bytes.Equal(raws[0], raws[1]) {
		t.Error("the two servers hold different bytes")
	}

	// The stock node's own lookup (what kubo's name resolver calls)
	// validates and selects it like any IPNS record.
	val, err := stock.GetValue(ctx, key, kad.Quorum(2))
	if err != nil {
		t.Fatalf("stock GetValue: %v", err)
	}
	if !bytes.Equal(val, raws[0]) {
		t.Error("stock GetValue returned different bytes")
	}
}

// checkStandardRecord checks raw with boxo's IPNS code as a resolver would:
// validation against the name, the DHT's ipns validator, the value path,
// the V1 fields older nodes need, and our payload in the metadata.
func checkStandardRecord(t *testing.T, what string, raw []byte, key string, pid peer.ID, seq uint64, payload []byte) {
	t.Helper()
	rec, err := ipns.UnmarshalRecord(raw)
	if err != nil {
		t.Fatalf("%s: UnmarshalRecord: %v", what, err)
	}
	if err := ipns.ValidateWithName(rec, ipns.NameFromPeer(pid)); err != nil {
		t.Errorf("%s: ValidateWithName: %v", what, err)
	}
	if err := (ipns.Validator{}).Validate(key, raw); err != nil {
		t.Errorf("%s: ipns.Validator.Validate: %v", what, err)
	}
	// What namesys.IPNSResolver does with a record: its value path.
	if v, err := rec.Value(); err != nil || v.String() != ipns.NoopValue {
		t.Errorf("%s: Value() = %v, %v; want %s", what, v, err, ipns.NoopValue)
	}
	if s, err := rec.Sequence(); err != nil || s != seq {
		t.Errorf("%s: Sequence() = %d, %v; want %d", what, s, err, seq)
	}
	if ttl, err := rec.TTL(); err != nil || ttl != dht.RecordTTL {
		t.Errorf("%s: TTL() = %v, %v; want %v", what, ttl, err, dht.RecordTTL)
	}
	md, err := rec.Metadata(dht.MetadataKey)
	if err != nil {
		t.Fatalf("%s: Metadata: %v", what, err)
	}
	if b, err := md.AsBytes(); err != nil || !bytes.Equal(b, payload) {
		t.Errorf("%s: metadata = %q, %v; want %q", what, b, err, payload)
	}
	var pb ipns_pb.IpnsRecord
	if err := proto.Unmarshal(raw, &pb); err != nil {
		t.Fatalf("%s: %v", what, err)
	}
	if len(pb.GetSignatureV1()) == 0 || string(pb.GetValue()) != ipns.NoopValue || pb.GetSequence() != seq ||
		pb.GetValidityType() != ipns_pb.IpnsRecord_EOL || len(pb.GetValidity()) == 0 {
		t.Errorf("%s: V1 compatibility fields missing or wrong", what)
	}
	if len(pb.GetPubKey()) != 0 {
		t.Errorf("%s: Ed25519 key embedded; it is inlined in the name", what)
	}
}

// rawGetValue asks peer p for key with one GET_VALUE RPC of the Amino DHT
// protocol and returns the record value exactly as p sent it.
func rawGetValue(ctx context.Context, h host.Host, p peer.ID, key string) ([]byte, error) {
	ctx, cancel := context.WithTimeout(ctx, testwait.Timeout)
	defer cancel()
	s, err := h.NewStream(ctx, p, amino.ProtocolID)
	if err != nil {
		return nil, err
	}
	defer s.Close()
	if dl, ok := ctx.Deadline(); ok {
		s.SetDeadline(dl)
	}
	if err := pbio.NewDelimitedWriter(s).WriteMsg(kadpb.NewMessage(kadpb.Message_GET_VALUE, []byte(key), 0)); err != nil {
		return nil, err
	}
	var resp kadpb.Message
	if err := pbio.NewDelimitedReader(s, 1<<20).ReadMsg(&resp); err != nil {
		return nil, err
	}
	rec := resp.GetRecord()
	if rec == nil {
		return nil, fmt.Errorf("no record in the response")
	}
	if string(rec.GetKey()) != key {
		return nil, fmt.Errorf("response for key %q, want %q", rec.GetKey(), key)
	}
	return rec.GetValue(), nil
}
