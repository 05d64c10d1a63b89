package record

import (
	"bytes"
	"errors"
	"fmt"
	"strings"
	"testing"
)

var codecs = []struct {
	name  string
	codec int8
}{{"none", CodecNone}, {"gzip", CodecGzip}, {"snappy", CodecSnappy}, {"lz4", CodecLZ4}, {"zstd", CodecZstd}}

type testRec struct {
	key, value []byte
	headers    []Header
}

// testBatch encodes recs as one batch with codec, base offset 100, timestamps 5000+i.
func testBatch(t testing.TB, codec int8, recs ...testRec) []byte {
	t.Helper()
	var body []byte
	for i, r := range recs {
		body = AppendRecord(body, int64(i), int64(i), r.key, r.value, r.headers)
	}
	cb, err := Compress(codec, body)
	if err != nil {
		t.Fatal(err)
	}
	return Build(BatchHeader{BaseOffset: 100, PartitionLeaderEpoch: 7, Attributes: int16(codec), LastOffsetDelta: int32(len(recs) - 1),
		BaseTimestamp: 5000, MaxTimestamp: 5000 + int64(len(recs)-1), ProducerID: 9, ProducerEpoch: 1, BaseSequence: 3,
		NumRecords: int32(len(recs))}, cb)
}

func sampleRecords() []testRec {
	return []testRec{
		{[]byte("k0"), []byte("v0"), nil},
		{nil, []byte("keyless"), []Header{{"h", []byte("x")}, {"", nil}}},
		{[]byte("tomb"), nil, nil},
		{[]byte{}, []byte{}, nil},
		{[]byte("big"), bytes.Repeat([]byte("abcdefgh"), 20000), []Header{{"trace", []byte("1")}}},
	}
}

func TestBatchRoundTripEveryCodec(t *testing.T) {
	want := sampleRecords()
	for _, c := range codecs {
		t.Run(c.name, func(t *testing.T) {
			b := testBatch(t, c.codec, want...)
			h, err := Check(b)
			if err != nil {
				t.Fatal(err)
			}
			if h.BaseOffset != 100 || h.NextOffset() != 105 || h.Compression() != c.codec || h.LastSequence() != 7 || h.Size() != len(b) {
				t.Fatalf("header %+v", h)
			}
			recs, err := DecodeRecords(h, b, 1<<20)
			if err != nil {
				t.Fatal(err)
			}
			if len(recs) != len(want) {
				t.Fatalf("%d records", len(recs))
			}
			for i, r := range recs {
				w := want[i]
				if r.Offset != 100+int64(i) || r.Timestamp != 5000+int64(i) ||
					(r.Key == nil) != (w.key == nil) || !bytes.Equal(r.Key, w.key) ||
					(r.Value == nil) != (w.value == nil) || !bytes.Equal(r.Value, w.value) || r.Tombstone() != (w.value == nil) ||
					fmt.Sprint(r.Headers) != fmt.Sprint(w.headers) {
					t.Errorf("record %d: %+v", i, r)
				}
			}
			// Raw records re-encode to the same section.
			var raw []byte
			for _, r := range recs {
				raw = append(raw, r.Raw...)
			}
			if plain, _ := Decompress(c.codec, b[HeaderSize:], 1<<20); !bytes.Equal(raw, plain) {
				t.Fatal("Raw records do not add up to the records section")
			}
		})
	}
}

// TestDecompressionIsCapped: a bomb (a small input expanding far past the limit) is refused
// with an error that wraps ErrTooLarge and names the limit, for every codec.
func TestDecompressionIsCapped(t *testing.T) {
	plain := make([]byte, 8<<20) // zeros: every codec compresses these to very little
	const limit = 1 << 20
	for _, c := range codecs {
		t.Run(c.name, func(t *testing.T) {
			in, err := Compress(c.codec, plain)
			if err != nil {
				t.Fatal(err)
			}
			out, err := Decompress(c.codec, in, limit)
			if !errors.Is(err, ErrTooLarge) || !strings.Contains(err.Error(), "1048576") || out != nil {
				t.Fatalf("%d compressed bytes: %d bytes out, error %v; want ErrTooLarge naming the limit", len(in), len(out), err)
			}
			// Exactly at the limit decodes.
			in, _ = Compress(c.codec, plain[:limit])
			if out, err := Decompress(c.codec, in, limit); err != nil || len(out) != limit {
				t.Fatalf("at the limit: %d bytes, %v", len(out), err)
			}
		})
	}
	// A raw snappy block that declares a huge length is refused before any allocation.
	bomb := []byte{0xff, 0xff, 0xff, 0xff, 0x0f, 0x00}
	if _, err := Decompress(CodecSnappy, bomb, limit); !errors.Is(err, ErrTooLarge) && !errors.Is(err, ErrCorrupt) {
		t.Fatalf("snappy length bomb: %v", err)
	}
	// A batch whose records are a bomb fails to decode with the same error.
	var body []byte
	for i := range 1000 {
		body = AppendRecord(body, int64(i), 0, nil, make([]byte, 4096), nil)
	}
	cb, _ := Compress(CodecZstd, body)
	b := Build(BatchHeader{Attributes: CodecZstd, LastOffsetDelta: 999, NumRecords: 1000}, cb)
	h, _ := Check(b)
	if _, err := DecodeRecords(h, b, limit); !errors.Is(err, ErrTooLarge) {
		t.Fatalf("zstd bomb batch: %v", err)
	}
}

