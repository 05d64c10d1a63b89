package tools

import (
	"bytes"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/http/httptest"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/go-zookeeper/zk"
	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kgo"
	"github.com/twmb/franz-go/pkg/kmsg"
)

// runCmd runs a command by name with no stdin and returns its exit code and output.
func runCmd(t *testing.T, name string, args ...string) (int, string, string) {
	t.Helper()
	for _, c := range Commands() {
		if c.Name == name {
			var out, errOut bytes.Buffer
			code := c.Run(args, strings.NewReader(""), &out, &errOut)
			return code, out.String(), errOut.String()
		}
	}
	t.Fatalf("no command %q", name)
	return 0, "", ""
}

func TestCommandsHaveHelp(t *testing.T) {
	seen := map[string]bool{}
	for _, c := range Commands() {
		if seen[c.Name] || c.Summary == "" || c.Run == nil {
			t.Fatalf("bad command entry %+v", c)
		}
		seen[c.Name] = true
		code, out, _ := runCmd(t, c.Name, "--help")
		if code != 0 || !strings.Contains(out, "--") && c.Name != "zookeeper-shell" {
			t.Errorf("%s --help: code %d, output %q", c.Name, code, out)
		}
	}
	for _, want := range []string{"topics", "console-producer", "console-consumer", "consumer-groups", "configs", "zookeeper-shell", "producer-perf-test", "consumer-perf-test", "transactions", "healthcheck"} {
		if !seen[want] {
			t.Errorf("missing command %s", want)
		}
	}
}

func TestFlagParsing(t *testing.T) {
	tests := []struct {
		name    string
		args    []string
		wantErr string
		check   func(t *testing.T, fs *flagSet)
	}{
		{"double dash space", []string{"--topic", "a"}, "", func(t *testing.T, fs *flagSet) {
			if fs.byName["topic"].str() != "a" {
				t.Errorf("topic = %q", fs.byName["topic"].str())
			}
		}},
		{"equals", []string{"--topic=a=b"}, "", func(t *testing.T, fs *flagSet) {
			if fs.byName["topic"].str() != "a=b" {
				t.Errorf("topic = %q", fs.byName["topic"].str())
			}
		}},
		{"single dash", []string{"-topic", "a", "-list"}, "", func(t *testing.T, fs *flagSet) {
			if fs.byName["topic"].str() != "a" || !fs.byName["list"].given {
				t.Errorf("topic=%q list=%v", fs.byName["topic"].str(), fs.byName["list"].given)
			}
		}},
		{"repeated accumulate", []string{"--config", "a=1", "--config=b=2", "--config", "c=3"}, "", func(t *testing.T, fs *flagSet) {
			if got := fs.byName["config"].all(); !reflect.DeepEqual(got, []string{"a=1", "b=2", "c=3"}) {
				t.Errorf("config = %q", got)
			}
		}},
		{"multi until next option", []string{"--props", "a=1", "b=2", "--list", "x"}, "", func(t *testing.T, fs *flagSet) {
			if got := fs.byName["props"].all(); !reflect.DeepEqual(got, []string{"a=1", "b=2"}) {
				t.Errorf("props = %q", got)
			}
			if !reflect.DeepEqual(fs.args, []string{"x"}) {
				t.Errorf("args = %q", fs.args)
			}
		}},
		{"negative number is a value", []string{"--num", "-1"}, "", func(t *testing.T, fs *flagSet) {
			if n, err := fs.byName["num"].integer(); err != nil || n != -1 {
				t.Errorf("num = %d, %v", n, err)
			}
		}},
		{"optional without value", []string{"--codec", "--list"}, "", func(t *testing.T, fs *flagSet) {
			if fs.byName["codec"].str() != "gzip" {
				t.Errorf("codec = %q", fs.byName["codec"].str())
			}
		}},
		{"optional with value", []string{"--codec", "lz4"}, "", func(t *testing.T, fs *flagSet) {
			if fs.byName["codec"].str() != "lz4" {
				t.Errorf("codec = %q", fs.byName["codec"].str())
			}
		}},
		{"alias", []string{"--old", "x"}, "", func(t *testing.T, fs *flagSet) {
			if fs.byName["topic"].str() != "x" {
				t.Errorf("topic = %q", fs.byName["topic"].str())
			}
		}},
		{"default", nil, "", func(t *testing.T, fs *flagSet) {
			if fs.byName["num"].str() != "5" || fs.byName["num"].given {
				t.Errorf("num = %q given=%v", fs.byName["num"].str(), fs.byName["num"].given)
			}
		}},
		{"unknown", []string{"--nope"}, "nope is not a recognized option", nil},
		{"missing value", []string{"--topic"}, "Option topic requires an argument", nil},
		{"multi needs a value", []string{"--props"}, "Option props requires an argument", nil},
		{"help", []string{"--list", "--help"}, errHelp.Error(), nil},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			fs := newFlagSet("x", "x")
			fs.Value("topic", "t", "", "")
			fs.Alias("old", "topic")
			fs.Value("config", "c", "", "")
			fs.Value("num", "n", "5", "")
			fs.Bool("list", "")
			fs.Multi("props", "p", "")
			fs.Optional("codec", "c", "gzip", "")
			err := fs.parse(tc.args)
			if tc.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
					t.Fatalf("err = %v, want %q", err, tc.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			tc.check(t, fs)
		})
	}
}

