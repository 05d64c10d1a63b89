package integration

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/IBM/sarama"
	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kgo"
)

// confluentTxnError is a librdkafka KafkaError as confluent_txn.py prints it.
type confluentTxnError struct {
	Name             string `json:"name"`
	Code             int    `json:"code"`
	Str              string `json:"str"`
	Fatal            bool   `json:"fatal"`
	Retriable        bool   `json:"retriable"`
	TxnRequiresAbort bool   `json:"txn_requires_abort"`
}

// confluentTxnResult is what testdata/confluent_txn.py prints.
type confluentTxnResult struct {
	Failed          *confluentTxnError `json:"failed"`
	Errors          []string           `json:"errors"`
	InitSeconds     float64            `json:"init_seconds"`
	FirstTxnSeconds float64            `json:"first_txn_seconds"`
	FencedCommit    *confluentTxnError `json:"fenced_commit"`
	FencedBegin     *confluentTxnError `json:"fenced_begin"`
	ReadCommitted   []string           `json:"read_committed"`
	ReadUncommitted []string           `json:"read_uncommitted"`
	Transactions    int                `json:"transactions"`
	Processed       int                `json:"processed"`
	Seconds         float64            `json:"seconds"`
}

func runConfluentTxn(t *testing.T, timeout time.Duration, args ...string) confluentTxnResult {
	t.Helper()
	script, err := filepath.Abs(filepath.Join("testdata", "confluent_txn.py"))
	if err != nil {
		t.Fatal(err)
	}
	out := runTool(t, timeout, "", "/usr/bin/python3", append([]string{script}, args...)...)
	var res confluentTxnResult
	if err := json.Unmarshal([]byte(out), &res); err != nil {
		t.Fatalf("confluent_txn.py printed no JSON result: %v\n%s", err, out)
	}
	if res.Failed != nil {
		t.Fatalf("confluent_txn.py %s: librdkafka failed with %s (%s)", args[1], res.Failed.Name, res.Failed.Str)
	}
	return res
}

// prefixCounts counts values by the part before their first '-'.
func prefixCounts(values []string) map[string]int {
	counts := map[string]int{}
	for _, v := range values {
		counts[strings.SplitN(v, "-", 2)[0]]++
	}
	return counts
}

// TestTransactionsConfluent runs librdkafka's transactional producer (confluent-kafka-python)
// against three brokers: init_transactions, a committed transaction of 100 records, an
// aborted one of 50, another committed one of 100; then a second producer with the same
// transactional.id calls init_transactions while the first has 10 records in an open
// transaction and commits 20 of its own, and the first producer's commit_transaction fails
// with librdkafka's fatal _FENCED error. A read_committed consumer sees exactly the 220
// committed records; read_uncommitted sees all 280.
func TestTransactionsConfluent(t *testing.T) {
	c := NewCluster(t, Brokers(3))
	topic := topicName(t, "txn")
	minISR := "2"
	c.CreateTopic(t, topic, 3, 3, map[string]*string{"min.insync.replicas": &minISR})
	waitFullISR(t, c, topic, 3)

	res := runConfluentTxn(t, 4*time.Minute, c.BootstrapServers(), "basic", topic, "3")
	t.Logf("MEASURE librdkafka init_transactions %.3fs, first transaction (100 records, commit) done at %.3fs", res.InitSeconds, res.FirstTxnSeconds)
	t.Logf("the fenced producer's commit_transaction: %+v", res.FencedCommit)
	t.Logf("its next begin_transaction: %+v", res.FencedBegin)
	if len(res.Errors) > 0 {
		t.Logf("librdkafka error_cb: %v", res.Errors)
	}

	if res.FencedCommit == nil {
		t.Fatal("the fenced producer's commit_transaction succeeded")
	}
	if res.FencedCommit.Name != "_FENCED" || !res.FencedCommit.Fatal {
		t.Fatalf("the fenced producer's commit_transaction failed with %+v, want librdkafka's fatal _FENCED", res.FencedCommit)
	}
	if res.FencedBegin == nil || res.FencedBegin.Name != "_FENCED" || !res.FencedBegin.Fatal {
		t.Fatalf("the fenced producer's next begin_transaction: %+v, want the fatal _FENCED again", res.FencedBegin)
	}

	committed := prefixCounts(res.ReadCommitted)
	if committed["first"] != 100 || committed["second"] != 100 || committed["third"] != 20 || len(res.ReadCommitted) != 220 {
		t.Fatalf("read_committed saw %v (%d records), want first 100, second 100, third 20 and nothing else", committed, len(res.ReadCommitted))
	}
	all := prefixCounts(res.ReadUncommitted)
	if all["first"] != 100 || all["second"] != 100 || all["third"] != 20 || all["aborted"] != 50 || all["zombie"] != 10 || len(res.ReadUncommitted) != 280 {
		t.Fatalf("read_uncommitted saw %v (%d records), want the 50 aborted and 10 zombie records besides the 220 committed", all, len(res.ReadUncommitted))
	}
	// franz-go agrees.
	if got := prefixCounts(consumeAll(t, c, topic, true, 220)); fmt.Sprint(got) != fmt.Sprint(committed) {
		t.Fatalf("franz-go read_committed saw %v, librdkafka %v", got, committed)
	}
}