// TestXerialSnappy reads the xerial framing the Java client writes, in several blocks, and
// rejects a block length past the end (the crash of the old coordinator decoder).
func TestXerialSnappy(t *testing.T) {
	plain := bytes.Repeat([]byte("0123456789"), 10000) // 100 kB: four 32 KiB blocks
	in, _ := Compress(CodecSnappy, plain)
	if !bytes.HasPrefix(in, xerialMagic) {
		t.Fatal("Compress does not write the xerial framing")
	}
	out, err := Decompress(CodecSnappy, in, 1<<20)
	if err != nil || !bytes.Equal(out, plain) {
		t.Fatalf("xerial round trip: %d bytes, %v", len(out), err)
	}
	for _, bad := range [][]byte{
		xerialMagic, // header cut short
		append(append([]byte{}, in[:xerialHeaderSize]...), 0x7f, 0xff, 0xff, 0xff, 1, 2, 3), // block past the end
		append(append([]byte{}, in[:xerialHeaderSize]...), 0, 0),                            // length cut short
		append(append([]byte{}, in[:xerialHeaderSize]...), 0, 0, 0, 2, 0xff, 0xff),          // not snappy
	} {
		if _, err := Decompress(CodecSnappy, bad, 1<<20); !errors.Is(err, ErrCorrupt) {
			t.Errorf("% x: %v, want ErrCorrupt", bad, err)
		}
	}
}

// TestCorruptBatches: every truncation and every single-byte change of a valid batch is
// either refused or (for the fields outside the CRC) still a consistent batch; nothing panics.
func TestCorruptBatches(t *testing.T) {
	for _, c := range codecs {
		good := testBatch(t, c.codec, sampleRecords()[:4]...)
		for n := 0; n < len(good); n++ {
			if _, err := Check(good[:n]); err == nil {
				t.Fatalf("%s: %d of %d bytes passed Check", c.name, n, len(good))
			}
			if err := ForEachBatch(good[:n], func(BatchHeader, []byte) error { return nil }); err == nil && n > 0 {
				t.Fatalf("%s: %d of %d bytes walked as whole batches", c.name, n, len(good))
			}
		}
		for i := OffAttributes; i < len(good); i++ {
			b := append([]byte{}, good...)
			b[i] ^= 0x41
			if _, err := Check(b); !errors.Is(err, ErrCorrupt) {
				t.Fatalf("%s: flipped byte %d passed Check: %v", c.name, i, err)
			}
			// Decoding without the CRC check must still be safe.
			if h, err := ParseHeader(b); err == nil {
				_, _ = DecodeRecords(h, b, 1<<20)
			}
		}
	}
	b := testBatch(t, CodecNone, sampleRecords()[:2]...)
	b[OffMagic] = 1
	if _, err := Check(b); !errors.Is(err, ErrUnsupportedMagic) {
		t.Fatalf("magic 1: %v", err)
	}
}

// TestDecodeRecordsStrict: what DefaultRecord.readFrom refuses is refused here.
func TestDecodeRecordsStrict(t *testing.T) {
	rec := AppendRecord(nil, 0, 0, []byte("k"), []byte("v"), nil)
	for name, tc := range map[string]struct {
		body  []byte
		count int32
		delta int32
	}{
		"count too high":      {rec, 2, 1},
		"count negative":      {rec, -1, 0},
		"trailing bytes":      {append(append([]byte{}, rec...), 0), 1, 0},
		"offset delta beyond": {AppendRecord(nil, 5, 0, nil, nil, nil), 1, 0},
		"length past the end": {append([]byte{0x7e}, rec[1:]...), 1, 0},
	} {
		b := Build(BatchHeader{LastOffsetDelta: tc.delta, NumRecords: tc.count}, tc.body)
		h, err := Check(b)
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		if _, err := DecodeRecords(h, b, 1<<20); !errors.Is(err, ErrCorrupt) {
			t.Errorf("%s: %v, want ErrCorrupt", name, err)
		}
	}
}

func TestSequences(t *testing.T) {
	if IncrementSequence(1<<31-1, 1) != 0 || IncrementSequence(-1, 5) != -1 || IncrementSequence(3, 4) != 7 {
		t.Fatal("IncrementSequence")
	}
	if DecrementSequence(0, 1) != 1<<31-1 || DecrementSequence(7, 4) != 3 {
		t.Fatal("DecrementSequence")
	}
}

func TestSetters(t *testing.T) {
	b := testBatch(t, CodecLZ4, sampleRecords()[:2]...)
	SetBaseOffset(b, 77)
	SetLeaderEpoch(b, 12)
	SetLogAppendTime(b, 999)
	h, err := Check(b)
	if err != nil || h.BaseOffset != 77 || h.PartitionLeaderEpoch != 12 || !h.LogAppendTime() || h.MaxTimestamp != 999 {
		t.Fatalf("%+v %v", h, err)
	}
}
