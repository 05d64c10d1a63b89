package logstore

import (
	"errors"
	"os"
	"reflect"
	"testing"

	"github.com/klassik/klassik/record"
	"github.com/rs/zerolog"
)

var (
	commit = func(ce int32) record.EndTxnMarker { return record.EndTxnMarker{Commit: true, CoordinatorEpoch: ce} }
	abort  = func(ce int32) record.EndTxnMarker { return record.EndTxnMarker{Commit: false, CoordinatorEpoch: ce} }
)

func mustMarker(t testing.TB, l *Log, pid int64, epoch int16, m record.EndTxnMarker) AppendResult {
	t.Helper()
	res, err := l.AppendMarker(pid, epoch, m, 1, 5000)
	if err != nil {
		t.Fatalf("marker %s for %d: %v", m, pid, err)
	}
	return res
}

// The LSO follows Kafka's ProducerStateManager: it stops at the first offset of the earliest
// open transaction, moves when markers close transactions, and holds at a transaction whose
// marker the high watermark has not passed; an ABORT marker adds a .txnindex entry whose last
// stable offset is the first offset of the next open transaction.
func TestTransactionsLastStableOffset(t *testing.T) {
	fsys := NewMemFS()
	dir := "/d/t-0"
	l := openT(t, fsys, dir, testConfig(), 0)
	defer l.Close()
	mustAppend(t, l, plain(2, 1).build())          // 0-1
	mustAppend(t, l, txnBatch(7, 0, 0, 3).build()) // 2-4: producer 7 opens at 2
	mustAppend(t, l, txnBatch(8, 0, 0, 2).build()) // 5-6: producer 8 opens at 5
	mustAppend(t, l, txnBatch(7, 0, 3, 1).build()) // 7
	if got := l.LastStableOffset(l.LogEndOffset()); got != 2 {
		t.Fatalf("LSO %d, want 2 (producer 7's transaction)", got)
	}
	if got := l.LastStableOffset(1); got != 1 {
		t.Fatalf("LSO %d under HW 1, want 1", got)
	}
	if !reflect.DeepEqual(l.OngoingTransactions(), map[int64]int64{7: 2, 8: 5}) {
		t.Fatalf("ongoing %v", l.OngoingTransactions())
	}
	m7 := mustMarker(t, l, 7, 0, commit(0)) // 8
	if m7.FirstOffset != 8 || m7.LastOffset != 8 {
		t.Fatalf("marker at %+v", m7)
	}
	// The commit marker is not below the HW yet: producer 7's data is not stable.
	if got := l.LastStableOffset(8); got != 2 {
		t.Fatalf("LSO %d with the commit marker above the HW, want 2", got)
	}
	if got := l.LastStableOffset(9); got != 5 {
		t.Fatalf("LSO %d, want 5 (producer 8's transaction)", got)
	}
	mustAppend(t, l, plain(1, 2).build()) // 9
	mustMarker(t, l, 8, 0, abort(0))      // 10
	if got := l.LastStableOffset(11); got != 11 {
		t.Fatalf("LSO %d, want the HW 11", got)
	}
	want := []AbortedTxn{{ProducerID: 8, FirstOffset: 5, LastOffset: 10, LastStableOffset: 11}}
	if got := l.AbortedTransactions(0, 11); !reflect.DeepEqual(got, want) {
		t.Fatalf("aborted %+v, want %+v", got, want)
	}
	if got := l.AbortedTransactions(11, 20); len(got) != 0 {
		t.Fatalf("aborted past the marker: %+v", got)
	}
	if got := l.AbortedTransactions(0, 5); len(got) != 0 {
		t.Fatalf("aborted before its first offset: %+v", got)
	}
	b, err := readFile(fsys, segmentName(dir, 0, txnIndexSuffix))
	if err != nil || len(b) != txnEntrySize {
		t.Fatalf(".txnindex: %d bytes, %v", len(b), err)
	}
	if es, err := DecodeTxnIndex(b, 0); err != nil || !reflect.DeepEqual(es, want) {
		t.Fatalf("file holds %+v %v", es, err)
	}
	// Both producers continue their sequences: a marker bumps none.
	mustAppend(t, l, idem(7, 0, 4, 1).build())
	mustAppend(t, l, idem(8, 0, 2, 1).build())
}

