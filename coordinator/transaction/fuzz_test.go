package transaction

import (
	"testing"

	"github.com/klassik/klassik/record"
)

// FuzzReplay feeds arbitrary bytes to the loader of __transaction_state, as a corrupt or
// hostile log would: it must never panic, and whatever it installs must encode again.
func FuzzReplay(f *testing.F) {
	s := snapshot{producerID: 7, producerEpoch: 2, timeoutMs: 60000, state: Ongoing,
		partitions: map[TopicPartition]struct{}{{"a", 0}: {}, {"b", 3}: {}}, startMs: 1, lastUpdateMs: 2}
	f.Add(encodeBatch("tx", &s, 5))
	f.Add(append(encodeBatch("tx", &s, 5), encodeBatch("tx", nil, 6)...))
	f.Add(record.Build(record.BatchHeader{ProducerID: -1, ProducerEpoch: -1, BaseSequence: -1, NumRecords: 1},
		record.AppendRecord(nil, 0, 0, []byte{0, 0, 0, 2, 'a'}, []byte{0, 0, 1}, nil)))
	f.Fuzz(func(t *testing.T, buf []byte) {
		states := map[string]snapshot{}
		replay(buf, 1<<20, states, func(int64, error) {})
		for id, s := range states {
			b := encodeBatch(id, &s, 0)
			again := map[string]snapshot{}
			if _, whole := replay(b, 1<<20, again, func(_ int64, err error) { t.Fatalf("re-encoded state does not decode: %v", err) }); !whole {
				t.Fatal("re-encoded batch is not whole")
			}
			if got := again[id]; got.producerID != s.producerID || got.state != s.state || len(got.partitions) != len(s.partitions) {
				t.Fatalf("round trip: %+v != %+v", got, s)
			}
		}
	})
}

// FuzzDecodeValue feeds arbitrary record keys and values to the schema decoders, which the
// CRC check in front of them hides from FuzzReplay.
func FuzzDecodeValue(f *testing.F) {
	s := snapshot{producerID: 7, producerEpoch: 2, timeoutMs: 60000, state: PrepareCommit,
		partitions: map[TopicPartition]struct{}{{"a", 0}: {}}, startMs: 1, lastUpdateMs: 2}
	f.Add(encodeKey("tx"), encodeValue(s))
	f.Fuzz(func(t *testing.T, key, value []byte) {
		_, _ = decodeKey(key)
		if s, err := decodeValue(value); err == nil {
			if _, err := decodeValue(encodeValue(s)); err != nil {
				t.Fatalf("re-encoded value does not decode: %v", err)
			}
		}
	})
}
