package logstore

import "github.com/klassik/klassik/record"

// The v2 record batch format lives in package record, the one reader of record bytes in
// klassik; these names keep logstore's callers unchanged.
const (
	offBaseOffset      = record.OffBaseOffset
	offLength          = record.OffLength
	offLeaderEpoch     = record.OffLeaderEpoch
	offMagic           = record.OffMagic
	offCRC             = record.OffCRC
	offAttributes      = record.OffAttributes
	offLastOffsetDelta = record.OffLastOffsetDelta
	offBaseTimestamp   = record.OffBaseTimestamp
	offMaxTimestamp    = record.OffMaxTimestamp
	offProducerID      = record.OffProducerID
	offProducerEpoch   = record.OffProducerEpoch
	offBaseSequence    = record.OffBaseSequence
	offRecordCount     = record.OffRecordCount
	BatchHeaderSize    = record.HeaderSize // bytes of a v2 batch header, records follow
	batchLogOverhead   = record.LogOverhead
	minBatchLength     = record.MinBatchLength
	attrTimestampType  = record.AttrTimestampType
)

// BatchHeader is the header of a v2 record batch, as stored.
type BatchHeader = record.BatchHeader

var crcTable = record.CRCTable

func decrementSequence(seq, dec int32) int32 { return record.DecrementSequence(seq, dec) }

// ParseBatchHeader is record.ParseHeader.
func ParseBatchHeader(b []byte) (BatchHeader, error) { return record.ParseHeader(b) }

// BatchCRC is record.CRC.
func BatchCRC(batch []byte) uint32 { return record.CRC(batch) }

// CheckBatch is record.Check.
func CheckBatch(b []byte) (BatchHeader, error) { return record.Check(b) }

// ForEachBatch is record.ForEachBatch.
func ForEachBatch(records []byte, fn func(BatchHeader, []byte) error) error {
	return record.ForEachBatch(records, fn)
}

func setBaseOffset(b []byte, off int64)    { record.SetBaseOffset(b, off) }
func setLeaderEpoch(b []byte, e int32)     { record.SetLeaderEpoch(b, e) }
func setLogAppendTime(b []byte, now int64) { record.SetLogAppendTime(b, now) }
