package logstore

import (
	"encoding/binary"
	"os"
	"testing"
)

// TestCrashAtEveryByteOfTheTail cuts the unsynced tail of the active segment at every byte
// (Kafka's LogLoader recovery): the log reopens at the last complete batch, appends continue
// and nothing corrupt is ever read.
func TestCrashAtEveryByteOfTheTail(t *testing.T) {
	fsys := NewMemFS()
	dir := "/data/orders.v1-eu-3"
	cfg := testConfig()
	l := openT(t, fsys, dir, cfg, 0)
	for i := 0; i < 5; i++ {
		mustAppend(t, l, plain(2, int64(i)).build())
	}
	if err := l.Flush(); err != nil {
		t.Fatal(err)
	}
	rp := l.RecoveryPoint()
	if rp != 10 {
		t.Fatalf("recovery point %d", rp)
	}
	// The unsynced tail: three batches of different sizes, one request of two.
	type bound struct{ end, leo int64 }
	var bounds []bound
	var tail int64
	for _, bs := range [][]byte{plain(1, 10).build(), concat(plain(3, 11).build(), plain(2, 12).build()), plain(4, 13).build()} {
		res := mustAppend(t, l, bs)
		for _, h := range headers(t, bs) {
			tail += int64(h.Size())
			bounds = append(bounds, bound{tail, h.NextOffset()})
		}
		_ = res
	}
	logName := segmentName(dir, 0, logSuffix)
	if got := fsys.UnsyncedBytes(logName); int64(got) != tail {
		t.Fatalf("unsynced %d bytes, want %d", got, tail)
	}
	for k := int64(0); k <= tail; k++ {
		c := fsys.Clone()
		c.CrashKeepTail(logName, int(k))
		want := rp
		for _, b := range bounds {
			if b.end <= k {
				want = b.leo
			}
		}
		l2 := openT(t, c, dir, cfg, rp)
		if l2.LogEndOffset() != want {
			t.Fatalf("cut %d: leo %d, want %d", k, l2.LogEndOffset(), want)
		}
		hs := readAll(t, l2, 0)
		if n := hs[len(hs)-1].NextOffset(); n != want {
			t.Fatalf("cut %d: read up to %d", k, n)
		}
		res := mustAppend(t, l2, plain(2, 99).build())
		if res.FirstOffset != want {
			t.Fatalf("cut %d: append at %d", k, res.FirstOffset)
		}
		if hs := readAll(t, l2, want); len(hs) != 1 || hs[0].NextOffset() != want+2 {
			t.Fatalf("cut %d: appended batch reads back as %+v", k, hs)
		}
		if err := l2.Close(); err != nil {
			t.Fatal(err)
		}
	}
	l.Close()
}

// TestCrashLosesUnsyncedSegments: rolls after the last flush create segments whose content
// is lost; recovery returns to the recovery point and continues.
func TestCrashLosesUnsyncedSegments(t *testing.T) {
	fsys := NewMemFS()
	cfg := testConfig()
	cfg.SegmentBytes = 400
	l := openT(t, fsys, "/d/t-0", cfg, 0)
	for i := 0; i < 10; i++ {
		mustAppend(t, l, plain(2, int64(i)).build())
	}
	l.Flush()
	rp := l.RecoveryPoint()
	for i := 0; i < 30; i++ {
		mustAppend(t, l, plain(2, int64(i)).build())
	}
	fsys.Crash()
	l2 := openT(t, fsys, "/d/t-0", cfg, rp)
	defer l2.Close()
	if l2.LogEndOffset() != rp {
		t.Fatalf("leo %d, want %d", l2.LogEndOffset(), rp)
	}
	readAll(t, l2, 0)
	for i := 0; i < 30; i++ {
		mustAppend(t, l2, plain(2, int64(i)).build())
	}
	if hs := readAll(t, l2, 0); len(hs) != 40 {
		t.Fatalf("%d batches", len(hs))
	}
}

