package logstore

import (
	"encoding/binary"
	"testing"

	"github.com/rs/zerolog"
)

// batchSpec describes a v2 batch built by the tests.
type batchSpec struct {
	records    int
	ts         int64 // base timestamp; record i has ts+i
	valueSize  int
	producerID int64
	epoch      int16
	seq        int32
	txn        bool // the transactional attribute bit
}

func txnBatch(pid int64, epoch int16, seq int32, n int) batchSpec {
	s := idem(pid, epoch, seq, n)
	s.txn = true
	return s
}

func plain(n int, ts int64) batchSpec {
	return batchSpec{records: n, ts: ts, valueSize: 10, producerID: -1, epoch: -1, seq: -1}
}

func idem(pid int64, epoch int16, seq int32, n int) batchSpec {
	return batchSpec{records: n, ts: 1000, valueSize: 10, producerID: pid, epoch: epoch, seq: seq}
}

// build encodes a valid, uncompressed v2 batch (Kafka's DefaultRecordBatch) at offset 0.
func (s batchSpec) build() []byte {
	var recs []byte
	for i := 0; i < s.records; i++ {
		var r []byte
		r = append(r, 0) // attributes
		r = binary.AppendVarint(r, int64(i))
		r = binary.AppendVarint(r, int64(i))
		r = binary.AppendVarint(r, -1) // null key
		r = binary.AppendVarint(r, int64(s.valueSize))
		for j := 0; j < s.valueSize; j++ {
			r = append(r, byte(i+j))
		}
		r = binary.AppendVarint(r, 0) // headers
		recs = binary.AppendVarint(recs, int64(len(r)))
		recs = append(recs, r...)
	}
	b := make([]byte, BatchHeaderSize, BatchHeaderSize+len(recs))
	binary.BigEndian.PutUint64(b[offBaseOffset:], 0)
	binary.BigEndian.PutUint32(b[offLength:], uint32(BatchHeaderSize-batchLogOverhead+len(recs)))
	binary.BigEndian.PutUint32(b[offLeaderEpoch:], 0xffffffff)
	b[offMagic] = 2
	var attrs uint16
	if s.txn {
		attrs = 0x10
	}
	binary.BigEndian.PutUint16(b[offAttributes:], attrs)
	binary.BigEndian.PutUint32(b[offLastOffsetDelta:], uint32(s.records-1))
	binary.BigEndian.PutUint64(b[offBaseTimestamp:], uint64(s.ts))
	binary.BigEndian.PutUint64(b[offMaxTimestamp:], uint64(s.ts+int64(s.records-1)))
	binary.BigEndian.PutUint64(b[offProducerID:], uint64(s.producerID))
	binary.BigEndian.PutUint16(b[offProducerEpoch:], uint16(s.epoch))
	binary.BigEndian.PutUint32(b[offBaseSequence:], uint32(s.seq))
	binary.BigEndian.PutUint32(b[offRecordCount:], uint32(s.records))
	b = append(b, recs...)
	binary.BigEndian.PutUint32(b[offCRC:], BatchCRC(b))
	return b
}

func concat(bs ...[]byte) []byte {
	var out []byte
	for _, b := range bs {
		out = append(out, b...)
	}
	return out
}

var testTP = TopicPartition{"orders.v1-eu", 3}

func testConfig() Config {
	c := DefaultConfig()
	c.IndexIntervalBytes = 100
	return c
}

func openT(t testing.TB, fsys FS, dir string, cfg Config, rp int64) *Log {
	t.Helper()
	l, err := Open(fsys, dir, testTP, cfg, rp, zerolog.Nop())
	if err != nil {
		t.Fatalf("open: %v", err)
	}
	return l
}

func mustAppend(t testing.TB, l *Log, b []byte) AppendResult {
	t.Helper()
	res, err := l.AppendAsLeader(b, 1, 5000)
	if err != nil {
		t.Fatalf("append: %v", err)
	}
	return res
}

// headers parses and CRC-checks every batch of records.
func headers(t testing.TB, records []byte) []BatchHeader {
	t.Helper()
	var out []BatchHeader
	err := ForEachBatch(records, func(h BatchHeader, b []byte) error {
		if _, err := CheckBatch(b); err != nil {
			return err
		}
		out = append(out, h)
		return nil
	})
	if err != nil {
		t.Fatalf("batches: %v", err)
	}
	return out
}

// readAll reads every batch from offset to the log end.
func readAll(t testing.TB, l *Log, from int64) []BatchHeader {
	t.Helper()
	var out []BatchHeader
	for off := from; off < l.LogEndOffset(); {
		b, err := l.Read(off, 1<<20, -1, true)
		if err != nil {
			t.Fatalf("read %d: %v", off, err)
		}
		hs := headers(t, b)
		if len(hs) == 0 {
			t.Fatalf("read %d returned nothing before the log end %d", off, l.LogEndOffset())
		}
		out = append(out, hs...)
		off = hs[len(hs)-1].NextOffset()
	}
	return out
}
