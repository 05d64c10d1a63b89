package logstore

import (
	"bytes"
	"errors"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/klassik/klassik/record"
	"github.com/rs/zerolog"
)

// Moves between log dirs (KIP-113): Kafka's future logs, ReplicaAlterLogDirsThread's copy and
// LogManager.replaceCurrentWithFutureLog.

const dirA, dirB = "/data/a", "/data/b"

func futureConfig() Config {
	c := testConfig()
	c.SegmentBytes = 1500 // several segments, so the copy rolls as the current log did
	return c
}

func openMoveManager(t *testing.T, fsys FS, dirs ...string) *Manager {
	t.Helper()
	if len(dirs) == 0 {
		dirs = []string{dirA, dirB}
	}
	m, err := OpenManager(fsys, dirs, futureConfig(), zerolog.Nop())
	if err != nil {
		t.Fatal(err)
	}
	return m
}

// logBytes reads every stored byte of l from offset from.
func logBytes(t testing.TB, l *Log, from int64) []byte {
	t.Helper()
	var out []byte
	for off := from; off < l.LogEndOffset(); {
		b, err := l.Read(off, 700, -1, true)
		if err != nil {
			t.Fatalf("read %d: %v", off, err)
		}
		hs := headers(t, b)
		if len(hs) == 0 {
			t.Fatalf("read %d returned nothing before the log end %d", off, l.LogEndOffset())
		}
		out = append(out, b...)
		off = hs[len(hs)-1].NextOffset()
	}
	return out
}

// copyAll runs the copy until the future log has caught up.
func copyAll(t testing.TB, m *Manager, tp TopicPartition) {
	t.Helper()
	for i := 0; i < 10000; i++ {
		done, err := m.CopyToFuture(tp, 700)
		if err != nil {
			t.Fatalf("copy: %v", err)
		}
		if done {
			return
		}
	}
	t.Fatal("the copy did not catch up in 10000 steps")
}

