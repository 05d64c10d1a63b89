package integration

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kgo"
	"github.com/twmb/franz-go/pkg/kmsg"
)

// The replication tests of issue 3: Kafka's ZooKeeper-mode controller, leader election, ISR
// management, truncation by leader epoch, min.insync.replicas, unclean election, ZooKeeper
// outages, controlled shutdown and preferred election, each against three real brokers.

// sessionMs is the zookeeper.session.timeout.ms of chaosConfig, for the measurements.
const sessionMs = 4000

// TestControllerFailover: kill -9 the controller; its ephemeral /controller vanishes when
// ZooKeeper expires its session, another broker wins the election with a higher
// /controller_epoch (KafkaController.elect), and the cluster is administered again: topic
// creation works. The time from the kill to the new controller is logged against
// zookeeper.session.timeout.ms, which bounds it from below.
func TestControllerFailover(t *testing.T) {
	c := NewCluster(t, append(chaosConfig(), Brokers(3))...)
	old := c.WaitForController(t)
	epochBefore, _ := c.ZKGet(t, "/controller_epoch")
	start := time.Now()
	c.KillBroker(old)
	var took time.Duration
	eventually(t, time.Minute, func() error {
		data, _, err := c.ZK().Get(c.Path("/controller"))
		if err != nil {
			return err
		}
		if strings.Contains(string(data), fmt.Sprintf(`"brokerid":%d,`, old)) {
			return fmt.Errorf("/controller still %s", data)
		}
		took = time.Since(start)
		return nil
	})
	ctl := waitNewController(t, c, old)
	serving := time.Since(start)
	epochAfter, _ := c.ZKGet(t, "/controller_epoch")
	if string(epochAfter) <= string(epochBefore) && len(epochAfter) <= len(epochBefore) {
		t.Errorf("/controller_epoch %s after failover, was %s", epochAfter, epochBefore)
	}
	t.Logf("MEASURE controller failover: kill -9 of controller %d to broker %d in /controller: %v, and named in Metadata: %v (zookeeper.session.timeout.ms=%d)",
		old, ctl, took.Round(time.Millisecond), serving.Round(time.Millisecond), sessionMs)

	// The new controller creates topics (RF 2: only two brokers are alive).
	topic := topicName(t, "after-failover")
	c.CreateTopic(t, topic, 2, 2, nil)
	cl := c.Client(t, manual())
	produceAll(t, cl, topic, makeRecords(20, 2), 30*time.Second)
	c.StartBroker(old)
	c.WaitForBrokers(3)
}

// TestLeaderFailover: kill -9 the leader of a partition with replication factor 3 while an
// acks=all producer writes to it. The controller notices when the leader's session expires,
// elects the first live ISR member in assignment order with a bumped leader epoch, and the
// producer's next write is acknowledged by the new leader (Kafka's offline partition
// election). The time from the kill to that first acknowledged write is logged against
// zookeeper.session.timeout.ms.
func TestLeaderFailover(t *testing.T) {
	c := NewCluster(t, append(chaosConfig(), Brokers(3))...)
	topic := topicName(t, "failover")
	c.CreateTopic(t, topic, 1, 3, map[string]*string{"min.insync.replicas": strp("2")})
	waitFullISR(t, c, topic, 1)
	cl := c.Client(t, manual(), kgo.RetryBackoffFn(func(int) time.Duration { return 50 * time.Millisecond }),
		kgo.MetadataMinAge(100*time.Millisecond))
	produceAll(t, cl, topic, makeRecords(100, 1), 30*time.Second)

	var samples []time.Duration
	for round := range 2 {
		leader := zkLeaderOf(t, c, topic, 0)
		before, _ := c.ZKPartitionState(t, topic, 0)
		start := time.Now()
		c.KillBroker(leader)
		ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
		r := &kgo.Record{Topic: topic, Partition: 0, Value: []byte(fmt.Sprintf("after-kill-%d", round))}
		err := cl.ProduceSync(ctx, r).FirstErr()
		cancel()
		took := time.Since(start)
		if err != nil {
			t.Fatalf("first write after killing leader %d: %v", leader, err)
		}
		after, _ := c.ZKPartitionState(t, topic, 0)
		if after.Leader == leader || after.LeaderEpoch <= before.LeaderEpoch {
			t.Errorf("state after failover %+v, before %+v", after, before)
		}
		t.Logf("MEASURE leader failover %d: kill -9 of leader %d to the first acknowledged acks=all write (offset %d, new leader %d, epoch %d): %v (zookeeper.session.timeout.ms=%d)",
			round+1, leader, r.Offset, after.Leader, after.LeaderEpoch, took.Round(time.Millisecond), sessionMs)
		samples = append(samples, took)
		c.StartBroker(leader)
		waitFullISR(t, c, topic, 1)
	}
	for _, s := range samples {
		if s > time.Duration(sessionMs)*time.Millisecond*4 {
			t.Errorf("failover took %v, more than 4x the session timeout", s)
		}
	}
}

