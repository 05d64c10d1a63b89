package broker

import (
	"bufio"
	"os"
	"sort"
	"strings"
	"testing"

	"github.com/klassik/klassik/conf"
	"github.com/twmb/franz-go/pkg/kmsg"
)

type goldenTopicConfig struct{ name, typ, def, server string }

// readGoldenTopicConfigs reads testdata/kafka36_topic_configs.txt, taken from Kafka 3.6's
// documentation (the file says where from).
func readGoldenTopicConfigs(t *testing.T) []goldenTopicConfig {
	t.Helper()
	f, err := os.Open("testdata/kafka36_topic_configs.txt")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var out []goldenTopicConfig
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		line := strings.TrimSpace(sc.Text())
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		fs := strings.Fields(line)
		if len(fs) != 4 {
			t.Fatalf("golden line %q: want 4 fields", line)
		}
		if fs[2] == `""` {
			fs[2] = ""
		}
		out = append(out, goldenTopicConfig{fs[0], fs[1], fs[2], fs[3]})
	}
	if err := sc.Err(); err != nil {
		t.Fatal(err)
	}
	return out
}

var configTypeDocNames = map[kmsg.ConfigType]string{
	kmsg.ConfigTypeBoolean: "boolean", kmsg.ConfigTypeString: "string", kmsg.ConfigTypeInt: "int",
	kmsg.ConfigTypeLong: "long", kmsg.ConfigTypeDouble: "double", kmsg.ConfigTypeList: "list",
}

// TestTopicConfigsAreKafka36s: the topic configs klassik knows are exactly Kafka 3.6's, with
// its types, defaults and server default properties; with Kafka's broker defaults every
// effective value is the documented default; every synonym is a broker property klassik
// reads.
func TestTopicConfigsAreKafka36s(t *testing.T) {
	golden := readGoldenTopicConfigs(t)
	var gotNames, wantNames []string
	for _, d := range topicConfigDefs {
		gotNames = append(gotNames, d.name)
	}
	for _, g := range golden {
		wantNames = append(wantNames, g.name)
	}
	sort.Strings(gotNames)
	sort.Strings(wantNames)
	if strings.Join(gotNames, " ") != strings.Join(wantNames, " ") {
		t.Fatalf("topic configs:\n got %v\nwant %v", gotNames, wantNames)
	}
	bc := conf.Default()
	tc := newTopicConfig(bc, nil)
	for _, g := range golden {
		d := findTopicConfigDef(g.name)
		if typ := configTypeDocNames[d.typ]; typ != g.typ {
			t.Errorf("%s: type %s, Kafka 3.6: %s", g.name, typ, g.typ)
		}
		if d.def != g.def {
			t.Errorf("%s: default %q, Kafka 3.6: %q", g.name, d.def, g.def)
		}
		if v := tc.values[g.name]; v != g.def {
			t.Errorf("%s: value with Kafka's broker defaults %q, Kafka 3.6: %q", g.name, v, g.def)
		}
		server := "null"
		if len(d.synonyms) > 0 {
			server = d.synonyms[0]
		}
		if server != g.server {
			t.Errorf("%s: server default property %s, Kafka 3.6: %s", g.name, server, g.server)
		}
		for _, s := range d.synonyms {
			if !conf.Known(s) {
				t.Errorf("%s: synonym %s is not a broker property klassik reads", g.name, s)
			}
		}
		if d.doc == "" {
			t.Errorf("%s has no documentation", g.name)
		}
		if err := validateTopicConfig(bc, map[string]string{g.name: g.def}); err != nil && g.name != "remote.storage.enable" {
			t.Errorf("%s=%q (Kafka's default) refused: %v", g.name, g.def, err)
		}
	}
}

