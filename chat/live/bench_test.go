package live

import (
	"math"
	"slices"
	"testing"
	"time"

	"github.com/dhtchat/dhtchat/internal/testwait"
)

// BenchmarkRoundTrip measures a message's round trip over a live stream
// between two hosts on loopback (TCP): Alice sends a sealed message, Bob's
// reader opens it and his loop acks it at once, Alice receives the ack.
// This is the live path's floor, without the engine's store.
func BenchmarkRoundTrip(b *testing.B) {
	p, _, _, a, bob := connected(b)
	ctx := testwait.Context(b)
	go func() {
		for {
			select {
			case m := <-bob.Messages():
				if bob.Ack(ctx, m.N) != nil {
					return
				}
			case <-bob.Done():
				return
			}
		}
	}()
	sealed := make([][]byte, b.N)
	for i := range sealed {
		sealed[i] = seal(b, p.keys, p.lo, uint64(i+1), "a message of about eighty bytes, the size most chat lines are, more or less")
	}
	took := make([]time.Duration, b.N)
	b.ResetTimer()
	for i := range b.N {
		start := time.Now()
		if err := a.Send(ctx, sealed[i]); err != nil {
			b.Fatal(err)
		}
		select {
		case n := <-a.Acks():
			if n != uint64(i+1) {
				b.Fatalf("ack %d, want %d", n, i+1)
			}
		case <-a.Done():
			b.Fatal(a.Err())
		}
		took[i] = time.Since(start)
	}
	b.StopTimer()
	reportPercentiles(b, took)
}

// reportPercentiles adds the median and p99 (nearest rank) of took to the
// benchmark's output, in microseconds.
func reportPercentiles(b *testing.B, took []time.Duration) {
	slices.Sort(took)
	at := func(q float64) float64 {
		i := int(math.Ceil(q*float64(len(took)))) - 1
		return float64(took[max(i, 0)].Nanoseconds()) / 1e3
	}
	b.ReportMetric(at(0.50), "p50-µs")
	b.ReportMetric(at(0.99), "p99-µs")
}

// BenchmarkPing is a bare round trip on the same stream: the transport's
// floor, for comparison with BenchmarkRoundTrip.
func BenchmarkPing(b *testing.B) {
	_, _, _, a, _ := connected(b)
	ctx := testwait.Context(b)
	b.ResetTimer()
	for range b.N {
		if _, err := a.Ping(ctx); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkBurst1000 sends 1,000 messages back to back and waits for the
// ack of the last: the live path's share of issue 12's burst figure (via
// the DHT: 1.96 s, docs/BENCHMARKS.md). Bob acks each message as his
// loop takes it; Alice's acks coalesce.
func BenchmarkBurst1000(b *testing.B) {
	const burst = 1000
	p, _, _, a, bob := connected(b)
	ctx := testwait.Context(b)
	go func() {
		var next uint64 = 1
		for {
			select {
			case m := <-bob.Messages():
				if m.N != next {
					b.Errorf("received %d, want %d", m.N, next)
					return
				}
				next++
				if bob.Ack(ctx, m.N) != nil {
					return
				}
			case <-bob.Done():
				return
			}
		}
	}()
	sealed := make([][]byte, b.N*burst)
	for i := range sealed {
		sealed[i] = seal(b, p.keys, p.lo, uint64(i+1), "a message of about eighty bytes, the size most chat lines are, more or less")
	}
	b.ResetTimer()
	for r := range b.N {
		for i := range burst {
			if err := a.Send(ctx, sealed[r*burst+i]); err != nil {
				b.Fatal(err)
			}
		}
		last := uint64((r + 1) * burst)
		for n := uint64(0); n < last; {
			select {
			case n = <-a.Acks():
			case <-a.Done():
				b.Fatal(a.Err())
			}
		}
	}
	b.ReportMetric(float64(b.N*burst)/b.Elapsed().Seconds(), "msgs/s")
}
