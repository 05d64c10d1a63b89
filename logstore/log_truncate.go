// Shrinking a log: truncation after a leader change, log start offset moves and retention
// (UnifiedLog.truncateTo, deleteOldSegments).

package logstore

import (
	"errors"
	"fmt"
	"math"
)

// TruncateTo removes every record at or after offset (a follower after a leader change).
// The batch holding offset goes whole, so the log end may land below offset when offset is
// not a batch boundary.
func (l *Log) TruncateTo(offset int64) error { return l.fail("truncate", l.truncateTo(offset)) }

func (l *Log) truncateTo(offset int64) error {
	if offset < 0 {
		return fmt.Errorf("logstore: truncate to negative offset %d", offset)
	}
	l.wmu.Lock()
	defer l.wmu.Unlock()
	if err := l.usable("truncate"); err != nil {
		return err
	}
	if offset >= l.leo.Load() {
		return nil
	}
	if offset < l.segs[0].base {
		return l.truncateFullyLocked(offset)
	}
	l.logger.Info().Int64("offset", offset).Int64("leo", l.leo.Load()).Msg("truncating")
	l.truncations.Add(1)
	l.smu.Lock()
	var err error
	keep := len(l.segs)
	for keep > 1 && l.segs[keep-1].base > offset {
		keep--
		err = errors.Join(err, l.segs[keep].remove())
	}
	l.segs = l.segs[:keep]
	s := l.active()
	if err == nil {
		_, err = s.truncateTo(offset)
	}
	leo := max(s.lastOffset+1, s.base)
	l.leo.Store(leo)
	l.smu.Unlock()
	l.noteTruncation(leo)
	if err != nil {
		return err
	}
	if err := l.fsys.SyncDir(l.dirPath()); err != nil {
		return err
	}
	l.logStart.Store(min(l.logStart.Load(), leo))
	l.recoveryPoint.Store(min(l.recoveryPoint.Load(), leo))
	l.firstDirty.Store(min(l.firstDirty.Load(), leo))
	if err := l.epochs.truncateFromEnd(leo); err != nil {
		return err
	}
	return l.rebuildProducerStateLocked()
}

// TruncateFullyAndStartAt empties the log and makes offset its start and end.
func (l *Log) TruncateFullyAndStartAt(offset int64) error {
	return l.fail("truncate", l.truncateFullyAndStartAt(offset))
}

func (l *Log) truncateFullyAndStartAt(offset int64) error {
	if offset < 0 {
		return fmt.Errorf("logstore: start at negative offset %d", offset)
	}
	l.wmu.Lock()
	defer l.wmu.Unlock()
	if err := l.usable("truncate"); err != nil {
		return err
	}
	return l.truncateFullyLocked(offset)
}

func (l *Log) truncateFullyLocked(offset int64) error {
	l.logger.Info().Int64("offset", offset).Msg("truncating fully")
	l.truncations.Add(1)
	s, err := openSegmentFiles(l.fsys, l.dirPath(), offset, true)
	if err != nil {
		return err
	}
	l.smu.Lock()
	for _, old := range l.segs {
		if old.base != offset {
			err = errors.Join(err, old.remove())
		} else {
			err = errors.Join(err, old.close())
		}
	}
	l.segs = []*segment{s}
	l.leo.Store(offset)
	l.truncWatch.Store(-1)
	l.logStart.Store(offset)
	l.recoveryPoint.Store(offset)
	l.firstDirty.Store(offset)
	l.smu.Unlock()
	if err != nil {
		return err
	}
	snaps, err := listSnapshots(l.fsys, l.dirPath())
	if err != nil {
		return err
	}
	for _, off := range snaps {
		if err := l.fsys.Remove(snapshotName(l.dirPath(), off)); err != nil {
			return err
		}
	}
	if err := l.fsys.SyncDir(l.dirPath()); err != nil {
		return err
	}
	l.producers = newProducerState()
	l.txns.reset(l.producers, nil)
	l.unflushed = 0
	return l.epochs.clear()
}

