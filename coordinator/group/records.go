package group

// This file holds the two byte formats the coordinator needs by hand: the v2 record batch that
// carries records into and out of __consumer_offsets, and the key/value schemas of the records
// themselves (the schemas are kmsg's, generated from Kafka's own JSON definitions).
//
// A v2 record batch (Kafka's DefaultRecordBatch), all integers big endian:
//
//	baseOffset           int64   assigned by the log; 0 when we write
//	batchLength          int32   bytes after this field
//	partitionLeaderEpoch int32   -1 when we write
//	magic                int8    2
//	crc                  uint32  CRC-32C (Castagnoli) of everything after this field
//	attributes           int16   bits 0-2 compression, 3 timestamp type, 4 transactional, 5 control
//	lastOffsetDelta      int32
//	baseTimestamp        int64
//	maxTimestamp         int64
//	producerId           int64   -1
//	producerEpoch        int16   -1
//	baseSequence         int32   -1
//	recordCount          int32
//	records              (possibly compressed)
//
// and each record:
//
//	length varint, attributes int8, timestampDelta varlong, offsetDelta varint,
//	keyLength varint, key, valueLength varint (-1: null, a tombstone), value,
//	headerCount varint, headers (key varint-string, value varint-bytes)

import (
	"bytes"
	"compress/gzip"
	"encoding/binary"
	"errors"
	"fmt"
	"hash/crc32"
	"io"

	"github.com/klauspost/compress/s2"
	"github.com/klauspost/compress/zstd"
	"github.com/pierrec/lz4/v4"
	"github.com/twmb/franz-go/pkg/kmsg"
)

var crc32c = crc32.MakeTable(crc32.Castagnoli)

// batchHeaderLen is the size of a v2 batch header up to and including recordCount.
const batchHeaderLen = 61

// record is one record of a batch as the coordinator sees it.
type record struct {
	Offset    int64 // absolute offset (baseOffset + offsetDelta)
	Timestamp int64
	Key       []byte
	Value     []byte // nil: tombstone
}

// encodeBatch builds one uncompressed v2 record batch holding recs, all stamped with timestamp
// ts (milliseconds). Offsets start at 0: the log rewrites the base offset on append.
func encodeBatch(ts int64, recs []record) []byte {
	var body []byte
	for i, r := range recs {
		var rec []byte
		rec = append(rec, 0) // attributes
		rec = binary.AppendVarint(rec, r.Timestamp-ts)
		rec = binary.AppendVarint(rec, int64(i))
		rec = appendVarintBytes(rec, r.Key)
		rec = appendVarintBytes(rec, r.Value)
		rec = binary.AppendVarint(rec, 0) // headers
		body = binary.AppendVarint(body, int64(len(rec)))
		body = append(body, rec...)
	}
	maxTS := ts
	for _, r := range recs {
		if r.Timestamp > maxTS {
			maxTS = r.Timestamp
		}
	}
	b := make([]byte, 0, batchHeaderLen+len(body))
	b = binary.BigEndian.AppendUint64(b, 0)          // baseOffset
	b = binary.BigEndian.AppendUint32(b, 0)          // batchLength, patched below
	b = binary.BigEndian.AppendUint32(b, 0xffffffff) // partitionLeaderEpoch -1
	b = append(b, 2)                                 // magic
	b = binary.BigEndian.AppendUint32(b, 0)          // crc, patched below
	b = binary.BigEndian.AppendUint16(b, 0)          // attributes
	b = binary.BigEndian.AppendUint32(b, uint32(max(len(recs)-1, 0)))
	b = binary.BigEndian.AppendUint64(b, uint64(ts))    // baseTimestamp
	b = binary.BigEndian.AppendUint64(b, uint64(maxTS)) // maxTimestamp
	b = binary.BigEndian.AppendUint64(b, ^uint64(0))    // producerId -1
	b = binary.BigEndian.AppendUint16(b, 0xffff)        // producerEpoch -1
	b = binary.BigEndian.AppendUint32(b, 0xffffffff)    // baseSequence -1
	b = binary.BigEndian.AppendUint32(b, uint32(len(recs)))
	b = append(b, body...)
	binary.BigEndian.PutUint32(b[8:], uint32(len(b)-12))
	binary.BigEndian.PutUint32(b[17:], crc32.Checksum(b[21:], crc32c))
	return b
}

func appendVarintBytes(b, v []byte) []byte {
	if v == nil {
		return binary.AppendVarint(b, -1)
	}
	b = binary.AppendVarint(b, int64(len(v)))
	return append(b, v...)
}

// decodedBatch is one batch of a Log.Read result.
type decodedBatch struct {
	BaseOffset    int64
	NextOffset    int64 // baseOffset + lastOffsetDelta + 1
	Attributes    int16
	Records       []record
	Transactional bool
	Control       bool
}

var errShortBatch = errors.New("truncated record batch")

