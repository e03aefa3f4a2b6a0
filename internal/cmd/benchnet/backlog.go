package main

import (
	"context"
	"fmt"
	"path/filepath"
	"time"

	"github.com/libp2p/go-libp2p/core/peer"

	"github.com/dhtchat/dhtchat/chat"
)

// backlogTrial has a send n 80-byte messages while b is offline, publish
// them (one Sync) and go offline; then b comes online and runs its
// worker with the chat focused. It returns how many messages a published
// (the rest stayed queued on a's side), how many b received, and the time
// from b's start (DHT connect included) to its last message.
func backlogTrial(ctx context.Context, dir string, bootstrap []peer.AddrInfo, n int) (published, received int, drain time.Duration, err error) {
	a, err := newUser(filepath.Join(dir, "a"))
	if err != nil {
		return 0, 0, 0, err
	}
	rcv, err := newUser(filepath.Join(dir, "b"))
	if err != nil {
		return 0, 0, 0, err
	}
	defer a.close()
	defer rcv.close()
	poll := chat.DefaultPollPolicy()
	if err := a.open(ctx, bootstrap, poll); err != nil {
		return 0, 0, 0, err
	}
	if err := rcv.open(ctx, nil, poll); err != nil { // offline: only to join
		return 0, 0, 0, err
	}
	id, err := join(ctx, a, rcv)
	if err != nil {
		return 0, 0, 0, err
	}
	if err := rcv.close(); err != nil {
		return 0, 0, 0, err
	}
	bodies := make([]string, n)
	for i := range bodies {
		bodies[i] = body(i+1, 80)
	}
	if _, err := a.c.Send(ctx, id, bodies...); err != nil {
		return 0, 0, 0, err
	}
	res, err := a.c.Sync(ctx, id)
	if err != nil {
		return 0, 0, 0, err
	}
	if err := a.close(); err != nil {
		return 0, 0, 0, err
	}
	published = len(res.Published)

	start := time.Now()
	if err := rcv.open(ctx, bootstrap, poll); err != nil {
		return 0, 0, 0, err
	}
	rcv.run(ctx)
	rcv.c.Focus(id)
	last := uint64(published)
	err = waitFor(ctx, 30*time.Second, func() bool { _, ok := rcv.received(last); return ok })
	rcv.mu.Lock()
	received = int(rcv.lastRecv)
	for i := uint64(1); i <= rcv.lastRecv; i++ {
		if _, ok := rcv.recvAt[i]; !ok {
			received = int(i - 1) // a gap: count only the complete prefix
			break
		}
	}
	rcv.mu.Unlock()
	if err != nil {
		return published, received, 0, nil
	}
	at, _ := rcv.received(last)
	return published, received, at.Sub(start), nil
}

func benchBacklog(ctx context.Context, b *bench) error {
	net, err := startNetwork(ctx, b, b.nodes)
	if err != nil {
		return err
	}
	defer net.Close()
	boot := net.Bootstrap()
	trial := 0
	try := func(n int) (int, int, time.Duration, error) {
		trial++
		return backlogTrial(ctx, filepath.Join(b.tmp, fmt.Sprintf("backlog-%d", trial)), boot, n)
	}

	// More than fits: what one Sync publishes is the capacity.
	const offered = 2000
	capacity, got, _, err := try(offered)
	if err != nil {
		return err
	}
	b.log.Info("backlog capacity", "offered", offered, "published", capacity, "received", got)

	runs := 5
	if b.quick {
		runs = 2
	}
	for _, n := range []int{200, capacity} {
		var drains []float64
		complete := true
		for range runs {
			pub, got, d, err := try(n)
			if err != nil {
				return err
			}
			if pub != n || got != n {
				complete = false
				b.log.Warn("backlog incomplete", "n", n, "published", pub, "received", got)
				continue
			}
			drains = append(drains, d.Seconds())
		}
		s := Summarize(drains)
		r := row{id: "3", measure: fmt.Sprintf("offline backlog of %d × 80 B: drain", n),
			settings: fmt.Sprintf("%d servers, sender offline, receiver start (connect included) to last message", b.nodes),
			n:        s.N, med: fmtDur(s.Med), p99: fmtDur(s.P99)}
		if n == capacity {
			r.measure = fmt.Sprintf("largest offline backlog: %d × 80 B (of %d sent), drain", capacity, offered)
			r.target = "≥ 200 messages"
			r.result = verdict(complete && capacity >= 200)
		}
		if !complete {
			r.cost = "some runs incomplete"
			r.result = "MISSED"
		}
		b.add(r)
	}
	return nil
}
