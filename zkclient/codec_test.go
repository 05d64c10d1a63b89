package zkclient

import (
	"reflect"
	"strings"
	"testing"
)

// The golden strings below are the bytes Kafka 3.x writes (Jackson over the Scala/Java maps in
// ZkData.scala); key order included. Broker and partition-state orders are the ones seen in
// real Kafka clusters; Properties orders were produced by java.util.Properties on JDK 17.

const ts = 1700000000000

var topicID = [16]byte{0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15}

func TestGoldenEncodings(t *testing.T) {
	for _, tc := range []struct {
		name string
		got  []byte
		want string
	}{
		{"broker v5 (BrokerIdZNode.encode)",
			encodeBroker(BrokerInfo{ID: 1, Endpoints: []Endpoint{{ListenerName: "PLAINTEXT", SecurityProtocol: "PLAINTEXT", Host: "host", Port: 9092}}}, ts),
			`{"features":{},"listener_security_protocol_map":{"PLAINTEXT":"PLAINTEXT"},"endpoints":["PLAINTEXT://host:9092"],"jmx_port":-1,"port":9092,"host":"host","version":5,"timestamp":"1700000000000"}`},
		{"broker v5 with rack",
			encodeBroker(BrokerInfo{ID: 1, Rack: "r1", Endpoints: []Endpoint{{ListenerName: "PLAINTEXT", SecurityProtocol: "PLAINTEXT", Host: "host", Port: 9092}}}, ts),
			`{"features":{},"listener_security_protocol_map":{"PLAINTEXT":"PLAINTEXT"},"endpoints":["PLAINTEXT://host:9092"],"rack":"r1","jmx_port":-1,"port":9092,"host":"host","version":5,"timestamp":"1700000000000"}`},
		{"broker from Host/Port only",
			encodeBroker(BrokerInfo{ID: 1, Host: "h", Port: 1}, ts),
			`{"features":{},"listener_security_protocol_map":{"PLAINTEXT":"PLAINTEXT"},"endpoints":["PLAINTEXT://h:1"],"jmx_port":-1,"port":1,"host":"h","version":5,"timestamp":"1700000000000"}`},
		{"broker without PLAINTEXT listener: host null, port -1",
			encodeBroker(BrokerInfo{ID: 1, Endpoints: []Endpoint{{ListenerName: "INTERNAL", SecurityProtocol: "SSL", Host: "::1", Port: 9093}}}, ts),
			`{"features":{},"listener_security_protocol_map":{"INTERNAL":"SSL"},"endpoints":["INTERNAL://[::1]:9093"],"jmx_port":-1,"port":-1,"host":null,"version":5,"timestamp":"1700000000000"}`},
		{"controller (ControllerZNode, version 1)", encodeController(2, ts),
			`{"version":1,"brokerid":2,"timestamp":"1700000000000"}`},
		{"controller epoch", encodeControllerEpoch(7), `7`},
		{"topic v3 (TopicZNode.encode)",
			encodeTopic(TopicAssignment{TopicID: topicID, Partitions: map[int32][]int32{0: {1, 2, 3}, 1: {2, 3, 1}}}),
			`{"partitions":{"0":[1,2,3],"1":[2,3,1]},"topic_id":"AAECAwQFBgcICQoLDA0ODw","adding_replicas":{},"removing_replicas":{},"version":3}`},
		{"topic v3 reassigning",
			encodeTopic(TopicAssignment{TopicID: topicID, Partitions: map[int32][]int32{0: {1, 2, 4}},
				AddingReplicas: map[int32][]int32{0: {4}}, RemovingReplicas: map[int32][]int32{0: {3}}}),
			`{"partitions":{"0":[1,2,4]},"topic_id":"AAECAwQFBgcICQoLDA0ODw","adding_replicas":{"0":[4]},"removing_replicas":{"0":[3]},"version":3}`},
		{"topic v3 with 12 partitions (scala mutable.HashMap grown to 32 buckets)",
			encodeTopic(TopicAssignment{TopicID: topicID, Partitions: func() map[int32][]int32 {
				m := map[int32][]int32{}
				for p := int32(0); p < 12; p++ {
					m[p] = []int32{1}
				}
				return m
			}()}),
			`{"partitions":{"11":[1],"0":[1],"1":[1],"2":[1],"3":[1],"4":[1],"5":[1],"6":[1],"7":[1],"8":[1],"9":[1],"10":[1]},"topic_id":"AAECAwQFBgcICQoLDA0ODw","adding_replicas":{},"removing_replicas":{},"version":3}`},
		{"partition state (TopicPartitionStateZNode.encode)",
			encodePartitionState(PartitionState{Leader: 1, LeaderEpoch: 0, ControllerEpoch: 5, ISR: []int32{1, 2, 3}}),
			`{"controller_epoch":5,"leader":1,"version":1,"leader_epoch":0,"isr":[1,2,3]}`},
		{"partition state RECOVERING (KIP-704)",
			encodePartitionState(PartitionState{Leader: 1, LeaderEpoch: 3, ControllerEpoch: 5, ISR: []int32{1}, LeaderRecoveryState: 1}),
			`{"controller_epoch":5,"leader":1,"version":1,"leader_recovery_state":1,"leader_epoch":3,"isr":[1]}`},
		{"cluster id", encodeClusterID("Ab-_0123456789abcdefgh"), `{"version":"1","id":"Ab-_0123456789abcdefgh"}`},
		{"producer id block", encodeProducerIDBlock(1, 0, 999), `{"version":1,"broker":1,"block_start":"0","block_end":"999"}`},
		{"topic config", encodeEntityConfig(map[string]string{"retention.ms": "1000"}), `{"version":1,"config":{"retention.ms":"1000"}}`},
		{"empty topic config", encodeEntityConfig(nil), `{"version":1,"config":{}}`},
		{"topic config, Properties order",
			encodeEntityConfig(map[string]string{"cleanup.policy": "x", "retention.ms": "x", "segment.bytes": "x", "min.insync.replicas": "x", "max.message.bytes": "x"}),
			`{"version":1,"config":{"cleanup.policy":"x","max.message.bytes":"x","min.insync.replicas":"x","retention.ms":"x","segment.bytes":"x"}}`},
		{"config change", encodeConfigChange("topics/t"), `{"version":2,"entity_path":"topics/t"}`},
		{"isr change", encodePartitionList([]TopicPartition{{"t", 0}, {"u", 3}}),
			`{"version":1,"partitions":[{"topic":"t","partition":0},{"topic":"u","partition":3}]}`},
		{"feature", encodeFeature(), `{"features":{},"version":2,"status":1}`},
		{"escaping like Jackson", jsonString("a\"b\\c\n\x01é/<"), `"a\"b\\c\n\u0001é/<"`},
	} {
		if string(tc.got) != tc.want {
			t.Errorf("%s:\n got %s\nwant %s", tc.name, tc.got, tc.want)
		}
	}
}