// fillLog writes what a move must carry: batches of two leader epochs, an idempotent
// producer, an aborted transaction (a .txnindex entry) and a leader epoch with no batch yet.
// It returns the last idempotent batch, for a duplicate check.
func fillLog(t *testing.T, l *Log) []byte {
	t.Helper()
	if err := l.AssignEpochStartOffset(1, 0); err != nil {
		t.Fatal(err)
	}
	for i := range 20 {
		if _, err := l.AppendAsLeader(plain(3, int64(1000+i)).build(), 1, 5000); err != nil {
			t.Fatal(err)
		}
	}
	if err := l.AssignEpochStartOffset(3, l.LogEndOffset()); err != nil {
		t.Fatal(err)
	}
	var last []byte
	for i := range 10 {
		last = idem(7, 0, int32(i*2), 2).build()
		if _, err := l.AppendAsLeader(slices.Clone(last), 3, 5000); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := l.AppendAsLeader(txnBatch(9, 0, 0, 2).build(), 3, 5000); err != nil {
		t.Fatal(err)
	}
	if _, err := l.AppendMarker(9, 0, record.EndTxnMarker{Commit: false, CoordinatorEpoch: 1}, 3, 5000); err != nil {
		t.Fatal(err)
	}
	if err := l.AssignEpochStartOffset(5, l.LogEndOffset()); err != nil {
		t.Fatal(err)
	}
	return last
}

type logState struct {
	data      []byte
	start     int64
	leo       int64
	epochs    [][2]int64
	producers []ProducerState
	aborted   []AbortedTxn
}

func stateOf(t *testing.T, l *Log) logState {
	t.Helper()
	return logState{data: logBytes(t, l, l.LogStartOffset()), start: l.LogStartOffset(), leo: l.LogEndOffset(),
		epochs: l.EpochEntries(), producers: l.ActiveProducers(), aborted: l.AbortedTransactions(0, l.LogEndOffset())}
}

func (s logState) check(t *testing.T, what string, l *Log) {
	t.Helper()
	got := stateOf(t, l)
	if !bytes.Equal(got.data, s.data) || got.start != s.start || got.leo != s.leo {
		t.Errorf("%s: log [%d, %d) of %d bytes, want [%d, %d) of %d bytes, same bytes %v", what,
			got.start, got.leo, len(got.data), s.start, s.leo, len(s.data), bytes.Equal(got.data, s.data))
	}
	if !slices.Equal(got.epochs, s.epochs) {
		t.Errorf("%s: leader epochs %v, want %v", what, got.epochs, s.epochs)
	}
	if !slices.Equal(got.producers, s.producers) {
		t.Errorf("%s: producers %+v, want %+v", what, got.producers, s.producers)
	}
	if !slices.Equal(got.aborted, s.aborted) {
		t.Errorf("%s: aborted transactions %+v, want %+v", what, got.aborted, s.aborted)
	}
}

// folders lists the partition folders of a log dir.
func folders(t *testing.T, fsys FS, dir string) []string {
	t.Helper()
	ents, err := fsys.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, e := range ents {
		if e.IsDir() {
			out = append(out, e.Name())
		}
	}
	return out
}

// A move copies the log to the other dir and swaps: the same *Log now lives in the new
// folder with every byte, leader epoch (one without batches included), producer and aborted
// transaction; the old folder is gone; idempotent producers are still deduplicated; and it all
// survives a restart.
func TestFutureMove(t *testing.T) {
	fsys := NewMemFS()
	m := openMoveManager(t, fsys)
	l, err := m.GetOrCreate(testTP, futureConfig())
	if err != nil {
		t.Fatal(err)
	}
	if filepath.Dir(l.Dir()) != dirA {
		t.Fatalf("log created in %s, want %s (the dir with the fewest)", l.Dir(), dirA)
	}
	lastIdem := fillLog(t, l)
	want := stateOf(t, l)
	if l.NumSegments() < 3 {
		t.Fatalf("%d segments, want several", l.NumSegments())
	}

	// Kafka's errors.
	if _, err := m.CreateFuture(testTP, "/data/c"); !errors.Is(err, ErrLogDirNotFound) {
		t.Errorf("future in a dir not in log.dirs: %v, want ErrLogDirNotFound", err)
	}
	if _, err := m.LogDirOnline("data/b"); !errors.Is(err, ErrLogDirNotFound) {
		t.Errorf("relative path: %v, want ErrLogDirNotFound", err)
	}
	if _, err := m.CreateFuture(TopicPartition{"other", 0}, dirB); !errors.Is(err, ErrNoLog) {
		t.Errorf("future of a partition not hosted: %v, want ErrNoLog", err)
	}
	if created, err := m.CreateFuture(testTP, dirA); created || err != nil {
		t.Errorf("future in the current dir: %v %v, want nothing done", created, err)
	}

	if created, err := m.CreateFuture(testTP, dirB); !created || err != nil {
		t.Fatalf("CreateFuture: %v %v", created, err)
	}
	if created, err := m.CreateFuture(testTP, dirB); created || err != nil {
		t.Errorf("second CreateFuture to the same dir: %v %v, want nothing done", created, err)
	}
	if cur, fut := m.LogDirsOf(testTP); cur != dirA || fut != dirB {
		t.Errorf("LogDirsOf: %q %q", cur, fut)
	}
	dirs := m.Dirs()
	if len(dirs[1].Futures) != 1 || !strings.HasSuffix(dirs[1].Futures[0].Dir(), FutureDirSuffix) ||
		!strings.HasPrefix(filepath.Base(dirs[1].Futures[0].Dir()), LogDirName(testTP)+".") {
		t.Fatalf("dir b futures: %+v", dirs[1].Futures)
	}
	if len(dirs[0].Logs) != 1 || dirs[0].Logs[0] != l || len(dirs[1].Logs) != 0 {
		t.Fatalf("current logs during the move: %+v", dirs)
	}
	copyAll(t, m, testTP)
	if swapped, err := m.ReplaceCurrentWithFuture(testTP, 1<<20, 700); !swapped || err != nil {
		t.Fatalf("swap: %v %v", swapped, err)
	}
	if got := m.Get(testTP); got != l {
		t.Fatal("the manager holds another *Log after the swap")
	}
	if l.Dir() != filepath.Join(dirB, LogDirName(testTP)) || m.Future(testTP) != nil {
		t.Fatalf("after the swap: dir %s, future %v", l.Dir(), m.Future(testTP))
	}
	if cur, fut := m.LogDirsOf(testTP); cur != dirB || fut != "" {
		t.Errorf("LogDirsOf after the swap: %q %q", cur, fut)
	}
	want.check(t, "after the swap", l)
	// Both dirs' checkpoints were rewritten: the moved log's recovery point (its log end:
	// the copy was fsynced) is in the new dir's file only.
	for dir, has := range map[string]bool{dirA: false, dirB: true} {
		rps, err := readOffsetsCheckpoint(fsys, filepath.Join(dir, RecoveryPointCheckpointFile))
		if err != nil {
			t.Fatal(err)
		}
		if rp, ok := rps[testTP]; ok != has || has && rp != l.LogEndOffset() {
			t.Errorf("%s recovery points %v after the swap (log end %d)", dir, rps, l.LogEndOffset())
		}
	}
	m.deletes.Wait()
	if fs := folders(t, fsys, dirA); len(fs) != 0 {
		t.Errorf("dir a still holds %v", fs)
	}
	if fs := folders(t, fsys, dirB); !slices.Equal(fs, []string{LogDirName(testTP)}) {
		t.Errorf("dir b holds %v", fs)
	}
	if dirs := m.Dirs(); len(dirs[0].Logs) != 0 || len(dirs[1].Logs) != 1 || len(dirs[1].Futures) != 0 {
		t.Errorf("dirs after the swap: %+v", dirs)
	}

	// The producer state came along: a resent batch is a duplicate.
	if res, err := l.AppendAsLeader(lastIdem, 5, 6000); err != nil || !res.Duplicate {
		t.Errorf("resent idempotent batch after the swap: %+v %v, want a duplicate", res, err)
	}
	mustAppend(t, l, plain(4, 9000).build())
	want = stateOf(t, l)
	if err := m.Close(); err != nil {
		t.Fatal(err)
	}
	m = openMoveManager(t, fsys)
	defer m.Close()
	l = m.Get(testTP)
	if l == nil || filepath.Dir(l.Dir()) != dirB {
		t.Fatalf("after the restart: %v", l)
	}
	want.check(t, "after the restart", l)
}

// Appends go on while the copy runs and while it swaps (a bounded catch-up under the writer
// lock): every acknowledged offset is in the log afterwards, in order.
func TestFutureMoveUnderAppends(t *testing.T) {
	fsys := NewMemFS()
	m := openMoveManager(t, fsys)
	defer m.Close()
	l, err := m.GetOrCreate(testTP, futureConfig())
	if err != nil {
		t.Fatal(err)
	}
	for range 50 {
		mustAppend(t, l, plain(2, 1000).build())
	}
	var (
		wg        sync.WaitGroup
		acked     []int64
		n         atomic.Int64
		swappedAt atomic.Int64 // appends acknowledged when the swap was done; -1 before
	)
	swappedAt.Store(-1)
	wg.Add(1)
	go func() { // appends all through the move, and 200 more after it (at most 200000)
		defer wg.Done()
		for i := range 200000 {
			if at := swappedAt.Load(); at >= 0 && n.Load() >= at+200 {
				return
			}
			res, err := l.AppendAsLeader(plain(2, int64(2000+i)).build(), 1, 5000)
			if err != nil {
				t.Errorf("append %d: %v", i, err)
				return
			}
			acked = append(acked, res.FirstOffset)
			n.Add(1)
		}
	}()
	for n.Load() < 100 {
		runtime.Gosched()
	}
	if _, err := m.CreateFuture(testTP, dirB); err != nil {
		t.Fatal(err)
	}
	swapped, tries, duringSwap := false, 0, int64(0)
	for i := 0; i < 100000 && !swapped; i++ {
		done, err := m.CopyToFuture(testTP, 4096)
		if err != nil {
			t.Fatal(err)
		}
		if done || i%5 == 4 {
			// A small catch-up budget, so that a try may give up and copy more; tried
			// before the copy catches up too, as the appends may always stay ahead.
			tries++
			if swapped, err = m.ReplaceCurrentWithFuture(testTP, 4000, 700); err != nil {
				t.Fatal(err)
			}
			duringSwap = n.Load()
			if swapped {
				swappedAt.Store(duringSwap)
			}
		}
	}
	wg.Wait()
	if !swapped {
		t.Fatal("no swap within 100000 steps")
	}
	if filepath.Dir(l.Dir()) != dirB {
		t.Fatalf("log in %s after the swap", l.Dir())
	}
	hs := readAll(t, l, 0)
	next := int64(0)
	have := map[int64]bool{}
	for _, h := range hs {
		if h.BaseOffset != next {
			t.Fatalf("batch at %d, want %d: offsets not contiguous", h.BaseOffset, next)
		}
		have[h.BaseOffset] = true
		next = h.NextOffset()
	}
	for _, off := range acked {
		if !have[off] {
			t.Fatalf("acknowledged batch at %d is not in the moved log", off)
		}
	}
	if next != l.LogEndOffset() || len(acked) == 0 {
		t.Fatalf("read to %d, log end %d, %d appends acknowledged", next, l.LogEndOffset(), len(acked))
	}
	t.Logf("swapped at the %d. try after %d of %d appends; log end %d", tries, duringSwap, len(acked), next)
}

// A truncation of the current log during the copy (a follower after a leader change) cuts the
// future log at the same offset, and a full truncation starts it over: the moved log is the
// current log as it was at the swap.
func TestFutureFollowsTruncation(t *testing.T) {
	fsys := NewMemFS()
	m := openMoveManager(t, fsys)
	defer m.Close()
	l, err := m.GetOrCreate(testTP, futureConfig())
	if err != nil {
		t.Fatal(err)
	}
	if err := l.AssignEpochStartOffset(1, 0); err != nil {
		t.Fatal(err)
	}
	for i := range 10 {
		mustAppend(t, l, plain(2, int64(1000+i)).build())
	}
	if _, err := m.CreateFuture(testTP, dirB); err != nil {
		t.Fatal(err)
	}
	copyAll(t, m, testTP)
	// A new leader had fewer of them: truncate to 8 and take the leader's batches of epoch 2.
	if err := l.TruncateTo(8); err != nil {
		t.Fatal(err)
	}
	for i := range 3 {
		b := plain(3, int64(5000+i)).build()
		setBaseOffset(b, l.LogEndOffset())
		setLeaderEpoch(b, 2)
		if _, err := l.AppendAsFollower(b); err != nil {
			t.Fatal(err)
		}
	}
	want := stateOf(t, l)
	copyAll(t, m, testTP)
	if f := m.Future(testTP); !bytes.Equal(logBytes(t, f, 0), want.data) {
		t.Fatal("the future log does not follow the truncation")
	}
	// Starting over (the leader's log start passed this replica's end).
	if err := l.TruncateFullyAndStartAt(100); err != nil {
		t.Fatal(err)
	}
	mustAppend(t, l, plain(2, 7000).build())
	want = stateOf(t, l)
	if swapped, err := m.ReplaceCurrentWithFuture(testTP, 1<<20, 700); !swapped || err != nil {
		t.Fatalf("swap: %v %v", swapped, err)
	}
	want.check(t, "after a full truncation and the swap", l)
}

// DeleteRecords may leave the log start inside a batch: the future log starts at that batch
// and keeps the same log start offset.
func TestFutureLogStartInsideBatch(t *testing.T) {
	m := openMoveManager(t, NewMemFS())
	defer m.Close()
	l, err := m.GetOrCreate(testTP, futureConfig())
	if err != nil {
		t.Fatal(err)
	}
	for range 6 {
		mustAppend(t, l, plain(5, 1000).build())
	}
	if err := l.IncrementLogStartOffset(12); err != nil {
		t.Fatal(err)
	}
	want := stateOf(t, l)
	if _, err := m.CreateFuture(testTP, dirB); err != nil {
		t.Fatal(err)
	}
	copyAll(t, m, testTP)
	if swapped, err := m.ReplaceCurrentWithFuture(testTP, 1<<20, 700); !swapped || err != nil {
		t.Fatalf("swap: %v %v", swapped, err)
	}
	want.check(t, "moved with its start inside a batch", l)
	if hs := readAll(t, l, 12); hs[0].BaseOffset != 10 {
		t.Errorf("first batch at %d, want 10 (the one holding the log start)", hs[0].BaseOffset)
	}
}

// A restart in the middle of the copy (clean, or a crash that loses what was not fsynced)
// loads the -future folder again and the move resumes (Kafka's loadLogs finds future logs).
func TestFutureResumesAfterRestart(t *testing.T) {
	for _, crash := range []bool{false, true} {
		name := "clean"
		if crash {
			name = "crash"
		}
		t.Run(name, func(t *testing.T) {
			fsys := NewMemFS()
			m := openMoveManager(t, fsys)
			l, err := m.GetOrCreate(testTP, futureConfig())
			if err != nil {
				t.Fatal(err)
			}
			fillLog(t, l)
			if err := m.Checkpoint(); err != nil { // the current log is on disk
				t.Fatal(err)
			}
			if _, err := m.CreateFuture(testTP, dirB); err != nil {
				t.Fatal(err)
			}
			for range 5 {
				if _, err := m.CopyToFuture(testTP, 700); err != nil {
					t.Fatal(err)
				}
			}
			partial := m.Future(testTP).LogEndOffset()
			if partial == 0 || partial >= l.LogEndOffset() {
				t.Fatalf("future log end %d of %d: want a partial copy", partial, l.LogEndOffset())
			}
			if crash {
				mustAppend(t, l, plain(2, 9000).build()) // lost with the crash
				fsys.Crash()
			} else if err := m.Close(); err != nil {
				t.Fatal(err)
			}
			m = openMoveManager(t, fsys)
			defer m.Close()
			l = m.Get(testTP)
			f := m.Future(testTP)
			if l == nil || f == nil || filepath.Dir(l.Dir()) != dirA || filepath.Dir(f.Dir()) != dirB {
				t.Fatalf("after the restart: current %v, future %v", l, f)
			}
			want := stateOf(t, l)
			copyAll(t, m, testTP)
			if swapped, err := m.ReplaceCurrentWithFuture(testTP, 1<<20, 700); !swapped || err != nil {
				t.Fatalf("swap: %v %v", swapped, err)
			}
			want.check(t, "moved after the restart", l)
		})
	}
}

// A crash between the swap's two renames leaves the future folder and the -delete folder of
// the current log: the next start takes the future log, complete at that point, for the
// partition's log. A future folder without its current log and without that sign is an
// incomplete copy: left on disk, not loaded.
func TestFutureInterruptedSwap(t *testing.T) {
	fsys := NewMemFS()
	m := openMoveManager(t, fsys)
	l, err := m.GetOrCreate(testTP, futureConfig())
	if err != nil {
		t.Fatal(err)
	}
	fillLog(t, l)
	if _, err := m.CreateFuture(testTP, dirB); err != nil {
		t.Fatal(err)
	}
	copyAll(t, m, testTP)
	want := stateOf(t, l)
	if err := m.Close(); err != nil {
		t.Fatal(err)
	}
	// Step 3 of the swap, then the crash.
	cur := filepath.Join(dirA, LogDirName(testTP))
	if err := fsys.Rename(cur, filepath.Join(dirA, suffixedDirName(testTP, DeleteDirSuffix))); err != nil {
		t.Fatal(err)
	}
	m = openMoveManager(t, fsys)
	l = m.Get(testTP)
	if l == nil || l.Dir() != filepath.Join(dirB, LogDirName(testTP)) || m.Future(testTP) != nil {
		t.Fatalf("after the restart: %v, future %v", l, m.Future(testTP))
	}
	// The future log had its own epochs and producers (copied from the batches); the
	// epoch without a batch is written by the swap's step 2, which this crash skipped.
	want.epochs = want.epochs[:len(want.epochs)-1]
	want.check(t, "promoted future log", l)
	if fs := folders(t, fsys, dirA); len(fs) != 0 {
		t.Errorf("dir a holds %v", fs)
	}
	if err := m.Close(); err != nil {
		t.Fatal(err)
	}

	// An orphan future log: no current log, no -delete folder.
	other := TopicPartition{"orphan", 0}
	orphan := filepath.Join(dirA, suffixedDirName(other, FutureDirSuffix))
	if err := fsys.MkdirAll(orphan, 0o755); err != nil {
		t.Fatal(err)
	}
	m = openMoveManager(t, fsys)
	defer m.Close()
	if m.Get(other) != nil || m.Future(other) != nil {
		t.Error("an orphan future log was loaded")
	}
	if _, err := fsys.Stat(orphan); err != nil {
		t.Errorf("the orphan future folder was removed: %v", err)
	}
}

// Cancelling a move (RemoveFuture, or AlterReplicaLogDirs back to the current dir) and
// deleting the partition remove the future folder; a dir failure stops the moves into it and
// keeps the current log; no future log is made while a dir is offline.
func TestFutureCancelDeleteAndFailure(t *testing.T) {
	fsys := NewMemFS()
	m := openMoveManager(t, fsys, dirA, dirB, "/data/c")
	defer m.Close()
	l, err := m.GetOrCreate(testTP, futureConfig())
	if err != nil {
		t.Fatal(err)
	}
	fillLog(t, l)
	if _, err := m.CreateFuture(testTP, dirB); err != nil {
		t.Fatal(err)
	}
	copyAll(t, m, testTP)
	if _, err := m.CreateFuture(testTP, "/data/c"); err == nil {
		t.Error("a second future log in another dir was made")
	}
	if err := m.RemoveFuture(testTP); err != nil {
		t.Fatal(err)
	}
	m.deletes.Wait()
	if fs := folders(t, fsys, dirB); len(fs) != 0 || m.Future(testTP) != nil {
		t.Errorf("after the cancel: dir b holds %v, future %v", fs, m.Future(testTP))
	}
	if _, err := m.CopyToFuture(testTP, 700); !errors.Is(err, ErrNoFuture) {
		t.Errorf("copy after the cancel: %v, want ErrNoFuture", err)
	}

	// The move's dir fails: the move stops, the partition stays.
	if _, err := m.CreateFuture(testTP, dirB); err != nil {
		t.Fatal(err)
	}
	if offline, _ := m.HandleLogDirFailure(dirB); len(offline) != 0 {
		t.Errorf("partitions offline with the future's dir: %v", offline)
	}
	if m.Future(testTP) != nil || m.Get(testTP) != l {
		t.Fatal("after the future's dir failed: the future log is kept or the current one lost")
	}
	if _, err := m.CreateFuture(testTP, "/data/c"); !errors.Is(err, ErrLogDirOffline) {
		t.Errorf("future log with a dir offline: %v, want a storage error", err)
	}

	// Deleting the partition removes the future log first, then the current one.
	m2 := openMoveManager(t, NewMemFS())
	defer m2.Close()
	l2, err := m2.GetOrCreate(testTP, futureConfig())
	if err != nil {
		t.Fatal(err)
	}
	fillLog(t, l2)
	if _, err := m2.CreateFuture(testTP, dirB); err != nil {
		t.Fatal(err)
	}
	if err := m2.Delete(testTP); err != nil {
		t.Fatal(err)
	}
	m2.deletes.Wait()
	for _, d := range []string{dirA, dirB} {
		if fs := folders(t, m2.fsys, d); len(fs) != 0 {
			t.Errorf("after the delete %s holds %v", d, fs)
		}
	}
}

// AlterReplicaLogDirs for a partition not hosted yet names the dir its log is created in
// (LogManager.maybeUpdatePreferredLogDir), even when another dir holds fewer partitions.
func TestPreferredLogDir(t *testing.T) {
	m := openMoveManager(t, NewMemFS())
	defer m.Close()
	for p := range int32(3) {
		if _, err := m.GetOrCreate(TopicPartition{"fill", p}, futureConfig()); err != nil {
			t.Fatal(err)
		}
	}
	// a holds 2, b holds 1: the next goes to b unless told otherwise.
	tp := TopicPartition{"moved", 0}
	if err := m.MaybeUpdatePreferredLogDir(tp, dirA); err != nil {
		t.Fatal(err)
	}
	l, err := m.GetOrCreate(tp, futureConfig())
	if err != nil {
		t.Fatal(err)
	}
	if filepath.Dir(l.Dir()) != dirA {
		t.Errorf("created in %s, want the preferred %s", l.Dir(), dirA)
	}
	// Satisfied, so forgotten: deleted and made again, it goes where placement says.
	if err := m.Delete(tp); err != nil {
		t.Fatal(err)
	}
	if l, err = m.GetOrCreate(tp, futureConfig()); err != nil || filepath.Dir(l.Dir()) != dirB {
		t.Errorf("recreated in %v (%v), want %s", l, err, dirB)
	}

	// Bounded: partitions that never come cannot grow the map without end.
	for i := range MaxPreferredLogDirs {
		if err := m.MaybeUpdatePreferredLogDir(TopicPartition{"never", int32(i)}, dirA); err != nil {
			t.Fatalf("entry %d: %v", i, err)
		}
	}
	err = m.MaybeUpdatePreferredLogDir(TopicPartition{"one-more", 0}, dirA)
	if err == nil || !strings.Contains(err.Error(), "MaxPreferredLogDirs") {
		t.Errorf("past the bound: %v", err)
	}
	if err := m.MaybeUpdatePreferredLogDir(TopicPartition{"never", 0}, dirB); err != nil {
		t.Errorf("changing a remembered entry at the bound: %v", err)
	}
}

func TestParseSuffixedDirName(t *testing.T) {
	tp := TopicPartition{"a.b-c", 12}
	for _, suf := range []string{DeleteDirSuffix, FutureDirSuffix} {
		name := suffixedDirName(tp, suf)
		if got, ok := parseSuffixedDirName(name, suf); !ok || got != tp {
			t.Errorf("%s: %v %v", name, got, ok)
		}
		if len(name) != len(LogDirName(tp))+1+32+len(suf) {
			t.Errorf("%s: not <topic>-<partition>.<32 hex digits>%s", name, suf)
		}
	}
	for _, bad := range []string{"x-future", ".abc-future", "t-x.abc-future", "t-0-delete", "t-0-future"} {
		if _, ok := parseSuffixedDirName(bad, FutureDirSuffix); ok {
			t.Errorf("%q parsed", bad)
		}
	}
}
