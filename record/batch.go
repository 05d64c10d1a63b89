package record

import (
	"encoding/binary"
	"errors"
	"fmt"
	"hash/crc32"
)

// Offsets of the fields of a v2 record batch header.
const (
	OffBaseOffset      = 0
	OffLength          = 8
	OffLeaderEpoch     = 12
	OffMagic           = 16
	OffCRC             = 17
	OffAttributes      = 21
	OffLastOffsetDelta = 23
	OffBaseTimestamp   = 27
	OffMaxTimestamp    = 35
	OffProducerID      = 43
	OffProducerEpoch   = 51
	OffBaseSequence    = 53
	OffRecordCount     = 57

	HeaderSize     = 61 // bytes of a v2 batch header; records follow
	LogOverhead    = 12 // baseOffset and batchLength precede what batchLength counts
	MinBatchLength = HeaderSize - LogOverhead

	AttrCompressionMask = 0x07
	AttrTimestampType   = 0x08 // set: LogAppendTime
	AttrTransactional   = 0x10
	AttrControl         = 0x20
)

// Errors. Every decoding error wraps one of them.
var (
	ErrCorrupt          = errors.New("corrupt record batch")        // Kafka's CorruptRecordException
	ErrUnsupportedMagic = errors.New("record batch magic is not 2") // only v2 batches are stored
	ErrTooLarge         = errors.New("records larger than the limit")
)

var crcTable = crc32.MakeTable(crc32.Castagnoli)

// BatchHeader is the header of a v2 record batch.
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
func (h BatchHeader) Size() int { return LogOverhead + int(h.Length) }

// LastOffset is the offset of the batch's last record.
func (h BatchHeader) LastOffset() int64 { return h.BaseOffset + int64(h.LastOffsetDelta) }

// NextOffset is the offset after the batch.
func (h BatchHeader) NextOffset() int64 { return h.LastOffset() + 1 }

// Compression is the codec: CodecNone, CodecGzip, CodecSnappy, CodecLZ4 or CodecZstd.
func (h BatchHeader) Compression() int8 { return int8(h.Attributes & AttrCompressionMask) }

// LogAppendTime reports whether the batch's timestamps are the broker's append time.
func (h BatchHeader) LogAppendTime() bool { return h.Attributes&AttrTimestampType != 0 }

// Transactional reports the transactional attribute bit.
func (h BatchHeader) Transactional() bool { return h.Attributes&AttrTransactional != 0 }

// Control reports the control-batch attribute bit (transaction markers).
func (h BatchHeader) Control() bool { return h.Attributes&AttrControl != 0 }

// HasProducerID reports whether the batch comes from an idempotent producer.
func (h BatchHeader) HasProducerID() bool { return h.ProducerID >= 0 }

// LastSequence is the sequence number of the batch's last record, wrapping past MaxInt32 to 0
// as Kafka's DefaultRecordBatch.incrementSequence.
func (h BatchHeader) LastSequence() int32 {
	return IncrementSequence(h.BaseSequence, h.LastOffsetDelta)
}

// IncrementSequence is DefaultRecordBatch.incrementSequence: seq+inc, wrapping past MaxInt32
// to 0; a negative seq (no sequence) stays -1.
func IncrementSequence(seq, inc int32) int32 {
	if seq < 0 {
		return -1
	}
	if seq > (1<<31-1)-inc {
		return inc - ((1<<31 - 1) - seq) - 1
	}
	return seq + inc
}

// DecrementSequence is DefaultRecordBatch.decrementSequence, the inverse of IncrementSequence.
func DecrementSequence(seq, dec int32) int32 {
	if seq < dec {
		return (1<<31 - 1) - (dec - seq) + 1
	}
	return seq - dec
}

// ParseHeader decodes the header at the start of b. It checks that b holds a whole header
// and that the magic is 2 (ErrUnsupportedMagic), nothing else: not the length, not the CRC
// (see Check).
func ParseHeader(b []byte) (BatchHeader, error) {
	if len(b) < OffMagic+1 {
		return BatchHeader{}, fmt.Errorf("%w: %d bytes is shorter than a batch header", ErrCorrupt, len(b))
	}
	var h BatchHeader
	h.BaseOffset = int64(binary.BigEndian.Uint64(b[OffBaseOffset:]))
	h.Length = int32(binary.BigEndian.Uint32(b[OffLength:]))
	h.PartitionLeaderEpoch = int32(binary.BigEndian.Uint32(b[OffLeaderEpoch:]))
	h.Magic = int8(b[OffMagic])
	if h.Magic != 2 {
		return h, fmt.Errorf("%w: magic %d", ErrUnsupportedMagic, h.Magic)
	}
	if len(b) < HeaderSize {
		return h, fmt.Errorf("%w: %d bytes is shorter than a batch header", ErrCorrupt, len(b))
	}
	h.CRC = binary.BigEndian.Uint32(b[OffCRC:])
	h.Attributes = int16(binary.BigEndian.Uint16(b[OffAttributes:]))
	h.LastOffsetDelta = int32(binary.BigEndian.Uint32(b[OffLastOffsetDelta:]))
	h.BaseTimestamp = int64(binary.BigEndian.Uint64(b[OffBaseTimestamp:]))
	h.MaxTimestamp = int64(binary.BigEndian.Uint64(b[OffMaxTimestamp:]))
	h.ProducerID = int64(binary.BigEndian.Uint64(b[OffProducerID:]))
	h.ProducerEpoch = int16(binary.BigEndian.Uint16(b[OffProducerEpoch:]))
	h.BaseSequence = int32(binary.BigEndian.Uint32(b[OffBaseSequence:]))
	h.NumRecords = int32(binary.BigEndian.Uint32(b[OffRecordCount:]))
	return h, nil
}

