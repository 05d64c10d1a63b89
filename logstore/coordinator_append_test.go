package logstore

import (
	"errors"
	"reflect"
	"testing"
)

// A coordinator's transactional batches (Kafka's AppendOrigin.COORDINATOR, the group
// coordinator's TxnOffsetCommit) always start at sequence 0: the log neither takes the second
// one for a duplicate nor refuses it as out of order, but it checks the producer epoch, and
// the batch opens the producer's transaction, which a marker closes.
func TestAppendAsCoordinator(t *testing.T) {
	l := openT(t, NewMemFS(), "/d/t-0", testConfig(), 0)
	defer l.Close()
	first, err := l.AppendAsCoordinator(txnBatch(7, 3, 0, 2).build(), 1, 5000) // 0-1
	if err != nil {
		t.Fatal(err)
	}
	second, err := l.AppendAsCoordinator(txnBatch(7, 3, 0, 2).build(), 1, 5000) // 2-3, the same sequences
	if err != nil {
		t.Fatalf("second commit of the transaction: %v", err)
	}
	if second.Duplicate || second.FirstOffset != 2 || first.FirstOffset != 0 {
		t.Fatalf("appended at %+v then %+v, want 0 and 2, no duplicate", first, second)
	}
	if got := l.OngoingTransactions(); !reflect.DeepEqual(got, map[int64]int64{7: 0}) {
		t.Fatalf("ongoing %v, want producer 7 open at 0", got)
	}
	if got := l.LastStableOffset(l.LogEndOffset()); got != 0 {
		t.Fatalf("LSO %d, want 0", got)
	}
	// A client's batch with the same sequences would be a duplicate: the origin matters.
	if res := mustAppend(t, l, txnBatch(7, 3, 0, 2).build()); !res.Duplicate {
		t.Fatalf("client append of the same sequences: %+v, want a duplicate", res)
	}

	mustMarker(t, l, 7, 4, commit(0)) // 4: the coordinator bumped the epoch (a fenced producer)
	if got := l.OngoingTransactions(); len(got) != 0 {
		t.Fatalf("ongoing %v after the marker", got)
	}
	// The zombie, still at epoch 3, is fenced.
	if _, err := l.AppendAsCoordinator(txnBatch(7, 3, 0, 1).build(), 1, 5000); !errors.Is(err, ErrInvalidProducerEpoch) {
		t.Fatalf("zombie's commit: %v, want ErrInvalidProducerEpoch", err)
	}
	// The new epoch starts a new transaction; a sequence other than 0 is not a coordinator's
	// concern either.
	res, err := l.AppendAsCoordinator(txnBatch(7, 4, 5, 1).build(), 1, 5000)
	if err != nil {
		t.Fatalf("new epoch's commit: %v", err)
	}
	if got := l.OngoingTransactions(); !reflect.DeepEqual(got, map[int64]int64{7: res.FirstOffset}) {
		t.Fatalf("ongoing %v, want producer 7 open at %d", got, res.FirstOffset)
	}
	// Non-transactional coordinator batches (plain offset commits) pass as before.
	if _, err := l.AppendAsCoordinator(plain(1, 1).build(), 1, 5000); err != nil {
		t.Fatal(err)
	}
}
