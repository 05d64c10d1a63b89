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

	t.mu.Lock()
	if t.removed {
		t.mu.Unlock()
		return -1, -1, kerr.ConcurrentTransactions // expired meanwhile: the retry creates it anew
	}
	if t.pending != nil {
		t.mu.Unlock()
		return -1, -1, kerr.ConcurrentTransactions
	}
	cur := t.cur
	if expectPID >= 0 {
		// KIP-360: a producer that names its id and epoch must be the current one, or the
		// current one retrying a request whose answer it lost.
		retry := expectPID == cur.producerID && expectEpoch == cur.lastEpoch && cur.state == Empty
		if retry {
			t.mu.Unlock()
			return cur.producerID, cur.producerEpoch, nil
		}
		if expectPID != cur.producerID || expectEpoch != cur.producerEpoch {
			t.mu.Unlock()
			return -1, -1, kerr.ProducerFenced
		}
	}
	now := c.nowMs()
	switch cur.state {
	case PrepareCommit, PrepareAbort:
		t.mu.Unlock()
		return -1, -1, kerr.ConcurrentTransactions
	case Ongoing:
		// Fence the producer that left it open and abort its transaction (Kafka's
		// prepareFenceProducerEpoch, then handleEndTransaction(ABORT) with the bumped epoch).
		next := cur.clone()
		if !cur.epochExhausted() {
			next.producerEpoch++
		}
		next.lastEpoch = cur.producerEpoch
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

	next := cur.clone()
	next.lastEpoch = cur.producerEpoch
	if cur.producerEpoch < 0 || !cur.epochExhausted() {
		next.producerEpoch++
	} else {
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
