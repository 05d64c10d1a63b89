package integration

// Consumer groups and committed offsets against three brokers (issue 5): Kafka's classic
// group protocol (JoinGroup, SyncGroup, Heartbeat, LeaveGroup, OffsetCommit, OffsetFetch) as
// real clients drive it, the offsets surviving the loss of the coordinator, and the
// consumer-groups tool. Other clients' groups are in groups_clients_test.go.

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kgo"
	"github.com/twmb/franz-go/pkg/kmsg"
)

const (
	groupPartitions = 6
	// groupSession is the members' session.timeout.ms: Kafka's group.min.session.timeout.ms
	// (6 s) is the lowest a broker accepts with its defaults.
	groupSession = 6 * time.Second
)

// newGroupCluster starts the three brokers every group test uses: __consumer_offsets with 6
// partitions and 3 replicas, and a short group.initial.rebalance.delay.ms.
func newGroupCluster(t *testing.T) *Cluster {
	t.Helper()
	return NewCluster(t, Brokers(3),
		BrokerConfig("offsets.topic.replication.factor", 3),
		BrokerConfig("offsets.topic.num.partitions", 6),
		BrokerConfig("group.initial.rebalance.delay.ms", 100),
		BrokerConfig("min.insync.replicas", 2),
	)
}

// partOff is one consumed record's partition and offset.
type partOff struct {
	p int32
	o int64
}

// groupMember is what the group tests need of a member, whatever client it runs: its current
// assignment (partitions of the test's one topic) and the records it consumed.
type groupMember interface {
	Name() string
	Assigned() []int32
	Consumed() []partOff
}

// kgoMember is a franz-go group consumer in the test process. Its callbacks record every
// assignment change; a goroutine polls and records what it consumes. Offsets are committed
// by kgo's autocommit, on revoke, and by stop.
type kgoMember struct {
	name   string
	cl     *kgo.Client
	cancel context.CancelFunc
	done   chan struct{}

	mu       sync.Mutex
	assigned map[int32]bool
	revokes  int // OnPartitionsRevoked and OnPartitionsLost calls with partitions
	recs     []partOff
}

func (m *kgoMember) Name() string { return m.name }

func (m *kgoMember) Assigned() []int32 {
	m.mu.Lock()
	defer m.mu.Unlock()
	var ps []int32
	for p := range m.assigned {
		ps = append(ps, p)
	}
	slices.Sort(ps)
	return ps
}

func (m *kgoMember) Consumed() []partOff {
	m.mu.Lock()
	defer m.mu.Unlock()
	return slices.Clone(m.recs)
}

func (m *kgoMember) Revokes() int {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.revokes
}

// Generation is the member's group generation as kgo knows it.
func (m *kgoMember) Generation() int32 {
	_, gen := m.cl.GroupMetadata()
	return gen
}

func (m *kgoMember) update(ps map[string][]int32, add bool) {
	m.mu.Lock()
	defer m.mu.Unlock()
	n := 0
	for _, parts := range ps {
		for _, p := range parts {
			n++
			if add {
				m.assigned[p] = true
			} else {
				delete(m.assigned, p)
			}
		}
	}
	if !add && n > 0 {
		m.revokes++
	}
}

// startKgoMember joins group as a franz-go consumer of topic; opts pick the balancer and
// more. The member stops (commits and leaves) when t ends unless stopped before.
func startKgoMember(t testing.TB, c *Cluster, name, group, topic string, opts ...kgo.Opt) *kgoMember {
	t.Helper()
	m := &kgoMember{name: name, assigned: map[int32]bool{}, done: make(chan struct{})}
	all := []kgo.Opt{
		kgo.ConsumerGroup(group),
		kgo.ConsumeTopics(topic),
		kgo.ClientID(name),
		kgo.ConsumeResetOffset(kgo.NewOffset().AtStart()),
		kgo.SessionTimeout(groupSession),
		kgo.HeartbeatInterval(500 * time.Millisecond),
		kgo.RebalanceTimeout(20 * time.Second),
		kgo.FetchMaxWait(500 * time.Millisecond),
		kgo.OnPartitionsAssigned(func(_ context.Context, _ *kgo.Client, ps map[string][]int32) { m.update(ps, true) }),
		kgo.OnPartitionsRevoked(func(ctx context.Context, cl *kgo.Client, ps map[string][]int32) {
			// What kgo does by default on revoke: commit what was polled (a failure shows
			// in clients.log, and the records are consumed again: a duplicate the test sees).
			_ = cl.CommitUncommittedOffsets(ctx)
			m.update(ps, false)
		}),
		kgo.OnPartitionsLost(func(_ context.Context, _ *kgo.Client, ps map[string][]int32) { m.update(ps, false) }),
	}
	m.cl = c.Client(t, append(all, opts...)...)
	ctx, cancel := context.WithCancel(context.Background())
	m.cancel = cancel
	go func() {
		defer close(m.done)
		for ctx.Err() == nil {
			fs := m.cl.PollFetches(ctx)
			m.mu.Lock()
			fs.EachRecord(func(r *kgo.Record) { m.recs = append(m.recs, partOff{r.Partition, r.Offset}) })
			m.mu.Unlock()
		}
	}()
	t.Cleanup(func() { m.stop(t, true) })
	return m
}

