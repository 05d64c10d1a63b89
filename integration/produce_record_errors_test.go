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

// TestProduceRecordErrors: a batch with keyless records sent to a compacted topic is refused
// whole with INVALID_RECORD, and from Produce v8 the answer names each keyless record by its
// index in the batch (KIP-467), with Kafka 3.6's messages (LogValidator.validateKey,
// processRecordErrors); nothing of the batch is appended. franz-go does not read the
// record errors: every record of the batch fails with INVALID_RECORD (issue 14, item 3).
func TestProduceRecordErrors(t *testing.T) {
	c := NewCluster(t)
	topic := topicName(t, "compacted")
	compact := "compact"
	c.CreateTopic(t, topic, 1, 1, map[string]*string{"cleanup.policy": &compact})
	tp := fmt.Sprintf("%s-0", topic)

	conn, err := DialRaw(c.Broker(1).Addr())
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	produce := func(version int16) kmsg.ProduceResponseTopicPartition {
		t.Helper()
		batch := EncodeKeyedBatch(time.Now(), [][]byte{[]byte("k0"), nil, []byte("k2"), nil},
			[][]byte{[]byte("v0"), []byte("v1"), []byte("v2"), []byte("v3")})
		req := kmsg.NewPtrProduceRequest()
		req.SetVersion(version)
		req.Acks, req.TimeoutMillis = -1, 10000
		rt := kmsg.NewProduceRequestTopic()
		rt.Topic = topic
		rp := kmsg.NewProduceRequestTopicPartition()
		rp.Partition, rp.Records = 0, batch
		rt.Partitions = append(rt.Partitions, rp)
		req.Topics = append(req.Topics, rt)
		resp, err := conn.Request(req, 15*time.Second)
		if err != nil {
			t.Fatalf("produce v%d: %v", version, err)
		}
		return resp.(*kmsg.ProduceResponse).Topics[0].Partitions[0]
	}

	for _, v := range []int16{8, 9} {
		p := produce(v)
		if p.ErrorCode != kerr.InvalidRecord.Code || p.BaseOffset != -1 {
			t.Errorf("v%d: error %v base offset %d, want INVALID_RECORD and -1", v, kerr.ErrorForCode(p.ErrorCode), p.BaseOffset)
		}
		perRecord := "Compacted topic cannot accept message without key in topic partition " + tp
		if len(p.ErrorRecords) != 2 || p.ErrorRecords[0].RelativeOffset != 1 || p.ErrorRecords[1].RelativeOffset != 3 ||
			derefStr(p.ErrorRecords[0].ErrorMessage) != perRecord || derefStr(p.ErrorRecords[1].ErrorMessage) != perRecord {
			t.Errorf("v%d: record errors %+v, want batch indexes 1 and 3 with %q", v, p.ErrorRecords, perRecord)
		}
		want := "One or more records have been rejected due to 2 record errors in total, and only showing the first three errors at most: " +
			"[RecordError(batchIndex=1, message='" + perRecord + "'), RecordError(batchIndex=3, message='" + perRecord + "')]"
		if derefStr(p.ErrorMessage) != want {
			t.Errorf("v%d: error message\n %q\nwant %q", v, derefStr(p.ErrorMessage), want)
		}
		if p.LogStartOffset != 0 {
			t.Errorf("v%d: log start offset %d, want the partition's 0", v, p.LogStartOffset)
		}
	}
	// Before v8 there is no place for them: INVALID_RECORD alone.
	if p := produce(7); p.ErrorCode != kerr.InvalidRecord.Code {
		t.Errorf("v7: %v, want INVALID_RECORD", kerr.ErrorForCode(p.ErrorCode))
	}

	// franz-go: three records lingered into one batch, one without a key. All three fail.
	cl := c.Client(t, manual(), kgo.ProducerLinger(500*time.Millisecond), kgo.RecordRetries(0))
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	results := cl.ProduceSync(ctx,
		&kgo.Record{Topic: topic, Partition: 0, Key: []byte("a"), Value: []byte("1")},
		&kgo.Record{Topic: topic, Partition: 0, Value: []byte("keyless")},
		&kgo.Record{Topic: topic, Partition: 0, Key: []byte("c"), Value: []byte("3")},
	)
	for i, r := range results {
		if !errors.Is(r.Err, kerr.InvalidRecord) {
			t.Errorf("franz-go record %d: %v, want INVALID_RECORD (its batch held a keyless record)", i, r.Err)
		}
	}

	// Nothing was appended: the log is empty.
	offs, err := c.Admin(t).ListEndOffsets(ctxT(t, 30*time.Second), topic)
	if err != nil {
		t.Fatal(err)
	}
	if o, ok := offs.Lookup(topic, 0); !ok || o.Offset != 0 {
		t.Errorf("end offset of %s after refused batches: %+v, want 0", tp, o)
	}
}
