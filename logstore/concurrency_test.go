package logstore

import (
	"errors"
	"math/rand"
	"sync"
	"sync/atomic"
	"testing"
)

// Reads run beside appends, rolls, flushes and retention and never see a torn batch.
func TestConcurrentReadsAndAppends(t *testing.T) {
	cfg := testConfig()
	cfg.SegmentBytes = 2000
	cfg.RetentionBytes = 20000
	cfg.RetentionMs = -1
	l := openT(t, NewMemFS(), "/d/t-0", cfg, 0)
	defer l.Close()
	var done atomic.Bool
	var wg sync.WaitGroup
	for r := 0; r < 3; r++ {
		wg.Add(1)
		go func(seed int64) {
			defer wg.Done()
			rng := rand.New(rand.NewSource(seed))
			for !done.Load() {
				start, end := l.LogStartOffset(), l.LogEndOffset()
				off := start + rng.Int63n(end-start+1)
				b, err := l.Read(off, 1+rng.Intn(3000), -1, rng.Intn(2) == 0)
				if errors.Is(err, ErrOffsetOutOfRange) {
					continue // retention moved the start
				}
				if err != nil {
					t.Error(err)
					return
				}
				err = ForEachBatch(b, func(h BatchHeader, batch []byte) error {
					_, err := CheckBatch(batch)
					return err
				})
				if err != nil {
					t.Error(err)
					return
				}
			}
		}(int64(r))
	}
	wg.Add(1)
	go func() {
		defer wg.Done()
		for !done.Load() {
			l.Flush()
			l.ApplyRetention(0, l.LogEndOffset())
			l.FetchOffsetByTimestamp(50)
			l.EndOffsetForEpoch(0)
		}
	}()
	for i := 0; i < 2000; i++ {
		if _, err := l.AppendAsLeader(plain(1+i%5, int64(i)).build(), 0, int64(i)); err != nil {
			t.Fatal(err)
		}
		if i%500 == 499 {
			if err := l.TruncateTo(l.LogEndOffset() - 3); err != nil {
				t.Fatal(err)
			}
		}
	}
	done.Store(true)
	wg.Wait()
	readAll(t, l, l.LogStartOffset())
}
