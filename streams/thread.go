package streams

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kgo"
)

// This file is Kafka Streams' StreamThread for WordCount: one consumer group member that
// polls the input and repartition topics, runs the tasks the group gave it, and commits.

const (
	// maxPollRecords is Kafka Streams' max.poll.records (1000): the most records one poll,
	// and so one transaction, holds.
	maxPollRecords = 1000
	// endTimeout bounds the end of one transaction or one flush, shutdown included.
	endTimeout = time.Minute
	// purgeInterval is repartition.purge.interval.ms: how often the consumed part of the
	// repartition topic is deleted (DeleteRecords) once committed.
	purgeInterval = 30 * time.Second
)

// thread is one StreamThread (StreamThread-1 of its instance).
type thread struct {
	cfg        Config
	log        *logger
	eos        bool
	clientID   string // <application.id>-<process id>-StreamThread-1
	opts       []kgo.Opt
	repart     string // the repartition topic
	changelog  string
	lastCommit time.Time
	lastPurge  time.Time

	sess *kgo.GroupTransactSession // exactly_once_v2; nil under at_least_once
	cl   *kgo.Client               // the group member: sess.Client() under exactly_once_v2

	// mu orders the rebalance callbacks with the processing loop (see store).
	mu     sync.Mutex
	owned  map[int32]bool   // the tasks 1_p (repartition partitions) assigned to this member
	stores map[int32]*store // their stores, once restored; a task owned without one is pending
	tasks  []string         // the task ids assigned, for the log

	errMu      sync.Mutex
	produceErr error // the first produce error of the open transaction or batch
}

func newThread(cfg Config, log *logger, eos bool, clientID string, opts []kgo.Opt) *thread {
	return &thread{
		cfg: cfg, log: log, eos: eos, clientID: clientID + "-StreamThread-1", opts: opts,
		repart: RepartitionTopic(cfg.ApplicationID), changelog: ChangelogTopic(cfg.ApplicationID),
		owned: map[int32]bool{}, stores: map[int32]*store{},
	}
}

// start joins the group with a new member (a new session after a failure).
func (t *thread) start() error {
	reset := kgo.NewOffset().AtEnd()
	if t.cfg.ResetEarliest {
		reset = kgo.NewOffset().AtStart()
	}
	opts := append([]kgo.Opt{
		kgo.SeedBrokers(t.cfg.Bootstrap...),
		kgo.ClientID(t.clientID),
		kgo.ConsumerGroup(t.cfg.ApplicationID),
		kgo.ConsumeTopics(InputTopic, t.repart),
		kgo.ConsumeResetOffset(reset),
		kgo.SessionTimeout(t.cfg.SessionTimeout),
		// Rebalance callbacks run only between AllowRebalance and the next poll's return,
		// so a poll's records are processed and committed by the tasks that polled them.
		kgo.BlockRebalanceOnPoll(),
		kgo.OnPartitionsAssigned(t.assigned),
		kgo.OnPartitionsRevoked(t.revoked),
		kgo.OnPartitionsLost(t.lost),
		kgo.RecordPartitioner(partitioner{manual: t.changelog}),
	}, t.opts...)
	var err error
	if t.eos {
		opts = append(opts,
			kgo.TransactionalID(t.clientID),
			kgo.TransactionTimeout(t.cfg.TransactionTimeout),
			kgo.FetchIsolationLevel(kgo.ReadCommitted()))
		t.sess, err = kgo.NewGroupTransactSession(opts...)
		if err == nil {
			t.cl = t.sess.Client()
		}
	} else {
		opts = append(opts, kgo.DisableAutoCommit())
		t.cl, err = kgo.NewClient(opts...)
	}
	t.lastCommit = time.Now()
	return err
}

// stop leaves the group (a clean shutdown: the tasks move at once, not after the session
// timeout) and forgets every task.
func (t *thread) stop() {
	if t.cl != nil {
		if !t.eos {
			ctx, cancel := context.WithTimeout(context.Background(), endTimeout)
			t.commitOffsets(ctx)
			cancel()
		}
		t.cl.CloseAllowingRebalance()
	}
	t.sess, t.cl = nil, nil
	t.mu.Lock()
	clear(t.owned)
	clear(t.stores)
	t.tasks = nil
	t.mu.Unlock()
}

