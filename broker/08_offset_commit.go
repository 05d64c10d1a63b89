package broker

// OffsetCommit, key 8, versions 0-8. The commit itself is the group coordinator's
// (coordinator/group); the broker first answers UNKNOWN_TOPIC_OR_PARTITION for every topic
// its metadata cache does not know and every partition the topic does not have, and hands
// only the rest to the coordinator, as Kafka 3.6's KafkaApis.handleOffsetCommitRequest does.
// A request naming nothing known never reaches the coordinator, so a typo in a topic name
// stores nothing. Offset metadata longer than offset.metadata.max.bytes is the
// coordinator's OFFSET_METADATA_TOO_LARGE.
//
// With an authorizer: Read on the group (else GROUP_AUTHORIZATION_FAILED on every partition)
// and Read on each topic (else TOPIC_AUTHORIZATION_FAILED), checked first.
//
// Unlike Kafka, v0 commits go to the coordinator too, not to /consumers in ZooKeeper.

import (
	"context"

	"github.com/klassik/klassik/broker/authz"
	"github.com/klassik/klassik/coordinator/group"
	"github.com/klassik/klassik/wire"
	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kmsg"
)

func init() { register(8, 0, 8, (*Broker).handleOffsetCommit) }

func (b *Broker) handleOffsetCommit(ctx context.Context, req *wire.Request) (kmsg.Response, error) {
	r := req.Body.(*kmsg.OffsetCommitRequest)
	resp := r.ResponseKind().(*kmsg.OffsetCommitResponse)
	snap := b.meta.get()
	// KafkaApis: Read on the group for the whole request, then Read on each topic.
	groupOK := b.authorize(req, authz.OpRead, authz.ResourceGroup, r.Group)
	var readable map[string]bool
	if b.authz != nil && groupOK {
		names := make([]string, 0, len(r.Topics))
		for _, t := range r.Topics {
			names = append(names, t.Topic)
		}
		readable = b.authorizedNames(req, authz.OpRead, authz.ResourceTopic, names)
	}

	known := *r
	known.Topics = nil
	// where[i][j] is the place in resp of partition j of known.Topics[i].
	var where [][]*kmsg.OffsetCommitResponseTopicPartition
	for _, t := range r.Topics {
		rt := kmsg.NewOffsetCommitResponseTopic()
		rt.Topic = t.Topic
		rt.Partitions = make([]kmsg.OffsetCommitResponseTopicPartition, len(t.Partitions))
		resp.Topics = append(resp.Topics, rt)
		rps := resp.Topics[len(resp.Topics)-1].Partitions

		kt := t
		kt.Partitions = nil
		var kw []*kmsg.OffsetCommitResponseTopicPartition
		ct := snap.topics[t.Topic]
		for j, p := range t.Partitions {
			rps[j] = kmsg.NewOffsetCommitResponseTopicPartition()
			rps[j].Partition = p.Partition
			if !groupOK {
				rps[j].ErrorCode = kerr.GroupAuthorizationFailed.Code
				continue
			}
			if readable != nil && !readable[t.Topic] {
				rps[j].ErrorCode = kerr.TopicAuthorizationFailed.Code
				continue
			}
			if ct == nil {
				rps[j].ErrorCode = kerr.UnknownTopicOrPartition.Code
				continue
			}
			if _, ok := ct.partitions[p.Partition]; !ok {
				rps[j].ErrorCode = kerr.UnknownTopicOrPartition.Code
				continue
			}
			kt.Partitions = append(kt.Partitions, p)
			kw = append(kw, &rps[j])
		}
		if len(kt.Partitions) > 0 {
			known.Topics = append(known.Topics, kt)
			where = append(where, kw)
		}
	}
	if len(known.Topics) == 0 {
		return resp, nil
	}
	h := groupAPI((*group.Coordinator).OffsetCommit)
	sub := *req
	sub.Body = &known
	cr, err := h(b, ctx, &sub)
	if err != nil {
		return nil, err
	}
	cresp := cr.(*kmsg.OffsetCommitResponse)
	resp.ThrottleMillis = cresp.ThrottleMillis
	for i, rt := range cresp.Topics {
		for j, rp := range rt.Partitions {
			if i < len(where) && j < len(where[i]) {
				where[i][j].ErrorCode = rp.ErrorCode
			}
		}
	}
	return resp, nil
}
