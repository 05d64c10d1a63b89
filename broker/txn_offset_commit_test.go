package broker

import (
	"context"
	"testing"
	"time"

	"github.com/klassik/klassik/conf"
	"github.com/klassik/klassik/coordinator/group"
	"github.com/klassik/klassik/wire"
	"github.com/rs/zerolog"
	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kmsg"
)

// TxnOffsetCommit through the broker: the commit opens the producer's transaction in
// __consumer_offsets (so a second commit of the same transaction, again at sequence 0, is
// neither a duplicate nor out of order), WriteTxnMarkers' COMMIT makes the offset visible
// (Broker.txnCompletion), and after the coordinator fenced the producer with a bumped epoch
// the zombie's commit is INVALID_PRODUCER_EPOCH (AppendOrigin.COORDINATOR checks epochs). An
// unknown topic is UNKNOWN_TOPIC_OR_PARTITION, as KafkaApis answers.
func TestTxnOffsetCommitThroughMarkers(t *testing.T) {
	b := New(conf.Default(), zerolog.Nop())
	leaderPartition(t, b, topicPartition{"t", 0})
	offsets := leaderPartition(t, b, topicPartition{offsetsTopic, 0})
	um := kmsg.NewPtrUpdateMetadataRequest()
	ts := kmsg.NewUpdateMetadataRequestTopicState()
	ts.Topic = "t"
	ps := kmsg.NewUpdateMetadataRequestTopicPartition()
	ps.Topic, ps.Partition, ps.Leader, ps.Replicas, ps.ISR = "t", 0, b.cfg.BrokerID, []int32{b.cfg.BrokerID}, []int32{b.cfg.BrokerID}
	ts.PartitionStates = append(ts.PartitionStates, ps)
	um.TopicStates = append(um.TopicStates, ts)
	b.meta.apply(um)

	b.groups = group.New(group.Config{BrokerID: b.cfg.BrokerID, OffsetsTopicNumPartitions: 1}, newOffsetsLog(b), zerolog.Nop())
	t.Cleanup(b.groups.Close)
	b.txnCompletion = b.groups.CompleteTxn
	b.groups.BecomeLeader(0, 0)

	ctx := context.Background()
	txnCommit := func(version int16, epoch int16, offset int64) *kmsg.TxnOffsetCommitResponse {
		t.Helper()
		r := kmsg.NewPtrTxnOffsetCommitRequest()
		r.SetVersion(version)
		r.TransactionalID, r.Group, r.ProducerID, r.ProducerEpoch = "tx", "g", 5, epoch
		r.Topics = []kmsg.TxnOffsetCommitRequestTopic{
			{Topic: "t", Partitions: []kmsg.TxnOffsetCommitRequestTopicPartition{{Partition: 0, Offset: offset, LeaderEpoch: -1}, {Partition: 7, Offset: 1}}},
			{Topic: "nope", Partitions: []kmsg.TxnOffsetCommitRequestTopicPartition{{Partition: 0, Offset: 1}}},
		}
		resp, err := b.handleTxnOffsetCommit(ctx, &wire.Request{Key: 28, Version: version, Body: r, Conn: &wire.ConnInfo{}})
		if err != nil {
			t.Fatal(err)
		}
		tr := resp.(*kmsg.TxnOffsetCommitResponse)
		if tr.Topics[0].Partitions[1].ErrorCode != kerr.UnknownTopicOrPartition.Code || tr.Topics[1].Partitions[0].ErrorCode != kerr.UnknownTopicOrPartition.Code {
			t.Fatalf("unknown partitions answered %+v", tr.Topics)
		}
		return tr
	}
	code := func(r *kmsg.TxnOffsetCommitResponse) int16 { return r.Topics[0].Partitions[0].ErrorCode }
	stable := func() (int64, int16) {
		t.Helper()
		r := kmsg.NewPtrOffsetFetchRequest()
		r.Version, r.Group, r.RequireStable = 7, "g", true
		r.Topics = []kmsg.OffsetFetchRequestTopic{{Topic: "t", Partitions: []int32{0}}}
		resp := b.groups.OffsetFetch(ctx, r)
		if resp.ErrorCode != 0 {
			t.Fatalf("OffsetFetch: %v", kerr.ErrorForCode(resp.ErrorCode))
		}
		p := resp.Topics[0].Partitions[0]
		return p.Offset, p.ErrorCode
	}

	deadline := time.Now().Add(5 * time.Second)
	var c int16
	for c = code(txnCommit(3, 0, 3)); c == kerr.CoordinatorLoadInProgress.Code && time.Now().Before(deadline); c = code(txnCommit(3, 0, 3)) {
		time.Sleep(10 * time.Millisecond)
	}
	if c != 0 {
		t.Fatalf("TxnOffsetCommit: %v", kerr.ErrorForCode(c))
	}
	if got := offsets.log.OngoingTransactions(); got[5] != 0 {
		t.Fatalf("ongoing transactions of __consumer_offsets-0: %v, want producer 5 at 0", got)
	}
	if c := code(txnCommit(3, 0, 4)); c != 0 {
		t.Fatalf("second TxnOffsetCommit of the transaction: %v", kerr.ErrorForCode(c))
	}
	if _, c := stable(); c != kerr.UnstableOffsetCommit.Code {
		t.Fatalf("require_stable before the marker: %v", kerr.ErrorForCode(c))
	}
	if _, err := b.handleWriteTxnMarkers(ctx, markersRequest(offsetsTopic, []int32{0}, 5, true, 0)); err != nil {
		t.Fatal(err)
	}
	if off, c := stable(); off != 4 || c != 0 {
		t.Fatalf("after the COMMIT marker: offset %d, %v; want 4", off, kerr.ErrorForCode(c))
	}
	if got := offsets.log.OngoingTransactions(); len(got) != 0 {
		t.Fatalf("ongoing after the marker: %v", got)
	}

	// A second producer instance fences the first: the transaction coordinator aborts with
	// the bumped epoch 1.
	if c := code(txnCommit(3, 0, 8)); c != 0 {
		t.Fatalf("TxnOffsetCommit: %v", kerr.ErrorForCode(c))
	}
	abort := markersRequest(offsetsTopic, []int32{0}, 5, false, 0)
	abort.Body.(*kmsg.WriteTxnMarkersRequest).Markers[0].ProducerEpoch = 1
	if resp, err := b.handleWriteTxnMarkers(ctx, abort); err != nil || resp.(*kmsg.WriteTxnMarkersResponse).Markers[0].Topics[0].Partitions[0].ErrorCode != 0 {
		t.Fatalf("abort marker: %v %+v", err, resp)
	}
	if off, c := stable(); off != 4 || c != 0 {
		t.Fatalf("after the ABORT marker: offset %d, %v; want 4", off, kerr.ErrorForCode(c))
	}
	for _, v := range []int16{0, 3} {
		if c := code(txnCommit(v, 0, 9)); c != kerr.InvalidProducerEpoch.Code {
			t.Fatalf("zombie's TxnOffsetCommit v%d: %v, want INVALID_PRODUCER_EPOCH", v, kerr.ErrorForCode(c))
		}
	}
	if off, c := stable(); off != 4 || c != 0 {
		t.Fatalf("after the zombie's commit: offset %d, %v; want 4", off, kerr.ErrorForCode(c))
	}
}
