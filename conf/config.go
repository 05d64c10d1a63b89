package conf

// Config is the typed broker configuration. Every field carries the Kafka property name it is
// read from; durations keep Kafka's units in their names (Ms, Hours) so a reader can match a
// field with Kafka's documentation at a glance.
type Config struct {
	BrokerID                     int32  // broker.id
	Listeners                    string // listeners, e.g. "PLAINTEXT://127.0.0.1:9092" (comma separated)
	AdvertisedListeners          string // advertised.listeners; "" = listeners (Load fills it in)
	ListenerSecurityProtocolMap  string // listener.security.protocol.map
	InterBrokerListenerName      string // inter.broker.listener.name; "" = PLAINTEXT if listed, else the first advertised listener (Load fills it in)
	ZookeeperConnect             string // zookeeper.connect, "h1:2181,h2:2181/chroot"
	ZookeeperSessionTimeoutMs    int    // zookeeper.session.timeout.ms (18000)
	ZookeeperConnectionTimeoutMs int    // zookeeper.connection.timeout.ms (defaults to the session timeout)
	LogDirs                      string // log.dirs (falls back to log.dir, default /tmp/kafka-logs)

	NumPartitions                 int32 // num.partitions (1)
	DefaultReplicationFactor      int16 // default.replication.factor (1)
	MinInsyncReplicas             int   // min.insync.replicas (1)
	OffsetsTopicReplicationFactor int16 // offsets.topic.replication.factor (3)
	OffsetsTopicNumPartitions     int32 // offsets.topic.num.partitions (50)
	OffsetsTopicSegmentBytes      int64 // offsets.topic.segment.bytes (104857600)
	OffsetsRetentionMinutes       int   // offsets.retention.minutes (10080)
	AutoCreateTopicsEnable        bool  // auto.create.topics.enable (true)
	DeleteTopicEnable             bool  // delete.topic.enable (true)
	UncleanLeaderElectionEnable   bool  // unclean.leader.election.enable (false)
	ControlledShutdownEnable      bool  // controlled.shutdown.enable (true)
	AutoLeaderRebalanceEnable     bool  // auto.leader.rebalance.enable (true)
	LeaderImbalanceCheckSeconds   int   // leader.imbalance.check.interval.seconds (300)

	TransactionStateLogReplicationFactor int16 // transaction.state.log.replication.factor (3)
	TransactionStateLogMinIsr            int   // transaction.state.log.min.isr (2)
	TransactionStateLogNumPartitions     int32 // transaction.state.log.num.partitions (50)
	TransactionStateLogSegmentBytes      int64 // transaction.state.log.segment.bytes (104857600)

	LogSegmentBytes             int64  // log.segment.bytes (1073741824)
	LogRollMs                   int64  // log.roll.ms, else log.roll.hours (168) in ms
	LogRetentionMs              int64  // log.retention.ms, else .minutes, else .hours (168); -1 = forever
	LogRetentionBytes           int64  // log.retention.bytes (-1)
	LogRetentionCheckIntervalMs int64  // log.retention.check.interval.ms (300000)
	LogIndexIntervalBytes       int    // log.index.interval.bytes (4096)
	LogIndexSizeMaxBytes        int    // log.index.size.max.bytes (10485760)
	LogFlushIntervalMessages    int64  // log.flush.interval.messages (Long.MaxValue)
	LogFlushIntervalMs          int64  // log.flush.interval.ms (-1 = none; Kafka: null)
	LogCleanupPolicy            string // log.cleanup.policy ("delete")
	LogCleanerEnable            bool   // log.cleaner.enable (true)
	LogCleanerDeleteRetentionMs int64  // log.cleaner.delete.retention.ms (86400000)
	LogCleanerBackoffMs         int64  // log.cleaner.backoff.ms (15000)
	LogMessageTimestampType     string // log.message.timestamp.type ("CreateTime")
	CompressionType             string // compression.type ("producer")

	// Log properties that supply topic-config defaults (KafkaConfig.extractLogConfigMap).
	// Those marked "accepted" are read, checked and shown, but klassik does not act on them.
	LogCleanerMinCleanableRatio        float64 // log.cleaner.min.cleanable.ratio (0.5)
	LogCleanerMinCompactionLagMs       int64   // log.cleaner.min.compaction.lag.ms (0)
	LogCleanerMaxCompactionLagMs       int64   // log.cleaner.max.compaction.lag.ms (Long.MaxValue); accepted
	LogSegmentDeleteDelayMs            int64   // log.segment.delete.delay.ms (60000); accepted
	LogRollJitterMs                    int64   // log.roll.jitter.ms, else log.roll.jitter.hours (0); accepted
	LogFlushSchedulerIntervalMs        int64   // log.flush.scheduler.interval.ms (Long.MaxValue)
	LogPreallocate                     bool    // log.preallocate (false); accepted
	LogMessageFormatVersion            string  // log.message.format.version ("3.0-IV1"); ignored, as by Kafka 3.x
	LogMessageTimestampDifferenceMaxMs int64   // log.message.timestamp.difference.max.ms (Long.MaxValue); accepted
	LogMessageTimestampBeforeMaxMs     int64   // log.message.timestamp.before.max.ms (Long.MaxValue); accepted
	LogMessageTimestampAfterMaxMs      int64   // log.message.timestamp.after.max.ms (Long.MaxValue); accepted
	LogMessageDownconversionEnable     bool    // log.message.downconversion.enable (true); accepted
	LogLocalRetentionMs                int64   // log.local.retention.ms (-2); accepted (no tiered storage)
	LogLocalRetentionBytes             int64   // log.local.retention.bytes (-2); accepted (no tiered storage)

	MessageMaxBytes       int   // message.max.bytes (1048588)
	SocketRequestMaxBytes int32 // socket.request.max.bytes (104857600)
	QueuedMaxRequestBytes int64 // queued.max.request.bytes (104857600; Kafka: -1, no limit)
	QueuedMaxRequests     int   // queued.max.requests (500)
	NumNetworkThreads     int   // num.network.threads (3); accepted for compatibility
	NumIOThreads          int   // num.io.threads (8); accepted for compatibility
	RequestTimeoutMs      int   // request.timeout.ms (30000)

	ReplicaLagTimeMaxMs                      int64 // replica.lag.time.max.ms (30000)
	ReplicaFetchWaitMaxMs                    int   // replica.fetch.wait.max.ms (500)
	ReplicaFetchMinBytes                     int   // replica.fetch.min.bytes (1)
	ReplicaFetchMaxBytes                     int   // replica.fetch.max.bytes (1048576)
	ReplicaFetchResponseMaxBytes             int   // replica.fetch.response.max.bytes (10485760)
	ReplicaSocketTimeoutMs                   int   // replica.socket.timeout.ms (30000)
	ReplicaFetchBackoffMs                    int   // replica.fetch.backoff.ms (1000)
	NumReplicaFetchers                       int   // num.replica.fetchers (1)
	MaxIncrementalFetchSessionCacheSlots     int   // max.incremental.fetch.session.cache.slots (1000)
	ReplicaHighWatermarkCheckpointIntervalMs int64 // replica.high.watermark.checkpoint.interval.ms (5000)

	GroupInitialRebalanceDelayMs int // group.initial.rebalance.delay.ms (3000)
	GroupMinSessionTimeoutMs     int // group.min.session.timeout.ms (6000)
	GroupMaxSessionTimeoutMs     int // group.max.session.timeout.ms (1800000)
	OffsetMetadataMaxBytes       int // offset.metadata.max.bytes (4096)

	TransactionalIDExpirationMs int // transactional.id.expiration.ms (604800000)
	ProducerIDExpirationMs      int // producer.id.expiration.ms (86400000)

	TransactionMaxTimeoutMs                              int  // transaction.max.timeout.ms (900000)
	TransactionPartitionVerificationEnable               bool // transaction.partition.verification.enable (true)
	TransactionAbortTimedOutTransactionCleanupIntervalMs int  // transaction.abort.timed.out.transaction.cleanup.interval.ms (10000)
	TransactionRemoveExpiredTransactionCleanupIntervalMs int  // transaction.remove.expired.transaction.cleanup.interval.ms (3600000)

	// Client quotas (ClientQuotaManagerConfig): how rates are sampled. The quotas themselves
	// are entity configs in ZooKeeper (/config/users, /config/clients).
	QuotaWindowNum          int // quota.window.num (11)
	QuotaWindowSizeSeconds  int // quota.window.size.seconds (1)
	QuotaMaxTrackedEntities int // klassik.quota.max.tracked.entities (10000)

	// Security (security_properties.go): the broker-wide values; each may be overridden for one
	// listener with listener.name.<listener>.<property> (Config.ListenerSecurity).
	SecurityInterBrokerProtocol           string // security.inter.broker.protocol ("PLAINTEXT")
	SaslEnabledMechanisms                 string // sasl.enabled.mechanisms ("GSSAPI")
	SaslMechanismInterBrokerProtocol      string // sasl.mechanism.inter.broker.protocol ("GSSAPI")
	SaslServerMaxReceiveSize              int    // sasl.server.max.receive.size (524288)
	ConnectionsMaxReauthMs                int64  // connections.max.reauth.ms (0: never)
	ConnectionFailedAuthenticationDelayMs int    // connection.failed.authentication.delay.ms (100)
	SslKeystoreType                       string // ssl.keystore.type ("JKS"; klassik reads only "PEM")
	SslKeystoreLocation                   string // ssl.keystore.location
	SslKeystorePassword                   string // ssl.keystore.password (password)
	SslKeystoreKey                        string // ssl.keystore.key (password)
	SslKeystoreCertificateChain           string // ssl.keystore.certificate.chain (password)
	SslKeyPassword                        string // ssl.key.password (password)
	SslTruststoreType                     string // ssl.truststore.type ("JKS"; klassik reads only "PEM")
	SslTruststoreLocation                 string // ssl.truststore.location
	SslTruststorePassword                 string // ssl.truststore.password (password)
	SslTruststoreCertificates             string // ssl.truststore.certificates (password)
	SslClientAuth                         string // ssl.client.auth ("none")
	SslPrincipalMappingRules              string // ssl.principal.mapping.rules ("DEFAULT")
	SslEnabledProtocols                   string // ssl.enabled.protocols ("TLSv1.2,TLSv1.3")
	SslProtocol                           string // ssl.protocol ("TLSv1.3")
	SslCipherSuites                       string // ssl.cipher.suites ("": the defaults)
	SslEndpointIdentificationAlgorithm    string // ssl.endpoint.identification.algorithm ("https")
	SslReloadCheckIntervalMs              int64  // klassik.ssl.reload.check.interval.ms (10000)

	// Replication quotas (ReplicationQuotaManagerConfig).
	LeaderReplicationThrottledRate    int64 // leader.replication.throttled.rate (Long.MAX_VALUE)
	FollowerReplicationThrottledRate  int64 // follower.replication.throttled.rate (Long.MAX_VALUE)
	ReplicationQuotaWindowNum         int   // replication.quota.window.num (11)
	ReplicationQuotaWindowSizeSeconds int   // replication.quota.window.size.seconds (1)
	// Authorization (AclAuthorizer): ACLs live in ZooKeeper, these say how they apply.
	AuthorizerClassName       string // authorizer.class.name ("": none; AuthorizerACL)
	SuperUsers                string // super.users ("": none), "User:a;User:b"
	AllowEveryoneIfNoACLFound bool   // allow.everyone.if.no.acl.found (false)

	BrokerRack           string // broker.rack ("")
	ReplicaSelectorClass string // replica.selector.class ("": the leader)

	// MetricsListener is the HTTP listener for /metrics and /healthz ("" = off). Kafka has no
	// such property (it uses JMX); klassik names it metrics.listener, e.g. "127.0.0.1:9404".
	MetricsListener string // metrics.listener

	// FaultsEnable lets the classroom inject real faults through the metrics.listener
	// (/klassik/faults/...): kill, controlled shutdown, ZooKeeper session expiry, a paused
	// replica fetcher. Off by default; never turn it on in production.
	FaultsEnable bool // klassik.faults.enable (false)

	// explicit holds each property set in server.toml, a KAFKA_ variable or an --override,
	// with its value as text: Kafka's "originals", which DescribeConfigs shows as
	// STATIC_BROKER_CONFIG. nil when nothing was set. Filled by Load; read-only after.
	explicit map[string]string
	// overrides holds the listener.name.<listener>.<property> settings, by their full name,
	// with their values typed as the property's kind (listener_overrides.go). Filled by build.
	overrides map[string]any
	// dynamicDefault and dynamicBroker are the dynamic broker configs this Config was made
	// with (WithDynamic): /config/brokers/<default> and /config/brokers/<id>.
	dynamicDefault, dynamicBroker map[string]string
}

// StaticValue reports the value property name was given explicitly (in server.toml, a
// KAFKA_ variable or an --override), as text; false if it was left to its default.
func (c *Config) StaticValue(name string) (string, bool) {
	v, ok := c.explicit[name]
	return v, ok
}

// Known reports whether klassik reads broker property name.
func Known(name string) bool { return byName[name] != nil }

// DefaultValue reports Kafka's default of broker property name as text; false for a
// property klassik does not read and for one whose Kafka default is null.
func DefaultValue(name string) (string, bool) {
	p := byName[name]
	if p == nil || p.null {
		return "", false
	}
	return p.def, true
}
