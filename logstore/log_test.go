package logstore

import (
	"bytes"
	"errors"
	"testing"
)

func TestAppendReadRoundTrip(t *testing.T) {
	fsys := NewMemFS()
	l := openT(t, fsys, "/data/t-0", testConfig(), 0)
	defer l.Close()
	var want [][]byte
	for i := 0; i < 10; i++ {
		b := plain(3, int64(1000+i)).build()
		res := mustAppend(t, l, b)
		if res.FirstOffset != int64(3*i) || res.LastOffset != int64(3*i+2) || res.NumRecords != 3 {
			t.Fatalf("batch %d: offsets %+v", i, res)
		}
		if res.LogAppendTime != -1 || res.MaxTimestamp != int64(1000+i+2) {
			t.Fatalf("batch %d: timestamps %+v", i, res)
		}
		want = append(want, b) // stamped in place
	}
	if l.LogEndOffset() != 30 {
		t.Fatalf("leo %d", l.LogEndOffset())
	}
	got, err := l.Read(0, 1<<20, -1, false)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(got, concat(want...)) {
		t.Fatal("read bytes differ from the appended ones")
	}
	for i, h := range headers(t, got) {
		if h.BaseOffset != int64(3*i) || h.PartitionLeaderEpoch != 1 || h.NumRecords != 3 {
			t.Fatalf("batch %d header %+v", i, h)
		}
	}
}

func TestAppendSeveralBatchesOneRequest(t *testing.T) {
	l := openT(t, NewMemFS(), "/d/t-0", testConfig(), 0)
	defer l.Close()
	res := mustAppend(t, l, concat(plain(2, 1).build(), plain(5, 2).build(), plain(1, 3).build()))
	if res.FirstOffset != 0 || res.LastOffset != 7 || res.NumRecords != 8 {
		t.Fatalf("%+v", res)
	}
	hs := readAll(t, l, 0)
	if len(hs) != 3 || hs[0].BaseOffset != 0 || hs[1].BaseOffset != 2 || hs[2].BaseOffset != 7 {
		t.Fatalf("%+v", hs)
	}
}

func TestReadFromMiddleOfBatch(t *testing.T) {
	l := openT(t, NewMemFS(), "/d/t-0", testConfig(), 0)
	defer l.Close()
	for i := 0; i < 5; i++ {
		mustAppend(t, l, plain(4, 1).build())
	}
	for off := int64(0); off < 20; off++ {
		b, err := l.Read(off, 1<<20, -1, true)
		if err != nil {
			t.Fatal(err)
		}
		hs := headers(t, b)
		if hs[0].BaseOffset != off/4*4 || hs[0].LastOffset() < off {
			t.Fatalf("offset %d: first batch %d..%d", off, hs[0].BaseOffset, hs[0].LastOffset())
		}
	}
	if b, err := l.Read(20, 100, -1, true); err != nil || b != nil {
		t.Fatalf("read at the log end: %v %v", b, err)
	}
	if _, err := l.Read(21, 100, -1, true); !errors.Is(err, ErrOffsetOutOfRange) {
		t.Fatalf("read past the end: %v", err)
	}
	if _, err := l.Read(-1, 100, -1, true); !errors.Is(err, ErrOffsetOutOfRange) {
		t.Fatalf("read below the start: %v", err)
	}
}

func TestReadMaxBytesAndMinOneBatch(t *testing.T) {
	l := openT(t, NewMemFS(), "/d/t-0", testConfig(), 0)
	defer l.Close()
	b := plain(2, 1).build()
	size := len(b)
	for i := 0; i < 4; i++ {
		mustAppend(t, l, plain(2, 1).build())
	}
	// KIP-74: a batch bigger than maxBytes comes whole with minOneBatch, not at all without.
	got, _ := l.Read(0, size-1, -1, false)
	if len(got) != 0 {
		t.Fatalf("without minOneBatch got %d bytes", len(got))
	}
	got, _ = l.Read(0, 1, -1, true)
	if len(got) != size {
		t.Fatalf("with minOneBatch got %d bytes, want %d", len(got), size)
	}
	got, _ = l.Read(0, size*2+size/2, -1, true)
	if len(got) != 2*size {
		t.Fatalf("got %d bytes, want two batches (%d)", len(got), 2*size)
	}
	got, _ = l.Read(2, size*2, -1, false)
	if hs := headers(t, got); len(hs) != 2 || hs[0].BaseOffset != 2 {
		t.Fatalf("%+v", hs)
	}
}

