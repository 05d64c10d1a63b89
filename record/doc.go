// Package record is the one reader and writer of Kafka's v2 record batches in klassik, as
// org.apache.kafka.common.record (DefaultRecordBatch, DefaultRecord, CompressionType) is in
// Kafka. Every piece of klassik that looks inside record bytes — the log (logstore), its
// cleaner, the group coordinator's loader of __consumer_offsets — goes through this package;
// nothing else parses batch headers, checks CRCs, decodes records or runs a codec.
//
// It is a leaf: it imports no klassik package.
//
// Contracts:
//   - Nothing here panics on any input: every length is checked before it is used, and
//     corrupt input is an error wrapping ErrCorrupt (or ErrUnsupportedMagic).
//   - Decompression is always capped by a limit the caller passes (message.max.bytes, a
//     fetch size, the group loader's buffer): output past the limit is not produced, and the
//     error wraps ErrTooLarge and names the limit, so a decompression bomb costs at most the
//     limit in memory.
//   - Decoded records point into the decompressed buffer (or the batch itself when it is
//     uncompressed); callers copy what they keep.
//
// A v2 record batch, big endian:
//
//	 0 baseOffset            int64
//	 8 batchLength           int32   bytes after this field
//	12 partitionLeaderEpoch  int32
//	16 magic                 int8    2
//	17 crc                   uint32  CRC-32C (Castagnoli) of bytes 21 to the end
//	21 attributes            int16   bits 0-2 codec, 3 LogAppendTime, 4 transactional, 5 control
//	23 lastOffsetDelta       int32
//	27 baseTimestamp         int64
//	35 maxTimestamp          int64
//	43 producerId            int64
//	51 producerEpoch         int16
//	53 baseSequence          int32
//	57 recordCount           int32
//	61 records ...           possibly compressed
//
// and each record (DefaultRecord):
//
//	length varint (bytes after it), attributes int8, timestampDelta varlong,
//	offsetDelta varint, keyLength varint (-1: null), key, valueLength varint (-1: null, a
//	tombstone), value, headerCount varint, then per header keyLength varint, key,
//	valueLength varint (-1: null), value.
package record
