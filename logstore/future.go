// Moving a partition's log to another log dir (KIP-113, AlterReplicaLogDirs): Kafka's future
// logs in LogManager, the copy of ReplicaAlterLogDirsThread and
// LogManager.replaceCurrentWithFutureLog.
//
// A move makes a future log, <topic>-<partition>.<uuid>-future in the destination dir
// (CreateFuture), and copies the current log into it batch by batch (CopyToFuture: read from
// the current log by offset, append as a follower appends, so the future log builds its own
// indexes, leader-epoch cache, producer snapshots and transaction indexes). Truncations of
// the current log while the copy runs (a follower after a leader change) are mirrored: the
// current log notes the lowest end offset a truncation left (Log.truncWatch) and the copy
// cuts the future log there before its next read; its log start (retention, DeleteRecords)
// is followed the same way.
//
// Once the future log has caught up, ReplaceCurrentWithFuture swaps under the current log's
// cleaner, writer and structure locks, so that no append, truncation, read or clean of the
// partition interleaves (the role of the partition lock in Kafka's
// Partition.maybeReplaceCurrentWithFutureReplica):
//
//  1. the batches appended since the last copy are copied (at most maxCatchUpBytes: more,
//     and the swap gives up until the next try, so producers wait a bounded time);
//  2. the future log is fsynced, and the current log's leader-epoch cache and a snapshot of
//     its producer state at the log end are written into the future folder: the current
//     log's are the fuller ones (it may hold an epoch with no batch yet, and producers whose
//     batches are below the future log's start);
//  3. the current folder is renamed <topic>-<partition>.<uuid>-delete and its dir synced;
//  4. the future folder is renamed <topic>-<partition> and its dir synced;
//  5. the Log takes the future log's segments and folder. It stays the same *Log for
//     everyone who holds it (the broker's partition, readers), with its producer and
//     transaction state, high watermark and configuration; a compacted log counts as dirty
//     again from its start (the copy may predate a clean that was running);
//  6. the old folder is removed in the background, and the checkpoint files of both dirs
//     are rewritten (recovery point and log start of the moved log now in the new dir's).
//
// A crash before step 3 leaves both folders, and the move resumes after the restart. A crash
// between 3 and 4 leaves the future folder and a -delete one: OpenManager takes the future
// log, complete since step 2, for the partition's log. (Kafka renames the future folder first
// and so, after a crash between its two renames, refuses to start with two folders for one
// partition; this order leaves nothing to decide by hand.)
//
// While a move runs, the partition's log dir in the manager is still the current one; the
// future log is listed by Dirs as a future log of its dir.

package logstore

import (
	"errors"
	"fmt"
	"math"
	"path/filepath"
	"time"
)

// ErrLogDirNotFound: a path that is not an entry of log.dirs (Kafka's LOG_DIR_NOT_FOUND).
var ErrLogDirNotFound = errors.New("log dir is not an entry of log.dirs")

// ErrNoLog: the manager holds no log for the partition (AlterReplicaLogDirs answers
// REPLICA_NOT_AVAILABLE).
var ErrNoLog = errors.New("no log of the partition on this broker")

// ErrNoFuture: the partition has no future log (the move was cancelled, the log deleted or
// its dir failed); whoever was copying stops.
var ErrNoFuture = errors.New("no future log of the partition")

// errNotCaughtUp: the swap found more to copy than it may copy under the partition's locks.
var errNotCaughtUp = errors.New("the future log has not caught up")

// noTruncation is Log.truncWatch when no truncation happened since the copy last looked.
const noTruncation = math.MaxInt64

// noteTruncation records that a truncation left the log ending at leo. Caller holds wmu.
func (l *Log) noteTruncation(leo int64) {
	for {
		cur := l.truncWatch.Load()
		if leo >= cur || l.truncWatch.CompareAndSwap(cur, leo) {
			return
		}
	}
}

// findDirLocked returns the log dir whose absolute path is dir (Kafka compares the request's
// path with each configured dir's File.getAbsolutePath), or nil. Caller holds mu.
func (m *Manager) findDirLocked(dir string) *logDir {
	for _, d := range m.dirs {
		if d.abs == dir {
			return d
		}
	}
	return nil
}

// LogDirOnline is LogManager.isLogDirOnline: whether dir, an absolute path, is online;
// ErrLogDirNotFound when it is no entry of log.dirs.
func (m *Manager) LogDirOnline(dir string) (bool, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	d := m.findDirLocked(dir)
	if d == nil {
		return false, fmt.Errorf("%w: %s", ErrLogDirNotFound, dir)
	}
	return !d.offline && !d.failed.Load(), nil
}

