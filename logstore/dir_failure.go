// Log directory failure (KIP-112, Kafka's LogDirFailureChannel and
// LogManager.handleLogDirFailure).
//
// Contract: an I/O error while appending, rolling, flushing, reading or truncating a log is
// never retried as if it had not happened (after a failed fsync the page cache may have
// dropped the dirty pages: retrying would report success for lost data). The log turns
// offline at once: every later call fails with an error that matches ErrLogDirOffline (Kafka's
// KAFKA_STORAGE_ERROR) and nothing that the failed call wrote becomes visible. The log's dir is
// reported once on Manager.LogDirFailures; the broker then calls HandleLogDirFailure, which
// takes every log of that dir offline and out of the manager. A dir stays offline until the
// process restarts (Kafka's behaviour). Errors that describe data rather than the disk
// (corrupt batches, offsets out of range, a closed log) do not fail the dir.

package logstore

import (
	"errors"
	"fmt"
	"path/filepath"
	"slices"
)

// ErrLogDirOffline is matched (errors.Is) by every error of a log whose log dir has failed.
var ErrLogDirOffline = errors.New("log dir is offline") // KAFKA_STORAGE_ERROR

// StorageError is the I/O error that took a log's dir offline, or the refusal of a call to
// a log that is offline. It matches both ErrLogDirOffline and the underlying error.
type StorageError struct {
	Dir string // the log dir (an entry of log.dirs), or the log's folder when unmanaged
	Op  string // append, roll, flush, read, truncate, checkpoint
	Err error
}

func (e *StorageError) Error() string {
	return fmt.Sprintf("logstore: %s in log dir %s: %v", e.Op, e.Dir, e.Err)
}

func (e *StorageError) Unwrap() []error { return []error{ErrLogDirOffline, e.Err} }

// isDataError reports errors about the data or the caller, not the disk.
func isDataError(err error) bool {
	for _, e := range []error{ErrClosed, ErrCorruptRecord, ErrOffsetOutOfRange, ErrInvalidRecord,
		ErrMessageTooLarge, ErrUnsupportedMagic, ErrOutOfOrderSequence, ErrInvalidProducerEpoch,
		ErrInvalidTimestamp, ErrUnexpectedAppendOffset, ErrLogDirOffline} {
		if errors.Is(err, e) {
			return true
		}
	}
	return false
}

// fail turns an I/O error of op into the log going offline and returns the error to give
// the caller. nil and data errors pass through unchanged.
func (l *Log) fail(op string, err error) error {
	if err == nil || isDataError(err) {
		return err
	}
	if l.closed.Load() {
		return ErrClosed // a concurrent close or delete, not the disk
	}
	se := &StorageError{Dir: l.parentDir(), Op: op, Err: err}
	if !l.offline.Swap(true) {
		l.logger.Error().Err(err).Str("op", op).Str("log_dir", se.Dir).Msg("I/O error: the log is offline")
		if h := l.onIOError; h != nil {
			h(se)
		}
	}
	return se
}

// usable is the check at the start of every call: ErrClosed, or an offline StorageError.
func (l *Log) usable(op string) error {
	if l.closed.Load() {
		return ErrClosed
	}
	if l.offline.Load() {
		return &StorageError{Dir: l.parentDir(), Op: op, Err: errors.New("an earlier I/O error took the log offline")}
	}
	return nil
}

func (l *Log) parentDir() string { return filepath.Dir(l.dirPath()) }

// Offline reports whether an I/O error took the log offline.
func (l *Log) Offline() bool { return l.offline.Load() }

// LogDirFailures delivers each log dir that failed, once (Kafka's LogDirFailureChannel). The
// channel holds one slot per log dir, so sending never blocks and nothing is dropped.
func (m *Manager) LogDirFailures() <-chan string { return m.failures }

// failDir reports d as failed, once. Safe to call with or without m.mu held.
func (m *Manager) failDir(d *logDir, err error) {
	if d.failed.Swap(true) {
		return
	}
	m.logger.Error().Err(err).Str("log_dir", d.path).Msg("log dir failed")
	m.failures <- d.path
}

// onLogIOError is every managed log's onIOError: it fails the log dir that err names (the
// parent of the log's folder at the time, so a log that moved to another dir reports the new
// one). m.dirs does not change after OpenManager, so no lock is needed.
func (m *Manager) onLogIOError(err error) {
	var se *StorageError
	if !errors.As(err, &se) {
		return
	}
	for _, d := range m.dirs {
		if d.path == se.Dir {
			m.failDir(d, err)
		}
	}
}

// HandleLogDirFailure takes dir offline (LogManager.handleLogDirFailure): its logs are
// closed without flushing and leave the manager, its checkpoints are no longer written, and
// new logs go to the other dirs. It returns the partitions that were in dir and the log dirs
// still online; none left means the broker must stop. Idempotent.
func (m *Manager) HandleLogDirFailure(dir string) (offline []TopicPartition, live []string) {
	m.mu.Lock()
	defer m.mu.Unlock()
	dir = filepath.Clean(dir)
	m.waitSwapsLocked()
	for _, d := range m.dirs {
		if d.path != dir {
			continue
		}
		d.failed.Store(true)
		d.offline = true
		// Future logs in d, and those of partitions whose current log is in d, stop: a move
		// into a failed dir is abandoned, and an offline partition moves nowhere (Kafka's
		// handleLogDirFailure stops their alter-log-dirs fetchers). A future log elsewhere
		// stays on disk; its move resumes after a restart.
		for tp, fl := range m.futures {
			if ml := m.logs[tp]; fl.dir == d || ml != nil && ml.dir == d {
				if fl.dir == d {
					fl.log.offline.Store(true)
				} else {
					fl.dir.n--
				}
				fl.log.closeNoFlush()
				delete(m.futures, tp)
			}
		}
		for tp, ml := range m.logs {
			if ml.dir == d {
				ml.log.offline.Store(true)
				ml.log.closeNoFlush()
				delete(m.logs, tp)
				offline = append(offline, tp)
			}
		}
		d.n = 0
		if d.lock != nil {
			_ = d.lock.Close()
			d.lock = nil
		}
	}
	slices.SortFunc(offline, func(a, b TopicPartition) int {
		if a.Topic != b.Topic {
			if a.Topic < b.Topic {
				return -1
			}
			return 1
		}
		return int(a.Partition - b.Partition)
	})
	return offline, m.liveDirsLocked()
}

// waitSwapsLocked waits until no log of the manager is busy: a swap or a future log's
// creation finishes first, so the maps say where each log is. Creations of new logs are not
// waited for (they look at the dir's state when they finish). Caller holds mu.
func (m *Manager) waitSwapsLocked() {
	for {
		var busy chan struct{}
		for tp, ch := range m.busy {
			if m.logs[tp] != nil {
				busy = ch
				break
			}
		}
		if busy == nil {
			return
		}
		m.mu.Unlock()
		<-busy
		m.mu.Lock()
	}
}

// LiveLogDirs lists the log dirs that have not been taken offline.
func (m *Manager) LiveLogDirs() []string {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.liveDirsLocked()
}

func (m *Manager) liveDirsLocked() []string {
	var out []string
	for _, d := range m.dirs {
		if !d.offline {
			out = append(out, d.path)
		}
	}
	return out
}
