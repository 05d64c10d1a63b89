package logstore

import (
	"encoding/binary"
	"fmt"
	"reflect"
	"slices"
	"testing"
)

// keyedTxnBatch is keyedBatch written by transactional producer pid.
func keyedTxnBatch(t testing.TB, ts int64, pid int64, seq int32, recs ...kv) []byte {
	b := keyedBatch(t, ts, 0, recs...)
	binary.BigEndian.PutUint16(b[offAttributes:], 0x10)
	binary.BigEndian.PutUint64(b[offProducerID:], uint64(pid))
	binary.BigEndian.PutUint16(b[offProducerEpoch:], 0)
	binary.BigEndian.PutUint32(b[offBaseSequence:], uint32(seq))
	binary.BigEndian.PutUint32(b[offCRC:], BatchCRC(b))
	return b
}

// logView is what a reader finds: "key=value@offset" of data records and "COMMIT(pid)@offset"
// or "ABORT(pid)@offset" of markers.
func logView(t *testing.T, l *Log) []string {
	t.Helper()
	var out []string
	for off := l.LogStartOffset(); off < l.LogEndOffset(); {
		b, err := l.Read(off, 1<<20, -1, true)
		if err != nil {
			t.Fatal(err)
		}
		if len(b) == 0 {
			break
		}
		err = ForEachBatch(b, func(h BatchHeader, batch []byte) error {
			recs, err := decodeRecords(h, batch, 1<<20)
			if err != nil {
				return err
			}
			if h.Control() {
				typ := "ABORT"
				if recs[0].Key[3] == 1 {
					typ = "COMMIT"
				}
				out = append(out, fmt.Sprintf("%s(%d)@%d", typ, h.ProducerID, h.BaseOffset))
			} else {
				for _, r := range recs {
					out = append(out, fmt.Sprintf("%s=%s@%d", r.Key, r.Value, r.Offset))
				}
			}
			off = h.NextOffset()
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
	}
	return out
}

// Kafka's cleaner and transactions: aborted data goes and never shadows committed data;
// markers stay while data of their transaction remain and until delete.retention.ms has
// passed; nothing at or above the LSO is cleaned; the cleaned segments' .txnindex keeps the
// entries of the ABORT markers kept, and a reopened log sees the same.
func TestCompactTransactions(t *testing.T) {
	fsys := NewMemFS()
	dir := "/d/t-0"
	cfg := compactConfig()
	cfg.SegmentBytes = 300
	l := openT(t, fsys, dir, cfg, 0)
	app := func(b []byte) int64 {
		t.Helper()
		res, err := l.AppendAsLeader(b, 1, 1000)
		if err != nil {
			t.Fatal(err)
		}
		return res.FirstOffset
	}
	app(keyedBatch(t, 1000, 0, kv{"k1", val("v0")}))                          // 0
	app(keyedTxnBatch(t, 1000, 1, 0, kv{"k1", val("c1")}))                    // 1: producer 1 commits
	app(keyedTxnBatch(t, 1000, 2, 0, kv{"k1", val("x")}, kv{"k2", val("x")})) // 2-3: producer 2 aborts
	mustMarker(t, l, 1, 0, commit(0))                                         // 4
	mustMarker(t, l, 2, 0, abort(0))                                          // 5
	app(keyedBatch(t, 1000, 0, kv{"k2", val("v2")}))                          // 6
	app(keyedTxnBatch(t, 1000, 3, 0, kv{"k3", val("open")}))                  // 7: producer 3 stays open
	for i := 0; i < 6; i++ {
		app(keyedBatch(t, 1000, 0, kv{fmt.Sprintf("f%d", i), val("filler")})) // 8-13
	}
	if l.NumSegments() < 4 {
		t.Fatalf("%d segments", l.NumSegments())
	}
	hw := l.LogEndOffset()
	if lso := l.LastStableOffset(hw); lso != 7 {
		t.Fatalf("LSO %d, want 7", lso)
	}

	// Pass 1, before delete.retention.ms: producer 2's records go, both markers stay (their
	// transactions' batches were read in this pass), nothing from the LSO on is touched.
	st, err := l.Compact(2000, hw)
	if err != nil {
		t.Fatal(err)
	}
	if st.AbortedRemoved != 2 || st.MarkersRemoved != 0 || st.EndOffset > 7 {
		t.Fatalf("pass 1: %+v", st)
	}
	want := []string{"k1=c1@1", "COMMIT(1)@4", "ABORT(2)@5", "k2=v2@6", "k3=open@7"}
	if got := logView(t, l); !slices.Equal(got[:len(want)], want) {
		t.Fatalf("pass 1 left %q, want %q first", got, want)
	}
	aborted := []AbortedTxn{{2, 2, 5, 6}}
	if got := l.AbortedTransactions(0, hw); !reflect.DeepEqual(got, aborted) {
		t.Fatalf("aborted after pass 1: %+v", got)
	}

	// Producer 3 commits; later records supersede producer 1's k1.
	mustMarker(t, l, 3, 0, commit(0))
	app(keyedBatch(t, 1000, 0, kv{"k1", val("v1")}))
	for i := 0; i < 6; i++ {
		app(keyedBatch(t, 1000, 0, kv{fmt.Sprintf("g%d", i), val("filler")}))
	}
	hw = l.LogEndOffset()
	// Pass 2, past delete.retention.ms: the ABORT marker goes (no data of its transaction is
	// left), the COMMIT marker of producer 1 stays (its k1 was still in this pass's input).
	if _, err := l.Compact(1_000_000, hw); err != nil {
		t.Fatal(err)
	}
	got := logView(t, l)
	if slices.Contains(got, "ABORT(2)@5") || !slices.Contains(got, "COMMIT(1)@4") || slices.Contains(got, "k1=c1@1") || !slices.Contains(got, "k3=open@7") {
		t.Fatalf("pass 2 left %q", got)
	}
	if got := l.AbortedTransactions(0, hw); len(got) != 0 {
		t.Fatalf("aborted after pass 2: %+v", got)
	}
	// Pass 3: producer 1's data are gone, so its COMMIT marker goes too; producer 3's stays
	// with its data.
	if _, err := l.Compact(2_000_000, hw); err != nil {
		t.Fatal(err)
	}
	got = logView(t, l)
	if slices.Contains(got, "COMMIT(1)@4") || !slices.Contains(got, "k3=open@7") || !slices.Contains(got, "COMMIT(3)@14") {
		t.Fatalf("pass 3 left %q", got)
	}
	if len(l.OngoingTransactions()) != 0 {
		t.Fatalf("open transactions after cleaning: %v", l.OngoingTransactions())
	}
	// A reopen after a crash sees the same log and no open transaction.
	if err := l.Flush(); err != nil {
		t.Fatal(err)
	}
	c := fsys.Clone()
	c.Crash()
	l2 := openT(t, c, dir, cfg, 0)
	defer l2.Close()
	if g2 := logView(t, l2); !slices.Equal(g2, got) {
		t.Fatalf("reopened %q, before %q", g2, got)
	}
	if len(l2.OngoingTransactions()) != 0 || l2.LastStableOffset(l2.LogEndOffset()) != l2.LogEndOffset() {
		t.Fatalf("reopened: open %v, LSO %d", l2.OngoingTransactions(), l2.LastStableOffset(l2.LogEndOffset()))
	}
	l.Close()
}
