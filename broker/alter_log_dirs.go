// Moving replicas between this broker's log dirs (KIP-113): Kafka's
// ReplicaAlterLogDirsManager with one ReplicaAlterLogDirsThread.

package broker

import (
	"errors"
	"slices"
	"sync"
	"time"

	"github.com/klassik/klassik/internal/backoff"
	"github.com/klassik/klassik/logstore"
)

// alterLogDirs is the broker's alter-log-dirs task: one goroutine that takes the partitions
// being moved to another log dir in turn, copies each from its current log into its future
// log (logstore's CopyToFuture: at most replica.fetch.max.bytes a step, so the memory a move
// holds is one read), and swaps the two once the copy has caught up
// (ReplaceCurrentWithFuture, which copies what producers appended meanwhile, at most another
// replica.fetch.max.bytes, under the log's locks). A failed step waits before the next one
// (replica.fetch.backoff.ms, doubling); a failed disk takes its dir offline through logstore,
// which ends the moves into it.
//
// The partitions are added by AlterReplicaLogDirs and, after a restart that found -future
// folders, when the broker hosts the partition again (replicaManager.getOrCreate). Safe for
// concurrent use.
type alterLogDirs struct {
	b *Broker

	// reqMu serialises AlterReplicaLogDirs requests, as Kafka's replicaStateChangeLock does:
	// each looks at a partition's current and future dirs and then changes them.
	reqMu sync.Mutex

	mu    sync.Mutex
	parts map[topicPartition]*moveState // the partitions being moved
	wake  chan struct{}                 // one slot: a partition was added
}

// moveState is one partition's move, owned by alterLogDirs.mu.
type moveState struct {
	bo      *backoff.Backoff
	retryAt time.Time // zero: due now
}

func newAlterLogDirs(b *Broker) *alterLogDirs {
	return &alterLogDirs{b: b, parts: map[topicPartition]*moveState{}, wake: make(chan struct{}, 1)}
}

// add starts copying tp (again); a partition already being moved is left as it is.
func (a *alterLogDirs) add(tp topicPartition) {
	a.mu.Lock()
	if a.parts[tp] == nil {
		every := time.Duration(max(a.b.cfg.ReplicaFetchBackoffMs, 1)) * time.Millisecond
		a.parts[tp] = &moveState{bo: backoff.New(every, 10*every)}
	}
	a.mu.Unlock()
	select {
	case a.wake <- struct{}{}:
	default:
	}
}

// remove stops copying tp; the future log stays (the caller removes it, or a restart resumes).
func (a *alterLogDirs) remove(tp topicPartition) {
	a.mu.Lock()
	delete(a.parts, tp)
	a.mu.Unlock()
}

// moving reports whether tp is being moved: its log is not cleaned meanwhile (Kafka's
// abortAndPauseCleaning for the partitions of the alter-log-dirs thread).
func (a *alterLogDirs) moving(tp topicPartition) bool {
	a.mu.Lock()
	defer a.mu.Unlock()
	return a.parts[tp] != nil
}

// due lists the partitions whose next step is due, in a stable order, and the earliest time
// another one is.
func (a *alterLogDirs) due(now time.Time) ([]topicPartition, time.Time) {
	a.mu.Lock()
	defer a.mu.Unlock()
	var out []topicPartition
	var next time.Time
	for tp, st := range a.parts {
		if !st.retryAt.After(now) {
			out = append(out, tp)
		} else if next.IsZero() || st.retryAt.Before(next) {
			next = st.retryAt
		}
	}
	slices.SortFunc(out, func(x, y topicPartition) int {
		if x.topic != y.topic {
			if x.topic < y.topic {
				return -1
			}
			return 1
		}
		return int(x.partition - y.partition)
	})
	return out, next
}

// run is the task's goroutine; it ends with the broker.
func (a *alterLogDirs) run() {
	for {
		due, next := a.due(time.Now())
		for _, tp := range due {
			if a.b.ctx.Err() != nil {
				return
			}
			a.step(tp)
		}
		if len(due) > 0 {
			continue
		}
		var (
			t     *time.Timer
			retry <-chan time.Time
		)
		if !next.IsZero() {
			t = time.NewTimer(time.Until(next))
			retry = t.C
		}
		select {
		case <-a.b.ctx.Done():
			return
		case <-a.wake:
		case <-retry:
		}
		if t != nil {
			t.Stop()
		}
	}
}

// step copies one read of tp and swaps when the copy has caught up.
func (a *alterLogDirs) step(tp topicPartition) {
	b := a.b
	lt := logstore.TopicPartition{Topic: tp.topic, Partition: tp.partition}
	readBytes := max(b.cfg.ReplicaFetchMaxBytes, 1)
	caughtUp, err := b.logs.CopyToFuture(lt, readBytes)
	swapped := false
	if err == nil && caughtUp {
		swapped, err = b.logs.ReplaceCurrentWithFuture(lt, readBytes, readBytes)
	}
	a.mu.Lock()
	defer a.mu.Unlock()
	st := a.parts[tp]
	switch {
	case st == nil:
		// Removed meanwhile (cancelled, stopped): what this step saw no longer counts.
	case swapped:
		delete(a.parts, tp)
		cur, _ := b.logs.LogDirsOf(lt)
		b.log.Info().Str("topic", tp.topic).Int32("partition", tp.partition).Str("log_dir", cur).
			Msg("moved the replica to another log dir: the future log replaced the current one")
	case errors.Is(err, logstore.ErrNoFuture):
		// The future log is gone: the move was cancelled, the partition deleted, or a dir
		// of the move failed.
		delete(a.parts, tp)
	case errors.Is(err, logstore.ErrClosed):
		// A log closed under the step (a cancel racing it, or shutdown): look again.
	case err != nil:
		wait := st.bo.Next()
		st.retryAt = time.Now().Add(wait)
		b.log.Warn().Err(err).Str("topic", tp.topic).Int32("partition", tp.partition).Dur("retry_in", wait).
			Msg("moving the replica to another log dir (replica.fetch.backoff.ms)")
	default:
		st.bo.Reset()
		st.retryAt = time.Time{}
	}
}
