package main

import (
	"math/rand/v2"
	"slices"
	"testing"
	"time"
)

// The buckets tile the values without gaps or overlaps, and each holds what it claims.
func TestHistBuckets(t *testing.T) {
	for i := range histBuckets - 1 {
		lo, next := bucketLow(i), bucketLow(i+1)
		if next <= lo {
			t.Fatalf("bucket %d starts at %d, bucket %d at %d", i, lo, i+1, next)
		}
		if bucketOf(lo) != i || bucketOf(next-1) != i || bucketOf(next) != i+1 {
			t.Fatalf("bucket %d [%d, %d): bucketOf gives %d, %d, %d", i, lo, next, bucketOf(lo), bucketOf(next-1), bucketOf(next))
		}
		if w := next - lo; lo >= histExact && float64(w)/float64(lo) > 1.0/64 {
			t.Fatalf("bucket %d [%d, %d) is wider than 1/64 of its value", i, lo, next)
		}
	}
	if got := bucketOf(1 << 50); got != histBuckets-1 {
		t.Fatalf("a value past the range lands in bucket %d, want the last (%d)", got, histBuckets-1)
	}
	if got := bucketOf(-5); got != 0 {
		t.Fatalf("a negative value (clock step) lands in bucket %d, want 0", got)
	}
}

// Quantiles agree with the sorted samples within the histogram's 1/64 precision.
func TestHistQuantiles(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	var h hist
	var us []int64
	for range 200_000 {
		// Log-normal-ish: most around a millisecond, a tail to a second.
		v := int64(200 + r.ExpFloat64()*800)
		if r.IntN(1000) == 0 {
			v = int64(r.IntN(1_000_000))
		}
		us = append(us, v)
		h.record(time.Duration(v) * time.Microsecond)
	}
	slices.Sort(us)
	for _, q := range []float64{0.5, 0.9, 0.99, 0.999, 1} {
		want := us[max(int(q*float64(len(us))+0.5)-1, 0)]
		got := h.quantile(q).Microseconds()
		if got < want || float64(got-want) > float64(want)/64+1 {
			t.Errorf("q%v: %d µs, the sorted samples say %d µs", q, got, want)
		}
	}
	if got := h.quantile(1).Microseconds(); got != us[len(us)-1] {
		t.Errorf("q1: %d µs, want the largest sample %d µs", got, us[len(us)-1])
	}
	var empty hist
	if empty.quantile(0.99) != 0 {
		t.Error("an empty histogram's quantile is not 0")
	}
}
