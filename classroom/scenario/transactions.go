package scenario

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"
	"unicode/utf16"

	"github.com/klassik/klassik/classroom/event"
	"github.com/klassik/klassik/zkclient"
	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kgo"
)

// Transactions (KIP-98): the transaction coordinator of a transactional id is the leader of
// its partition of __transaction_state, so a coordinator that dies is replaced like any
// leader, and the new one carries on from the log.

const txnStateTopic = "__transaction_state"

func killTxnCoordinator(ctx context.Context, r *runner) (bool, string, error) {
	if err := r.setupTopic(ctx, "classroom-txn", 1, nil); err != nil {
		return false, "", err
	}
	r.txnID = "classroom-txn-" + strconv.FormatInt(time.Now().UnixMilli(), 36)
	p, err := kgo.NewClient(kgo.SeedBrokers(r.env.Bootstrap...), kgo.TransactionalID(r.txnID),
		kgo.TransactionTimeout(2*time.Minute), kgo.RecordPartitioner(kgo.ManualPartitioner()))
	if err != nil {
		return false, "", err
	}
	defer p.Close()
	write := func(prefix string) error {
		if err := p.BeginTransaction(); err != nil {
			return err
		}
		for i := range 5 {
			p.Produce(ctx, &kgo.Record{Topic: r.topic, Partition: r.partition, Value: []byte(prefix + " " + r.txnID + " " + strconv.Itoa(i))}, nil)
		}
		fctx, cancel := context.WithTimeout(ctx, 30*time.Second)
		defer cancel()
		return p.Flush(fctx)
	}
	end := func(timeout time.Duration) error {
		ectx, cancel := context.WithTimeout(ctx, timeout)
		defer cancel()
		return p.EndTransaction(ectx, kgo.TryCommit)
	}
	if err := write("committed"); err != nil {
		return false, "", fmt.Errorf("the first transaction: %w", err)
	}
	if err := end(30 * time.Second); err != nil {
		return false, "", fmt.Errorf("committing the first transaction: %w", err)
	}
	r.say(KindStep, "Producer %q committed a transaction of 5 records to %s-%d", r.txnID, r.topic, r.partition)
	if err := write("in-flight"); err != nil {
		return false, "", fmt.Errorf("the second transaction: %w", err)
	}
	coord, stPart, err := r.txnCoordinator(ctx)
	if err != nil {
		return false, "", err
	}
	before, _ := r.zk.PartitionState(txnStateTopic, stPart)
	r.say(KindObserve, "A second transaction is open (5 records written, not committed). Its coordinator is broker %d, the leader of %s-%d (leader epoch %d, the coordinator epoch)",
		coord, txnStateTopic, stPart, before.LeaderEpoch)

	r.say(KindStep, "Killing broker %d, the transaction coordinator, with SIGKILL", coord)
	start := time.Now()
	if err := r.fault(ctx, coord, "kill", nil); err != nil {
		return false, "", err
	}
	st, ok := r.waitPartition(ctx, txnStateTopic, stPart, r.failoverTimeout(), func(st zkclient.PartitionState) bool {
		return st.Leader >= 0 && st.Leader != coord && st.LeaderEpoch > before.LeaderEpoch
	})
	if !ok {
		return false, fmt.Sprintf("no new leader for %s-%d within %v of killing broker %d", txnStateTopic, stPart, r.failoverTimeout(), coord), nil
	}
	r.say(KindObserve, "%s-%d has a new leader, broker %d (leader epoch %d), %.1f s after the kill: it loads the partition and becomes the coordinator",
		txnStateTopic, stPart, st.Leader, st.LeaderEpoch, time.Since(start).Seconds())

	r.say(KindStep, "The producer commits the open transaction; it finds the new coordinator by itself")
	if err := end(90 * time.Second); err != nil {
		return false, fmt.Sprintf("the commit after the failover failed: %v", err), nil
	}
	r.say(KindObserve, "Commit acknowledged %.1f s after the kill", time.Since(start).Seconds())
	marked, gotMarkers := r.waitEvent(ctx, start, 30*time.Second, func(e event.Event) bool {
		return e.Kind == event.Transaction && e.TransactionalID == r.txnID && e.Cause == "markers"
	})
	if gotMarkers {
		r.say(KindObserve, "broker %s wrote the COMMIT markers: %s", marked.Source, marked.Text)
	}

	committed, err := r.readValues(ctx, true)
	if err != nil {
		return false, "", err
	}
	all, err := r.readValues(ctx, false)
	if err != nil {
		return false, "", err
	}
	count := func(vals []string, prefix string) int {
		n := 0
		for _, v := range vals {
			if strings.HasPrefix(v, prefix+" "+r.txnID+" ") {
				n++
			}
		}
		return n
	}
	r.say(KindObserve, "A read_committed consumer sees %d records of the first transaction and %d of the second; read_uncommitted sees %d records",
		count(committed, "committed"), count(committed, "in-flight"), count(all, "committed")+count(all, "in-flight"))
	ok = count(committed, "committed") == 5 && count(committed, "in-flight") == 5 && gotMarkers
	return ok, fmt.Sprintf("coordinator broker %d killed; broker %d took over %s-%d and completed the commit; read_committed sees both transactions whole",
		coord, st.Leader, txnStateTopic, stPart), nil
}