// run polls and processes until ctx ends (nil) or the member fails (the error). A failed
// member's tasks are closed dirty: the caller stops it and starts another, which restores
// them from the changelog, as Kafka Streams does after a TaskMigratedException.
func (t *thread) run(ctx context.Context) error {
	for {
		pctx, cancel := ctx, context.CancelFunc(func() {})
		if !t.eos {
			// at_least_once commits on a timer, records or not.
			pctx, cancel = context.WithTimeout(ctx, max(100*time.Millisecond, t.cfg.CommitInterval-time.Since(t.lastCommit)))
		}
		fs := t.cl.PollRecords(pctx, maxPollRecords)
		cancel()
		if ctx.Err() != nil {
			t.cl.AllowRebalance()
			return nil
		}
		err := t.handle(ctx, fs)
		t.cl.AllowRebalance()
		if err != nil {
			return err
		}
	}
}

// handle processes one poll's records: restores the stores of newly assigned tasks, then
// runs the records through the topology in one transaction (or one flush).
func (t *thread) handle(ctx context.Context, fs kgo.Fetches) error {
	var fetchErr error
	fs.EachError(func(topic string, p int32, err error) {
		if errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded) || errors.Is(err, kgo.ErrClientClosed) {
			return
		}
		if kerr.IsRetriable(err) {
			t.log.warnf("stream-thread [%s] fetching %s-%d: %v (retrying)", t.clientID, topic, p, err)
			return
		}
		if fetchErr == nil {
			fetchErr = fmt.Errorf("fetching %s-%d: %w", topic, p, err)
		}
	})
	if fetchErr != nil {
		return fetchErr
	}
	if err := t.restorePending(ctx); err != nil {
		return err
	}
	if fs.NumRecords() == 0 {
		if !t.eos && time.Since(t.lastCommit) >= t.cfg.CommitInterval {
			t.commitOffsets(ctx)
		}
		return nil
	}
	if t.eos {
		return t.transact(fs)
	}
	return t.atLeastOnce(ctx, fs)
}

// transact runs one poll's records in one transaction: the repartition, changelog and
// output records, and the offsets of the input and repartition records consumed, commit or
// abort together (processing.guarantee=exactly_once_v2).
func (t *thread) transact(fs kgo.Fetches) error {
	if err := t.sess.Begin(); err != nil {
		return fmt.Errorf("beginning a transaction: %w", err)
	}
	t.process(fs)
	ctx, cancel := context.WithTimeout(context.Background(), endTimeout)
	defer cancel()
	// A record that could not be produced aborts the transaction: what it held is
	// processed again by the next member.
	commit := kgo.TryCommit
	flushErr := t.cl.Flush(ctx)
	perr := t.takeProduceErr()
	if flushErr != nil || perr != nil {
		commit = kgo.TryAbort
	}
	committed, err := t.sess.End(ctx, commit)
	t.endStores(committed)
	switch {
	case perr != nil:
		return fmt.Errorf("producing: %w", perr)
	case flushErr != nil:
		return fmt.Errorf("flushing the transaction's records: %w", flushErr)
	case err != nil:
		return fmt.Errorf("ending the transaction: %w", err)
	}
	if committed {
		t.maybePurge(ctx)
	} else {
		// A rebalance since the transaction began (among them the one that just
		// assigned this member its tasks): the records are fetched again from the
		// committed offsets and processed against the rolled-back stores.
		t.log.infof("stream-thread [%s] transaction aborted (the group rebalanced); its %d records are processed again", t.clientID, fs.NumRecords())
	}
	return nil
}

