package controller

import (
	"context"
	"errors"
	"slices"
	"testing"
	"time"

	"github.com/klassik/klassik/zkclient"
	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kmsg"
)

func st(leader, epoch int32, isr ...int32) zkclient.PartitionState {
	return zkclient.PartitionState{Leader: leader, LeaderEpoch: epoch, ControllerEpoch: 0, ISR: isr}
}

// threeBrokers: brokers 1, 2, 3 (epochs 11, 12, 13) and topic a:
// a-0 [2,3,1] led by 2, a-1 [3,2] led by 3, a-2 [2] led by 2.
func threeBrokers() *fakeZK {
	zk := newFakeZK()
	for _, id := range []int32{1, 2, 3} {
		zk.addBroker(id, int64(10+id))
	}
	zk.addTopic("a", map[int32][]int32{0: {2, 3, 1}, 1: {3, 2}, 2: {2}},
		map[int32]zkclient.PartitionState{0: st(2, 4, 2, 3, 1), 1: st(3, 1, 3, 2), 2: st(2, 0, 2)})
	return zk
}

func activeController(t *testing.T, zk *fakeZK, cfg Config) *harness {
	t.Helper()
	h := startController(t, zk, cfg)
	waitFor(t, "controller active", h.c.IsActive)
	h.sync()
	return h
}

func TestFailoverLoadsStateAndInformsBrokers(t *testing.T) {
	zk := newFakeZK()
	for _, id := range []int32{1, 2, 3} {
		zk.addBroker(id, int64(10+id))
	}
	zk.addTopic("a", map[int32][]int32{0: {1, 2, 3}, 1: {4, 2}},
		map[int32]zkclient.PartitionState{0: st(2, 3, 2, 3, 1), 1: st(4, 7, 4, 2)})
	zk.addTopic("b", map[int32][]int32{0: {4, 3, 1}}, nil)
	h := activeController(t, zk, Config{})

	if zk.epoch.Epoch != 1 || zk.controller != 1 {
		t.Fatalf("election: %+v %d", zk.epoch, zk.controller)
	}
	// a-1's leader 4 is not registered: offline election picks 2.
	if s, _ := zk.state("a", 1); s.Leader != 2 || s.LeaderEpoch != 8 || !slices.Equal(s.ISR, []int32{2}) || s.ControllerEpoch != 1 {
		t.Fatalf("a-1: %+v", s)
	}
	// b-0 had no state: first live replica leads, live replicas form the ISR.
	if s, _ := zk.state("b", 0); s.Leader != 3 || s.LeaderEpoch != 0 || !slices.Equal(s.ISR, []int32{3, 1}) {
		t.Fatalf("b-0: %+v", s)
	}
	// a-0 keeps its leader.
	if s, _ := zk.state("a", 0); s.Leader != 2 || s.LeaderEpoch != 3 {
		t.Fatalf("a-0: %+v", s)
	}
	for _, topic := range []string{"a", "b"} {
		if zk.topics[topic].TopicID == ([16]byte{}) {
			t.Fatalf("topic %s got no id", topic)
		}
	}
	// Every broker first hears UpdateMetadata with every partition, then LeaderAndIsr for
	// its replicas.
	for _, b := range []int32{1, 2, 3} {
		waitFor(t, "requests", func() bool { return len(h.send.requests(b)) >= 2 })
		reqs := h.send.requests(b)
		um, ok := reqs[0].(*kmsg.UpdateMetadataRequest)
		if !ok || len(um.LiveBrokers) != 3 || um.ControllerEpoch != 1 || um.BrokerEpoch != int64(10+b) {
			t.Fatalf("broker %d first request %#v", b, reqs[0])
		}
		if _, ok := umPartition(um, part("a", 0)); !ok {
			t.Fatalf("broker %d: UpdateMetadata lacks a-0", b)
		}
		h.waitLAI(b, part("a", 0), func(p kmsg.LeaderAndISRRequestTopicPartition) bool { return p.Leader == 2 })
	}
	h.waitLAI(2, part("a", 1), func(p kmsg.LeaderAndISRRequestTopicPartition) bool { return p.Leader == 2 && p.LeaderEpoch == 8 })
	h.waitLAI(3, part("b", 0), func(p kmsg.LeaderAndISRRequestTopicPartition) bool { return p.Leader == 3 && p.IsNew })
}

