package conf

import (
	"fmt"
	"math"
	"slices"
	"strconv"
	"strings"
)

// kind is a property's type, named as Kafka's ConfigDef names it.
type kind int

const (
	kindInt      kind = iota // Kafka INT: a 32-bit integer
	kindLong                 // Kafka LONG: a 64-bit integer
	kindShort                // Kafka SHORT: a 16-bit integer
	kindBool                 // Kafka BOOLEAN
	kindString               // Kafka STRING
	kindList                 // Kafka LIST: comma separated; TOML may also give an array of strings
	kindDouble               // Kafka DOUBLE: a 64-bit floating-point number
	kindPassword             // Kafka PASSWORD: a string never shown (logged as [hidden], described as null)
)

func (k kind) String() string {
	switch k {
	case kindInt:
		return "int"
	case kindLong:
		return "long"
	case kindShort:
		return "short"
	case kindBool:
		return "boolean"
	case kindString:
		return "string"
	case kindDouble:
		return "double"
	case kindPassword:
		return "password"
	default:
		return "list"
	}
}

// want says, for an error message, what a value of this kind looks like.
func (k kind) want() string {
	switch k {
	case kindInt, kindLong, kindShort:
		return "an integer"
	case kindBool:
		return "true or false"
	case kindString, kindPassword:
		return "a string"
	case kindDouble:
		return "a number"
	default:
		return "a comma-separated string or an array of strings"
	}
}

func (k kind) isInteger() bool { return k == kindInt || k == kindLong || k == kindShort }

// bounds is the range of an integer kind.
func (k kind) bounds() (int64, int64) {
	switch k {
	case kindInt:
		return math.MinInt32, math.MaxInt32
	case kindShort:
		return math.MinInt16, math.MaxInt16
	default:
		return math.MinInt64, math.MaxInt64
	}
}

// property is one row of the table. Values travel as int64 (integer kinds), bool or string
// (string and list kinds).
type property struct {
	name string
	kind kind
	// def is the default written as text, Kafka's own. null marks a property whose Kafka
	// default is null: the docs show "null" and the doc line says what takes its place (def,
	// if any, is how klassik writes that absence in the Config field).
	def  string
	null bool
	doc  string

	// field points into a Config; nil for a property folded into another (see into).
	field func(c *Config) any
	// check returns "" for an allowed value, else what is allowed ("must be at least 1").
	check func(v any) string

	// into names the property this one is folded into when that one is not set, and convert
	// turns this one's value into it (hours into milliseconds). Among the properties folded
	// into the same one, the first in the table wins (Kafka's precedence).
	into    string
	convert func(v any) any

	// defaultFrom names the property whose value this one takes when it is not set.
	defaultFrom string

	// perListener allows listener.name.<listener>.<name>, this property for one listener
	// (Kafka's listener-prefixed configs; listener_overrides.go).
	perListener bool
}

// table lists every property klassik reads, in the order of the listing and the docs. The
// defaults and rules are Kafka 3.x's (KafkaConfig, LogConfig) unless the doc says otherwise.
var table = slices.Concat(generalProperties, securityProperties)

