package integration

import (
	"context"
	"crypto/rand"
	"strings"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kgo"
)

// TestReassignThrottle: `klassik reassign-partitions --execute --throttle` as Kafka's tool:
// it sets leader/follower.replication.throttled.rate on the brokers the plan moves between
// and leader/follower.replication.throttled.replicas on the topic, the brokers hold the new
// replica's catch-up to that rate (as a leader and as a follower), and --verify clears
// every throttle once the reassignment is done. The same move without a throttle is timed
// next to it. The brokers sample replication rates over 2 windows of a second (Kafka's 11
// would let the first ten seconds' worth through at once).
func TestReassignThrottle(t *testing.T) {
	c := NewCluster(t, Brokers(2), BrokerConfig("replication.quota.window.num", 2))
	const mb, rate = 6, 1_000_000 // 6 MB to copy at 1 MB/s
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	fill := func(topic string) {
		createTopicAssigned(t, c, topic, [][]int32{{1}})
		p := c.Client(t, kgo.DefaultProduceTopic(topic), kgo.ProducerBatchCompression(kgo.NoCompression()))
		for i := 0; i < mb*1000; i++ {
			v := make([]byte, 1000)
			_, _ = rand.Read(v)
			p.Produce(ctx, &kgo.Record{Value: v}, nil)
		}
		if err := p.Flush(ctx); err != nil {
			t.Fatal(err)
		}
	}
	move := func(topic string, args ...string) (time.Duration, string, string) {
		plan := map[int32][]int32{0: {1, 2}}
		file, _ := writePlan(t, plan, topic)
		start := time.Now()
		out, errOut, code := reassignTool(t, c, append([]string{"--execute", "--reassignment-json-file", file}, args...)...)
		if code != 0 {
			t.Fatalf("--execute %v: exit %d\n%s%s", args, code, out, errOut)
		}
		waitReassigned(t, c, topic, plan, 2*time.Minute)
		return time.Since(start), out, file
	}

	fill("unthrottled")
	free, _, _ := move("unthrottled")
	fill("throttled")
	adm := c.Admin(t)
	slow, out, file := move("throttled", "--throttle", "1000000")
	t.Logf("MEASURE reassignment of %d MB onto a new replica: %v without a throttle, %v with --throttle %d (%.2f MB/s)",
		mb, free.Round(time.Millisecond), slow.Round(time.Millisecond), rate, float64(mb)/slow.Seconds())
	for _, line := range []string{
		"Warning: You must run --verify periodically, until the reassignment completes, to ensure the throttle is removed.\n",
		"The inter-broker throttle limit was set to 1000000 B/s\n",
		"Successfully started partition reassignment for throttled-0\n",
	} {
		if !strings.Contains(out, line) {
			t.Errorf("--execute --throttle lacks %q:\n%s", line, out)
		}
	}
	// At 1 MB/s, less the one window the rate lets through at first, 6 MB take about 5 s.
	if slow < 3500*time.Millisecond || slow < 3*free {
		t.Fatalf("throttled to 1 MB/s, %d MB moved in %v (unthrottled %v)", mb, slow, free)
	}

	// The throttles as the tool set them, then cleared by --verify.
	topicCfg := func() map[string]string {
		rcs, err := adm.DescribeTopicConfigs(ctx, "throttled")
		if err != nil {
			t.Fatal(err)
		}
		got := map[string]string{}
		for _, c := range rcs[0].Configs {
			if c.Source == 1 && c.Value != nil { // DYNAMIC_TOPIC_CONFIG
				got[c.Key] = *c.Value
			}
		}
		return got
	}
	brokerCfg := func(id int32) map[string]string {
		rcs, err := adm.DescribeBrokerConfigs(ctx, id)
		if err != nil {
			t.Fatal(err)
		}
		got := map[string]string{}
		for _, c := range rcs[0].Configs {
			if c.Source == 2 && c.Value != nil { // DYNAMIC_BROKER_CONFIG
				got[c.Key] = *c.Value
			}
		}
		return got
	}
	if tc := topicCfg(); tc["leader.replication.throttled.replicas"] != "0:1" || tc["follower.replication.throttled.replicas"] != "0:2" {
		t.Fatalf("topic throttles after --execute: %v", tc)
	}
	for _, id := range []int32{1, 2} {
		if bc := brokerCfg(id); bc["leader.replication.throttled.rate"] != "1000000" || bc["follower.replication.throttled.rate"] != "1000000" {
			t.Fatalf("broker %d throttles after --execute: %v", id, bc)
		}
	}
	out, errOut, code := reassignTool(t, c, "--verify", "--reassignment-json-file", file)
	if want := "Status of partition reassignment:\nReassignment of partition throttled-0 is completed.\n\n" +
		"Clearing broker-level throttles on brokers 1,2\nClearing topic-level throttles on topic throttled\n"; code != 0 || out != want {
		t.Fatalf("--verify: exit %d\n%s%s\nwant:\n%s", code, out, errOut, want)
	}
	if tc := topicCfg(); len(tc) != 0 {
		t.Fatalf("topic configs after --verify: %v", tc)
	}
	for _, id := range []int32{1, 2} {
		if bc := brokerCfg(id); bc["leader.replication.throttled.rate"] != "" || bc["follower.replication.throttled.rate"] != "" {
			t.Fatalf("broker %d throttles after --verify: %v", id, bc)
		}
	}
}
