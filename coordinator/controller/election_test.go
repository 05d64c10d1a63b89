package controller

import (
	"errors"
	"slices"
	"testing"

	"github.com/klassik/klassik/zkclient"
	"github.com/twmb/franz-go/pkg/kmsg"
)

// testState builds a cluster state: live brokers with epoch 100+id, one topic "t" with the
// given assignment, and partition states.
func testState(live []int32, assignment map[int32][]int32, states map[int32]zkclient.PartitionState) *clusterState {
	s := newClusterState(1, zkclient.ControllerEpoch{Epoch: 7, ZkVersion: 6})
	for _, id := range live {
		s.brokers[id] = zkclient.BrokerInfo{ID: id, Epoch: int64(100 + id), Host: "h", Port: 9000 + id,
			Endpoints: []zkclient.Endpoint{{ListenerName: "PLAINTEXT", SecurityProtocol: "PLAINTEXT", Host: "h", Port: 9000 + id}}}
	}
	s.topics["t"] = &topicInfo{id: [16]byte{1}, replicas: assignment}
	for p, st := range states {
		s.leadership[tp{Topic: "t", Partition: p}] = st
	}
	return s
}

func ps(leader, epoch int32, isr ...int32) zkclient.PartitionState {
	return zkclient.PartitionState{Leader: leader, LeaderEpoch: epoch, ControllerEpoch: 6, ISR: isr, ZkVersion: 3}
}

var t0 = tp{Topic: "t", Partition: 0}

func never(string) bool { return false }

func TestOfflineLeaderAlgorithm(t *testing.T) {
	live := func(ids ...int32) func(int32) bool { return func(b int32) bool { return slices.Contains(ids, b) } }
	cases := []struct {
		assignment, isr []int32
		live            func(int32) bool
		unclean         bool
		want            int32
		wantUnclean, ok bool
	}{
		// assignment order wins over ISR order
		{[]int32{3, 1, 2}, []int32{1, 2, 3}, live(1, 2, 3), false, 3, false, true},
		{[]int32{3, 1, 2}, []int32{1, 2}, live(1, 2, 3), false, 1, false, true},
		// a live replica outside the ISR is not eligible...
		{[]int32{1, 2}, []int32{2}, live(1), false, -1, false, false},
		// ...unless unclean election is enabled
		{[]int32{1, 2}, []int32{2}, live(1), true, 1, true, true},
		{[]int32{1, 2}, []int32{2}, live(), true, -1, false, false},
	}
	for i, c := range cases {
		got, unclean, ok := offlineLeader(c.assignment, c.isr, c.live, c.unclean)
		if got != c.want || unclean != c.wantUnclean || ok != c.ok {
			t.Errorf("case %d: got %d %v %v", i, got, unclean, ok)
		}
	}
}

func TestDecideOfflineElection(t *testing.T) {
	// Broker 2 (the leader) died; 3 is the first live ISR member in assignment order.
	s := testState([]int32{1, 3}, map[int32][]int32{0: {2, 3, 1}}, map[int32]zkclient.PartitionState{0: ps(2, 4, 2, 1, 3)})
	ch, err := s.decideElection(t0, offlineElection, never)
	if err != nil {
		t.Fatal(err)
	}
	want := zkclient.PartitionState{Leader: 3, LeaderEpoch: 5, ControllerEpoch: 7, ISR: []int32{1, 3}, ZkVersion: 3}
	if !stateEqual(ch.New, want) || !slices.Equal(ch.Recipients, []int32{3, 1}) || ch.Unclean {
		t.Fatalf("got %+v", ch)
	}
}