func TestReadMaxOffset(t *testing.T) {
	l := openT(t, NewMemFS(), "/d/t-0", testConfig(), 0)
	defer l.Close()
	for i := 0; i < 5; i++ {
		mustAppend(t, l, plain(2, 1).build())
	}
	got, _ := l.Read(0, 1<<20, 6, true)
	if hs := headers(t, got); len(hs) != 3 || hs[2].LastOffset() != 5 {
		t.Fatalf("%+v", hs)
	}
	got, _ = l.Read(6, 1<<20, 6, true)
	if len(got) != 0 {
		t.Fatalf("read at maxOffset returned %d bytes", len(got))
	}
}

func TestRollBySizeAndIndexLookups(t *testing.T) {
	fsys := NewMemFS()
	cfg := testConfig()
	cfg.SegmentBytes = 1000
	cfg.IndexIntervalBytes = 1
	l := openT(t, fsys, "/d/t-0", cfg, 0)
	var n int64
	for i := 0; i < 200; i++ {
		k := 1 + i%4
		mustAppend(t, l, plain(k, int64(i)).build())
		n += int64(k)
	}
	if l.NumSegments() < 10 {
		t.Fatalf("only %d segments", l.NumSegments())
	}
	check := func(l *Log) {
		for off := int64(0); off < n; off++ {
			b, err := l.Read(off, 1, -1, true)
			if err != nil {
				t.Fatal(err)
			}
			hs := headers(t, b)
			if len(hs) != 1 || hs[0].BaseOffset > off || hs[0].LastOffset() < off {
				t.Fatalf("offset %d: %+v", off, hs)
			}
		}
		if hs := readAll(t, l, 0); len(hs) != 200 {
			t.Fatalf("%d batches", len(hs))
		}
	}
	check(l)
	ents, _ := fsys.ReadDir("/d/t-0")
	var logs int
	for _, e := range ents {
		if bytes.HasSuffix([]byte(e.Name()), []byte(".log")) {
			logs++
		}
	}
	if logs != l.NumSegments() {
		t.Fatalf("%d .log files for %d segments", logs, l.NumSegments())
	}
	if err := l.Close(); err != nil {
		t.Fatal(err)
	}
	l = openT(t, fsys, "/d/t-0", cfg, n)
	defer l.Close()
	if l.LogEndOffset() != n {
		t.Fatalf("leo %d after reopen, want %d", l.LogEndOffset(), n)
	}
	check(l)
}

func TestRollByTime(t *testing.T) {
	cfg := testConfig()
	cfg.SegmentMs = 100
	l := openT(t, NewMemFS(), "/d/t-0", cfg, 0)
	defer l.Close()
	mustAppend(t, l, plain(1, 1000).build())
	mustAppend(t, l, plain(1, 1050).build())
	if l.NumSegments() != 1 {
		t.Fatal("rolled too early")
	}
	mustAppend(t, l, plain(1, 1101).build()) // 101ms after the first batch's timestamp
	if l.NumSegments() != 2 {
		t.Fatalf("%d segments", l.NumSegments())
	}
	// ApplyRetention rolls an active segment older than segment.ms by the wall clock.
	if _, err := l.ApplyRetention(1101+101, 0); err != nil {
		t.Fatal(err)
	}
	if l.NumSegments() != 3 {
		t.Fatalf("%d segments after ApplyRetention", l.NumSegments())
	}
	mustAppend(t, l, plain(1, 1300).build())
	if hs := readAll(t, l, 0); len(hs) != 4 {
		t.Fatalf("%d batches", len(hs))
	}
}

