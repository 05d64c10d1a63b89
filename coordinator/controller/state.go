package controller

import (
	"slices"
	"sort"

	"github.com/klassik/klassik/zkclient"
)

// tp names one partition.
type tp = zkclient.TopicPartition

// Sentinels of Kafka's LeaderAndIsr.
const (
	noLeader           int32 = -1 // LeaderAndIsr.NO_LEADER
	leaderDuringDelete int32 = -2 // LeaderAndIsr.LEADER_DURING_DELETE
	epochDuringDelete  int32 = -2 // LeaderAndIsr.EPOCH_DURING_DELETE
	noEpoch            int32 = -1 // LeaderAndIsr.NO_EPOCH
)

// topicInfo is one topic's assignment as read from /brokers/topics/<t>.
type topicInfo struct {
	id       [16]byte
	replicas map[int32][]int32 // partition -> replicas in assignment order (RS: ORS + TRS while reassigning)
	adding   map[int32][]int32 // partition -> replicas being added (KIP-455 adding_replicas)
	removing map[int32][]int32 // partition -> replicas being removed (removing_replicas)
}

// clusterState is Kafka's ControllerContext: everything the active controller knows.
// Owned by the event loop goroutine; nothing else reads or writes it. It exists only while
// this broker is the active controller.
type clusterState struct {
	controllerID int32
	epoch        zkclient.ControllerEpoch

	brokers      map[int32]zkclient.BrokerInfo // live or shutting down; Epoch is the czxid
	shuttingDown map[int32]bool                // brokers in controlled shutdown

	topics     map[string]*topicInfo
	leadership map[tp]zkclient.PartitionState // partitions with a state znode
	offline    map[tp]bool                    // Kafka's OfflinePartition: leader lost, no successful election since
	// offlineDirs is Kafka's replicasOnOfflineDirs: replicas of live brokers whose log dir
	// failed, by broker. Cleared when the broker fails or re-registers.
	offlineDirs map[int32]map[tp]bool
	deleting    map[string]bool // topics queued for deletion
	// reassigning is Kafka's partitionsBeingReassigned: partitions whose reassignment
	// started and has not completed (their adding/removing replicas are in topics).
	reassigning map[tp]bool
}

func newClusterState(controllerID int32, epoch zkclient.ControllerEpoch) *clusterState {
	return &clusterState{
		controllerID: controllerID,
		epoch:        epoch,
		brokers:      map[int32]zkclient.BrokerInfo{},
		shuttingDown: map[int32]bool{},
		topics:       map[string]*topicInfo{},
		leadership:   map[tp]zkclient.PartitionState{},
		offline:      map[tp]bool{},
		offlineDirs:  map[int32]map[tp]bool{},
		deleting:     map[string]bool{},
		reassigning:  map[tp]bool{},
	}
}

// isLive is Kafka's isReplicaOnline: registered and not shutting down.
func (s *clusterState) isLive(b int32) bool {
	_, ok := s.brokers[b]
	return ok && !s.shuttingDown[b]
}

// isReplicaOnline is Kafka's isReplicaOnline for one replica: its broker is live and the
// replica is not on a failed log dir.
func (s *clusterState) isReplicaOnline(p tp) func(int32) bool {
	return func(b int32) bool { return s.isLive(b) && !s.offlineDirs[b][p] }
}

// isLiveOrShuttingDown is membership in liveOrShuttingDownBrokerIds: who gets requests.
func (s *clusterState) isLiveOrShuttingDown(b int32) bool {
	_, ok := s.brokers[b]
	return ok
}

func (s *clusterState) replicas(p tp) []int32 {
	t := s.topics[p.Topic]
	if t == nil {
		return nil
	}
	return t.replicas[p.Partition]
}

func (s *clusterState) exists(p tp) bool {
	t := s.topics[p.Topic]
	if t == nil {
		return false
	}
	_, ok := t.replicas[p.Partition]
	return ok
}

// brokerIDs lists the live-or-shutting-down brokers, sorted.
func (s *clusterState) brokerIDs() []int32 {
	ids := make([]int32, 0, len(s.brokers))
	for id := range s.brokers {
		ids = append(ids, id)
	}
	slices.Sort(ids)
	return ids
}

// partitions lists every partition of every topic, sorted by topic then partition.
func (s *clusterState) partitions() []tp {
	var out []tp
	for t, info := range s.topics {
		for p := range info.replicas {
			out = append(out, tp{Topic: t, Partition: p})
		}
	}
	sortTPs(out)
	return out
}

func (s *clusterState) topicPartitions(topic string) []tp {
	var out []tp
	if info := s.topics[topic]; info != nil {
		for p := range info.replicas {
			out = append(out, tp{Topic: topic, Partition: p})
		}
	}
	sortTPs(out)
	return out
}

// partitionsOn lists the partitions with a replica on broker b.
func (s *clusterState) partitionsOn(b int32) []tp {
	var out []tp
	for _, p := range s.partitions() {
		if slices.Contains(s.replicas(p), b) {
			out = append(out, p)
		}
	}
	return out
}

// needsLeader reports whether p is in Kafka's NewPartition or OfflinePartition state: no
// state znode yet, a leader that is gone, or an election that has failed since the leader
// was lost (the leader may be back by now, but it must be elected again, with a new leader
// epoch). Partitions of topics being deleted never do.
func (s *clusterState) needsLeader(p tp) bool {
	if s.deleting[p.Topic] {
		return false
	}
	st, ok := s.leadership[p]
	if !ok {
		return true
	}
	return s.offline[p] || st.Leader == noLeader || !s.isLiveOrShuttingDown(st.Leader)
}

// offlineReplicas lists p's replicas that are not live (UpdateMetadata's OfflineReplicas).
func (s *clusterState) offlineReplicas(p tp) []int32 {
	out := []int32{}
	for _, r := range s.replicas(p) {
		if !s.isLiveOrShuttingDown(r) {
			out = append(out, r)
		}
	}
	return out
}

func sortTPs(ps []tp) {
	sort.Slice(ps, func(i, j int) bool {
		if ps[i].Topic != ps[j].Topic {
			return ps[i].Topic < ps[j].Topic
		}
		return ps[i].Partition < ps[j].Partition
	})
}

func filter(xs []int32, keep func(int32) bool) []int32 {
	out := []int32{}
	for _, x := range xs {
		if keep(x) {
			out = append(out, x)
		}
	}
	return out
}

func without(xs []int32, drop int32) []int32 {
	return filter(xs, func(x int32) bool { return x != drop })
}