// TestISRShrinkAndExpand: a follower that stops fetching leaves the ISR after
// replica.lag.time.max.ms (Kafka's Partition.maybeShrinkIsr, written by the leader to the
// state znode with a conditional write, plus /isr_change_notification so the controller
// updates every broker's metadata); when it fetches again and catches up it returns
// (maybeExpandIsr). The follower is paused with SIGSTOP for less than its ZooKeeper session,
// so only the leader's lag check can remove it.
func TestISRShrinkAndExpand(t *testing.T) {
	c := NewCluster(t, Brokers(3),
		BrokerConfig("zookeeper.session.timeout.ms", 10000), // ZooKeeper's maximum at tickTime 500
		BrokerConfig("replica.lag.time.max.ms", 2000),
		BrokerConfig("replica.fetch.backoff.ms", 200))
	topic := topicName(t, "isr")
	c.CreateTopic(t, topic, 1, 3, nil)
	waitFullISR(t, c, topic, 1)
	st, _ := c.ZKPartitionState(t, topic, 0)
	// A follower that is not the controller: a paused controller could not tell the
	// brokers of the ISR change (UpdateMetadata), in Kafka as here.
	ctl := c.WaitForController(t)
	var follower int32
	for _, id := range st.ISR {
		if id != st.Leader && id != ctl {
			follower = id
		}
	}
	start := time.Now()
	c.FreezeBroker(follower)
	want := slices.DeleteFunc(slices.Clone(st.ISR), func(id int32) bool { return id == follower })
	waitISR(t, c, topic, 0, want, 8*time.Second)
	shrunk := time.Since(start)
	notes := c.ZKChildren(t, "/isr_change_notification")
	t.Logf("ISR %v -> %v %v after follower %d stopped fetching (replica.lag.time.max.ms=2000); notifications left: %v", st.ISR, want, shrunk.Round(time.Millisecond), follower, notes)
	if shrunk < 2*time.Second {
		t.Errorf("ISR shrank after %v, before replica.lag.time.max.ms", shrunk)
	}
	after, _ := c.ZKPartitionState(t, topic, 0)
	if after.Leader != st.Leader || after.LeaderEpoch != st.LeaderEpoch {
		t.Errorf("an ISR shrink by the leader changed leader or epoch: %+v -> %+v", st, after)
	}
	// Writes go on with two in-sync replicas.
	produceAll(t, c.Client(t, manual()), topic, makeRecords(50, 1), 30*time.Second)

	c.ThawBroker(follower)
	waitISR(t, c, topic, 0, st.ISR, 30*time.Second)
	t.Logf("follower %d back in the ISR %v after SIGCONT", follower, st.ISR)

	// A follower stopped (SIGTERM) and restarted: out of the ISR (the controller removes an
	// offline replica), back once it has caught up.
	c.StopBroker(follower)
	waitISR(t, c, topic, 0, want, 30*time.Second)
	produceAll(t, c.Client(t, manual()), topic, makeRecords(50, 1), 30*time.Second)
	c.StartBroker(follower)
	waitISR(t, c, topic, 0, st.ISR, 30*time.Second)
	waitReplicasIdentical(t, c, topic, 0, 30*time.Second)
}

