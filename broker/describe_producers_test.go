package broker

import (
	"context"
	"testing"

	"github.com/klassik/klassik/conf"
	"github.com/klassik/klassik/wire"
	"github.com/rs/zerolog"
	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kmsg"
)

// DescribeProducers (KIP-664) answers from the local log of each hosted replica, leader or
// follower, as Kafka 3.6's Partition.activeProducerState: a producer's open transaction shows
// its start offset until a marker ends it, then -1 with the marker's coordinator epoch. A
// partition the metadata knows but this broker does not host is NOT_LEADER_OR_FOLLOWER, one
// nobody knows UNKNOWN_TOPIC_OR_PARTITION (ReplicaManager.getPartitionOrError).
func TestDescribeProducers(t *testing.T) {
	b := New(conf.Default(), zerolog.Nop())
	lead := leaderPartition(t, b, topicPartition{"t", 0})
	follow := leaderPartition(t, b, topicPartition{"t", 1})
	follow.leaderID = b.cfg.BrokerID + 1 // a follower of another leader keeps its log

	um := kmsg.NewPtrUpdateMetadataRequest()
	ts := kmsg.NewUpdateMetadataRequestTopicState()
	ts.Topic = "t"
	for p := int32(0); p < 3; p++ {
		ps := kmsg.NewUpdateMetadataRequestTopicPartition()
		ps.Topic, ps.Partition, ps.Leader, ps.Replicas, ps.ISR = "t", p, 2, []int32{2}, []int32{2}
		ts.PartitionStates = append(ts.PartitionStates, ps)
	}
	um.TopicStates = append(um.TopicStates, ts)
	b.meta.apply(um)

	for _, pid := range []int64{11, 12} {
		if _, err := lead.appendAsLeader(txnRecords(pid, 0, "a", "b"), -1, 0); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := b.handleWriteTxnMarkers(context.Background(), markersRequest("t", []int32{0}, 11, false, 4)); err != nil {
		t.Fatal(err)
	}
	if _, err := follow.log.AppendAsFollower(txnRecords(13, 0, "c")); err != nil {
		t.Fatal(err)
	}

	r := kmsg.NewPtrDescribeProducersRequest()
	rt := kmsg.NewDescribeProducersRequestTopic()
	rt.Topic, rt.Partitions = "t", []int32{0, 1, 2, 9}
	r.Topics = append(r.Topics, rt)
	resp, err := b.handleDescribeProducers(context.Background(), &wire.Request{Key: 61, Body: r})
	if err != nil {
		t.Fatal(err)
	}
	parts := resp.(*kmsg.DescribeProducersResponse).Topics[0].Partitions
	if len(parts) != 4 {
		t.Fatalf("%d partitions answered, want 4", len(parts))
	}
	type row struct {
		pid        int64
		epoch      int32
		lastSeq    int32
		coordEpoch int32
		txnStart   int64
	}
	rows := func(p kmsg.DescribeProducersResponseTopicPartition) []row {
		var out []row
		for _, ap := range p.ActiveProducers {
			if ap.LastTimestamp <= 0 {
				t.Errorf("producer %d: last timestamp %d", ap.ProducerID, ap.LastTimestamp)
			}
			out = append(out, row{ap.ProducerID, ap.ProducerEpoch, ap.LastSequence, ap.CoordinatorEpoch, ap.CurrentTxnStartOffset})
		}
		return out
	}
	if p := parts[0]; p.ErrorCode != 0 || len(rows(p)) != 2 || rows(p)[0] != (row{11, 0, 1, 4, -1}) || rows(p)[1] != (row{12, 0, 1, -1, 2}) {
		t.Errorf("leader: %v %+v", kerr.ErrorForCode(p.ErrorCode), rows(p))
	}
	if p := parts[1]; p.ErrorCode != 0 || len(rows(p)) != 1 || rows(p)[0] != (row{13, 0, 0, -1, 0}) {
		t.Errorf("follower: %v %+v", kerr.ErrorForCode(p.ErrorCode), rows(p))
	}
	if p := parts[2]; p.Partition != 2 || p.ErrorCode != kerr.NotLeaderForPartition.Code {
		t.Errorf("partition not hosted: %d %v", p.Partition, kerr.ErrorForCode(p.ErrorCode))
	}
	if p := parts[3]; p.Partition != 9 || p.ErrorCode != kerr.UnknownTopicOrPartition.Code {
		t.Errorf("unknown partition: %d %v", p.Partition, kerr.ErrorForCode(p.ErrorCode))
	}
}