func TestBrokerFailureElectsAndShrinksIsr(t *testing.T) {
	zk := threeBrokers()
	h := activeController(t, zk, Config{})
	zk.removeBroker(2)
	h.enqueue(zkclient.EventBrokersChanged, "")

	if s, _ := zk.state("a", 0); s.Leader != 3 || s.LeaderEpoch != 5 || !slices.Equal(s.ISR, []int32{3, 1}) {
		t.Fatalf("a-0: %+v", s)
	}
	// follower 2 removed from the ISR, epoch bumped (ReplicaStateMachine OfflineReplica)
	if s, _ := zk.state("a", 1); s.Leader != 3 || s.LeaderEpoch != 2 || !slices.Equal(s.ISR, []int32{3}) {
		t.Fatalf("a-1: %+v", s)
	}
	// no other replica: leaderless, the last ISR kept
	if s, _ := zk.state("a", 2); s.Leader != -1 || s.LeaderEpoch != 1 || !slices.Equal(s.ISR, []int32{2}) {
		t.Fatalf("a-2: %+v", s)
	}
	h.waitLAI(3, part("a", 0), func(p kmsg.LeaderAndISRRequestTopicPartition) bool { return p.Leader == 3 && p.LeaderEpoch == 5 })
	h.waitLAI(1, part("a", 0), func(p kmsg.LeaderAndISRRequestTopicPartition) bool { return p.Leader == 3 })
	h.waitUM(1, func(um *kmsg.UpdateMetadataRequest) bool {
		p, ok := umPartition(um, part("a", 2))
		return ok && p.Leader == -1 && slices.Equal(p.OfflineReplicas, []int32{2}) && len(um.LiveBrokers) == 2
	})
}

func TestUncleanElectionFromTopicConfig(t *testing.T) {
	zk := threeBrokers()
	zk.configs["a"] = map[string]string{"unclean.leader.election.enable": "true"}
	zk.addTopic("c", map[int32][]int32{0: {2, 1}}, map[int32]zkclient.PartitionState{0: st(2, 0, 2)})
	h := activeController(t, zk, Config{})
	zk.removeBroker(2)
	h.enqueue(zkclient.EventBrokersChanged, "")
	// a-2 has no other replica at all: stays offline even with unclean election.
	if s, _ := zk.state("a", 2); s.Leader != -1 {
		t.Fatalf("a-2: %+v", s)
	}
	// c-0 (broker default: no unclean election): 1 is out of the ISR.
	if s, _ := zk.state("c", 0); s.Leader != -1 || !slices.Equal(s.ISR, []int32{2}) {
		t.Fatalf("c-0: %+v", s)
	}
	zk.configs["c"] = map[string]string{"unclean.leader.election.enable": "true"}
	h.enqueue(zkclient.EventConfigChanged, "")
	if s, _ := zk.state("c", 0); s.Leader != 1 || !slices.Equal(s.ISR, []int32{1}) || s.LeaderEpoch != 2 {
		t.Fatalf("c-0 after unclean: %+v", s)
	}
}

func TestBouncedBrokerIsFailedThenStarted(t *testing.T) {
	zk := threeBrokers()
	h := activeController(t, zk, Config{})
	waitFor(t, "failover requests", func() bool { return len(h.send.requests(2)) >= 3 })
	zk.addBroker(2, 99) // re-registered with a new czxid before the controller saw it go
	h.enqueue(zkclient.EventBrokersChanged, "")

	if s, _ := zk.state("a", 0); s.Leader != 3 || s.LeaderEpoch != 5 {
		t.Fatalf("a-0: %+v", s)
	}
	// a-2: leaderless on failure, then led by 2 again on startup.
	if s, _ := zk.state("a", 2); s.Leader != 2 || s.LeaderEpoch != 2 || !slices.Equal(s.ISR, []int32{2}) {
		t.Fatalf("a-2: %+v", s)
	}
	// The new incarnation's requests carry its new epoch.
	h.waitLAI(2, part("a", 0), func(p kmsg.LeaderAndISRRequestTopicPartition) bool { return p.Leader == 3 })
	for _, r := range h.send.requests(2)[len(h.send.requests(2))-1:] {
		if lai, ok := r.(*kmsg.LeaderAndISRRequest); ok && lai.BrokerEpoch != 99 {
			t.Fatalf("broker epoch %d", lai.BrokerEpoch)
		}
	}
}

