// The leader-epoch cache as seen through a log (LeaderEpochFileCache).

package logstore

import (
	"fmt"
)

// AssignEpochStartOffset records in the leader-epoch cache (and its checkpoint file) that
// epoch begins at startOffset; a leader calls it when it takes leadership.
func (l *Log) AssignEpochStartOffset(epoch int32, startOffset int64) error {
	if epoch < 0 || startOffset < 0 {
		return fmt.Errorf("logstore: invalid epoch %d start offset %d", epoch, startOffset)
	}
	l.wmu.Lock()
	defer l.wmu.Unlock()
	if l.closed.Load() {
		return ErrClosed
	}
	return l.epochs.assign(epoch, startOffset)
}

// LatestEpoch is the newest epoch in the leader-epoch cache (ok false when it is empty).
func (l *Log) LatestEpoch() (epoch int32, ok bool) {
	e, ok := l.epochs.latest()
	return e.Epoch, ok
}

// EndOffsetForEpoch answers OffsetsForLeaderEpoch (KIP-101/279), as Kafka's
// LeaderEpochFileCache.endOffsetFor: for the latest epoch, the log end offset; otherwise the
// largest epoch at or below the one asked for and the start offset of the next larger epoch;
// an epoch below the earliest known gets itself and the earliest start offset. Unknown (an
// epoch above every known one, or an empty cache): (-1, -1).
func (l *Log) EndOffsetForEpoch(epoch int32) (int32, int64) {
	return l.epochs.endOffsetFor(epoch, l.leo.Load())
}

// EpochEntries returns the leader-epoch cache as (epoch, start offset) pairs, ascending.
func (l *Log) EpochEntries() [][2]int64 {
	var out [][2]int64
	for _, e := range l.epochs.snapshot() {
		out = append(out, [2]int64{int64(e.Epoch), e.StartOffset})
	}
	return out
}
