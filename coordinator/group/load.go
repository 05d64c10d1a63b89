package group

import (
	"context"
	"errors"
	"time"

	"github.com/klassik/klassik/record"
)

// loadPartition is GroupMetadataManager.doLoadGroupsAndOffsets: it reads the partition from
// its log start to its log end (FetchLogEnd), replays the records (the last record of a key
// wins, a null value deletes) and installs the groups, applying the transactions that
// completed meanwhile (CompleteTxn). A failing read is retried until the partition is resigned
// or the coordinator closes.
func (c *Coordinator) loadPartition(ctx context.Context, p int32, st *partitionState) {
	start := time.Now()
	backoff := 100 * time.Millisecond
	var groups []*group
	for {
		var err error
		groups, err = c.readPartition(ctx, p)
		if err == nil {
			break
		}
		if ctx.Err() != nil {
			return
		}
		c.logger.Warn().Err(err).Int32("partition", p).Dur("retry_in", backoff).Msg("loading __consumer_offsets partition failed")
		t := time.NewTimer(backoff)
		select {
		case <-ctx.Done():
			t.Stop()
			return
		case <-t.C:
		}
		backoff = min(2*backoff, 5*time.Second)
	}

	c.mu.Lock()
	if c.partitions[p] != st {
		c.mu.Unlock()
		return // resigned (or re-elected) while loading
	}
	installed := groups[:0]
	for _, g := range groups {
		if _, exists := c.groups[g.id]; exists {
			continue
		}
		for _, done := range st.completed { // not yet shared: no lock
			if g.pendingTxnOffsets[done.producerID] != nil {
				g.completeTxn(done.producerID, done.commit)
			}
		}
		c.groups[g.id] = g
		for pid := range g.pendingTxnOffsets {
			if c.txnGroups[pid] == nil {
				c.txnGroups[pid] = make(map[string]struct{})
			}
			c.txnGroups[pid][g.id] = struct{}{}
		}
		installed = append(installed, g)
	}
	st.loading = false
	st.completed = nil
	c.mu.Unlock()

	// onGroupLoaded: members of a loaded Stable group must heartbeat within their session.
	for _, g := range installed {
		g.mu.Lock()
		if !g.is(stateDead) {
			for _, m := range g.members {
				c.completeAndScheduleNextHeartbeatExpiration(g, m)
			}
		}
		g.mu.Unlock()
	}
	c.logger.Info().Int32("partition", p).Int("groups", len(installed)).Dur("took", time.Since(start)).
		Msg("loaded __consumer_offsets partition")
}

// skipCorrupt logs and counts one batch or record of partition p that cannot be decoded.
func (c *Coordinator) skipCorrupt(p int32, offset int64, err error, msg string) {
	c.corruptRecords.Add(1)
	c.logger.Warn().Err(err).Int32("partition", p).Int64("offset", offset).Msg(msg)
}

// decompressLimit caps what one batch of __consumer_offsets may decompress to: the loader's
// buffer (offsets.load.buffer.size) bounds the compressed batches it reads, and 16 times that
// bounds their records, far above what offset commits and group metadata compress to.
func (c *Coordinator) decompressLimit() int { return 16 * c.cfg.OffsetsLoadBufferSize }

type groupTP struct {
	group string
	tp    topicPartition
}

// replay is the state the loader rebuilds from a partition of __consumer_offsets
// (doLoadGroupsAndOffsets' loadedOffsets, pendingOffsets and the group metadata records):
// the last record of a key wins, a null value deletes, and the offsets of a transactional batch
// wait, per producer id, for that producer's marker later in the partition.
type replay struct {
	offsets     map[groupTP]offsetEntry
	pending     map[int64]map[groupTP]offsetEntry // producer id -> its open transaction's offsets
	groupValues map[string][]byte
	// corrupt is told of each record that does not decode (it is skipped).
	corrupt func(offset int64, err error, msg string)
}

