package main

import (
	"context"
	"fmt"
	"math/rand/v2"
	"path/filepath"
	"time"

	"github.com/libp2p/go-libp2p/core/peer"

	"github.com/dhtchat/dhtchat/chat"
	"github.com/dhtchat/dhtchat/dht"
)

// latencyResult is one delivery-latency measurement.
type latencyResult struct {
	lat      Summary
	window   time.Duration
	reqA     float64 // sender's DHT requests (puts + gets) per second
	reqB     float64 // receiver's
	getsB    float64 // receiver's gets per second: its lookups
	messages int
}

// measureDelivery runs a pair of clients with the chat focused on both
// sides and has a send single 80-byte messages at random times (exponential
// gaps of mean gap, so that sends fall at every phase of the receiver's
// polling) for d, then waits for every one to be delivered. Latency is
// from Send being called to b's worker emitting the MessageEvent.
func measureDelivery(ctx context.Context, dir string, bootstrap []peer.AddrInfo, poll chat.PollPolicy, d, gap time.Duration) (*latencyResult, error) {
	p, err := newPair(ctx, dir, bootstrap, poll)
	if err != nil {
		return nil, err
	}
	defer p.close()

	// Warm up: one message end to end, so that both sides have published
	// and fetched once and connections to the closest servers exist.
	if _, err := p.a.c.Send(ctx, p.id, body(0, 80)); err != nil {
		return nil, err
	}
	if err := waitFor(ctx, 30*time.Second, func() bool { _, ok := p.b.received(1); return ok }); err != nil {
		return nil, fmt.Errorf("warm-up message not delivered: %w", err)
	}

	sa, sb := p.a.stats(), p.b.stats()
	sent := map[uint64]time.Time{}
	n := uint64(1)
	start := time.Now()
	for time.Since(start) < d {
		n++
		t := time.Now()
		if _, err := p.a.c.Send(ctx, p.id, body(int(n), 80)); err != nil {
			return nil, err
		}
		sent[n] = t
		wait := time.Duration(rand.ExpFloat64() * float64(gap))
		wait = min(max(wait, 10*time.Millisecond), 5*gap)
		select {
		case <-ctx.Done():
			return nil, ctx.Err()
		case <-time.After(wait):
		}
	}
	window := time.Since(start)
	ea, eb := p.a.stats(), p.b.stats()
	last := n
	if err := waitFor(ctx, 60*time.Second, func() bool { _, ok := p.b.received(last); return ok }); err != nil {
		return nil, fmt.Errorf("message %d not delivered: %w", last, err)
	}
	var lat []time.Duration
	for n, t := range sent {
		at, ok := p.b.received(n)
		if !ok {
			return nil, fmt.Errorf("message %d never delivered", n)
		}
		lat = append(lat, at.Sub(t))
	}
	return &latencyResult{
		lat:      Summarize(seconds(lat)),
		window:   window,
		reqA:     reqs(sa, ea) / window.Seconds(),
		reqB:     reqs(sb, eb) / window.Seconds(),
		getsB:    float64(eb.Gets-sb.Gets) / window.Seconds(),
		messages: len(lat),
	}, nil
}

// reqs is the DHT requests (puts and gets) between two Stats.
func reqs(before, after dht.Stats) float64 {
	return float64(after.Puts - before.Puts + after.Gets - before.Gets)
}

func (r *latencyResult) cost() string {
	return fmt.Sprintf("receiver %.2f lookups/s (%.2f req/s), sender %.2f req/s", r.getsB, r.reqB, r.reqA)
}

// startNetwork starts a local network of n servers.
func startNetwork(ctx context.Context, b *bench, n int) (network, error) {
	t := time.Now()
	var (
		net network
		err error
	)
	if b.sparse {
		net, err = startSparseNetwork(ctx, n)
	} else {
		net, err = dht.StartLocalNetwork(ctx, n, nil)
	}
	if err != nil {
		return nil, err
	}
	b.log.Info("network up", "servers", n, "sparse", b.sparse, "took", time.Since(t).Round(time.Millisecond))
	return net, nil
}

// network is the servers a section runs against: a dht.LocalNetwork, in
// which every server knows every other, or with -sparse a sparseNetwork,
// whose clients bootstrap from a few servers, as on a real DHT.
type network interface {
	Bootstrap() []peer.AddrInfo
	Close() error
}

// withFocused returns the default policy with the focused-chat interval
// set to d, as DHTCHAT_POLL_INTERVAL does in the CLI (the other intervals
// only matter for chats not on screen; the harness has one chat).
func withFocused(d time.Duration) chat.PollPolicy {
	p := chat.DefaultPollPolicy()
	p.Focused = d
	return p
}

func benchLatency(ctx context.Context, b *bench) error {
	net, err := startNetwork(ctx, b, b.nodes)
	if err != nil {
		return err
	}
	defer net.Close()

	dur, curveDur := 45*time.Second, 20*time.Second
	if b.quick {
		dur, curveDur = 10*time.Second, 6*time.Second
	}
	const gap = 400 * time.Millisecond
	def := chat.DefaultPollPolicy()
	r, err := measureDelivery(ctx, filepath.Join(b.tmp, "latency-default"), net.Bootstrap(), def, dur, gap)
	if err != nil {
		return fmt.Errorf("default policy: %w", err)
	}
	b.defaultLatency = r
	b.add(row{
		id: "1", measure: "delivery latency, default policy",
		settings: fmt.Sprintf("%d servers, 2 clients, chat focused (poll %s), 80 B msgs every ~%s for %s", b.nodes, def.Focused, gap, dur),
		n:        r.lat.N, med: fmtDur(r.lat.Med), p99: fmtDur(r.lat.P99), cost: r.cost(),
		target: "p50 ≤ 1 s, p99 ≤ 2 s; ≤ 1 lookup/s", result: verdict(r.lat.Med <= 1 && r.lat.P99 <= 2 && r.getsB <= 1.05),
	})

	for _, iv := range []time.Duration{100 * time.Millisecond, 250 * time.Millisecond, 500 * time.Millisecond, time.Second, 2 * time.Second} {
		if iv == def.Focused {
			b.add(row{
				id: "1", measure: "delivery latency, focused poll " + iv.String(),
				settings: "the default policy's run above",
				n:        r.lat.N, med: fmtDur(r.lat.Med), p99: fmtDur(r.lat.P99), cost: r.cost(),
			})
			continue
		}
		d := curveDur
		if iv >= time.Second {
			d = 2 * curveDur // fewer samples per second at slow polling
		}
		r, err := measureDelivery(ctx, filepath.Join(b.tmp, "latency-"+iv.String()), net.Bootstrap(), withFocused(iv), d, gap)
		if err != nil {
			return fmt.Errorf("poll %s: %w", iv, err)
		}
		b.add(row{
			id: "1", measure: "delivery latency, focused poll " + iv.String(),
			settings: fmt.Sprintf("%d servers, poll %s, %s", b.nodes, iv, d),
			n:        r.lat.N, med: fmtDur(r.lat.Med), p99: fmtDur(r.lat.P99), cost: r.cost(),
		})
	}
	return nil
}
