package integration

import (
	"context"
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kgo"
	"github.com/twmb/franz-go/pkg/kmsg"
)

// TestAutoCreateDisabled: with auto.create.topics.enable=false, Kafka answers a Produce to a
// topic that does not exist with UNKNOWN_TOPIC_OR_PARTITION (error code 3) for the partition,
// answers Metadata for it with the same error even when the client allows auto-creation, and
// creates nothing in ZooKeeper.
func TestAutoCreateDisabled(t *testing.T) {
	c := NewCluster(t, BrokerConfig("auto.create.topics.enable", false))
	topic := topicName(t, "missing")

	// A raw Produce v7 (acks=1) with one valid batch: the broker must answer, not close.
	conn, err := DialRaw(c.Broker(1).Addr())
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	req := kmsg.NewPtrProduceRequest()
	req.SetVersion(7)
	req.Acks = 1
	req.TimeoutMillis = 10000
	rt := kmsg.NewProduceRequestTopic()
	rt.Topic = topic
	rp := kmsg.NewProduceRequestTopicPartition()
	rp.Partition = 0
	rp.Records = EncodeBatch(time.Now(), []byte("to nowhere"))
	rt.Partitions = append(rt.Partitions, rp)
	req.Topics = append(req.Topics, rt)
	resp, err := conn.Request(req, 30*time.Second)
	if err != nil {
		t.Fatalf("produce to a missing topic: %v (the broker must answer with an error code, not close)", err)
	}
	pr := resp.(*kmsg.ProduceResponse)
	if len(pr.Topics) != 1 || pr.Topics[0].Topic != topic || len(pr.Topics[0].Partitions) != 1 {
		t.Fatalf("produce response %+v, want one topic %q with one partition", pr, topic)
	}
	if ec := pr.Topics[0].Partitions[0].ErrorCode; ec != kerr.UnknownTopicOrPartition.Code {
		t.Fatalf("produce to a missing topic: error code %d (%v), want 3 UNKNOWN_TOPIC_OR_PARTITION", ec, kerr.ErrorForCode(ec))
	}

	// Metadata asking for auto-creation: still unknown.
	mreq := kmsg.NewPtrMetadataRequest()
	mreq.SetVersion(9)
	mt := kmsg.NewMetadataRequestTopic()
	mt.Topic = kmsg.StringPtr(topic)
	mreq.Topics = append(mreq.Topics, mt)
	mreq.AllowAutoTopicCreation = true
	mresp, err := conn.Request(mreq, 30*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	md := mresp.(*kmsg.MetadataResponse)
	if len(md.Topics) != 1 || md.Topics[0].ErrorCode != kerr.UnknownTopicOrPartition.Code {
		t.Fatalf("metadata for a missing topic with auto-create off: %+v, want UNKNOWN_TOPIC_OR_PARTITION", md.Topics)
	}

	// franz-go's producer gives up after its unknown-topic retries with the same error.
	cl := c.Client(t, kgo.UnknownTopicRetries(1))
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	err = cl.ProduceSync(ctx, &kgo.Record{Topic: topic, Value: []byte("x")}).FirstErr()
	if !errors.Is(err, kerr.UnknownTopicOrPartition) {
		t.Fatalf("franz-go produce to a missing topic: %v, want UNKNOWN_TOPIC_OR_PARTITION", err)
	}

	if c.ZKExists(t, "/brokers/topics/"+topic) {
		t.Fatalf("%s was created with auto.create.topics.enable=false", c.Path("/brokers/topics/"+topic))
	}
}

// TestAutoCreateEnabled: with auto.create.topics.enable=true (Kafka's default), a Metadata
// request that allows auto-creation creates a missing topic with num.partitions partitions and
// default.replication.factor replicas (first answered with LEADER_NOT_AVAILABLE or
// UNKNOWN_TOPIC_OR_PARTITION until the partitions have leaders), and then it takes records.
func TestAutoCreateEnabled(t *testing.T) {
	const partitions = 4
	c := NewCluster(t, BrokerConfig("auto.create.topics.enable", true), BrokerConfig("num.partitions", partitions))
	topic := topicName(t, "auto")

	cl := c.Client(t)
	eventually(t, 30*time.Second, func() error {
		req := kmsg.NewPtrMetadataRequest()
		rt := kmsg.NewMetadataRequestTopic()
		rt.Topic = kmsg.StringPtr(topic)
		req.Topics = append(req.Topics, rt)
		req.AllowAutoTopicCreation = true
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		resp, err := req.RequestWith(ctx, cl)
		if err != nil {
			return err
		}
		if len(resp.Topics) != 1 {
			return fmt.Errorf("metadata returned %d topics", len(resp.Topics))
		}
		mt := resp.Topics[0]
		if err := kerr.ErrorForCode(mt.ErrorCode); err != nil {
			if !errors.Is(err, kerr.LeaderNotAvailable) && !errors.Is(err, kerr.UnknownTopicOrPartition) {
				t.Fatalf("auto-creating %q: %v, want LEADER_NOT_AVAILABLE until it is ready", topic, err)
			}
			return err
		}
		if len(mt.Partitions) != partitions {
			return fmt.Errorf("auto-created topic has %d partitions, want num.partitions=%d", len(mt.Partitions), partitions)
		}
		for _, p := range mt.Partitions {
			if p.Leader < 0 {
				return fmt.Errorf("partition %d has no leader yet", p.Partition)
			}
		}
		return nil
	})

	m, _ := znodeJSON(t, c, "/brokers/topics/"+topic)
	parts := jsonChecker{t, c.Path("/brokers/topics/" + topic), m}.object("partitions")
	if len(parts) != partitions {
		t.Fatalf("%s has %d partitions, want %d", c.Path("/brokers/topics/"+topic), len(parts), partitions)
	}

	recs := makeRecords(100, partitions)
	checkAckedOffsets(t, recs, produceAll(t, c.Client(t, manual()), topic, recs, time.Minute), 0)
	checkRecords(t, recs, consumeN(t, c, topic, partitions, len(recs), time.Minute), 0)
}

// TestAutoCreateInternalTopics: a Metadata request naming __consumer_offsets or
// __transaction_state (sarama sends one for __consumer_offsets whenever a coordinator is not
// available) creates them as Kafka's AutoTopicCreationManager does: with
// offsets.topic.num.partitions (transaction.state.log.num.partitions) partitions and
// compacted, not with num.partitions; groups and transactional ids hashed to any partition then
// find their coordinator.
func TestAutoCreateInternalTopics(t *testing.T) {
	c := NewCluster(t, BrokerConfig("offsets.topic.num.partitions", 7),
		BrokerConfig("transaction.state.log.num.partitions", 4),
		BrokerConfig("offsets.topic.replication.factor", 1),
		BrokerConfig("transaction.state.log.replication.factor", 1))
	cl := c.Client(t)
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	for _, tc := range []struct {
		topic      string
		partitions int
	}{{"__consumer_offsets", 7}, {"__transaction_state", 4}} {
		req := kmsg.NewPtrMetadataRequest()
		req.AllowAutoTopicCreation = true
		rt := kmsg.NewMetadataRequestTopic()
		rt.Topic = kmsg.StringPtr(tc.topic)
		req.Topics = append(req.Topics, rt)
		resp, err := req.RequestWith(ctx, cl)
		if err != nil {
			t.Fatal(err)
		}
		if err := kerr.ErrorForCode(resp.Topics[0].ErrorCode); !errors.Is(err, kerr.LeaderNotAvailable) {
			t.Fatalf("Metadata for %s: %v, want LEADER_NOT_AVAILABLE while it is created", tc.topic, err)
		}
		c.WaitForTopic(t, tc.topic, tc.partitions)
		meta, err := c.Metadata(ctx, tc.topic)
		if err != nil {
			t.Fatal(err)
		}
		if n := len(meta.Topics[0].Partitions); n != tc.partitions || !meta.Topics[0].IsInternal {
			t.Fatalf("%s: %d partitions (internal %v), want %d, internal", tc.topic, n, meta.Topics[0].IsInternal, tc.partitions)
		}
		rc, err := c.Admin(t).DescribeTopicConfigs(ctx, tc.topic)
		if err != nil {
			t.Fatal(err)
		}
		cfg, err := rc.On(tc.topic, nil)
		if err != nil {
			t.Fatal(err)
		}
		policy := ""
		for _, e := range cfg.Configs {
			if e.Key == "cleanup.policy" {
				policy = e.MaybeValue()
			}
		}
		if policy != "compact" {
			t.Fatalf("%s: cleanup.policy %q, want compact", tc.topic, policy)
		}
	}
	// Every group finds a coordinator: ten group names cover most of the seven partitions.
	for i := 0; i < 10; i++ {
		group := fmt.Sprintf("autocreate-group-%d", i)
		eventually(t, 30*time.Second, func() error {
			req := kmsg.NewPtrFindCoordinatorRequest()
			req.CoordinatorKey = group
			resp, err := req.RequestWith(ctx, cl)
			if err != nil {
				return err
			}
			return kerr.ErrorForCode(resp.ErrorCode)
		})
	}
}
