package controller

import (
	"slices"
	"strings"

	"github.com/klassik/klassik/zkclient"
	"github.com/twmb/franz-go/pkg/kmsg"
)

// Request versions the controller sends (Kafka 2.8 through 3.3 inter-broker protocol).
const (
	leaderAndIsrVersion   = 6
	updateMetadataVersion = 7
	stopReplicaVersion    = 3
)

// outRequest is one controller request for one broker.
type outRequest struct {
	Broker int32
	Req    kmsg.Request
}

type laiEntry struct {
	st       zkclient.PartitionState
	replicas []int32
	adding   []int32 // KIP-455: replicas being added by a reassignment
	removing []int32 // replicas being removed
	isNew    bool
}

// batch is Kafka's ControllerBrokerRequestBatch: requests gathered while handling one event,
// turned into at most one LeaderAndIsr, one UpdateMetadata and one StopReplica per broker.
// Adding is pure bookkeeping; buildRequests makes the kmsg requests from the cluster state.
type batch struct {
	lai       map[int32]map[tp]laiEntry
	umBrokers map[int32]bool
	umParts   map[tp]bool
	stop      map[int32]map[tp]bool // partition -> deletePartition
}

func newBatch() *batch {
	return &batch{
		lai:       map[int32]map[tp]laiEntry{},
		umBrokers: map[int32]bool{},
		umParts:   map[tp]bool{},
		stop:      map[int32]map[tp]bool{},
	}
}

func (b *batch) empty() bool {
	return len(b.lai) == 0 && len(b.umBrokers) == 0 && len(b.stop) == 0
}

// addLeaderAndIsr queues p's current state for brokers, and (as Kafka does) an
// UpdateMetadata for p to every live broker.
func (b *batch) addLeaderAndIsr(s *clusterState, brokers []int32, p tp, isNew bool) {
	st, ok := s.leadership[p]
	if !ok {
		return
	}
	for _, id := range brokers {
		if id < 0 {
			continue
		}
		m := b.lai[id]
		if m == nil {
			m = map[tp]laiEntry{}
			b.lai[id] = m
		}
		already := m[p].isNew
		a := s.assignment(p)
		m[p] = laiEntry{st: st, replicas: a.replicas, adding: a.adding, removing: a.removing, isNew: isNew || already}
	}
	b.addUpdateMetadata(s.brokerIDs(), p)
}

// addUpdateMetadata queues an UpdateMetadata to brokers; every broker in the batch's
// UpdateMetadata set gets the states of every partition added (and the live broker list).
func (b *batch) addUpdateMetadata(brokers []int32, parts ...tp) {
	for _, id := range brokers {
		if id >= 0 {
			b.umBrokers[id] = true
		}
	}
	for _, p := range parts {
		b.umParts[p] = true
	}
}

func (b *batch) addStopReplica(brokers []int32, p tp, deletePartition bool) {
	for _, id := range brokers {
		if id < 0 {
			continue
		}
		m := b.stop[id]
		if m == nil {
			m = map[tp]bool{}
			b.stop[id] = m
		}
		m[p] = m[p] || deletePartition
	}
}

// buildRequests turns the batch into requests, in Kafka's order per broker: LeaderAndIsr,
// then UpdateMetadata, then StopReplica. Brokers that are not live are skipped.
func (s *clusterState) buildRequests(b *batch, listener string) []outRequest {
	var out []outRequest
	for _, id := range sortedKeys(b.lai) {
		if info, ok := s.brokers[id]; ok {
			out = append(out, outRequest{id, s.leaderAndIsrRequest(info, b.lai[id], listener)})
		}
	}
	if len(b.umBrokers) > 0 {
		parts := make([]tp, 0, len(b.umParts))
		for p := range b.umParts {
			parts = append(parts, p)
		}
		sortTPs(parts)
		for _, id := range sortedKeys(b.umBrokers) {
			if info, ok := s.brokers[id]; ok {
				out = append(out, outRequest{id, s.updateMetadataRequest(info, parts)})
			}
		}
	}
	for _, id := range sortedKeys(b.stop) {
		if info, ok := s.brokers[id]; ok {
			out = append(out, outRequest{id, s.stopReplicaRequest(info, b.stop[id])})
		}
	}
	return out
}

