package logstore

import (
	"encoding/binary"
	"fmt"
	"hash/crc32"
)

// Offsets of the fields of a v2 record batch header (DefaultRecordBatch in Kafka).
const (
	offBaseOffset       = 0
	offLength           = 8
	offLeaderEpoch      = 12
	offMagic            = 16
	offCRC              = 17
	offAttributes       = 21
	offLastOffsetDelta  = 23
	offBaseTimestamp    = 27
	offMaxTimestamp     = 35
	offProducerID       = 43
	offProducerEpoch    = 51
	offBaseSequence     = 53
	offRecordCount      = 57
	BatchHeaderSize     = 61 // bytes of a v2 batch header, records follow
	batchLogOverhead    = 12 // baseOffset and batchLength precede what batchLength counts
	minBatchLength      = BatchHeaderSize - batchLogOverhead
	attrCompressionMask = 0x07
	attrTimestampType   = 0x08 // set: LogAppendTime
	attrTransactional   = 0x10
	attrControl         = 0x20
)

var crcTable = crc32.MakeTable(crc32.Castagnoli)

// BatchHeader is the header of a v2 record batch, as stored.
type BatchHeader struct {
	BaseOffset           int64
	Length               int32 // the batchLength field: bytes after it
	PartitionLeaderEpoch int32
	Magic                int8
	CRC                  uint32
	Attributes           int16
	LastOffsetDelta      int32
	BaseTimestamp        int64
	MaxTimestamp         int64
	ProducerID           int64
	ProducerEpoch        int16
	BaseSequence         int32
	NumRecords           int32
}

// Size is the number of bytes the whole batch occupies.
func (h BatchHeader) Size() int { return batchLogOverhead + int(h.Length) }

// LastOffset is the offset of the batch's last record.
func (h BatchHeader) LastOffset() int64 { return h.BaseOffset + int64(h.LastOffsetDelta) }

// NextOffset is the offset after the batch.
func (h BatchHeader) NextOffset() int64 { return h.LastOffset() + 1 }

// Compression is the codec: 0 none, 1 gzip, 2 snappy, 3 lz4, 4 zstd.
func (h BatchHeader) Compression() int8 { return int8(h.Attributes & attrCompressionMask) }

// LogAppendTime reports whether the batch's timestamps are the broker's append time.
func (h BatchHeader) LogAppendTime() bool { return h.Attributes&attrTimestampType != 0 }

// Transactional reports the transactional attribute bit.
func (h BatchHeader) Transactional() bool { return h.Attributes&attrTransactional != 0 }

// Control reports the control-batch attribute bit (transaction markers).
func (h BatchHeader) Control() bool { return h.Attributes&attrControl != 0 }

// HasProducerID reports whether the batch comes from an idempotent producer.
func (h BatchHeader) HasProducerID() bool { return h.ProducerID >= 0 }

// LastSequence is the sequence number of the batch's last record, wrapping past MaxInt32 to 0
// as Kafka's DefaultRecordBatch.incrementSequence.
func (h BatchHeader) LastSequence() int32 {
	return incrementSequence(h.BaseSequence, h.LastOffsetDelta)
}

func incrementSequence(seq, inc int32) int32 {
	if seq < 0 {
		return -1
	}
	if seq > (1<<31-1)-inc {
		return inc - ((1<<31 - 1) - seq) - 1
	}
	return seq + inc
}

func decrementSequence(seq, dec int32) int32 {
	if seq < dec {
		return (1<<31 - 1) - (dec - seq) + 1
	}
	return seq - dec
}

