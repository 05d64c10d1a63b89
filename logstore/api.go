package logstore

// API contract: these signatures are what broker/ uses. The implementation may add to them but
// must not change them without telling the lead.

import (
	"errors"
	"io/fs"
	"os"

	"github.com/rs/zerolog"
)

// FS is the small filesystem interface every byte of logstore IO goes through (pebble's vfs).
type FS interface {
	OpenFile(name string, flag int, perm os.FileMode) (File, error)
	Remove(name string) error
	RemoveAll(path string) error
	Rename(oldpath, newpath string) error
	MkdirAll(path string, perm os.FileMode) error
	ReadDir(dir string) ([]fs.DirEntry, error)
	Stat(name string) (fs.FileInfo, error)
	// SyncDir makes renames and creations inside dir durable.
	SyncDir(dir string) error
}

// File is an open file of an FS.
type File interface {
	ReadAt(p []byte, off int64) (int, error)
	Write(p []byte) (int, error) // appends at the end for files opened with O_APPEND
	WriteAt(p []byte, off int64) (int, error)
	Truncate(size int64) error
	Sync() error
	Size() (int64, error)
	Close() error
}

// OSFS returns the FS of the operating system.
func OSFS() FS { panic("unimplemented") }

// TopicPartition names one partition.
type TopicPartition struct {
	Topic     string
	Partition int32
}

// Config is one log's configuration (Kafka's LogConfig, in Kafka's units).
type Config struct {
	SegmentBytes          int64  // segment.bytes
	SegmentMs             int64  // segment.ms
	RetentionMs           int64  // retention.ms; -1 keeps forever
	RetentionBytes        int64  // retention.bytes; -1 keeps all
	IndexIntervalBytes    int    // index.interval.bytes
	MaxIndexBytes         int    // segment.index.bytes
	MaxMessageBytes       int    // max.message.bytes: the largest batch accepted
	MessageTimestampType  string // message.timestamp.type: CreateTime or LogAppendTime
	FlushIntervalMessages int64  // flush.messages: fsync after this many messages
	CleanupPolicy         string // cleanup.policy: delete, compact or "compact,delete"
}

// Errors returned by appends and reads; broker maps them to Kafka error codes.
var (
	ErrCorruptRecord        = errors.New("corrupt record batch")                         // CORRUPT_MESSAGE
	ErrMessageTooLarge      = errors.New("record batch larger than max.message.bytes")   // MESSAGE_TOO_LARGE
	ErrUnsupportedMagic     = errors.New("record batch magic is not 2")                  // UNSUPPORTED_FOR_MESSAGE_FORMAT
	ErrInvalidRecord        = errors.New("invalid record")                               // INVALID_RECORD
	ErrOutOfOrderSequence   = errors.New("out of order sequence number")                 // OUT_OF_ORDER_SEQUENCE_NUMBER
	ErrInvalidProducerEpoch = errors.New("producer epoch is older than the current one") // INVALID_PRODUCER_EPOCH
	ErrOffsetOutOfRange     = errors.New("offset out of range")                          // OFFSET_OUT_OF_RANGE
	ErrInvalidTimestamp     = errors.New("invalid timestamp")                            // INVALID_TIMESTAMP
)

// AppendResult describes one successful append.
type AppendResult struct {
	FirstOffset    int64 // offset of the first record appended
	LastOffset     int64 // offset of the last record appended
	MaxTimestamp   int64
	LogAppendTime  int64 // -1 unless message.timestamp.type is LogAppendTime
	LogStartOffset int64
	NumRecords     int
	// Duplicate is true when an idempotent producer resent a batch the log already has: nothing
	// was appended and FirstOffset/LastOffset are those of the original batch.
	Duplicate bool
}

// Log is one partition's log: a directory of segments. Its methods are safe for concurrent
// use: appends, truncations and retention are serialised; reads may run beside an append.
// It owns no goroutines.
type Log struct{}

// Open opens (creating if needed) the log in dir, recovering every segment at or after
// recoveryPoint: a torn or corrupt tail is truncated to the last valid batch and damaged
// indexes are rebuilt. Producer state and the leader-epoch cache are rebuilt as well.
func Open(fsys FS, dir string, tp TopicPartition, cfg Config, recoveryPoint int64, logger zerolog.Logger) (*Log, error) {
	panic("unimplemented")
}

// AppendAsLeader validates records (a sequence of v2 record batches), checks idempotent
// producer sequences, assigns offsets from the log end offset, stamps leaderEpoch into each
// batch's partitionLeaderEpoch, and appends the bytes as they came with only those fields
// (and the CRC they cover) rewritten.
func (l *Log) AppendAsLeader(records []byte, leaderEpoch int32, nowMs int64) (AppendResult, error) {
	panic("unimplemented")
}

// AppendAsFollower appends batches copied from the leader, keeping their offsets and epochs.
func (l *Log) AppendAsFollower(records []byte) (AppendResult, error) { panic("unimplemented") }

