package record

// Control batches (Kafka's ControlRecordType, EndTransactionMarker and
// MemoryRecords.withEndTransactionMarker): the transaction markers a partition leader
// appends when the transaction coordinator sends WriteTxnMarkers.
//
// A control batch has the control and the transactional attribute bits set, the producer id
// and epoch of the transaction it ends, no sequence (-1), and one record:
//
//	key   version int16 (0) | type int16 (0 ABORT, 1 COMMIT; 2 is KRaft's LEADER_CHANGE)
//	value version int16 (0) | coordinatorEpoch int32
//
// A newer key or value version may carry more bytes after these fields; they are ignored,
// as Kafka's readers do.

import (
	"encoding/binary"
	"fmt"
)

// Control record types (ControlRecordType).
const (
	ControlAbort  int16 = 0
	ControlCommit int16 = 1
)

// EndTxnMarker is the content of a transaction marker (EndTransactionMarker).
type EndTxnMarker struct {
	Commit           bool // COMMIT, else ABORT
	CoordinatorEpoch int32
}

// Type is the marker's control record type.
func (m EndTxnMarker) Type() int16 {
	if m.Commit {
		return ControlCommit
	}
	return ControlAbort
}

// String names the marker as Kafka's logs do.
func (m EndTxnMarker) String() string {
	if m.Commit {
		return "COMMIT"
	}
	return "ABORT"
}

// BuildEndTxnMarker returns a whole control batch holding one transaction marker for
// producerID at producerEpoch, with base offset 0 and timestamp ts (the leader rewrites the
// base offset and leader epoch on append).
func BuildEndTxnMarker(producerID int64, producerEpoch int16, m EndTxnMarker, ts int64) []byte {
	key := binary.BigEndian.AppendUint16(nil, 0)
	key = binary.BigEndian.AppendUint16(key, uint16(m.Type()))
	value := binary.BigEndian.AppendUint16(nil, 0)
	value = binary.BigEndian.AppendUint32(value, uint32(m.CoordinatorEpoch))
	return Build(BatchHeader{
		Attributes:    AttrControl | AttrTransactional,
		BaseTimestamp: ts,
		MaxTimestamp:  ts,
		ProducerID:    producerID,
		ProducerEpoch: producerEpoch,
		BaseSequence:  -1,
		NumRecords:    1,
	}, AppendRecord(nil, 0, 0, key, value, nil))
}

// ControlType returns the type in a control record's key (ControlRecordType.parseTypeId).
func ControlType(key []byte) (int16, error) {
	if len(key) < 4 {
		return 0, fmt.Errorf("%w: control record key of %d bytes", ErrCorrupt, len(key))
	}
	if v := int16(binary.BigEndian.Uint16(key)); v < 0 {
		return 0, fmt.Errorf("%w: control record key version %d", ErrCorrupt, v)
	}
	return int16(binary.BigEndian.Uint16(key[2:])), nil
}

// DecodeEndTxnMarker reads the transaction marker of the whole control batch in batch, whose
// header is h. ok is false (and err nil) when the batch is a control batch of another type
// (Kafka skips those) or holds no record (a cleaned-out batch). A batch that is not a
// control batch, or whose marker does not decode, is an error wrapping ErrCorrupt.
func DecodeEndTxnMarker(h BatchHeader, batch []byte) (m EndTxnMarker, ok bool, err error) {
	if !h.Control() {
		return m, false, fmt.Errorf("%w: batch at offset %d is not a control batch", ErrCorrupt, h.BaseOffset)
	}
	// A marker batch is tiny; the limit only bounds a hostile compressed one.
	recs, err := DecodeRecords(h, batch, 1<<16)
	if err != nil {
		return m, false, err
	}
	if len(recs) == 0 {
		return m, false, nil
	}
	t, err := ControlType(recs[0].Key)
	if err != nil {
		return m, false, fmt.Errorf("batch at offset %d: %w", h.BaseOffset, err)
	}
	if t != ControlAbort && t != ControlCommit {
		return m, false, nil
	}
	v := recs[0].Value
	if len(v) < 6 {
		return m, false, fmt.Errorf("%w: batch at offset %d: transaction marker value of %d bytes", ErrCorrupt, h.BaseOffset, len(v))
	}
	if ver := int16(binary.BigEndian.Uint16(v)); ver < 0 {
		return m, false, fmt.Errorf("%w: batch at offset %d: transaction marker version %d", ErrCorrupt, h.BaseOffset, ver)
	}
	return EndTxnMarker{Commit: t == ControlCommit, CoordinatorEpoch: int32(binary.BigEndian.Uint32(v[2:]))}, true, nil
}
