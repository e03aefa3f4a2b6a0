package main

import (
	"context"
	"crypto/rand"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/dhtchat/dhtchat/chat/wire"
)

// benchCrypto runs the Go benchmarks of sealing and the slot codec in
// process (the same work as chat/wire's BenchmarkSealOpen1KB and
// BenchmarkSlotEncodeDecode, through the exported API), several times,
// and reports the median and p99 of the per-operation time.
func benchCrypto(_ context.Context, b *bench) error {
	var shared, lo, hi [32]byte
	rand.Read(shared[:])
	rand.Read(lo[:])
	rand.Read(hi[:])
	lo[0], hi[0] = 0, 0xff // lo sorts first
	p, err := wire.DerivePairKey(shared, lo, hi)
	if err != nil {
		return err
	}
	k, err := wire.NewChatKey(p).Keys(p)
	if err != nil {
		return err
	}
	sentAt := time.UnixMilli(time.Now().UnixMilli())

	runs := 5
	if b.quick {
		runs = 3
	}
	measure := func(name string, f func(*testing.B)) Summary {
		var ns []float64
		for range runs {
			r := testing.Benchmark(f)
			ns = append(ns, float64(r.NsPerOp())/1e9)
		}
		return Summarize(ns)
	}

	m := wire.Message{N: 1, SentAt: sentAt, Body: strings.Repeat("x", 1000)}
	var failed error
	seal := measure("seal+open", func(tb *testing.B) {
		for tb.Loop() {
			s, err := k.Seal(wire.FromLo, m)
			if err == nil {
				_, err = k.Open(wire.FromLo, s)
			}
			if err != nil {
				failed = err
				tb.FailNow()
			}
		}
	})
	if failed != nil {
		return failed
	}
	b.add(row{id: "7", measure: "seal+open, 1 KB message", settings: fmt.Sprintf("in process, %d runs of testing.Benchmark", runs),
		n: seal.N, med: fmtDur(seal.Med), p99: fmtDur(seal.P99), target: "≤ 20 µs", result: verdict(seal.Med <= 20e-6)})

	sealed := make([][]byte, 53)
	for i := range sealed {
		if sealed[i], err = k.Seal(wire.FromLo, wire.Message{N: uint64(i + 1), SentAt: sentAt, Body: strings.Repeat("y", 80)}); err != nil {
			return err
		}
	}
	h := wire.SlotHeader{Dir: wire.FromLo, Slot: 0, SlotsUsed: 1, Seq: 1, MaxN: 53}
	slot := measure("slot", func(tb *testing.B) {
		for tb.Loop() {
			pl, err := k.EncodeSlot(h, sealed)
			if err == nil {
				_, err = k.DecodeSlot(wire.FromLo, 0, 1, pl)
			}
			if err != nil {
				failed = err
				tb.FailNow()
			}
		}
	})
	if failed != nil {
		return failed
	}
	b.add(row{id: "7", measure: "slot record encode+decode (53 × 80 B msgs)", settings: fmt.Sprintf("in process, %d runs of testing.Benchmark", runs),
		n: slot.N, med: fmtDur(slot.Med), p99: fmtDur(slot.P99)})
	return nil
}
