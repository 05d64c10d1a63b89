package logstore

import (
	"errors"
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
	dirp   atomic.Pointer[string] // the partition folder; changes when the log moves to another log dir (future.go)
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

	// Log dir failure (dir_failure.go). offline is set by the first I/O error and never
	// cleared; onIOError (set by the Manager before the log is shared) reports that error.
	offline     atomic.Bool
	onIOError   func(error)
	lastFlushMs atomic.Int64 // when the log was last flushed (or opened), Unix ms
	epochs      *epochCache
	producers   *producerState // guarded by wmu
	txns        *txnTracker    // what readers need of producers (transactions.go)

	// Compaction (cleaner.go). cmu serialises Compact calls; firstDirty is the cleaner
	// checkpoint: offsets below it were cleaned. truncations counts truncations, so a clean
	// that overlaps one is abandoned. tombstoneDue is when retained tombstones may next be
	// removable (0: none known), so a log with nothing dirty is still cleaned to drop them.
	cmu          sync.Mutex
	firstDirty   atomic.Int64
	truncations  atomic.Int64
	tombstoneDue atomic.Int64

	// truncWatch is the lowest log end offset a truncation left since a move's copy last
	// looked (future.go): noTruncation when none, -1 after a full truncation.
	truncWatch atomic.Int64
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

func (l *Log) config() Config { return *l.cfg.Load() }

// dirPath is the log's folder. It changes only when a move to another log dir completes
// (future.go), under the writer and structure locks; readers without them get either folder,
// both of which name this partition's log.
func (l *Log) dirPath() string { return *l.dirp.Load() }

func (l *Log) active() *segment { return l.segs[len(l.segs)-1] }

// LogStartOffset is the first offset still in the log.
func (l *Log) LogStartOffset() int64 { return l.logStart.Load() }

// LogEndOffset is the offset the next record will get.
func (l *Log) LogEndOffset() int64 { return l.leo.Load() }

// RecoveryPoint is the offset below which everything is known to be on disk.
func (l *Log) RecoveryPoint() int64 { return l.recoveryPoint.Load() }

// Dir is the log's directory.
func (l *Log) Dir() string { return l.dirPath() }

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

// Flush fsyncs everything up to the log end and moves the recovery point there. A failed
// fsync takes the log offline (dir_failure.go): it is never retried as if it had worked.
func (l *Log) Flush() error {
	l.wmu.Lock()
	defer l.wmu.Unlock()
	if err := l.usable("flush"); err != nil {
		return err
	}
	return l.fail("flush", l.flushLocked(l.leo.Load(), 0))
}

// flushLocked fsyncs every segment from the recovery point on and moves the recovery point
// to leo; pending counts messages written but not yet published (an append in progress).
// Caller holds wmu and turns an error into the log going offline.
func (l *Log) flushLocked(leo int64, pending int64) error {
	rp := l.recoveryPoint.Load()
	if leo <= rp && l.unflushed == 0 && pending == 0 {
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
	l.lastFlushMs.Store(time.Now().UnixMilli())
	return nil
}

// FlushIfDue flushes the log when it has unflushed messages and flush.ms has passed since
// its last flush (LogManager.flushDirtyLogs). It reports whether it flushed.
func (l *Log) FlushIfDue(nowMs int64) (bool, error) {
	l.wmu.Lock()
	defer l.wmu.Unlock()
	if err := l.usable("flush"); err != nil {
		return false, err
	}
	if l.unflushed == 0 && l.leo.Load() <= l.recoveryPoint.Load() {
		return false, nil
	}
	if nowMs-l.lastFlushMs.Load() < l.config().FlushMs {
		return false, nil
	}
	return true, l.fail("flush", l.flushLocked(l.leo.Load(), 0))
}

// Close flushes, writes a producer state snapshot at the log end and closes the files.
// Further calls fail with ErrClosed.
func (l *Log) Close() error {
	l.wmu.Lock()
	defer l.wmu.Unlock()
	if l.closed.Load() {
		return ErrClosed
	}
	if l.offline.Load() {
		l.closeFilesLocked()
		return l.usable("close")
	}
	err := l.flushLocked(l.leo.Load(), 0)
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
	l.closeFilesLocked()
}

// closeFilesLocked closes the segment files without writing anything. Caller holds wmu.
func (l *Log) closeFilesLocked() {
	l.smu.Lock()
	l.closed.Store(true)
	for _, s := range l.segs {
		s.close()
	}
	l.smu.Unlock()
}