// CRC computes the CRC-32C a v2 batch must carry (over attributes to the end). batch must
// hold at least a header.
func CRC(batch []byte) uint32 { return crc32.Checksum(batch[OffAttributes:], crcTable) }

// Check validates the whole batch in b: a sane length that b holds exactly, magic 2, a
// non-negative lastOffsetDelta and the CRC (DefaultRecordBatch.ensureValid). It returns the
// parsed header.
func Check(b []byte) (BatchHeader, error) {
	h, err := ParseHeader(b)
	if err != nil {
		return h, err
	}
	if h.Length < MinBatchLength || h.Size() != len(b) {
		return h, fmt.Errorf("%w: batch length %d does not match the %d bytes present", ErrCorrupt, h.Length, len(b))
	}
	if h.LastOffsetDelta < 0 {
		return h, fmt.Errorf("%w: negative lastOffsetDelta %d", ErrCorrupt, h.LastOffsetDelta)
	}
	if c := CRC(b); c != h.CRC {
		return h, fmt.Errorf("%w: crc %08x, computed %08x", ErrCorrupt, h.CRC, c)
	}
	return h, nil
}

// ForEachBatch calls fn with the header and bytes of every batch in records, in order. It
// checks the framing (each length sane and present in full, magic 2) but not the CRCs; a
// trailing partial batch is ErrCorrupt. An error from fn stops the walk and is returned.
func ForEachBatch(records []byte, fn func(BatchHeader, []byte) error) error {
	for len(records) > 0 {
		h, err := ParseHeader(records)
		if err != nil {
			return err
		}
		if h.Length < MinBatchLength || h.Size() > len(records) {
			return fmt.Errorf("%w: batch length %d with %d bytes left", ErrCorrupt, h.Length, len(records))
		}
		if err := fn(h, records[:h.Size()]); err != nil {
			return err
		}
		records = records[h.Size():]
	}
	return nil
}

// SetBaseOffset and SetLeaderEpoch rewrite fields outside the CRC's range; b holds a header.
func SetBaseOffset(b []byte, off int64) { binary.BigEndian.PutUint64(b[OffBaseOffset:], uint64(off)) }

// SetLeaderEpoch: see SetBaseOffset.
func SetLeaderEpoch(b []byte, e int32) { binary.BigEndian.PutUint32(b[OffLeaderEpoch:], uint32(e)) }

// SetLogAppendTime marks the whole batch b LogAppendTime with maxTimestamp now and recomputes
// the CRC.
func SetLogAppendTime(b []byte, now int64) {
	attrs := binary.BigEndian.Uint16(b[OffAttributes:]) | AttrTimestampType
	binary.BigEndian.PutUint16(b[OffAttributes:], attrs)
	binary.BigEndian.PutUint64(b[OffMaxTimestamp:], uint64(now))
	binary.BigEndian.PutUint32(b[OffCRC:], CRC(b))
}

// Build returns a whole batch: h's fields (Length and CRC are computed, Magic is 2) followed by
// records, the records section already compressed with h's codec (see Compress).
func Build(h BatchHeader, records []byte) []byte {
	b := make([]byte, HeaderSize, HeaderSize+len(records))
	binary.BigEndian.PutUint64(b[OffBaseOffset:], uint64(h.BaseOffset))
	binary.BigEndian.PutUint32(b[OffLength:], uint32(HeaderSize-LogOverhead+len(records)))
	binary.BigEndian.PutUint32(b[OffLeaderEpoch:], uint32(h.PartitionLeaderEpoch))
	b[OffMagic] = 2
	binary.BigEndian.PutUint16(b[OffAttributes:], uint16(h.Attributes))
	binary.BigEndian.PutUint32(b[OffLastOffsetDelta:], uint32(h.LastOffsetDelta))
	binary.BigEndian.PutUint64(b[OffBaseTimestamp:], uint64(h.BaseTimestamp))
	binary.BigEndian.PutUint64(b[OffMaxTimestamp:], uint64(h.MaxTimestamp))
	binary.BigEndian.PutUint64(b[OffProducerID:], uint64(h.ProducerID))
	binary.BigEndian.PutUint16(b[OffProducerEpoch:], uint16(h.ProducerEpoch))
	binary.BigEndian.PutUint32(b[OffBaseSequence:], uint32(h.BaseSequence))
	binary.BigEndian.PutUint32(b[OffRecordCount:], uint32(h.NumRecords))
	b = append(b, records...)
	binary.BigEndian.PutUint32(b[OffCRC:], CRC(b))
	return b
}

// CRCTable is the CRC-32C (Castagnoli) table; Kafka uses this checksum in its other files too
// (producer state snapshots).
var CRCTable = crcTable