func newReplay(corrupt func(offset int64, err error, msg string)) *replay {
	return &replay{
		offsets:     make(map[groupTP]offsetEntry),
		pending:     make(map[int64]map[groupTP]offsetEntry),
		groupValues: make(map[string][]byte),
		corrupt:     corrupt,
	}
}

// apply replays one batch, in log order.
func (r *replay) apply(b decodedBatch) {
	switch {
	case b.Control:
		if !b.HasMarker {
			return // another control type, a cleaned-out marker, or undecodable (logged)
		}
		// A COMMIT makes the producer's offsets visible unless a commit later in the log
		// already is; either marker ends the transaction.
		if b.Marker.Commit {
			for k, o := range r.pending[b.ProducerID] {
				if cur, ok := r.offsets[k]; !ok || cur.olderThan(o) {
					r.offsets[k] = o
				}
			}
		}
		delete(r.pending, b.ProducerID)
		return
	case b.Records == nil:
		return // undecodable, logged by the caller
	}
	var txn map[groupTP]offsetEntry
	if b.Transactional {
		if txn = r.pending[b.ProducerID]; txn == nil {
			txn = make(map[groupTP]offsetEntry)
			r.pending[b.ProducerID] = txn
		}
	}
	for _, rec := range b.Records {
		k, err := parseKey(rec.Key)
		if err != nil {
			r.corrupt(rec.Offset, err, "ignoring record with an undecodable key")
			continue
		}
		if !k.isOffset {
			if rec.Value == nil {
				delete(r.groupValues, k.group)
			} else {
				r.groupValues[k.group] = rec.Value
			}
			continue
		}
		key := groupTP{k.group, topicPartition{k.topic, k.partition}}
		dst := r.offsets
		if txn != nil {
			dst = txn
		}
		if rec.Value == nil {
			delete(dst, key)
			continue
		}
		o, err := parseOffsetValue(rec.Value)
		if err != nil {
			r.corrupt(rec.Offset, err, "ignoring undecodable offset commit")
			continue
		}
		o.appendedOffset = b.BaseOffset
		dst[key] = o
	}
}

// groups builds the groups of partition p: those with metadata, and those with only offsets
// (committed or pending), which use Kafka for offset storage alone and load Empty. A
// transaction still open at the end of the log stays pending.
func (r *replay) groups(p int32, now int64, corrupt func(group string, err error)) []*group {
	byID := make(map[string]*group)
	for id, v := range r.groupValues {
		g, err := loadGroupValue(id, p, v, now)
		if err != nil {
			corrupt(id, err)
			continue
		}
		byID[id] = g
	}
	get := func(id string) *group {
		g := byID[id]
		if g == nil {
			g = newGroup(id, p, now)
			byID[id] = g
		}
		return g
	}
	for k, o := range r.offsets {
		get(k.group).offsets[k.tp] = o
	}
	for pid, offs := range r.pending {
		for k, o := range offs {
			g := get(k.group)
			if g.pendingTxnOffsets[pid] == nil {
				g.pendingTxnOffsets[pid] = make(map[topicPartition]offsetEntry)
			}
			g.pendingTxnOffsets[pid][k.tp] = o
		}
	}
	groups := make([]*group, 0, len(byID))
	for _, g := range byID {
		groups = append(groups, g)
	}
	return groups
}

