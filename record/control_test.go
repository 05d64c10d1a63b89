package record

import (
	"errors"
	"testing"
)

// A marker built here is a valid v2 control batch that decodes back to itself (Kafka's
// EndTransactionMarker round trip), with the control and transactional bits set and no
// sequence.
func TestEndTxnMarkerRoundTrip(t *testing.T) {
	for _, m := range []EndTxnMarker{{Commit: true, CoordinatorEpoch: 7}, {Commit: false, CoordinatorEpoch: 0}, {Commit: true, CoordinatorEpoch: -1}} {
		b := BuildEndTxnMarker(42, 3, m, 1234)
		h, err := Check(b)
		if err != nil {
			t.Fatal(err)
		}
		if !h.Control() || !h.Transactional() || h.ProducerID != 42 || h.ProducerEpoch != 3 || h.BaseSequence != -1 || h.NumRecords != 1 || h.LastOffsetDelta != 0 || h.MaxTimestamp != 1234 {
			t.Fatalf("header %+v", h)
		}
		got, ok, err := DecodeEndTxnMarker(h, b)
		if err != nil || !ok || got != m {
			t.Fatalf("decoded %+v %v %v, want %+v", got, ok, err, m)
		}
		recs, err := DecodeRecords(h, b, 1<<10)
		if err != nil || len(recs) != 1 {
			t.Fatal(err)
		}
		if typ, err := ControlType(recs[0].Key); err != nil || typ != m.Type() {
			t.Fatalf("type %d %v", typ, err)
		}
	}
}

// Kafka skips control records of types it does not know (ControlRecordType.UNKNOWN) and
// LEADER_CHANGE; a data batch or a short marker value is corrupt.
func TestDecodeEndTxnMarkerOtherTypes(t *testing.T) {
	key := []byte{0, 0, 0, 2} // LEADER_CHANGE
	b := Build(BatchHeader{Attributes: AttrControl, ProducerID: -1, ProducerEpoch: -1, BaseSequence: -1, NumRecords: 1},
		AppendRecord(nil, 0, 0, key, []byte{0, 0, 0, 0}, nil))
	h, _ := Check(b)
	if _, ok, err := DecodeEndTxnMarker(h, b); ok || err != nil {
		t.Fatalf("leader change: ok=%v err=%v", ok, err)
	}
	data := testBatch(t, CodecNone, testRec{[]byte("k"), []byte("v"), nil})
	h, _ = Check(data)
	if _, _, err := DecodeEndTxnMarker(h, data); !errors.Is(err, ErrCorrupt) {
		t.Fatalf("data batch: %v", err)
	}
	short := Build(BatchHeader{Attributes: AttrControl | AttrTransactional, ProducerID: 1, BaseSequence: -1, NumRecords: 1},
		AppendRecord(nil, 0, 0, []byte{0, 0, 0, 1}, []byte{0, 0, 1}, nil))
	h, _ = Check(short)
	if _, _, err := DecodeEndTxnMarker(h, short); !errors.Is(err, ErrCorrupt) {
		t.Fatalf("short value: %v", err)
	}
}

// FuzzDecodeEndTxnMarker: no bytes make the marker reader panic; a marker that decodes
// re-encodes to a batch that decodes to the same marker.
func FuzzDecodeEndTxnMarker(f *testing.F) {
	f.Add(BuildEndTxnMarker(1, 0, EndTxnMarker{Commit: true, CoordinatorEpoch: 3}, 0))
	f.Add(BuildEndTxnMarker(1, 0, EndTxnMarker{}, 0)[:HeaderSize+3])
	f.Add(make([]byte, HeaderSize))
	f.Fuzz(func(t *testing.T, b []byte) {
		h, err := ParseHeader(b)
		if err != nil || h.Size() != len(b) || h.Length < MinBatchLength {
			return
		}
		h.Attributes |= AttrControl
		m, ok, err := DecodeEndTxnMarker(h, b)
		if err != nil {
			if !errors.Is(err, ErrCorrupt) && !errors.Is(err, ErrTooLarge) {
				t.Fatalf("error wraps neither ErrCorrupt nor ErrTooLarge: %v", err)
			}
			return
		}
		if !ok {
			return
		}
		nb := BuildEndTxnMarker(h.ProducerID, h.ProducerEpoch, m, 0)
		nh, _ := Check(nb)
		if back, ok, err := DecodeEndTxnMarker(nh, nb); err != nil || !ok || back != m {
			t.Fatalf("re-encoded %+v decodes to %+v %v %v", m, back, ok, err)
		}
	})
}