var generalProperties = []*property{
	// Broker identity and ZooKeeper.
	{name: "broker.id", kind: kindInt, def: "-1", field: func(c *Config) any { return &c.BrokerID },
		check: checkBrokerID,
		doc:   "The broker's id, unique in the cluster. Kafka's default -1 asks for a generated id, which klassik does not do: set it."},
	{name: "broker.rack", kind: kindString, null: true, field: func(c *Config) any { return &c.BrokerRack },
		doc: "The rack of the broker, used in rack-aware replica assignment and by the rack-aware replica selector. Default: none."},
	{name: "replica.selector.class", kind: kindString, null: true, field: func(c *Config) any { return &c.ReplicaSelectorClass },
		check: checkReplicaSelector,
		doc:   "Which replica a consumer is sent to read from (KIP-392): org.apache.kafka.common.replica.RackAwareReplicaSelector sends a consumer with a client.rack to an in-sync replica in its rack; LeaderSelector, or none (the default), keeps every consumer on the leader."},
	{name: "zookeeper.connect", kind: kindString, null: true, field: func(c *Config) any { return &c.ZookeeperConnect },
		check: checkZookeeperConnect,
		doc:   `The ZooKeeper ensemble, "host:port,host:port", with an optional chroot path at the end ("127.0.0.1:2181/klassik"). Required.`},
	{name: "zookeeper.session.timeout.ms", kind: kindInt, def: "18000", field: func(c *Config) any { return &c.ZookeeperSessionTimeoutMs },
		check: atLeast(1),
		doc:   "The ZooKeeper session timeout: a broker that is silent this long loses its registration."},
	{name: "zookeeper.connection.timeout.ms", kind: kindInt, null: true, defaultFrom: "zookeeper.session.timeout.ms",
		field: func(c *Config) any { return &c.ZookeeperConnectionTimeoutMs }, check: atLeast(1),
		doc: "How long the broker waits to connect to ZooKeeper. Default: zookeeper.session.timeout.ms."},

	// Listeners.
	{name: "listeners", kind: kindList, def: "PLAINTEXT://:9092", field: func(c *Config) any { return &c.Listeners },
		check: checkListenersSyntax,
		doc:   `The listeners the broker binds, "NAME://host:port" separated by commas. An empty host binds every interface; an IPv6 address goes in brackets.`},
	{name: "advertised.listeners", kind: kindList, null: true, field: func(c *Config) any { return &c.AdvertisedListeners },
		check: checkAdvertisedSyntax,
		doc:   "The listeners published in ZooKeeper for clients and other brokers. Default: listeners. An empty host advertises the machine's hostname; 0.0.0.0 is not allowed."},
	{name: "listener.security.protocol.map", kind: kindList, def: "PLAINTEXT:PLAINTEXT,SSL:SSL,SASL_PLAINTEXT:SASL_PLAINTEXT,SASL_SSL:SASL_SSL",
		field: func(c *Config) any { return &c.ListenerSecurityProtocolMap }, check: checkProtocolMapSyntax,
		doc: `Maps listener names to security protocols, "NAME:PROTOCOL,...", e.g. "INTERNAL:SASL_SSL,EXTERNAL:SSL": PLAINTEXT, SSL (TLS), SASL_PLAINTEXT or SASL_SSL (SASL over TLS).`},
	{name: "inter.broker.listener.name", kind: kindString, null: true, field: func(c *Config) any { return &c.InterBrokerListenerName },
		doc: "The listener brokers use to talk to each other; it must be one of advertised.listeners, and it may not be set together with security.inter.broker.protocol. Default: the listener named after security.inter.broker.protocol (PLAINTEXT), as Kafka; klassik takes the first advertised listener when there is none of that name."},

	// Log directories.
	{name: "log.dirs", kind: kindList, null: true, field: func(c *Config) any { return &c.LogDirs },
		check: checkLogDirs,
		doc:   "The directories that hold the partition logs, separated by commas. Default: log.dir."},
	{name: "log.dir", kind: kindString, def: "/tmp/kafka-logs", into: "log.dirs", convert: same,
		doc: "The log directory, used when log.dirs is not set."},

	// Topics and the cluster.
	{name: "num.partitions", kind: kindInt, def: "1", field: func(c *Config) any { return &c.NumPartitions },
		check: atLeast(1), doc: "The number of partitions of an automatically created topic."},
	{name: "default.replication.factor", kind: kindInt, def: "1", field: func(c *Config) any { return &c.DefaultReplicationFactor },
		check: atLeast(1), doc: "The replication factor of an automatically created topic."},
	{name: "min.insync.replicas", kind: kindInt, def: "1", field: func(c *Config) any { return &c.MinInsyncReplicas },
		check: atLeast(1), doc: "With acks=all, the number of in-sync replicas that must hold a write for it to succeed."},
	{name: "auto.create.topics.enable", kind: kindBool, def: "true", field: func(c *Config) any { return &c.AutoCreateTopicsEnable },
		doc: "Create a topic when a client asks for metadata of one that does not exist."},
	{name: "delete.topic.enable", kind: kindBool, def: "true", field: func(c *Config) any { return &c.DeleteTopicEnable },
		doc: "Allow topics to be deleted."},
	{name: "unclean.leader.election.enable", kind: kindBool, def: "false", field: func(c *Config) any { return &c.UncleanLeaderElectionEnable },
		doc: "Elect a replica outside the ISR as leader when no in-sync replica is alive, at the risk of losing data."},
	{name: "controlled.shutdown.enable", kind: kindBool, def: "true", field: func(c *Config) any { return &c.ControlledShutdownEnable },
		doc: "Move leadership away before the broker shuts down."},
	{name: "auto.leader.rebalance.enable", kind: kindBool, def: "true", field: func(c *Config) any { return &c.AutoLeaderRebalanceEnable },
		doc: "Move leadership back to the preferred replica in the background."},
	{name: "leader.imbalance.check.interval.seconds", kind: kindLong, def: "300", field: func(c *Config) any { return &c.LeaderImbalanceCheckSeconds },
		check: atLeast(1), doc: "How often the controller checks for leader imbalance."},

	// Internal topics.
	{name: "offsets.topic.replication.factor", kind: kindShort, def: "3", field: func(c *Config) any { return &c.OffsetsTopicReplicationFactor },
		check: atLeast(1), doc: "The replication factor of __consumer_offsets (use 1 for a one-broker cluster)."},
	{name: "offsets.topic.num.partitions", kind: kindInt, def: "50", field: func(c *Config) any { return &c.OffsetsTopicNumPartitions },
		check: atLeast(1), doc: "The number of partitions of __consumer_offsets."},
	{name: "offsets.topic.segment.bytes", kind: kindInt, def: "104857600", field: func(c *Config) any { return &c.OffsetsTopicSegmentBytes },
		check: atLeast(1), doc: "The segment size of __consumer_offsets."},
	{name: "offsets.retention.minutes", kind: kindInt, def: "10080", field: func(c *Config) any { return &c.OffsetsRetentionMinutes },
		check: atLeast(1), doc: "How long the committed offsets of an empty group are kept."},
	{name: "transaction.state.log.replication.factor", kind: kindShort, def: "3", field: func(c *Config) any { return &c.TransactionStateLogReplicationFactor },
		check: atLeast(1), doc: "The replication factor of __transaction_state."},
	{name: "transaction.state.log.min.isr", kind: kindInt, def: "2", field: func(c *Config) any { return &c.TransactionStateLogMinIsr },
		check: atLeast(1), doc: "min.insync.replicas of __transaction_state."},
	{name: "transaction.state.log.num.partitions", kind: kindInt, def: "50", field: func(c *Config) any { return &c.TransactionStateLogNumPartitions },
		check: atLeast(1), doc: "The number of partitions of __transaction_state."},
	{name: "transaction.state.log.segment.bytes", kind: kindInt, def: "104857600", field: func(c *Config) any { return &c.TransactionStateLogSegmentBytes },
		check: atLeast(1), doc: "The segment size of __transaction_state."},

	// The log.
	{name: "log.segment.bytes", kind: kindInt, def: "1073741824", field: func(c *Config) any { return &c.LogSegmentBytes },
		check: atLeast(14), doc: "The largest size of a log segment file (at least 14, the size of the smallest record)."},
	{name: "log.roll.ms", kind: kindLong, null: true, field: func(c *Config) any { return &c.LogRollMs },
		check: atLeast(1), doc: "Roll a new segment after this many milliseconds even if it is not full. Default: log.roll.hours."},
	{name: "log.roll.hours", kind: kindInt, def: "168", into: "log.roll.ms", convert: scale(3_600_000),
		check: atLeast(1), doc: "log.roll.ms in hours, used when log.roll.ms is not set."},
	{name: "log.retention.ms", kind: kindLong, null: true, field: func(c *Config) any { return &c.LogRetentionMs },
		check: checkRetentionMs, doc: "How long a segment is kept before deletion; -1 keeps it forever. Default: log.retention.minutes, else log.retention.hours."},
	{name: "log.retention.minutes", kind: kindInt, null: true, into: "log.retention.ms", convert: scaleRetention(60_000),
		doc: "log.retention.ms in minutes, used when log.retention.ms is not set."},
	{name: "log.retention.hours", kind: kindInt, def: "168", into: "log.retention.ms", convert: scaleRetention(3_600_000),
		doc: "log.retention.ms in hours, used when neither log.retention.ms nor log.retention.minutes is set."},
	{name: "log.retention.bytes", kind: kindLong, def: "-1", field: func(c *Config) any { return &c.LogRetentionBytes },
		doc: "The largest size of a partition's log before old segments are deleted; -1 means no limit."},
	{name: "log.retention.check.interval.ms", kind: kindLong, def: "300000", field: func(c *Config) any { return &c.LogRetentionCheckIntervalMs },
		check: atLeast(1), doc: "How often the broker looks for segments to delete."},
	{name: "log.index.interval.bytes", kind: kindInt, def: "4096", field: func(c *Config) any { return &c.LogIndexIntervalBytes },
		check: atLeast(0), doc: "How many bytes of records lie between two entries of the offset index."},
	{name: "log.index.size.max.bytes", kind: kindInt, def: "10485760", field: func(c *Config) any { return &c.LogIndexSizeMaxBytes },
		check: atLeast(4), doc: "The largest size of an offset or time index file."},
	{name: "log.flush.interval.messages", kind: kindLong, def: strconv.FormatInt(math.MaxInt64, 10), field: func(c *Config) any { return &c.LogFlushIntervalMessages },
		check: atLeast(1), doc: "Force an fsync after this many records (default: never; durability comes from replication)."},
	{name: "log.flush.interval.ms", kind: kindLong, def: "-1", null: true, field: func(c *Config) any { return &c.LogFlushIntervalMs },
		check: atLeast(-1), doc: "Force an fsync after this many milliseconds. Default: none (Kafka: null), which klassik writes as -1."},
	{name: "log.cleanup.policy", kind: kindList, def: "delete", field: func(c *Config) any { return &c.LogCleanupPolicy },
		check: listOf("delete", "compact"), doc: `The default cleanup policy of a topic: "delete", "compact" or "compact,delete".`},
	{name: "log.cleaner.enable", kind: kindBool, def: "true", field: func(c *Config) any { return &c.LogCleanerEnable },
		doc: "Run the log cleaner, which compacts topics with cleanup.policy=compact."},
	{name: "log.cleaner.backoff.ms", kind: kindLong, def: "15000", field: func(c *Config) any { return &c.LogCleanerBackoffMs },
		check: atLeast(0), doc: "How long the log cleaner sleeps between passes over the compacted logs."},
	{name: "log.cleaner.delete.retention.ms", kind: kindLong, def: "86400000", field: func(c *Config) any { return &c.LogCleanerDeleteRetentionMs },
		check: atLeast(0), doc: "How long tombstones are kept in a compacted topic."},
	{name: "log.cleaner.min.cleanable.ratio", kind: kindDouble, def: "0.5", field: func(c *Config) any { return &c.LogCleanerMinCleanableRatio },
		check: between(0, 1), doc: "The share of a compacted log that must be dirty (written since the last clean) before the cleaner cleans it."},
	{name: "log.cleaner.min.compaction.lag.ms", kind: kindLong, def: "0", field: func(c *Config) any { return &c.LogCleanerMinCompactionLagMs },
		check: atLeast(0), doc: "How long a record stays uncompacted at least."},
	{name: "log.cleaner.max.compaction.lag.ms", kind: kindLong, def: strconv.FormatInt(math.MaxInt64, 10), field: func(c *Config) any { return &c.LogCleanerMaxCompactionLagMs },
		check: atLeast(1), doc: "How long a record may stay uncompacted at most. Accepted and passed to topics; klassik's cleaner does not yet force a clean by it."},
	{name: "log.segment.delete.delay.ms", kind: kindLong, def: "60000", field: func(c *Config) any { return &c.LogSegmentDeleteDelayMs },
		check: atLeast(0), doc: "How long Kafka waits before deleting a segment file it removed from the log. Accepted; klassik deletes the files at once."},
	{name: "log.roll.jitter.ms", kind: kindLong, null: true, field: func(c *Config) any { return &c.LogRollJitterMs },
		check: atLeast(0), doc: "The largest random jitter taken off segment.ms. Default: log.roll.jitter.hours. Accepted; klassik rolls without jitter."},
	{name: "log.roll.jitter.hours", kind: kindInt, def: "0", into: "log.roll.jitter.ms", convert: scale(3_600_000),
		check: atLeast(0), doc: "log.roll.jitter.ms in hours, used when log.roll.jitter.ms is not set."},
	{name: "log.flush.scheduler.interval.ms", kind: kindLong, def: strconv.FormatInt(math.MaxInt64, 10), field: func(c *Config) any { return &c.LogFlushSchedulerIntervalMs },
		doc: "How often the flusher checks whether a log is due for an fsync; the default of flush.ms when log.flush.interval.ms is not set."},
	{name: "log.preallocate", kind: kindBool, def: "false", field: func(c *Config) any { return &c.LogPreallocate },
		doc: "Preallocate a new segment file at its full size. Accepted; klassik does not preallocate."},
	{name: "log.message.format.version", kind: kindString, def: "3.0-IV1", field: func(c *Config) any { return &c.LogMessageFormatVersion },
		check: checkMessageFormatVersion, doc: "Deprecated. Kafka 3.x ignores it (inter.broker.protocol.version is 3.0 or later), and so does klassik: records are stored in format v2."},
	{name: "log.message.timestamp.difference.max.ms", kind: kindLong, def: strconv.FormatInt(math.MaxInt64, 10), field: func(c *Config) any { return &c.LogMessageTimestampDifferenceMaxMs },
		check: atLeast(0), doc: "Deprecated: the largest difference allowed between a record's CreateTime and the broker's clock. Accepted; klassik does not check it."},
	{name: "log.message.timestamp.before.max.ms", kind: kindLong, def: strconv.FormatInt(math.MaxInt64, 10), field: func(c *Config) any { return &c.LogMessageTimestampBeforeMaxMs },
		check: atLeast(0), doc: "How far a record's CreateTime may lie before the broker's clock. Accepted; klassik does not check it."},
	{name: "log.message.timestamp.after.max.ms", kind: kindLong, def: strconv.FormatInt(math.MaxInt64, 10), field: func(c *Config) any { return &c.LogMessageTimestampAfterMaxMs },
		check: atLeast(0), doc: "How far a record's CreateTime may lie after the broker's clock. Accepted; klassik does not check it."},
	{name: "log.message.downconversion.enable", kind: kindBool, def: "true", field: func(c *Config) any { return &c.LogMessageDownconversionEnable },
		doc: "Down-convert records for fetches of old versions. Accepted; klassik serves no fetch version that needs it."},
	{name: "log.local.retention.ms", kind: kindLong, def: "-2", field: func(c *Config) any { return &c.LogLocalRetentionMs },
		check: atLeast(-2), doc: "Tiered storage: how long segments stay on local disk (-2: retention.ms). Accepted; klassik has no tiered storage."},
	{name: "log.local.retention.bytes", kind: kindLong, def: "-2", field: func(c *Config) any { return &c.LogLocalRetentionBytes },
		check: atLeast(-2), doc: "Tiered storage: how many bytes of a partition stay on local disk (-2: retention.bytes). Accepted; klassik has no tiered storage."},
	{name: "log.message.timestamp.type", kind: kindString, def: "CreateTime", field: func(c *Config) any { return &c.LogMessageTimestampType },
		check: oneOf("CreateTime", "LogAppendTime"), doc: "Whether a record's timestamp is the producer's (CreateTime) or the broker's (LogAppendTime)."},
	{name: "compression.type", kind: kindString, def: "producer", field: func(c *Config) any { return &c.CompressionType },
		check: oneOf("uncompressed", "zstd", "lz4", "snappy", "gzip", "producer"),
		doc:   `The compression of stored batches; "producer" keeps the producer's.`},

	// Requests.
	{name: "message.max.bytes", kind: kindInt, def: "1048588", field: func(c *Config) any { return &c.MessageMaxBytes },
		check: atLeast(0), doc: "The largest record batch the broker accepts."},
	{name: "socket.request.max.bytes", kind: kindInt, def: "104857600", field: func(c *Config) any { return &c.SocketRequestMaxBytes },
		check: atLeast(1), doc: "The largest request the broker reads."},
	{name: "queued.max.request.bytes", kind: kindLong, def: "104857600", field: func(c *Config) any { return &c.QueuedMaxRequestBytes },
		check: atLeast(-1), doc: "The bytes of requests the broker holds at once, read but not yet handled, across all connections; a connection past it is not read until room is made. Kafka's default is -1 (no limit); klassik's is 100 MiB. -1 or 0: no limit."},
	{name: "queued.max.requests", kind: kindInt, def: "500", field: func(c *Config) any { return &c.QueuedMaxRequests },
		check: atLeast(1), doc: "The requests read and waiting for their handler, across all connections, before the broker stops reading more."},
	{name: "num.network.threads", kind: kindInt, def: "3", field: func(c *Config) any { return &c.NumNetworkThreads },
		check: atLeast(1), doc: "Accepted for compatibility with Kafka; klassik runs one goroutine pair per connection."},
	{name: "num.io.threads", kind: kindInt, def: "8", field: func(c *Config) any { return &c.NumIOThreads },
		check: atLeast(1), doc: "Accepted for compatibility with Kafka."},
	{name: "request.timeout.ms", kind: kindInt, def: "30000", field: func(c *Config) any { return &c.RequestTimeoutMs },
		check: atLeast(0), doc: "How long the broker waits for a response to a request it sends."},

	// Replication.
	{name: "replica.lag.time.max.ms", kind: kindLong, def: "30000", field: func(c *Config) any { return &c.ReplicaLagTimeMaxMs },
		check: atLeast(1), doc: "A follower that has not caught up for this long leaves the ISR."},
	{name: "replica.fetch.wait.max.ms", kind: kindInt, def: "500", field: func(c *Config) any { return &c.ReplicaFetchWaitMaxMs },
		check: atLeast(0), doc: "How long a follower's fetch waits for data at the leader; at most replica.socket.timeout.ms and replica.lag.time.max.ms."},
	{name: "replica.fetch.min.bytes", kind: kindInt, def: "1", field: func(c *Config) any { return &c.ReplicaFetchMinBytes },
		check: atLeast(0), doc: "The least data a follower's fetch waits for."},
	{name: "replica.fetch.max.bytes", kind: kindInt, def: "1048576", field: func(c *Config) any { return &c.ReplicaFetchMaxBytes },
		check: atLeast(0), doc: "The most data a follower fetches per partition."},
	{name: "replica.fetch.response.max.bytes", kind: kindInt, def: "10485760", field: func(c *Config) any { return &c.ReplicaFetchResponseMaxBytes },
		check: atLeast(0), doc: "The most data a follower fetches per request."},
	{name: "replica.socket.timeout.ms", kind: kindInt, def: "30000", field: func(c *Config) any { return &c.ReplicaSocketTimeoutMs },
		check: atLeast(1), doc: "The socket timeout of a follower's fetch."},
	{name: "replica.fetch.backoff.ms", kind: kindInt, def: "1000", field: func(c *Config) any { return &c.ReplicaFetchBackoffMs },
		check: atLeast(0), doc: "How long a follower waits after a failed fetch."},
	{name: "num.replica.fetchers", kind: kindInt, def: "1", field: func(c *Config) any { return &c.NumReplicaFetchers },
		check: atLeast(1), doc: "The number of fetchers per source broker."},
	{name: "max.incremental.fetch.session.cache.slots", kind: kindInt, def: "1000", field: func(c *Config) any { return &c.MaxIncrementalFetchSessionCacheSlots },
		check: atLeast(0), doc: "How many fetch sessions (KIP-227) the broker keeps; 0 turns them off."},
	{name: "replica.high.watermark.checkpoint.interval.ms", kind: kindLong, def: "5000", field: func(c *Config) any { return &c.ReplicaHighWatermarkCheckpointIntervalMs },
		check: atLeast(1), doc: "How often high watermarks are written to disk."},

	// Groups and producers.
	{name: "group.initial.rebalance.delay.ms", kind: kindInt, def: "3000", field: func(c *Config) any { return &c.GroupInitialRebalanceDelayMs },
		check: atLeast(0), doc: "How long the coordinator waits for more members before the first rebalance of a new group."},
	{name: "group.min.session.timeout.ms", kind: kindInt, def: "6000", field: func(c *Config) any { return &c.GroupMinSessionTimeoutMs },
		check: atLeast(0), doc: "The shortest session timeout a consumer may ask for."},
	{name: "group.max.session.timeout.ms", kind: kindInt, def: "1800000", field: func(c *Config) any { return &c.GroupMaxSessionTimeoutMs },
		check: atLeast(0), doc: "The longest session timeout a consumer may ask for."},
	{name: "offset.metadata.max.bytes", kind: kindInt, def: "4096", field: func(c *Config) any { return &c.OffsetMetadataMaxBytes },
		doc: "The longest metadata string an offset commit may carry; a longer one is refused with OFFSET_METADATA_TOO_LARGE."},
	{name: "transactional.id.expiration.ms", kind: kindInt, def: "604800000", field: func(c *Config) any { return &c.TransactionalIDExpirationMs },
		check: atLeast(1), doc: "How long an idle transactional id is kept."},
	{name: "transaction.partition.verification.enable", kind: kindBool, def: "true", field: func(c *Config) any { return &c.TransactionPartitionVerificationEnable },
		doc: "Whether a partition leader asks the transaction coordinator, before it appends a producer's first transactional batch, that the partition was added to the producer's transaction (KIP-890), so a late write cannot open a transaction that nothing will end."},
	{name: "transaction.max.timeout.ms", kind: kindInt, def: "900000", field: func(c *Config) any { return &c.TransactionMaxTimeoutMs },
		check: atLeast(1), doc: "The longest transaction.timeout.ms a producer may ask for; InitProducerId with a longer one answers INVALID_TRANSACTION_TIMEOUT."},
	{name: "transaction.abort.timed.out.transaction.cleanup.interval.ms", kind: kindInt, def: "10000", field: func(c *Config) any { return &c.TransactionAbortTimedOutTransactionCleanupIntervalMs },
		check: atLeast(1), doc: "How often the transaction coordinator looks for transactions past their timeout and aborts them."},
	{name: "transaction.remove.expired.transaction.cleanup.interval.ms", kind: kindInt, def: "3600000", field: func(c *Config) any { return &c.TransactionRemoveExpiredTransactionCleanupIntervalMs },
		check: atLeast(1), doc: "How often the transaction coordinator removes transactional ids idle for transactional.id.expiration.ms."},
	{name: "producer.id.expiration.ms", kind: kindInt, def: "86400000", field: func(c *Config) any { return &c.ProducerIDExpirationMs },
		check: atLeast(1), doc: "How long an idle producer id's state is kept."},

	// Client quotas.
	{name: "quota.window.num", kind: kindInt, def: "11", field: func(c *Config) any { return &c.QuotaWindowNum },
		check: atLeast(1), doc: "The number of samples kept in memory for client quotas."},
	{name: "quota.window.size.seconds", kind: kindInt, def: "1", field: func(c *Config) any { return &c.QuotaWindowSizeSeconds },
		check: atLeast(1), doc: "The time span of each sample for client quotas."},
	{name: "klassik.quota.max.tracked.entities", kind: kindInt, def: "10000", field: func(c *Config) any { return &c.QuotaMaxTrackedEntities },
		check: atLeast(1), doc: "klassik's own: the most (user, client id) combinations each quota type (produce, fetch, request) measures at once, so that a flood of client ids cannot grow the broker's memory; past it the one idle longest is forgotten (its rate starts again from zero). Kafka has no such bound; it forgets a client idle for an hour, as klassik also does."},

	// Replication quotas (ReplicationQuotaManager): the rates are dynamic per-broker configs,
	// set by kafka-reassign-partitions.sh --throttle; which replicas they apply to is the
	// topic configs leader/follower.replication.throttled.replicas.
	{name: "leader.replication.throttled.rate", kind: kindLong, def: "9223372036854775807", field: func(c *Config) any { return &c.LeaderReplicationThrottledRate },
		check: atLeast(0), doc: "The most bytes per second this broker sends, as a leader, to the throttled followers that are not in sync."},
	{name: "follower.replication.throttled.rate", kind: kindLong, def: "9223372036854775807", field: func(c *Config) any { return &c.FollowerReplicationThrottledRate },
		check: atLeast(0), doc: "The most bytes per second this broker fetches, as a follower not in sync, for throttled replicas."},
	{name: "replication.quota.window.num", kind: kindInt, def: "11", field: func(c *Config) any { return &c.ReplicationQuotaWindowNum },
		check: atLeast(1), doc: "The number of samples kept in memory for replication quotas."},
	{name: "replication.quota.window.size.seconds", kind: kindInt, def: "1", field: func(c *Config) any { return &c.ReplicationQuotaWindowSizeSeconds },
		check: atLeast(1), doc: "The time span of each sample for replication quotas."},
	// Authorization (Kafka's AclAuthorizer; broker/authz).
	{name: "authorizer.class.name", kind: kindString, def: "", field: func(c *Config) any { return &c.AuthorizerClassName },
		check: checkAuthorizerClassName,
		doc:   `The authorizer: "kafka.security.authorizer.AclAuthorizer" checks every request against the ACLs in ZooKeeper (/kafka-acl); "" (the default) authorizes nothing, every request is allowed. With PLAINTEXT between brokers the brokers' principal is User:ANONYMOUS, which must then be allowed ClusterAction on the cluster (super.users, or an ACL restricted to the brokers' hosts).`},
	{name: "super.users", kind: kindString, def: "", field: func(c *Config) any { return &c.SuperUsers },
		check: checkSuperUsers,
		doc:   `Principals allowed every operation on every resource from every host, whatever the ACLs say, separated by semicolons: "User:admin;User:broker". Default: none.`},
	{name: "allow.everyone.if.no.acl.found", kind: kindBool, def: "false", field: func(c *Config) any { return &c.AllowEveryoneIfNoACLFound },
		doc: "With the authorizer: a resource that no ACL applies to is open to everyone. Default false: closed to everyone but super users."},

	// klassik's own.
	{name: "metrics.listener", kind: kindString, null: true, field: func(c *Config) any { return &c.MetricsListener },
		check: checkMetricsListener,
		doc:   `klassik's own (Kafka uses JMX): the host:port of the HTTP listener serving /metrics and /healthz, e.g. "127.0.0.1:9404". Default: none (off).`},
	{name: "klassik.faults.enable", kind: kindBool, def: "false", field: func(c *Config) any { return &c.FaultsEnable },
		doc: "klassik's own, for the classroom: accept fault injection (kill, shutdown, expire-session, pause-fetch, delay-controller-requests) on metrics.listener under /klassik/faults/. Never in production."},
}

