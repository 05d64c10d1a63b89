package integration

import (
	"context"
	"encoding/binary"
	"fmt"
	"hash/crc32"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kgo"
	"github.com/twmb/franz-go/pkg/kmsg"
)

// The log side of transactions (KIP-98), driven by hand as a transaction coordinator would:
// two producers write transactional batches, WriteTxnMarkers commits one and aborts the
// other, and a read_committed consumer (franz-go, kgo.ReadCommitted) sees only the committed
// records while read_uncommitted sees all. The control batches are replicated: after kill -9
// of the leader the new one answers the same, its followers having rebuilt the transaction
// state; the killed broker, restarted with its .txnindex and recovery checkpoint gone,
// rebuilds the index from its log.
func TestTransactionMarkersAndReadCommitted(t *testing.T) {
	// The batches are written by hand, with no transaction coordinator to verify them with
	// (KIP-890): as Kafka's own log tests, with verification off.
	c := NewCluster(t, Brokers(3), BrokerConfig("transaction.partition.verification.enable", false))
	topic := topicName(t, "txnlog")
	minISR := "2"
	c.CreateTopic(t, topic, 1, 3, map[string]*string{"min.insync.replicas": &minISR})
	waitFullISR(t, c, topic, 1)
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()

	admin := c.Client(t)
	pid := func() (int64, int16) {
		req := kmsg.NewPtrInitProducerIDRequest()
		req.TransactionTimeoutMillis = 60000
		resp, err := req.RequestWith(ctx, admin)
		if err != nil || resp.ErrorCode != 0 {
			t.Fatalf("InitProducerId: %v %v", err, kerr.ErrorForCode(resp.ErrorCode))
		}
		return resp.ProducerID, resp.ProducerEpoch
	}
	pidA, epA := pid()
	pidB, epB := pid()

	leader := leaderOf(t, c, topic, 0)
	raw, err := DialRaw(c.Broker(leader).Addr())
	if err != nil {
		t.Fatal(err)
	}
	defer raw.Close()
	produce := func(txnID *string, batch []byte) int64 {
		t.Helper()
		req := kmsg.NewPtrProduceRequest()
		req.SetVersion(7)
		req.TransactionID = txnID
		req.Acks = -1
		req.TimeoutMillis = 10000
		rt := kmsg.NewProduceRequestTopic()
		rt.Topic = topic
		rp := kmsg.NewProduceRequestTopicPartition()
		rp.Records = batch
		rt.Partitions = append(rt.Partitions, rp)
		req.Topics = append(req.Topics, rt)
		resp, err := raw.Request(req, 15*time.Second)
		if err != nil {
			t.Fatal(err)
		}
		sp := resp.(*kmsg.ProduceResponse).Topics[0].Partitions[0]
		if sp.ErrorCode != 0 {
			t.Fatalf("produce: %v", kerr.ErrorForCode(sp.ErrorCode))
		}
		return sp.BaseOffset
	}
	txnA, txnB := strp("txn-a"), strp("txn-b")
	produce(nil, EncodeBatch(time.Now(), []byte("p0")))               // 0
	firstA := produce(txnA, txnBatch(pidA, epA, 0, "a0", "a1", "a2")) // 1-3
	produce(txnB, txnBatch(pidB, epB, 0, "b0", "b1"))                 // 4-5
	produce(txnA, txnBatch(pidA, epA, 3, "a3"))                       // 6
	produce(nil, EncodeBatch(time.Now(), []byte("p1")))               // 7
	// Transactional records without a transactional id are refused, as Kafka does.
	{
		req := kmsg.NewPtrProduceRequest()
		req.SetVersion(7)
		req.Acks = -1
		req.TimeoutMillis = 10000
		rt := kmsg.NewProduceRequestTopic()
		rt.Topic = topic
		rp := kmsg.NewProduceRequestTopicPartition()
		rp.Records = txnBatch(pidA, epA, 4, "x")
		rt.Partitions = append(rt.Partitions, rp)
		req.Topics = append(req.Topics, rt)
		resp, err := raw.Request(req, 15*time.Second)
		if err != nil {
			t.Fatal(err)
		}
		if code := resp.(*kmsg.ProduceResponse).Topics[0].Partitions[0].ErrorCode; code != kerr.TransactionalIDAuthorizationFailed.Code {
			t.Fatalf("transactional records without a transactional id: %v", kerr.ErrorForCode(code))
		}
	}

	// While both transactions are open the LSO is producer A's first offset.
	lso, hw, _ := rawFetchCommitted(t, raw, topic, 0)
	if lso != firstA || hw != 8 {
		t.Fatalf("open transactions: LSO %d, HW %d; want %d, 8", lso, hw, firstA)
	}
	if got := listLatest(t, raw, topic, 1); got != firstA {
		t.Fatalf("ListOffsets read_committed latest %d, want the LSO %d", got, firstA)
	}
	if got := listLatest(t, raw, topic, 0); got != 8 {
		t.Fatalf("ListOffsets read_uncommitted latest %d, want the HW 8", got)
	}

	// The coordinator's markers: commit A, abort B.
	marker := func(to *RawConn, pid int64, epoch int16, commit bool, coordEpoch int32, tp string, part int32) int16 {
		t.Helper()
		req := kmsg.NewPtrWriteTxnMarkersRequest()
		req.SetVersion(1)
		m := kmsg.NewWriteTxnMarkersRequestMarker()
		m.ProducerID, m.ProducerEpoch, m.Committed, m.CoordinatorEpoch = pid, epoch, commit, coordEpoch
		mt := kmsg.NewWriteTxnMarkersRequestMarkerTopic()
		mt.Topic, mt.Partitions = tp, []int32{part}
		m.Topics = append(m.Topics, mt)
		req.Markers = append(req.Markers, m)
		resp, err := to.Request(req, 40*time.Second)
		if err != nil {
			t.Fatal(err)
		}
		r := resp.(*kmsg.WriteTxnMarkersResponse)
		if len(r.Markers) != 1 || r.Markers[0].ProducerID != pid || len(r.Markers[0].Topics) != 1 || len(r.Markers[0].Topics[0].Partitions) != 1 {
			t.Fatalf("WriteTxnMarkers response %+v", r)
		}
		return r.Markers[0].Topics[0].Partitions[0].ErrorCode
	}
	if code := marker(raw, pidA, epA, true, 5, topic, 0); code != 0 {
		t.Fatalf("commit marker: %v", kerr.ErrorForCode(code))
	}
	if code := marker(raw, pidB, epB, false, 5, topic, 0); code != 0 {
		t.Fatalf("abort marker: %v", kerr.ErrorForCode(code))
	}
	// Kafka's per-partition errors.
	if code := marker(raw, pidA, epA, true, 4, topic, 0); code != kerr.TransactionCoordinatorFenced.Code {
		t.Fatalf("marker from an older coordinator epoch: %v", kerr.ErrorForCode(code))
	}
	if code := marker(raw, pidA, epA-1, true, 5, topic, 0); code != kerr.InvalidProducerEpoch.Code {
		t.Fatalf("marker with an older producer epoch: %v", kerr.ErrorForCode(code))
	}
	if code := marker(raw, pidA, epA, true, 5, topic+"-missing", 0); code != kerr.UnknownTopicOrPartition.Code {
		t.Fatalf("marker for an unknown topic: %v", kerr.ErrorForCode(code))
	}
	follower := c.Broker(otherThan(leader, c))
	fraw, err := DialRaw(follower.Addr())
	if err != nil {
		t.Fatal(err)
	}
	if code := marker(fraw, pidA, epA, true, 5, topic, 0); code != kerr.NotLeaderForPartition.Code {
		t.Fatalf("marker to a follower: %v", kerr.ErrorForCode(code))
	}
	fraw.Close()
	produce(nil, EncodeBatch(time.Now(), []byte("end")))

	committed := []string{"p0", "a0", "a1", "a2", "a3", "p1", "end"}
	all := []string{"p0", "a0", "a1", "a2", "b0", "b1", "a3", "p1", "end"}
	check := func(when string) {
		t.Helper()
		got := values(consumeUntil(t, c, topic, "end", kgo.FetchIsolationLevel(kgo.ReadCommitted())))
		if !slices.Equal(got, committed) {
			t.Fatalf("%s: read_committed consumed %q, want %q", when, got, committed)
		}
		got = values(consumeUntil(t, c, topic, "end", kgo.FetchIsolationLevel(kgo.ReadUncommitted())))
		if !slices.Equal(got, all) {
			t.Fatalf("%s: read_uncommitted consumed %q, want %q", when, got, all)
		}
	}
	check("after the markers")
	lso, hw, aborted := rawFetchCommitted(t, raw, topic, 0)
	if lso != hw || !slices.Equal(aborted, []string{fmt.Sprintf("%d@4", pidB)}) {
		t.Fatalf("after the markers: LSO %d, HW %d, aborted %v; want LSO=HW and producer %d from 4", lso, hw, aborted, pidB)
	}
	raw.Close()

	// kill -9 the leader: a follower that copied the control batches leads and answers alike.
	c.KillBroker(leader)
	c.eventually(60*time.Second, func() error {
		l := leaderOfNow(c, topic)
		if l < 0 || l == leader {
			return fmt.Errorf("leader still %d", l)
		}
		return nil
	})
	newLeader := leaderOfNow(c, topic)
	check(fmt.Sprintf("after kill -9 of leader %d, broker %d leading", leader, newLeader))
	nraw, err := DialRaw(c.Broker(newLeader).Addr())
	if err != nil {
		t.Fatal(err)
	}
	lso2, hw2, aborted2 := rawFetchCommitted(t, nraw, topic, 0)
	nraw.Close()
	if lso2 != hw2 || hw2 != hw || !slices.Equal(aborted2, aborted) {
		t.Fatalf("new leader: LSO %d, HW %d, aborted %v; old leader had %d, %d, %v", lso2, hw2, aborted2, lso, hw, aborted)
	}

	// Restart the killed broker without its .txnindex files and its recovery point: recovery
	// of the whole log rebuilds the index as it was.
	dir := filepath.Join(c.Broker(leader).LogDir(), topic+"-0")
	idx := txnIndexFiles(t, dir)
	if len(idx) != 1 {
		t.Fatalf(".txnindex files in %s: %v, want one", dir, idx)
	}
	before, err := os.ReadFile(idx[0])
	if err != nil {
		t.Fatal(err)
	}
	if len(before) != 34 || int64(binary.BigEndian.Uint64(before[2:])) != pidB || int64(binary.BigEndian.Uint64(before[10:])) != 4 {
		t.Fatalf(".txnindex holds %x, want one 34-byte entry for producer %d from offset 4", before, pidB)
	}
	if err := os.Remove(idx[0]); err != nil {
		t.Fatal(err)
	}
	if err := os.Remove(filepath.Join(c.Broker(leader).LogDir(), "recovery-point-offset-checkpoint")); err != nil && !os.IsNotExist(err) {
		t.Fatal(err)
	}
	c.StartBroker(leader)
	after, err := os.ReadFile(idx[0])
	if err != nil {
		t.Fatalf("after recovery: %v", err)
	}
	if string(after) != string(before) {
		t.Fatalf("rebuilt .txnindex %x, before the restart %x", after, before)
	}
	waitFullISR(t, c, topic, 1)
	check("after the restart")
}