// TestFlippedByteTruncatesThere: a corrupt batch in a middle segment truncates the log at that
// batch and deletes every later segment (full recovery from recovery point 0).
func TestFlippedByteTruncatesThere(t *testing.T) {
	fsys := NewMemFS()
	cfg := testConfig()
	cfg.SegmentBytes = 500
	l := openT(t, fsys, "/d/t-0", cfg, 0)
	for i := 0; i < 30; i++ {
		mustAppend(t, l, plain(2, int64(i)).build())
	}
	l.Flush()
	segs := l.NumSegments()
	if segs < 4 {
		t.Fatalf("%d segments", segs)
	}
	// Corrupt the second batch of the second segment.
	l.smu.RLock()
	s := l.segs[1]
	l.smu.RUnlock()
	first, _, _, _ := s.findBatch(s.base, 0, s.size.Load())
	_, h, _, _ := s.findBatch(s.base, first, s.size.Load())
	pos := int64(h.Size()) // second batch's position
	_, h2, _, _ := s.findBatch(h.NextOffset(), pos, s.size.Load())
	name := segmentName("/d/t-0", s.base, logSuffix)
	if err := fsys.FlipByte(name, pos+BatchHeaderSize+3); err != nil {
		t.Fatal(err)
	}
	l.Close()
	l2 := openT(t, fsys, "/d/t-0", cfg, 0)
	defer l2.Close()
	if l2.LogEndOffset() != h2.BaseOffset {
		t.Fatalf("leo %d, want %d", l2.LogEndOffset(), h2.BaseOffset)
	}
	if l2.NumSegments() != 2 {
		t.Fatalf("%d segments", l2.NumSegments())
	}
	readAll(t, l2, 0)
	mustAppend(t, l2, plain(1, 1).build())
	readAll(t, l2, 0)
	for _, suf := range []string{logSuffix, indexSuffix, timeIndexSuffix} {
		if _, err := fsys.Stat(segmentName("/d/t-0", l2.segs[len(l2.segs)-1].base+100000, suf)); err == nil {
			t.Fatal("unexpected file")
		}
	}
}

// TestDamagedIndexesRebuilt: indexes of segments below the recovery point are trusted only if
// they pass Kafka's sanity checks; damaged ones are rebuilt.
func TestDamagedIndexesRebuilt(t *testing.T) {
	damage := map[string]func(fsys *MemFS, idx, tidx string){
		"odd size": func(fsys *MemFS, idx, _ string) {
			f, _ := fsys.OpenFile(idx, os.O_RDWR, 0)
			sz, _ := f.Size()
			f.Truncate(sz - 3)
			f.Sync()
			f.Close()
		},
		"not increasing": func(fsys *MemFS, idx, _ string) {
			f, _ := fsys.OpenFile(idx, os.O_RDWR, 0)
			f.WriteAt(make([]byte, 8), 8)
			f.Sync()
			f.Close()
		},
		"past the log": func(fsys *MemFS, idx, _ string) {
			f, _ := fsys.OpenFile(idx, os.O_RDWR, 0)
			sz, _ := f.Size()
			var e [8]byte
			binary.BigEndian.PutUint32(e[:], 1<<20)
			binary.BigEndian.PutUint32(e[4:], 1<<20)
			f.WriteAt(e[:], sz)
			f.Sync()
			f.Close()
		},
		"wrong position": func(fsys *MemFS, idx, _ string) {
			f, _ := fsys.OpenFile(idx, os.O_RDWR, 0)
			sz, _ := f.Size()
			var e [4]byte
			b := make([]byte, 4)
			f.ReadAt(b, sz-4)
			binary.BigEndian.PutUint32(e[:], binary.BigEndian.Uint32(b)+1)
			f.WriteAt(e[:], sz-4)
			f.Sync()
			f.Close()
		},
		"time index garbage": func(fsys *MemFS, _, tidx string) {
			f, _ := fsys.OpenFile(tidx, os.O_RDWR, 0)
			f.WriteAt([]byte{0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 1, 2, 3}, 0)
			f.Sync()
			f.Close()
		},
		"missing": func(fsys *MemFS, idx, tidx string) {
			fsys.Remove(idx)
			fsys.Remove(tidx)
			fsys.SyncDir("/d/t-0")
		},
	}
	for name, fn := range damage {
		t.Run(name, func(t *testing.T) {
			fsys := NewMemFS()
			cfg := testConfig()
			cfg.SegmentBytes = 2000
			cfg.IndexIntervalBytes = 1
			l := openT(t, fsys, "/d/t-0", cfg, 0)
			for i := 0; i < 60; i++ {
				mustAppend(t, l, plain(1+i%3, int64(i)).build())
			}
			leo := l.LogEndOffset()
			base := l.segs[1].base
			l.Close()
			fn(fsys, segmentName("/d/t-0", base, indexSuffix), segmentName("/d/t-0", base, timeIndexSuffix))
			l2 := openT(t, fsys, "/d/t-0", cfg, leo)
			defer l2.Close()
			if l2.LogEndOffset() != leo {
				t.Fatalf("leo %d, want %d", l2.LogEndOffset(), leo)
			}
			for off := int64(0); off < leo; off++ {
				b, err := l2.Read(off, 1, -1, true)
				if err != nil {
					t.Fatal(err)
				}
				if h := headers(t, b)[0]; h.BaseOffset > off || h.LastOffset() < off {
					t.Fatalf("offset %d read batch %d..%d", off, h.BaseOffset, h.LastOffset())
				}
			}
			fi, err := fsys.Stat(segmentName("/d/t-0", base, indexSuffix))
			if err != nil || fi.Size() == 0 || fi.Size()%offsetEntrySize != 0 {
				t.Fatalf("index not rebuilt: %v %v", fi, err)
			}
			s := l2.segs[1]
			if ok, err := s.loadIndexes(s.size.Load()); !ok || err != nil {
				t.Fatal("rebuilt index fails its sanity check")
			}
		})
	}
}

