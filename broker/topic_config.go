package broker

import (
	"strconv"
	"strings"

	"github.com/klassik/klassik/conf"
	"github.com/klassik/klassik/logstore"
)

// topicConfig is one topic's effective configuration: its overrides (from
// /config/topics/<t>) over the broker's values, as Kafka's LogConfig.fromProps makes it.
type topicConfig struct {
	overrides         map[string]string
	values            map[string]string // every topic config, as DescribeConfigs writes it
	log               logstore.Config
	minInsyncReplicas int
	uncleanElection   bool
	// The replicas of this topic on this broker whose replication is throttled
	// (leader/follower.replication.throttled.replicas), as a leader and as a follower.
	leaderThrottled, followerThrottled throttledSet
}

// throttledSet is a throttled-replicas config read for one broker: every partition ("*"),
// or the partitions listed with this broker's id.
type throttledSet struct {
	all   bool
	parts map[int32]bool
}

func (t throttledSet) has(partition int32) bool { return t.all || t.parts[partition] }

// parseThrottled reads "partition:broker,..." or "*" for broker id (Kafka's
// TopicConfigHandler.parseThrottledPartitions); entries that do not parse are skipped (the
// validator refused them already, unless another tool wrote them).
func parseThrottled(v string, id int32) throttledSet {
	var t throttledSet
	for _, it := range strings.Split(v, ",") {
		it = strings.TrimSpace(it)
		if it == "*" {
			t.all = true
			continue
		}
		p, b, ok := strings.Cut(it, ":")
		pn, err1 := strconv.ParseInt(strings.TrimSpace(p), 10, 32)
		bn, err2 := strconv.ParseInt(strings.TrimSpace(b), 10, 32)
		if !ok || err1 != nil || err2 != nil || int32(bn) != id {
			continue
		}
		if t.parts == nil {
			t.parts = map[int32]bool{}
		}
		t.parts[int32(pn)] = true
	}
	return t
}

// newTopicConfig merges overrides over the broker's values. An override that does not parse
// (one written to ZooKeeper by another tool) gives way to the broker's value.
func newTopicConfig(bc *conf.Config, overrides map[string]string) *topicConfig {
	tc := &topicConfig{overrides: overrides, values: map[string]string{}}
	for i := range topicConfigDefs {
		d := &topicConfigDefs[i]
		tc.values[d.name] = d.brokerValue(bc)
		if raw, ok := overrides[d.name]; ok {
			if v, err := parseConfigValue(d.name, d.typ, raw); err == nil {
				tc.values[d.name] = formatConfigValue(v)
			}
		}
	}
	num := func(k string) int64 { n, _ := strconv.ParseInt(tc.values[k], 10, 64); return n }
	tc.log = logstore.Config{
		SegmentBytes:          num("segment.bytes"),
		SegmentMs:             num("segment.ms"),
		RetentionMs:           num("retention.ms"),
		RetentionBytes:        num("retention.bytes"),
		IndexIntervalBytes:    int(num("index.interval.bytes")),
		MaxIndexBytes:         int(num("segment.index.bytes")),
		MaxMessageBytes:       int(num("max.message.bytes")),
		MessageTimestampType:  tc.values["message.timestamp.type"],
		FlushIntervalMessages: num("flush.messages"),
		FlushMs:               max(num("flush.ms"), 1), // 0 (flush at every check) is logstore's "unset"
		CleanupPolicy:         tc.values["cleanup.policy"],
		// logstore reads 0 as Kafka's default and a negative value as 0.
		DeleteRetentionMs:      zeroAsNegative(num("delete.retention.ms")),
		MinCleanableDirtyRatio: dirtyRatio(tc.values["min.cleanable.dirty.ratio"]),
		MinCompactionLagMs:     num("min.compaction.lag.ms"),
	}
	tc.minInsyncReplicas = int(num("min.insync.replicas"))
	tc.uncleanElection = tc.values["unclean.leader.election.enable"] == "true"
	tc.leaderThrottled = parseThrottled(tc.values["leader.replication.throttled.replicas"], bc.BrokerID)
	tc.followerThrottled = parseThrottled(tc.values["follower.replication.throttled.replicas"], bc.BrokerID)
	return tc
}

func zeroAsNegative(n int64) int64 {
	if n == 0 {
		return -1
	}
	return n
}

func dirtyRatio(v string) float64 {
	f, _ := strconv.ParseFloat(v, 64)
	if f == 0 {
		return -1
	}
	return f
}
