package integration

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"syscall"
	"testing"
	"time"
)

// quickstartBlocks returns the shell blocks of the README's quickstart (between the
// quickstart:begin and quickstart:end markers), in order.
func quickstartBlocks(t *testing.T) []string {
	t.Helper()
	raw, err := os.ReadFile("../README.md")
	if err != nil {
		t.Fatal(err)
	}
	text := string(raw)
	begin := strings.Index(text, "<!-- quickstart:begin -->")
	end := strings.Index(text, "<!-- quickstart:end -->")
	if begin < 0 || end < begin {
		t.Fatal("README.md has no quickstart:begin/end markers")
	}
	fence := regexp.MustCompile("(?s)```sh\n(.*?)```")
	var blocks []string
	for _, m := range fence.FindAllStringSubmatch(text[begin:end], -1) {
		blocks = append(blocks, m[1])
	}
	return blocks
}

// TestREADMEQuickstart runs every shell block of the README's quickstart, in order, against a
// three-broker cluster, so the quickstart stays true. The blocks that start and stop the
// compose cluster (make up, make down) are the compose smoke test's to check
// (integration/compose); here the harness's cluster stands in for it (its brokers with HTTP
// listeners and fault endpoints, as in compose, and a `klassik ui`), reached by rewriting
// localhost:9092, localhost:2181 and the classroom's http://127.0.0.1:8080 to its addresses
// and bin/klassik to the built binary. At the end the page is photographed
// (readme-classroom.png in ArtifactsDir; docs/classroom.png is such a picture).
func TestREADMEQuickstart(t *testing.T) {
	blocks := quickstartBlocks(t)
	if len(blocks) < 8 {
		t.Fatalf("found only %d shell blocks in the quickstart", len(blocks))
	}
	c := NewCluster(t, Brokers(3), ClassroomBrokers())
	c.WaitForBrokers(3)
	ui := c.StartUI(t)
	zk := c.zkAddrs()[0] + c.Chroot()
	// The blocks run in a folder of their own (Kafka Connect's test.txt lands there), with
	// Kafka's Connect worker file copied to point at this cluster, its offsets file and a
	// free REST port (listeners is Kafka's default http://:8083 otherwise).
	work := t.TempDir()
	connectPort := c.port()
	offsets := filepath.Join(work, "connect.offsets")
	workerProps := readmeConnectWorker(t, work, c.BootstrapServers(), offsets, connectPort)
	rewrite := strings.NewReplacer(
		"localhost:9092", c.Bootstrap()[0],
		"localhost:2181/klassik", zk,
		"http://127.0.0.1:8080", ui.URL,
		"bin/klassik", klassikBin,
		"config/connect-standalone.properties", workerProps,
		"config/connect-file-", repoPath(t, "config")+"/connect-file-",
		"/tmp/connect.offsets", offsets,
		"localhost:8083", fmt.Sprintf("127.0.0.1:%d", connectPort),
	)
	ran := 0
	for i, block := range blocks {
		first := strings.TrimSpace(strings.SplitN(strings.TrimSpace(block), "\n", 2)[0])
		if first == "make up" || first == "make down" {
			continue
		}
		script := rewrite.Replace(block)
		ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
		cmd := exec.CommandContext(ctx, "bash", "-euo", "pipefail", "-c", script)
		// A block may start a program in the background (Connect, the WordCount application)
		// and write files (test.txt, logs): the blocks run in a directory of their own, each in
		// a process group of its own, and whatever a block left running ends with it.
		cmd.Dir = work
		cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
		cmd.Cancel = func() error { return syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL) }
		cmd.WaitDelay = 10 * time.Second
		out, err := cmd.CombinedOutput()
		if cmd.Process != nil {
			_ = syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL)
		}
		cancel()
		if err != nil {
			t.Fatalf("quickstart block %d failed: %v\n--- block:\n%s--- output:\n%s", i+1, err, block, out)
		}
		t.Logf("block %d:\n%s", i+1, out)
		checkQuickstartOutput(t, block, string(out))
		ran++
	}
	if ran == 0 {
		t.Fatal("no quickstart block ran")
	}
	if _, err := os.Stat(chromiumPath()); err != nil {
		t.Logf("no Chromium at %s: no picture of the classroom", chromiumPath())
		return
	}
	page := OpenPage(t, ui.URL)
	page.WaitFor(30*time.Second, func() error { return agreesWithZooKeeper(t, c, page) })
	page.Screenshot("readme-classroom")
}

// checkQuickstartOutput asserts what a reader following the quickstart would look for.
func checkQuickstartOutput(t *testing.T, block, out string) {
	t.Helper()
	want := map[string]string{
		"topics --describe": "ReplicationFactor: 3",
		"console-consumer --topic quickstart-events --from-beginning": "This is my second event",
		"consumer-groups --describe":                                  "quickstart-events",
		"kcat -b localhost:9092 -t quickstart-events -C":              "from kcat",
		"hello from confluent-kafka":                                  "2 hello from confluent-kafka 2",
		"hello from kafka-python":                                     "2 hello from kafka-python 2",
		"ls /brokers/ids":                                             "[1, 2, 3]",
		"partitions/0/state":                                          `"leader_epoch"`,
		"/api/cluster":                                                "live brokers [1, 2, 3]",
		"scenario run kill-leader":                                    "\nPASS: ",
		"scenario list":                                               "preferred-leader-election",
		"--topic connect-test --from-beginning":                       `{"schema":{"type":"string","optional":false},"payload":"bar"}`,
		"connectors/local-file-source/status":                         `"connector":{"state":"RUNNING"`,
		"echo Another line>> test.txt":                                "Another line",
		// Kafka's Streams quickstart, step 5: the WordCount output of its three lines.
		"streams-wordcount --bootstrap-server": "all\t1\nstreams\t1\nlead\t1\nto\t1\nkafka\t1\nhello\t1\nkafka\t2\nstreams\t2\njoin\t1\nkafka\t3\nsummit\t1\n",
	}
	for marker, expect := range want {
		if strings.Contains(block, marker) && !strings.Contains(out, expect) {
			t.Errorf("block containing %q: output lacks %q:\n%s", marker, expect, out)
		}
	}
}

// repoPath is the absolute path of a file or folder of the repository.
func repoPath(t *testing.T, rel string) string {
	t.Helper()
	p, err := filepath.Abs(filepath.Join("..", rel))
	if err != nil {
		t.Fatal(err)
	}
	return p
}

// readmeConnectWorker copies config/connect-standalone.properties into dir with its
// bootstrap.servers and offsets file pointed at this test, and a REST listener on port.
func readmeConnectWorker(t *testing.T, dir, bootstrap, offsets string, port int) string {
	t.Helper()
	b, err := os.ReadFile(repoPath(t, "config/connect-standalone.properties"))
	if err != nil {
		t.Fatal(err)
	}
	text := strings.NewReplacer("localhost:9092", bootstrap, "/tmp/connect.offsets", offsets).Replace(string(b))
	text += fmt.Sprintf("\nlisteners=http://127.0.0.1:%d\n", port)
	path := filepath.Join(dir, "connect-standalone.properties")
	if err := os.WriteFile(path, []byte(text), 0o644); err != nil {
		t.Fatal(err)
	}
	return path
}