// atLeastOnce processes one poll's records, flushes what they produced, and commits the
// offsets every commit.interval.ms.
func (t *thread) atLeastOnce(ctx context.Context, fs kgo.Fetches) error {
	t.process(fs)
	fctx, cancel := context.WithTimeout(context.Background(), endTimeout)
	defer cancel()
	if err := t.cl.Flush(fctx); err != nil {
		return fmt.Errorf("flushing: %w", err)
	}
	if err := t.takeProduceErr(); err != nil {
		return fmt.Errorf("producing: %w", err)
	}
	t.endStores(true)
	if time.Since(t.lastCommit) >= t.cfg.CommitInterval {
		t.commitOffsets(ctx)
		t.maybePurge(fctx)
	}
	return nil
}

// process runs each record through its sub-topology.
func (t *thread) process(fs kgo.Fetches) {
	t.mu.Lock()
	defer t.mu.Unlock()
	fs.EachRecord(func(r *kgo.Record) {
		switch r.Topic {
		case InputTopic: // task 0_p: flatMapValues, then groupBy's repartition
			if r.Value == nil {
				// WordCountDemo would fail on a null line (toLowerCase of null); a
				// tombstone in the input holds no words.
				return
			}
			for _, w := range Words(string(r.Value)) {
				t.produce(&kgo.Record{Topic: t.repart, Key: []byte(w), Value: []byte(w), Timestamp: r.Timestamp})
			}
		case t.repart: // task 1_p: count, log the change, forward it
			s := t.stores[r.Partition]
			if s == nil || r.Key == nil {
				// Not this member's task (cannot happen while rebalances wait for
				// AllowRebalance), or a null key, which KStreamAggregate skips.
				return
			}
			key := append([]byte(nil), r.Key...)
			v := EncodeLong(s.increment(string(key)))
			t.produce(&kgo.Record{Topic: t.changelog, Partition: r.Partition, Key: key, Value: v, Timestamp: r.Timestamp})
			t.produce(&kgo.Record{Topic: OutputTopic, Key: key, Value: v, Timestamp: r.Timestamp})
		}
	})
}

func (t *thread) produce(r *kgo.Record) {
	t.cl.Produce(context.Background(), r, func(_ *kgo.Record, err error) {
		if err == nil || errors.Is(err, kgo.ErrAborting) {
			return
		}
		t.errMu.Lock()
		if t.produceErr == nil {
			t.produceErr = err
		}
		t.errMu.Unlock()
	})
}

func (t *thread) takeProduceErr() error {
	t.errMu.Lock()
	defer t.errMu.Unlock()
	err := t.produceErr
	t.produceErr = nil
	return err
}

// endStores makes the open transaction's store changes the state, or rolls them back.
func (t *thread) endStores(committed bool) {
	t.mu.Lock()
	defer t.mu.Unlock()
	for _, s := range t.stores {
		if committed {
			s.commit()
		} else {
			s.rollback()
		}
	}
}

// commitOffsets commits the offsets of every record processed (at_least_once).
func (t *thread) commitOffsets(ctx context.Context) {
	if err := t.cl.CommitUncommittedOffsets(ctx); err != nil && !errors.Is(err, context.Canceled) {
		t.log.warnf("stream-thread [%s] committing offsets: %v", t.clientID, err)
	}
	t.lastCommit = time.Now()
}

// maybePurge deletes, every repartition.purge.interval.ms, the records of this member's
// repartition partitions below their committed offsets: nobody reads them again.
func (t *thread) maybePurge(ctx context.Context) {
	if time.Since(t.lastPurge) < purgeInterval {
		return
	}
	t.lastPurge = time.Now()
	t.mu.Lock()
	owned := maps.Clone(t.owned)
	t.mu.Unlock()
	os := kadm.Offsets{}
	for p, eo := range t.cl.CommittedOffsets()[t.repart] {
		if owned[p] && eo.Offset > 0 {
			os.AddOffset(t.repart, p, eo.Offset, -1)
		}
	}
	if len(os) == 0 {
		return
	}
	resp, err := kadm.NewClient(t.cl).DeleteRecords(ctx, os)
	if err == nil {
		err = resp.Error()
	}
	if err != nil {
		t.log.warnf("stream-thread [%s] purging %s: %v", t.clientID, t.repart, err)
	}
}

