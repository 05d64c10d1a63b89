// Opening a log: recovery from the recovery point and the producer state rebuilt from it
// (Kafka's LogLoader).

package logstore

import (
	"errors"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/rs/zerolog"
)

func openLog(fsys FS, dir string, tp TopicPartition, cfg Config, opts openOptions, logger zerolog.Logger) (*Log, error) {
	cfg = cfg.withDefaults()
	l := &Log{fsys: fsys, tp: tp, logger: logger.With().Str("topic", tp.Topic).Int32("partition", tp.Partition).Logger()}
	l.dirp.Store(&dir)
	l.truncWatch.Store(noTruncation)
	l.cfg.Store(&cfg)
	l.lastFlushMs.Store(time.Now().UnixMilli())
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
		case strings.HasSuffix(name, indexSuffix), strings.HasSuffix(name, timeIndexSuffix), strings.HasSuffix(name, txnIndexSuffix):
			suf := indexSuffix
			if strings.HasSuffix(name, timeIndexSuffix) {
				suf = timeIndexSuffix
			} else if strings.HasSuffix(name, txnIndexSuffix) {
				suf = txnIndexSuffix
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
			} else if err := s.txn.load(s.base); errors.Is(err, ErrCorruptTxnIndex) {
				l.logger.Warn().Err(err).Int64("segment", s.base).Msg("corrupt transaction index, recovering the segment")
				needRecover = true
			} else if err != nil {
				return fail(err)
			} else if n := len(s.txn.entries); n > 0 && s.txn.entries[n-1].LastOffset > s.lastOffset {
				l.logger.Warn().Int64("segment", s.base).Msg("transaction index past the end of its segment, recovering the segment")
				needRecover = true
			}
		}
		if needRecover {
			// The replay of the producer state rebuilds its aborted-transaction index.
			if err := s.txn.reset(); err != nil {
				return fail(err)
			}
			s.txnRebuild = true
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
	l.txns = newTxnTracker()
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

// rebuildProducerStateLocked loads the newest usable snapshot at or below the log end and
// replays the batches after it (ProducerStateManager.loadProducerState plus
// UnifiedLog.rebuildProducerState): data batches by their headers, control batches by their
// markers. Segments recovered at open (txnRebuild) get their transaction index rebuilt by
// the replay, which then starts from a snapshot at or below the first of them, as Kafka's
// recoverSegment reloads the producer state at the segment's base. Snapshots past the log
// end are deleted.
func (l *Log) rebuildProducerStateLocked() error {
	leo := l.leo.Load()
	snaps, err := listSnapshots(l.fsys, l.dirPath())
	if err != nil {
		return err
	}
	limit := leo
	for _, s := range l.segs {
		if s.txnRebuild {
			limit = min(limit, s.base)
			break
		}
	}
	state := newProducerState()
	from := l.segs[0].base
	for i := len(snaps) - 1; i >= 0; i-- {
		name := snapshotName(l.dirPath(), snaps[i])
		if snaps[i] > leo {
			if err := l.fsys.Remove(name); err != nil {
				return err
			}
			continue
		}
		if snaps[i] > limit {
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
	chk := state.check()
	for i, s := range l.segs {
		if i < len(l.segs)-1 && l.segs[i+1].base <= from {
			continue
		}
		var ioErr error
		err := s.scan(s.lookup(from), s.size.Load(), func(h BatchHeader, pos int64) bool {
			if h.LastOffset() < from {
				return true
			}
			var batch []byte
			if h.Control() && h.HasProducerID() {
				batch = make([]byte, h.Size())
				if ioErr = readFull(s.log, batch, pos); ioErr != nil {
					return false
				}
			}
			n := len(chk.completed)
			chk.applyBatch(h, batch)
			if s.txnRebuild {
				for _, ct := range chk.completed[n:] {
					if ct.abort {
						if ioErr = s.txn.append(AbortedTxn{ct.producerID, ct.first, ct.last, ct.lastStable}); ioErr != nil {
							return false
						}
					}
				}
			}
			return true
		})
		if err == nil {
			err = ioErr
		}
		if err != nil {
			return err
		}
		if s.txnRebuild {
			if err := s.txn.sync(); err != nil {
				return err
			}
			s.txnRebuild = false
		}
	}
	chk.commit()
	l.producers = state
	l.txns.reset(state, chk.completed)
	return nil
}

// writeSnapshotLocked writes the producer state as <offset>.snapshot and deletes snapshots
// below the first segment, keeping the newest.
func (l *Log) writeSnapshotLocked(offset int64) error {
	if err := writeFileAtomic(l.fsys, snapshotName(l.dirPath(), offset), l.producers.encodeSnapshot()); err != nil {
		return err
	}
	return l.cleanSnapshotsLocked()
}

func (l *Log) cleanSnapshotsLocked() error {
	snaps, err := listSnapshots(l.fsys, l.dirPath())
	if err != nil {
		return err
	}
	for i, off := range snaps {
		if i < len(snaps)-1 && off < l.segs[0].base {
			if err := l.fsys.Remove(snapshotName(l.dirPath(), off)); err != nil {
				return err
			}
		}
	}
	return nil
}
