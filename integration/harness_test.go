package integration

import (
	"fmt"
	"testing"
	"time"

	"github.com/go-zookeeper/zk"
)

// TestHarnessZooKeeperEnsemble checks the harness itself on a three-node ensemble without
// brokers: writes go through while one node is down (a quorum of two serves), and the node
// comes back and catches up, as ZooKeeper's quorum guarantees.
func TestHarnessZooKeeperEnsemble(t *testing.T) {
	c := NewCluster(t, Brokers(0), ZooKeepers(3))
	conn := c.ZK()
	if _, err := conn.Create("/harness", []byte("one"), 0, zk.WorldACL(zk.PermAll)); err != nil {
		t.Fatal(err)
	}
	c.StopZooKeeperNode(1)
	eventually(t, 30*time.Second, func() error {
		_, err := conn.Set("/harness", []byte("two"), -1)
		return err
	})
	c.StartZooKeeperNode(1)
	// The restarted node serves the write made while it was down.
	eventually(t, 30*time.Second, func() error {
		one, _, err := zk.Connect([]string{c.zks[0].addr()}, 5*time.Second, zk.WithLogInfo(false), zk.WithLogger(nopLogger{}))
		if err != nil {
			return err
		}
		defer one.Close()
		data, _, err := one.Get("/harness")
		if err != nil {
			return err
		}
		if string(data) != "two" {
			return fmt.Errorf("zookeeper 1 has %q, want %q", data, "two")
		}
		return nil
	})
}

type nopLogger struct{}

func (nopLogger) Printf(string, ...any) {}
