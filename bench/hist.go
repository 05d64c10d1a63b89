package main

import (
	"math/bits"
	"time"
)

// hist is a latency histogram in the manner of HdrHistogram: values in microseconds, exact
// below 128 µs, and above that 64 buckets per power of two, so a quantile is off by at most
// 1/64 (1.6 %) of its value. Its memory is fixed (histBuckets counters) however many
// samples it takes; values past the last bucket (2^41 µs, 25 days) count in the last.
type hist struct {
	counts [histBuckets]int64
	n      int64
	max    int64 // µs
}

const (
	histExact   = 128 // values below are their own bucket
	histSub     = 64  // buckets per power of two above histExact
	histShifts  = 35  // powers of two above histExact covered
	histBuckets = histExact + histShifts*histSub
)

// bucketOf maps a value in µs to its bucket.
func bucketOf(us int64) int {
	if us < histExact {
		return int(max(us, 0))
	}
	// Keep the value's 7 leading bits: top is in [64, 128), shift >= 1.
	shift := bits.Len64(uint64(us)) - 7
	top := us >> shift
	i := histExact + (shift-1)*histSub + int(top-histSub)
	return min(i, histBuckets-1)
}

// bucketLow is the smallest value in µs of bucket i; bucketLow(i+1)-1 is its largest.
func bucketLow(i int) int64 {
	if i < histExact {
		return int64(i)
	}
	shift := (i-histExact)/histSub + 1
	top := int64((i-histExact)%histSub + histSub)
	return top << shift
}

func (h *hist) record(d time.Duration) {
	us := d.Microseconds()
	h.counts[bucketOf(us)]++
	h.n++
	h.max = max(h.max, us)
}

// quantile is the value below which a fraction q of the samples lie: the largest value of
// the bucket holding the q-th sample (never above the largest sample), like HdrHistogram's
// valueAtPercentile.
func (h *hist) quantile(q float64) time.Duration {
	if h.n == 0 {
		return 0
	}
	rank := int64(q*float64(h.n) + 0.5)
	rank = min(max(rank, 1), h.n)
	var seen int64
	for i, c := range h.counts {
		seen += c
		if seen >= rank {
			hi := bucketLow(i+1) - 1
			if i == histBuckets-1 {
				hi = h.max
			}
			return time.Duration(min(hi, h.max)) * time.Microsecond
		}
	}
	return time.Duration(h.max) * time.Microsecond
}
