package integration

import (
	"context"
	"crypto/tls"
	"crypto/x509/pkix"
	"fmt"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kgo"
)

// TestSecurityProduceThroughput produces the same records through one broker's PLAINTEXT, SSL
// and SASL_SSL (SCRAM-SHA-512) listeners, one after the other in one run, and logs each
// throughput (MEASURE lines): what TLS and SASL cost next to plaintext on this machine. It
// checks only that every record was acknowledged; the figures are for the reader.
func TestSecurityProduceThroughput(t *testing.T) {
	if testing.Short() {
		t.Skip("measures throughput")
	}
	dir := t.TempDir()
	ca := NewTestCA(t, dir, "perf-ca")
	ks := ca.Issue(t, "broker", pkix.Name{CommonName: "broker"})
	c := NewCluster(t,
		BeforeBrokers(func(c *Cluster) {
			runTool(t, 60*time.Second, "", klassikBin, "configs", "--zookeeper", c.ZKConnect(), "--alter",
				"--add-config", "SCRAM-SHA-512=[password=alice-secret]", "--entity-type", "users", "--entity-name", "alice")
		}),
		ExtraListeners("SSL", "SASL_SSL"),
		BrokerConfig("sasl.enabled.mechanisms", "SCRAM-SHA-512"),
		BrokerConfig("ssl.keystore.type", "PEM"),
		BrokerConfig("ssl.keystore.location", ks.KeystorePath),
	)
	const (
		records = 150000
		size    = 1024
		rounds  = 2
	)
	value := make([]byte, size)
	tlsCfg := &tls.Config{RootCAs: ca.Pool()}
	runs := []struct {
		listener string
		opts     []kgo.Opt
	}{
		{"PLAINTEXT", nil},
		{"SSL", []kgo.Opt{kgo.DialTLSConfig(tlsCfg)}},
		{"SASL_SSL", []kgo.Opt{kgo.DialTLSConfig(tlsCfg), kgo.SASL(mechanism("SCRAM-SHA-512", "alice", "alice-secret"))}},
	}
	// The listeners take turns, twice, so that a warming page cache or a busy neighbour on a
	// shared machine does not favour one of them.
	for i := range rounds * len(runs) {
		run := runs[i%len(runs)]
		topic := topicName(t, fmt.Sprintf("perf-%s-%d", run.listener, i/len(runs)))
		c.CreateTopic(t, topic, 1, 1, nil)
		cl := c.Client(t, append(run.opts, kgo.SeedBrokers(c.Broker(1).ListenerAddr(run.listener)), manual(),
			kgo.ProducerLinger(5*time.Millisecond), kgo.ProducerBatchMaxBytes(1<<20), kgo.ProducerBatchCompression(kgo.NoCompression()))...)
		ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
		if err := cl.ProduceSync(ctx, &kgo.Record{Topic: topic, Partition: 0, Value: value}).FirstErr(); err != nil {
			t.Fatalf("%s: %v", run.listener, err) // connection and authentication before the clock starts
		}
		start := time.Now()
		errs := make(chan error, records)
		for range records {
			cl.Produce(ctx, &kgo.Record{Topic: topic, Partition: 0, Value: value}, func(_ *kgo.Record, err error) { errs <- err })
		}
		for range records {
			if err := <-errs; err != nil {
				t.Fatalf("%s: %v", run.listener, err)
			}
		}
		took := time.Since(start)
		cancel()
		cl.Close()
		t.Logf("MEASURE round %d: produce over %-9s %d x %d B, acks=all, one partition: %v, %.0f records/s, %.1f MB/s",
			i/len(runs)+1, run.listener, records, size, took.Round(time.Millisecond), float64(records)/took.Seconds(), float64(records*size)/took.Seconds()/1e6)
	}
}
