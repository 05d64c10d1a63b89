package logstore

import (
	"reflect"
	"testing"
)

// ActiveProducers reports each producer as Kafka's UnifiedLog.activeProducers does for
// DescribeProducers (KIP-664): epoch, last sequence and timestamp of its last batch, the
// coordinator epoch of its last marker (-1 before any) and the start of its open transaction
// (-1 when none); the same after the log is reopened from its files.
func TestActiveProducers(t *testing.T) {
	fsys := NewMemFS()
	dir := "/d/t-0"
	l := openT(t, fsys, dir, testConfig(), 0)
	if got := l.ActiveProducers(); len(got) != 0 {
		t.Fatalf("empty log: %+v", got)
	}
	mustAppend(t, l, txnBatch(7, 0, 0, 3).build()) // 0-2: producer 7 opens at 0
	mustAppend(t, l, idem(9, 2, 0, 2).build())     // 3-4
	mustAppend(t, l, txnBatch(8, 1, 0, 1).build()) // 5: producer 8 opens at 5
	mustMarker(t, l, 7, 0, abort(3))               // 6: ends producer 7's transaction
	mustAppend(t, l, txnBatch(8, 1, 1, 2).build()) // 7-8
	want := []ProducerState{
		{ProducerID: 7, ProducerEpoch: 0, LastSequence: 2, LastTimestamp: 5000, CoordinatorEpoch: 3, CurrentTxnStartOffset: -1},
		{ProducerID: 8, ProducerEpoch: 1, LastSequence: 2, LastTimestamp: 1001, CoordinatorEpoch: -1, CurrentTxnStartOffset: 5},
		{ProducerID: 9, ProducerEpoch: 2, LastSequence: 1, LastTimestamp: 1001, CoordinatorEpoch: -1, CurrentTxnStartOffset: -1},
	}
	if got := l.ActiveProducers(); !reflect.DeepEqual(got, want) {
		t.Fatalf("active producers\n got %+v\nwant %+v", got, want)
	}
	leo := l.LogEndOffset()
	if err := l.Close(); err != nil {
		t.Fatal(err)
	}
	l = openT(t, fsys, dir, testConfig(), leo)
	defer l.Close()
	if got := l.ActiveProducers(); !reflect.DeepEqual(got, want) {
		t.Fatalf("after reopening\n got %+v\nwant %+v", got, want)
	}
}
