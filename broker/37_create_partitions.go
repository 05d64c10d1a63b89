package broker

// CreatePartitions, key 37, versions 0-3 (KIP-195): raises a topic's partition count, with
// Kafka's rack-unaware assignment for the new partitions or a manual one, validate-only too.
// The new assignment is written to /brokers/topics/<t>; the controller creates the partitions,
// and the answer waits until every live broker's metadata shows their leaders (topic_wait.go).
//
// With an authorizer each topic needs Alter.

import (
	"context"
	"time"

	"github.com/klassik/klassik/broker/authz"
	"github.com/klassik/klassik/wire"
	"github.com/klassik/klassik/zkclient"
	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kmsg"
)

func init() { register(37, 0, 3, (*Broker).handleCreatePartitions) }

func (b *Broker) handleCreatePartitions(ctx context.Context, req *wire.Request) (kmsg.Response, error) {
	r := req.Body.(*kmsg.CreatePartitionsRequest)
	resp := r.ResponseKind().(*kmsg.CreatePartitionsResponse)
	deadline := time.Now().Add(time.Duration(r.TimeoutMillis) * time.Millisecond)
	grown := map[string]int{}
	for _, t := range r.Topics {
		rt := kmsg.NewCreatePartitionsResponseTopic()
		rt.Topic = t.Topic
		err := func() error {
			if !b.authorize(req, authz.OpAlter, authz.ResourceTopic, t.Topic) {
				return errorf(kerr.TopicAuthorizationFailed, "The topic authorization is failed.")
			}
			cur, err := b.zk.TopicAssignment(t.Topic, false)
			if err != nil {
				return kerr.UnknownTopicOrPartition
			}
			have := int32(len(cur.Partitions))
			if t.Count <= have {
				return errorf(kerr.InvalidPartitions, "topic %q has %d partitions; the new count %d must be larger", t.Topic, have, t.Count)
			}
			rf := int16(len(cur.Partitions[0]))
			var added map[int32][]int32
			if len(t.Assignment) > 0 {
				if int32(len(t.Assignment)) != t.Count-have {
					return errorf(kerr.InvalidReplicaAssignment, "%d assignments given for %d new partitions", len(t.Assignment), t.Count-have)
				}
				replicas := int64(have) * int64(rf)
				for _, a := range t.Assignment {
					replicas += int64(len(a.Replicas))
				}
				if err := checkAssignmentFits(int64(t.Count), replicas); err != nil {
					return err
				}
				added = map[int32][]int32{}
				for i, a := range t.Assignment {
					added[have+int32(i)] = a.Replicas
				}
				if err := b.validateAssignment(added, have); err != nil {
					return err
				}
			} else {
				// Before anything sized by the count is allocated: the znode must be storable.
				if err := zkclient.CheckTopicZnodeSize(int64(t.Count), int64(rf)); err != nil {
					return errorf(kerr.InvalidPartitions, "%v", err)
				}
				all, err := b.assignReplicas(t.Count, rf)
				if err != nil {
					return err
				}
				added = map[int32][]int32{}
				for p := have; p < t.Count; p++ {
					added[p] = all[p]
				}
			}
			if r.ValidateOnly {
				return nil
			}
			next := zkclient.TopicAssignment{Topic: cur.Topic, TopicID: cur.TopicID, Partitions: map[int32][]int32{}, ZkVersion: cur.ZkVersion,
				AddingReplicas: cur.AddingReplicas, RemovingReplicas: cur.RemovingReplicas}
			for p, rs := range cur.Partitions {
				next.Partitions[p] = rs
			}
			for p, rs := range added {
				next.Partitions[p] = rs
			}
			if err := b.zk.SetTopicAssignment(next); err != nil {
				return errorf(kerr.UnknownServerError, "writing the assignment of %q: %v", t.Topic, err)
			}
			grown[t.Topic] = int(t.Count)
			return nil
		}()
		rt.ErrorCode = errCode(err)
		if err != nil {
			rt.ErrorMessage = errMessage(err)
		}
		resp.Topics = append(resp.Topics, rt)
	}
	if len(grown) > 0 {
		want := map[string]topicWant{}
		for name, n := range grown {
			want[name] = ledWith(n)
		}
		unmet := b.waitForTopics(ctx, deadline, want)
		for i := range resp.Topics {
			if unmet[resp.Topics[i].Topic] {
				resp.Topics[i].ErrorCode = kerr.RequestTimedOut.Code
			}
		}
	}
	return resp, nil
}
