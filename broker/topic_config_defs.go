package broker

// The topic-level configs of Kafka 3.6, as its LogConfig defines them: each name with its
// type, default, validator and the broker properties that supply its default
// (ServerTopicConfigSynonyms), and how the broker's effective value is found
// (KafkaConfig.extractLogConfigMap).
//
// klassik accepts, validates, stores and describes every one of them. Those marked
// used: false are not acted on (yet); their doc says so, and DescribeConfigs answers that
// doc when asked (v3+):
//
//	compression.type                     batches are stored as the producer compressed them
//	file.delete.delay.ms                 segment files are deleted at once
//	local.retention.bytes, local.retention.ms, remote.storage.enable   no tiered storage
//	                                     (remote.storage.enable=true is refused, as by a Kafka
//	                                     broker with remote.log.storage.system.enable=false)
//	max.compaction.lag.ms                the cleaner does not force a clean by it
//	message.downconversion.enable        no fetch version that needs down-conversion is served
//	message.format.version               ignored, as Kafka 3.x ignores it: records are v2
//	message.timestamp.after.max.ms, message.timestamp.before.max.ms,
//	message.timestamp.difference.max.ms  record timestamps are not checked against the clock
//	preallocate                          segment files are not preallocated
//	segment.jitter.ms                    segments roll without jitter

import (
	"math"
	"strconv"

	"github.com/klassik/klassik/conf"
	"github.com/twmb/franz-go/pkg/kmsg"
)

// topicConfigDef is one topic-level config (an entry of Kafka's LogConfig CONFIG).
type topicConfigDef struct {
	name string
	typ  kmsg.ConfigType
	def  string // Kafka 3.6's default, written as DescribeConfigs writes it
	// synonyms are the broker properties that supply the default, highest priority first
	// (ServerTopicConfigSynonyms); nil for the three configs with no server default.
	synonyms []string
	// broker is the broker's effective value (extractLogConfigMap); nil means def.
	broker func(c *conf.Config) string
	// check validates a parsed value (Kafka's Validator); nil accepts any value of the type.
	check func(name string, v any) error
	used  bool   // klassik acts on it; false: accepted, stored and described only
	doc   string // for DescribeConfigs v3+ include_documentation
}

const notActedOn = " klassik accepts, stores and describes this config but does not act on it"

func i64s(n int64) string { return strconv.FormatInt(n, 10) }

const maxLong = int64(math.MaxInt64)

