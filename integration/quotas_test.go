package integration

import (
	"bufio"
	"context"
	"crypto/rand"
	"encoding/json"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kgo"
	"github.com/twmb/franz-go/pkg/kmsg"
)

// Client quotas as Kafka's ClientQuotaManager in ZooKeeper mode: klassik configs (Kafka's
// kafka-configs.sh) sets producer_byte_rate for client id "slow" through AlterClientQuotas,
// which writes /config/clients/slow with Kafka's JSON and a change notification; the broker
// leading the topic, not the one the tool talked to, applies it without a restart. A franz-go
// producer "slow" is then held to its quota (within 20%) by throttle_time_ms and a muted
// connection (KIP-219) while "fast" beside it is not; consumer_byte_rate holds a consumer
// likewise; DescribeClientQuotas answers what was set; the quota metrics carry Kafka's
// names; and removing the quota lets "slow" run free at once.
//
// The brokers sample with quota.window.num = 2 (one whole 1 s window and the current one).
// With Kafka's default of 11, a client may first use ten windows' worth at once, and that
// burst rolls out of the samples 11 s later, so over an 8 s run its rate swings far from
// the quota even though its long-run average is the quota (broker/quota's
// TestThrottledClientConvergesToQuota shows both).
func TestClientQuotas(t *testing.T) {
	c := NewCluster(t, Brokers(2), BrokerConfig("quota.window.num", 2), BrokerConfig("metrics.listener", "127.0.0.1:0"))
	ctx, cancel := context.WithTimeout(context.Background(), 4*time.Minute)
	defer cancel()
	const quota = 200 * 1024 // producer_byte_rate and consumer_byte_rate, B/s
	topic := topicName(t, "quota")
	createOn(t, ctx, c, topic, 2) // led by broker 2; the tool talks to broker 1 only
	broker1 := c.Brokers()[0].Addr()
	configs := func(args ...string) string {
		return runTool(t, 60*time.Second, "", klassikBin, append([]string{"configs", "--bootstrap-server", broker1}, args...)...)
	}

	out := configs("--alter", "--entity-type", "clients", "--entity-name", "slow", "--add-config", "producer_byte_rate="+strconv.Itoa(quota))
	if out != "Completed updating config for client slow.\n" {
		t.Fatalf("configs --alter: %q", out)
	}
	if data, _ := c.ZKGet(t, "/config/clients/slow"); string(data) != `{"version":1,"config":{"producer_byte_rate":"204800"}}` {
		t.Fatalf("/config/clients/slow = %s", data)
	}
	if !hasConfigChange(t, c, "clients/slow") {
		t.Fatal("no /config/changes notification for clients/slow")
	}
	if out := configs("--describe", "--entity-type", "clients", "--entity-name", "slow"); out != "Quota configs for client-id 'slow' are producer_byte_rate=204800.0\n" {
		t.Fatalf("configs --describe: %q", out)
	}
	if out := configs("--describe", "--entity-type", "clients"); out != "Quota configs for client-id 'slow' are producer_byte_rate=204800.0\n" {
		t.Fatalf("configs --describe of every client: %q", out)
	}
	// A value that is not a LONG is refused with Kafka's message, and nothing is written.
	if msg := configsFail(t, c, "--alter", "--entity-type", "clients", "--entity-name", "slow", "--add-config", "producer_byte_rate=1.5"); !strings.Contains(msg, "Configuration producer_byte_rate must be a LONG value") {
		t.Fatalf("producer_byte_rate=1.5: %q", msg)
	}

	// DescribeClientQuotas, asked of the other broker.
	adm := kadm.NewClient(c.Client(t, kgo.SeedBrokers(c.Brokers()[1].Addr())))
	dq, err := adm.DescribeClientQuotas(ctx, true, []kadm.DescribeClientQuotaComponent{{Type: "client-id", MatchType: 0, MatchName: kmsg.StringPtr("slow")}})
	if err != nil || len(dq) != 1 || len(dq[0].Values) != 1 || dq[0].Values[0] != (kadm.ClientQuotaValue{Key: "producer_byte_rate", Value: quota}) ||
		len(dq[0].Entity) != 1 || dq[0].Entity[0].Type != "client-id" || *dq[0].Entity[0].Name != "slow" {
		t.Fatalf("DescribeClientQuotas client-id=slow: %+v %v", dq, err)
	}
	if dq, err := adm.DescribeClientQuotas(ctx, true, []kadm.DescribeClientQuotaComponent{{Type: "client-id", MatchType: 1}}); err != nil || len(dq) != 0 {
		t.Fatalf("DescribeClientQuotas of the default client id: %+v %v", dq, err)
	}

	// Side by side: "slow" is held to its quota and told so; "fast" runs at its own pace.
	var wg sync.WaitGroup
	var slow, fast producerRun
	wg.Add(2)
	go func() { defer wg.Done(); slow = runQuotaProducer(t, ctx, c, topic, "slow", 9*time.Second, 4<<20) }()
	go func() { defer wg.Done(); fast = runQuotaProducer(t, ctx, c, topic, "fast", 9*time.Second, 2<<20) }()
	wg.Wait()
	t.Logf("producer slow: %.0f B/s (quota %d), %d throttles, longest %v; fast: %.0f B/s, %d throttles",
		slow.rate, quota, slow.throttles, slow.longest, fast.rate, fast.throttles)
	if slow.rate < 0.8*quota || slow.rate > 1.2*quota {
		t.Errorf("slow produced %.0f B/s, not within 20%% of its quota %d B/s", slow.rate, quota)
	}
	if slow.throttles == 0 {
		t.Error("slow never saw throttle_time_ms > 0")
	}
	if fast.rate < 4*quota || fast.throttles != 0 {
		t.Errorf("fast produced %.0f B/s with %d throttles; want far above %d B/s, unthrottled", fast.rate, fast.throttles, quota)
	}
	m := scrapeMetrics(t, c, 2)
	// Kafka's measure right after a throttled request is above the quota (that is why it was
	// throttled), but nowhere near what fast, unthrottled, does.
	if v, ok := m[`kafka_server_produce_byte_rate{user="",client_id="slow"}`]; !ok || v <= 0 || v > 5*quota {
		t.Errorf("broker 2's produce byte-rate of slow: %v %v", v, ok)
	}
	if v, ok := m[`kafka_server_produce_throttle_time{user="",client_id="slow"}`]; !ok || !(v > 0) {
		t.Errorf("broker 2's produce throttle-time of slow: %v %v", v, ok)
	}
	if _, ok := m[`kafka_server_produce_byte_rate{user="",client_id="fast"}`]; !ok {
		t.Errorf("no produce byte-rate for fast on broker 2 (every client id is measured once client-id quotas exist)")
	}

	// consumer_byte_rate, set with AlterClientQuotas itself (validate_only first, which
	// writes nothing).
	slowc := kadm.ClientQuotaEntity{{Type: "client-id", Name: kmsg.StringPtr("slowc")}}
	set := []kadm.AlterClientQuotaEntry{{Entity: slowc, Ops: []kadm.AlterClientQuotaOp{{Key: "consumer_byte_rate", Value: quota}}}}
	if res, err := adm.ValidateAlterClientQuotas(ctx, set); err != nil || res[0].Err != nil {
		t.Fatalf("validate_only AlterClientQuotas: %+v %v", res, err)
	}
	if c.ZKExists(t, "/config/clients/slowc") {
		t.Fatal("validate_only wrote /config/clients/slowc")
	}
	if res, err := adm.AlterClientQuotas(ctx, set); err != nil || res[0].Err != nil {
		t.Fatalf("AlterClientQuotas: %+v %v", res, err)
	}
	if data, _ := c.ZKGet(t, "/config/clients/slowc"); string(data) != `{"version":1,"config":{"consumer_byte_rate":"204800"}}` {
		t.Fatalf("/config/clients/slowc = %s", data)
	}
	// Small fetches: a fetch the quota refuses is answered empty and its bytes unrecorded,
	// but the client still waits out a throttle that counted them (Kafka's getThrottledResponse
	// after unrecordQuotaSensor), so each refusal costs about one fetch's worth of time; with
	// fetches as large as the quota allows in a window (200 KiB here) a consumer gets only
	// half its quota, with 16 KiB ones within a few percent of it.
	sc := runQuotaConsumer(t, ctx, c, topic, "slowc", 9*time.Second, time.Second, 0, 16<<10)
	fc := runQuotaConsumer(t, ctx, c, topic, "fastc", 20*time.Second, 0, 4<<20, 0)
	t.Logf("consumer slowc: %.0f B/s (quota %d), %d throttles; fastc: %.0f B/s, %d throttles", sc.rate, quota, sc.throttles, fc.rate, fc.throttles)
	if sc.rate < 0.8*quota || sc.rate > 1.2*quota || sc.throttles == 0 {
		t.Errorf("slowc consumed %.0f B/s with %d throttles, want within 20%% of %d B/s, throttled", sc.rate, sc.throttles, quota)
	}
	if fc.rate < 4*quota || fc.throttles != 0 {
		t.Errorf("fastc consumed %.0f B/s with %d throttles; want far above %d B/s, unthrottled", fc.rate, fc.throttles, quota)
	}
	if v, ok := scrapeMetrics(t, c, 2)[`kafka_server_fetch_throttle_time{user="",client_id="slowc"}`]; !ok || !(v > 0) {
		t.Errorf("broker 2's fetch throttle-time of slowc: %v %v", v, ok)
	}

	// A (user, client id) quota: the nested znode, and kafka-configs.sh's words for it.
	out = configs("--alter", "--entity-type", "users", "--entity-name", "alice", "--entity-type", "clients", "--entity-default", "--add-config", "request_percentage=50")
	if out != "Completed updating config for user alice.\n" {
		t.Fatalf("configs --alter of <alice, default client>: %q", out)
	}
	if data, _ := c.ZKGet(t, "/config/users/alice/clients/<default>"); string(data) != `{"version":1,"config":{"request_percentage":"50.0"}}` {
		t.Fatalf("/config/users/alice/clients/<default> = %s", data)
	}
	if out := configs("--describe", "--entity-type", "users", "--entity-type", "clients"); out != "Quota configs for user-principal 'alice', the default client-id are request_percentage=50.0\n" {
		t.Fatalf("configs --describe of every <user, client>: %q", out)
	}

	// request_percentage: 1% of a handler thread for client id "busy"; a tight loop of
	// Metadata requests is told to wait, for at most one quota window (Kafka's
	// ClientRequestQuotaManager bounds request-time throttles by it).
	configs("--alter", "--entity-type", "clients", "--entity-name", "busy", "--add-config", "request_percentage=1")
	busy := c.Client(t, kgo.ClientID("busy"), kgo.SeedBrokers(c.Brokers()[1].Addr()))
	var throttle int32
	for deadline := time.Now().Add(20 * time.Second); throttle == 0 && time.Now().Before(deadline); {
		resp, err := kmsg.NewPtrMetadataRequest().RequestWith(ctx, busy)
		if err != nil {
			t.Fatal(err)
		}
		throttle = resp.ThrottleMillis
	}
	t.Logf("busy: Metadata throttled %d ms", throttle)
	if throttle <= 0 || throttle > 1000 {
		t.Errorf("Metadata of busy over request_percentage=1: throttle_time_ms %d, want in (0, 1000]", throttle)
	}

	// Removing the quota frees "slow" without a restart.
	if out := configs("--alter", "--entity-type", "clients", "--entity-name", "slow", "--delete-config", "producer_byte_rate"); out != "Completed updating config for client slow.\n" {
		t.Fatalf("configs --delete-config: %q", out)
	}
	if data, _ := c.ZKGet(t, "/config/clients/slow"); string(data) != `{"version":1,"config":{}}` {
		t.Fatalf("/config/clients/slow after the delete = %s", data)
	}
	freed := runQuotaProducer(t, ctx, c, topic, "slow", 5*time.Second, 2<<20)
	t.Logf("producer slow without its quota: %.0f B/s, %d throttles", freed.rate, freed.throttles)
	if freed.rate < 4*quota {
		t.Errorf("slow without its quota produced only %.0f B/s", freed.rate)
	}
	c.AssertAlive(t)
}

