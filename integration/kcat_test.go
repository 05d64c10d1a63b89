package integration

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"os/exec"
	"strings"
	"testing"
	"time"
)

// runTool runs an external client with a deadline and returns its stdout, failing the test
// with its stderr when it fails.
func runTool(t testing.TB, timeout time.Duration, stdin string, name string, args ...string) string {
	t.Helper()
	if _, err := exec.LookPath(name); err != nil {
		t.Fatalf("%s not found (run scripts/install-deps.sh): %v", name, err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()
	cmd := exec.CommandContext(ctx, name, args...)
	cmd.Stdin = strings.NewReader(stdin)
	var stdout, stderr bytes.Buffer
	cmd.Stdout = &stdout
	cmd.Stderr = &stderr
	start := time.Now()
	err := cmd.Run()
	t.Logf("%s %s: %v", name, strings.Join(args, " "), time.Since(start).Round(time.Millisecond))
	if ctx.Err() != nil {
		t.Fatalf("%s %s: no result within %v\nstderr:\n%s", name, strings.Join(args, " "), timeout, stderr.String())
	}
	if err != nil {
		t.Fatalf("%s %s: %v\nstderr:\n%s", name, strings.Join(args, " "), err, stderr.String())
	}
	return stdout.String()
}

// TestKcat produces and consumes with kcat (librdkafka, the C client under confluent-kafka
// and most non-Java clients) and reads the cluster's metadata with kcat -L. Checks Kafka's
// behaviour towards librdkafka: ApiVersions negotiation, Produce with acks=all, Fetch from
// the beginning to the end of the partition (kcat -e stops at the high watermark), keys and
// values byte for byte, and a Metadata response listing the broker, the controller and the
// topic's partition with its leader and replicas.
func TestKcat(t *testing.T) {
	c := NewCluster(t)
	topic := topicName(t, "kcat")
	c.CreateTopic(t, topic, 1, 1, nil)

	const n = 500
	var in strings.Builder
	var wantOut []string
	for i := range n {
		key := fmt.Sprintf("key-%d", i)
		value := fmt.Sprintf("line %d: the quick brown fox %s", i, strings.Repeat("x", i%50))
		fmt.Fprintf(&in, "%s|%s\n", key, value)
		wantOut = append(wantOut, fmt.Sprintf("%d|%s|%s", i, key, value))
	}
	runTool(t, 60*time.Second, in.String(), "kcat", "-b", c.BootstrapServers(), "-t", topic, "-P", "-p", "0",
		"-K", "|", "-X", "request.required.acks=all")

	out := runTool(t, 60*time.Second, "", "kcat", "-b", c.BootstrapServers(), "-t", topic, "-C", "-p", "0",
		"-o", "beginning", "-e", "-q", "-f", `%o|%k|%s\n`)
	got := strings.Split(strings.TrimSuffix(out, "\n"), "\n")
	if len(got) != n {
		t.Fatalf("kcat consumed %d messages, produced %d; first lines: %q", len(got), n, got[:min(5, len(got))])
	}
	for i := range wantOut {
		if got[i] != wantOut[i] {
			t.Fatalf("message %d: kcat read %q, want %q", i, got[i], wantOut[i])
		}
	}

	// kcat -L -J: the metadata as librdkafka sees it.
	var md struct {
		ControllerID int32 `json:"controllerid"`
		Brokers      []struct {
			ID   int32  `json:"id"`
			Name string `json:"name"`
		} `json:"brokers"`
		Topics []struct {
			Topic      string `json:"topic"`
			Error      string `json:"error"`
			Partitions []struct {
				Partition int32 `json:"partition"`
				Leader    int32 `json:"leader"`
				Replicas  []struct {
					ID int32 `json:"id"`
				} `json:"replicas"`
				ISRs []struct {
					ID int32 `json:"id"`
				} `json:"isrs"`
			} `json:"partitions"`
		} `json:"topics"`
	}
	raw := runTool(t, 60*time.Second, "", "kcat", "-b", c.BootstrapServers(), "-L", "-J", "-t", topic)
	if err := json.Unmarshal([]byte(raw), &md); err != nil {
		t.Fatalf("kcat -L -J output is not JSON: %v\n%s", err, raw)
	}
	b := c.Broker(1)
	if len(md.Brokers) != 1 || md.Brokers[0].ID != 1 || md.Brokers[0].Name != b.Addr() {
		t.Fatalf("kcat -L lists brokers %+v, want [{1 %s}]", md.Brokers, b.Addr())
	}
	if md.ControllerID != 1 {
		t.Fatalf("kcat -L: controller %d, want 1", md.ControllerID)
	}
	if len(md.Topics) != 1 || md.Topics[0].Topic != topic || md.Topics[0].Error != "" || len(md.Topics[0].Partitions) != 1 {
		t.Fatalf("kcat -L -t %s lists topics %+v", topic, md.Topics)
	}
	p := md.Topics[0].Partitions[0]
	if p.Partition != 0 || p.Leader != 1 || len(p.Replicas) != 1 || p.Replicas[0].ID != 1 || len(p.ISRs) != 1 || p.ISRs[0].ID != 1 {
		t.Fatalf("kcat -L: partition %+v, want partition 0 led by 1, replicas [1], isr [1]", p)
	}
}
