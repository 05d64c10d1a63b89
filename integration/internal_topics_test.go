package integration

import (
	"bytes"
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"hash/crc32"
	"os/exec"
	"strings"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kgo"
	"github.com/twmb/franz-go/pkg/kmsg"
)

// TestInternalTopicsBelongToBrokers checks Kafka's rule that clients cannot write
// __consumer_offsets (INVALID_TOPIC_EXCEPTION, "Cannot append to internal topic") nor control
// batches anywhere (INVALID_RECORD), with franz-go and librdkafka (kcat), on three brokers:
// nothing a client sends lands in __consumer_offsets, and consumer groups keep working.
func TestInternalTopicsBelongToBrokers(t *testing.T) {
	c := newGroupCluster(t)
	adm := c.Admin(t)
	topic := topicName(t, "it")
	c.CreateTopic(t, topic, 1, 3, nil)
	const group = "internal-topics-group"

	// A first commit creates __consumer_offsets.
	commit := func(at int64) {
		t.Helper()
		eventually(t, 60*time.Second, func() error {
			ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
			defer cancel()
			var os kadm.Offsets
			os.Add(kadm.Offset{Topic: topic, Partition: 0, At: at, LeaderEpoch: -1})
			resp, err := adm.CommitOffsets(ctx, group, os)
			if err != nil {
				return err
			}
			return resp.Error()
		})
	}
	commit(1)
	c.WaitForTopic(t, "__consumer_offsets", 6)

	endOffsets := func() map[int32]int64 {
		t.Helper()
		out := map[int32]int64{}
		eventually(t, 30*time.Second, func() error {
			ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
			defer cancel()
			ends, err := adm.ListEndOffsets(ctx, "__consumer_offsets")
			if err != nil {
				return err
			}
			if err := ends.Error(); err != nil {
				return err
			}
			for p, o := range ends["__consumer_offsets"] {
				out[p] = o.Offset
			}
			if len(out) != 6 {
				return fmt.Errorf("end offsets of %d partitions", len(out))
			}
			return nil
		})
		return out
	}
	before := endOffsets()

	// franz-go: a plain produce to __consumer_offsets is refused with INVALID_TOPIC_EXCEPTION.
	cl := c.Client(t, kgo.RecordPartitioner(kgo.ManualPartitioner()), kgo.RequiredAcks(kgo.AllISRAcks()),
		kgo.ProducerBatchCompression(kgo.SnappyCompression()))
	for p := int32(0); p < 6; p++ {
		ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
		err := cl.ProduceSync(ctx, &kgo.Record{Topic: "__consumer_offsets", Partition: p, Key: []byte("forged"), Value: []byte("garbage")}).FirstErr()
		cancel()
		if !errors.Is(err, kerr.InvalidTopicException) {
			t.Fatalf("franz-go produce to __consumer_offsets-%d: %v, want INVALID_TOPIC_EXCEPTION", p, err)
		}
	}

	// A hand-made Produce to the partition's leader: the same answer per partition, with
	// Kafka's message; and a control batch to an ordinary topic is INVALID_RECORD.
	leaderAddr := func(tp string, p int32) string {
		t.Helper()
		md, err := c.Metadata(context.Background(), tp)
		if err != nil {
			t.Fatal(err)
		}
		for _, mt := range md.Topics {
			for _, mp := range mt.Partitions {
				if mp.Partition == p {
					for _, b := range md.Brokers {
						if b.NodeID == mp.Leader {
							return fmt.Sprintf("%s:%d", b.Host, b.Port)
						}
					}
				}
			}
		}
		t.Fatalf("no leader for %s-%d", tp, p)
		return ""
	}
	rawProduce := func(tp string, batch []byte) kmsg.ProduceResponseTopicPartition {
		t.Helper()
		conn, err := DialRaw(leaderAddr(tp, 0))
		if err != nil {
			t.Fatal(err)
		}
		defer conn.Close()
		req := kmsg.NewPtrProduceRequest()
		req.SetVersion(9)
		req.Acks = -1
		req.TimeoutMillis = 10000
		rt := kmsg.NewProduceRequestTopic()
		rt.Topic = tp
		rp := kmsg.NewProduceRequestTopicPartition()
		rp.Records = batch
		rt.Partitions = append(rt.Partitions, rp)
		req.Topics = append(req.Topics, rt)
		resp, err := conn.Request(req, 15*time.Second)
		if err != nil {
			t.Fatal(err)
		}
		return resp.(*kmsg.ProduceResponse).Topics[0].Partitions[0]
	}
	sp := rawProduce("__consumer_offsets", EncodeBatch(time.Now(), []byte("garbage")))
	if sp.ErrorCode != kerr.InvalidTopicException.Code || sp.ErrorMessage == nil || !strings.Contains(*sp.ErrorMessage, "internal topic") {
		t.Fatalf("raw produce to __consumer_offsets: code %d message %v, want INVALID_TOPIC_EXCEPTION", sp.ErrorCode, sp.ErrorMessage)
	}
	control := EncodeBatch(time.Now(), []byte("not a marker"))
	binary.BigEndian.PutUint16(control[21:], binary.BigEndian.Uint16(control[21:])|0x20)
	binary.BigEndian.PutUint32(control[17:], crc32.Checksum(control[21:], crc32.MakeTable(crc32.Castagnoli)))
	if sp := rawProduce(topic, control); sp.ErrorCode != kerr.InvalidRecord.Code {
		t.Fatalf("control batch from a client: code %d, want INVALID_RECORD", sp.ErrorCode)
	}

	// librdkafka (kcat), snappy-compressed as in the report that found the hole: every
	// message fails and kcat says so.
	var in strings.Builder
	for i := range 20 {
		fmt.Fprintf(&in, "forged-%d|garbage %d\n", i, i)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, "kcat", "-b", c.BootstrapServers(), "-t", "__consumer_offsets", "-P", "-K", "|",
		"-z", "snappy", "-X", "request.required.acks=all", "-X", "message.timeout.ms=20000")
	cmd.Stdin = strings.NewReader(in.String())
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	err := cmd.Run()
	if ctx.Err() != nil {
		t.Fatalf("kcat did not finish: %s", stderr.String())
	}
	t.Logf("kcat: %v\n%s", err, stderr.String())
	if n := strings.Count(stderr.String(), "Delivery failed for message: Broker: Invalid topic"); err == nil || n != 20 {
		t.Fatalf("kcat produce to __consumer_offsets: exit %v, %d of 20 messages failed as an invalid topic:\n%s", err, n, stderr.String())
	}

	// Nothing was written: every partition's end offset is where it was.
	if after := endOffsets(); fmt.Sprint(after) != fmt.Sprint(before) {
		t.Fatalf("__consumer_offsets end offsets moved from %v to %v", before, after)
	}

	// The brokers' own writer still appends: a commit lands and is read back.
	commit(42)
	eventually(t, 30*time.Second, func() error {
		got, err := fetchCommitted(adm, group, topic)
		if err != nil {
			return err
		}
		if got[0] != 42 {
			return fmt.Errorf("committed %v, want 42", got)
		}
		return nil
	})
	if after := endOffsets(); fmt.Sprint(after) == fmt.Sprint(before) {
		t.Fatalf("the group coordinator's commit did not append to __consumer_offsets (end offsets %v)", after)
	}
	c.AssertAlive(t)
}
