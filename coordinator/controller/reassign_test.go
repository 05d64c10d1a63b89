package controller

import (
	"context"
	"slices"
	"testing"
	"time"

	"github.com/klassik/klassik/zkclient"
	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kmsg"
)

// fourBrokers: brokers 1-4 and topic a with a-0 on [1,2,3] led by 1 (ISR [1,2,3], leader
// epoch 3) and a-1 on [2,3,1] led by 2.
func fourBrokers() *fakeZK {
	zk := newFakeZK()
	for _, id := range []int32{1, 2, 3, 4} {
		zk.addBroker(id, int64(10+id))
	}
	zk.addTopic("a", map[int32][]int32{0: {1, 2, 3}, 1: {2, 3, 1}},
		map[int32]zkclient.PartitionState{0: st(1, 3, 1, 2, 3), 1: st(2, 0, 2, 3, 1)})
	return zk
}

// expandISR is what the leader does when a new replica catches up: a conditional write of
// the state znode and an ISR change notification.
func (f *fakeZK) expandISR(t string, p int32, isr ...int32) {
	f.mu.Lock()
	defer f.mu.Unlock()
	cur := f.states[part(t, p)]
	cur.ISR = isr
	cur.ZkVersion++
	f.states[part(t, p)] = cur
	f.isrNotes = append(f.isrNotes, part(t, p))
}

func (f *fakeZK) topic(t string) zkclient.TopicAssignment {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.topics[t]
}

func (h *harness) alter(reqs map[tp]ReassignmentTarget) map[tp]ReassignmentResult {
	h.t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	res, err := h.c.AlterPartitionReassignments(ctx, reqs)
	if err != nil {
		h.t.Fatal(err)
	}
	return res
}

func (h *harness) list(parts []tp) map[tp]OngoingReassignment {
	h.t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	res, err := h.c.ListPartitionReassignments(ctx, parts)
	if err != nil {
		h.t.Fatal(err)
	}
	return res
}

func stopReplicaDelete(h *harness, broker int32, p tp) bool {
	for _, r := range h.send.requests(broker) {
		if sr, ok := r.(*kmsg.StopReplicaRequest); ok {
			for _, t := range sr.Topics {
				for _, ps := range t.PartitionStates {
					if t.Topic == p.Topic && ps.Partition == p.Partition && ps.Delete {
						return true
					}
				}
			}
		}
	}
	return false
}