func TestNewBrokerGetsMetadataAndReplicas(t *testing.T) {
	zk := threeBrokers()
	zk.removeBroker(2)
	h := activeController(t, zk, Config{})
	// A new controller takes the replicas of unregistered brokers offline, as Kafka's
	// ReplicaStateMachine.startup does: a-2's only ISR member is gone, so it has no leader
	// (and keeps broker 2 as its last ISR member).
	if s, _ := zk.state("a", 2); s.Leader != -1 || !slices.Equal(s.ISR, []int32{2}) || s.LeaderEpoch != 1 {
		t.Fatalf("a-2 before: %+v, want leader -1, ISR [2], leader epoch 1", s)
	}
	zk.addBroker(2, 50)
	h.enqueue(zkclient.EventBrokersChanged, "")
	// the returning broker leads a-2 again
	if s, _ := zk.state("a", 2); s.Leader != 2 || s.LeaderEpoch != 2 {
		t.Fatalf("a-2: %+v", s)
	}
	waitFor(t, "requests to 2", func() bool { return len(h.send.requests(2)) >= 3 })
	reqs := h.send.requests(2)
	um, ok := reqs[0].(*kmsg.UpdateMetadataRequest)
	if !ok || len(um.TopicStates) == 0 {
		t.Fatalf("first request to the new broker: %#v", reqs[0])
	}
	h.waitLAI(2, part("a", 1), func(p kmsg.LeaderAndISRRequestTopicPartition) bool { return p.Leader == 3 })
	h.waitUM(1, func(um *kmsg.UpdateMetadataRequest) bool { return len(um.LiveBrokers) == 3 })
}

func TestNewTopicAndPartitions(t *testing.T) {
	zk := threeBrokers()
	h := activeController(t, zk, Config{})
	zk.addTopic("n", map[int32][]int32{0: {1, 2}, 1: {2, 3}}, nil)
	h.enqueue(zkclient.EventTopicsChanged, "")
	if s, ok := zk.state("n", 1); !ok || s.Leader != 2 || !slices.Equal(s.ISR, []int32{2, 3}) || s.ControllerEpoch != 1 {
		t.Fatalf("n-1: %+v", s)
	}
	if zk.topics["n"].TopicID == ([16]byte{}) {
		t.Fatal("no topic id")
	}
	h.waitLAI(3, part("n", 1), func(p kmsg.LeaderAndISRRequestTopicPartition) bool { return p.IsNew && p.Leader == 2 })
	h.waitUM(1, func(um *kmsg.UpdateMetadataRequest) bool {
		_, ok := umPartition(um, part("n", 1))
		return ok && um.TopicStates[len(um.TopicStates)-1].TopicID == zk.topics["n"].TopicID
	})

	a := zk.topics["n"]
	a.Partitions[2] = []int32{3, 1}
	zk.topics["n"] = a
	h.enqueue(zkclient.EventPartitionsChanged, "n")
	if s, ok := zk.state("n", 2); !ok || s.Leader != 3 {
		t.Fatalf("n-2: %+v", s)
	}
	h.waitLAI(1, part("n", 2), func(p kmsg.LeaderAndISRRequestTopicPartition) bool { return p.IsNew })
}

