package live

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"time"

	"github.com/libp2p/go-libp2p"
	"github.com/libp2p/go-libp2p/core/crypto"
	"github.com/libp2p/go-libp2p/core/host"
	"github.com/libp2p/go-libp2p/core/peer"
	"github.com/libp2p/go-libp2p/p2p/protocol/circuitv2/relay"
	quic "github.com/libp2p/go-libp2p/p2p/transport/quic"
	"github.com/libp2p/go-libp2p/p2p/transport/tcp"
	"github.com/multiformats/go-multiaddr"
)

// RelayConfig configures a relay service (NewRelay).
type RelayConfig struct {
	// ListenAddrs are the relay's listen multiaddrs; they must be
	// reachable by its users. Nil means TCP and QUIC on all interfaces,
	// port 0.
	ListenAddrs []multiaddr.Multiaddr
	// Identity fixes the relay's peer ID, so that users can list it; nil
	// means a fresh key. It must not be the DHT node's key: a relay's
	// peer ID appears in its users' announcements.
	Identity crypto.PrivKey
	// Duration and Data bound each relayed connection; zero means
	// DefaultRelayDuration and DefaultRelayData. libp2p's own defaults
	// (2 minutes, 128 KiB) would cut a chat every two minutes.
	Duration time.Duration
	Data     int64
	// Logger receives the relay's log lines; nil discards them.
	Logger *slog.Logger
}

// Defaults of RelayConfig.
const (
	DefaultRelayDuration = time.Hour
	DefaultRelayData     = 64 << 20
)

// Relay is a circuit relay v2 service on a libp2p host of its own: what
// `dhtchat node` runs for users whose clients cannot be reached directly,
// or who choose relay-only mode. It relays only: it serves no DHT and
// speaks no dhtchat protocol.
type Relay struct {
	h   host.Host
	log *slog.Logger
}

// NewRelay starts a relay service. If it fails, nothing is left running.
func NewRelay(ctx context.Context, cfg RelayConfig) (*Relay, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	id := cfg.Identity
	if id == nil {
		var err error
		if id, _, err = crypto.GenerateEd25519Key(nil); err != nil {
			return nil, fmt.Errorf("live: relay identity: %w", err)
		}
	}
	res := relay.DefaultResources()
	res.Limit = &relay.RelayLimit{Duration: cfg.Duration, Data: cfg.Data}
	if res.Limit.Duration <= 0 {
		res.Limit.Duration = DefaultRelayDuration
	}
	if res.Limit.Data <= 0 {
		res.Limit.Data = DefaultRelayData
	}
	h, err := libp2p.New(
		libp2p.Identity(id),
		libp2p.NoListenAddrs,
		libp2p.Transport(tcp.NewTCPTransport),
		libp2p.Transport(quic.NewTransport),
		libp2p.UserAgent("github.com/libp2p/go-libp2p"),
		libp2p.DisableMetrics(),
		// The relay service starts only once the host believes it is
		// publicly reachable; a node that its users can dial is.
		libp2p.ForceReachabilityPublic(),
		libp2p.EnableRelayService(relay.WithResources(res)),
	)
	if err != nil {
		return nil, fmt.Errorf("live: start relay host: %w", err)
	}
	listen := cfg.ListenAddrs
	if listen == nil {
		listen = []multiaddr.Multiaddr{
			multiaddr.StringCast("/ip4/0.0.0.0/tcp/0"),
			multiaddr.StringCast("/ip4/0.0.0.0/udp/0/quic-v1"),
		}
	}
	if err := h.Network().Listen(listen...); err != nil {
		return nil, errors.Join(fmt.Errorf("live: relay listen: %w", err), h.Close())
	}
	log := cfg.Logger
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	log.Info("relay started", "peer", h.ID(), "addrs", h.Addrs())
	return &Relay{h: h, log: log}, nil
}

// AddrInfo returns the relay's peer ID and addresses, as a Host's
// Config.Relays takes them.
func (r *Relay) AddrInfo() peer.AddrInfo {
	return peer.AddrInfo{ID: r.h.ID(), Addrs: r.h.Addrs()}
}

// Close stops the relay. It is idempotent (as libp2p's host Close is).
func (r *Relay) Close() error {
	if err := r.h.Close(); err != nil {
		return fmt.Errorf("live: close relay: %w", err)
	}
	return nil
}