// txnCoordinator finds the coordinator of the scenario's transactional id and its
// __transaction_state partition (the partition whose leader it is).
func (r *runner) txnCoordinator(ctx context.Context) (int32, int32, error) {
	fctx, cancel := context.WithTimeout(ctx, 15*time.Second)
	defer cancel()
	resp := r.adm.FindTxnCoordinators(fctx, r.txnID)
	if err := resp.Error(); err != nil {
		return -1, -1, fmt.Errorf("FindCoordinator for %s: %w", r.txnID, err)
	}
	var node int32 = -1
	resp.Each(func(c kadm.FindCoordinatorResponse) { node = c.NodeID })
	if node < 0 {
		return -1, -1, errors.New("no coordinator for " + r.txnID)
	}
	ta, err := r.zk.TopicAssignment(txnStateTopic, false)
	if err != nil {
		return -1, -1, err
	}
	p := javaHashPartition(r.txnID, int32(len(ta.Partitions)))
	return node, p, nil
}

// javaHashPartition is abs(String.hashCode) % n, how Kafka places a transactional id.
func javaHashPartition(s string, n int32) int32 {
	var h int32
	for _, u := range utf16.Encode([]rune(s)) {
		h = 31*h + int32(u)
	}
	if h == -1<<31 {
		h = 0
	} else if h < 0 {
		h = -h
	}
	return h % n
}

// waitPartition is waitState for any partition.
func (r *runner) waitPartition(ctx context.Context, topic string, p int32, timeout time.Duration, ok func(zkclient.PartitionState) bool) (zkclient.PartitionState, bool) {
	var st zkclient.PartitionState
	got := waitFor(ctx, timeout, func() bool {
		var err error
		st, err = r.zk.PartitionState(topic, p)
		return err == nil && ok(st)
	})
	return st, got
}

// readValues reads the scenario's partition from the start to its end, with read_committed
// or read_uncommitted.
func (r *runner) readValues(ctx context.Context, committed bool) ([]string, error) {
	opts := []kgo.Opt{kgo.SeedBrokers(r.env.Bootstrap...),
		kgo.ConsumePartitions(map[string]map[int32]kgo.Offset{r.topic: {r.partition: kgo.NewOffset().AtStart()}})}
	if committed {
		opts = append(opts, kgo.FetchIsolationLevel(kgo.ReadCommitted()))
	}
	cl, err := kgo.NewClient(opts...)
	if err != nil {
		return nil, err
	}
	defer cl.Close()
	var vals []string
	deadline := time.Now().Add(15 * time.Second)
	quiet := 0
	for time.Now().Before(deadline) && quiet < 2 {
		pctx, cancel := context.WithTimeout(ctx, time.Second)
		fs := cl.PollFetches(pctx)
		cancel()
		if fs.NumRecords() == 0 {
			quiet++
		}
		fs.EachRecord(func(rec *kgo.Record) { vals = append(vals, string(rec.Value)) })
	}
	return vals, nil
}
