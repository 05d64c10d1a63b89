// Transactions in the log: markers, open transactions, the last stable offset and the
// aborted transactions of a range (Kafka's ProducerStateManager for its transactional part,
// UnifiedLog.lastStableOffset and collectAbortedTransactions).

package logstore

import (
	"fmt"
	"math"
	"sort"
	"sync"

	"github.com/klassik/klassik/record"
)

// A transactional data batch (attribute bit 4) opens its producer's transaction at its base
// offset unless one is open; a control batch of that producer holding a COMMIT or ABORT
// marker closes it. Between the two the producer may write only transactional batches.
// A marker is checked as Kafka's ProducerAppendInfo.appendEndTxnMarker does: an epoch older
// than the producer's is INVALID_PRODUCER_EPOCH, a coordinator epoch older than the one of the
// producer's last marker TRANSACTION_COORDINATOR_FENCED; a newer producer epoch is adopted
// (the coordinator bumps it when it aborts a timed-out or fenced transaction), which forgets
// the sequences of the old epoch. A marker touches no sequence.
//
// The last stable offset (LSO) is the first offset a read_committed consumer may not read:
// the smallest of the high watermark, the first offset of every open transaction and the
// first offset of every transaction whose marker the high watermark has not passed yet (a
// marker not yet replicated may be lost with this leader), and never below the log start.
//
// An ABORT marker that ends a transaction adds an entry to the transaction index of the
// segment it lands in (txnindex.go), so fetches can tell read_committed consumers which
// producers' records in a range to drop.

// completedTxn is a transaction a marker ended.
type completedTxn struct {
	producerID int64
	first      int64 // first data offset
	last       int64 // the marker's offset
	abort      bool
	lastStable int64 // for the index entry of an abort
}

// marker applies a control batch at h.BaseOffset holding m. leader checks the epochs (a
// follower copies what its leader accepted, AppendOrigin.REPLICATION).
func (c *producerCheck) marker(h BatchHeader, m record.EndTxnMarker, leader bool) error {
	e := c.entry(h.ProducerID)
	if leader && h.ProducerEpoch < e.epoch {
		return fmt.Errorf("%w: marker for producer %d has epoch %d, older than %d", ErrInvalidProducerEpoch, h.ProducerID, h.ProducerEpoch, e.epoch)
	}
	if leader && m.CoordinatorEpoch < e.coordEpoch {
		return fmt.Errorf("%w: marker for producer %d from coordinator epoch %d, the last was %d", ErrCoordinatorFenced, h.ProducerID, m.CoordinatorEpoch, e.coordEpoch)
	}
	if e.txnFirst >= 0 {
		ct := completedTxn{producerID: h.ProducerID, first: e.txnFirst, last: h.BaseOffset, abort: !m.Commit}
		ct.lastStable = c.firstOngoingExcept(h.ProducerID, h.BaseOffset+1)
		c.completed = append(c.completed, ct)
	}
	e.setEpoch(h.ProducerEpoch)
	e.txnFirst = -1
	e.coordEpoch = m.CoordinatorEpoch
	e.lastTs = h.MaxTimestamp
	return nil
}

// firstOngoingExcept is the first offset of the earliest open transaction of a producer other
// than id, as the state plus this check's pending entries have it, else def
// (ProducerStateManager.lastStableOffset of a completed transaction).
func (c *producerCheck) firstOngoingExcept(id int64, def int64) int64 {
	first := def
	for pid, off := range c.state.ongoing {
		if _, pending := c.pending[pid]; pid != id && !pending {
			first = min(first, off)
		}
	}
	for pid, e := range c.pending {
		if pid != id && e.txnFirst >= 0 {
			first = min(first, e.txnFirst)
		}
	}
	return first
}

// applyBatch applies one stored batch (recovery and follower appends): data batches as they
// are, markers decoded from batch. A control batch that is not a transaction marker, or whose
// marker does not decode, changes nothing: it passed its CRC, so it is what the leader wrote.
func (c *producerCheck) applyBatch(h BatchHeader, batch []byte) {
	if !h.HasProducerID() {
		return
	}
	if !h.Control() {
		c.replicate(h)
		return
	}
	m, ok, err := record.DecodeEndTxnMarker(h, batch)
	if err != nil || !ok {
		return
	}
	_ = c.marker(h, m, false)
}

// txnTracker is what readers need of the transaction state: the first offset of the open
// transactions and the completed ones whose marker is not yet below the high watermark. It
// has its own lock so fetches never wait for the writer lock; writers update it after
// changing the producer state.
type txnTracker struct {
	mu           sync.Mutex
	firstOngoing int64          // math.MaxInt64 when no transaction is open
	unreplicated []completedTxn // markers at or above hw, ascending
	hw           int64          // the last high watermark seen
}

func newTxnTracker() *txnTracker { return &txnTracker{firstOngoing: math.MaxInt64} }

// update takes the open transactions of state and adds the completed ones.
func (t *txnTracker) update(state *producerState, completed []completedTxn) {
	first := int64(math.MaxInt64)
	for _, off := range state.ongoing {
		first = min(first, off)
	}
	t.mu.Lock()
	defer t.mu.Unlock()
	t.firstOngoing = first
	for _, ct := range completed {
		if ct.last >= t.hw {
			t.unreplicated = append(t.unreplicated, ct)
		}
	}
}