// Read returns whole batches starting with the one holding offset, at most maxBytes of them
// (but at least one whole batch when minOneBatch, KIP-74), none starting at or past maxOffset.
// An offset below the log start or above the log end is ErrOffsetOutOfRange; offset equal to
// the log end returns nothing.
func (l *Log) Read(offset int64, maxBytes int, maxOffset int64, minOneBatch bool) ([]byte, error) {
	panic("unimplemented")
}

// LogStartOffset is the first offset still in the log.
func (l *Log) LogStartOffset() int64 { panic("unimplemented") }

// LogEndOffset is the offset the next record will get.
func (l *Log) LogEndOffset() int64 { panic("unimplemented") }

// FetchOffsetByTimestamp finds the first offset whose timestamp is at or after ts (ListOffsets).
func (l *Log) FetchOffsetByTimestamp(ts int64) (offset int64, timestamp int64, found bool, err error) {
	panic("unimplemented")
}

// TruncateTo removes every record at or after offset (a follower after a leader change).
func (l *Log) TruncateTo(offset int64) error { panic("unimplemented") }

// TruncateFullyAndStartAt empties the log and makes offset its start and end.
func (l *Log) TruncateFullyAndStartAt(offset int64) error { panic("unimplemented") }

// IncrementLogStartOffset moves the log start forward (DeleteRecords, or a follower copying
// the leader's), deleting segments wholly below it.
func (l *Log) IncrementLogStartOffset(offset int64) error { panic("unimplemented") }

// ApplyRetention deletes whole segments past retention.ms or over retention.bytes, never the
// active segment and never one holding offsets at or above highWatermark; it rolls the active
// segment when segment.ms has passed. It returns how many segments it deleted.
func (l *Log) ApplyRetention(nowMs int64, highWatermark int64) (int, error) { panic("unimplemented") }

// Flush fsyncs everything up to the log end and moves the recovery point there.
func (l *Log) Flush() error { panic("unimplemented") }

// RecoveryPoint is the offset below which everything is known to be on disk.
func (l *Log) RecoveryPoint() int64 { panic("unimplemented") }

// SetConfig applies a changed topic configuration.
func (l *Log) SetConfig(cfg Config) { panic("unimplemented") }

// Size is the total bytes of all segments.
func (l *Log) Size() int64 { panic("unimplemented") }

// Dir is the log's directory.
func (l *Log) Dir() string { panic("unimplemented") }

// AssignEpochStartOffset records in the leader-epoch cache (and its checkpoint file) that
// epoch begins at startOffset; a leader calls it when it takes leadership.
func (l *Log) AssignEpochStartOffset(epoch int32, startOffset int64) error { panic("unimplemented") }

// LatestEpoch is the newest epoch in the leader-epoch cache (ok false when it is empty).
func (l *Log) LatestEpoch() (epoch int32, ok bool) { panic("unimplemented") }

// EndOffsetForEpoch answers OffsetsForLeaderEpoch (KIP-101/279): the largest epoch at or below
// the one asked for, and the start offset of the next larger epoch (or the log end offset when
// it is the latest). Unknown: (-1, -1).
func (l *Log) EndOffsetForEpoch(epoch int32) (int32, int64) { panic("unimplemented") }

// Close flushes and closes the files.
func (l *Log) Close() error { panic("unimplemented") }

// Manager owns the logs of every log.dirs folder and the per-folder checkpoint files
// (recovery-point-offset-checkpoint, log-start-offset-checkpoint), as Kafka's LogManager.
// Safe for concurrent use; owns no goroutines: the broker calls Checkpoint and retention on
// its own schedule.
type Manager struct{}

// OpenManager locks and scans dirs, recovering every partition folder found.
func OpenManager(fsys FS, dirs []string, defaults Config, logger zerolog.Logger) (*Manager, error) {
	panic("unimplemented")
}

// Get returns the log of tp, or nil.
func (m *Manager) Get(tp TopicPartition) *Log { panic("unimplemented") }

// GetOrCreate returns the log of tp, creating it in the folder with the fewest partitions.
func (m *Manager) GetOrCreate(tp TopicPartition, cfg Config) (*Log, error) { panic("unimplemented") }

// All lists every open log.
func (m *Manager) All() map[TopicPartition]*Log { panic("unimplemented") }

// Delete closes and removes the log of tp (renaming it to a -delete folder first, as Kafka).
func (m *Manager) Delete(tp TopicPartition) error { panic("unimplemented") }

// Checkpoint flushes every log and writes each folder's checkpoint files.
func (m *Manager) Checkpoint() error { panic("unimplemented") }

// Close checkpoints, closes every log and releases the folders.
func (m *Manager) Close() error { panic("unimplemented") }

// ReplicationCheckpoint reads and writes replication-offset-checkpoint (the high watermarks)
// in each folder: the broker owns the values, logstore owns the file format.
func (m *Manager) WriteHighWatermarks(hw map[TopicPartition]int64) error { panic("unimplemented") }

// ReadHighWatermarks reads every folder's replication-offset-checkpoint.
func (m *Manager) ReadHighWatermarks() (map[TopicPartition]int64, error) { panic("unimplemented") }
