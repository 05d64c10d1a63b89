package broker

import (
	"context"
	"encoding/binary"
	"slices"
	"testing"
	"time"

	"github.com/klassik/klassik/conf"
	"github.com/klassik/klassik/logstore"
	"github.com/klassik/klassik/record"
	"github.com/klassik/klassik/wire"
	"github.com/rs/zerolog"
	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kmsg"
)

// leaderPartition makes b lead tp alone (ISR {self}) over an in-memory log.
func leaderPartition(t *testing.T, b *Broker, tp topicPartition) *partition {
	t.Helper()
	cfg := newTopicConfig(b.cfg, nil)
	log, err := logstore.Open(logstore.NewMemFS(), "/d/"+tp.topic, logstore.TopicPartition{Topic: tp.topic, Partition: tp.partition}, cfg.log, 0, zerolog.Nop())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { log.Close() })
	p := newPartition(b, tp, b.cfg.BrokerID, log, cfg, 0)
	p.leaderID, p.leaderEpoch, p.isr, p.replicas = b.cfg.BrokerID, 0, []int32{b.cfg.BrokerID}, []int32{b.cfg.BrokerID}
	b.rm.parts[tp] = p
	return p
}

// txnRecords is one transactional batch of pid holding values.
func txnRecords(pid int64, seq int32, values ...string) []byte {
	var body []byte
	for i, v := range values {
		body = record.AppendRecord(body, int64(i), 0, nil, []byte(v), nil)
	}
	now := time.Now().UnixMilli() // the markers' time: no segment.ms roll between them
	return record.Build(record.BatchHeader{Attributes: record.AttrTransactional, LastOffsetDelta: int32(len(values) - 1),
		BaseTimestamp: now, MaxTimestamp: now,
		ProducerID: pid, BaseSequence: seq, NumRecords: int32(len(values))}, body)
}

func markersRequest(topic string, parts []int32, pid int64, commit bool, coordEpoch int32) *wire.Request {
	r := kmsg.NewPtrWriteTxnMarkersRequest()
	r.SetVersion(1)
	m := kmsg.NewWriteTxnMarkersRequestMarker()
	m.ProducerID, m.Committed, m.CoordinatorEpoch = pid, commit, coordEpoch
	mt := kmsg.NewWriteTxnMarkersRequestMarkerTopic()
	mt.Topic, mt.Partitions = topic, parts
	m.Topics = append(m.Topics, mt)
	r.Markers = append(r.Markers, m)
	return &wire.Request{Key: 27, Version: 1, Body: r}
}

// WriteTxnMarkers appends the markers, answers per partition as Kafka (the unknown partition
// UNKNOWN_TOPIC_OR_PARTITION, a stale coordinator TRANSACTION_COORDINATOR_FENCED), tells the
// group coordinator about __consumer_offsets partitions, and a read_committed Fetch then
// returns the aborted transaction with the LSO.
func TestWriteTxnMarkers(t *testing.T) {
	b := New(conf.Default(), zerolog.Nop())
	p := leaderPartition(t, b, topicPartition{"t", 0})
	leaderPartition(t, b, topicPartition{offsetsTopic, 3})
	type call struct {
		pid    int64
		parts  []int32
		commit bool
	}
	var calls []call
	b.txnCompletion = func(pid int64, parts []int32, commit bool) { calls = append(calls, call{pid, parts, commit}) }

	for _, pid := range []int64{1, 2} {
		if _, err := p.appendAsLeader(txnRecords(pid, 0, "a", "b"), -1, 0); err != nil {
			t.Fatal(err)
		}
	}
	ctx := context.Background()
	resp, err := b.handleWriteTxnMarkers(ctx, markersRequest("t", []int32{0, 9}, 1, false, 2))
	if err != nil {
		t.Fatal(err)
	}
	got := resp.(*kmsg.WriteTxnMarkersResponse).Markers[0].Topics[0].Partitions
	if got[0].ErrorCode != 0 || got[1].ErrorCode != kerr.UnknownTopicOrPartition.Code {
		t.Fatalf("answers %+v", got)
	}
	resp, _ = b.handleWriteTxnMarkers(ctx, markersRequest("t", []int32{0}, 1, true, 1))
	if code := resp.(*kmsg.WriteTxnMarkersResponse).Markers[0].Topics[0].Partitions[0].ErrorCode; code != kerr.TransactionCoordinatorFenced.Code {
		t.Fatalf("stale coordinator: %v", kerr.ErrorForCode(code))
	}
	if len(calls) != 0 {
		t.Fatalf("group coordinator told of %+v", calls)
	}
	if _, err := b.handleWriteTxnMarkers(ctx, markersRequest(offsetsTopic, []int32{3}, 7, true, 0)); err != nil {
		t.Fatal(err)
	}
	if len(calls) != 1 || calls[0].pid != 7 || !slices.Equal(calls[0].parts, []int32{3}) || !calls[0].commit {
		t.Fatalf("group coordinator told of %+v", calls)
	}

	// Producer 2's transaction is still open at offset 2: read_committed stops there.
	fetch := func(isolation int8) kmsg.FetchResponseTopicPartition {
		r := kmsg.NewPtrFetchRequest()
		r.SetVersion(11)
		r.ReplicaID, r.MaxBytes, r.IsolationLevel = -1, 1<<20, isolation
		rt := kmsg.NewFetchRequestTopic()
		rt.Topic = "t"
		rp := kmsg.NewFetchRequestTopicPartition()
		rp.PartitionMaxBytes, rp.CurrentLeaderEpoch = 1<<20, -1
		rt.Partitions = append(rt.Partitions, rp)
		r.Topics = append(r.Topics, rt)
		resp, _, _ := b.fetchOnce(r, -1, nil)
		return resp.Topics[0].Partitions[0]
	}
	sp := fetch(1)
	if sp.LastStableOffset != 2 || sp.HighWatermark != 5 || len(sp.AbortedTransactions) != 1 || sp.AbortedTransactions[0].ProducerID != 1 || sp.AbortedTransactions[0].FirstOffset != 0 {
		t.Fatalf("read_committed: LSO %d HW %d aborted %+v", sp.LastStableOffset, sp.HighWatermark, sp.AbortedTransactions)
	}
	if end := lastOffsetOf(sp.RecordBatches); end >= 2 {
		t.Fatalf("read_committed returned up to offset %d, past the LSO 2", end)
	}
	sp = fetch(0)
	if sp.LastStableOffset != 2 || sp.AbortedTransactions != nil || lastOffsetOf(sp.RecordBatches) != 4 {
		t.Fatalf("read_uncommitted: LSO %d, aborted %+v, up to %d", sp.LastStableOffset, sp.AbortedTransactions, lastOffsetOf(sp.RecordBatches))
	}
}

func lastOffsetOf(records []byte) int64 {
	last := int64(-1)
	for len(records) >= record.HeaderSize {
		base := int64(binary.BigEndian.Uint64(records))
		last = base + int64(int32(binary.BigEndian.Uint32(records[record.OffLastOffsetDelta:])))
		records = records[12+int(binary.BigEndian.Uint32(records[8:])):]
	}
	return last
}
