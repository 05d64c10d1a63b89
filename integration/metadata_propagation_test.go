package integration

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"os"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kgo"
	"github.com/twmb/franz-go/pkg/kmsg"
)

// Metadata propagation under churn. Kafka's CreateTopics answers once the leaders are in the
// metadata (DelayedCreatePartitions) and DeleteTopics once the topic is gone from it; the
// controller sends UpdateMetadata to every live broker as soon as it decides, so every broker
// lists a new topic, and stops listing a deleted one, moments after the answer. The test
// keeps a churn of topics and consumer groups made and deleted by real clients (what client
// test suites do), and meanwhile creates and deletes probe topics, watching each broker's own
// Metadata answer over a raw connection: how long after the admin answer does each broker
// agree, and does a probe topic's leader take a produce at once?
//
// METADATA_SOAK=10m (make soak-metadata) runs it long; by default it runs about 30 s.
func TestMetadataPropagationSoak(t *testing.T) {
	soak := 30 * time.Second
	if s := os.Getenv("METADATA_SOAK"); s != "" {
		d, err := time.ParseDuration(s)
		if err != nil {
			t.Fatalf("METADATA_SOAK=%q: %v", s, err)
		}
		soak = d
	}
	// Retention checked every second, so the writer's topic stays within its retention.bytes.
	c := NewCluster(t, Brokers(3), BrokerConfig("log.retention.check.interval.ms", 1000))
	ctx, cancel := context.WithTimeout(context.Background(), soak+3*time.Minute)
	defer cancel()
	adm := c.Admin(t)

	probes := make([]*metadataProbe, 0, 3)
	for _, b := range c.Brokers() {
		p, err := newMetadataProbe(b.ID, b.Addr())
		if err != nil {
			t.Fatal(err)
		}
		defer p.Close()
		probes = append(probes, p)
	}

	start := time.Now()
	end := start.Add(soak)
	var churn sync.WaitGroup
	churnErrs := make(chan error, 16)
	var churned [2]int
	for w := range 2 {
		churn.Add(1)
		go func() {
			defer churn.Done()
			for i := 0; time.Now().Before(end) && ctx.Err() == nil; i++ {
				if err := churnOnce(ctx, t, c, adm, fmt.Sprintf("churn-%d-%d", w, i)); err != nil {
					churnErrs <- err
					return
				}
				churned[w]++
			}
		}()
	}

	// And a steady stream of writes, as a test suite's produce benchmarks make: the disks
	// always hold dirty pages, so every fsync waits for writeback.
	churn.Add(1)
	var written int64
	go func() {
		defer churn.Done()
		written = heavyWriter(ctx, t, c, end)
	}()

	var createLags, deleteLags []time.Duration
	probesRun := 0
	for i := 0; time.Now().Before(end); i++ {
		topic := fmt.Sprintf("probe-%d", i)
		partitions := int32(1 + rand.IntN(6))
		rf := int16(1 + rand.IntN(3))
		resp, err := adm.CreateTopic(ctx, partitions, rf, nil, topic)
		if err == nil {
			err = resp.Err
		}
		if err != nil {
			t.Fatalf("create %s: %v", topic, err)
		}
		for i, lag := range waitAll(t, probes, topic, int(partitions), true) {
			createLags = append(createLags, lag)
			if lag > 100*time.Millisecond {
				t.Logf("%v into the soak: broker %d listed %s %v after CreateTopics answered", time.Since(start).Round(time.Second), probes[i].id, topic, lag)
			}
		}
		// Every partition's leader takes a write the moment the broker says it leads.
		if err := produceToLeaders(probes, topic); err != nil {
			t.Errorf("%s: %v", topic, err)
		}
		dresp, err := adm.DeleteTopic(ctx, topic)
		if err == nil {
			err = dresp.Err
		}
		if err != nil {
			t.Fatalf("delete %s: %v", topic, err)
		}
		for i, lag := range waitAll(t, probes, topic, 0, false) {
			deleteLags = append(deleteLags, lag)
			if lag > 100*time.Millisecond {
				t.Logf("%v into the soak: broker %d still listed %s %v after DeleteTopics answered", time.Since(start).Round(time.Second), probes[i].id, topic, lag)
			}
		}
		probesRun++
	}
	churn.Wait()
	close(churnErrs)
	for err := range churnErrs {
		t.Errorf("churn: %v", err)
	}
	c.AssertAlive(t)

	slices.Sort(createLags)
	slices.Sort(deleteLags)
	t.Logf("%d MB written meanwhile", written>>20)
	t.Logf("%d probe topics, %d churn topics with groups; lag after CreateTopics answered: p50 %v p99 %v max %v; after DeleteTopics: p50 %v p99 %v max %v",
		probesRun, churned[0]+churned[1], pct(createLags, 50), pct(createLags, 99), pct(createLags, 100),
		pct(deleteLags, 50), pct(deleteLags, 99), pct(deleteLags, 100))
	if probesRun < 3 {
		t.Fatalf("only %d probe topics in %v", probesRun, soak)
	}
	// Kafka's bound: the answer comes after the change is in the answering broker's metadata,
	// and the UpdateMetadata to the others went out at the same moment.
	const bound = 500 * time.Millisecond
	if m := pct(createLags, 100); m > bound {
		t.Errorf("a broker listed a new topic %v after CreateTopics answered (bound %v)", m, bound)
	}
	if m := pct(deleteLags, 100); m > bound {
		t.Errorf("a broker listed a deleted topic %v after DeleteTopics answered (bound %v)", m, bound)
	}
}