// createOn creates topic with one partition, its one replica on broker id.
func createOn(t *testing.T, ctx context.Context, c *Cluster, topic string, id int32) {
	t.Helper()
	req := kmsg.NewPtrCreateTopicsRequest()
	rt := kmsg.NewCreateTopicsRequestTopic()
	rt.Topic, rt.NumPartitions, rt.ReplicationFactor = topic, -1, -1
	ra := kmsg.NewCreateTopicsRequestTopicReplicaAssignment()
	ra.Partition, ra.Replicas = 0, []int32{id}
	rt.ReplicaAssignment = append(rt.ReplicaAssignment, ra)
	req.Topics = append(req.Topics, rt)
	resp, err := req.RequestWith(ctx, c.Client(t))
	if err != nil || resp.Topics[0].ErrorCode != 0 {
		t.Fatalf("creating %s on broker %d: %v %+v", topic, id, err, resp)
	}
	c.WaitForTopic(t, topic, 1)
}

// hasConfigChange reports whether a /config/changes notification names entityPath.
func hasConfigChange(t *testing.T, c *Cluster, entityPath string) bool {
	for _, kid := range c.ZKChildren(t, "/config/changes") {
		data, _ := c.ZKGet(t, "/config/changes/"+kid)
		var n struct {
			Version    int    `json:"version"`
			EntityPath string `json:"entity_path"`
		}
		if json.Unmarshal(data, &n) == nil && n.Version == 2 && n.EntityPath == entityPath {
			return true
		}
	}
	return false
}

