package conf

import (
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
)

const base = "broker.id = 0\nzookeeper.connect = \"127.0.0.1:2181/klassik\"\n"

// loadTOML writes text to a server.toml in a temporary directory and loads it. Errors are
// returned with the temporary path replaced by "server.toml", as a user who ran
// `klassik broker --config server.toml` reads them.
func loadTOML(t *testing.T, text string, environ, overrides []string) (*Config, error) {
	t.Helper()
	dir := t.TempDir()
	path := filepath.Join(dir, "server.toml")
	if err := os.WriteFile(path, []byte(text), 0o644); err != nil {
		t.Fatal(err)
	}
	c, err := Load(path, environ, overrides)
	if err != nil {
		return c, errString(strings.ReplaceAll(err.Error(), path, "server.toml"))
	}
	return c, nil
}

type errString string

func (e errString) Error() string { return string(e) }

func mustLoad(t *testing.T, text string, environ, overrides []string) *Config {
	t.Helper()
	c, err := loadTOML(t, text, environ, overrides)
	if err != nil {
		t.Fatalf("Load:\n%s", err)
	}
	return c
}

// TestTOMLKeys: Kafka's dotted names are TOML dotted keys, which make nested tables; quoted
// keys and [sections] spell the same properties.
func TestTOMLKeys(t *testing.T) {
	for _, tc := range []struct {
		name string
		text string
	}{
		{"dotted", `
broker.id = 7
zookeeper.connect = "zk:2181"
log.dirs = "/a,/b"
num.partitions = 3
log.cleaner.enable = false
`},
		{"quoted", `
"broker.id" = 7
"zookeeper.connect" = "zk:2181"
"log.dirs" = "/a,/b"
"num.partitions" = 3
"log.cleaner.enable" = false
`},
		{"sections", `
zookeeper.connect = "zk:2181"
num.partitions = 3
[broker]
id = 7
[log]
dirs = ["/a", "/b"]
cleaner.enable = false
`},
		{"mixed", `
broker."id" = 7
"zookeeper".connect = "zk:2181"
log.dirs = [" /a ", "/b"]
"num.partitions" = 3
log."cleaner.enable" = false
`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c := mustLoad(t, tc.text, nil, nil)
			if c.BrokerID != 7 || c.ZookeeperConnect != "zk:2181" || c.LogDirs != "/a,/b" || c.NumPartitions != 3 || c.LogCleanerEnable {
				t.Errorf("got broker.id=%d zookeeper.connect=%q log.dirs=%q num.partitions=%d log.cleaner.enable=%v",
					c.BrokerID, c.ZookeeperConnect, c.LogDirs, c.NumPartitions, c.LogCleanerEnable)
			}
			if got := c.LogDirList(); len(got) != 2 || got[0] != "/a" || got[1] != "/b" {
				t.Errorf("LogDirList() = %q, want [/a /b]", got)
			}
		})
	}
}

