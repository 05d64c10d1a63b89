package broker

// LeaderAndIsr, key 4, versions 0-7: the controller tells this broker, per partition, who
// leads, the leader epoch, the ISR and the replicas (Kafka's ReplicaManager.becomeLeaderOrFollower).
// A request from an older controller epoch is refused with STALE_CONTROLLER_EPOCH, one meant
// for an older registration of this broker with STALE_BROKER_EPOCH (KIP-380); a partition
// state with an older leader epoch than the one applied is ignored with STALE_CONTROLLER_EPOCH
// for that partition, as Kafka does.
//
// With an authorizer it needs ClusterAction on the cluster, as every request of the
// controller.

import (
	"context"
	"fmt"
	"slices"
	"time"

	"github.com/klassik/klassik/broker/authz"
	"github.com/klassik/klassik/classroom/event"
	"github.com/klassik/klassik/wire"
	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kmsg"
)

func init() { register(4, 0, 7, (*Broker).handleLeaderAndIsr) }

// checkControllerRequest applies the fencing common to the controller's requests.
func (b *Broker) checkControllerRequest(controllerEpoch int32, brokerEpoch int64) error {
	if brokerEpoch >= 0 && brokerEpoch < b.epoch() {
		return kerr.StaleBrokerEpoch
	}
	b.rm.mu.Lock()
	defer b.rm.mu.Unlock()
	if controllerEpoch < b.rm.controllerEpoch {
		return kerr.StaleControllerEpoch
	}
	b.rm.controllerEpoch = controllerEpoch
	return nil
}

func (b *Broker) handleLeaderAndIsr(_ context.Context, req *wire.Request) (kmsg.Response, error) {
	r := req.Body.(*kmsg.LeaderAndISRRequest)
	resp := r.ResponseKind().(*kmsg.LeaderAndISRResponse)
	if !b.authorizeCluster(req, authz.OpClusterAction) { // a broker's request: ClusterAction
		resp.ErrorCode = kerr.ClusterAuthorizationFailed.Code
		return resp, nil
	}
	states := r.PartitionStates
	topicIDs := map[string][16]byte{}
	for _, ts := range r.TopicStates {
		topicIDs[ts.Topic] = ts.TopicID
		for _, ps := range ts.PartitionStates {
			ps.Topic = ts.Topic
			states = append(states, ps)
		}
	}
	if err := b.checkControllerRequest(r.ControllerEpoch, r.BrokerEpoch); err != nil {
		resp.ErrorCode = errCode(err)
		return resp, nil
	}

	now := time.Now().UnixMilli()
	codes := make([]int16, len(states))
	for i, ps := range states {
		codes[i] = errCode(b.applyLeaderAndIsr(ps, topicIDs[ps.Topic], r.LiveLeaders, now))
	}

	if r.Version < 5 {
		for i, ps := range states {
			rp := kmsg.NewLeaderAndISRResponseTopicPartition()
			rp.Topic, rp.Partition, rp.ErrorCode = ps.Topic, ps.Partition, codes[i]
			resp.Partitions = append(resp.Partitions, rp)
		}
		return resp, nil
	}
	idx := map[string]int{}
	for i, ps := range states {
		j, ok := idx[ps.Topic]
		if !ok {
			j = len(resp.Topics)
			idx[ps.Topic] = j
			t := kmsg.NewLeaderAndISRResponseTopic()
			t.TopicID = topicIDs[ps.Topic]
			resp.Topics = append(resp.Topics, t)
		}
		rp := kmsg.NewLeaderAndISRResponseTopicPartition()
		rp.Partition, rp.ErrorCode = ps.Partition, codes[i]
		resp.Topics[j].Partitions = append(resp.Topics[j].Partitions, rp)
	}
	return resp, nil
}

func (b *Broker) applyLeaderAndIsr(ps kmsg.LeaderAndISRRequestTopicPartition, topicID [16]byte, live []kmsg.LeaderAndISRRequestLiveLeader, nowMs int64) error {
	self := b.cfg.BrokerID
	hosted := false
	for _, r := range ps.Replicas {
		hosted = hosted || r == self
	}
	if !hosted {
		return kerr.UnknownTopicOrPartition
	}
	tp := topicPartition{ps.Topic, ps.Partition}
	p, err := b.rm.getOrCreate(tp)
	if err != nil {
		b.log.Error().Err(err).Str("topic", tp.topic).Int32("partition", tp.partition).Msg("creating log")
		return kerr.KafkaStorageError
	}
	p.mu.Lock()
	if ps.LeaderEpoch < p.leaderEpoch {
		p.mu.Unlock()
		return kerr.StaleControllerEpoch
	}
	p.topicID = topicID
	if ps.Leader == self {
		p.makeLeaderLocked(ps, nowMs)
		p.mu.Unlock()
		b.fetchers.removePartition(tp)
		b.coordinatorLeadershipChanged(tp, true, ps.LeaderEpoch)
		b.log.Info().Str("topic", tp.topic).Int32("partition", tp.partition).Int32("leader_epoch", ps.LeaderEpoch).Ints32("isr", ps.ISR).Msg("leading")
		b.bus.Publish(event.Event{Kind: event.BecameLeader,
			Text: fmt.Sprintf("[Broker id=%d] Leader %s-%d with leader epoch %d, ISR %s, zkVersion %d, starting at log end offset %d",
				self, tp.topic, tp.partition, ps.LeaderEpoch, ints(ps.ISR), ps.ZKVersion, p.log.LogEndOffset()),
			Topic: tp.topic, Partition: event.Int32(tp.partition), Leader: event.Int32(self), ISR: slices.Clone(ps.ISR),
			LeaderEpoch: event.Int32(ps.LeaderEpoch), ZKVersion: event.Int32(ps.ZKVersion), ControllerEpoch: event.Int32(ps.ControllerEpoch)})
		return nil
	}
	restart := p.makeFollowerLocked(ps)
	p.mu.Unlock()
	if restart {
		b.bus.Publish(event.Event{Kind: event.BecameFollower,
			Text: fmt.Sprintf("[Broker id=%d] Follower of %s-%d: leader %d with leader epoch %d, ISR %s, zkVersion %d",
				self, tp.topic, tp.partition, ps.Leader, ps.LeaderEpoch, ints(ps.ISR), ps.ZKVersion),
			Topic: tp.topic, Partition: event.Int32(tp.partition), Leader: event.Int32(ps.Leader), ISR: slices.Clone(ps.ISR),
			LeaderEpoch: event.Int32(ps.LeaderEpoch), ZKVersion: event.Int32(ps.ZKVersion), ControllerEpoch: event.Int32(ps.ControllerEpoch)})
	}
	b.coordinatorLeadershipChanged(tp, false, ps.LeaderEpoch)
	if ps.Leader < 0 {
		b.fetchers.removePartition(tp)
		return nil
	}
	if restart {
		addr, ok := b.leaderAddr(ps.Leader, live)
		if !ok {
			b.log.Warn().Str("topic", tp.topic).Int32("partition", tp.partition).Int32("leader", ps.Leader).Msg("leader's address unknown; not fetching yet")
			return nil
		}
		b.fetchers.addPartition(ps.Leader, addr, p, ps.LeaderEpoch)
		b.log.Info().Str("topic", tp.topic).Int32("partition", tp.partition).Int32("leader", ps.Leader).Int32("leader_epoch", ps.LeaderEpoch).Msg("following")
	}
	return nil
}
