package broker

// ListPartitionReassignments, key 46, version 0 (KIP-455): the partitions being reassigned,
// with their full replica set and the replicas being added and removed, from the active
// controller (all of them when the request names no topics). A broker that is not the
// controller answers NOT_CONTROLLER, as Kafka's ZK-mode KafkaApis does.
//
// With an authorizer it needs Describe on the cluster.

import (
	"context"
	"errors"
	"slices"
	"sort"

	"github.com/klassik/klassik/broker/authz"
	"github.com/klassik/klassik/coordinator/controller"
	"github.com/klassik/klassik/wire"
	"github.com/klassik/klassik/zkclient"
	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kmsg"
)

func init() { register(46, 0, 0, (*Broker).handleListPartitionReassignments) }

func (b *Broker) handleListPartitionReassignments(ctx context.Context, req *wire.Request) (kmsg.Response, error) {
	r := req.Body.(*kmsg.ListPartitionReassignmentsRequest)
	resp := r.ResponseKind().(*kmsg.ListPartitionReassignmentsResponse)
	if !b.authorizeCluster(req, authz.OpDescribe) {
		err := errClusterAuthorization(req)
		resp.ErrorCode, resp.ErrorMessage = errCode(err), errMessage(err)
		return resp, nil
	}
	if !b.ctrl.IsActive() {
		resp.ErrorCode = kerr.NotController.Code
		return resp, nil
	}
	var parts []zkclient.TopicPartition
	if r.Topics != nil {
		parts = []zkclient.TopicPartition{}
		for _, t := range r.Topics {
			for _, p := range t.Partitions {
				parts = append(parts, zkclient.TopicPartition{Topic: t.Topic, Partition: p})
			}
		}
	}
	ongoing, err := b.ctrl.ListPartitionReassignments(ctx, parts)
	if errors.Is(err, controller.ErrNotActive) || errors.Is(err, controller.ErrStopped) {
		resp.ErrorCode = kerr.NotController.Code
		return resp, nil
	} else if err != nil {
		resp.ErrorCode = errCode(err)
		return resp, nil
	}
	tps := make([]zkclient.TopicPartition, 0, len(ongoing))
	for tp := range ongoing {
		tps = append(tps, tp)
	}
	sort.Slice(tps, func(i, j int) bool {
		if tps[i].Topic != tps[j].Topic {
			return tps[i].Topic < tps[j].Topic
		}
		return tps[i].Partition < tps[j].Partition
	})
	for _, tp := range tps {
		n := len(resp.Topics)
		if n == 0 || resp.Topics[n-1].Topic != tp.Topic {
			t := kmsg.NewListPartitionReassignmentsResponseTopic()
			t.Topic = tp.Topic
			resp.Topics = append(resp.Topics, t)
			n++
		}
		o := ongoing[tp]
		p := kmsg.NewListPartitionReassignmentsResponseTopicPartition()
		p.Partition = tp.Partition
		p.Replicas = slices.Clone(o.Replicas)
		p.AddingReplicas = append([]int32{}, o.Adding...)
		p.RemovingReplicas = append([]int32{}, o.Removing...)
		resp.Topics[n-1].Partitions = append(resp.Topics[n-1].Partitions, p)
	}
	return resp, nil
}
