package logstore

import (
	"errors"
	"testing"
)

// corruptMiddle appends n batches of 2 records to a log of 500-byte segments on fsys,
// flushes, and flips a byte inside the records of batch k, which must lie in the first
// segment. It returns the log and the batches' headers.
func corruptMiddle(t *testing.T, fsys *MemFS, n, k int) (*Log, []BatchHeader) {
	t.Helper()
	l := openT(t, fsys, "/d/t-0", segConfig(), 0)
	for i := 0; i < n; i++ {
		mustAppend(t, l, plain(2, int64(i)).build())
	}
	if err := l.Flush(); err != nil {
		t.Fatal(err)
	}
	hs := readAll(t, l, 0)
	if l.NumSegments() < 3 || l.segs[1].base < hs[k].NextOffset() {
		t.Fatalf("%d segments, the second at %d: batch %d is not in the first", l.NumSegments(), l.segs[1].base, k)
	}
	pos := int64(0)
	for _, h := range hs[:k] {
		pos += int64(h.Size())
	}
	if err := fsys.FlipByte(segmentName("/d/t-0", 0, logSuffix), pos+BatchHeaderSize+2); err != nil {
		t.Fatal(err)
	}
	return l, hs
}

func segConfig() Config {
	c := testConfig()
	c.SegmentBytes = 500
	return c
}

// TestCorruptBatchBelowRecoveryPointIsReportedOnRead: a batch that rots after it was fsynced
// (below the recovery point, so recovery never rescans it) is never served: reading it is
// ErrCorruptRecord, reading from before it stops before it, and the batches after it are
// still served. The same holds after a clean reopen, which trusts the segment.
func TestCorruptBatchBelowRecoveryPointIsReportedOnRead(t *testing.T) {
	fsys := NewMemFS()
	l, hs := corruptMiddle(t, fsys, 20, 2)
	check := func(l *Log) {
		t.Helper()
		if _, err := l.Read(hs[2].BaseOffset, 1<<20, -1, true); !errors.Is(err, ErrCorruptRecord) {
			t.Fatalf("read of the corrupt batch: %v, want ErrCorruptRecord", err)
		}
		b, err := l.Read(0, 1<<20, -1, true)
		if err != nil {
			t.Fatal(err)
		}
		if got := headers(t, b); len(got) != 2 || got[1].NextOffset() != hs[2].BaseOffset {
			t.Fatalf("read from 0 returned %d batches, want the 2 before the corrupt one", len(got))
		}
		if got := readAll(t, l, hs[3].BaseOffset); len(got) != 17 {
			t.Fatalf("%d batches after the corrupt one, want 17", len(got))
		}
		if l.LogEndOffset() != hs[19].NextOffset() {
			t.Fatalf("log end %d, want %d: nothing may be truncated below the recovery point", l.LogEndOffset(), hs[19].NextOffset())
		}
	}
	check(l)
	rp := l.RecoveryPoint()
	if rp != hs[19].NextOffset() {
		t.Fatalf("recovery point %d after Flush, want %d", rp, hs[19].NextOffset())
	}
	if err := l.Close(); err != nil {
		t.Fatal(err)
	}
	l2 := openT(t, fsys, "/d/t-0", segConfig(), rp)
	defer l2.Close()
	check(l2)
}

// TestCorruptBatchAboveRecoveryPointTruncatesThere: after an unclean shutdown, recovery scans
// from the recovery point and truncates at the first invalid batch, even with valid batches
// after it; the log then takes appends at the new end, contiguously.
func TestCorruptBatchAboveRecoveryPointTruncatesThere(t *testing.T) {
	fsys := NewMemFS()
	l, hs := corruptMiddle(t, fsys, 20, 2)
	if err := l.Close(); err != nil {
		t.Fatal(err)
	}
	l2 := openT(t, fsys, "/d/t-0", segConfig(), hs[1].BaseOffset) // recovery point below batch 2
	defer l2.Close()
	if l2.LogEndOffset() != hs[2].BaseOffset || l2.NumSegments() != 1 {
		t.Fatalf("log end %d in %d segments after recovery, want %d (the corrupt batch's base offset) in 1",
			l2.LogEndOffset(), l2.NumSegments(), hs[2].BaseOffset)
	}
	if got := readAll(t, l2, 0); len(got) != 2 {
		t.Fatalf("%d batches after recovery, want 2", len(got))
	}
	res := mustAppend(t, l2, plain(1, 1).build())
	if res.FirstOffset != hs[2].BaseOffset {
		t.Fatalf("append after recovery at %d, want %d", res.FirstOffset, hs[2].BaseOffset)
	}
	if got := readAll(t, l2, 0); len(got) != 3 {
		t.Fatalf("%d batches, want 3", len(got))
	}
}