// stop ends the member: with commit, it commits what it consumed and leaves the group
// (LeaveGroup) as Close does.
func (m *kgoMember) stop(t testing.TB, commit bool) {
	select {
	case <-m.done:
		if m.cancel == nil {
			return
		}
	default:
	}
	if m.cancel == nil {
		return
	}
	m.cancel()
	m.cancel = nil
	<-m.done
	if commit {
		ctx, cancel := context.WithTimeout(context.Background(), 15*time.Second)
		if err := m.cl.CommitUncommittedOffsets(ctx); err != nil {
			t.Errorf("%s: final commit: %v", m.name, err)
		}
		cancel()
	}
	m.cl.Close()
}

// waitBalanced waits until the members' assignments split all partitions of the topic: every
// partition owned by exactly one member, each member owning between the floor and the ceiling
// of partitions/members, as both the range and the sticky assignors do for one topic.
func waitBalanced(t testing.TB, c *Cluster, timeout time.Duration, partitions int, members ...groupMember) {
	t.Helper()
	c.eventuallyT(t, timeout, func() error { return balanced(partitions, members...) })
}

func balanced(partitions int, members ...groupMember) error {
	owner := map[int32]string{}
	lo, hi := partitions/len(members), (partitions+len(members)-1)/len(members)
	var desc []string
	for _, m := range members {
		ps := m.Assigned()
		desc = append(desc, fmt.Sprintf("%s=%v", m.Name(), ps))
		if len(ps) < lo || len(ps) > hi {
			return fmt.Errorf("%s owns %d partitions, want %d to %d: %s", m.Name(), len(ps), lo, hi, strings.Join(desc, " "))
		}
		for _, p := range ps {
			if o, dup := owner[p]; dup {
				return fmt.Errorf("partition %d owned by %s and %s", p, o, m.Name())
			}
			owner[p] = m.Name()
		}
	}
	if len(owner) != partitions {
		return fmt.Errorf("%d of %d partitions assigned: %s", len(owner), partitions, strings.Join(desc, " "))
	}
	return nil
}

// waitConsumedOnce waits until the members consumed n records in all, then checks that no
// record was consumed twice and that each partition's offsets are 0..end-1 without a gap.
func waitConsumedOnce(t testing.TB, c *Cluster, timeout time.Duration, n int, ends map[int32]int64, members ...groupMember) {
	t.Helper()
	total := func() int {
		s := 0
		for _, m := range members {
			s += len(m.Consumed())
		}
		return s
	}
	c.eventuallyT(t, timeout, func() error {
		if got := total(); got < n {
			return fmt.Errorf("members consumed %d of %d records", got, n)
		}
		return nil
	})
	seen := map[partOff]string{}
	for _, m := range members {
		for _, r := range m.Consumed() {
			if other, dup := seen[r]; dup {
				t.Fatalf("record %d@%d consumed by %s and by %s", r.p, r.o, other, m.Name())
			}
			seen[r] = m.Name()
		}
	}
	if len(seen) != n {
		t.Fatalf("members consumed %d distinct records, want %d", len(seen), n)
	}
	for p, end := range ends {
		for o := range end {
			if _, ok := seen[partOff{p, o}]; !ok {
				t.Fatalf("record %d@%d was never consumed", p, o)
			}
		}
	}
}

// produceSpread produces n records round-robin over partitions and returns each partition's
// end offset. The batches are not compressed: Debian's kafka-python has no snappy.
func produceSpread(t testing.TB, c *Cluster, topic string, n int, partitions int32) map[int32]int64 {
	t.Helper()
	cl := c.Client(t, manual(), kgo.RequiredAcks(kgo.AllISRAcks()), kgo.ProducerBatchCompression(kgo.NoCompression()))
	recs := makeRecords(n, partitions)
	offsets := produceAll(t, cl, topic, recs, time.Minute)
	ends := map[int32]int64{}
	for i, w := range recs {
		ends[w.Partition] = max(ends[w.Partition], offsets[i]+1)
	}
	return ends
}

// waitCommitted waits until the group's committed offsets of topic are exactly ends. Each
// attempt uses a new client seeded with the running brokers only: a killed broker must not be
// the one a client asks for the coordinator.
func waitCommitted(t testing.TB, c *Cluster, group, topic string, ends map[int32]int64) {
	t.Helper()
	c.eventuallyT(t, 60*time.Second, func() error {
		cl, err := liveClient(c)
		if err != nil {
			return err
		}
		defer cl.Close()
		got, err := fetchCommitted(kadm.NewClient(cl), group, topic)
		if err != nil {
			return err
		}
		for p, end := range ends {
			if got[p] != end {
				return fmt.Errorf("committed offsets %v, want %v", got, ends)
			}
		}
		return nil
	})
}

