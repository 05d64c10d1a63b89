package broker

// StopReplica, key 5, versions 0-4: the controller tells this broker to stop replicating
// partitions, and with delete set to remove their data (topic deletion). From v3 each
// partition carries a leader epoch; -2 (EpochDuringDelete) always applies.
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

func init() { register(5, 0, 4, (*Broker).handleStopReplica) }

const epochDuringDelete = -2

func (b *Broker) handleStopReplica(_ context.Context, req *wire.Request) (kmsg.Response, error) {
	r := req.Body.(*kmsg.StopReplicaRequest)
	resp := r.ResponseKind().(*kmsg.StopReplicaResponse)
	if !b.authorizeCluster(req, authz.OpClusterAction) { // a broker's request: ClusterAction
		resp.ErrorCode = kerr.ClusterAuthorizationFailed.Code
		return resp, nil
	}
	if err := b.checkControllerRequest(r.ControllerEpoch, r.BrokerEpoch); err != nil {
		resp.ErrorCode = errCode(err)
		return resp, nil
	}
	type stop struct {
		tp     topicPartition
		epoch  int32
		delete bool
	}
	var stops []stop
	for _, t := range r.Topics {
		switch {
		case r.Version >= 3:
			for _, ps := range t.PartitionStates {
				stops = append(stops, stop{topicPartition{t.Topic, ps.Partition}, ps.LeaderEpoch, ps.Delete})
			}
		case r.Version >= 1:
			for _, p := range t.Partitions {
				stops = append(stops, stop{topicPartition{t.Topic, p}, -1, r.DeletePartitions})
			}
		default:
			stops = append(stops, stop{topicPartition{t.Topic, t.Partition}, -1, r.DeletePartitions})
		}
	}
	for _, s := range stops {
		sp := kmsg.NewStopReplicaResponsePartition()
		sp.Topic, sp.Partition = s.tp.topic, s.tp.partition
		p := b.rm.get(s.tp)
		switch {
		case p == nil:
			if s.delete {
				_ = b.rm.remove(s.tp, true) // the log may exist on disk without a partition yet
			}
		case s.epoch != epochDuringDelete && s.epoch >= 0 && s.epoch < p.view().leaderEpoch:
			sp.ErrorCode = kerr.FencedLeaderEpoch.Code
		case s.delete:
			if err := b.rm.remove(s.tp, true); err != nil {
				b.log.Error().Err(err).Str("topic", s.tp.topic).Int32("partition", s.tp.partition).Msg("deleting log")
				sp.ErrorCode = kerr.KafkaStorageError.Code
			} else {
				b.log.Info().Str("topic", s.tp.topic).Int32("partition", s.tp.partition).Msg("deleted replica")
			}
		default:
			b.fetchers.removePartition(s.tp)
			b.coordinatorLeadershipChanged(s.tp, false, s.epoch)
			p.mu.Lock()
			p.leaderID = -1
			p.signal()
			p.mu.Unlock()
		}
		resp.Partitions = append(resp.Partitions, sp)
	}
	return resp, nil
}
