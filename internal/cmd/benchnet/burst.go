package main

import (
	"context"
	"fmt"
	"path/filepath"
	"time"

	"github.com/dhtchat/dhtchat/chat"
)

// benchBurst sends 1,000 80-byte messages in one Send call, with both
// clients online and the chat focused at the default policy, and times the
// delivery of the last one and the return of its acknowledgement.
func benchBurst(ctx context.Context, b *bench) error {
	net, err := startNetwork(ctx, b, b.nodes)
	if err != nil {
		return err
	}
	defer net.Close()
	p, err := newPair(ctx, filepath.Join(b.tmp, "burst"), net.Bootstrap(), chat.DefaultPollPolicy())
	if err != nil {
		return err
	}
	defer p.close()

	const size, count = 80, 1000
	runs := 3
	if b.quick {
		runs = 1
	}
	var deliver, ack, rate []float64
	base := uint64(0)
	for run := range runs {
		bodies := make([]string, count)
		for i := range bodies {
			bodies[i] = body(int(base)+i+1, size)
		}
		last := base + count
		start := time.Now()
		if _, err := p.a.c.Send(ctx, p.id, bodies...); err != nil {
			return err
		}
		err := waitFor(ctx, 90*time.Second, func() bool {
			_, r := p.b.received(last)
			_, a := p.a.acked(last)
			return r && a
		})
		if err != nil {
			p.b.mu.Lock()
			got := p.b.lastRecv
			p.b.mu.Unlock()
			return fmt.Errorf("run %d: %d of %d messages delivered: %w", run, got-base, count, err)
		}
		r, _ := p.b.received(last)
		a, _ := p.a.acked(last)
		deliver = append(deliver, r.Sub(start).Seconds())
		ack = append(ack, a.Sub(start).Seconds())
		rate = append(rate, count/r.Sub(start).Seconds())
		base = last
	}
	d, a, r := Summarize(deliver), Summarize(ack), Summarize(rate)
	settings := fmt.Sprintf("%d servers, default policy, %d×%d B in one Send, %d runs", b.nodes, count, size, runs)
	b.add(row{id: "2", measure: "burst: send to last delivered", settings: settings, n: d.N,
		med: fmtDur(d.Med), p99: fmtDur(d.P99), cost: fmt.Sprintf("%.0f msgs/s (median)", r.Med),
		target: "≤ 15 s", result: verdict(d.P99 <= 15)})
	b.add(row{id: "2", measure: "burst: send to last ack back", settings: settings, n: a.N,
		med: fmtDur(a.Med), p99: fmtDur(a.P99)})
	return nil
}