// TestTransactionsConfluentSendOffsets runs librdkafka's consume-transform-produce loop: a
// group consumer (read_committed, no auto commit) reads 300 input records; every 10 go to the
// output topic upper-cased in a transaction that also carries the consumer's positions
// (send_offsets_to_transaction, so TxnOffsetCommit). The output read_committed holds each
// input exactly once and the group's committed offsets are the input's end offsets.
func TestTransactionsConfluentSendOffsets(t *testing.T) {
	c := NewCluster(t, Brokers(3))
	in, out := topicName(t, "eos-in"), topicName(t, "eos-out")
	group := "confluent-eos-" + in
	for _, tp := range []string{in, out} {
		c.CreateTopic(t, tp, 3, 3, nil)
		waitFullISR(t, c, tp, 3)
	}
	const n = 300
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	p := c.Client(t, kgo.DefaultProduceTopic(in))
	for i := 0; i < n; i++ {
		p.Produce(ctx, &kgo.Record{Key: []byte(fmt.Sprint(i)), Value: []byte(fmt.Sprintf("in-%d", i))}, nil)
	}
	if err := p.Flush(ctx); err != nil {
		t.Fatal(err)
	}

	res := runConfluentTxn(t, 4*time.Minute, c.BootstrapServers(), "eos", in, out, group, fmt.Sprint(n))
	t.Logf("MEASURE librdkafka consume-transform-produce: %d records in %d transactions in %.3fs", res.Processed, res.Transactions, res.Seconds)
	if len(res.Errors) > 0 {
		t.Logf("librdkafka error_cb: %v", res.Errors)
	}
	if res.Processed != n {
		t.Fatalf("the loop processed %d of %d input records", res.Processed, n)
	}

	seen := map[string]int{}
	for _, v := range consumeAll(t, c, out, true, n) {
		seen[v]++
	}
	for i := 0; i < n; i++ {
		if k := fmt.Sprintf("IN-%d", i); seen[k] != 1 {
			t.Fatalf("output read_committed holds %s %d times, want once (%d distinct values)", k, seen[k], len(seen))
		}
	}
	if len(seen) != n {
		t.Fatalf("output holds %d distinct values, want %d", len(seen), n)
	}

	checkGroupAtEnd(t, c, group, in)
}

