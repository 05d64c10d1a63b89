package logstore

import (
	"errors"
	"fmt"
	"io"
	"io/fs"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"

	"github.com/rs/zerolog"
)

// Files of a log directory (one entry of log.dirs), as Kafka's LogManager writes them.
const (
	RecoveryPointCheckpointFile = "recovery-point-offset-checkpoint"
	LogStartCheckpointFile      = "log-start-offset-checkpoint"
	ReplicationCheckpointFile   = "replication-offset-checkpoint"
	CleanShutdownFile           = ".kafka_cleanshutdown"
	LockFile                    = ".lock"
)

// LogDirName is the folder name of a partition's log: <topic>-<partition>.
func LogDirName(tp TopicPartition) string { return fmt.Sprintf("%s-%d", tp.Topic, tp.Partition) }

// ParseLogDirName splits a partition folder name on its last '-' (topics may hold '-' and
// '.'). Names of deleted (-delete), future (-future) or stray (-stray) logs do not parse.
func ParseLogDirName(name string) (TopicPartition, bool) {
	i := strings.LastIndexByte(name, '-')
	if i <= 0 || i == len(name)-1 {
		return TopicPartition{}, false
	}
	p, err := strconv.ParseInt(name[i+1:], 10, 32)
	if err != nil || p < 0 || name[i+1] == '+' {
		return TopicPartition{}, false
	}
	return TopicPartition{name[:i], int32(p)}, true
}

// Manager owns the logs of every log.dirs folder and the per-folder checkpoint files
// (recovery-point-offset-checkpoint, log-start-offset-checkpoint,
// replication-offset-checkpoint, cleaner-offset-checkpoint), as Kafka's LogManager. Safe for concurrent use; owns no
// goroutines: the broker calls Checkpoint and retention on its own schedule.
type Manager struct {
	fsys     FS
	logger   zerolog.Logger
	defaults Config

	// mu guards the maps and the dirs' bookkeeping, and is never held across disk I/O that
	// can wait on writeback (an fsync, a flush of every log): the LeaderAndIsr and StopReplica
	// handlers take it, and a minute's flush behind it once held back every new partition.
	mu   sync.Mutex
	dirs []*logDir
	logs map[TopicPartition]*managedLog
	// busy marks partitions whose logs are being made, given a future log or swapped with it
	// outside mu (each channel closed when done): callers that would change those logs wait.
	busy   map[TopicPartition]chan struct{}
	closed bool

	// Moves between log dirs (future.go): the future log of each partition being moved, and
	// the dir where a log not created yet is to go (LogManager.preferredLogDirs).
	futures   map[TopicPartition]*managedLog
	preferred map[TopicPartition]*logDir

	ckmu    sync.Mutex     // serializes checkpoint file writes; taken before mu
	deletes sync.WaitGroup // removals of renamed -delete folders still running

	failures chan string // LogDirFailures: one slot per dir, each dir sent once
}

type logDir struct {
	path    string // as configured, cleaned
	abs     string // absolute: how DescribeLogDirs and AlterReplicaLogDirs name it
	lock    io.Closer
	n       int         // logs in it
	failed  atomic.Bool // reported on failures (set without m.mu: a log's I/O error hook)
	offline bool        // taken offline by HandleLogDirFailure; guarded by m.mu
}

type managedLog struct {
	log *Log
	dir *logDir
}

// Get returns the log of tp, or nil.
func (m *Manager) Get(tp TopicPartition) *Log {
	m.mu.Lock()
	defer m.mu.Unlock()
	if ml := m.logs[tp]; ml != nil {
		return ml.log
	}
	return nil
}