// TestErrors runs every error a user can meet in server.toml and checks the lines they read.
func TestErrors(t *testing.T) {
	for _, tc := range []struct {
		name string
		text string // base is prepended unless the text sets broker.id itself
		want []string
	}{
		// Unknown keys name the closest known one.
		{"unknown key", `brokr.id = 1`, []string{
			`unknown property "brokr.id" in server.toml (did you mean "broker.id"?)`}},
		{"unknown keys", "zookeeper.conect = \"x\"\nlog.dirz = \"/x\"", []string{
			`unknown property "log.dirz" in server.toml (did you mean "log.dirs"?)`,
			`unknown property "zookeeper.conect" in server.toml (did you mean "zookeeper.connect"?)`}},
		{"array of tables", "[[brokers]]\nid = 1", []string{
			`unknown property "brokers" in server.toml (did you mean "broker.id"?)`}},
		{"set twice", "broker.id = 1\n\"broker.id\" = 2\nzookeeper.connect = \"zk:2181\"", []string{
			`broker.id is set twice in server.toml`}},

		// Wrong TOML types.
		{"quoted integer", "broker.id = \"1\"\nzookeeper.connect = \"zk:2181\"", []string{
			`broker.id = "1": must be an integer, not a string (write broker.id = 1, without quotes) (in server.toml)`}},
		{"string for integer", `num.partitions = "many"`, []string{
			`num.partitions = "many": must be an integer, not a TOML string (in server.toml)`}},
		{"float for integer", `num.partitions = 1.5`, []string{
			`num.partitions = 1.5: must be an integer, not a TOML float (in server.toml)`}},
		{"quoted boolean", `auto.create.topics.enable = "False"`, []string{
			`auto.create.topics.enable = "False": must be true or false, not a string (write auto.create.topics.enable = false, without quotes) (in server.toml)`}},
		{"integer for boolean", `delete.topic.enable = 1`, []string{
			`delete.topic.enable = 1: must be true or false, not a TOML integer (in server.toml)`}},
		{"integer for string", `compression.type = 1`, []string{
			`compression.type = 1: must be a string, not a TOML integer (in server.toml)`}},
		{"array for string", `broker.rack = ["a"]`, []string{
			`broker.rack = ["a"]: must be a string, not a TOML array (in server.toml)`}},
		{"bad array", `log.dirs = ["/a", 2]`, []string{
			`log.dirs = ["/a", 2]: must be a comma-separated string or an array of strings; the array holds a integer (in server.toml)`}},
		{"datetime", `broker.rack = 1979-05-27`, []string{
			`broker.rack = 1979-05-27T00:00:00Z: must be a string, not a TOML datetime (in server.toml)`}},
		{"int out of range", `num.partitions = 3000000000`, []string{
			`num.partitions = 3000000000: must be between -2147483648 and 2147483647 (a int) (in server.toml)`}},
		{"short out of range", `offsets.topic.replication.factor = 40000`, []string{
			`offsets.topic.replication.factor = 40000: must be between -32768 and 32767 (a short) (in server.toml)`}},
		{"field out of range", `default.replication.factor = 40000`, []string{
			`default.replication.factor = 40000: must be between -32768 and 32767 (in server.toml)`}},

		// Bad values.
		{"other authorizer", `authorizer.class.name = "org.apache.kafka.metadata.authorizer.StandardAuthorizer"`, []string{
			`authorizer.class.name = "org.apache.kafka.metadata.authorizer.StandardAuthorizer": must be kafka.security.authorizer.AclAuthorizer: StandardAuthorizer is KRaft's, and klassik runs in ZooKeeper mode (in server.toml)`}},
		{"super user without type", `super.users = "User:admin;broker"`, []string{
			`super.users = "User:admin;broker": must be principals "Type:name" separated by semicolons, e.g. "User:admin;User:broker"; "broker" has no type (in server.toml)`}},
		{"auto broker id", "broker.id = -1\nzookeeper.connect = \"zk:2181\"", []string{
			`broker.id = -1: must be at least 0 (klassik does not generate broker ids; give each broker its own broker.id) (in server.toml)`}},
		{"no zookeeper", `broker.id = 1`, []string{
			`zookeeper.connect = "": must be set to the ZooKeeper ensemble, e.g. "127.0.0.1:2181/klassik"`}},
		{"empty zookeeper", "broker.id = 1\nzookeeper.connect = \" \"", []string{
			`zookeeper.connect = " ": must be set to the ZooKeeper ensemble, e.g. "127.0.0.1:2181/klassik" (in server.toml)`}},
		{"zookeeper port", "broker.id = 1\nzookeeper.connect = \"zk:abc/k\"", []string{
			`zookeeper.connect = "zk:abc/k": server "zk:abc" needs a port between 1 and 65535 (in server.toml)`}},
		{"zookeeper empty server", "broker.id = 1\nzookeeper.connect = \"a:2181,,b:2181\"", []string{
			`zookeeper.connect = "a:2181,,b:2181": names an empty server; write "host:port,host:port/chroot" (in server.toml)`}},
		{"zookeeper chroot", "broker.id = 1\nzookeeper.connect = \"zk:2181/klassik/\"", []string{
			`zookeeper.connect = "zk:2181/klassik/": the chroot path "/klassik/" must not end with '/' (in server.toml)`}},
		{"segment bytes", `log.segment.bytes = 10`, []string{
			`log.segment.bytes = 10: must be at least 14 (in server.toml)`}},
		{"min isr", `min.insync.replicas = 0`, []string{
			`min.insync.replicas = 0: must be at least 1 (in server.toml)`}},
		{"replication factor", `default.replication.factor = 0`, []string{
			`default.replication.factor = 0: must be at least 1 (in server.toml)`}},
		{"partitions", `num.partitions = 0`, []string{
			`num.partitions = 0: must be at least 1 (in server.toml)`}},
		{"offsets replication", `offsets.topic.replication.factor = 0`, []string{
			`offsets.topic.replication.factor = 0: must be at least 1 (in server.toml)`}},
		{"no log dirs", `log.dirs = ""`, []string{
			`log.dirs = "": must name at least one directory (in server.toml)`}},
		{"empty log dir", `log.dirs = "/a,,/b"`, []string{
			`log.dirs = "/a,,/b": has an empty directory name between commas (in server.toml)`}},
		{"cleanup policy", `log.cleanup.policy = "delete,remove"`, []string{
			`log.cleanup.policy = "delete,remove": "remove" is not one of "delete", "compact" (in server.toml)`}},
		{"compression", `compression.type = "brotli"`, []string{
			`compression.type = "brotli": must be one of "uncompressed", "zstd", "lz4", "snappy", "gzip", "producer" (in server.toml)`}},
		{"timestamp type", `log.message.timestamp.type = "createtime"`, []string{
			`log.message.timestamp.type = "createtime": must be one of "CreateTime", "LogAppendTime" (in server.toml)`}},
		{"retention ms", `log.retention.ms = 0`, []string{
			`log.retention.ms = 0: must be -1 (keep forever) or at least 1 (in server.toml)`}},
		{"retention hours", `log.retention.hours = 0`, []string{
			`log.retention.ms = 0: must be -1 (keep forever) or at least 1 (from log.retention.hours = 0 in server.toml)`}},
		{"roll hours", `log.roll.hours = 0`, []string{
			`log.roll.hours = 0: must be at least 1 (in server.toml)`}},
		{"session timeout", `zookeeper.session.timeout.ms = 0`, []string{
			`zookeeper.session.timeout.ms = 0: must be at least 1 (in server.toml)`,
			`zookeeper.connection.timeout.ms = 0: must be at least 1 (from zookeeper.session.timeout.ms in server.toml)`}},
		{"fetch wait", "replica.fetch.wait.max.ms = 40000", []string{
			`replica.fetch.wait.max.ms = 40000: must be at most replica.socket.timeout.ms (30000), or followers' fetches time out while they wait (in server.toml)`,
			`replica.fetch.wait.max.ms = 40000: must be at most replica.lag.time.max.ms (30000), or followers drop out of the ISR while they wait (in server.toml)`}},
		{"group timeouts", "group.min.session.timeout.ms = 10\ngroup.max.session.timeout.ms = 5", []string{
			`group.min.session.timeout.ms = 10: must be at most group.max.session.timeout.ms (5) (in server.toml)`}},
		{"metrics listener", `metrics.listener = "9404"`, []string{
			`metrics.listener = "9404": must be host:port, e.g. "127.0.0.1:9404", or "" for none (in server.toml)`}},

		// Listeners.
		{"listener without scheme", `listeners = "PLAINTEXT//h:9092"`, []string{
			`listeners = "PLAINTEXT//h:9092": "PLAINTEXT//h:9092" is not NAME://host:port (in server.toml)`}},
		{"listener without name", `listeners = "://h:9092"`, []string{
			`listeners = "://h:9092": "://h:9092" has no listener name before "://" (in server.toml)`}},
		{"listener without port", `listeners = "PLAINTEXT://h"`, []string{
			`listeners = "PLAINTEXT://h": "PLAINTEXT://h" has no port (NAME://host:port) (in server.toml)`}},
		{"listener bad port", `listeners = "PLAINTEXT://h:x"`, []string{
			`listeners = "PLAINTEXT://h:x": port "x" is not a number in "PLAINTEXT://h:x" (in server.toml)`}},
		{"listener port range", `listeners = "PLAINTEXT://h:65536"`, []string{
			`listeners = "PLAINTEXT://h:65536": port 65536 is not between 0 and 65535 in "PLAINTEXT://h:65536" (in server.toml)`}},
		{"listener bare ipv6", `listeners = "PLAINTEXT://::1:9092"`, []string{
			`listeners = "PLAINTEXT://::1:9092": "PLAINTEXT://::1:9092": an IPv6 address goes in brackets, e.g. PLAINTEXT://[::1]:9092 (in server.toml)`}},
		{"listener bad host", `listeners = "PLAINTEXT://a/b:9092"`, []string{
			`listeners = "PLAINTEXT://a/b:9092": host "a/b" in "PLAINTEXT://a/b:9092" is not a hostname or IP address (in server.toml)`}},
		{"listener bad name", `listeners = "PLAIN.TEXT://h:9092"`, []string{
			`listeners = "PLAIN.TEXT://h:9092": listener name "PLAIN.TEXT" in "PLAIN.TEXT://h:9092" may hold only letters, digits, '_' and '-' (in server.toml)`}},
		{"no listeners", `listeners = " , "`, []string{
			`listeners = ",": must name at least one listener, e.g. "PLAINTEXT://:9092" (in server.toml)`}},
		{"listener names twice", `listeners = "PLAINTEXT://:9092,plaintext://:9093"`, []string{
			`listeners = "PLAINTEXT://:9092,plaintext://:9093": listener name PLAINTEXT appears twice; each listener needs its own name (in server.toml)`}},
		{"listener ports twice", "listeners = \"A://127.0.0.1:9092,B://:9092\"\nlistener.security.protocol.map = \"A:PLAINTEXT,B:PLAINTEXT\"\nadvertised.listeners = \"A://h:9092\"", []string{
			`listeners = "A://127.0.0.1:9092,B://:9092": listeners A and B both bind port 9092; each listener needs its own port (in server.toml)`}},
		{"ssl listener", "listeners = \"PLAINTEXT://:9092,SSL://:9093\"", []string{
			`ssl.keystore.type = "JKS": listener SSL (SSL) needs a keystore, and klassik reads only PEM keystores (KIP-651): set ssl.keystore.type = "PEM" with ssl.keystore.location, or with ssl.keystore.key and ssl.keystore.certificate.chain`}},
		{"unmapped listener", `listeners = "INTERNAL://:9092"`, []string{
			`listeners = "INTERNAL://:9092": listener INTERNAL has no security protocol in listener.security.protocol.map ("PLAINTEXT:PLAINTEXT,SSL:SSL,SASL_PLAINTEXT:SASL_PLAINTEXT,SASL_SSL:SASL_SSL"); add INTERNAL:PLAINTEXT (or SSL, SASL_PLAINTEXT, SASL_SSL) to it (in server.toml)`}},
		{"bad map entry", `listener.security.protocol.map = "INTERNAL"`, []string{
			`listener.security.protocol.map = "INTERNAL": entry "INTERNAL" is not NAME:PROTOCOL (in server.toml)`}},
		{"bad map protocol", `listener.security.protocol.map = "PLAINTEXT:TLS"`, []string{
			`listener.security.protocol.map = "PLAINTEXT:TLS": "TLS" in entry "PLAINTEXT:TLS" is not a security protocol (PLAINTEXT, SSL, SASL_PLAINTEXT, SASL_SSL) (in server.toml)`}},
		{"advertise meta-address", `advertised.listeners = "PLAINTEXT://0.0.0.0:9092"`, []string{
			`advertised.listeners = "PLAINTEXT://0.0.0.0:9092": PLAINTEXT://0.0.0.0:9092 cannot be advertised: 0.0.0.0 is the non-routable meta-address (Kafka's rule); use a host clients can reach (in server.toml)`}},
		{"listen on meta-address unadvertised", `listeners = "PLAINTEXT://0.0.0.0:9092"`, []string{
			`listeners = "PLAINTEXT://0.0.0.0:9092": advertised.listeners is not set, so listeners are advertised, and PLAINTEXT://0.0.0.0:9092 cannot be: it is the non-routable meta-address (Kafka's rule); set advertised.listeners to a host clients can reach (in server.toml)`}},
		{"advertised unknown name", "advertised.listeners = \"EXTERNAL://h:9092\"", []string{
			`advertised.listeners = "EXTERNAL://h:9092": listener EXTERNAL is not one of listeners (PLAINTEXT); advertised listener names must be among them (in server.toml)`}},
		{"inter broker unknown", `inter.broker.listener.name = "INTERNAL"`, []string{
			`inter.broker.listener.name = "INTERNAL": must be the name of one of listeners (advertised.listeners is not set): PLAINTEXT (in server.toml)`}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			text := tc.text
			if !strings.Contains(text, "broker.id") {
				text = base + text
			}
			_, err := loadTOML(t, text, nil, nil)
			assertErrors(t, err, tc.want...)
		})
	}
}

