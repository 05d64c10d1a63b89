package integration

// Consumer groups of clients other than franz-go against three brokers (issue 5): sarama,
// segmentio/kafka-go, confluent-kafka-python (librdkafka) and kafka-python each implement
// Kafka's classic consumer protocol on their own, with their own JoinGroup, SyncGroup,
// Heartbeat and OffsetCommit versions and their own assignors.

import (
	"context"
	"errors"
	"fmt"
	"path/filepath"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/IBM/sarama"
	"github.com/segmentio/kafka-go"
	"github.com/twmb/franz-go/pkg/kadm"
)

// waitGroupStable waits until the coordinator describes group as Stable with members members
// whose assignments split all partitions of topic, each one owned once (DescribeGroups, what
// kafka-consumer-groups.sh --describe --members shows).
func waitGroupStable(t testing.TB, c *Cluster, adm *kadm.Client, group, topic string, members, partitions int) {
	t.Helper()
	c.eventuallyT(t, 90*time.Second, func() error {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		gs, err := adm.DescribeGroups(ctx, group)
		if err != nil {
			return err
		}
		g := gs[group]
		if g.Err != nil {
			return g.Err
		}
		if g.State != "Stable" || len(g.Members) != members {
			return fmt.Errorf("group %s is %s with %d members, want Stable with %d", group, g.State, len(g.Members), members)
		}
		owned := map[int32]string{}
		for _, m := range g.Members {
			a, ok := m.Assigned.AsConsumer()
			if !ok {
				return fmt.Errorf("member %s has no consumer assignment", m.MemberID)
			}
			for _, at := range a.Topics {
				if at.Topic != topic {
					continue
				}
				for _, p := range at.Partitions {
					if o, dup := owned[p]; dup {
						return fmt.Errorf("partition %d assigned to %s and %s", p, o, m.MemberID)
					}
					owned[p] = m.MemberID
				}
			}
		}
		if len(owned) != partitions {
			return fmt.Errorf("%d of %d partitions assigned", len(owned), partitions)
		}
		return nil
	})
}

// recorder is a groupMember whose assignment the test reads from the coordinator
// (waitGroupStable): it only records what it consumed.
type recorder struct {
	name string
	mu   sync.Mutex
	recs []partOff
}

func (r *recorder) Name() string      { return r.name }
func (r *recorder) Assigned() []int32 { return nil }
func (r *recorder) Consumed() []partOff {
	r.mu.Lock()
	defer r.mu.Unlock()
	return slices.Clone(r.recs)
}
func (r *recorder) add(p int32, o int64) {
	r.mu.Lock()
	r.recs = append(r.recs, partOff{p, o})
	r.mu.Unlock()
}

// saramaHandler is a sarama ConsumerGroupHandler that marks every message it records.
type saramaHandler struct{ *recorder }

func (saramaHandler) Setup(sarama.ConsumerGroupSession) error   { return nil }
func (saramaHandler) Cleanup(sarama.ConsumerGroupSession) error { return nil }
func (h saramaHandler) ConsumeClaim(s sarama.ConsumerGroupSession, claim sarama.ConsumerGroupClaim) error {
	for m := range claim.Messages() {
		h.add(m.Partition, m.Offset)
		s.MarkMessage(m, "")
	}
	return nil
}

// startSaramaMember runs a sarama ConsumerGroup member (range assignor, offsets committed
// every 200 ms and on rebalance and close). stop commits and leaves the group.
func startSaramaMember(t testing.TB, c *Cluster, name, group, topic string) (*recorder, func()) {
	t.Helper()
	cfg := sarama.NewConfig()
	cfg.Version = sarama.V3_6_0_0
	cfg.ClientID = name
	cfg.Consumer.Return.Errors = false
	cfg.Consumer.Offsets.Initial = sarama.OffsetOldest
	cfg.Consumer.Offsets.AutoCommit.Interval = 200 * time.Millisecond
	cfg.Consumer.Group.Session.Timeout = groupSession
	cfg.Consumer.Group.Heartbeat.Interval = 500 * time.Millisecond
	cfg.Consumer.Group.Rebalance.GroupStrategies = []sarama.BalanceStrategy{sarama.NewBalanceStrategyRange()}
	cfg.Consumer.MaxWaitTime = 200 * time.Millisecond
	cg, err := sarama.NewConsumerGroup(c.Bootstrap(), group, cfg)
	if err != nil {
		t.Fatalf("sarama: %v", err)
	}
	r := &recorder{name: name}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() {
		defer close(done)
		for ctx.Err() == nil {
			// Consume returns at every rebalance; it is called again to rejoin.
			if err := cg.Consume(ctx, []string{topic}, saramaHandler{r}); err != nil && !errors.Is(err, sarama.ErrClosedConsumerGroup) {
				fmt.Fprintf(c.clientLog, "%s: %v\n", name, err)
				waitTick(100 * time.Millisecond)
			}
		}
	}()
	var once sync.Once
	stop := func() {
		once.Do(func() {
			cancel()
			<-done
			if err := cg.Close(); err != nil {
				t.Errorf("%s: close: %v", name, err)
			}
		})
	}
	t.Cleanup(stop)
	return r, stop
}

