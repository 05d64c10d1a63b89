package logstore

import recordpkg "github.com/klassik/klassik/record"

// The tests' view of a decoded record and the codecs, on top of package record.
type testRecord struct {
	offset    int64
	timestamp int64
	key       []byte
	value     []byte
	tombstone bool
}

const (
	codecNone   = recordpkg.CodecNone
	codecGzip   = recordpkg.CodecGzip
	codecSnappy = recordpkg.CodecSnappy
	codecLZ4    = recordpkg.CodecLZ4
	codecZstd   = recordpkg.CodecZstd
)

func compressRecords(codec int8, in []byte) ([]byte, error) { return recordpkg.Compress(codec, in) }

func testDecodeRecords(h BatchHeader, batch []byte) ([]testRecord, error) {
	recs, err := decodeRecords(h, batch, decompressLimit(0))
	if err != nil {
		return nil, err
	}
	out := make([]testRecord, len(recs))
	for i, r := range recs {
		out[i] = testRecord{offset: r.Offset, timestamp: r.Timestamp, key: r.Key, value: r.Value, tombstone: r.Tombstone()}
	}
	return out, nil
}
