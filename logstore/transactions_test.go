package logstore

import (
	"errors"
	"reflect"
	"testing"

	"github.com/klassik/klassik/record"
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
