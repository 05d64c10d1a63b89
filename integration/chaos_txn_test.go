package integration

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"slices"
	"sort"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kgo"
)

// TestChaosTransactions is exactly-once under faults (KIP-98, KIP-447): a
// consume-transform-produce pipeline (franz-go's GroupTransactSession: a consumer group
// reading read_committed, a transactional producer, the consumed offsets committed inside
// each transaction with TxnOffsetCommit) copies N numbered input records to an output topic,
// one output record per input, ending a transaction after every poll of at most 50 records.
// Meanwhile a fault loop kills (kill -9) and restarts, one at a time and alternately, the
// broker that is the transaction coordinator of the pipeline's transactional id and the
// leader of an output or input partition, waiting after each kill until the pipeline commits
// again on the survivors and after each restart until every ISR is full. A concurrent
// read_committed consumer of the output records everything it sees.
//
// The checks: the committed output (read_committed from the start) holds every input exactly
// once (nothing lost, nothing duplicated, nothing else); every record the concurrent
// read_committed consumer saw is in it at the same offset (read_committed never returned a
// record of an aborted transaction); the group's committed offsets are the input's end
// offsets; read_uncommitted sees at least as many records, the difference being what aborted
// transactions wrote.
//
// CI runs TXN_CHAOS_FAULTS=6 faults; `make chaos-txn` runs 30. TXN_CHAOS_RECORDS sets N.
func TestChaosTransactions(t *testing.T) {
	faults := envInt(t, "TXN_CHAOS_FAULTS", 6)
	n := envInt(t, "TXN_CHAOS_RECORDS", 2000+faults*1500)
	limit := time.Duration(faults) * 25 * time.Second
	seed := uint64(time.Now().UnixNano())
	rng := rand.New(rand.NewPCG(seed, seed^0x7a11))
	t.Logf("txn chaos: %d inputs, up to %d faults within %v", n, faults, limit)

	c := NewCluster(t, append(chaosConfig(), Brokers(3),
		BrokerConfig("transaction.abort.timed.out.transaction.cleanup.interval.ms", 2000))...)
	const partitions = 3
	in, out := topicName(t, "txn-in"), topicName(t, "txn-out")
	for _, tp := range []string{in, out} {
		c.CreateTopic(t, tp, partitions, 3, map[string]*string{"min.insync.replicas": strp("2")})
		waitFullISR(t, c, tp, partitions)
	}

	// The input: n numbered records, idempotent acks=all (franz-go's default).
	inputs := make([]want, n)
	for i := range inputs {
		inputs[i] = want{Partition: int32(i % partitions), Key: txnChaosKey(i), Value: fmt.Appendf(nil, "input %d", i)}
	}
	produceAll(t, c.Client(t, manual()), in, inputs, 2*time.Minute)

	start := time.Now()
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	w := startCommittedWatcher(ctx, c, out, partitions)
	p := startTxnPipeline(ctx, c, in, out, "txn-chaos-group", "txn-chaos-pipeline")
	topics := map[string]int32{in: partitions, out: partitions}
	finished := func() bool { return w.distinct() >= n }
	if err := p.waitCommits(2, 2*time.Minute, finished); err != nil {
		t.Fatalf("txn chaos: the pipeline before any fault: %v", err)
	}
	// The pipeline has created both internal topics by now.
	topics["__transaction_state"] = internalPartitions(t, c, "__transaction_state")
	topics["__consumer_offsets"] = internalPartitions(t, c, "__consumer_offsets")
	healthy := func() {
		for tp, np := range topics {
			waitHealthy(t, c, tp, np)
		}
	}
	healthy()

	adm := c.Admin(t)
	kinds := []string{"kill-coordinator", "kill-output-leader", "kill-coordinator", "kill-input-leader"}
	counts := map[string]int{}
	done := 0
	var progressErr error
	for i := 0; i < faults && time.Since(start) < limit && !finished() && progressErr == nil; i++ {
		kind := kinds[i%len(kinds)]
		part := int32(rng.IntN(partitions))
		var victim int32
		var what string
		switch kind {
		case "kill-coordinator":
			victim = txnCoordinator(t, adm, p.txnID)
			what = fmt.Sprintf("the transaction coordinator of %q", p.txnID)
		case "kill-output-leader":
			victim = zkLeaderOf(t, c, out, part)
			what = fmt.Sprintf("the leader of %s-%d", out, part)
		case "kill-input-leader":
			victim = zkLeaderOf(t, c, in, part)
			what = fmt.Sprintf("the leader of %s-%d", in, part)
		}
		t0 := time.Now()
		c.KillBroker(victim)
		// The survivors take over: the pipeline commits transactions without the victim.
		progressErr = p.waitCommits(2, 90*time.Second, finished)
		took := time.Since(t0)
		c.StartBroker(victim)
		healthy()
		if progressErr == nil {
			progressErr = p.waitCommits(2, time.Minute, finished)
		}
		counts[kind]++
		done++
		t.Logf("txn chaos: fault %d/%d %s: kill -9 broker %d (%s), commits again after %v, restarted, recovered in %v; %d transactions committed, %d aborted, %d distinct outputs seen committed",
			done, faults, kind, victim, what, took.Round(time.Millisecond), time.Since(t0).Round(time.Millisecond), p.committed.Load(), p.aborted.Load(), w.distinct())
	}
	if progressErr != nil {
		t.Errorf("txn chaos: after fault %d: %v", done, progressErr)
	}

	// The pipeline runs until the committed output holds every input.
	eventuallyErr := func(timeout time.Duration, f func() error) error {
		deadline := time.Now().Add(timeout)
		for {
			err := f()
			if err == nil || time.Now().After(deadline) {
				return err
			}
			time.Sleep(100 * time.Millisecond)
		}
	}
	if err := eventuallyErr(2*time.Minute, func() error {
		if d := w.distinct(); d < n {
			return fmt.Errorf("the concurrent read_committed consumer saw %d of %d inputs in the output", d, n)
		}
		return nil
	}); err != nil {
		t.Errorf("txn chaos: %v (pipeline: %s)", err, p.summary())
	}
	p.stop()
	w.stop()
	healthy()
	duration := time.Since(start)

	ends := endOffsets(t, adm, out)
	committed := readToEnd(t, c, out, ends, true, 2*time.Minute)
	uncommitted := readToEnd(t, c, out, ends, false, 2*time.Minute)

	// Exactly once: every input once in the committed output, nothing else.
	perKey := map[string]int{}
	for _, r := range committed {
		perKey[r.key]++
	}
	var lost, dup, extra []string
	for i := range n {
		switch k := string(txnChaosKey(i)); perKey[k] {
		case 0:
			lost = append(lost, k)
		case 1:
		default:
			dup = append(dup, fmt.Sprintf("%s x%d", k, perKey[k]))
		}
	}
	for k := range perKey {
		var i int
		if _, err := fmt.Sscanf(k, "in-%d", &i); err != nil || i < 0 || i >= n {
			extra = append(extra, k)
		}
	}
	if len(lost) > 0 || len(dup) > 0 || len(extra) > 0 || len(committed) != n {
		t.Errorf("txn chaos: the committed output has %d records for %d inputs: %d lost %v, %d duplicated %v, %d not inputs %v",
			len(committed), n, len(lost), head(lost), len(dup), head(dup), len(extra), head(extra))
	}

	// read_committed never returned an aborted record: all it saw is in the committed output.
	seen := w.snapshot()
	var aborted []string
	for po, v := range seen {
		if r, ok := committed[po]; !ok || r.value != v {
			aborted = append(aborted, fmt.Sprintf("%s-%d@%d %q", out, po.partition, po.offset, v))
		}
	}
	sort.Strings(aborted)
	if len(aborted) > 0 {
		t.Errorf("txn chaos: the concurrent read_committed consumer saw %d records that are not in the committed output (aborted data): %v", len(aborted), head(aborted))
	}
	if werrs := w.errors(); len(werrs) > 0 {
		t.Logf("txn chaos: the read_committed consumer's fetch errors: %v", werrs)
	}

	// The offsets committed in the transactions: the whole input consumed.
	inEnds := endOffsets(t, adm, in)
	octx, ocancel := context.WithTimeout(context.Background(), 30*time.Second)
	offs, err := adm.FetchOffsets(octx, p.group)
	ocancel()
	if err != nil {
		t.Errorf("txn chaos: OffsetFetch of group %q: %v", p.group, err)
	}
	for part, end := range inEnds {
		if o, ok := offs.Lookup(in, part); !ok || o.At != end {
			t.Errorf("txn chaos: group %q committed offset %d for %s-%d (found %v), want the end offset %d", p.group, o.At, in, part, ok, end)
		}
	}

	// read_uncommitted sees the aborted transactions' records too.
	uncKeys := map[string]int{}
	for _, r := range uncommitted {
		uncKeys[r.key]++
	}
	uncDup := 0
	for _, k := range uncKeys {
		uncDup += k - 1
	}
	if len(uncommitted) < len(committed) {
		t.Errorf("txn chaos: read_uncommitted returned %d records, fewer than read_committed's %d", len(uncommitted), len(committed))
	}

	kindsDone := make([]string, 0, len(counts))
	for _, k := range []string{"kill-coordinator", "kill-output-leader", "kill-input-leader"} {
		kindsDone = append(kindsDone, fmt.Sprintf("%s=%d", k, counts[k]))
	}
	t.Logf("MEASURE txn chaos faults: %d (%s)", done, strings.Join(kindsDone, " "))
	t.Logf("MEASURE txn chaos transactions: %d committed, %d aborted, %d pipeline restarts after a fatal End; errors seen: %v", p.committed.Load(), p.aborted.Load(), p.restarts.Load(), p.errors())
	t.Logf("MEASURE txn chaos records: %d inputs, %d committed outputs (%d distinct, %d lost, %d duplicated), %d read_uncommitted (%d aborted records, %d duplicates of an input), %d seen by the concurrent read_committed consumer, %d of them not committed",
		n, len(committed), len(perKey), len(lost), len(dup), len(uncommitted), len(uncommitted)-len(committed), uncDup, len(seen), len(aborted))
	t.Logf("MEASURE txn chaos duration: %v from the first transaction to the last output", duration.Round(time.Millisecond))
	if done < faults && !t.Failed() {
		t.Errorf("txn chaos: only %d of %d faults before the pipeline finished or %v passed; raise TXN_CHAOS_RECORDS", done, faults, limit)
	}
	if err := p.err(); err != nil {
		t.Logf("txn chaos: the last error End returned: %v", err)
	}
}

