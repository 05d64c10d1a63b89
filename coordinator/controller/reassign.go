// Partition reassignment (KIP-455), as Kafka's ZooKeeper-mode KafkaController does it:
// onPartitionReassignment and the steps it names, ReplicaAssignment, and the
// ReassignPartitionLeaderElectionStrategy.
//
// Notation (Kafka's): ORS the original replica set, TRS the target replica set, RS the full
// replica set ORS + TRS while the reassignment runs, AR = TRS - ORS the adding replicas,
// RR = ORS - TRS the removing replicas. The sequence for one partition:
//
//	U1. write /brokers/topics/<t> with RS, adding_replicas AR and removing_replicas RR
//	    (fenced by the controller epoch), and keep it in memory; replicas of an earlier
//	    reassignment that RS no longer holds are stopped and deleted.
//	A1. bump the leader epoch in the state znode and send LeaderAndIsr with RS to every
//	    replica (isNew for AR), so the leader accepts the new followers and they fetch.
//	    ... the leader adds them to the ISR as they catch up; each ISR change notification
//	    checks whether TRS is now within the ISR ...
//	B2. RS = TRS in memory, AR = RR = [].
//	B3. if the leader is not in TRS (or not online) elect the first live TRS replica in the
//	    ISR; otherwise bump the leader epoch and send LeaderAndIsr with TRS.
//	B4. RR -> OfflineReplica: StopReplica, out of the ISR (leader epoch bumped).
//	B5. RR -> NonExistentReplica: StopReplica with delete.
//	B6. write /brokers/topics/<t> with TRS and empty adding/removing.
//	B7. forget the partition's reassignment, and drop it from /admin/reassign_partitions.
//	B8. UpdateMetadata for the partition to every broker.

package controller

import (
	"errors"
	"fmt"
	"maps"
	"slices"

	"github.com/klassik/klassik/zkclient"
)

// replicaAssignment is Kafka's ReplicaAssignment: the full replica set and, while a
// reassignment runs, the replicas being added and removed.
type replicaAssignment struct {
	replicas []int32
	adding   []int32
	removing []int32
}

// origin is ORS: replicas - adding.
func (a replicaAssignment) origin() []int32 { return diff(a.replicas, a.adding) }

// target is TRS: replicas - removing.
func (a replicaAssignment) target() []int32 { return diff(a.replicas, a.removing) }

func (a replicaAssignment) isBeingReassigned() bool { return len(a.adding)+len(a.removing) > 0 }

// reassignTo is ReplicaAssignment.reassignTo: RS = (target ++ ORS).distinct, AR = RS - ORS,
// RR = RS - target. Reassigning to ORS is a cancellation: RS = ORS, nothing added or removed.
func (a replicaAssignment) reassignTo(target []int32) replicaAssignment {
	orig := a.origin()
	full := distinct(append(slices.Clone(target), orig...))
	return replicaAssignment{replicas: full, adding: diff(full, orig), removing: diff(full, target)}
}

func (a replicaAssignment) equal(b replicaAssignment) bool {
	return slices.Equal(a.replicas, b.replicas) && slices.Equal(a.adding, b.adding) && slices.Equal(a.removing, b.removing)
}

// diff is Scala's Seq.diff for sets of broker ids: xs without the members of ys, in order.
func diff(xs, ys []int32) []int32 {
	return filter(xs, func(x int32) bool { return !slices.Contains(ys, x) })
}

func distinct(xs []int32) []int32 {
	out := []int32{}
	for _, x := range xs {
		if !slices.Contains(out, x) {
			out = append(out, x)
		}
	}
	return out
}

// assignment is partitionFullReplicaAssignment.
func (s *clusterState) assignment(p tp) replicaAssignment {
	t := s.topics[p.Topic]
	if t == nil {
		return replicaAssignment{replicas: []int32{}, adding: []int32{}, removing: []int32{}}
	}
	return replicaAssignment{
		replicas: slices.Clone(t.replicas[p.Partition]),
		adding:   append([]int32{}, t.adding[p.Partition]...),
		removing: append([]int32{}, t.removing[p.Partition]...),
	}
}

