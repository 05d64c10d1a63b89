package integration

import (
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kgo"
)

// TestRestartAfterSIGTERM: SIGTERM runs Kafka's controlled shutdown and the broker exits 0;
// started again on the same log.dirs it recovers every partition's log, so everything that
// was acknowledged is read back at the same offsets, and new records continue at the old log
// end offset.
func TestRestartAfterSIGTERM(t *testing.T) {
	testRestart(t, func(c *Cluster) {
		start := time.Now()
		if code := c.StopBroker(1); code != 0 {
			t.Fatalf("exit code %d after SIGTERM, want 0", code)
		}
		// Controlled shutdown moves leadership only of partitions with other replicas;
		// Kafka leaves partitions with replication factor 1 alone, so a lone broker stops
		// at once rather than retrying until its controlled-shutdown deadline.
		if took := time.Since(start); took > 20*time.Second {
			t.Errorf("a single broker with RF 1 partitions took %v to stop after SIGTERM", took)
		}
	})
}

// TestRestartAfterSIGKILL: kill -9 gives the broker no chance to flush or close anything, but
// what it wrote is in the page cache and survives the process. On restart Kafka recovers the
// log from the unclean shutdown (rebuilding indexes, checking batches); every record
// acknowledged with acks=all before the kill is read back.
func TestRestartAfterSIGKILL(t *testing.T) {
	testRestart(t, func(c *Cluster) { c.KillBroker(1) })
}

func testRestart(t *testing.T, stop func(c *Cluster)) {
	c := NewCluster(t)
	const n, partitions = 6000, 3 // 2000 records a partition
	topic := topicName(t, "restart")
	c.CreateTopic(t, topic, partitions, 1, nil)
	recs := makeRecords(n, partitions)
	cl := c.Client(t, manual(), kgo.RequiredAcks(kgo.AllISRAcks()))
	checkAckedOffsets(t, recs, produceAll(t, cl, topic, recs, 2*time.Minute), 0)

	stop(c)
	c.StartBroker(1)
	c.WaitForBrokers(1)
	c.WaitForController(t)
	c.WaitForTopic(t, topic, partitions)

	checkRecords(t, recs, consumeN(t, c, topic, partitions, n, 2*time.Minute), 0)
	checkEndOffsets(t, c, topic, recs)

	// The log goes on where it ended: a new batch lands at the old log end offset.
	more := makeRecords(300, partitions) // 100 a partition
	cl2 := c.Client(t, manual())
	offsets := produceAll(t, cl2, topic, more, time.Minute)
	checkAckedOffsets(t, more, offsets, n/partitions)
	all := append(append([]want{}, recs...), more...)
	checkRecords(t, all, consumeN(t, c, topic, partitions, len(all), 2*time.Minute), 0)
}
