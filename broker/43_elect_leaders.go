package broker

// ElectLeaders, key 43, versions 0-2 (KIP-460): a preferred (0) or unclean (1) leader
// election, run by the active controller. A broker that is not the controller answers
// NOT_CONTROLLER so the client finds it through Metadata.
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

func init() { register(43, 0, 2, (*Broker).handleElectLeaders) }

func (b *Broker) handleElectLeaders(ctx context.Context, req *wire.Request) (kmsg.Response, error) {
	r := req.Body.(*kmsg.ElectLeadersRequest)
	resp := r.ResponseKind().(*kmsg.ElectLeadersResponse)
	if !b.authorizeCluster(req, authz.OpAlter) {
		return refuseElectLeaders(r, resp, kerr.ClusterAuthorizationFailed.Code), nil
	}
	if !b.ctrl.IsActive() {
		return notControllerElectLeaders(r, resp), nil
	}
	var parts []zkclient.TopicPartition
	for _, t := range r.Topics {
		for _, p := range t.Partitions {
			parts = append(parts, zkclient.TopicPartition{Topic: t.Topic, Partition: p})
		}
	}
	if r.Topics == nil {
		parts = nil // every partition
	}
	results, err := b.ctrl.ElectLeaders(ctx, controller.ElectionType(r.ElectionType), parts)
	if errors.Is(err, controller.ErrNotActive) || errors.Is(err, controller.ErrStopped) {
		return notControllerElectLeaders(r, resp), nil
	} else if err != nil {
		resp.ErrorCode = errCode(err)
		return resp, nil
	}
	byTopic := map[string]int{}
	for tp, code := range results {
		i, ok := byTopic[tp.Topic]
		if !ok {
			i = len(resp.Topics)
			byTopic[tp.Topic] = i
			t := kmsg.NewElectLeadersResponseTopic()
			t.Topic = tp.Topic
			resp.Topics = append(resp.Topics, t)
		}
		p := kmsg.NewElectLeadersResponseTopicPartition()
		p.Partition, p.ErrorCode = tp.Partition, code
		resp.Topics[i].Partitions = append(resp.Topics[i].Partitions, p)
	}
	return resp, nil
}

// notControllerElectLeaders answers NOT_CONTROLLER at the top and for every partition asked
// for, as Kafka's KafkaApis does: a client that reads only the partitions' errors (kadm,
// v0 clients, which have no top-level code) still learns to look for the controller.
func notControllerElectLeaders(r *kmsg.ElectLeadersRequest, resp *kmsg.ElectLeadersResponse) *kmsg.ElectLeadersResponse {
	return refuseElectLeaders(r, resp, kerr.NotController.Code)
}

// refuseElectLeaders answers code for the request and each partition it names.
func refuseElectLeaders(r *kmsg.ElectLeadersRequest, resp *kmsg.ElectLeadersResponse, code int16) *kmsg.ElectLeadersResponse {
	resp.ErrorCode = code
	for _, t := range r.Topics {
		rt := kmsg.NewElectLeadersResponseTopic()
		rt.Topic = t.Topic
		for _, p := range t.Partitions {
			rp := kmsg.NewElectLeadersResponseTopicPartition()
			rp.Partition, rp.ErrorCode = p, code
			rt.Partitions = append(rt.Partitions, rp)
		}
		resp.Topics = append(resp.Topics, rt)
	}
	return resp
}
