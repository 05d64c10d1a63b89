package broker

// WriteTxnMarkers, key 27, versions 0-1 (KIP-98; v1 is the flexible version of KIP-482): the
// transaction coordinator asks the leader of each partition of a transaction to append the
// COMMIT or ABORT marker that ends it (Kafka's KafkaApis.handleWriteTxnMarkersRequest). Each
// marker is a control batch (package record) appended with acks=all: a partition is answered
// once the high watermark passes its marker, or REQUEST_TIMED_OUT after request.timeout.ms.
// Per-partition errors as Kafka: UNKNOWN_TOPIC_OR_PARTITION, NOT_LEADER_OR_FOLLOWER,
// NOT_ENOUGH_REPLICAS, INVALID_PRODUCER_EPOCH for a producer epoch older than the
// partition's, TRANSACTION_COORDINATOR_FENCED for a coordinator epoch older than the one that
// wrote the producer's last marker there, KAFKA_STORAGE_ERROR.
//
// It is an inter-broker API: with an authorizer it needs ClusterAction on the cluster (else
// every partition is CLUSTER_AUTHORIZATION_FAILED). Clients never send it.
//
// Once the markers of a producer are written to partitions of __consumer_offsets, the group
// coordinator is told through Broker.txnCompletion, so it materializes or drops the
// producer's pending transactional offsets (TxnOffsetCommit).

import (
	"context"
	"time"

	"github.com/klassik/klassik/broker/authz"
	"github.com/klassik/klassik/record"
	"github.com/klassik/klassik/wire"
	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kmsg"
)

func init() { register(27, 0, 1, (*Broker).handleWriteTxnMarkers) }

// markerTimeout bounds the wait for replication of the markers: Kafka's request.timeout.ms
// default, which its handler uses for this append.
const markerTimeout = 30 * time.Second

// markerWait is an appended marker waiting for the high watermark.
type markerWait struct {
	p          *partition
	mi, ti, pi int // where its answer sits in the response
	last       int64
}

func (b *Broker) handleWriteTxnMarkers(ctx context.Context, req *wire.Request) (kmsg.Response, error) {
	r := req.Body.(*kmsg.WriteTxnMarkersRequest)
	resp := r.ResponseKind().(*kmsg.WriteTxnMarkersResponse)
	if !b.authorizeCluster(req, authz.OpClusterAction) {
		for _, m := range r.Markers {
			sm := kmsg.NewWriteTxnMarkersResponseMarker()
			sm.ProducerID = m.ProducerID
			for _, rt := range m.Topics {
				st := kmsg.NewWriteTxnMarkersResponseMarkerTopic()
				st.Topic = rt.Topic
				for _, part := range rt.Partitions {
					sp := kmsg.NewWriteTxnMarkersResponseMarkerTopicPartition()
					sp.Partition, sp.ErrorCode = part, kerr.ClusterAuthorizationFailed.Code
					st.Partitions = append(st.Partitions, sp)
				}
				sm.Topics = append(sm.Topics, st)
			}
			resp.Markers = append(resp.Markers, sm)
		}
		return resp, nil
	}
	snap := b.meta.get()
	now := time.Now().UnixMilli()
	var waits []markerWait
	for mi, m := range r.Markers {
		sm := kmsg.NewWriteTxnMarkersResponseMarker()
		sm.ProducerID = m.ProducerID
		marker := record.EndTxnMarker{Commit: m.Committed, CoordinatorEpoch: m.CoordinatorEpoch}
		for ti, rt := range m.Topics {
			st := kmsg.NewWriteTxnMarkersResponseMarkerTopic()
			st.Topic = rt.Topic
			for pi, part := range rt.Partitions {
				sp := kmsg.NewWriteTxnMarkersResponseMarkerTopicPartition()
				sp.Partition = part
				err := func() error {
					tp := topicPartition{rt.Topic, part}
					p := b.rm.get(tp)
					if p == nil {
						if b.rm.isOffline(tp) {
							return kerr.KafkaStorageError
						}
						if _, known := snap.partition(rt.Topic, part); known {
							return kerr.NotLeaderForPartition
						}
						return kerr.UnknownTopicOrPartition
					}
					res, err := p.appendMarker(m.ProducerID, m.ProducerEpoch, marker, now)
					if err != nil {
						return produceErr(err)
					}
					waits = append(waits, markerWait{p: p, mi: mi, ti: ti, pi: pi, last: res.LastOffset})
					return nil
				}()
				if err != nil {
					sp.ErrorCode = errCode(err)
					b.log.Debug().Err(err).Str("topic", rt.Topic).Int32("partition", part).Int64("producer_id", m.ProducerID).
						Str("marker", marker.String()).Msg("transaction marker not written")
				}
				st.Partitions = append(st.Partitions, sp)
			}
			sm.Topics = append(sm.Topics, st)
		}
		resp.Markers = append(resp.Markers, sm)
	}
	if len(waits) > 0 {
		req.Release() // appended: the wait for replicas must not hold queued.max.request.bytes
		wctx, cancel := context.WithTimeout(ctx, markerTimeout)
		for _, w := range waits {
			sp := &resp.Markers[w.mi].Topics[w.ti].Partitions[w.pi]
			sp.ErrorCode = errCode(w.p.awaitHW(wctx, w.last))
		}
		cancel()
	}
	b.completeOffsetTxns(r, resp)
	return resp, nil
}

// completeOffsetTxns tells the group coordinator which partitions of __consumer_offsets got
// each producer's marker (KafkaApis: maybeSendResponseCallback's
// groupCoordinator.scheduleHandleTxnCompletion over the successful offsets partitions).
func (b *Broker) completeOffsetTxns(r *kmsg.WriteTxnMarkersRequest, resp *kmsg.WriteTxnMarkersResponse) {
	hook := b.txnCompletion
	if hook == nil {
		return
	}
	for mi, m := range r.Markers {
		var parts []int32
		for ti, rt := range m.Topics {
			if rt.Topic != offsetsTopic {
				continue
			}
			for pi, part := range rt.Partitions {
				if resp.Markers[mi].Topics[ti].Partitions[pi].ErrorCode == 0 {
					parts = append(parts, part)
				}
			}
		}
		if len(parts) > 0 {
			hook(m.ProducerID, parts, m.Committed)
		}
	}
}
