package integration

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kgo"
)

// Transactions end to end with franz-go against three brokers: a transactional producer
// commits, aborts and commits again; a read_committed consumer sees exactly the committed
// records and read_uncommitted sees all; a second producer with the same transactional.id
// fences the first, whose next commit fails with PRODUCER_FENCED (or INVALID_PRODUCER_EPOCH)
// and whose open transaction is aborted.
func TestTransactionsFranzGo(t *testing.T) {
	c := NewCluster(t, Brokers(3))
	topic := topicName(t, "txn")
	minISR := "2"
	c.CreateTopic(t, topic, 3, 3, map[string]*string{"min.insync.replicas": &minISR})
	waitFullISR(t, c, topic, 3)
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()

	txnID := "tx-" + topic
	p1 := c.Client(t, kgo.TransactionalID(txnID), kgo.DefaultProduceTopic(topic), kgo.TransactionTimeout(60*time.Second))
	txn := func(p *kgo.Client, prefix string, n int, commit bool) error {
		if err := p.BeginTransaction(); err != nil {
			return err
		}
		for i := 0; i < n; i++ {
			p.Produce(ctx, &kgo.Record{Key: []byte(fmt.Sprint(i)), Value: []byte(fmt.Sprintf("%s-%d", prefix, i))}, nil)
		}
		if err := p.Flush(ctx); err != nil {
			return err
		}
		return p.EndTransaction(ctx, kgo.TransactionEndTry(commit))
	}
	start := time.Now()
	if err := txn(p1, "first", 100, true); err != nil {
		t.Fatalf("first transaction: %v", err)
	}
	t.Logf("MEASURE first transaction (InitProducerId, __transaction_state creation, 100 records, commit): %v", time.Since(start))
	if err := txn(p1, "aborted", 50, false); err != nil {
		t.Fatalf("aborted transaction: %v", err)
	}
	if err := txn(p1, "second", 100, true); err != nil {
		t.Fatalf("second transaction: %v", err)
	}

	// Fencing: p2 takes the id while p1 has a transaction open.
	if err := p1.BeginTransaction(); err != nil {
		t.Fatal(err)
	}
	for i := 0; i < 10; i++ {
		p1.Produce(ctx, &kgo.Record{Value: []byte(fmt.Sprintf("zombie-%d", i))}, nil)
	}
	if err := p1.Flush(ctx); err != nil {
		t.Fatalf("zombie's records: %v", err)
	}
	p2 := c.Client(t, kgo.TransactionalID(txnID), kgo.DefaultProduceTopic(topic), kgo.TransactionTimeout(60*time.Second))
	if err := txn(p2, "third", 20, true); err != nil {
		t.Fatalf("the new producer's transaction: %v", err)
	}
	err := p1.EndTransaction(ctx, kgo.TryCommit)
	if !errors.Is(err, kerr.ProducerFenced) && !errors.Is(err, kerr.InvalidProducerEpoch) {
		t.Fatalf("the fenced producer's commit: got %v, want PRODUCER_FENCED or INVALID_PRODUCER_EPOCH", err)
	}
	t.Logf("the fenced producer's commit: %v", err)

	// What kafka-transactions.sh shows of it: klassik transactions list and describe.
	list := runTool(t, 60*time.Second, "", klassikBin, "transactions", "--bootstrap-server", c.BootstrapServers(), "list")
	if !strings.Contains(list, txnID) || !strings.Contains(list, "CompleteCommit") {
		t.Errorf("klassik transactions list does not show %s as CompleteCommit:\n%s", txnID, list)
	}
	desc := runTool(t, 60*time.Second, "", klassikBin, "transactions", "--bootstrap-server", c.BootstrapServers(), "describe", "--transactional-id", txnID)
	if !strings.Contains(desc, "CompleteCommit") || !strings.Contains(desc, "60000") {
		t.Errorf("klassik transactions describe:\n%s", desc)
	}
	t.Logf("klassik transactions list:\n%sdescribe:\n%s", list, desc)

	committed := consumeAll(t, c, topic, true, 220)
	counts := map[string]int{}
	for _, v := range committed {
		counts[strings.SplitN(v, "-", 2)[0]]++
	}
	if counts["first"] != 100 || counts["second"] != 100 || counts["third"] != 20 || len(committed) != 220 {
		t.Fatalf("read_committed saw %v (%d records), want first 100, second 100, third 20 and nothing else", counts, len(committed))
	}
	all := consumeAll(t, c, topic, false, 280)
	counts = map[string]int{}
	for _, v := range all {
		counts[strings.SplitN(v, "-", 2)[0]]++
	}
	if counts["aborted"] != 50 || counts["zombie"] != 10 || len(all) != 280 {
		t.Fatalf("read_uncommitted saw %v (%d records), want the 50 aborted and 10 zombie records too", counts, len(all))
	}
}

