// Where reassignments come from: the AlterPartitionReassignments and
// ListPartitionReassignments APIs (KafkaController.processApiPartitionReassignment,
// processListPartitionReassignments), the legacy /admin/reassign_partitions znode
// (processZkPartitionReassignment, maybeRemoveFromZkReassignment), and the reassignments a
// new controller resumes (initializePartitionReassignments).

package controller

import (
	"context"
	"errors"
	"fmt"
	"slices"

	"github.com/klassik/klassik/zkclient"
	"github.com/twmb/franz-go/pkg/kerr"
)

// ReassignmentTarget is one partition of an AlterPartitionReassignments request: the target
// replicas, or Cancel (a null replica list) to revert to the original replicas.
type ReassignmentTarget struct {
	Replicas []int32
	Cancel   bool
}

// ReassignmentResult is the outcome for one partition: a Kafka error code (0 when the
// reassignment started, or completed at once) and its message.
type ReassignmentResult struct {
	Code    int16
	Message string
}

// OngoingReassignment is one partition being reassigned (ListPartitionReassignments).
type OngoingReassignment struct {
	Replicas, Adding, Removing []int32
}

type (
	alterReassignEvent struct {
		reqs  map[tp]ReassignmentTarget
		reply chan alterReassignResult
	}
	alterReassignResult struct {
		results map[tp]ReassignmentResult
		err     error
	}
	listReassignEvent struct {
		parts []tp // nil: every partition being reassigned
		reply chan listReassignResult
	}
	listReassignResult struct {
		ongoing map[tp]OngoingReassignment
		err     error
	}
)

// AlterPartitionReassignments starts, changes or cancels reassignments (KIP-455), returning
// a result per partition. ErrNotActive when this broker is not the controller.
func (c *Controller) AlterPartitionReassignments(ctx context.Context, reqs map[zkclient.TopicPartition]ReassignmentTarget) (map[zkclient.TopicPartition]ReassignmentResult, error) {
	reply := make(chan alterReassignResult, 1)
	c.push(alterReassignEvent{reqs: reqs, reply: reply})
	select {
	case r := <-reply:
		return r.results, r.err
	case <-ctx.Done():
		return nil, ctx.Err()
	case <-c.done:
		return nil, ErrStopped
	}
}

// ListPartitionReassignments lists the given partitions that are being reassigned (all of
// them when parts is nil). ErrNotActive when this broker is not the controller.
func (c *Controller) ListPartitionReassignments(ctx context.Context, parts []zkclient.TopicPartition) (map[zkclient.TopicPartition]OngoingReassignment, error) {
	reply := make(chan listReassignResult, 1)
	c.push(listReassignEvent{parts: parts, reply: reply})
	select {
	case r := <-reply:
		return r.ongoing, r.err
	case <-ctx.Done():
		return nil, ctx.Err()
	case <-c.done:
		return nil, ErrStopped
	}
}

// onAlterReassignments is processApiPartitionReassignment.
func (c *Controller) onAlterReassignments(reqs map[tp]ReassignmentTarget) (map[tp]ReassignmentResult, error) {
	if !c.active.Load() {
		return nil, ErrNotActive
	}
	st := c.st
	results := map[tp]ReassignmentResult{}
	toReassign := map[tp]replicaAssignment{}
	for p, t := range reqs {
		if !t.Cancel {
			if res, bad := st.validateReplicas(p, t.Replicas); bad {
				results[p] = res
				continue
			}
		}
		var target []int32
		if !t.Cancel {
			target = t.Replicas
		}
		ra, ok := st.maybeBuildReassignment(p, target, t.Cancel)
		if !ok {
			results[p] = ReassignmentResult{Code: kerr.NoReassignmentInProgress.Code, Message: fmt.Sprintf("no reassignment of %s-%d is in progress", p.Topic, p.Partition)}
			continue
		}
		toReassign[p] = ra
	}
	// The latest reassignment, by API or through ZooKeeper, takes precedence: drop these
	// partitions from /admin/reassign_partitions.
	if err := c.maybeRemoveFromZkReassignment(func(p tp, _ []int32) bool { _, ok := toReassign[p]; return ok }); err != nil {
		return nil, err
	}
	c.cause = "partition reassignment requested (AlterPartitionReassignments)"
	defer func() { c.cause = "" }()
	b := newBatch()
	triggered, err := c.maybeTriggerReassignments(b, toReassign)
	c.flush(b)
	for p, r := range triggered {
		results[p] = r
	}
	return results, err
}

