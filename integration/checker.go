package integration

import (
	"context"
	"fmt"
	"slices"
	"sort"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kgo"
)

// Checker is the no-acknowledged-write-lost checker of the fault tests: one idempotent
// acks=all franz-go producer (KIP-98) writes numbered records round-robin to every partition
// of a topic while the test injects faults; Verify then reads every partition back from its
// start to its high watermark and checks Kafka's durability contract: every acknowledged
// record is there exactly once, at the offset it was acknowledged with, and in produce order
// within its partition; no record (acknowledged or not) appears twice, which an idempotent
// producer guarantees across retries and leader changes.
//
// A record's key is "<producer>/<sequence>", its sequence counting up over the whole run; its
// value is "<sequence>:" padded to CheckerOptions.ValueBytes, and Verify checks that the two
// agree.
type Checker struct {
	t          testing.TB
	c          *Cluster
	topic      string
	partitions int32
	name       string
	cl         *kgo.Client

	ctx    context.Context
	cancel context.CancelFunc
	stop   chan struct{} // closed by Stop
	done   chan struct{} // closed when the producing loop has returned

	mu      sync.Mutex
	acked   map[int64]ackedRecord // by sequence
	failed  int
	errs    map[string]int // produce error -> count
	sent    int64
	nAcked  atomic.Int64
	lastAck atomic.Int64 // unix nanos of the latest acknowledgement
}

type ackedRecord struct {
	partition int32
	offset    int64
}

// CheckerOptions bound a checker's load.
type CheckerOptions struct {
	MaxRecords  int64         // stop producing after this many records (0: 1,000,000)
	MaxDuration time.Duration // stop producing after this long (0: 10 minutes)
	Interval    time.Duration // one record every Interval (0: 2ms, about 500 records/s; <0: as fast as MaxInFlight lets)
	MaxInFlight int           // unacknowledged records at most (0: 500)
	ValueBytes  int           // bytes of each record's value (0: 64)
	ClientOpts  []kgo.Opt     // more options for the producing client (say, its compression)
}

// StartChecker starts producing to topic (which must exist with the given partitions).
func StartChecker(t testing.TB, c *Cluster, topic string, partitions int32, o CheckerOptions) *Checker {
	t.Helper()
	if o.MaxRecords == 0 {
		o.MaxRecords = 1_000_000
	}
	if o.MaxDuration == 0 {
		o.MaxDuration = 10 * time.Minute
	}
	if o.Interval == 0 {
		o.Interval = 2 * time.Millisecond
	}
	if o.MaxInFlight == 0 {
		o.MaxInFlight = 500
	}
	if o.ValueBytes == 0 {
		o.ValueBytes = 64
	}
	k := &Checker{
		t: t, c: c, topic: topic, partitions: partitions,
		name:  fmt.Sprintf("chk%d", time.Now().UnixNano()%1_000_000),
		acked: map[int64]ackedRecord{}, errs: map[string]int{},
		stop: make(chan struct{}), done: make(chan struct{}),
	}
	opts := []kgo.Opt{kgo.RecordPartitioner(kgo.ManualPartitioner()),
		kgo.RequiredAcks(kgo.AllISRAcks()), // idempotence is franz-go's default with acks=all
		kgo.RecordDeliveryTimeout(2 * time.Minute),
		kgo.ProduceRequestTimeout(10 * time.Second),
		kgo.MetadataMinAge(250 * time.Millisecond),
		kgo.RetryBackoffFn(func(int) time.Duration { return 100 * time.Millisecond }),
	}
	k.cl = c.Client(t, append(opts, o.ClientOpts...)...)
	k.ctx, k.cancel = context.WithTimeout(context.Background(), o.MaxDuration+3*time.Minute)
	t.Cleanup(k.cancel)
	go k.run(o)
	return k
}

