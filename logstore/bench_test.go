package logstore

import (
	"math/rand"
	"testing"
)

func benchBatch() []byte {
	// One record with a ~950-byte value: a 1 KiB batch.
	return batchSpec{records: 1, ts: 1, valueSize: 950, producerID: -1, epoch: -1, seq: -1}.build()
}

func BenchmarkAppend(b *testing.B) {
	l := openT(b, OSFS(), b.TempDir(), DefaultConfig(), 0)
	defer l.Close()
	batch := benchBatch()
	b.SetBytes(int64(len(batch)))
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		if _, err := l.AppendAsLeader(batch, 0, 1); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkRead(b *testing.B) {
	l := openT(b, OSFS(), b.TempDir(), DefaultConfig(), 0)
	defer l.Close()
	batch := benchBatch()
	const n = 20000
	for i := 0; i < n; i++ {
		if _, err := l.AppendAsLeader(batch, 0, 1); err != nil {
			b.Fatal(err)
		}
	}
	rng := rand.New(rand.NewSource(1))
	b.SetBytes(int64(len(batch)))
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		out, err := l.Read(rng.Int63n(n), len(batch), -1, true)
		if err != nil || len(out) != len(batch) {
			b.Fatal(len(out), err)
		}
	}
}
