package transaction

import (
	"context"
	"time"
)

// The coordinator's two periodic jobs (Kafka's TransactionCoordinator.abortTimedOutTransactions
// and TransactionStateManager.removeExpiredTransactionalIds).

func (c *Coordinator) every(intervalMs int, job func()) {
	tk := time.NewTicker(time.Duration(intervalMs) * time.Millisecond)
	defer tk.Stop()
	for {
		select {
		case <-c.ctx.Done():
			return
		case <-tk.C:
			job()
		}
	}
}

func (c *Coordinator) abortTimedOutLoop() {
	c.every(c.cfg.AbortTimedOutIntervalMs, c.AbortTimedOut)
}

func (c *Coordinator) expireLoop() {
	c.every(c.cfg.RemoveExpiredIntervalMs, c.RemoveExpired)
}

// owned lists the loaded ids of this coordinator with their coordinator epochs.
func (c *Coordinator) owned() (ts []*txnMetadata, epochs []int32) {
	c.mu.Lock()
	defer c.mu.Unlock()
	for _, t := range c.txns {
		st := c.partitions[t.partition]
		if st == nil || st.loading {
			continue
		}
		ts = append(ts, t)
		epochs = append(epochs, st.epoch)
	}
	return ts, epochs
}

// AbortTimedOut aborts every transaction open longer than its transaction.timeout.ms, bumping
// the producer's epoch so that the producer which let it run out is fenced: its next request
// answers PRODUCER_FENCED (or INVALID_PRODUCER_EPOCH to older clients).
func (c *Coordinator) AbortTimedOut() {
	now := c.nowMs()
	ts, epochs := c.owned()
	for i, t := range ts {
		t.mu.Lock()
		cur := t.cur
		if t.pending != nil || cur.state != Ongoing || cur.startMs+int64(cur.timeoutMs) > now {
			t.mu.Unlock()
			continue
		}
		next := cur.clone()
		if !cur.epochExhausted() {
			next.producerEpoch++
		}
		next.lastEpoch = cur.producerEpoch
		next.state, next.lastUpdateMs, next.pendingMarkers = PrepareAbort, now, true
		t.pending = &next
		t.mu.Unlock()
		ctx := c.partitionCtx(t.partition)
		if err := c.write(ctx, t, epochs[i], next); err != nil {
			c.logger.Warn().Err(err).Str("transactional_id", t.id).Msg("aborting a timed-out transaction failed; retrying at the next check")
			continue
		}
		c.logger.Info().Str("transactional_id", t.id).Int64("producer_id", cur.producerID).Int32("transaction_timeout_ms", cur.timeoutMs).
			Msg("aborting a transaction past its timeout")
		epoch := epochs[i]
		c.goTracked(func() { c.completeTransaction(ctx, t, epoch) })
	}
}

// RemoveExpired removes the ids that have had no transaction open for
// transactional.id.expiration.ms: a tombstone is written, then the id is forgotten.
func (c *Coordinator) RemoveExpired() {
	now := c.nowMs()
	ts, epochs := c.owned()
	for i, t := range ts {
		t.mu.Lock()
		cur := t.cur
		idle := cur.state == Empty || cur.state == CompleteCommit || cur.state == CompleteAbort
		if t.pending != nil || !idle || cur.lastUpdateMs+c.cfg.TransactionalIDExpirationMs > now {
			t.mu.Unlock()
			continue
		}
		dead := cur.clone()
		dead.state = Dead
		t.pending = &dead
		t.mu.Unlock()
		ctx, cancel := context.WithTimeout(c.partitionCtx(t.partition), c.cfg.WriteTimeout)
		err := c.log.Append(ctx, t.partition, encodeBatch(t.id, nil, now))
		cancel()
		t.mu.Lock()
		t.pending = nil
		if err == nil && c.stillOwner(t.partition, epochs[i]) {
			t.removed = true
			c.mu.Lock()
			if c.txns[t.id] == t {
				delete(c.txns, t.id)
			}
			c.mu.Unlock()
		}
		t.mu.Unlock()
		if err != nil {
			c.logger.Warn().Err(err).Str("transactional_id", t.id).Msg("removing an expired transactional id failed")
		} else {
			c.logger.Info().Str("transactional_id", t.id).Msg("removed an expired transactional id")
		}
	}
}
