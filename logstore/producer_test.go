package logstore

import (
	"errors"
	"math"
	"testing"
)

// Kafka 3.6 ProducerAppendInfo.checkProducerEpoch / checkSequence and UnifiedLog's
// duplicate detection over the last five batches.
func TestIdempotentProducer(t *testing.T) {
	l := openT(t, NewMemFS(), "/d/t-0", testConfig(), 0)
	defer l.Close()
	app := func(b batchSpec) (AppendResult, error) { return l.AppendAsLeader(b.build(), 0, 1) }

	if r, err := app(idem(7, 0, 0, 3)); err != nil || r.FirstOffset != 0 || r.LastOffset != 2 {
		t.Fatalf("%+v %v", r, err)
	}
	// A retry of the same batch is a duplicate: nothing appended, the original's offsets.
	if r, err := app(idem(7, 0, 0, 3)); err != nil || !r.Duplicate || r.FirstOffset != 0 || r.LastOffset != 2 {
		t.Fatalf("%+v %v", r, err)
	}
	if l.LogEndOffset() != 3 {
		t.Fatal("duplicate appended")
	}
	if _, err := app(idem(7, 0, 3, 2)); err != nil {
		t.Fatal(err)
	}
	if _, err := app(idem(7, 0, 10, 1)); !errors.Is(err, ErrOutOfOrderSequence) {
		t.Fatalf("gap: %v", err)
	}
	if _, err := app(idem(7, 0, 4, 1)); !errors.Is(err, ErrOutOfOrderSequence) {
		t.Fatalf("overlap: %v", err)
	}
	// A new epoch must start at 0.
	if _, err := app(idem(7, 1, 5, 1)); !errors.Is(err, ErrOutOfOrderSequence) {
		t.Fatalf("new epoch at 5: %v", err)
	}
	if _, err := app(idem(7, 1, 0, 1)); err != nil {
		t.Fatal(err)
	}
	if _, err := app(idem(7, 0, 5, 1)); !errors.Is(err, ErrInvalidProducerEpoch) {
		t.Fatalf("old epoch: %v", err)
	}
	// Unknown producer: any first sequence (KIP-360; state may have been removed).
	if _, err := app(idem(9, 3, 42, 2)); err != nil {
		t.Fatal(err)
	}
	// Only the last five batches are remembered.
	for i := int32(0); i < 6; i++ {
		if _, err := app(idem(9, 3, 44+i, 1)); err != nil {
			t.Fatal(err)
		}
	}
	if r, err := app(idem(9, 3, 44, 1)); err == nil || r.Duplicate {
		t.Fatalf("sixth-latest batch still deduplicated: %+v %v", r, err)
	}
	if r, err := app(idem(9, 3, 45, 1)); err != nil || !r.Duplicate {
		t.Fatalf("fifth-latest batch not a duplicate: %+v %v", r, err)
	}
	// A request is validated whole: a bad second batch appends nothing.
	leo := l.LogEndOffset()
	if _, err := l.AppendAsLeader(concat(idem(9, 3, 50, 1).build(), idem(9, 3, 52, 1).build()), 0, 1); !errors.Is(err, ErrOutOfOrderSequence) {
		t.Fatalf("%v", err)
	}
	if l.LogEndOffset() != leo {
		t.Fatal("partial append")
	}
	if _, err := l.AppendAsLeader(concat(idem(9, 3, 50, 1).build(), idem(9, 3, 51, 2).build()), 0, 1); err != nil {
		t.Fatal(err)
	}
	// Sequences wrap from MaxInt32 to 0.
	if _, err := app(idem(11, 0, math.MaxInt32-1, 2)); err != nil {
		t.Fatal(err)
	}
	if _, err := app(idem(11, 0, 0, 1)); err != nil {
		t.Fatalf("wrap: %v", err)
	}
}

func TestProducerStateSurvivesRestart(t *testing.T) {
	for _, crash := range []bool{false, true} {
		fsys := NewMemFS()
		cfg := testConfig()
		cfg.SegmentBytes = 300
		l := openT(t, fsys, "/d/t-0", cfg, 0)
		for i := int32(0); i < 20; i++ {
			if _, err := l.AppendAsLeader(idem(5, 2, i*2, 2).build(), 0, 1); err != nil {
				t.Fatal(err)
			}
		}
		if crash {
			l.Flush()
			fsys.Crash()
		} else {
			l.Close()
		}
		l = openT(t, fsys, "/d/t-0", cfg, 0)
		r, err := l.AppendAsLeader(idem(5, 2, 38, 2).build(), 0, 1)
		if err != nil || !r.Duplicate || r.FirstOffset != 38 {
			t.Fatalf("crash=%v: last batch after reopen: %+v %v", crash, r, err)
		}
		if _, err := l.AppendAsLeader(idem(5, 2, 41, 1).build(), 0, 1); !errors.Is(err, ErrOutOfOrderSequence) {
			t.Fatalf("crash=%v: gap after reopen: %v", crash, err)
		}
		if _, err := l.AppendAsLeader(idem(5, 1, 0, 1).build(), 0, 1); !errors.Is(err, ErrInvalidProducerEpoch) {
			t.Fatalf("crash=%v: old epoch after reopen: %v", crash, err)
		}
		if _, err := l.AppendAsLeader(idem(5, 2, 40, 1).build(), 0, 1); err != nil {
			t.Fatalf("crash=%v: %v", crash, err)
		}
		// Truncation rebuilds the state: the removed batch can be written again.
		if err := l.TruncateTo(40); err != nil {
			t.Fatal(err)
		}
		if r, err := l.AppendAsLeader(idem(5, 2, 40, 1).build(), 0, 1); err != nil || r.Duplicate || r.FirstOffset != 40 {
			t.Fatalf("crash=%v: after truncation %+v %v", crash, r, err)
		}
		l.Close()
	}
}

func TestSnapshotRoundTrip(t *testing.T) {
	s := newProducerState()
	s.update(BatchHeader{BaseOffset: 10, LastOffsetDelta: 4, ProducerID: 3, ProducerEpoch: 1, BaseSequence: 20, MaxTimestamp: 99, NumRecords: 5})
	got, err := decodeSnapshot(s.encodeSnapshot())
	if err != nil {
		t.Fatal(err)
	}
	e := got.producers[3]
	if e == nil || e.epoch != 1 || e.lastTs != 99 || len(e.batches) != 1 || e.batches[0] != (producerBatch{20, 24, 10, 14}) {
		t.Fatalf("%+v", e)
	}
	b := s.encodeSnapshot()
	b[len(b)-1] ^= 1
	if _, err := decodeSnapshot(b); err == nil {
		t.Fatal("corrupt snapshot accepted")
	}
}
