package conf

import (
	"math"
	"reflect"
	"strings"
	"testing"
)

// TestDefaultsAreKafkas checks Default against Kafka 3.x's documented broker defaults
// (KafkaConfig, LogConfig); the folded properties resolve as Kafka resolves them:
// log.retention.hours = 168 and log.roll.hours = 168 give a week in milliseconds, log.dir
// gives log.dirs, zookeeper.session.timeout.ms gives zookeeper.connection.timeout.ms.
func TestDefaultsAreKafkas(t *testing.T) {
	want := Config{
		BrokerID:                     -1,
		Listeners:                    "PLAINTEXT://:9092",
		AdvertisedListeners:          "",
		ListenerSecurityProtocolMap:  "PLAINTEXT:PLAINTEXT,SSL:SSL,SASL_PLAINTEXT:SASL_PLAINTEXT,SASL_SSL:SASL_SSL",
		InterBrokerListenerName:      "",
		ZookeeperConnect:             "",
		ZookeeperSessionTimeoutMs:    18000,
		ZookeeperConnectionTimeoutMs: 18000,
		LogDirs:                      "/tmp/kafka-logs",

		NumPartitions:                 1,
		DefaultReplicationFactor:      1,
		MinInsyncReplicas:             1,
		OffsetsTopicReplicationFactor: 3,
		OffsetsTopicNumPartitions:     50,
		OffsetsTopicSegmentBytes:      104857600,
		OffsetsRetentionMinutes:       10080,
		AutoCreateTopicsEnable:        true,
		DeleteTopicEnable:             true,
		UncleanLeaderElectionEnable:   false,
		ControlledShutdownEnable:      true,
		AutoLeaderRebalanceEnable:     true,
		LeaderImbalanceCheckSeconds:   300,

		TransactionStateLogReplicationFactor: 3,
		TransactionStateLogMinIsr:            2,
		TransactionStateLogNumPartitions:     50,
		TransactionStateLogSegmentBytes:      104857600,

		LogSegmentBytes:             1073741824,
		LogRollMs:                   168 * 3600 * 1000,
		LogRetentionMs:              168 * 3600 * 1000,
		LogRetentionBytes:           -1,
		LogRetentionCheckIntervalMs: 300000,
		LogIndexIntervalBytes:       4096,
		LogIndexSizeMaxBytes:        10485760,
		LogFlushIntervalMessages:    math.MaxInt64,
		LogFlushIntervalMs:          -1,
		LogCleanupPolicy:            "delete",
		LogCleanerEnable:            true,
		LogCleanerDeleteRetentionMs: 86400000,
		LogCleanerBackoffMs:         15000,
		LogMessageTimestampType:     "CreateTime",
		CompressionType:             "producer",

		LogCleanerMinCleanableRatio:        0.5,
		LogCleanerMinCompactionLagMs:       0,
		LogCleanerMaxCompactionLagMs:       math.MaxInt64,
		LogSegmentDeleteDelayMs:            60000,
		LogRollJitterMs:                    0,
		LogFlushSchedulerIntervalMs:        math.MaxInt64,
		LogPreallocate:                     false,
		LogMessageFormatVersion:            "3.0-IV1",
		LogMessageTimestampDifferenceMaxMs: math.MaxInt64,
		LogMessageTimestampBeforeMaxMs:     math.MaxInt64,
		LogMessageTimestampAfterMaxMs:      math.MaxInt64,
		LogMessageDownconversionEnable:     true,
		LogLocalRetentionMs:                -2,
		LogLocalRetentionBytes:             -2,

		MessageMaxBytes:       1048588,
		SocketRequestMaxBytes: 104857600,
		QueuedMaxRequestBytes: 104857600,
		QueuedMaxRequests:     500,
		NumNetworkThreads:     3,
		NumIOThreads:          8,
		RequestTimeoutMs:      30000,

		ReplicaLagTimeMaxMs:                      30000,
		ReplicaFetchWaitMaxMs:                    500,
		ReplicaFetchMinBytes:                     1,
		ReplicaFetchMaxBytes:                     1048576,
		ReplicaFetchResponseMaxBytes:             10485760,
		ReplicaSocketTimeoutMs:                   30000,
		ReplicaFetchBackoffMs:                    1000,
		NumReplicaFetchers:                       1,
		MaxIncrementalFetchSessionCacheSlots:     1000,
		ReplicaHighWatermarkCheckpointIntervalMs: 5000,

		GroupInitialRebalanceDelayMs: 3000,
		GroupMinSessionTimeoutMs:     6000,
		GroupMaxSessionTimeoutMs:     1800000,
		OffsetMetadataMaxBytes:       4096,

		TransactionalIDExpirationMs: 604800000,
		ProducerIDExpirationMs:      86400000,

		TransactionMaxTimeoutMs:                              900000,
		TransactionPartitionVerificationEnable:               true,
		TransactionAbortTimedOutTransactionCleanupIntervalMs: 10000,
		TransactionRemoveExpiredTransactionCleanupIntervalMs: 3600000,

		AuthorizerClassName:       "",
		SuperUsers:                "",
		AllowEveryoneIfNoACLFound: false,

		BrokerRack:              "",
		QuotaWindowNum:          11,
		QuotaWindowSizeSeconds:  1,
		QuotaMaxTrackedEntities: 10000,

		LeaderReplicationThrottledRate:    math.MaxInt64,
		FollowerReplicationThrottledRate:  math.MaxInt64,
		ReplicationQuotaWindowNum:         11,
		ReplicationQuotaWindowSizeSeconds: 1,

		MetricsListener: "",
		FaultsEnable:    false,

		SecurityInterBrokerProtocol:           "PLAINTEXT",
		SaslEnabledMechanisms:                 "GSSAPI",
		SaslMechanismInterBrokerProtocol:      "GSSAPI",
		SaslServerMaxReceiveSize:              524288,
		ConnectionsMaxReauthMs:                0,
		ConnectionFailedAuthenticationDelayMs: 100,
		SslKeystoreType:                       "JKS",
		SslTruststoreType:                     "JKS",
		SslClientAuth:                         "none",
		SslPrincipalMappingRules:              "DEFAULT",
		SslEnabledProtocols:                   "TLSv1.2,TLSv1.3",
		SslProtocol:                           "TLSv1.3",
		SslEndpointIdentificationAlgorithm:    "https",
		SslReloadCheckIntervalMs:              10000,
	}
	got := Default()
	if !reflect.DeepEqual(*got, want) {
		gv, wv := reflect.ValueOf(*got), reflect.ValueOf(want)
		for i := 0; i < gv.NumField(); i++ {
			if !gv.Type().Field(i).IsExported() {
				continue
			}
			if gv.Field(i).Interface() != wv.Field(i).Interface() {
				t.Errorf("Default().%s = %v, want Kafka's %v", gv.Type().Field(i).Name, gv.Field(i).Interface(), wv.Field(i).Interface())
			}
		}
	}
}

