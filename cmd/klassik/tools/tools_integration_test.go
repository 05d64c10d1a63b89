package tools

import (
	"context"
	"fmt"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kadm"
)

// These tests run the tools against a running cluster:
//
//	KLASSIK_BOOTSTRAP=127.0.0.1:9092 KLASSIK_ZOOKEEPER=127.0.0.1:2181/klassik go test ./cmd/klassik/tools/ -run Integration -v
//
// They skip when KLASSIK_BOOTSTRAP is unset. Every topic and group gets a unique name, so
// they can run repeatedly against the same cluster.

func bootstrap(t *testing.T) string {
	t.Helper()
	b := os.Getenv("KLASSIK_BOOTSTRAP")
	if b == "" {
		t.Skip("KLASSIK_BOOTSTRAP is not set: set it to host:port of a running broker to run the tools against a real cluster")
	}
	return b
}

func uniq(prefix string) string { return fmt.Sprintf("%s-%d", prefix, time.Now().UnixNano()) }

// mustRun runs a command and fails the test unless it exits with want.
func mustRun(t *testing.T, want int, stdin string, name string, args ...string) (string, string) {
	t.Helper()
	for _, c := range Commands() {
		if c.Name == name {
			var out, errOut strings.Builder
			code := c.Run(args, strings.NewReader(stdin), &out, &errOut)
			if code != want {
				t.Fatalf("klassik %s %s: exit %d, want %d\nstdout:\n%s\nstderr:\n%s", name, strings.Join(args, " "), code, want, out.String(), errOut.String())
			}
			return out.String(), errOut.String()
		}
	}
	t.Fatalf("no command %s", name)
	return "", ""
}