// KIP-455's sequence: [1,2,3] -> [2,3,4]. RS = TRS ++ ORS = [2,3,4,1] with adding [4] and
// removing [1] in the topic znode; the leader epoch is bumped and broker 4 gets an isNew
// LeaderAndIsr; once 4 is in the ISR, 2 (the first target replica in the ISR) is elected
// because leader 1 is being removed, 1 leaves the ISR and is deleted, and the znode holds
// [2,3,4] with nothing adding or removing.
func TestReassignmentSequence(t *testing.T) {
	zk := fourBrokers()
	h := activeController(t, zk, Config{})
	p := part("a", 0)

	res := h.alter(map[tp]ReassignmentTarget{p: {Replicas: []int32{2, 3, 4}}})
	if res[p].Code != 0 {
		t.Fatalf("alter: %+v", res)
	}
	a := zk.topic("a")
	if !slices.Equal(a.Partitions[0], []int32{2, 3, 4, 1}) || !slices.Equal(a.AddingReplicas[0], []int32{4}) || !slices.Equal(a.RemovingReplicas[0], []int32{1}) {
		t.Fatalf("topic znode while reassigning: %+v", a)
	}
	if !slices.Equal(a.Partitions[1], []int32{2, 3, 1}) {
		t.Fatalf("a-1 changed: %v", a.Partitions[1])
	}
	if s, _ := zk.state("a", 0); s.Leader != 1 || s.LeaderEpoch != 4 || !slices.Equal(s.ISR, []int32{1, 2, 3}) {
		t.Fatalf("state after A1: %+v", s)
	}
	h.waitLAI(4, p, func(ps kmsg.LeaderAndISRRequestTopicPartition) bool {
		return ps.IsNew && ps.Leader == 1 && ps.LeaderEpoch == 4 && slices.Equal(ps.Replicas, []int32{2, 3, 4, 1}) &&
			slices.Equal(ps.AddingReplicas, []int32{4}) && slices.Equal(ps.RemovingReplicas, []int32{1})
	})
	h.waitLAI(1, p, func(ps kmsg.LeaderAndISRRequestTopicPartition) bool { return !ps.IsNew && ps.LeaderEpoch == 4 })
	if got := h.list(nil); len(got) != 1 || !slices.Equal(got[p].Adding, []int32{4}) || !slices.Equal(got[p].Removing, []int32{1}) {
		t.Fatalf("list while reassigning: %+v", got)
	}

	// An ISR change that leaves the target incomplete changes nothing.
	zk.expandISR("a", 0, 1, 2, 3)
	h.enqueue(zkclient.EventIsrChangeNotification, "")
	if s, _ := zk.state("a", 0); s.LeaderEpoch != 4 {
		t.Fatalf("incomplete ISR change moved the state: %+v", s)
	}

	zk.expandISR("a", 0, 1, 2, 3, 4)
	h.enqueue(zkclient.EventIsrChangeNotification, "")
	a = zk.topic("a")
	if !slices.Equal(a.Partitions[0], []int32{2, 3, 4}) || len(a.AddingReplicas[0])+len(a.RemovingReplicas[0]) != 0 {
		t.Fatalf("topic znode after: %+v", a)
	}
	s, _ := zk.state("a", 0)
	if s.Leader != 2 || !slices.Equal(s.ISR, []int32{2, 3, 4}) || s.LeaderEpoch != 6 {
		t.Fatalf("state after: %+v (want leader 2, ISR [2,3,4], epoch 6: elected then 1 removed)", s)
	}
	waitFor(t, "StopReplica(delete) to broker 1", func() bool { return stopReplicaDelete(h, 1, p) })
	h.waitLAI(2, p, func(ps kmsg.LeaderAndISRRequestTopicPartition) bool {
		return ps.Leader == 2 && ps.LeaderEpoch == 6 && slices.Equal(ps.Replicas, []int32{2, 3, 4}) && len(ps.AddingReplicas) == 0
	})
	h.waitUM(3, func(um *kmsg.UpdateMetadataRequest) bool {
		ps, ok := umPartition(um, p)
		return ok && slices.Equal(ps.Replicas, []int32{2, 3, 4}) && ps.Leader == 2
	})
	if got := h.list(nil); len(got) != 0 {
		t.Fatalf("list after: %+v", got)
	}
}

// A reassignment that keeps the leader bumps the epoch instead of electing (Kafka's
// moveReassignedPartitionLeaderIfRequired); one whose target is already in the ISR (a
// shrink) completes at once.
func TestReassignmentShrinkKeepsLeader(t *testing.T) {
	zk := fourBrokers()
	h := activeController(t, zk, Config{})
	p := part("a", 1)
	if res := h.alter(map[tp]ReassignmentTarget{p: {Replicas: []int32{2, 3}}}); res[p].Code != 0 {
		t.Fatalf("alter: %+v", res)
	}
	a := zk.topic("a")
	if !slices.Equal(a.Partitions[1], []int32{2, 3}) || len(a.RemovingReplicas[1]) != 0 {
		t.Fatalf("topic: %+v", a)
	}
	if s, _ := zk.state("a", 1); s.Leader != 2 || !slices.Equal(s.ISR, []int32{2, 3}) {
		t.Fatalf("state: %+v", s)
	}
	waitFor(t, "StopReplica(delete) to broker 1", func() bool { return stopReplicaDelete(h, 1, p) })
}

