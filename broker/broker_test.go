package broker

import (
	"strings"
	"testing"

	"github.com/klassik/klassik/conf"
	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kmsg"
)

// ApiVersions must list exactly what is registered, within what kmsg can encode, and must
// include the APIs every client needs before it can do anything.
func TestApiVersionsListsRegisteredAPIs(t *testing.T) {
	keys := apiVersionKeys()
	if len(keys) != len(apis) {
		t.Fatalf("ApiVersions lists %d keys, %d are registered", len(keys), len(apis))
	}
	seen := map[int16]bool{}
	for i, k := range keys {
		if i > 0 && keys[i-1].ApiKey >= k.ApiKey {
			t.Fatalf("keys not sorted at %d", i)
		}
		if k.MinVersion > k.MaxVersion {
			t.Errorf("key %d: min %d > max %d", k.ApiKey, k.MinVersion, k.MaxVersion)
		}
		if max := kmsg.RequestForKey(k.ApiKey).MaxVersion(); k.MaxVersion > max {
			t.Errorf("key %d advertises v%d but kmsg knows only up to v%d", k.ApiKey, k.MaxVersion, max)
		}
		seen[k.ApiKey] = true
	}
	for _, need := range []int16{0, 1, 2, 3, 18, 19, 20, 22} {
		if !seen[need] {
			t.Errorf("API key %d (%s) is not served", need, kmsg.NameForKey(need))
		}
	}
	fb := apiVersionsFallback()
	if fb.ErrorCode != kerr.UnsupportedVersion.Code || len(fb.ApiKeys) != len(keys) {
		t.Errorf("fallback = code %d with %d keys", fb.ErrorCode, len(fb.ApiKeys))
	}
}

// Kafka's Topic.validate rules.
func TestValidateTopicName(t *testing.T) {
	for _, ok := range []string{"a", "orders", "Orders.v2_x-1", strings.Repeat("x", 249)} {
		if err := validateTopicName(ok); err != nil {
			t.Errorf("%q: %v", ok, err)
		}
	}
	for _, bad := range []string{"", ".", "..", "has space", "slash/no", strings.Repeat("x", 250), "é"} {
		err := validateTopicName(bad)
		if err == nil || errCode(err) != kerr.InvalidTopicException.Code {
			t.Errorf("%q: got %v, want INVALID_TOPIC_EXCEPTION", bad, err)
		}
	}
}

func TestTopicConfigOverridesAndValidation(t *testing.T) {
	bc := conf.Default()
	tc := newTopicConfig(bc, map[string]string{"retention.ms": "1000", "min.insync.replicas": "2", "cleanup.policy": "compact,delete"})
	if tc.log.RetentionMs != 1000 || tc.minInsyncReplicas != 2 || tc.log.CleanupPolicy != "compact,delete" {
		t.Errorf("overrides not applied: %+v min.insync=%d", tc.log, tc.minInsyncReplicas)
	}
	if tc.log.SegmentBytes != bc.LogSegmentBytes || tc.log.MaxMessageBytes != bc.MessageMaxBytes {
		t.Errorf("defaults not taken from the broker: %+v", tc.log)
	}
	for cfg, want := range map[string]string{
		"retention.ms=abc":                   "retention.ms",
		"segment.bytes=10":                   "segment.bytes",
		"cleanup.policy=forever":             "cleanup.policy",
		"no.such.config=1":                   "no.such.config",
		"message.timestamp.type=Wrong":       "message.timestamp.type",
		"min.insync.replicas=0":              "min.insync.replicas",
		"unclean.leader.election.enable=yes": "unclean.leader.election.enable",
	} {
		k, v, _ := strings.Cut(cfg, "=")
		err := validateTopicConfig(bc, map[string]string{k: v})
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("%s: error %v should name %s", cfg, err, want)
		}
	}
}

// UpdateMetadata upserts partition states, replaces live brokers, and removes partitions the
// controller marks with leader -2 (topic deletion).
func TestMetadataCacheApply(t *testing.T) {
	c := newMetadataCache()
	req := kmsg.NewPtrUpdateMetadataRequest()
	req.ControllerID, req.ControllerEpoch = 1, 3
	lb := kmsg.NewUpdateMetadataRequestLiveBroker()
	lb.ID = 1
	ep := kmsg.NewUpdateMetadataRequestLiveBrokerEndpoint()
	ep.Host, ep.Port, ep.ListenerName = "h1", 9092, "PLAINTEXT"
	lb.Endpoints = append(lb.Endpoints, ep)
	req.LiveBrokers = append(req.LiveBrokers, lb)
	ts := kmsg.NewUpdateMetadataRequestTopicState()
	ts.Topic, ts.TopicID = "t", [16]byte{1}
	for p := int32(0); p < 2; p++ {
		ps := kmsg.NewUpdateMetadataRequestTopicPartition()
		ps.Partition, ps.Leader, ps.Replicas, ps.ISR = p, 1, []int32{1}, []int32{1}
		ts.PartitionStates = append(ts.PartitionStates, ps)
	}
	req.TopicStates = append(req.TopicStates, ts)
	wait := c.waitChan()
	c.apply(req)
	select {
	case <-wait:
	default:
		t.Fatal("apply did not signal waiters")
	}
	s := c.get()
	if s.controllerID != 1 || len(s.brokers) != 1 || len(s.topics["t"].partitions) != 2 || s.topicNames[[16]byte{1}] != "t" {
		t.Fatalf("snapshot after first update: %+v", s)
	}
	// Second update: partition 0 deleted (leader -2), partition 1 unchanged, no brokers.
	req2 := kmsg.NewPtrUpdateMetadataRequest()
	ts2 := kmsg.NewUpdateMetadataRequestTopicState()
	ts2.Topic = "t"
	ps := kmsg.NewUpdateMetadataRequestTopicPartition()
	ps.Partition, ps.Leader = 0, leaderDuringDelete
	ts2.PartitionStates = append(ts2.PartitionStates, ps)
	req2.TopicStates = append(req2.TopicStates, ts2)
	deleted := c.apply(req2)
	s = c.get()
	if len(deleted) != 1 || deleted[0] != (topicPartition{"t", 0}) {
		t.Errorf("deleted = %v", deleted)
	}
	if _, ok := s.partition("t", 0); ok {
		t.Error("partition 0 still cached after deletion")
	}
	if _, ok := s.partition("t", 1); !ok {
		t.Error("partition 1 lost")
	}
	if len(s.brokers) != 0 {
		t.Error("live brokers must be replaced wholesale")
	}
	if s.topics["t"].id != [16]byte{1} {
		t.Error("topic id lost when a later update omits it")
	}
}

// KIP-320: an older client epoch is fenced, a newer one is unknown, -1 skips the check.
func TestCheckEpoch(t *testing.T) {
	cases := []struct {
		req, ours int32
		want      error
	}{{-1, 5, nil}, {5, 5, nil}, {4, 5, kerr.FencedLeaderEpoch}, {6, 5, kerr.UnknownLeaderEpoch}}
	for _, c := range cases {
		if got := checkEpoch(c.req, c.ours); got != c.want {
			t.Errorf("checkEpoch(%d, %d) = %v, want %v", c.req, c.ours, got, c.want)
		}
	}
}