// IncrementLogStartOffset moves the log start forward (DeleteRecords, or a follower copying
// the leader's), deleting segments wholly below it. An offset past the log end is
// ErrOffsetOutOfRange; one at or below the current start does nothing.
func (l *Log) IncrementLogStartOffset(offset int64) error {
	l.wmu.Lock()
	defer l.wmu.Unlock()
	if l.closed.Load() {
		return ErrClosed
	}
	if offset > l.leo.Load() {
		return fmt.Errorf("%w: log start %d past the log end %d", ErrOffsetOutOfRange, offset, l.leo.Load())
	}
	if offset <= l.logStart.Load() {
		return nil
	}
	l.logStart.Store(offset)
	n := 0
	for n < len(l.segs)-1 && l.segs[n+1].base <= offset {
		n++
	}
	if err := l.deletePrefixLocked(n); err != nil {
		return err
	}
	return l.epochs.truncateFromStart(offset)
}

// deletePrefixLocked deletes the n oldest segments (never the active one).
func (l *Log) deletePrefixLocked(n int) error {
	if n <= 0 {
		return nil
	}
	l.smu.Lock()
	var err error
	for _, s := range l.segs[:n] {
		l.logger.Info().Int64("segment", s.base).Msg("deleting segment")
		err = errors.Join(err, s.remove())
	}
	l.segs = append([]*segment(nil), l.segs[n:]...)
	if first := l.segs[0].base; l.logStart.Load() < first {
		l.logStart.Store(first)
	}
	l.smu.Unlock()
	if err != nil {
		return err
	}
	if err := l.fsys.SyncDir(l.dirPath()); err != nil {
		return err
	}
	return l.cleanSnapshotsLocked()
}

// ApplyRetention deletes whole segments past retention.ms or over retention.bytes, or wholly
// below the log start offset, never the active segment and never one holding offsets at or
// above highWatermark (Kafka's deleteOldSegments). Deletion stops at the first segment that
// must stay. It rolls the active segment when segment.ms has passed (by the wall clock since
// its first batch's timestamp) or when its newest record is past retention.ms, so it can go
// next time. Logs whose cleanup.policy lacks "delete" are left alone. It returns how many
// segments it deleted.
func (l *Log) ApplyRetention(nowMs int64, highWatermark int64) (int, error) {
	l.wmu.Lock()
	defer l.wmu.Unlock()
	if l.closed.Load() {
		return 0, ErrClosed
	}
	cfg := l.config()
	if !cfg.deletes() {
		return 0, nil
	}
	var total int64
	for _, s := range l.segs {
		total += s.size.Load()
	}
	excess := total - cfg.RetentionBytes
	start := l.logStart.Load()
	n := 0
	for n < len(l.segs)-1 {
		s, next := l.segs[n], l.segs[n+1]
		if next.base > highWatermark {
			break
		}
		byStart := next.base <= start
		byTime := cfg.RetentionMs >= 0 && nowMs-l.largestTimestamp(s) > cfg.RetentionMs
		bySize := cfg.RetentionBytes >= 0 && excess-s.size.Load() >= 0
		if !byStart && !byTime && !bySize {
			break
		}
		excess -= s.size.Load()
		n++
	}
	if n > 0 {
		if err := l.deletePrefixLocked(n); err != nil {
			return 0, err
		}
		if err := l.epochs.truncateFromStart(l.logStart.Load()); err != nil {
			return n, err
		}
	}
	a := l.active()
	if !a.empty() {
		timeUp := a.firstTs >= 0 && nowMs-a.firstTs > cfg.SegmentMs ||
			a.firstTs < 0 && a.createdMs > 0 && nowMs-a.createdMs > cfg.SegmentMs
		expired := cfg.RetentionMs >= 0 && a.maxTs >= 0 && nowMs-a.maxTs > cfg.RetentionMs
		if timeUp || expired {
			if err := l.rollLocked(l.leo.Load(), nowMs); err != nil {
				return n, err
			}
		}
	}
	return n, nil
}

// largestTimestamp is the segment's newest record timestamp or, with none, the log file's
// modification time (Kafka's LogSegment.largestTimestamp).
func (l *Log) largestTimestamp(s *segment) int64 {
	if s.maxTs >= 0 {
		return s.maxTs
	}
	fi, err := l.fsys.Stat(segmentName(l.dirPath(), s.base, logSuffix))
	if err != nil {
		return math.MaxInt64 / 2
	}
	return fi.ModTime().UnixMilli()
}