// Cancelling (a null replica list) reverts to ORS = RS - adding: the adding replica is
// stopped and deleted; cancelling again is NO_REASSIGNMENT_IN_PROGRESS. As in Kafka, ORS
// keeps RS's order, which lists the target first: [2,3,4,1] - [4] = [2,3,1].
// The leader stays.
func TestReassignmentCancel(t *testing.T) {
	zk := fourBrokers()
	h := activeController(t, zk, Config{})
	p := part("a", 0)
	h.alter(map[tp]ReassignmentTarget{p: {Replicas: []int32{2, 3, 4}}})
	res := h.alter(map[tp]ReassignmentTarget{p: {Cancel: true}})
	if res[p].Code != 0 {
		t.Fatalf("cancel: %+v", res)
	}
	a := zk.topic("a")
	if !slices.Equal(a.Partitions[0], []int32{2, 3, 1}) || len(a.AddingReplicas[0])+len(a.RemovingReplicas[0]) != 0 {
		t.Fatalf("topic after cancel: %+v", a)
	}
	if s, _ := zk.state("a", 0); s.Leader != 1 || !slices.Equal(s.ISR, []int32{1, 2, 3}) {
		t.Fatalf("state after cancel: %+v", s)
	}
	waitFor(t, "StopReplica(delete) to broker 4", func() bool { return stopReplicaDelete(h, 4, p) })
	res = h.alter(map[tp]ReassignmentTarget{p: {Cancel: true}})
	if res[p].Code != kerr.NoReassignmentInProgress.Code {
		t.Fatalf("second cancel: %+v", res)
	}
}

func TestReassignmentErrors(t *testing.T) {
	zk := fourBrokers()
	h := activeController(t, zk, Config{})
	res := h.alter(map[tp]ReassignmentTarget{
		part("a", 0):    {Replicas: []int32{2, 2, 3}},
		part("a", 1):    {Replicas: []int32{}},
		part("a", 9):    {Replicas: []int32{1}},
		part("nope", 0): {Replicas: []int32{1}},
		part("a", 2):    {Cancel: true},
	})
	want := map[tp]int16{
		part("a", 0):    kerr.InvalidReplicaAssignment.Code,
		part("a", 1):    kerr.InvalidReplicaAssignment.Code,
		part("a", 9):    kerr.UnknownTopicOrPartition.Code,
		part("nope", 0): kerr.UnknownTopicOrPartition.Code,
		part("a", 2):    kerr.NoReassignmentInProgress.Code,
	}
	for p, code := range want {
		if res[p].Code != code {
			t.Errorf("%v: got %+v, want code %d", p, res[p], code)
		}
	}
	// A broker that is not alive cannot be added.
	res = h.alter(map[tp]ReassignmentTarget{part("a", 0): {Replicas: []int32{1, 2, 9}}})
	if r := res[part("a", 0)]; r.Code != kerr.InvalidReplicaAssignment.Code || r.Message == "" {
		t.Fatalf("dead broker: %+v", r)
	}
	if a := zk.topic("a"); !slices.Equal(a.Partitions[0], []int32{1, 2, 3}) {
		t.Fatalf("a rejected reassignment changed the topic: %+v", a)
	}
}

// A new controller finds adding/removing replicas in the topic znode (a reassignment the
// old one started) and carries on: here the target is already in the ISR, so it completes.
func TestReassignmentResumedAfterFailover(t *testing.T) {
	zk := fourBrokers()
	zk.topics["a"] = zkclient.TopicAssignment{Topic: "a", Partitions: map[int32][]int32{0: {2, 3, 4, 1}, 1: {2, 3, 1}},
		AddingReplicas: map[int32][]int32{0: {4}}, RemovingReplicas: map[int32][]int32{0: {1}}}
	zk.states[part("a", 0)] = st(1, 5, 1, 2, 3, 4)
	// a-1: a reassignment onto 4 that has not caught up.
	zk.topics["a"].Partitions[1] = []int32{4, 2, 3, 1}
	zk.topics["a"].AddingReplicas[1] = []int32{4}
	zk.topics["a"].RemovingReplicas[1] = []int32{1}
	h := activeController(t, zk, Config{})

	a := zk.topic("a")
	if !slices.Equal(a.Partitions[0], []int32{2, 3, 4}) || len(a.AddingReplicas[0]) != 0 {
		t.Fatalf("a-0 not completed after failover: %+v", a)
	}
	if s, _ := zk.state("a", 0); s.Leader != 2 || !slices.Equal(s.ISR, []int32{2, 3, 4}) {
		t.Fatalf("a-0 state: %+v", s)
	}
	if !slices.Equal(a.Partitions[1], []int32{4, 2, 3, 1}) || !slices.Equal(a.AddingReplicas[1], []int32{4}) {
		t.Fatalf("a-1 should still be reassigning: %+v", a)
	}
	h.waitLAI(4, part("a", 1), func(ps kmsg.LeaderAndISRRequestTopicPartition) bool {
		return ps.IsNew && slices.Equal(ps.AddingReplicas, []int32{4})
	})
	if got := h.list([]tp{part("a", 1), part("a", 0)}); len(got) != 1 {
		t.Fatalf("list: %+v", got)
	}
}

