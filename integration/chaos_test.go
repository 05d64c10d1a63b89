package integration

import (
	"errors"
	"fmt"
	"math/rand/v2"
	"os"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/go-zookeeper/zk"
)

// chaosConfig is what every fault test runs with: short ZooKeeper sessions and replica lag
// so that failures are noticed in seconds, not in Kafka's default 18 and 30 seconds.
func chaosConfig() []Option {
	return []Option{
		BrokerConfig("zookeeper.session.timeout.ms", 4000),
		BrokerConfig("replica.lag.time.max.ms", 3000),
		BrokerConfig("replica.fetch.backoff.ms", 200),
		BrokerConfig("auto.leader.rebalance.enable", false),
	}
}

// TestChaosCampaign is Kafka's durability promise under faults (the guarantee of
// acks=all with min.insync.replicas=2 and replication factor 3, KIP-98 idempotence): an
// idempotent acks=all producer writes numbered records while a campaign of mixed faults
// hits the cluster, one at a time: kill -9 and SIGTERM of a leader, expiry of a broker's
// ZooKeeper session, a broker cut off from ZooKeeper (briefly, and past its session), a
// frozen leader (SIGSTOP past its session: the zombie leader that must be fenced), kill -9
// of the controller, one ZooKeeper server of three stopped, and a leader's disk filled up
// (every broker's log dir is a tmpfs: filled, the broker's next write fails with ENOSPC, it
// loses its only log dir and halts, KIP-112; then the disk is freed and the broker restarted,
// recovering its log). After each fault the cluster
// recovers (every broker back, every ISR full) before the next. Finally every acknowledged
// record must be read back exactly once, in order.
//
// CI runs 20 faults (about two and a half minutes); `make chaos` runs CHAOS_FAULTS (default
// 200) bounded by CHAOS_DURATION. CHAOS_SEED replays a campaign's order of faults.
func TestChaosCampaign(t *testing.T) {
	faults := envInt(t, "CHAOS_FAULTS", 20)
	limit := 4 * time.Minute
	if d := os.Getenv("CHAOS_DURATION"); d != "" {
		var err error
		if limit, err = time.ParseDuration(d); err != nil {
			t.Fatalf("CHAOS_DURATION: %v", err)
		}
	} else if faults > 20 {
		limit = time.Duration(faults) * 15 * time.Second
	}
	seed := uint64(time.Now().UnixNano())
	if s := os.Getenv("CHAOS_SEED"); s != "" {
		v, err := strconv.ParseUint(s, 10, 64)
		if err != nil {
			t.Fatalf("CHAOS_SEED: %v", err)
		}
		seed = v
	}
	rng := rand.New(rand.NewPCG(seed, seed^0x5eed))
	t.Logf("chaos: up to %d faults within %v, CHAOS_SEED=%d", faults, limit, seed)

	opts := append(chaosConfig(), Brokers(3), ZooKeepers(3))
	kinds := []string{"kill-leader", "stop-leader", "expire-session", "cut-off-brief", "cut-off-long", "freeze-leader", "kill-controller", "stop-zookeeper", "disk-full"}
	if ok, why := TmpfsPermitted(); ok {
		for id := int32(1); id <= 3; id++ {
			opts = append(opts, TmpfsLogDir(id, "256m"))
		}
	} else {
		kinds = kinds[:len(kinds)-1]
		t.Logf("chaos: no disk-full faults: %s", why)
	}
	c := NewCluster(t, opts...)
	const topic, partitions = "chaos", 3
	c.CreateTopic(t, topic, partitions, 3, map[string]*string{"min.insync.replicas": strp("2")})
	chk := StartChecker(t, c, topic, partitions, CheckerOptions{MaxDuration: limit + time.Minute})
	chk.WaitProgress(t, 200, time.Minute)

	counts := map[string]int{}
	start := time.Now()
	done := 0
	for i := 0; i < faults && time.Since(start) < limit; i++ {
		kind := kinds[i%len(kinds)]
		if i >= len(kinds) {
			kind = kinds[rng.IntN(len(kinds))]
		}
		part := int32(rng.IntN(partitions))
		t0 := time.Now()
		desc := injectFault(t, c, chk, rng, kind, topic, part)
		waitHealthy(t, c, topic, partitions)
		chk.WaitProgress(t, 50, time.Minute)
		counts[kind]++
		done++
		t.Logf("chaos: fault %d/%d %s: %s; recovered in %v, %d acknowledged so far", done, faults, kind, desc, time.Since(t0).Round(time.Millisecond), chk.Acked())
	}
	chk.Stop(t)
	waitHealthy(t, c, topic, partitions)
	res := chk.Verify(t)
	t.Logf("chaos: %d faults in %v %v; %s", done, time.Since(start).Round(time.Second), counts, res)
	if len(res.Errors) > 0 {
		t.Logf("chaos: produce errors of unacknowledged records: %v", res.Errors)
	}
	if done < min(faults, 20) {
		t.Errorf("only %d faults within %v, want at least %d", done, limit, min(faults, 20))
	}
	if res.Lost != 0 || res.Duplicated != 0 || res.OutOfOrder != 0 || res.Corrupt != 0 {
		t.Errorf("chaos: %s", res)
	}
}

