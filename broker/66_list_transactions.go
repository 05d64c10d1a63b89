package broker

// ListTransactions, key 66, version 0 (KIP-664): the transactional ids this broker coordinates,
// filtered by state and producer id, for kafka-transactions.sh list (klassik transactions
// list asks every broker).
//
// With an authorizer only the transactional ids the client may describe are listed.

import (
	"context"

	"github.com/klassik/klassik/broker/authz"
	"github.com/klassik/klassik/wire"
	"github.com/twmb/franz-go/pkg/kmsg"
)

func init() { register(66, 0, 0, (*Broker).handleListTransactions) }

func (b *Broker) handleListTransactions(_ context.Context, req *wire.Request) (kmsg.Response, error) {
	r := req.Body.(*kmsg.ListTransactionsRequest)
	resp := b.txns.List(r.StateFilters, r.ProducerIDFilters)
	resp.Version = r.Version
	if b.authz != nil { // KafkaApis: only the ids the client may describe
		kept := resp.TransactionStates[:0]
		for _, st := range resp.TransactionStates {
			if b.authorize(req, authz.OpDescribe, authz.ResourceTransactionalID, st.TransactionalID) {
				kept = append(kept, st)
			}
		}
		resp.TransactionStates = kept
	}
	return resp, nil
}
