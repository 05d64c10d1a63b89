package broker

// DescribeProducers, key 61, version 0 (KIP-664): the producers a replica of each asked
// partition tracks in its log's producer state (producer id and epoch, last sequence and
// timestamp, the coordinator epoch of the last marker, the first offset of the open
// transaction or -1), so an operator can find a hanging transaction (`klassik transactions
// describe-producers`, `find-hanging`) and abort it with WriteTxnMarkers.
//
// As Kafka 3.6 (KafkaApis.handleDescribeProducersRequest, ReplicaManager.activeProducerState,
// Partition.activeProducerState): any replica hosting the partition answers from its local
// log, leader or follower (kafka-transactions.sh's --broker-id asks a chosen replica;
// clients send it to the leader); a partition this broker does not host is
// NOT_LEADER_OR_FOLLOWER when the metadata cache knows it, UNKNOWN_TOPIC_OR_PARTITION when
// not; a replica in a failed log dir is KAFKA_STORAGE_ERROR. klassik has no authorizer, so
// TOPIC_AUTHORIZATION_FAILED is never answered.
//
// With an authorizer each topic needs Read.

import (
	"context"

	"github.com/klassik/klassik/broker/authz"
	"github.com/klassik/klassik/wire"
	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kmsg"
)

func init() { register(61, 0, 0, (*Broker).handleDescribeProducers) }

func (b *Broker) handleDescribeProducers(_ context.Context, req *wire.Request) (kmsg.Response, error) {
	r := req.Body.(*kmsg.DescribeProducersRequest)
	resp := r.ResponseKind().(*kmsg.DescribeProducersResponse)
	snap := b.meta.get()
	names := make([]string, 0, len(r.Topics))
	for _, rt := range r.Topics {
		names = append(names, rt.Topic)
	}
	readable := b.authorizedNames(req, authz.OpRead, authz.ResourceTopic, names) // KafkaApis: Read on the topic
	for _, rt := range r.Topics {
		st := kmsg.NewDescribeProducersResponseTopic()
		st.Topic = rt.Topic
		for _, part := range rt.Partitions {
			sp := kmsg.NewDescribeProducersResponseTopicPartition()
			sp.Partition = part
			sp.ActiveProducers = []kmsg.DescribeProducersResponseTopicPartitionActiveProducer{}
			tp := topicPartition{rt.Topic, part}
			_, known := snap.partition(rt.Topic, part)
			p := b.rm.get(tp)
			switch {
			case !readable[rt.Topic]:
				sp.ErrorCode = kerr.TopicAuthorizationFailed.Code
			case !known && p == nil:
				sp.ErrorCode = kerr.UnknownTopicOrPartition.Code
			case p == nil && b.rm.isOffline(tp):
				sp.ErrorCode = kerr.KafkaStorageError.Code
			case p == nil:
				sp.ErrorCode = kerr.NotLeaderForPartition.Code
			default:
				for _, ps := range p.log.ActiveProducers() {
					ap := kmsg.NewDescribeProducersResponseTopicPartitionActiveProducer()
					ap.ProducerID, ap.ProducerEpoch = ps.ProducerID, int32(ps.ProducerEpoch)
					ap.LastSequence, ap.LastTimestamp = ps.LastSequence, ps.LastTimestamp
					ap.CoordinatorEpoch, ap.CurrentTxnStartOffset = ps.CoordinatorEpoch, ps.CurrentTxnStartOffset
					sp.ActiveProducers = append(sp.ActiveProducers, ap)
				}
			}
			if sp.ErrorCode != 0 {
				sp.ActiveProducers = nil
			}
			st.Partitions = append(st.Partitions, sp)
		}
		resp.Topics = append(resp.Topics, st)
	}
	return resp, nil
}