// restorePending restores the store of every task assigned and not restored yet.
func (t *thread) restorePending(ctx context.Context) error {
	t.mu.Lock()
	var pending []int32
	for p := range t.owned {
		if t.stores[p] == nil {
			pending = append(pending, p)
		}
	}
	t.mu.Unlock()
	if len(pending) == 0 {
		return nil
	}
	slices.Sort(pending)
	start := time.Now()
	counts, err := restore(ctx, t.cfg.Bootstrap, t.opts, t.changelog, pending, t.eos, t.cfg.RestoreTimeout)
	if err != nil {
		return err
	}
	t.mu.Lock()
	defer t.mu.Unlock()
	var summary []string
	for _, p := range pending {
		if t.owned[p] {
			t.stores[p] = newStore(counts[p])
			summary = append(summary, fmt.Sprintf("%s-%d: %d words", t.changelog, p, len(counts[p])))
		}
	}
	t.log.infof("stream-thread [%s] restored %s in %v", t.clientID, strings.Join(summary, ", "), time.Since(start).Round(time.Millisecond))
	t.log.infof("stream-client [%s] State transition from REBALANCING to RUNNING", strings.TrimSuffix(t.clientID, "-StreamThread-1"))
	return nil
}

// assigned is the rebalance listener's onPartitionsAssigned: the new tasks; those of
// sub-topology 1 are restored before their first record is processed.
func (t *thread) assigned(_ context.Context, _ *kgo.Client, as map[string][]int32) {
	t.mu.Lock()
	defer t.mu.Unlock()
	for _, p := range as[t.repart] {
		t.owned[p] = true
		delete(t.stores, p)
	}
	var added []string
	for _, p := range as[InputTopic] {
		added = append(added, fmt.Sprintf("0_%d", p))
	}
	for _, p := range as[t.repart] {
		added = append(added, fmt.Sprintf("1_%d", p))
	}
	if len(added) == 0 {
		return // a cooperative rebalance that moved nothing here
	}
	t.tasks = append(t.tasks, added...)
	slices.Sort(t.tasks)
	t.tasks = slices.Compact(t.tasks)
	t.log.infof("stream-thread [%s] assigned tasks %v, now running %v", t.clientID, added, t.tasks)
}

// revoked is onPartitionsRevoked: under at_least_once the processed offsets are committed
// first; then the tasks are closed and their stores dropped.
func (t *thread) revoked(ctx context.Context, cl *kgo.Client, rs map[string][]int32) {
	if !t.eos {
		if err := cl.CommitUncommittedOffsets(ctx); err != nil {
			t.log.warnf("stream-thread [%s] committing offsets before the rebalance: %v", t.clientID, err)
		}
	}
	t.drop(rs, "revoked")
}

// lost is onPartitionsLost: the member left the group without a rebalance (its session
// expired); nothing can be committed, the stores are dropped.
func (t *thread) lost(_ context.Context, _ *kgo.Client, ls map[string][]int32) { t.drop(ls, "lost") }

func (t *thread) drop(ps map[string][]int32, why string) {
	t.mu.Lock()
	defer t.mu.Unlock()
	gone := map[string]bool{}
	for _, p := range ps[InputTopic] {
		gone[fmt.Sprintf("0_%d", p)] = true
	}
	for _, p := range ps[t.repart] {
		delete(t.owned, p)
		delete(t.stores, p)
		gone[fmt.Sprintf("1_%d", p)] = true
	}
	if len(gone) == 0 {
		return
	}
	t.tasks = slices.DeleteFunc(t.tasks, func(id string) bool { return gone[id] })
	t.log.infof("stream-thread [%s] %s tasks %v", t.clientID, why, slices.Sorted(maps.Keys(gone)))
}

// partitioner sends the changelog's records to the partition they name (a task's changelog
// partition is its own), and every other record where Kafka's default partitioner sends it:
// murmur2 of the key, modulo the partitions, so a word lands where Kafka Streams puts it.
type partitioner struct{ manual string }

func (p partitioner) ForTopic(topic string) kgo.TopicPartitioner {
	if topic == p.manual {
		return kgo.ManualPartitioner().ForTopic(topic)
	}
	return kgo.StickyKeyPartitioner(nil).ForTopic(topic)
}
