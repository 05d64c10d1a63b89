package broker

import (
	"strconv"

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
