package integration

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kgo"
)

// TestAdminTools runs the tools that stand for Kafka's kafka-get-offsets.sh,
// kafka-delete-records.sh, kafka-log-dirs.sh, kafka-broker-api-versions.sh, kafka-dump-log.sh,
// kafka-consumer-groups.sh --describe and kafka-leader-election.sh against three brokers, and
// checks what an operator reads in their output: the end offsets after producing; the low
// watermark moved by delete-records (and get-offsets --time -2 agreeing); every replica in
// log-dirs' JSON; each broker's API versions; the produced payloads in a segment file of a
// broker's log dir; a group's assigned partitions with their lag before its first commit
// (ConsumerGroupCommand.collectGroupOffsets); and leadership moved back to the preferred
// replica after a controlled shutdown moved it away (KIP-460's ElectLeaders).
func TestAdminTools(t *testing.T) {
	c := NewCluster(t, Brokers(3), BrokerConfig("auto.leader.rebalance.enable", false))
	topic := topicName(t, "tools")
	const parts, perPart = 3, 10
	c.CreateTopic(t, topic, parts, 3, nil)
	waitFullISR(t, c, topic, parts)
	tool := func(args ...string) string {
		t.Helper()
		return runTool(t, 60*time.Second, "", klassikBin, args...)
	}
	bs := c.BootstrapServers()

	cl := c.Client(t, manual())
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	for p := range int32(parts) {
		for i := range perPart {
			r := &kgo.Record{Topic: topic, Partition: p, Value: fmt.Appendf(nil, "tool-msg-%d-%d", p, i)}
			if err := cl.ProduceSync(ctx, r).FirstErr(); err != nil {
				t.Fatal(err)
			}
		}
	}

	// get-offsets: latest by default, earliest with --time -2.
	want := fmt.Sprintf("%[1]s:0:10\n%[1]s:1:10\n%[1]s:2:10\n", topic)
	if out := tool("get-offsets", "--bootstrap-server", bs, "--topic", topic); out != want {
		t.Fatalf("get-offsets: %q, want %q", out, want)
	}

	// delete-records moves partition 0's low watermark to 4.
	f := filepath.Join(t.TempDir(), "offsets.json")
	if err := os.WriteFile(f, fmt.Appendf(nil, `{"partitions":[{"topic":%q,"partition":0,"offset":4}],"version":1}`, topic), 0o644); err != nil {
		t.Fatal(err)
	}
	want = fmt.Sprintf("Executing records delete operation\nRecords delete operation completed:\npartition: %s-0\tlow_watermark: 4\n", topic)
	if out := tool("delete-records", "--bootstrap-server", bs, "--offset-json-file", f); out != want {
		t.Fatalf("delete-records: %q, want %q", out, want)
	}
	want = fmt.Sprintf("%[1]s:0:4\n%[1]s:1:0\n%[1]s:2:0\n", topic)
	if out := tool("get-offsets", "--bootstrap-server", bs, "--topic", topic, "--time", "-2"); out != want {
		t.Fatalf("get-offsets --time -2 after delete-records: %q, want %q", out, want)
	}

	// log-dirs: every broker holds the three replicas, with bytes in them.
	out := tool("log-dirs", "--bootstrap-server", bs, "--describe", "--topic-list", topic)
	lines := strings.Split(strings.TrimSpace(out), "\n")
	if len(lines) != 3 || lines[0] != "Querying brokers for log directories information" || lines[1] != "Received log directory information from brokers 1,2,3" {
		t.Fatalf("log-dirs:\n%s", out)
	}
	var ld logDirsOutput
	if err := json.Unmarshal([]byte(lines[2]), &ld); err != nil || ld.Version != 1 || len(ld.Brokers) != 3 {
		t.Fatalf("log-dirs JSON %v:\n%s", err, lines[2])
	}
	for _, b := range ld.Brokers {
		if len(b.LogDirs) != 1 || b.LogDirs[0].LogDir != c.Broker(b.Broker).LogDir() || b.LogDirs[0].Error != nil || len(b.LogDirs[0].Partitions) != parts {
			t.Fatalf("log-dirs broker %d: %+v", b.Broker, b.LogDirs)
		}
		for i, p := range b.LogDirs[0].Partitions {
			if p.Partition != fmt.Sprintf("%s-%d", topic, i) || p.Size <= 0 || p.IsFuture {
				t.Fatalf("log-dirs broker %d partition %+v", b.Broker, p)
			}
		}
	}

	// broker-api-versions: a block per broker.
	out = tool("broker-api-versions", "--bootstrap-server", bs)
	for _, b := range c.Brokers() {
		head := fmt.Sprintf("%s (id: %d rack: null) -> (\n", b.Addr(), b.ID)
		i := strings.Index(out, head)
		if i < 0 {
			t.Fatalf("broker-api-versions: no %q in\n%s", head, out)
		}
		block := out[i : i+strings.Index(out[i:], "\n)\n")]
		for _, w := range []string{"\tProduce(0): 0 to 9 [usable: 9],", "\tElectLeaders(43): 0 to 2 [usable: 2],", "\tDescribeLogDirs(35): "} {
			if !strings.Contains(block, w) {
				t.Fatalf("broker-api-versions broker %d: no %q in\n%s", b.ID, w, block)
			}
		}
	}

	// dump-log of partition 1's segment on one of its replicas shows the payloads.
	seg := filepath.Join(c.Broker(1).LogDir(), topic+"-1", "00000000000000000000.log")
	out = tool("dump-log", "--files", seg, "--print-data-log")
	if !strings.HasPrefix(out, "Dumping "+seg+"\nLog starting offset: 0\nbaseOffset: 0 lastOffset: 0 count: 1 ") {
		t.Fatalf("dump-log:\n%s", out)
	}
	for i := range perPart {
		if w := fmt.Sprintf(" payload: tool-msg-1-%d\n", i); !strings.Contains(out, w) {
			t.Fatalf("dump-log: no %q in\n%s", w, out)
		}
	}
	if strings.Count(out, "isvalid: true") != perPart || strings.Contains(out, "isvalid: false") {
		t.Fatalf("dump-log: want %d valid batches:\n%s", perPart, out)
	}
	tool("dump-log", "--files", strings.TrimSuffix(seg, ".log")+".index,"+strings.TrimSuffix(seg, ".log")+".timeindex")

	// consumer-groups --describe before the group's first commit: every assigned partition,
	// CURRENT-OFFSET and LAG "-", LOG-END-OFFSET the end.
	group := topic + "-group"
	gcl := c.Client(t, kgo.ConsumerGroup(group), kgo.ConsumeTopics(topic), kgo.DisableAutoCommit(),
		kgo.ConsumeResetOffset(kgo.NewOffset().AtStart()))
	got := 0
	for got < parts*perPart-4 && ctx.Err() == nil {
		got += gcl.PollFetches(ctx).NumRecords()
	}
	out = tool("consumer-groups", "--bootstrap-server", bs, "--describe", "--group", group)
	rows := describeRows(out, group)
	if len(rows) != parts {
		t.Fatalf("consumer-groups --describe before a commit: %d rows:\n%s", len(rows), out)
	}
	for p, r := range rows {
		if r != [3]string{"-", "10", "-"} {
			t.Fatalf("partition %d: CURRENT-OFFSET LOG-END-OFFSET LAG = %v, want [- 10 -]:\n%s", p, r, out)
		}
	}
	gcl.Close()

	// leader-election: a controlled shutdown moves the leadership of the partitions broker 2
	// leads away; after it is back in the ISR a preferred election moves it back.
	preferred := map[int32]int32{}
	md, err := c.Metadata(ctx, topic)
	if err != nil {
		t.Fatal(err)
	}
	var mine []int32
	for _, p := range md.Topics[0].Partitions {
		preferred[p.Partition] = p.Replicas[0]
		if p.Replicas[0] == 2 {
			mine = append(mine, p.Partition)
		}
	}
	if len(mine) == 0 {
		t.Fatalf("broker 2 is the preferred leader of no partition of %s: %v", topic, preferred)
	}
	c.StopBroker(2)
	c.StartBroker(2)
	waitFullISR(t, c, topic, parts)
	for _, p := range mine {
		if l := leaderOf(t, c, topic, p); l == 2 {
			t.Fatalf("%s-%d: broker 2 leads again right after its restart", topic, p)
		}
	}
	out = tool("leader-election", "--bootstrap-server", bs, "--election-type", "preferred", "--all-topic-partitions")
	var names []string
	for _, p := range mine {
		names = append(names, topic+"-"+strconv.Itoa(int(p)))
	}
	if !strings.Contains(out, "Successfully completed leader election (PREFERRED) for partitions ") || !strings.Contains(out, strings.Join(names, ", ")) {
		t.Fatalf("leader-election --all-topic-partitions: want %v elected:\n%s", names, out)
	}
	// The election is done in ZooKeeper when the tool returns; the metadata follows.
	eventually(t, 15*time.Second, func() error {
		for p, want := range preferred {
			if l := leaderOf(t, c, topic, p); l != want {
				return fmt.Errorf("%s-%d led by %d after the election, want the preferred replica %d", topic, p, l, want)
			}
		}
		return nil
	})
	jf := filepath.Join(t.TempDir(), "election.json")
	if err := os.WriteFile(jf, fmt.Appendf(nil, `{"partitions":[{"topic":%q,"partition":%d}]}`, topic, mine[0]), 0o644); err != nil {
		t.Fatal(err)
	}
	want = fmt.Sprintf("Valid replica already elected for partitions %s-%d\n", topic, mine[0])
	if out := tool("leader-election", "--bootstrap-server", bs, "--election-type", "PREFERRED", "--path-to-json-file", jf); out != want {
		t.Fatalf("leader-election --path-to-json-file: %q, want %q", out, want)
	}
}

// logDirsOutput is the JSON kafka-log-dirs.sh prints.
type logDirsOutput struct {
	Brokers []struct {
		Broker  int32 `json:"broker"`
		LogDirs []struct {
			Error      *string `json:"error"`
			LogDir     string  `json:"logDir"`
			Partitions []struct {
				Partition string `json:"partition"`
				Size      int64  `json:"size"`
				OffsetLag int64  `json:"offsetLag"`
				IsFuture  bool   `json:"isFuture"`
			} `json:"partitions"`
		} `json:"logDirs"`
	} `json:"brokers"`
	Version int `json:"version"`
}
