package controller

import (
	"errors"
	"fmt"
	"slices"

	"github.com/klassik/klassik/zkclient"
)

// This file is the pure heart of the controller: Kafka's PartitionLeaderElectionAlgorithms
// and the state transitions of PartitionStateMachine and ReplicaStateMachine, written as
// functions of the cluster state that return the partition state to write. Nothing here
// touches ZooKeeper or the network.

// Leader election algorithms (Kafka's object PartitionLeaderElectionAlgorithms). assignment
// is the replica list in assignment order; the first eligible replica in that order wins.

// offlineLeader elects a leader for a partition whose leader is gone: the first replica in
// assignment order that is live and in the ISR; failing that, when unclean election is
// allowed, the first live replica. unclean reports that the second rule was used.
func offlineLeader(assignment, isr []int32, live func(int32) bool, allowUnclean bool) (leader int32, unclean, ok bool) {
	for _, r := range assignment {
		if live(r) && slices.Contains(isr, r) {
			return r, false, true
		}
	}
	if allowUnclean {
		for _, r := range assignment {
			if live(r) {
				return r, true, true
			}
		}
	}
	return noLeader, false, false
}

// preferredLeader elects the preferred replica (the first in assignment order) if it is live
// and in the ISR.
func preferredLeader(assignment, isr []int32, live func(int32) bool) (int32, bool) {
	if len(assignment) > 0 && live(assignment[0]) && slices.Contains(isr, assignment[0]) {
		return assignment[0], true
	}
	return noLeader, false
}

// controlledShutdownLeader elects the first replica in assignment order that is live (or
// shutting down), in the ISR and not shutting down.
func controlledShutdownLeader(assignment, isr []int32, liveOrShuttingDown, shuttingDown func(int32) bool) (int32, bool) {
	for _, r := range assignment {
		if liveOrShuttingDown(r) && slices.Contains(isr, r) && !shuttingDown(r) {
			return r, true
		}
	}
	return noLeader, false
}

// strategy is Kafka's PartitionLeaderElectionStrategy.
type strategy int

const (
	offlineElection             strategy = iota // OfflinePartitionLeaderElectionStrategy(allowUnclean=false): topic config decides
	offlineElectionAllowUnclean                 // OfflinePartitionLeaderElectionStrategy(allowUnclean=true): ElectLeaders UNCLEAN
	preferredElection                           // PreferredReplicaPartitionLeaderElectionStrategy
	controlledShutdownElection                  // ControlledShutdownPartitionLeaderElectionStrategy
)

func (s strategy) String() string {
	switch s {
	case offlineElection:
		return "offline"
	case offlineElectionAllowUnclean:
		return "offline-unclean"
	case preferredElection:
		return "preferred"
	case controlledShutdownElection:
		return "controlled-shutdown"
	}
	return fmt.Sprintf("strategy(%d)", int(s))
}

// Why a decision made no change.
var (
	errNoState          = errors.New("partition has no leader and isr state")
	errNoEligibleLeader = errors.New("no eligible leader")
	errNoLiveReplica    = errors.New("no assigned replica is alive")
	errNewerController  = errors.New("partition state was written by a newer controller")
	errNoSuchPartition  = errors.New("partition does not exist")
)

// stateChange is one decided partition transition: the state to write (New.ZkVersion is the
// version the write is conditional on) and who is told about it afterwards.
type stateChange struct {
	P          tp
	Old        zkclient.PartitionState // zero when Create
	New        zkclient.PartitionState
	Create     bool    // NewPartition -> OnlinePartition: create the state znode
	NoWrite    bool    // nothing changed in ZooKeeper; only the LeaderAndIsr is (re)sent
	Recipients []int32 // LeaderAndIsr receivers (the batch drops brokers that are not live)
	IsNew      bool    // LeaderAndIsr isNew
	Unclean    bool    // the leader was elected outside the ISR
	Reason     string
}

// decideNewPartition is NewPartition -> OnlinePartition (initializeLeaderAndIsrForPartitions):
// the first live replica leads, the live replicas form the ISR, leader epoch 0.
func (s *clusterState) decideNewPartition(p tp) (stateChange, error) {
	if !s.exists(p) {
		return stateChange{}, errNoSuchPartition
	}
	live := filter(s.replicas(p), s.isLive)
	if len(live) == 0 {
		return stateChange{}, errNoLiveReplica
	}
	return stateChange{
		P: p,
		New: zkclient.PartitionState{
			Leader:          live[0],
			LeaderEpoch:     0,
			ControllerEpoch: s.epoch.Epoch,
			ISR:             slices.Clone(live),
		},
		Create:     true,
		Recipients: live,
		IsNew:      true,
		Reason:     "new partition",
	}, nil
}