// injectFault injects one fault and undoes it, returning what it did.
func injectFault(t *testing.T, c *Cluster, chk *Checker, rng *rand.Rand, kind, topic string, part int32) string {
	t.Helper()
	leader := zkLeaderOf(t, c, topic, part)
	switch kind {
	case "kill-leader":
		c.KillBroker(leader)
		chk.WaitProgress(t, 50, time.Minute) // the others take over
		c.StartBroker(leader)
		return fmt.Sprintf("kill -9 broker %d (leader of %s-%d), restart", leader, topic, part)
	case "stop-leader":
		c.StopBroker(leader)
		chk.WaitProgress(t, 50, time.Minute)
		c.StartBroker(leader)
		return fmt.Sprintf("SIGTERM broker %d (leader of %s-%d), restart", leader, topic, part)
	case "expire-session":
		id := int32(1 + rng.IntN(3))
		c.ExpireZKSession(id)
		return fmt.Sprintf("expire the ZooKeeper session of broker %d", id)
	case "cut-off-brief":
		// Shorter than the session: nothing changes but a reconnection.
		c.CutOffZooKeeper(leader)
		chk.WaitProgress(t, 100, time.Minute)
		c.ReconnectZooKeeper(leader)
		return fmt.Sprintf("cut broker %d (leader of %s-%d) off from ZooKeeper while 100 records are acknowledged", leader, topic, part)
	case "cut-off-long":
		// Past the session: the controller moves leadership while the old leader still
		// serves clients; it must not acknowledge what the new leader lacks.
		c.CutOffZooKeeper(leader)
		waitExpired(t, c, leader)
		chk.WaitProgress(t, 50, time.Minute)
		c.ReconnectZooKeeper(leader)
		return fmt.Sprintf("cut broker %d (leader of %s-%d) off from ZooKeeper past its session", leader, topic, part)
	case "freeze-leader":
		c.FreezeBroker(leader)
		waitExpired(t, c, leader)
		chk.WaitProgress(t, 50, time.Minute)
		c.ThawBroker(leader)
		return fmt.Sprintf("SIGSTOP broker %d (leader of %s-%d) past its session, SIGCONT", leader, topic, part)
	case "kill-controller":
		ctl := c.WaitForController(t)
		c.KillBroker(ctl)
		waitNewController(t, c, ctl)
		c.StartBroker(ctl)
		return fmt.Sprintf("kill -9 broker %d (the controller), restart", ctl)
	case "disk-full":
		// Another program fills the leader's disk: its next append or replica fetch fails
		// with ENOSPC, its only log dir goes offline, it notifies the controller and halts.
		c.ExpectExit(leader)
		filled := c.FillLogDir(leader, 0)
		if free, err := c.Broker(leader).DiskFree(); err != nil || free >= 4096 {
			t.Fatalf("broker %d's disk still has %d bytes free after filling (%v)", leader, free, err)
		}
		code := c.WaitExit(t, leader, time.Minute)
		if out := c.Broker(leader).Output(); code != 1 || !strings.Contains(out, "all log dirs have failed") {
			t.Errorf("broker %d with a full disk exited with code %d; want 1 and \"all log dirs have failed\"", leader, code)
		}
		chk.WaitProgress(t, 50, time.Minute)
		c.FreeLogDir(leader)
		c.StartBroker(leader)
		return fmt.Sprintf("filled the disk of broker %d (leader of %s-%d) with %d MB: it halted; freed it, restart", leader, topic, part, filled>>20)
	case "stop-zookeeper":
		n := 1 + rng.IntN(len(c.zks))
		c.StopZooKeeperNode(n)
		chk.WaitProgress(t, 100, time.Minute)
		c.StartZooKeeperNode(n)
		return fmt.Sprintf("stop ZooKeeper server %d of %d, restart", n, len(c.zks))
	}
	t.Fatalf("unknown fault %q", kind)
	return ""
}