// consumeAll reads topic from the start until want records arrived and no more come for a
// second, and returns their values.
func consumeAll(t *testing.T, c *Cluster, topic string, committed bool, want int) []string {
	t.Helper()
	opts := []kgo.Opt{kgo.ConsumeTopics(topic), kgo.ConsumeResetOffset(kgo.NewOffset().AtStart())}
	if committed {
		opts = append(opts, kgo.FetchIsolationLevel(kgo.ReadCommitted()))
	}
	cl := c.Client(t, opts...)
	defer cl.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	var out []string
	for ctx.Err() == nil {
		wait := 20 * time.Second
		if len(out) >= want {
			wait = time.Second
		}
		pctx, pcancel := context.WithTimeout(ctx, wait)
		fs := cl.PollFetches(pctx)
		pcancel()
		if pctx.Err() != nil && len(out) >= want {
			break
		}
		fs.EachRecord(func(r *kgo.Record) { out = append(out, string(r.Value)) })
		for _, e := range fs.Errors() {
			if !errors.Is(e.Err, context.DeadlineExceeded) {
				t.Fatalf("fetch %s-%d: %v", e.Topic, e.Partition, e.Err)
			}
		}
	}
	return out
}

// Exactly-once consume-transform-produce with franz-go's GroupTransactSession (KIP-447): a
// group consumer reads input under read_committed, writes one output record per input record
// in a transaction, and commits the group's offsets in the same transaction
// (AddOffsetsToTxn, TxnOffsetCommit). Checked: the committed output holds each input exactly
// once, and the group's committed offsets are the input's end offsets.
func TestGroupTransactSession(t *testing.T) {
	c := NewCluster(t, Brokers(3))
	in, out := topicName(t, "eos-in"), topicName(t, "eos-out")
	c.CreateTopic(t, in, 3, 3, nil)
	c.CreateTopic(t, out, 3, 3, nil)
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	const n = 600
	p := c.Client(t, kgo.DefaultProduceTopic(in))
	for i := 0; i < n; i++ {
		p.Produce(ctx, &kgo.Record{Key: []byte(fmt.Sprint(i)), Value: []byte(fmt.Sprint(i))}, nil)
	}
	if err := p.Flush(ctx); err != nil {
		t.Fatal(err)
	}

	group := "eos-" + in
	sess, err := kgo.NewGroupTransactSession(append(c.clientOpts(t),
		kgo.TransactionalID("eos-"+in), kgo.DefaultProduceTopic(out),
		kgo.ConsumerGroup(group), kgo.ConsumeTopics(in), kgo.ConsumeResetOffset(kgo.NewOffset().AtStart()),
		kgo.FetchIsolationLevel(kgo.ReadCommitted()))...)
	if err != nil {
		t.Fatal(err)
	}
	defer sess.Close()
	copied, commits := 0, 0
	for copied < n && ctx.Err() == nil {
		pctx, pcancel := context.WithTimeout(ctx, 10*time.Second)
		fs := sess.PollFetches(pctx)
		pcancel()
		if err := sess.Begin(); err != nil {
			t.Fatalf("begin: %v", err)
		}
		batch := 0
		fs.EachRecord(func(r *kgo.Record) {
			sess.Produce(ctx, &kgo.Record{Key: r.Key, Value: []byte("copy-" + string(r.Value))}, nil)
			batch++
		})
		committed, err := sess.End(ctx, kgo.TryCommit)
		if err != nil {
			t.Fatalf("end: %v", err)
		}
		if committed {
			copied += batch
			commits++
		}
	}
	t.Logf("MEASURE %d records copied in %d committed transactions", copied, commits)

	values := consumeAll(t, c, out, true, n)
	seen := map[string]int{}
	for _, v := range values {
		seen[v]++
	}
	for i := 0; i < n; i++ {
		if k := fmt.Sprintf("copy-%d", i); seen[k] != 1 {
			t.Errorf("%s appears %d times in the committed output", k, seen[k])
		}
	}
	if len(values) != n {
		t.Fatalf("committed output holds %d records, want %d", len(values), n)
	}
	offsets, err := c.Admin(t).FetchOffsets(ctx, group)
	if err != nil {
		t.Fatal(err)
	}
	ends, err := c.Admin(t).ListEndOffsets(ctx, in)
	if err != nil {
		t.Fatal(err)
	}
	ends.Each(func(e kadm.ListedOffset) {
		if o, ok := offsets.Lookup(in, e.Partition); !ok || o.At != e.Offset {
			t.Errorf("group offset of %s-%d is %v, want the end offset %d", in, e.Partition, o.At, e.Offset)
		}
	})
}