// validateReplicas is KafkaController.validateReplicas: a non-empty list of distinct,
// non-negative broker ids whose added members are live.
func (s *clusterState) validateReplicas(p tp, replicas []int32) (ReassignmentResult, bool) {
	invalid := func(msg string) (ReassignmentResult, bool) {
		return ReassignmentResult{Code: kerr.InvalidReplicaAssignment.Code, Message: msg}, true
	}
	if len(replicas) == 0 {
		return invalid("Empty replica list specified in partition reassignment.")
	}
	if len(distinct(replicas)) != len(replicas) {
		return invalid(fmt.Sprintf("Duplicate replica ids in partition reassignment replica list: %s", brokerList(replicas)))
	}
	for _, r := range replicas {
		if r < 0 {
			return invalid(fmt.Sprintf("Invalid broker id in replica list: %s", brokerList(replicas)))
		}
	}
	next := s.assignment(p).reassignTo(replicas)
	for _, r := range next.adding {
		if !s.isLive(r) {
			return invalid(fmt.Sprintf("Replica assignment has brokers that are not alive. Replica list: %s, live broker list: %s",
				brokerList(next.adding), brokerList(filter(s.brokerIDs(), s.isLive))))
		}
	}
	return ReassignmentResult{}, false
}

// maybeBuildReassignment is KafkaController.maybeBuildReassignment: a partition being
// reassigned moves to the new target (to its original replicas when cancelled); one that is
// not gets the target, and cancelling it is NO_REASSIGNMENT_IN_PROGRESS (ok false).
func (s *clusterState) maybeBuildReassignment(p tp, target []int32, cancel bool) (replicaAssignment, bool) {
	cur := s.assignment(p)
	if cur.isBeingReassigned() {
		if cancel {
			target = cur.origin()
		}
		return cur.reassignTo(target), true
	}
	if cancel {
		return replicaAssignment{}, false
	}
	return cur.reassignTo(target), true
}

// maybeTriggerReassignments is maybeTriggerPartitionReassignment.
func (c *Controller) maybeTriggerReassignments(b *batch, reassignments map[tp]replicaAssignment) (map[tp]ReassignmentResult, error) {
	st := c.st
	parts := make([]tp, 0, len(reassignments))
	for p := range reassignments {
		parts = append(parts, p)
	}
	sortTPs(parts)
	results := map[tp]ReassignmentResult{}
	unknown := func(p tp) ReassignmentResult {
		return ReassignmentResult{Code: kerr.UnknownTopicOrPartition.Code, Message: "The partition does not exist."}
	}
	for _, p := range parts {
		switch {
		case st.deleting[p.Topic]:
			c.log.Info().Str("topic", p.Topic).Int32("partition", p.Partition).Msg("skipping reassignment of a partition whose topic is being deleted")
			results[p] = unknown(p)
		case !st.exists(p) || len(st.replicas(p)) == 0:
			results[p] = unknown(p)
		default:
			err := c.partitionReassignment(b, p, reassignments[p])
			switch {
			case errors.Is(err, zkclient.ErrNotController):
				return results, err
			case err != nil:
				c.log.Warn().Err(err).Str("topic", p.Topic).Int32("partition", p.Partition).Msg("partition reassignment failed")
				results[p] = ReassignmentResult{Code: kerr.UnknownServerError.Code, Message: err.Error()}
			default:
				results[p] = ReassignmentResult{}
			}
		}
	}
	return results, nil
}