// throttleHook counts the throttles a client is told of (kgo.HookBrokerThrottle).
type throttleHook struct {
	n       atomic.Int64
	longest atomic.Int64 // ms
}

func (h *throttleHook) OnBrokerThrottle(_ kgo.BrokerMetadata, d time.Duration, _ bool) {
	if d > 0 {
		h.n.Add(1)
		if ms := d.Milliseconds(); ms > h.longest.Load() {
			h.longest.Store(ms)
		}
	}
}

type producerRun struct {
	rate      float64 // value bytes acknowledged per second, after the first second
	throttles int64
	longest   time.Duration
}

// runQuotaProducer produces 1 KiB records as clientID for d, offering at most pace B/s, in
// uncompressed batches of at most 16 KiB, and measures the bytes acknowledged from 1 s
// after the start to d.
func runQuotaProducer(t *testing.T, ctx context.Context, c *Cluster, topic, clientID string, d time.Duration, pace float64) producerRun {
	hook := &throttleHook{}
	cl := c.Client(t, kgo.ClientID(clientID), kgo.DefaultProduceTopic(topic), kgo.WithHooks(hook),
		kgo.ProducerBatchMaxBytes(16<<10), kgo.ProducerBatchCompression(kgo.NoCompression()), kgo.MaxBufferedRecords(64),
		kgo.RecordDeliveryTimeout(d+30*time.Second))
	value := make([]byte, 1024)
	_, _ = rand.Read(value)
	const skip = time.Second
	start := time.Now()
	pctx, stop := context.WithDeadline(ctx, start.Add(d)) // unsent records fail at the end
	defer stop()
	var acked atomic.Int64
	tick := time.NewTicker(10 * time.Millisecond)
	defer tick.Stop()
	perTick := int(pace / 100 / float64(len(value)))
	for pctx.Err() == nil {
		for i := 0; i < perTick && pctx.Err() == nil; i++ {
			cl.Produce(pctx, &kgo.Record{Value: value}, func(r *kgo.Record, err error) {
				if at := time.Since(start); err == nil && at >= skip && at < d {
					acked.Add(int64(len(r.Value)))
				}
			})
		}
		select {
		case <-tick.C:
		case <-pctx.Done():
		}
	}
	fctx, fcancel := context.WithTimeout(ctx, 30*time.Second)
	defer fcancel()
	if err := cl.Flush(fctx); err != nil {
		t.Fatalf("%s: flushing: %v", clientID, err)
	}
	return producerRun{float64(acked.Load()) / (d - skip).Seconds(), hook.n.Load(), time.Duration(hook.longest.Load()) * time.Millisecond}
}