// liveClient is a new franz-go client seeded with the running brokers only; the caller closes
// it.
func liveClient(c *Cluster) (*kgo.Client, error) {
	var seeds []string
	for _, b := range c.Brokers() {
		if b.Running() {
			seeds = append(seeds, b.Addr())
		}
	}
	return kgo.NewClient(kgo.SeedBrokers(seeds...), kgo.RequestRetries(1))
}

// fetchCommitted is OffsetFetch for group, the committed offsets of topic by partition.
func fetchCommitted(adm *kadm.Client, group, topic string) (map[int32]int64, error) {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	resp, err := adm.FetchOffsets(ctx, group)
	if err != nil {
		return nil, err
	}
	if err := resp.Error(); err != nil {
		return nil, err
	}
	out := map[int32]int64{}
	for p, o := range resp[topic] {
		out[p] = o.At
	}
	return out, nil
}

// TestConsumerGroupsFranzGo runs franz-go consumer groups on one three-broker cluster, one
// Kafka behaviour per subtest.
func TestConsumerGroupsFranzGo(t *testing.T) {
	c := newGroupCluster(t)
	adm := c.Admin(t)

	// Kafka's consumer protocol: three members of a group split a 6-partition topic (2 each
	// with both the eager range assignor and the cooperative-sticky one, KIP-429), each
	// record is consumed by one member only, and the offsets they commit are the ends of
	// the partitions.
	for _, bal := range []struct {
		name string
		opt  kgo.Opt
	}{
		{"range", kgo.Balancers(kgo.RangeBalancer())},
		{"cooperative-sticky", kgo.Balancers(kgo.CooperativeStickyBalancer())},
	} {
		t.Run("split-"+bal.name, func(t *testing.T) {
			topic := topicName(t, "group")
			group := topic + "-g"
			c.CreateTopic(t, topic, groupPartitions, 3, nil)
			var ms []groupMember
			for i := range 3 {
				ms = append(ms, startKgoMember(t, c, fmt.Sprintf("%s-%d", bal.name, i), group, topic, bal.opt))
			}
			waitBalanced(t, c, 60*time.Second, groupPartitions, ms...)
			const n = 600
			ends := produceSpread(t, c, topic, n, groupPartitions)
			waitConsumedOnce(t, c, 60*time.Second, n, ends, ms...)
			for _, m := range ms {
				m.(*kgoMember).stop(t, true)
			}
			waitCommitted(t, c, group, topic, ends)
		})
	}

	// A member that leaves (LeaveGroup on Close) makes the coordinator rebalance at once: the
	// other members take its partitions well within the session timeout, without waiting
	// for it to expire. A member that dies (SIGKILL: no LeaveGroup) is removed when its
	// session times out, and the others take its partitions then (Kafka's
	// GroupCoordinator.onExpireHeartbeat).
	t.Run("leave-and-die", func(t *testing.T) {
		topic := topicName(t, "group")
		group := topic + "-g"
		c.CreateTopic(t, topic, groupPartitions, 3, nil)
		bal := kgo.Balancers(kgo.RangeBalancer())
		a := startKgoMember(t, c, "a", group, topic, bal)
		b := startKgoMember(t, c, "b", group, topic, bal)
		d := startHelperMember(t, c, "dying", group, topic, "range")
		waitBalanced(t, c, 60*time.Second, groupPartitions, a, b, d)

		d.kill(t)
		killed := time.Now()
		waitBalanced(t, c, groupSession+15*time.Second, groupPartitions, a, b)
		took := time.Since(killed)
		t.Logf("member killed (SIGKILL): the other two own all partitions %v later (session timeout %v)", took.Round(time.Millisecond), groupSession)
		if took < groupSession-time.Second {
			t.Errorf("rebalanced %v after the kill, before the session timeout %v ran out: who told the coordinator?", took, groupSession)
		}

		ends := produceSpread(t, c, topic, 300, groupPartitions)
		waitConsumedOnce(t, c, 60*time.Second, 300, ends, a, b)

		b.stop(t, true)
		left := time.Now()
		waitBalanced(t, c, groupSession, groupPartitions, a)
		t.Logf("member left (LeaveGroup): the last one owns all partitions %v later", time.Since(left).Round(time.Millisecond))
		a.stop(t, true)
		waitCommitted(t, c, group, topic, ends)
	})

	// KIP-345 static membership: a member with a group.instance.id that restarts within its
	// session timeout rejoins with its old assignment and the group does not rebalance: the
	// other members see no revocation and stay in the same generation.
	t.Run("static-rejoin", func(t *testing.T) {
		topic := topicName(t, "group")
		group := topic + "-g"
		c.CreateTopic(t, topic, groupPartitions, 3, nil)
		bal := kgo.Balancers(kgo.RangeBalancer())
		static := func(name string) *kgoMember {
			return startKgoMember(t, c, name, group, topic, bal, kgo.InstanceID("instance-"+name),
				kgo.SessionTimeout(30*time.Second))
		}
		// The first member leads the group; the restarted one is not the leader.
		m0 := static("s0")
		waitBalanced(t, c, 60*time.Second, groupPartitions, m0)
		m1, m2 := static("s1"), static("s2")
		waitBalanced(t, c, 60*time.Second, groupPartitions, m0, m1, m2)
		c.eventuallyT(t, 30*time.Second, func() error {
			if g0, g1, g2 := m0.Generation(), m1.Generation(), m2.Generation(); g0 != g1 || g1 != g2 {
				return fmt.Errorf("generations %d %d %d", g0, g1, g2)
			}
			return nil
		})
		// A follower restarts, then the leader (KIP-814: the coordinator tells a rejoining
		// static leader that it leads but has nothing to assign, and nothing rebalances).
		ms := []*kgoMember{m0, m1, m2}
		for _, i := range []int{2, 0} {
			gen := ms[0].Generation()
			revokes := map[int]int{}
			for j, m := range ms {
				revokes[j] = m.Revokes()
			}
			owned := ms[i].Assigned()
			name := ms[i].name

			ms[i].stop(t, true) // a static member's Close sends no LeaveGroup
			ms[i] = static(name)
			c.eventuallyT(t, 30*time.Second, func() error {
				if got := ms[i].Assigned(); !slices.Equal(got, owned) {
					return fmt.Errorf("restarted static member %s owns %v, want its old %v", name, got, owned)
				}
				return nil
			})
			if g := ms[i].Generation(); g != gen {
				t.Errorf("restarted static member %s is in generation %d, the group was in %d", name, g, gen)
			}
			// Give a rebalance, if one were under way, the time to reach the others: their
			// heartbeats (every 500 ms) would report REBALANCE_IN_PROGRESS.
			deadline := time.Now().Add(3 * time.Second)
			for time.Now().Before(deadline) {
				for j, m := range ms {
					if j == i {
						continue
					}
					if m.Generation() != gen || m.Revokes() != revokes[j] {
						t.Fatalf("restarting static member %s rebalanced the group: %s is in generation %d (was %d) with %d revocations (had %d)",
							name, m.name, m.Generation(), gen, m.Revokes(), revokes[j])
					}
				}
				waitTick(100 * time.Millisecond)
			}
			if err := balanced(groupPartitions, ms[0], ms[1], ms[2]); err != nil {
				t.Fatal(err)
			}
		}
	})

	// Kafka answers OffsetFetch for a group it has never heard of with no offsets and no
	// error (GroupCoordinator.handleFetchOffsets: an unknown group has no offsets).
	t.Run("offset-fetch-unknown-group", func(t *testing.T) {
		topic := topicName(t, "group")
		c.CreateTopic(t, topic, 2, 3, nil)
		cl := c.Client(t)
		c.eventuallyT(t, 30*time.Second, func() error {
			ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
			defer cancel()
			req := kmsg.NewPtrOffsetFetchRequest()
			req.Group = "no-such-group-" + topic
			rt := kmsg.NewOffsetFetchRequestTopic()
			rt.Topic = topic
			rt.Partitions = []int32{0, 1}
			req.Topics = append(req.Topics, rt)
			resp, err := req.RequestWith(ctx, cl)
			if err != nil {
				return err
			}
			if err := kerr.ErrorForCode(resp.ErrorCode); err != nil {
				if errors.Is(err, kerr.CoordinatorLoadInProgress) || errors.Is(err, kerr.CoordinatorNotAvailable) || errors.Is(err, kerr.NotCoordinator) {
					return err
				}
				t.Fatalf("OffsetFetch for an unknown group: %v, want no error", err)
			}
			for _, rt := range resp.Topics {
				for _, p := range rt.Partitions {
					if p.ErrorCode != 0 || p.Offset != -1 {
						t.Fatalf("OffsetFetch for an unknown group: %s-%d offset %d error %d, want offset -1 and no error", rt.Topic, p.Partition, p.Offset, p.ErrorCode)
					}
				}
			}
			// The group API too (kadm, the newest OffsetFetch version).
			got, err := adm.FetchOffsets(ctx, req.Group)
			if err != nil {
				return err
			}
			if err := got.Error(); err != nil || len(got) != 0 {
				t.Fatalf("kadm FetchOffsets for an unknown group: %v, error %v; want nothing", got, err)
			}
			return nil
		})
		// And asking did not create the group.
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		groups, err := adm.ListGroups(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if slices.Contains(groups.Groups(), "no-such-group-"+topic) {
			t.Fatalf("OffsetFetch created the group: ListGroups says %v", groups.Groups())
		}
	})

	// The consumer-groups tool against three brokers, as kafka-consumer-groups.sh: --list
	// names the group, --describe shows each partition's committed offset, end offset and
	// lag, --reset-offsets --to-earliest --execute moves the committed offsets to the log
	// start, --delete removes the group.
	t.Run("consumer-groups-tool", func(t *testing.T) {
		topic := topicName(t, "group")
		group := topic + "-g"
		c.CreateTopic(t, topic, groupPartitions, 3, nil)
		ends := produceSpread(t, c, topic, 120, groupPartitions) // 20 per partition
		// Commit offset 15 of each partition: lag 5.
		committed := kadm.Offsets{}
		for p := range int32(groupPartitions) {
			committed.AddOffset(topic, p, 15, -1)
		}
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		c.eventuallyT(t, 30*time.Second, func() error {
			r, err := adm.CommitOffsets(ctx, group, committed)
			if err != nil {
				return err
			}
			return r.Error()
		})
		tool := func(args ...string) string {
			return runTool(t, 60*time.Second, "", klassikBin, append([]string{"consumer-groups", "--bootstrap-server", c.BootstrapServers()}, args...)...)
		}

		if out := tool("--list"); !slices.Contains(strings.Fields(out), group) {
			t.Fatalf("--list does not name %s:\n%s", group, out)
		}
		out := tool("--describe", "--group", group)
		rows := describeRows(out, group)
		if len(rows) != groupPartitions {
			t.Fatalf("--describe shows %d partitions of %s, want %d:\n%s", len(rows), topic, groupPartitions, out)
		}
		for p, r := range rows {
			if r != [3]string{"15", strconv.FormatInt(ends[p], 10), "5"} {
				t.Fatalf("--describe partition %d: CURRENT-OFFSET LOG-END-OFFSET LAG = %v, want [15 %d 5]:\n%s", p, r, ends[p], out)
			}
		}

		tool("--reset-offsets", "--group", group, "--topic", topic, "--to-earliest", "--execute")
		got, err := fetchCommitted(adm, group, topic)
		if err != nil {
			t.Fatal(err)
		}
		for p := range int32(groupPartitions) {
			if got[p] != 0 {
				t.Fatalf("after --reset-offsets --to-earliest: committed %v, want 0 everywhere", got)
			}
		}
		rows = describeRows(tool("--describe", "--group", group), group)
		if r := rows[0]; r[0] != "0" || r[2] != strconv.FormatInt(ends[0], 10) {
			t.Fatalf("--describe after the reset: partition 0 %v, want offset 0 and lag %d", r, ends[0])
		}

		out = tool("--delete", "--group", group)
		if !strings.Contains(out, "successful") {
			t.Fatalf("--delete: %s", out)
		}
		if out := tool("--list"); slices.Contains(strings.Fields(out), group) {
			t.Fatalf("--list still names %s after --delete:\n%s", group, out)
		}
		got, err = fetchCommitted(adm, group, topic)
		if err != nil || len(got) != 0 {
			t.Fatalf("offsets after --delete: %v, %v; want none", got, err)
		}
	})

	// The closing note's numbers: how long a group of three franz-go members takes to settle
	// when one dies (SIGKILL: the session timeout dominates) and when one joins, from the
	// event to the moment every member holds its new assignment.
	t.Run("rebalance-time", func(t *testing.T) {
		for _, bal := range []struct {
			name string
			opt  kgo.Opt
		}{
			{"range", kgo.Balancers(kgo.RangeBalancer())},
			{"cooperative-sticky", kgo.Balancers(kgo.CooperativeStickyBalancer())},
		} {
			topic := topicName(t, "rebal-"+bal.name)
			group := topic + "-g"
			c.CreateTopic(t, topic, groupPartitions, 3, nil)
			a := startKgoMember(t, c, bal.name+"-a", group, topic, bal.opt)
			b := startKgoMember(t, c, bal.name+"-b", group, topic, bal.opt)
			d := startHelperMember(t, c, bal.name+"-dying", group, topic, bal.name)
			waitBalanced(t, c, 60*time.Second, groupPartitions, a, b, d)

			d.kill(t)
			killed := time.Now()
			waitBalanced(t, c, groupSession+15*time.Second, groupPartitions, a, b)
			dead := time.Since(killed)

			joined := time.Now()
			e := startKgoMember(t, c, bal.name+"-e", group, topic, bal.opt)
			waitBalanced(t, c, 30*time.Second, groupPartitions, a, b, e)
			join := time.Since(joined)
			t.Logf("rebalance time, group of 3 franz-go members, %s: one dies (SIGKILL, session.timeout.ms %d) %v; one joins %v",
				bal.name, groupSession.Milliseconds(), dead.Round(time.Millisecond), join.Round(time.Millisecond))
			for _, m := range []*kgoMember{a, b, e} {
				m.stop(t, false)
			}
		}
	})
}

// describeRows parses --describe output: partition -> [CURRENT-OFFSET, LOG-END-OFFSET, LAG]
// of group's rows.
func describeRows(out, group string) map[int32][3]string {
	rows := map[int32][3]string{}
	for line := range strings.SplitSeq(out, "\n") {
		f := strings.Fields(line)
		if len(f) < 6 || f[0] != group {
			continue
		}
		p, err := strconv.Atoi(f[2])
		if err != nil {
			continue
		}
		rows[int32(p)] = [3]string{f[3], f[4], f[5]}
	}
	return rows
}

// waitTick pauses a polling loop between checks.
func waitTick(d time.Duration) {
	timer := time.NewTimer(d)
	<-timer.C
}

// TestConsumerGroupOffsetsSurviveFailures: acknowledged commits are replicated with acks=all
// to every replica of their __consumer_offsets partition, so the group's offsets survive the
// loss of the coordinator's broker (kill -9; the new leader of the partition loads it and
// answers OffsetFetch with the same offsets: Kafka's GroupMetadataManager.loadGroupsAndOffsets)
// and a restart of the whole cluster.
func TestConsumerGroupOffsetsSurviveFailures(t *testing.T) {
	c := newGroupCluster(t)
	topic := topicName(t, "group")
	group := topic + "-g"
	c.CreateTopic(t, topic, groupPartitions, 3, nil)
	ends := produceSpread(t, c, topic, 300, groupPartitions)
	m := startKgoMember(t, c, "committer", group, topic, kgo.Balancers(kgo.RangeBalancer()))
	waitConsumedOnce(t, c, 60*time.Second, 300, ends, m)
	m.stop(t, true)
	waitCommitted(t, c, group, topic, ends)

	coordinator := func() int32 {
		var id int32
		c.eventually(30*time.Second, func() error {
			ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
			defer cancel()
			cl, err := liveClient(c)
			if err != nil {
				return err
			}
			defer cl.Close()
			r := kadm.NewClient(cl).FindGroupCoordinators(ctx, group)[group]
			if r.Err != nil {
				return r.Err
			}
			id = r.NodeID
			return nil
		})
		return id
	}
	old := coordinator()
	c.KillBroker(old)
	killed := time.Now()
	waitCommitted(t, c, group, topic, ends)
	now := coordinator()
	t.Logf("coordinator broker %d killed; broker %d answers OffsetFetch with the same offsets %v later", old, now, time.Since(killed).Round(time.Millisecond))
	if now == old {
		t.Fatalf("broker %d is still the coordinator after it was killed", old)
	}

	c.StartBroker(old)
	c.WaitForBrokers(3)
	for _, b := range c.Brokers() {
		c.StopBroker(b.ID)
	}
	for _, b := range c.Brokers() {
		c.StartBroker(b.ID)
	}
	c.WaitForBrokers(3)
	c.WaitForController(t)
	restarted := time.Now()
	waitCommitted(t, c, group, topic, ends)
	t.Logf("after a full cluster restart, OffsetFetch returns the same offsets %v after the brokers registered", time.Since(restarted).Round(time.Millisecond))
}

// --- members in other processes ---

// procMember is a group member in its own process: a franz-go member in this test binary
// (TestHelperGroupMember) or a Python script. It prints one line per event on stdout:
//
//	A 0,1,2     its whole assignment (partitions of the topic), after every change
//	R 3 17      a record it consumed: partition, offset
//
// Closing its stdin makes it commit, leave the group and exit 0; kill makes it die.
type procMember struct {
	name  string
	cmd   *exec.Cmd
	stdin io.WriteCloser
	done  chan struct{}
	err   error // Wait's result, set before done closes

	mu       sync.Mutex
	assigned []int32
	recs     []partOff
	lines    []string
}

func (m *procMember) Name() string { return m.name }

func (m *procMember) Assigned() []int32 {
	m.mu.Lock()
	defer m.mu.Unlock()
	return slices.Clone(m.assigned)
}

func (m *procMember) Consumed() []partOff {
	m.mu.Lock()
	defer m.mu.Unlock()
	return slices.Clone(m.recs)
}

// startProcMember runs argv as a group member, its stderr going to the cluster's clients.log;
// it is killed when the test ends.
func startProcMember(t testing.TB, c *Cluster, name string, env []string, argv ...string) *procMember {
	t.Helper()
	m := &procMember{name: name, done: make(chan struct{})}
	cmd := exec.Command(argv[0], argv[1:]...)
	cmd.Env = env
	cmd.Stderr = c.clientLog
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true, Pdeathsig: syscall.SIGKILL}
	stdin, err := cmd.StdinPipe()
	if err != nil {
		t.Fatal(err)
	}
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	m.cmd, m.stdin = cmd, stdin
	go func() {
		sc := bufio.NewScanner(stdout)
		for sc.Scan() {
			m.line(sc.Text())
		}
		m.err = cmd.Wait()
		close(m.done)
	}()
	t.Cleanup(func() {
		select {
		case <-m.done:
		default:
			_ = syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL)
			<-m.done
		}
	})
	return m
}