// waitAll watches every broker at once, from now, until each lists topic with leaders
// (present) or no longer lists it, answering each broker's lag.
func waitAll(t *testing.T, probes []*metadataProbe, topic string, partitions int, present bool) []time.Duration {
	t.Helper()
	since := time.Now()
	lags := make([]time.Duration, len(probes))
	errs := make([]error, len(probes))
	var wg sync.WaitGroup
	for i, p := range probes {
		wg.Add(1)
		go func() {
			defer wg.Done()
			lags[i], errs[i] = p.waitFor(topic, partitions, present, since, 30*time.Second)
		}()
	}
	wg.Wait()
	for i, err := range errs {
		if err != nil {
			t.Fatalf("broker %d, topic %s (present %v): %v", probes[i].id, topic, present, err)
		}
	}
	return lags
}

func pct(sorted []time.Duration, p int) time.Duration {
	if len(sorted) == 0 {
		return 0
	}
	i := (len(sorted)*p + 99) / 100
	return sorted[max(0, min(len(sorted)-1, i-1))]
}

// churnOnce does what a client test suite does with one topic: create it, produce to it,
// consume it in a new group, commit, delete the topic.
func churnOnce(ctx context.Context, t *testing.T, c *Cluster, adm *kadm.Client, topic string) error {
	resp, err := adm.CreateTopic(ctx, int32(1+rand.IntN(4)), int16(1+rand.IntN(3)), nil, topic)
	if err == nil {
		err = resp.Err
	}
	if err != nil {
		return fmt.Errorf("create %s: %w", topic, err)
	}
	cl, err := kgo.NewClient(append(c.clientOpts(t), kgo.DefaultProduceTopic(topic),
		kgo.ConsumeTopics(topic), kgo.ConsumerGroup("g-"+topic), kgo.ConsumeResetOffset(kgo.NewOffset().AtStart()),
		kgo.FetchMaxWait(200*time.Millisecond))...)
	if err != nil {
		return err
	}
	defer cl.Close()
	const n = 20
	for i := range n {
		cl.Produce(ctx, &kgo.Record{Value: fmt.Appendf(nil, "%s-%d", topic, i)}, nil)
	}
	if err := cl.Flush(ctx); err != nil {
		return fmt.Errorf("produce to %s: %w", topic, err)
	}
	pctx, pcancel := context.WithTimeout(ctx, 30*time.Second)
	defer pcancel()
	for got := 0; got < n; {
		fs := cl.PollFetches(pctx)
		if err := pctx.Err(); err != nil {
			return fmt.Errorf("consume %s: %d of %d records: %w", topic, got, n, err)
		}
		got += fs.NumRecords()
	}
	if err := cl.CommitUncommittedOffsets(ctx); err != nil {
		return fmt.Errorf("commit g-%s: %w", topic, err)
	}
	cl.Close()
	dresp, err := adm.DeleteTopic(ctx, topic)
	if err == nil {
		err = dresp.Err
	}
	if err != nil {
		return fmt.Errorf("delete %s: %w", topic, err)
	}
	return nil
}

// metadataProbe asks one broker, and only it, for Metadata.
type metadataProbe struct {
	id   int32
	addr string
	raw  *RawConn
}

func newMetadataProbe(id int32, addr string) (*metadataProbe, error) {
	raw, err := DialRaw(addr)
	if err != nil {
		return nil, err
	}
	return &metadataProbe{id: id, addr: addr, raw: raw}, nil
}

func (p *metadataProbe) Close() { p.raw.Close() }

