// Appending to a log as leader and as follower, and rolling segments (UnifiedLog.append,
// LogSegment roll).

package logstore

import (
	"fmt"
	"math"
	"time"
)

// validateBatches checks every batch of an append before any is written.
func validateBatches(records []byte, cfg Config, leader bool) ([]BatchHeader, error) {
	var hdrs []BatchHeader
	err := ForEachBatch(records, func(h BatchHeader, b []byte) error {
		if leader && h.Size() > cfg.MaxMessageBytes {
			return fmt.Errorf("%w: batch of %d bytes, max.message.bytes %d", ErrMessageTooLarge, h.Size(), cfg.MaxMessageBytes)
		}
		if _, err := CheckBatch(b); err != nil {
			return err
		}
		if h.NumRecords < 1 {
			return fmt.Errorf("%w: batch with %d records", ErrInvalidRecord, h.NumRecords)
		}
		if leader && int64(h.NumRecords) != int64(h.LastOffsetDelta)+1 {
			return fmt.Errorf("%w: %d records but lastOffsetDelta %d", ErrInvalidRecord, h.NumRecords, h.LastOffsetDelta)
		}
		hdrs = append(hdrs, h)
		return nil
	})
	if err != nil {
		return nil, err
	}
	if int64(len(records)) > cfg.SegmentBytes {
		return nil, fmt.Errorf("%w: %d bytes of batches exceed segment.bytes %d", ErrMessageTooLarge, len(records), cfg.SegmentBytes)
	}
	return hdrs, nil
}

// AppendAsLeader validates records (a sequence of v2 record batches), checks idempotent
// producer sequences, assigns offsets from the log end offset, stamps leaderEpoch into each
// batch's partitionLeaderEpoch, and appends the bytes as they came with only those fields
// (and, for LogAppendTime, the timestamp type, maxTimestamp and the CRC they are under)
// rewritten. The rewriting happens in place: records is modified.
//
// A request is validated whole before anything is appended. A batch an idempotent producer
// already wrote (one of its last five) is not appended again: the result has Duplicate set
// and the offsets of the original.
func (l *Log) AppendAsLeader(records []byte, leaderEpoch int32, nowMs int64) (AppendResult, error) {
	return l.appendAsLeader(records, leaderEpoch, nowMs, originClient)
}

// AppendAsCoordinator is AppendAsLeader for the batches a coordinator of this broker writes
// (Kafka's AppendOrigin.COORDINATOR: the group coordinator's offset commits, transactional
// ones included). Such batches carry no meaningful sequence (a transactional offset commit is
// always at base sequence 0), so sequences are not checked and no batch is taken for a
// duplicate; the producer epoch still is (an older one is INVALID_PRODUCER_EPOCH: a fenced
// producer's commit fails), and a transactional batch opens its producer's transaction here
// as any other, for a marker to close.
func (l *Log) AppendAsCoordinator(records []byte, leaderEpoch int32, nowMs int64) (AppendResult, error) {
	return l.appendAsLeader(records, leaderEpoch, nowMs, originCoordinator)
}

// appendOrigin says who wrote a leader append (Kafka's AppendOrigin), and so how much of the
// producer state is checked.
type appendOrigin int8

const (
	originClient      appendOrigin = iota // a Produce request: epochs, sequences, duplicates
	originCoordinator                     // a coordinator of this broker: epochs only
)

func (l *Log) appendAsLeader(records []byte, leaderEpoch int32, nowMs int64, origin appendOrigin) (AppendResult, error) {
	cfg := l.config()
	hdrs, err := validateBatches(records, cfg, true)
	if err != nil {
		return AppendResult{}, err
	}
	if cfg.compacts() {
		if err := checkKeys(records, cfg.MaxMessageBytes); err != nil {
			return AppendResult{}, err
		}
	}
	l.wmu.Lock()
	defer l.wmu.Unlock()
	res, err := l.startAppendLocked()
	if err != nil || len(hdrs) == 0 {
		return res, err
	}
	chk := l.producers.check()
	for _, h := range hdrs {
		if origin != originClient {
			break
		}
		if dup, ok := chk.dupOf(h); ok {
			res.FirstOffset, res.LastOffset, res.Duplicate = dup.firstOffset, dup.lastOffset, true
			return res, nil
		}
	}
	next := l.leo.Load()
	for _, h := range hdrs {
		if err := chk.validate(h, next, origin); err != nil {
			return AppendResult{}, err
		}
		next += int64(h.LastOffsetDelta) + 1
	}
	return l.appendAsLeaderLocked(records, hdrs, leaderEpoch, nowMs, chk, res)
}

