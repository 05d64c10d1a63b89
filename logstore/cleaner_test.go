package logstore

import (
	"encoding/binary"
	"errors"
	"fmt"
	"io/fs"
	"math/rand"
	"os"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/klauspost/compress/snappy"
	"github.com/rs/zerolog"
)

// kv is one record of a keyed test batch; a nil value is a tombstone.
type kv struct {
	key   string
	value []byte
}

func val(s string) []byte { return []byte(s) }

// keyedBatch encodes a v2 batch of keyed records with codec, timestamps ts, ts+1, ...
func keyedBatch(t testing.TB, ts int64, codec int8, recs ...kv) []byte {
	t.Helper()
	var body []byte
	for i, r := range recs {
		var b []byte
		b = append(b, 0)
		b = binary.AppendVarint(b, int64(i))
		b = binary.AppendVarint(b, int64(i))
		if r.key == "\x00nokey" {
			b = binary.AppendVarint(b, -1)
		} else {
			b = binary.AppendVarint(b, int64(len(r.key)))
			b = append(b, r.key...)
		}
		if r.value == nil {
			b = binary.AppendVarint(b, -1)
		} else {
			b = binary.AppendVarint(b, int64(len(r.value)))
			b = append(b, r.value...)
		}
		b = binary.AppendVarint(b, 0)
		body = binary.AppendVarint(body, int64(len(b)))
		body = append(body, b...)
	}
	cb, err := compressRecords(codec, body)
	if err != nil {
		t.Fatal(err)
	}
	return rawBatch(ts, codec, len(recs), cb)
}

func rawBatch(ts int64, codec int8, n int, body []byte) []byte {
	b := make([]byte, BatchHeaderSize, BatchHeaderSize+len(body))
	binary.BigEndian.PutUint32(b[offLength:], uint32(BatchHeaderSize-batchLogOverhead+len(body)))
	binary.BigEndian.PutUint32(b[offLeaderEpoch:], 0xffffffff)
	b[offMagic] = 2
	binary.BigEndian.PutUint16(b[offAttributes:], uint16(codec))
	binary.BigEndian.PutUint32(b[offLastOffsetDelta:], uint32(n-1))
	binary.BigEndian.PutUint64(b[offBaseTimestamp:], uint64(ts))
	binary.BigEndian.PutUint64(b[offMaxTimestamp:], uint64(ts+int64(n-1)))
	binary.BigEndian.PutUint64(b[offProducerID:], ^uint64(0))
	binary.BigEndian.PutUint16(b[offProducerEpoch:], 0xffff)
	binary.BigEndian.PutUint32(b[offBaseSequence:], 0xffffffff)
	binary.BigEndian.PutUint32(b[offRecordCount:], uint32(n))
	b = append(b, body...)
	binary.BigEndian.PutUint32(b[offCRC:], BatchCRC(b))
	return b
}

func compactConfig() Config {
	c := testConfig()
	c.CleanupPolicy = "compact"
	c.SegmentBytes = 1000
	c.MinCleanableDirtyRatio = 1e-9
	c.DeleteRetentionMs = 10_000
	return c
}