// TestTruncationAfterDivergence: a leader appends acks=1 records its followers never copy
// (they are paused), then dies. A follower is elected with a new leader epoch and takes other
// writes at the same offsets. When the old leader returns it asks the new leader with
// OffsetsForLeaderEpoch where its last epoch ended, truncates its divergent tail there and
// copies the new leader's log (KIP-101, KIP-279): every replica ends byte for byte identical,
// and consumers see only the new leader's records.
func TestTruncationAfterDivergence(t *testing.T) {
	c := NewCluster(t, append(chaosConfig(), Brokers(3))...)
	topic := topicName(t, "diverge")
	c.CreateTopic(t, topic, 1, 3, map[string]*string{"min.insync.replicas": strp("1")})
	waitFullISR(t, c, topic, 1)
	acks1 := c.Client(t, manual(), kgo.RequiredAcks(kgo.LeaderAck()), kgo.DisableIdempotentWrite())
	produceAll(t, c.Client(t, manual()), topic, makeRecords(100, 1), 30*time.Second)
	waitReplicasIdentical(t, c, topic, 0, 30*time.Second)

	st, _ := c.ZKPartitionState(t, topic, 0)
	old := st.Leader
	var followers []int32
	for _, id := range st.ISR {
		if id != old {
			followers = append(followers, id)
		}
	}
	// Warm the acks=1 client up (metadata, connection to the leader) while all are in sync.
	produceAll(t, acks1, topic, makeRecords(10, 1), 30*time.Second)
	waitReplicasIdentical(t, c, topic, 0, 30*time.Second)
	for _, id := range followers {
		c.FreezeBroker(id)
	}
	// A fetch already waiting at the leader (replica.fetch.wait.max.ms, 500 ms) would still
	// reach a paused follower's socket; let it complete empty first.
	waitFor(time.Second)
	divergent := make([]want, 20)
	for i := range divergent {
		divergent[i] = want{Partition: 0, Value: fmt.Appendf(nil, "divergent-%d", i)}
	}
	produceAll(t, acks1, topic, divergent, 10*time.Second) // only the old leader has them
	c.KillBroker(old)
	for _, id := range followers {
		c.ThawBroker(id)
	}
	eventually(t, time.Minute, func() error {
		s, err := c.ZKPartitionState(t, topic, 0)
		if err != nil {
			return err
		}
		if s.Leader < 0 || s.Leader == old {
			return fmt.Errorf("no new leader yet: %+v", s)
		}
		return nil
	})
	newer := make([]want, 30)
	for i := range newer {
		newer[i] = want{Partition: 0, Value: fmt.Appendf(nil, "new-leader-%d", i)}
	}
	produceAll(t, c.Client(t, manual()), topic, newer, 30*time.Second)

	c.StartBroker(old)
	waitFullISR(t, c, topic, 1)
	waitReplicasIdentical(t, c, topic, 0, 30*time.Second)
	got := consumeN(t, c, topic, 1, 140, 30*time.Second)
	for _, r := range got {
		if bytes.HasPrefix(r.Value, []byte("divergent-")) {
			t.Fatalf("offset %d holds %q, which only the dead leader had", r.Offset, r.Value)
		}
	}
	if !strings.Contains(c.Broker(old).Output(), "truncated to the leader's log") {
		t.Errorf("broker %d did not log a truncation", old)
	}
}

