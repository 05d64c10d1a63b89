package integration

import (
	"context"
	"fmt"
	"os"
	"testing"
	"time"
)

// TestScaleFailover measures the controller at scale (issue 11's yardstick, not CI: set
// KLASSIK_SCALE=1, or `make bench-scale`): three brokers, KLASSIK_SCALE_PARTITIONS partitions
// (default 3000) at replication factor 3; the time to create them all, the time from the
// kill -9 of a broker until every partition it led has a new leader (against its session
// timeout), and a controlled shutdown of another broker.
func TestScaleFailover(t *testing.T) {
	if os.Getenv("KLASSIK_SCALE") != "1" {
		t.Skip("set KLASSIK_SCALE=1 (make bench-scale) to measure the controller at scale")
	}
	n := envInt(t, "KLASSIK_SCALE_PARTITIONS", 3000)
	c := NewCluster(t, append(chaosConfig(), Brokers(3))...)
	topic := topicName(t, "scale")
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Minute)
	defer cancel()

	start := time.Now()
	c.CreateTopic(t, topic, int32(n), 3, nil)
	led := func(id int32) (count int, err error) {
		md, err := c.Metadata(ctx, topic)
		if err != nil {
			return 0, err
		}
		if len(md.Topics) != 1 || len(md.Topics[0].Partitions) != n {
			return 0, fmt.Errorf("metadata lists %d topics", len(md.Topics))
		}
		for _, p := range md.Topics[0].Partitions {
			if p.Leader == id {
				count++
			}
			if p.Leader < 0 {
				return 0, fmt.Errorf("partition %d has no leader", p.Partition)
			}
		}
		return count, nil
	}
	eventually(t, 10*time.Minute, func() error { _, err := led(-2); return err })
	t.Logf("MEASURE scale: %d partitions x 3 replicas created with leaders in %v", n, time.Since(start).Round(time.Millisecond))
	waitFullISR(t, c, topic, int32(n))
	t.Logf("MEASURE scale: every ISR full after %v", time.Since(start).Round(time.Millisecond))

	victim := int32(1)
	had, _ := led(victim)
	killed := time.Now()
	c.KillBroker(victim)
	session := 4 * time.Second // chaosConfig's zookeeper.session.timeout.ms
	eventually(t, 5*time.Minute, func() error {
		left, err := led(victim)
		if err == nil && left > 0 {
			err = fmt.Errorf("broker %d still leads %d partitions", victim, left)
		}
		return err
	})
	took := time.Since(killed)
	t.Logf("MEASURE scale: kill -9 of broker %d leading %d partitions: new leaders for all %v after the kill, %v after its session (%v) expired",
		victim, had, took.Round(time.Millisecond), (took - session).Round(time.Millisecond), session)

	c.StartBroker(victim)
	waitFullISR(t, c, topic, int32(n))
	other := int32(2)
	had, _ = led(other)
	stopped := time.Now()
	c.StopBroker(other)
	t.Logf("MEASURE scale: controlled shutdown of broker %d leading %d partitions took %v", other, had, time.Since(stopped).Round(time.Millisecond))
}