func txnChaosKey(i int) []byte { return fmt.Appendf(nil, "in-%06d", i) }

// head is the first few of a list, for messages.
func head(s []string) []string {
	if len(s) > 10 {
		return s[:10]
	}
	return s
}

// txnCoordinator asks FindCoordinator (key type 1) which broker coordinates txnID.
func txnCoordinator(t testing.TB, adm *kadm.Client, txnID string) int32 {
	t.Helper()
	var id int32
	eventually(t, time.Minute, func() error {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		r, ok := adm.FindTxnCoordinators(ctx, txnID)[txnID]
		if !ok {
			return fmt.Errorf("FindCoordinator for %q: no answer", txnID)
		}
		if r.Err != nil {
			return fmt.Errorf("FindCoordinator for %q: %w", txnID, r.Err)
		}
		id = r.NodeID
		return nil
	})
	return id
}

// internalPartitions waits until Metadata lists the internal topic and returns its number of
// partitions.
func internalPartitions(t testing.TB, c *Cluster, topic string) int32 {
	t.Helper()
	var np int32
	eventually(t, time.Minute, func() error {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		resp, err := c.Metadata(ctx, topic)
		if err != nil {
			return err
		}
		if len(resp.Topics) != 1 || resp.Topics[0].ErrorCode != 0 || len(resp.Topics[0].Partitions) == 0 {
			return fmt.Errorf("%s not in metadata yet", topic)
		}
		np = int32(len(resp.Topics[0].Partitions))
		return nil
	})
	return np
}

