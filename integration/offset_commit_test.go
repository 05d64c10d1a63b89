package integration

import (
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kmsg"
)

// TestOffsetCommitValidation: as Kafka 3.6 (KafkaApis.handleOffsetCommitRequest), a commit to
// a topic that does not exist, or to a partition the topic does not have, answers
// UNKNOWN_TOPIC_OR_PARTITION and stores nothing, while the valid partitions of the same
// request are stored; metadata longer than offset.metadata.max.bytes (4096) answers
// OFFSET_METADATA_TOO_LARGE (issue 14, item 2). Checked with franz-go, and the unknown topic
// and partition with librdkafka too.
func TestOffsetCommitValidation(t *testing.T) {
	c := NewCluster(t)
	topic := topicName(t, "commit")
	c.CreateTopic(t, topic, 2, 1, nil)
	typo := topic + "-typo"
	group := topicName(t, "group")
	cl := c.Client(t)

	commit := func(parts map[string][]int32, metadata string) map[string]map[int32]int16 {
		t.Helper()
		req := kmsg.NewPtrOffsetCommitRequest()
		req.Group, req.Generation, req.MemberID = group, -1, ""
		for tp, ps := range parts {
			rt := kmsg.NewOffsetCommitRequestTopic()
			rt.Topic = tp
			for _, p := range ps {
				rp := kmsg.NewOffsetCommitRequestTopicPartition()
				rp.Partition, rp.Offset, rp.Metadata = p, 42, kmsg.StringPtr(metadata)
				rt.Partitions = append(rt.Partitions, rp)
			}
			req.Topics = append(req.Topics, rt)
		}
		resp, err := req.RequestWith(ctxT(t, 30*time.Second), cl)
		if err != nil {
			t.Fatal(err)
		}
		out := map[string]map[int32]int16{}
		for _, rt := range resp.Topics {
			out[rt.Topic] = map[int32]int16{}
			for _, rp := range rt.Partitions {
				out[rt.Topic][rp.Partition] = rp.ErrorCode
			}
		}
		return out
	}
	codes := commit(map[string][]int32{topic: {0, 1, 7}, typo: {0}}, "")
	for _, w := range []struct {
		topic string
		part  int32
		want  *kerr.Error
	}{{topic, 0, nil}, {topic, 1, nil}, {topic, 7, kerr.UnknownTopicOrPartition}, {typo, 0, kerr.UnknownTopicOrPartition}} {
		got, ok := codes[w.topic][w.part]
		wantCode := int16(0)
		if w.want != nil {
			wantCode = w.want.Code
		}
		if !ok || got != wantCode {
			t.Errorf("commit %s-%d: code %d (%v), want %d (%v)", w.topic, w.part, got, kerr.ErrorForCode(got), wantCode, w.want)
		}
	}
	// Only a request naming nothing known: nothing reaches the coordinator.
	if codes := commit(map[string][]int32{typo: {0, 1}}, ""); codes[typo][0] != kerr.UnknownTopicOrPartition.Code || codes[typo][1] != kerr.UnknownTopicOrPartition.Code {
		t.Errorf("commit to %s only: %v, want UNKNOWN_TOPIC_OR_PARTITION for both", typo, codes)
	}

	// Metadata: 4096 bytes are stored, 4097 are too large.
	if codes := commit(map[string][]int32{topic: {0}}, strings.Repeat("m", 4096)); codes[topic][0] != 0 {
		t.Errorf("4096 bytes of metadata: %v, want stored", kerr.ErrorForCode(codes[topic][0]))
	}
	if codes := commit(map[string][]int32{topic: {1}}, strings.Repeat("m", 4097)); codes[topic][1] != kerr.OffsetMetadataTooLarge.Code {
		t.Errorf("4097 bytes of metadata: %v, want OFFSET_METADATA_TOO_LARGE", kerr.ErrorForCode(codes[topic][1]))
	}

	// What the group holds: the valid partitions, nothing of the typo or of partition 7.
	fetched, err := c.Admin(t).FetchOffsets(ctxT(t, 30*time.Second), group)
	if err != nil {
		t.Fatal(err)
	}
	if _, ok := fetched[typo]; ok {
		t.Errorf("offsets stored for %s, a topic that does not exist: %v", typo, fetched[typo])
	}
	if _, ok := fetched.Lookup(topic, 7); ok {
		t.Errorf("an offset stored for partition 7 of the 2-partition %s", topic)
	}
	for _, p := range []int32{0, 1} {
		if o, ok := fetched.Lookup(topic, p); !ok || o.At != 42 {
			t.Errorf("%s-%d: fetched %+v, want offset 42", topic, p, o)
		}
	}
	if md, err := c.Metadata(ctxT(t, 30*time.Second), typo); err == nil && len(md.Topics) == 1 && md.Topics[0].ErrorCode == 0 {
		t.Errorf("committing to %s created it", typo)
	}

	// librdkafka (confluent-kafka-python) gets the same answers.
	script, err := filepath.Abs(filepath.Join("testdata", "confluent_commit.py"))
	if err != nil {
		t.Fatal(err)
	}
	out := runTool(t, 60*time.Second, "", "/usr/bin/python3", script, c.BootstrapServers(), group+"-rdkafka",
		topic+":0:5", typo+":0:5", topic+":9:5")
	for _, want := range []string{
		topic + ":0:5 NO_ERROR",
		typo + ":0:5 UNKNOWN_TOPIC_OR_PART",
		topic + ":9:5 UNKNOWN_TOPIC_OR_PART",
	} {
		if !strings.Contains(out, want+"\n") {
			t.Errorf("confluent-kafka: want %q in:\n%s", want, out)
		}
	}
}