// ProducerAppendInfo's checks: a stale producer epoch on a marker is INVALID_PRODUCER_EPOCH,
// a stale coordinator epoch TRANSACTION_COORDINATOR_FENCED, a non-transactional batch inside
// a transaction INVALID_TXN_STATE; a marker with a newer epoch (the coordinator's bump on an
// abort) fences the old epoch.
func TestTransactionMarkerChecks(t *testing.T) {
	l := openT(t, NewMemFS(), "/d/t-0", testConfig(), 0)
	defer l.Close()
	mustAppend(t, l, txnBatch(7, 2, 0, 1).build())
	if _, err := l.AppendAsLeader(idem(7, 2, 1, 1).build(), 1, 5000); !errors.Is(err, ErrInvalidTxnState) {
		t.Fatalf("non-transactional batch in a transaction: %v", err)
	}
	if _, err := l.AppendMarker(7, 1, commit(3), 1, 5000); !errors.Is(err, ErrInvalidProducerEpoch) {
		t.Fatalf("stale producer epoch: %v", err)
	}
	mustMarker(t, l, 7, 2, commit(3))
	mustAppend(t, l, txnBatch(7, 2, 1, 1).build())
	if _, err := l.AppendMarker(7, 2, abort(2), 1, 5000); !errors.Is(err, ErrCoordinatorFenced) {
		t.Fatalf("stale coordinator epoch: %v", err)
	}
	if len(l.OngoingTransactions()) != 1 {
		t.Fatal("a refused marker closed the transaction")
	}
	mustMarker(t, l, 7, 3, abort(4)) // the coordinator aborted with a bumped epoch
	if _, err := l.AppendAsLeader(txnBatch(7, 2, 2, 1).build(), 1, 5000); !errors.Is(err, ErrInvalidProducerEpoch) {
		t.Fatalf("zombie at the old epoch: %v", err)
	}
	mustAppend(t, l, txnBatch(7, 3, 0, 1).build())
	// A marker for a producer without a transaction is written and ends nothing.
	mustMarker(t, l, 99, 0, abort(0))
	if got := l.OngoingTransactions(); !reflect.DeepEqual(got, map[int64]int64{7: l.LogEndOffset() - 2}) {
		t.Fatalf("ongoing %v", got)
	}
	// Clients' control batches are refused by AppendAsLeader.
	if _, err := l.AppendAsLeader(record.BuildEndTxnMarker(7, 3, commit(4), 0), 1, 5000); !errors.Is(err, ErrInvalidRecord) {
		t.Fatalf("control batch through AppendAsLeader: %v", err)
	}
}

// A follower copying the leader's batches rebuilds the same transaction state and
// aborted-transaction index (AppendOrigin.REPLICATION).
func TestTransactionsFollower(t *testing.T) {
	leader := openT(t, NewMemFS(), "/d/t-0", testConfig(), 0)
	defer leader.Close()
	mustAppend(t, leader, txnBatch(1, 0, 0, 2).build())
	mustAppend(t, leader, txnBatch(2, 0, 0, 2).build())
	mustMarker(t, leader, 1, 0, abort(0))
	mustAppend(t, leader, txnBatch(3, 0, 0, 1).build())
	data, err := leader.Read(0, 1<<20, -1, true)
	if err != nil {
		t.Fatal(err)
	}
	f := openT(t, NewMemFS(), "/d/t-0", testConfig(), 0)
	defer f.Close()
	if _, err := f.AppendAsFollower(data); err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(f.OngoingTransactions(), leader.OngoingTransactions()) {
		t.Fatalf("follower %v, leader %v", f.OngoingTransactions(), leader.OngoingTransactions())
	}
	if !reflect.DeepEqual(f.AbortedTransactions(0, 100), leader.AbortedTransactions(0, 100)) {
		t.Fatalf("follower %+v, leader %+v", f.AbortedTransactions(0, 100), leader.AbortedTransactions(0, 100))
	}
	if got := f.AbortedTransactions(0, 100); len(got) != 1 || got[0] != (AbortedTxn{1, 0, 4, 2}) {
		t.Fatalf("aborted %+v", got)
	}
}

