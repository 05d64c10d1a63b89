// Reading a test cluster's ZooKeeper state.

package integration

import (
	"encoding/json"
	"fmt"
	"log"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/go-zookeeper/zk"
)

// Chroot sets the ZooKeeper chroot of zookeeper.connect ("" for none). Default "/klassik".
func Chroot(path string) Option { return func(o *options) { o.chroot = path } }

func (c *Cluster) waitZooKeeper(t testing.TB) {
	t.Helper()
	eventually(t, 90*time.Second, func() error {
		for _, n := range c.zks {
			if n.proc == nil {
				continue
			}
			if n.proc.exited() {
				return fmt.Errorf("zookeeper %d %s:\n%s", n.myid, describeState(n.proc.state), tailFile(n.logPath(), 20))
			}
			if err := n.serving(); err != nil {
				return err
			}
		}
		return nil
	})
}

// ZKConnect is the brokers' zookeeper.connect: every node, then the chroot.
func (c *Cluster) ZKConnect() string {
	return strings.Join(c.zkAddrs(), ",") + c.chroot
}

func (c *Cluster) zkAddrs() []string {
	var addrs []string
	for _, n := range c.zks {
		addrs = append(addrs, n.addr())
	}
	return addrs
}

// Chroot is the chroot of zookeeper.connect ("" for none).
func (c *Cluster) Chroot() string { return c.chroot }

// Path returns the ZooKeeper path of a Kafka znode under the chroot: Path("/brokers/ids").
func (c *Cluster) Path(p string) string {
	if c.chroot == "" {
		return p
	}
	if p == "/" {
		return c.chroot
	}
	return c.chroot + p
}

// ZK returns a ZooKeeper client connected to the ensemble, without chroot (use Path). It is
// shared by the cluster's users and closed when the test ends.
func (c *Cluster) ZK() *zk.Conn {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.zkConn == nil {
		conn, _, err := zk.Connect(c.zkAddrs(), 10*time.Second,
			zk.WithLogger(log.New(c.clientLog, "zk-client ", log.LstdFlags|log.Lmicroseconds)),
			zk.WithLogInfo(false))
		if err != nil {
			c.t.Fatal(err)
		}
		c.zkConn = conn
	}
	return c.zkConn
}

// ZKGet reads the znode at Path(p), failing the test if it cannot.
func (c *Cluster) ZKGet(t testing.TB, p string) ([]byte, *zk.Stat) {
	t.Helper()
	data, stat, err := c.ZK().Get(c.Path(p))
	if err != nil {
		t.Fatalf("zookeeper get %s: %v", c.Path(p), err)
	}
	return data, stat
}

// ZKExists reports whether the znode at Path(p) exists, failing the test on other errors.
func (c *Cluster) ZKExists(t testing.TB, p string) bool {
	t.Helper()
	ok, _, err := c.ZK().Exists(c.Path(p))
	if err != nil {
		t.Fatalf("zookeeper exists %s: %v", c.Path(p), err)
	}
	return ok
}

// ZKChildren lists the children of Path(p), failing the test if it cannot.
func (c *Cluster) ZKChildren(t testing.TB, p string) []string {
	t.Helper()
	kids, _, err := c.ZK().Children(c.Path(p))
	if err != nil {
		t.Fatalf("zookeeper children %s: %v", c.Path(p), err)
	}
	slices.Sort(kids)
	return kids
}

// PartitionState is the JSON of /brokers/topics/<t>/partitions/<p>/state, with its zkVersion.
type PartitionState struct {
	Leader          int32     `json:"leader"`
	LeaderEpoch     int32     `json:"leader_epoch"`
	ControllerEpoch int32     `json:"controller_epoch"`
	ISR             []int32   `json:"isr"`
	ZkVersion       int32     `json:"-"`
	Mtime           time.Time `json:"-"` // when the znode was last written (ZooKeeper's clock)
}

// ZKPartitionState reads a partition's state znode.
func (c *Cluster) ZKPartitionState(t testing.TB, topic string, partition int32) (PartitionState, error) {
	t.Helper()
	data, stat, err := c.ZK().Get(c.Path(fmt.Sprintf("/brokers/topics/%s/partitions/%d/state", topic, partition)))
	if err != nil {
		return PartitionState{}, err
	}
	var st PartitionState
	if err := json.Unmarshal(data, &st); err != nil {
		return PartitionState{}, fmt.Errorf("state znode %q: %w", data, err)
	}
	st.ZkVersion = stat.Version
	st.Mtime = time.UnixMilli(stat.Mtime)
	return st, nil
}

// WaitForFullISR waits until every partition of every topic in ZooKeeper has a leader and
// all its assigned replicas in the ISR.
func (c *Cluster) WaitForFullISR(t testing.TB, timeout time.Duration) {
	t.Helper()
	c.eventuallyT(t, timeout, func() error {
		topics, _, err := c.ZK().Children(c.Path("/brokers/topics"))
		if err != nil {
			return err
		}
		for _, topic := range topics {
			data, _, err := c.ZK().Get(c.Path("/brokers/topics/" + topic))
			if err != nil {
				return err
			}
			var tz struct {
				Partitions map[string][]int32 `json:"partitions"`
			}
			if err := json.Unmarshal(data, &tz); err != nil {
				return fmt.Errorf("topic znode %s: %w", topic, err)
			}
			for p, replicas := range tz.Partitions {
				pn, _ := strconv.Atoi(p)
				st, err := c.ZKPartitionState(t, topic, int32(pn))
				if err != nil {
					return fmt.Errorf("%s-%s: %w", topic, p, err)
				}
				if st.Leader < 0 || len(st.ISR) != len(replicas) {
					return fmt.Errorf("%s-%s: leader %d, ISR %v of replicas %v", topic, p, st.Leader, st.ISR, replicas)
				}
			}
		}
		return nil
	})
}
