package record

// The message formats before v2 (Kafka's LegacyRecord and AbstractLegacyRecordBatch, magic 0
// and 1), which Produce v0-v2 carry and Fetch v0-v3 expect. klassik stores only v2 batches, as
// Kafka 3.x does whatever log.message.format.version says: a legacy message set is converted
// to one v2 batch when it is produced (Kafka's LogValidator.convertAndAssignOffsets), and v2
// batches are converted down when an old fetch reads them (Kafka's down-conversion).
//
// A message set is a sequence of entries, big endian:
//
//	 0 offset     int64   (in a compressed wrapper's inner set, magic 1: relative)
//	 8 size       int32   bytes after this field
//	12 crc        uint32  CRC-32 (IEEE) of the bytes from magic to the end
//	16 magic      int8    0 or 1
//	17 attributes int8    bits 0-2 codec, bit 3 LogAppendTime (magic 1)
//	18 timestamp  int64   magic 1 only
//	   key        int32 length (-1 null) and bytes
//	   value      int32 length (-1 null) and bytes: for a compressed wrapper, the compressed
//	              inner message set
//
// Down-converted messages are written uncompressed: a fetch of old format costs more bytes
// on the wire, never more memory than the fetch's own size.

import (
	"encoding/binary"
	"fmt"
	"hash/crc32"
)

// LegacyMessage is one message of a legacy message set; Key and Value point into the set (or
// its decompressed inner set).
type LegacyMessage struct {
	Offset        int64
	Magic         int8
	LogAppendTime bool  // magic 1: the timestamp is the broker's
	Timestamp     int64 // -1 for magic 0
	Key, Value    []byte
	Codec         int8 // the wrapper's codec, for messages that came out of one
}

const (
	legacyEntryOverhead = 12 // offset and size
	legacyHeaderV0      = 4 + 1 + 1 + 4 + 4
	legacyHeaderV1      = legacyHeaderV0 + 8
	legacyTimestampType = 0x08
)

// DecodeLegacy reads every message of a legacy message set, decompressing wrappers (one level,
// as Kafka allows) into at most limit bytes each and giving their inner messages absolute
// offsets. Any broken entry, CRC or length is an error wrapping ErrCorrupt; a v2 batch is
// ErrUnsupportedMagic.
func DecodeLegacy(set []byte, limit int) ([]LegacyMessage, error) {
	var out []LegacyMessage
	for len(set) > 0 {
		m, rest, err := legacyEntry(set)
		if err != nil {
			return nil, err
		}
		set = rest
		if m.Codec == CodecNone {
			out = append(out, m)
			continue
		}
		inner, err := Decompress(m.Codec, m.Value, limit)
		if err != nil {
			return nil, err
		}
		var msgs []LegacyMessage
		for len(inner) > 0 {
			im, rest, err := legacyEntry(inner)
			if err != nil {
				return nil, err
			}
			if im.Codec != CodecNone {
				return nil, fmt.Errorf("%w: a compressed message inside a compressed message", ErrCorrupt)
			}
			inner = rest
			im.Codec = m.Codec
			if m.LogAppendTime {
				im.LogAppendTime, im.Timestamp = true, m.Timestamp
			}
			msgs = append(msgs, im)
		}
		if len(msgs) == 0 {
			return nil, fmt.Errorf("%w: an empty compressed message", ErrCorrupt)
		}
		if m.Magic == 1 {
			// Inner offsets are relative; the wrapper carries the last one's absolute offset.
			last := msgs[len(msgs)-1].Offset
			for i := range msgs {
				msgs[i].Offset = m.Offset - last + msgs[i].Offset
			}
		}
		out = append(out, msgs...)
	}
	return out, nil
}

// legacyEntry reads one entry at the start of b.
func legacyEntry(b []byte) (LegacyMessage, []byte, error) {
	var m LegacyMessage
	if len(b) < legacyEntryOverhead+legacyHeaderV0 {
		return m, nil, fmt.Errorf("%w: %d bytes is too short for a message", ErrCorrupt, len(b))
	}
	m.Offset = int64(binary.BigEndian.Uint64(b))
	size := int64(int32(binary.BigEndian.Uint32(b[8:])))
	if size < legacyHeaderV0 || size > int64(len(b)-legacyEntryOverhead) {
		return m, nil, fmt.Errorf("%w: message size %d with %d bytes left", ErrCorrupt, size, len(b)-legacyEntryOverhead)
	}
	msg := b[legacyEntryOverhead : legacyEntryOverhead+size]
	rest := b[legacyEntryOverhead+size:]
	m.Magic = int8(msg[4])
	switch m.Magic {
	case 0, 1:
	case 2:
		return m, nil, fmt.Errorf("%w: a v2 batch where a legacy message set was expected", ErrUnsupportedMagic)
	default:
		return m, nil, fmt.Errorf("%w: message magic %d", ErrCorrupt, m.Magic)
	}
	if crc32.ChecksumIEEE(msg[4:]) != binary.BigEndian.Uint32(msg) {
		return m, nil, fmt.Errorf("%w: message at offset %d fails its CRC", ErrCorrupt, m.Offset)
	}
	attrs := msg[5]
	m.Codec = int8(attrs & AttrCompressionMask)
	p := msg[6:]
	m.Timestamp = -1
	if m.Magic == 1 {
		if len(p) < 8 {
			return m, nil, fmt.Errorf("%w: magic 1 message without a timestamp", ErrCorrupt)
		}
		m.Timestamp = int64(binary.BigEndian.Uint64(p))
		m.LogAppendTime = attrs&legacyTimestampType != 0
		p = p[8:]
	}
	var err error
	if m.Key, p, err = legacyBytes(p, "key"); err != nil {
		return m, nil, err
	}
	if m.Value, p, err = legacyBytes(p, "value"); err != nil {
		return m, nil, err
	}
	if len(p) != 0 {
		return m, nil, fmt.Errorf("%w: %d bytes after the value of the message at offset %d", ErrCorrupt, len(p), m.Offset)
	}
	return m, rest, nil
}

