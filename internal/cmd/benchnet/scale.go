package main

import (
	"context"
	"crypto/ed25519"
	"crypto/rand"
	"errors"
	"fmt"
	mrand "math/rand/v2"
	"path/filepath"
	"sync"
	"time"

	"github.com/libp2p/go-libp2p/core/peer"
	"github.com/multiformats/go-multiaddr"

	"github.com/dhtchat/dhtchat/chat"
	"github.com/dhtchat/dhtchat/dht"
)

// benchScale measures delivery latency (default policy) and the time of a
// Put and a Get (1 KiB payload, Get's default quorum) on networks of 20,
// 50 and 100 servers, each grown as a sparse network (see sparseNetwork)
// so that the sizes compare.
func benchScale(ctx context.Context, b *bench) error {
	dur, ops := 15*time.Second, 40
	if b.quick {
		dur, ops = 6*time.Second, 10
	}
	for _, n := range []int{20, 50, 100} {
		t := time.Now()
		net, err := startSparseNetwork(ctx, n)
		if err != nil {
			return fmt.Errorf("%d servers: %w", n, err)
		}
		up := time.Since(t)
		b.log.Info("sparse network up", "servers", n, "took", up.Round(time.Millisecond))
		err = func() error {
			defer net.close()
			puts, gets, err := putGet(ctx, net.entry(), ops)
			if err != nil {
				return err
			}
			r, err := measureDelivery(ctx, filepath.Join(b.tmp, fmt.Sprintf("scale-%d", n)), net.entry(), chat.DefaultPollPolicy(), dur, 400*time.Millisecond)
			if err != nil {
				return err
			}
			settings := fmt.Sprintf("%d servers joined one by one through 3 others (up in %s); clients bootstrap from %d; default policy, %s",
				n, up.Round(100*time.Millisecond), entryPeers, dur)
			b.add(row{id: "8", measure: fmt.Sprintf("scale %d: delivery latency", n), settings: settings,
				n: r.lat.N, med: fmtDur(r.lat.Med), p99: fmtDur(r.lat.P99), cost: r.cost()})
			b.add(row{id: "8", measure: fmt.Sprintf("scale %d: put (1 KiB)", n), settings: fmt.Sprintf("fresh client, %d puts one at a time", ops),
				n: puts.N, med: fmtDur(puts.Med), p99: fmtDur(puts.P99)})
			b.add(row{id: "8", measure: fmt.Sprintf("scale %d: get (quorum %d)", n, dht.DefaultQuorum), settings: fmt.Sprintf("same client, the %d records", ops),
				n: gets.N, med: fmtDur(gets.Med), p99: fmtDur(gets.P99)})
			return nil
		}()
		if err != nil {
			return fmt.Errorf("%d servers: %w", n, err)
		}
	}
	return nil
}

// entryPeers is how many servers a client of a sparse network knows.
const entryPeers = 4

// sparseNetwork is a network of servers that joined one after the other,
// each through a few earlier ones, as a real DHT grows: unlike
// dht.StartLocalNetwork, which dials every pair (n²/2 handshakes, too many
// for 100 servers on 2 cores within its 30 s), and in which every server
// knows every other, so lookups never need more than one hop.
type sparseNetwork struct {
	servers []*dht.Node
}

func startSparseNetwork(ctx context.Context, n int) (*sparseNetwork, error) {
	net := &sparseNetwork{}
	listen := []multiaddr.Multiaddr{multiaddr.StringCast(dht.LocalListenAddr)}
	for i := range n {
		var boot []peer.AddrInfo
		for _, j := range mrand.Perm(i)[:min(i, 3)] {
			boot = append(boot, net.servers[j].AddrInfo())
		}
		if boot == nil {
			boot = []peer.AddrInfo{} // the first: none, never the public DHT
		}
		s, err := dht.New(ctx, dht.Config{ListenAddrs: listen, Bootstrap: boot, Mode: dht.ModeServer})
		if err != nil {
			return nil, errors.Join(err, net.close())
		}
		net.servers = append(net.servers, s)
		if i > 0 {
			if err := s.Connect(ctx); err != nil {
				return nil, errors.Join(fmt.Errorf("server %d: %w", i, err), net.close())
			}
			// One join at a time, refresh included: Connect leaves the
			// refresh running, and sixty of them at once on two cores
			// starve the handshakes of the servers that join next.
			if err := s.Refresh(ctx); err != nil {
				return nil, errors.Join(fmt.Errorf("server %d: %w", i, err), net.close())
			}
		}
	}
	// The early servers joined a small network: refresh their routing
	// tables now that it is whole, as their periodic refresh would.
	var wg sync.WaitGroup
	sem := make(chan struct{}, 4)
	for _, s := range net.servers[1:] {
		wg.Go(func() {
			sem <- struct{}{}
			defer func() { <-sem }()
			s.Refresh(ctx)
		})
	}
	wg.Wait()
	return net, ctx.Err()
}

// entry returns a few servers' addresses, for a client's bootstrap list.
func (net *sparseNetwork) entry() []peer.AddrInfo {
	var peers []peer.AddrInfo
	for _, i := range mrand.Perm(len(net.servers))[:min(len(net.servers), entryPeers)] {
		peers = append(peers, net.servers[i].AddrInfo())
	}
	return peers
}

// Bootstrap and Close make a sparse network one of startNetwork's.
func (net *sparseNetwork) Bootstrap() []peer.AddrInfo { return net.entry() }
func (net *sparseNetwork) Close() error               { return net.close() }

func (net *sparseNetwork) close() error {
	errs := make([]error, len(net.servers))
	var wg sync.WaitGroup
	for i, s := range net.servers {
		wg.Go(func() { errs[i] = s.Close() })
	}
	wg.Wait()
	return errors.Join(errs...)
}

// putGet has a fresh client put ops records and then get each back.
func putGet(ctx context.Context, bootstrap []peer.AddrInfo, ops int) (puts, gets Summary, err error) {
	cl, err := dht.New(ctx, dht.Config{
		ListenAddrs: []multiaddr.Multiaddr{multiaddr.StringCast(dht.LocalListenAddr)},
		Bootstrap:   bootstrap, Mode: dht.ModeClient,
	})
	if err != nil {
		return puts, gets, err
	}
	defer cl.Close()
	if err := cl.Connect(ctx); err != nil {
		return puts, gets, err
	}
	keys := make([]ed25519.PrivateKey, ops)
	var pd, gd []float64
	data := make([]byte, 1024)
	for i := range keys {
		if _, keys[i], err = ed25519.GenerateKey(rand.Reader); err != nil {
			return puts, gets, err
		}
		rand.Read(data)
		t := time.Now()
		if err := cl.Put(ctx, keys[i], 1, data); err != nil {
			return puts, gets, err
		}
		pd = append(pd, time.Since(t).Seconds())
	}
	for _, k := range keys {
		t := time.Now()
		if _, err := cl.Get(ctx, k.Public().(ed25519.PublicKey)); err != nil {
			return puts, gets, err
		}
		gd = append(gd, time.Since(t).Seconds())
	}
	return Summarize(pd), Summarize(gd), nil
}
