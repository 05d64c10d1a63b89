package backoff

import (
	"context"
	"errors"
	"testing"
	"time"
)

// TestDelaysDoubleWithinJitterUpToMax: every delay lies in [d/2, d] of its exponential step,
// the steps double from Initial and stop at Max, and Reset starts over.
func TestDelaysDoubleWithinJitterUpToMax(t *testing.T) {
	b := &Backoff{}
	steps := []time.Duration{50, 100, 200, 400, 800, 1600, 3200, 5000, 5000, 5000}
	for i, s := range steps {
		d := s * time.Millisecond
		got := b.Next()
		if got < d/2 || got > d {
			t.Fatalf("delay %d: %v, want within [%v, %v]", i, got, d/2, d)
		}
	}
	if b.Attempts() != len(steps) {
		t.Fatalf("attempts %d, want %d", b.Attempts(), len(steps))
	}
	b.Reset()
	if got := b.Next(); got > DefaultInitial {
		t.Fatalf("after Reset: %v, want at most %v", got, DefaultInitial)
	}
}

// TestJitterBounds: the random draw maps to exactly the ends of the range.
func TestJitterBounds(t *testing.T) {
	lo := &Backoff{Initial: time.Second, Max: time.Second, Rand: func() float64 { return 0 }}
	hi := &Backoff{Initial: time.Second, Max: time.Second, Rand: func() float64 { return 0.999999999 }}
	if got := lo.Next(); got != 500*time.Millisecond {
		t.Fatalf("lowest draw: %v, want 500ms", got)
	}
	if got := hi.Next(); got < 999*time.Millisecond || got > time.Second {
		t.Fatalf("highest draw: %v, want about 1s", got)
	}
	// Jitter spreads: two backoffs rarely agree on every one of 20 delays.
	a, b := New(time.Millisecond, time.Second), New(time.Millisecond, time.Second)
	same := 0
	for range 20 {
		if a.Next() == b.Next() {
			same++
		}
	}
	if same == 20 {
		t.Fatal("two backoffs produced the same 20 delays: no jitter")
	}
}

// TestNoOverflow: thousands of attempts stay at Max.
func TestNoOverflow(t *testing.T) {
	b := New(time.Millisecond, time.Hour)
	var last time.Duration
	for range 10000 {
		last = b.Next()
	}
	if last < 30*time.Minute || last > time.Hour {
		t.Fatalf("after 10000 attempts: %v, want within [30m, 1h]", last)
	}
}

// TestWaitEndsWithContext: Wait returns the context's error when it ends first.
func TestWaitEndsWithContext(t *testing.T) {
	b := New(time.Hour, time.Hour)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Millisecond)
	defer cancel()
	start := time.Now()
	if err := b.Wait(ctx); !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("Wait: %v", err)
	}
	if time.Since(start) > 5*time.Second {
		t.Fatal("Wait did not return when the context ended")
	}
	if err := New(time.Millisecond, time.Millisecond).Wait(context.Background()); err != nil {
		t.Fatal(err)
	}
}
