package group

import (
	"bytes"
	"compress/gzip"
	"encoding/binary"
	"fmt"
	"hash/crc32"
	"testing"

	"github.com/klauspost/compress/s2"
	"github.com/klauspost/compress/zstd"
	"github.com/pierrec/lz4/v4"
	"github.com/twmb/franz-go/pkg/kmsg"
)

// TestPartitionFor checks Kafka's partitionFor: Utils.abs(String.hashCode) % partitions.
// String.hashCode is s[0]*31^(n-1) + ... + s[n-1] over UTF-16 code units in int32 arithmetic:
//
//	""      -> 0
//	"a"     -> 97
//	"ab"    -> 97*31 + 98 = 3105
//	"abc"   -> 3105*31 + 99 = 96354                      96354 % 50 = 4
//	"my-group" -> -1906497762 (wraps); abs = 1906497762  % 50 = 12
//	"polygenelubricants" -> -2147483648 = Integer.MIN_VALUE; Utils.abs maps it to 0
//	"😀" (U+1F600) -> surrogates 0xD83D, 0xDE00: 55357*31 + 56832 = 1772899  % 50 = 49
func TestPartitionFor(t *testing.T) {
	hashes := map[string]int32{
		"": 0, "a": 97, "ab": 3105, "abc": 96354, "my-group": -1906497762,
		"polygenelubricants": -2147483648, "😀": 1772899, "été": 227742,
	}
	for s, want := range hashes {
		if got := javaStringHash(s); got != want {
			t.Errorf("hash(%q) = %d, want %d", s, got, want)
		}
	}
	parts := map[string]int32{"": 0, "abc": 4, "my-group": 12, "polygenelubricants": 0, "😀": 49}
	for s, want := range parts {
		if got := partitionFor(s, 50); got != want {
			t.Errorf("partitionFor(%q) = %d, want %d", s, got, want)
		}
	}
}

func TestEncodeBatchDecodesWithKmsg(t *testing.T) {
	recs := []offsetsRecord{
		{Timestamp: 1000, Key: []byte("k1"), Value: []byte("v1")},
		{Timestamp: 1005, Key: []byte("k2"), Value: nil}, // tombstone
		{Timestamp: 1001, Key: []byte("k3"), Value: []byte{}},
	}
	raw := encodeBatch(1000, recs)

	var b kmsg.RecordBatch
	if err := b.ReadFrom(raw); err != nil {
		t.Fatal(err)
	}
	if b.Magic != 2 || b.PartitionLeaderEpoch != -1 || b.ProducerID != -1 || b.ProducerEpoch != -1 ||
		b.FirstSequence != -1 || b.Attributes != 0 || b.NumRecords != 3 || b.LastOffsetDelta != 2 ||
		b.FirstTimestamp != 1000 || b.MaxTimestamp != 1005 || int(b.Length) != len(raw)-12 {
		t.Fatalf("unexpected header %+v", b)
	}
	if want := int32(crc32.Checksum(raw[21:], crc32.MakeTable(crc32.Castagnoli))); b.CRC != want {
		t.Fatalf("crc %x, want %x", b.CRC, want)
	}
	body := b.Records
	for i, want := range recs {
		var r kmsg.Record
		l, n := binary.Varint(body)
		if err := r.ReadFrom(body[:n+int(l)]); err != nil {
			t.Fatal(err)
		}
		body = body[n+int(l):]
		if int(r.OffsetDelta) != i || 1000+r.TimestampDelta64 != want.Timestamp || !bytes.Equal(r.Key, want.Key) ||
			(r.Value == nil) != (want.Value == nil) || !bytes.Equal(r.Value, want.Value) {
			t.Errorf("record %d = %+v, want %+v", i, r, want)
		}
	}

	// And our decoder reads it back, with the base offset the log assigned.
	binary.BigEndian.PutUint64(raw, 40)
	d, err := decodeBatch(raw)
	if err != nil {
		t.Fatal(err)
	}
	if d.BaseOffset != 40 || d.NextOffset != 43 || len(d.Records) != 3 {
		t.Fatalf("decoded %+v", d)
	}
	for i, want := range recs {
		got := d.Records[i]
		if got.Offset != 40+int64(i) || got.Timestamp != want.Timestamp || !bytes.Equal(got.Key, want.Key) ||
			(got.Value == nil) != (want.Value == nil) {
			t.Errorf("record %d = %+v, want %+v", i, got, want)
		}
	}
}

// kmsgBatch builds a batch with kmsg's encoder (attributes give the codec; records are
// compressed by the caller).
func kmsgBatch(t *testing.T, codec int16, compress func([]byte) []byte) []byte {
	t.Helper()
	var recs []byte
	for i := 0; i < 3; i++ {
		r := kmsg.NewRecord()
		r.OffsetDelta = int32(i)
		r.TimestampDelta64 = int64(i)
		r.Key = []byte{byte('a' + i)}
		r.Value = bytes.Repeat([]byte{byte(i)}, 100)
		r.Headers = []kmsg.Header{{Key: "h", Value: []byte("x")}}
		enc := r.AppendTo(nil)[1:] // drop the zero length placeholder, then prefix the real one
		var l []byte
		l = binary.AppendVarint(l, int64(len(enc)))
		recs = append(recs, append(l, enc...)...)
	}
	if compress != nil {
		recs = compress(recs)
	}
	b := kmsg.NewRecordBatch()
	b.FirstOffset = 7
	b.PartitionLeaderEpoch = 3
	b.Magic = 2
	b.Attributes = codec
	b.LastOffsetDelta = 2
	b.FirstTimestamp = 500
	b.MaxTimestamp = 502
	b.ProducerID, b.ProducerEpoch, b.FirstSequence = -1, -1, -1
	b.NumRecords = 3
	b.Records = recs
	raw := b.AppendTo(nil)
	binary.BigEndian.PutUint32(raw[8:], uint32(len(raw)-12))
	binary.BigEndian.PutUint32(raw[17:], crc32.Checksum(raw[21:], crc32.MakeTable(crc32.Castagnoli)))
	return raw
}

