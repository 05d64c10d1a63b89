package broker

// DescribeTransactions, key 65, version 0 (KIP-664): the state of transactional ids this broker
// coordinates, for kafka-transactions.sh describe (klassik transactions describe).
//
// With an authorizer each transactional id needs Describe, and only the partitions of topics
// the client may describe are shown.

import (
	"context"

	"github.com/klassik/klassik/broker/authz"
	"github.com/klassik/klassik/wire"
	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kmsg"
)

func init() { register(65, 0, 0, (*Broker).handleDescribeTransactions) }

func (b *Broker) handleDescribeTransactions(_ context.Context, req *wire.Request) (kmsg.Response, error) {
	r := req.Body.(*kmsg.DescribeTransactionsRequest)
	resp := r.ResponseKind().(*kmsg.DescribeTransactionsResponse)
	if b.authz == nil {
		resp.TransactionStates = b.txns.Describe(r.TransactionalIDs)
		return resp, nil
	}
	// KafkaApis: Describe on each transactional id, and of its partitions only those of
	// topics the client may describe.
	for _, id := range r.TransactionalIDs {
		if !b.authorize(req, authz.OpDescribe, authz.ResourceTransactionalID, id) {
			st := kmsg.NewDescribeTransactionsResponseTransactionState()
			st.TransactionalID, st.ErrorCode = id, kerr.TransactionalIDAuthorizationFailed.Code
			st.ProducerID, st.ProducerEpoch, st.StartTimestamp = -1, -1, -1
			resp.TransactionStates = append(resp.TransactionStates, st)
			continue
		}
		st := b.txns.Describe([]string{id})[0]
		kept := st.Topics[:0]
		for _, t := range st.Topics {
			if b.authorize(req, authz.OpDescribe, authz.ResourceTopic, t.Topic) {
				kept = append(kept, t)
			}
		}
		st.Topics = kept
		resp.TransactionStates = append(resp.TransactionStates, st)
	}
	return resp, nil
}