// eventually polls f until it returns nil or the deadline passes.
func eventually(t *testing.T, d time.Duration, f func() error) {
	t.Helper()
	deadline := time.Now().Add(d)
	for {
		err := f()
		if err == nil {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("not within %s: %v", d, err)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

func TestIntegrationTopics(t *testing.T) {
	b := bootstrap(t)
	topic := uniq("tools-topics")
	out, _ := mustRun(t, 0, "", "topics", "--bootstrap-server", b, "--create", "--topic", topic, "--partitions", "3", "--replication-factor", "1", "--config", "retention.ms=100000")
	if out != "Created topic "+topic+".\n" {
		t.Fatalf("create: %q", out)
	}
	_, errOut := mustRun(t, 1, "", "topics", "--bootstrap-server", b, "--create", "--topic", topic, "--partitions", "3")
	if !strings.Contains(errOut, "Topic '"+topic+"' already exists.") {
		t.Fatalf("create twice: %q", errOut)
	}
	mustRun(t, 0, "", "topics", "--bootstrap-server", b, "--create", "--topic", topic, "--if-not-exists")

	eventually(t, 10*time.Second, func() error {
		out, _ := mustRun(t, 0, "", "topics", "--bootstrap-server", b, "--list")
		if !strings.Contains("\n"+out, "\n"+topic+"\n") {
			return fmt.Errorf("list: %q", out)
		}
		out, _ = mustRun(t, 0, "", "topics", "--bootstrap-server", b, "--describe", "--topic", topic)
		lines := strings.Split(strings.TrimSpace(out), "\n")
		if len(lines) != 4 || !strings.HasPrefix(lines[0], "Topic: "+topic+"\tTopicId: ") ||
			!strings.Contains(lines[0], "\tPartitionCount: 3\tReplicationFactor: 1\tConfigs: ") || !strings.Contains(lines[0], "retention.ms=100000") {
			return fmt.Errorf("describe: %q", out)
		}
		for p, l := range lines[1:] {
			if !strings.HasPrefix(l, fmt.Sprintf("\tTopic: %s\tPartition: %d\tLeader: ", topic, p)) || !strings.Contains(l, "\tReplicas: ") || !strings.Contains(l, "\tIsr: ") {
				return fmt.Errorf("describe partition line %q", l)
			}
			if strings.Contains(l, "Leader: none") {
				return fmt.Errorf("no leader yet: %q", l)
			}
		}
		return nil
	})
	out, _ = mustRun(t, 0, "", "topics", "--bootstrap-server", b, "--describe", "--topic", topic, "--under-replicated-partitions")
	if out != "" {
		t.Errorf("under-replicated: %q", out)
	}
	out, _ = mustRun(t, 0, "", "topics", "--bootstrap-server", b, "--describe", "--topic", topic, "--unavailable-partitions")
	if out != "" {
		t.Errorf("unavailable: %q", out)
	}

	mustRun(t, 0, "", "topics", "--bootstrap-server", b, "--alter", "--topic", topic, "--partitions", "4")
	eventually(t, 10*time.Second, func() error {
		out, _ := mustRun(t, 0, "", "topics", "--bootstrap-server", b, "--describe", "--topic", topic)
		if !strings.Contains(out, "PartitionCount: 4") {
			return fmt.Errorf("after alter: %q", out)
		}
		return nil
	})
	_, errOut = mustRun(t, 1, "", "topics", "--bootstrap-server", b, "--alter", "--topic", topic, "--partitions", "2")
	if !strings.HasPrefix(errOut, "Error while executing topic command : ") {
		t.Errorf("shrink: %q", errOut)
	}

	missingTopic := uniq("tools-missing")
	_, errOut = mustRun(t, 1, "", "topics", "--bootstrap-server", b, "--describe", "--topic", missingTopic)
	if !strings.Contains(errOut, "Topic '"+missingTopic+"' does not exist as expected") {
		t.Errorf("describe missing: %q", errOut)
	}
	mustRun(t, 1, "", "topics", "--bootstrap-server", b, "--delete", "--topic", missingTopic)
	mustRun(t, 0, "", "topics", "--bootstrap-server", b, "--delete", "--topic", missingTopic, "--if-exists")

	mustRun(t, 0, "", "topics", "--bootstrap-server", b, "--delete", "--topic", topic)
	eventually(t, 30*time.Second, func() error {
		out, _ := mustRun(t, 0, "", "topics", "--bootstrap-server", b, "--list")
		if strings.Contains("\n"+out, "\n"+topic+"\n") {
			return fmt.Errorf("still listed after delete")
		}
		return nil
	})
}

func readyTopic(t *testing.T, b, prefix string, partitions int) string {
	t.Helper()
	topic := uniq(prefix)
	mustRun(t, 0, "", "topics", "--bootstrap-server", b, "--create", "--topic", topic, "--partitions", fmt.Sprint(partitions), "--replication-factor", "1")
	eventually(t, 10*time.Second, func() error {
		out, _ := mustRun(t, 0, "", "topics", "--bootstrap-server", b, "--describe", "--topic", topic)
		if strings.Contains(out, "Leader: none") || strings.Count(out, "Partition: ") != partitions {
			return fmt.Errorf("not ready: %q", out)
		}
		return nil
	})
	t.Cleanup(func() {
		for _, c := range Commands() {
			if c.Name == "topics" {
				var sink strings.Builder
				c.Run([]string{"--bootstrap-server", b, "--delete", "--topic", topic}, strings.NewReader(""), &sink, &sink)
			}
		}
	})
	return topic
}

func TestIntegrationProduceConsume(t *testing.T) {
	b := bootstrap(t)
	topic := readyTopic(t, b, "tools-console", 1)
	mustRun(t, 0, "k1:v1\nk2:v2\nk3:v3\n", "console-producer", "--bootstrap-server", b, "--topic", topic, "--property", "parse.key=true", "--property", "key.separator=:")
	mustRun(t, 0, "plain\n", "console-producer", "--broker-list", b, "--topic", topic, "--sync", "--request-required-acks", "1", "--compression-codec")
	_, errOut := mustRun(t, 1, "novalue\n", "console-producer", "--bootstrap-server", b, "--topic", topic, "--property", "parse.key=true", "--property", "key.separator=:")
	if !strings.Contains(errOut, "No key separator found on line number 1: 'novalue'") {
		t.Errorf("bad line: %q", errOut)
	}

	out, errOut := mustRun(t, 0, "", "console-consumer", "--bootstrap-server", b, "--topic", topic, "--from-beginning", "--max-messages", "4",
		"--property", "print.key=true", "--property", "print.offset=true", "--timeout-ms", "20000")
	want := "Offset:0\tk1\tv1\nOffset:1\tk2\tv2\nOffset:2\tk3\tv3\nOffset:3\tnull\tplain\n"
	if out != want || !strings.Contains(errOut, "Processed a total of 4 messages") {
		t.Fatalf("consume: stdout %q stderr %q", out, errOut)
	}
	out, _ = mustRun(t, 0, "", "console-consumer", "--bootstrap-server", b, "--topic", topic, "--partition", "0", "--offset", "2", "--max-messages", "1", "--timeout-ms", "20000")
	if out != "v3\n" {
		t.Errorf("--partition --offset: %q", out)
	}
	out, errOut = mustRun(t, 0, "", "console-consumer", "--bootstrap-server", b, "--topic", topic, "--timeout-ms", "1000")
	if out != "" || !strings.Contains(errOut, "Processed a total of 0 messages") {
		t.Errorf("latest with timeout: %q %q", out, errOut)
	}
}

func TestIntegrationConsumerGroups(t *testing.T) {
	b := bootstrap(t)
	probe, err := newClient(b)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	ok := groupsSupported(ctx, probe)
	cancel()
	probe.Close()
	if !ok {
		_, errOut := mustRun(t, 1, "", "consumer-groups", "--bootstrap-server", b, "--list")
		t.Skipf("the cluster does not serve the consumer group APIs yet; --list says: %s", strings.TrimSpace(errOut))
	}
	topic := readyTopic(t, b, "tools-groups", 2)
	group := uniq("tools-group")
	mustRun(t, 0, "a\nb\nc\nd\n", "console-producer", "--bootstrap-server", b, "--topic", topic)
	mustRun(t, 0, "", "console-consumer", "--bootstrap-server", b, "--topic", topic, "--group", group, "--from-beginning", "--max-messages", "4", "--timeout-ms", "30000")

	eventually(t, 10*time.Second, func() error {
		out, _ := mustRun(t, 0, "", "consumer-groups", "--bootstrap-server", b, "--list")
		if !strings.Contains("\n"+out, "\n"+group+"\n") {
			return fmt.Errorf("list: %q", out)
		}
		return nil
	})
	out, errOut := mustRun(t, 0, "", "consumer-groups", "--bootstrap-server", b, "--describe", "--group", group)
	if !strings.Contains(out, "GROUP") || !strings.Contains(out, "CURRENT-OFFSET") || !strings.Contains(errOut, "has no active members") {
		t.Fatalf("describe: %q %q", out, errOut)
	}
	total := int64(0)
	for _, l := range strings.Split(out, "\n") {
		f := strings.Fields(l)
		if len(f) == 9 && f[0] == group {
			var cur, end, lag int64
			fmt.Sscan(f[3], &cur)
			fmt.Sscan(f[4], &end)
			fmt.Sscan(f[5], &lag)
			if cur != end || lag != 0 {
				t.Errorf("row %q: want caught up", l)
			}
			total += cur
		}
	}
	if total != 4 {
		t.Fatalf("committed offsets sum to %d, want 4:\n%s", total, out)
	}
	mustRun(t, 0, "", "consumer-groups", "--bootstrap-server", b, "--describe", "--group", group, "--state")

	out, _ = mustRun(t, 0, "", "consumer-groups", "--bootstrap-server", b, "--reset-offsets", "--group", group, "--topic", topic, "--to-earliest", "--dry-run")
	if !strings.Contains(out, "NEW-OFFSET") || strings.Count(out, group) != 2 {
		t.Fatalf("dry run: %q", out)
	}
	mustRun(t, 0, "", "consumer-groups", "--bootstrap-server", b, "--reset-offsets", "--group", group, "--topic", topic+":0", "--shift-by", "-1", "--execute")
	mustRun(t, 0, "", "consumer-groups", "--bootstrap-server", b, "--reset-offsets", "--group", group, "--all-topics", "--to-earliest", "--execute")
	out, _ = mustRun(t, 0, "", "consumer-groups", "--bootstrap-server", b, "--describe", "--group", group)
	for _, l := range strings.Split(out, "\n") {
		f := strings.Fields(l)
		if len(f) == 9 && f[0] == group && f[3] != "0" {
			t.Errorf("after reset to earliest: %q", l)
		}
	}
	out, _ = mustRun(t, 0, "", "consumer-groups", "--bootstrap-server", b, "--delete", "--group", group)
	if out != "Deletion of requested consumer groups ('"+group+"') was successful.\n" {
		t.Errorf("delete: %q", out)
	}
	_, errOut = mustRun(t, 1, "", "consumer-groups", "--bootstrap-server", b, "--describe", "--group", group)
	if !strings.Contains(errOut, "Consumer group '"+group+"' does not exist.") {
		t.Errorf("describe deleted: %q", errOut)
	}
}

func TestIntegrationConfigs(t *testing.T) {
	b := bootstrap(t)
	topic := readyTopic(t, b, "tools-configs", 1)
	out, _ := mustRun(t, 0, "", "configs", "--bootstrap-server", b, "--entity-type", "topics", "--entity-name", topic, "--alter", "--add-config", "retention.ms=1000,cleanup.policy=[compact,delete]")
	if out != "Completed updating config for topic "+topic+".\n" {
		t.Fatalf("alter: %q", out)
	}
	eventually(t, 10*time.Second, func() error {
		out, _ := mustRun(t, 0, "", "configs", "--bootstrap-server", b, "--entity-type", "topics", "--entity-name", topic, "--describe")
		if !strings.HasPrefix(out, "Dynamic configs for topic "+topic+" are:\n") ||
			!strings.Contains(out, "  retention.ms=1000 sensitive=false synonyms={") ||
			!strings.Contains(out, "  cleanup.policy=compact,delete sensitive=false") {
			return fmt.Errorf("describe: %q", out)
		}
		return nil
	})
	mustRun(t, 0, "", "configs", "--bootstrap-server", b, "--topic", topic, "--alter", "--delete-config", "cleanup.policy")
	eventually(t, 10*time.Second, func() error {
		out, _ := mustRun(t, 0, "", "configs", "--bootstrap-server", b, "--topic", topic, "--describe")
		if strings.Contains(out, "cleanup.policy") {
			return fmt.Errorf("after delete-config: %q", out)
		}
		return nil
	})
	out, _ = mustRun(t, 0, "", "topics", "--bootstrap-server", b, "--describe", "--topic", topic)
	if !strings.Contains(out, "Configs: retention.ms=1000") {
		t.Errorf("topics --describe does not show the override: %q", out)
	}
	_, errOut := mustRun(t, 1, "", "configs", "--bootstrap-server", b, "--topic", uniq("tools-missing"), "--describe")
	if !strings.Contains(errOut, "does not exist") {
		t.Errorf("missing topic: %q", errOut)
	}
	cl, err := newClient(b)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	brokers, err := kadm.NewClient(cl).ListBrokers(ctx)
	cancel()
	cl.Close()
	if err != nil || len(brokers) == 0 {
		t.Fatalf("list brokers: %v", err)
	}
	id := fmt.Sprint(brokers[0].NodeID)
	out, _ = mustRun(t, 0, "", "configs", "--bootstrap-server", b, "--entity-type", "brokers", "--entity-name", id, "--describe", "--all")
	if !strings.HasPrefix(out, "All configs for broker "+id+" are:\n") {
		t.Errorf("broker configs: %q", out)
	}
}

func TestIntegrationPerfAndHealth(t *testing.T) {
	b := bootstrap(t)
	topic := readyTopic(t, b, "tools-perf", 2)
	out, _ := mustRun(t, 0, "", "producer-perf-test", "--topic", topic, "--num-records", "2000", "--record-size", "100", "--throughput", "-1", "--producer-props", "bootstrap.servers="+b, "acks=all", "linger.ms=1")
	if !strings.HasPrefix(out, "2000 records sent, ") || !strings.Contains(out, "ms 99.9th.") {
		t.Fatalf("producer perf: %q", out)
	}
	out, _ = mustRun(t, 0, "", "consumer-perf-test", "--bootstrap-server", b, "--topic", topic, "--messages", "2000", "--timeout", "20000")
	lines := strings.Split(strings.TrimSpace(out), "\n")
	if len(lines) != 2 || lines[0] != perfHeader || !strings.Contains(lines[1], ", 2000, ") {
		t.Fatalf("consumer perf: %q", out)
	}
	mustRun(t, 0, "", "healthcheck", "--bootstrap-server", b)
	mustRun(t, 1, "", "healthcheck", "--bootstrap-server", b, "--broker-id", "987654")
}

func TestIntegrationZookeeperShell(t *testing.T) {
	zkAddr := os.Getenv("KLASSIK_ZOOKEEPER")
	if zkAddr == "" {
		t.Skip("KLASSIK_ZOOKEEPER is not set: set it to host:port[/chroot] of the cluster's ZooKeeper")
	}
	out, _ := mustRun(t, 0, "", "zookeeper-shell", zkAddr, "ls", "/brokers/ids")
	lines := strings.Split(strings.TrimSpace(out), "\n")
	if lines[0] != "Connecting to "+zkAddr || !strings.HasPrefix(lines[len(lines)-1], "[") {
		t.Fatalf("ls: %q", out)
	}
	out, _ = mustRun(t, 0, "", "zookeeper-shell", zkAddr, "get", "/controller")
	if !strings.Contains(out, `"brokerid"`) {
		t.Errorf("get /controller: %q", out)
	}
	out, _ = mustRun(t, 0, "ls /brokers\nstat /brokers\n", "zookeeper-shell", zkAddr)
	if !strings.Contains(out, "ids") || !strings.Contains(out, "numChildren = ") {
		t.Errorf("stdin commands: %q", out)
	}
	_, errOut := mustRun(t, 1, "", "zookeeper-shell", zkAddr, "get", "/no/such/node")
	if !strings.Contains(errOut, "Node does not exist: /no/such/node") {
		t.Errorf("missing node: %q", errOut)
	}
}
