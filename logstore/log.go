package logstore

import (
	"errors"
	"fmt"
	"math"
	"sort"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/rs/zerolog"
)

// Log is one partition's log: a directory of segments (Kafka's UnifiedLog). Its methods are
// safe for concurrent use: appends, truncations, retention and flushes are serialised by a
// writer lock; reads run beside an append. It owns no goroutines.
//
// Locking: wmu serialises every writer. smu guards the segment list and the lifetime of the
// segment files: readers hold it shared for the whole read, writers take it exclusively only
// to add, remove or shrink segments, never to append bytes. An append writes its bytes past
// the active segment's published size and then publishes the new size and log end offset
// atomically, so a reader only ever sees whole batches.
type Log struct {
	fsys   FS
	dir    string
	tp     TopicPartition
	logger zerolog.Logger
	cfg    atomic.Pointer[Config]

	wmu  sync.Mutex
	smu  sync.RWMutex
	segs []*segment // ascending base offsets; the last is the active segment

	leo           atomic.Int64
	logStart      atomic.Int64
	recoveryPoint atomic.Int64

	// Guarded by wmu.
	unflushed int64
	closed    atomic.Bool
	epochs    *epochCache
	producers *producerState

	// Compaction (cleaner.go). cmu serialises Compact calls; firstDirty is the cleaner
	// checkpoint: offsets below it were cleaned. truncations counts truncations, so a clean
	// that overlaps one is abandoned. tombstoneDue is when retained tombstones may next be
	// removable (0: none known), so a log with nothing dirty is still cleaned to drop them.
	cmu          sync.Mutex
	firstDirty   atomic.Int64
	truncations  atomic.Int64
	tombstoneDue atomic.Int64
}

type openOptions struct {
	recoveryPoint int64
	logStart      int64 // from log-start-offset-checkpoint; -1 when unknown
	cleanShutdown bool  // the log dir holds Kafka's .kafka_cleanshutdown: skip recovery
	firstDirty    int64 // from cleaner-offset-checkpoint; 0 when unknown
}

// Open opens (creating if needed) the log in dir, recovering every segment at or after
// recoveryPoint: a torn or corrupt tail is truncated to the last valid batch and damaged
// indexes are rebuilt. Producer state and the leader-epoch cache are rebuilt as well.
func Open(fsys FS, dir string, tp TopicPartition, cfg Config, recoveryPoint int64, logger zerolog.Logger) (*Log, error) {
	return openLog(fsys, dir, tp, cfg, openOptions{recoveryPoint: recoveryPoint, logStart: -1}, logger)
}