// txnLog writes, over several small segments, two aborted and one committed transaction and
// leaves one open: producer 1 aborts across a segment boundary, producer 2 commits, producer
// 3 aborts while producer 4's transaction stays open.
func txnLog(t *testing.T, fsys FS, dir string) (*Log, []AbortedTxn) {
	t.Helper()
	cfg := testConfig()
	cfg.SegmentBytes = 400
	l := openT(t, fsys, dir, cfg, 0)
	mustAppend(t, l, txnBatch(1, 0, 0, 3).build()) // 0-2
	mustAppend(t, l, txnBatch(2, 0, 0, 3).build()) // 3-5
	mustAppend(t, l, plain(3, 1).build())          // 6-8
	mustAppend(t, l, txnBatch(1, 0, 3, 3).build()) // 9-11
	a1 := mustMarker(t, l, 1, 0, abort(0))         // 12
	mustMarker(t, l, 2, 0, commit(0))              // 13
	mustAppend(t, l, txnBatch(4, 0, 0, 2).build()) // 14-15
	mustAppend(t, l, txnBatch(3, 0, 0, 2).build()) // 16-17
	a3 := mustMarker(t, l, 3, 0, abort(0))         // 18
	mustAppend(t, l, plain(2, 2).build())          // 19-20
	if l.NumSegments() < 3 {
		t.Fatalf("%d segments, want the transactions spread over several", l.NumSegments())
	}
	want := []AbortedTxn{{1, 0, a1.LastOffset, 3}, {3, 16, a3.LastOffset, 14}}
	if got := l.AbortedTransactions(0, l.LogEndOffset()); !reflect.DeepEqual(got, want) {
		t.Fatalf("aborted %+v, want %+v", got, want)
	}
	return l, want
}

func checkTxnState(t *testing.T, l *Log, want []AbortedTxn, ongoing map[int64]int64) {
	t.Helper()
	if got := l.AbortedTransactions(0, l.LogEndOffset()); !reflect.DeepEqual(got, want) {
		t.Fatalf("aborted %+v, want %+v", got, want)
	}
	if got := l.OngoingTransactions(); !reflect.DeepEqual(got, ongoing) {
		t.Fatalf("ongoing %v, want %v", got, ongoing)
	}
}

// After an unclean shutdown recovery rebuilds every recovered segment's .txnindex from the
// log (Kafka's LogSegment.recover with the producer state at the segment's base), even when
// the files are gone; after a clean one the files and the snapshot are read back.
func TestTxnIndexRecovery(t *testing.T) {
	fsys := NewMemFS()
	dir := "/d/t-0"
	l, want := txnLog(t, fsys, dir)
	if err := l.Flush(); err != nil {
		t.Fatal(err)
	}
	ongoing := map[int64]int64{4: 14}
	// Unclean: the crash loses nothing synced, but the index files are deleted on top.
	c := fsys.Clone()
	c.Crash()
	ents, _ := c.ReadDir(dir)
	removed := 0
	for _, e := range ents {
		if len(e.Name()) > 9 && e.Name()[len(e.Name())-9:] == txnIndexSuffix {
			if err := c.Remove(dir + "/" + e.Name()); err != nil {
				t.Fatal(err)
			}
			removed++
		}
	}
	if removed != 2 {
		t.Fatalf("%d .txnindex files, want 2 (one per segment holding an abort marker)", removed)
	}
	l2 := openT(t, c, dir, testConfig(), 0)
	checkTxnState(t, l2, want, ongoing)
	if got := l2.LastStableOffset(l2.LogEndOffset()); got != 14 {
		t.Fatalf("LSO after recovery %d, want 14", got)
	}
	l2.Close()

	// Clean: Close writes the snapshot; a reopen trusting everything sees the same.
	if err := l.Close(); err != nil {
		t.Fatal(err)
	}
	l3, err := openLog(fsys, dir, testTP, testConfig(), openOptions{recoveryPoint: 21, logStart: -1, cleanShutdown: true}, zerolog.Nop())
	if err != nil {
		t.Fatal(err)
	}
	checkTxnState(t, l3, want, ongoing)
	// The open transaction continues and closes after the restart.
	mustAppend(t, l3, txnBatch(4, 0, 2, 1).build())
	mustMarker(t, l3, 4, 0, abort(1))
	if got := l3.LastStableOffset(l3.LogEndOffset()); got != l3.LogEndOffset() {
		t.Fatalf("LSO %d, want the log end %d", got, l3.LogEndOffset())
	}
	l3.Close()
}