// The resize case of java.util.Properties (13 keys: 32 buckets), checked against JDK 17. Keys
// sharing a bucket keep an order that depends on insertion history, which we cannot know;
// these keys do not share one.
func TestJavaPropertiesOrderAfterResize(t *testing.T) {
	keys := strings.Fields("retention.ms cleanup.policy segment.bytes min.insync.replicas max.message.bytes compression.type retention.bytes segment.ms flush.ms flush.messages index.interval.bytes file.delete.delay.ms min.cleanable.dirty.ratio")
	cfg := map[string]string{}
	for _, k := range keys {
		cfg[k] = "x"
	}
	want := strings.Fields("compression.type file.delete.delay.ms max.message.bytes min.insync.replicas index.interval.bytes min.cleanable.dirty.ratio retention.bytes cleanup.policy flush.ms retention.ms segment.bytes segment.ms flush.messages")
	var b strings.Builder
	b.WriteString(`{"version":1,"config":{`)
	for i, k := range want {
		if i > 0 {
			b.WriteByte(',')
		}
		b.WriteString(`"` + k + `":"x"`)
	}
	b.WriteString(`}}`)
	if got := string(encodeEntityConfig(cfg)); got != b.String() {
		t.Errorf("got  %s\nwant %s", got, b.String())
	}
}

