package logstore

import (
	"testing"
)

// Kafka's deleteRetentionMsBreachedSegments / deleteRetentionSizeBreachedSegments: whole
// segments, never the active one, only below the high watermark.
func TestRetentionByTime(t *testing.T) {
	cfg := testConfig()
	cfg.SegmentBytes = 400 // 2 batches of 2 records per segment
	cfg.RetentionMs = 1000
	l := openT(t, NewMemFS(), "/d/t-0", cfg, 0)
	defer l.Close()
	for i := 0; i < 20; i++ {
		mustAppend(t, l, plain(2, int64(i*100)).build()) // batch i at ts 100i
	}
	segs := l.NumSegments()
	// At now=2000, batches older than 1000 (ts < 1000) expire: segments wholly below ts 1000.
	// The high watermark keeps everything at first.
	if n, err := l.ApplyRetention(2000, 0); err != nil || n != 0 {
		t.Fatalf("deleted %d (%v) with hw 0", n, err)
	}
	n, err := l.ApplyRetention(2000, 8)
	if err != nil || n == 0 {
		t.Fatalf("deleted %d %v", n, err)
	}
	if l.LogStartOffset() > 8 {
		t.Fatalf("log start %d passed the high watermark", l.LogStartOffset())
	}
	n2, err := l.ApplyRetention(2000, l.LogEndOffset())
	if err != nil {
		t.Fatal(err)
	}
	// The oldest remaining segment is within retention; the one before it was not.
	hs := readAll(t, l, l.LogStartOffset())
	if 2000-l.segs[0].maxTs > 1000 || hs[0].BaseOffset == 0 || l.NumSegments() != segs-n-n2 {
		t.Fatalf("oldest segment's max ts %d, %d segments", l.segs[0].maxTs, l.NumSegments())
	}
	if prev := hs[0].BaseOffset - 1; prev >= 0 && 2000-(prev/2*100+1) <= 1000 {
		t.Fatalf("deleted offset %d was within retention", prev)
	}
	if l.LogStartOffset() != hs[0].BaseOffset {
		t.Fatalf("log start %d, first batch %d", l.LogStartOffset(), hs[0].BaseOffset)
	}
	// Far in the future: all but the active segment, which is rolled so it can go next time.
	if _, err := l.ApplyRetention(1e9, l.LogEndOffset()); err != nil {
		t.Fatal(err)
	}
	if l.NumSegments() != 2 {
		t.Fatalf("%d segments", l.NumSegments())
	}
	if _, err := l.ApplyRetention(1e9, l.LogEndOffset()); err != nil {
		t.Fatal(err)
	}
	if l.NumSegments() != 1 || l.LogStartOffset() != l.LogEndOffset() || l.Size() != 0 {
		t.Fatalf("%d segments, start %d end %d", l.NumSegments(), l.LogStartOffset(), l.LogEndOffset())
	}
	if res := mustAppend(t, l, plain(1, 5).build()); res.FirstOffset != 40 {
		t.Fatalf("%+v", res)
	}
}

func TestRetentionBySize(t *testing.T) {
	cfg := testConfig()
	cfg.SegmentBytes = 400
	cfg.RetentionMs = -1
	l := openT(t, NewMemFS(), "/d/t-0", cfg, 0)
	defer l.Close()
	for i := 0; i < 20; i++ {
		mustAppend(t, l, plain(2, 1).build())
	}
	segSize := l.segs[0].size.Load()
	cfg.RetentionBytes = 3*segSize + 1
	l.SetConfig(cfg)
	if _, err := l.ApplyRetention(0, l.LogEndOffset()); err != nil {
		t.Fatal(err)
	}
	// Deleting oldest while what remains stays >= retention.bytes.
	if l.Size() < cfg.RetentionBytes || l.Size()-segSize >= cfg.RetentionBytes {
		t.Fatalf("size %d for retention %d (segment %d)", l.Size(), cfg.RetentionBytes, segSize)
	}
	readAll(t, l, l.LogStartOffset())
	// compact-only logs are never trimmed by retention.
	cfg.RetentionBytes = 1
	cfg.CleanupPolicy = "compact"
	l.SetConfig(cfg)
	if n, _ := l.ApplyRetention(0, l.LogEndOffset()); n != 0 {
		t.Fatalf("compacted log lost %d segments", n)
	}
}

func TestIncrementLogStartOffset(t *testing.T) {
	cfg := testConfig()
	cfg.SegmentBytes = 400
	l := openT(t, NewMemFS(), "/d/t-0", cfg, 0)
	defer l.Close()
	for i := 0; i < 20; i++ {
		mustAppend(t, l, plain(2, 1).build())
	}
	before := l.NumSegments()
	if err := l.IncrementLogStartOffset(9); err != nil {
		t.Fatal(err)
	}
	if l.LogStartOffset() != 9 || l.NumSegments() >= before {
		t.Fatalf("start %d, %d segments", l.LogStartOffset(), l.NumSegments())
	}
	if _, err := l.Read(8, 100, -1, true); err == nil {
		t.Fatal("read below the log start")
	}
	if b, err := l.Read(9, 1, -1, true); err != nil || headers(t, b)[0].LastOffset() < 9 {
		t.Fatal(err)
	}
	if err := l.IncrementLogStartOffset(100); err == nil {
		t.Fatal("log start past the end accepted")
	}
}
