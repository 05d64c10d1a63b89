package transaction

import (
	"context"

	"github.com/twmb/franz-go/pkg/kerr"
)

// OffsetsTopic is the internal topic of group offsets, whose partition AddOffsetsToTxn adds.
const OffsetsTopic = "__consumer_offsets"

// AddPartitions adds partitions to the producer's transaction (Kafka's
// TransactionCoordinator.handleAddPartitionsToTransaction), opening it if none is open. The
// broker has checked that the partitions exist.
func (c *Coordinator) AddPartitions(ctx context.Context, id string, pid int64, epoch int16, tps []TopicPartition) error {
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
	t.mu.Lock()
	if err := t.checkProducerLocked(pid, epoch); err != nil {
		t.mu.Unlock()
		return err
	}
	cur := t.cur
	switch cur.state {
	case PrepareCommit, PrepareAbort:
		t.mu.Unlock()
		return kerr.ConcurrentTransactions
	case Ongoing:
		if cur.containsAll(tps) {
			t.mu.Unlock()
			return nil // nothing new: no write
		}
	case Empty, CompleteCommit, CompleteAbort:
	default:
		t.mu.Unlock()
		return kerr.InvalidTxnState
	}
	next := cur.clone()
	now := c.nowMs()
	if cur.state != Ongoing {
		next.startMs = now
	}
	next.state, next.lastUpdateMs, next.lastEpoch = Ongoing, now, -1
	for _, tp := range tps {
		next.partitions[tp] = struct{}{}
	}
	t.pending = &next
	t.mu.Unlock()
	return c.write(ctx, t, coordEpoch, next)
}

// VerifyPartitions answers AddPartitionsToTxn v4 with verify_only, which a partition leader
// sends before it appends a producer's first transactional batch (KIP-890): nil for each
// partition that is in the producer's ongoing transaction, INVALID_TXN_STATE for the others,
// or the producer's error for all of them.
func (c *Coordinator) VerifyPartitions(id string, pid int64, epoch int16, tps []TopicPartition) map[TopicPartition]error {
	out := make(map[TopicPartition]error, len(tps))
	all := func(err error) map[TopicPartition]error {
		for _, tp := range tps {
			out[tp] = err
		}
		return out
	}
	t, _, err := c.lookup(id)
	if err != nil {
		return all(err)
	}
	if t == nil {
		return all(kerr.InvalidProducerIDMapping)
	}
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.cur.producerID != pid {
		return all(kerr.InvalidProducerIDMapping)
	}
	if t.cur.producerEpoch != epoch {
		return all(kerr.ProducerFenced)
	}
	for _, tp := range tps {
		out[tp] = nil
		if _, ok := t.cur.partitions[tp]; !ok || t.cur.state != Ongoing {
			out[tp] = kerr.InvalidTxnState
		}
	}
	return out
}

// AddOffsets adds the group's partition of __consumer_offsets to the transaction
// (handleAddOffsetsToTransaction), so that the markers end the producer's TxnOffsetCommit too.
func (c *Coordinator) AddOffsets(ctx context.Context, id string, pid int64, epoch int16, group string) error {
	p := partitionFor(group, c.cfg.OffsetsTopicNumPartitions)
	return c.AddPartitions(ctx, id, pid, epoch, []TopicPartition{{OffsetsTopic, p}})
}

// checkProducerLocked is the check every producer request starts with: the id's producer id
// and epoch are the request's, and no write is in flight.
func (t *txnMetadata) checkProducerLocked(pid int64, epoch int16) error {
	switch {
	case t.removed:
		return kerr.InvalidProducerIDMapping
	case t.cur.producerID != pid:
		return kerr.InvalidProducerIDMapping
	case t.cur.producerEpoch != epoch:
		return kerr.ProducerFenced
	case t.pending != nil:
		return kerr.ConcurrentTransactions
	}
	return nil
}