func (s *clusterState) leaderAndIsrRequest(to zkclient.BrokerInfo, entries map[tp]laiEntry, listener string) *kmsg.LeaderAndISRRequest {
	req := kmsg.NewPtrLeaderAndISRRequest()
	req.SetVersion(leaderAndIsrVersion)
	req.ControllerID = s.controllerID
	req.ControllerEpoch = s.epoch.Epoch
	req.BrokerEpoch = to.Epoch
	req.Type = 0 // incremental; FULL (1) is only sent by a KRaft controller during migration
	parts := make([]tp, 0, len(entries))
	for p := range entries {
		parts = append(parts, p)
	}
	sortTPs(parts)
	leaders := map[int32]bool{}
	for _, p := range parts {
		e := entries[p]
		n := len(req.TopicStates)
		if n == 0 || req.TopicStates[n-1].Topic != p.Topic {
			ts := kmsg.NewLeaderAndISRRequestTopicState()
			ts.Topic = p.Topic
			if t := s.topics[p.Topic]; t != nil {
				ts.TopicID = t.id
			}
			req.TopicStates = append(req.TopicStates, ts)
			n++
		}
		ps := kmsg.NewLeaderAndISRRequestTopicPartition()
		ps.Topic = p.Topic
		ps.Partition = p.Partition
		ps.ControllerEpoch = e.st.ControllerEpoch
		ps.Leader = e.st.Leader
		ps.LeaderEpoch = e.st.LeaderEpoch
		ps.ISR = slices.Clone(e.st.ISR)
		ps.ZKVersion = e.st.ZkVersion
		ps.Replicas = e.replicas
		ps.AddingReplicas = e.adding
		ps.RemovingReplicas = e.removing
		ps.IsNew = e.isNew
		ps.LeaderRecoveryState = e.st.LeaderRecoveryState
		req.TopicStates[n-1].PartitionStates = append(req.TopicStates[n-1].PartitionStates, ps)
		leaders[e.st.Leader] = true
	}
	for _, id := range sortedKeys(leaders) {
		info, ok := s.brokers[id]
		if !ok {
			continue
		}
		host, port := interBrokerEndpoint(info, listener)
		ll := kmsg.NewLeaderAndISRRequestLiveLeader()
		ll.BrokerID = id
		ll.Host = host
		ll.Port = port
		req.LiveLeaders = append(req.LiveLeaders, ll)
	}
	return req
}