// TestMinInsyncReplicasRefusal: with min.insync.replicas=2 and only one of three replicas
// alive (so the ISR is just the leader), an acks=all produce is refused before anything is
// appended with NOT_ENOUGH_REPLICAS (Kafka's Partition.appendRecordsToLeader); acks=1 still
// works. When a replica returns and catches up, acks=all works again.
func TestMinInsyncReplicasRefusal(t *testing.T) {
	c := NewCluster(t, append(chaosConfig(), Brokers(3))...)
	topic := topicName(t, "mininsync")
	c.CreateTopic(t, topic, 1, 3, map[string]*string{"min.insync.replicas": strp("2")})
	waitFullISR(t, c, topic, 1)
	st, _ := c.ZKPartitionState(t, topic, 0)
	var others []int32
	for _, id := range st.ISR {
		if id != st.Leader {
			others = append(others, id)
		}
	}
	for _, id := range others {
		c.KillBroker(id)
	}
	waitISR(t, c, topic, 0, []int32{st.Leader}, time.Minute)
	cl := c.Client(t)
	endBefore := rawEndOffset(t, cl, st.Leader, topic)
	if code := rawProduce(t, c, st.Leader, topic, 0, -1); code != kerr.NotEnoughReplicas.Code {
		t.Fatalf("acks=all with ISR [%d]: error code %d (%v), want NOT_ENOUGH_REPLICAS", st.Leader, code, kerr.ErrorForCode(code))
	}
	if end := rawEndOffset(t, cl, st.Leader, topic); end != endBefore {
		t.Errorf("a refused acks=all produce was appended: log end %d -> %d", endBefore, end)
	}
	if code := rawProduce(t, c, st.Leader, topic, 0, 1); code != 0 {
		t.Fatalf("acks=1 with ISR [%d]: error code %d (%v)", st.Leader, code, kerr.ErrorForCode(code))
	}
	c.StartBroker(others[0])
	waitISR(t, c, topic, 0, sorted(st.Leader, others[0]), time.Minute)
	if code := rawProduce(t, c, st.Leader, topic, 0, -1); code != 0 {
		t.Fatalf("acks=all with two in sync: error code %d (%v)", code, kerr.ErrorForCode(code))
	}
}

// TestUncleanLeaderElection: Kafka's unclean.leader.election.enable. A partition whose ISR
// members are all dead stays offline while only an out-of-sync replica is alive (the default,
// false: no acknowledged write can be lost); with the topic config set to true the controller
// elects that replica, ISR just itself, accepting the loss (KIP-106).
func TestUncleanLeaderElection(t *testing.T) {
	c := NewCluster(t, append(chaosConfig(), Brokers(3))...)
	topic := topicName(t, "unclean")
	c.CreateTopic(t, topic, 1, 3, map[string]*string{"min.insync.replicas": strp("1")})
	waitFullISR(t, c, topic, 1)
	st, _ := c.ZKPartitionState(t, topic, 0)
	leader := st.Leader
	var f1, f2 int32 = -1, -1
	for _, id := range st.ISR {
		if id == leader {
			continue
		}
		if f1 < 0 {
			f1 = id
		} else {
			f2 = id
		}
	}
	// f1 dies first and misses writes; then f2 and the leader die, the last ISR member
	// being the leader.
	c.KillBroker(f1)
	waitISR(t, c, topic, 0, sorted(leader, f2), time.Minute)
	produceAll(t, c.Client(t, manual(), kgo.RequiredAcks(kgo.LeaderAck()), kgo.DisableIdempotentWrite()), topic, makeRecords(20, 1), 30*time.Second)
	c.KillBroker(f2)
	waitISR(t, c, topic, 0, []int32{leader}, time.Minute)
	c.KillBroker(leader)
	c.StartBroker(f1)

	t.Run("off", func(t *testing.T) {
		// The partition stays offline (no live leader: Metadata answers leader -1,
		// LEADER_NOT_AVAILABLE) for well past the time a clean election takes.
		offline := func() error {
			ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
			defer cancel()
			resp, err := c.Metadata(ctx, topic)
			if err != nil {
				return err
			}
			if len(resp.Topics) != 1 || len(resp.Topics[0].Partitions) != 1 {
				return fmt.Errorf("metadata for %s: %+v", topic, resp.Topics)
			}
			p := resp.Topics[0].Partitions[0]
			if p.Leader >= 0 || p.ErrorCode != kerr.LeaderNotAvailable.Code {
				return fmt.Errorf("metadata: %s-0 leader %d, error %d; want -1, LEADER_NOT_AVAILABLE", topic, p.Leader, p.ErrorCode)
			}
			return nil
		}
		eventually(t, time.Minute, offline)
		deadline := time.Now().Add(2 * sessionMs * time.Millisecond)
		for time.Now().Before(deadline) {
			if err := offline(); err != nil {
				t.Fatalf("unclean election off: %v", err)
			}
			if s, err := c.ZKPartitionState(t, topic, 0); err != nil || s.Leader == f1 {
				t.Fatalf("unclean election off, yet state %+v (%v)", s, err)
			}
			waitFor(250 * time.Millisecond)
		}
	})

	t.Run("on", func(t *testing.T) {
		adm := c.Admin(t)
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		on := "true"
		if _, err := adm.AlterTopicConfigs(ctx, []kadm.AlterConfig{{Op: kadm.SetConfig, Name: "unclean.leader.election.enable", Value: &on}}, topic); err != nil {
			t.Fatal(err)
		}
		waitISR(t, c, topic, 0, []int32{f1}, time.Minute)
		s, _ := c.ZKPartitionState(t, topic, 0)
		if s.Leader != f1 {
			t.Fatalf("unclean election chose %+v, want leader %d", s, f1)
		}
		// The out-of-sync replica serves (it missed the acks=1 records).
		produceAll(t, c.Client(t, manual()), topic, makeRecords(5, 1), 30*time.Second)
		// The old ISR members return, truncate to the new leader and catch up.
		c.StartBroker(leader)
		c.StartBroker(f2)
		waitFullISR(t, c, topic, 1)
		waitReplicasIdentical(t, c, topic, 0, 30*time.Second)
	})
}