// liveRecords reads the whole log and decodes every record, checking CRCs and that offsets
// increase.
func liveRecords(t testing.TB, l *Log) []testRecord {
	t.Helper()
	var out []testRecord
	prev := int64(-1)
	for off := l.LogStartOffset(); off < l.LogEndOffset(); {
		b, err := l.Read(off, 1<<20, -1, true)
		if err != nil {
			t.Fatalf("read %d: %v", off, err)
		}
		if len(b) == 0 {
			break
		}
		err = ForEachBatch(b, func(h BatchHeader, batch []byte) error {
			if _, err := CheckBatch(batch); err != nil {
				return err
			}
			recs, err := testDecodeRecords(h, batch)
			if err != nil {
				return err
			}
			if len(recs) == 0 || int32(len(recs)) != h.NumRecords {
				return fmt.Errorf("batch at %d: %d records, header says %d", h.BaseOffset, len(recs), h.NumRecords)
			}
			for _, r := range recs {
				if r.offset <= prev {
					return fmt.Errorf("offset %d after %d", r.offset, prev)
				}
				prev = r.offset
				if r.offset >= off {
					out = append(out, r)
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

// model tracks what was written: offset -> record, and the latest offset per key.
type model struct {
	byOffset map[int64]kv
	latest   map[string]int64
}

func newModel() *model { return &model{byOffset: map[int64]kv{}, latest: map[string]int64{}} }

func (m *model) append(t testing.TB, l *Log, ts int64, codec int8, recs ...kv) {
	t.Helper()
	res, err := l.AppendAsLeader(keyedBatch(t, ts, codec, recs...), 1, ts)
	if err != nil {
		t.Fatalf("append: %v", err)
	}
	for i, r := range recs {
		m.byOffset[res.FirstOffset+int64(i)] = r
		m.latest[r.key] = res.FirstOffset + int64(i)
	}
}

// check verifies that every record read is one that was written at that offset, and that
// the latest record of every key is there (tombstones excepted when allowDropped).
func (m *model) check(t testing.TB, l *Log, tombstonesMayGo bool) []testRecord {
	t.Helper()
	recs := liveRecords(t, l)
	seen := map[int64]bool{}
	for _, r := range recs {
		w, ok := m.byOffset[r.offset]
		if !ok || w.key != string(r.key) || string(w.value) != string(r.value) || (w.value == nil) != r.tombstone {
			t.Fatalf("offset %d holds %q=%q, wrote %q=%q", r.offset, r.key, r.value, w.key, w.value)
		}
		seen[r.offset] = true
	}
	for k, off := range m.latest {
		if !seen[off] && !(tombstonesMayGo && m.byOffset[off].value == nil) {
			t.Fatalf("latest record of %q at %d is gone", k, off)
		}
	}
	return recs
}

// latestBelow is the latest offset of every key among the records below end.
func (m *model) latestBelow(end int64) map[string]int64 {
	out := map[string]int64{}
	for off, r := range m.byOffset {
		if cur, ok := out[r.key]; off < end && (!ok || off > cur) {
			out[r.key] = off
		}
	}
	return out
}

func activeBase(l *Log) int64 {
	l.smu.RLock()
	defer l.smu.RUnlock()
	return l.active().base
}

func mustCompact(t testing.TB, l *Log, now int64) CompactStats {
	t.Helper()
	st, err := l.Compact(now, l.LogEndOffset())
	if err != nil {
		t.Fatalf("compact: %v", err)
	}
	return st
}

// Kafka's LogCleaner keeps the last record of every key across many segments, at its
// original offset, and leaves the active segment alone.
func TestCompactKeepsLatestPerKey(t *testing.T) {
	fsys := NewMemFS()
	l := openT(t, fsys, "/d/t-0", compactConfig(), 0)
	defer l.Close()
	m := newModel()
	rng := rand.New(rand.NewSource(1))
	for i := 0; i < 600; i++ {
		n := 1 + rng.Intn(3)
		var recs []kv
		for j := 0; j < n; j++ {
			recs = append(recs, kv{fmt.Sprintf("key-%d", rng.Intn(25)), val(fmt.Sprintf("value-%d-%d", i, j))})
		}
		m.append(t, l, 1000+int64(i), int8(rng.Intn(5)), recs...)
	}
	segsBefore, sizeBefore := l.NumSegments(), l.Size()
	ab := activeBase(l)
	activeName := segmentName("/d/t-0", ab, logSuffix)
	activeBytes, _ := readFile(fsys, activeName)

	st := mustCompact(t, l, 2000)
	if !st.Cleaned || st.RecordsRemoved == 0 || st.EndOffset != ab {
		t.Fatalf("stats %+v, active base %d", st, ab)
	}
	recs := m.check(t, l, false)
	below := m.latestBelow(ab)
	for _, r := range recs {
		if r.offset < ab && below[string(r.key)] != r.offset {
			t.Fatalf("superseded record %q at %d survived below the active segment", r.key, r.offset)
		}
	}
	if after, _ := readFile(fsys, activeName); string(after) != string(activeBytes) || activeBase(l) != ab {
		t.Fatal("the active segment changed")
	}
	if l.NumSegments() >= segsBefore || l.Size() >= sizeBefore {
		t.Fatalf("segments %d -> %d, bytes %d -> %d", segsBefore, l.NumSegments(), sizeBefore, l.Size())
	}
	// Nothing dirty: a second pass does nothing.
	if st := mustCompact(t, l, 2000); st.Cleaned && st.RecordsRemoved > 0 {
		t.Fatalf("second pass removed records: %+v", st)
	}

	// Reopen (recovery from 0 rebuilds every index) and read again.
	l.Close()
	l = openT(t, fsys, "/d/t-0", compactConfig(), 0)
	m.check(t, l, false)
	// ListOffsets by time still lands on a surviving record.
	if off, _, ok, err := l.FetchOffsetByTimestamp(1300); err != nil || !ok || off < 0 {
		t.Fatalf("fetch by time: %d %v %v", off, ok, err)
	}
}

// A tombstone stays until its segment was clean for delete.retention.ms (Kafka's
// deleteHorizonMs), then goes with every older value of its key.
func TestCompactTombstones(t *testing.T) {
	cfg := compactConfig()
	l := openT(t, NewMemFS(), "/d/t-0", cfg, 0)
	defer l.Close()
	m := newModel()
	m.append(t, l, 1000, 0, kv{"a", val("a1")}, kv{"b", val("b1")})
	m.append(t, l, 1002, 0, kv{"a", nil})
	for i := 0; i < 40; i++ { // roll several segments past the tombstone, all later in time
		m.append(t, l, 50_000+int64(i), 0, kv{fmt.Sprintf("filler-%d", i%5), val(fmt.Sprintf("f%d", i))})
	}
	findTomb := func() (tomb, a1 bool) {
		for _, r := range liveRecords(t, l) {
			if string(r.key) == "a" {
				if r.tombstone {
					tomb = true
				} else {
					a1 = true
				}
			}
		}
		return
	}
	mustCompact(t, l, 1_000_000)
	m.check(t, l, false)
	if tomb, a1 := findTomb(); !tomb || a1 {
		t.Fatalf("after the first pass: tombstone %v, old value %v", tomb, a1)
	}
	// Clean now, but delete.retention.ms has not passed since the segment's newest record.
	mustCompact(t, l, 1002+cfg.DeleteRetentionMs-100)
	if tomb, _ := findTomb(); !tomb {
		t.Fatal("tombstone removed before delete.retention.ms")
	}
	// Past it: the tombstone goes, even with nothing new to clean.
	st := mustCompact(t, l, 60_000+cfg.DeleteRetentionMs)
	if tomb, a1 := findTomb(); tomb || a1 {
		t.Fatalf("tombstone %v, old value %v after delete.retention.ms; stats %+v", tomb, a1, st)
	}
	if st.TombstonesRemoved != 1 {
		t.Fatalf("stats %+v", st)
	}
	m.check(t, l, true)
}

// Compressed input (every codec, and snappy both raw and xerial-framed) is decompressed,
// filtered and written back with the same codec; surviving records keep their offsets.
func TestCompactCompressedBatches(t *testing.T) {
	l := openT(t, NewMemFS(), "/d/t-0", compactConfig(), 0)
	defer l.Close()
	m := newModel()
	for i := 0; i < 30; i++ {
		codec := int8(i % 5)
		m.append(t, l, 1000+int64(i), codec, kv{"k1", val(fmt.Sprintf("v%d-a", i))}, kv{fmt.Sprintf("u%d", i), val("once")}, kv{"k2", val(fmt.Sprintf("v%d-b", i))})
	}
	// A raw (unframed) snappy batch, as non-Java clients write.
	var body []byte
	rec := func(i int, k, v string) {
		var b []byte
		b = append(b, 0)
		b = binary.AppendVarint(b, int64(i))
		b = binary.AppendVarint(b, int64(i))
		b = binary.AppendVarint(b, int64(len(k)))
		b = append(b, k...)
		b = binary.AppendVarint(b, int64(len(v)))
		b = append(b, v...)
		b = binary.AppendVarint(b, 0)
		body = binary.AppendVarint(body, int64(len(b)))
		body = append(body, b...)
	}
	rec(0, "k1", "raw-a")
	rec(1, "r", "raw-r")
	res, err := l.AppendAsLeader(rawBatch(2000, codecSnappy, 2, snappy.Encode(nil, body)), 1, 2000)
	if err != nil {
		t.Fatal(err)
	}
	m.byOffset[res.FirstOffset], m.byOffset[res.FirstOffset+1] = kv{"k1", val("raw-a")}, kv{"r", val("raw-r")}
	m.latest["k1"], m.latest["r"] = res.FirstOffset, res.FirstOffset+1
	for i := 0; i < 10; i++ { // push it out of the active segment
		m.append(t, l, 3000+int64(i), 0, kv{"tail", val(fmt.Sprintf("t%d", i))})
	}
	mustCompact(t, l, 5000)
	m.check(t, l, false)
	var codecs [5]int
	rp := l.LogStartOffset()
	for rp < l.LogEndOffset() {
		b, err := l.Read(rp, 1<<20, -1, true)
		if err != nil || len(b) == 0 {
			t.Fatal(err)
		}
		for _, h := range headers(t, b) {
			codecs[h.Compression()]++
			rp = h.NextOffset()
		}
	}
	for c, n := range codecs {
		if n == 0 {
			t.Errorf("no batch with codec %d after cleaning: %v", c, codecs)
		}
	}
}

// Repeated commits of the same keys (the offsets topic's pattern) keep the log bounded.
func TestCompactBoundedUnderOverwrites(t *testing.T) {
	cfg := compactConfig()
	cfg.SegmentBytes = 2000
	l := openT(t, NewMemFS(), "/d/t-0", cfg, 0)
	defer l.Close()
	m := newModel()
	var maxSegs int
	var maxSize int64
	for i := 0; i < 10_000; i++ {
		m.append(t, l, 1000+int64(i), 0, kv{fmt.Sprintf("group-%d", i%10), val(fmt.Sprintf("offset-%d", i))})
		if i%250 == 249 {
			mustCompact(t, l, 1000+int64(i))
			maxSegs, maxSize = max(maxSegs, l.NumSegments()), max(maxSize, l.Size())
		}
	}
	mustCompact(t, l, 20_000)
	m.check(t, l, false)
	// Measured after each pass: the compacted log holds about one segment of latest values.
	if maxSegs > 12 || maxSize > 12*cfg.SegmentBytes {
		t.Fatalf("log not bounded: up to %d segments, %d bytes", maxSegs, maxSize)
	}
	t.Logf("10000 writes of 10 keys: at most %d segments, %d bytes; now %d segments, %d bytes", maxSegs, maxSize, l.NumSegments(), l.Size())
}

// Kafka rejects records without a key on compacted topics (INVALID_RECORD).
func TestCompactedTopicRejectsKeylessRecords(t *testing.T) {
	l := openT(t, NewMemFS(), "/d/t-0", compactConfig(), 0)
	defer l.Close()
	if _, err := l.AppendAsLeader(keyedBatch(t, 1, codecLZ4, kv{"k", val("v")}, kv{"\x00nokey", val("v")}), 1, 1); !errors.Is(err, ErrInvalidRecord) {
		t.Fatalf("keyless record: %v", err)
	}
	if _, err := l.AppendAsLeader(keyedBatch(t, 1, codecGzip, kv{"k", nil}), 1, 1); err != nil {
		t.Fatalf("keyed tombstone: %v", err)
	}
	d := openT(t, NewMemFS(), "/d/t-1", testConfig(), 0)
	defer d.Close()
	if _, err := d.AppendAsLeader(plain(3, 1).build(), 1, 1); err != nil {
		t.Fatalf("keyless record on a delete topic: %v", err)
	}
}

// The cleaner never cleans at or above the high watermark, nor a log whose policy is delete.
func TestCompactBounds(t *testing.T) {
	l := openT(t, NewMemFS(), "/d/t-0", compactConfig(), 0)
	defer l.Close()
	m := newModel()
	for i := 0; i < 100; i++ {
		m.append(t, l, 1000+int64(i), 0, kv{"k", val(fmt.Sprint(i))})
	}
	if st, err := l.Compact(5000, 0); err != nil || st.Cleaned {
		t.Fatalf("cleaned below hw 0: %+v %v", st, err)
	}
	st, err := l.Compact(5000, 40)
	if err != nil || !st.Cleaned || st.EndOffset > 40 {
		t.Fatalf("hw 40: %+v %v", st, err)
	}
	for _, r := range liveRecords(t, l) {
		if r.offset >= st.EndOffset {
			break
		}
		if r.offset != st.EndOffset-1 {
			t.Fatalf("record %d below the cleaned end %d survived", r.offset, st.EndOffset)
		}
	}
	cfg := compactConfig()
	cfg.CleanupPolicy = "delete"
	l.SetConfig(cfg)
	if st := mustCompact(t, l, 5000); st.Cleaned {
		t.Fatal("a delete-policy log was cleaned")
	}
}

// crashFS snapshots the MemFS (a Clone) before the n-th directory operation (rename,
// remove, directory sync) or file sync, so a test can crash there.
type crashFS struct {
	*MemFS
	ops  atomic.Int64
	at   int64
	snap *MemFS
}

func (c *crashFS) step() {
	if c.ops.Add(1)-1 == c.at {
		c.snap = c.MemFS.Clone()
	}
}

func (c *crashFS) Rename(a, b string) error { c.step(); return c.MemFS.Rename(a, b) }
func (c *crashFS) Remove(a string) error    { c.step(); return c.MemFS.Remove(a) }
func (c *crashFS) SyncDir(d string) error   { c.step(); return c.MemFS.SyncDir(d) }
func (c *crashFS) OpenFile(name string, flag int, perm os.FileMode) (File, error) {
	f, err := c.MemFS.OpenFile(name, flag, perm)
	if err != nil {
		return nil, err
	}
	return crashFile{f, c}, nil
}
func (c *crashFS) ReadDir(d string) ([]fs.DirEntry, error) { return c.MemFS.ReadDir(d) }

type crashFile struct {
	File
	c *crashFS
}

func (f crashFile) Sync() error { f.c.step(); return f.File.Sync() }

// A crash at every step of a clean (writing .cleaned, renaming to .swap, removing the old
// segments, renaming into place) leaves a log that opens, holds only records that were
// written at their offsets, and still has the latest record of every key.
func TestCompactCrashAtEveryStep(t *testing.T) {
	cfg := compactConfig()
	base := NewMemFS()
	l := openT(t, base, "/d/t-0", cfg, 0)
	m := newModel()
	rng := rand.New(rand.NewSource(7))
	for i := 0; i < 150; i++ {
		m.append(t, l, 1000+int64(i), int8(rng.Intn(5)), kv{fmt.Sprintf("k%d", rng.Intn(8)), val(fmt.Sprintf("v%d", i))})
		if i == 60 {
			m.append(t, l, 1000+int64(i), 0, kv{"k3", nil})
		}
	}
	if err := l.Close(); err != nil {
		t.Fatal(err)
	}
	prepared := base.Clone()

	// Count the steps of one clean.
	count := &crashFS{MemFS: prepared.Clone(), at: -1}
	l = openT(t, count, "/d/t-0", cfg, l.LogEndOffset())
	opsAtOpen := count.ops.Load()
	st := mustCompact(t, l, 5000)
	total := count.ops.Load()
	l.Close()
	if st.SegmentsWritten == 0 {
		t.Fatalf("nothing cleaned: %+v", st)
	}
	swapsSeen := 0
	for at := opsAtOpen; at < total; at++ {
		c := &crashFS{MemFS: prepared.Clone(), at: at}
		l := openT(t, c, "/d/t-0", cfg, 0)
		if _, err := l.Compact(5000, l.LogEndOffset()); err != nil {
			t.Fatalf("step %d: compact: %v", at, err)
		}
		l.Close()
		if c.snap == nil {
			t.Fatalf("step %d: not reached", at)
		}
		c.snap.Crash()
		if ents, _ := c.snap.ReadDir("/d/t-0"); len(ents) > 0 {
			for _, e := range ents {
				if n := e.Name(); len(n) > 9 && n[len(n)-9:] == ".log.swap" {
					swapsSeen++
				}
			}
		}
		l2, err := Open(c.snap, "/d/t-0", testTP, cfg, 0, zerolog.Nop())
		if err != nil {
			t.Fatalf("step %d: reopen: %v", at, err)
		}
		m.check(t, l2, false)
		ents, _ := c.snap.ReadDir("/d/t-0")
		for _, e := range ents {
			if n := e.Name(); len(n) > 6 && (n[len(n)-5:] == ".swap" || n[len(n)-8:] == ".cleaned") {
				t.Fatalf("step %d: %s left after open", at, n)
			}
		}
		// A clean after the crash finishes the work.
		if _, err := l2.Compact(5000, l2.LogEndOffset()); err != nil {
			t.Fatalf("step %d: compact after crash: %v", at, err)
		}
		recs := m.check(t, l2, false)
		ab := activeBase(l2)
		below := m.latestBelow(ab)
		for _, r := range recs {
			if r.offset < ab && below[string(r.key)] != r.offset {
				t.Fatalf("step %d: superseded %q at %d survived the second clean", at, r.key, r.offset)
			}
		}
		l2.Close()
	}
	if swapsSeen == 0 {
		t.Fatal("no crash left a .log.swap to complete")
	}
	t.Logf("crashed at %d steps, %d of them after a commit point", total-opsAtOpen, swapsSeen)
}

// A .swap file left by a crash after the commit point replaces the segments it covers at
// open, even when the old segments are still all there.
func TestCompactOpenCompletesSwap(t *testing.T) {
	cfg := compactConfig()
	fsys := NewMemFS()
	l := openT(t, fsys, "/d/t-0", cfg, 0)
	m := newModel()
	for i := 0; i < 100; i++ {
		m.append(t, l, 1000+int64(i), 0, kv{fmt.Sprintf("k%d", i%4), val(fmt.Sprintf("v%d", i))})
	}
	l.Close()
	// Build the cleaned form in another copy, then plant its first segment as a .swap.
	other := fsys.Clone()
	lo := openT(t, other, "/d/t-0", cfg, 0)
	mustCompact(t, lo, 5000)
	lo.Close()
	ents, _ := other.ReadDir("/d/t-0")
	planted := false
	for _, e := range ents {
		if n := e.Name(); n == fmt.Sprintf("%020d.log", 0) {
			data, _ := readFile(other, "/d/t-0/"+n)
			if err := writeFileAtomic(fsys, "/d/t-0/"+n+swapSuffix, data); err != nil {
				t.Fatal(err)
			}
			planted = true
		}
	}
	if !planted {
		t.Fatal("no segment 0 after cleaning")
	}
	l = openT(t, fsys, "/d/t-0", cfg, 0)
	defer l.Close()
	m.check(t, l, false)
	if _, err := fsys.Stat(fmt.Sprintf("/d/t-0/%020d.log.swap", 0)); !errors.Is(err, fs.ErrNotExist) {
		t.Fatalf("swap left: %v", err)
	}
}

// Appends and reads go on while the cleaner runs (go test -race): readers only ever see
// records that were written, at their offsets, in valid batches.
func TestCompactConcurrentWithAppendsAndReads(t *testing.T) {
	cfg := compactConfig()
	cfg.SegmentBytes = 1500
	l := openT(t, NewMemFS(), "/d/t-0", cfg, 0)
	defer l.Close()
	const keys = 7
	var done atomic.Bool
	var wg sync.WaitGroup
	fail := func(err error) { t.Error(err); done.Store(true) }
	for r := 0; r < 2; r++ {
		wg.Add(1)
		go func(seed int64) {
			defer wg.Done()
			rng := rand.New(rand.NewSource(seed))
			for !done.Load() {
				end := l.LogEndOffset()
				off := rng.Int63n(end + 1)
				b, err := l.Read(off, 1+rng.Intn(4000), -1, true)
				if err != nil {
					fail(err)
					return
				}
				err = ForEachBatch(b, func(h BatchHeader, batch []byte) error {
					if _, err := CheckBatch(batch); err != nil {
						return err
					}
					recs, err := testDecodeRecords(h, batch)
					if err != nil {
						return err
					}
					for _, r := range recs {
						if string(r.key) != fmt.Sprintf("k%d", r.offset%keys) || string(r.value) != fmt.Sprintf("v%d", r.offset) {
							return fmt.Errorf("offset %d holds %q=%q", r.offset, r.key, r.value)
						}
					}
					return nil
				})
				if err != nil {
					fail(err)
					return
				}
			}
		}(int64(r))
	}
	wg.Add(1)
	var passes atomic.Int64
	go func() {
		defer wg.Done()
		for !done.Load() {
			if _, err := l.Compact(1<<40, l.LogEndOffset()); err != nil {
				fail(err)
				return
			}
			passes.Add(1)
		}
	}()
	rng := rand.New(rand.NewSource(3))
	for off := 0; off < 3000 && !done.Load(); {
		n := 1 + rng.Intn(3)
		var recs []kv
		for j := 0; j < n; j++ {
			recs = append(recs, kv{fmt.Sprintf("k%d", (off+j)%keys), val(fmt.Sprintf("v%d", off+j))})
		}
		if _, err := l.AppendAsLeader(keyedBatch(t, int64(off), int8(rng.Intn(5)), recs...), 0, int64(off)); err != nil {
			t.Fatal(err)
		}
		off += n
	}
	done.Store(true)
	wg.Wait()
	mustCompact(t, l, 1<<40)
	latest := map[string]bool{}
	for _, r := range liveRecords(t, l) {
		latest[string(r.key)] = true
	}
	if len(latest) != keys || l.NumSegments() > 6 {
		t.Fatalf("keys %d, segments %d after %d passes", len(latest), l.NumSegments(), passes.Load())
	}
}

// The cleaner checkpoint (cleaner-offset-checkpoint, Kafka's format) survives a restart.
func TestCleanerCheckpointFile(t *testing.T) {
	fsys := NewMemFS()
	cfg := compactConfig()
	mgr, err := OpenManager(fsys, []string{"/data"}, cfg, zerolog.Nop())
	if err != nil {
		t.Fatal(err)
	}
	l, err := mgr.GetOrCreate(testTP, cfg)
	if err != nil {
		t.Fatal(err)
	}
	m := newModel()
	for i := 0; i < 80; i++ {
		m.append(t, l, 1000+int64(i), 0, kv{fmt.Sprintf("k%d", i%3), val(fmt.Sprint(i))})
	}
	st := mustCompact(t, l, 5000)
	if err := mgr.Close(); err != nil {
		t.Fatal(err)
	}
	data, _ := readFile(fsys, "/data/"+CleanerCheckpointFile)
	want := fmt.Sprintf("0\n1\n%s %d %d\n", testTP.Topic, testTP.Partition, st.EndOffset)
	if string(data) != want {
		t.Fatalf("checkpoint %q, want %q", data, want)
	}
	mgr, err = OpenManager(fsys, []string{"/data"}, cfg, zerolog.Nop())
	if err != nil {
		t.Fatal(err)
	}
	defer mgr.Close()
	if got := mgr.Get(testTP).CleanerCheckpoint(); got != st.EndOffset {
		t.Fatalf("first dirty %d after reopen, want %d", got, st.EndOffset)
	}
}
