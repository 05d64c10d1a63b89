package logstore

import (
	"encoding/binary"
	"testing"
)

// batchWithTimestamps builds an uncompressed CreateTime v2 batch whose record i has
// timestamp base+deltas[i]; maxTimestamp is the largest.
func batchWithTimestamps(base int64, deltas ...int64) []byte {
	s := plain(len(deltas), base)
	b := s.build()
	// Rebuild the records with the given timestamp deltas.
	var recs []byte
	maxTs := base
	for i, d := range deltas {
		var r []byte
		r = append(r, 0)
		r = binary.AppendVarint(r, d)
		r = binary.AppendVarint(r, int64(i))
		r = binary.AppendVarint(r, -1)
		r = binary.AppendVarint(r, 1)
		r = append(r, 'v')
		r = binary.AppendVarint(r, 0)
		recs = binary.AppendVarint(recs, int64(len(r)))
		recs = append(recs, r...)
		maxTs = max(maxTs, base+d)
	}
	b = append(b[:BatchHeaderSize:BatchHeaderSize], recs...)
	binary.BigEndian.PutUint32(b[offLength:], uint32(BatchHeaderSize-batchLogOverhead+len(recs)))
	binary.BigEndian.PutUint64(b[offMaxTimestamp:], uint64(maxTs))
	binary.BigEndian.PutUint32(b[offCRC:], BatchCRC(b))
	return b
}

// TestMaxTimestampRecord: ListOffsets -3 (KIP-734) answers, as Kafka 3.6's leader does, the
// first record holding the largest timestamp of the first batch that has it, not the last
// offset of that batch; across batches with an equal maximum, the first batch wins.
func TestMaxTimestampRecord(t *testing.T) {
	l := openT(t, NewMemFS(), "/d/t-0", testConfig(), 0)
	defer l.Close()
	mustAppend(t, l, batchWithTimestamps(1000, 0, 50, 10, 50, 20)) // offsets 0-4: max 1050 at 1 (and 3)
	mustAppend(t, l, batchWithTimestamps(1000, 5, 50, 1))          // offsets 5-7: 1050 again, later
	mustAppend(t, l, batchWithTimestamps(900, 0, 1, 2))            // offsets 8-10: older
	off, ts, found, err := l.FetchOffsetByTimestamp(-3)
	if err != nil || !found || off != 1 || ts != 1050 {
		t.Fatalf("max timestamp: offset %d ts %d found %v err %v; want offset 1 ts 1050", off, ts, found, err)
	}
	mustAppend(t, l, batchWithTimestamps(2000, 3, 7, 7, 0)) // offsets 11-14: new max 2007 at 12
	if off, ts, _, _ := l.FetchOffsetByTimestamp(-3); off != 12 || ts != 2007 {
		t.Fatalf("after a newer batch: offset %d ts %d, want 12 and 2007", off, ts)
	}
}