func TestLogAppendTime(t *testing.T) {
	cfg := testConfig()
	cfg.MessageTimestampType = "LogAppendTime"
	l := openT(t, NewMemFS(), "/d/t-0", cfg, 0)
	defer l.Close()
	res, err := l.AppendAsLeader(plain(3, 10).build(), 0, 777)
	if err != nil {
		t.Fatal(err)
	}
	if res.LogAppendTime != 777 || res.MaxTimestamp != 777 {
		t.Fatalf("%+v", res)
	}
	b, _ := l.Read(0, 1<<20, -1, true)
	h := headers(t, b)[0] // CRC checked
	if !h.LogAppendTime() || h.MaxTimestamp != 777 {
		t.Fatalf("%+v", h)
	}
}

func TestAppendValidation(t *testing.T) {
	cfg := testConfig()
	cfg.MaxMessageBytes = 300
	l := openT(t, NewMemFS(), "/d/t-0", cfg, 0)
	defer l.Close()
	good := plain(2, 1).build()
	cases := []struct {
		name string
		b    []byte
		want error
	}{
		{"crc", func() []byte { b := plain(2, 1).build(); b[len(b)-1] ^= 1; return b }(), ErrCorruptRecord},
		{"magic", func() []byte { b := plain(2, 1).build(); b[offMagic] = 1; return b }(), ErrUnsupportedMagic},
		{"short", good[:len(good)-1], ErrCorruptRecord},
		{"trailing", append(append([]byte(nil), good...), 1, 2, 3), ErrCorruptRecord},
		{"length", func() []byte { b := plain(2, 1).build(); b[offLength+3]--; return b }(), ErrCorruptRecord},
		{"too large", plain(40, 1).build(), ErrMessageTooLarge},
		{"count", func() []byte {
			b := plain(2, 1).build()
			b[offRecordCount+3] = 3
			copy(b[offCRC:], be32(BatchCRC(b)))
			return b
		}(), ErrInvalidRecord},
		{"second batch bad", concat(plain(1, 1).build(), func() []byte { b := plain(2, 1).build(); b[70] ^= 1; return b }()), ErrCorruptRecord},
	}
	for _, c := range cases {
		if _, err := l.AppendAsLeader(c.b, 0, 0); !errors.Is(err, c.want) {
			t.Errorf("%s: got %v, want %v", c.name, err, c.want)
		}
	}
	if l.LogEndOffset() != 0 || l.Size() != 0 {
		t.Fatalf("something was appended: leo %d size %d", l.LogEndOffset(), l.Size())
	}
}

func be32(v uint32) []byte { return []byte{byte(v >> 24), byte(v >> 16), byte(v >> 8), byte(v)} }

func TestFetchOffsetByTimestamp(t *testing.T) {
	cfg := testConfig()
	cfg.SegmentBytes = 500
	l := openT(t, NewMemFS(), "/d/t-0", cfg, 0)
	defer l.Close()
	for i := 0; i < 50; i++ {
		mustAppend(t, l, plain(3, int64(100*i)).build()) // offsets 3i..3i+2 at 100i..100i+2
	}
	for _, c := range []struct{ ts, off, rts int64 }{
		{0, 0, 0}, {1, 1, 1}, {2, 2, 2}, {3, 3, 100}, {250, 9, 300}, {4902, 149, 4902},
	} {
		off, ts, found, err := l.FetchOffsetByTimestamp(c.ts)
		if err != nil || !found || off != c.off || ts != c.rts {
			t.Errorf("ts %d: got %d %d %v %v, want %d %d", c.ts, off, ts, found, err, c.off, c.rts)
		}
	}
	if _, _, found, _ := l.FetchOffsetByTimestamp(4903); found {
		t.Error("found a timestamp past the newest")
	}
	if off, _, _, _ := l.FetchOffsetByTimestamp(-1); off != 150 {
		t.Errorf("latest %d", off)
	}
	if off, _, _, _ := l.FetchOffsetByTimestamp(-2); off != 0 {
		t.Errorf("earliest %d", off)
	}
}
