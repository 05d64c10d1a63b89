package tools

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kmsg"
)

// LeaderElectionCommand.validate: both required options, exactly one way to name partitions,
// --partition with --topic only.
func TestLeaderElectionValidation(t *testing.T) {
	for _, c := range []struct {
		args []string
		want string
	}{
		{[]string{"--all-topic-partitions"}, "Missing required option(s): election-type, bootstrap-server"},
		{[]string{"--bootstrap-server", "x:1", "--all-topic-partitions"}, "Missing required option(s): election-type"},
		{[]string{"--bootstrap-server", "x:1", "--election-type", "preferred"}, "One and only one of the following options is required: topic, all-topic-partitions, path-to-json-file"},
		{[]string{"--bootstrap-server", "x:1", "--election-type", "preferred", "--topic", "t", "--all-topic-partitions"}, "One and only one"},
		{[]string{"--bootstrap-server", "x:1", "--election-type", "preferred", "--topic", "t"}, "Missing required option(s): partition"},
		{[]string{"--bootstrap-server", "x:1", "--election-type", "preferred", "--all-topic-partitions", "--partition", "1"}, "Option partition is only allowed if topic is used"},
		{[]string{"--bootstrap-server", "x:1", "--election-type", "best", "--all-topic-partitions"}, "is not one of [PREFERRED, UNCLEAN]"},
	} {
		code, _, errOut := runCmd(t, "leader-election", c.args...)
		if code != 1 || !strings.Contains(errOut, c.want) {
			t.Errorf("%v: exit %d, stderr %q; want %q", c.args, code, errOut, c.want)
		}
	}
}

func TestParseReplicaElectionData(t *testing.T) {
	got, err := parseReplicaElectionData(`{"partitions":[{"topic":"foo","partition":1},{"topic":"bar","partition":0}]}`)
	if err != nil || len(got) != 2 || got[0] != (tp{"foo", 1}) || got[1] != (tp{"bar", 0}) {
		t.Fatalf("got %v, %v", got, err)
	}
	for text, want := range map[string]string{
		``:                                 "Replica election data is empty",
		`{}`:                               `Replica election data is missing "partitions" field`,
		`{"partitions":[{"partition":1}]}`: "No such field exists: `topic`",
		`{"partitions":[{"topic":"a","partition":1},{"topic":"a","partition":1}]}`: "Replica election data contains duplicate partitions: a-1",
	} {
		if _, err := parseReplicaElectionData(text); err == nil || err.Error() != want {
			t.Errorf("%q: %v, want %q", text, err, want)
		}
	}
}

// The three kinds of outcome, each line in partition order; a failure is Kafka's exception
// text and exit 1.
func TestPrintElectionResults(t *testing.T) {
	res := kadm.ElectLeadersResults{
		"t": {
			1: {Topic: "t", Partition: 1},
			0: {Topic: "t", Partition: 0},
			2: {Topic: "t", Partition: 2, Err: kerr.ElectionNotNeeded},
			3: {Topic: "t", Partition: 3, Err: kerr.PreferredLeaderNotAvailable, ErrMessage: "Failed to elect leader for partition t-3 under strategy PreferredReplicaPartitionLeaderElectionStrategy"},
		},
	}
	var out bytes.Buffer
	err := printElectionResults(&out, "PREFERRED", res)
	want := "Successfully completed leader election (PREFERRED) for partitions t-0, t-1\n" +
		"Valid replica already elected for partitions t-2\n" +
		"Error completing leader election (PREFERRED) for partition: t-3: org.apache.kafka.common.errors.PreferredLeaderNotAvailableException: Failed to elect leader for partition t-3 under strategy PreferredReplicaPartitionLeaderElectionStrategy\n"
	if out.String() != want {
		t.Fatalf("got\n%s\nwant\n%s", out.String(), want)
	}
	if err == nil || err.Error() != "Error: 1 replica(s) could not be elected" {
		t.Fatalf("err %v", err)
	}
}

func TestJavaException(t *testing.T) {
	for err, want := range map[error]string{
		kerr.KafkaStorageError:       "org.apache.kafka.common.errors.KafkaStorageException",
		kerr.UnknownTopicOrPartition: "org.apache.kafka.common.errors.UnknownTopicOrPartitionException",
		kerr.OffsetOutOfRange:        "org.apache.kafka.common.errors.OffsetOutOfRangeException",
		kerr.InvalidTopicException:   "org.apache.kafka.common.errors.InvalidTopicException",
		kerr.RequestTimedOut:         "org.apache.kafka.common.errors.TimeoutException",
		kerr.LogDirNotFound:          "org.apache.kafka.common.errors.LogDirNotFoundException",
	} {
		if got := javaException(err); got != want {
			t.Errorf("%v: %s, want %s", err, got, want)
		}
	}
}