// byName indexes table.
var byName = func() map[string]*property {
	m := make(map[string]*property, len(table))
	for _, p := range table {
		m[p.name] = p
	}
	return m
}()

func same(v any) any { return v }

func scale(f int64) func(any) any {
	return func(v any) any { return v.(int64) * f }
}

// scaleRetention is scale for retention: Kafka treats any negative retention as -1 (forever).
func scaleRetention(f int64) func(any) any {
	return func(v any) any {
		if n := v.(int64); n >= 0 {
			return n * f
		}
		return int64(-1)
	}
}

func atLeast(min int64) func(any) string {
	return func(v any) string {
		if v.(int64) < min {
			return fmt.Sprintf("must be at least %d", min)
		}
		return ""
	}
}

func between(min, max float64) func(any) string {
	return func(v any) string {
		if f := v.(float64); f < min || f > max {
			return fmt.Sprintf("must be between %g and %g", min, max)
		}
		return ""
	}
}

// checkMessageFormatVersion accepts what Kafka's MetadataVersion.fromVersionString accepts.
func checkMessageFormatVersion(v any) string {
	if !ValidMessageFormatVersion(v.(string)) {
		return "must be a Kafka version such as 2.8 or 3.0-IV1"
	}
	return ""
}

// The replica selectors Kafka ships (replica.selector.class).
const (
	RackAwareReplicaSelector = "org.apache.kafka.common.replica.RackAwareReplicaSelector"
	LeaderReplicaSelector    = "org.apache.kafka.common.replica.LeaderSelector"
)

