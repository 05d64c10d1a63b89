package broker

// Metadata, key 3, versions 0-12: brokers (the endpoints of the listener the request came
// on), the controller, the cluster id, and every requested topic's partitions with leader,
// leader epoch (KIP-320), replicas, ISR and offline replicas, all from the metadata cache.
// A missing topic is created when auto.create.topics.enable is set and the client allows it
// (v4+), answering LEADER_NOT_AVAILABLE until it has leaders, as Kafka does. Topic ids from
// v10 (KIP-516). Authorized operations of the cluster (v8-10) and of each topic (v8+) when
// asked (KIP-430, authorized_operations.go).

import (
	"context"

	"github.com/klassik/klassik/wire"
	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kmsg"
)

func init() { register(3, 0, 12, (*Broker).handleMetadata) }

func (b *Broker) handleMetadata(_ context.Context, req *wire.Request) (kmsg.Response, error) {
	r := req.Body.(*kmsg.MetadataRequest)
	resp := r.ResponseKind().(*kmsg.MetadataResponse)
	snap := b.meta.get()

	for _, id := range snap.liveBrokerIDs() {
		cb := snap.brokers[id]
		hp, ok := cb.endpoints[req.Conn.Listener]
		if !ok {
			continue // Kafka lists only brokers reachable on the request's listener
		}
		mb := kmsg.NewMetadataResponseBroker()
		mb.NodeID, mb.Host, mb.Port, mb.Rack = id, hp.host, hp.port, cb.rack
		resp.Brokers = append(resp.Brokers, mb)
	}
	resp.ClusterID = &b.clusterID
	resp.ControllerID = snap.controllerID

	allowAuto := r.Version < 4 || r.AllowAutoTopicCreation
	var names []string
	all := r.Topics == nil || (r.Version == 0 && len(r.Topics) == 0)
	if all {
		names = snap.topicNamesSorted()
	} else {
		for _, t := range r.Topics {
			switch {
			case t.Topic != nil:
				names = append(names, *t.Topic)
			case t.TopicID != [16]byte{}:
				if n, ok := snap.topicNames[t.TopicID]; ok {
					names = append(names, n)
				} else {
					mt := kmsg.NewMetadataResponseTopic()
					mt.TopicID = t.TopicID
					mt.ErrorCode = kerr.UnknownTopicID.Code
					resp.Topics = append(resp.Topics, mt)
				}
			}
		}
	}
	for _, name := range names {
		mt := kmsg.NewMetadataResponseTopic()
		mt.Topic = strp(name)
		t := snap.topics[name]
		if t == nil {
			mt.ErrorCode = kerr.UnknownTopicOrPartition.Code
			if !all && allowAuto && b.cfg.AutoCreateTopicsEnable {
				mt.ErrorCode = errCode(b.autoCreateTopic(name))
			}
			resp.Topics = append(resp.Topics, mt)
			continue
		}
		mt.TopicID = t.id
		mt.IsInternal = isInternalTopic(name)
		for _, p := range sortedPartitionIDs(t.partitions) {
			st := t.partitions[p]
			mp := kmsg.NewMetadataResponseTopicPartition()
			mp.Partition, mp.Leader, mp.LeaderEpoch = p, st.Leader, st.LeaderEpoch
			mp.Replicas, mp.ISR, mp.OfflineReplicas = st.Replicas, st.ISR, st.OfflineReplicas
			if mp.Replicas == nil {
				mp.Replicas = []int32{}
			}
			if mp.ISR == nil {
				mp.ISR = []int32{}
			}
			if st.Leader < 0 {
				mp.ErrorCode = kerr.LeaderNotAvailable.Code
			} else if _, alive := snap.brokers[st.Leader]; !alive {
				// A dead leader is no leader (Kafka's ZkMetadataCache: NO_LEADER_ID), so
				// clients do not keep sending to it.
				mp.ErrorCode = kerr.LeaderNotAvailable.Code
				mp.Leader = -1
			}
			mt.Partitions = append(mt.Partitions, mp)
		}
		resp.Topics = append(resp.Topics, mt)
	}
	if r.Version >= 8 {
		if r.Version <= 10 && r.IncludeClusterAuthorizedOperations {
			resp.AuthorizedOperations = clusterAuthorizedOperations
		}
		if r.IncludeTopicAuthorizedOperations {
			for i := range resp.Topics {
				if resp.Topics[i].Topic != nil { // not for unknown topic ids (KafkaApis)
					resp.Topics[i].AuthorizedOperations = topicAuthorizedOperations
				}
			}
		}
	}
	return resp, nil
}