// TestDefaultsNeedOnlyIdentity: Kafka's defaults are a working broker once it has an id and a
// ZooKeeper to register in.
func TestDefaultsNeedOnlyIdentity(t *testing.T) {
	c := Default()
	err := c.Validate()
	assertErrors(t, err,
		`broker.id = -1: must be at least 0 (klassik does not generate broker ids; give each broker its own broker.id)`,
		`zookeeper.connect = "": must be set to the ZooKeeper ensemble, e.g. "127.0.0.1:2181/klassik"`)
	c.BrokerID = 0
	c.ZookeeperConnect = "127.0.0.1:2181"
	if err := c.Validate(); err != nil {
		t.Fatalf("Validate() = %v, want nil", err)
	}
}

// TestTableCoversConfig: every Config field is filled by exactly one property, every default
// parses, and every kind fits the Go field it fills.
func TestTableCoversConfig(t *testing.T) {
	c := &Config{}
	v := reflect.ValueOf(c).Elem()
	for i := 0; i < v.NumField(); i++ {
		if !v.Type().Field(i).IsExported() {
			continue // bookkeeping (explicit), not a property
		}
		addr := v.Field(i).Addr().Interface()
		var owners []string
		for _, p := range table {
			if p.field != nil && p.field(c) == addr {
				owners = append(owners, p.name)
			}
		}
		if len(owners) != 1 {
			t.Errorf("Config.%s is filled by %d properties %v, want exactly 1", v.Type().Field(i).Name, len(owners), owners)
		}
	}
	seen := map[string]bool{}
	for _, p := range table {
		if seen[p.name] {
			t.Errorf("property %s is listed twice", p.name)
		}
		seen[p.name] = true
		if p.doc == "" {
			t.Errorf("property %s has no doc", p.name)
		}
		if (p.field == nil) == (p.into == "") {
			t.Errorf("property %s must have either a field or a property it is folded into", p.name)
		}
		if p.into != "" && (byName[p.into] == nil || byName[p.into].field == nil || p.convert == nil) {
			t.Errorf("property %s is folded into %q, which has no field (or it has no convert)", p.name, p.into)
		}
		if p.def != "" {
			dv, msg := p.fromText(p.def)
			if msg != "" {
				t.Errorf("default of %s = %q does not parse: %s", p.name, p.def, msg)
				continue
			}
			if p.field != nil {
				if msg := p.set(&Config{}, dv); msg != "" {
					t.Errorf("default of %s does not fit its field: %s", p.name, msg)
				}
			}
		}
		if p.field != nil {
			switch p.field(c).(type) {
			case *int16, *int32, *int, *int64:
				if !p.kind.isInteger() {
					t.Errorf("property %s is a %s but fills an integer field", p.name, p.kind)
				}
			case *bool:
				if p.kind != kindBool {
					t.Errorf("property %s is a %s but fills a bool field", p.name, p.kind)
				}
			case *string:
				if p.kind != kindString && p.kind != kindList && p.kind != kindPassword {
					t.Errorf("property %s is a %s but fills a string field", p.name, p.kind)
				}
			case *float64:
				if p.kind != kindDouble {
					t.Errorf("property %s is a %s but fills a float64 field", p.name, p.kind)
				}
			default:
				t.Errorf("property %s fills a field of unsupported type %T", p.name, p.field(c))
			}
		}
	}
}