func checkReplicaSelector(v any) string {
	switch s := v.(string); s {
	case "", RackAwareReplicaSelector, LeaderReplicaSelector:
		return ""
	default:
		return "must be " + RackAwareReplicaSelector + " or " + LeaderReplicaSelector + " (klassik has no other selector classes)"
	}
}

func oneOf(allowed ...string) func(any) string {
	return func(v any) string {
		for _, a := range allowed {
			if v.(string) == a {
				return ""
			}
		}
		return "must be one of " + quoteAll(allowed)
	}
}

// listOf allows a non-empty comma-separated list of allowed words.
func listOf(allowed ...string) func(any) string {
	return func(v any) string {
		items := splitList(v.(string))
		if len(items) == 0 {
			return "must list at least one of " + quoteAll(allowed)
		}
		for _, it := range items {
			if oneOf(allowed...)(it) != "" {
				return fmt.Sprintf("%q is not one of %s", it, quoteAll(allowed))
			}
		}
		return ""
	}
}

func quoteAll(s []string) string {
	q := make([]string, len(s))
	for i, x := range s {
		q[i] = strconv.Quote(x)
	}
	return strings.Join(q, ", ")
}

func checkBrokerID(v any) string {
	if v.(int64) < 0 {
		return "must be at least 0 (klassik does not generate broker ids; give each broker its own broker.id)"
	}
	return ""
}