// TestOneZooKeeperNodeDown: a quorum of two of three ZooKeeper servers serves, so with one
// down the cluster works in full: topics are created, writes are replicated and acknowledged
// with acks=all, a broker failure is handled.
func TestOneZooKeeperNodeDown(t *testing.T) {
	c := NewCluster(t, append(chaosConfig(), Brokers(3), ZooKeepers(3))...)
	c.StopZooKeeperNode(1)
	topic := topicName(t, "onezk")
	c.CreateTopic(t, topic, 3, 3, map[string]*string{"min.insync.replicas": strp("2")})
	waitFullISR(t, c, topic, 3)
	recs := makeRecords(300, 3)
	cl := c.Client(t, manual())
	checkAckedOffsets(t, recs, produceAll(t, cl, topic, recs, time.Minute), 0)
	leader := zkLeaderOf(t, c, topic, 0)
	c.KillBroker(leader)
	more := makeRecords(30, 3)
	produceAll(t, cl, topic, more, time.Minute)
	c.StartBroker(leader)
	waitFullISR(t, c, topic, 3)
	c.StartZooKeeperNode(1)
	checkRecords(t, append(recs, more...), consumeN(t, c, topic, 3, 330, time.Minute), 0)
}

// TestZooKeeperEnsembleDown: with the whole ensemble down, Kafka brokers keep serving what
// they lead (produce with acks=1, fetch), and nothing is elected, since the controller can
// neither learn of failures nor write states. When ZooKeeper returns past the brokers'
// session timeout, their sessions have expired: they register again, a controller is
// elected, and new topics can be created.
func TestZooKeeperEnsembleDown(t *testing.T) {
	c := NewCluster(t, append(chaosConfig(), Brokers(3), ZooKeepers(3))...)
	topic := topicName(t, "nozk")
	c.CreateTopic(t, topic, 3, 3, nil)
	waitFullISR(t, c, topic, 3)
	states := map[int32]PartitionState{}
	for p := range int32(3) {
		states[p], _ = c.ZKPartitionState(t, topic, p)
	}
	cl := c.Client(t, manual(), kgo.RequiredAcks(kgo.LeaderAck()), kgo.DisableIdempotentWrite())
	before := makeRecords(30, 3)
	produceAll(t, cl, topic, before, 30*time.Second)

	down := time.Now()
	for n := 1; n <= 3; n++ {
		c.StopZooKeeperNode(n)
	}
	// Existing leaders keep serving produce (acks=1) and fetch.
	during := makeRecords(60, 3)
	checkAckedOffsets(t, during, produceAll(t, cl, topic, during, 30*time.Second), 10)
	all := append(slices.Clone(before), during...)
	checkRecords(t, all, consumeN(t, c, topic, 3, len(all), 30*time.Second), 0)
	// Nothing is elected: every broker reports the leaders it had.
	for _, b := range c.Brokers() {
		resp := rawMetadata(t, b, topic)
		for _, p := range resp.Topics[0].Partitions {
			if p.Leader != states[p.Partition].Leader {
				t.Errorf("broker %d: %s-%d leader %d while ZooKeeper is down, was %d", b.ID, topic, p.Partition, p.Leader, states[p.Partition].Leader)
			}
		}
	}
	// Stay down past the session timeout.
	for time.Since(down) < 2*sessionMs*time.Millisecond {
		waitFor(250 * time.Millisecond)
	}
	c.StartZooKeeperNodes(1, 2, 3)
	c.WaitForBrokers(3)
	c.WaitForController(t)
	eventually(t, time.Minute, func() error {
		if ids := c.ZKChildren(t, "/brokers/ids"); len(ids) != 3 {
			return fmt.Errorf("registered: %v", ids)
		}
		return nil
	})
	waitFullISR(t, c, topic, 3)
	t.Logf("recovered %v after ZooKeeper went down", time.Since(down).Round(time.Millisecond))
	fresh := topicName(t, "after-zk")
	c.CreateTopic(t, fresh, 2, 3, nil)
	produceAll(t, c.Client(t, manual()), fresh, makeRecords(20, 2), 30*time.Second)
	more := makeRecords(30, 3)
	produceAll(t, c.Client(t, manual()), topic, more, 30*time.Second)
}