func TestNotTOML(t *testing.T) {
	_, err := loadTOML(t, "broker.id = 1\nbroker.id 2\n", nil, nil)
	if err == nil || !strings.HasPrefix(err.Error(), "server.toml is not valid TOML: toml: line 2") {
		t.Fatalf("error = %v, want one that starts with %q", err, "server.toml is not valid TOML: toml: line 2")
	}
	_, err = Load(filepath.Join(t.TempDir(), "missing.toml"), nil, nil)
	if err == nil || !strings.HasPrefix(err.Error(), "reading the broker configuration: open ") {
		t.Fatalf("error = %v, want a read error", err)
	}
}

// TestAllErrorsAtOnce: a user fixes everything in one go, not one error per start.
func TestAllErrorsAtOnce(t *testing.T) {
	_, err := loadTOML(t, "brokr.id = 1\nnum.partitions = \"x\"\nlog.segment.bytes = 1\n",
		[]string{"KAFKA_MIN_INSYNC_REPLICAS=0"}, []string{"default.replication.factor=zero"})
	assertErrors(t, err,
		`unknown property "brokr.id" in server.toml (did you mean "broker.id"?)`,
		`num.partitions = "x": must be an integer, not a TOML string (in server.toml)`,
		`default.replication.factor = "zero": must be an integer (from --override default.replication.factor=zero)`,
		`broker.id = -1: must be at least 0 (klassik does not generate broker ids; give each broker its own broker.id)`,
		`zookeeper.connect = "": must be set to the ZooKeeper ensemble, e.g. "127.0.0.1:2181/klassik"`,
		`min.insync.replicas = 0: must be at least 1 (from environment variable KAFKA_MIN_INSYNC_REPLICAS)`,
		`log.segment.bytes = 1: must be at least 14 (in server.toml)`)
}