// GetOrCreate returns the log of tp, creating it in the folder with the fewest partitions.
// An existing log keeps its configuration (use SetConfig to change it). The folder is made
// and synced without holding the manager's lock, so one slow fsync delays only this
// partition; a second caller for the same partition waits for the first.
func (m *Manager) GetOrCreate(tp TopicPartition, cfg Config) (*Log, error) {
	m.mu.Lock()
	for {
		if m.closed {
			m.mu.Unlock()
			return nil, ErrClosed
		}
		if ml := m.logs[tp]; ml != nil {
			m.mu.Unlock()
			return ml.log, nil
		}
		if !m.waitBusyLocked(tp) {
			break
		}
	}
	if len(m.dirs) == 0 {
		m.mu.Unlock()
		return nil, errors.New("logstore: no log dirs")
	}
	if tp.Topic == "" || tp.Partition < 0 || strings.ContainsAny(tp.Topic, "/\\") {
		m.mu.Unlock()
		return nil, fmt.Errorf("logstore: invalid partition %q %d", tp.Topic, tp.Partition)
	}
	var d *logDir
	for _, x := range m.dirs {
		if !x.offline && !x.failed.Load() && (d == nil || x.n < d.n) {
			d = x
		}
	}
	if d == nil {
		m.mu.Unlock()
		return nil, &StorageError{Dir: strings.Join(m.dirPaths(), ","), Op: "create", Err: errors.New("every log dir is offline")}
	}
	if p := m.preferred[tp]; p != nil {
		// AlterReplicaLogDirs named the dir before the partition came here; as Kafka's
		// getOrCreateLog, an offline preferred dir fails the creation rather than placing
		// the log elsewhere.
		if p.offline || p.failed.Load() {
			m.mu.Unlock()
			return nil, &StorageError{Dir: p.path, Op: "create", Err: errors.New("the preferred log dir (AlterReplicaLogDirs) is offline")}
		}
		d = p
	}
	d.n++ // reserved, so that concurrent creations spread over the dirs
	done := make(chan struct{})
	m.busy[tp] = done
	m.mu.Unlock()

	l, err := m.createLog(d.path, tp, cfg)

	m.mu.Lock()
	defer m.mu.Unlock()
	delete(m.busy, tp)
	close(done)
	if err == nil && (m.closed || d.offline) {
		l.closeNoFlush()
		err = ErrClosed
		if d.offline {
			err = errors.New("the log dir went offline")
		}
	}
	if err != nil {
		if !d.offline {
			d.n--
		}
		if errors.Is(err, ErrClosed) {
			return nil, err
		}
		m.failDir(d, err)
		return nil, &StorageError{Dir: d.path, Op: "create", Err: err}
	}
	l.onIOError = m.onLogIOError
	m.logs[tp] = &managedLog{log: l, dir: d}
	delete(m.preferred, tp) // satisfied
	return l, nil
}

// waitBusyLocked waits, releasing mu meanwhile, while tp is busy (a creation or a swap outside
// mu). It reports whether it waited: the caller looks at the maps again. Caller holds mu.
func (m *Manager) waitBusyLocked(tp TopicPartition) bool {
	busy, ok := m.busy[tp]
	if !ok {
		return false
	}
	m.mu.Unlock()
	<-busy
	m.mu.Lock()
	return true
}

// createLog makes tp's folder in dir durable and opens its empty log; no lock held.
func (m *Manager) createLog(dir string, tp TopicPartition, cfg Config) (*Log, error) {
	full := filepath.Join(dir, LogDirName(tp))
	if err := m.fsys.MkdirAll(full, 0o755); err != nil {
		return nil, err
	}
	if err := m.fsys.SyncDir(dir); err != nil {
		return nil, err
	}
	return openLog(m.fsys, full, tp, cfg, openOptions{logStart: -1}, m.logger)
}

func (m *Manager) dirPaths() []string {
	out := make([]string, len(m.dirs))
	for i, d := range m.dirs {
		out[i] = d.path
	}
	return out
}

// FlushDirtyLogs flushes every log whose flush.ms has passed since its last flush
// (LogManager.flushDirtyLogs); a failure takes that log's dir offline.
func (m *Manager) FlushDirtyLogs(nowMs int64) error {
	var errs []error
	for tp, l := range m.All() {
		if l.Offline() {
			continue // already reported
		}
		if _, err := l.FlushIfDue(nowMs); err != nil && !errors.Is(err, ErrClosed) {
			errs = append(errs, fmt.Errorf("logstore: flushing %s: %w", LogDirName(tp), err))
		}
	}
	return errors.Join(errs...)
}

// All lists every open log.
func (m *Manager) All() map[TopicPartition]*Log {
	m.mu.Lock()
	defer m.mu.Unlock()
	out := make(map[TopicPartition]*Log, len(m.logs))
	for tp, ml := range m.logs {
		out[tp] = ml.log
	}
	return out
}