// splitBatches walks whole batches in buf and decodes each; a partial batch at the end is
// ignored (Log.Read returns whole batches, so that only happens on a broken log). A batch that
// cannot be decoded is returned with a nil Records and a non-nil error in errs, so the caller
// can log it and move past it using NextOffset.
func splitBatches(buf []byte) (batches []decodedBatch, errs []error) {
	for len(buf) >= 12 {
		length := int(int32(binary.BigEndian.Uint32(buf[8:])))
		if length < batchHeaderLen-12 || len(buf) < 12+length {
			break
		}
		raw := buf[:12+length]
		buf = buf[12+length:]
		b, err := decodeBatch(raw)
		if err != nil {
			errs = append(errs, err)
			if b.NextOffset == 0 {
				continue
			}
		}
		batches = append(batches, b)
	}
	return batches, errs
}

// decodeBatch decodes one v2 batch. Even on error it fills BaseOffset and NextOffset when the
// header is readable.
func decodeBatch(raw []byte) (decodedBatch, error) {
	var d decodedBatch
	if len(raw) < batchHeaderLen {
		return d, errShortBatch
	}
	d.BaseOffset = int64(binary.BigEndian.Uint64(raw[0:]))
	lastDelta := int32(binary.BigEndian.Uint32(raw[23:]))
	d.NextOffset = d.BaseOffset + int64(lastDelta) + 1
	if magic := int8(raw[16]); magic != 2 {
		return d, fmt.Errorf("record batch magic %d, only v2 is supported", magic)
	}
	if want, got := binary.BigEndian.Uint32(raw[17:]), crc32.Checksum(raw[21:], crc32c); want != got {
		return d, fmt.Errorf("record batch at offset %d: CRC mismatch", d.BaseOffset)
	}
	d.Attributes = int16(binary.BigEndian.Uint16(raw[21:]))
	d.Transactional = d.Attributes&0x10 != 0
	d.Control = d.Attributes&0x20 != 0
	baseTS := int64(binary.BigEndian.Uint64(raw[27:]))
	count := int32(binary.BigEndian.Uint32(raw[57:]))
	body := raw[batchHeaderLen:]
	if codec := d.Attributes & 0x7; codec != 0 {
		var err error
		if body, err = decompress(codec, body); err != nil {
			return d, fmt.Errorf("record batch at offset %d: %w", d.BaseOffset, err)
		}
	}
	if count < 0 || int(count) > len(body) {
		return d, fmt.Errorf("record batch at offset %d: bad record count %d", d.BaseOffset, count)
	}
	d.Records = make([]record, 0, count)
	for i := int32(0); i < count; i++ {
		n, used := binary.Varint(body)
		if used <= 0 || n < 0 || int64(len(body)-used) < n {
			return d, fmt.Errorf("record batch at offset %d: truncated record %d", d.BaseOffset, i)
		}
		r, err := decodeRecord(body[used : used+int(n)])
		if err != nil {
			return d, fmt.Errorf("record batch at offset %d, record %d: %w", d.BaseOffset, i, err)
		}
		r.Offset += d.BaseOffset
		r.Timestamp += baseTS
		d.Records = append(d.Records, r)
		body = body[used+int(n):]
	}
	return d, nil
}

// decodeRecord decodes one record body (after its length). Offset and Timestamp are deltas.
func decodeRecord(b []byte) (record, error) {
	var r record
	if len(b) < 1 {
		return r, errShortBatch
	}
	b = b[1:] // attributes
	tsDelta, n := binary.Varint(b)
	if n <= 0 {
		return r, errShortBatch
	}
	b = b[n:]
	offDelta, n := binary.Varint(b)
	if n <= 0 {
		return r, errShortBatch
	}
	b = b[n:]
	var err error
	if r.Key, b, err = readVarintBytes(b); err != nil {
		return r, err
	}
	if r.Value, _, err = readVarintBytes(b); err != nil {
		return r, err
	}
	// Headers are not used by the coordinator; they need not be parsed.
	r.Offset, r.Timestamp = offDelta, tsDelta
	return r, nil
}

func readVarintBytes(b []byte) (v, rest []byte, err error) {
	l, n := binary.Varint(b)
	if n <= 0 || l < -1 || int64(len(b)-n) < l {
		return nil, nil, errShortBatch
	}
	b = b[n:]
	if l < 0 {
		return nil, b, nil
	}
	return b[:l:l], b[l:], nil
}

// maxDecompressed bounds what one batch may expand to, so a corrupt batch cannot exhaust memory.
const maxDecompressed = 256 << 20