// setAssignment is updatePartitionFullReplicaAssignment (memory only).
func (s *clusterState) setAssignment(p tp, a replicaAssignment) {
	t := s.topics[p.Topic]
	if t == nil {
		return
	}
	if t.adding == nil {
		t.adding = map[int32][]int32{}
	}
	if t.removing == nil {
		t.removing = map[int32][]int32{}
	}
	t.replicas[p.Partition] = slices.Clone(a.replicas)
	if len(a.adding) > 0 {
		t.adding[p.Partition] = slices.Clone(a.adding)
	} else {
		delete(t.adding, p.Partition)
	}
	if len(a.removing) > 0 {
		t.removing[p.Partition] = slices.Clone(a.removing)
	} else {
		delete(t.removing, p.Partition)
	}
}

// reassignLeader is PartitionLeaderElectionAlgorithms.reassignPartitionLeaderElection: the
// first replica of the target assignment that is online and in the ISR.
func reassignLeader(target, isr []int32, online func(int32) bool) (int32, bool) {
	for _, r := range target {
		if online(r) && slices.Contains(isr, r) {
			return r, true
		}
	}
	return noLeader, false
}

// decideReassignElection is OnlinePartition -> OnlinePartition with the
// ReassignPartitionLeaderElectionStrategy: the assignment in memory is already TRS; the ISR
// is kept, the leader epoch bumped, and the live target replicas are told.
func (s *clusterState) decideReassignElection(p tp) (stateChange, error) {
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
	online := s.isReplicaOnline(p)
	target := s.replicas(p)
	leader, found := reassignLeader(target, cur.ISR, online)
	if !found {
		return stateChange{}, errNoEligibleLeader
	}
	return stateChange{
		P: p, Old: cur, Reason: "reassignment election",
		New: zkclient.PartitionState{
			Leader: leader, LeaderEpoch: cur.LeaderEpoch + 1, ControllerEpoch: s.epoch.Epoch,
			ISR: slices.Clone(cur.ISR), ZkVersion: cur.ZkVersion, LeaderRecoveryState: cur.LeaderRecoveryState,
		},
		Recipients: filter(target, online),
	}, nil
}

// decideLeaderEpochBump is updateLeaderEpoch: the same leader and ISR with the next leader
// epoch, so that brokers apply the new replica set (a LeaderAndIsr with an unchanged epoch
// is not news to the leader). recipients get the LeaderAndIsr.
func (s *clusterState) decideLeaderEpochBump(p tp, recipients []int32) (stateChange, error) {
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
	next := cur
	next.ISR = slices.Clone(cur.ISR)
	next.LeaderEpoch = cur.LeaderEpoch + 1
	next.ControllerEpoch = s.epoch.Epoch
	return stateChange{P: p, Old: cur, New: next, Recipients: recipients, Reason: "reassignment: new replica set"}, nil
}

// errReassignIncomplete says a step of a reassignment could not be written; the partition
// stays reassigning and is retried on its next ISR change, broker start or failover.
var errReassignIncomplete = errors.New("reassignment step not written")

// onPartitionReassignment is KafkaController.onPartitionReassignment for one partition (the
// file comment lists the steps). It returns a non-nil error only when the controller must
// resign (zkclient.ErrNotController); a step that failed otherwise is logged.
func (c *Controller) onPartitionReassignment(b *batch, p tp, ra replicaAssignment) error {
	err := c.partitionReassignment(b, p, ra)
	if errors.Is(err, zkclient.ErrNotController) {
		return err
	}
	if err != nil {
		c.log.Warn().Err(err).Str("topic", p.Topic).Int32("partition", p.Partition).Ints32("replicas", ra.replicas).
			Ints32("adding", ra.adding).Ints32("removing", ra.removing).Msg("partition reassignment step failed; retried on the next ISR change, broker start or controller failover")
	}
	return nil
}

