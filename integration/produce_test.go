package integration

import (
	"context"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kgo"
	"github.com/twmb/franz-go/pkg/kmsg"
)

// TestProduceConsumeFranz produces 10,000 records over 3 partitions with franz-go and reads
// them back exactly: per partition in produce order at consecutive offsets from 0, with keys,
// values, headers and CreateTime timestamps intact. Kafka's guarantees checked: a partition is
// an ordered log, offsets are assigned by the leader one after the other, a record is stored
// as the producer sent it (KIP-82 headers, KIP-32 timestamps), and the acknowledged offset is
// where the record is. franz-go's default producer is idempotent (KIP-98) with acks=all; the
// other cases use acks=all, 1 and 0 without idempotence.
func TestProduceConsumeFranz(t *testing.T) {
	c := NewCluster(t)
	const n, partitions = 10000, 3
	cases := []struct {
		name  string
		opts  []kgo.Opt
		acked bool
	}{
		{"idempotent", nil, true},
		{"acks-all", []kgo.Opt{kgo.DisableIdempotentWrite(), kgo.RequiredAcks(kgo.AllISRAcks())}, true},
		{"acks-1", []kgo.Opt{kgo.DisableIdempotentWrite(), kgo.RequiredAcks(kgo.LeaderAck())}, true},
		{"acks-0", []kgo.Opt{kgo.DisableIdempotentWrite(), kgo.RequiredAcks(kgo.NoAck())}, false},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			topic := topicName(t, "produce")
			c.CreateTopic(t, topic, partitions, 1, nil)
			recs := makeRecords(n, partitions)
			cl := c.Client(t, append([]kgo.Opt{manual()}, tc.opts...)...)
			offsets := produceAll(t, cl, topic, recs, 2*time.Minute)
			if tc.acked {
				checkAckedOffsets(t, recs, offsets, 0)
			}
			checkRecords(t, recs, consumeN(t, c, topic, partitions, n, 2*time.Minute), 0)
			checkEndOffsets(t, c, topic, recs)
		})
	}
}

