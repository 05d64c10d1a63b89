package logstore

import (
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
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

	mu     sync.Mutex
	dirs   []*logDir
	logs   map[TopicPartition]*managedLog
	closed bool

	failures chan string // LogDirFailures: one slot per dir, each dir sent once
}

type logDir struct {
	path    string
	lock    io.Closer
	n       int         // logs in it
	failed  atomic.Bool // reported on failures (set without m.mu: a log's I/O error hook)
	offline bool        // taken offline by HandleLogDirFailure; guarded by m.mu
}

type managedLog struct {
	log *Log
	dir *logDir
}

// OpenManager locks and scans dirs, recovering every partition folder found. A log dir that
// holds .kafka_cleanshutdown (written by Close) skips recovery; its marker is removed.
// Folders ending in -delete are removed.
func OpenManager(fsys FS, dirs []string, defaults Config, logger zerolog.Logger) (*Manager, error) {
	m := &Manager{fsys: fsys, logger: logger, defaults: defaults, logs: map[TopicPartition]*managedLog{},
		failures: make(chan string, len(dirs))}
	for _, d := range dirs {
		if err := m.openDir(filepath.Clean(d)); err != nil {
			m.abort()
			return nil, err
		}
	}
	return m, nil
}

func (m *Manager) abort() {
	for _, ml := range m.logs {
		ml.log.closeNoFlush()
	}
	for _, d := range m.dirs {
		if d.lock != nil {
			d.lock.Close()
		}
	}
}