// endOffsets lists the high watermark of every partition of topic.
func endOffsets(t testing.TB, adm *kadm.Client, topic string) map[int32]int64 {
	t.Helper()
	out := map[int32]int64{}
	eventually(t, time.Minute, func() error {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		lo, err := adm.ListEndOffsets(ctx, topic)
		if err == nil {
			err = lo.Error()
		}
		if err != nil {
			return err
		}
		lo.Each(func(o kadm.ListedOffset) { out[o.Partition] = o.Offset })
		return nil
	})
	return out
}

type partOffset struct {
	partition int32
	offset    int64
}

type outRecord struct{ key, value string }

// readToEnd reads every partition of topic from its start up to ends (control records
// included, so that the read reaches a high watermark that ends with a marker) and returns
// the data records by partition and offset.
func readToEnd(t testing.TB, c *Cluster, topic string, ends map[int32]int64, committed bool, timeout time.Duration) map[partOffset]outRecord {
	t.Helper()
	starts := map[int32]kgo.Offset{}
	for p := range ends {
		starts[p] = kgo.NewOffset().AtStart()
	}
	opts := []kgo.Opt{kgo.ConsumePartitions(map[string]map[int32]kgo.Offset{topic: starts}), kgo.KeepControlRecords(), kgo.FetchMaxWait(500 * time.Millisecond)}
	if committed {
		opts = append(opts, kgo.FetchIsolationLevel(kgo.ReadCommitted()))
	}
	cl := c.Client(t, opts...)
	defer cl.Close()
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()
	next := map[int32]int64{}
	reached := func() bool {
		for p, e := range ends {
			if next[p] < e {
				return false
			}
		}
		return true
	}
	out := map[partOffset]outRecord{}
	for !reached() {
		fs := cl.PollFetches(ctx)
		if ctx.Err() != nil {
			t.Fatalf("reading %s (read_committed %v) for %v: at %v, want %v", topic, committed, timeout, next, ends)
		}
		for _, e := range fs.Errors() {
			t.Logf("reading %s: fetch %s-%d: %v", topic, e.Topic, e.Partition, e.Err)
		}
		fs.EachRecord(func(r *kgo.Record) {
			next[r.Partition] = max(next[r.Partition], r.Offset+1)
			if !r.Attrs.IsControl() {
				out[partOffset{r.Partition, r.Offset}] = outRecord{string(r.Key), string(r.Value)}
			}
		})
	}
	return out
}