func (m *procMember) line(s string) {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.lines = append(m.lines, s)
	f := strings.Fields(s)
	switch {
	case len(f) >= 1 && f[0] == "A":
		m.assigned = m.assigned[:0]
		if len(f) == 2 {
			for x := range strings.SplitSeq(f[1], ",") {
				if p, err := strconv.Atoi(x); err == nil {
					m.assigned = append(m.assigned, int32(p))
				}
			}
		}
		slices.Sort(m.assigned)
	case len(f) == 3 && f[0] == "R":
		p, err1 := strconv.Atoi(f[1])
		o, err2 := strconv.ParseInt(f[2], 10, 64)
		if err1 == nil && err2 == nil {
			m.recs = append(m.recs, partOff{int32(p), o})
		}
	}
}

// kill sends SIGKILL, like a crash: no LeaveGroup, no commit.
func (m *procMember) kill(t testing.TB) {
	t.Helper()
	if err := syscall.Kill(-m.cmd.Process.Pid, syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	<-m.done
	m.mu.Lock()
	m.assigned = nil
	m.mu.Unlock()
}

// stop closes the member's stdin and waits for it to commit, leave and exit 0.
func (m *procMember) stop(t testing.TB, timeout time.Duration) {
	t.Helper()
	m.stdin.Close()
	timer := time.NewTimer(timeout)
	defer timer.Stop()
	select {
	case <-m.done:
	case <-timer.C:
		t.Fatalf("%s did not exit within %v of its stdin closing", m.name, timeout)
	}
	if m.err != nil {
		t.Fatalf("%s: %v (see clients.log)", m.name, m.err)
	}
	m.mu.Lock()
	m.assigned = nil
	m.mu.Unlock()
}

// startHelperMember runs a franz-go member in a child process (this test binary running
// TestHelperGroupMember), so that the test can kill it.
func startHelperMember(t testing.TB, c *Cluster, name, group, topic, balancer string) *procMember {
	t.Helper()
	self, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	env := append(os.Environ(),
		"KLASSIK_BIN="+klassikBin, // TestMain takes the built binary instead of building again
		"KLASSIK_GROUP_MEMBER="+strings.Join([]string{c.BootstrapServers(), group, topic, balancer, name}, " "),
		"KLASSIK_GROUP_MEMBER_LOG="+filepath.Join(c.dir, "member-"+name+".log"),
	)
	return startProcMember(t, c, name, env, self, "-test.run=^TestHelperGroupMember$", "-test.count=1", "-test.timeout=10m")
}

// TestHelperGroupMember is not a test: startHelperMember runs it in a child process, as a
// franz-go group member that reports on stdout (see procMember).
func TestHelperGroupMember(t *testing.T) {
	spec := strings.Fields(os.Getenv("KLASSIK_GROUP_MEMBER"))
	if len(spec) != 5 {
		t.Skip("runs only as a child process of a group test")
	}
	seeds, group, topic, balancer, name := strings.Split(spec[0], ","), spec[1], spec[2], spec[3], spec[4]
	var mu sync.Mutex
	owned := map[int32]bool{}
	out := bufio.NewWriter(os.Stdout)
	report := func() {
		var ps []string
		for p := range owned {
			ps = append(ps, strconv.Itoa(int(p)))
		}
		slices.Sort(ps)
		fmt.Fprintf(out, "A %s\n", strings.Join(ps, ","))
		out.Flush()
	}
	update := func(ps map[string][]int32, add bool) {
		mu.Lock()
		defer mu.Unlock()
		for _, p := range ps[topic] {
			if add {
				owned[p] = true
			} else {
				delete(owned, p)
			}
		}
		report()
	}
	bal := kgo.Balancers(kgo.RangeBalancer())
	if balancer == "cooperative-sticky" {
		bal = kgo.Balancers(kgo.CooperativeStickyBalancer())
	}
	logf, err := os.OpenFile(os.Getenv("KLASSIK_GROUP_MEMBER_LOG"), os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644)
	if err != nil {
		t.Fatal(err)
	}
	defer logf.Close()
	cl, err := kgo.NewClient(
		kgo.SeedBrokers(seeds...),
		kgo.ConsumerGroup(group),
		kgo.ConsumeTopics(topic),
		kgo.ClientID(name),
		bal,
		kgo.ConsumeResetOffset(kgo.NewOffset().AtStart()),
		kgo.SessionTimeout(groupSession),
		kgo.HeartbeatInterval(500*time.Millisecond),
		kgo.FetchMaxWait(500*time.Millisecond),
		kgo.WithLogger(kgo.BasicLogger(logf, kgo.LogLevelInfo, func() string { return name + " " })),
		kgo.OnPartitionsAssigned(func(_ context.Context, _ *kgo.Client, ps map[string][]int32) { update(ps, true) }),
		kgo.OnPartitionsRevoked(func(ctx context.Context, cl *kgo.Client, ps map[string][]int32) {
			_ = cl.CommitUncommittedOffsets(ctx)
			update(ps, false)
		}),
		kgo.OnPartitionsLost(func(_ context.Context, _ *kgo.Client, ps map[string][]int32) { update(ps, false) }),
	)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	go func() { // stdin closing means: commit, leave, exit
		_, _ = io.Copy(io.Discard, os.Stdin)
		cancel()
	}()
	for ctx.Err() == nil {
		fs := cl.PollFetches(ctx)
		mu.Lock()
		fs.EachRecord(func(r *kgo.Record) { fmt.Fprintf(out, "R %d %d\n", r.Partition, r.Offset) })
		out.Flush()
		mu.Unlock()
	}
	cctx, ccancel := context.WithTimeout(context.Background(), 15*time.Second)
	defer ccancel()
	if err := cl.CommitUncommittedOffsets(cctx); err != nil {
		t.Errorf("final commit: %v", err)
	}
	cl.Close()
}

// TestKgoSuite runs franz-go's own integration tests (github.com/twmb/franz-go/pkg/kgo, the
// version in go.mod) against a three-broker cluster, for the record: `make kgo-suite`. It is
// not part of CI and runs only with KLASSIK_KGO_SUITE=1. KGO_RUN and KGO_SKIP pick the tests
// (go test -run and -skip; by default every test runs, TestTxnEtl against the transaction
// coordinator included), KGO_TEST_RECORDS the size of TestGroupETL (default 50000),
// KGO_TIMEOUT the suite's go test -timeout (default 30m; a test still running then counts as
// failed). The full output is kept in .run/kgo-suite.log.
func TestKgoSuite(t *testing.T) {
	if os.Getenv("KLASSIK_KGO_SUITE") != "1" {
		t.Skip("set KLASSIK_KGO_SUITE=1 (make kgo-suite) to run franz-go's integration tests")
	}
	c := NewCluster(t, Brokers(3),
		BrokerConfig("offsets.topic.replication.factor", 3),
		BrokerConfig("offsets.topic.num.partitions", 6),
		BrokerConfig("group.initial.rebalance.delay.ms", 100),
	)
	env := func(key, def string) string {
		if v := os.Getenv(key); v != "" {
			return v
		}
		return def
	}
	skip := os.Getenv("KGO_SKIP")
	args := []string{"test", "-count=1", "-v", "-timeout", env("KGO_TIMEOUT", "30m"),
		"-run", env("KGO_RUN", "."), "-skip", skip,
		"github.com/twmb/franz-go/pkg/kgo"}
	cmd := exec.Command("go", args...)
	cmd.Dir = ".." // the klassik module, whose go.mod pins franz-go
	cmd.Env = append(os.Environ(),
		"KGO_SEEDS="+c.BootstrapServers(),
		"KGO_TEST_RF=3",
		"KGO_TEST_RECORDS="+env("KGO_TEST_RECORDS", "50000"),
		"KGO_LOG_LEVEL="+env("KGO_LOG_LEVEL", "none"),
	)
	// The full output outlives the cluster's directory: .run/kgo-suite.log in the repository.
	if err := os.MkdirAll(filepath.Join("..", ".run"), 0o755); err != nil {
		t.Fatal(err)
	}
	logPath, err := filepath.Abs(filepath.Join("..", ".run", "kgo-suite.log"))
	if err != nil {
		t.Fatal(err)
	}
	out, err := os.Create(logPath)
	if err != nil {
		t.Fatal(err)
	}
	defer out.Close()
	pr, pw := io.Pipe()
	cmd.Stdout, cmd.Stderr = pw, pw
	start := time.Now()
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	waitErr := make(chan error, 1)
	go func() { err := cmd.Wait(); pw.Close(); waitErr <- err }()
	results := map[string][]string{}
	sc := bufio.NewScanner(pr)
	sc.Buffer(make([]byte, 1<<20), 1<<20)
	timedOut := false // after go test's "panic: test timed out": the tests still running are listed
	for sc.Scan() {
		line := sc.Text()
		fmt.Fprintln(out, line)
		f := strings.Fields(line)
		switch {
		case len(f) >= 3 && f[0] == "---" && !strings.Contains(f[2], "/"):
			results[strings.TrimSuffix(f[1], ":")] = append(results[strings.TrimSuffix(f[1], ":")], f[2]+" "+strings.Join(f[3:], " "))
		case strings.HasPrefix(line, "panic: test timed out"):
			timedOut = true
		case timedOut && strings.HasPrefix(line, "\t\t") && len(f) == 2 && strings.HasPrefix(f[0], "Test") && !strings.Contains(f[0], "/"):
			results["FAIL"] = append(results["FAIL"], f[0]+" (timed out after "+strings.Trim(f[1], "()")+")")
		case timedOut && line == "":
			timedOut = false
		}
	}
	err = <-waitErr
	for _, k := range []string{"PASS", "SKIP", "FAIL"} {
		t.Logf("kgo suite %s (%d): %s", k, len(results[k]), strings.Join(results[k], ", "))
	}
	t.Logf("kgo suite: go %s: %v in %v; full output in %s", strings.Join(args, " "), err, time.Since(start).Round(time.Second), out.Name())
	if err != nil {
		t.Errorf("franz-go's suite failed: %v", err)
	}
}
