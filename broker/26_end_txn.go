package broker

// EndTxn, key 26, versions 0-3 (KIP-98): a transactional producer commits or aborts. The
// coordinator answers once the decision (PrepareCommit or PrepareAbort) is in
// __transaction_state; the markers follow (coordinator/transaction). With an authorizer:
// Write on the transactional id.

import (
	"context"

	"github.com/klassik/klassik/broker/authz"
	"github.com/klassik/klassik/wire"
	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kmsg"
)

func init() { register(26, 0, 3, (*Broker).handleEndTxn) }

func (b *Broker) handleEndTxn(ctx context.Context, req *wire.Request) (kmsg.Response, error) {
	r := req.Body.(*kmsg.EndTxnRequest)
	resp := r.ResponseKind().(*kmsg.EndTxnResponse)
	if !b.authorize(req, authz.OpWrite, authz.ResourceTransactionalID, r.TransactionalID) {
		resp.ErrorCode = kerr.TransactionalIDAuthorizationFailed.Code
		return resp, nil
	}
	err := b.txns.EndTxn(ctx, r.TransactionalID, r.ProducerID, r.ProducerEpoch, r.Commit)
	resp.ErrorCode = errCode(fencedForOldClients(err, r.Version < 2))
	return resp, nil
}
