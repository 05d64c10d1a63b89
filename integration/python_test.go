package integration

import (
	"encoding/json"
	"fmt"
	"path/filepath"
	"slices"
	"testing"
	"time"
)

// pythonResult is what testdata/*_roundtrip.py print.
type pythonResult struct {
	Client  string     `json:"client"`
	Acked   [][2]int64 `json:"acked"` // [partition, offset]
	Errors  []string   `json:"errors"`
	Records [][]any    `json:"records"` // [partition, offset, key, value, [[hkey, hvalue]...]]
}

// TestPythonClients runs Debian's confluent-kafka-python (librdkafka) and kafka-python (pure
// Python) against the broker: each produces N keyed messages with a header to partition 0
// with acks=all, then reads the partition back from offset 0 with an assigned consumer (no
// consumer group: group membership comes with a later issue). Checked as Kafka behaves: every
// message acknowledged at offsets 0..N-1 in order, read back at those offsets with key, value
// and header intact, and readable by franz-go too.
func TestPythonClients(t *testing.T) {
	c := NewCluster(t)
	clients := []struct {
		script, keyFmt, valueFmt string
	}{
		{"confluent_roundtrip.py", "ck-%d", "confluent value %d"},
		{"kafkapython_roundtrip.py", "pk-%d", "kafka-python value %d"},
	}
	for _, pc := range clients {
		t.Run(pc.script, func(t *testing.T) {
			const n = 300
			topic := topicName(t, "python")
			c.CreateTopic(t, topic, 1, 1, nil)
			script, err := filepath.Abs(filepath.Join("testdata", pc.script))
			if err != nil {
				t.Fatal(err)
			}
			out := runTool(t, 120*time.Second, "", "/usr/bin/python3", script, c.BootstrapServers(), topic, fmt.Sprint(n))
			var res pythonResult
			if err := json.Unmarshal([]byte(out), &res); err != nil {
				t.Fatalf("%s printed no JSON result: %v\n%s", pc.script, err, out)
			}
			if len(res.Errors) > 0 {
				t.Fatalf("%s reported %d errors, first: %s", res.Client, len(res.Errors), res.Errors[0])
			}

			// Acknowledged: every message, on partition 0, at offsets 0..n-1.
			if len(res.Acked) != n {
				t.Fatalf("%s: %d of %d messages acknowledged", res.Client, len(res.Acked), n)
			}
			slices.SortFunc(res.Acked, func(a, b [2]int64) int { return int(a[1] - b[1]) })
			for i, a := range res.Acked {
				if a[0] != 0 || a[1] != int64(i) {
					t.Fatalf("%s: acknowledgement %d is partition %d offset %d, want partition 0 offset %d", res.Client, i, a[0], a[1], i)
				}
			}

			// Read back: in order, byte for byte.
			if len(res.Records) != n {
				t.Fatalf("%s: read %d of %d messages back", res.Client, len(res.Records), n)
			}
			for i, r := range res.Records {
				want := []any{float64(0), float64(i), fmt.Sprintf(pc.keyFmt, i), fmt.Sprintf(pc.valueFmt, i),
					[]any{[]any{"n", fmt.Sprint(i)}}}
				if fmt.Sprint(r) != fmt.Sprint(want) {
					t.Fatalf("%s: message %d read as %v, want %v", res.Client, i, r, want)
				}
			}

			// franz-go reads what the Python client wrote.
			got := consumeN(t, c, topic, 1, n, time.Minute)
			for i, r := range got {
				if r.Offset != int64(i) || string(r.Key) != fmt.Sprintf(pc.keyFmt, i) || string(r.Value) != fmt.Sprintf(pc.valueFmt, i) {
					t.Fatalf("franz-go read offset %d key %q value %q, want offset %d key %q value %q",
						r.Offset, r.Key, r.Value, i, fmt.Sprintf(pc.keyFmt, i), fmt.Sprintf(pc.valueFmt, i))
				}
			}
		})
	}
}
