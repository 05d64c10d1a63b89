package broker

// DescribeTransactions, key 65, version 0 (KIP-664): the state of transactional ids this broker
// coordinates, for kafka-transactions.sh describe (klassik transactions describe).

import (
	"context"

	"github.com/klassik/klassik/wire"
	"github.com/twmb/franz-go/pkg/kmsg"
)

func init() { register(65, 0, 0, (*Broker).handleDescribeTransactions) }

func (b *Broker) handleDescribeTransactions(_ context.Context, req *wire.Request) (kmsg.Response, error) {
	r := req.Body.(*kmsg.DescribeTransactionsRequest)
	resp := r.ResponseKind().(*kmsg.DescribeTransactionsResponse)
	resp.TransactionStates = b.txns.Describe(r.TransactionalIDs)
	return resp, nil
}