// zkLeaderOf waits until the partition's state znode names a live leader and returns it.
func zkLeaderOf(t testing.TB, c *Cluster, topic string, part int32) int32 {
	t.Helper()
	var leader int32
	eventually(t, time.Minute, func() error {
		st, err := c.ZKPartitionState(t, topic, part)
		if err != nil {
			return err
		}
		if st.Leader < 0 {
			return fmt.Errorf("%s-%d has no leader: %+v", topic, part, st)
		}
		leader = st.Leader
		return nil
	})
	return leader
}

// waitExpired waits until ZooKeeper has removed the broker's current registration.
func waitExpired(t testing.TB, c *Cluster, id int32) {
	t.Helper()
	p := c.Path(fmt.Sprintf("/brokers/ids/%d", id))
	_, before, err := c.ZK().Get(p)
	if err != nil {
		t.Fatalf("%s: %v", p, err)
	}
	eventually(t, time.Minute, func() error {
		_, st, err := c.ZK().Get(p)
		if errors.Is(err, zk.ErrNoNode) {
			return nil
		}
		if err != nil {
			return err
		}
		if st.Czxid != before.Czxid {
			return nil
		}
		return fmt.Errorf("broker %d's session has not expired yet", id)
	})
}

// waitNewController waits until a broker other than old is the controller and returns it.
func waitNewController(t testing.TB, c *Cluster, old int32) int32 {
	t.Helper()
	var id int32
	eventually(t, time.Minute, func() error {
		id = c.WaitForController(t)
		if id == old {
			return fmt.Errorf("broker %d is still the controller", old)
		}
		return nil
	})
	return id
}

// waitHealthy waits until every broker of the cluster runs and is registered, and every
// partition of topic has a leader and a full ISR.
func waitHealthy(t testing.TB, c *Cluster, topic string, partitions int32) {
	t.Helper()
	c.eventuallyT(t, 2*time.Minute, func() error {
		ids := c.ZKChildren(t, "/brokers/ids")
		if len(ids) != len(c.brokers) {
			return fmt.Errorf("registered brokers %v", ids)
		}
		for p := range partitions {
			st, err := c.ZKPartitionState(t, topic, p)
			if err != nil {
				return err
			}
			if st.Leader < 0 || len(st.ISR) != len(c.brokers) {
				return fmt.Errorf("%s-%d: %+v", topic, p, st)
			}
		}
		return nil
	})
}

func envInt(t testing.TB, name string, def int) int {
	s := os.Getenv(name)
	if s == "" {
		return def
	}
	n, err := strconv.Atoi(s)
	if err != nil {
		t.Fatalf("%s: %v", name, err)
	}
	return n
}

func strp(s string) *string { return &s }