// The legacy znode: the controller starts what /admin/reassign_partitions asks, removes each
// partition from it once complete, and deletes it when none is left.
func TestReassignmentThroughZnode(t *testing.T) {
	zk := fourBrokers()
	h := activeController(t, zk, Config{})
	zk.mu.Lock()
	zk.reassign = map[tp][]int32{part("a", 0): {1, 2, 4}, part("a", 1): {2, 3}}
	zk.mu.Unlock()
	h.enqueue(zkclient.EventPartitionReassignment, "")

	// a-1 (a shrink) completed at once and left the znode; a-0 waits for 4.
	zk.mu.Lock()
	left := zk.reassign
	zk.mu.Unlock()
	if len(left) != 1 || !slices.Equal(left[part("a", 0)], []int32{1, 2, 4}) {
		t.Fatalf("znode after start: %v", left)
	}
	if a := zk.topic("a"); !slices.Equal(a.Partitions[0], []int32{1, 2, 4, 3}) || !slices.Equal(a.Partitions[1], []int32{2, 3}) {
		t.Fatalf("topic: %+v", a)
	}
	zk.expandISR("a", 0, 1, 2, 3, 4)
	h.enqueue(zkclient.EventIsrChangeNotification, "")
	zk.mu.Lock()
	left = zk.reassign
	zk.mu.Unlock()
	if left != nil {
		t.Fatalf("znode not deleted: %v", left)
	}
	if a := zk.topic("a"); !slices.Equal(a.Partitions[0], []int32{1, 2, 4}) {
		t.Fatalf("topic after: %+v", a)
	}
	// The leader 1 stays: epoch bumped, not elected.
	if s, _ := zk.state("a", 0); s.Leader != 1 || !slices.Equal(s.ISR, []int32{1, 2, 4}) {
		t.Fatalf("state after: %+v", s)
	}
}

func TestReplicaAssignmentReassignTo(t *testing.T) {
	cur := replicaAssignment{replicas: []int32{1, 2, 3}}
	next := cur.reassignTo([]int32{3, 4, 5})
	if !slices.Equal(next.replicas, []int32{3, 4, 5, 1, 2}) || !slices.Equal(next.adding, []int32{4, 5}) || !slices.Equal(next.removing, []int32{1, 2}) {
		t.Fatalf("%+v", next)
	}
	// Changing the target of a running reassignment keeps ORS (as a set: RS lists the
	// target first, so ORS comes out as [1,3,2]).
	again := next.reassignTo([]int32{1, 4})
	if !slices.Equal(again.origin(), []int32{1, 3, 2}) || !slices.Equal(again.replicas, []int32{1, 4, 3, 2}) ||
		!slices.Equal(again.adding, []int32{4}) || !slices.Equal(again.removing, []int32{3, 2}) {
		t.Fatalf("%+v", again)
	}
	if c := next.reassignTo(next.origin()); c.isBeingReassigned() || !slices.Equal(c.replicas, []int32{3, 1, 2}) {
		t.Fatalf("cancel: %+v", c)
	}
}
