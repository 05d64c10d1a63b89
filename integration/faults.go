// Faults a test can inject into a cluster: kill, stop, restart, session expiry, ZooKeeper
// cut-off, freeze, ZooKeeper nodes down.

package integration

import (
	"errors"
	"fmt"
	"syscall"
	"time"

	"github.com/go-zookeeper/zk"
)

// KillBroker sends SIGKILL to the broker, like kill -9, and waits until it is gone.
func (c *Cluster) KillBroker(id int32) {
	c.t.Helper()
	b := c.Broker(id)
	if !b.Running() {
		c.t.Fatalf("KillBroker(%d): broker is not running", id)
	}
	b.wantRunning = false
	b.proc.kill()
}

// StopBroker sends SIGTERM, which runs Kafka's controlled shutdown, and waits for the broker
// to exit. It returns the exit code and fails the test unless it is 0.
func (c *Cluster) StopBroker(id int32) int {
	c.t.Helper()
	b := c.Broker(id)
	if !b.Running() {
		c.t.Fatalf("StopBroker(%d): broker is not running", id)
	}
	b.wantRunning = false
	if err := b.proc.signal(syscall.SIGTERM); err != nil {
		c.t.Fatal(err)
	}
	st, ok := b.proc.wait(90 * time.Second)
	if !ok {
		b.proc.kill()
		c.t.Fatalf("broker %d did not exit within 90s of SIGTERM", id)
	}
	if st.ExitCode() != 0 {
		c.t.Errorf("broker %d after SIGTERM: %s, want exit code 0", id, describeState(st))
	}
	return st.ExitCode()
}

// StartBroker starts a stopped or killed broker again with the same config, port and
// log.dirs, and waits until it is registered. Like an operator restarting Kafka after kill -9,
// it first waits for ZooKeeper to expire the previous process's session, whose ephemeral
// /brokers/ids/<id> would otherwise still be there.
func (c *Cluster) StartBroker(id int32) {
	c.t.Helper()
	b := c.Broker(id)
	if b.proc != nil && !b.Running() {
		p := c.Path(fmt.Sprintf("/brokers/ids/%d", id))
		eventually(c.t, b.sessionTimeout()+30*time.Second, func() error {
			ok, _, err := c.ZK().Exists(p)
			if err != nil {
				return err
			}
			if ok {
				return fmt.Errorf("%s of the previous broker %d process is still there", p, id)
			}
			return nil
		})
	}
	c.startBroker(b)
	c.waitStarted(b)
}

// RestartBroker stops the broker with SIGTERM (expecting exit code 0) if it runs, then starts
// it again.
func (c *Cluster) RestartBroker(id int32) {
	c.t.Helper()
	if c.Broker(id).Running() {
		c.StopBroker(id)
	}
	c.StartBroker(id)
}

// StartExtraBroker starts one more broker process with the given broker.id (possibly one
// already in use), its own port and log.dirs, and the cluster's config. It is not part of the
// cluster: Bootstrap does not list it, and it is killed when the test ends.
func (c *Cluster) StartExtraBroker(id int32) *Broker {
	c.t.Helper()
	b := c.newBroker(id, true)
	c.extras = append(c.extras, b)
	c.startBroker(b)
	return b
}

// ExpireZKSession makes ZooKeeper expire the broker's session, as a network partition
// between the broker and the ensemble longer than zookeeper.session.timeout.ms does: the
// broker's ZooKeeper proxies drop its connections and refuse new ones until ZooKeeper has
// removed its ephemeral /brokers/ids/<id>, then let it reconnect. The broker keeps running
// and serving clients throughout. It returns once the broker may reconnect; the caller waits
// for whatever should follow (re-registration with a new epoch, a new controller).
func (c *Cluster) ExpireZKSession(id int32) {
	c.t.Helper()
	b := c.Broker(id)
	if !b.Running() {
		c.t.Fatalf("ExpireZKSession(%d): broker is not running", id)
	}
	p := c.Path(fmt.Sprintf("/brokers/ids/%d", id))
	_, before, err := c.ZK().Get(p)
	if err != nil {
		c.t.Fatalf("ExpireZKSession(%d): %s: %v", id, p, err)
	}
	c.CutOffZooKeeper(id)
	defer c.ReconnectZooKeeper(id)
	eventually(c.t, b.sessionTimeout()+30*time.Second, func() error {
		_, st, err := c.ZK().Get(p)
		if errors.Is(err, zk.ErrNoNode) {
			return nil
		}
		if err != nil {
			return err
		}
		if st.EphemeralOwner != before.EphemeralOwner {
			return nil
		}
		return fmt.Errorf("session 0x%x of broker %d not expired yet", before.EphemeralOwner, id)
	})
}