func TestEnvProperty(t *testing.T) {
	for _, tc := range []struct {
		env, want string
		ok        bool
	}{
		{"KAFKA_ZOOKEEPER_CONNECT", "zookeeper.connect", true},
		{"KAFKA_BROKER_ID", "broker.id", true},
		{"KAFKA_LOG_DIRS", "log.dirs", true},
		{"KAFKA_ADVERTISED_LISTENERS", "advertised.listeners", true},
		{"KAFKA_LISTENER_SECURITY_PROTOCOL_MAP", "listener.security.protocol.map", true},
		{"KAFKA_INTER_BROKER_LISTENER_NAME", "inter.broker.listener.name", true},
		{"KAFKA_OFFSETS_TOPIC_REPLICATION_FACTOR", "offsets.topic.replication.factor", true},
		{"KAFKA_CFG_ZOOKEEPER_CONNECT", "zookeeper.connect", true}, // bitnami
		{"KAFKA_SOME__UNDERSCORED_NAME", "some_underscored.name", true},
		{"KAFKA_SOME___DASHED_NAME", "some-dashed.name", true},
		{"KAFKA_HEAP_OPTS", "", false},
		{"KAFKA_OPTS", "", false},
		{"KAFKA_JMX_PORT", "", false},
		{"KAFKA_JMX_OPTS", "", false},
		{"KAFKA_LOG4J_OPTS", "", false},
		{"KAFKA_LOG4J_LOGGERS", "", false},
		{"KAFKA_VERSION", "", false},
		{"KAFKA_HOME", "", false},
		{"KAFKA_", "", false},
		{"ZOOKEEPER_CONNECT", "", false},
		{"kafka_broker_id", "", false},
	} {
		got, ok := EnvProperty(tc.env)
		if got != tc.want || ok != tc.ok {
			t.Errorf("EnvProperty(%q) = %q, %v; want %q, %v", tc.env, got, ok, tc.want, tc.ok)
		}
	}
}