func (c *Controller) partitionReassignment(b *batch, p tp, ra replicaAssignment) error {
	st := c.st
	if err := c.updateCurrentReassignment(b, p, ra); err != nil {
		return err
	}
	complete, err := c.isReassignmentComplete(p, ra)
	if err != nil {
		return err
	}
	if !complete {
		// A1 (and A2: the adding replicas get the LeaderAndIsr with isNew).
		c.log.Info().Str("topic", p.Topic).Int32("partition", p.Partition).Ints32("replicas", ra.replicas).
			Ints32("adding", ra.adding).Ints32("removing", ra.removing).Msg("partition reassignment: replicas added, waiting for the target replicas to join the ISR")
		return c.updateLeaderEpochAndSend(b, p, ra)
	}
	// B2: the reassignment is complete in memory.
	target := ra.target()
	completed := replicaAssignment{replicas: target}
	st.setAssignment(p, completed)
	// B3.
	if err := c.moveReassignedLeaderIfRequired(b, p, completed); err != nil {
		return err
	}
	// B4, B5.
	if err := c.stopRemovedReplicas(b, p, ra.removing); err != nil {
		return err
	}
	// B6.
	if err := c.writeAssignment(p); err != nil {
		return err
	}
	// B7.
	delete(st.reassigning, p)
	if err := c.maybeRemoveFromZkReassignment(func(q tp, replicas []int32) bool {
		return q == p && slices.Equal(replicas, target)
	}); err != nil {
		return err
	}
	// B8.
	b.addUpdateMetadata(st.brokerIDs(), p)
	c.log.Info().Str("topic", p.Topic).Int32("partition", p.Partition).Ints32("replicas", target).Msg("partition reassignment completed")
	return nil
}

// updateCurrentReassignment is U1/U2: write and remember RS, AR and RR; replicas that an
// earlier reassignment was adding and this one drops are stopped and deleted.
func (c *Controller) updateCurrentReassignment(b *batch, p tp, ra replicaAssignment) error {
	st := c.st
	cur := st.assignment(p)
	if !cur.equal(ra) {
		st.setAssignment(p, ra)
		if err := c.writeAssignment(p); err != nil {
			st.setAssignment(p, cur)
			return err
		}
		if unneeded := diff(cur.replicas, ra.replicas); len(unneeded) > 0 {
			if err := c.stopRemovedReplicas(b, p, unneeded); err != nil {
				return err
			}
		}
	}
	st.reassigning[p] = true
	return nil
}

// isReassignmentComplete: not being reassigned, or TRS within the ISR read from ZooKeeper
// now (which also refreshes the state the next conditional write starts from).
func (c *Controller) isReassignmentComplete(p tp, ra replicaAssignment) (bool, error) {
	if !ra.isBeingReassigned() {
		return true, nil
	}
	fresh, err := c.zk.PartitionState(p.Topic, p.Partition)
	if errors.Is(err, zkclient.ErrNoNode) {
		return false, nil
	}
	if err != nil {
		return false, err
	}
	c.st.leadership[p] = fresh
	for _, r := range ra.target() {
		if !slices.Contains(fresh.ISR, r) {
			return false, nil
		}
	}
	return true, nil
}

// updateLeaderEpochAndSend is updateLeaderEpochAndSendRequest: bump the leader epoch and send
// the LeaderAndIsr to ORS (isNew false) and AR (isNew true).
func (c *Controller) updateLeaderEpochAndSend(b *batch, p tp, ra replicaAssignment) error {
	st := c.st
	res, err := c.runChanges(b, []tp{p}, "reassignment: leader epoch bump", func(q tp) (stateChange, error) {
		return st.decideLeaderEpochBump(q, ra.origin())
	})
	if err != nil {
		return err
	}
	if res[p] != nil {
		return fmt.Errorf("%w: leader epoch bump: %v", errReassignIncomplete, res[p])
	}
	b.addLeaderAndIsr(st, ra.adding, p, true)
	return nil
}