// TestControlledShutdownAndPreferredElection: SIGTERM runs Kafka's controlled shutdown: the
// broker asks the controller to move its leaderships to other ISR members before it exits
// (exit code 0), so an acks=all producer sees no error that is not retriable: every record is
// acknowledged. When it returns, kadm's ElectLeaders (KIP-460, preferred) gives it back the
// partitions whose first assigned replica it is.
func TestControlledShutdownAndPreferredElection(t *testing.T) {
	c := NewCluster(t, append(chaosConfig(), Brokers(3))...)
	topic := topicName(t, "shutdown")
	c.CreateTopic(t, topic, 6, 3, map[string]*string{"min.insync.replicas": strp("2")})
	waitFullISR(t, c, topic, 6)
	led := map[int32][]int32{}
	for p := range int32(6) {
		l := zkLeaderOf(t, c, topic, p)
		led[l] = append(led[l], p)
	}
	var victim int32 = 1
	for id, ps := range led {
		if len(ps) > len(led[victim]) {
			victim = id
		}
	}
	if len(led[victim]) == 0 {
		t.Fatalf("no broker leads a partition: %v", led)
	}
	chk := StartChecker(t, c, topic, 6, CheckerOptions{MaxDuration: 2 * time.Minute, Interval: time.Millisecond})
	chk.WaitProgress(t, 200, 30*time.Second)
	c.StopBroker(victim) // fails the test unless exit code 0
	out := c.Broker(victim).Output()
	if !strings.Contains(out, "controlled shutdown done: no leaderships left") {
		t.Errorf("broker %d exited without finishing its controlled shutdown", victim)
	}
	for _, p := range led[victim] {
		if l := zkLeaderOf(t, c, topic, p); l == victim {
			t.Errorf("%s-%d still led by the stopped broker %d", topic, p, victim)
		}
	}
	chk.WaitProgress(t, 200, 30*time.Second)
	c.StartBroker(victim)
	waitFullISR(t, c, topic, 6)
	chk.WaitProgress(t, 200, 30*time.Second)

	// Preferred leader election puts the first assigned replica back in charge.
	adm := c.Admin(t)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	res, err := adm.ElectLeaders(ctx, kadm.ElectPreferredReplica, kadm.TopicsSet{topic: nil})
	if err != nil {
		t.Fatal(err)
	}
	for tp, r := range res {
		for p, e := range r {
			if e.Err != nil && !errors.Is(e.Err, kerr.ElectionNotNeeded) {
				t.Errorf("ElectLeaders %s-%d: %v", tp, p, e.Err)
			}
		}
	}
	assign := topicAssignment(t, c, topic)
	for p := range int32(6) {
		eventually(t, 30*time.Second, func() error {
			if l := zkLeaderOf(t, c, topic, p); l != assign[p][0] {
				return fmt.Errorf("%s-%d led by %d, preferred %d", topic, p, l, assign[p][0])
			}
			return nil
		})
	}
	chk.Stop(t)
	res2 := chk.Verify(t)
	t.Logf("controlled shutdown under load: %s; errors: %v", res2, res2.Errors)
	if res2.Failed != 0 {
		t.Errorf("%d records failed during a controlled shutdown: %v", res2.Failed, res2.Errors)
	}
}

