// Opening the log dirs (Kafka's LogManager.loadLogs): every dir is locked and scanned first,
// then a future log left alone by a crash during a move is settled, then the logs are opened.

package logstore

import (
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"github.com/rs/zerolog"
)

// Suffixes of partition folders that are not (or not yet) the partition's log, as Kafka's
// UnifiedLog names them: <topic>-<partition>.<uniqueId><suffix>.
const (
	DeleteDirSuffix = "-delete" // a deleted log, removed in the background and at the next open
	FutureDirSuffix = "-future" // a copy being made by a move to this log dir (future.go)
	StrayDirSuffix  = "-stray"
)

// suffixedDirName is <topic>-<partition>.<uniqueId><suffix>, uniqueId being 32 hex digits
// (Kafka: a random UUID without its dashes).
func suffixedDirName(tp TopicPartition, suffix string) string {
	var id [16]byte
	_, _ = rand.Read(id[:])
	return LogDirName(tp) + "." + hex.EncodeToString(id[:]) + suffix
}

// parseSuffixedDirName reads the partition of a folder named by suffixedDirName.
func parseSuffixedDirName(name, suffix string) (TopicPartition, bool) {
	base, ok := strings.CutSuffix(name, suffix)
	if !ok {
		return TopicPartition{}, false
	}
	i := strings.LastIndexByte(base, '.')
	if i <= 0 {
		return TopicPartition{}, false
	}
	return ParseLogDirName(base[:i])
}

// OpenManager locks and scans dirs, recovering every partition folder found. A log dir that
// holds .kafka_cleanshutdown (written by Close) skips recovery; its marker is removed.
// Folders ending in -delete are removed. Folders ending in -future are loaded as future logs
// (future.go), whose moves resume when the broker hosts the partition again; a future log
// whose current log is gone while a -delete folder of the partition remains is what a crash
// in the middle of a move's swap leaves (the current log was renamed for deletion, the
// future not yet renamed into place), and it becomes the partition's log. A future log
// without its current log otherwise is left on disk and not loaded, with a warning: it is
// an incomplete copy, and the current log may be in a dir that was taken out of log.dirs.
func OpenManager(fsys FS, dirs []string, defaults Config, logger zerolog.Logger) (*Manager, error) {
	m := &Manager{fsys: fsys, logger: logger, defaults: defaults, logs: map[TopicPartition]*managedLog{},
		futures: map[TopicPartition]*managedLog{}, preferred: map[TopicPartition]*logDir{},
		busy: map[TopicPartition]chan struct{}{}, failures: make(chan string, len(dirs))}
	var scans []*dirScan
	for _, d := range dirs {
		s, err := m.scanDir(filepath.Clean(d))
		if err != nil {
			m.abort()
			return nil, err
		}
		scans = append(scans, s)
	}
	if err := m.settleFutures(scans); err != nil {
		m.abort()
		return nil, err
	}
	for _, s := range scans {
		if err := m.loadDir(s); err != nil {
			m.abort()
			return nil, err
		}
	}
	for tp := range m.futures {
		// A crash may have cost the current log a tail that the future log had copied, and
		// the current log may get other batches at those offsets: the copy resumes from no
		// further than the current log's end as recovered.
		l := m.logs[tp].log
		l.noteTruncation(l.LogEndOffset())
	}
	return m, nil
}

func (m *Manager) abort() {
	for _, ml := range m.logs {
		ml.log.closeNoFlush()
	}
	for _, ml := range m.futures {
		ml.log.closeNoFlush()
	}
	for _, d := range m.dirs {
		if d.lock != nil {
			d.lock.Close()
		}
	}
}

// dirScan is what scanDir found in one log dir.
type dirScan struct {
	d                 *logDir
	clean             bool // .kafka_cleanshutdown was there
	rps, lss, cleaned map[TopicPartition]int64
	current, future   map[TopicPartition]string // partition -> folder
	deleted           []string                  // -delete folders
	deletedTPs        map[TopicPartition]bool
}

