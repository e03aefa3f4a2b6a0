package dht_test

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"net"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/dhtchat/dhtchat/dht"
	"github.com/dhtchat/dhtchat/dht/dhttest"
	"github.com/dhtchat/dhtchat/internal/testwait"
	"github.com/libp2p/go-libp2p-kad-dht/amino"
	pb "github.com/libp2p/go-libp2p-kad-dht/pb"
	"github.com/libp2p/go-libp2p/core/network"
	"github.com/libp2p/go-libp2p/core/peer"
	"github.com/libp2p/go-msgio"
	"google.golang.org/protobuf/proto"
)

// TestConnectReturnsAtFirstPeer: Connect returns once a DHT server is in
// the routing table, while its dial to a bootstrap peer that accepts the
// TCP connection and never says a word is still waiting (for
// Timeouts.Dial, a minute with LocalTimeouts). A Connect that waited for
// every dial would return only after that connection ended.
func TestConnectReturnsAtFirstPeer(t *testing.T) {
	ln := dhttest.NewNetwork(t, 2)
	accepted, ended := make(chan struct{}), make(chan struct{})
	var acceptOnce, endOnce sync.Once
	silent := tcpPeer(t, func(c net.Conn) {
		acceptOnce.Do(func() { close(accepted) })
		io.Copy(io.Discard, c)
		c.Close()
		endOnce.Do(func() { close(ended) })
	})
	n := newNode(t, dht.Config{Bootstrap: append([]peer.AddrInfo{silent}, ln.Bootstrap()...)})
	if err := n.Connect(testwait.Context(t)); err != nil {
		t.Fatalf("Connect = %v", err)
	}
	if n.PeerCount() == 0 {
		t.Fatal("Connect returned with an empty routing table")
	}
	// The silent peer was dialled too (perhaps only now: the dials run in
	// parallel), and its connection is still open.
	select {
	case <-accepted:
	case <-testwait.Context(t).Done():
		t.Fatal("the silent bootstrap peer was never dialled")
	}
	select {
	case <-ended:
		t.Fatal("Connect returned only after the dial to the silent peer ended")
	default:
	}
}

// silentPeer is a DHT server that stops answering: it joined like any
// other, and then its DHT protocol handler reads requests and never
// replies, holding each stream until the requester gives up. So behaves
// a server whose host vanished without closing its connections.
type silentPeer struct {
	node *dht.Node

	lookups bool // answer FIND_NODE (with no peers), silent to the rest

	mu       sync.Mutex
	asked    map[pb.Message_MessageType]int // requests received, by type
	putEnded chan struct{}                  // closed when a requester gives up on a PUT_VALUE
	endOnce  sync.Once
}

// newSilentPeer starts a server on ln that answers as usual until
// silence is called.
func newSilentPeer(t *testing.T, ln *dht.LocalNetwork) *silentPeer {
	t.Helper()
	n := newNode(t, dht.Config{Bootstrap: ln.Bootstrap(), Mode: dht.ModeServer})
	if err := n.Connect(testwait.Context(t)); err != nil {
		t.Fatalf("silent peer: Connect = %v", err)
	}
	return &silentPeer{node: n, asked: make(map[pb.Message_MessageType]int), putEnded: make(chan struct{})}
}

// silence replaces the peer's DHT handler with one that never answers,
// and resets the DHT streams already open, whose old handlers would.
func (s *silentPeer) silence() { s.silenceAllBut(false) }

// silencePuts is silence, but FIND_NODE is still answered, with no
// closer peers: a valid answer, so that lookups count the peer among the
// closest ones whatever the timing. A lookup that waits past kad-dht's
// 10 s request timeout for a peer that never answers (as on a loaded
// machine, its answers crawling) instead drops it as unreachable.
func (s *silentPeer) silencePuts() { s.silenceAllBut(true) }

func (s *silentPeer) silenceAllBut(lookups bool) {
	s.lookups = lookups
	h := dht.HostOf(s.node)
	h.SetStreamHandler(amino.ProtocolID, s.serve)
	for _, c := range h.Network().Conns() {
		for _, st := range c.GetStreams() {
			if st.Protocol() == amino.ProtocolID {
				st.Reset()
			}
		}
	}
}

func (s *silentPeer) serve(st network.Stream) {
	defer st.Reset()
	r := msgio.NewVarintReaderSize(st, network.MessageSizeMax)
	w := msgio.NewVarintWriter(st)
	put := false
	for {
		b, err := r.ReadMsg()
		if err != nil {
			break
		}
		var m pb.Message
		if proto.Unmarshal(b, &m) == nil {
			s.mu.Lock()
			s.asked[m.GetType()]++
			s.mu.Unlock()
			put = put || m.GetType() == pb.Message_PUT_VALUE
			if s.lookups && m.GetType() == pb.Message_FIND_NODE {
				reply, _ := proto.Marshal(&pb.Message{Type: pb.Message_FIND_NODE, Key: m.GetKey()})
				if w.WriteMsg(reply) != nil {
					break
				}
			}
		}
		r.ReleaseMsg(b)
	}
	if put {
		s.endOnce.Do(func() { close(s.putEnded) })
	}
}

func (s *silentPeer) count(typ pb.Message_MessageType) int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.asked[typ]
}

// silentNetwork starts ten honest servers (half of a bucket: what Put
// waits for) and two that answer until silenced.
func silentNetwork(t *testing.T) (*dht.LocalNetwork, []*silentPeer) {
	ln := dhttest.NewNetwork(t, 10)
	silent := []*silentPeer{newSilentPeer(t, ln), newSilentPeer(t, ln)}
	dhttest.WaitRouted(t, ln, 11)
	return ln, silent
}