func (k *Checker) run(o CheckerOptions) {
	defer close(k.done)
	sem := make(chan struct{}, o.MaxInFlight)
	var tick <-chan time.Time // nil when unpaced: only the semaphore holds the loop back
	if o.Interval > 0 {
		t := time.NewTicker(o.Interval)
		defer t.Stop()
		tick = t.C
	}
	stopAt := time.Now().Add(o.MaxDuration)
	for seq := int64(0); seq < o.MaxRecords && time.Now().Before(stopAt); seq++ {
		if tick != nil {
			select {
			case <-k.ctx.Done():
				return
			case <-k.stop:
				return
			case <-tick:
			}
		}
		select {
		case <-k.ctx.Done():
			return
		case <-k.stop:
			return
		case sem <- struct{}{}:
		}
		if k.stopping() {
			<-sem
			return
		}
		r := &kgo.Record{
			Topic:     k.topic,
			Partition: int32(seq % int64(k.partitions)),
			Key:       []byte(k.name + "/" + strconv.FormatInt(seq, 10)),
			Value:     checkerValue(seq, o.ValueBytes),
		}
		k.mu.Lock()
		k.sent++
		k.mu.Unlock()
		k.cl.Produce(k.ctx, r, func(r *kgo.Record, err error) {
			defer func() { <-sem }()
			k.mu.Lock()
			defer k.mu.Unlock()
			if err != nil {
				k.failed++
				k.errs[err.Error()]++
				return
			}
			k.acked[seq] = ackedRecord{r.Partition, r.Offset}
			k.nAcked.Add(1)
			k.lastAck.Store(time.Now().UnixNano())
		})
	}
}

func (k *Checker) stopping() bool {
	select {
	case <-k.stop:
		return true
	default:
		return false
	}
}

// Acked is the number of acknowledged records so far.
func (k *Checker) Acked() int64 { return k.nAcked.Load() }

// WaitProgress waits until n more records are acknowledged than when it was called, and
// returns how long that took.
func (k *Checker) WaitProgress(t testing.TB, n int64, timeout time.Duration) time.Duration {
	t.Helper()
	start := time.Now()
	want := k.Acked() + n
	eventually(t, timeout, func() error {
		if got := k.Acked(); got < want {
			k.mu.Lock()
			defer k.mu.Unlock()
			return fmt.Errorf("checker: %d records acknowledged, waiting for %d (failed %d: %v)", got, want, k.failed, k.errs)
		}
		return nil
	})
	return time.Since(start)
}

// Stop stops producing and waits for every record in flight to be acknowledged or fail.
func (k *Checker) Stop(t testing.TB) {
	t.Helper()
	close(k.stop)
	select {
	case <-k.done:
	case <-time.After(time.Minute):
		t.Fatal("checker: the producing loop did not stop within a minute")
	}
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	if err := k.cl.Flush(ctx); err != nil {
		t.Fatalf("checker: flushing: %v", err)
	}
}

// CheckResult counts what Verify found.
type CheckResult struct {
	Sent, Acked, Failed int64
	Read                int64 // records of this checker read back
	Lost                int64 // acknowledged but not read back at their offset
	Duplicated          int64 // read back more than once
	OutOfOrder          int64 // read back after a record with a higher sequence in its partition
	Corrupt             int64 // read back with a value that does not match its key's sequence
	Errors              map[string]int
}

func (r CheckResult) String() string {
	return fmt.Sprintf("sent %d, acknowledged %d, failed %d, read %d, lost %d, duplicated %d, out of order %d, corrupt %d",
		r.Sent, r.Acked, r.Failed, r.Read, r.Lost, r.Duplicated, r.OutOfOrder, r.Corrupt)
}

// checkerValue is the value of record seq: "<seq>:" padded with 'v' to n bytes (at least the
// prefix).
func checkerValue(seq int64, n int) []byte {
	v := strconv.AppendInt(nil, seq, 10)
	v = append(v, ':')
	for len(v) < n {
		v = append(v, 'v')
	}
	return v
}

