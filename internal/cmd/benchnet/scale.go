package main

import (
	"context"
	"crypto/ed25519"
	"crypto/rand"
	"fmt"
	"path/filepath"
	"time"

	"github.com/multiformats/go-multiaddr"

	"github.com/dhtchat/dhtchat/chat"
	"github.com/dhtchat/dhtchat/dht"
)

// benchScale measures delivery latency (default policy) and the time of a
// Put and a Get (1 KiB payload, Get's default quorum) on networks of 20,
// 50 and 100 servers.
func benchScale(ctx context.Context, b *bench) error {
	dur, ops := 20*time.Second, 40
	if b.quick {
		dur, ops = 6*time.Second, 10
	}
	for _, n := range []int{20, 50, 100} {
		t := time.Now()
		net, err := startNetwork(ctx, b, n)
		if err != nil {
			return fmt.Errorf("%d servers: %w", n, err)
		}
		up := time.Since(t)
		err = func() error {
			defer net.Close()
			puts, gets, err := putGet(ctx, net, ops)
			if err != nil {
				return err
			}
			r := b.defaultLatency
			note := "delivery from the latency section's run"
			if r == nil || n != b.nodes {
				note = fmt.Sprintf("delivery over %s", dur)
				if r, err = measureDelivery(ctx, filepath.Join(b.tmp, fmt.Sprintf("scale-%d", n)), net.Bootstrap(), chat.DefaultPollPolicy(), dur, 400*time.Millisecond); err != nil {
					return err
				}
			}
			settings := fmt.Sprintf("%d servers (up in %s), default policy; %s", n, up.Round(100*time.Millisecond), note)
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

// putGet has a fresh client put ops records and then get each back.
func putGet(ctx context.Context, net *dht.LocalNetwork, ops int) (puts, gets Summary, err error) {
	cl, err := dht.New(ctx, dht.Config{
		ListenAddrs: []multiaddr.Multiaddr{multiaddr.StringCast(dht.LocalListenAddr)},
		Bootstrap:   net.Bootstrap(), Mode: dht.ModeClient,
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