// MaxPreferredLogDirs bounds the partitions MaybeUpdatePreferredLogDir remembers a dir for:
// AlterReplicaLogDirs for partitions that never come would otherwise grow the map forever.
const MaxPreferredLogDirs = 100000

// MaybeUpdatePreferredLogDir remembers dir (absolute) as where tp's log is to be created, unless
// tp's current or future log is already there (LogManager.maybeUpdatePreferredLogDir). The
// preference is forgotten once a log of tp is created or deleted. It returns an error, and
// remembers nothing new, when MaxPreferredLogDirs partitions already have one.
func (m *Manager) MaybeUpdatePreferredLogDir(tp TopicPartition, dir string) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	d := m.findDirLocked(dir)
	if d == nil {
		return nil
	}
	if ml := m.logs[tp]; ml != nil && ml.dir == d {
		return nil
	}
	if fl := m.futures[tp]; fl != nil && fl.dir == d {
		return nil
	}
	if _, ok := m.preferred[tp]; !ok && len(m.preferred) >= MaxPreferredLogDirs {
		return fmt.Errorf("logstore: preferred log dirs are remembered for %d partitions not hosted yet, the most there may be (MaxPreferredLogDirs); %s will be placed where there is room",
			len(m.preferred), LogDirName(tp))
	}
	m.preferred[tp] = d
	return nil
}

// LogDirsOf returns the absolute log dirs of tp's current and future logs ("" for none).
func (m *Manager) LogDirsOf(tp TopicPartition) (current, future string) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if ml := m.logs[tp]; ml != nil {
		current = ml.dir.abs
	}
	if fl := m.futures[tp]; fl != nil {
		future = fl.dir.abs
	}
	return current, future
}

// Future returns tp's future log, or nil.
func (m *Manager) Future(tp TopicPartition) *Log {
	m.mu.Lock()
	defer m.mu.Unlock()
	if fl := m.futures[tp]; fl != nil {
		return fl.log
	}
	return nil
}

// CreateFuture makes tp's future log in dir (absolute), empty, with the current log's
// configuration (Partition.maybeCreateFutureReplica with LogManager.getOrCreateLog(isFuture)).
// It reports false, without error, when the current log is already in dir or a future log
// is already there. Errors: ErrLogDirNotFound, ErrNoLog, a future log in another dir, and a
// StorageError when any log dir is offline (Kafka creates no future log then, so that no
// partition gets future logs in two dirs) or the folder cannot be made (dir then fails).
func (m *Manager) CreateFuture(tp TopicPartition, dir string) (bool, error) {
	m.mu.Lock()
	for m.waitBusyLocked(tp) {
	}
	if m.closed {
		m.mu.Unlock()
		return false, ErrClosed
	}
	d := m.findDirLocked(dir)
	if d == nil {
		m.mu.Unlock()
		return false, fmt.Errorf("%w: %s", ErrLogDirNotFound, dir)
	}
	ml := m.logs[tp]
	if ml == nil {
		m.mu.Unlock()
		return false, ErrNoLog
	}
	if ml.dir == d {
		delete(m.preferred, tp)
		m.mu.Unlock()
		return false, nil
	}
	if fl := m.futures[tp]; fl != nil {
		m.mu.Unlock()
		if fl.dir == d {
			return false, nil
		}
		return false, fmt.Errorf("logstore: the future log of %s is in %s, not %s", LogDirName(tp), fl.dir.abs, dir)
	}
	for _, x := range m.dirs {
		if x.offline || x.failed.Load() {
			m.mu.Unlock()
			return false, &StorageError{Dir: x.path, Op: "create future log", Err: errors.New("a log dir is offline: no future log is created until the broker restarts")}
		}
	}
	cfg := ml.log.Config()
	done := make(chan struct{})
	m.busy[tp] = done
	d.n++
	m.mu.Unlock()

	full := filepath.Join(d.path, suffixedDirName(tp, FutureDirSuffix))
	f, err := m.createLogIn(d.path, full, tp, cfg)

	m.mu.Lock()
	defer m.mu.Unlock()
	delete(m.busy, tp)
	close(done)
	if err == nil && (m.closed || d.offline || m.logs[tp] != ml) {
		f.closeNoFlush()
		m.removeInBackground(d.path, full)
		err = ErrClosed
		if !m.closed && !d.offline {
			err = ErrNoLog // deleted meanwhile
		}
	}
	if err != nil {
		if !d.offline {
			d.n--
		}
		if errors.Is(err, ErrClosed) || errors.Is(err, ErrNoLog) {
			return false, err
		}
		m.failDir(d, err)
		return false, &StorageError{Dir: d.path, Op: "create future log", Err: err}
	}
	ml.log.truncWatch.Store(noTruncation) // the copy starts from nothing
	f.onIOError = m.onLogIOError
	m.futures[tp] = &managedLog{log: f, dir: d}
	delete(m.preferred, tp)
	m.logger.Info().Str("topic", tp.Topic).Int32("partition", tp.Partition).Str("future", full).
		Str("current", ml.log.Dir()).Msg("created a future log: the partition moves to another log dir")
	return true, nil
}

