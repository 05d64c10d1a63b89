// Package backoff is the one exponential backoff with jitter that klassik's retry loops use
// for refused or failed ZooKeeper writes (the leader's conditional ISR write, the
// controller's partition state writes, broker registration), so that no loop retries a
// write in a tight loop and brokers that lost the same race do not retry in step.
//
// The n-th delay (from 0) is drawn uniformly from [d/2, d] with d = min(Initial*2^n, Max):
// "equal jitter", which keeps at least half the exponential wait while spreading retries.
package backoff

import (
	"context"
	"math/rand/v2"
	"time"
)

// Defaults for ZooKeeper write retries: 50 ms doubling to 5 s.
const (
	DefaultInitial = 50 * time.Millisecond
	DefaultMax     = 5 * time.Second
)

// Backoff hands out the delays of one retry loop. The zero value uses DefaultInitial and
// DefaultMax. It is not safe for concurrent use: it belongs to the loop that retries
// (or to whoever holds the lock of the state it protects).
type Backoff struct {
	Initial time.Duration  // first delay's upper end; zero: DefaultInitial
	Max     time.Duration  // cap on the upper end; zero: DefaultMax
	Rand    func() float64 // in [0, 1); nil: math/rand/v2. For tests.

	attempt int
}

// New is a Backoff from initial doubling to max.
func New(initial, max time.Duration) *Backoff { return &Backoff{Initial: initial, Max: max} }

// Next returns the delay before the next retry and advances the backoff.
func (b *Backoff) Next() time.Duration {
	initial, ceiling := b.Initial, b.Max
	if initial <= 0 {
		initial = DefaultInitial
	}
	if ceiling <= 0 {
		ceiling = DefaultMax
	}
	ceiling = max(ceiling, initial)
	d := initial
	for i := 0; i < b.attempt && d < ceiling; i++ {
		d *= 2
	}
	d = min(d, ceiling)
	if b.attempt < 62 {
		b.attempt++
	}
	r := b.Rand
	if r == nil {
		r = rand.Float64
	}
	return d/2 + time.Duration(r()*float64(d-d/2))
}

// Attempts is how many delays Next has handed out since the last Reset.
func (b *Backoff) Attempts() int { return b.attempt }

// Reset starts again from the first delay, after a success.
func (b *Backoff) Reset() { b.attempt = 0 }

// Wait sleeps for Next() or until ctx ends; it returns ctx's error in that case.
func (b *Backoff) Wait(ctx context.Context) error {
	t := time.NewTimer(b.Next())
	defer t.Stop()
	select {
	case <-t.C:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}
