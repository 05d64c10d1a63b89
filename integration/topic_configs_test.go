package integration

import (
	"bufio"
	"errors"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kmsg"
)

// kafka36TopicConfigs reads the golden list of Kafka 3.6's topic configs (name, type,
// default), taken from Kafka 3.6's documentation; the file says where from.
func kafka36TopicConfigs(t *testing.T) map[string][2]string {
	t.Helper()
	f, err := os.Open("../broker/testdata/kafka36_topic_configs.txt")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	out := map[string][2]string{}
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		fs := strings.Fields(sc.Text())
		if len(fs) == 0 || strings.HasPrefix(fs[0], "#") {
			continue
		}
		if fs[2] == `""` {
			fs[2] = ""
		}
		out[fs[0]] = [2]string{fs[1], fs[2]}
	}
	if len(out) != 31 {
		t.Fatalf("golden file lists %d topic configs, Kafka 3.6 has 31", len(out))
	}
	return out
}

// describeTopicV4 sends DescribeConfigs v4 with synonyms and documentation, as
// kafka-configs.sh --describe --all does, through a franz-go client.
func describeTopicV4(t *testing.T, c *Cluster, topic string) map[string]kmsg.DescribeConfigsResponseResourceConfig {
	t.Helper()
	req := kmsg.NewPtrDescribeConfigsRequest()
	req.Version = 4
	req.IncludeSynonyms, req.IncludeDocumentation = true, true
	res := kmsg.NewDescribeConfigsRequestResource()
	res.ResourceType, res.ResourceName = kmsg.ConfigResourceTypeTopic, topic
	req.Resources = append(req.Resources, res)
	resp, err := req.RequestWith(ctxT(t, 30*time.Second), c.Client(t))
	if err != nil {
		t.Fatal(err)
	}
	if len(resp.Resources) != 1 || resp.Resources[0].ErrorCode != 0 {
		t.Fatalf("describe configs of %s: %+v", topic, resp.Resources)
	}
	out := map[string]kmsg.DescribeConfigsResponseResourceConfig{}
	for _, cfg := range resp.Resources[0].Configs {
		out[cfg.Name] = cfg
	}
	return out
}

var configTypeNames = map[kmsg.ConfigType]string{
	kmsg.ConfigTypeBoolean: "boolean", kmsg.ConfigTypeString: "string", kmsg.ConfigTypeInt: "int",
	kmsg.ConfigTypeLong: "long", kmsg.ConfigTypeDouble: "double", kmsg.ConfigTypeList: "list",
}