func (m *Manager) openDir(path string) error {
	if err := m.fsys.MkdirAll(path, 0o755); err != nil {
		return err
	}
	d := &logDir{path: path}
	var err error
	if lk, ok := m.fsys.(Locker); ok {
		d.lock, err = lk.Lock(filepath.Join(path, LockFile))
	} else {
		d.lock, err = m.fsys.OpenFile(filepath.Join(path, LockFile), os.O_RDWR|os.O_CREATE, 0o644)
	}
	if err != nil {
		return err
	}
	m.dirs = append(m.dirs, d)
	markerPath := filepath.Join(path, CleanShutdownFile)
	_, err = m.fsys.Stat(markerPath)
	clean := err == nil
	rps, err := readOffsetsCheckpoint(m.fsys, filepath.Join(path, RecoveryPointCheckpointFile))
	if err != nil {
		return err
	}
	lss, err := readOffsetsCheckpoint(m.fsys, filepath.Join(path, LogStartCheckpointFile))
	if err != nil {
		return err
	}
	cleaned, err := readOffsetsCheckpoint(m.fsys, filepath.Join(path, CleanerCheckpointFile))
	if err != nil {
		m.logger.Warn().Err(err).Str("dir", path).Msg("ignoring an unreadable cleaner checkpoint")
		cleaned = nil
	}
	ents, err := m.fsys.ReadDir(path)
	if err != nil {
		return err
	}
	for _, e := range ents {
		name := e.Name()
		if !e.IsDir() {
			continue
		}
		full := filepath.Join(path, name)
		if strings.HasSuffix(name, "-delete") {
			m.logger.Info().Str("dir", full).Msg("removing a deleted log")
			if err := m.fsys.RemoveAll(full); err != nil {
				return err
			}
			continue
		}
		tp, ok := ParseLogDirName(name)
		if !ok || strings.HasSuffix(name, "-future") || strings.HasSuffix(name, "-stray") {
			m.logger.Warn().Str("dir", full).Msg("skipping a folder that is not a partition log")
			continue
		}
		if other := m.logs[tp]; other != nil {
			return fmt.Errorf("logstore: duplicate log directories for %s: %s and %s", LogDirName(tp), other.log.Dir(), full)
		}
		opts := openOptions{recoveryPoint: 0, logStart: -1, cleanShutdown: clean}
		if rp, ok := rps[tp]; ok {
			opts.recoveryPoint = rp
		}
		if ls, ok := lss[tp]; ok {
			opts.logStart = ls
		}
		opts.firstDirty = cleaned[tp]
		l, err := openLog(m.fsys, full, tp, m.defaults, opts, m.logger)
		if err != nil {
			return fmt.Errorf("logstore: opening %s: %w", full, err)
		}
		l.onIOError = m.ioErrorHook(d)
		m.logs[tp] = &managedLog{log: l, dir: d}
		d.n++
	}
	if clean {
		if err := m.fsys.Remove(markerPath); err != nil {
			return err
		}
		if err := m.fsys.SyncDir(path); err != nil {
			return err
		}
	}
	m.logger.Info().Str("dir", path).Int("logs", d.n).Bool("clean_shutdown", clean).Msg("loaded log dir")
	return nil
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
// An existing log keeps its configuration (use SetConfig to change it).
func (m *Manager) GetOrCreate(tp TopicPartition, cfg Config) (*Log, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.closed {
		return nil, ErrClosed
	}
	if ml := m.logs[tp]; ml != nil {
		return ml.log, nil
	}
	if len(m.dirs) == 0 {
		return nil, errors.New("logstore: no log dirs")
	}
	if tp.Topic == "" || tp.Partition < 0 || strings.ContainsAny(tp.Topic, "/\\") {
		return nil, fmt.Errorf("logstore: invalid partition %q %d", tp.Topic, tp.Partition)
	}
	var d *logDir
	for _, x := range m.dirs {
		if !x.offline && !x.failed.Load() && (d == nil || x.n < d.n) {
			d = x
		}
	}
	if d == nil {
		return nil, &StorageError{Dir: strings.Join(m.dirPaths(), ","), Op: "create", Err: errors.New("every log dir is offline")}
	}
	full := filepath.Join(d.path, LogDirName(tp))
	if err := m.fsys.MkdirAll(full, 0o755); err != nil {
		m.failDir(d, err)
		return nil, &StorageError{Dir: d.path, Op: "create", Err: err}
	}
	if err := m.fsys.SyncDir(d.path); err != nil {
		m.failDir(d, err)
		return nil, &StorageError{Dir: d.path, Op: "create", Err: err}
	}
	l, err := openLog(m.fsys, full, tp, cfg, openOptions{logStart: -1}, m.logger)
	if err != nil {
		m.failDir(d, err)
		return nil, &StorageError{Dir: d.path, Op: "create", Err: err}
	}
	l.onIOError = m.ioErrorHook(d)
	m.logs[tp] = &managedLog{log: l, dir: d}
	d.n++
	return l, nil
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
// <topic>-<partition>.<uuid>-delete first, as Kafka does, then removed. A missing log is no
// error.
func (m *Manager) Delete(tp TopicPartition) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	ml := m.logs[tp]
	if ml == nil {
		return nil
	}
	delete(m.logs, tp)
	ml.dir.n--
	ml.log.closeNoFlush()
	var id [16]byte
	rand.Read(id[:])
	from := ml.log.Dir()
	to := fmt.Sprintf("%s.%s-delete", from, hex.EncodeToString(id[:]))
	if err := m.fsys.Rename(from, to); err != nil {
		return err
	}
	if err := m.fsys.SyncDir(ml.dir.path); err != nil {
		return err
	}
	return m.fsys.RemoveAll(to)
}

// Checkpoint flushes every log and writes each folder's recovery-point and log-start
// checkpoint files.
func (m *Manager) Checkpoint() error {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.closed {
		return ErrClosed
	}
	return m.checkpointLocked(true)
}

func (m *Manager) checkpointLocked(flush bool) error {
	var errs []error
	rps := map[*logDir]map[TopicPartition]int64{}
	lss := map[*logDir]map[TopicPartition]int64{}
	cps := map[*logDir]map[TopicPartition]int64{}
	for _, d := range m.dirs {
		rps[d], lss[d], cps[d] = map[TopicPartition]int64{}, map[TopicPartition]int64{}, map[TopicPartition]int64{}
	}
	for tp, ml := range m.logs {
		if flush {
			if err := ml.log.Flush(); err != nil && !errors.Is(err, ErrClosed) {
				errs = append(errs, fmt.Errorf("logstore: flushing %s: %w", LogDirName(tp), err))
			}
		}
		rps[ml.dir][tp] = ml.log.RecoveryPoint()
		lss[ml.dir][tp] = ml.log.LogStartOffset()
		if ml.log.Config().compacts() {
			cps[ml.dir][tp] = ml.log.CleanerCheckpoint()
		}
	}
	for _, d := range m.dirs {
		if d.offline {
			continue
		}
		err := errors.Join(
			writeOffsetsCheckpoint(m.fsys, filepath.Join(d.path, RecoveryPointCheckpointFile), rps[d]),
			writeOffsetsCheckpoint(m.fsys, filepath.Join(d.path, LogStartCheckpointFile), lss[d]),
			writeOffsetsCheckpoint(m.fsys, filepath.Join(d.path, CleanerCheckpointFile), cps[d]))
		if err != nil {
			m.failDir(d, err)
			errs = append(errs, &StorageError{Dir: d.path, Op: "checkpoint", Err: err})
		}
	}
	return errors.Join(errs...)
}

// Close checkpoints, closes every log, writes each folder's clean-shutdown marker and
// releases the folders.
func (m *Manager) Close() error {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.closed {
		return ErrClosed
	}
	m.closed = true
	var errs []error
	failed := map[*logDir]bool{}
	for tp, ml := range m.logs {
		if err := ml.log.Close(); err != nil && !errors.Is(err, ErrClosed) {
			errs = append(errs, fmt.Errorf("logstore: closing %s: %w", LogDirName(tp), err))
			failed[ml.dir] = true
		}
	}
	if err := m.checkpointLocked(false); err != nil {
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
	m.mu.Lock()
	defer m.mu.Unlock()
	per := map[*logDir]map[TopicPartition]int64{}
	for _, d := range m.dirs {
		per[d] = map[TopicPartition]int64{}
	}
	for tp, off := range hw {
		if ml := m.logs[tp]; ml != nil {
			per[ml.dir][tp] = off
		}
	}
	var errs []error
	for _, d := range m.dirs {
		if d.offline {
			continue
		}
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
