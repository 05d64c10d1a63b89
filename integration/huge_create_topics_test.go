package integration

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"
)

// TestHugeCreateTopicsRefused: issue 8 saw one CreateTopics of 2,000,000,000 partitions
// (kafka-python, which caps nothing) take a broker to 10.8 GB. A topic's assignment lives in
// one znode, which ZooKeeper caps at jute.maxbuffer (1 MB), so such a topic could never be
// stored: the broker answers INVALID_PARTITIONS (37) with a message naming the limit, for
// the real and the validate-only request, before allocating anything sized by the count.
// Checked: the error code and message kafka-python shows, the broker's peak RSS, and that the
// broker still creates and serves an ordinary topic.
func TestHugeCreateTopicsRefused(t *testing.T) {
	c := NewCluster(t)
	b := c.Brokers()[0]
	script, err := filepath.Abs(filepath.Join("testdata", "kafkapython_huge_create_topics.py"))
	if err != nil {
		t.Fatal(err)
	}
	topic := topicName(t, "huge")
	out := runTool(t, 90*time.Second, "", "/usr/bin/python3", script, c.BootstrapServers(), topic)
	var results []struct {
		ValidateOnly bool   `json:"validate_only"`
		Errno        int    `json:"errno"`
		Error        string `json:"error"`
		Message      string `json:"message"`
	}
	if err := json.Unmarshal([]byte(out), &results); err != nil || len(results) != 2 {
		t.Fatalf("the script printed no result (%v):\n%s", err, out)
	}
	for _, r := range results {
		if r.Errno != 37 || r.Error != "InvalidPartitionsError" {
			t.Errorf("validate_only=%v: kafka-python raised %s (errno %d), want InvalidPartitionsError (37): %s",
				r.ValidateOnly, r.Error, r.Errno, r.Message)
		}
		if !strings.Contains(r.Message, "jute.maxbuffer of 1048575 bytes") || !strings.Contains(r.Message, "2000000000 partitions") {
			t.Errorf("validate_only=%v: the error message does not name the limit: %s", r.ValidateOnly, r.Message)
		}
	}
	t.Logf("kafka-python saw: %s", results[0].Message)

	rss, peak := procStatusKB(t, b.PID(), "VmRSS"), procStatusKB(t, b.PID(), "VmHWM")
	t.Logf("MEASURE huge CreateTopics: broker RSS %d MB now, peak %d MB", rss/1024, peak/1024)
	if peak > 200*1024 {
		t.Errorf("the broker's peak RSS is %d MB, want under 200 MB", peak/1024)
	}
	if c.ZKExists(t, "/brokers/topics/"+topic) {
		t.Errorf("/brokers/topics/%s exists after the refusal", topic)
	}

	// The broker still serves: an ordinary topic is created and written and read.
	small := topicName(t, "after")
	c.CreateTopic(t, small, 3, 1, nil)
	recs := makeRecords(10, 3)
	produceAll(t, c.Client(t, manual()), small, recs, 30*time.Second)
	checkRecords(t, recs, consumeN(t, c, small, 3, len(recs), 30*time.Second), 0)
	c.AssertAlive(t)
}

// procStatusKB reads one "kB" field (VmRSS, VmHWM) of /proc/<pid>/status.
func procStatusKB(t testing.TB, pid int, field string) int64 {
	t.Helper()
	data, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		t.Fatal(err)
	}
	for _, line := range strings.Split(string(data), "\n") {
		if v, ok := strings.CutPrefix(line, field+":"); ok {
			n, err := strconv.ParseInt(strings.TrimSuffix(strings.TrimSpace(v), " kB"), 10, 64)
			if err != nil {
				t.Fatalf("%s of pid %d: %q", field, pid, line)
			}
			return n
		}
	}
	t.Fatalf("no %s in /proc/%d/status", field, pid)
	return 0
}
