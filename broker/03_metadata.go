package broker

// Metadata, key 3, versions 0-12: brokers (the endpoints of the listener the request came
// on), the controller, the cluster id, and every requested topic's partitions with leader,
// leader epoch (KIP-320), replicas, ISR and offline replicas, all from the metadata cache.
// A missing topic is created when auto.create.topics.enable is set and the client allows it
// (v4+), answering LEADER_NOT_AVAILABLE until it has leaders, as Kafka does. Topic ids from
// v10 (KIP-516). Authorized operations of the cluster (v8-10) and of each topic (v8+) when
// asked (KIP-430, authorize.go).
//
// With an authorizer, only topics the client may describe are answered (metadataAuthorized);
// a topic to be auto-created needs Create too.

import (
	"context"

	"github.com/klassik/klassik/broker/authz"
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
	byID := map[string][16]byte{} // names asked for by topic id (v12)
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
					byID[n] = t.TopicID
				} else {
					mt := kmsg.NewMetadataResponseTopic()
					mt.TopicID = t.TopicID
					mt.ErrorCode = kerr.UnknownTopicID.Code
					resp.Topics = append(resp.Topics, mt)
				}
			}
		}
	}
	names, refused := b.metadataAuthorized(req, snap, names, all, allowAuto)
	answered := len(resp.Topics)
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
			resp.AuthorizedOperations = 0
			if b.authorizeCluster(req, authz.OpDescribe) {
				resp.AuthorizedOperations = b.authorizedOperations(req, authz.ResourceCluster, authz.ClusterName)
			}
		}
		if r.IncludeTopicAuthorizedOperations {
			for i := answered; i < len(resp.Topics); i++ { // not for unknown topic ids (KafkaApis)
				resp.Topics[i].AuthorizedOperations = b.authorizedOperations(req, authz.ResourceTopic, *resp.Topics[i].Topic)
			}
		}
	}
	// Refused topics come last, as in Kafka: by name without a topic id, or by topic id
	// without a name (ids are not secret).
	for _, name := range refused {
		mt := kmsg.NewMetadataResponseTopic()
		mt.ErrorCode = kerr.TopicAuthorizationFailed.Code
		if id, ok := byID[name]; ok {
			mt.TopicID = id
		} else {
			mt.Topic = strp(name)
		}
		resp.Topics = append(resp.Topics, mt)
	}
	return resp, nil
}

// metadataAuthorized splits the topics of a Metadata request as KafkaApis does: those the
// client may describe are answered; the others are refused with TOPIC_AUTHORIZATION_FAILED
// without saying whether they exist, or, when all topics were asked for, left out unseen. A
// topic that does not exist and would be created (auto.create.topics.enable) also needs Create
// on the cluster or on the topic, else it is refused.
func (b *Broker) metadataAuthorized(req *wire.Request, snap *metadataSnapshot, names []string, all, allowAuto bool) (ok, refused []string) {
	if b.authz == nil {
		return names, nil
	}
	var missing []string
	asked := map[string]bool{}
	for _, n := range names {
		if asked[n] {
			continue
		}
		asked[n] = true
		var allowed bool
		if all {
			allowed = b.authorizeQuiet(req, authz.OpDescribe, authz.ResourceTopic, n)
		} else {
			allowed = b.authorize(req, authz.OpDescribe, authz.ResourceTopic, n)
		}
		switch {
		case allowed && snap.topics[n] == nil && !all && allowAuto && b.cfg.AutoCreateTopicsEnable:
			missing = append(missing, n)
			ok = append(ok, n)
		case allowed:
			ok = append(ok, n)
		case !all:
			refused = append(refused, n)
		}
	}
	if len(missing) > 0 && !b.authorizeQuiet(req, authz.OpCreate, authz.ResourceCluster, authz.ClusterName) {
		creatable := b.authorizedNames(req, authz.OpCreate, authz.ResourceTopic, missing)
		kept := ok[:0]
		for _, n := range ok {
			if snap.topics[n] == nil && !creatable[n] {
				refused = append(refused, n)
				continue
			}
			kept = append(kept, n)
		}
		ok = kept
	}
	return ok, refused
}