// checkEndOffsets checks that each partition's log end offset (ListOffsets latest) is the
// number of records produced to it: nothing more was written than was produced.
func checkEndOffsets(t testing.TB, c *Cluster, topic string, recs []want) {
	t.Helper()
	count := map[int32]int64{}
	for _, w := range recs {
		count[w.Partition]++
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	ends, err := c.Admin(t).ListEndOffsets(ctx, topic)
	if err != nil {
		t.Fatal(err)
	}
	for p, n := range count {
		o, ok := ends.Lookup(topic, p)
		if !ok || o.Err != nil {
			t.Fatalf("end offset of %s-%d: %+v", topic, p, o)
		}
		if o.Offset != n {
			t.Fatalf("end offset of %s-%d is %d, produced %d records", topic, p, o.Offset, n)
		}
	}
}

// TestCompression produces batches compressed with each of Kafka's codecs and reads them
// back. With the broker's default compression.type=producer, Kafka keeps the batches as the
// producer compressed them, so a raw Fetch must show the codec in each batch's attributes
// (bits 0-2: 1 gzip, 2 snappy, 3 lz4, 4 zstd; zstd is KIP-110).
func TestCompression(t *testing.T) {
	c := NewCluster(t)
	codecs := []struct {
		name  string
		codec kgo.CompressionCodec
		bits  int16
	}{
		{"gzip", kgo.GzipCompression(), 1},
		{"snappy", kgo.SnappyCompression(), 2},
		{"lz4", kgo.Lz4Compression(), 3},
		{"zstd", kgo.ZstdCompression(), 4},
	}
	for _, tc := range codecs {
		t.Run(tc.name, func(t *testing.T) {
			const n, partitions = 3000, 2
			topic := topicName(t, "compression")
			c.CreateTopic(t, topic, partitions, 1, nil)
			recs := makeRecords(n, partitions)
			cl := c.Client(t, manual(), kgo.ProducerBatchCompression(tc.codec), kgo.ProducerLinger(20*time.Millisecond))
			checkAckedOffsets(t, recs, produceAll(t, cl, topic, recs, 2*time.Minute), 0)
			checkRecords(t, recs, consumeN(t, c, topic, partitions, n, 2*time.Minute), 0)
			checkEndOffsets(t, c, topic, recs)

			// The stored batches carry the producer's codec. (franz-go sends a batch
			// uncompressed when compression would not make it smaller, which can only
			// happen to a lone record here.)
			batches := fetchBatches(t, c, topic, 0, 0)
			compressed := 0
			for _, b := range batches {
				switch codec := b.Attributes & 0x07; {
				case codec == tc.bits:
					compressed++
				case codec == 0 && b.NumRecords == 1:
				default:
					t.Fatalf("batch at offset %d (%d records) has attributes 0x%x: codec %d, want %d (%s)", b.FirstOffset, b.NumRecords, b.Attributes, codec, tc.bits, tc.name)
				}
			}
			if compressed == 0 {
				t.Fatalf("raw fetch of %s-0 returned %d batches, none compressed with %s", topic, len(batches), tc.name)
			}
		})
	}
}

// fetchBatches sends one raw Fetch v11 (topic by name) for topic-partition from offset to the
// partition's leader and returns the record batches.
func fetchBatches(t testing.TB, c *Cluster, topic string, partition int32, offset int64) []kmsg.RecordBatch {
	t.Helper()
	leader := leaderOf(t, c, topic, partition)
	conn, err := DialRaw(c.Broker(leader).Addr())
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	req := fetchRequest(topic, partition, offset, 0, 1)
	resp, err := conn.Request(req, 30*time.Second)
	if err != nil {
		t.Fatalf("fetch %s-%d: %v", topic, partition, err)
	}
	fr := resp.(*kmsg.FetchResponse)
	if fr.ErrorCode != 0 || len(fr.Topics) != 1 || len(fr.Topics[0].Partitions) != 1 {
		t.Fatalf("fetch %s-%d: unexpected response %+v", topic, partition, fr)
	}
	p := fr.Topics[0].Partitions[0]
	if p.ErrorCode != 0 {
		t.Fatalf("fetch %s-%d: error code %d", topic, partition, p.ErrorCode)
	}
	batches, err := DecodeBatches(p.RecordBatches)
	if err != nil {
		t.Fatalf("fetch %s-%d: %v", topic, partition, err)
	}
	return batches
}

// fetchRequest is a Fetch v11 (the last version naming topics rather than topic ids) for one
// partition.
func fetchRequest(topic string, partition int32, offset int64, maxWaitMs int32, minBytes int32) *kmsg.FetchRequest {
	req := kmsg.NewPtrFetchRequest()
	req.SetVersion(11)
	req.ReplicaID = -1
	req.MaxWaitMillis = maxWaitMs
	req.MinBytes = minBytes
	req.MaxBytes = 50 << 20
	rt := kmsg.NewFetchRequestTopic()
	rt.Topic = topic
	rp := kmsg.NewFetchRequestTopicPartition()
	rp.Partition = partition
	rp.FetchOffset = offset
	rp.PartitionMaxBytes = 10 << 20
	rp.CurrentLeaderEpoch = -1
	rp.LogStartOffset = -1
	rt.Partitions = append(rt.Partitions, rp)
	req.Topics = append(req.Topics, rt)
	return req
}

// leaderOf returns the leader of topic-partition from Metadata.
func leaderOf(t testing.TB, c *Cluster, topic string, partition int32) int32 {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	resp, err := c.Metadata(ctx, topic)
	if err != nil {
		t.Fatal(err)
	}
	for _, rt := range resp.Topics {
		for _, p := range rt.Partitions {
			if p.Partition == partition && p.Leader >= 0 {
				return p.Leader
			}
		}
	}
	t.Fatalf("no leader for %s-%d in metadata", topic, partition)
	return -1
}