// topicConfigDefs lists Kafka 3.6's topic configs in the order LogConfig defines them (the
// order in which Kafka validates them).
var topicConfigDefs = []topicConfigDef{
	{name: "segment.bytes", typ: kmsg.ConfigTypeInt, def: "1073741824", synonyms: []string{"log.segment.bytes"},
		broker: func(c *conf.Config) string { return i64s(c.LogSegmentBytes) }, check: atLeast(14), used: true,
		doc: "The size at which a segment file is closed and a new one started. Retention and compaction remove whole segments."},
	{name: "segment.ms", typ: kmsg.ConfigTypeLong, def: "604800000", synonyms: []string{"log.roll.ms", "log.roll.hours"},
		broker: func(c *conf.Config) string { return i64s(c.LogRollMs) }, check: atLeast(1), used: true,
		doc: "The age at which a segment is closed even if it is not full, so that retention and compaction can reach its records."},
	{name: "segment.jitter.ms", typ: kmsg.ConfigTypeLong, def: "0", synonyms: []string{"log.roll.jitter.ms", "log.roll.jitter.hours"},
		broker: func(c *conf.Config) string { return i64s(c.LogRollJitterMs) }, check: atLeast(0),
		doc: "The largest random time taken off segment.ms, so that many partitions do not roll at once." + notActedOn + ": segments roll without jitter."},
	{name: "segment.index.bytes", typ: kmsg.ConfigTypeInt, def: "10485760", synonyms: []string{"log.index.size.max.bytes"},
		broker: func(c *conf.Config) string { return strconv.Itoa(c.LogIndexSizeMaxBytes) }, check: atLeast(4), used: true,
		doc: "The largest size of a segment's offset and time index; a segment whose index is full is rolled."},
	{name: "flush.messages", typ: kmsg.ConfigTypeLong, def: i64s(maxLong), synonyms: []string{"log.flush.interval.messages"},
		broker: func(c *conf.Config) string { return i64s(c.LogFlushIntervalMessages) }, check: atLeast(1), used: true,
		doc: "Force an fsync of the log after this many records. Replication, not fsync, is what makes Kafka durable; leave it unset."},
	{name: "flush.ms", typ: kmsg.ConfigTypeLong, def: i64s(maxLong), synonyms: []string{"log.flush.interval.ms", "log.flush.scheduler.interval.ms"},
		broker: brokerFlushMs, check: atLeast(0), used: true,
		doc: "Force an fsync of the log when this long has passed since the last one."},
	{name: "retention.bytes", typ: kmsg.ConfigTypeLong, def: "-1", synonyms: []string{"log.retention.bytes"},
		broker: func(c *conf.Config) string { return i64s(c.LogRetentionBytes) }, used: true,
		doc: "With the delete policy, the largest size of a partition's log before its oldest segments are deleted; -1: no limit."},
	{name: "retention.ms", typ: kmsg.ConfigTypeLong, def: "604800000", synonyms: []string{"log.retention.ms", "log.retention.minutes", "log.retention.hours"},
		broker: func(c *conf.Config) string { return i64s(c.LogRetentionMs) }, check: atLeast(-1), used: true,
		doc: "With the delete policy, how long a segment is kept after its newest record; -1: forever."},
	{name: "max.message.bytes", typ: kmsg.ConfigTypeInt, def: "1048588", synonyms: []string{"message.max.bytes"},
		broker: func(c *conf.Config) string { return strconv.Itoa(c.MessageMaxBytes) }, check: atLeast(0), used: true,
		doc: "The largest record batch the topic accepts, after compression."},
	{name: "index.interval.bytes", typ: kmsg.ConfigTypeInt, def: "4096", synonyms: []string{"log.index.interval.bytes"},
		broker: func(c *conf.Config) string { return strconv.Itoa(c.LogIndexIntervalBytes) }, check: atLeast(0), used: true,
		doc: "How many bytes of records lie between two entries of the offset index."},
	{name: "delete.retention.ms", typ: kmsg.ConfigTypeLong, def: "86400000", synonyms: []string{"log.cleaner.delete.retention.ms"},
		broker: func(c *conf.Config) string { return i64s(c.LogCleanerDeleteRetentionMs) }, check: atLeast(0), used: true,
		doc: "With the compact policy, how long a tombstone is kept after compaction reached it."},
	{name: "min.compaction.lag.ms", typ: kmsg.ConfigTypeLong, def: "0", synonyms: []string{"log.cleaner.min.compaction.lag.ms"},
		broker: func(c *conf.Config) string { return i64s(c.LogCleanerMinCompactionLagMs) }, check: atLeast(0), used: true,
		doc: "With the compact policy, how long a record stays uncompacted at least."},
	{name: "max.compaction.lag.ms", typ: kmsg.ConfigTypeLong, def: i64s(maxLong), synonyms: []string{"log.cleaner.max.compaction.lag.ms"},
		broker: func(c *conf.Config) string { return i64s(c.LogCleanerMaxCompactionLagMs) }, check: atLeast(1),
		doc: "With the compact policy, how long a record may stay uncompacted at most." + notActedOn + ": the cleaner goes by min.cleanable.dirty.ratio."},
	{name: "file.delete.delay.ms", typ: kmsg.ConfigTypeLong, def: "60000", synonyms: []string{"log.segment.delete.delay.ms"},
		broker: func(c *conf.Config) string { return i64s(c.LogSegmentDeleteDelayMs) }, check: atLeast(0),
		doc: "How long a segment file removed from the log waits before it is deleted from disk." + notActedOn + ": files are deleted at once."},
	{name: "min.cleanable.dirty.ratio", typ: kmsg.ConfigTypeDouble, def: "0.5", synonyms: []string{"log.cleaner.min.cleanable.ratio"},
		broker: func(c *conf.Config) string { return javaDouble(c.LogCleanerMinCleanableRatio) }, check: betweenDouble(0, 1), used: true,
		doc: "With the compact policy, the share of the log written since the last clean that makes the cleaner clean it again."},
	{name: "cleanup.policy", typ: kmsg.ConfigTypeList, def: "delete", synonyms: []string{"log.cleanup.policy"},
		broker: func(c *conf.Config) string { return formatList(parseList(c.LogCleanupPolicy)) }, check: validList("compact", "delete"), used: true,
		doc: `"delete" removes old segments by retention.ms and retention.bytes, "compact" keeps the newest record of each key; "compact,delete" does both.`},
	{name: "unclean.leader.election.enable", typ: kmsg.ConfigTypeBoolean, def: "false", synonyms: []string{"unclean.leader.election.enable"},
		broker: func(c *conf.Config) string { return strconv.FormatBool(c.UncleanLeaderElectionEnable) }, used: true,
		doc: "Elect a replica outside the ISR as leader when no in-sync replica is left, at the cost of the records only the ISR held."},
	{name: "min.insync.replicas", typ: kmsg.ConfigTypeInt, def: "1", synonyms: []string{"min.insync.replicas"},
		broker: func(c *conf.Config) string { return strconv.Itoa(c.MinInsyncReplicas) }, check: atLeast(1), used: true,
		doc: "With acks=all, how many in-sync replicas must hold a write before it is acknowledged; fewer answer NOT_ENOUGH_REPLICAS."},
	{name: "compression.type", typ: kmsg.ConfigTypeString, def: "producer", synonyms: []string{"compression.type"},
		broker: func(c *conf.Config) string { return c.CompressionType }, check: validString("uncompressed", "zstd", "lz4", "snappy", "gzip", "producer"),
		doc: `The compression of stored batches: a codec, "uncompressed", or "producer" to keep the producer's.` + notActedOn + `: batches are always stored as the producer sent them ("producer").`},
	{name: "preallocate", typ: kmsg.ConfigTypeBoolean, def: "false", synonyms: []string{"log.preallocate"},
		broker: func(c *conf.Config) string { return strconv.FormatBool(c.LogPreallocate) },
		doc:    "Create each segment file at its full size." + notActedOn + "."},
	{name: "message.format.version", typ: kmsg.ConfigTypeString, def: "3.0-IV1", synonyms: []string{"log.message.format.version"},
		// Kafka 3.x gives every topic 3.0-IV1 whatever log.message.format.version says: with
		// inter.broker.protocol.version 3.0 or later the broker setting is ignored.
		broker: func(*conf.Config) string { return "3.0-IV1" }, check: messageFormatVersion,
		doc: "Deprecated: the record format to write. Kafka 3.x ignores it and writes format v2; klassik too."},
	{name: "message.timestamp.type", typ: kmsg.ConfigTypeString, def: "CreateTime", synonyms: []string{"log.message.timestamp.type"},
		broker: func(c *conf.Config) string { return c.LogMessageTimestampType }, check: validString("CreateTime", "LogAppendTime"), used: true,
		doc: "CreateTime keeps the producer's record timestamps; LogAppendTime replaces them with the broker's clock at append."},
	{name: "message.timestamp.difference.max.ms", typ: kmsg.ConfigTypeLong, def: i64s(maxLong), synonyms: []string{"log.message.timestamp.difference.max.ms"},
		broker: func(c *conf.Config) string { return i64s(c.LogMessageTimestampDifferenceMaxMs) }, check: atLeast(0),
		doc: "Deprecated: with CreateTime, the largest difference between a record's timestamp and the broker's clock." + notActedOn + "."},
	{name: "message.timestamp.before.max.ms", typ: kmsg.ConfigTypeLong, def: i64s(maxLong), synonyms: []string{"log.message.timestamp.before.max.ms"},
		broker: func(c *conf.Config) string {
			return i64s(orDifference(c.LogMessageTimestampBeforeMaxMs, c.LogMessageTimestampDifferenceMaxMs))
		}, check: atLeast(0),
		doc: "With CreateTime, how far a record's timestamp may lie before the broker's clock." + notActedOn + "."},
	{name: "message.timestamp.after.max.ms", typ: kmsg.ConfigTypeLong, def: i64s(maxLong), synonyms: []string{"log.message.timestamp.after.max.ms"},
		broker: func(c *conf.Config) string {
			return i64s(orDifference(c.LogMessageTimestampAfterMaxMs, c.LogMessageTimestampDifferenceMaxMs))
		}, check: atLeast(0),
		doc: "With CreateTime, how far a record's timestamp may lie after the broker's clock." + notActedOn + "."},
	{name: "leader.replication.throttled.replicas", typ: kmsg.ConfigTypeList, def: "", check: throttledReplicas, used: true,
		doc: `The replicas ("partition:broker,..." or "*") whose replication the leader throttles to leader.replication.throttled.rate while their followers are not in sync.`},
	{name: "follower.replication.throttled.replicas", typ: kmsg.ConfigTypeList, def: "", check: throttledReplicas, used: true,
		doc: `The replicas ("partition:broker,..." or "*") whose replication the follower throttles to follower.replication.throttled.rate while it is not in sync.`},
	{name: "message.downconversion.enable", typ: kmsg.ConfigTypeBoolean, def: "true", synonyms: []string{"log.message.downconversion.enable"},
		broker: func(c *conf.Config) string { return strconv.FormatBool(c.LogMessageDownconversionEnable) },
		doc:    "Convert records to an old format for old fetch versions; false answers them UNSUPPORTED_VERSION." + notActedOn + ": no fetch version that needs it is served."},
	{name: "remote.storage.enable", typ: kmsg.ConfigTypeBoolean, def: "false",
		doc: "Tiered storage: copy segments to remote storage." + notActedOn + ": there is no tiered storage, and true is refused."},
	{name: "local.retention.ms", typ: kmsg.ConfigTypeLong, def: "-2", synonyms: []string{"log.local.retention.ms"},
		broker: func(c *conf.Config) string { return i64s(c.LogLocalRetentionMs) }, check: atLeast(-2),
		doc: "Tiered storage: how long segments stay on local disk; -2: retention.ms." + notActedOn + "."},
	{name: "local.retention.bytes", typ: kmsg.ConfigTypeLong, def: "-2", synonyms: []string{"log.local.retention.bytes"},
		broker: func(c *conf.Config) string { return i64s(c.LogLocalRetentionBytes) }, check: atLeast(-2),
		doc: "Tiered storage: how many bytes of a partition stay on local disk; -2: retention.bytes." + notActedOn + "."},
}

var topicConfigIndex = func() map[string]*topicConfigDef {
	m := make(map[string]*topicConfigDef, len(topicConfigDefs))
	for i := range topicConfigDefs {
		m[topicConfigDefs[i].name] = &topicConfigDefs[i]
	}
	return m
}()

func findTopicConfigDef(name string) *topicConfigDef { return topicConfigIndex[name] }

// brokerValue is the broker's effective value of the topic config.
func (d *topicConfigDef) brokerValue(c *conf.Config) string {
	if d.broker == nil {
		return d.def
	}
	return d.broker(c)
}

// brokerFlushMs: log.flush.interval.ms, else log.flush.scheduler.interval.ms (KafkaConfig's
// logFlushIntervalMs); klassik writes the former's null as -1.
func brokerFlushMs(c *conf.Config) string {
	if c.LogFlushIntervalMs >= 0 {
		return i64s(c.LogFlushIntervalMs)
	}
	return i64s(c.LogFlushSchedulerIntervalMs)
}

// orDifference: the before/after bounds fall back to the deprecated difference bound while
// they keep their default (KafkaConfig.logMessageTimestampBeforeMaxMs).
func orDifference(v, difference int64) int64 {
	if v != maxLong {
		return v
	}
	return difference
}