func TestDecideUncleanElection(t *testing.T) {
	// Only broker 2 was in the ISR and it is dead; 3 and 1 are alive but out of sync.
	s := testState([]int32{1, 3}, map[int32][]int32{0: {2, 3, 1}}, map[int32]zkclient.PartitionState{0: ps(2, 4, 2)})
	if _, err := s.decideElection(t0, offlineElection, never); !errors.Is(err, errNoEligibleLeader) {
		t.Fatalf("unclean disabled: got %v", err)
	}
	asked := ""
	ch, err := s.decideElection(t0, offlineElection, func(topic string) bool { asked = topic; return true })
	if err != nil || asked != "t" {
		t.Fatal(err, asked)
	}
	if ch.New.Leader != 3 || !slices.Equal(ch.New.ISR, []int32{3}) || ch.New.LeaderEpoch != 5 || !ch.Unclean {
		t.Fatalf("got %+v", ch.New)
	}
	// The admin's UNCLEAN election does not need the topic config.
	ch, err = s.decideElection(t0, offlineElectionAllowUnclean, never)
	if err != nil || ch.New.Leader != 3 {
		t.Fatal(ch, err)
	}
	// With a live ISR member the config is never consulted.
	s2 := testState([]int32{1, 3}, map[int32][]int32{0: {2, 3, 1}}, map[int32]zkclient.PartitionState{0: ps(2, 4, 2, 1)})
	ch, err = s2.decideElection(t0, offlineElection, func(string) bool { t.Fatal("config read"); return false })
	if err != nil || ch.New.Leader != 1 || !slices.Equal(ch.New.ISR, []int32{1}) {
		t.Fatal(ch, err)
	}
}

func TestDecideRemoveReplica(t *testing.T) {
	s := testState([]int32{1, 3}, map[int32][]int32{0: {1, 2, 3}, 1: {2, 3}, 2: {2}, 3: {1, 3, 2}},
		map[int32]zkclient.PartitionState{0: ps(1, 4, 1, 2, 3), 1: ps(2, 9, 2, 3), 2: ps(2, 1, 2), 3: ps(1, 2, 1, 3)})
	// follower 2 leaves the ISR; epoch bumped
	ch, err := s.decideRemoveReplica(part("t", 0), 2)
	if err != nil || ch.NoWrite || ch.New.Leader != 1 || !slices.Equal(ch.New.ISR, []int32{1, 3}) || ch.New.LeaderEpoch != 5 ||
		!slices.Equal(ch.Recipients, []int32{1, 3}) {
		t.Fatalf("follower: %+v %v", ch, err)
	}
	// leader 2 leaves: no leader
	ch, _ = s.decideRemoveReplica(part("t", 1), 2)
	if ch.New.Leader != noLeader || !slices.Equal(ch.New.ISR, []int32{3}) || ch.New.LeaderEpoch != 10 {
		t.Fatalf("leader: %+v", ch.New)
	}
	// the last ISR member stays in the ISR
	ch, _ = s.decideRemoveReplica(part("t", 2), 2)
	if ch.New.Leader != noLeader || !slices.Equal(ch.New.ISR, []int32{2}) || ch.New.LeaderEpoch != 2 {
		t.Fatalf("last isr: %+v", ch.New)
	}
	// not in the ISR: nothing to write
	ch, _ = s.decideRemoveReplica(part("t", 3), 2)
	if !ch.NoWrite || ch.New.LeaderEpoch != 2 {
		t.Fatalf("not in isr: %+v", ch)
	}
}

func TestDecideControlledShutdown(t *testing.T) {
	s := testState([]int32{1, 2, 3}, map[int32][]int32{0: {1, 2, 3}}, map[int32]zkclient.PartitionState{0: ps(1, 4, 1, 3)})
	s.shuttingDown[1] = true
	ch, err := s.decideElection(t0, controlledShutdownElection, nil)
	if err != nil || ch.New.Leader != 3 || !slices.Equal(ch.New.ISR, []int32{3}) || ch.New.LeaderEpoch != 5 ||
		!slices.Equal(ch.Recipients, []int32{1, 2, 3}) {
		t.Fatalf("got %+v %v", ch, err)
	}
	// No other ISR member: leadership stays.
	s.leadership[t0] = ps(1, 4, 1)
	if _, err := s.decideElection(t0, controlledShutdownElection, nil); !errors.Is(err, errNoEligibleLeader) {
		t.Fatal(err)
	}
}