// joinAll connects a client to ln, with log lines to logs if it is not
// nil, and waits until it routes to all twelve servers, silent ones
// included. A client with logs waits Timeouts.Slow = 1 s for silent peers
// (LocalTimeouts' 5 s is half of kad-dht's 10 s request timeout, after
// which kad-dht gives up on a peer itself; on a loaded machine, the
// honest answers crawling, the cut must come well before it).
func joinAll(t *testing.T, ln *dht.LocalNetwork, logs *logLines) *dht.Node {
	t.Helper()
	cfg := dht.Config{Bootstrap: ln.Bootstrap()}
	if logs != nil {
		cfg.Logger = slog.New(logs)
		cfg.Timeouts = dht.LocalTimeouts()
		cfg.Timeouts.Slow = time.Second
	}
	n := newNode(t, cfg)
	if err := n.Connect(testwait.Context(t)); err != nil {
		t.Fatalf("Connect = %v", err)
	}
	testwait.Until(t, "the client routes to all twelve servers", func() bool { return n.PeerCount() >= 12 })
	return n
}

// logLines is a slog.Handler that keeps the records it is given, at
// every level, each as its message and its attributes ("msg k=v k=v").
type logLines struct {
	mu   sync.Mutex
	msgs []string
}

func (l *logLines) Enabled(context.Context, slog.Level) bool { return true }
func (l *logLines) Handle(_ context.Context, r slog.Record) error {
	line := r.Message
	r.Attrs(func(a slog.Attr) bool {
		line += " " + a.String()
		return true
	})
	l.mu.Lock()
	defer l.mu.Unlock()
	l.msgs = append(l.msgs, line)
	return nil
}
func (l *logLines) WithAttrs([]slog.Attr) slog.Handler { return l }
func (l *logLines) WithGroup(string) slog.Handler      { return l }

// count returns how many lines contain s.
func (l *logLines) count(s string) int {
	l.mu.Lock()
	defer l.mu.Unlock()
	n := 0
	for _, m := range l.msgs {
		if strings.Contains(m, s) {
			n++
		}
	}
	return n
}

// TestPutLeavesSilentPeersBehind: Put returns while the PUT_VALUEs it sent
// to two servers that answer lookups but never a PUT_VALUE are still
// waiting. kad-dht's PutValue instead waits for every PUT_VALUE it sent,
// for kad-dht's 10 s request timeout. The record still reaches the
// honest servers: a full lookup finds it. (A lookup that leaves silent
// peers behind is TestGetLeavesSilentPeersBehind's.)
func TestPutLeavesSilentPeersBehind(t *testing.T) {
	ln, silent := silentNetwork(t)
	writer, reader := joinAll(t, ln, nil), joinAll(t, ln, nil)
	for _, s := range silent {
		s.silencePuts()
	}
	pub, priv := newKey(t)
	if err := writer.Put(testwait.Context(t), priv, 1, []byte("hello")); err != nil {
		t.Fatalf("Put = %v", err)
	}
	// The silent peers were among those sent the record (perhaps only
	// now, the sends running in the background), and still wait.
	for i, s := range silent {
		testwait.Until(t, "the silent peer is sent the record", func() bool { return s.count(pb.Message_PUT_VALUE) > 0 })
		select {
		case <-s.putEnded:
			t.Fatalf("Put returned only after the PUT_VALUE to silent peer %d ended", i)
		default:
		}
	}
	rec, err := reader.Get(testwait.Context(t), pub, dht.WithQuorum(0))
	if err != nil || string(rec.Payload) != "hello" {
		t.Fatalf("Get = %q, %v; want \"hello\"", rec.Payload, err)
	}
}

// TestGetLeavesSilentPeersBehind: a Get that must hear every peer (a name
// nobody wrote, or a full lookup) ends once the silent servers are all
// that is left, rather than at kad-dht's 10 s request timeout: its log
// says it left them behind, and a record that the others hold is still
// returned.
func TestGetLeavesSilentPeersBehind(t *testing.T) {
	ln, silent := silentNetwork(t)
	var logs logLines
	writer, reader := joinAll(t, ln, nil), joinAll(t, ln, &logs)
	pub, priv := newKey(t)
	if err := writer.Put(testwait.Context(t), priv, 1, []byte("hello")); err != nil {
		t.Fatalf("Put = %v", err)
	}
	for _, s := range silent {
		s.silence()
	}
	nobody, _ := newKey(t)
	if _, err := reader.Get(testwait.Context(t), nobody); !errors.Is(err, dht.ErrNotFound) {
		t.Fatalf("Get(unwritten name) = %v, want ErrNotFound", err)
	}
	if logs.count("lookup stalled: leaving silent peers behind waiting_for=") == 0 {
		t.Fatal("Get of an unwritten name waited for the silent peers")
	}
	// The lookup was cut while it waited for peers it had asked (the
	// silent ones: the honest answer at once). Its request may not have
	// reached them, held behind another request of the reader's to the
	// same silent peer, which kad-dht sends one at a time.
	if logs.count("waiting_for=0") > 0 {
		t.Fatal("the lookup stalled waiting for nobody: the test proves nothing")
	}
	before := logs.count("lookup stalled")
	rec, err := reader.Get(testwait.Context(t), pub, dht.WithQuorum(0))
	if err != nil || string(rec.Payload) != "hello" {
		t.Fatalf("Get = %q, %v; want \"hello\"", rec.Payload, err)
	}
	if logs.count("lookup stalled") == before {
		t.Fatal("a full lookup waited for the silent peers")
	}
}