func TestEnvErrors(t *testing.T) {
	for _, tc := range []struct {
		env  string
		want string
	}{
		{"KAFKA_BROKR_ID=1", `unknown property "brokr.id" from environment variable KAFKA_BROKR_ID (did you mean "broker.id"?)`},
		{"KAFKA_ADVERTISED_HOST_NAME=h", `unknown property "advertised.host.name" from environment variable KAFKA_ADVERTISED_HOST_NAME (did you mean "advertised.listeners"?)`},
		{"KAFKA_BROKER_ID=one", `broker.id = "one": must be an integer (from environment variable KAFKA_BROKER_ID)`},
		{"KAFKA_AUTO_CREATE_TOPICS_ENABLE=yes", `auto.create.topics.enable = "yes": must be true or false (from environment variable KAFKA_AUTO_CREATE_TOPICS_ENABLE)`},
		{"KAFKA_LOG_SEGMENT_BYTES=10", `log.segment.bytes = 10: must be at least 14 (from environment variable KAFKA_LOG_SEGMENT_BYTES)`},
		{"KAFKA_ADVERTISED_LISTENERS=PLAINTEXT://0.0.0.0:9092", `advertised.listeners = "PLAINTEXT://0.0.0.0:9092": PLAINTEXT://0.0.0.0:9092 cannot be advertised: 0.0.0.0 is the non-routable meta-address (Kafka's rule); use a host clients can reach (from environment variable KAFKA_ADVERTISED_LISTENERS)`},
	} {
		t.Run(tc.env, func(t *testing.T) {
			_, err := loadTOML(t, base, []string{"PATH=/bin", "KAFKA_HEAP_OPTS=-Xmx1G", "KAFKA_JMX_PORT=9999", tc.env}, nil)
			assertErrors(t, err, tc.want)
		})
	}
}