// committedWatcher reads the output read_committed while the pipeline runs and remembers
// every record it is given.
type committedWatcher struct {
	cancel context.CancelFunc
	done   chan struct{}

	mu   sync.Mutex
	seen map[partOffset]string
	keys map[string]struct{}
	errs map[string]int
	n    atomic.Int64 // len(keys)
}

func startCommittedWatcher(ctx context.Context, c *Cluster, topic string, partitions int32) *committedWatcher {
	ctx, cancel := context.WithCancel(ctx)
	w := &committedWatcher{cancel: cancel, done: make(chan struct{}), seen: map[partOffset]string{}, keys: map[string]struct{}{}, errs: map[string]int{}}
	starts := map[int32]kgo.Offset{}
	for p := range partitions {
		starts[p] = kgo.NewOffset().AtStart()
	}
	cl, err := kgo.NewClient(kgo.SeedBrokers(c.Bootstrap()...),
		kgo.WithLogger(kgo.BasicLogger(c.clientLog, kgo.LogLevelInfo, func() string { return "txn-chaos watcher " })),
		kgo.ConsumePartitions(map[string]map[int32]kgo.Offset{topic: starts}),
		kgo.FetchIsolationLevel(kgo.ReadCommitted()), kgo.FetchMaxWait(500*time.Millisecond))
	if err != nil {
		panic(err) // only a bad option fails here
	}
	go func() {
		defer close(w.done)
		defer cl.Close()
		for ctx.Err() == nil {
			fs := cl.PollFetches(ctx)
			w.mu.Lock()
			for _, e := range fs.Errors() {
				if !errors.Is(e.Err, context.Canceled) {
					w.errs[errName(e.Err)]++
				}
			}
			fs.EachRecord(func(r *kgo.Record) {
				po := partOffset{r.Partition, r.Offset}
				if v, ok := w.seen[po]; ok && v != string(r.Value) {
					w.errs[fmt.Sprintf("offset %d of partition %d returned as %q and later %q", r.Offset, r.Partition, v, r.Value)]++
				}
				w.seen[po] = string(r.Value)
				w.keys[string(r.Key)] = struct{}{}
			})
			w.n.Store(int64(len(w.keys)))
			w.mu.Unlock()
		}
	}()
	return w
}

func (w *committedWatcher) distinct() int { return int(w.n.Load()) }
func (w *committedWatcher) stop()         { w.cancel(); <-w.done }

func (w *committedWatcher) snapshot() map[partOffset]string {
	w.mu.Lock()
	defer w.mu.Unlock()
	out := make(map[partOffset]string, len(w.seen))
	for k, v := range w.seen {
		out[k] = v
	}
	return out
}

func (w *committedWatcher) errors() map[string]int {
	w.mu.Lock()
	defer w.mu.Unlock()
	return maps(w.errs)
}

// errName is a short name of an error for counting: the Kafka error's name when it is one.
func errName(err error) string {
	var ke *kerr.Error
	if errors.As(err, &ke) {
		return ke.Message
	}
	s := err.Error()
	if len(s) > 120 {
		s = s[:120]
	}
	return s
}

// txnPipeline is the consume-transform-produce loop of a GroupTransactSession.
type txnPipeline struct {
	c                *Cluster
	in, out          string
	group, txnID     string
	cancel           context.CancelFunc
	done             chan struct{}
	committed        atomic.Int64 // transactions
	aborted          atomic.Int64
	restarts         atomic.Int64
	committedRecords atomic.Int64

	mu   sync.Mutex
	errs map[string]int
	last error // the last error End returned
}

