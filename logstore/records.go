package logstore

import (
	"errors"
	"fmt"

	"github.com/klassik/klassik/record"
)

// Records inside a batch are decoded (by package record) only by the cleaner, by the
// keyed-record check of compacted topics and by ListOffsets by timestamp; the produce and
// fetch paths never decode them.

// decompressRatio bounds what the records of one batch may expand to: decompressRatio times
// max.message.bytes (the cap on the compressed batch), so a decompression bomb costs bounded
// memory while any batch a real producer writes (Kafka's clients fill batches by the
// estimated compressed size, with ratios far below this) still decodes.
const decompressRatio = 64

// decompressLimit is the cap on a batch's decompressed records under max.message.bytes.
func decompressLimit(maxMessageBytes int) int {
	return decompressRatio * max(maxMessageBytes, 1<<20)
}

// decodeRecords decodes the records of a whole batch, decompressing them into at most limit
// bytes. Every failure wraps ErrCorruptRecord.
func decodeRecords(h BatchHeader, batch []byte, limit int) ([]record.Record, error) {
	recs, err := record.DecodeRecords(h, batch, limit)
	if err != nil && !errors.Is(err, ErrCorruptRecord) {
		err = fmt.Errorf("%w: %w", ErrCorruptRecord, err)
	}
	return recs, err
}

// RecordError is one record a batch was refused for (KIP-467): its index in its batch and
// why.
type RecordError struct {
	BatchIndex int32
	Message    string
}

// RecordErrors is an ErrInvalidRecord naming the records of one batch that caused it, as
// Kafka's RecordValidationException does. The whole batch is refused, not only those
// records.
type RecordErrors struct{ Records []RecordError }

func (e *RecordErrors) Error() string {
	return fmt.Sprintf("%v: %d record(s) refused, the first: %s", ErrInvalidRecord, len(e.Records), e.Records[0].Message)
}

func (e *RecordErrors) Unwrap() error { return ErrInvalidRecord }

// checkKeys rejects a batch set holding a record without a key: a compacted topic cannot
// hold one (Kafka's LogValidator.validateKey). The error is a *RecordErrors naming every
// keyless record of the first batch that has one. Control batches carry no user records and
// are not checked.
func checkKeys(records []byte, maxMessageBytes int) error {
	return ForEachBatch(records, func(h BatchHeader, b []byte) error {
		if h.Control() {
			return nil
		}
		recs, err := decodeRecords(h, b, decompressLimit(maxMessageBytes))
		if err != nil {
			return err
		}
		var bad []RecordError
		for i, r := range recs {
			if r.Key == nil {
				bad = append(bad, RecordError{BatchIndex: int32(i), Message: "Compacted topic cannot accept message without key"})
			}
		}
		if len(bad) > 0 {
			return &RecordErrors{Records: bad}
		}
		return nil
	})
}

// filterBatch keeps the records of a whole batch for which keep returns true (Kafka's
// MemoryRecords.filterTo). It returns the batch unchanged when every record stays, nil when
// none does, and otherwise a new batch with the same base offset, lastOffsetDelta,
// producer fields, attributes and codec (recompressed), so every surviving record keeps its
// offset; the record count, maxTimestamp (CreateTime batches: the largest kept timestamp)
// and the CRC are recomputed. Control batches are kept whole.
func filterBatch(h BatchHeader, batch []byte, limit int, keep func(record.Record) bool) (out []byte, kept, total int, err error) {
	if h.Control() {
		return batch, int(h.NumRecords), int(h.NumRecords), nil
	}
	recs, err := decodeRecords(h, batch, limit)
	if err != nil {
		return nil, 0, 0, err
	}
	var body []byte
	maxTs := int64(-1)
	for _, r := range recs {
		if keep(r) {
			kept++
			body = append(body, r.Raw...)
			maxTs = max(maxTs, r.Timestamp)
		}
	}
	switch kept {
	case len(recs):
		return batch, kept, len(recs), nil
	case 0:
		return nil, 0, len(recs), nil
	}
	if body, err = record.Compress(h.Compression(), body); err != nil {
		return nil, 0, 0, err
	}
	nh := h
	nh.NumRecords = int32(kept)
	if !h.LogAppendTime() {
		nh.MaxTimestamp = maxTs
	}
	return record.Build(nh, body), kept, len(recs), nil
}