// TestTransactionsSarama runs sarama's transactional producer (idempotent, acks all, one
// request in flight, Kafka 3.6's protocol) against three brokers: BeginTxn, 100 SendMessage,
// CommitTxn; 50 more aborted with AbortTxn; 100 more committed. A read_committed consumer
// sees exactly the 200 committed records, read_uncommitted all 250. A second producer with
// the same transactional id fences the first while it has 10 records in an open transaction:
// its CommitTxn fails with PRODUCER_FENCED, and read_committed still sees the 200.
func TestTransactionsSarama(t *testing.T) {
	c := NewCluster(t, Brokers(3))
	topic := topicName(t, "txn")
	minISR := "2"
	c.CreateTopic(t, topic, 3, 3, map[string]*string{"min.insync.replicas": &minISR})
	waitFullISR(t, c, topic, 3)

	cfg := sarama.NewConfig()
	cfg.Version = sarama.V3_6_0_0
	cfg.ClientID = "sarama-txn"
	cfg.Producer.Idempotent = true
	cfg.Producer.RequiredAcks = sarama.WaitForAll
	cfg.Producer.Return.Successes = true
	cfg.Producer.Transaction.ID = "sarama-tx-" + topic
	cfg.Producer.Transaction.Timeout = 60 * time.Second
	cfg.Net.MaxOpenRequests = 1
	start := time.Now()
	p, err := sarama.NewSyncProducer(c.Bootstrap(), cfg)
	if err != nil {
		t.Fatalf("sarama transactional producer: %v", err)
	}
	defer p.Close()
	t.Logf("MEASURE sarama NewSyncProducer (InitProducerId with the transactional id): %v", time.Since(start))

	txn := func(prefix string, n int, commit bool) {
		t.Helper()
		if err := p.BeginTxn(); err != nil {
			t.Fatalf("%s: BeginTxn: %v", prefix, err)
		}
		for i := 0; i < n; i++ {
			_, _, err := p.SendMessage(&sarama.ProducerMessage{Topic: topic, Key: sarama.StringEncoder(fmt.Sprint(i)),
				Value: sarama.StringEncoder(fmt.Sprintf("%s-%d", prefix, i))})
			if err != nil {
				t.Fatalf("%s: SendMessage %d: %v", prefix, i, err)
			}
		}
		end, name := p.CommitTxn, "CommitTxn"
		if !commit {
			end, name = p.AbortTxn, "AbortTxn"
		}
		if err := end(); err != nil {
			t.Fatalf("%s: %s: %v (txn status %v)", prefix, name, err, p.TxnStatus())
		}
		if p.TxnStatus()&sarama.ProducerTxnFlagReady == 0 {
			t.Fatalf("%s: after %s the producer's status is %v, want ready", prefix, name, p.TxnStatus())
		}
	}
	start = time.Now()
	txn("first", 100, true)
	t.Logf("MEASURE sarama first transaction (100 SendMessage, CommitTxn): %v", time.Since(start))
	txn("aborted", 50, false)
	txn("second", 100, true)

	committed := prefixCounts(consumeAll(t, c, topic, true, 200))
	if committed["first"] != 100 || committed["second"] != 100 || len(committed) != 2 {
		t.Fatalf("read_committed saw %v, want first 100, second 100 and nothing else", committed)
	}
	all := prefixCounts(consumeAll(t, c, topic, false, 250))
	if all["first"] != 100 || all["second"] != 100 || all["aborted"] != 50 || len(all) != 3 {
		t.Fatalf("read_uncommitted saw %v, want the 50 aborted records besides the 200 committed", all)
	}

	// Fencing: a second producer with the same transactional id while p has a transaction open.
	if err := p.BeginTxn(); err != nil {
		t.Fatal(err)
	}
	for i := 0; i < 10; i++ {
		if _, _, err := p.SendMessage(&sarama.ProducerMessage{Topic: topic, Value: sarama.StringEncoder(fmt.Sprintf("zombie-%d", i))}); err != nil {
			t.Fatalf("zombie: SendMessage %d: %v", i, err)
		}
	}
	p2, err := sarama.NewSyncProducer(c.Bootstrap(), cfg)
	if err != nil {
		t.Fatalf("second sarama producer with the same transactional id: %v", err)
	}
	defer p2.Close()
	err = p.CommitTxn()
	t.Logf("the fenced producer's CommitTxn: %v (status %v)", err, p.TxnStatus())
	// sarama sends EndTxn v3, to which Kafka 3.6 answers PRODUCER_FENCED (code 90; sarama
	// knows the code but has no text for it).
	if !errors.Is(err, sarama.ErrProducerFenced) {
		t.Fatalf("the fenced producer's CommitTxn: %v, want PRODUCER_FENCED (code 90)", err)
	}
	if p.TxnStatus()&sarama.ProducerTxnFlagFatalError == 0 {
		t.Fatalf("after being fenced the producer's status is %v, want a fatal error", p.TxnStatus())
	}
	if got := prefixCounts(consumeAll(t, c, topic, true, 200)); fmt.Sprint(got) != fmt.Sprint(committed) {
		t.Fatalf("after fencing read_committed saw %v, want %v: the zombie's records must stay invisible", got, committed)
	}
}