func openLog(fsys FS, dir string, tp TopicPartition, cfg Config, opts openOptions, logger zerolog.Logger) (*Log, error) {
	cfg = cfg.withDefaults()
	l := &Log{fsys: fsys, dir: dir, tp: tp, logger: logger.With().Str("topic", tp.Topic).Int32("partition", tp.Partition).Logger()}
	l.cfg.Store(&cfg)
	if err := fsys.MkdirAll(dir, 0o755); err != nil {
		return nil, err
	}
	if err := completeSwaps(fsys, dir, l.logger); err != nil {
		return nil, err
	}
	ents, err := fsys.ReadDir(dir)
	if err != nil {
		return nil, err
	}
	var bases []int64
	indexBases := map[int64][]string{}
	for _, e := range ents {
		name := e.Name()
		if e.IsDir() {
			continue
		}
		switch {
		case strings.HasSuffix(name, ".tmp"), strings.HasSuffix(name, ".deleted"),
			strings.HasSuffix(name, ".cleaned"), strings.HasSuffix(name, ".swap"):
			if err := fsys.Remove(dir + "/" + name); err != nil {
				return nil, err
			}
		case strings.HasSuffix(name, logSuffix):
			if b, ok := parseBase(name, logSuffix); ok {
				bases = append(bases, b)
			}
		case strings.HasSuffix(name, indexSuffix), strings.HasSuffix(name, timeIndexSuffix):
			suf := indexSuffix
			if strings.HasSuffix(name, timeIndexSuffix) {
				suf = timeIndexSuffix
			}
			if b, ok := parseBase(name, suf); ok {
				indexBases[b] = append(indexBases[b], name)
			}
		}
	}
	sort.Slice(bases, func(i, j int) bool { return bases[i] < bases[j] })
	for b, names := range indexBases {
		if _, ok := sort.Find(len(bases), func(i int) int { return cmp64(b, bases[i]) }); !ok {
			for _, n := range names {
				fsys.Remove(dir + "/" + n) // an index without its log
			}
		}
	}
	if l.epochs, err = loadEpochCache(fsys, dir); err != nil {
		return nil, err
	}

	var segs []*segment
	fail := func(err error) (*Log, error) {
		for _, s := range segs {
			s.close()
		}
		return nil, err
	}
	for _, b := range bases {
		s, err := openSegmentFiles(fsys, dir, b, false)
		if err != nil {
			return fail(err)
		}
		segs = append(segs, s)
	}
	recoverFrom := len(segs)
	if !opts.cleanShutdown {
		for i := range segs {
			if i == len(segs)-1 || segs[i+1].base > opts.recoveryPoint {
				recoverFrom = i
				break
			}
		}
	}
	interval := int64(cfg.IndexIntervalBytes)
	var recovered []*segment
	for i := 0; i < len(segs); i++ {
		s := segs[i]
		size, err := s.log.Size()
		if err != nil {
			return fail(err)
		}
		needRecover := i >= recoverFrom
		if !needRecover {
			ok, err := s.loadIndexes(size)
			if err != nil {
				return fail(err)
			}
			if !ok || s.indexMissing {
				l.logger.Warn().Int64("segment", s.base).Msg("damaged or missing index, rebuilding")
				needRecover = true
			} else if err := s.loadTail(size); errors.Is(err, errTorn) {
				l.logger.Warn().Int64("segment", s.base).Msg("index does not match the log, recovering the segment")
				needRecover = true
			} else if err != nil {
				return fail(err)
			}
		}
		if needRecover {
			truncated, err := s.recover(interval, func(h BatchHeader) {
				l.epochs.maybeAssignNewerLocked(h.PartitionLeaderEpoch, h.BaseOffset)
			})
			if err != nil {
				return fail(err)
			}
			recovered = append(recovered, s)
			if truncated > 0 {
				l.logger.Warn().Int64("segment", s.base).Int64("bytes", truncated).Int64("valid_bytes", s.size.Load()).
					Msg("truncated an invalid or torn tail")
			}
		}
		// What follows a truncated segment is gone. An empty segment after another one
		// was created by a roll whose data never reached the disk: it and what follows go,
		// or the log end would jump over offsets that were lost. A segment overlapping the
		// previous one cannot be trusted either.
		var from int
		switch {
		case i > 0 && s.base <= segs[i-1].lastOffset:
			l.logger.Warn().Int64("segment", s.base).Msg("segment overlaps the previous one")
			from = i
		case needRecover && i > 0 && s.size.Load() == 0:
			from = i
		case needRecover && s.size.Load() < size:
			from = i + 1
		default:
			continue
		}
		if from >= len(segs) {
			continue
		}
		for _, later := range segs[from:] {
			l.logger.Warn().Int64("segment", later.base).Msg("deleting a segment after the end of the valid log")
			if err := later.remove(); err != nil {
				return fail(err)
			}
		}
		segs = segs[:from]
		if err := fsys.SyncDir(dir); err != nil {
			return fail(err)
		}
	}
	if len(segs) == 0 {
		base := max(opts.logStart, 0)
		s, err := openSegmentFiles(fsys, dir, base, true)
		if err != nil {
			return nil, err
		}
		if err := fsys.SyncDir(dir); err != nil {
			s.close()
			return nil, err
		}
		segs = append(segs, s)
	}
	l.segs = segs
	active := segs[len(segs)-1]
	leo := max(active.lastOffset+1, active.base)
	logStart := segs[0].base
	if opts.logStart > logStart {
		logStart = min(opts.logStart, leo)
	}
	l.leo.Store(leo)
	l.logStart.Store(logStart)
	for _, s := range recovered {
		if s.removed {
			continue
		}
		if err := s.sync(); err != nil {
			return fail(err)
		}
	}
	l.recoveryPoint.Store(leo)

	l.epochs.mu.Lock()
	l.epochs.truncateFromEndLocked(leo)
	l.epochs.truncateFromStartLocked(logStart)
	err = l.epochs.flushLocked()
	l.epochs.mu.Unlock()
	if err != nil {
		return fail(err)
	}
	if err := l.rebuildProducerStateLocked(); err != nil {
		return fail(err)
	}
	l.firstDirty.Store(min(max(opts.firstDirty, logStart), leo))
	l.tombstoneDue.Store(1) // tombstones cleaned before the restart may be due
	return l, nil
}

