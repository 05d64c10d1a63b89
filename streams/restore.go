package streams

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"slices"
	"time"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kgo"
)

// This file is Kafka Streams' StoreChangelogReader: before a task of sub-topology 1
// processes a record, its store is rebuilt by reading its changelog partition from the start
// to the end, where the end is the partition's last stable offset under exactly_once_v2, so
// that only committed counts are restored.

// restoreWaitStep is how often the restorer asks again for a changelog partition's offsets
// while a transaction is open on it.
const restoreWaitStep = 250 * time.Millisecond

// restore reads the changelog partitions parts of topic to their ends and returns each
// one's counts. Under exactly_once_v2 (readCommitted) it first waits until no transaction
// that was open when it began is still open: a previous owner that died leaves one, which
// the transaction coordinator aborts after its transaction.timeout.ms, and its committed
// offsets are not final before then either. The whole restore is bounded by cfg.RestoreTimeout.
func restore(ctx context.Context, seeds []string, opts []kgo.Opt, topic string, parts []int32, readCommitted bool, timeout time.Duration) (map[int32]map[string]int64, error) {
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	admCl, err := kgo.NewClient(append([]kgo.Opt{kgo.SeedBrokers(seeds...)}, opts...)...)
	if err != nil {
		return nil, err
	}
	defer admCl.Close()
	adm := kadm.NewClient(admCl)

	ends, err := restoreEnds(ctx, adm, topic, parts, readCommitted)
	if err != nil {
		return nil, err
	}
	starts, err := adm.ListStartOffsets(ctx, topic)
	if err != nil {
		return nil, fmt.Errorf("Could not list the start offsets of %s: %w", topic, err)
	}

	out := map[int32]map[string]int64{}
	from := map[int32]kgo.Offset{}
	next := map[int32]int64{} // the offset each partition is to be read from
	for _, p := range parts {
		out[p] = map[string]int64{}
		s, ok := starts.Lookup(topic, p)
		if !ok || s.Err != nil {
			return nil, fmt.Errorf("Could not list the start offset of %s-%d: %v", topic, p, s.Err)
		}
		if s.Offset < ends[p] {
			from[p] = kgo.NewOffset().At(s.Offset)
			next[p] = s.Offset
		}
	}
	if len(from) == 0 {
		return out, nil
	}

	// KeepControlRecords: a transaction's commit or abort marker is the last offset before
	// the end, and only seeing it tells that the end is reached.
	copts := append([]kgo.Opt{
		kgo.SeedBrokers(seeds...),
		kgo.ConsumePartitions(map[string]map[int32]kgo.Offset{topic: from}),
		kgo.KeepControlRecords(),
		kgo.FetchMaxWait(500 * time.Millisecond),
	}, opts...)
	if readCommitted {
		copts = append(copts, kgo.FetchIsolationLevel(kgo.ReadCommitted()))
	}
	cl, err := kgo.NewClient(copts...)
	if err != nil {
		return nil, err
	}
	defer cl.Close()
	for len(from) > 0 {
		fs := cl.PollFetches(ctx)
		if ctx.Err() != nil {
			var behind []string
			for _, p := range slices.Sorted(maps.Keys(from)) {
				behind = append(behind, fmt.Sprintf("%s-%d at offset %d of %d", topic, p, next[p], ends[p]))
			}
			return nil, fmt.Errorf("Restoring the store from its changelog did not finish within %v: %v", timeout, behind)
		}
		var fetchErr error
		fs.EachError(func(t string, p int32, err error) {
			if fetchErr == nil && !errors.Is(err, context.Canceled) {
				fetchErr = fmt.Errorf("Restoring from %s-%d: %w", t, p, err)
			}
		})
		if fetchErr != nil {
			return nil, fetchErr
		}
		var bad error
		fs.EachRecord(func(r *kgo.Record) {
			if _, reading := from[r.Partition]; !reading || r.Offset >= ends[r.Partition] || bad != nil {
				return
			}
			next[r.Partition] = r.Offset + 1
			if r.Offset+1 >= ends[r.Partition] {
				delete(from, r.Partition)
			}
			if r.Attrs.IsControl() {
				return
			}
			if r.Value == nil { // a tombstone: Kafka Streams deletes the key
				delete(out[r.Partition], string(r.Key))
				return
			}
			n, err := DecodeLong(r.Value)
			if err != nil {
				bad = fmt.Errorf("Changelog record %s-%d at offset %d is not a count: %v", r.Topic, r.Partition, r.Offset, err)
				return
			}
			out[r.Partition][string(r.Key)] = n
		})
		if bad != nil {
			return nil, bad
		}
	}
	return out, nil
}

// restoreEnds returns the offset each changelog partition is to be restored up to: its high
// watermark, or under exactly_once_v2 its last stable offset once that has passed every
// transaction open when restoreEnds began.
func restoreEnds(ctx context.Context, adm *kadm.Client, topic string, parts []int32, readCommitted bool) (map[int32]int64, error) {
	list := func(committed bool) (map[int32]int64, error) {
		var lo kadm.ListedOffsets
		var err error
		if committed {
			lo, err = adm.ListCommittedOffsets(ctx, topic)
		} else {
			lo, err = adm.ListEndOffsets(ctx, topic)
		}
		if err != nil {
			return nil, fmt.Errorf("Could not list the end offsets of %s: %w", topic, err)
		}
		m := map[int32]int64{}
		for _, p := range parts {
			o, ok := lo.Lookup(topic, p)
			if !ok || o.Err != nil {
				return nil, fmt.Errorf("Could not list the end offset of %s-%d: %v", topic, p, o.Err)
			}
			m[p] = o.Offset
		}
		return m, nil
	}
	hw, err := list(false)
	if err != nil || !readCommitted {
		return hw, err
	}
	for {
		lso, err := list(true)
		if err != nil {
			return nil, err
		}
		open := false
		for _, p := range parts {
			open = open || lso[p] < hw[p]
		}
		if !open {
			return lso, nil
		}
		select {
		case <-ctx.Done():
			return nil, fmt.Errorf("A transaction on %s stayed open past the restore timeout (a previous owner's, aborted by the transaction coordinator after its transaction.timeout.ms): last stable offsets %v, high watermarks %v", topic, lso, hw)
		case <-time.After(restoreWaitStep):
		}
	}
}