func TestPropertiesFile(t *testing.T) {
	got := parsePropertiesFile("# comment\nbootstrap.servers=a:1,b:2\n! also\nacks: all\n\nlinger.ms = 5\r\n")
	want := map[string]string{"bootstrap.servers": "a:1,b:2", "acks": "all", "linger.ms": "5"}
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("got %v", got)
	}
	if _, err := parseProps([]string{"novalue"}); err == nil {
		t.Fatal("want error for a property without =")
	}
}

// TestUsageErrors checks the errors a command line can have, all found before any broker is
// contacted: each is a sentence on stderr and exit code 1.
func TestUsageErrors(t *testing.T) {
	tests := []struct {
		cmd  string
		args []string
		want string
	}{
		{"topics", []string{"--bootstrap-server", "x:1"}, "Command must include exactly one action: --list, --describe, --create, --alter or --delete"},
		{"topics", []string{"--bootstrap-server", "x:1", "--list", "--create"}, "exactly one action"},
		{"topics", []string{"--create", "--topic", "t"}, `Missing required argument "[bootstrap-server]"`},
		{"topics", []string{"--bootstrap-server", "x:1", "--create"}, `Missing required argument "[topic]"`},
		{"topics", []string{"--bootstrap-server", "x:1", "--alter", "--topic", "t"}, `Missing required argument "[partitions]"`},
		{"topics", []string{"--bootstrap-server", "x:1", "--create", "--topic", "t", "--partitions", "0"}, "The partitions must be greater than 0"},
		{"topics", []string{"--bootstrap-server", "x:1", "--create", "--topic", "t", "--partitions", "x"}, "expects an integer"},
		{"topics", []string{"--bootstrap-server", "x:1", "--create", "--topic", "t", "--config", "bad"}, "key=val"},
		{"topics", []string{"--bootstrap-server", "x:1", "--create", "--topic", "t", "--replica-assignment", "1:2,3", "--partitions", "2"}, "can't be used with"},
		{"topics", []string{"--bootstrap-server", "x:1", "--create", "--topic", "t", "--replica-assignment", "1:2,3"}, "different replication factor"},
		{"topics", []string{"--bootstrap-server", "x:1", "--list", "--bogus"}, "bogus is not a recognized option"},
		{"console-producer", []string{"--bootstrap-server", "x:1"}, `Missing required argument "[topic]"`},
		{"console-producer", []string{"--topic", "t"}, `Missing required argument "[bootstrap-server]"`},
		{"console-producer", []string{"--topic", "t", "--broker-list", "x:1", "--request-required-acks", "2"}, "Invalid value 2 for configuration acks"},
		{"console-consumer", []string{"--topic", "t"}, `Missing required argument "[bootstrap-server]"`},
		{"console-consumer", []string{"--bootstrap-server", "x:1"}, "Exactly one of --include/--topic is required."},
		{"console-consumer", []string{"--bootstrap-server", "x:1", "--topic", "t", "--offset", "5"}, "The partition is required when offset is specified."},
		{"console-consumer", []string{"--bootstrap-server", "x:1", "--topic", "t", "--partition", "0", "--offset", "x"}, "The provided offset value 'x' is incorrect"},
		{"console-consumer", []string{"--bootstrap-server", "x:1", "--topic", "t", "--partition", "0", "--group", "g"}, "Options group and partition cannot be specified together."},
		{"consumer-groups", []string{"--bootstrap-server", "x:1"}, "exactly one action"},
		{"consumer-groups", []string{"--bootstrap-server", "x:1", "--describe"}, "takes one of these options: [all-groups], [group]"},
		{"consumer-groups", []string{"--bootstrap-server", "x:1", "--delete-offsets", "--group", "g"}, "[topic]"},
		{"configs", []string{"--bootstrap-server", "x:1", "--describe"}, "At least one entity type must be specified"},
		{"configs", []string{"--bootstrap-server", "x:1", "--describe", "--entity-type", "bogus"}, "Invalid entity type bogus"},
		{"configs", []string{"--bootstrap-server", "x:1", "--alter", "--topic", "t"}, "At least one of --add-config"},
		{"configs", []string{"--bootstrap-server", "x:1", "--alter", "--entity-type", "topics"}, "An entity name must be specified"},
		{"configs", []string{"--bootstrap-server", "x:1", "--describe", "--broker", "one"}, "valid integer broker id"},
		{"configs", []string{"--bootstrap-server", "x:1", "--alter", "--topic", "t", "--add-config", "a=1", "--delete-config", "a"}, "both added and deleted"},
		{"configs", []string{"--bootstrap-server", "x:1", "--alter", "--entity-type", "clients", "--add-config", "producer_byte_rate=1"}, "--entity-name or --entity-default must be specified"},
		{"configs", []string{"--bootstrap-server", "x:1", "--alter", "--entity-type", "users", "--entity-type", "clients", "--entity-name", "u", "--add-config", "producer_byte_rate=1"}, "An entity name must be specified for every entity type"},
		{"configs", []string{"--bootstrap-server", "x:1", "--alter", "--entity-type", "clients", "--entity-name", "c", "--add-config", "retention.ms=1"}, "Only quota configs can be added for 'clients' using --bootstrap-server. Unexpected config names: Set(retention.ms)"},
		{"configs", []string{"--bootstrap-server", "x:1", "--alter", "--entity-type", "users", "--entity-name", "u", "--delete-config", "segment.ms"}, "Only quota and SCRAM credential configs can be deleted for 'users'"},
		{"configs", []string{"--bootstrap-server", "x:1", "--describe", "--entity-type", "topics", "--entity-type", "clients"}, "Only 'users' and 'clients' entity types may be specified together"},
		{"configs", []string{"--bootstrap-server", "x:1", "--describe", "--entity-type", "clients", "--client", "c"}, "should not be used in conjunction with specific entity flags"},
		{"configs", []string{"--bootstrap-server", "x:1", "--describe", "--entity-type", "clients", "--entity-name", "a", "--entity-name", "b"}, "More entity names specified than entity types"},
		{"producer-perf-test", []string{"--topic", "t", "--num-records", "1"}, `Missing required argument "[throughput]"`},
		{"producer-perf-test", []string{"--topic", "t", "--num-records", "1", "--throughput", "-1"}, "Either --record-size or --payload-file"},
		{"producer-perf-test", []string{"--topic", "t", "--num-records", "1", "--throughput", "-1", "--record-size", "1"}, "bootstrap.servers"},
		{"consumer-perf-test", []string{"--bootstrap-server", "x:1", "--topic", "t"}, `Missing required argument "[messages]"`},
		{"healthcheck", nil, `Missing required argument "[bootstrap-server]"`},
		{"zookeeper-shell", nil, "USAGE"},
	}
	for _, tc := range tests {
		t.Run(tc.cmd+" "+strings.Join(tc.args, " "), func(t *testing.T) {
			code, _, errOut := runCmd(t, tc.cmd, tc.args...)
			if code != 1 || !strings.Contains(errOut, tc.want) {
				t.Fatalf("code %d, stderr %q; want 1 and %q", code, errOut, tc.want)
			}
		})
	}
}

