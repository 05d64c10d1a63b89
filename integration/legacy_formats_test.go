package integration

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kgo"
)

// Old message formats (Kafka 3.6 still serves them): kcat pinned to an old broker version
// (api.version.request=false, broker.version.fallback 0.9.0.1: Produce v1 and Fetch v1 with
// message format v0; 0.10.0.0: Produce v2 and Fetch v2 with format v1 and timestamps)
// produces and consumes as it would against Kafka, compressed with gzip and snappy too; a
// current client (franz-go) reads what the old one wrote, and the old one reads a current
// client's v2 batches, a transaction's marker left out.
func TestOldMessageFormats(t *testing.T) {
	c := NewCluster(t)
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	for _, tc := range []struct {
		fallback, codec string
	}{{"0.9.0.1", "none"}, {"0.9.0.1", "gzip"}, {"0.10.0.0", "none"}, {"0.10.0.0", "snappy"}} {
		name := topicName(t, "old-"+strings.ReplaceAll(tc.fallback, ".", "")+"-"+tc.codec)
		c.CreateTopic(t, name, 1, 1, nil)
		old := []string{"-b", c.BootstrapServers(), "-t", name, "-X", "api.version.request=false",
			"-X", "broker.version.fallback=" + tc.fallback}
		var in strings.Builder
		for i := range 50 {
			fmt.Fprintf(&in, "key-%d|value %d %s\n", i, i, strings.Repeat("x", i))
		}
		runTool(t, 60*time.Second, in.String(), "kcat", append(old, "-P", "-p", "0", "-K", "|", "-z", tc.codec)...)
		out := runTool(t, 60*time.Second, "", "kcat", append(old, "-C", "-p", "0", "-o", "beginning", "-e", "-q", "-f", `%o|%k|%s|%T\n`)...)
		lines := strings.Split(strings.TrimSuffix(out, "\n"), "\n")
		if len(lines) != 50 {
			t.Fatalf("%s %s: the old kcat read %d messages, wrote 50: %q", tc.fallback, tc.codec, len(lines), lines[:min(3, len(lines))])
		}
		for i, l := range lines {
			f := strings.Split(l, "|")
			if len(f) != 4 || f[0] != fmt.Sprint(i) || f[1] != fmt.Sprintf("key-%d", i) || f[2] != fmt.Sprintf("value %d %s", i, strings.Repeat("x", i)) {
				t.Fatalf("%s %s: message %d read back as %q", tc.fallback, tc.codec, i, l)
			}
			// Format v0 has no timestamps (librdkafka shows -1 or 0); v1 carries the producer's.
			if tc.fallback == "0.10.0.0" && (f[3] == "-1" || f[3] == "0") {
				t.Fatalf("%s: message %d has no timestamp (%s)", tc.fallback, i, f[3])
			}
		}
		// A current client reads the converted batch.
		cl := c.Client(t, kgo.ConsumePartitions(map[string]map[int32]kgo.Offset{name: {0: kgo.NewOffset().AtStart()}}))
		got := 0
		for got < 50 && ctx.Err() == nil {
			got += cl.PollFetches(ctx).NumRecords()
		}
		if got != 50 {
			t.Fatalf("%s %s: franz-go read %d of the old client's 50 messages", tc.fallback, tc.codec, got)
		}
		t.Logf("MEASURE broker.version.fallback=%s compression %s: 50 messages written and read back by the old kcat and by franz-go", tc.fallback, tc.codec)
	}

	// An old consumer reads v2 batches written now, including a committed transaction.
	name := topicName(t, "old-reads-v2")
	c.CreateTopic(t, name, 1, 1, nil)
	p := c.Client(t, kgo.DefaultProduceTopic(name), kgo.TransactionalID("old-"+name))
	if err := p.BeginTransaction(); err != nil {
		t.Fatal(err)
	}
	for i := range 10 {
		p.Produce(ctx, &kgo.Record{Value: []byte(fmt.Sprintf("v2 record %d", i))}, nil)
	}
	if err := p.Flush(ctx); err != nil {
		t.Fatal(err)
	}
	if err := p.EndTransaction(ctx, kgo.TryCommit); err != nil {
		t.Fatal(err)
	}
	if err := p.ProduceSync(ctx, &kgo.Record{Value: []byte("after the marker")}).FirstErr(); err == nil {
		t.Fatal("a transactional producer wrote outside a transaction")
	}
	plain := c.Client(t, kgo.DefaultProduceTopic(name))
	if err := plain.ProduceSync(ctx, &kgo.Record{Value: []byte("after the marker")}).FirstErr(); err != nil {
		t.Fatal(err)
	}
	out := runTool(t, 60*time.Second, "", "kcat", "-b", c.BootstrapServers(), "-t", name, "-X", "api.version.request=false",
		"-X", "broker.version.fallback=0.10.0.0", "-C", "-p", "0", "-o", "beginning", "-e", "-q", "-f", `%o|%s\n`)
	lines := strings.Split(strings.TrimSuffix(out, "\n"), "\n")
	if len(lines) != 11 || lines[0] != "0|v2 record 0" || lines[10] != "11|after the marker" {
		t.Fatalf("the old kcat read %q, want 10 records at offsets 0-9 and one at 11 (10 is the marker)", lines)
	}
}