func TestDecidePreferredElection(t *testing.T) {
	s := testState([]int32{1, 2, 3}, map[int32][]int32{0: {1, 2, 3}}, map[int32]zkclient.PartitionState{0: ps(2, 4, 2, 3)})
	if _, err := s.decideElection(t0, preferredElection, nil); !errors.Is(err, errNoEligibleLeader) {
		t.Fatal("preferred replica out of the ISR must not lead", err)
	}
	s.leadership[t0] = ps(2, 4, 2, 3, 1)
	ch, err := s.decideElection(t0, preferredElection, nil)
	if err != nil || ch.New.Leader != 1 || !slices.Equal(ch.New.ISR, []int32{2, 3, 1}) || ch.New.LeaderEpoch != 5 {
		t.Fatal(ch, err)
	}
}

func TestDecideNewPartition(t *testing.T) {
	s := testState([]int32{1, 3}, map[int32][]int32{0: {2, 3, 1}, 1: {2}}, nil)
	ch, err := s.decideNewPartition(t0)
	want := zkclient.PartitionState{Leader: 3, LeaderEpoch: 0, ControllerEpoch: 7, ISR: []int32{3, 1}}
	if err != nil || !ch.Create || !ch.IsNew || !stateEqual(ch.New, want) || !slices.Equal(ch.Recipients, []int32{3, 1}) {
		t.Fatal(ch, err)
	}
	if _, err := s.decideNewPartition(part("t", 1)); !errors.Is(err, errNoLiveReplica) {
		t.Fatal(err)
	}
}

func TestNewerControllerAborts(t *testing.T) {
	st := ps(2, 4, 2, 3)
	st.ControllerEpoch = 8
	s := testState([]int32{3}, map[int32][]int32{0: {2, 3}}, map[int32]zkclient.PartitionState{0: st})
	if _, err := s.decideElection(t0, offlineElection, never); !errors.Is(err, errNewerController) {
		t.Fatal(err)
	}
}

func TestRebalanceCandidates(t *testing.T) {
	// Broker 1 prefers 0..9 but leads only 8 of them (20% > 10%): the two others move back
	// where 1 is in the ISR. Broker 2 prefers 10..19 and misses one (10%, not above): none.
	assign := map[int32][]int32{}
	states := map[int32]zkclient.PartitionState{}
	for p := int32(0); p < 10; p++ {
		assign[p] = []int32{1, 2}
		states[p] = ps(1, 0, 1, 2)
	}
	for p := int32(10); p < 20; p++ {
		assign[p] = []int32{2, 1}
		states[p] = ps(2, 0, 2, 1)
	}
	states[3] = ps(2, 1, 2, 1)
	states[4] = ps(2, 1, 2) // 1 is out of the ISR: cannot lead
	states[15] = ps(1, 1, 1, 2)
	s := testState([]int32{1, 2}, assign, states)
	got := s.rebalanceCandidates(10)
	if !slices.Equal(got, []tp{part("t", 3)}) {
		t.Fatalf("got %v", got)
	}
}