func startTxnPipeline(ctx context.Context, c *Cluster, in, out, group, txnID string) *txnPipeline {
	ctx, cancel := context.WithCancel(ctx)
	p := &txnPipeline{c: c, in: in, out: out, group: group, txnID: txnID, cancel: cancel, done: make(chan struct{}), errs: map[string]int{}}
	go p.run(ctx)
	return p
}

func (p *txnPipeline) session() *kgo.GroupTransactSession {
	s, err := kgo.NewGroupTransactSession(
		kgo.SeedBrokers(p.c.Bootstrap()...),
		kgo.WithLogger(kgo.BasicLogger(p.c.clientLog, kgo.LogLevelInfo, func() string { return "txn-chaos pipeline " })),
		kgo.TransactionalID(p.txnID),
		kgo.TransactionTimeout(20*time.Second),
		kgo.ConsumerGroup(p.group),
		kgo.ConsumeTopics(p.in),
		kgo.ConsumeResetOffset(kgo.NewOffset().AtStart()),
		kgo.FetchIsolationLevel(kgo.ReadCommitted()),
		kgo.SessionTimeout(10*time.Second),
		kgo.RecordPartitioner(kgo.ManualPartitioner()),
	)
	if err != nil {
		panic(err) // only a bad option fails here
	}
	return s
}

func (p *txnPipeline) note(what string, err error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.errs[what+": "+errName(err)]++
}

func (p *txnPipeline) run(ctx context.Context) {
	defer close(p.done)
	s := p.session()
	defer func() { s.Close() }()
	restart := func() {
		p.restarts.Add(1)
		s.Close()
		select { // not a tight loop when every End fails
		case <-ctx.Done():
		case <-time.After(500 * time.Millisecond):
		}
		s = p.session()
	}
	for ctx.Err() == nil {
		pctx, cancel := context.WithTimeout(ctx, time.Second)
		fs := s.PollRecords(pctx, 50)
		cancel()
		for _, e := range fs.Errors() {
			if !errors.Is(e.Err, context.DeadlineExceeded) && !errors.Is(e.Err, context.Canceled) {
				p.note("poll", e.Err)
			}
		}
		recs := fs.Records()
		if len(recs) == 0 {
			continue
		}
		if err := s.Begin(); err != nil {
			p.note("begin", err)
			restart()
			continue
		}
		for _, r := range recs {
			o := &kgo.Record{Topic: p.out, Partition: r.Partition, Key: slices.Clone(r.Key),
				Value: fmt.Appendf(nil, "%s from %s/%d/%d", r.Value, r.Topic, r.Partition, r.Offset)}
			s.Produce(context.Background(), o, func(_ *kgo.Record, err error) {
				if err != nil && !errors.Is(err, kgo.ErrAborting) {
					p.note("produce", err)
				}
			})
		}
		// Ended without the loop's context: stopping the pipeline does not leave a
		// transaction open.
		ectx, ecancel := context.WithTimeout(context.Background(), 2*time.Minute)
		ok, err := s.End(ectx, kgo.TryCommit)
		ecancel()
		switch {
		case err != nil:
			// No error End returns is retryable (franz-go's doc): start over as a
			// restarted application would; the new producer fences the old epoch.
			p.note("end", err)
			p.mu.Lock()
			p.last = err
			p.mu.Unlock()
			restart()
		case ok:
			p.committed.Add(1)
			p.committedRecords.Add(int64(len(recs)))
		default:
			p.aborted.Add(1)
		}
		// A steady pace of a few transactions a second, so that N inputs last through the
		// campaign on a fast machine too.
		select {
		case <-ctx.Done():
		case <-time.After(100 * time.Millisecond):
		}
	}
}

func (p *txnPipeline) stop() { p.cancel(); <-p.done }

// waitCommits waits until k more transactions have committed, or until finished.
func (p *txnPipeline) waitCommits(k int64, timeout time.Duration, finished func() bool) error {
	want := p.committed.Load() + k
	deadline := time.Now().Add(timeout)
	for p.committed.Load() < want && !finished() {
		if time.Now().After(deadline) {
			return fmt.Errorf("no %d more committed transactions within %v: %s", k, timeout, p.summary())
		}
		time.Sleep(50 * time.Millisecond)
	}
	return nil
}

func (p *txnPipeline) summary() string {
	return fmt.Sprintf("%d transactions committed (%d records), %d aborted, %d restarts; errors %v",
		p.committed.Load(), p.committedRecords.Load(), p.aborted.Load(), p.restarts.Load(), p.errors())
}

func (p *txnPipeline) errors() map[string]int {
	p.mu.Lock()
	defer p.mu.Unlock()
	return maps(p.errs)
}

func (p *txnPipeline) err() error {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.last
}
