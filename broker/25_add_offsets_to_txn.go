package broker

// AddOffsetsToTxn, key 25, versions 0-3 (KIP-98): before a transactional producer commits a
// group's offsets with TxnOffsetCommit, it adds the group's partition of __consumer_offsets to
// its transaction, so that the transaction's markers also decide those offsets. With an
// authorizer: Write on the transactional id, Read on the group.

import (
	"context"

	"github.com/klassik/klassik/broker/authz"
	"github.com/klassik/klassik/wire"
	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kmsg"
)

func init() { register(25, 0, 3, (*Broker).handleAddOffsetsToTxn) }

func (b *Broker) handleAddOffsetsToTxn(ctx context.Context, req *wire.Request) (kmsg.Response, error) {
	r := req.Body.(*kmsg.AddOffsetsToTxnRequest)
	resp := r.ResponseKind().(*kmsg.AddOffsetsToTxnResponse)
	switch {
	case !b.authorize(req, authz.OpWrite, authz.ResourceTransactionalID, r.TransactionalID):
		resp.ErrorCode = kerr.TransactionalIDAuthorizationFailed.Code
		return resp, nil
	case !b.authorize(req, authz.OpRead, authz.ResourceGroup, r.Group):
		resp.ErrorCode = kerr.GroupAuthorizationFailed.Code
		return resp, nil
	}
	err := b.txns.AddOffsets(ctx, r.TransactionalID, r.ProducerID, r.ProducerEpoch, r.Group)
	resp.ErrorCode = errCode(fencedForOldClients(err, r.Version < 2))
	return resp, nil
}
