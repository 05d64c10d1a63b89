package integration

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kgo"
)

// Racks as Kafka: each broker registers its broker.rack in /brokers/ids/<id>, a new topic's
// replicas are spread over the racks (AdminUtils' rack-aware assignment), and with
// replica.selector.class = RackAwareReplicaSelector a consumer with a client.rack reads from
// the in-sync replica in its rack, a follower, instead of the leader (KIP-392). Four brokers
// in two racks, so that a rack-unaware assignment would put some partitions' two replicas in
// one rack.
func TestRacks(t *testing.T) {
	racks := map[int32]string{1: "r1", 2: "r1", 3: "r2", 4: "r2"}
	opts := []Option{Brokers(4), BrokerConfig("replica.selector.class", "org.apache.kafka.common.replica.RackAwareReplicaSelector")}
	for id, r := range racks {
		opts = append(opts, BrokerConfigFor(id, "broker.rack", r))
	}
	c := NewCluster(t, opts...)
	for id, r := range racks {
		data, _ := c.ZKGet(t, fmt.Sprintf("/brokers/ids/%d", id))
		var reg struct {
			Rack string `json:"rack"`
		}
		if err := json.Unmarshal(data, &reg); err != nil || reg.Rack != r {
			t.Fatalf("/brokers/ids/%d: rack %q (%v), want %q: %s", id, reg.Rack, err, r, data)
		}
	}

	topic := topicName(t, "racks")
	c.CreateTopic(t, topic, 8, 2, nil)
	waitFullISR(t, c, topic, 8)
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	md, err := c.Admin(t).Metadata(ctx, topic)
	if err != nil {
		t.Fatal(err)
	}
	// Each partition has one replica in each rack; pick one led from rack r1.
	var target int32 = -1
	var follower int32
	for _, p := range md.Topics[topic].Partitions {
		if len(p.Replicas) != 2 || racks[p.Replicas[0]] == racks[p.Replicas[1]] {
			t.Fatalf("partition %d: replicas %v are not in two racks", p.Partition, p.Replicas)
		}
		if target < 0 && racks[p.Leader] == "r1" {
			target = p.Partition
			for _, r := range p.Replicas {
				if r != p.Leader {
					follower = r
				}
			}
		}
	}
	if target < 0 {
		t.Fatal("no partition is led from rack r1")
	}
	leader := md.Topics[topic].Partitions[target].Leader

	const n, size = 200, 1000 // 200 KB, well above what metadata and offsets cost
	p := c.Client(t, kgo.DefaultProduceTopic(topic), kgo.RecordPartitioner(kgo.ManualPartitioner()), kgo.ProducerBatchCompression(kgo.NoCompression()))
	for i := 0; i < n; i++ {
		v := fmt.Appendf(nil, "%d ", i)
		p.Produce(ctx, &kgo.Record{Partition: target, Value: append(v, bytes.Repeat([]byte("x"), size-len(v))...)}, nil)
	}
	if err := p.Flush(ctx); err != nil {
		t.Fatal(err)
	}

	// A consumer in rack r2 is sent to the follower, which serves every record.
	servedBy := map[int32]int{}
	hook := fetchHook(func(node int32, records int) { servedBy[node] += records })
	cl := c.Client(t, kgo.Rack("r2"), kgo.WithHooks(hook),
		kgo.ConsumePartitions(map[string]map[int32]kgo.Offset{topic: {target: kgo.NewOffset().AtStart()}}))
	got := 0
	for got < n && ctx.Err() == nil {
		fs := cl.PollFetches(ctx)
		for _, e := range fs.Errors() {
			t.Fatalf("fetch: %v", e.Err)
		}
		got += fs.NumRecords()
	}
	fetchHookMu.Lock()
	defer fetchHookMu.Unlock()
	t.Logf("MEASURE consumer with client.rack r2 read %d records of partition %d (leader %d in r1): by broker %v", got, target, leader, servedBy)
	if servedBy[follower] != n || servedBy[leader] != 0 {
		t.Fatalf("records served by broker %v, want all %d by the follower %d in rack r2", servedBy, n, follower)
	}

	// librdkafka (confluent-kafka-python) too, by its own statistics of the bytes it received
	// from each broker: in rack r2 from the follower, in rack r1 from the leader.
	script, err := filepath.Abs(filepath.Join("testdata", "confluent_rack.py"))
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		rack         string
		server, idle int32
	}{{"r2", follower, leader}, {"r1", leader, follower}} {
		out := runTool(t, 120*time.Second, "", "/usr/bin/python3", script, c.BootstrapServers(), topic, fmt.Sprint(target), tc.rack, fmt.Sprint(n))
		var res struct {
			Read    int              `json:"read"`
			Errors  []string         `json:"errors"`
			RxBytes map[string]int64 `json:"rxbytes"`
		}
		if err := json.Unmarshal([]byte(out), &res); err != nil {
			t.Fatalf("confluent_rack.py printed no JSON result: %v\n%s", err, out)
		}
		server, idle := res.RxBytes[fmt.Sprint(tc.server)], res.RxBytes[fmt.Sprint(tc.idle)]
		t.Logf("MEASURE librdkafka with client.rack %s read %d records of partition %d: bytes received by broker %v", tc.rack, res.Read, target, res.RxBytes)
		if res.Read != n || len(res.Errors) > 0 {
			t.Fatalf("librdkafka in rack %s read %d of %d records, errors %v", tc.rack, res.Read, n, res.Errors)
		}
		if server < n*size || idle > n*size/4 {
			t.Fatalf("librdkafka in rack %s received %d bytes from broker %d and %d from broker %d: want the %d KB of records from broker %d",
				tc.rack, server, tc.server, idle, tc.idle, n*size/1000, tc.server)
		}
	}

	// A consumer in the leader's rack, and one without a rack, read from the leader.
	for _, rack := range []string{"r1", ""} {
		servedBy := map[int32]int{}
		hook := fetchHook(func(node int32, records int) { servedBy[node] += records })
		opts := []kgo.Opt{kgo.WithHooks(hook), kgo.ConsumePartitions(map[string]map[int32]kgo.Offset{topic: {target: kgo.NewOffset().AtStart()}})}
		if rack != "" {
			opts = append(opts, kgo.Rack(rack))
		}
		fetchHookMu.Unlock()
		cl := c.Client(t, opts...)
		got := 0
		for got < n && ctx.Err() == nil {
			got += cl.PollFetches(ctx).NumRecords()
		}
		fetchHookMu.Lock()
		if servedBy[leader] != n {
			t.Fatalf("client.rack %q: records served by %v, want all by the leader %d", rack, servedBy, leader)
		}
	}
}

// fetchHook counts the records of each fetched batch by the broker that served it; franz-go
// calls it from its fetch goroutines.
type fetchHook func(node int32, records int)

var fetchHookMu sync.Mutex

func (f fetchHook) OnFetchBatchRead(meta kgo.BrokerMetadata, _ string, _ int32, m kgo.FetchBatchMetrics) {
	fetchHookMu.Lock()
	defer fetchHookMu.Unlock()
	f(meta.NodeID, m.NumRecords)
}