// The JSON LogDirsCommand prints, with Kafka's field order; --topic-list filters partitions.
func TestLogDirsJSON(t *testing.T) {
	dirs := kadm.DescribedLogDirs{
		"/data/b": {Broker: 1, Dir: "/data/b", Err: kerr.KafkaStorageError, Topics: kadm.DescribedLogDirTopics{}},
		"/data/a": {Broker: 1, Dir: "/data/a", Topics: kadm.DescribedLogDirTopics{
			"t": {1: {Topic: "t", Partition: 1, Size: 10}, 0: {Topic: "t", Partition: 0, Size: 123, OffsetLag: 2}},
			"u": {0: {Topic: "u", Partition: 0, Size: 5, IsFuture: true}},
		}},
	}
	b, _ := json.Marshal(logDirsJSON{Brokers: []logDirsBrokerJSON{logDirsBroker(1, dirs, nil)}, Version: 1})
	want := `{"brokers":[{"broker":1,"logDirs":[{"error":null,"logDir":"/data/a","partitions":[` +
		`{"partition":"t-0","size":123,"offsetLag":2,"isFuture":false},{"partition":"t-1","size":10,"offsetLag":0,"isFuture":false},` +
		`{"partition":"u-0","size":5,"offsetLag":0,"isFuture":true}]},` +
		`{"error":"org.apache.kafka.common.errors.KafkaStorageException","logDir":"/data/b","partitions":[]}]}],"version":1}`
	if string(b) != want {
		t.Fatalf("got\n%s\nwant\n%s", b, want)
	}
	one := logDirsBroker(1, dirs, map[string]bool{"u": true})
	if len(one.LogDirs[0].Partitions) != 1 || one.LogDirs[0].Partitions[0].Partition != "u-0" {
		t.Fatalf("--topic-list u: %+v", one.LogDirs[0].Partitions)
	}
	if code, _, errOut := runCmd(t, "log-dirs", "--bootstrap-server", "x:1"); code != 1 || !strings.Contains(errOut, `Missing required argument "[describe]"`) {
		t.Fatalf("without --describe: %d %q", code, errOut)
	}
}

func TestParseOffsetJSON(t *testing.T) {
	got, err := parseOffsetJSON(`{"partitions":[{"topic":"t","partition":0,"offset":5},{"topic":"t","partition":1,"offset":-1}],"version":1}`)
	if err != nil || len(got) != 2 || got[0].Offset != 5 || got[1].tp != (tp{"t", 1}) || got[1].Offset != -1 {
		t.Fatalf("got %+v, %v", got, err)
	}
	if got, err := parseOffsetJSON(`{"partitions":[{"topic":"t","partition":0,"offset":5}]}`); err != nil || len(got) != 1 {
		t.Fatalf("without version: %+v, %v", got, err)
	}
	for text, want := range map[string]string{
		`nope`:                          "The input string is not a valid JSON",
		`{"version":1}`:                 "Missing partitions field",
		`{"version":2,"partitions":[]}`: "Not supported version field value 2",
		`{"partitions":[{"topic":"t","partition":0}]}`:                                                   "No such field exists: `offset`",
		`{"partitions":[{"topic":"t","partition":"x","offset":1}]}`:                                      "Expected `partition` to be an int, but was \"x\"",
		`{"partitions":[{"topic":"t","partition":0,"offset":1},{"topic":"t","partition":0,"offset":2}]}`: "Offset json file contains duplicate topic partitions: t-0",
	} {
		if _, err := parseOffsetJSON(text); err == nil || err.Error() != want {
			t.Errorf("%q: %v, want %q", text, err, want)
		}
	}
}

func TestPrintDeleteRecords(t *testing.T) {
	recs := []recordsToDelete{{tp{"t", 1}, 9}, {tp{"t", 0}, 5}}
	res := kadm.DeleteRecordsResponses{"t": {
		0: {Topic: "t", Partition: 0, LowWatermark: 5},
		1: {Topic: "t", Partition: 1, Err: kerr.OffsetOutOfRange},
	}}
	var out bytes.Buffer
	printDeleteRecords(&out, recs, res)
	want := "partition: t-0\tlow_watermark: 5\n" +
		"partition: t-1\terror: org.apache.kafka.common.errors.OffsetOutOfRangeException: " + kerr.OffsetOutOfRange.Description + "\n"
	if out.String() != want {
		t.Fatalf("got\n%q\nwant\n%q", out.String(), want)
	}
}

