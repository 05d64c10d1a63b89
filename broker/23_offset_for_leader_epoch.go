package broker

// OffsetForLeaderEpoch, key 23, versions 0-4 (KIP-101, KIP-279, KIP-320): for an epoch, the
// largest epoch at or below it in this log's leader-epoch cache and where that epoch ends.
// Followers use it to find where their log diverges after a leader change; consumers use it to
// detect truncation. Consumers (replica id -1) must ask the leader. With an authorizer:
// ClusterAction on the cluster, or Describe on each topic.

import (
	"context"

	"github.com/klassik/klassik/broker/authz"
	"github.com/klassik/klassik/wire"
	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kmsg"
)

func init() { register(23, 0, 4, (*Broker).handleOffsetForLeaderEpoch) }

func (b *Broker) handleOffsetForLeaderEpoch(_ context.Context, req *wire.Request) (kmsg.Response, error) {
	r := req.Body.(*kmsg.OffsetForLeaderEpochRequest)
	resp := r.ResponseKind().(*kmsg.OffsetForLeaderEpochResponse)
	replicaID := int32(-1)
	if r.Version >= 3 {
		replicaID = r.ReplicaID
	}
	// KafkaApis: ClusterAction on the cluster (a follower) answers every partition; else
	// each topic needs Describe.
	var describable map[string]bool
	if b.authz != nil && !b.authorizeQuiet(req, authz.OpClusterAction, authz.ResourceCluster, authz.ClusterName) {
		names := make([]string, 0, len(r.Topics))
		for _, rt := range r.Topics {
			names = append(names, rt.Topic)
		}
		describable = b.authorizedNames(req, authz.OpDescribe, authz.ResourceTopic, names)
	}
	for _, rt := range r.Topics {
		st := kmsg.NewOffsetForLeaderEpochResponseTopic()
		st.Topic = rt.Topic
		for _, rp := range rt.Partitions {
			sp := kmsg.NewOffsetForLeaderEpochResponseTopicPartition()
			sp.Partition = rp.Partition
			sp.LeaderEpoch, sp.EndOffset = -1, -1
			p := b.rm.get(topicPartition{rt.Topic, rp.Partition})
			switch {
			case describable != nil && !describable[rt.Topic]:
				sp.ErrorCode = kerr.TopicAuthorizationFailed.Code
			case p == nil:
				sp.ErrorCode = kerr.UnknownTopicOrPartition.Code
			default:
				v := p.view()
				if !v.isLeader && replicaID != -2 {
					sp.ErrorCode = kerr.NotLeaderForPartition.Code
				} else if err := checkEpoch(rp.CurrentLeaderEpoch, v.leaderEpoch); err != nil {
					sp.ErrorCode = errCode(err)
				} else {
					sp.LeaderEpoch, sp.EndOffset = p.log.EndOffsetForEpoch(rp.LeaderEpoch)
				}
			}
			st.Partitions = append(st.Partitions, sp)
		}
		resp.Topics = append(resp.Topics, st)
	}
	return resp, nil
}