func legacyBytes(p []byte, what string) ([]byte, []byte, error) {
	if len(p) < 4 {
		return nil, nil, fmt.Errorf("%w: message %s length missing", ErrCorrupt, what)
	}
	n := int64(int32(binary.BigEndian.Uint32(p)))
	p = p[4:]
	if n < 0 {
		return nil, p, nil
	}
	if n > int64(len(p)) {
		return nil, nil, fmt.Errorf("%w: message %s of %d bytes with %d left", ErrCorrupt, what, n, len(p))
	}
	return p[:n:n], p[n:], nil
}

// LegacyToBatch makes one v2 batch of msgs, as Kafka converts a produced legacy message set:
// offsets from 0 (the log assigns them), each message's timestamp (-1 for magic 0, a
// CreateTime batch), no producer, compressed with codec (the producer's, or none).
func LegacyToBatch(msgs []LegacyMessage, codec int8) ([]byte, error) {
	if len(msgs) == 0 {
		return nil, fmt.Errorf("%w: an empty message set", ErrCorrupt)
	}
	base := msgs[0].Timestamp
	maxTS := base
	for _, m := range msgs {
		maxTS = max(maxTS, m.Timestamp)
	}
	var body []byte
	for i, m := range msgs {
		body = AppendRecord(body, int64(i), m.Timestamp-base, m.Key, m.Value, nil)
	}
	attrs := int16(0)
	if codec != CodecNone {
		c, err := Compress(codec, body)
		if err != nil {
			return nil, err
		}
		body, attrs = c, int16(codec)
	}
	return Build(BatchHeader{
		PartitionLeaderEpoch: -1, Attributes: attrs, LastOffsetDelta: int32(len(msgs) - 1),
		BaseTimestamp: base, MaxTimestamp: maxTS, ProducerID: -1, ProducerEpoch: -1, BaseSequence: -1,
		NumRecords: int32(len(msgs)),
	}, body), nil
}

// DownConvert writes the records of the v2 batches in batches as a legacy message set of
// magic 0 or 1, uncompressed, with their absolute offsets; control batches are left out (old
// consumers know no markers), headers are dropped. It stops before maxBytes, but always
// writes the first message. Each batch decompresses into at most limit bytes.
func DownConvert(batches []byte, magic int8, maxBytes, limit int) ([]byte, error) {
	var out []byte
	err := ForEachBatch(batches, func(h BatchHeader, b []byte) error {
		if h.Control() {
			return nil
		}
		recs, err := DecodeRecords(h, b, limit)
		if err != nil {
			return err
		}
		for _, r := range recs {
			ts := r.Timestamp
			if h.LogAppendTime() {
				ts = h.MaxTimestamp
			}
			next := appendLegacy(nil, r.Offset, magic, h.LogAppendTime(), ts, r.Key, r.Value)
			if len(out) > 0 && len(out)+len(next) > maxBytes {
				return errStop
			}
			out = append(out, next...)
		}
		return nil
	})
	if err == errStop {
		err = nil
	}
	return out, err
}

var errStop = fmt.Errorf("stop")

// appendLegacy appends one uncompressed message entry.
func appendLegacy(dst []byte, offset int64, magic int8, logAppendTime bool, ts int64, key, value []byte) []byte {
	size := legacyHeaderV0 + len(key) + len(value)
	if magic == 1 {
		size += 8
	}
	dst = binary.BigEndian.AppendUint64(dst, uint64(offset))
	dst = binary.BigEndian.AppendUint32(dst, uint32(size))
	start := len(dst)
	dst = append(dst, 0, 0, 0, 0, byte(magic))
	attrs := byte(0)
	if magic == 1 && logAppendTime {
		attrs |= legacyTimestampType
	}
	dst = append(dst, attrs)
	if magic == 1 {
		dst = binary.BigEndian.AppendUint64(dst, uint64(ts))
	}
	for _, f := range [][]byte{key, value} {
		if f == nil {
			dst = binary.BigEndian.AppendUint32(dst, 0xffffffff)
			continue
		}
		dst = binary.BigEndian.AppendUint32(dst, uint32(len(f)))
		dst = append(dst, f...)
	}
	binary.BigEndian.PutUint32(dst[start:], crc32.ChecksumIEEE(dst[start+4:]))
	return dst
}

// AppendLegacyMessage appends one uncompressed legacy message entry (for tests and tools).
func AppendLegacyMessage(dst []byte, offset int64, magic int8, ts int64, key, value []byte) []byte {
	return appendLegacy(dst, offset, magic, false, ts, key, value)
}