// createLogIn makes folder full in the log dir parent durable and opens its empty log; no
// lock held.
func (m *Manager) createLogIn(parent, full string, tp TopicPartition, cfg Config) (*Log, error) {
	if err := m.fsys.MkdirAll(full, 0o755); err != nil {
		return nil, err
	}
	if err := m.fsys.SyncDir(parent); err != nil {
		return nil, err
	}
	return openLog(m.fsys, full, tp, cfg, openOptions{logStart: -1}, m.logger)
}

// RemoveFuture deletes tp's future log, cancelling its move (Partition.removeFutureLocalReplica):
// the folder is renamed -delete and removed in the background. No future log is no error.
func (m *Manager) RemoveFuture(tp TopicPartition) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	for m.waitBusyLocked(tp) {
	}
	return m.removeFutureLocked(tp)
}

func (m *Manager) removeFutureLocked(tp TopicPartition) error {
	fl := m.futures[tp]
	if fl == nil {
		return nil
	}
	delete(m.futures, tp)
	if !fl.dir.offline {
		fl.dir.n--
	}
	if !fl.log.closeIfOpen() {
		return nil // taken by a swap, or closed with its failed dir
	}
	return m.renameForDeleteLocked(fl.log.Dir(), tp)
}

// closeIfOpen closes the files without flushing and reports whether the log was open.
func (l *Log) closeIfOpen() bool {
	l.wmu.Lock()
	defer l.wmu.Unlock()
	if l.closed.Load() {
		return false
	}
	l.closeFilesLocked()
	return true
}

// pair returns tp's current and future logs.
func (m *Manager) pair(tp TopicPartition) (*Log, *Log, *logDir, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.closed {
		return nil, nil, nil, ErrClosed
	}
	ml, fl := m.logs[tp], m.futures[tp]
	if ml == nil || fl == nil {
		return nil, nil, nil, ErrNoFuture
	}
	return ml.log, fl.log, fl.dir, nil
}

// CopyToFuture is one step of the copy (ReplicaAlterLogDirsThread's fetch and append): it
// follows the current log's truncations and log start, then copies at most readBytes (at
// least one batch) from the current log to the future one. It reports whether the future log
// has caught up with the current log's end. One caller per partition at a time (the broker's
// alter-log-dirs task); readers and writers of the current log run beside it.
func (m *Manager) CopyToFuture(tp TopicPartition, readBytes int) (caughtUp bool, err error) {
	l, f, _, err := m.pair(tp)
	if err != nil {
		return false, err
	}
	if err := syncFuture(l, f); err != nil {
		return false, err
	}
	if f.LogEndOffset() >= l.LogEndOffset() {
		return true, nil
	}
	if _, err := copyBatches(l, f, readBytes); err != nil {
		return false, err
	}
	return f.LogEndOffset() >= l.LogEndOffset(), nil
}

// syncFuture makes f follow what happened to l since the last look: a truncation cuts f at the
// same offset (a full truncation starts f over), and f's log start follows l's.
func syncFuture(l, f *Log) error {
	if t := l.truncWatch.Swap(noTruncation); t != noTruncation {
		if t < 0 {
			if err := f.TruncateFullyAndStartAt(l.LogStartOffset()); err != nil {
				return err
			}
		} else if t < f.LogEndOffset() {
			if err := f.TruncateTo(t); err != nil {
				return err
			}
		}
	}
	if leo := l.LogEndOffset(); f.LogEndOffset() > leo {
		// Never legitimately ahead; a backstop for what the watch would have said.
		if err := f.TruncateTo(leo); err != nil {
			return err
		}
	}
	start := l.LogStartOffset()
	switch fs := f.LogStartOffset(); {
	case f.LogEndOffset() < start || fs > start:
		return f.TruncateFullyAndStartAt(start)
	case fs < start:
		return f.IncrementLogStartOffset(start)
	}
	return nil
}

