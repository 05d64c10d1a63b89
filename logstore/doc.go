// Package logstore is one broker's partition logs on disk: Kafka's UnifiedLog, LogSegment,
// LogLoader, ProducerStateManager, LeaderEpochFileCache and LogManager in one package.
//
// In the classic architecture each broker keeps, for every partition replica it hosts, an
// append-only log of record batches. The leader appends what producers send (AppendAsLeader:
// validate, assign offsets, stamp the leader epoch), followers copy the leader's batches
// verbatim (AppendAsFollower), consumers and followers read whole stored batches (Read).
// Records are never decoded on these paths: only the 61-byte batch headers are.
//
// # On-disk format
//
// The files are Kafka's own, so Kafka's tools (kafka-dump-log.sh) can read them:
//
//	<log.dirs entry>/
//	├── .lock                                  held (flock) while a Manager has the folder
//	├── .kafka_cleanshutdown                   written by Manager.Close; skips recovery
//	├── recovery-point-offset-checkpoint       "0", count, "topic partition offset" lines
//	├── log-start-offset-checkpoint            same format
//	├── replication-offset-checkpoint          same format: high watermarks (broker's values)
//	├── cleaner-offset-checkpoint              same format: first dirty offset of compacted logs
//	├── orders-0/                              <topic>-<partition>, split on the last '-'
//	│   ├── 00000000000000000000.log           segment: v2 record batches, base offset 0
//	│   ├── 00000000000000000000.index         sparse offset index
//	│   ├── 00000000000000000000.timeindex     sparse time index
//	│   ├── 00000000000000004096.log           next segment, base offset 4096 ...
//	│   ├── 00000000000000004096.snapshot      producer state below offset 4096
//	│   ├── 00000000000000004096.txnindex      aborted transactions whose ABORT marker is in it
//	│   ├── 00000000000000000000.log.cleaned   a clean in progress (deleted at open)
//	│   ├── 00000000000000000000.log.swap      a committed clean (completed at open)
//	│   └── leader-epoch-checkpoint            "0", count, "epoch startOffset" lines
//	├── orders-2.<uuid>-future/                a copy of orders-2 moving into this dir from another
//	│                                          (AlterReplicaLogDirs, future.go); resumed at open
//	└── orders-1.<uuid>-delete/                a deleted log, removed at the next open
//
// A .log file is a sequence of v2 record batches exactly as producers sent them (Kafka's
// DefaultRecordBatch; big-endian):
//
//	 0 baseOffset            int64   rewritten by the leader ─┐ outside
//	 8 batchLength           int32   bytes after this field   │ the CRC
//	12 partitionLeaderEpoch  int32   stamped by the leader    │
//	16 magic                 int8    2                       ─┘
//	17 crc                   uint32  CRC-32C (Castagnoli) of bytes 21 to the end
//	21 attributes            int16   bits 0-2 codec, 3 LogAppendTime, 4 transactional, 5 control
//	23 lastOffsetDelta       int32
//	27 baseTimestamp         int64
//	35 maxTimestamp          int64   set to the append time for LogAppendTime (CRC recomputed)
//	43 producerId            int64   -1 unless idempotent
//	51 producerEpoch         int16
//	53 baseSequence          int32
//	57 recordCount           int32
//	61 records ...           (possibly compressed; never decoded here)
//
// The indexes are sparse: an entry is added when more than index.interval.bytes were appended
// since the previous one, for the batch being appended. Offsets are relative to the segment's
// base offset:
//
//	.index      ┌──────────────────────┬─────────────────────┐
//	            │ relativeOffset int32 │ position int32      │  8 bytes: last offset of the
//	            └──────────────────────┴─────────────────────┘  batch starting at position
//	.timeindex  ┌──────────────────────┬──────────────────────┐
//	            │ timestamp int64      │ relativeOffset int32 │  12 bytes: largest timestamp
//	            └──────────────────────┴──────────────────────┘  so far, and its batch's last offset
//
// Kafka preallocates index files and memory-maps them; here they are appended to, kept in
// memory (an entry per index.interval.bytes), and trimmed on truncation.
//
// The <offset>.snapshot files are Kafka's producer state snapshots (version 1: int16
// version, uint32 CRC-32C, int32 count, then per producer: id int64, epoch int16, last
// sequence int32, last offset int64, offset delta int32, timestamp int64, coordinator epoch
// int32, current transaction first offset int64; a producer without a batch left has last
// sequence and last offset -1). One is written at every roll and at Close.
//
// The <base>.txnindex files are Kafka's transaction indexes (txnindex.go): one 34-byte entry
// per transaction aborted by a marker in the segment, created with the first entry.
//
// # Transactions
//
// A transactional batch opens its producer's transaction; the COMMIT or ABORT control batch
// the coordinator has the leader append (AppendMarker) closes it. The last stable offset
// (LastStableOffset) stops at the first open or not yet replicated transaction; an abort adds
// a .txnindex entry, and AbortedTransactions answers a read_committed fetch's range
// (transactions.go). Recovery rebuilds the index of every segment it recovers by replaying
// the producer state from a snapshot at or below that segment.
//
// # Recovery
//
// Open recovers every segment from the one holding the recovery point (the offset below
// which everything was fsynced; Manager keeps it in recovery-point-offset-checkpoint) to the
// end: every batch's framing, magic, CRC and offsets are checked, the first invalid or torn
// batch truncates its segment and every later segment is deleted, and the indexes are
// rebuilt. Older segments are trusted if their indexes pass Kafka's sanity checks, else
// rebuilt. After a clean shutdown (.kafka_cleanshutdown) nothing is scanned but the tails
// after the last index entries. Producer state is the newest snapshot plus the batch headers
// after it; the leader-epoch cache is its checkpoint, extended by recovered batches and cut
// to the log.
//
// # Corruption in the middle of a log
//
// A batch that fails its checks (framing, magic 2, CRC-32C, offsets) somewhere other than the
// tail is handled as Kafka's LogLoader and UnifiedLog handle it, by where it lies:
//
//   - At or above the recovery point, after an unclean shutdown: recovery scans every batch
//     from the segment holding the recovery point to the end and truncates the log at the
//     first invalid batch, deleting every later segment (LogSegment.recover). Nothing at or
//     above the recovery point was known to be on disk, so it may be a torn write, and what
//     follows it cannot be trusted to be a continuation; the records cut off are refetched from
//     the leader when this broker follows, as after any truncation. The log is never left
//     with a hole: offsets stay contiguous below the new log end.
//   - Below the recovery point (fsynced, so never rescanned: bit rot, an operator's edit):
//     Read checks the CRC of every batch it returns, which the record package computes with
//     the processor's CRC-32C instruction, and a failing first batch is an error wrapping
//     ErrCorruptRecord, which the broker answers as CORRUPT_MESSAGE (Kafka's
//     Errors.forException of a CorruptRecordException). A read that meets it after valid
//     batches returns those, so the next read reports it. The bytes are never served as
//     data: a consumer, a follower (which would append them) and the group loader all see
//     an error, not records. Kafka's leader sends stored bytes unchecked and leaves the CRC
//     to the consumer's check.crcs and the follower's append validation; checking on read
//     here means corrupt bytes never leave the broker, at the cost of one CRC pass per fetch.
//     The batch stays on disk: deleting it would change offsets other replicas agree on, so it
//     goes with retention, or when an operator deletes the replica and it is refetched.
//
// # IO and concurrency
//
// All IO goes through FS (pebble's vfs): OSFS for the operating system, MemFS for tests,
// which can crash, losing what was not fsynced. A Log owns no goroutines; its methods are
// safe for concurrent use (see Log). Like Kafka, appends are not fsynced unless
// flush.messages says so: durability comes from replication; Flush (called by
// Manager.Checkpoint) fsyncs and moves the recovery point.
//
// # Compaction
//
// Logs whose cleanup.policy holds compact are cleaned by Log.Compact, Kafka's LogCleaner:
// the latest record of each key stays at its original offset, tombstones go after
// delete.retention.ms, the active segment and what lies at or above the last stable offset
// are never touched, aborted transactions' records go and their markers follow once no data
// of theirs remains and delete.retention.ms passed (cleaner_txn.go), and a crash at any step
// is completed or undone at Open (cleaner.go tells how). Appends to a compacted log must
// carry a key on every record.
//
// Not implemented: decompression for ListOffsets inside compressed batches, producer id
// expiration (producer.id.expiration.ms), and KIP-890's verification of transactional
// appends.
package logstore