// TestUnreachableBroker checks that a closed port fails quickly with the address named.
func TestUnreachableBroker(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()
	start := time.Now()
	code, _, errOut := runCmd(t, "topics", "--bootstrap-server", addr, "--list")
	if code != 1 || !strings.Contains(errOut, "Could not reach any broker at "+addr) {
		t.Fatalf("code %d, stderr %q", code, errOut)
	}
	if d := time.Since(start); d > 15*time.Second {
		t.Fatalf("took %s", d)
	}
	code, _, errOut = runCmd(t, "healthcheck", "--bootstrap-server", addr, "--timeout-ms", "1000")
	if code != 1 || !strings.HasPrefix(errOut, "unhealthy: ") || strings.Count(errOut, "\n") != 1 {
		t.Fatalf("healthcheck: code %d, stderr %q", code, errOut)
	}
}

func TestReplicaAssignment(t *testing.T) {
	got, err := parseReplicaAssignment("1:2:3, 2:3:1,3:1:2")
	if err != nil || !reflect.DeepEqual(got, [][]int32{{1, 2, 3}, {2, 3, 1}, {3, 1, 2}}) {
		t.Fatalf("got %v, %v", got, err)
	}
	for _, bad := range []string{"1:x", "1:1", "1:2,3", ""} {
		if _, err := parseReplicaAssignment(bad); err == nil {
			t.Errorf("%q: want error", bad)
		}
	}
}

func TestMatchTopics(t *testing.T) {
	all := []string{"a.b", "axb", "events", "events-2", "__consumer_offsets"}
	tests := []struct {
		pattern string
		want    []string
	}{
		{"", all},
		{"events", []string{"events"}},
		{"events.*", []string{"events", "events-2"}},
		{"a.b", []string{"a.b", "axb"}}, // Kafka treats --topic as a regular expression
		{"nope", nil},
		{"bad[", nil},
	}
	for _, tc := range tests {
		if got := matchTopics(all, tc.pattern); !reflect.DeepEqual(got, tc.want) {
			t.Errorf("%q: got %v, want %v", tc.pattern, got, tc.want)
		}
	}
}