func TestTopicDeletion(t *testing.T) {
	zk := threeBrokers()
	h := activeController(t, zk, Config{DeleteTopicEnable: true})
	zk.deletions["a"] = true
	h.enqueue(zkclient.EventTopicDeletionsChanged, "")
	if _, ok := zk.topics["a"]; ok {
		t.Fatal("topic znodes not removed")
	}
	if _, ok := zk.state("a", 0); ok {
		t.Fatal("state znodes not removed")
	}
	waitFor(t, "StopReplica", func() bool {
		reqs := h.send.requests(3)
		if len(reqs) < 2 {
			return false
		}
		um, ok1 := reqs[len(reqs)-2].(*kmsg.UpdateMetadataRequest)
		sr, ok2 := reqs[len(reqs)-1].(*kmsg.StopReplicaRequest)
		if !ok1 || !ok2 {
			return false
		}
		p, _ := umPartition(um, part("a", 0))
		return p.Leader == -2 && len(sr.Topics) == 1 && len(sr.Topics[0].PartitionStates) == 2 &&
			sr.Topics[0].PartitionStates[0].Delete && sr.Topics[0].PartitionStates[0].LeaderEpoch == -2
	})
	ctx := context.Background()
	codes, _ := h.c.ElectLeaders(ctx, ElectPreferred, []tp{part("a", 0)})
	if codes[part("a", 0)] != kerr.UnknownTopicOrPartition.Code {
		t.Fatalf("deleted topic still known: %v", codes)
	}
}

func TestTopicDeletionDisabled(t *testing.T) {
	zk := threeBrokers()
	h := activeController(t, zk, Config{DeleteTopicEnable: false})
	zk.deletions["a"] = true
	zk.deletions["ghost"] = true
	h.enqueue(zkclient.EventTopicDeletionsChanged, "")
	if _, ok := zk.topics["a"]; !ok {
		t.Fatal("topic deleted although delete.topic.enable is false")
	}
	if len(zk.deletions) != 0 || !slices.Contains(zk.markersGone, "a") || !slices.Contains(zk.markersGone, "ghost") {
		t.Fatalf("markers: %v %v", zk.deletions, zk.markersGone)
	}
}

func TestControlledShutdown(t *testing.T) {
	zk := threeBrokers()
	h := activeController(t, zk, Config{})
	ctx := context.Background()
	if _, err := h.c.ControlledShutdown(ctx, 2, 5); !errors.Is(err, ErrStaleBrokerEpoch) {
		t.Fatalf("stale epoch: %v", err)
	}
	if _, err := h.c.ControlledShutdown(ctx, 7, 5); !errors.Is(err, ErrBrokerNotAvailable) {
		t.Fatalf("unknown broker: %v", err)
	}
	remaining, err := h.c.ControlledShutdown(ctx, 2, 12)
	if err != nil {
		t.Fatal(err)
	}
	// a-2 has one replica: it stays on 2 but is not reported as remaining, as Kafka's
	// replicatedPartitionsBrokerLeads leaves single-replica partitions out.
	if len(remaining) != 0 {
		t.Fatalf("remaining %v", remaining)
	}
	if s, _ := zk.state("a", 0); s.Leader != 3 || !slices.Equal(s.ISR, []int32{3, 1}) || s.LeaderEpoch != 5 {
		t.Fatalf("a-0: %+v", s)
	}
	if s, _ := zk.state("a", 1); s.Leader != 3 || !slices.Equal(s.ISR, []int32{3}) || s.LeaderEpoch != 2 {
		t.Fatalf("a-1: %+v", s)
	}
	// 2 is told: become follower of a-0, stop replicating a-1 (without deleting it).
	h.waitLAI(2, part("a", 0), func(p kmsg.LeaderAndISRRequestTopicPartition) bool { return p.Leader == 3 })
	waitFor(t, "StopReplica to 2", func() bool {
		for _, r := range h.send.requests(2) {
			if sr, ok := r.(*kmsg.StopReplicaRequest); ok && sr.Topics[0].PartitionStates[0].Partition == 1 && !sr.Topics[0].PartitionStates[0].Delete {
				return true
			}
		}
		return false
	})
	// A retry finds nothing more to move.
	remaining, err = h.c.ControlledShutdown(ctx, 2, 12)
	if err != nil || len(remaining) != 0 {
		t.Fatal(remaining, err)
	}
}