// --- helpers ---

func sorted(ids ...int32) []int32 {
	out := slices.Clone(ids)
	slices.Sort(out)
	return out
}

// waitFor blocks for d: the length of a fault in a fault test, never a synchronization.
func waitFor(d time.Duration) {
	tm := time.NewTimer(d)
	<-tm.C
}

// waitISR waits until the state znode of topic-p has exactly the ISR want (any order) with a
// leader, and Metadata from every running broker reports it too (UpdateMetadata reached them).
func waitISR(t testing.TB, c *Cluster, topic string, p int32, want []int32, timeout time.Duration) {
	t.Helper()
	want = sorted(want...)
	eventually(t, timeout, func() error {
		st, err := c.ZKPartitionState(t, topic, p)
		if err != nil {
			return err
		}
		if got := sorted(st.ISR...); !slices.Equal(got, want) || st.Leader < 0 {
			return fmt.Errorf("%s-%d state %+v, want ISR %v", topic, p, st, want)
		}
		for _, b := range c.Brokers() {
			if !b.Running() || b.Frozen() {
				continue
			}
			resp := rawMetadataErr(b, topic)
			if resp == nil {
				return fmt.Errorf("broker %d: no metadata", b.ID)
			}
			for _, mp := range resp.Topics[0].Partitions {
				if mp.Partition == p && !slices.Equal(sorted(mp.ISR...), want) {
					return fmt.Errorf("broker %d metadata: %s-%d ISR %v, want %v", b.ID, topic, p, mp.ISR, want)
				}
			}
		}
		return nil
	})
}

// waitFullISR waits until every partition of topic has a leader and all its replicas in sync.
func waitFullISR(t testing.TB, c *Cluster, topic string, partitions int32) {
	t.Helper()
	assign := topicAssignment(t, c, topic)
	for p := range partitions {
		waitISR(t, c, topic, p, assign[p], time.Minute)
	}
}

// topicAssignment reads /brokers/topics/<t>: the replicas of each partition, in order.
func topicAssignment(t testing.TB, c *Cluster, topic string) map[int32][]int32 {
	t.Helper()
	data, _ := c.ZKGet(t, "/brokers/topics/"+topic)
	var v struct {
		Partitions map[string][]int32 `json:"partitions"`
	}
	if err := json.Unmarshal(data, &v); err != nil {
		t.Fatal(err)
	}
	out := map[int32][]int32{}
	for k, r := range v.Partitions {
		var p int32
		fmt.Sscan(k, &p)
		out[p] = r
	}
	return out
}

// rawMetadataErr asks one broker for topic's metadata, nil on failure.
func rawMetadataErr(b *Broker, topic string) *kmsg.MetadataResponse {
	conn, err := DialRaw(b.Addr())
	if err != nil {
		return nil
	}
	defer conn.Close()
	req := kmsg.NewPtrMetadataRequest()
	req.SetVersion(9)
	rt := kmsg.NewMetadataRequestTopic()
	rt.Topic = kmsg.StringPtr(topic)
	req.Topics = append(req.Topics, rt)
	resp, err := conn.Request(req, 5*time.Second)
	if err != nil {
		return nil
	}
	m := resp.(*kmsg.MetadataResponse)
	if len(m.Topics) != 1 {
		return nil
	}
	return m
}