// TestTopicConfigValidationMessages: Kafka's refusals, word for word (ConfigDef's parsers and
// validators, LogConfig.validate).
func TestTopicConfigValidationMessages(t *testing.T) {
	bc := conf.Default()
	for _, tc := range []struct {
		configs map[string]string
		want    string
	}{
		{map[string]string{"retention.msx": "1"}, "Unknown topic config name: retention.msx"},
		{map[string]string{"retention.ms": "abc"}, "Invalid value abc for configuration retention.ms: Not a number of type LONG"},
		{map[string]string{"segment.bytes": "3000000000"}, "Invalid value 3000000000 for configuration segment.bytes: Not a number of type INT"},
		{map[string]string{"segment.bytes": "10"}, "Invalid value 10 for configuration segment.bytes: Value must be at least 14"},
		{map[string]string{"retention.ms": "-2"}, "Invalid value -2 for configuration retention.ms: Value must be at least -1"},
		{map[string]string{"min.insync.replicas": "0"}, "Invalid value 0 for configuration min.insync.replicas: Value must be at least 1"},
		{map[string]string{"preallocate": "yes"}, "Invalid value yes for configuration preallocate: Expected value to be either true or false"},
		{map[string]string{"min.cleanable.dirty.ratio": "2"}, "Invalid value 2.0 for configuration min.cleanable.dirty.ratio: Value must be no more than 1"},
		{map[string]string{"min.cleanable.dirty.ratio": "half"}, "Invalid value half for configuration min.cleanable.dirty.ratio: Not a number of type DOUBLE"},
		{map[string]string{"cleanup.policy": "compact,forever"}, "Invalid value forever for configuration cleanup.policy: String must be one of: compact, delete"},
		{map[string]string{"compression.type": "brotli"}, "Invalid value brotli for configuration compression.type: String must be one of: uncompressed, zstd, lz4, snappy, gzip, producer"},
		{map[string]string{"message.timestamp.type": "Wrong"}, "Invalid value Wrong for configuration message.timestamp.type: String must be one of: CreateTime, LogAppendTime"},
		{map[string]string{"message.format.version": "9.9"}, "Invalid value 9.9 for configuration message.format.version: Version 9.9 is not a valid version"},
		{map[string]string{"leader.replication.throttled.replicas": "0:1,x"}, "Invalid value [0:1, x] for configuration leader.replication.throttled.replicas: leader.replication.throttled.replicas must be the literal '*' or a list of replicas in the following format: [partitionId]:[brokerId],[partitionId]:[brokerId],..."},
		{map[string]string{"local.retention.ms": "-3"}, "Invalid value -3 for configuration local.retention.ms: Value must be at least -2"},
		{map[string]string{"min.compaction.lag.ms": "10", "max.compaction.lag.ms": "5"}, "conflict topic config setting min.compaction.lag.ms (10) > max.compaction.lag.ms (5)"},
		{map[string]string{"remote.storage.enable": "true"}, "Tiered Storage functionality is disabled in the broker. Topic cannot be configured with remote log storage."},
	} {
		err := validateTopicConfig(bc, tc.configs)
		if err == nil || err.Error() != tc.want {
			t.Errorf("%v:\n got %v\nwant %s", tc.configs, err, tc.want)
		}
	}
	for _, ok := range []map[string]string{
		{"leader.replication.throttled.replicas": "*"},
		{"follower.replication.throttled.replicas": "0:1, 1:2"},
		{"message.format.version": "2.8"},
		{"message.format.version": "0.10.2-IV0"},
		{"cleanup.policy": "compact, delete"},
		{"unclean.leader.election.enable": "TRUE"},
		{"min.cleanable.dirty.ratio": "0.01"},
		{"retention.bytes": "-100"}, // no validator in Kafka either
	} {
		if err := validateTopicConfig(bc, ok); err != nil {
			t.Errorf("%v refused: %v", ok, err)
		}
	}
}

