package main

import (
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"sync/atomic"
	"time"

	"github.com/twmb/franz-go/pkg/kgo"
)

// latencyResult is the end-to-end latency of records produced at a fixed rate: from the
// moment the producer hands a record to the client until the consumer has it.
type latencyResult struct {
	rate     int     // asked for, records/s
	achieved float64 // records/s the producer handed to the client while measuring
	p50, p99 time.Duration
	p999     time.Duration
	samples  int64
	lost     int // measured records the consumer had not seen by the deadline
}

// latency produces size-byte records at rate records/s to a fresh topic for warmup+measure,
// each carrying its send time (UnixNano, the first 8 bytes of the value), while a consumer
// of the topic records now - send time of each record sent after the warmup. The producer
// is franz-go's default (idempotent, acks=all, no linger); the consumer fetches with
// franz-go's defaults (min bytes 1, so a fetch returns as soon as there is a record). Both
// clients are in this process, so both times come from one clock.
func latency(t *target, topic string, partitions int32, size, rate int, warmup, measure time.Duration) (latencyResult, error) {
	res := latencyResult{rate: rate}
	offsets := map[int32]kgo.Offset{}
	for p := range partitions {
		offsets[p] = kgo.NewOffset().AtStart()
	}
	cons, err := kgo.NewClient(kgo.SeedBrokers(t.addrs...), kgo.ConsumePartitions(map[string]map[int32]kgo.Offset{topic: offsets}))
	if err != nil {
		return res, err
	}
	defer cons.Close()
	prod, err := kgo.NewClient(kgo.SeedBrokers(t.addrs...), kgo.DefaultProduceTopic(topic),
		kgo.ProducerBatchCompression(kgo.NoCompression()), kgo.MaxBufferedRecords(100_000))
	if err != nil {
		return res, err
	}
	defer prod.Close()

	deadline := time.Now().Add(warmup + measure + 30*time.Second)
	ctx, cancel := context.WithDeadline(context.Background(), deadline)
	defer cancel()

	// Records with a send time at or after measureFrom are measured; the warmup lets both
	// clients find the leaders and open their connections first.
	start := time.Now()
	measureFrom := start.Add(warmup).UnixNano()
	var sentMeasured atomic.Int64
	var prodDone atomic.Bool
	var failed atomic.Int64
	var firstErr atomic.Pointer[error]

	var h hist
	consErr := make(chan error, 1)
	go func() {
		var seen int64
		for {
			// Short polls, so that the loop sees the producer finish even when the last
			// fetch has nothing more to return.
			pctx, pcancel := context.WithTimeout(ctx, 100*time.Millisecond)
			fs := cons.PollFetches(pctx)
			pcancel()
			now := time.Now().UnixNano()
			if ctx.Err() != nil {
				res.lost = int(sentMeasured.Load() - seen)
				consErr <- nil
				return
			}
			for _, e := range fs.Errors() {
				if !errors.Is(e.Err, context.DeadlineExceeded) && !errors.Is(e.Err, context.Canceled) {
					consErr <- fmt.Errorf("%s consume: %v", t.name, e.Err)
					return
				}
			}
			fs.EachRecord(func(r *kgo.Record) {
				if len(r.Value) < 8 {
					return
				}
				sent := int64(binary.BigEndian.Uint64(r.Value))
				if sent >= measureFrom {
					h.record(time.Duration(now - sent))
					seen++
				}
			})
			if prodDone.Load() && seen >= sentMeasured.Load() {
				consErr <- nil
				return
			}
		}
	}()

	// Pace by the clock: every millisecond, hand the client as many records as the rate
	// says should be out by now. If the client's buffer is full, Produce blocks and the
	// achieved rate shows it.
	promise := func(_ *kgo.Record, err error) {
		if err != nil {
			failed.Add(1)
			firstErr.CompareAndSwap(nil, &err)
		}
	}
	end := start.Add(warmup + measure)
	tick := time.NewTicker(time.Millisecond)
	var sent int
	for now := time.Now(); now.Before(end); now = <-tick.C {
		due := int(float64(rate) * now.Sub(start).Seconds())
		for ; sent < due; sent++ {
			v := make([]byte, max(size, 8))
			ts := time.Now().UnixNano()
			binary.BigEndian.PutUint64(v, uint64(ts))
			if ts >= measureFrom {
				sentMeasured.Add(1)
			}
			prod.Produce(ctx, &kgo.Record{Value: v}, promise)
		}
	}
	tick.Stop()
	res.achieved = float64(sentMeasured.Load()) / time.Since(start.Add(warmup)).Seconds()
	prodDone.Store(true)
	if err := prod.Flush(ctx); err != nil {
		return res, fmt.Errorf("%s produce: %w", t.name, err)
	}
	if k := failed.Load(); k > 0 {
		return res, fmt.Errorf("%s produce: %d records failed, first: %v", t.name, k, *firstErr.Load())
	}
	if err := <-consErr; err != nil {
		return res, err
	}
	res.p50, res.p99, res.p999, res.samples = h.quantile(0.50), h.quantile(0.99), h.quantile(0.999), h.n
	if res.lost > 0 {
		return res, fmt.Errorf("%s: %d of %d measured records not consumed by %v", t.name, res.lost, sentMeasured.Load(), deadline.Format(time.TimeOnly))
	}
	return res, nil
}
