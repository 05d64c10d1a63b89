package group

// TxnOffsetCommit (key 28, v0-3) and the end of transactions in __consumer_offsets: Kafka
// 3.6's GroupCoordinator.handleTxnCommitOffsets and scheduleHandleTxnCompletion, and the
// pending transactional offsets of GroupMetadata and GroupMetadataManager (KIP-98; KIP-447 adds
// the group generation, member id and group instance id in v3, and require_stable to
// OffsetFetch v7).
//
// A transactional producer that consumed from a group sends the group's offsets to the group
// coordinator with TxnOffsetCommit, after AddOffsetsToTxn put the group's __consumer_offsets
// partition in its transaction. The coordinator appends them as one transactional batch (the
// producer's id and epoch, base sequence 0) with acks=all and keeps them pending for that
// producer id:
//
//	TxnOffsetCommit --> pending[producer][partition]     (OffsetFetch still shows the old
//	                        |                             offset; require_stable answers
//	                        |                             UNSTABLE_OFFSET_COMMIT)
//	   WriteTxnMarkers COMMIT --> offsets[partition]     (unless a plain commit later in the
//	                        |                             log already won)
//	   WriteTxnMarkers ABORT  --> dropped
//
// The log itself decides what a fenced producer may write: its epoch is older than the one the
// partition has seen, and the append fails with INVALID_PRODUCER_EPOCH. The loader (load.go)
// rebuilds the same state from the log: transactional batches wait for their producer's marker
// later in the partition; those without one stay pending.

import (
	"context"

	"github.com/klassik/klassik/record"
	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kmsg"
)

// TxnOffsetCommit stores offsets of a transaction: they become the group's committed offsets
// when the producer's transaction commits (CompleteTxn). Each partition is acknowledged once
// the batch is replicated (acks=all).
func (c *Coordinator) TxnOffsetCommit(ctx context.Context, req *kmsg.TxnOffsetCommitRequest) *kmsg.TxnOffsetCommitResponse {
	resp := req.ResponseKind().(*kmsg.TxnOffsetCommitResponse)
	now := c.nowMs()
	var items []commitItem
	for ti, t := range req.Topics {
		rt := kmsg.NewTxnOffsetCommitResponseTopic()
		rt.Topic = t.Topic
		for pi, p := range t.Partitions {
			rp := kmsg.NewTxnOffsetCommitResponseTopicPartition()
			rp.Partition = p.Partition
			rt.Partitions = append(rt.Partitions, rp)
			e := offsetEntry{offset: p.Offset, leaderEpoch: -1, commitTimestamp: now, expireTimestamp: -1, appendedOffset: -1}
			if req.Version >= 2 {
				e.leaderEpoch = p.LeaderEpoch
			}
			if p.Metadata != nil {
				e.metadata = *p.Metadata
			}
			items = append(items, commitItem{
				topicIdx: ti, partIdx: pi,
				tp:       topicPartition{t.Topic, p.Partition},
				entry:    e,
				tooLarge: len(e.metadata) > c.cfg.OffsetMetadataMaxBytes,
			})
		}
		resp.Topics = append(resp.Topics, rt)
	}
	gen, memberID, instanceID := int32(-1), "", (*string)(nil)
	if req.Version >= 3 {
		gen, memberID, instanceID = req.Generation, req.MemberID, req.InstanceID
	}
	codes := c.commitTxnOffsets(ctx, req.Group, req.ProducerID, req.ProducerEpoch, gen, memberID, instanceID, items)
	for i, it := range items {
		resp.Topics[it.topicIdx].Partitions[it.partIdx].ErrorCode = codes[i]
	}
	return resp
}