// A .txnindex that does not decode, in a segment otherwise trusted, makes the segment
// recovered and the index rebuilt (Kafka's CorruptIndexException on sanityCheck).
func TestTxnIndexCorruptRebuilt(t *testing.T) {
	fsys := NewMemFS()
	dir := "/d/t-0"
	l, want := txnLog(t, fsys, dir)
	if err := l.Close(); err != nil {
		t.Fatal(err)
	}
	var seg int64 = -1
	for _, s := range l.segs {
		if len(s.txn.all()) > 0 {
			seg = s.base
			break
		}
	}
	name := segmentName(dir, seg, txnIndexSuffix)
	for _, damage := range []func(c *MemFS) error{
		func(c *MemFS) error { return c.FlipByte(name, 0) }, // version 0 becomes another
		func(c *MemFS) error { // torn entry
			f, err := c.OpenFile(name, os.O_RDWR, 0)
			if err != nil {
				return err
			}
			defer f.Close()
			return f.Truncate(20)
		},
	} {
		c := fsys.Clone()
		if err := damage(c); err != nil {
			t.Fatal(err)
		}
		l2, err := openLog(c, dir, testTP, testConfig(), openOptions{recoveryPoint: 21, logStart: -1, cleanShutdown: true}, zerolog.Nop())
		if err != nil {
			t.Fatal(err)
		}
		checkTxnState(t, l2, want, map[int64]int64{4: 14})
		l2.Close()
	}
}

// Truncation drops the index entries of markers it removes, and the transactions they ended
// are open again (UnifiedLog.truncateTo: producer state rebuilt, txnIndex.truncateTo).
func TestTxnIndexTruncation(t *testing.T) {
	fsys := NewMemFS()
	dir := "/d/t-0"
	l, want := txnLog(t, fsys, dir)
	defer l.Close()
	if err := l.TruncateTo(want[1].LastOffset); err != nil { // producer 3's abort marker goes
		t.Fatal(err)
	}
	checkTxnState(t, l, want[:1], map[int64]int64{3: 16, 4: 14})
	if got := l.LastStableOffset(l.LogEndOffset()); got != 14 {
		t.Fatalf("LSO %d, want 14", got)
	}
	if err := l.TruncateTo(want[0].LastOffset); err != nil { // producer 1's abort and 2's commit go
		t.Fatal(err)
	}
	checkTxnState(t, l, nil, map[int64]int64{1: 0, 2: 3})
	for _, s := range l.segs {
		if b, err := readFile(fsys, segmentName(dir, s.base, txnIndexSuffix)); err == nil && len(b) != 0 {
			t.Fatalf("segment %d keeps %d bytes of .txnindex", s.base, len(b))
		}
	}
	// The coordinator's retried markers land again.
	mustMarker(t, l, 1, 0, abort(0))
	mustMarker(t, l, 2, 0, commit(0))
	if got := l.AbortedTransactions(0, l.LogEndOffset()); len(got) != 1 || got[0].ProducerID != 1 {
		t.Fatalf("aborted %+v", got)
	}
}

// FuzzDecodeTxnIndex: no bytes make the .txnindex reader panic; what decodes re-encodes to
// the same bytes and passes the checks.
func FuzzDecodeTxnIndex(f *testing.F) {
	f.Add(appendTxnEntry(appendTxnEntry(nil, AbortedTxn{1, 0, 5, 6}), AbortedTxn{2, 3, 9, 10}), int64(0))
	f.Add(make([]byte, txnEntrySize), int64(0))
	f.Add(make([]byte, txnEntrySize+3), int64(7))
	f.Fuzz(func(t *testing.T, b []byte, base int64) {
		es, err := DecodeTxnIndex(b, base)
		if err != nil {
			if !errors.Is(err, ErrCorruptTxnIndex) {
				t.Fatalf("error does not wrap ErrCorruptTxnIndex: %v", err)
			}
			return
		}
		var back []byte
		for i, e := range es {
			if e.LastOffset < base || e.FirstOffset > e.LastOffset || i > 0 && e.LastOffset <= es[i-1].LastOffset {
				t.Fatalf("entry %d %+v passed", i, e)
			}
			back = appendTxnEntry(back, e)
		}
		if string(back) != string(b) {
			t.Fatal("re-encoding differs")
		}
	})
}