func cmp64(a, b int64) int {
	switch {
	case a < b:
		return -1
	case a > b:
		return 1
	}
	return 0
}

func parseBase(name, suffix string) (int64, bool) {
	s := strings.TrimSuffix(name, suffix)
	if len(s) != 20 {
		return 0, false
	}
	b, err := strconv.ParseInt(s, 10, 64)
	return b, err == nil && b >= 0
}

func (l *Log) config() Config { return *l.cfg.Load() }

func (l *Log) active() *segment { return l.segs[len(l.segs)-1] }

// rebuildProducerStateLocked loads the newest usable snapshot at or below the log end and
// replays the batch headers after it (ProducerStateManager.loadProducerState plus
// UnifiedLog.rebuildProducerState). Snapshots past the log end are deleted.
func (l *Log) rebuildProducerStateLocked() error {
	leo := l.leo.Load()
	snaps, err := listSnapshots(l.fsys, l.dir)
	if err != nil {
		return err
	}
	state := newProducerState()
	from := l.segs[0].base
	for i := len(snaps) - 1; i >= 0; i-- {
		name := snapshotName(l.dir, snaps[i])
		if snaps[i] > leo {
			if err := l.fsys.Remove(name); err != nil {
				return err
			}
			continue
		}
		data, err := readFile(l.fsys, name)
		if err != nil {
			return err
		}
		st, err := decodeSnapshot(data)
		if err != nil {
			l.logger.Warn().Str("file", name).Msg("corrupt producer state snapshot, deleting it")
			if err := l.fsys.Remove(name); err != nil {
				return err
			}
			continue
		}
		state, from = st, max(snaps[i], from)
		break
	}
	for i, s := range l.segs {
		if i < len(l.segs)-1 && l.segs[i+1].base <= from {
			continue
		}
		err := s.scan(s.lookup(from), s.size.Load(), func(h BatchHeader, _ int64) bool {
			if h.LastOffset() >= from {
				state.update(h)
			}
			return true
		})
		if err != nil {
			return err
		}
	}
	l.producers = state
	return nil
}

// writeSnapshotLocked writes the producer state as <offset>.snapshot and deletes snapshots
// below the first segment, keeping the newest.
func (l *Log) writeSnapshotLocked(offset int64) error {
	if err := writeFileAtomic(l.fsys, snapshotName(l.dir, offset), l.producers.encodeSnapshot()); err != nil {
		return err
	}
	return l.cleanSnapshotsLocked()
}

func (l *Log) cleanSnapshotsLocked() error {
	snaps, err := listSnapshots(l.fsys, l.dir)
	if err != nil {
		return err
	}
	for i, off := range snaps {
		if i < len(snaps)-1 && off < l.segs[0].base {
			if err := l.fsys.Remove(snapshotName(l.dir, off)); err != nil {
				return err
			}
		}
	}
	return nil
}

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
	cfg := l.config()
	hdrs, err := validateBatches(records, cfg, true)
	if err != nil {
		return AppendResult{}, err
	}
	if cfg.compacts() {
		if err := checkKeys(records); err != nil {
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
		if dup, ok := chk.dupOf(h); ok {
			res.FirstOffset, res.LastOffset, res.Duplicate = dup.firstOffset, dup.lastOffset, true
			return res, nil
		}
	}
	next := l.leo.Load()
	for _, h := range hdrs {
		if err := chk.validate(h, next); err != nil {
			return AppendResult{}, err
		}
		next += int64(h.LastOffsetDelta) + 1
	}
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
	if err := l.appendLocked(records, hdrs, nowMs); err != nil {
		return AppendResult{}, err
	}
	chk.commit()
	if err := l.maybeAssignEpoch(leaderEpoch, res.FirstOffset, true); err != nil {
		return AppendResult{}, err
	}
	return res, nil
}

