package logstore

import (
	"errors"
	"path/filepath"
	"syscall"
	"testing"

	"github.com/rs/zerolog"
)

// countSeq counts the stored batches of producer pid with base sequence seq.
func countSeq(t *testing.T, l *Log, pid int64, seq int32) int {
	t.Helper()
	n := 0
	for _, h := range readAll(t, l, l.LogStartOffset()) {
		if h.ProducerID == pid && h.BaseSequence == seq {
			n++
		}
	}
	return n
}

// KIP-112: an I/O error on append answers KAFKA_STORAGE_ERROR, takes the log offline and
// publishes nothing; the idempotent producer's retry after a restart is stored once.
func TestAppendIOErrorTakesLogOfflineAndRetryIsStoredOnce(t *testing.T) {
	for _, tc := range []struct {
		name string
		arm  func(*FaultFS)
	}{
		{"write", func(f *FaultFS) { f.Match(".log"); f.FailNthWrite(1) }},
		{"index write", func(f *FaultFS) { f.Match(".index"); f.FailNthWrite(1) }},
		{"fsync (flush.messages=1)", func(f *FaultFS) { f.Match(".log"); f.FailNthSync(1) }},
		{"disk full", func(f *FaultFS) { f.SetSpace(30) }},
	} {
		t.Run(tc.name, func(t *testing.T) {
			mem := NewMemFS()
			ffs := NewFaultFS(mem)
			cfg := testConfig()
			cfg.FlushIntervalMessages = 1
			l := openT(t, ffs, "/d/t-0", cfg, 0)
			mustAppend(t, l, idem(7, 0, 0, 3).build())
			leo := l.LogEndOffset()

			tc.arm(ffs)
			_, err := l.AppendAsLeader(idem(7, 0, 3, 2).build(), 1, 5000)
			if !errors.Is(err, ErrLogDirOffline) {
				t.Fatalf("append on a failing disk: %v, want ErrLogDirOffline", err)
			}
			if ffs.Injected() == 0 {
				t.Fatal("no fault fired")
			}
			if got := l.LogEndOffset(); got != leo {
				t.Fatalf("log end %d after a failed append, want %d", got, leo)
			}
			if !l.Offline() {
				t.Fatal("log not offline after an I/O error")
			}
			ffs.SetSpace(-1)
			if _, err := l.AppendAsLeader(idem(7, 0, 3, 2).build(), 1, 5000); !errors.Is(err, ErrLogDirOffline) {
				t.Fatalf("append to an offline log: %v, want ErrLogDirOffline", err)
			}
			if _, err := l.Read(0, 1<<20, -1, true); !errors.Is(err, ErrLogDirOffline) {
				t.Fatalf("read of an offline log: %v, want ErrLogDirOffline", err)
			}
			_ = l.Close()

			// The broker restarts with the disk repaired; the producer retries.
			l2 := openT(t, mem, "/d/t-0", cfg, 0)
			defer l2.Close()
			res, err := l2.AppendAsLeader(idem(7, 0, 3, 2).build(), 1, 5000)
			if err != nil {
				t.Fatalf("retry after restart: %v", err)
			}
			if n := countSeq(t, l2, 7, 3); n != 1 {
				t.Fatalf("batch seq 3 stored %d times (duplicate=%v), want once", n, res.Duplicate)
			}
			if n := countSeq(t, l2, 7, 0); n != 1 {
				t.Fatalf("batch seq 0 stored %d times, want once", n)
			}
		})
	}
}

// A failed fsync is never retried as if it had worked: the next Flush fails too.
func TestFlushErrorIsNotForgotten(t *testing.T) {
	ffs := NewFaultFS(NewMemFS())
	l := openT(t, ffs, "/d/t-0", testConfig(), 0)
	defer l.Close()
	mustAppend(t, l, plain(5, 1000).build())
	ffs.FailNthSync(1)
	if err := l.Flush(); !errors.Is(err, syscall.EIO) || !errors.Is(err, ErrLogDirOffline) {
		t.Fatalf("flush with a failing fsync: %v, want EIO and ErrLogDirOffline", err)
	}
	if err := l.Flush(); !errors.Is(err, ErrLogDirOffline) {
		t.Fatalf("second flush: %v, want ErrLogDirOffline", err)
	}
	if rp := l.RecoveryPoint(); rp != 0 {
		t.Fatalf("recovery point moved to %d by a failed flush", rp)
	}
}

// Rolling a segment (new files, producer snapshot, directory fsync) can fail too.
func TestRollIOErrorTakesLogOffline(t *testing.T) {
	ffs := NewFaultFS(NewMemFS())
	cfg := testConfig()
	cfg.SegmentBytes = 300
	l := openT(t, ffs, "/d/t-0", cfg, 0)
	defer l.Close()
	mustAppend(t, l, plain(5, 1000).build())
	mustAppend(t, l, plain(5, 1000).build())
	segs := l.NumSegments()
	ffs.FailNthSync(1) // the roll's SyncDir
	var err error
	for i := 0; i < 10 && err == nil && l.NumSegments() == segs; i++ {
		_, err = l.AppendAsLeader(plain(5, 1000).build(), 1, 5000)
	}
	if !errors.Is(err, ErrLogDirOffline) {
		t.Fatalf("append that rolls on a failing disk: %v, want ErrLogDirOffline", err)
	}
	if got := l.LogEndOffset(); got != 10 {
		t.Fatalf("log end %d, want 10", got)
	}
}