func TestElectLeaders(t *testing.T) {
	zk := threeBrokers()
	zk.addTopic("p", map[int32][]int32{0: {1, 2, 3}, 1: {1, 2}, 2: {4, 3}},
		map[int32]zkclient.PartitionState{0: st(2, 3, 2, 3, 1), 1: st(2, 3, 2), 2: st(-1, 3, 4)})
	h := activeController(t, zk, Config{})
	ctx := context.Background()
	codes, err := h.c.ElectLeaders(ctx, ElectPreferred, []tp{part("p", 0), part("p", 1), part("a", 1), part("zz", 0)})
	if err != nil {
		t.Fatal(err)
	}
	want := map[tp]int16{
		part("p", 0):  0,
		part("p", 1):  kerr.PreferredLeaderNotAvailable.Code, // 1 is not in the ISR
		part("a", 1):  kerr.ElectionNotNeeded.Code,
		part("zz", 0): kerr.UnknownTopicOrPartition.Code,
	}
	for p, c := range want {
		if codes[p] != c {
			t.Fatalf("%v: code %d, want %d (%v)", p, codes[p], c, codes)
		}
	}
	if s, _ := zk.state("p", 0); s.Leader != 1 || s.LeaderEpoch != 4 {
		t.Fatalf("p-0: %+v", s)
	}
	codes, _ = h.c.ElectLeaders(ctx, ElectUnclean, []tp{part("p", 2), part("p", 0)})
	if codes[part("p", 2)] != 0 || codes[part("p", 0)] != kerr.ElectionNotNeeded.Code {
		t.Fatalf("unclean codes %v", codes)
	}
	if s, _ := zk.state("p", 2); s.Leader != 3 || !slices.Equal(s.ISR, []int32{3}) {
		t.Fatalf("p-2: %+v", s)
	}
}

func TestAutoRebalance(t *testing.T) {
	zk := threeBrokers()
	zk.addTopic("r", map[int32][]int32{0: {1, 2}, 1: {1, 2}}, map[int32]zkclient.PartitionState{0: st(2, 0, 2, 1), 1: st(1, 0, 1, 2)})
	h := activeController(t, zk, Config{AutoLeaderRebalanceEnable: true})
	h.c.push(rebalanceEvent{})
	h.sync()
	if s, _ := zk.state("r", 0); s.Leader != 1 || s.LeaderEpoch != 1 {
		t.Fatalf("r-0: %+v", s)
	}
	// a-0 (preferred 2) is led by 2: untouched.
	if s, _ := zk.state("a", 0); s.LeaderEpoch != 4 {
		t.Fatalf("a-0: %+v", s)
	}
}

func TestIsrChangeNotification(t *testing.T) {
	zk := threeBrokers()
	h := activeController(t, zk, Config{})
	zk.mu.Lock()
	s := zk.states[part("a", 0)]
	s.ISR = []int32{2}
	s.ZkVersion++
	zk.states[part("a", 0)] = s
	zk.isrNotes = []tp{part("a", 0), part("gone", 3)}
	zk.mu.Unlock()
	h.enqueue(zkclient.EventIsrChangeNotification, "")
	h.waitUM(1, func(um *kmsg.UpdateMetadataRequest) bool {
		p, ok := umPartition(um, part("a", 0))
		return ok && slices.Equal(p.ISR, []int32{2}) && p.ZKVersion == 1
	})
}

// A leader changed the ISR between the controller's read and write: the controller re-reads
// and decides again (PartitionStateMachine's updatesToRetry).
func TestBadVersionRetry(t *testing.T) {
	zk := threeBrokers()
	h := activeController(t, zk, Config{})
	zk.mu.Lock()
	zk.badVersion[part("a", 0)] = func(s *zkclient.PartitionState) { s.ISR = []int32{2, 1} }
	zk.mu.Unlock()
	zk.removeBroker(2)
	h.enqueue(zkclient.EventBrokersChanged, "")
	if s, _ := zk.state("a", 0); s.Leader != 1 || !slices.Equal(s.ISR, []int32{1}) || s.LeaderEpoch != 5 {
		t.Fatalf("a-0: %+v", s)
	}
}