// txnBatch is an uncompressed v2 batch of a transactional producer (attributes bit 4).
func txnBatch(pid int64, epoch int16, seq int32, values ...string) []byte {
	var records []byte
	for i, v := range values {
		rec := kmsg.Record{OffsetDelta: int32(i), Value: []byte(v)}
		body := rec.AppendTo(nil)
		rec.Length = int32(len(body) - 1)
		records = rec.AppendTo(records)
	}
	ts := time.Now().UnixMilli()
	batch := kmsg.RecordBatch{
		PartitionLeaderEpoch: -1, Magic: 2, Attributes: 0x10,
		LastOffsetDelta: int32(len(values) - 1), FirstTimestamp: ts, MaxTimestamp: ts,
		ProducerID: pid, ProducerEpoch: epoch, FirstSequence: seq,
		NumRecords: int32(len(values)), Records: records,
	}
	b := batch.AppendTo(nil)
	binary.BigEndian.PutUint32(b[8:], uint32(len(b)-12))
	binary.BigEndian.PutUint32(b[17:], crc32.Checksum(b[21:], crc32.MakeTable(crc32.Castagnoli)))
	return b
}

// rawFetchCommitted fetches partition from offset 0 with isolation_level read_committed and
// returns the LSO, the HW and the aborted transactions as "producer@firstOffset".
func rawFetchCommitted(t *testing.T, raw *RawConn, topic string, partition int32) (int64, int64, []string) {
	t.Helper()
	req := fetchRequest(topic, partition, 0, 0, 0)
	req.IsolationLevel = 1
	resp, err := raw.Request(req, 15*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	p := resp.(*kmsg.FetchResponse).Topics[0].Partitions[0]
	if p.ErrorCode != 0 {
		t.Fatalf("fetch: %v", kerr.ErrorForCode(p.ErrorCode))
	}
	if p.AbortedTransactions == nil {
		t.Fatal("read_committed fetch answered a null aborted transaction list")
	}
	batches, err := DecodeBatches(p.RecordBatches)
	if err != nil {
		t.Fatal(err)
	}
	for _, b := range batches {
		if b.FirstOffset+int64(b.LastOffsetDelta) >= p.LastStableOffset {
			t.Fatalf("read_committed fetch returned a batch at %d past the LSO %d", b.FirstOffset, p.LastStableOffset)
		}
	}
	var aborted []string
	for _, a := range p.AbortedTransactions {
		aborted = append(aborted, fmt.Sprintf("%d@%d", a.ProducerID, a.FirstOffset))
	}
	return p.LastStableOffset, p.HighWatermark, aborted
}

// listLatest asks ListOffsets v2+ for the latest offset at an isolation level.
func listLatest(t *testing.T, raw *RawConn, topic string, isolation int8) int64 {
	t.Helper()
	req := kmsg.NewPtrListOffsetsRequest()
	req.SetVersion(5)
	req.ReplicaID = -1
	req.IsolationLevel = isolation
	rt := kmsg.NewListOffsetsRequestTopic()
	rt.Topic = topic
	rp := kmsg.NewListOffsetsRequestTopicPartition()
	rp.Timestamp = -1
	rp.CurrentLeaderEpoch = -1
	rt.Partitions = append(rt.Partitions, rp)
	req.Topics = append(req.Topics, rt)
	resp, err := raw.Request(req, 15*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	p := resp.(*kmsg.ListOffsetsResponse).Topics[0].Partitions[0]
	if p.ErrorCode != 0 {
		t.Fatalf("list offsets: %v", kerr.ErrorForCode(p.ErrorCode))
	}
	return p.Offset
}

// consumeUntil reads partition 0 of topic from the start with a fresh client until a record
// with value last.
func consumeUntil(t *testing.T, c *Cluster, topic, last string, opts ...kgo.Opt) []*kgo.Record {
	t.Helper()
	cl := c.Client(t, append([]kgo.Opt{
		kgo.ConsumePartitions(map[string]map[int32]kgo.Offset{topic: {0: kgo.NewOffset().AtStart()}}),
		kgo.FetchMaxWait(time.Second),
	}, opts...)...)
	defer cl.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	var got []*kgo.Record
	for {
		fs := cl.PollFetches(ctx)
		if ctx.Err() != nil {
			t.Fatalf("no record %q within 60s; consumed %q", last, values(got))
		}
		for _, e := range fs.Errors() {
			if e.Err != context.DeadlineExceeded {
				t.Logf("fetch %s-%d: %v", e.Topic, e.Partition, e.Err)
			}
		}
		for _, r := range fs.Records() {
			got = append(got, r)
			if string(r.Value) == last {
				return got
			}
		}
	}
}

func values(recs []*kgo.Record) []string {
	out := make([]string, len(recs))
	for i, r := range recs {
		out[i] = string(r.Value)
	}
	return out
}

// leaderOfNow is the leader of partition 0 in metadata, -1 when none or on error.
func leaderOfNow(c *Cluster, topic string) int32 {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	resp, err := c.Metadata(ctx, topic)
	if err != nil || len(resp.Topics) != 1 || len(resp.Topics[0].Partitions) != 1 {
		return -1
	}
	p := resp.Topics[0].Partitions[0]
	if p.ErrorCode != 0 {
		return -1
	}
	return p.Leader
}

func otherThan(id int32, c *Cluster) int32 {
	for _, b := range c.Brokers() {
		if b.ID != id {
			return b.ID
		}
	}
	return -1
}

func txnIndexFiles(t *testing.T, dir string) []string {
	t.Helper()
	ents, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, e := range ents {
		if strings.HasSuffix(e.Name(), ".txnindex") {
			out = append(out, filepath.Join(dir, e.Name()))
		}
	}
	return out
}
