package main

import (
	"context"
	"fmt"
	"path/filepath"
	"time"

	"github.com/libp2p/go-libp2p/core/peer"
	"github.com/multiformats/go-multiaddr"

	"github.com/dhtchat/dhtchat/chat"
)

// benchLiveBurst sends 1,000 80-byte messages in one Send between two
// chat.Clients in this process, with the live path up (LiveDirect) and
// without it (LiveOff), on the same network, and checks on the receiver's
// own event stream that every message came once, in order, intact.
func benchLiveBurst(ctx context.Context, b *bench, bootstrap []peer.AddrInfo, servers int) error {
	const size, count = 80, 1000
	for _, mode := range []chat.LiveMode{chat.LiveDirect, chat.LiveOff} {
		load := loadAvg()
		d, lastAck, err := liveBurst(ctx, filepath.Join(b.tmp, "live-burst-"+mode.String()), bootstrap, mode, size, count)
		measure := "burst over " + mode.String() + ": send to last delivered"
		if mode == chat.LiveOff {
			measure = "burst, dht-only (same run): send to last delivered"
		}
		if err != nil {
			b.add(row{id: "12", measure: measure, result: "FAILED: " + firstLine(err.Error())})
			continue
		}
		b.add(row{id: "12", measure: measure,
			settings: fmt.Sprintf("two chat.Clients in process, %d servers, default policy, %d×%d B in one Send, Live %s; all delivered in order exactly once (checked); load avg %s → %s",
				servers, count, size, mode, load, loadAvg()),
			n: 1, med: fmtDur(d.Seconds()), p99: "-",
			cost: fmt.Sprintf("%.0f msgs/s; last ack back (Delivered event) after %s", count/d.Seconds(), fmtDur(lastAck.Seconds()))})
	}
	return nil
}

// liveBurst returns the time from Send to the last message's MessageEvent
// and to its Delivered status event.
func liveBurst(ctx context.Context, dir string, bootstrap []peer.AddrInfo, mode chat.LiveMode, size, count int) (time.Duration, time.Duration, error) {
	ctx, cancel := context.WithTimeout(ctx, 3*time.Minute)
	defer cancel()
	p := &pair{}
	var err error
	if p.a, err = newUser(filepath.Join(dir, "a")); err != nil {
		return 0, 0, err
	}
	if p.b, err = newUser(filepath.Join(dir, "b")); err != nil {
		return 0, 0, err
	}
	defer p.close()
	for _, u := range []*user{p.a, p.b} {
		if err := openLive(ctx, u, bootstrap, mode); err != nil {
			return 0, 0, err
		}
	}
	if p.id, err = join(ctx, p.a, p.b); err != nil {
		return 0, 0, err
	}
	// The receiver's own stream, read by nobody else: every MessageEvent
	// in the order the worker told them.
	events := p.b.c.Subscribe(ctx)
	for _, u := range []*user{p.a, p.b} {
		u.run(ctx)
		u.c.Focus(p.id)
	}
	want := chat.PathDHT
	if mode != chat.LiveOff {
		want = chat.PathLiveDirect
	}
	if err := waitFor(ctx, 90*time.Second, func() bool {
		return p.a.c.Path(p.id) == want && p.b.c.Path(p.id) == want
	}); err != nil {
		return 0, 0, fmt.Errorf("the chat's path is %s and %s, not %s: %w", p.a.c.Path(p.id), p.b.c.Path(p.id), want, err)
	}
	bodies := make([]string, count)
	for i := range bodies {
		bodies[i] = body(i+1, size)
	}
	type got struct {
		n    uint64
		body string
	}
	seen := make(chan []got, 1)
	lag := make(chan int, 1)
	go func() {
		var g []got
		missed := 0
		for ev := range events {
			switch ev := ev.(type) {
			case chat.MessageEvent:
				g = append(g, got{ev.Entry.N, ev.Entry.Body})
				if ev.Entry.N == uint64(count) {
					lag <- missed
					seen <- g
					return
				}
			case chat.LagEvent:
				missed += ev.Missed
			}
		}
		lag <- missed
		seen <- g
	}()
	start := time.Now()
	if _, err := p.a.c.Send(ctx, p.id, bodies...); err != nil {
		return 0, 0, err
	}
	last := uint64(count)
	if err := waitFor(ctx, 150*time.Second, func() bool {
		_, r := p.b.received(last)
		_, a := p.a.acked(last)
		return r && a
	}); err != nil {
		p.b.mu.Lock()
		n := p.b.lastRecv
		p.b.mu.Unlock()
		return 0, 0, fmt.Errorf("%d of %d delivered: %w", n, count, err)
	}
	r, _ := p.b.received(last)
	a, _ := p.a.acked(last)
	missed, g := <-lag, <-seen
	if missed > 0 {
		return 0, 0, fmt.Errorf("the checking subscriber lagged (%d events missed): order not checked", missed)
	}
	if len(g) != count {
		return 0, 0, fmt.Errorf("%d MessageEvents for %d messages", len(g), count)
	}
	for i, m := range g {
		if m.n != uint64(i+1) || m.body != bodies[i] {
			return 0, 0, fmt.Errorf("event %d is message %d (body ok: %v): not in order, exactly once", i, m.n, m.body == bodies[i])
		}
	}
	return r.Sub(start), a.Sub(start), nil
}

// openLive is user.open online, with the live path in mode.
func openLive(ctx context.Context, u *user, bootstrap []peer.AddrInfo, mode chat.LiveMode) error {
	// Version 1 chats, as the binary makes: the live path carries no
	// version 2 chats yet.
	cfg := chat.Config{Poll: chat.DefaultPollPolicy(), ChatVersion: 1}
	if mode != chat.LiveOff {
		cfg.Live = chat.LiveConfig{Mode: mode, AnnounceLoopback: true,
			ListenAddrs: []multiaddr.Multiaddr{multiaddr.StringCast("/ip4/127.0.0.1/tcp/0")}}
	}
	return u.openWith(ctx, bootstrap, cfg)
}