// TestKafka36TopicConfigs: every topic config of Kafka 3.6 is accepted at creation, stored in
// /config/topics/<t>, and described with its source, synonyms, type and documentation; a
// topic without overrides lists exactly Kafka 3.6's configs with its defaults (the
// `kafka-configs.sh --describe --all` listing); bad values are refused with Kafka's
// INVALID_CONFIG messages (issue 14, item 1).
func TestKafka36TopicConfigs(t *testing.T) {
	c := NewCluster(t)
	adm := c.Admin(t)
	golden := kafka36TopicConfigs(t)

	// A topic with no overrides lists exactly the 31 configs, with Kafka's defaults.
	plain := topicName(t, "plain")
	c.CreateTopic(t, plain, 1, 1, nil)
	got := describeTopicV4(t, c, plain)
	for name, g := range golden {
		cfg, ok := got[name]
		if !ok {
			t.Errorf("describe --all lists no %s", name)
			continue
		}
		if v := derefStr(cfg.Value); v != g[1] {
			t.Errorf("%s = %q, Kafka 3.6's default %q", name, v, g[1])
		}
		if typ := configTypeNames[cfg.ConfigType]; typ != g[0] {
			t.Errorf("%s: config type %v, Kafka 3.6: %s", name, cfg.ConfigType, g[0])
		}
		if derefStr(cfg.Documentation) == "" {
			t.Errorf("%s: no documentation though include_documentation was set", name)
		}
		// The harness sets min.insync.replicas in server.toml: STATIC_BROKER_CONFIG.
		wantSource := kmsg.ConfigSourceDefaultConfig
		if name == "min.insync.replicas" {
			wantSource = kmsg.ConfigSourceStaticBrokerConfig
		}
		if cfg.Source != wantSource {
			t.Errorf("%s: source %v, want %v", name, cfg.Source, wantSource)
		}
	}
	if len(got) != len(golden) {
		t.Errorf("describe --all lists %d configs, Kafka 3.6 has %d", len(got), len(golden))
	}
	if s := got["min.insync.replicas"].ConfigSynonyms; len(s) != 2 || s[0].Source != kmsg.ConfigSourceStaticBrokerConfig ||
		s[0].Name != "min.insync.replicas" || derefStr(s[0].Value) != "1" || s[1].Source != kmsg.ConfigSourceDefaultConfig {
		t.Errorf("min.insync.replicas synonyms = %+v, want STATIC_BROKER_CONFIG min.insync.replicas=1 then DEFAULT_CONFIG", s)
	}
	if s := got["segment.bytes"].ConfigSynonyms; len(s) != 1 || s[0].Name != "log.segment.bytes" || derefStr(s[0].Value) != "1073741824" {
		t.Errorf("segment.bytes synonyms = %+v, want DEFAULT_CONFIG log.segment.bytes=1073741824", s)
	}
	if doc := derefStr(got["preallocate"].Documentation); !strings.Contains(doc, "does not act on it") {
		t.Errorf("preallocate's documentation does not say klassik ignores it: %q", doc)
	}

	// Every config set at creation, to a valid value other than its default.
	values := map[string]string{
		"cleanup.policy": "compact,delete", "compression.type": "producer", "delete.retention.ms": "3600000",
		"file.delete.delay.ms": "1000", "flush.messages": "100000", "flush.ms": "60000",
		"follower.replication.throttled.replicas": "0:1", "index.interval.bytes": "8192",
		"leader.replication.throttled.replicas": "*", "local.retention.bytes": "-2", "local.retention.ms": "-2",
		"max.compaction.lag.ms": "86400000", "max.message.bytes": "2000000", "message.downconversion.enable": "false",
		"message.format.version": "2.8", "message.timestamp.after.max.ms": "3600000",
		"message.timestamp.before.max.ms": "7200000", "message.timestamp.difference.max.ms": "10800000",
		"message.timestamp.type": "LogAppendTime", "min.cleanable.dirty.ratio": "0.25", "min.compaction.lag.ms": "1000",
		"min.insync.replicas": "1", "preallocate": "true", "remote.storage.enable": "false", "retention.bytes": "1073741824",
		"retention.ms": "86400000", "segment.bytes": "16777216", "segment.index.bytes": "1048576",
		"segment.jitter.ms": "100", "segment.ms": "3600000", "unclean.leader.election.enable": "true",
	}
	if len(values) != len(golden) {
		t.Fatalf("the test sets %d configs, Kafka 3.6 has %d", len(values), len(golden))
	}
	configs := map[string]*string{}
	for k, v := range values {
		configs[k] = &v
	}
	all := topicName(t, "all")
	r, err := adm.CreateTopic(ctxT(t, 30*time.Second), 1, 1, configs, all)
	if err != nil {
		t.Fatalf("create %s with every Kafka 3.6 topic config: %v (%s)", all, err, r.ErrMessage)
	}
	m, _ := znodeJSON(t, c, "/config/topics/"+all)
	stored := (jsonChecker{t, c.Path("/config/topics/" + all), m}).object("config")
	for k, v := range values {
		if stored[k] != v {
			t.Errorf("%s: %s = %v, want %q", c.Path("/config/topics/"+all), k, stored[k], v)
		}
	}
	got = describeTopicV4(t, c, all)
	for k, v := range values {
		cfg := got[k]
		if derefStr(cfg.Value) != v || cfg.Source != kmsg.ConfigSourceDynamicTopicConfig {
			t.Errorf("%s = %q from %v, want %q from DYNAMIC_TOPIC_CONFIG", k, derefStr(cfg.Value), cfg.Source, v)
		}
		if len(cfg.ConfigSynonyms) == 0 || cfg.ConfigSynonyms[0].Source != kmsg.ConfigSourceDynamicTopicConfig {
			t.Errorf("%s: synonyms %+v, want the override first", k, cfg.ConfigSynonyms)
		}
	}

	// Kafka's refusals, word for word: CreateTopics answers the ConfigException's message,
	// AlterConfigs prefixes it with the resource (ZkAdminManager).
	for _, tc := range []struct{ name, value, want string }{
		{"retention.ms", "forever", "Invalid value forever for configuration retention.ms: Not a number of type LONG"},
		{"min.cleanable.dirty.ratio", "1.5", "Invalid value 1.5 for configuration min.cleanable.dirty.ratio: Value must be no more than 1"},
		{"message.format.version", "9.9", "Invalid value 9.9 for configuration message.format.version: Version 9.9 is not a valid version"},
		{"no.such.config", "1", "Unknown topic config name: no.such.config"},
		{"remote.storage.enable", "true", "Tiered Storage functionality is disabled in the broker. Topic cannot be configured with remote log storage."},
	} {
		v := tc.value
		name := topicName(t, "bad")
		rs, err := adm.CreateTopics(ctxT(t, 30*time.Second), 1, 1, map[string]*string{tc.name: &v}, name)
		if err != nil {
			t.Fatal(err)
		}
		if r := rs[name]; !errors.Is(r.Err, kerr.InvalidConfig) || r.ErrMessage != tc.want {
			t.Errorf("create with %s=%s: %v %q\nwant INVALID_CONFIG %q", tc.name, tc.value, r.Err, r.ErrMessage, tc.want)
		}
	}
	bad := "abc"
	ars, err := adm.AlterTopicConfigs(ctxT(t, 30*time.Second), []kadm.AlterConfig{{Op: kadm.SetConfig, Name: "segment.jitter.ms", Value: &bad}}, all)
	if err != nil {
		t.Fatal(err)
	}
	want := "Invalid config value for resource ConfigResource(type=TOPIC, name='" + all + "'): Invalid value abc for configuration segment.jitter.ms: Not a number of type LONG"
	if len(ars) != 1 || !errors.Is(ars[0].Err, kerr.InvalidConfig) || ars[0].ErrMessage != want {
		t.Errorf("alter segment.jitter.ms=abc: %+v\nwant INVALID_CONFIG %q", ars, want)
	}
	// APPEND works on the list configs, not on others (prepareIncrementalConfigs).
	item := "1:2"
	ars, err = adm.AlterTopicConfigs(ctxT(t, 30*time.Second), []kadm.AlterConfig{{Op: kadm.AppendConfig, Name: "follower.replication.throttled.replicas", Value: &item}}, all)
	if err != nil || ars[0].Err != nil {
		t.Fatalf("append to follower.replication.throttled.replicas: %v %+v", err, ars)
	}
	if v := derefStr(describeTopicV4(t, c, all)["follower.replication.throttled.replicas"].Value); v != "0:1,1:2" {
		t.Errorf("after APPEND 1:2: follower.replication.throttled.replicas = %q, want 0:1,1:2", v)
	}
	ars, err = adm.AlterTopicConfigs(ctxT(t, 30*time.Second), []kadm.AlterConfig{{Op: kadm.AppendConfig, Name: "segment.ms", Value: &item}}, all)
	if err != nil {
		t.Fatal(err)
	}
	if !errors.Is(ars[0].Err, kerr.InvalidConfig) || ars[0].ErrMessage != "Config value append is not allowed for config key: segment.ms" {
		t.Errorf("append to segment.ms: %v %q", ars[0].Err, ars[0].ErrMessage)
	}
}

func derefStr(s *string) string {
	if s == nil {
		return ""
	}
	return *s
}