// reset replaces everything (a rebuild of the producer state).
func (t *txnTracker) reset(state *producerState, completed []completedTxn) {
	t.mu.Lock()
	t.unreplicated = nil
	t.mu.Unlock()
	t.update(state, completed)
}

// pruneLocked forgets completed transactions whose marker is below hw. The high watermark
// may go down (a follower truncating); what was forgotten stays forgotten, as its marker was
// replicated once.
func (t *txnTracker) pruneLocked(hw int64) {
	t.hw = hw
	n := 0
	for n < len(t.unreplicated) && t.unreplicated[n].last < t.hw {
		n++
	}
	if n > 0 {
		t.unreplicated = append(t.unreplicated[:0], t.unreplicated[n:]...)
	}
}

// UpdateHighWatermark tells the log its partition's high watermark moved, so it forgets the
// transactions whose markers are now replicated (ProducerStateManager.onHighWatermarkUpdated).
// Called by whoever owns the high watermark.
func (l *Log) UpdateHighWatermark(hw int64) {
	l.txns.mu.Lock()
	l.txns.pruneLocked(hw)
	l.txns.mu.Unlock()
}

// LastStableOffset is the LSO under high watermark hw: hw, or the first offset of the earliest
// transaction that is open or whose marker hw has not passed, if smaller; never below the log
// start offset (UnifiedLog.lastStableOffset).
func (l *Log) LastStableOffset(hw int64) int64 {
	t := l.txns
	t.mu.Lock()
	t.pruneLocked(hw)
	lso := min(hw, t.firstOngoing)
	for _, ct := range t.unreplicated {
		lso = min(lso, ct.first)
	}
	t.mu.Unlock()
	return min(max(lso, l.logStart.Load()), hw)
}

// OngoingTransactions lists the open transactions: producer id -> first offset.
func (l *Log) OngoingTransactions() map[int64]int64 {
	l.wmu.Lock()
	defer l.wmu.Unlock()
	out := make(map[int64]int64, len(l.producers.ongoing))
	for id, off := range l.producers.ongoing {
		out[id] = off
	}
	return out
}

// AbortedTransactions lists the aborted transactions overlapping [from, upper): those whose
// marker is at or after from and whose data begins before upper, in marker order (Kafka's
// collectAbortedTransactions, for a read_committed fetch of that range). It reads the
// transaction indexes of the segment holding from and the later ones until an entry's last
// stable offset shows nothing further can overlap.
func (l *Log) AbortedTransactions(from, upper int64) []AbortedTxn {
	l.smu.RLock()
	defer l.smu.RUnlock()
	i := sort.Search(len(l.segs), func(i int) bool { return l.segs[i].base > from }) - 1
	var out []AbortedTxn
	for i = max(i, 0); i < len(l.segs); i++ {
		var complete bool
		out, complete = l.segs[i].txn.collect(from, upper, out)
		if complete || l.segs[i].base >= upper {
			break
		}
	}
	return out
}

// AppendMarker appends, as leader, the transaction marker m ending producerID's transaction
// at producerEpoch: a control batch built by package record, stamped with leaderEpoch
// (Kafka's appendAsLeader with AppendOrigin.COORDINATOR for WriteTxnMarkers). A stale
// producer epoch is ErrInvalidProducerEpoch, a stale coordinator epoch ErrCoordinatorFenced.
// A marker for a producer without an open transaction is appended all the same and ends
// nothing.
func (l *Log) AppendMarker(producerID int64, producerEpoch int16, m record.EndTxnMarker, leaderEpoch int32, nowMs int64) (AppendResult, error) {
	if producerID < 0 {
		return AppendResult{}, fmt.Errorf("%w: transaction marker without a producer id", ErrInvalidRecord)
	}
	batch := record.BuildEndTxnMarker(producerID, producerEpoch, m, nowMs)
	cfg := l.config()
	hdrs, err := validateBatches(batch, cfg, true)
	if err != nil {
		return AppendResult{}, err
	}
	l.wmu.Lock()
	defer l.wmu.Unlock()
	res, err := l.startAppendLocked()
	if err != nil {
		return res, err
	}
	chk := l.producers.check()
	h := hdrs[0]
	h.BaseOffset = l.leo.Load()
	if err := chk.marker(h, m, true); err != nil {
		return AppendResult{}, err
	}
	return l.appendAsLeaderLocked(batch, hdrs, leaderEpoch, nowMs, chk, res)
}

// writeAbortedLocked adds the index entries of the aborted transactions among completed to
// the active segment, where their markers were just written. Caller holds wmu.
func (l *Log) writeAbortedLocked(completed []completedTxn) error {
	for _, ct := range completed {
		if !ct.abort {
			continue
		}
		if err := l.active().txn.append(AbortedTxn{ct.producerID, ct.first, ct.last, ct.lastStable}); err != nil {
			return err
		}
	}
	return nil
}
