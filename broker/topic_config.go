package broker

import (
	"fmt"
	"sort"
	"strconv"
	"strings"

	"github.com/klassik/klassik/conf"
	"github.com/klassik/klassik/logstore"
)

// topicConfigDef is one topic-level config (Kafka's LogConfig): its name, the broker property
// that supplies its default, and how to validate a value.
type topicConfigDef struct {
	name        string
	brokerKey   string                      // "" when the default is fixed
	brokerValue func(c *conf.Config) string // the broker default as a string
	validate    func(v string) error        // nil accepts anything
}

func intRange(min, max int64) func(string) error {
	return func(v string) error {
		n, err := strconv.ParseInt(v, 10, 64)
		if err != nil {
			return fmt.Errorf("%q is not an integer", v)
		}
		if n < min || n > max {
			return fmt.Errorf("%d is outside [%d, %d]", n, min, max)
		}
		return nil
	}
}

func oneOf(values ...string) func(string) error {
	return func(v string) error {
		for _, ok := range values {
			if v == ok {
				return nil
			}
		}
		return fmt.Errorf("%q is not one of %s", v, strings.Join(values, ", "))
	}
}

func isBool(v string) error {
	if v != "true" && v != "false" {
		return fmt.Errorf("%q is not true or false", v)
	}
	return nil
}

func cleanupPolicy(v string) error {
	for _, p := range strings.Split(v, ",") {
		if p = strings.TrimSpace(p); p != "delete" && p != "compact" {
			return fmt.Errorf("%q is not delete, compact or both", v)
		}
	}
	return nil
}

func ratio(v string) error {
	f, err := strconv.ParseFloat(v, 64)
	if err != nil || f < 0 || f > 1 {
		return fmt.Errorf("%q is not a number in [0, 1]", v)
	}
	return nil
}

func i64s(n int64) string { return strconv.FormatInt(n, 10) }

const maxLong = int64(^uint64(0) >> 1)

// topicConfigDefs lists the topic configs klassik understands.
var topicConfigDefs = []topicConfigDef{
	{"cleanup.policy", "log.cleanup.policy", func(c *conf.Config) string { return c.LogCleanupPolicy }, cleanupPolicy},
	{"compression.type", "compression.type", func(c *conf.Config) string { return c.CompressionType }, oneOf("producer", "uncompressed", "gzip", "snappy", "lz4", "zstd")},
	{"delete.retention.ms", "log.cleaner.delete.retention.ms", func(c *conf.Config) string { return i64s(c.LogCleanerDeleteRetentionMs) }, intRange(0, maxLong)},
	{"flush.messages", "log.flush.interval.messages", func(c *conf.Config) string { return i64s(c.LogFlushIntervalMessages) }, intRange(1, maxLong)},
	{"flush.ms", "log.flush.interval.ms", func(c *conf.Config) string { return i64s(flushMs(c.LogFlushIntervalMs)) }, intRange(0, maxLong)},
	{"index.interval.bytes", "log.index.interval.bytes", func(c *conf.Config) string { return strconv.Itoa(c.LogIndexIntervalBytes) }, intRange(0, 1<<31-1)},
	{"max.message.bytes", "message.max.bytes", func(c *conf.Config) string { return strconv.Itoa(c.MessageMaxBytes) }, intRange(0, 1<<31-1)},
	{"message.timestamp.type", "log.message.timestamp.type", func(c *conf.Config) string { return c.LogMessageTimestampType }, oneOf("CreateTime", "LogAppendTime")},
	{"min.cleanable.dirty.ratio", "log.cleaner.min.cleanable.ratio", func(*conf.Config) string { return "0.5" }, ratio},
	{"min.compaction.lag.ms", "log.cleaner.min.compaction.lag.ms", func(*conf.Config) string { return "0" }, intRange(0, maxLong)},
	{"min.insync.replicas", "min.insync.replicas", func(c *conf.Config) string { return strconv.Itoa(c.MinInsyncReplicas) }, intRange(1, 1<<31-1)},
	{"retention.bytes", "log.retention.bytes", func(c *conf.Config) string { return i64s(c.LogRetentionBytes) }, intRange(-1, maxLong)},
	{"retention.ms", "log.retention.ms", func(c *conf.Config) string { return i64s(c.LogRetentionMs) }, intRange(-1, maxLong)},
	{"segment.bytes", "log.segment.bytes", func(c *conf.Config) string { return i64s(c.LogSegmentBytes) }, intRange(14, 1<<31-1)},
	{"segment.index.bytes", "log.index.size.max.bytes", func(c *conf.Config) string { return strconv.Itoa(c.LogIndexSizeMaxBytes) }, intRange(4, 1<<31-1)},
	{"segment.ms", "log.roll.ms", func(c *conf.Config) string { return i64s(c.LogRollMs) }, intRange(1, maxLong)},
	{"unclean.leader.election.enable", "unclean.leader.election.enable", func(c *conf.Config) string { return strconv.FormatBool(c.UncleanLeaderElectionEnable) }, isBool},
}

func findTopicConfigDef(name string) *topicConfigDef {
	for i := range topicConfigDefs {
		if topicConfigDefs[i].name == name {
			return &topicConfigDefs[i]
		}
	}
	return nil
}

// validateTopicConfig checks a set of topic overrides; the error names the key.
func validateTopicConfig(overrides map[string]string) error {
	keys := make([]string, 0, len(overrides))
	for k := range overrides {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		d := findTopicConfigDef(k)
		if d == nil {
			return fmt.Errorf("unknown topic config %q", k)
		}
		if d.validate != nil {
			if err := d.validate(overrides[k]); err != nil {
				return fmt.Errorf("invalid value for %s: %v", k, err)
			}
		}
	}
	return nil
}

// topicConfig is one topic's effective configuration: broker defaults under its overrides.
type topicConfig struct {
	overrides         map[string]string
	values            map[string]string
	log               logstore.Config
	minInsyncReplicas int
	uncleanElection   bool
}

func newTopicConfig(bc *conf.Config, overrides map[string]string) *topicConfig {
	tc := &topicConfig{overrides: overrides, values: map[string]string{}}
	for _, d := range topicConfigDefs {
		if v, ok := overrides[d.name]; ok {
			tc.values[d.name] = v
		} else {
			tc.values[d.name] = d.brokerValue(bc)
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

// flushMs is the broker default of flush.ms: log.flush.interval.ms, whose null (-1) means
// never (Kafka falls back to log.flush.scheduler.interval.ms, Long.MaxValue by default).
func flushMs(brokerMs int64) int64 {
	if brokerMs < 0 {
		return maxLong
	}
	return brokerMs
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