func TestDescribeOutput(t *testing.T) {
	id := [16]byte{0xbd, 0x61, 0xb3, 0x96, 0x20, 0xaf, 0x80, 0x9b, 0x18, 0x4b, 0x01, 0x5b, 0xdf, 0x13, 0x92, 0x14}
	topics := []topicView{{
		Name: "t", ID: id, Configs: []string{"retention.ms=1000", "min.insync.replicas=2"},
		Partitions: []partitionView{
			{Partition: 0, Leader: 1, Replicas: []int32{1, 2, 3}, ISR: []int32{1, 2, 3}},
			{Partition: 1, Leader: 2, Replicas: []int32{2, 3, 1}, ISR: []int32{2, 3}},
			{Partition: 2, Leader: -1, Replicas: []int32{3, 1, 2}, ISR: []int32{3}, Offline: []int32{3}},
		},
	}, {Name: "u", Partitions: []partitionView{{Partition: 0, Leader: 1, Replicas: []int32{1}, ISR: []int32{1}}}}}
	tests := []struct {
		name string
		opts topicsOpts
		want string
	}{
		{"all", topicsOpts{}, "Topic: t\tTopicId: vWGzliCvgJsYSwFb3xOSFA\tPartitionCount: 3\tReplicationFactor: 3\tConfigs: retention.ms=1000,min.insync.replicas=2\n" +
			"\tTopic: t\tPartition: 0\tLeader: 1\tReplicas: 1,2,3\tIsr: 1,2,3\n" +
			"\tTopic: t\tPartition: 1\tLeader: 2\tReplicas: 2,3,1\tIsr: 2,3\n" +
			"\tTopic: t\tPartition: 2\tLeader: none\tReplicas: 3,1,2\tIsr: 3\tOffline: 3\n" +
			"Topic: u\tPartitionCount: 1\tReplicationFactor: 1\tConfigs: \n" +
			"\tTopic: u\tPartition: 0\tLeader: 1\tReplicas: 1\tIsr: 1\n"},
		{"under-replicated", topicsOpts{underReplicated: true},
			"\tTopic: t\tPartition: 1\tLeader: 2\tReplicas: 2,3,1\tIsr: 2,3\n" +
				"\tTopic: t\tPartition: 2\tLeader: none\tReplicas: 3,1,2\tIsr: 3\tOffline: 3\n"},
		{"unavailable", topicsOpts{unavailable: true},
			"\tTopic: t\tPartition: 2\tLeader: none\tReplicas: 3,1,2\tIsr: 3\tOffline: 3\n"},
		{"with overrides", topicsOpts{topicsWithOverride: true},
			"Topic: t\tTopicId: vWGzliCvgJsYSwFb3xOSFA\tPartitionCount: 3\tReplicationFactor: 3\tConfigs: retention.ms=1000,min.insync.replicas=2\n"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			var b bytes.Buffer
			writeDescription(&b, topics, &tc.opts, map[int32]bool{1: true, 2: true, 3: true})
			if b.String() != tc.want {
				t.Fatalf("got\n%s\nwant\n%s", b.String(), tc.want)
			}
		})
	}
}

