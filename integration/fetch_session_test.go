package integration

import (
	"context"
	"strconv"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kgo"
	"github.com/twmb/franz-go/pkg/kmsg"
)

// TestFetchSessions: fetch sessions (KIP-227) as Kafka's leader keeps them. A full fetch
// with epoch 0 opens a session; an incremental fetch that names nothing answers only the
// partitions with news (here the one a record was produced to); an epoch out of step, an
// unknown session and epoch -1 behave as in Kafka. The followers of an RF 3 topic hold
// sessions at its leader, and franz-go consumes through one.
func TestFetchSessions(t *testing.T) {
	c := NewCluster(t, Brokers(3), ClassroomBrokers())
	topic := topicName(t, "sessions")
	c.CreateTopic(t, topic, 3, 3, nil)
	c.WaitForFullISR(t, 60*time.Second)
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	md, err := c.Admin(t).Metadata(ctx, topic)
	if err != nil {
		t.Fatal(err)
	}
	// The partitions led by the broker of partition 0.
	leader := md.Topics[topic].Partitions[0].Leader
	var led []int32
	for _, p := range md.Topics[topic].Partitions {
		if p.Leader == leader {
			led = append(led, p.Partition)
		}
	}
	raw, err := DialRaw(c.brokerByID(leader).Addr())
	if err != nil {
		t.Fatal(err)
	}
	defer raw.Close()
	fetch := func(id, epoch int32, parts []int32) *kmsg.FetchResponse {
		t.Helper()
		r := kmsg.NewPtrFetchRequest()
		r.SetVersion(12)
		r.ReplicaID, r.MaxWaitMillis, r.MinBytes, r.MaxBytes = -1, 200, 1, 1<<20
		r.SessionID, r.SessionEpoch = id, epoch
		if len(parts) > 0 {
			rt := kmsg.NewFetchRequestTopic()
			rt.Topic = topic
			for _, p := range parts {
				rp := kmsg.NewFetchRequestTopicPartition()
				rp.Partition, rp.PartitionMaxBytes = p, 1<<20
				rt.Partitions = append(rt.Partitions, rp)
			}
			r.Topics = append(r.Topics, rt)
		}
		resp, err := raw.Request(r, 10*time.Second)
		if err != nil {
			t.Fatal(err)
		}
		return resp.(*kmsg.FetchResponse)
	}
	partitionsOf := func(resp *kmsg.FetchResponse) map[int32]int {
		out := map[int32]int{}
		for _, rt := range resp.Topics {
			for _, sp := range rt.Partitions {
				out[sp.Partition] = len(sp.RecordBatches)
			}
		}
		return out
	}

	full := fetch(0, 0, led)
	if full.ErrorCode != 0 || full.SessionID <= 0 || len(partitionsOf(full)) != len(led) {
		t.Fatalf("full fetch: error %v, session %d, partitions %v (want all of %v)", kerr.ErrorForCode(full.ErrorCode), full.SessionID, partitionsOf(full), led)
	}
	id := full.SessionID
	if got := partitionsOf(fetch(id, 1, nil)); len(got) != 0 {
		t.Fatalf("incremental fetch with nothing new answered %v", got)
	}
	p := c.Client(t, kgo.DefaultProduceTopic(topic), kgo.RecordPartitioner(kgo.ManualPartitioner()))
	if err := p.ProduceSync(ctx, &kgo.Record{Partition: led[0], Value: []byte("news")}).FirstErr(); err != nil {
		t.Fatal(err)
	}
	got := partitionsOf(fetch(id, 2, nil))
	if len(got) != 1 || got[led[0]] == 0 {
		t.Fatalf("after a record to partition %d the session answered %v, want only that partition with its record", led[0], got)
	}
	if resp := fetch(id, 2, nil); resp.ErrorCode != kerr.InvalidFetchSessionEpoch.Code {
		t.Fatalf("a repeated epoch: %v, want INVALID_FETCH_SESSION_EPOCH", kerr.ErrorForCode(resp.ErrorCode))
	}
	if resp := fetch(id+1, 1, nil); resp.ErrorCode != kerr.FetchSessionIDNotFound.Code {
		t.Fatalf("an unknown session: %v, want FETCH_SESSION_ID_NOT_FOUND", kerr.ErrorForCode(resp.ErrorCode))
	}
	if resp := fetch(id, -1, led); resp.ErrorCode != 0 || resp.SessionID != 0 || len(partitionsOf(resp)) != len(led) {
		t.Fatalf("epoch -1: session %d, %v, want a sessionless full answer", resp.SessionID, partitionsOf(resp))
	}
	if resp := fetch(id, 3, nil); resp.ErrorCode != kerr.FetchSessionIDNotFound.Code {
		t.Fatalf("the session closed by epoch -1: %v, want FETCH_SESSION_ID_NOT_FOUND", kerr.ErrorForCode(resp.ErrorCode))
	}

	// franz-go consumes everything through a session; the followers keep sessions too.
	const n = 300
	for i := 0; i < n; i++ {
		p.Produce(ctx, &kgo.Record{Partition: int32(i % 3), Value: []byte(strconv.Itoa(i))}, nil)
	}
	if err := p.Flush(ctx); err != nil {
		t.Fatal(err)
	}
	cl := c.Client(t, kgo.ConsumeTopics(topic), kgo.ConsumeResetOffset(kgo.NewOffset().AtStart()))
	read := 0
	for read < n+1 && ctx.Err() == nil {
		fs := cl.PollFetches(ctx)
		if errs := fs.Errors(); len(errs) > 0 {
			t.Fatalf("consume: %v", errs[0].Err)
		}
		read += fs.NumRecords()
	}
	if read != n+1 {
		t.Fatalf("franz-go read %d of %d records", read, n+1)
	}
	sessions := scrapeMetrics(t, c, leader)["kafka_server_fetchsessioncache_numincrementalfetchsessions"]
	// Two followers, and the consumer's session if partition 0's leader serves it.
	if sessions < 2 {
		t.Fatalf("broker %d holds %v fetch sessions, want one per follower at least", leader, sessions)
	}
	t.Logf("broker %d holds %v fetch sessions", leader, sessions)
}
