package integration

import (
	"bytes"
	"context"
	"fmt"
	"regexp"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kgo"
)

// want is a record a test produced and expects back.
type want struct {
	Partition int32
	Key       []byte // nil for a null key
	Value     []byte
	Headers   []kgo.RecordHeader
	Timestamp time.Time // millisecond precision
}

// makeRecords builds n records spread round-robin over partitions, with keys (every 100th
// null), ~100-byte values, two headers and distinct millisecond timestamps.
func makeRecords(n int, partitions int32) []want {
	base := time.Now().Add(-time.Hour).Truncate(time.Millisecond)
	out := make([]want, n)
	for i := range out {
		w := want{
			Partition: int32(i) % partitions,
			Value:     fmt.Appendf(nil, "value-%06d-%s", i, strings.Repeat("abcdefghij", 9)),
			Headers: []kgo.RecordHeader{
				{Key: "index", Value: fmt.Appendf(nil, "%d", i)},
				{Key: "origin", Value: []byte("klassik-integration")},
			},
			Timestamp: base.Add(time.Duration(i) * time.Millisecond),
		}
		if i%100 != 0 {
			w.Key = fmt.Appendf(nil, "key-%06d", i)
		}
		out[i] = w
	}
	return out
}

func (w want) record(topic string) *kgo.Record {
	return &kgo.Record{
		Topic:     topic,
		Partition: w.Partition,
		Key:       w.Key,
		Value:     w.Value,
		Headers:   slices.Clone(w.Headers),
		Timestamp: w.Timestamp,
	}
}

// produceAll produces every record (with the client's acks and partitioner: use
// kgo.RecordPartitioner(kgo.ManualPartitioner())), waits for all of them and fails on any
// error. It returns the offsets the broker acknowledged, by index (-1 for acks=0).
func produceAll(t testing.TB, cl *kgo.Client, topic string, recs []want, timeout time.Duration) []int64 {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()
	offsets := make([]int64, len(recs))
	var (
		mu    sync.Mutex
		errs  []error
		wg    sync.WaitGroup
		start = time.Now()
	)
	for i, w := range recs {
		wg.Add(1)
		cl.Produce(ctx, w.record(topic), func(r *kgo.Record, err error) {
			defer wg.Done()
			mu.Lock()
			defer mu.Unlock()
			if err != nil {
				errs = append(errs, fmt.Errorf("record %d: %w", i, err))
				return
			}
			offsets[i] = r.Offset
		})
	}
	if err := cl.Flush(ctx); err != nil {
		t.Fatalf("flush after %v: %v", time.Since(start), err)
	}
	wg.Wait()
	if len(errs) > 0 {
		t.Fatalf("%d of %d records failed, first: %v", len(errs), len(recs), errs[0])
	}
	return offsets
}

// checkAckedOffsets checks the offsets of acknowledged records: in each partition, starting at
// first and one after the other in produce order, as the leader assigns them.
func checkAckedOffsets(t testing.TB, recs []want, offsets []int64, first int64) {
	t.Helper()
	next := map[int32]int64{}
	for i, w := range recs {
		exp, ok := next[w.Partition]
		if !ok {
			exp = first
		}
		if offsets[i] != exp {
			t.Fatalf("record %d (partition %d) acknowledged at offset %d, want %d", i, w.Partition, offsets[i], exp)
		}
		next[w.Partition] = exp + 1
	}
}

// consumeN reads records from the start of partitions 0..partitions-1 of topic until it has
// n, failing after timeout or on any fetch error.
func consumeN(t testing.TB, c *Cluster, topic string, partitions int32, n int, timeout time.Duration, opts ...kgo.Opt) []*kgo.Record {
	t.Helper()
	start := map[int32]kgo.Offset{}
	for p := range partitions {
		start[p] = kgo.NewOffset().AtStart()
	}
	cl := c.Client(t, append([]kgo.Opt{
		kgo.ConsumePartitions(map[string]map[int32]kgo.Offset{topic: start}),
		kgo.FetchMaxWait(time.Second),
	}, opts...)...)
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()
	var got []*kgo.Record
	for len(got) < n {
		fs := cl.PollFetches(ctx)
		if ctx.Err() != nil {
			t.Fatalf("consumed %d of %d records of %s within %v", len(got), n, topic, timeout)
		}
		for _, e := range fs.Errors() {
			t.Fatalf("fetch %s-%d: %v", e.Topic, e.Partition, e.Err)
		}
		got = append(got, fs.Records()...)
	}
	return got
}

// checkRecords compares consumed records with the produced ones: per partition, the same
// records in produce order at offsets first, first+1, ..., with keys, values, headers and
// timestamps intact. Kafka guarantees order within a partition only.
func checkRecords(t testing.TB, recs []want, got []*kgo.Record, first int64) {
	t.Helper()
	if len(got) != len(recs) {
		t.Fatalf("consumed %d records, produced %d", len(got), len(recs))
	}
	byPart := map[int32][]*kgo.Record{}
	for _, r := range got {
		byPart[r.Partition] = append(byPart[r.Partition], r)
	}
	idx := map[int32]int{}
	for i, w := range recs {
		j := idx[w.Partition]
		idx[w.Partition]++
		if j >= len(byPart[w.Partition]) {
			t.Fatalf("partition %d: record %d missing", w.Partition, i)
		}
		r := byPart[w.Partition][j]
		if r.Offset != first+int64(j) {
			t.Fatalf("partition %d: record %d at offset %d, want %d", w.Partition, i, r.Offset, first+int64(j))
		}
		if (w.Key == nil) != (r.Key == nil) || !bytes.Equal(w.Key, r.Key) {
			t.Fatalf("partition %d offset %d: key %q (nil %v), want %q (nil %v)", r.Partition, r.Offset, r.Key, r.Key == nil, w.Key, w.Key == nil)
		}
		if !bytes.Equal(w.Value, r.Value) {
			t.Fatalf("partition %d offset %d: value %q, want %q", r.Partition, r.Offset, r.Value, w.Value)
		}
		if len(r.Headers) != len(w.Headers) {
			t.Fatalf("partition %d offset %d: headers %v, want %v", r.Partition, r.Offset, r.Headers, w.Headers)
		}
		for h := range w.Headers {
			if r.Headers[h].Key != w.Headers[h].Key || !bytes.Equal(r.Headers[h].Value, w.Headers[h].Value) {
				t.Fatalf("partition %d offset %d: headers %v, want %v", r.Partition, r.Offset, r.Headers, w.Headers)
			}
		}
		if !r.Timestamp.Equal(w.Timestamp) {
			t.Fatalf("partition %d offset %d: timestamp %v, want %v (CreateTime)", r.Partition, r.Offset, r.Timestamp, w.Timestamp)
		}
	}
}

// topicName makes a legal Kafka topic name from a prefix and the test's name.
func topicName(t testing.TB, prefix string) string {
	name := regexp.MustCompile(`[^a-zA-Z0-9._-]+`).ReplaceAllString(t.Name(), "-")
	return strings.ToLower(prefix + "-" + name)
}

// manual is the producer option every exact test uses: records go to the partition set on
// them.
func manual() kgo.Opt { return kgo.RecordPartitioner(kgo.ManualPartitioner()) }