func checkRetentionMs(v any) string {
	if n := v.(int64); n < 1 && n != -1 {
		return "must be -1 (keep forever) or at least 1"
	}
	return ""
}

func checkLogDirs(v any) string {
	s := v.(string)
	if strings.TrimSpace(s) == "" {
		return "must name at least one directory"
	}
	for _, d := range strings.Split(s, ",") {
		if strings.TrimSpace(d) == "" {
			return "has an empty directory name between commas"
		}
	}
	return ""
}

// splitList splits a Kafka LIST value on commas, trimming spaces and dropping empty items.
func splitList(s string) []string {
	var out []string
	for _, it := range strings.Split(s, ",") {
		if it = strings.TrimSpace(it); it != "" {
			out = append(out, it)
		}
	}
	return out
}

// get reads p's field from c as int64, bool or string.
func (p *property) get(c *Config) any {
	switch f := p.field(c).(type) {
	case *int16:
		return int64(*f)
	case *int32:
		return int64(*f)
	case *int:
		return int64(*f)
	case *int64:
		return *f
	case *bool:
		return *f
	case *string:
		return *f
	case *float64:
		return *f
	}
	panic("conf: property " + p.name + " points at a field of an unsupported type")
}

// set stores v into p's field of c; it fails only when v does not fit the Go field.
func (p *property) set(c *Config, v any) string {
	fits := func(n, lo, hi int64) string {
		if n < lo || n > hi {
			return fmt.Sprintf("must be between %d and %d", lo, hi)
		}
		return ""
	}
	switch f := p.field(c).(type) {
	case *int16:
		n := v.(int64)
		if msg := fits(n, math.MinInt16, math.MaxInt16); msg != "" {
			return msg
		}
		*f = int16(n)
	case *int32:
		n := v.(int64)
		if msg := fits(n, math.MinInt32, math.MaxInt32); msg != "" {
			return msg
		}
		*f = int32(n)
	case *int:
		n := v.(int64)
		if msg := fits(n, math.MinInt, math.MaxInt); msg != "" {
			return msg
		}
		*f = int(n)
	case *int64:
		*f = v.(int64)
	case *bool:
		*f = v.(bool)
	case *string:
		*f = v.(string)
	case *float64:
		*f = v.(float64)
	default:
		panic("conf: property " + p.name + " points at a field of an unsupported type")
	}
	return ""
}