// Verify reads every partition from its start up to its high watermark and checks the
// acknowledged records, failing t on any lost, duplicated or reordered record. Call Stop first
// and let the cluster recover (every partition led).
func (k *Checker) Verify(t testing.TB) CheckResult {
	t.Helper()
	k.mu.Lock()
	res := CheckResult{Sent: k.sent, Acked: int64(len(k.acked)), Failed: int64(k.failed), Errors: maps(k.errs)}
	acked := make(map[int64]ackedRecord, len(k.acked))
	for s, a := range k.acked {
		acked[s] = a
	}
	k.mu.Unlock()

	// The end of each partition: its high watermark, which must cover every acknowledged
	// record (acks=all waits for the high watermark).
	ends := map[int32]int64{}
	adm := kadm.NewClient(k.cl)
	eventually(t, time.Minute, func() error {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		offs, err := adm.ListEndOffsets(ctx, k.topic)
		if err != nil {
			return err
		}
		if err := offs.Error(); err != nil {
			return err
		}
		for p := range k.partitions {
			o, ok := offs.Lookup(k.topic, p)
			if !ok {
				return fmt.Errorf("no end offset for %s-%d", k.topic, p)
			}
			ends[p] = o.Offset
		}
		return nil
	})

	start := map[int32]kgo.Offset{}
	for p := range k.partitions {
		start[p] = kgo.NewOffset().AtStart()
	}
	cons := k.c.Client(t, kgo.ConsumePartitions(map[string]map[int32]kgo.Offset{k.topic: start}),
		kgo.FetchMaxWait(500*time.Millisecond))
	got := map[int32][]*kgo.Record{}
	next := map[int32]int64{}
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	remaining := func() bool {
		for p := range k.partitions {
			if next[p] < ends[p] {
				return true
			}
		}
		return false
	}
	for remaining() {
		fs := cons.PollFetches(ctx)
		if ctx.Err() != nil {
			t.Fatalf("checker: reading back %s: got to %v of %v within 3 minutes", k.topic, next, ends)
		}
		for _, e := range fs.Errors() {
			t.Logf("checker: fetch %s-%d: %v (retrying)", e.Topic, e.Partition, e.Err)
		}
		fs.EachRecord(func(r *kgo.Record) {
			got[r.Partition] = append(got[r.Partition], r)
			next[r.Partition] = r.Offset + 1
		})
	}

	// Every record of this checker read back, by sequence, with where it was found.
	type found struct {
		partition int32
		offset    int64
	}
	seen := map[int64][]found{}
	prefix := k.name + "/"
	for p, recs := range got {
		last := int64(-1)
		for _, r := range recs {
			s, ok := strings.CutPrefix(string(r.Key), prefix)
			if !ok {
				continue
			}
			seq, err := strconv.ParseInt(s, 10, 64)
			if err != nil {
				t.Errorf("checker: %s-%d offset %d: bad key %q", k.topic, p, r.Offset, r.Key)
				continue
			}
			res.Read++
			if want := checkerValue(seq, len(r.Value)); string(r.Value) != string(want) {
				res.Corrupt++
				if res.Corrupt <= 5 {
					t.Errorf("checker: %s-%d offset %d: key %q with value %.40q, want %.40q", k.topic, p, r.Offset, r.Key, r.Value, want)
				}
			}
			seen[seq] = append(seen[seq], found{p, r.Offset})
			if seq < last {
				res.OutOfOrder++
				if res.OutOfOrder <= 5 {
					t.Errorf("checker: %s-%d offset %d: sequence %d after %d", k.topic, p, r.Offset, seq, last)
				}
			}
			last = max(last, seq)
		}
	}
	var lost, dups []int64
	for seq, where := range seen {
		if len(where) > 1 {
			res.Duplicated += int64(len(where) - 1)
			dups = append(dups, seq)
		}
	}
	for seq, a := range acked {
		ok := false
		for _, f := range seen[seq] {
			if f.partition == a.partition && f.offset == a.offset {
				ok = true
			}
		}
		if !ok {
			res.Lost++
			lost = append(lost, seq)
		}
	}
	sort.Slice(lost, func(i, j int) bool { return lost[i] < lost[j] })
	slices.Sort(dups)
	if len(lost) > 0 {
		first := lost[0]
		t.Errorf("checker: %d acknowledged records lost; first: sequence %d acknowledged at %s-%d offset %d, found at %v",
			len(lost), first, k.topic, acked[first].partition, acked[first].offset, seen[first])
	}
	if len(dups) > 0 {
		t.Errorf("checker: %d records duplicated; first: sequence %d at %v", len(dups), dups[0], seen[dups[0]])
	}
	return res
}

func maps(m map[string]int) map[string]int {
	out := make(map[string]int, len(m))
	for k, v := range m {
		out[k] = v
	}
	return out
}