func TestDecodeBatchCodecs(t *testing.T) {
	codecs := map[string]struct {
		codec int16
		f     func([]byte) []byte
	}{
		"none": {0, nil},
		"gzip": {1, func(b []byte) []byte {
			var buf bytes.Buffer
			w := gzip.NewWriter(&buf)
			w.Write(b)
			w.Close()
			return buf.Bytes()
		}},
		"snappy": {2, func(b []byte) []byte { return s2.EncodeSnappy(nil, b) }},
		"snappy-xerial": {2, func(b []byte) []byte {
			out := []byte{0x82, 'S', 'N', 'A', 'P', 'P', 'Y', 0}
			out = binary.BigEndian.AppendUint32(out, 1)
			out = binary.BigEndian.AppendUint32(out, 1)
			for _, chunk := range [][]byte{b[:50], b[50:]} {
				c := s2.EncodeSnappy(nil, chunk)
				out = binary.BigEndian.AppendUint32(out, uint32(len(c)))
				out = append(out, c...)
			}
			return out
		}},
		"lz4": {3, func(b []byte) []byte {
			var buf bytes.Buffer
			w := lz4.NewWriter(&buf)
			w.Write(b)
			w.Close()
			return buf.Bytes()
		}},
		"zstd": {4, func(b []byte) []byte {
			e, _ := zstd.NewWriter(nil)
			defer e.Close()
			return e.EncodeAll(b, nil)
		}},
	}
	for name, cc := range codecs {
		t.Run(name, func(t *testing.T) {
			raw := kmsgBatch(t, cc.codec, cc.f)
			batches, errs, _ := splitBatches(append(raw, raw...), 1<<20)
			if len(errs) > 0 {
				t.Fatal(errs)
			}
			if len(batches) != 2 {
				t.Fatalf("%d batches", len(batches))
			}
			d := batches[0]
			if d.BaseOffset != 7 || d.NextOffset != 10 || len(d.Records) != 3 {
				t.Fatalf("decoded %+v", d)
			}
			for i, r := range d.Records {
				if r.Offset != 7+int64(i) || r.Timestamp != 500+int64(i) || r.Key[0] != byte('a'+i) || len(r.Value) != 100 {
					t.Errorf("record %d: %+v", i, r)
				}
			}
		})
	}
}

func TestDecodeBatchRejectsCorruption(t *testing.T) {
	raw := encodeBatch(1, []offsetsRecord{{Timestamp: 1, Key: []byte("k"), Value: []byte("v")}})
	raw[len(raw)-1] ^= 0xff
	if _, err := decodeBatch(raw); err == nil {
		t.Fatal("corrupt batch decoded")
	}
	// A truncated tail is not a batch.
	good := encodeBatch(1, []offsetsRecord{{Timestamp: 1, Key: []byte("k"), Value: []byte("v")}})
	batches, errs, ok := splitBatches(append(good, good[:20]...), 1<<20)
	if ok || len(errs) != 1 {
		t.Fatalf("truncated tail: ok %v, errs %v", ok, errs)
	}
	if len(batches) != 1 {
		t.Fatalf("%d batches", len(batches))
	}
}

func TestKeyValueSchemas(t *testing.T) {
	k := offsetCommitKey("g", "t", 3)
	if binary.BigEndian.Uint16(k) != 1 {
		t.Fatalf("offset key version %d", binary.BigEndian.Uint16(k))
	}
	pk, err := parseKey(k)
	if err != nil || !pk.isOffset || pk.group != "g" || pk.topic != "t" || pk.partition != 3 {
		t.Fatalf("%+v %v", pk, err)
	}
	gk := groupMetadataKey("g")
	if binary.BigEndian.Uint16(gk) != 2 {
		t.Fatalf("group key version %d", binary.BigEndian.Uint16(gk))
	}
	if pk, err := parseKey(gk); err != nil || pk.isOffset || pk.group != "g" {
		t.Fatalf("%+v %v", pk, err)
	}
	for _, e := range []offsetEntry{
		{offset: 5, leaderEpoch: 2, metadata: "m", commitTimestamp: 9, expireTimestamp: -1},
		{offset: 5, leaderEpoch: -1, metadata: "", commitTimestamp: 9, expireTimestamp: 99},
	} {
		v := offsetCommitValue(e)
		wantVersion := uint16(3)
		if e.expireTimestamp >= 0 {
			wantVersion = 1
		}
		if binary.BigEndian.Uint16(v) != wantVersion {
			t.Errorf("value version %d, want %d", binary.BigEndian.Uint16(v), wantVersion)
		}
		got, err := parseOffsetValue(v)
		if err != nil || got != e {
			t.Errorf("round trip %+v -> %+v %v", e, got, err)
		}
	}
}

// decodeBatch decodes the one whole batch in raw.
func decodeBatch(raw []byte) (decodedBatch, error) {
	bs, errs, _ := splitBatches(raw, 1<<20)
	if len(errs) > 0 {
		return decodedBatch{}, errs[0]
	}
	if len(bs) != 1 {
		return decodedBatch{}, fmt.Errorf("%d batches", len(bs))
	}
	return bs[0], nil
}
