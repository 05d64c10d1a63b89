package transaction

import (
	"context"
	"errors"
	"time"

	"github.com/twmb/franz-go/pkg/kerr"
)

// EndTxn commits or aborts the producer's transaction (Kafka's
// TransactionCoordinator.handleEndTransaction): PrepareCommit or PrepareAbort is written to
// __transaction_state, the producer is answered, and the markers are written in the
// background, after which the transaction is CompleteCommit or CompleteAbort. A retried
// EndTxn for a transaction already ending or ended answers as Kafka does: success for the
// same outcome once complete, CONCURRENT_TRANSACTIONS while it completes, INVALID_TXN_STATE
// for the other outcome.
func (c *Coordinator) EndTxn(ctx context.Context, id string, pid int64, epoch int16, commit bool) error {
	if id == "" {
		return kerr.InvalidRequest
	}
	t, coordEpoch, err := c.lookup(id)
	if err != nil {
		return err
	}
	if t == nil {
		return kerr.InvalidProducerIDMapping
	}
	prepare, complete := PrepareAbort, CompleteAbort
	if commit {
		prepare, complete = PrepareCommit, CompleteCommit
	}
	t.mu.Lock()
	if err := t.checkProducerLocked(pid, epoch); err != nil {
		t.mu.Unlock()
		return err
	}
	cur := t.cur
	switch cur.state {
	case Ongoing:
	case prepare:
		t.mu.Unlock()
		return kerr.ConcurrentTransactions
	case complete:
		t.mu.Unlock()
		return nil
	default: // Empty, the other outcome, Dead
		t.mu.Unlock()
		return kerr.InvalidTxnState
	}
	next := cur.clone()
	next.state, next.lastUpdateMs, next.pendingMarkers = prepare, c.nowMs(), true
	t.pending = &next
	t.mu.Unlock()
	if err := c.write(ctx, t, coordEpoch, next); err != nil {
		return err
	}
	c.goTracked(func() { c.completeTransaction(c.partitionCtx(t.partition), t, coordEpoch) })
	return nil
}

// Backoff between rounds of markers that did not all succeed.
const (
	markerBackoffMin = 100 * time.Millisecond
	markerBackoffMax = 5 * time.Second
)

// completeTransaction writes the markers of t's prepared transaction to every partition of it,
// retrying those that fail, then writes the Complete state (Kafka's
// TransactionMarkerChannelManager and its TxnMarkerQueue, and
// TransactionStateManager.appendTransactionToLog for the completion). It stops when this broker
// no longer coordinates the id at coordEpoch: the next coordinator finishes it on loading.
func (c *Coordinator) completeTransaction(ctx context.Context, t *txnMetadata, coordEpoch int32) {
	t.mu.Lock()
	cur := t.cur
	t.mu.Unlock()
	if !cur.pendingMarkers {
		return
	}
	m := Markers{
		ProducerID: cur.producerID, ProducerEpoch: cur.producerEpoch, CoordinatorEpoch: coordEpoch,
		Commit: cur.state == PrepareCommit, Partitions: cur.sortedPartitions(),
	}
	all := m.Partitions
	backoff := markerBackoffMin
	for len(m.Partitions) > 0 {
		if ctx.Err() != nil || !c.stillOwner(t.partition, coordEpoch) {
			return
		}
		results := c.markers.WriteMarkers(ctx, m)
		var retry []TopicPartition
		for _, tp := range m.Partitions {
			err, answered := results[tp]
			switch {
			case answered && (err == nil || errors.Is(err, ErrPartitionGone)):
			case errors.Is(err, kerr.InvalidProducerEpoch), errors.Is(err, kerr.TransactionCoordinatorFenced):
				// A newer coordinator or producer epoch already wrote here: this coordinator
				// has been replaced, as Kafka concludes.
				c.logger.Warn().Err(err).Str("transactional_id", t.id).Str("topic", tp.Topic).Int32("partition", tp.Partition).
					Msg("transaction marker refused; this coordinator was fenced")
				return
			default:
				retry = append(retry, tp)
			}
		}
		if len(retry) == 0 {
			break
		}
		c.logger.Debug().Str("transactional_id", t.id).Int("partitions", len(retry)).Dur("retry_in", backoff).
			Msg("retrying transaction markers")
		m.Partitions = retry
		if !sleep(ctx, backoff) {
			return
		}
		backoff = min(2*backoff, markerBackoffMax)
	}

	// Every marker is written: record the outcome.
	c.publishMarkers(t, m, all)
	backoff = markerBackoffMin
	for {
		t.mu.Lock()
		if t.removed || t.cur.producerEpoch != cur.producerEpoch || t.cur.state != cur.state {
			t.mu.Unlock()
			return
		}
		if t.pending != nil { // cannot be: requests refuse a prepared transaction; wait anyway
			t.mu.Unlock()
			if !sleep(ctx, backoff) {
				return
			}
			continue
		}
		next := t.cur.clone()
		next.state, next.lastUpdateMs, next.pendingMarkers = markersDone(cur.state), c.nowMs(), false
		clear(next.partitions)
		t.pending = &next
		t.mu.Unlock()
		err := c.write(ctx, t, coordEpoch, next)
		if err == nil {
			c.logger.Debug().Str("transactional_id", t.id).Str("state", next.state.String()).Msg("transaction complete")
			return
		}
		if errors.Is(err, kerr.NotCoordinator) {
			return
		}
		if !sleep(ctx, backoff) {
			return
		}
		backoff = min(2*backoff, markerBackoffMax)
	}
}

// sleep waits d or until ctx ends; false when ctx ended.
func sleep(ctx context.Context, d time.Duration) bool {
	tm := time.NewTimer(d)
	defer tm.Stop()
	select {
	case <-ctx.Done():
		return false
	case <-tm.C:
		return true
	}
}