func decompress(codec int16, in []byte) ([]byte, error) {
	var r io.Reader
	switch codec {
	case 1: // gzip
		zr, err := gzip.NewReader(bytes.NewReader(in))
		if err != nil {
			return nil, fmt.Errorf("gzip: %w", err)
		}
		defer zr.Close()
		r = zr
	case 2: // snappy, raw or in the xerial framing that the Java client writes
		return unsnappy(in)
	case 3: // lz4 frame
		r = lz4.NewReader(bytes.NewReader(in))
	case 4: // zstd
		zr, err := zstd.NewReader(bytes.NewReader(in), zstd.WithDecoderConcurrency(1), zstd.WithDecoderMaxMemory(maxDecompressed))
		if err != nil {
			return nil, fmt.Errorf("zstd: %w", err)
		}
		defer zr.Close()
		r = zr
	default:
		return nil, fmt.Errorf("unknown compression codec %d", codec)
	}
	out, err := io.ReadAll(io.LimitReader(r, maxDecompressed+1))
	if err != nil {
		return nil, err
	}
	if len(out) > maxDecompressed {
		return nil, errors.New("decompressed batch too large")
	}
	return out, nil
}

var xerialMagic = []byte{0x82, 'S', 'N', 'A', 'P', 'P', 'Y', 0}

func unsnappy(in []byte) ([]byte, error) {
	if !bytes.HasPrefix(in, xerialMagic) {
		return snappyBlock(in)
	}
	in = in[len(xerialMagic)+8:] // magic, version, compatible version
	var out []byte
	for len(in) > 0 {
		if len(in) < 4 {
			return nil, errShortBatch
		}
		n := int(binary.BigEndian.Uint32(in))
		in = in[4:]
		if n < 0 || n > len(in) {
			return nil, errShortBatch
		}
		chunk, err := snappyBlock(in[:n])
		if err != nil {
			return nil, err
		}
		out = append(out, chunk...)
		in = in[n:]
		if len(out) > maxDecompressed {
			return nil, errors.New("decompressed batch too large")
		}
	}
	return out, nil
}

func snappyBlock(in []byte) ([]byte, error) {
	n, err := s2.DecodedLen(in)
	if err != nil {
		return nil, fmt.Errorf("snappy: %w", err)
	}
	if n > maxDecompressed {
		return nil, errors.New("decompressed batch too large")
	}
	return s2.Decode(nil, in)
}

// Record keys and values of __consumer_offsets. Each starts with a 2-byte version; key versions
// 0 and 1 are offset commits, key version 2 is group metadata (Kafka's GroupMetadataManager).

const (
	offsetKeyVersion   = 1
	groupKeyVersion    = 2
	offsetValueVersion = 3 // v1 when the commit carries an expire timestamp (OffsetCommit v2-v4)
	groupValueVersion  = 3
)

func offsetCommitKey(group, topic string, partition int32) []byte {
	k := kmsg.NewOffsetCommitKey()
	k.Version = offsetKeyVersion
	k.Group, k.Topic, k.Partition = group, topic, partition
	return k.AppendTo(nil)
}

func groupMetadataKey(group string) []byte {
	k := kmsg.NewGroupMetadataKey()
	k.Version = groupKeyVersion
	k.Group = group
	return k.AppendTo(nil)
}

func offsetCommitValue(o offsetEntry) []byte {
	v := kmsg.NewOffsetCommitValue()
	v.Version = offsetValueVersion
	v.ExpireTimestamp = -1
	if o.expireTimestamp >= 0 {
		v.Version = 1
		v.ExpireTimestamp = o.expireTimestamp
	}
	v.Offset = o.offset
	v.LeaderEpoch = o.leaderEpoch
	v.Metadata = o.metadata
	v.CommitTimestamp = o.commitTimestamp
	return v.AppendTo(nil)
}

// parsedKey is a decoded __consumer_offsets record key.
type parsedKey struct {
	isOffset  bool // else group metadata
	group     string
	topic     string
	partition int32
}

func parseKey(b []byte) (parsedKey, error) {
	if len(b) < 2 {
		return parsedKey{}, errShortBatch
	}
	switch version := int16(binary.BigEndian.Uint16(b)); version {
	case 0, 1:
		var k kmsg.OffsetCommitKey
		if err := k.ReadFrom(b); err != nil {
			return parsedKey{}, err
		}
		return parsedKey{isOffset: true, group: k.Group, topic: k.Topic, partition: k.Partition}, nil
	case 2:
		var k kmsg.GroupMetadataKey
		if err := k.ReadFrom(b); err != nil {
			return parsedKey{}, err
		}
		return parsedKey{group: k.Group}, nil
	default:
		return parsedKey{}, fmt.Errorf("unknown key version %d", version)
	}
}

func parseOffsetValue(b []byte) (offsetEntry, error) {
	var v kmsg.OffsetCommitValue
	if err := v.ReadFrom(b); err != nil {
		return offsetEntry{}, err
	}
	o := offsetEntry{
		offset:          v.Offset,
		leaderEpoch:     -1,
		metadata:        v.Metadata,
		commitTimestamp: v.CommitTimestamp,
		expireTimestamp: -1,
	}
	if v.Version >= 3 {
		o.leaderEpoch = v.LeaderEpoch
	}
	if v.Version == 1 {
		o.expireTimestamp = v.ExpireTimestamp
	}
	return o, nil
}