func TestDecodeOlderFormats(t *testing.T) {
	// Topic znode version 1 (Kafka < 2.4): no topic_id, no adding/removing replicas.
	a, err := decodeTopic("t", []byte(`{"version":1,"partitions":{"0":[1,2],"1":[2,1]}}`))
	if err != nil || !reflect.DeepEqual(a.Partitions, map[int32][]int32{0: {1, 2}, 1: {2, 1}}) || a.TopicID != ([16]byte{}) {
		t.Fatalf("v1 topic: %+v %v", a, err)
	}
	a, err = decodeTopic("t", []byte(`{"version":3,"partitions":{"0":[1]},"adding_replicas":{"0":[1]},"removing_replicas":{},"topic_id":"AAECAwQFBgcICQoLDA0ODw"}`))
	if err != nil || a.TopicID != topicID || !reflect.DeepEqual(a.AddingReplicas, map[int32][]int32{0: {1}}) {
		t.Fatalf("v3 topic: %+v %v", a, err)
	}
	// Broker registration version 4 (Kafka 0.10-2.6): rack, no features.
	b, err := decodeBroker(3, []byte(`{"listener_security_protocol_map":{"CLIENT":"SASL_SSL","REPL":"PLAINTEXT"},"endpoints":["CLIENT://h1:9093","REPL://h1:9092"],"rack":"dc1","jmx_port":9999,"host":"h1","timestamp":"2233345666","port":9092,"version":4}`))
	if err != nil || b.Rack != "dc1" || b.JmxPort != 9999 || b.Timestamp != 2233345666 || len(b.Endpoints) != 2 ||
		b.Endpoints[0] != (Endpoint{"CLIENT", "SASL_SSL", "h1", 9093}) || b.Version != 4 {
		t.Fatalf("v4 broker: %+v %v", b, err)
	}
	// Version 1: host and port only.
	b, err = decodeBroker(1, []byte(`{"version":1,"host":"localhost","port":9092,"jmx_port":9999,"timestamp":"2233345666"}`))
	if err != nil || len(b.Endpoints) != 1 || b.Endpoints[0].ConnectionString() != "PLAINTEXT://localhost:9092" {
		t.Fatalf("v1 broker: %+v %v", b, err)
	}
	// Version 5 with features, round trip of our own encoding.
	in := BrokerInfo{ID: 2, Rack: "r", Endpoints: []Endpoint{{"PLAINTEXT", "PLAINTEXT", "a", 1}, {"SSL", "SSL", "a", 2}},
		Features: map[string]string{"metadata.version": `{"min_version":1,"max_version":7}`}}
	b, err = decodeBroker(2, encodeBroker(in, ts))
	if err != nil || b.Host != "a" || b.Port != 1 || !reflect.DeepEqual(b.Endpoints, in.Endpoints) || b.Timestamp != ts ||
		b.Features["metadata.version"] != `{"min_version":1,"max_version":7}` {
		t.Fatalf("v5 broker: %+v %v", b, err)
	}
	// Controller version 2 (Kafka 3.4+).
	if id, err := decodeController([]byte(`{"version":2,"brokerid":4,"timestamp":"1","kraftControllerEpoch":-1}`)); err != nil || id != 4 {
		t.Fatalf("controller v2: %d %v", id, err)
	}
	// Config change version 1.
	if e, err := decodeConfigChange([]byte(`{"version":1,"entity_type":"topics","entity_name":"t"}`)); err != nil || e != "topics/t" {
		t.Fatalf("config change v1: %q %v", e, err)
	}
	st, err := decodePartitionState([]byte(`{"controller_epoch":5,"leader":-1,"version":1,"leader_epoch":2,"isr":[]}`), 9)
	if err != nil || st.Leader != -1 || st.ZkVersion != 9 || len(st.ISR) != 0 {
		t.Fatalf("state: %+v %v", st, err)
	}
}

func TestParseConnect(t *testing.T) {
	for _, tc := range []struct {
		in      string
		servers []string
		chroot  string
	}{
		{"h1:2181,h2:2182/klassik", []string{"h1:2181", "h2:2182"}, "/klassik"},
		{"h1/a/b/", []string{"h1:2181"}, "/a/b"},
		{"127.0.0.1:2181", []string{"127.0.0.1:2181"}, ""},
		{"h:1/", []string{"h:1"}, ""},
	} {
		s, c, err := ParseConnect(tc.in)
		if err != nil || !reflect.DeepEqual(s, tc.servers) || c != tc.chroot {
			t.Errorf("ParseConnect(%q) = %v %q %v", tc.in, s, c, err)
		}
	}
	for _, bad := range []string{"", "/chroot", "h:1/a/../b"} {
		if _, _, err := ParseConnect(bad); err == nil {
			t.Errorf("ParseConnect(%q) should fail", bad)
		}
	}
}
