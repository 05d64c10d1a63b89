// Transactions in the log cleaner (Kafka's CleanedTransactionMetadata and the transaction
// handling of Cleaner.cleanSegments).

package logstore

import (
	"github.com/klassik/klassik/record"
)

// A pass of the cleaner treats transactional data and markers as Kafka's cleaner does:
//
//   - it cleans nothing at or above the last stable offset, so every transaction whose data
//     it reads has ended, and the .txnindex files say which ended in an abort;
//   - the batches of aborted transactions are removed whole, and never enter the offset map
//     (an aborted record must not shadow an older committed one);
//   - a marker (COMMIT or ABORT control batch) is removed only when no batch of its
//     transaction was in the pass's input (so no data of it remains: a COMMIT marker is
//     never dropped while its data stay, which would leave them looking like an open
//     transaction), and only once delete.retention.ms has passed, by the rule for tombstones:
//     its segment was already clean before the pass and its newest timestamp is older than
//     delete.retention.ms. An ABORT marker whose aborted data this pass removes therefore
//     stays until a later pass, as Kafka's does;
//   - the .txnindex of a cleaned segment holds the entries of the ABORT markers it keeps.

// txnClean is one pass's transaction bookkeeping, carried across its segment groups in
// offset order.
type txnClean struct {
	aborted  map[int64][]AbortedTxn // by producer: every aborted transaction of the log
	observed map[int64]bool         // producers with a batch of their current transaction read in this pass
}

// newTxnClean collects the aborted transactions of every segment. Caller holds wmu.
func (l *Log) newTxnClean() *txnClean {
	c := &txnClean{aborted: map[int64][]AbortedTxn{}, observed: map[int64]bool{}}
	l.smu.RLock()
	defer l.smu.RUnlock()
	for _, s := range l.segs {
		for _, e := range s.txn.all() {
			c.aborted[e.ProducerID] = append(c.aborted[e.ProducerID], e)
		}
	}
	return c
}

// abortedEntry is the aborted transaction holding offset of producer pid, if any.
func (c *txnClean) abortedEntry(pid, offset int64) (AbortedTxn, bool) {
	for _, e := range c.aborted[pid] {
		if e.FirstOffset <= offset && offset <= e.LastOffset {
			return e, true
		}
	}
	return AbortedTxn{}, false
}

// isAborted reports a data batch of an aborted transaction.
func (c *txnClean) isAborted(h BatchHeader) bool {
	if !h.Transactional() || h.Control() || !h.HasProducerID() {
		return false
	}
	_, ok := c.abortedEntry(h.ProducerID, h.BaseOffset)
	return ok
}

// onData notes a transactional data batch read by the rewrite and reports whether it goes
// (its transaction was aborted).
func (c *txnClean) onData(h BatchHeader) bool {
	if !h.Transactional() || !h.HasProducerID() {
		return false
	}
	c.observed[h.ProducerID] = true
	return c.isAborted(h)
}

// onControl decides a control batch read by the rewrite: whether it may go (pastHorizon: its
// segment is past delete.retention.ms, as for tombstones), and, when an ABORT marker stays,
// the index entry the cleaned segment must carry.
func (c *txnClean) onControl(h BatchHeader, b []byte, pastHorizon bool) (drop bool, entry *AbortedTxn, err error) {
	if !h.HasProducerID() {
		return false, nil, nil
	}
	m, ok, err := record.DecodeEndTxnMarker(h, b)
	if err != nil || !ok {
		return false, nil, err // not a transaction marker: kept as it is
	}
	observed := c.observed[h.ProducerID]
	delete(c.observed, h.ProducerID)
	if !observed && pastHorizon {
		return true, nil, nil
	}
	if !m.Commit {
		if e, ok := c.abortedEntry(h.ProducerID, h.BaseOffset); ok && e.LastOffset == h.BaseOffset {
			return false, &e, nil
		}
	}
	return false, nil, nil
}
