package broker

// AlterPartitionReassignments, key 45, version 0 (KIP-455): start, change or cancel (a null
// replica list) partition reassignments, run by the active controller as in Kafka's ZK-mode
// KafkaApis. A broker that is not the controller answers NOT_CONTROLLER at the top level, as
// Kafka's does; clients (kadm, kafka-reassign-partitions.sh) then find the controller through
// Metadata. The response comes when every partition's reassignment has started (or
// completed at once), not when the data has moved: ListPartitionReassignments follows it.
//
// With an authorizer it needs Alter on the cluster.

import (
	"context"
	"errors"

	"github.com/klassik/klassik/broker/authz"
	"github.com/klassik/klassik/coordinator/controller"
	"github.com/klassik/klassik/wire"
	"github.com/klassik/klassik/zkclient"
	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kmsg"
)

func init() { register(45, 0, 0, (*Broker).handleAlterPartitionReassignments) }

func (b *Broker) handleAlterPartitionReassignments(ctx context.Context, req *wire.Request) (kmsg.Response, error) {
	r := req.Body.(*kmsg.AlterPartitionAssignmentsRequest)
	resp := r.ResponseKind().(*kmsg.AlterPartitionAssignmentsResponse)
	if !b.authorizeCluster(req, authz.OpAlter) {
		err := errClusterAuthorization(req)
		resp.ErrorCode, resp.ErrorMessage = errCode(err), errMessage(err)
		return resp, nil
	}
	if !b.ctrl.IsActive() {
		resp.ErrorCode = kerr.NotController.Code
		return resp, nil
	}
	reqs := map[zkclient.TopicPartition]controller.ReassignmentTarget{}
	for _, t := range r.Topics {
		for _, p := range t.Partitions {
			tp := zkclient.TopicPartition{Topic: t.Topic, Partition: p.Partition}
			if p.Replicas == nil {
				reqs[tp] = controller.ReassignmentTarget{Cancel: true}
			} else {
				reqs[tp] = controller.ReassignmentTarget{Replicas: append([]int32{}, p.Replicas...)}
			}
		}
	}
	results, err := b.ctrl.AlterPartitionReassignments(ctx, reqs)
	if errors.Is(err, controller.ErrNotActive) || errors.Is(err, controller.ErrStopped) {
		resp.ErrorCode = kerr.NotController.Code
		return resp, nil
	} else if err != nil {
		resp.ErrorCode = errCode(err)
		return resp, nil
	}
	for _, t := range r.Topics {
		rt := kmsg.NewAlterPartitionAssignmentsResponseTopic()
		rt.Topic = t.Topic
		for _, p := range t.Partitions {
			rp := kmsg.NewAlterPartitionAssignmentsResponseTopicPartition()
			rp.Partition = p.Partition
			res := results[zkclient.TopicPartition{Topic: t.Topic, Partition: p.Partition}]
			rp.ErrorCode = res.Code
			if res.Message != "" {
				msg := res.Message
				rp.ErrorMessage = &msg
			}
			rt.Partitions = append(rt.Partitions, rp)
		}
		resp.Topics = append(resp.Topics, rt)
	}
	return resp, nil
}
