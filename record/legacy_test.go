package record

import (
	"bytes"
	"encoding/binary"
	"errors"
	"hash/crc32"
	"testing"
)

// A magic-1 set converted to v2 and back keeps offsets, timestamps, keys and values.
func TestLegacyRoundTrip(t *testing.T) {
	var set []byte
	set = AppendLegacyMessage(set, 0, 1, 1000, []byte("k0"), []byte("v0"))
	set = AppendLegacyMessage(set, 1, 1, 1005, nil, []byte("v1"))
	set = AppendLegacyMessage(set, 2, 1, 1002, []byte("k2"), nil)
	msgs, err := DecodeLegacy(set, 1<<20)
	if err != nil || len(msgs) != 3 {
		t.Fatalf("decode: %d messages, %v", len(msgs), err)
	}
	for _, codec := range []int8{CodecNone, CodecGzip, CodecSnappy, CodecLZ4, CodecZstd} {
		batch, err := LegacyToBatch(msgs, codec)
		if err != nil {
			t.Fatal(err)
		}
		h, err := Check(batch)
		if err != nil || h.NumRecords != 3 || h.MaxTimestamp != 1005 || h.Compression() != codec {
			t.Fatalf("codec %d: batch %+v %v", codec, h, err)
		}
		SetBaseOffset(batch, 40)
		for _, magic := range []int8{0, 1} {
			back, err := DownConvert(batch, magic, 1<<20, 1<<20)
			if err != nil {
				t.Fatal(err)
			}
			again, err := DecodeLegacy(back, 1<<20)
			if err != nil || len(again) != 3 {
				t.Fatalf("codec %d magic %d: %d messages back, %v", codec, magic, len(again), err)
			}
			for i, m := range again {
				want := msgs[i]
				if m.Offset != 40+int64(i) || m.Magic != magic || !bytes.Equal(m.Key, want.Key) || !bytes.Equal(m.Value, want.Value) ||
					(m.Key == nil) != (want.Key == nil) || (m.Value == nil) != (want.Value == nil) {
					t.Fatalf("codec %d magic %d message %d: %+v, want %+v", codec, magic, i, m, want)
				}
				if magic == 1 && m.Timestamp != want.Timestamp || magic == 0 && m.Timestamp != -1 {
					t.Fatalf("message %d timestamp %d", i, m.Timestamp)
				}
			}
		}
	}
}

// A compressed wrapper (magic 1, relative inner offsets) decodes to absolute offsets.
func TestLegacyCompressedWrapper(t *testing.T) {
	var inner []byte
	for i := int64(0); i < 3; i++ {
		inner = AppendLegacyMessage(inner, i, 1, 7, nil, []byte{byte('a' + i)})
	}
	z, err := Compress(CodecGzip, inner)
	if err != nil {
		t.Fatal(err)
	}
	wrapper := appendLegacy(nil, 12, 1, false, 7, nil, z)
	wrapper[17] = CodecGzip // attributes: gzip
	fixCRC(wrapper)
	msgs, err := DecodeLegacy(wrapper, 1<<20)
	if err != nil || len(msgs) != 3 || msgs[0].Offset != 10 || msgs[2].Offset != 12 || string(msgs[1].Value) != "b" {
		t.Fatalf("%+v %v", msgs, err)
	}
}

func fixCRC(entry []byte) {
	binary.BigEndian.PutUint32(entry[12:], crc32.ChecksumIEEE(entry[16:]))
}

// Broken input is an error, never a panic; a v2 batch is ErrUnsupportedMagic.
func TestLegacyRefusals(t *testing.T) {
	good := AppendLegacyMessage(nil, 0, 0, -1, nil, []byte("x"))
	bad := bytes.Clone(good)
	bad[len(bad)-1] ^= 1
	if _, err := DecodeLegacy(bad, 1<<20); !errors.Is(err, ErrCorrupt) {
		t.Fatalf("bad CRC: %v", err)
	}
	if _, err := DecodeLegacy(good[:len(good)-1], 1<<20); !errors.Is(err, ErrCorrupt) {
		t.Fatalf("truncated: %v", err)
	}
	v2 := Build(BatchHeader{ProducerID: -1, ProducerEpoch: -1, BaseSequence: -1, NumRecords: 1}, AppendRecord(nil, 0, 0, nil, []byte("v"), nil))
	if _, err := DecodeLegacy(v2, 1<<20); !errors.Is(err, ErrUnsupportedMagic) {
		t.Fatalf("a v2 batch: %v", err)
	}
}

// DownConvert stops before maxBytes but always writes one message.
func TestDownConvertBounded(t *testing.T) {
	var body []byte
	for i := 0; i < 100; i++ {
		body = AppendRecord(body, int64(i), 0, nil, bytes.Repeat([]byte("x"), 100), nil)
	}
	batch := Build(BatchHeader{LastOffsetDelta: 99, ProducerID: -1, ProducerEpoch: -1, BaseSequence: -1, NumRecords: 100}, body)
	out, err := DownConvert(batch, 1, 500, 1<<20)
	if err != nil || len(out) > 500 || len(out) == 0 {
		t.Fatalf("%d bytes, %v", len(out), err)
	}
	one, _ := DownConvert(batch, 1, 1, 1<<20)
	if msgs, err := DecodeLegacy(one, 1<<20); err != nil || len(msgs) != 1 {
		t.Fatalf("maxBytes 1: %d messages %v", len(msgs), err)
	}
}
