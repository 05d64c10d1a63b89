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
	"github.com/twmb/franz-go/pkg/kmsg"
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
	waitTxnState(ctx, t, c, txnID, "CompleteCommit")
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

// Verification (KIP-890 part 1, transaction.partition.verification.enable, on by default as in
// Kafka 3.6): a transactional write to a partition its producer never added to a transaction
// (a late retry after an abort, say) is refused with INVALID_TXN_STATE instead of opening a
// transaction no marker will end, and the partition's last stable offset stays at its high
// watermark.
func TestTransactionVerification(t *testing.T) {
	c := NewCluster(t, Brokers(3))
	topic := topicName(t, "verify")
	c.CreateTopic(t, topic, 1, 3, nil)
	waitFullISR(t, c, topic, 1)
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	txnID := "tx-" + topic
	p := c.Client(t, kgo.TransactionalID(txnID), kgo.DefaultProduceTopic(topic))
	if err := p.BeginTransaction(); err != nil {
		t.Fatal(err)
	}
	if err := p.ProduceSync(ctx, &kgo.Record{Value: []byte("committed")}).FirstErr(); err != nil {
		t.Fatal(err)
	}
	if err := p.EndTransaction(ctx, kgo.TryCommit); err != nil {
		t.Fatal(err)
	}
	d := waitTxnState(ctx, t, c, txnID, "CompleteCommit")

	// The same producer id and epoch, a transactional batch, no AddPartitionsToTxn first.
	raw, err := DialRaw(c.Broker(leaderOf(t, c, topic, 0)).Addr())
	if err != nil {
		t.Fatal(err)
	}
	defer raw.Close()
	req := kmsg.NewPtrProduceRequest()
	req.SetVersion(9)
	req.TransactionID, req.Acks, req.TimeoutMillis = &txnID, -1, 10000
	rt := kmsg.NewProduceRequestTopic()
	rt.Topic = topic
	rp := kmsg.NewProduceRequestTopicPartition()
	rp.Records = txnBatch(d.ProducerID, d.ProducerEpoch, 1, "late")
	rt.Partitions = append(rt.Partitions, rp)
	req.Topics = append(req.Topics, rt)
	resp, err := raw.Request(req, 15*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	sp := resp.(*kmsg.ProduceResponse).Topics[0].Partitions[0]
	if !errors.Is(kerr.ErrorForCode(sp.ErrorCode), kerr.InvalidTxnState) {
		t.Fatalf("an unverified transactional write: %v (%v), want INVALID_TXN_STATE", kerr.ErrorForCode(sp.ErrorCode), sp.ErrorMessage)
	}
	committed, err := c.Admin(t).ListCommittedOffsets(ctx, topic)
	if err != nil {
		t.Fatal(err)
	}
	ends, err := c.Admin(t).ListEndOffsets(ctx, topic)
	if err != nil {
		t.Fatal(err)
	}
	lso, _ := committed.Lookup(topic, 0)
	hw, _ := ends.Lookup(topic, 0)
	if lso.Offset != hw.Offset {
		t.Fatalf("last stable offset %d, high watermark %d: a transaction hangs", lso.Offset, hw.Offset)
	}
}

// waitTxnState waits until DescribeTransactions shows txnID in state. EndTxn answers once the
// coordinator has written PrepareCommit or PrepareAbort; the Complete state follows the markers.
func waitTxnState(ctx context.Context, t *testing.T, c *Cluster, txnID, state string) kadm.DescribedTransaction {
	t.Helper()
	var d kadm.DescribedTransaction
	eventually(t, 30*time.Second, func() error {
		described, err := c.Admin(t).DescribeTransactions(ctx, txnID)
		if err != nil {
			return err
		}
		var ok bool
		if d, ok = described[txnID]; !ok || d.State != state {
			return fmt.Errorf("DescribeTransactions of %s: %+v, want state %s", txnID, described, state)
		}
		return nil
	})
	return d
}