// moveReassignedLeaderIfRequired is moveReassignedPartitionLeaderIfRequired (B3).
func (c *Controller) moveReassignedLeaderIfRequired(b *batch, p tp, completed replicaAssignment) error {
	st := c.st
	cur := st.leadership[p]
	if slices.Contains(completed.replicas, cur.Leader) && st.isReplicaOnline(p)(cur.Leader) {
		return c.updateLeaderEpochAndSend(b, p, completed)
	}
	res, err := c.runChanges(b, []tp{p}, "reassignment election", st.decideReassignElection)
	if err != nil {
		return err
	}
	if res[p] != nil {
		return fmt.Errorf("%w: electing a leader among %v: %v", errReassignIncomplete, completed.replicas, res[p])
	}
	return nil
}

// stopRemovedReplicas is stopRemovedReplicasOfReassignedPartition: each removed replica goes
// OfflineReplica (StopReplica without delete, out of the ISR with the leader epoch bumped,
// the others told) and then NonExistentReplica (StopReplica with delete). As Kafka, the
// controller does not wait for the deletion to be acknowledged.
func (c *Controller) stopRemovedReplicas(b *batch, p tp, removed []int32) error {
	st := c.st
	for _, r := range removed {
		replica := r
		b.addStopReplica([]int32{replica}, p, false)
		res, err := c.runChanges(b, []tp{p}, "reassignment: OnlineReplica->OfflineReplica", func(q tp) (stateChange, error) {
			return st.decideRemoveReplica(q, replica)
		})
		if err != nil {
			return err
		}
		if res[p] != nil && !errors.Is(res[p], errNoState) {
			return fmt.Errorf("%w: removing replica %d from the ISR: %v", errReassignIncomplete, replica, res[p])
		}
		b.addStopReplica([]int32{replica}, p, true)
	}
	return nil
}

// writeAssignment is updateReplicaAssignmentForPartition: the topic's znode with every
// partition's replicas and the adding/removing replicas in memory, fenced by the
// controller epoch.
func (c *Controller) writeAssignment(p tp) error {
	t := c.st.topics[p.Topic]
	if t == nil {
		return errNoSuchPartition
	}
	a := zkclient.TopicAssignment{Topic: p.Topic, TopicID: t.id, Partitions: maps.Clone(t.replicas),
		AddingReplicas: maps.Clone(t.adding), RemovingReplicas: maps.Clone(t.removing), ZkVersion: -1}
	return c.zk.SetTopicAssignmentFenced(c.st.epoch, a)
}

// maybeResumeReassignments re-runs onPartitionReassignment for the partitions being
// reassigned that should (Kafka's maybeResumeReassignments).
func (c *Controller) maybeResumeReassignments(b *batch, should func(tp, replicaAssignment) bool) error {
	st := c.st
	var parts []tp
	for p := range st.reassigning {
		parts = append(parts, p)
	}
	sortTPs(parts)
	for _, p := range parts {
		ra := st.assignment(p)
		if !should(p, ra) {
			continue
		}
		if err := c.onPartitionReassignment(b, p, ra); err != nil {
			return err
		}
	}
	return nil
}

// maybeCompleteReassignments is processPartitionReassignmentIsrChange for the partitions whose
// ISR changed: those being reassigned whose target replicas are all in the ISR now finish.
func (c *Controller) maybeCompleteReassignments(b *batch, changed []tp) error {
	st := c.st
	for _, p := range changed {
		if !st.reassigning[p] {
			continue
		}
		ra := st.assignment(p)
		done, err := c.isReassignmentComplete(p, ra)
		if err != nil {
			c.log.Warn().Err(err).Str("topic", p.Topic).Int32("partition", p.Partition).Msg("cannot read the state of a partition being reassigned")
			continue
		}
		if !done {
			continue
		}
		c.log.Info().Str("topic", p.Topic).Int32("partition", p.Partition).Ints32("target", ra.target()).
			Msg("target replicas have all caught up with the leader of a reassigning partition")
		if err := c.onPartitionReassignment(b, p, ra); err != nil {
			return err
		}
	}
	return nil
}
