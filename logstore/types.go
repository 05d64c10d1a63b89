package logstore

import (
	"errors"
	"strings"

	"github.com/klassik/klassik/record"
)

// TopicPartition names one partition.
type TopicPartition struct {
	Topic     string
	Partition int32
}

// Config is one log's configuration (Kafka's LogConfig, in Kafka's units). A zero field
// takes Kafka's default (see DefaultConfig); retention fields use -1 for "unlimited".
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
	FlushMs               int64  // flush.ms: fsync when this long has passed since the last flush (Log.FlushIfDue)
	CleanupPolicy         string // cleanup.policy: delete, compact or "compact,delete"

	// Compaction (cleanup.policy containing compact). As elsewhere a zero field takes Kafka's
	// default; since 0 is a meaningful value for these, a negative one stands for 0.
	DeleteRetentionMs      int64   // delete.retention.ms: how long tombstones stay once cleaned (1 day)
	MinCleanableDirtyRatio float64 // min.cleanable.dirty.ratio: dirty share of the log that starts a clean (0.5)
	MinCompactionLagMs     int64   // min.compaction.lag.ms: segments newer than this are not cleaned (0)
}

// DefaultConfig is Kafka's default topic configuration.
func DefaultConfig() Config {
	return Config{
		SegmentBytes:          1 << 30,
		SegmentMs:             7 * 24 * 60 * 60 * 1000,
		RetentionMs:           7 * 24 * 60 * 60 * 1000,
		RetentionBytes:        -1,
		IndexIntervalBytes:    4096,
		MaxIndexBytes:         10 << 20,
		MaxMessageBytes:       1048588,
		MessageTimestampType:  "CreateTime",
		FlushIntervalMessages: 1<<63 - 1,
		FlushMs:               1<<63 - 1,
		CleanupPolicy:         "delete",

		DeleteRetentionMs:      24 * 60 * 60 * 1000,
		MinCleanableDirtyRatio: 0.5,
	}
}

// withDefaults fills zero fields with Kafka's defaults.
func (c Config) withDefaults() Config {
	d := DefaultConfig()
	if c.SegmentBytes <= 0 {
		c.SegmentBytes = d.SegmentBytes
	}
	if c.SegmentMs <= 0 {
		c.SegmentMs = d.SegmentMs
	}
	if c.RetentionMs == 0 {
		c.RetentionMs = d.RetentionMs
	}
	if c.RetentionBytes == 0 {
		c.RetentionBytes = d.RetentionBytes
	}
	if c.IndexIntervalBytes <= 0 {
		c.IndexIntervalBytes = d.IndexIntervalBytes
	}
	if c.MaxIndexBytes < offsetEntrySize*4 {
		c.MaxIndexBytes = d.MaxIndexBytes
	}
	if c.MaxMessageBytes <= 0 {
		c.MaxMessageBytes = d.MaxMessageBytes
	}
	if c.MessageTimestampType == "" {
		c.MessageTimestampType = d.MessageTimestampType
	}
	if c.FlushIntervalMessages <= 0 {
		c.FlushIntervalMessages = d.FlushIntervalMessages
	}
	if c.FlushMs <= 0 {
		c.FlushMs = d.FlushMs
	}
	if c.CleanupPolicy == "" {
		c.CleanupPolicy = d.CleanupPolicy
	}
	switch {
	case c.DeleteRetentionMs == 0:
		c.DeleteRetentionMs = d.DeleteRetentionMs
	case c.DeleteRetentionMs < 0:
		c.DeleteRetentionMs = 0
	}
	switch {
	case c.MinCleanableDirtyRatio == 0:
		c.MinCleanableDirtyRatio = d.MinCleanableDirtyRatio
	case c.MinCleanableDirtyRatio < 0:
		c.MinCleanableDirtyRatio = 0
	}
	c.MinCompactionLagMs = max(c.MinCompactionLagMs, 0)
	return c
}

// compacts reports whether cleanup.policy holds "compact" (compact or "compact,delete").
func (c Config) compacts() bool {
	for _, p := range strings.Split(c.CleanupPolicy, ",") {
		if strings.TrimSpace(p) == "compact" {
			return true
		}
	}
	return false
}

// Compacts reports whether the log's cleanup.policy asks for compaction.
func (c Config) Compacts() bool { return c.compacts() }

func (c Config) deletes() bool {
	for _, p := range []string{"delete", "compact,delete", "delete,compact"} {
		if c.CleanupPolicy == p {
			return true
		}
	}
	return false
}

// Errors returned by appends and reads; broker maps them to Kafka error codes.
var (
	ErrCorruptRecord        = record.ErrCorrupt                                          // CORRUPT_MESSAGE
	ErrMessageTooLarge      = errors.New("record batch larger than max.message.bytes")   // MESSAGE_TOO_LARGE
	ErrUnsupportedMagic     = record.ErrUnsupportedMagic                                 // UNSUPPORTED_FOR_MESSAGE_FORMAT
	ErrInvalidRecord        = errors.New("invalid record")                               // INVALID_RECORD
	ErrOutOfOrderSequence   = errors.New("out of order sequence number")                 // OUT_OF_ORDER_SEQUENCE_NUMBER
	ErrInvalidProducerEpoch = errors.New("producer epoch is older than the current one") // INVALID_PRODUCER_EPOCH
	ErrOffsetOutOfRange     = errors.New("offset out of range")                          // OFFSET_OUT_OF_RANGE
	ErrInvalidTimestamp     = errors.New("invalid timestamp")                            // INVALID_TIMESTAMP
	ErrInvalidTxnState      = errors.New("invalid transaction state")                    // INVALID_TXN_STATE
	// ErrCoordinatorFenced: a marker from a transaction coordinator older than the one that
	// wrote the producer's last marker (TRANSACTION_COORDINATOR_FENCED).
	ErrCoordinatorFenced = errors.New("transaction coordinator epoch is older than the last one seen")

	// ErrUnexpectedAppendOffset: a follower append whose first offset is below the log end
	// (Kafka's UnexpectedAppendOffsetException) or whose batches' offsets do not increase.
	ErrUnexpectedAppendOffset = errors.New("batch offsets below the log end offset or not increasing") // UNKNOWN_SERVER_ERROR
	// ErrClosed: the log or manager was closed.
	ErrClosed = errors.New("logstore: closed")
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