// commitTxnOffsets is handleTxnCommitOffsets, doTxnCommitOffsets and the transactional half
// of storeOffsets; it returns one code per item.
func (c *Coordinator) commitTxnOffsets(ctx context.Context, groupID string, producerID int64, producerEpoch int16,
	gen int32, memberID string, instanceID *string, items []commitItem) []int16 {
	codes := make([]int16, len(items))
	all := func(code int16) []int16 {
		for i := range codes {
			codes[i] = code
		}
		return codes
	}
	if len(items) == 0 {
		return codes
	}
	// TXN_OFFSET_COMMIT is not among the APIs that accept an empty group id.
	if code := c.groupStatus(groupID, false); code != 0 {
		return all(code)
	}
	// Unlike OffsetCommit, a transactional commit to an unknown group creates it, whatever the
	// generation: the member check below then decides.
	g := c.getOrCreateGroup(groupID)
	if g == nil {
		return all(errNotCoordinator)
	}

	g.mu.Lock()
	if code := g.validateTxnOffsetCommit(gen, memberID, instanceID); code != 0 {
		g.mu.Unlock()
		return all(code)
	}
	now := c.nowMs()
	var recs []offsetsRecord
	for _, it := range items {
		if !it.tooLarge {
			recs = append(recs, offsetsRecord{Timestamp: now, Key: offsetCommitKey(groupID, it.tp.topic, it.tp.partition), Value: offsetCommitValue(it.entry)})
		}
	}
	if len(recs) == 0 {
		g.mu.Unlock()
		return all(kerr.OffsetMetadataTooLarge.Code)
	}

	// prepareTxnOffsetCommit: pending (in flight) at once, so require_stable sees them. What
	// a failed append replaces is put back (Kafka drops it, losing an earlier commit of the
	// same transaction that is in the log).
	pending := g.pendingTxnOffsets[producerID]
	if pending == nil {
		pending = make(map[topicPartition]offsetEntry)
		g.pendingTxnOffsets[producerID] = pending
	}
	type prev struct {
		e  offsetEntry
		ok bool
	}
	replaced := make(map[topicPartition]prev)
	for _, it := range items {
		if it.tooLarge {
			continue
		}
		if _, seen := replaced[it.tp]; !seen {
			e, ok := pending[it.tp]
			replaced[it.tp] = prev{e, ok}
		}
		pending[it.tp] = it.entry
	}
	c.addProducerGroup(producerID, groupID)

	done := make(chan int16, 1)
	batch := encodeTxnBatch(now, recs, producerID, producerEpoch)
	c.storeAt(g, batch, func(base int64, err error) {
		if !g.is(stateDead) {
			cur := g.pendingTxnOffsets[producerID]
			for _, it := range items {
				if it.tooLarge || cur == nil {
					continue
				}
				e, ok := cur[it.tp]
				if !ok || e != it.entry {
					continue // completed, removed or replaced meanwhile
				}
				if err == nil {
					e.appendedOffset = base // onTxnOffsetCommitAppend
					cur[it.tp] = e
				} else if p := replaced[it.tp]; p.ok { // failPendingTxnOffsetCommit
					cur[it.tp] = p.e
				} else {
					delete(cur, it.tp)
				}
			}
			if cur != nil && len(cur) == 0 {
				delete(g.pendingTxnOffsets, producerID)
			}
			if g.pendingTxnOffsets[producerID] == nil {
				c.removeProducerGroup(producerID, groupID)
			}
		}
		if err != nil {
			c.logger.Debug().Err(err).Str("group", groupID).Int64("producer_id", producerID).
				Int16("producer_epoch", producerEpoch).Msg("transactional offset commit failed to append")
		}
		done <- storeOffsetsError(err)
	})
	g.mu.Unlock()

	var code int16
	select {
	case code = <-done:
	case <-ctx.Done():
		code = kerr.RequestTimedOut.Code
	}
	for i, it := range items {
		if it.tooLarge {
			codes[i] = kerr.OffsetMetadataTooLarge.Code
		} else {
			codes[i] = code
		}
	}
	return codes
}

// validateTxnOffsetCommit is validateOffsetCommit with isTransactional: a commit that names
// a generation, member id or group instance id must come from a current member of the
// current generation (KIP-447: UNKNOWN_MEMBER_ID, FENCED_INSTANCE_ID, ILLEGAL_GENERATION); one
// that names none (TxnOffsetCommit v0-2, or a producer given only the group id) is not
// checked, even when the group has members.
func (g *group) validateTxnOffsetCommit(gen int32, memberID string, instanceID *string) int16 {
	switch {
	case g.is(stateDead):
		return errCoordinatorNotAvailable
	case gen >= 0 || memberID != "" || instanceID != nil:
		if code := g.validateCurrentMember(memberID, instanceID); code != 0 {
			return code
		}
		if gen != g.generation {
			return errIllegalGeneration
		}
	}
	return 0
}