func TestLineReader(t *testing.T) {
	tests := []struct {
		name     string
		props    map[string]string
		line     string
		key, val string // "<nil>" for no key
		headers  string
		wantErr  string
	}{
		{"value only", nil, "hello world", "<nil>", "hello world", "", ""},
		{"key with tab", map[string]string{"parse.key": "true"}, "k\tv", "k", "v", "", ""},
		{"key with colon", map[string]string{"parse.key": "true", "key.separator": ":"}, "k:v:w", "k", "v:w", "", ""},
		{"escaped separator", map[string]string{"parse.key": "true", "key.separator": `\t`}, "k\tv", "k", "v", "", ""},
		{"missing separator", map[string]string{"parse.key": "true", "key.separator": ":"}, "novalue", "", "", "", "No key separator found on line number 3: 'novalue'"},
		{"ignore error", map[string]string{"parse.key": "true", "key.separator": ":", "ignore.error": "true"}, "novalue", "<nil>", "novalue", "", ""},
		{"null marker", map[string]string{"parse.key": "true", "key.separator": ":", "null.marker": "NULL"}, "NULL:v", "<nil>", "v", "", ""},
		{"headers", map[string]string{"parse.headers": "true", "parse.key": "true", "key.separator": ":"}, "h1:a,h2:b\tk:v", "k", "v", "h1=a h2=b", ""},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			rec, err := newReaderProps(tc.props).lineToRecord("t", tc.line, 3)
			if tc.wantErr != "" {
				if err == nil || err.Error() != tc.wantErr {
					t.Fatalf("err = %v, want %q", err, tc.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			key := "<nil>"
			if rec.Key != nil {
				key = string(rec.Key)
			}
			var hs []string
			for _, h := range rec.Headers {
				hs = append(hs, h.Key+"="+string(h.Value))
			}
			if key != tc.key || string(rec.Value) != tc.val || strings.Join(hs, " ") != tc.headers || rec.Topic != "t" {
				t.Fatalf("got key %q value %q headers %v", key, rec.Value, hs)
			}
		})
	}
}

func TestFormatter(t *testing.T) {
	r := &kgo.Record{Key: []byte("k"), Value: []byte("v"), Partition: 2, Offset: 7, Timestamp: time.UnixMilli(1700000000123),
		Headers: []kgo.RecordHeader{{Key: "h", Value: []byte("x")}}}
	tests := []struct {
		props map[string]string
		rec   *kgo.Record
		want  string
	}{
		{nil, r, "v\n"},
		{map[string]string{"print.key": "true"}, r, "k\tv\n"},
		{map[string]string{"print.key": "true", "key.separator": ":"}, r, "k:v\n"},
		{map[string]string{"print.key": "true", "print.value": "false"}, r, "k\n"},
		{map[string]string{"print.timestamp": "true", "print.partition": "true", "print.offset": "true", "print.key": "true"}, r,
			"CreateTime:1700000000123\tPartition:2\tOffset:7\tk\tv\n"},
		{map[string]string{"print.headers": "true"}, r, "h:x\tv\n"},
		{map[string]string{"print.headers": "true"}, &kgo.Record{Value: []byte("v")}, "NO_HEADERS\tv\n"},
		{map[string]string{"print.key": "true"}, &kgo.Record{Value: []byte("v")}, "null\tv\n"},
		{map[string]string{"print.key": "true", "null.literal": "-", "line.separator": `\n\n`}, &kgo.Record{}, "-\t-\n\n"},
	}
	for i, tc := range tests {
		var b bytes.Buffer
		f, err := newFormatter(tc.props)
		if err == nil {
			err = f.format(&b, tc.rec)
		}
		if err != nil || b.String() != tc.want {
			t.Errorf("%d: got %q (%v), want %q", i, b.String(), err, tc.want)
		}
	}
}

func TestConsumeOpts(t *testing.T) {
	parse := func(args ...string) (*consumeOpts, error) {
		fs := consoleConsumerFlags()
		if err := fs.parse(args); err != nil {
			return nil, err
		}
		return parseConsumeOpts(fs)
	}
	o, err := parse("--bootstrap-server", "b:1", "--topic", "t", "--from-beginning", "--max-messages", "5", "--timeout-ms", "1500")
	if err != nil || o.maxMessages != 5 || !o.fromBeginning || o.timeout != 1500*time.Millisecond || o.partition != -1 {
		t.Fatalf("%+v %v", o, err)
	}
	o, err = parse("--bootstrap-server", "b:1", "--topic", "t", "--partition", "2", "--offset", "42")
	if err != nil || o.partition != 2 || o.offset.EpochOffset().Offset != 42 {
		t.Fatalf("%+v %v", o, err)
	}
	o, err = parse("--bootstrap-server", "b:1", "--topic", "t", "--partition", "0", "--from-beginning")
	if err != nil || o.offset.EpochOffset().Offset != kgo.NewOffset().AtStart().EpochOffset().Offset {
		t.Fatalf("%+v %v", o, err)
	}
	if _, err := parse("--bootstrap-server", "b:1", "--topic", "t", "--partition", "0", "--from-beginning", "--offset", "1"); err == nil {
		t.Fatal("want error for --from-beginning with --offset")
	}
}

func TestGroupTables(t *testing.T) {
	var b bytes.Buffer
	writeOffsetsTable(&b, []offsetRow{
		{Group: "g", Topic: "t", Partition: 0, Current: 3, LogEnd: 5, hasTopic: true, hasCurrent: true, hasLogEn: true, ConsumerID: "c-1", Host: "/127.0.0.1", ClientID: "cl"},
		{Group: "g", Topic: "t", Partition: 1, LogEnd: 2, hasTopic: true, hasLogEn: true},
		{Group: "g", ConsumerID: "c-2", Host: "/127.0.0.1", ClientID: "cl"},
	})
	want := "\n" +
		"GROUP           TOPIC           PARTITION  CURRENT-OFFSET  LOG-END-OFFSET  LAG             CONSUMER-ID     HOST            CLIENT-ID\n" +
		"g               t               0          3               5               2               c-1             /127.0.0.1      cl\n" +
		"g               t               1          -               2               -               -               -               -\n" +
		"g               -               -          -               -               -               c-2             /127.0.0.1      cl\n"
	if b.String() != want {
		t.Fatalf("got\n%q\nwant\n%q", b.String(), want)
	}

	b.Reset()
	writeResetTable(&b, "g", []resetPlan{{"t", 0, 0}, {"t", 1, 10}})
	want = "\nGROUP                          TOPIC                          PARTITION  NEW-OFFSET     \n" +
		"g                              t                              0          0              \n" +
		"g                              t                              1          10             \n"
	if b.String() != want {
		t.Fatalf("got\n%q\nwant\n%q", b.String(), want)
	}

	b.Reset()
	writeMembersTable(&b, []memberRow{{Group: "g", ConsumerID: "c-1", Host: "/h", ClientID: "cl", Assignment: map[string][]int32{"t": {0, 1}}}}, true)
	if !strings.Contains(b.String(), "#PARTITIONS") || !strings.Contains(b.String(), "2               t(0,1)") {
		t.Fatalf("members table %q", b.String())
	}
	b.Reset()
	writeStateTable(&b, []stateRow{{Group: "g", Coordinator: "h:9092 (1)", Strategy: "range", State: "Stable", Members: 2}})
	if !strings.Contains(b.String(), "COORDINATOR (ID)") || !strings.Contains(b.String(), "Stable") {
		t.Fatalf("state table %q", b.String())
	}
}

func TestResetScenario(t *testing.T) {
	// log holds offsets [10, 20); the group committed 15.
	tests := []struct {
		s          resetScenario
		cur        int64
		hasCurrent bool
		want       int64
	}{
		{resetScenario{kind: "earliest"}, 15, true, 10},
		{resetScenario{kind: "latest"}, 15, true, 20},
		{resetScenario{kind: "current"}, 15, true, 15},
		{resetScenario{kind: "offset", n: 12}, 15, true, 12},
		{resetScenario{kind: "offset", n: 5}, 15, true, 10},   // clamped to the log start
		{resetScenario{kind: "offset", n: 500}, 15, true, 20}, // clamped to the log end
		{resetScenario{kind: "shift", n: -3}, 15, true, 12},
		{resetScenario{kind: "shift", n: -30}, 15, true, 10},
		{resetScenario{kind: "shift", n: 2}, 0, false, 20},
	}
	for _, tc := range tests {
		if got := tc.s.newOffset(10, 20, tc.cur, tc.hasCurrent); got != tc.want {
			t.Errorf("%+v: got %d, want %d", tc.s, got, tc.want)
		}
	}
	m, order, err := parseTopicPartitions([]string{"a", "b:0,2", "b:3"})
	if err != nil || !reflect.DeepEqual(order, []string{"a", "b"}) || m["a"] != nil || !reflect.DeepEqual(m["b"], []int32{0, 2, 3}) {
		t.Fatalf("%v %v %v", m, order, err)
	}
	if _, _, err := parseTopicPartitions([]string{"a:x"}); err == nil {
		t.Fatal("want error")
	}
}

func TestConfigParsing(t *testing.T) {
	if got := splitConfigList("a=1,b=[x,y,z],c=3"); !reflect.DeepEqual(got, []string{"a=1", "b=[x,y,z]", "c=3"}) {
		t.Fatalf("split %q", got)
	}
	got, err := parseAddConfig([]string{"retention.ms=1000,cleanup.policy=[compact,delete]", "segment.bytes=100"})
	want := [][2]string{{"retention.ms", "1000"}, {"cleanup.policy", "compact,delete"}, {"segment.bytes", "100"}}
	if err != nil || !reflect.DeepEqual(got, want) {
		t.Fatalf("got %v %v", got, err)
	}
	if _, err := parseAddConfig([]string{"novalue"}); err == nil {
		t.Fatal("want error")
	}
}

func TestConfigOutput(t *testing.T) {
	v, d := "1000", "604800000"
	c := kadm.Config{Key: "retention.ms", Value: &v, Source: kmsg.ConfigSourceDynamicTopicConfig, Synonyms: []kadm.ConfigSynonym{
		{Key: "retention.ms", Value: &v, Source: kmsg.ConfigSourceDynamicTopicConfig},
		{Key: "log.retention.ms", Value: &d, Source: kmsg.ConfigSourceDefaultConfig},
	}}
	var b bytes.Buffer
	writeConfigEntry(&b, c)
	want := "  retention.ms=1000 sensitive=false synonyms={DYNAMIC_TOPIC_CONFIG:retention.ms=1000, DEFAULT_CONFIG:log.retention.ms=604800000}\n"
	if b.String() != want {
		t.Fatalf("got %q", b.String())
	}
	b.Reset()
	writeConfigEntry(&b, kadm.Config{Key: "ssl.key.password", Sensitive: true, Source: kmsg.ConfigSourceDynamicBrokerConfig})
	if b.String() != "  ssl.key.password=null sensitive=true synonyms={}\n" {
		t.Fatalf("got %q", b.String())
	}
	for _, tc := range []struct {
		t    configTarget
		name string
		all  bool
		want string
	}{
		{configTarget{kind: "topics"}, "t", false, "Dynamic configs for topic t are:"},
		{configTarget{kind: "topics"}, "t", true, "All configs for topic t are:"},
		{configTarget{kind: "brokers"}, "1", false, "Dynamic configs for broker 1 are:"},
		{configTarget{kind: "brokers", isDefault: true}, "", false, "Default configs for brokers in the cluster are:"},
	} {
		if got := describeHeader(tc.t, tc.name, tc.all); got != tc.want {
			t.Errorf("got %q, want %q", got, tc.want)
		}
	}
	if shown(configTarget{kind: "topics"}, "t", kadm.Config{Source: kmsg.ConfigSourceDefaultConfig}, false) {
		t.Error("a default config is not dynamic")
	}
}

// fakeZK is an in-memory tree for the shell's commands.
type fakeZK struct{ nodes map[string][]byte }

func (f *fakeZK) children(p string) []string {
	var out []string
	prefix := strings.TrimSuffix(p, "/") + "/"
	for n := range f.nodes {
		if strings.HasPrefix(n, prefix) && !strings.Contains(n[len(prefix):], "/") && n != p {
			out = append(out, n[len(prefix):])
		}
	}
	return out
}
func (f *fakeZK) Children(p string) ([]string, *zk.Stat, error) {
	if _, ok := f.nodes[p]; !ok {
		return nil, nil, zk.ErrNoNode
	}
	c := f.children(p)
	return c, &zk.Stat{NumChildren: int32(len(c))}, nil
}
func (f *fakeZK) Get(p string) ([]byte, *zk.Stat, error) {
	d, ok := f.nodes[p]
	if !ok {
		return nil, nil, zk.ErrNoNode
	}
	return d, &zk.Stat{DataLength: int32(len(d))}, nil
}
func (f *fakeZK) Exists(p string) (bool, *zk.Stat, error) {
	_, ok := f.nodes[p]
	return ok, &zk.Stat{Czxid: 0x1f, Ctime: 0, Mtime: 0, NumChildren: int32(len(f.children(p)))}, nil
}
func (f *fakeZK) Create(p string, data []byte, flags int32, acl []zk.ACL) (string, error) {
	if _, ok := f.nodes[p]; ok {
		return "", zk.ErrNodeExists
	}
	f.nodes[p] = data
	return p, nil
}
func (f *fakeZK) Set(p string, data []byte, version int32) (*zk.Stat, error) {
	if _, ok := f.nodes[p]; !ok {
		return nil, zk.ErrNoNode
	}
	f.nodes[p] = data
	return &zk.Stat{}, nil
}
func (f *fakeZK) Delete(p string, version int32) error {
	if _, ok := f.nodes[p]; !ok {
		return zk.ErrNoNode
	}
	if len(f.children(p)) > 0 {
		return zk.ErrNotEmpty
	}
	delete(f.nodes, p)
	return nil
}

func TestZookeeperShellCommands(t *testing.T) {
	fz := &fakeZK{nodes: map[string][]byte{
		"/":                          nil,
		"/k":                         nil,
		"/k/brokers":                 nil,
		"/k/brokers/ids":             nil,
		"/k/brokers/ids/2":           []byte(`{"host":"b2"}`),
		"/k/brokers/ids/1":           []byte(`{"host":"b1"}`),
		"/k/brokers/ids/3":           []byte(`{"host":"b3"}`),
		"/k/controller":              []byte(`{"version":1,"brokerid":1}`),
		"/k/brokers/topics":          nil,
		"/k/brokers/topics/t":        []byte("{}"),
		"/k/brokers/topics/t/p":      nil,
		"/k/brokers/topics/t/p/0":    nil,
		"/k/admin":                   nil,
		"/k/admin/delete_topics":     nil,
		"/k/admin/delete_topics/old": []byte{},
	}}
	tests := []struct {
		cmd      string
		code     int
		out, err string
	}{
		{"ls /brokers/ids", 0, "[1, 2, 3]\n", ""},
		{"ls /", 0, "[admin, brokers, controller]\n", ""},
		{"get /controller", 0, "{\"version\":1,\"brokerid\":1}\n", ""},
		{"get /brokers", 0, "null\n", ""},
		{"ls /nope", 1, "", "Node does not exist: /nope\n"},
		{"get nope", 1, "", "Path must start with / character\n"},
		{"ls -R /brokers/topics", 0, "/brokers/topics\n/brokers/topics/t\n/brokers/topics/t/p\n/brokers/topics/t/p/0\n", ""},
		{"create /x hello", 0, "Created /x\n", ""},
		{"create /x again", 1, "", "Node already exists: /x\n"},
		{"set /x bye", 0, "", ""},
		{"get /x", 0, "bye\n", ""},
		{"delete /brokers", 1, "", "Node not empty: /brokers\n"},
		{"deleteall /admin", 0, "", ""},
		{"ls /admin", 1, "", "Node does not exist: /admin\n"},
		{"bogus", 1, "", zkUsage + "\n"},
	}
	for _, tc := range tests {
		var out, errOut bytes.Buffer
		sh := &zkShell{conn: fz, chroot: "/k", out: &out, errOut: &errOut}
		code := sh.exec(strings.Fields(tc.cmd))
		if code != tc.code || out.String() != tc.out || errOut.String() != tc.err {
			t.Errorf("%s: code %d out %q err %q; want %d %q %q", tc.cmd, code, out.String(), errOut.String(), tc.code, tc.out, tc.err)
		}
	}
	var out bytes.Buffer
	sh := &zkShell{conn: fz, chroot: "/k", out: &out, errOut: &out}
	sh.exec([]string{"stat", "/brokers/ids"})
	lines := strings.Split(strings.TrimSpace(out.String()), "\n")
	var keys []string
	for _, l := range lines {
		k, _, _ := strings.Cut(l, " = ")
		keys = append(keys, k)
	}
	want := []string{"cZxid", "ctime", "mZxid", "mtime", "pZxid", "cversion", "dataVersion", "aclVersion", "ephemeralOwner", "dataLength", "numChildren"}
	if !reflect.DeepEqual(keys, want) || lines[0] != "cZxid = 0x1f" || lines[10] != "numChildren = 3" {
		t.Fatalf("stat output %q", out.String())
	}
	if s, c := splitConnect("h1:2181,h2:2181/klassik/"); !reflect.DeepEqual(s, []string{"h1:2181", "h2:2181"}) || c != "/klassik" {
		t.Fatalf("splitConnect: %v %q", s, c)
	}
}

func TestPerfOutput(t *testing.T) {
	if got := windowLine(5000, 5000*100, 5, 10000, 30); got != "5000 records sent, 1000.0 records/sec (0.10 MB/sec), 2.0 ms avg latency, 30.0 ms max latency.\n" {
		t.Errorf("window line %q", got)
	}
	samples := make([]int32, 1000)
	for i := range samples {
		samples[i] = int32(i)
	}
	if got := percentiles(samples, 0.5, 0.95, 0.99, 0.999); !reflect.DeepEqual(got, []int32{500, 950, 990, 999}) {
		t.Errorf("percentiles %v", got)
	}
	got := totalLine(1000, 1000*1024, 2, 3000, 12, samples)
	want := "1000 records sent, 500.000000 records/sec (0.49 MB/sec), 3.00 ms avg latency, 12.00 ms max latency, 500 ms 50th, 950 ms 95th, 990 ms 99th, 999 ms 99.9th.\n"
	if got != want {
		t.Errorf("total line\n%q\nwant\n%q", got, want)
	}
	start := time.Unix(100, 0)
	th := throttler{perSec: 10, start: start}
	if d := th.wait(5, start); d != 500*time.Millisecond {
		t.Errorf("throttle wait %s", d)
	}
	if d := (throttler{perSec: -1, start: start}).wait(5, start); d != 0 {
		t.Errorf("unthrottled wait %s", d)
	}

	s := time.Date(2024, 1, 2, 3, 4, 5, 6e6, time.Local)
	e := s.Add(2 * time.Second)
	line := perfSummary(s, e, 2*1024*1024, 1000, 100*time.Millisecond, 1900*time.Millisecond)
	if line != "2024-01-02 03:04:05:006, 2024-01-02 03:04:07:006, 2.0000, 1.0000, 1000, 500.0000, 100, 1900, 1.0526, 526.3158\n" {
		t.Errorf("summary %q", line)
	}
	if len(strings.Split(perfHeader, ", ")) != 10 {
		t.Errorf("header %q", perfHeader)
	}
}

func TestProducerOpts(t *testing.T) {
	var b bytes.Buffer
	if _, err := producerOpts(map[string]string{"acks": "1", "linger.ms": "5", "compression.type": "lz4", "batch.size": "16384", "weird.prop": "x"}, &b); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(b.String(), "weird.prop") {
		t.Errorf("unsupported property not reported: %q", b.String())
	}
	for _, bad := range []map[string]string{{"acks": "2"}, {"linger.ms": "x"}, {"compression.type": "brotli"}} {
		if _, err := producerOpts(bad, &b); err == nil {
			t.Errorf("%v: want error", bad)
		}
	}
	if _, err := consumerOpts(map[string]string{"isolation.level": "bogus"}, &b); err == nil {
		t.Error("want error for isolation.level")
	}
	if got := rootCause(errors.New("broker is too old; the broker has already indicated")); !strings.Contains(got.Error(), "does not support") {
		t.Errorf("rootCause %v", got)
	}
}

// TestHealthcheckHTTP: --http is healthy on a 2xx answer only, and says why otherwise.
func TestHealthcheckHTTP(t *testing.T) {
	up := true
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if !up {
			http.Error(w, "reconnecting to ZooKeeper", http.StatusServiceUnavailable)
			return
		}
		fmt.Fprintln(w, "ok: ZooKeeper session open")
	}))
	defer srv.Close()
	code, out, errOut := runCmd(t, "healthcheck", "--http", srv.URL+"/healthz")
	if code != 0 || !strings.Contains(out, "healthy: GET "+srv.URL+"/healthz answered 200 OK: ok: ZooKeeper session open") {
		t.Fatalf("up: code %d, stdout %q, stderr %q", code, out, errOut)
	}
	up = false
	code, _, errOut = runCmd(t, "healthcheck", "--http", srv.URL+"/healthz")
	if code != 1 || !strings.Contains(errOut, "503 Service Unavailable: reconnecting to ZooKeeper") {
		t.Fatalf("503: code %d, stderr %q", code, errOut)
	}
	srv.Close()
	code, _, errOut = runCmd(t, "healthcheck", "--http", srv.URL+"/healthz", "--timeout-ms", "1000")
	if code != 1 || !strings.HasPrefix(errOut, "unhealthy: GET ") {
		t.Fatalf("closed: code %d, stderr %q", code, errOut)
	}
	code, _, errOut = runCmd(t, "healthcheck", "--http", "localhost:8080")
	if code != 1 || !strings.Contains(errOut, "http:// or https:// URL") {
		t.Fatalf("no scheme: code %d, stderr %q", code, errOut)
	}
}
