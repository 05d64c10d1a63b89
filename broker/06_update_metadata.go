package broker

// UpdateMetadata, key 6, versions 0-8: the controller's picture of the cluster (live brokers
// with their endpoints, and every partition's leader, epoch, ISR and replicas). It is the only
// writer of the metadata cache, so Metadata answers the same on every broker.
//
// With an authorizer it needs ClusterAction on the cluster, as every request of the
// controller.

import (
	"context"

	"github.com/klassik/klassik/broker/authz"
	"github.com/klassik/klassik/wire"
	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kmsg"
)

func init() { register(6, 0, 8, (*Broker).handleUpdateMetadata) }

func (b *Broker) handleUpdateMetadata(_ context.Context, req *wire.Request) (kmsg.Response, error) {
	r := req.Body.(*kmsg.UpdateMetadataRequest)
	resp := r.ResponseKind().(*kmsg.UpdateMetadataResponse)
	if !b.authorizeCluster(req, authz.OpClusterAction) { // a broker's request: ClusterAction
		resp.ErrorCode = kerr.ClusterAuthorizationFailed.Code
		return resp, nil
	}
	if err := b.checkControllerRequest(r.ControllerEpoch, r.BrokerEpoch); err != nil {
		resp.ErrorCode = errCode(err)
		return resp, nil
	}
	if len(r.PartitionStates) > 0 { // v0-v4 list partitions flat
		byTopic := map[string]int{}
		for _, ps := range r.PartitionStates {
			i, ok := byTopic[ps.Topic]
			if !ok {
				i = len(r.TopicStates)
				byTopic[ps.Topic] = i
				t := kmsg.NewUpdateMetadataRequestTopicState()
				t.Topic = ps.Topic
				r.TopicStates = append(r.TopicStates, t)
			}
			r.TopicStates[i].PartitionStates = append(r.TopicStates[i].PartitionStates, ps)
		}
	}
	for _, tp := range b.meta.apply(r) {
		b.topicConfigs.forget(tp.topic)
	}
	return resp, nil
}