func (c *Coordinator) readPartition(ctx context.Context, p int32) ([]*group, error) {
	rp := newReplay(func(offset int64, err error, msg string) { c.skipCorrupt(p, offset, err, msg) })

	off, err := c.log.LogStartOffset(p)
	if err != nil {
		return nil, err
	}
	for ctx.Err() == nil {
		buf, end, err := c.log.Read(p, off, c.cfg.OffsetsLoadBufferSize)
		if errors.Is(err, record.ErrCorrupt) {
			// The log found a batch failing its CRC check (see package logstore): as below,
			// load what came before it rather than retry forever.
			c.skipCorrupt(p, off, err, "__consumer_offsets partition loaded only up to a corrupt batch")
			break
		}
		if err != nil {
			return nil, err
		}
		batches, errs, whole := splitBatches(buf, c.decompressLimit())
		for _, err := range errs {
			c.skipCorrupt(p, off, err, "skipping undecodable record batch in __consumer_offsets")
		}
		if !whole && len(batches) == 0 {
			// A batch whose framing or CRC is broken: nothing after it can be located.
			// Kafka's loader also gives up here and serves what it loaded; retrying would
			// keep every group of the partition loading forever.
			c.logger.Error().Int32("partition", p).Int64("offset", off).
				Msg("__consumer_offsets partition loaded only up to a corrupt batch")
			break
		}
		if len(batches) == 0 {
			break
		}
		for _, b := range batches {
			off = max(off, b.NextOffset)
			rp.apply(b)
		}
		if off >= end {
			break
		}
	}
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	return rp.groups(p, c.nowMs(), func(id string, err error) {
		c.corruptRecords.Add(1)
		c.logger.Warn().Err(err).Str("group", id).Msg("ignoring undecodable group metadata")
	}), nil
}

// retentionLoop expires offsets every offsets.retention.check.interval.ms.
func (c *Coordinator) retentionLoop() {
	t := time.NewTicker(time.Duration(c.cfg.OffsetsRetentionCheckIntervalMs) * time.Millisecond)
	defer t.Stop()
	for {
		select {
		case <-c.ctx.Done():
			return
		case <-t.C:
			c.expireOffsets()
		}
	}
}

// expireOffsets is GroupMetadataManager.cleanupGroupMetadata with removeExpiredOffsets.
func (c *Coordinator) expireOffsets() int {
	c.mu.Lock()
	groups := make([]*group, 0, len(c.groups))
	for _, g := range c.groups {
		groups = append(groups, g)
	}
	c.mu.Unlock()
	now := c.nowMs()
	retention := int64(c.cfg.OffsetsRetentionMinutes) * 60 * 1000
	n := c.cleanupGroups(groups, func(g *group) []topicPartition {
		return g.removeExpiredOffsets(now, retention)
	})
	if n > 0 {
		c.logger.Info().Int("offsets", n).Msg("removed expired offsets")
	}
	return n
}

// cleanupGroups removes offsets chosen by selector (called with the group locked), turns Empty
// groups left without offsets Dead and removes them, and writes the tombstones: one per removed
// offset, and one for the group metadata of a removed group that ever had a generation. It
// waits for the appends; their failures are logged, not returned (the next cleanup retries, as
// in Kafka, which appends these with acks=0).
func (c *Coordinator) cleanupGroups(groups []*group, selector func(*group) []topicPartition) int {
	removedTotal := 0
	for _, g := range groups {
		g.mu.Lock()
		removed := selector(g)
		if g.is(stateEmpty) && !g.hasOffsets() {
			g.transitionTo(stateDead, c.nowMs())
		}
		dead, gen := g.is(stateDead), g.generation
		if !c.ownsPartition(g.partition) {
			g.mu.Unlock()
			continue
		}
		now := c.nowMs()
		var recs []offsetsRecord
		for _, tp := range removed {
			recs = append(recs, offsetsRecord{Timestamp: now, Key: offsetCommitKey(g.id, tp.topic, tp.partition)})
		}
		if dead && c.removeGroupIfSame(g) && gen > 0 {
			recs = append(recs, offsetsRecord{Timestamp: now, Key: groupMetadataKey(g.id)})
		}
		if len(recs) == 0 {
			g.mu.Unlock()
			continue
		}
		done := make(chan error, 1)
		c.store(g, encodeBatch(now, recs), func(err error) { done <- err })
		g.mu.Unlock()
		if err := <-done; err != nil {
			c.logger.Warn().Err(err).Str("group", g.id).Int("tombstones", len(recs)).Msg("failed to append tombstones")
			continue
		}
		removedTotal += len(removed)
	}
	return removedTotal
}
