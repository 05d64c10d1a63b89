package integration

import (
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kgo"
)

// TestListOffsetsMaxTimestamp: ListOffsets with timestamp -3 (MAX_TIMESTAMP, KIP-734) answers
// the offset and timestamp of the record with the largest timestamp, as Kafka 3.6's leader
// does (UnifiedLog.fetchOffsetByTimestamp over LogSegment.maxTimestampAndOffsetSoFar, the
// first record with that timestamp), not the batch's last offset (issue 14, item 4). The
// records are produced by franz-go into one batch and listed with kadm.
func TestListOffsetsMaxTimestamp(t *testing.T) {
	c := NewCluster(t)
	topic := topicName(t, "maxts")
	c.CreateTopic(t, topic, 1, 1, nil)
	base := time.Now().Add(-time.Hour).Truncate(time.Millisecond)
	// Uncompressed: in a compressed batch Kafka 3.6 answers the batch's last offset.
	cl := c.Client(t, manual(), kgo.ProducerLinger(500*time.Millisecond), kgo.ProducerBatchCompression(kgo.NoCompression()))
	// One lingered batch: offsets 0-4, the largest timestamp at offset 1 and again at 3.
	var recs []*kgo.Record
	for _, d := range []time.Duration{0, 50, 10, 50, 20} {
		recs = append(recs, &kgo.Record{Topic: topic, Partition: 0, Value: []byte("v"), Timestamp: base.Add(d * time.Second)})
	}
	if err := cl.ProduceSync(ctxT(t, time.Minute), recs...).FirstErr(); err != nil {
		t.Fatal(err)
	}
	if bs := fetchBatches(t, c, topic, 0, 0); len(bs) != 1 {
		t.Fatalf("the five records landed in %d batches, the test needs one", len(bs))
	}
	adm := c.Admin(t)
	lo, err := adm.ListMaxTimestampOffsets(ctxT(t, 30*time.Second), topic)
	if err != nil {
		t.Fatal(err)
	}
	o, ok := lo.Lookup(topic, 0)
	if !ok || o.Err != nil || o.Offset != 1 || o.Timestamp != base.Add(50*time.Second).UnixMilli() {
		t.Fatalf("max timestamp: %+v, want offset 1 timestamp %d", o, base.Add(50*time.Second).UnixMilli())
	}

	// A later batch with an older maximum changes nothing; one with a newer maximum does.
	if err := cl.ProduceSync(ctxT(t, time.Minute), &kgo.Record{Topic: topic, Partition: 0, Value: []byte("old"), Timestamp: base}).FirstErr(); err != nil {
		t.Fatal(err)
	}
	if lo, err = adm.ListMaxTimestampOffsets(ctxT(t, 30*time.Second), topic); err != nil {
		t.Fatal(err)
	}
	if o, _ := lo.Lookup(topic, 0); o.Offset != 1 {
		t.Fatalf("after an older record: max timestamp offset %d, want still 1", o.Offset)
	}
	newer := base.Add(time.Minute)
	if err := cl.ProduceSync(ctxT(t, time.Minute), &kgo.Record{Topic: topic, Partition: 0, Value: []byte("new"), Timestamp: newer}).FirstErr(); err != nil {
		t.Fatal(err)
	}
	if lo, err = adm.ListMaxTimestampOffsets(ctxT(t, 30*time.Second), topic); err != nil {
		t.Fatal(err)
	}
	if o, _ := lo.Lookup(topic, 0); o.Offset != 6 || o.Timestamp != newer.UnixMilli() {
		t.Fatalf("after a newer record: %+v, want offset 6 timestamp %d", o, newer.UnixMilli())
	}
}