// saramaEOSHandler is a sarama ConsumerGroupHandler that copies every 10 records of a claim to
// the output topic upper-cased in one transaction, with the claim's next offset committed in
// it (AddMessageToTxnWithGroupMetadata, so AddOffsetsToTxn and TxnOffsetCommit v3 with the
// member id and generation).
type saramaEOSHandler struct {
	mu              sync.Mutex // one transaction at a time: the producer has one
	p               sarama.SyncProducer
	group, out      string
	processed, txns atomic.Int64
	n               int64
	done            context.CancelFunc
	errs            chan error
}

func (*saramaEOSHandler) Setup(sarama.ConsumerGroupSession) error   { return nil }
func (*saramaEOSHandler) Cleanup(sarama.ConsumerGroupSession) error { return nil }
func (h *saramaEOSHandler) ConsumeClaim(s sarama.ConsumerGroupSession, claim sarama.ConsumerGroupClaim) error {
	var batch []*sarama.ConsumerMessage
	for m := range claim.Messages() {
		if batch = append(batch, m); len(batch) < 10 {
			continue
		}
		if err := h.transact(s, batch); err != nil {
			h.errs <- err
			h.done()
			return err
		}
		batch = batch[:0]
	}
	return nil
}

func (h *saramaEOSHandler) transact(s sarama.ConsumerGroupSession, batch []*sarama.ConsumerMessage) error {
	h.mu.Lock()
	defer h.mu.Unlock()
	if err := h.p.BeginTxn(); err != nil {
		return fmt.Errorf("BeginTxn: %w", err)
	}
	for _, m := range batch {
		out := &sarama.ProducerMessage{Topic: h.out, Partition: m.Partition, Key: sarama.ByteEncoder(m.Key),
			Value: sarama.StringEncoder(strings.ToUpper(string(m.Value)))}
		if _, _, err := h.p.SendMessage(out); err != nil {
			return fmt.Errorf("SendMessage: %w", err)
		}
	}
	meta := &sarama.ConsumerGroupMetadata{GroupID: h.group, GenerationID: s.GenerationID(), MemberID: s.MemberID()}
	if err := h.p.AddMessageToTxnWithGroupMetadata(batch[len(batch)-1], meta, nil); err != nil {
		return fmt.Errorf("AddMessageToTxnWithGroupMetadata: %w", err)
	}
	if err := h.p.CommitTxn(); err != nil {
		return fmt.Errorf("CommitTxn: %w", err)
	}
	h.txns.Add(1)
	if h.processed.Add(int64(len(batch))) >= h.n {
		h.done()
	}
	return nil
}