// runQuotaConsumer consumes topic from the start as clientID for d, or until it has limit
// bytes (0: no limit), fetching at most fetchMax bytes at once (0: franz-go's defaults), and
// measures the value bytes consumed per second after skip.
func runQuotaConsumer(t *testing.T, ctx context.Context, c *Cluster, topic, clientID string, d, skip time.Duration, limit int64, fetchMax int32) producerRun {
	hook := &throttleHook{}
	opts := []kgo.Opt{kgo.ClientID(clientID), kgo.ConsumeTopics(topic), kgo.WithHooks(hook),
		kgo.ConsumeResetOffset(kgo.NewOffset().AtStart())}
	if fetchMax > 0 {
		opts = append(opts, kgo.FetchMaxBytes(fetchMax), kgo.FetchMaxPartitionBytes(fetchMax))
	}
	cl := c.Client(t, opts...)
	start := time.Now()
	pctx, stop := context.WithDeadline(ctx, start.Add(d))
	defer stop()
	var got, total int64
	end := d
	for pctx.Err() == nil && (limit == 0 || total < limit) {
		fs := cl.PollFetches(pctx)
		at := time.Since(start)
		fs.EachRecord(func(r *kgo.Record) {
			total += int64(len(r.Value))
			if at >= skip && at < d {
				got += int64(len(r.Value))
			}
		})
		if limit > 0 && total >= limit {
			end = at
		}
	}
	if end <= skip || end == 0 {
		t.Fatalf("%s: done after %v, before the measurement began", clientID, end)
	}
	return producerRun{rate: float64(got) / (end - skip).Seconds(), throttles: hook.n.Load()}
}

// scrapeMetrics reads broker id's /metrics (on the port it registered as jmx_port) as a map
// from series ("name{labels}") to value.
func scrapeMetrics(t *testing.T, c *Cluster, id int32) map[string]float64 {
	t.Helper()
	data, _ := c.ZKGet(t, fmt.Sprintf("/brokers/ids/%d", id))
	var reg struct {
		JMXPort int `json:"jmx_port"`
	}
	if err := json.Unmarshal(data, &reg); err != nil || reg.JMXPort <= 0 {
		t.Fatalf("broker %d registration %q: no metrics port (%v)", id, data, err)
	}
	resp, err := http.Get(fmt.Sprintf("http://127.0.0.1:%d/metrics", reg.JMXPort))
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	out := map[string]float64{}
	sc := bufio.NewScanner(resp.Body)
	for sc.Scan() {
		line := sc.Text()
		if strings.HasPrefix(line, "#") {
			continue
		}
		i := strings.LastIndexByte(line, ' ')
		if i < 0 {
			continue
		}
		if v, err := strconv.ParseFloat(line[i+1:], 64); err == nil {
			out[line[:i]] = v
		}
	}
	return out
}