// appendAsLeaderLocked assigns offsets from the log end, stamps the leader epoch (and
// LogAppendTime), writes the batches and commits the producer state that chk validated.
// Caller holds wmu.
func (l *Log) appendAsLeaderLocked(records []byte, hdrs []BatchHeader, leaderEpoch int32, nowMs int64, chk *producerCheck, res AppendResult) (AppendResult, error) {
	cfg := l.config()
	logAppendTime := cfg.MessageTimestampType == "LogAppendTime"
	off := l.leo.Load()
	res.FirstOffset = off
	pos := 0
	for i := range hdrs {
		h := &hdrs[i]
		b := records[pos : pos+h.Size()]
		setBaseOffset(b, off)
		setLeaderEpoch(b, leaderEpoch)
		h.BaseOffset, h.PartitionLeaderEpoch = off, leaderEpoch
		if logAppendTime {
			setLogAppendTime(b, nowMs)
			h.MaxTimestamp = nowMs
			h.Attributes |= attrTimestampType
			res.LogAppendTime = nowMs
		}
		res.MaxTimestamp = max(res.MaxTimestamp, h.MaxTimestamp)
		res.NumRecords += int(h.NumRecords)
		off = h.NextOffset()
		pos += h.Size()
	}
	res.LastOffset = off - 1
	err := l.appendLocked(records, hdrs, nowMs, func() error {
		if err := l.maybeAssignEpoch(leaderEpoch, res.FirstOffset, true); err != nil {
			return err
		}
		return l.writeAbortedLocked(chk.completed)
	})
	if err != nil {
		// Nothing was published: the producer's retry (at the next leader, this log being
		// offline now) is checked against the state before this append.
		return AppendResult{}, l.fail("append", err)
	}
	chk.commit()
	l.txns.update(l.producers, chk.completed)
	return res, nil
}

// startAppendLocked begins an append under l.wmu: ErrClosed once the log is closed, otherwise
// the result of appending nothing yet (no offsets or timestamps, the current log start offset).
func (l *Log) startAppendLocked() (AppendResult, error) {
	if err := l.usable("append"); err != nil {
		return AppendResult{}, err
	}
	return AppendResult{FirstOffset: -1, LastOffset: -1, MaxTimestamp: -1, LogAppendTime: -1, LogStartOffset: l.logStart.Load()}, nil
}

func (l *Log) maybeAssignEpoch(epoch int32, start int64, newerOnly bool) error {
	l.epochs.mu.Lock()
	defer l.epochs.mu.Unlock()
	var changed bool
	if newerOnly {
		changed = l.epochs.maybeAssignNewerLocked(epoch, start)
	} else {
		changed = l.epochs.assignLocked(epoch, start)
	}
	if !changed {
		return nil
	}
	return l.epochs.flushLocked()
}

// AppendAsFollower appends batches copied from the leader, keeping their offsets and epochs.
// The first batch must start at or after the log end offset and offsets must increase
// (ErrUnexpectedAppendOffset). Producer state and the leader-epoch cache follow the batches.
func (l *Log) AppendAsFollower(records []byte) (AppendResult, error) {
	cfg := l.config()
	hdrs, err := validateBatches(records, cfg, false)
	if err != nil {
		return AppendResult{}, err
	}
	l.wmu.Lock()
	defer l.wmu.Unlock()
	res, err := l.startAppendLocked()
	if err != nil || len(hdrs) == 0 {
		return res, err
	}
	prev := l.leo.Load() - 1
	for _, h := range hdrs {
		if h.BaseOffset <= prev {
			return AppendResult{}, fmt.Errorf("%w: batch at %d after offset %d", ErrUnexpectedAppendOffset, h.BaseOffset, prev)
		}
		prev = h.LastOffset()
		res.MaxTimestamp = max(res.MaxTimestamp, h.MaxTimestamp)
		res.NumRecords += int(h.NumRecords)
		if h.LogAppendTime() {
			res.LogAppendTime = h.MaxTimestamp
		}
	}
	res.FirstOffset, res.LastOffset = hdrs[0].BaseOffset, prev
	chk := l.producers.check()
	pos := 0
	for _, h := range hdrs {
		chk.applyBatch(h, records[pos:pos+h.Size()])
		pos += h.Size()
	}
	err = l.appendLocked(records, hdrs, time.Now().UnixMilli(), func() error {
		for _, h := range hdrs {
			if err := l.maybeAssignEpoch(h.PartitionLeaderEpoch, h.BaseOffset, false); err != nil {
				return err
			}
		}
		return l.writeAbortedLocked(chk.completed)
	})
	if err != nil {
		return AppendResult{}, l.fail("append", err)
	}
	chk.commit()
	l.txns.update(l.producers, chk.completed)
	return res, nil
}

