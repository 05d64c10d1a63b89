package transaction

import (
	"context"

	"github.com/twmb/franz-go/pkg/kerr"
)

// InitProducerID serves InitProducerId for a transactional id (Kafka's
// TransactionCoordinator.handleInitProducerId; the broker answers idempotent producers, with
// no transactional id, itself) and returns the producer id and epoch to use. The id gets a new
// epoch, so any older producer with the id is fenced. If the id has a transaction open, that
// transaction is aborted first, with the epoch bumped, and the producer is told
// CONCURRENT_TRANSACTIONS: it retries and, once the abort is complete, gets the epoch after
// that. expectPID and expectEpoch are the request's (KIP-360, v3+), -1 when not given.
func (c *Coordinator) InitProducerID(ctx context.Context, id string, timeoutMs int32, expectPID int64, expectEpoch int16) (int64, int16, error) {
	return c.initProducerID(ctx, id, timeoutMs, expectPID, expectEpoch)
}

func (c *Coordinator) initProducerID(ctx context.Context, id string, timeoutMs int32, expectPID int64, expectEpoch int16) (int64, int16, error) {
	if id == "" {
		return -1, -1, kerr.InvalidRequest
	}
	if timeoutMs <= 0 || timeoutMs > c.cfg.MaxTimeoutMs {
		return -1, -1, kerr.InvalidTransactionTimeout
	}
	t, epoch, err := c.lookup(id)
	if err != nil {
		return -1, -1, err
	}
	if t == nil {
		if t, err = c.create(id); err != nil {
			return -1, -1, err
		}
	}
	expected := expectPID >= 0 // KIP-360: the producer names the id and epoch it has

	t.mu.Lock()
	if t.removed || t.pending != nil {
		t.mu.Unlock()
		return -1, -1, kerr.ConcurrentTransactions // the retry finds it settled (or creates it anew)
	}
	cur := t.cur
	// A producer naming another producer id is fenced, unless the id was just created (a
	// producer recovering from UNKNOWN_PRODUCER_ID gets the new one).
	if expected && cur.producerEpoch >= 0 && expectPID != cur.producerID {
		t.mu.Unlock()
		return -1, -1, kerr.ProducerFenced
	}
	now := c.nowMs()
	next := cur.clone()
	switch cur.state {
	case PrepareCommit, PrepareAbort:
		t.mu.Unlock()
		return -1, -1, kerr.ConcurrentTransactions
	case Ongoing:
		// Fence the producer that left it open and abort its transaction (Kafka's
		// prepareFenceProducerEpoch, then the abort with the bumped epoch); the producer is told
		// to retry, and its retry bumps the epoch once more.
		if !cur.epochExhausted() {
			next.producerEpoch++
		}
		next.lastEpoch = -1
		next.state, next.lastUpdateMs, next.pendingMarkers = PrepareAbort, now, true
		t.pending = &next
		t.mu.Unlock()
		if err := c.write(ctx, t, epoch, next); err != nil {
			return -1, -1, err
		}
		c.logger.Info().Str("transactional_id", id).Int64("producer_id", next.producerID).Int16("epoch", next.producerEpoch).
			Msg("a new producer fenced the open transaction; aborting it")
		c.goTracked(func() { c.completeTransaction(c.partitionCtx(t.partition), t, epoch) })
		return -1, -1, kerr.ConcurrentTransactions
	case Empty, CompleteCommit, CompleteAbort:
	default:
		t.mu.Unlock()
		return -1, -1, kerr.ConcurrentTransactions // Dead: being removed
	}

	switch {
	case cur.producerEpoch >= 0 && cur.epochExhausted() && (!expected || expectEpoch == cur.producerEpoch):
		// The epoch cannot go higher: a new producer id, from epoch 0.
		t.mu.Unlock()
		npid, err := c.pids.NextID()
		if err != nil {
			return -1, -1, kerr.CoordinatorNotAvailable
		}
		t.mu.Lock()
		if t.pending != nil || t.cur.producerEpoch != cur.producerEpoch {
			t.mu.Unlock()
			return -1, -1, kerr.ConcurrentTransactions
		}
		next.producerID, next.producerEpoch, next.lastEpoch = npid, 0, -1
	case !expected:
		// A new producer: bump, and forget the last epoch so that no older one can retry.
		next.producerEpoch, next.lastEpoch = cur.producerEpoch+1, -1
	case cur.producerEpoch < 0 || expectEpoch == cur.producerEpoch:
		// The current producer starting over after an error (KIP-360): bump, remembering
		// the epoch it had.
		next.producerEpoch, next.lastEpoch = cur.producerEpoch+1, cur.producerEpoch
	case expectEpoch == cur.lastEpoch:
		// A retry of a bump whose answer was lost: the epoch it already got.
		t.mu.Unlock()
		return cur.producerID, cur.producerEpoch, nil
	default:
		t.mu.Unlock()
		return -1, -1, kerr.ProducerFenced
	}
	next.timeoutMs = timeoutMs
	next.state, next.startMs, next.lastUpdateMs = Empty, -1, now
	clear(next.partitions)
	t.pending = &next
	t.mu.Unlock()
	if err := c.write(ctx, t, epoch, next); err != nil {
		return -1, -1, err
	}
	return next.producerID, next.producerEpoch, nil
}

// create adds a new id with a fresh producer id, in state Empty at epoch -1 (not written yet:
// the InitProducerId that created it writes epoch 0).
func (c *Coordinator) create(id string) (*txnMetadata, error) {
	pid, err := c.pids.NextID()
	if err != nil {
		c.logger.Error().Err(err).Msg("allocating a producer id block")
		return nil, kerr.CoordinatorNotAvailable
	}
	p := c.PartitionFor(id)
	c.mu.Lock()
	defer c.mu.Unlock()
	if _, err := c.ownerLocked(p); err != nil {
		return nil, err
	}
	if t := c.txns[id]; t != nil {
		return t, nil // created by a concurrent request; the producer id is wasted, as in Kafka
	}
	t := &txnMetadata{id: id, partition: p, cur: snapshot{
		producerID: pid, producerEpoch: -1, lastEpoch: -1, state: Empty,
		partitions: map[TopicPartition]struct{}{}, startMs: -1, lastUpdateMs: c.nowMs(),
	}}
	c.txns[id] = t
	return t, nil
}
