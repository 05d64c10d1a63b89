package broker

import (
	"testing"
	"time"
)

// TestISRRetryBacksOff: after a refused ISR write the leader does not write again on the
// next follower fetch but after the backoff; a new zkVersion (the controller's state arrived
// with LeaderAndIsr) allows a write at once and starts the backoff over.
func TestISRRetryBacksOff(t *testing.T) {
	var r isrRetry
	now := time.Now()
	if !r.allowLocked(7, now) {
		t.Fatal("no refusal yet, write refused")
	}
	// A refusal at zkVersion 7, as proposeISRLocked records it.
	d := r.backoff.Next()
	r.refusedAt, r.retryAt = 7, now.Add(d)
	if r.allowLocked(7, now.Add(d/2)) {
		t.Fatalf("write allowed %v after a refusal, backoff %v", d/2, d)
	}
	if !r.allowLocked(7, now.Add(d)) {
		t.Fatal("write not allowed once the backoff passed")
	}
	// Refused again: the next delay is longer (doubling, jitter within [d/2, d]).
	d2 := r.backoff.Next()
	if d2 < 50*time.Millisecond || d2 > 100*time.Millisecond {
		t.Fatalf("second delay %v, want within [50ms, 100ms]", d2)
	}
	r.refusedAt, r.retryAt = 7, now.Add(d2)
	if !r.allowLocked(8, now) {
		t.Fatal("a new partition state does not allow a write at once")
	}
	if r.backoff.Attempts() != 0 {
		t.Fatal("the backoff did not start over with the new partition state")
	}
}
