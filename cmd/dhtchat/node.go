package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"path/filepath"

	"github.com/libp2p/go-libp2p/core/peer"
	"github.com/multiformats/go-multiaddr"

	"github.com/dhtchat/dhtchat/chat/live"
	"github.com/dhtchat/dhtchat/dht"
	"github.com/dhtchat/dhtchat/internal/userr"
)

var nodeCmd = &command{
	name:  "node",
	short: "Run a DHT server: a bootstrap peer and mailbox host",
	long: `Runs a Kademlia DHT server speaking the same protocol as the public IPFS DHT.
It prints each of its listen addresses (…/p2p/<peer id>) on its own line as
soon as it is ready; give them to clients with --bootstrap. It runs until
interrupted (SIGINT or SIGTERM).

Its peer ID is kept in the data directory, so it stays the same across
restarts. With --datastore DIR the records it stores survive a restart too.

By default it also joins the public IPFS network (if reachable) through its
bootstrap peers; with --bootstrap none it only serves those who come to it:
a private network.

With --relay it also runs a circuit relay (libp2p relay v2) for its users'
live connections: clients in relay-only mode, or behind NATs, reach their
friends through it. The relay has a peer ID of its own, kept in relay.key
beside node.key (never the DHT identity, which the relay's users would
otherwise name to their friends), and listens on --relay-listen (default TCP
and QUIC on all interfaces, random ports). After the DHT addresses it prints
each relay address as a line "relay <multiaddr>"; give that multiaddr to the
clients that use the relay.

Examples:
  dhtchat node --listen /ip4/0.0.0.0/tcp/4001 --bootstrap none --datastore ~/dhtchat-records
  dhtchat --home /tmp/n2 node --listen /ip4/127.0.0.1/tcp/0 --bootstrap /ip4/127.0.0.1/tcp/4001/p2p/12D3…
  dhtchat node --listen /ip4/0.0.0.0/tcp/4001 --relay --relay-listen /ip4/0.0.0.0/tcp/4002,/ip4/0.0.0.0/udp/4002/quic-v1`,
	nargs: exactly(0),
	setup: func(fs *flag.FlagSet) runFunc {
		var o nodeOptions
		fs.StringVar(&o.datastoreDir, "datastore", "", "keep the stored records in `DIR` (LevelDB), across restarts")
		fs.BoolVar(&o.relay, "relay", false, "also run a circuit relay for the users' live connections")
		fs.StringVar(&o.relayListen, "relay-listen", "", "the relay's listen `ADDRS`, comma-separated (implies --relay)")
		return func(ctx context.Context, e *env, _ []string) error { return runNode(ctx, e, o) }
	},
}

type nodeOptions struct {
	datastoreDir string
	relay        bool
	relayListen  string
}

// relayKeyFile is the relay's identity, beside the DHT node's node.key.
const relayKeyFile = "relay.key"

func runNode(ctx context.Context, e *env, o nodeOptions) (err error) {
	datastoreDir := o.datastoreDir
	var relayListen []multiaddr.Multiaddr
	if o.relayListen != "" {
		o.relay = true
		if relayListen, err = parseAddrList("--relay-listen", o.relayListen); err != nil {
			return err
		}
	}
	dataDir, err := e.dataDir()
	if err != nil {
		return err
	}
	if err := ensureDir(dataDir); err != nil {
		return err
	}
	var opened cleanup
	defer func() { err = errors.Join(err, opened.close()) }()
	logger, err := e.logger()
	if err != nil {
		return err
	}
	unroute, err := e.routeLibraryLogs()
	if err != nil {
		return err
	}
	opened.push(unroute)
	id, err := dht.LoadOrCreateIdentity(filepath.Join(dataDir, "node.key"))
	if err != nil {
		return err
	}
	cfg := dht.Config{Mode: dht.ModeServer, Identity: id, Logger: logger}
	if cfg.Timeouts, err = e.dhtTimeouts(); err != nil {
		return err
	}
	if cfg.Bootstrap, err = e.bootstrapPeers(); err != nil {
		return err
	}
	if cfg.ListenAddrs, err = e.listenAddrs(); err != nil {
		return err
	}
	if datastoreDir != "" {
		ds, err := dht.OpenDatastore(datastoreDir)
		if err != nil {
			return userr.Runtimef("cannot open the datastore: %s", userr.Msg(err)).Because(err)
		}
		opened.push(ds.Close) // closed after the node
		cfg.Datastore = ds
	}
	node, err := dht.New(ctx, cfg)
	if err != nil {
		return userr.Runtimef("cannot start the DHT server: %s", userr.Msg(err)).Because(err)
	}
	opened.push(node.Close)
	var relayAddrs []multiaddr.Multiaddr
	if o.relay {
		rid, err := dht.LoadOrCreateIdentity(filepath.Join(dataDir, relayKeyFile))
		if err != nil {
			return err
		}
		r, err := live.NewRelay(ctx, live.RelayConfig{ListenAddrs: relayListen, Identity: rid, Logger: logger})
		if err != nil {
			return userr.Runtimef("cannot start the relay: %s", userr.Msg(err)).Because(err)
		}
		opened.push(r.Close) // closed before the DHT node
		ai := r.AddrInfo()
		if relayAddrs, err = peer.AddrInfoToP2pAddrs(&ai); err != nil {
			return err
		}
	}
	for _, a := range node.Addrs() {
		if _, err := fmt.Fprintln(e.stdout, a); err != nil {
			return err
		}
	}
	for _, a := range relayAddrs {
		if _, err := fmt.Fprintln(e.stdout, "relay", a); err != nil {
			return err
		}
	}
	if f, ok := e.stdout.(interface{ Sync() error }); ok {
		f.Sync()
	}
	if cfg.Bootstrap == nil || len(cfg.Bootstrap) > 0 {
		go func() {
			if err := node.Connect(ctx); err != nil && ctx.Err() == nil {
				logger.Warn("could not join through the bootstrap peers; serving those who connect", "err", err)
				e.warnf("no bootstrap peer reachable; serving the peers that connect to it")
			}
		}()
	}
	<-ctx.Done()
	return nil
}