func TestOverrideErrors(t *testing.T) {
	for _, tc := range []struct {
		override string
		want     string
	}{
		{"broker.id", `--override "broker.id": expected key=value with a Kafka property name, e.g. --override broker.id=1`},
		{"=1", `--override "=1": expected key=value with a Kafka property name, e.g. --override broker.id=1`},
		{"brokr.id=1", `unknown property "brokr.id" from --override brokr.id=1 (did you mean "broker.id"?)`},
		{"num.partitions=three", `num.partitions = "three": must be an integer (from --override num.partitions=three)`},
		{"num.partitions=99999999999", `num.partitions = "99999999999": must be between -2147483648 and 2147483647 (a int) (from --override num.partitions=99999999999)`},
		{"listeners=PLAINTEXT://h", `listeners = "PLAINTEXT://h": "PLAINTEXT://h" has no port (NAME://host:port) (from --override listeners=PLAINTEXT://h)`},
	} {
		t.Run(tc.override, func(t *testing.T) {
			_, err := loadTOML(t, base, nil, []string{tc.override})
			assertErrors(t, err, tc.want)
		})
	}
}

// TestPrecedence: Kafka's defaults < server.toml < KAFKA_* environment < --override.
func TestPrecedence(t *testing.T) {
	file := base + "num.partitions = 2\n"
	for _, tc := range []struct {
		name      string
		env       []string
		overrides []string
		want      int32
	}{
		{"file", nil, nil, 2},
		{"env over file", []string{"KAFKA_NUM_PARTITIONS=3"}, nil, 3},
		{"override over env", []string{"KAFKA_NUM_PARTITIONS=3"}, []string{"num.partitions=4"}, 4},
		{"override over file", nil, []string{"num.partitions=4"}, 4},
		{"last override wins", nil, []string{"num.partitions=4", "num.partitions= 5 "}, 5},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c := mustLoad(t, file, tc.env, tc.overrides)
			if c.NumPartitions != tc.want {
				t.Errorf("num.partitions = %d, want %d", c.NumPartitions, tc.want)
			}
		})
	}
	c, err := Load("", nil, []string{"broker.id=3", "zookeeper.connect=zk:2181"})
	if err != nil {
		t.Fatal(err)
	}
	if c.NumPartitions != 1 || c.BrokerID != 3 {
		t.Errorf("with no file: num.partitions = %d, broker.id = %d; want Kafka's 1 and the override's 3", c.NumPartitions, c.BrokerID)
	}
}

