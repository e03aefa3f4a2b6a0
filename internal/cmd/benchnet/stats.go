package main

import (
	"fmt"
	"slices"
	"time"
)

// Median returns the median of xs: the middle value, or the mean of the two
// middle values when len(xs) is even. It returns 0 for no samples. xs is
// not modified.
func Median(xs []float64) float64 {
	if len(xs) == 0 {
		return 0
	}
	s := slices.Clone(xs)
	slices.Sort(s)
	n := len(s)
	if n%2 == 1 {
		return s[n/2]
	}
	return (s[n/2-1] + s[n/2]) / 2
}

// Percentile returns the p-th percentile (0 < p ≤ 100) of xs by the
// nearest-rank method: the smallest sample that at least p % of the samples
// do not exceed. It is always one of the samples, so a p99 over fewer than
// 100 samples is simply the largest one. It returns 0 for no samples.
func Percentile(xs []float64, p float64) float64 {
	if len(xs) == 0 {
		return 0
	}
	s := slices.Clone(xs)
	slices.Sort(s)
	rank := int(p / 100 * float64(len(s)))
	if float64(rank) < p/100*float64(len(s)) {
		rank++ // ceil, without float surprises for exact ranks
	}
	rank = min(max(rank, 1), len(s))
	return s[rank-1]
}

// Summary is the median and p99 of a set of samples.
type Summary struct {
	N        int
	Med, P99 float64
}

// Summarize returns the Summary of xs.
func Summarize(xs []float64) Summary {
	return Summary{N: len(xs), Med: Median(xs), P99: Percentile(xs, 99)}
}

// seconds converts durations to seconds, for Summarize.
func seconds(ds []time.Duration) []float64 {
	out := make([]float64, len(ds))
	for i, d := range ds {
		out[i] = d.Seconds()
	}
	return out
}

// fmtDur formats a number of seconds with a unit that suits its size.
func fmtDur(s float64) string {
	switch {
	case s == 0:
		return "0"
	case s < 1e-6:
		return fmt.Sprintf("%.0f ns", s*1e9)
	case s < 1e-3:
		return fmt.Sprintf("%.2f µs", s*1e6)
	case s < 1:
		return fmt.Sprintf("%.0f ms", s*1e3)
	default:
		return fmt.Sprintf("%.2f s", s)
	}
}

// fmtBytes formats a byte count in binary units.
func fmtBytes(b float64) string {
	switch {
	case b >= 1<<30:
		return fmt.Sprintf("%.2f GiB", b/(1<<30))
	case b >= 1<<20:
		return fmt.Sprintf("%.1f MiB", b/(1<<20))
	case b >= 1<<10:
		return fmt.Sprintf("%.1f KiB", b/(1<<10))
	default:
		return fmt.Sprintf("%.0f B", b)
	}
}