func (s *clusterState) updateMetadataRequest(to zkclient.BrokerInfo, parts []tp) *kmsg.UpdateMetadataRequest {
	req := kmsg.NewPtrUpdateMetadataRequest()
	req.SetVersion(updateMetadataVersion)
	req.ControllerID = s.controllerID
	req.ControllerEpoch = s.epoch.Epoch
	req.BrokerEpoch = to.Epoch
	for _, p := range parts {
		st, ok := s.leadership[p]
		if !ok || !s.exists(p) {
			continue // Kafka: "Leader not yet assigned"; nothing to say
		}
		n := len(req.TopicStates)
		if n == 0 || req.TopicStates[n-1].Topic != p.Topic {
			ts := kmsg.NewUpdateMetadataRequestTopicState()
			ts.Topic = p.Topic
			if t := s.topics[p.Topic]; t != nil {
				ts.TopicID = t.id
			}
			req.TopicStates = append(req.TopicStates, ts)
			n++
		}
		ps := kmsg.NewUpdateMetadataRequestTopicPartition()
		ps.Topic = p.Topic
		ps.Partition = p.Partition
		ps.ControllerEpoch = st.ControllerEpoch
		ps.Leader = st.Leader
		ps.LeaderEpoch = st.LeaderEpoch
		ps.ZKVersion = st.ZkVersion
		if s.deleting[p.Topic] {
			// LeaderAndIsr.duringDelete: brokers drop the partition from their cache.
			ps.Leader = leaderDuringDelete
			ps.LeaderEpoch = 0
			ps.ZKVersion = 0
		}
		ps.ISR = slices.Clone(st.ISR)
		ps.Replicas = slices.Clone(s.replicas(p))
		ps.OfflineReplicas = s.offlineReplicas(p)
		req.TopicStates[n-1].PartitionStates = append(req.TopicStates[n-1].PartitionStates, ps)
	}
	for _, id := range s.brokerIDs() {
		info := s.brokers[id]
		lb := kmsg.NewUpdateMetadataRequestLiveBroker()
		lb.ID = id
		lb.Host = info.Host
		lb.Port = info.Port
		for _, ep := range info.Endpoints {
			e := kmsg.NewUpdateMetadataRequestLiveBrokerEndpoint()
			e.Host = ep.Host
			e.Port = ep.Port
			e.ListenerName = ep.ListenerName
			e.SecurityProtocol = securityProtocolID(ep.SecurityProtocol)
			lb.Endpoints = append(lb.Endpoints, e)
		}
		if info.Rack != "" {
			rack := info.Rack
			lb.Rack = &rack
		}
		req.LiveBrokers = append(req.LiveBrokers, lb)
	}
	return req
}

func (s *clusterState) stopReplicaRequest(to zkclient.BrokerInfo, parts map[tp]bool) *kmsg.StopReplicaRequest {
	req := kmsg.NewPtrStopReplicaRequest()
	req.SetVersion(stopReplicaVersion)
	req.ControllerID = s.controllerID
	req.ControllerEpoch = s.epoch.Epoch
	req.BrokerEpoch = to.Epoch
	ps := make([]tp, 0, len(parts))
	for p := range parts {
		ps = append(ps, p)
	}
	sortTPs(ps)
	for _, p := range ps {
		n := len(req.Topics)
		if n == 0 || req.Topics[n-1].Topic != p.Topic {
			t := kmsg.NewStopReplicaRequestTopic()
			t.Topic = p.Topic
			req.Topics = append(req.Topics, t)
			n++
		}
		st := kmsg.NewStopReplicaRequestTopicPartitionState()
		st.Partition = p.Partition
		st.LeaderEpoch = s.stopReplicaEpoch(p)
		st.Delete = parts[p]
		req.Topics[n-1].PartitionStates = append(req.Topics[n-1].PartitionStates, st)
	}
	return req
}

// stopReplicaEpoch is ControllerContext.leaderEpoch: -2 while the topic is being deleted
// (overriding any epoch), else the cached leader epoch, else -1.
func (s *clusterState) stopReplicaEpoch(p tp) int32 {
	if s.deleting[p.Topic] {
		return epochDuringDelete
	}
	if st, ok := s.leadership[p]; ok {
		return st.LeaderEpoch
	}
	return noEpoch
}

// interBrokerEndpoint picks the broker's endpoint on the inter-broker listener.
func interBrokerEndpoint(info zkclient.BrokerInfo, listener string) (string, int32) {
	for _, ep := range info.Endpoints {
		if strings.EqualFold(ep.ListenerName, listener) {
			return ep.Host, ep.Port
		}
	}
	if len(info.Endpoints) > 0 {
		return info.Endpoints[0].Host, info.Endpoints[0].Port
	}
	return info.Host, info.Port
}

// securityProtocolID is Kafka's SecurityProtocol.id.
func securityProtocolID(name string) int16 {
	switch strings.ToUpper(name) {
	case "SSL":
		return 1
	case "SASL_PLAINTEXT":
		return 2
	case "SASL_SSL":
		return 3
	}
	return 0 // PLAINTEXT
}
