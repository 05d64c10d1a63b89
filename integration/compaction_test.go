package integration

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kgo"
)

// Log compaction (Kafka's LogCleaner, cleanup.policy=compact): after the cleaner runs, a
// consumer from the beginning sees the latest value of every key, and far fewer records than
// were written; and __consumer_offsets, itself compacted, stays bounded under repeated
// commits of the same offsets.
func TestCompaction(t *testing.T) {
	c := NewCluster(t, Brokers(1),
		BrokerConfig("log.cleaner.backoff.ms", 200),
		BrokerConfig("offsets.topic.segment.bytes", 4096))
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	adm := c.Admin(t)
	segment, policy, ratio := "8192", "compact", "0.01"
	cfg := map[string]*string{"cleanup.policy": &policy, "segment.bytes": &segment, "min.cleanable.dirty.ratio": &ratio}
	if _, err := adm.CreateTopic(ctx, 1, 1, cfg, "compacted"); err != nil {
		t.Fatal(err)
	}

	const keys, writes = 10, 2000
	cl := c.Client(t, kgo.DefaultProduceTopic("compacted"), kgo.ProducerBatchMaxBytes(2048))
	latest := map[string]string{}
	for i := 0; i < writes; i++ {
		k, v := fmt.Sprintf("key-%d", i%keys), fmt.Sprintf("value-%d", i)
		cl.Produce(ctx, &kgo.Record{Key: []byte(k), Value: []byte(v)}, nil)
		latest[k] = v
	}
	if err := cl.Flush(ctx); err != nil {
		t.Fatal(err)
	}

	read := func() (int, map[string]string) {
		cons := c.Client(t, kgo.ConsumeTopics("compacted"), kgo.ConsumeResetOffset(kgo.NewOffset().AtStart()))
		defer cons.Close()
		end, err := adm.ListEndOffsets(ctx, "compacted")
		if err != nil {
			t.Fatal(err)
		}
		hw, _ := end.Lookup("compacted", 0)
		seen := map[string]string{}
		n := 0
		for {
			fs := cons.PollFetches(ctx)
			if err := fs.Err0(); err != nil {
				t.Fatal(err)
			}
			done := false
			fs.EachRecord(func(r *kgo.Record) {
				n++
				seen[string(r.Key)] = string(r.Value)
				done = done || r.Offset == hw.Offset-1
			})
			if done {
				return n, seen
			}
		}
	}
	eventually(t, time.Minute, func() error {
		n, seen := read()
		for k, v := range latest {
			if seen[k] != v {
				return fmt.Errorf("key %s: read %q, latest written %q", k, seen[k], v)
			}
		}
		if n > writes/4 {
			return fmt.Errorf("read %d of %d records: not compacted yet", n, writes)
		}
		return nil
	})

	// Repeated commits of the same offsets must not grow __consumer_offsets without bound.
	group := "bounded"
	for i := 0; i < 2000; i++ {
		var offs kadm.Offsets
		offs.AddOffset("compacted", 0, int64(i%writes), -1)
		if _, err := adm.CommitOffsets(ctx, group, offs); err != nil {
			t.Fatal(err)
		}
	}
	eventually(t, time.Minute, func() error {
		size := dirSize(t, c.Broker(1).LogDir(), "__consumer_offsets-")
		if size > 48<<10 {
			return fmt.Errorf("__consumer_offsets holds %d bytes after 2000 commits of one offset", size)
		}
		return nil
	})
	fetched, err := adm.FetchOffsets(ctx, group)
	if err != nil {
		t.Fatal(err)
	}
	if o, ok := fetched.Lookup("compacted", 0); !ok || o.At != 1999 {
		t.Fatalf("committed offset after compaction = %+v, want 1999", o)
	}
}

// dirSize adds up the files of every folder under root whose name starts with prefix.
func dirSize(t *testing.T, root, prefix string) int64 {
	t.Helper()
	entries, err := os.ReadDir(root)
	if err != nil {
		t.Fatal(err)
	}
	var total int64
	for _, e := range entries {
		if !e.IsDir() || !strings.HasPrefix(e.Name(), prefix) {
			continue
		}
		files, _ := os.ReadDir(filepath.Join(root, e.Name()))
		for _, f := range files {
			if info, err := f.Info(); err == nil {
				total += info.Size()
			}
		}
	}
	return total
}
