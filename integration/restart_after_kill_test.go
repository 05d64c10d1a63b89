package integration

import (
	"fmt"
	"regexp"
	"slices"
	"testing"
	"time"
)

// TestRestartRightAfterKill: kill -9 of a broker leaves its ephemeral /brokers/ids/<id> behind
// until ZooKeeper expires the dead session (zookeeper.session.timeout.ms). A supervisor that
// restarts the broker at once must not fail: the new process waits for its predecessor's
// session (Kafka would exit with "node already exists" here; klassik does better, issue 8),
// then registers, and rejoins the ISR of its partitions.
func TestRestartRightAfterKill(t *testing.T) {
	c := NewCluster(t, Brokers(3))
	c.CreateTopic(t, "restart-now", 3, 3, nil)
	c.WaitForTopic(t, "restart-now", 3)

	const id = 2
	b := c.Broker(id)
	path := fmt.Sprintf("/brokers/ids/%d", id)
	_, before := c.ZKGet(t, path)

	start := time.Now()
	c.KillBroker(id)
	c.startBroker(b) // no wait for the old registration: the broker must cope
	c.eventuallyT(t, b.sessionTimeout()+30*time.Second, func() error {
		if !b.Running() {
			return fmt.Errorf("the restarted broker %d exited:\n%s", id, tailFile(b.StderrPath(), 20))
		}
		_, st, err := c.ZK().Get(c.Path(path))
		if err != nil {
			return err
		}
		if st.EphemeralOwner == before.EphemeralOwner {
			return fmt.Errorf("%s still belongs to the dead session 0x%x", path, before.EphemeralOwner)
		}
		return nil
	})
	took := time.Since(start)
	t.Logf("MEASURE restart-after-kill: registered again %v after kill -9 (zookeeper.session.timeout.ms %v)", took.Round(time.Millisecond), b.sessionTimeout())
	if out := b.Output(); !regexpWaiting.MatchString(out) {
		t.Errorf("the restarted broker did not say what it waited for; its log:\n%s", tailFile(b.StderrPath(), 20))
	}

	// Back in every ISR.
	c.eventuallyT(t, 60*time.Second, func() error {
		for p := int32(0); p < 3; p++ {
			st, err := c.ZKPartitionState(t, "restart-now", p)
			if err != nil {
				return err
			}
			if !slices.Contains(st.ISR, int32(id)) {
				return fmt.Errorf("partition %d ISR %v lacks broker %d", p, st.ISR, id)
			}
		}
		return nil
	})
	c.AssertAlive(t)
}

// regexpWaiting matches the broker's log line while it waits for its predecessor's session.
var regexpWaiting = regexp.MustCompile(`waiting for that session to expire`)