// fromText parses a value written as text (environment, --override, the table's defaults),
// the way Kafka parses server.properties.
func (p *property) fromText(s string) (any, string) {
	switch {
	case p.kind.isInteger():
		n, err := strconv.ParseInt(strings.TrimSpace(s), 10, 64)
		if err != nil {
			if ne, ok := err.(*strconv.NumError); ok && ne.Err == strconv.ErrRange {
				return nil, p.rangeMsg()
			}
			return nil, "must be " + p.kind.want()
		}
		return p.inRange(n)
	case p.kind == kindBool:
		switch strings.ToLower(strings.TrimSpace(s)) {
		case "true":
			return true, ""
		case "false":
			return false, ""
		}
		return nil, "must be true or false"
	case p.kind == kindList:
		return strings.TrimSpace(s), ""
	case p.kind == kindDouble:
		f, err := strconv.ParseFloat(strings.TrimSpace(s), 64)
		if err != nil || math.IsNaN(f) || math.IsInf(f, 0) {
			return nil, "must be " + p.kind.want()
		}
		return f, ""
	default:
		return s, ""
	}
}

func (p *property) inRange(n int64) (any, string) {
	lo, hi := p.kind.bounds()
	if n < lo || n > hi {
		return nil, p.rangeMsg()
	}
	return n, ""
}