// copyBatches copies the batches of l from f's log end, at most readBytes (one batch at
// least), and returns how many bytes it copied. An empty future log whose start falls inside
// l's first batch (DeleteRecords moved l's start into a batch) starts at that batch instead,
// as Kafka's Partition.appendRecordsToFollowerOrFutureReplica does.
func copyBatches(l, f *Log, readBytes int) (int, error) {
	off := f.LogEndOffset()
	data, err := l.Read(off, readBytes, -1, true)
	if errors.Is(err, ErrOffsetOutOfRange) {
		return 0, nil // l's start moved past off: the next syncFuture starts f over
	}
	if err != nil || len(data) == 0 {
		return 0, err
	}
	if _, err := f.AppendAsFollower(data); err != nil {
		h, herr := ParseBatchHeader(data)
		if !errors.Is(err, ErrUnexpectedAppendOffset) || herr != nil || f.LogEndOffset() != f.LogStartOffset() ||
			h.BaseOffset >= off || h.LastOffset() < off {
			return 0, err
		}
		if err := f.TruncateFullyAndStartAt(h.BaseOffset); err != nil {
			return 0, err
		}
		if _, err := f.AppendAsFollower(data); err != nil {
			return 0, err
		}
		if err := f.IncrementLogStartOffset(off); err != nil {
			return 0, err
		}
	}
	return len(data), nil
}

// ReplaceCurrentWithFuture completes tp's move once its future log has caught up (see the
// file's comment for the steps). It reports false, without error, when more than
// maxCatchUpBytes were left to copy: the caller copies more and tries again. readBytes bounds
// each read of the catch-up. ErrNoFuture when the move is gone; a failure of either dir takes
// that dir offline (dir_failure.go) and the log stays where it was whenever the dir holding
// it is still healthy.
func (m *Manager) ReplaceCurrentWithFuture(tp TopicPartition, maxCatchUpBytes, readBytes int) (bool, error) {
	m.mu.Lock()
	for m.waitBusyLocked(tp) {
	}
	if m.closed {
		m.mu.Unlock()
		return false, ErrClosed
	}
	ml, fl := m.logs[tp], m.futures[tp]
	if ml == nil || fl == nil {
		m.mu.Unlock()
		return false, ErrNoFuture
	}
	done := make(chan struct{})
	m.busy[tp] = done // Delete, RemoveFuture, HandleLogDirFailure and Close wait for the swap
	m.mu.Unlock()

	from := ml.log.Dir()
	// Most of the copy is fsynced here, before the current log's writers are held back:
	// under the locks only the last batches are.
	var st swapStats
	err := fl.log.Flush()
	if err == nil {
		st, err = m.swap(ml.log, fl.log, fl.dir, maxCatchUpBytes, readBytes)
	}

	m.mu.Lock()
	delete(m.busy, tp)
	close(done)
	if err != nil {
		m.mu.Unlock()
		if errors.Is(err, errNotCaughtUp) {
			return false, nil
		}
		return false, err
	}
	if !ml.dir.offline {
		ml.dir.n-- // the future log's count in its dir is now the current log's
	}
	old := ml.dir
	ml.dir = fl.dir
	delete(m.futures, tp)
	m.mu.Unlock()
	m.logger.Info().Str("topic", tp.Topic).Int32("partition", tp.Partition).Str("from", from).Str("to", ml.log.Dir()).
		Int("caught_up_bytes", st.caughtUp).Dur("writers_held", st.held).
		Msg("replaced the current log with the future log: the partition moved to another log dir")
	m.checkpointDirs(old, fl.dir)
	return true, nil
}

// checkpointDirs rewrites the recovery-point, log-start and cleaner checkpoints of the given
// dirs (Kafka checkpoints the source dir after a swap), without flushing any log. A failure
// fails the dir, as any checkpoint write. No lock held.
func (m *Manager) checkpointDirs(dirs ...*logDir) {
	m.ckmu.Lock()
	defer m.ckmu.Unlock()
	m.mu.Lock()
	if m.closed {
		m.mu.Unlock()
		return
	}
	var files []dirCheckpoints
	for _, c := range m.gatherCheckpointsLocked() {
		for _, d := range dirs {
			if c.d == d {
				files = append(files, c)
			}
		}
	}
	m.mu.Unlock()
	if err := m.writeCheckpoints(files); err != nil {
		m.logger.Error().Err(err).Msg("writing the checkpoints after a move between log dirs")
	}
}

// swapStats is what a swap measured: the bytes it copied under the current log's locks and
// how long it held its writers back.
type swapStats struct {
	caughtUp int
	held     time.Duration
}