// appendLocked writes validated, stamped batches to the active segment, rolling first when
// needed, fsyncs when flush.messages is reached, runs beforePublish (the leader-epoch
// checkpoint), and only then publishes the new segment size and log end offset: every step
// that can fail comes before anything becomes visible. The caller updates producer state
// after it returns nil and turns an error into the log going offline.
func (l *Log) appendLocked(records []byte, hdrs []BatchHeader, nowMs int64, beforePublish func() error) error {
	cfg := l.config()
	s := l.active()
	if l.shouldRoll(s, cfg, records, hdrs, nowMs) {
		if err := l.rollLocked(hdrs[0].BaseOffset, nowMs); err != nil {
			return err
		}
		s = l.active()
	}
	if s.createdMs == 0 {
		s.createdMs = nowMs
	}
	end, err := s.write(records, hdrs, int64(cfg.IndexIntervalBytes))
	if err != nil {
		return err
	}
	leo := hdrs[len(hdrs)-1].NextOffset()
	var n int64
	for _, h := range hdrs {
		n += int64(h.NumRecords)
	}
	if l.unflushed+n >= cfg.FlushIntervalMessages {
		if err := l.flushLocked(leo, n); err != nil {
			return err
		}
		n = 0
	}
	if beforePublish != nil {
		if err := beforePublish(); err != nil {
			return err
		}
	}
	s.size.Store(end)
	l.leo.Store(leo)
	l.unflushed += n
	return nil
}

// shouldRoll is LogSegment.shouldRoll: the segment would pass segment.bytes, its index is
// full, the offsets would not fit the index's 32-bit relative offsets, or segment.ms has
// passed. Time is measured as Kafka does: from the first batch's max timestamp to the new
// batches' max timestamp, or, when the segment has no timestamps, from its creation (here:
// its first append or roll in this process) to now.
func (l *Log) shouldRoll(s *segment, cfg Config, records []byte, hdrs []BatchHeader, nowMs int64) bool {
	last := hdrs[len(hdrs)-1].LastOffset()
	if hdrs[0].BaseOffset < s.base || last-s.base > math.MaxInt32 {
		return true
	}
	size := s.size.Load()
	if size == 0 {
		return false
	}
	if size+int64(len(records)) > cfg.SegmentBytes {
		return true
	}
	if len(s.offsets) >= cfg.MaxIndexBytes/offsetEntrySize || len(s.times) >= cfg.MaxIndexBytes/timeEntrySize {
		return true
	}
	var maxTs int64 = -1
	for _, h := range hdrs {
		maxTs = max(maxTs, h.MaxTimestamp)
	}
	if s.firstTs >= 0 && maxTs >= 0 {
		return maxTs-s.firstTs > cfg.SegmentMs
	}
	return s.createdMs > 0 && nowMs-s.createdMs > cfg.SegmentMs
}

// rollLocked seals the active segment and starts a new one at base (LogManager.roll):
// the producer state is snapshotted at base, as Kafka does on every roll.
func (l *Log) rollLocked(base int64, nowMs int64) error {
	old := l.active()
	if err := old.sealTimeIndex(); err != nil {
		return err
	}
	if old.empty() && old.base == base {
		return nil
	}
	if err := l.writeSnapshotLocked(base); err != nil {
		return err
	}
	s, err := openSegmentFiles(l.fsys, l.dirPath(), base, true)
	if err != nil {
		return err
	}
	if err := l.fsys.SyncDir(l.dirPath()); err != nil {
		s.close()
		return err
	}
	s.createdMs = nowMs
	l.smu.Lock()
	l.segs = append(l.segs, s)
	l.smu.Unlock()
	l.logger.Debug().Int64("segment", base).Msg("rolled a new segment")
	return nil
}