// onListReassignments is processListPartitionReassignments.
func (c *Controller) onListReassignments(parts []tp) (map[tp]OngoingReassignment, error) {
	if !c.active.Load() {
		return nil, ErrNotActive
	}
	st := c.st
	if parts == nil {
		for p := range st.reassigning {
			parts = append(parts, p)
		}
	}
	out := map[tp]OngoingReassignment{}
	for _, p := range parts {
		if !st.exists(p) {
			continue
		}
		if a := st.assignment(p); a.isBeingReassigned() {
			out[p] = OngoingReassignment{Replicas: a.replicas, Adding: a.adding, Removing: a.removing}
		}
	}
	return out, nil
}

// onZkPartitionReassignment is processZkPartitionReassignment: start the reassignments in
// /admin/reassign_partitions (re-arming its watch); those that cannot start are dropped
// from it. It returns the partitions started.
func (c *Controller) onZkPartitionReassignment(b *batch) (map[tp]bool, error) {
	st := c.st
	m, err := c.zk.PartitionReassignment(true)
	if err != nil || m == nil {
		return nil, err
	}
	c.cause = "partition reassignment requested (/admin/reassign_partitions)"
	defer func() { c.cause = "" }()
	toReassign := map[tp]replicaAssignment{}
	failed := map[tp]bool{}
	for p, replicas := range m {
		if ra, ok := st.maybeBuildReassignment(p, replicas, false); ok {
			toReassign[p] = ra
		} else {
			failed[p] = true
		}
	}
	results, err := c.maybeTriggerReassignments(b, toReassign)
	if err != nil {
		return nil, err
	}
	started := map[tp]bool{}
	for p, r := range results {
		if r.Code == 0 {
			started[p] = true
		} else {
			failed[p] = true
		}
	}
	if len(failed) > 0 {
		c.log.Warn().Int("partitions", len(failed)).Msg("failed reassignments through /admin/reassign_partitions; removing them from it")
		if err := c.maybeRemoveFromZkReassignment(func(p tp, _ []int32) bool { return failed[p] }); err != nil {
			return nil, err
		}
	}
	return started, nil
}

// maybeRemoveFromZkReassignment is Kafka's: drop the entries of /admin/reassign_partitions
// that remove matches; delete the znode when none is left (and look again, so that a new
// one is noticed).
func (c *Controller) maybeRemoveFromZkReassignment(remove func(tp, []int32) bool) error {
	m, err := c.zk.PartitionReassignment(false)
	if err != nil {
		c.log.Warn().Err(err).Msg("cannot read /admin/reassign_partitions")
		return nil
	}
	if m == nil {
		return nil
	}
	left := map[tp][]int32{}
	for p, r := range m {
		if !remove(p, r) {
			left[p] = r
		}
	}
	if len(left) == len(m) {
		return nil
	}
	if len(left) == 0 {
		c.log.Info().Msg("no more partitions need to be reassigned; deleting /admin/reassign_partitions")
		err = c.zk.DeletePartitionReassignment(c.st.epoch)
		if err == nil {
			c.push(zkclient.Event{Type: zkclient.EventPartitionReassignment})
		}
	} else {
		err = c.zk.SetPartitionReassignment(c.st.epoch, left)
	}
	if errors.Is(err, zkclient.ErrNotController) {
		return err
	}
	if err != nil {
		c.log.Warn().Err(err).Msg("cannot update /admin/reassign_partitions")
	}
	return nil
}

// initializePartitionReassignments: on failover, reassignments submitted through ZooKeeper
// meanwhile start, and those in flight in the topic znodes resume.
func (c *Controller) initializePartitionReassignments() error {
	c.cause = "controller failover: resuming partition reassignments"
	defer func() { c.cause = "" }()
	b := newBatch()
	defer c.flush(b)
	started, err := c.onZkPartitionReassignment(b)
	if err != nil {
		return err
	}
	return c.maybeResumeReassignments(b, func(p tp, _ replicaAssignment) bool { return !started[p] })
}

// resumeReassignmentsFor is onBrokerStartup's maybeResumeReassignments: reassignments whose
// target includes a broker that just started.
func (c *Controller) resumeReassignmentsFor(b *batch, brokers []int32) error {
	return c.maybeResumeReassignments(b, func(_ tp, ra replicaAssignment) bool {
		return slices.ContainsFunc(ra.target(), func(r int32) bool { return slices.Contains(brokers, r) })
	})
}