// ParseBatchHeader decodes the header at the start of b. It checks that b holds a whole
// header and that the magic is 2 (ErrUnsupportedMagic), nothing else: not the length, not the
// CRC (see CheckBatch).
func ParseBatchHeader(b []byte) (BatchHeader, error) {
	if len(b) < offMagic+1 {
		return BatchHeader{}, fmt.Errorf("%w: %d bytes is shorter than a batch header", ErrCorruptRecord, len(b))
	}
	var h BatchHeader
	h.BaseOffset = int64(binary.BigEndian.Uint64(b[offBaseOffset:]))
	h.Length = int32(binary.BigEndian.Uint32(b[offLength:]))
	h.PartitionLeaderEpoch = int32(binary.BigEndian.Uint32(b[offLeaderEpoch:]))
	h.Magic = int8(b[offMagic])
	if h.Magic != 2 {
		return h, fmt.Errorf("%w: magic %d", ErrUnsupportedMagic, h.Magic)
	}
	if len(b) < BatchHeaderSize {
		return h, fmt.Errorf("%w: %d bytes is shorter than a batch header", ErrCorruptRecord, len(b))
	}
	h.CRC = binary.BigEndian.Uint32(b[offCRC:])
	h.Attributes = int16(binary.BigEndian.Uint16(b[offAttributes:]))
	h.LastOffsetDelta = int32(binary.BigEndian.Uint32(b[offLastOffsetDelta:]))
	h.BaseTimestamp = int64(binary.BigEndian.Uint64(b[offBaseTimestamp:]))
	h.MaxTimestamp = int64(binary.BigEndian.Uint64(b[offMaxTimestamp:]))
	h.ProducerID = int64(binary.BigEndian.Uint64(b[offProducerID:]))
	h.ProducerEpoch = int16(binary.BigEndian.Uint16(b[offProducerEpoch:]))
	h.BaseSequence = int32(binary.BigEndian.Uint32(b[offBaseSequence:]))
	h.NumRecords = int32(binary.BigEndian.Uint32(b[offRecordCount:]))
	return h, nil
}

// BatchCRC computes the CRC-32C a v2 batch must carry (over attributes to the end).
func BatchCRC(batch []byte) uint32 { return crc32.Checksum(batch[offAttributes:], crcTable) }

// CheckBatch validates the whole batch in b: a sane length that b holds exactly, magic 2 and
// the CRC. It returns the parsed header.
func CheckBatch(b []byte) (BatchHeader, error) {
	h, err := ParseBatchHeader(b)
	if err != nil {
		return h, err
	}
	if h.Length < minBatchLength || h.Size() != len(b) {
		return h, fmt.Errorf("%w: batch length %d does not match the %d bytes present", ErrCorruptRecord, h.Length, len(b))
	}
	if h.LastOffsetDelta < 0 {
		return h, fmt.Errorf("%w: negative lastOffsetDelta %d", ErrCorruptRecord, h.LastOffsetDelta)
	}
	if c := BatchCRC(b); c != h.CRC {
		return h, fmt.Errorf("%w: crc %08x, computed %08x", ErrCorruptRecord, h.CRC, c)
	}
	return h, nil
}

// ForEachBatch calls fn with the header and bytes of every batch in records, in order. It
// checks the framing (each length sane and present in full, magic 2) but not the CRCs; a
// trailing partial batch is ErrCorruptRecord. An error from fn stops the walk and is returned.
func ForEachBatch(records []byte, fn func(BatchHeader, []byte) error) error {
	for len(records) > 0 {
		h, err := ParseBatchHeader(records)
		if err != nil {
			return err
		}
		if h.Length < minBatchLength || h.Size() > len(records) {
			return fmt.Errorf("%w: batch length %d with %d bytes left", ErrCorruptRecord, h.Length, len(records))
		}
		if err := fn(h, records[:h.Size()]); err != nil {
			return err
		}
		records = records[h.Size():]
	}
	return nil
}

// setBaseOffset and setLeaderEpoch rewrite fields outside the CRC's range.
func setBaseOffset(b []byte, off int64) { binary.BigEndian.PutUint64(b[offBaseOffset:], uint64(off)) }
func setLeaderEpoch(b []byte, e int32)  { binary.BigEndian.PutUint32(b[offLeaderEpoch:], uint32(e)) }

// setLogAppendTime marks the batch LogAppendTime with maxTimestamp now and recomputes the CRC.
func setLogAppendTime(b []byte, now int64) {
	attrs := binary.BigEndian.Uint16(b[offAttributes:]) | attrTimestampType
	binary.BigEndian.PutUint16(b[offAttributes:], attrs)
	binary.BigEndian.PutUint64(b[offMaxTimestamp:], uint64(now))
	binary.BigEndian.PutUint32(b[offCRC:], BatchCRC(b))
}