// TestFoldedPrecedence checks Kafka's precedence among properties that set the same thing:
// log.retention.ms > log.retention.minutes > log.retention.hours, log.roll.ms >
// log.roll.hours, log.dirs > log.dir, and zookeeper.connection.timeout.ms defaulting to the
// session timeout. The precedence is between properties, whatever layer set them, as in
// KafkaConfig.
func TestFoldedPrecedence(t *testing.T) {
	const hour, minute = int64(3_600_000), int64(60_000)
	for _, tc := range []struct {
		name      string
		text      string
		env       []string
		overrides []string
		check     func(c *Config) (got, want any)
	}{
		{"retention default", "", nil, nil, func(c *Config) (any, any) { return c.LogRetentionMs, 168 * hour }},
		{"retention hours", "log.retention.hours = 24", nil, nil, func(c *Config) (any, any) { return c.LogRetentionMs, 24 * hour }},
		{"retention minutes over hours", "log.retention.hours = 24\nlog.retention.minutes = 30", nil, nil,
			func(c *Config) (any, any) { return c.LogRetentionMs, 30 * minute }},
		{"retention ms over minutes", "log.retention.hours = 24\nlog.retention.minutes = 30\nlog.retention.ms = 1234", nil, nil,
			func(c *Config) (any, any) { return c.LogRetentionMs, int64(1234) }},
		{"retention ms in file over hours in env", "log.retention.ms = 1234", []string{"KAFKA_LOG_RETENTION_HOURS=1"}, nil,
			func(c *Config) (any, any) { return c.LogRetentionMs, int64(1234) }},
		{"retention hours in env over hours in file", "log.retention.hours = 24", []string{"KAFKA_LOG_RETENTION_HOURS=1"}, nil,
			func(c *Config) (any, any) { return c.LogRetentionMs, hour }},
		{"retention minutes by override", "log.retention.hours = 24", nil, []string{"log.retention.minutes=5"},
			func(c *Config) (any, any) { return c.LogRetentionMs, 5 * minute }},
		{"retention forever", "log.retention.hours = -1", nil, nil, func(c *Config) (any, any) { return c.LogRetentionMs, int64(-1) }},
		{"retention negative minutes is forever", "log.retention.minutes = -5", nil, nil, func(c *Config) (any, any) { return c.LogRetentionMs, int64(-1) }},
		{"roll default", "", nil, nil, func(c *Config) (any, any) { return c.LogRollMs, 168 * hour }},
		{"roll hours", "log.roll.hours = 1", nil, nil, func(c *Config) (any, any) { return c.LogRollMs, hour }},
		{"roll ms over hours", "log.roll.hours = 1\nlog.roll.ms = 500", nil, nil, func(c *Config) (any, any) { return c.LogRollMs, int64(500) }},
		{"log.dir", `log.dir = "/one"`, nil, nil, func(c *Config) (any, any) { return c.LogDirs, "/one" }},
		{"log.dirs over log.dir", "log.dir = \"/one\"\nlog.dirs = \"/a,/b\"", nil, nil, func(c *Config) (any, any) { return c.LogDirs, "/a,/b" }},
		{"connection timeout follows session", "zookeeper.session.timeout.ms = 6000", nil, nil,
			func(c *Config) (any, any) { return c.ZookeeperConnectionTimeoutMs, 6000 }},
		{"connection timeout set", "zookeeper.session.timeout.ms = 6000\nzookeeper.connection.timeout.ms = 2000", nil, nil,
			func(c *Config) (any, any) { return c.ZookeeperConnectionTimeoutMs, 2000 }},
		{"advertised follows listeners", `listeners = "PLAINTEXT://127.0.0.1:1234"`, nil, nil,
			func(c *Config) (any, any) { return c.AdvertisedListeners, "PLAINTEXT://127.0.0.1:1234" }},
		{"inter broker is PLAINTEXT when there is one (as Kafka)",
			"listeners = \"EXTERNAL://127.0.0.1:1,PLAINTEXT://127.0.0.1:2\"\nlistener.security.protocol.map = \"EXTERNAL:PLAINTEXT,PLAINTEXT:PLAINTEXT\"", nil, nil,
			func(c *Config) (any, any) { return c.InterBrokerListenerName, "PLAINTEXT" }},
		{"inter broker is the first listener otherwise",
			"listeners = \"EXTERNAL://127.0.0.1:1,INTERNAL://127.0.0.1:2\"\nlistener.security.protocol.map = \"EXTERNAL:PLAINTEXT,INTERNAL:PLAINTEXT\"", nil, nil,
			func(c *Config) (any, any) { return c.InterBrokerListenerName, "EXTERNAL" }},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c := mustLoad(t, base+tc.text, tc.env, tc.overrides)
			if got, want := tc.check(c); got != want {
				t.Errorf("got %v, want %v", got, want)
			}
		})
	}
}