// hasPendingTxnCommit reports whether a producer's transaction holds an offset of tp.
func (g *group) hasPendingTxnCommit(tp topicPartition) bool {
	for _, pending := range g.pendingTxnOffsets {
		if _, ok := pending[tp]; ok {
			return true
		}
	}
	return false
}

// completeTxn is completePendingTxnOffsetCommit: the producer's pending offsets become the
// committed ones (commit), unless the committed one is later in the log, or are dropped
// (abort). It returns how many became visible and how many were still being appended (Kafka
// throws there; such a commit is dropped, as its batch came after the marker).
func (g *group) completeTxn(producerID int64, commit bool) (applied, inFlight int) {
	pending := g.pendingTxnOffsets[producerID]
	delete(g.pendingTxnOffsets, producerID)
	if !commit {
		return 0, 0
	}
	for tp, e := range pending {
		if e.appendedOffset < 0 {
			inFlight++
			continue
		}
		if cur, ok := g.offsets[tp]; !ok || cur.olderThan(e) {
			g.offsets[tp] = e
			applied++
		}
	}
	return applied, inFlight
}

// CompleteTxn is told by the broker once WriteTxnMarkers wrote producerID's COMMIT (commit) or
// ABORT marker to the given partitions of __consumer_offsets (Kafka's
// scheduleHandleTxnCompletion and handleTxnCompletion): the producer's pending offsets of the
// groups on those partitions become visible, or are dropped. Groups that moved away are the
// new coordinator's business: its loader reads the marker. On a partition still loading, the
// completion waits for the loader, which may have read past the producer's offsets but not
// up to the marker.
func (c *Coordinator) CompleteTxn(producerID int64, partitions []int32, commit bool) {
	on := make(map[int32]bool, len(partitions))
	for _, p := range partitions {
		on[p] = true
	}
	c.mu.Lock()
	for _, p := range partitions {
		if st := c.partitions[p]; st != nil && st.loading {
			st.completed = append(st.completed, txnCompletion{producerID, commit})
		}
	}
	var groups []*group
	for id := range c.txnGroups[producerID] {
		if g := c.groups[id]; g != nil && on[g.partition] {
			groups = append(groups, g)
		}
	}
	c.mu.Unlock()
	for _, g := range groups {
		g.mu.Lock()
		if !g.is(stateDead) {
			applied, inFlight := g.completeTxn(producerID, commit)
			c.removeProducerGroup(producerID, g.id)
			ev := c.logger.Debug()
			if inFlight > 0 {
				ev = c.logger.Warn()
			}
			ev.Str("group", g.id).Int64("producer_id", producerID).Bool("commit", commit).
				Int("offsets_applied", applied).Int("offsets_in_flight", inFlight).
				Msg("transactional offset commit completed")
		}
		g.mu.Unlock()
	}
}

// addProducerGroup records that group holds pending offsets of producerID.
func (c *Coordinator) addProducerGroup(producerID int64, group string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	set := c.txnGroups[producerID]
	if set == nil {
		set = make(map[string]struct{})
		c.txnGroups[producerID] = set
	}
	set[group] = struct{}{}
}

func (c *Coordinator) removeProducerGroup(producerID int64, group string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.removeProducerGroupLocked(producerID, group)
}

func (c *Coordinator) removeProducerGroupLocked(producerID int64, group string) {
	if set := c.txnGroups[producerID]; set != nil {
		delete(set, group)
		if len(set) == 0 {
			delete(c.txnGroups, producerID)
		}
	}
}

// removeProducerGroupAllLocked forgets group for every producer (removeGroupFromAllProducers),
// when it is unloaded. Caller holds c.mu.
func (c *Coordinator) removeProducerGroupAllLocked(group string) {
	for id := range c.txnGroups {
		c.removeProducerGroupLocked(id, group)
	}
}

// encodeTxnBatch is encodeBatch for a transactional offset commit: the transactional
// attribute, the producer's id and epoch, and base sequence 0, as GroupMetadataManager builds
// it (the log does not check a coordinator's sequences).
func encodeTxnBatch(ts int64, recs []offsetsRecord, producerID int64, producerEpoch int16) []byte {
	return encodeBatchWith(ts, recs, record.AttrTransactional, producerID, producerEpoch, 0)
}
