package logstore

import (
	"encoding/binary"
	"fmt"
)

// Records inside a v2 batch (Kafka's DefaultRecord), decoded only by the cleaner and by the
// keyed-record check of compacted topics:
//
//	length          varint   bytes after this field
//	attributes      int8     unused
//	timestampDelta  varlong  from the batch's baseTimestamp
//	offsetDelta     varint   from the batch's baseOffset
//	keyLength       varint   -1: null key
//	key             bytes
//	valueLength     varint   -1: null value, a tombstone
//	value           bytes
//	headerCount     varint, then headers (not needed here)

// record is one record of a batch, pointing into the decoded records section.
type record struct {
	raw       []byte // the whole record, length prefix included
	offset    int64  // absolute
	timestamp int64
	key       []byte // nil when the key is null
	value     []byte // nil when the value is null
	tombstone bool   // null value
}

// decodeRecords decodes the records of a whole, CRC-checked batch (decompressing them).
func decodeRecords(h BatchHeader, batch []byte) ([]record, error) {
	body, err := decompressRecords(h.Compression(), batch[BatchHeaderSize:])
	if err != nil {
		return nil, fmt.Errorf("%w: batch at %d: %v", ErrCorruptRecord, h.BaseOffset, err)
	}
	bad := func(why string) error {
		return fmt.Errorf("%w: batch at %d: %s", ErrCorruptRecord, h.BaseOffset, why)
	}
	if h.NumRecords < 0 || int64(h.NumRecords) > int64(len(body)) {
		return nil, bad(fmt.Sprintf("record count %d", h.NumRecords))
	}
	recs := make([]record, 0, h.NumRecords)
	for i := int32(0); i < h.NumRecords; i++ {
		length, n := varint(body)
		if n <= 0 || length < 1 || int64(n)+length > int64(len(body)) {
			return nil, bad(fmt.Sprintf("truncated record %d", i))
		}
		r := record{raw: body[:int64(n)+length]}
		b := body[n : int64(n)+length]
		body = body[int64(n)+length:]
		b = b[1:] // attributes
		tsDelta, m := varint(b)
		if m <= 0 {
			return nil, bad("bad timestamp delta")
		}
		b = b[m:]
		offDelta, m := varint(b)
		if m <= 0 || offDelta < 0 || offDelta > int64(h.LastOffsetDelta) {
			return nil, bad("bad offset delta")
		}
		b = b[m:]
		klen, m := varint(b)
		if m <= 0 || klen < -1 || klen > int64(len(b)-m) {
			return nil, bad("bad key length")
		}
		b = b[m:]
		if klen >= 0 {
			r.key = b[:klen:klen]
			b = b[klen:]
		}
		vlen, m := varint(b)
		if m <= 0 || vlen < -1 || vlen > int64(len(b)-m) {
			return nil, bad("bad value length")
		}
		r.tombstone = vlen < 0
		if vlen >= 0 {
			r.value = b[m : int64(m)+vlen : int64(m)+vlen]
		}
		r.offset, r.timestamp = h.BaseOffset+offDelta, h.BaseTimestamp+tsDelta
		recs = append(recs, r)
	}
	return recs, nil
}

// checkKeys rejects a batch set holding a record without a key: a compacted topic cannot
// hold one (Kafka's LogValidator: "Compacted topic cannot accept message without key").
// Control batches carry no user records and are not checked.
func checkKeys(records []byte) error {
	return ForEachBatch(records, func(h BatchHeader, b []byte) error {
		if h.Control() {
			return nil
		}
		recs, err := decodeRecords(h, b)
		if err != nil {
			return err
		}
		for _, r := range recs {
			if r.key == nil {
				return fmt.Errorf("%w: compacted topic cannot accept a record without a key", ErrInvalidRecord)
			}
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
func filterBatch(h BatchHeader, batch []byte, keep func(record) bool) (out []byte, kept, total int, err error) {
	if h.Control() {
		return batch, int(h.NumRecords), int(h.NumRecords), nil
	}
	recs, err := decodeRecords(h, batch)
	if err != nil {
		return nil, 0, 0, err
	}
	var body []byte
	maxTs := int64(-1)
	for _, r := range recs {
		if keep(r) {
			kept++
			body = append(body, r.raw...)
			maxTs = max(maxTs, r.timestamp)
		}
	}
	switch kept {
	case len(recs):
		return batch, kept, len(recs), nil
	case 0:
		return nil, 0, len(recs), nil
	}
	if body, err = compressRecords(h.Compression(), body); err != nil {
		return nil, 0, 0, err
	}
	out = make([]byte, BatchHeaderSize, BatchHeaderSize+len(body))
	copy(out, batch[:BatchHeaderSize])
	out = append(out, body...)
	binary.BigEndian.PutUint32(out[offLength:], uint32(len(out)-batchLogOverhead))
	binary.BigEndian.PutUint32(out[offRecordCount:], uint32(kept))
	if !h.LogAppendTime() {
		binary.BigEndian.PutUint64(out[offMaxTimestamp:], uint64(maxTs))
	}
	binary.BigEndian.PutUint32(out[offCRC:], BatchCRC(out))
	return out, kept, len(recs), nil
}