func TestBatchBuildsRequests(t *testing.T) {
	s := testState([]int32{1, 2, 3}, map[int32][]int32{0: {2, 3, 4}, 1: {3, 1}}, map[int32]zkclient.PartitionState{0: ps(2, 4, 2, 3), 1: ps(3, 1, 3, 1)})
	s.brokers[2] = zkclient.BrokerInfo{ID: 2, Epoch: 102, Rack: "r2", Endpoints: []zkclient.Endpoint{
		{ListenerName: "EXTERNAL", SecurityProtocol: "SSL", Host: "ext", Port: 1},
		{ListenerName: "INTERNAL", SecurityProtocol: "PLAINTEXT", Host: "int", Port: 2},
	}}
	b := newBatch()
	b.addLeaderAndIsr(s, []int32{2, 3, 4}, t0, true)
	b.addStopReplica([]int32{1}, part("t", 1), false)
	reqs := s.buildRequests(b, "INTERNAL")
	// LeaderAndIsr to 2 and 3 (4 is not live), UpdateMetadata to 1, 2, 3, StopReplica to 1.
	var kinds []string
	for _, r := range reqs {
		kinds = append(kinds, apiName(r.Req)+string(rune('0'+r.Broker)))
	}
	if !slices.Equal(kinds, []string{"LeaderAndIsr2", "LeaderAndIsr3", "UpdateMetadata1", "UpdateMetadata2", "UpdateMetadata3", "StopReplica1"}) {
		t.Fatalf("got %v", kinds)
	}
	lai := reqs[1].Req.(*kmsg.LeaderAndISRRequest)
	if lai.Version != 6 || lai.ControllerID != 1 || lai.ControllerEpoch != 7 || lai.BrokerEpoch != 103 ||
		len(lai.TopicStates) != 1 || lai.TopicStates[0].TopicID != [16]byte{1} {
		t.Fatalf("lai %+v", lai)
	}
	p := lai.TopicStates[0].PartitionStates[0]
	if p.Leader != 2 || p.LeaderEpoch != 4 || p.ZKVersion != 3 || !p.IsNew || !slices.Equal(p.Replicas, []int32{2, 3, 4}) || !slices.Equal(p.ISR, []int32{2, 3}) {
		t.Fatalf("partition %+v", p)
	}
	if len(lai.LiveLeaders) != 1 || lai.LiveLeaders[0].Host != "int" || lai.LiveLeaders[0].Port != 2 {
		t.Fatalf("live leaders %+v", lai.LiveLeaders)
	}
	um := reqs[3].Req.(*kmsg.UpdateMetadataRequest)
	if um.Version != 7 || um.BrokerEpoch != 102 || len(um.LiveBrokers) != 3 || len(um.TopicStates) != 1 {
		t.Fatalf("um %+v", um)
	}
	if up := um.TopicStates[0].PartitionStates[0]; !slices.Equal(up.OfflineReplicas, []int32{4}) || up.Leader != 2 {
		t.Fatalf("um partition %+v", up)
	}
	lb := um.LiveBrokers[1]
	if lb.ID != 2 || lb.Rack == nil || *lb.Rack != "r2" || len(lb.Endpoints) != 2 || lb.Endpoints[0].SecurityProtocol != 1 || lb.Endpoints[1].ListenerName != "INTERNAL" {
		t.Fatalf("live broker %+v", lb)
	}
	sr := reqs[5].Req.(*kmsg.StopReplicaRequest)
	if sr.Version != 3 || sr.BrokerEpoch != 101 || sr.Topics[0].PartitionStates[0].LeaderEpoch != 1 || sr.Topics[0].PartitionStates[0].Delete {
		t.Fatalf("stop replica %+v", sr)
	}

	// During deletion: leader -2 in UpdateMetadata, epoch -2 in StopReplica.
	s.deleting["t"] = true
	b = newBatch()
	b.addUpdateMetadata([]int32{1}, t0)
	b.addStopReplica([]int32{2}, t0, true)
	reqs = s.buildRequests(b, "INTERNAL")
	um = reqs[0].Req.(*kmsg.UpdateMetadataRequest)
	if up := um.TopicStates[0].PartitionStates[0]; up.Leader != -2 {
		t.Fatalf("deleting um %+v", up)
	}
	sr = reqs[1].Req.(*kmsg.StopReplicaRequest)
	if st := sr.Topics[0].PartitionStates[0]; st.LeaderEpoch != -2 || !st.Delete {
		t.Fatalf("deleting stop replica %+v", st)
	}
}

func stateEqual(a, b zkclient.PartitionState) bool {
	return a.Leader == b.Leader && a.LeaderEpoch == b.LeaderEpoch && a.ControllerEpoch == b.ControllerEpoch &&
		slices.Equal(a.ISR, b.ISR) && a.ZkVersion == b.ZkVersion
}