func TestDocs(t *testing.T) {
	docs := Docs()
	if len(docs) != len(table) {
		t.Fatalf("Docs() has %d entries, want %d", len(docs), len(table))
	}
	byDoc := map[string]PropertyDoc{}
	for _, d := range docs {
		byDoc[d.Name] = d
	}
	for _, tc := range []PropertyDoc{
		{Name: "log.retention.hours", Type: "int", Default: "168"},
		{Name: "log.retention.ms", Type: "long", Default: "null"},
		{Name: "offsets.topic.replication.factor", Type: "short", Default: "3"},
		{Name: "listeners", Type: "list", Default: "PLAINTEXT://:9092"},
		{Name: "auto.create.topics.enable", Type: "boolean", Default: "true"},
	} {
		d := byDoc[tc.Name]
		if d.Type != tc.Type || d.Default != tc.Default {
			t.Errorf("Docs()[%s] = type %s default %s, want %s %s", tc.Name, d.Type, d.Default, tc.Type, tc.Default)
		}
	}
}

func TestClosest(t *testing.T) {
	for _, tc := range []struct{ in, want string }{
		{"brokr.id", "broker.id"},
		{"zookeeper.conect", "zookeeper.connect"},
		{"log.dirz", "log.dirs"},
		{"log.retention.hour", "log.retention.hours"},
		{"num.partition", "num.partitions"},
		{"advertised.listener", "advertised.listeners"},
		{"retention.ms", "log.retention.ms"},
	} {
		if got := closest(tc.in); got != tc.want {
			t.Errorf("closest(%q) = %q, want %q", tc.in, got, tc.want)
		}
	}
	if d := levenshtein("kitten", "sitting"); d != 3 {
		t.Errorf("levenshtein(kitten, sitting) = %d, want 3", d)
	}
}

// assertErrors checks that err holds exactly the given lines, in any order.
func assertErrors(t *testing.T, err error, want ...string) {
	t.Helper()
	if err == nil {
		if len(want) > 0 {
			t.Fatalf("got no error, want:\n%s", strings.Join(want, "\n"))
		}
		return
	}
	got := strings.Split(err.Error(), "\n")
	missing := map[string]bool{}
	for _, w := range want {
		missing[w] = true
	}
	var extra []string
	for _, g := range got {
		if missing[g] {
			delete(missing, g)
		} else {
			extra = append(extra, g)
		}
	}
	if len(missing) > 0 || len(extra) > 0 {
		t.Fatalf("error:\n%s\nwant:\n%s", err, strings.Join(want, "\n"))
	}
}