func TestTruncateAndFollowerAppend(t *testing.T) {
	fsys := NewMemFS()
	cfg := testConfig()
	cfg.SegmentBytes = 300
	l := openT(t, fsys, "/d/t-0", cfg, 0)
	defer l.Close()
	for i := 0; i < 20; i++ {
		mustAppend(t, l, plain(2, int64(i)).build())
	}
	if err := l.TruncateTo(17); err != nil { // inside the batch 16..17: it goes whole
		t.Fatal(err)
	}
	if l.LogEndOffset() != 16 {
		t.Fatalf("leo %d", l.LogEndOffset())
	}
	if hs := readAll(t, l, 0); hs[len(hs)-1].NextOffset() != 16 {
		t.Fatal("read past the truncation")
	}
	if err := l.TruncateTo(8); err != nil {
		t.Fatal(err)
	}
	if l.LogEndOffset() != 8 {
		t.Fatalf("leo %d", l.LogEndOffset())
	}
	// Follower appends keep offsets: a batch from the leader at 8, then a gap to 20.
	b := plain(3, 5).build()
	setBaseOffset(b, 8)
	setLeaderEpoch(b, 4)
	b2 := plain(1, 6).build()
	setBaseOffset(b2, 20)
	setLeaderEpoch(b2, 5)
	res, err := l.AppendAsFollower(concat(b, b2))
	if err != nil {
		t.Fatal(err)
	}
	if res.FirstOffset != 8 || res.LastOffset != 20 || l.LogEndOffset() != 21 {
		t.Fatalf("%+v leo %d", res, l.LogEndOffset())
	}
	// The leader's appends at epoch 1 made (1, 0); truncation kept it (Kafka's truncateFromEnd).
	if got := l.EpochEntries(); len(got) != 3 || got[0] != [2]int64{1, 0} || got[1] != [2]int64{4, 8} || got[2] != [2]int64{5, 20} {
		t.Fatalf("epochs %v", got)
	}
	old := plain(1, 1).build()
	setBaseOffset(old, 20)
	if _, err := l.AppendAsFollower(old); err == nil {
		t.Fatal("follower append below the log end accepted")
	}
	if err := l.TruncateFullyAndStartAt(100); err != nil {
		t.Fatal(err)
	}
	if l.LogStartOffset() != 100 || l.LogEndOffset() != 100 || l.NumSegments() != 1 {
		t.Fatal("not emptied")
	}
	if _, ok := l.LatestEpoch(); ok {
		t.Fatal("epochs kept")
	}
	if res := mustAppend(t, l, plain(1, 1).build()); res.FirstOffset != 100 {
		t.Fatalf("%+v", res)
	}
}
