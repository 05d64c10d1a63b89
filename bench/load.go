package main

import (
	"context"
	"errors"
	"fmt"
	"sync/atomic"
	"time"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kgo"
	"github.com/twmb/franz-go/pkg/kmsg"
)

// result is one timed phase against one target.
type result struct {
	records int
	bytes   int64
	took    time.Duration
}

func (r result) recsPerSec() float64 { return float64(r.records) / r.took.Seconds() }
func (r result) mbPerSec() float64   { return float64(r.bytes) / r.took.Seconds() / 1e6 }

// createTopic creates the topic through CreateTopics (klassik and kfake alike) and waits
// until every partition has a leader and, for klassik, a full ISR.
func createTopic(addrs []string, topic string, partitions int32, rf int16) error {
	cl, err := kgo.NewClient(kgo.SeedBrokers(addrs...))
	if err != nil {
		return err
	}
	defer cl.Close()
	adm := kadm.NewClient(cl)
	return poll(90*time.Second, func() error {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		if _, err := adm.CreateTopic(ctx, partitions, rf, nil, topic); err != nil && !errors.Is(err, kerr.TopicAlreadyExists) {
			return err
		}
		md, err := adm.Metadata(ctx, topic)
		if err != nil {
			return err
		}
		td := md.Topics[topic]
		if td.Err != nil || len(td.Partitions) != int(partitions) {
			return fmt.Errorf("topic %s not ready: %v", topic, td.Err)
		}
		for _, p := range td.Partitions {
			if p.Leader < 0 {
				return errors.New("partition without leader")
			}
			if len(p.ISR) < int(rf) {
				return fmt.Errorf("partition %d: ISR %v, waiting for %d replicas in sync", p.Partition, p.ISR, rf)
			}
		}
		return nil
	})
}

// produce writes n records of size bytes as fast as the client goes: franz-go's defaults
// (idempotent, acks=all, no linger) without compression, so the bytes measured are the
// records' own. txnEvery > 0 makes it transactional, committing every txnEvery records.
func produce(t *target, topic string, n, size, txnEvery int, timeout time.Duration) (result, error) {
	opts := []kgo.Opt{kgo.SeedBrokers(t.addrs...), kgo.DefaultProduceTopic(topic),
		kgo.ProducerBatchCompression(kgo.NoCompression()), kgo.MaxBufferedRecords(100_000)}
	txnID := fmt.Sprintf("bench-%s-%s", t.name, topic)
	if txnEvery > 0 {
		opts = append(opts, kgo.TransactionalID(txnID), kgo.TransactionTimeout(time.Minute))
	}
	cl, err := kgo.NewClient(opts...)
	if err != nil {
		return result{}, err
	}
	defer cl.Close()
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()
	value := make([]byte, size)
	for i := range value {
		value[i] = byte('a' + i%26)
	}
	var failed atomic.Int64
	var firstErr atomic.Pointer[error]
	promise := func(_ *kgo.Record, err error) {
		if err != nil {
			failed.Add(1)
			firstErr.CompareAndSwap(nil, &err)
		}
	}
	if txnEvery > 0 {
		if err := warmTxnCoordinator(ctx, cl, txnID); err != nil {
			return result{}, fmt.Errorf("%s: %w", t.name, err)
		}
	}
	start := time.Now()
	if txnEvery > 0 {
		for done := 0; done < n; {
			if err := cl.BeginTransaction(); err != nil {
				return result{}, fmt.Errorf("%s begin transaction: %w", t.name, err)
			}
			k := min(txnEvery, n-done)
			for range k {
				cl.Produce(ctx, &kgo.Record{Value: value}, promise)
			}
			if err := cl.Flush(ctx); err != nil {
				return result{}, fmt.Errorf("%s produce: %w", t.name, err)
			}
			if err := cl.EndTransaction(ctx, kgo.TryCommit); err != nil {
				return result{}, fmt.Errorf("%s commit: %w", t.name, err)
			}
			done += k
		}
	} else {
		for range n {
			cl.Produce(ctx, &kgo.Record{Value: value}, promise)
		}
		if err := cl.Flush(ctx); err != nil {
			return result{}, fmt.Errorf("%s produce: %w", t.name, err)
		}
	}
	took := time.Since(start)
	if k := failed.Load(); k > 0 {
		return result{}, fmt.Errorf("%s produce: %d records failed, first: %v", t.name, k, *firstErr.Load())
	}
	return result{n, int64(n) * int64(size), took}, nil
}

// warmTxnCoordinator waits until the transactional id has a coordinator, so that the timed
// phase does not include the creation of __transaction_state (which kfake has from the start).
func warmTxnCoordinator(ctx context.Context, cl *kgo.Client, id string) error {
	return poll(90*time.Second, func() error {
		req := kmsg.NewPtrFindCoordinatorRequest()
		req.CoordinatorType, req.CoordinatorKey = 1, id
		resp, err := req.RequestWith(ctx, cl)
		if err != nil {
			return err
		}
		return kerr.ErrorForCode(resp.ErrorCode)
	})
}

// consume reads n records of topic from the start of every partition (read_committed when
// the producer was transactional).
func consume(t *target, topic string, partitions int32, n int, readCommitted bool, timeout time.Duration) (result, error) {
	offsets := map[int32]kgo.Offset{}
	for p := range partitions {
		offsets[p] = kgo.NewOffset().AtStart()
	}
	opts := []kgo.Opt{kgo.SeedBrokers(t.addrs...), kgo.ConsumePartitions(map[string]map[int32]kgo.Offset{topic: offsets})}
	if readCommitted {
		opts = append(opts, kgo.FetchIsolationLevel(kgo.ReadCommitted()))
	}
	cl, err := kgo.NewClient(opts...)
	if err != nil {
		return result{}, err
	}
	defer cl.Close()
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()
	var got int
	var bytes int64
	start := time.Now()
	for got < n {
		fs := cl.PollFetches(ctx)
		if ctx.Err() != nil {
			return result{}, fmt.Errorf("%s consume: %d of %d records within %v", t.name, got, n, timeout)
		}
		if errs := fs.Errors(); len(errs) > 0 {
			return result{}, fmt.Errorf("%s consume: %v", t.name, errs[0].Err)
		}
		fs.EachRecord(func(r *kgo.Record) {
			got++
			bytes += int64(len(r.Value))
		})
	}
	return result{got, bytes, time.Since(start)}, nil
}