// scanDir locks a log dir and lists its partition folders and checkpoints.
func (m *Manager) scanDir(path string) (*dirScan, error) {
	if err := m.fsys.MkdirAll(path, 0o755); err != nil {
		return nil, err
	}
	d := &logDir{path: path, abs: path}
	if abs, err := filepath.Abs(path); err == nil {
		d.abs = abs
	}
	var err error
	if lk, ok := m.fsys.(Locker); ok {
		d.lock, err = lk.Lock(filepath.Join(path, LockFile))
	} else {
		d.lock, err = m.fsys.OpenFile(filepath.Join(path, LockFile), os.O_RDWR|os.O_CREATE, 0o644)
	}
	if err != nil {
		return nil, err
	}
	m.dirs = append(m.dirs, d)
	s := &dirScan{d: d, current: map[TopicPartition]string{}, future: map[TopicPartition]string{}, deletedTPs: map[TopicPartition]bool{}}
	_, err = m.fsys.Stat(filepath.Join(path, CleanShutdownFile))
	s.clean = err == nil
	if s.rps, err = readOffsetsCheckpoint(m.fsys, filepath.Join(path, RecoveryPointCheckpointFile)); err != nil {
		return nil, err
	}
	if s.lss, err = readOffsetsCheckpoint(m.fsys, filepath.Join(path, LogStartCheckpointFile)); err != nil {
		return nil, err
	}
	if s.cleaned, err = readOffsetsCheckpoint(m.fsys, filepath.Join(path, CleanerCheckpointFile)); err != nil {
		m.logger.Warn().Err(err).Str("dir", path).Msg("ignoring an unreadable cleaner checkpoint")
		s.cleaned = nil
	}
	ents, err := m.fsys.ReadDir(path)
	if err != nil {
		return nil, err
	}
	for _, e := range ents {
		name := e.Name()
		if !e.IsDir() {
			continue
		}
		full := filepath.Join(path, name)
		switch {
		case strings.HasSuffix(name, DeleteDirSuffix):
			s.deleted = append(s.deleted, full)
			if tp, ok := parseSuffixedDirName(name, DeleteDirSuffix); ok {
				s.deletedTPs[tp] = true
			}
		case strings.HasSuffix(name, FutureDirSuffix):
			tp, ok := parseSuffixedDirName(name, FutureDirSuffix)
			if !ok {
				m.logger.Warn().Str("dir", full).Msg("skipping a folder that is not a partition log")
				continue
			}
			if other, dup := s.future[tp]; dup {
				return nil, fmt.Errorf("logstore: duplicate future log directories for %s: %s and %s", LogDirName(tp), other, full)
			}
			s.future[tp] = full
		default:
			tp, ok := ParseLogDirName(name)
			if !ok || strings.HasSuffix(name, StrayDirSuffix) {
				m.logger.Warn().Str("dir", full).Msg("skipping a folder that is not a partition log")
				continue
			}
			s.current[tp] = full
		}
	}
	return s, nil
}

// settleFutures checks the partitions' folders across dirs: one current log each, at most one
// future log each, in another dir than the current; and promotes a future log that a crash
// during a swap left without its current log (see OpenManager).
func (m *Manager) settleFutures(scans []*dirScan) error {
	current := map[TopicPartition]string{}
	deleted := map[TopicPartition]bool{}
	for _, s := range scans {
		for tp, folder := range s.current {
			if other, dup := current[tp]; dup {
				return fmt.Errorf("logstore: duplicate log directories for %s: %s and %s", LogDirName(tp), other, folder)
			}
			current[tp] = folder
		}
		for tp := range s.deletedTPs {
			deleted[tp] = true
		}
	}
	futures := map[TopicPartition]string{}
	for _, s := range scans {
		for tp, folder := range s.future {
			if other, dup := futures[tp]; dup {
				return fmt.Errorf("logstore: duplicate future log directories for %s: %s and %s", LogDirName(tp), other, folder)
			}
			futures[tp] = folder
			cur, ok := current[tp]
			switch {
			case ok && filepath.Dir(cur) == s.d.path:
				m.logger.Warn().Str("dir", folder).Msg("skipping a future log in the dir of its current log")
				delete(s.future, tp)
			case ok:
			case deleted[tp]:
				to := filepath.Join(s.d.path, LogDirName(tp))
				m.logger.Warn().Str("future", folder).Str("to", to).
					Msg("a move was interrupted after its current log was renamed for deletion: the future log, complete at that point, becomes the partition's log")
				if err := m.fsys.Rename(folder, to); err != nil {
					return err
				}
				if err := m.fsys.SyncDir(s.d.path); err != nil {
					return err
				}
				delete(s.future, tp)
				s.current[tp] = to
				current[tp] = to
			default:
				m.logger.Warn().Str("dir", folder).
					Msg("skipping a future log whose current log is in no log dir: an incomplete copy, left on disk")
				delete(s.future, tp)
			}
		}
	}
	return nil
}

// loadDir removes the dir's -delete folders and opens its logs.
func (m *Manager) loadDir(s *dirScan) error {
	for _, full := range s.deleted {
		m.logger.Info().Str("dir", full).Msg("removing a deleted log")
		if err := m.fsys.RemoveAll(full); err != nil {
			return err
		}
	}
	open := func(tp TopicPartition, full string) (*Log, error) {
		opts := openOptions{recoveryPoint: 0, logStart: -1, cleanShutdown: s.clean}
		if rp, ok := s.rps[tp]; ok {
			opts.recoveryPoint = rp
		}
		if ls, ok := s.lss[tp]; ok {
			opts.logStart = ls
		}
		opts.firstDirty = s.cleaned[tp]
		l, err := openLog(m.fsys, full, tp, m.defaults, opts, m.logger)
		if err != nil {
			return nil, fmt.Errorf("logstore: opening %s: %w", full, err)
		}
		l.onIOError = m.onLogIOError
		return l, nil
	}
	d := s.d
	for tp, full := range s.current {
		l, err := open(tp, full)
		if err != nil {
			return err
		}
		m.logs[tp] = &managedLog{log: l, dir: d}
		d.n++
	}
	for tp, full := range s.future {
		l, err := open(tp, full)
		if err != nil {
			return err
		}
		m.futures[tp] = &managedLog{log: l, dir: d}
		d.n++
		m.logger.Info().Str("dir", full).Msg("loaded a future log: its move resumes when the partition is hosted")
	}
	if s.clean {
		if err := m.fsys.Remove(filepath.Join(d.path, CleanShutdownFile)); err != nil {
			return err
		}
		if err := m.fsys.SyncDir(d.path); err != nil {
			return err
		}
	}
	m.logger.Info().Str("dir", d.path).Int("logs", d.n).Bool("clean_shutdown", s.clean).Msg("loaded log dir")
	return nil
}
