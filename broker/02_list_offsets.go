package broker

// ListOffsets, key 2, versions 0-8: earliest (-2), latest (-1: the high watermark, or with
// isolation_level read_committed (v2+) the last stable offset), the record with the largest
// timestamp (-3, KIP-734, v7+), earliest local (-4, KIP-405, v8+: the log start, as klassik
// has no tiered storage) and the first offset at or after a timestamp. Leader epoch checks
// from v4 (KIP-320); v0's old-style offset list is answered with a single offset. With an
// authorizer, each topic needs Describe (else TOPIC_AUTHORIZATION_FAILED).

import (
	"context"

	"github.com/klassik/klassik/broker/authz"
	"github.com/klassik/klassik/wire"
	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kmsg"
)

func init() { register(2, 0, 8, (*Broker).handleListOffsets) }

const (
	listLatest        = -1
	listEarliest      = -2
	listEarliestLocal = -4 // -3, the largest timestamp, is answered by the log itself
)

func (b *Broker) handleListOffsets(_ context.Context, req *wire.Request) (kmsg.Response, error) {
	r := req.Body.(*kmsg.ListOffsetsRequest)
	resp := r.ResponseKind().(*kmsg.ListOffsetsResponse)
	snap := b.meta.get()
	names := make([]string, 0, len(r.Topics))
	for _, rt := range r.Topics {
		names = append(names, rt.Topic)
	}
	describable := b.authorizedNames(req, authz.OpDescribe, authz.ResourceTopic, names)
	for _, rt := range r.Topics {
		st := kmsg.NewListOffsetsResponseTopic()
		st.Topic = rt.Topic
		for _, rp := range rt.Partitions {
			sp := kmsg.NewListOffsetsResponseTopicPartition()
			sp.Partition = rp.Partition
			sp.Timestamp, sp.Offset, sp.LeaderEpoch = -1, -1, -1
			var err error = kerr.TopicAuthorizationFailed
			if describable[rt.Topic] {
				err = b.listOffset(&sp, rt.Topic, rp, r.ReplicaID, r.IsolationLevel == 1, snap)
			}
			sp.ErrorCode = errCode(err)
			if r.Version == 0 && err == nil {
				sp.OldStyleOffsets = []int64{sp.Offset}
			}
			st.Partitions = append(st.Partitions, sp)
		}
		resp.Topics = append(resp.Topics, st)
	}
	return resp, nil
}

func (b *Broker) listOffset(sp *kmsg.ListOffsetsResponseTopicPartition, topic string, rp kmsg.ListOffsetsRequestTopicPartition, replicaID int32, readCommitted bool, snap *metadataSnapshot) error {
	p := b.rm.get(topicPartition{topic, rp.Partition})
	if p == nil {
		if _, known := snap.partition(topic, rp.Partition); known {
			return kerr.NotLeaderForPartition
		}
		return kerr.UnknownTopicOrPartition
	}
	v := p.view()
	// A follower may be asked only for debugging (replica id -2); clients need the leader.
	if !v.isLeader && replicaID != -2 {
		return kerr.NotLeaderForPartition
	}
	if err := checkEpoch(rp.CurrentLeaderEpoch, v.leaderEpoch); err != nil {
		return err
	}
	sp.LeaderEpoch = v.leaderEpoch
	// What a consumer of this isolation level may read (Kafka's fetchOffsetForTimestamp bound).
	visible := v.hw
	if readCommitted {
		visible = p.log.LastStableOffset(v.hw)
	}
	switch rp.Timestamp {
	case listLatest:
		sp.Offset = visible
	case listEarliest, listEarliestLocal:
		sp.Offset = v.logStart
	default:
		off, ts, found, err := p.log.FetchOffsetByTimestamp(rp.Timestamp)
		if err != nil {
			return kerr.KafkaStorageError
		}
		if found && off < visible {
			sp.Offset, sp.Timestamp = off, ts
		}
	}
	return nil
}