// CutOffZooKeeper partitions the broker from every ZooKeeper server (its proxies drop their
// connections and refuse new ones) while clients and other brokers still reach it. Its
// session expires after zookeeper.session.timeout.ms unless ReconnectZooKeeper comes first.
func (c *Cluster) CutOffZooKeeper(id int32) {
	c.t.Helper()
	for _, p := range c.Broker(id).zkProxies {
		p.Block()
	}
}

// ReconnectZooKeeper ends CutOffZooKeeper: the broker may reach ZooKeeper again.
func (c *Cluster) ReconnectZooKeeper(id int32) {
	c.t.Helper()
	for _, p := range c.Broker(id).zkProxies {
		p.Unblock()
	}
}

// FreezeBroker pauses the broker process with SIGSTOP, as a long GC pause or a frozen VM
// does: it neither serves nor fetches nor talks to ZooKeeper until ThawBroker.
func (c *Cluster) FreezeBroker(id int32) {
	c.t.Helper()
	b := c.Broker(id)
	if err := b.proc.signal(syscall.SIGSTOP); err != nil {
		c.t.Fatal(err)
	}
	b.frozen = true
	c.t.Cleanup(func() { _ = b.proc.signal(syscall.SIGCONT) })
}

// ThawBroker resumes a broker paused by FreezeBroker.
func (c *Cluster) ThawBroker(id int32) {
	c.t.Helper()
	b := c.Broker(id)
	if err := b.proc.signal(syscall.SIGCONT); err != nil {
		c.t.Fatal(err)
	}
	b.frozen = false
}

// StopZooKeeperNode stops ZooKeeper server myid (1..n) with SIGTERM and waits for it to exit.
func (c *Cluster) StopZooKeeperNode(myid int) {
	c.t.Helper()
	n := c.zkNode(myid)
	if n.proc == nil || n.proc.exited() {
		c.t.Fatalf("zookeeper %d is not running", myid)
	}
	_ = n.proc.signal(syscall.SIGTERM)
	if _, ok := n.proc.wait(30 * time.Second); !ok {
		n.proc.kill()
	}
}

// StartZooKeeperNode starts ZooKeeper server myid again with its data and waits until it
// serves.
func (c *Cluster) StartZooKeeperNode(myid int) {
	c.t.Helper()
	n := c.zkNode(myid)
	if n.proc != nil && !n.proc.exited() {
		c.t.Fatalf("zookeeper %d is already running", myid)
	}
	if err := n.start(); err != nil {
		c.t.Fatal(err)
	}
	eventually(c.t, 90*time.Second, func() error {
		if n.proc.exited() {
			return fmt.Errorf("zookeeper %d %s", myid, describeState(n.proc.state))
		}
		return n.serving()
	})
}

// StartZooKeeperNodes starts several stopped ZooKeeper servers at once and waits until each
// serves: after the whole ensemble was down no single server can serve until a quorum is
// back, so StartZooKeeperNode one at a time would wait in vain.
func (c *Cluster) StartZooKeeperNodes(myids ...int) {
	c.t.Helper()
	for _, id := range myids {
		n := c.zkNode(id)
		if n.proc != nil && !n.proc.exited() {
			c.t.Fatalf("zookeeper %d is already running", id)
		}
		if err := n.start(); err != nil {
			c.t.Fatal(err)
		}
	}
	c.waitZooKeeper(c.t)
}

func (c *Cluster) zkNode(myid int) *zkNode {
	c.t.Helper()
	if myid < 1 || myid > len(c.zks) {
		c.t.Fatalf("no zookeeper %d in this cluster", myid)
	}
	return c.zks[myid-1]
}

// ReviveExited starts again, as a supervisor would (compose's restart policy), every broker
// whose process exited although the test had not stopped it: a classroom scenario killed or
// stopped it through its fault endpoint. It returns their ids.
func (c *Cluster) ReviveExited() []int32 {
	c.t.Helper()
	var ids []int32
	for _, b := range c.brokers {
		if b.wantRunning && b.proc != nil && b.proc.exited() {
			b.wantRunning = false
			c.StartBroker(b.ID)
			ids = append(ids, b.ID)
		}
	}
	return ids
}
