package transaction

import (
	"context"
	"errors"
	"time"

	"github.com/klassik/klassik/internal/backoff"
	"github.com/klassik/klassik/record"
)

// loadPartition is TransactionStateManager.loadTransactionsForTxnTopicPartition: it reads the
// partition from its log start to the high watermark, replays it, installs the ids, and then
// finishes every transaction it found prepared (their markers may not all be written: the
// previous coordinator may have died in the middle). A failing read is retried with backoff
// until the partition is resigned or the coordinator closes.
func (c *Coordinator) loadPartition(ctx context.Context, p int32, st *partitionState) {
	start := time.Now()
	bo := backoff.New(100*time.Millisecond, 5*time.Second)
	states, err := c.readPartition(ctx, p)
	for err != nil {
		c.logger.Warn().Err(err).Int32("partition", p).Int("attempt", bo.Attempts()+1).Msg("loading __transaction_state partition failed; retrying")
		if bo.Wait(ctx) != nil {
			return // resigned or closed
		}
		states, err = c.readPartition(ctx, p)
	}

	c.mu.Lock()
	if c.partitions[p] != st {
		c.mu.Unlock()
		return // resigned or re-elected meanwhile
	}
	var prepared []*txnMetadata
	for id, s := range states {
		t := &txnMetadata{id: id, partition: p, cur: s}
		c.txns[id] = t
		if s.pendingMarkers {
			prepared = append(prepared, t)
		}
	}
	st.loading = false
	epoch := st.epoch
	c.mu.Unlock()

	for _, t := range prepared {
		c.goTracked(func() { c.completeTransaction(ctx, t, epoch) })
	}
	c.logger.Info().Int32("partition", p).Int("transactional_ids", len(states)).Int("prepared", len(prepared)).
		Dur("took", time.Since(start)).Msg("loaded __transaction_state partition")
}

// readPartition replays partition p up to its high watermark.
func (c *Coordinator) readPartition(ctx context.Context, p int32) (map[string]snapshot, error) {
	states := make(map[string]snapshot)
	off, err := c.log.LogStartOffset(p)
	if err != nil {
		return nil, err
	}
	skip := func(offset int64, err error) {
		c.logger.Warn().Err(err).Int32("partition", p).Int64("offset", offset).Msg("skipping undecodable __transaction_state data")
	}
	for ctx.Err() == nil {
		buf, hw, err := c.log.Read(p, off, c.cfg.LoadBufferSize)
		if errors.Is(err, record.ErrCorrupt) {
			skip(off, err) // served up to the corrupt batch, as the group loader does
			return states, nil
		}
		if err != nil {
			return nil, err
		}
		if len(buf) == 0 || off >= hw {
			return states, nil
		}
		next, whole := replay(buf, 16*c.cfg.LoadBufferSize, states, skip)
		if !whole && next < 0 {
			return states, nil // a broken first batch: nothing after it can be located
		}
		if next <= off {
			return states, nil
		}
		off = next
	}
	return nil, ctx.Err()
}