func TestResignOnNotController(t *testing.T) {
	zk := threeBrokers()
	h := activeController(t, zk, Config{})
	zk.steal(9)
	zk.removeBroker(2)
	h.enqueue(zkclient.EventBrokersChanged, "")
	if h.c.IsActive() {
		t.Fatal("still active after the epoch moved")
	}
	if zk.resigned != 0 || zk.controller != 9 {
		t.Fatal("must not touch the new controller's /controller")
	}
	if _, err := h.c.ControlledShutdown(context.Background(), 3, 13); !errors.Is(err, ErrNotActive) {
		t.Fatalf("got %v", err)
	}
	codes, err := h.c.ElectLeaders(context.Background(), ElectPreferred, []tp{part("a", 0)})
	if !errors.Is(err, ErrNotActive) || codes[part("a", 0)] != kerr.NotController.Code {
		t.Fatal(codes, err)
	}
}

func TestElectionLifecycle(t *testing.T) {
	zk := threeBrokers()
	zk.controller = 3 // someone else holds /controller
	h := startController(t, zk, Config{})
	h.sync()
	if h.c.IsActive() {
		t.Fatal("active while another broker is controller")
	}
	// the other controller's session ended
	zk.mu.Lock()
	zk.controller = -1
	zk.mu.Unlock()
	h.enqueue(zkclient.EventControllerChanged, "")
	if !h.c.IsActive() || zk.controller != 1 {
		t.Fatal("did not take over")
	}
	// our session expired: resign at once; a new session elects again
	h.enqueue(zkclient.EventSessionExpired, "")
	if h.c.IsActive() {
		t.Fatal("active after session expiry")
	}
	zk.mu.Lock()
	zk.controller = -1 // the ephemeral went with the session
	zk.mu.Unlock()
	h.enqueue(zkclient.EventSessionEstablished, "")
	if !h.c.IsActive() || zk.epoch.Epoch != 2 {
		t.Fatalf("not re-elected: epoch %d", zk.epoch.Epoch)
	}
	// someone else took /controller
	zk.steal(3)
	h.enqueue(zkclient.EventControllerChanged, "")
	if h.c.IsActive() {
		t.Fatal("did not resign")
	}
}

// Requests to one broker arrive in order even when sends fail and are retried; a broker
// that is removed stops receiving.
func TestChannelManagerOrderAndRetry(t *testing.T) {
	send := newFakeSender()
	fails := 0
	send.fail = func(b int32, _ kmsg.Request) bool {
		if b == 2 && fails < 5 {
			fails++
			return true
		}
		return false
	}
	m := newChannelManager(send, testLogger(t), time.Millisecond)
	m.addBroker(zkclient.BrokerInfo{ID: 1})
	m.addBroker(zkclient.BrokerInfo{ID: 2})
	for i := range int32(20) {
		for _, b := range []int32{1, 2} {
			r := kmsg.NewPtrUpdateMetadataRequest()
			r.ControllerEpoch = i
			m.enqueue(outRequest{Broker: b, Req: r})
		}
	}
	for _, b := range []int32{1, 2} {
		waitFor(t, "delivery", func() bool { return len(send.requests(b)) == 20 })
		for i, r := range send.requests(b) {
			if r.(*kmsg.UpdateMetadataRequest).ControllerEpoch != int32(i) {
				t.Fatalf("broker %d: request %d out of order", b, i)
			}
		}
	}
	if fails != 5 {
		t.Fatalf("fails %d", fails)
	}
	// A broker that never answers does not hold up the others, and removal ends its sender.
	send.mu.Lock()
	send.fail = func(b int32, _ kmsg.Request) bool { return b == 1 }
	send.mu.Unlock()
	m.enqueue(outRequest{Broker: 1, Req: kmsg.NewPtrUpdateMetadataRequest()})
	m.enqueue(outRequest{Broker: 2, Req: kmsg.NewPtrUpdateMetadataRequest()})
	waitFor(t, "broker 2 unaffected", func() bool { return len(send.requests(2)) == 21 })
	m.removeBroker(1)
	m.enqueue(outRequest{Broker: 1, Req: kmsg.NewPtrUpdateMetadataRequest()}) // dropped
	m.shutdown()
	if len(send.requests(1)) != 20 {
		t.Fatal("removed broker received requests")
	}
}