// startAppendLocked begins an append under l.wmu: ErrClosed once the log is closed, otherwise
// the result of appending nothing yet (no offsets or timestamps, the current log start offset).
func (l *Log) startAppendLocked() (AppendResult, error) {
	if l.closed.Load() {
		return AppendResult{}, ErrClosed
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
	if err := l.appendLocked(records, hdrs, time.Now().UnixMilli()); err != nil {
		return AppendResult{}, err
	}
	for _, h := range hdrs {
		l.producers.update(h)
		if err := l.maybeAssignEpoch(h.PartitionLeaderEpoch, h.BaseOffset, false); err != nil {
			return AppendResult{}, err
		}
	}
	return res, nil
}

// appendLocked writes validated, stamped batches to the active segment, rolling first when
// needed, then publishes the new log end offset.
func (l *Log) appendLocked(records []byte, hdrs []BatchHeader, nowMs int64) error {
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
	if err := s.append(records, hdrs, int64(cfg.IndexIntervalBytes)); err != nil {
		return err
	}
	l.leo.Store(hdrs[len(hdrs)-1].NextOffset())
	for _, h := range hdrs {
		l.unflushed += int64(h.NumRecords)
	}
	if l.unflushed >= cfg.FlushIntervalMessages {
		return l.flushLocked()
	}
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
	s, err := openSegmentFiles(l.fsys, l.dir, base, true)
	if err != nil {
		return err
	}
	if err := l.fsys.SyncDir(l.dir); err != nil {
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

// Read returns whole batches starting with the one holding offset, at most maxBytes of them
// (but at least one whole batch when minOneBatch, KIP-74), none starting at or past maxOffset
// (a negative maxOffset is no limit). An offset below the log start or above the log end is
// ErrOffsetOutOfRange; offset equal to the log end returns nothing. The batches come from
// one segment: a read may return less than maxBytes when a segment ends.
//
// The first batch may start before offset (the caller skips records below it, as Kafka's
// consumers do). The bytes are a fresh copy that the caller owns.
func (l *Log) Read(offset int64, maxBytes int, maxOffset int64, minOneBatch bool) ([]byte, error) {
	l.smu.RLock()
	defer l.smu.RUnlock()
	if l.closed.Load() {
		return nil, ErrClosed
	}
	leo, start := l.leo.Load(), l.logStart.Load()
	if offset < start || offset > leo {
		return nil, fmt.Errorf("%w: %d not in [%d, %d]", ErrOffsetOutOfRange, offset, start, leo)
	}
	if offset == leo {
		return nil, nil
	}
	if maxOffset < 0 {
		maxOffset = math.MaxInt64
	}
	i := sort.Search(len(l.segs), func(i int) bool { return l.segs[i].base > offset }) - 1
	for i = max(i, 0); i < len(l.segs); i++ {
		s := l.segs[i]
		size := s.size.Load()
		pos, h, found, err := s.findBatch(offset, s.lookup(offset), size)
		if err != nil {
			return nil, err
		}
		if !found {
			continue
		}
		if h.BaseOffset >= maxOffset {
			return nil, nil
		}
		n := min(int64(max(maxBytes, 0)), size-pos)
		if n < int64(h.Size()) {
			if !minOneBatch {
				return nil, nil
			}
			n = int64(h.Size())
		}
		buf := make([]byte, n)
		if err := readFull(s.log, buf, pos); err != nil {
			return nil, err
		}
		end := 0
		for end+batchLogOverhead <= len(buf) {
			bh, err := ParseBatchHeader(buf[end:])
			if err != nil || end+bh.Size() > len(buf) || bh.BaseOffset >= maxOffset {
				break
			}
			end += bh.Size()
		}
		return buf[:end], nil
	}
	return nil, nil
}

// LogStartOffset is the first offset still in the log.
func (l *Log) LogStartOffset() int64 { return l.logStart.Load() }

// LogEndOffset is the offset the next record will get.
func (l *Log) LogEndOffset() int64 { return l.leo.Load() }

// RecoveryPoint is the offset below which everything is known to be on disk.
func (l *Log) RecoveryPoint() int64 { return l.recoveryPoint.Load() }

// Dir is the log's directory.
func (l *Log) Dir() string { return l.dir }

// TopicPartition is the partition the log holds.
func (l *Log) TopicPartition() TopicPartition { return l.tp }

// Config is the log's configuration, with defaults filled in.
func (l *Log) Config() Config { return l.config() }

// SetConfig applies a changed topic configuration.
func (l *Log) SetConfig(cfg Config) {
	cfg = cfg.withDefaults()
	l.cfg.Store(&cfg)
}

// Size is the total bytes of all segments.
func (l *Log) Size() int64 {
	l.smu.RLock()
	defer l.smu.RUnlock()
	var n int64
	for _, s := range l.segs {
		n += s.size.Load()
	}
	return n
}

// NumSegments is the number of segments.
func (l *Log) NumSegments() int {
	l.smu.RLock()
	defer l.smu.RUnlock()
	return len(l.segs)
}

// FetchOffsetByTimestamp finds the first offset whose timestamp is at or after ts
// (ListOffsets). Kafka's special timestamps work too: -2 (earliest) is the log start, -1
// (latest) the log end, -3 (max timestamp, KIP-734) the last offset of the batch holding the
// largest timestamp; those return timestamp -1 except -3. In a compressed batch, records
// are not decoded: the batch's base offset and max timestamp are returned.
func (l *Log) FetchOffsetByTimestamp(ts int64) (offset int64, timestamp int64, found bool, err error) {
	l.wmu.Lock()
	defer l.wmu.Unlock()
	if l.closed.Load() {
		return 0, 0, false, ErrClosed
	}
	switch ts {
	case -2:
		return l.logStart.Load(), -1, true, nil
	case -1:
		return l.leo.Load(), -1, true, nil
	case -3:
		var best *segment
		for _, s := range l.segs {
			if s.maxTs >= 0 && (best == nil || s.maxTs > best.maxTs) {
				best = s
			}
		}
		if best == nil || best.maxTsOffset < l.logStart.Load() {
			return 0, 0, false, nil
		}
		return best.maxTsOffset, best.maxTs, true, nil
	}
	start := l.logStart.Load()
	for _, s := range l.segs {
		if s.maxTs < ts || s.lastOffset < start {
			continue
		}
		below := s.lookupTime(ts) // every record at or before it is older than ts
		from := max(below+1, start)
		var (
			bh   BatchHeader
			bpos int64
			ok   bool
		)
		err := s.scan(s.lookup(from), s.size.Load(), func(h BatchHeader, pos int64) bool {
			if h.LastOffset() >= from && h.MaxTimestamp >= ts {
				bh, bpos, ok = h, pos, true
				return false
			}
			return true
		})
		if err != nil {
			return 0, 0, false, err
		}
		if !ok {
			continue
		}
		off, t, err := l.findRecordByTime(s, bh, bpos, ts, start)
		return off, t, err == nil, err
	}
	return 0, 0, false, nil
}

// findRecordByTime returns the first record at or after minOffset in the batch whose
// timestamp is at least ts.
func (l *Log) findRecordByTime(s *segment, h BatchHeader, pos, ts, minOffset int64) (int64, int64, error) {
	if h.LogAppendTime() || h.Compression() != 0 {
		return max(h.BaseOffset, minOffset), h.MaxTimestamp, nil
	}
	b := make([]byte, h.Size())
	if err := readFull(s.log, b, pos); err != nil {
		return 0, 0, err
	}
	recs := b[BatchHeaderSize:]
	for len(recs) > 0 {
		length, n := varint(recs)
		if n <= 0 || length < 0 || int64(n)+length > int64(len(recs)) {
			break
		}
		r := recs[n : int64(n)+length]
		recs = recs[int64(n)+length:]
		if len(r) < 1 {
			break
		}
		tsDelta, m := varint(r[1:])
		if m <= 0 {
			break
		}
		offDelta, k := varint(r[1+m:])
		if k <= 0 {
			break
		}
		rts, roff := h.BaseTimestamp+tsDelta, h.BaseOffset+offDelta
		if roff >= minOffset && rts >= ts {
			return roff, rts, nil
		}
	}
	return max(h.BaseOffset, minOffset), h.MaxTimestamp, nil
}

// varint decodes a zigzag varint as Kafka's records use.
func varint(b []byte) (int64, int) {
	var ux uint64
	for i := 0; i < len(b) && i < 10; i++ {
		c := b[i]
		ux |= uint64(c&0x7f) << (7 * i)
		if c < 0x80 {
			return int64(ux>>1) ^ -int64(ux&1), i + 1
		}
	}
	return 0, 0
}

// TruncateTo removes every record at or after offset (a follower after a leader change).
// The batch holding offset goes whole, so the log end may land below offset when offset is
// not a batch boundary.
func (l *Log) TruncateTo(offset int64) error {
	if offset < 0 {
		return fmt.Errorf("logstore: truncate to negative offset %d", offset)
	}
	l.wmu.Lock()
	defer l.wmu.Unlock()
	if l.closed.Load() {
		return ErrClosed
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
	if err != nil {
		return err
	}
	if err := l.fsys.SyncDir(l.dir); err != nil {
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
	if offset < 0 {
		return fmt.Errorf("logstore: start at negative offset %d", offset)
	}
	l.wmu.Lock()
	defer l.wmu.Unlock()
	if l.closed.Load() {
		return ErrClosed
	}
	return l.truncateFullyLocked(offset)
}

func (l *Log) truncateFullyLocked(offset int64) error {
	l.logger.Info().Int64("offset", offset).Msg("truncating fully")
	l.truncations.Add(1)
	s, err := openSegmentFiles(l.fsys, l.dir, offset, true)
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
	l.logStart.Store(offset)
	l.recoveryPoint.Store(offset)
	l.firstDirty.Store(offset)
	l.smu.Unlock()
	if err != nil {
		return err
	}
	snaps, err := listSnapshots(l.fsys, l.dir)
	if err != nil {
		return err
	}
	for _, off := range snaps {
		if err := l.fsys.Remove(snapshotName(l.dir, off)); err != nil {
			return err
		}
	}
	if err := l.fsys.SyncDir(l.dir); err != nil {
		return err
	}
	l.producers = newProducerState()
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
	if err := l.fsys.SyncDir(l.dir); err != nil {
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
	fi, err := l.fsys.Stat(segmentName(l.dir, s.base, logSuffix))
	if err != nil {
		return math.MaxInt64 / 2
	}
	return fi.ModTime().UnixMilli()
}

// Flush fsyncs everything up to the log end and moves the recovery point there.
func (l *Log) Flush() error {
	l.wmu.Lock()
	defer l.wmu.Unlock()
	if l.closed.Load() {
		return ErrClosed
	}
	return l.flushLocked()
}

func (l *Log) flushLocked() error {
	leo, rp := l.leo.Load(), l.recoveryPoint.Load()
	if leo <= rp && l.unflushed == 0 {
		return nil
	}
	for i, s := range l.segs {
		if i < len(l.segs)-1 && l.segs[i+1].base <= rp {
			continue
		}
		if err := s.sync(); err != nil {
			return err
		}
	}
	l.recoveryPoint.Store(leo)
	l.unflushed = 0
	return nil
}

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

// Close flushes, writes a producer state snapshot at the log end and closes the files.
// Further calls fail with ErrClosed.
func (l *Log) Close() error {
	l.wmu.Lock()
	defer l.wmu.Unlock()
	if l.closed.Load() {
		return ErrClosed
	}
	err := l.flushLocked()
	if err == nil {
		err = l.active().sealTimeIndex()
	}
	if err == nil {
		err = l.active().tidx.Sync()
	}
	if err == nil {
		err = l.writeSnapshotLocked(l.leo.Load())
	}
	l.smu.Lock()
	l.closed.Store(true)
	for _, s := range l.segs {
		err = errors.Join(err, s.close())
	}
	l.smu.Unlock()
	return err
}

// closeNoFlush closes the files without flushing (the log is about to be deleted).
func (l *Log) closeNoFlush() {
	l.wmu.Lock()
	defer l.wmu.Unlock()
	if l.closed.Load() {
		return
	}
	l.smu.Lock()
	l.closed.Store(true)
	for _, s := range l.segs {
		s.close()
	}
	l.smu.Unlock()
}