func rawMetadata(t testing.TB, b *Broker, topic string) *kmsg.MetadataResponse {
	t.Helper()
	m := rawMetadataErr(b, topic)
	if m == nil {
		t.Fatalf("metadata from broker %d failed", b.ID)
	}
	return m
}

// rawProduce sends one Produce v9 of a one-record batch straight to broker id over a raw
// connection (kgo's Broker.Request would rewrite acks with the client's own setting) and
// returns the partition's error code.
func rawProduce(t testing.TB, c *Cluster, id int32, topic string, p int32, acks int16) int16 {
	t.Helper()
	req := kmsg.NewPtrProduceRequest()
	req.SetVersion(9)
	req.Acks = acks
	req.TimeoutMillis = 5000
	rt := kmsg.NewProduceRequestTopic()
	rt.Topic = topic
	rp := kmsg.NewProduceRequestTopicPartition()
	rp.Partition = p
	rp.Records = EncodeBatch(time.Now(), []byte("raw"))
	rt.Partitions = append(rt.Partitions, rp)
	req.Topics = append(req.Topics, rt)
	conn, err := DialRaw(c.Broker(id).Addr())
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	resp, err := conn.Request(req, 15*time.Second)
	if err != nil {
		t.Fatalf("produce to broker %d: %v", id, err)
	}
	return resp.(*kmsg.ProduceResponse).Topics[0].Partitions[0].ErrorCode
}

// rawEndOffset asks broker id (the leader) for partition 0's log end offset... through
// ListOffsets latest, which is the high watermark; with ISR of one the two are equal.
func rawEndOffset(t testing.TB, cl *kgo.Client, id int32, topic string) int64 {
	t.Helper()
	req := kmsg.NewPtrListOffsetsRequest()
	req.ReplicaID = -1
	rt := kmsg.NewListOffsetsRequestTopic()
	rt.Topic = topic
	rp := kmsg.NewListOffsetsRequestTopicPartition()
	rp.Partition = 0
	rp.Timestamp = -1
	rp.CurrentLeaderEpoch = -1
	rt.Partitions = append(rt.Partitions, rp)
	req.Topics = append(req.Topics, rt)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	resp, err := req.RequestWith(ctx, cl.Broker(int(id)))
	if err != nil {
		t.Fatal(err)
	}
	return resp.Topics[0].Partitions[0].Offset
}

// logBytes is the concatenation of a replica's segment files, in offset order.
func logBytes(b *Broker, topic string, p int32) ([]byte, error) {
	dir := filepath.Join(b.LogDir(), fmt.Sprintf("%s-%d", topic, p))
	ents, err := os.ReadDir(dir)
	if err != nil {
		return nil, err
	}
	var names []string
	for _, e := range ents {
		if strings.HasSuffix(e.Name(), ".log") {
			names = append(names, e.Name())
		}
	}
	sort.Strings(names)
	var out []byte
	for _, n := range names {
		data, err := os.ReadFile(filepath.Join(dir, n))
		if err != nil {
			return nil, err
		}
		out = append(out, data...)
	}
	return out, nil
}

// waitReplicasIdentical waits until every replica of topic-p holds the same log bytes (the
// .log files: batches as the leader stored them, epochs included).
func waitReplicasIdentical(t testing.TB, c *Cluster, topic string, p int32, timeout time.Duration) {
	t.Helper()
	eventually(t, timeout, func() error {
		var first []byte
		var firstID int32
		for i, b := range c.Brokers() {
			data, err := logBytes(b, topic, p)
			if err != nil {
				return err
			}
			if i == 0 {
				first, firstID = data, b.ID
				continue
			}
			if !bytes.Equal(first, data) {
				return fmt.Errorf("%s-%d: broker %d has %d log bytes, broker %d has %d, not identical", topic, p, firstID, len(first), b.ID, len(data))
			}
		}
		if len(first) == 0 {
			return fmt.Errorf("%s-%d: empty logs", topic, p)
		}
		return nil
	})
}