// startKafkaGoMember runs a segmentio/kafka-go Reader with a GroupID (its default range
// assignor first), committing every message synchronously (CommitInterval 0) before it
// counts it. stop closes the reader, which leaves the group.
func startKafkaGoMember(t testing.TB, c *Cluster, name, group, topic string) (*recorder, func()) {
	t.Helper()
	rd := kafka.NewReader(kafka.ReaderConfig{
		Brokers:           c.Bootstrap(),
		GroupID:           group,
		Topic:             topic,
		Dialer:            &kafka.Dialer{ClientID: name, Timeout: 10 * time.Second},
		SessionTimeout:    groupSession,
		HeartbeatInterval: 500 * time.Millisecond,
		RebalanceTimeout:  10 * time.Second,
		JoinGroupBackoff:  200 * time.Millisecond,
		StartOffset:       kafka.FirstOffset,
		MaxWait:           200 * time.Millisecond,
		CommitInterval:    0,
		ErrorLogger:       kafka.LoggerFunc(func(f string, a ...any) { fmt.Fprintf(c.clientLog, name+": "+f+"\n", a...) }),
	})
	r := &recorder{name: name}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() {
		defer close(done)
		for ctx.Err() == nil {
			m, err := rd.FetchMessage(ctx)
			if err != nil {
				continue
			}
			if err := rd.CommitMessages(ctx, m); err != nil {
				continue // not committed: whoever owns the partition next reads it again
			}
			r.add(int32(m.Partition), m.Offset)
		}
	}()
	var once sync.Once
	stop := func() {
		once.Do(func() {
			cancel()
			<-done
			if err := rd.Close(); err != nil {
				t.Errorf("%s: close: %v", name, err)
			}
		})
	}
	t.Cleanup(stop)
	return r, stop
}

// TestConsumerGroupsOtherClients: a group of three members of each client splits a
// 6-partition topic, every record is consumed by exactly one member, and the offsets they
// commit are the partitions' ends (Kafka's consumer protocol, range assignor). With the
// Python clients a member that dies (SIGKILL, no LeaveGroup) is removed when its session
// times out and the other two take its partitions.
func TestConsumerGroupsOtherClients(t *testing.T) {
	c := newGroupCluster(t)
	adm := c.Admin(t)
	const n = 600

	goClients := []struct {
		name  string
		start func(testing.TB, *Cluster, string, string, string) (*recorder, func())
	}{
		{"sarama", startSaramaMember},
		{"kafka-go", startKafkaGoMember},
	}
	for _, gc := range goClients {
		t.Run(gc.name, func(t *testing.T) {
			topic := topicName(t, "group")
			group := topic + "-g"
			c.CreateTopic(t, topic, groupPartitions, 3, nil)
			var ms []groupMember
			var stops []func()
			for i := range 3 {
				r, stop := gc.start(t, c, fmt.Sprintf("%s-%d", gc.name, i), group, topic)
				ms, stops = append(ms, r), append(stops, stop)
			}
			waitGroupStable(t, c, adm, group, topic, 3, groupPartitions)
			ends := produceSpread(t, c, topic, n, groupPartitions)
			waitConsumedOnce(t, c, 60*time.Second, n, ends, ms...)
			// sarama commits on an interval: give it one before it closes.
			waitCommitted(t, c, group, topic, ends)
			for _, stop := range stops {
				stop()
			}
			c.eventuallyT(t, 30*time.Second, func() error {
				ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
				defer cancel()
				gs, err := adm.DescribeGroups(ctx, group)
				if err != nil {
					return err
				}
				if g := gs[group]; g.State != "Empty" {
					return fmt.Errorf("group %s is %s with %d members after every member closed, want Empty", group, g.State, len(g.Members))
				}
				return nil
			})
			waitCommitted(t, c, group, topic, ends)
		})
	}

	for _, script := range []string{"confluent_group.py", "kafkapython_group.py"} {
		t.Run(script, func(t *testing.T) {
			topic := topicName(t, "group")
			group := topic + "-g"
			c.CreateTopic(t, topic, groupPartitions, 3, nil)
			path, err := filepath.Abs(filepath.Join("testdata", script))
			if err != nil {
				t.Fatal(err)
			}
			var ms []*procMember
			var members []groupMember
			for i := range 3 {
				m := startProcMember(t, c, fmt.Sprintf("%s-%d", script, i), nil,
					"/usr/bin/python3", path, c.BootstrapServers(), group, topic, fmt.Sprint(groupSession.Milliseconds()))
				ms, members = append(ms, m), append(members, m)
			}
			waitBalanced(t, c, 90*time.Second, groupPartitions, members...)
			waitGroupStable(t, c, adm, group, topic, 3, groupPartitions)
			ends := produceSpread(t, c, topic, n, groupPartitions)
			waitConsumedOnce(t, c, 60*time.Second, n, ends, members...)

			ms[2].kill(t)
			killed := time.Now()
			waitBalanced(t, c, groupSession+20*time.Second, groupPartitions, ms[0], ms[1])
			t.Logf("%s member killed (SIGKILL): the other two own all partitions %v later (session timeout %v)",
				script, time.Since(killed).Round(time.Millisecond), groupSession)

			ends = produceSpread(t, c, topic, n, groupPartitions)
			waitConsumedOnce(t, c, 60*time.Second, 2*n, ends, members...)
			for _, m := range ms[:2] {
				m.stop(t, 30*time.Second)
			}
			waitCommitted(t, c, group, topic, ends)
		})
	}
}