// swap runs the steps of the move's completion on l and f (f in dest). No manager lock held.
func (m *Manager) swap(l, f *Log, dest *logDir, maxCatchUpBytes, readBytes int) (st swapStats, err error) {
	l.cmu.Lock()
	defer l.cmu.Unlock()
	l.wmu.Lock()
	locked := time.Now()
	defer func() {
		st.held = time.Since(locked)
		l.wmu.Unlock()
	}()
	if err := l.usable("move"); err != nil {
		return st, err
	}
	// 1. The last batches. l's writers wait meanwhile, so this is bounded.
	copied := 0
	for {
		if err := syncFuture(l, f); err != nil {
			return st, err
		}
		if f.LogEndOffset() >= l.LogEndOffset() {
			break
		}
		if copied >= maxCatchUpBytes {
			return st, errNotCaughtUp
		}
		n, err := copyBatches(l, f, readBytes)
		if err != nil {
			return st, err
		}
		if n == 0 {
			return st, errNotCaughtUp
		}
		copied += n
		st.caughtUp = copied
	}
	leo := l.LogEndOffset()
	if f.LogEndOffset() != leo || f.LogStartOffset() != l.LogStartOffset() {
		return st, fmt.Errorf("logstore: future log of %s holds [%d, %d), the current log [%d, %d)",
			LogDirName(l.tp), f.LogStartOffset(), f.LogEndOffset(), l.LogStartOffset(), leo)
	}
	// 2. Durable, with the current log's epochs and producer state.
	if err := f.Flush(); err != nil {
		return st, err
	}
	f.wmu.Lock()
	defer f.wmu.Unlock()
	if err := f.usable("move"); err != nil {
		return st, ErrNoFuture
	}
	futureDir := f.dirPath()
	if err := l.epochs.writeTo(filepath.Join(futureDir, leaderEpochFile)); err != nil {
		return st, f.fail("move", err)
	}
	if err := writeFileAtomic(m.fsys, snapshotName(futureDir, leo), l.producers.encodeSnapshot()); err != nil {
		return st, f.fail("move", err)
	}
	// 3. The current folder goes out of the way.
	oldDir := l.dirPath()
	oldParent := filepath.Dir(oldDir)
	deleted := filepath.Join(oldParent, suffixedDirName(l.tp, DeleteDirSuffix))
	if err := m.fsys.Rename(oldDir, deleted); err != nil {
		return st, l.fail("move", err)
	}
	if err := m.fsys.SyncDir(oldParent); err != nil {
		err = l.fail("move", err)
		m.undoRename(l, deleted, oldDir)
		return st, err
	}
	// 4. The future folder takes the partition's name.
	newDir := filepath.Join(dest.path, LogDirName(l.tp))
	if err := m.fsys.Rename(futureDir, newDir); err != nil {
		err = f.fail("move", err)
		m.undoRename(l, deleted, oldDir)
		return st, err
	}
	if err := m.fsys.SyncDir(dest.path); err != nil {
		err = f.fail("move", err)
		m.undoRename(f, newDir, futureDir)
		m.undoRename(l, deleted, oldDir)
		return st, err
	}
	// 5. The Log takes the future log's segments and folder.
	f.smu.Lock()
	segs := f.segs
	f.segs = nil
	f.closed.Store(true)
	rp := f.recoveryPoint.Load()
	f.smu.Unlock()
	for _, s := range segs {
		s.dir = newDir
		s.txn.name = segmentName(newDir, s.base, txnIndexSuffix)
	}
	l.smu.Lock()
	old := l.segs
	l.segs = segs
	l.dirp.Store(&newDir)
	for _, s := range old {
		_ = s.close() // the files are in the -delete folder
	}
	l.smu.Unlock()
	l.epochs.setPath(filepath.Join(newDir, leaderEpochFile))
	l.recoveryPoint.Store(rp)
	l.unflushed = 0
	l.lastFlushMs.Store(f.lastFlushMs.Load())
	l.truncations.Add(1)
	// The copy may hold batches as they were before a clean that was running when the
	// move began (compaction pauses for moves only between passes): the whole log counts
	// as dirty again, so the next pass maps every key before it drops anything.
	l.firstDirty.Store(0)
	l.tombstoneDue.Store(0)
	// 6.
	m.removeInBackground(oldParent, deleted)
	return st, nil
}

// undoRename puts the folder of l back after a later step of the swap failed; when that fails
// too, l's dir is failed: its folder no longer has the partition's name.
func (m *Manager) undoRename(l *Log, from, to string) {
	if err := m.fsys.Rename(from, to); err != nil {
		_ = l.fail("move", fmt.Errorf("putting %s back as %s: %w", from, to, err))
	}
}