// Delete closes and removes the log of tp: it is renamed to
// <topic>-<partition>.<uuid>-delete at once, as Kafka does, and the renamed folder is synced
// and removed in the background (a folder left behind by a crash is removed at the next
// start). A missing log is no error.
//
// A future log of tp (a move between log dirs, future.go) is deleted first, so that a crash
// in between never leaves a future log alone with the -delete folder of its current log,
// which the next start would take for an interrupted swap.
func (m *Manager) Delete(tp TopicPartition) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	for m.waitBusyLocked(tp) {
	}
	delete(m.preferred, tp)
	if err := m.removeFutureLocked(tp); err != nil {
		return err
	}
	ml := m.logs[tp]
	if ml == nil {
		return nil
	}
	delete(m.logs, tp)
	ml.dir.n--
	ml.log.closeNoFlush()
	return m.renameForDeleteLocked(ml.log.Dir(), tp)
}

// renameForDeleteLocked renames a closed log's folder to <topic>-<partition>.<uuid>-delete in
// its log dir and removes it in the background. Caller holds mu.
func (m *Manager) renameForDeleteLocked(from string, tp TopicPartition) error {
	parent := filepath.Dir(from)
	to := filepath.Join(parent, suffixedDirName(tp, DeleteDirSuffix))
	if err := m.fsys.Rename(from, to); err != nil {
		return err
	}
	m.removeInBackground(parent, to)
	return nil
}

// removeInBackground syncs parent (making the rename to -delete durable) and removes folder.
func (m *Manager) removeInBackground(parent, folder string) {
	m.deletes.Add(1)
	go func() {
		defer m.deletes.Done()
		err := errors.Join(m.fsys.SyncDir(parent), m.fsys.RemoveAll(folder))
		if err != nil {
			m.logger.Warn().Err(err).Str("dir", folder).Msg("removing a deleted log; the next start removes what is left")
		}
	}()
}

// Checkpoint flushes every log and writes each folder's recovery-point and log-start
// checkpoint files. The flushes run without the manager's lock (each under its own log's),
// so partitions can be created and deleted meanwhile.
func (m *Manager) Checkpoint() error {
	var errs []error
	logs := m.All()
	m.mu.Lock()
	futures := make([]*Log, 0, len(m.futures))
	for _, ml := range m.futures {
		futures = append(futures, ml.log)
	}
	m.mu.Unlock()
	for tp, l := range logs {
		if err := l.Flush(); err != nil && !errors.Is(err, ErrClosed) {
			errs = append(errs, fmt.Errorf("logstore: flushing %s: %w", LogDirName(tp), err))
		}
	}
	for _, l := range futures {
		if err := l.Flush(); err != nil && !errors.Is(err, ErrClosed) {
			errs = append(errs, fmt.Errorf("logstore: flushing the future log %s: %w", l.Dir(), err))
		}
	}
	m.ckmu.Lock()
	defer m.ckmu.Unlock()
	m.mu.Lock()
	if m.closed {
		m.mu.Unlock()
		return ErrClosed
	}
	files := m.gatherCheckpointsLocked()
	m.mu.Unlock()
	return errors.Join(append(errs, m.writeCheckpoints(files))...)
}

// dirCheckpoints is what one online log dir's checkpoint files are to hold.
type dirCheckpoints struct {
	d                 *logDir
	rps, lss, cleaned map[TopicPartition]int64
}

func (m *Manager) gatherCheckpointsLocked() []dirCheckpoints {
	per := map[*logDir]*dirCheckpoints{}
	var out []dirCheckpoints
	for _, d := range m.dirs {
		if !d.offline {
			per[d] = &dirCheckpoints{d: d, rps: map[TopicPartition]int64{}, lss: map[TopicPartition]int64{}, cleaned: map[TopicPartition]int64{}}
		}
	}
	for tp, ml := range m.logs {
		c := per[ml.dir]
		if c == nil {
			continue
		}
		c.rps[tp] = ml.log.RecoveryPoint()
		c.lss[tp] = ml.log.LogStartOffset()
		if ml.log.Config().compacts() {
			c.cleaned[tp] = ml.log.CleanerCheckpoint()
		}
	}
	// A future log is in another dir than its current log, so its entries share no file
	// with the current's (Kafka's logsInDir holds both kinds). Not the cleaner's: a future
	// log is not cleaned while it is copied.
	for tp, ml := range m.futures {
		if c := per[ml.dir]; c != nil && !ml.log.closed.Load() {
			c.rps[tp] = ml.log.RecoveryPoint()
			c.lss[tp] = ml.log.LogStartOffset()
		}
	}
	for _, d := range m.dirs {
		if c := per[d]; c != nil {
			out = append(out, *c)
		}
	}
	return out
}