// leaders answers the broker's view of topic: each partition's leader, or nil if the broker
// does not list the topic.
func (p *metadataProbe) leaders(topic string) (map[int32]int32, error) {
	req := kmsg.NewPtrMetadataRequest()
	req.SetVersion(9)
	rt := kmsg.NewMetadataRequestTopic()
	rt.Topic = kmsg.StringPtr(topic)
	req.Topics = append(req.Topics, rt)
	resp, err := p.raw.Request(req, 5*time.Second)
	if err != nil {
		return nil, err
	}
	mt := resp.(*kmsg.MetadataResponse).Topics[0]
	if errors.Is(kerr.ErrorForCode(mt.ErrorCode), kerr.UnknownTopicOrPartition) {
		return nil, nil
	}
	if mt.ErrorCode != 0 && mt.ErrorCode != kerr.LeaderNotAvailable.Code {
		return nil, kerr.ErrorForCode(mt.ErrorCode)
	}
	out := map[int32]int32{}
	for _, mp := range mt.Partitions {
		out[mp.Partition] = mp.Leader
	}
	return out, nil
}

// waitFor polls until the broker lists topic with a leader for each of its partitions
// (present) or does not list it (!present), answering how long after since that took.
func (p *metadataProbe) waitFor(topic string, partitions int, present bool, since time.Time, timeout time.Duration) (time.Duration, error) {
	deadline := time.Now().Add(timeout)
	for {
		ls, err := p.leaders(topic)
		if err != nil {
			return 0, err
		}
		done := ls == nil
		if present {
			done = len(ls) == partitions
			for _, l := range ls {
				done = done && l >= 0
			}
		}
		if done {
			return time.Since(since), nil
		}
		if time.Now().After(deadline) {
			return 0, fmt.Errorf("still %v after %v", ls, timeout)
		}
		time.Sleep(2 * time.Millisecond)
	}
}

// produceToLeaders sends one acks=1 record to each partition of topic at the broker that
// the first probe names its leader.
func produceToLeaders(probes []*metadataProbe, topic string) error {
	ls, err := probes[0].leaders(topic)
	if err != nil {
		return err
	}
	for part, leader := range ls {
		i := slices.IndexFunc(probes, func(p *metadataProbe) bool { return p.id == leader })
		if i < 0 {
			return fmt.Errorf("partition %d: leader %d is not a broker of the cluster", part, leader)
		}
		req := kmsg.NewPtrProduceRequest()
		req.SetVersion(9)
		req.Acks, req.TimeoutMillis = 1, 10000
		rt := kmsg.NewProduceRequestTopic()
		rt.Topic = topic
		rp := kmsg.NewProduceRequestTopicPartition()
		rp.Partition = part
		rp.Records = EncodeBatch(time.Now(), []byte("probe"))
		rt.Partitions = append(rt.Partitions, rp)
		req.Topics = append(req.Topics, rt)
		resp, err := probes[i].raw.Request(req, 15*time.Second)
		if err != nil {
			return err
		}
		if code := resp.(*kmsg.ProduceResponse).Topics[0].Partitions[0].ErrorCode; code != 0 {
			return fmt.Errorf("produce to partition %d at its leader %d: %v", part, leader, kerr.ErrorForCode(code))
		}
	}
	return nil
}

// heavyWriter produces 1 KB records to an RF 3 topic with small segments and a retention cap
// until end, as fast as the cluster takes them (a capped writer, 40 or 80 MB/s here, left
// too few dirty pages to show the stalls), answering the bytes it wrote.
func heavyWriter(ctx context.Context, t *testing.T, c *Cluster, end time.Time) int64 {
	topic := "soak-writes"
	segment, retention := "16777216", "67108864"
	c.CreateTopic(t, topic, 6, 3, map[string]*string{"segment.bytes": &segment, "retention.bytes": &retention})
	cl, err := kgo.NewClient(append(c.clientOpts(t), kgo.DefaultProduceTopic(topic), kgo.ProducerLinger(5*time.Millisecond))...)
	if err != nil {
		t.Error(err)
		return 0
	}
	defer cl.Close()
	value := make([]byte, 1024)
	var written int64
	for time.Now().Before(end) && ctx.Err() == nil {
		for range 1000 {
			cl.Produce(ctx, &kgo.Record{Value: value}, nil)
		}
		if err := cl.Flush(ctx); err != nil {
			t.Errorf("heavy writer: %v", err)
			return written
		}
		written += 1000 * int64(len(value))
	}
	return written
}