func (p *property) rangeMsg() string {
	lo, hi := p.kind.bounds()
	return fmt.Sprintf("must be between %d and %d (a %s)", lo, hi, p.kind)
}

// fromTOML converts a decoded TOML value. TOML's types are strict: a number written in
// quotes is a string, so broker.id = "1" is an error that says to drop the quotes.
func (p *property) fromTOML(v any) (any, string) {
	got := tomlTypeName(v)
	switch {
	case p.kind.isInteger():
		switch n := v.(type) {
		case int64:
			return p.inRange(n)
		case string:
			if _, err := strconv.ParseInt(strings.TrimSpace(n), 10, 64); err == nil {
				return nil, fmt.Sprintf("must be an integer, not a string (write %s = %s, without quotes)", p.name, strings.TrimSpace(n))
			}
		}
	case p.kind == kindBool:
		switch b := v.(type) {
		case bool:
			return b, ""
		case string:
			if t := strings.ToLower(b); t == "true" || t == "false" {
				return nil, fmt.Sprintf("must be true or false, not a string (write %s = %s, without quotes)", p.name, t)
			}
		}
	case p.kind == kindString || p.kind == kindPassword:
		if s, ok := v.(string); ok {
			return s, ""
		}
	case p.kind == kindDouble:
		switch n := v.(type) {
		case float64:
			if !math.IsNaN(n) && !math.IsInf(n, 0) {
				return n, ""
			}
		case int64:
			return float64(n), ""
		}
	case p.kind == kindList:
		switch l := v.(type) {
		case string:
			return strings.TrimSpace(l), ""
		case []any:
			items := make([]string, 0, len(l))
			for _, it := range l {
				s, ok := it.(string)
				if !ok {
					return nil, fmt.Sprintf("must be %s; the array holds a %s", p.kind.want(), tomlTypeName(it))
				}
				items = append(items, strings.TrimSpace(s))
			}
			return strings.Join(items, ","), ""
		}
	}
	return nil, fmt.Sprintf("must be %s, not a TOML %s", p.kind.want(), got)
}
