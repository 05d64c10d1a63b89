package record

import (
	"encoding/binary"
	"fmt"
)

// Header is one record header. Value is nil when null.
type Header struct {
	Key   string
	Value []byte
}

// Record is one decoded record (Kafka's DefaultRecord) of a batch. Its slices point into the
// decoded records section.
type Record struct {
	Raw        []byte // the whole record, length prefix included
	Attributes int8
	Offset     int64 // absolute: the batch's baseOffset plus offsetDelta
	Timestamp  int64 // absolute: the batch's baseTimestamp plus timestampDelta
	Key        []byte
	Value      []byte // nil: null, a tombstone
	Headers    []Header
}

// Tombstone reports a null value.
func (r Record) Tombstone() bool { return r.Value == nil }

// Varint decodes a zigzag varint as Kafka's records use (at most 10 bytes). n <= 0 means b
// does not start with a valid one.
func Varint(b []byte) (v int64, n int) { return binary.Varint(b) }

// DecodeRecords decodes the records of the whole batch in batch, whose header is h,
// decompressing its records section into at most limit bytes (see Decompress). It checks
// what Kafka's DefaultRecord.readFrom checks: every length inside what is present, each
// record consuming exactly its declared length, offset deltas within lastOffsetDelta,
// exactly recordCount records and no bytes after them. It does not check the CRC (see Check).
func DecodeRecords(h BatchHeader, batch []byte, limit int) ([]Record, error) {
	if len(batch) < HeaderSize {
		return nil, fmt.Errorf("%w: %d bytes is shorter than a batch header", ErrCorrupt, len(batch))
	}
	body, err := Decompress(h.Compression(), batch[HeaderSize:], limit)
	if err != nil {
		return nil, fmt.Errorf("batch at offset %d: %w", h.BaseOffset, err)
	}
	bad := func(format string, args ...any) error {
		return fmt.Errorf("%w: batch at offset %d: %s", ErrCorrupt, h.BaseOffset, fmt.Sprintf(format, args...))
	}
	// A record takes at least 7 bytes (length, attributes, two deltas, two lengths, count).
	if h.NumRecords < 0 || int64(h.NumRecords)*7 > int64(len(body)) {
		return nil, bad("record count %d in %d bytes", h.NumRecords, len(body))
	}
	recs := make([]Record, 0, h.NumRecords)
	for i := int32(0); i < h.NumRecords; i++ {
		length, n := Varint(body)
		if n <= 0 || length < 1 || length > int64(len(body)-n) {
			return nil, bad("truncated record %d", i)
		}
		raw := body[:n+int(length)]
		r, err := decodeRecord(raw[n:])
		if err != nil {
			return nil, bad("record %d: %v", i, err)
		}
		body = body[len(raw):]
		if r.Offset < 0 || r.Offset > int64(h.LastOffsetDelta) {
			return nil, bad("record %d: offset delta %d outside 0..%d", i, r.Offset, h.LastOffsetDelta)
		}
		r.Raw = raw
		r.Offset += h.BaseOffset
		r.Timestamp += h.BaseTimestamp
		recs = append(recs, r)
	}
	if len(body) != 0 {
		return nil, bad("%d bytes after the last of %d records", len(body), h.NumRecords)
	}
	return recs, nil
}

// decodeRecord decodes one record after its length prefix; Offset and Timestamp are deltas.
func decodeRecord(b []byte) (Record, error) {
	var r Record
	if len(b) < 1 {
		return r, fmt.Errorf("empty record")
	}
	r.Attributes = int8(b[0])
	b = b[1:]
	var n int
	if r.Timestamp, n = Varint(b); n <= 0 {
		return r, fmt.Errorf("bad timestamp delta")
	}
	b = b[n:]
	if r.Offset, n = Varint(b); n <= 0 {
		return r, fmt.Errorf("bad offset delta")
	}
	b = b[n:]
	var err error
	if r.Key, b, err = varBytes(b, "key"); err != nil {
		return r, err
	}
	if r.Value, b, err = varBytes(b, "value"); err != nil {
		return r, err
	}
	count, n := Varint(b)
	// A header takes at least 2 bytes.
	if n <= 0 || count < 0 || count > int64(len(b)-n)/2 {
		return r, fmt.Errorf("bad header count")
	}
	b = b[n:]
	if count > 0 {
		r.Headers = make([]Header, 0, count)
	}
	for j := int64(0); j < count; j++ {
		var k, v []byte
		if k, b, err = varBytes(b, "header key"); err != nil {
			return r, err
		}
		if k == nil {
			return r, fmt.Errorf("null header key")
		}
		if v, b, err = varBytes(b, "header value"); err != nil {
			return r, err
		}
		r.Headers = append(r.Headers, Header{Key: string(k), Value: v})
	}
	if len(b) != 0 {
		return r, fmt.Errorf("%d bytes after the record's fields", len(b))
	}
	return r, nil
}

// varBytes reads a varint length (-1: null) and that many bytes.
func varBytes(b []byte, what string) (v, rest []byte, err error) {
	l, n := Varint(b)
	if n <= 0 || l < -1 || l > int64(len(b)-n) {
		return nil, nil, fmt.Errorf("bad %s length", what)
	}
	b = b[n:]
	if l < 0 {
		return nil, b, nil
	}
	return b[:l:l], b[l:], nil
}

// AppendRecord appends one encoded record to dst: the records section of a batch is its
// records appended in order (then compressed, see Compress and Build).
func AppendRecord(dst []byte, offsetDelta, timestampDelta int64, key, value []byte, headers []Header) []byte {
	var rec []byte
	rec = append(rec, 0) // attributes
	rec = binary.AppendVarint(rec, timestampDelta)
	rec = binary.AppendVarint(rec, offsetDelta)
	rec = appendVarBytes(rec, key)
	rec = appendVarBytes(rec, value)
	rec = binary.AppendVarint(rec, int64(len(headers)))
	for _, h := range headers {
		rec = appendVarBytes(rec, []byte(h.Key))
		rec = appendVarBytes(rec, h.Value)
	}
	dst = binary.AppendVarint(dst, int64(len(rec)))
	return append(dst, rec...)
}

func appendVarBytes(b, v []byte) []byte {
	if v == nil {
		return binary.AppendVarint(b, -1)
	}
	b = binary.AppendVarint(b, int64(len(v)))
	return append(b, v...)
}