// decideElection is OfflinePartition/OnlinePartition -> OnlinePartition with a leader
// election strategy (Kafka's Election.leaderFor*). uncleanEnabled answers the topic's
// unclean.leader.election.enable; it is asked only when no ISR member is live.
func (s *clusterState) decideElection(p tp, strat strategy, uncleanEnabled func(topic string) bool) (stateChange, error) {
	if !s.exists(p) {
		return stateChange{}, errNoSuchPartition
	}
	cur, ok := s.leadership[p]
	if !ok {
		return stateChange{}, errNoState
	}
	if cur.ControllerEpoch > s.epoch.Epoch {
		return stateChange{}, errNewerController
	}
	assignment := s.replicas(p)
	ch := stateChange{P: p, Old: cur, Reason: strat.String() + " election"}
	var leader int32
	var isr []int32
	switch strat {
	case offlineElection, offlineElectionAllowUnclean:
		online := s.isReplicaOnline(p)
		live := filter(assignment, s.isLive)
		allow := false
		if len(filter(cur.ISR, online)) == 0 {
			allow = strat == offlineElectionAllowUnclean || uncleanEnabled(p.Topic)
		}
		var found bool
		leader, ch.Unclean, found = offlineLeader(assignment, cur.ISR, online, allow)
		if !found {
			return stateChange{}, errNoEligibleLeader
		}
		if slices.Contains(cur.ISR, leader) {
			isr = filter(cur.ISR, online)
		} else {
			isr = []int32{leader}
		}
		ch.Recipients = live
	case preferredElection:
		var found bool
		if leader, found = preferredLeader(assignment, cur.ISR, s.isReplicaOnline(p)); !found {
			return stateChange{}, errNoEligibleLeader
		}
		isr = slices.Clone(cur.ISR)
		ch.Recipients = slices.Clone(assignment)
	case controlledShutdownElection:
		sd := func(b int32) bool { return s.shuttingDown[b] }
		var found bool
		if leader, found = controlledShutdownLeader(assignment, cur.ISR, s.isLiveOrShuttingDown, sd); !found {
			return stateChange{}, errNoEligibleLeader
		}
		isr = filter(cur.ISR, func(b int32) bool { return !sd(b) })
		ch.Recipients = filter(assignment, s.isLiveOrShuttingDown)
	default:
		return stateChange{}, fmt.Errorf("unknown strategy %v", strat)
	}
	ch.New = zkclient.PartitionState{
		Leader:          leader,
		LeaderEpoch:     cur.LeaderEpoch + 1,
		ControllerEpoch: s.epoch.Epoch,
		ISR:             isr,
		ZkVersion:       cur.ZkVersion,
		// Kept as it was: Kafka marks an unclean leader RECOVERING (KIP-704) only when
		// brokers report recovery through AlterPartition, which klassik's do not.
		LeaderRecoveryState: cur.LeaderRecoveryState,
	}
	return ch, nil
}

// decideRemoveReplica is the ReplicaStateMachine's OnlineReplica -> OfflineReplica transition
// for one partition (removeReplicasFromIsr): take replica out of the ISR, and when it led the
// partition leave it leaderless (-1). Kafka never shrinks the ISR to empty: a last ISR member
// stays, so the partition remembers who had the data. The leader epoch is bumped. When the
// replica is not in the ISR nothing is written, but the remaining replicas still get a
// LeaderAndIsr, as in Kafka.
func (s *clusterState) decideRemoveReplica(p tp, replica int32) (stateChange, error) {
	if !s.exists(p) {
		return stateChange{}, errNoSuchPartition
	}
	cur, ok := s.leadership[p]
	if !ok {
		return stateChange{}, errNoState
	}
	if cur.ControllerEpoch > s.epoch.Epoch {
		return stateChange{}, errNewerController
	}
	ch := stateChange{
		P:          p,
		Old:        cur,
		Recipients: without(s.replicas(p), replica),
		Reason:     fmt.Sprintf("replica %d offline", replica),
	}
	if !slices.Contains(cur.ISR, replica) {
		ch.New = cur
		ch.NoWrite = true
		return ch, nil
	}
	leader := cur.Leader
	if leader == replica {
		leader = noLeader
	}
	isr := slices.Clone(cur.ISR)
	if len(isr) > 1 {
		isr = without(isr, replica)
	}
	ch.New = zkclient.PartitionState{
		Leader:              leader,
		LeaderEpoch:         cur.LeaderEpoch + 1,
		ControllerEpoch:     s.epoch.Epoch,
		ISR:                 isr,
		ZkVersion:           cur.ZkVersion,
		LeaderRecoveryState: cur.LeaderRecoveryState,
	}
	return ch, nil
}

// rebalanceCandidates is Kafka's checkAndTriggerAutoLeaderRebalance decision: group the
// partitions by preferred replica; for each broker whose share of partitions led by someone
// else exceeds pct percent, the partitions whose preferred replica could lead now.
func (s *clusterState) rebalanceCandidates(pct int) []tp {
	byPreferred := map[int32][]tp{}
	for _, p := range s.partitions() {
		if s.deleting[p.Topic] {
			continue
		}
		if r := s.replicas(p); len(r) > 0 {
			byPreferred[r[0]] = append(byPreferred[r[0]], p)
		}
	}
	var out []tp
	for _, b := range sortedKeys(byPreferred) {
		ps := byPreferred[b]
		var notPreferred []tp
		for _, p := range ps {
			if st, ok := s.leadership[p]; ok && st.Leader != b {
				notPreferred = append(notPreferred, p)
			}
		}
		ratio := float64(len(notPreferred)) / float64(len(ps))
		if ratio <= float64(pct)/100 {
			continue
		}
		for _, p := range notPreferred {
			if _, ok := preferredLeader(s.replicas(p), s.leadership[p].ISR, s.isLive); ok {
				out = append(out, p)
			}
		}
	}
	return out
}

func sortedKeys[V any](m map[int32]V) []int32 {
	ks := make([]int32, 0, len(m))
	for k := range m {
		ks = append(ks, k)
	}
	slices.Sort(ks)
	return ks
}