func TestReadIOErrorTakesLogOffline(t *testing.T) {
	ffs := NewFaultFS(NewMemFS())
	l := openT(t, ffs, "/d/t-0", testConfig(), 0)
	defer l.Close()
	mustAppend(t, l, plain(5, 1000).build())
	ffs.Match(".log")
	ffs.FailNthRead(1)
	if _, err := l.Read(0, 1<<20, -1, true); !errors.Is(err, ErrLogDirOffline) {
		t.Fatalf("read on a failing disk: %v, want ErrLogDirOffline", err)
	}
	if _, err := l.AppendAsLeader(plain(1, 1000).build(), 1, 5000); !errors.Is(err, ErrLogDirOffline) {
		t.Fatalf("append after a read error: %v, want ErrLogDirOffline", err)
	}
}

// A follower's failed append is reported the same way (the fetcher then stops following).
func TestFollowerAppendIOError(t *testing.T) {
	ffs := NewFaultFS(NewMemFS())
	l := openT(t, ffs, "/d/t-0", testConfig(), 0)
	defer l.Close()
	ffs.SetSpace(20)
	if _, err := l.AppendAsFollower(plain(5, 1000).build()); !errors.Is(err, ErrLogDirOffline) || !errors.Is(err, syscall.ENOSPC) {
		t.Fatalf("follower append on a full disk: %v, want ENOSPC and ErrLogDirOffline", err)
	}
	if l.LogEndOffset() != 0 {
		t.Fatalf("log end %d after a failed follower append", l.LogEndOffset())
	}
}

// The manager reports a failed dir once on LogDirFailures; HandleLogDirFailure takes its
// logs offline and new logs go to the remaining dir (LogManager.handleLogDirFailure).
func TestManagerLogDirFailure(t *testing.T) {
	ffs := NewFaultFS(NewMemFS())
	d1, d2 := "/data/a", "/data/b"
	m, err := OpenManager(ffs, []string{d1, d2}, testConfig(), zerolog.Nop())
	if err != nil {
		t.Fatal(err)
	}
	defer m.Close()
	la, err := m.GetOrCreate(TopicPartition{"t", 0}, testConfig())
	if err != nil {
		t.Fatal(err)
	}
	bad := filepath.Dir(la.Dir())
	ffs.Match(la.Dir())
	ffs.FailNthWrite(1)
	if _, err := la.AppendAsLeader(plain(2, 1000).build(), 1, 5000); !errors.Is(err, ErrLogDirOffline) {
		t.Fatalf("append: %v", err)
	}
	ffs.Match("")
	_, _ = la.AppendAsLeader(plain(2, 1000).build(), 1, 5000) // reported once only
	select {
	case dir := <-m.LogDirFailures():
		if dir != bad {
			t.Fatalf("failed dir %s, want %s", dir, bad)
		}
	default:
		t.Fatal("no log dir failure reported")
	}
	select {
	case dir := <-m.LogDirFailures():
		t.Fatalf("dir %s reported twice", dir)
	default:
	}
	offline, live := m.HandleLogDirFailure(bad)
	if len(offline) != 1 || offline[0] != (TopicPartition{"t", 0}) || len(live) != 1 || live[0] == bad {
		t.Fatalf("HandleLogDirFailure: offline %v live %v", offline, live)
	}
	if m.Get(TopicPartition{"t", 0}) != nil {
		t.Fatal("offline log still managed")
	}
	lb, err := m.GetOrCreate(TopicPartition{"t", 1}, testConfig())
	if err != nil {
		t.Fatal(err)
	}
	if filepath.Dir(lb.Dir()) == bad {
		t.Fatalf("new log created in the offline dir %s", bad)
	}
	if _, live := m.HandleLogDirFailure(live[0]); len(live) != 0 {
		t.Fatalf("live dirs %v after both failed", live)
	}
	if _, err := m.GetOrCreate(TopicPartition{"t", 2}, testConfig()); !errors.Is(err, ErrLogDirOffline) {
		t.Fatalf("create with no live dir: %v", err)
	}
}

// flush.ms: a log is fsynced once that long has passed since its last flush.
func TestFlushIfDue(t *testing.T) {
	cfg := testConfig()
	cfg.FlushMs = 1000
	l := openT(t, NewMemFS(), "/d/t-0", cfg, 0)
	defer l.Close()
	mustAppend(t, l, plain(5, 1000).build())
	now := l.lastFlushMs.Load()
	if did, err := l.FlushIfDue(now + 10); err != nil || did {
		t.Fatalf("FlushIfDue before flush.ms: %v %v", did, err)
	}
	if did, err := l.FlushIfDue(now + 1000); err != nil || !did {
		t.Fatalf("FlushIfDue after flush.ms: %v %v", did, err)
	}
	if l.RecoveryPoint() != l.LogEndOffset() {
		t.Fatalf("recovery point %d, log end %d", l.RecoveryPoint(), l.LogEndOffset())
	}
}
