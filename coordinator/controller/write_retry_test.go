package controller

import (
	"context"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/klassik/klassik/zkclient"
	"github.com/twmb/franz-go/pkg/kmsg"
)

// sleeps records the write backoff's waits instead of sleeping.
type sleeps struct {
	mu sync.Mutex
	d  []time.Duration
}

func (s *sleeps) sleep(_ context.Context, d time.Duration) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.d = append(s.d, d)
	return nil
}

func (s *sleeps) all() []time.Duration {
	s.mu.Lock()
	defer s.mu.Unlock()
	return slices.Clone(s.d)
}

// checkBackoff checks that waits follow the write backoff: the n-th is drawn from the upper
// half of min(initial*2^n, max), so none is zero and, below the cap, each is at least the one
// before.
func checkBackoff(t *testing.T, waits []time.Duration, initial, ceiling time.Duration) {
	t.Helper()
	up, prevUp := initial, time.Duration(0)
	for i, d := range waits {
		if d < up/2 || d > up {
			t.Errorf("wait %d is %v, want within [%v, %v] (waits %v)", i, d, up/2, up, waits)
		}
		if i > 0 && up == 2*prevUp && d < waits[i-1] {
			t.Errorf("wait %d (%v) is shorter than wait %d (%v)", i, d, i-1, waits[i-1])
		}
		prevUp, up = up, min(2*up, ceiling)
	}
}

// A partition state write ZooKeeper refuses (a lost connection) is retried after growing
// waits, with jitter, until it goes through: no tight loop, and the election completes
// (Kafka's retryRequestsUntilConnected, with the backoff issue 8 asks for).
func TestRefusedWriteRetriedWithBackoff(t *testing.T) {
	zk := threeBrokers()
	var s sleeps
	h := activeController(t, zk, Config{ZKWriteBackoff: 50 * time.Millisecond, ZKWriteBackoffMax: 5 * time.Second, sleep: s.sleep})
	zk.mu.Lock()
	zk.refuse[part("a", 0)] = 4
	zk.mu.Unlock()

	zk.removeBroker(2) // leader of a-0: an offline election, whose first four writes are refused
	h.enqueue(zkclient.EventBrokersChanged, "")

	if st, _ := zk.state("a", 0); st.Leader != 3 || st.LeaderEpoch != 5 || !slices.Equal(st.ISR, []int32{3, 1}) {
		t.Fatalf("a-0 after the refused writes: %+v", st)
	}
	zk.mu.Lock()
	refused := zk.refused[part("a", 0)]
	zk.mu.Unlock()
	waits := s.all()
	if refused != 4 || len(waits) != 4 {
		t.Fatalf("%d writes refused, %d waits %v; want 4 and 4", refused, len(waits), waits)
	}
	checkBackoff(t, waits, 50*time.Millisecond, 5*time.Second)
	h.waitLAI(3, part("a", 0), func(ps kmsg.LeaderAndISRRequestTopicPartition) bool { return ps.Leader == 3 && ps.LeaderEpoch == 5 })
}

// A write that loses a race once (ErrBadVersion) is decided again at once, as Kafka does; only
// a refusal that repeats waits.
func TestBadVersionRetriedWithoutWait(t *testing.T) {
	zk := threeBrokers()
	var s sleeps
	h := activeController(t, zk, Config{sleep: s.sleep})
	zk.mu.Lock()
	zk.badVersion[part("a", 0)] = func(s *zkclient.PartitionState) { s.ISR = []int32{2, 1} }
	zk.mu.Unlock()
	zk.removeBroker(2)
	h.enqueue(zkclient.EventBrokersChanged, "")
	if st, _ := zk.state("a", 0); st.Leader != 1 || st.LeaderEpoch != 5 {
		t.Fatalf("a-0: %+v", st)
	}
	if w := s.all(); len(w) != 0 {
		t.Fatalf("waited %v after one lost race", w)
	}
}

// ZooKeeper refusing every write: the event gives up after maxWriteRounds attempts (waiting
// between them, the waits capped by ZKWriteBackoffMax), and a retry of the election is
// scheduled with backoff; once ZooKeeper takes writes again the partition gets its leader
// without any other event.
func TestRefusedWritesGiveUpThenRetryLater(t *testing.T) {
	zk := threeBrokers()
	var s sleeps
	var (
		mu        sync.Mutex
		scheduled []time.Duration
		fire      func()
	)
	after := func(d time.Duration, f func()) func() bool {
		mu.Lock()
		defer mu.Unlock()
		scheduled, fire = append(scheduled, d), f
		return func() bool { return true }
	}
	fireRetry := func() {
		t.Helper()
		mu.Lock()
		f := fire
		fire = nil
		mu.Unlock()
		if f == nil {
			t.Fatal("no retry scheduled")
		}
		f()
	}
	h := activeController(t, zk, Config{ZKWriteBackoff: time.Millisecond, ZKWriteBackoffMax: 8 * time.Millisecond, sleep: s.sleep, afterFunc: after})
	zk.mu.Lock()
	zk.refuse[part("a", 0)] = -1
	zk.mu.Unlock()

	zk.removeBroker(2)
	h.enqueue(zkclient.EventBrokersChanged, "")
	zk.mu.Lock()
	refused := zk.refused[part("a", 0)]
	zk.mu.Unlock()
	// Two transitions of a-0, each given up on after its rounds: the offline election and
	// taking replica 2 out of its ISR.
	waits := s.all()
	if refused != 2*maxWriteRounds || len(waits) != 2*(maxWriteRounds-1) {
		t.Fatalf("one event: %d writes refused and %d waits; want %d and %d", refused, len(waits), 2*maxWriteRounds, 2*(maxWriteRounds-1))
	}
	checkBackoff(t, waits[:maxWriteRounds-1], time.Millisecond, 8*time.Millisecond)
	checkBackoff(t, waits[maxWriteRounds-1:], time.Millisecond, 8*time.Millisecond)
	if st, _ := zk.state("a", 0); st.Leader != 2 {
		t.Fatalf("a-0 changed although every write was refused: %+v", st)
	}

	// A retry is scheduled; while ZooKeeper still refuses, each retry gives up after its
	// rounds and schedules the next one later than the one before.
	for i := 0; i < 3; i++ {
		fireRetry()
		want := (3 + i) * maxWriteRounds
		waitFor(t, "a scheduled retry", func() bool {
			zk.mu.Lock()
			defer zk.mu.Unlock()
			mu.Lock()
			defer mu.Unlock()
			return zk.refused[part("a", 0)] == want && fire != nil
		})
	}
	mu.Lock()
	delays := slices.Clone(scheduled)
	mu.Unlock()
	if len(delays) != 4 {
		t.Fatalf("scheduled retries after %v, want 4 of them", delays)
	}
	checkBackoff(t, delays, time.Millisecond, 8*time.Millisecond)

	// Once ZooKeeper takes writes again, the next retry elects a-0 without any other event.
	zk.mu.Lock()
	zk.refuse[part("a", 0)] = 0
	zk.mu.Unlock()
	fireRetry()
	waitFor(t, "a-0 elected by a scheduled retry", func() bool {
		st, _ := zk.state("a", 0)
		return st.Leader == 3 && st.LeaderEpoch == 5
	})
	h.waitLAI(3, part("a", 0), func(ps kmsg.LeaderAndISRRequestTopicPartition) bool { return ps.Leader == 3 })
}
