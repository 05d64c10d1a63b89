package broker

// DeleteRecords, key 21, versions 0-2 (KIP-107): moves a partition's log start offset
// forward, deleting whole segments below it; offset -1 means the high watermark. The leader
// answers with its new low watermark at once; followers adopt it from the log start offset
// in their next fetch response (Kafka waits for them in DelayedDeleteRecords). With an
// authorizer each topic needs Delete.

import (
	"context"

	"github.com/klassik/klassik/broker/authz"
	"github.com/klassik/klassik/wire"
	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kmsg"
)

func init() { register(21, 0, 2, (*Broker).handleDeleteRecords) }

func (b *Broker) handleDeleteRecords(_ context.Context, req *wire.Request) (kmsg.Response, error) {
	r := req.Body.(*kmsg.DeleteRecordsRequest)
	resp := r.ResponseKind().(*kmsg.DeleteRecordsResponse)
	snap := b.meta.get()
	names := make([]string, 0, len(r.Topics))
	for _, rt := range r.Topics {
		names = append(names, rt.Topic)
	}
	deletable := b.authorizedNames(req, authz.OpDelete, authz.ResourceTopic, names)
	for _, rt := range r.Topics {
		st := kmsg.NewDeleteRecordsResponseTopic()
		st.Topic = rt.Topic
		for _, rp := range rt.Partitions {
			sp := kmsg.NewDeleteRecordsResponseTopicPartition()
			sp.Partition, sp.LowWatermark = rp.Partition, -1
			p := b.rm.get(topicPartition{rt.Topic, rp.Partition})
			switch {
			case !deletable[rt.Topic]:
				sp.ErrorCode = kerr.TopicAuthorizationFailed.Code
			case p == nil:
				sp.ErrorCode = kerr.UnknownTopicOrPartition.Code
				if _, known := snap.partition(rt.Topic, rp.Partition); known {
					sp.ErrorCode = kerr.NotLeaderForPartition.Code
				}
			default:
				sp.LowWatermark, sp.ErrorCode = p.deleteRecordsBefore(rp.Offset)
			}
			st.Partitions = append(st.Partitions, sp)
		}
		resp.Topics = append(resp.Topics, st)
	}
	return resp, nil
}

// deleteRecordsBefore moves the log start to offset (the high watermark for -1).
func (p *partition) deleteRecordsBefore(offset int64) (int64, int16) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if !p.isLeaderLocked() {
		return -1, kerr.NotLeaderForPartition.Code
	}
	if offset == -1 {
		offset = p.hw
	}
	if offset < 0 || offset > p.hw {
		return -1, kerr.OffsetOutOfRange.Code
	}
	if offset > p.log.LogStartOffset() {
		if err := p.log.IncrementLogStartOffset(offset); err != nil {
			p.b.log.Error().Err(err).Str("topic", p.tp.topic).Int32("partition", p.tp.partition).Msg("deleting records")
			return -1, kerr.KafkaStorageError.Code
		}
		p.signal()
	}
	return p.log.LogStartOffset(), 0
}