// writeCheckpoints writes the files; a dir that cannot take them fails. Caller holds ckmu.
func (m *Manager) writeCheckpoints(files []dirCheckpoints) error {
	var errs []error
	for _, c := range files {
		err := errors.Join(
			writeOffsetsCheckpoint(m.fsys, filepath.Join(c.d.path, RecoveryPointCheckpointFile), c.rps),
			writeOffsetsCheckpoint(m.fsys, filepath.Join(c.d.path, LogStartCheckpointFile), c.lss),
			writeOffsetsCheckpoint(m.fsys, filepath.Join(c.d.path, CleanerCheckpointFile), c.cleaned))
		if err != nil {
			m.failDir(c.d, err)
			errs = append(errs, &StorageError{Dir: c.d.path, Op: "checkpoint", Err: err})
		}
	}
	return errors.Join(errs...)
}

// Close checkpoints, closes every log, writes each folder's clean-shutdown marker and
// releases the folders.
func (m *Manager) Close() error {
	m.ckmu.Lock()
	defer m.ckmu.Unlock()
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.closed {
		return ErrClosed
	}
	m.closed = true
	for len(m.busy) > 0 { // let creations and swaps in progress finish; they see closed
		var busy chan struct{}
		for _, busy = range m.busy {
			break
		}
		m.mu.Unlock()
		<-busy
		m.mu.Lock()
	}
	m.deletes.Wait()
	var errs []error
	failed := map[*logDir]bool{}
	for tp, ml := range m.logs {
		if err := ml.log.Close(); err != nil && !errors.Is(err, ErrClosed) {
			errs = append(errs, fmt.Errorf("logstore: closing %s: %w", LogDirName(tp), err))
			failed[ml.dir] = true
		}
	}
	for tp, ml := range m.futures {
		if err := ml.log.Close(); err != nil && !errors.Is(err, ErrClosed) {
			errs = append(errs, fmt.Errorf("logstore: closing the future log of %s: %w", LogDirName(tp), err))
			failed[ml.dir] = true
		}
	}
	if err := m.writeCheckpoints(m.gatherCheckpointsLocked()); err != nil {
		errs = append(errs, err)
	} else {
		for _, d := range m.dirs {
			if !failed[d] && !d.offline && !d.failed.Load() {
				errs = append(errs, writeFileAtomic(m.fsys, filepath.Join(d.path, CleanShutdownFile), nil))
			}
		}
	}
	for _, d := range m.dirs {
		if d.lock != nil {
			errs = append(errs, d.lock.Close())
		}
	}
	return errors.Join(errs...)
}

// WriteHighWatermarks writes replication-offset-checkpoint (the high watermarks) in each
// folder: the broker owns the values, logstore owns the file format. Each folder gets the
// entries of the logs it holds; others are ignored.
func (m *Manager) WriteHighWatermarks(hw map[TopicPartition]int64) error {
	m.ckmu.Lock()
	defer m.ckmu.Unlock()
	m.mu.Lock()
	per := map[*logDir]map[TopicPartition]int64{}
	var dirs []*logDir
	for _, d := range m.dirs {
		if !d.offline {
			per[d] = map[TopicPartition]int64{}
			dirs = append(dirs, d)
		}
	}
	for tp, off := range hw {
		if ml := m.logs[tp]; ml != nil && per[ml.dir] != nil {
			per[ml.dir][tp] = off
		}
	}
	m.mu.Unlock()
	var errs []error
	for _, d := range dirs {
		if err := writeOffsetsCheckpoint(m.fsys, filepath.Join(d.path, ReplicationCheckpointFile), per[d]); err != nil {
			m.failDir(d, err)
			errs = append(errs, &StorageError{Dir: d.path, Op: "checkpoint", Err: err})
		}
	}
	return errors.Join(errs...)
}

// ReadHighWatermarks reads every folder's replication-offset-checkpoint.
func (m *Manager) ReadHighWatermarks() (map[TopicPartition]int64, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	out := map[TopicPartition]int64{}
	for _, d := range m.dirs {
		hw, err := readOffsetsCheckpoint(m.fsys, filepath.Join(d.path, ReplicationCheckpointFile))
		if err != nil && !errors.Is(err, fs.ErrNotExist) {
			return nil, err
		}
		for tp, o := range hw {
			out[tp] = o
		}
	}
	return out, nil
}