// GetOffsetShell's filters: --topic is a whole-name regex (commas are alternatives),
// --partitions a set, --topic-partitions Kafka's patterns.
func TestGetOffsetsFilters(t *testing.T) {
	re, err := includeList("ord.*,audit")
	if err != nil || !re.MatchString("orders") || !re.MatchString("audit") || re.MatchString("xorders") || re.MatchString("audits") {
		t.Fatalf("includeList: %v", err)
	}
	rules, err := parseTopicPartitionRules("orders:1,audit:2-4,:5-,logs:-2,all")
	if err != nil {
		t.Fatal(err)
	}
	allowed := func(topic string, p int32) bool {
		for _, r := range rules {
			if r.allowed(topic, p) {
				return true
			}
		}
		return false
	}
	for _, c := range []struct {
		t  string
		p  int32
		ok bool
	}{
		{"orders", 1, true}, {"orders", 0, false}, {"audit", 2, true}, {"audit", 3, true}, {"audit", 4, false},
		{"x", 5, true}, {"x", 4, false}, {"logs", 1, true}, {"logs", 2, false}, {"all", 7, true},
	} {
		if allowed(c.t, c.p) != c.ok {
			t.Errorf("%s:%d allowed %v, want %v", c.t, c.p, !c.ok, c.ok)
		}
	}
	if _, err := parseTopicPartitionRules("a:b"); err == nil || err.Error() != "Invalid rule specification: a:b" {
		t.Fatalf("a:b: %v", err)
	}
	if _, err := parsePartitionSet("1,x"); err == nil || !strings.Contains(err.Error(), "--partitions expects a comma separated list of numeric partition ids, but received: 1,x") {
		t.Fatalf("1,x: %v", err)
	}
	for s, want := range map[string]int64{"latest": -1, "-1": -1, "earliest": -2, "-2": -2, "max-timestamp": -3, "-3": -3, "1690000000000": 1690000000000} {
		if got, err := parseOffsetSpec(s); err != nil || got != want {
			t.Errorf("%s: %d %v", s, got, err)
		}
	}
	if _, err := parseOffsetSpec("yesterday"); err == nil || !strings.HasPrefix(err.Error(), "Malformed time argument yesterday") {
		t.Fatalf("yesterday: %v", err)
	}
	code, out, _ := runCmd(t, "get-offsets", "--bootstrap-server", "x:1", "--topic-partitions", "a", "--topic", "b")
	if code != 1 || out != "Error occurred: --topic-partitions cannot be used with --topic or --partitions\n" {
		t.Fatalf("exit %d, stdout %q", code, out)
	}
}

// NodeApiVersions.toString(true): every key in order, a single version without "to", usable
// the lower of the broker's and the client's maximum, Kafka 3.6's client APIs the broker
// lacks as UNSUPPORTED, KRaft controller APIs left out, unknown keys as UNKNOWN.
func TestFormatAPIVersions(t *testing.T) {
	produceMax := kmsg.RequestForKey(0).MaxVersion()
	got := formatAPIVersions([]kmsg.ApiVersionsResponseApiKey{
		{ApiKey: 18, MinVersion: 0, MaxVersion: 3},
		{ApiKey: 0, MinVersion: 0, MaxVersion: produceMax + 5},
		{ApiKey: 45, MinVersion: 0, MaxVersion: 0},
		{ApiKey: 999, MinVersion: 1, MaxVersion: 2},
	})
	lines := strings.Split(got, "\n")
	if lines[0] != "(" || lines[len(lines)-1] != ")" {
		t.Fatalf("not wrapped in parentheses:\n%s", got)
	}
	for _, want := range []string{
		"\tProduce(0): 0 to " + itoa(int(produceMax)+5) + " [usable: " + itoa(int(produceMax)) + "],",
		"\tFetch(1): UNSUPPORTED,",
		"\tApiVersions(18): 0 to 3 [usable: 3],",
		"\tAlterPartitionReassignments(45): 0 [usable: 0],",
		"\tLeaderAndIsr(4): UNSUPPORTED,",
		"\tConsumerGroupHeartbeat(68): UNSUPPORTED,",
		"\tUNKNOWN(999): 1 to 2",
	} {
		if !strings.Contains(got, want+"\n") {
			t.Errorf("missing %q in\n%s", want, got)
		}
	}
	if strings.Contains(got, "Vote(52)") || strings.Contains(got, "BrokerHeartbeat(63)") {
		t.Errorf("controller-only APIs listed:\n%s", got)
	}
	if strings.Index(got, "Produce(0)") > strings.Index(got, "Fetch(1)") {
		t.Errorf("not in key order")
	}
}

func itoa(n int) string { return strconv.Itoa(n) }

// writeFile writes a file under dir and returns its path.
func writeFile(t *testing.T, dir, name string, b []byte) string {
	t.Helper()
	p := filepath.Join(dir, name)
	if err := os.WriteFile(p, b, 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}