// TestTransactionsSaramaSendOffsets runs a sarama consume-transform-produce loop: a sarama
// ConsumerGroup member (read_committed, no auto commit) reads 300 input records (100 per
// partition); every 10 of a partition go to the output topic upper-cased in a transaction
// that also commits the group's offset (AddMessageToTxnWithGroupMetadata). The output
// read_committed holds each input exactly once and the group's committed offsets are the
// input's end offsets.
func TestTransactionsSaramaSendOffsets(t *testing.T) {
	c := NewCluster(t, Brokers(3))
	in, out := topicName(t, "eos-in"), topicName(t, "eos-out")
	group := "sarama-eos-" + in
	for _, tp := range []string{in, out} {
		c.CreateTopic(t, tp, 3, 3, nil)
		waitFullISR(t, c, tp, 3)
	}
	const n = 300
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	p := c.Client(t, kgo.DefaultProduceTopic(in), manual())
	for i := 0; i < n; i++ {
		p.Produce(ctx, &kgo.Record{Partition: int32(i % 3), Key: []byte(fmt.Sprint(i)), Value: []byte(fmt.Sprintf("in-%d", i))}, nil)
	}
	if err := p.Flush(ctx); err != nil {
		t.Fatal(err)
	}

	cfg := sarama.NewConfig()
	cfg.Version = sarama.V3_6_0_0
	cfg.ClientID = "sarama-eos"
	sarama.Logger = log.New(c.clientLog, "[sarama] ", log.Lmicroseconds)
	t.Cleanup(func() { sarama.Logger = log.New(io.Discard, "[Sarama] ", log.LstdFlags) })
	cfg.Producer.Idempotent = true
	cfg.Producer.RequiredAcks = sarama.WaitForAll
	cfg.Producer.Return.Successes = true
	cfg.Producer.Partitioner = sarama.NewManualPartitioner
	cfg.Producer.Transaction.ID = "sarama-eos-" + out
	cfg.Net.MaxOpenRequests = 1
	cfg.Consumer.IsolationLevel = sarama.ReadCommitted
	cfg.Consumer.Offsets.AutoCommit.Enable = false
	cfg.Consumer.Offsets.Initial = sarama.OffsetOldest
	cfg.Consumer.MaxWaitTime = 200 * time.Millisecond
	prod, err := sarama.NewSyncProducer(c.Bootstrap(), cfg)
	if err != nil {
		t.Fatalf("sarama transactional producer: %v", err)
	}
	defer prod.Close()
	cg, err := sarama.NewConsumerGroup(c.Bootstrap(), group, cfg)
	if err != nil {
		t.Fatalf("sarama consumer group: %v", err)
	}
	defer cg.Close()

	loopCtx, stop := context.WithCancel(ctx)
	defer stop()
	h := &saramaEOSHandler{p: prod, group: group, out: out, n: n, done: stop, errs: make(chan error, 3)}
	start := time.Now()
	for loopCtx.Err() == nil {
		if err := cg.Consume(loopCtx, []string{in}, h); err != nil && loopCtx.Err() == nil {
			t.Fatalf("sarama Consume: %v", err)
		}
	}
	select {
	case err := <-h.errs:
		t.Fatalf("sarama consume-transform-produce: %v", err)
	default:
	}
	t.Logf("MEASURE sarama consume-transform-produce: %d records in %d transactions in %v", h.processed.Load(), h.txns.Load(), time.Since(start))
	if h.processed.Load() != n {
		t.Fatalf("the loop processed %d of %d input records", h.processed.Load(), n)
	}

	seen := map[string]int{}
	for _, v := range consumeAll(t, c, out, true, n) {
		seen[v]++
	}
	for i := 0; i < n; i++ {
		if k := fmt.Sprintf("IN-%d", i); seen[k] != 1 {
			t.Fatalf("output read_committed holds %s %d times, want once (%d distinct values)", k, seen[k], len(seen))
		}
	}
	if len(seen) != n {
		t.Fatalf("output holds %d distinct values, want %d", len(seen), n)
	}
	checkGroupAtEnd(t, c, group, in)
}

// checkGroupAtEnd checks that group's committed offset of every partition of topic is the
// partition's end offset.
func checkGroupAtEnd(t *testing.T, c *Cluster, group, topic string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	adm := c.Admin(t)
	ends, err := adm.ListEndOffsets(ctx, topic)
	if err != nil {
		t.Fatal(err)
	}
	offsets, err := adm.FetchOffsets(ctx, group)
	if err != nil {
		t.Fatal(err)
	}
	ends.Each(func(lo kadm.ListedOffset) {
		got, ok := offsets.Lookup(topic, lo.Partition)
		if !ok || got.At != lo.Offset {
			t.Errorf("group %s committed %v for %s-%d, want the end offset %d", group, got.At, topic, lo.Partition, lo.Offset)
		}
	})
}