// TestTopicConfigSources follows ConfigHelper.createTopicConfigEntry: an override is
// DYNAMIC_TOPIC_CONFIG, a broker property set in server.toml STATIC_BROKER_CONFIG, else
// DEFAULT_CONFIG; synonyms run from the override down to Kafka's default, and those before
// the main broker property are dropped.
func TestTopicConfigSources(t *testing.T) {
	dir := t.TempDir()
	path := dir + "/server.toml"
	if err := os.WriteFile(path, []byte("broker.id = 1\nzookeeper.connect = \"127.0.0.1:2181\"\nlog.dirs = \""+dir+"\"\n"+
		"log.segment.bytes = 2097152\nlog.retention.hours = 24\nlog.roll.ms = 3600000\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	bc, err := conf.Load(path, nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	tc := newTopicConfig(bc, map[string]string{"cleanup.policy": "compact, delete"})
	syn := func(e topicConfigEntry) string {
		var s []string
		for _, x := range e.synonyms {
			s = append(s, x.source.String()+":"+x.name+"="+x.value)
		}
		return strings.Join(s, " ")
	}
	for _, want := range []struct {
		name, value string
		source      kmsg.ConfigSource
		synonyms    string
	}{
		{"cleanup.policy", "compact,delete", kmsg.ConfigSourceDynamicTopicConfig, "DYNAMIC_TOPIC_CONFIG:cleanup.policy=compact,delete DEFAULT_CONFIG:log.cleanup.policy=delete"},
		{"segment.bytes", "2097152", kmsg.ConfigSourceStaticBrokerConfig, "STATIC_BROKER_CONFIG:log.segment.bytes=2097152 DEFAULT_CONFIG:log.segment.bytes=1073741824"},
		{"segment.ms", "3600000", kmsg.ConfigSourceStaticBrokerConfig, "STATIC_BROKER_CONFIG:log.roll.ms=3600000 DEFAULT_CONFIG:log.roll.hours=168"},
		// Kafka 3.6 answers this too: log.retention.ms itself is unset, so every synonym is
		// dropped and the source is DEFAULT_CONFIG, though the value comes from the broker.
		{"retention.ms", "86400000", kmsg.ConfigSourceDefaultConfig, ""},
		{"max.message.bytes", "1048588", kmsg.ConfigSourceDefaultConfig, "DEFAULT_CONFIG:message.max.bytes=1048588"},
		{"leader.replication.throttled.replicas", "", kmsg.ConfigSourceDefaultConfig, ""},
	} {
		e := describeTopicConfig(bc, tc, findTopicConfigDef(want.name))
		if e.value != want.value || e.source != want.source || syn(e) != want.synonyms {
			t.Errorf("%s = %q %s {%s}\nwant %q %s {%s}", want.name, e.value, e.source, syn(e), want.value, want.source, want.synonyms)
		}
	}
}

func TestJavaDouble(t *testing.T) {
	for f, want := range map[float64]string{0.5: "0.5", 1: "1.0", 0: "0.0", 0.0001: "1.0E-4", 0.25: "0.25", 1.5e7: "1.5E7"} {
		if got := javaDouble(f); got != want {
			t.Errorf("javaDouble(%v) = %s, want %s", f, got, want)
		}
	}
}

// FuzzValidateTopicConfig: any name and value a client sends is refused with an error or
// accepted, never a panic, and an accepted set gives a topic config that describes itself.
func FuzzValidateTopicConfig(f *testing.F) {
	for _, g := range []string{"retention.ms", "cleanup.policy", "min.cleanable.dirty.ratio", "leader.replication.throttled.replicas", "message.format.version", "preallocate", "nope"} {
		f.Add(g, "1")
	}
	f.Add("cleanup.policy", " compact , ,delete")
	f.Add("min.cleanable.dirty.ratio", "1e-400")
	f.Add("message.format.version", "0.10.2.1.9")
	bc := conf.Default()
	f.Fuzz(func(t *testing.T, name, value string) {
		cfg := map[string]string{name: value}
		if err := validateTopicConfig(bc, cfg); err != nil {
			return
		}
		tc := newTopicConfig(bc, cfg)
		for i := range topicConfigDefs {
			describeTopicConfig(bc, tc, &topicConfigDefs[i])
		}
	})
}