// TestDockerEnvironment is the environment of a broker in a typical docker compose file for
// the Kafka images, with INTERNAL and EXTERNAL listeners and no server.toml.
func TestDockerEnvironment(t *testing.T) {
	environ := []string{
		"PATH=/usr/bin",
		"KAFKA_BROKER_ID=2",
		"KAFKA_ZOOKEEPER_CONNECT=zk1:2181,zk2:2181,zk3:2181/klassik",
		"KAFKA_LISTENERS=INTERNAL://:19092,EXTERNAL://:9092",
		"KAFKA_ADVERTISED_LISTENERS=INTERNAL://kafka2:19092,EXTERNAL://localhost:9092",
		"KAFKA_LISTENER_SECURITY_PROTOCOL_MAP=INTERNAL:PLAINTEXT,EXTERNAL:PLAINTEXT",
		"KAFKA_INTER_BROKER_LISTENER_NAME=INTERNAL",
		"KAFKA_OFFSETS_TOPIC_REPLICATION_FACTOR=3",
		"KAFKA_TRANSACTION_STATE_LOG_REPLICATION_FACTOR=3",
		"KAFKA_TRANSACTION_STATE_LOG_MIN_ISR=2",
		"KAFKA_LOG_DIRS=/var/lib/kafka/data",
		"KAFKA_HEAP_OPTS=-Xmx1G -Xms1G",
		"KAFKA_JMX_PORT=9101",
		"KAFKA_LOG4J_ROOT_LOGLEVEL=WARN",
	}
	c, err := Load("", environ, nil)
	if err != nil {
		t.Fatal(err)
	}
	servers, chroot, err := c.ZookeeperServersAndChroot()
	if err != nil || strings.Join(servers, ",") != "zk1:2181,zk2:2181,zk3:2181" || chroot != "/klassik" {
		t.Errorf("ZookeeperServersAndChroot() = %q, %q, %v", servers, chroot, err)
	}
	ls, err := c.ListenerList()
	if err != nil || len(ls) != 2 || ls[0] != (Listener{"INTERNAL", "", 19092}) || ls[1] != (Listener{"EXTERNAL", "", 9092}) {
		t.Errorf("ListenerList() = %v, %v", ls, err)
	}
	ib, err := c.InterBrokerListener()
	if err != nil || ib != (Listener{"INTERNAL", "kafka2", 19092}) {
		t.Errorf("InterBrokerListener() = %v, %v", ib, err)
	}
	m, err := c.SecurityProtocolMap()
	if err != nil || len(m) != 2 || m["INTERNAL"] != "PLAINTEXT" || m["EXTERNAL"] != "PLAINTEXT" {
		t.Errorf("SecurityProtocolMap() = %v, %v", m, err)
	}
	if c.BrokerID != 2 || c.OffsetsTopicReplicationFactor != 3 || c.TransactionStateLogMinIsr != 2 || c.LogDirs != "/var/lib/kafka/data" {
		t.Errorf("got broker.id=%d offsets.topic.replication.factor=%d transaction.state.log.min.isr=%d log.dirs=%q",
			c.BrokerID, c.OffsetsTopicReplicationFactor, c.TransactionStateLogMinIsr, c.LogDirs)
	}
}

// TestExampleConfig: the config/server.toml shipped with klassik loads as it is.
func TestExampleConfig(t *testing.T) {
	c, err := Load(filepath.Join("..", "config", "server.toml"), nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	ls, err := c.AdvertisedListenerList()
	if err != nil {
		t.Fatal(err)
	}
	if c.BrokerID != 0 || c.ZookeeperConnect != "127.0.0.1:2181/klassik" || c.LogDirs != "/tmp/klassik-logs" ||
		len(ls) != 1 || ls[0] != (Listener{"PLAINTEXT", "127.0.0.1", 9092}) || c.InterBrokerListenerName != "PLAINTEXT" ||
		c.OffsetsTopicReplicationFactor != 1 || c.LogRetentionMs != 168*3_600_000 {
		t.Errorf("config/server.toml loaded as:\n%s", c)
	}
}

// TestStringRoundTrip: the listing the broker logs is itself a server.toml that loads back
// to the same Config.
func TestStringRoundTrip(t *testing.T) {
	c := mustLoad(t, base+"listeners = \"PLAINTEXT://[::1]:9092\"\nbroker.rack = \"r\\\"1\"\nlog.retention.minutes = 7\n", nil, nil)
	again := mustLoad(t, c.String(), nil, nil)
	// Compare the settings, not which were explicit: String() spells out every one.
	a, b := *again, *c
	a.explicit, b.explicit = nil, nil
	if !reflect.DeepEqual(a, b) {
		t.Errorf("String() did not round-trip:\n%s\nloaded back as:\n%s", c, again)
	}
	kv := map[string]string{}
	for _, p := range c.Properties() {
		kv[p.Key] = p.Value
	}
	for k, want := range map[string]string{
		"broker.id":                   "0",
		"listeners":                   "PLAINTEXT://[::1]:9092",
		"advertised.listeners":        "PLAINTEXT://[::1]:9092",
		"broker.rack":                 `r"1`,
		"log.retention.ms":            "420000",
		"log.flush.interval.messages": "9223372036854775807",
	} {
		if kv[k] != want {
			t.Errorf("Properties()[%s] = %q, want %q", k, kv[k], want)
		}
	}
	if _, ok := kv["log.retention.hours"]; ok {
		t.Errorf("Properties() lists log.retention.hours; the effective value is log.retention.ms")
	}
}
