package broker

// TxnOffsetCommit, key 28, versions 0-3 (KIP-98; v2 adds the committed leader epoch, KIP-320;
// v3 the group generation, member id and group instance id, KIP-447). A transactional
// producer sends the offsets it consumed to the group coordinator after AddOffsetsToTxn; they
// become the group's committed offsets when its transaction commits (the COMMIT marker
// WriteTxnMarkers writes to __consumer_offsets, 27_write_txn_markers.go) and are dropped when
// it aborts. The commit itself is the group coordinator's (coordinator/group, txn.go). As
// Kafka 3.6's KafkaApis.handleTxnOffsetCommitRequest, the broker first answers
// UNKNOWN_TOPIC_OR_PARTITION for every topic its metadata cache does not know and every
// partition the topic does not have, and hands only the rest to the coordinator; for v0-1 it
// answers COORDINATOR_LOAD_IN_PROGRESS as COORDINATOR_NOT_AVAILABLE (clients before 2.0 did
// not retry the former, KAFKA-7296).
//
// A zombie producer, fenced by a newer epoch, gets INVALID_PRODUCER_EPOCH from the log of
// __consumer_offsets (its append is checked as Kafka's AppendOrigin.COORDINATOR). Unlike
// EndTxn or AddOffsetsToTxn, Kafka maps no PRODUCER_FENCED here: the coordinator of groups
// never answers it.
//
// With an authorizer: Write on the transactional id (else TRANSACTIONAL_ID_AUTHORIZATION_FAILED),
// Read on the group (else GROUP_AUTHORIZATION_FAILED), both for every partition, and Read on
// each topic (else TOPIC_AUTHORIZATION_FAILED).

import (
	"context"

	"github.com/klassik/klassik/broker/authz"
	"github.com/klassik/klassik/coordinator/group"
	"github.com/klassik/klassik/wire"
	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kmsg"
)

func init() { register(28, 0, 3, (*Broker).handleTxnOffsetCommit) }

func (b *Broker) handleTxnOffsetCommit(ctx context.Context, req *wire.Request) (kmsg.Response, error) {
	r := req.Body.(*kmsg.TxnOffsetCommitRequest)
	resp := r.ResponseKind().(*kmsg.TxnOffsetCommitResponse)
	snap := b.meta.get()
	// KafkaApis: Write on the transactional id, Read on the group, then Read on each topic.
	var refuse int16
	switch {
	case !b.authorize(req, authz.OpWrite, authz.ResourceTransactionalID, r.TransactionalID):
		refuse = kerr.TransactionalIDAuthorizationFailed.Code
	case !b.authorize(req, authz.OpRead, authz.ResourceGroup, r.Group):
		refuse = kerr.GroupAuthorizationFailed.Code
	}
	var readable map[string]bool
	if b.authz != nil && refuse == 0 {
		names := make([]string, 0, len(r.Topics))
		for _, t := range r.Topics {
			names = append(names, t.Topic)
		}
		readable = b.authorizedNames(req, authz.OpRead, authz.ResourceTopic, names)
	}

	known := *r
	known.Topics = nil
	// where[i][j] is the place in resp of partition j of known.Topics[i].
	var where [][]*kmsg.TxnOffsetCommitResponseTopicPartition
	for _, t := range r.Topics {
		rt := kmsg.NewTxnOffsetCommitResponseTopic()
		rt.Topic = t.Topic
		rt.Partitions = make([]kmsg.TxnOffsetCommitResponseTopicPartition, len(t.Partitions))
		resp.Topics = append(resp.Topics, rt)
		rps := resp.Topics[len(resp.Topics)-1].Partitions

		kt := t
		kt.Partitions = nil
		var kw []*kmsg.TxnOffsetCommitResponseTopicPartition
		ct := snap.topics[t.Topic]
		for j, p := range t.Partitions {
			rps[j] = kmsg.NewTxnOffsetCommitResponseTopicPartition()
			rps[j].Partition = p.Partition
			if refuse != 0 {
				rps[j].ErrorCode = refuse
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
	if len(known.Topics) > 0 {
		h := groupAPI((*group.Coordinator).TxnOffsetCommit)
		sub := *req
		sub.Body = &known
		cr, err := h(b, ctx, &sub)
		if err != nil {
			return nil, err
		}
		cresp := cr.(*kmsg.TxnOffsetCommitResponse)
		resp.ThrottleMillis = cresp.ThrottleMillis
		for i, rt := range cresp.Topics {
			for j, rp := range rt.Partitions {
				if i < len(where) && j < len(where[i]) {
					where[i][j].ErrorCode = rp.ErrorCode
				}
			}
		}
	}
	if r.Version < 2 {
		for i := range resp.Topics {
			for j := range resp.Topics[i].Partitions {
				if p := &resp.Topics[i].Partitions[j]; p.ErrorCode == kerr.CoordinatorLoadInProgress.Code {
					p.ErrorCode = kerr.CoordinatorNotAvailable.Code
				}
			}
		}
	}
	return resp, nil
}
