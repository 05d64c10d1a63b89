package record

import (
	"bytes"
	"errors"
	"testing"
)

// fuzzLimit caps decompression in the fuzz targets.
const fuzzLimit = 1 << 20

// FuzzDecodeBatch: no bytes make the batch reader panic or decode past the limit; what passes
// Check decodes to at most recordCount records, with offsets inside the batch.
func FuzzDecodeBatch(f *testing.F) {
	for _, c := range codecs {
		f.Add(testBatch(f, c.codec, sampleRecords()[:4]...))
		b := testBatch(f, c.codec, testRec{[]byte("k"), []byte("v"), []Header{{"h", nil}}})
		f.Add(b[:len(b)-3])
	}
	f.Add([]byte{})
	f.Add(make([]byte, HeaderSize))
	f.Fuzz(func(t *testing.T, b []byte) {
		_ = ForEachBatch(b, func(h BatchHeader, raw []byte) error {
			_, _ = DecodeRecords(h, raw, fuzzLimit)
			return nil
		})
		h, err := Check(b)
		if err != nil {
			return
		}
		recs, err := DecodeRecords(h, b, fuzzLimit)
		if err != nil {
			if !errors.Is(err, ErrCorrupt) && !errors.Is(err, ErrTooLarge) {
				t.Fatalf("error wraps neither ErrCorrupt nor ErrTooLarge: %v", err)
			}
			return
		}
		if len(recs) != int(h.NumRecords) {
			t.Fatalf("%d records, header says %d", len(recs), h.NumRecords)
		}
		for _, r := range recs {
			if r.Offset < h.BaseOffset || r.Offset > h.LastOffset() {
				t.Fatalf("record offset %d outside %d..%d", r.Offset, h.BaseOffset, h.LastOffset())
			}
		}
	})
}

// fuzzCodec: arbitrary input never panics nor yields more than the limit, and any input
// compressed then decompressed comes back unchanged.
func fuzzCodec(f *testing.F, codec int8) {
	for _, s := range [][]byte{nil, []byte("a"), []byte("hello hello hello hello"), bytes.Repeat([]byte("ab"), 600)} {
		c, err := Compress(codec, s)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(c)
		f.Add(s)
		if len(c) > 4 {
			f.Add(c[:len(c)/2])
		}
	}
	if codec == CodecSnappy {
		f.Add(append(append([]byte{}, xerialMagic...), 0, 0, 0, 1, 0, 0, 0, 1, 0x7f, 0xff, 0xff, 0xff))
		f.Add([]byte{0xff, 0xff, 0xff, 0xff, 0x0f})
	}
	f.Fuzz(func(t *testing.T, in []byte) {
		out, err := Decompress(codec, in, fuzzLimit)
		if err == nil && len(out) > fuzzLimit {
			t.Fatalf("%d bytes out, limit %d", len(out), fuzzLimit)
		}
		c, err := Compress(codec, in)
		if err != nil {
			t.Fatal(err)
		}
		back, err := Decompress(codec, c, fuzzLimit)
		if err != nil || !bytes.Equal(back, in) {
			t.Fatalf("round trip of %d bytes: %d bytes, %v", len(in), len(back), err)
		}
	})
}

func FuzzDecompressGzip(f *testing.F)   { fuzzCodec(f, CodecGzip) }
func FuzzDecompressSnappy(f *testing.F) { fuzzCodec(f, CodecSnappy) }
func FuzzDecompressLZ4(f *testing.F)    { fuzzCodec(f, CodecLZ4) }
func FuzzDecompressZstd(f *testing.F)   { fuzzCodec(f, CodecZstd) }

// FuzzDecodeLegacy feeds arbitrary bytes to the reader of old message sets (Produce v0-v2):
// no panic, and what decodes converts to a v2 batch that checks.
func FuzzDecodeLegacy(f *testing.F) {
	f.Add(AppendLegacyMessage(nil, 0, 0, -1, []byte("k"), []byte("v")))
	f.Add(AppendLegacyMessage(AppendLegacyMessage(nil, 0, 1, 5, nil, []byte("a")), 1, 1, 6, []byte("b"), nil))
	f.Fuzz(func(t *testing.T, set []byte) {
		msgs, err := DecodeLegacy(set, 1<<20)
		if err != nil || len(msgs) == 0 {
			return
		}
		batch, err := LegacyToBatch(msgs, CodecNone)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := Check(batch); err != nil {
			t.Fatalf("converted batch does not check: %v", err)
		}
	})
}
