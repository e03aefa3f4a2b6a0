package main

import (
	"slices"
	"testing"
)

func TestMedian(t *testing.T) {
	tests := []struct {
		xs   []float64
		want float64
	}{
		{nil, 0},
		{[]float64{7}, 7},
		{[]float64{3, 1}, 2},
		{[]float64{5, 1, 3}, 3},
		{[]float64{4, 1, 3, 2}, 2.5},
		{[]float64{10, 10, 10, 1000}, 10},
	}
	for _, tt := range tests {
		in := slices.Clone(tt.xs)
		if got := Median(in); got != tt.want {
			t.Errorf("Median(%v) = %v, want %v", tt.xs, got, tt.want)
		}
		if !slices.Equal(in, tt.xs) {
			t.Errorf("Median(%v) modified its input to %v", tt.xs, in)
		}
	}
}

func TestPercentile(t *testing.T) {
	hundred := make([]float64, 100)
	for i := range hundred {
		hundred[i] = float64(100 - i) // 100 … 1, unsorted
	}
	thousand := make([]float64, 1000)
	for i := range thousand {
		thousand[i] = float64(i + 1)
	}
	tests := []struct {
		name string
		xs   []float64
		p    float64
		want float64
	}{
		{"empty", nil, 99, 0},
		{"one", []float64{4}, 99, 4},
		{"few: p99 is the max", []float64{1, 9, 2, 3}, 99, 9},
		{"100: 99th value", hundred, 99, 99},
		{"100: p100 is the max", hundred, 100, 100},
		{"100: p50", hundred, 50, 50},
		{"1000: 990th value", thousand, 99, 990},
		{"tiny p is the min", []float64{5, 6, 7}, 0.1, 5},
	}
	for _, tt := range tests {
		if got := Percentile(tt.xs, tt.p); got != tt.want {
			t.Errorf("%s: Percentile(%d samples, %v) = %v, want %v", tt.name, len(tt.xs), tt.p, got, tt.want)
		}
	}
}

func TestSummarize(t *testing.T) {
	got := Summarize([]float64{0.2, 0.1, 0.3})
	want := Summary{N: 3, Med: 0.2, P99: 0.3}
	if got != want {
		t.Errorf("Summarize = %+v, want %+v", got, want)
	}
}
