package broker

// InitProducerId, key 22, versions 0-4 (KIP-98, KIP-360). An idempotent producer (no
// transactional id) gets a producer id from this broker's block of ids (taken from
// /latest_producer_id_block) and epoch 0. A transactional producer asks the coordinator of its
// transactional id (coordinator/transaction), which bumps the id's epoch and so fences any older
// producer with the same id.
//
// With an authorizer: Write on the transactional id (else TRANSACTIONAL_ID_AUTHORIZATION_FAILED);
// an idempotent producer needs IdempotentWrite on the cluster or, since Kafka 3.0 (KIP-679),
// Write on some topic (else CLUSTER_AUTHORIZATION_FAILED).

import (
	"context"

	"github.com/klassik/klassik/broker/authz"
	"github.com/klassik/klassik/wire"
	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kmsg"
)

func init() { register(22, 0, 4, (*Broker).handleInitProducerID) }

func (b *Broker) handleInitProducerID(ctx context.Context, req *wire.Request) (kmsg.Response, error) {
	r := req.Body.(*kmsg.InitProducerIDRequest)
	resp := r.ResponseKind().(*kmsg.InitProducerIDResponse)
	resp.ProducerID, resp.ProducerEpoch = -1, -1
	if r.TransactionalID != nil && !b.authorize(req, authz.OpWrite, authz.ResourceTransactionalID, *r.TransactionalID) {
		resp.ErrorCode = kerr.TransactionalIDAuthorizationFailed.Code
		return resp, nil
	}
	if r.TransactionalID == nil && b.authz != nil && !b.authorizeQuiet(req, authz.OpIdempotentWrite, authz.ResourceCluster, authz.ClusterName) &&
		!b.authz.AuthorizeByResourceType(requester(req), authz.OpWrite, authz.ResourceTopic) {
		resp.ErrorCode = kerr.ClusterAuthorizationFailed.Code
		return resp, nil
	}
	if r.TransactionalID != nil {
		expectPID, expectEpoch := int64(-1), int16(-1)
		if r.Version >= 3 {
			expectPID, expectEpoch = r.ProducerID, r.ProducerEpoch
		}
		pid, epoch, err := b.txns.InitProducerID(ctx, *r.TransactionalID, r.TransactionTimeoutMillis, expectPID, expectEpoch)
		resp.ErrorCode = errCode(fencedForOldClients(err, r.Version < 4))
		if err == nil {
			resp.ProducerID, resp.ProducerEpoch = pid, epoch
		}
		return resp, nil
	}
	id, err := b.pids.nextID()
	if err != nil {
		b.log.Error().Err(err).Msg("allocating a producer id block")
		resp.ErrorCode = kerr.CoordinatorNotAvailable.Code
		return resp, nil
	}
	resp.ProducerID, resp.ProducerEpoch = id, 0
	return resp, nil
}

// fencedForOldClients is what KafkaApis does for clients that predate PRODUCER_FENCED
// (KIP-588): they get INVALID_PRODUCER_EPOCH instead.
func fencedForOldClients(err error, old bool) error {
	if old && err == kerr.ProducerFenced {
		return kerr.InvalidProducerEpoch
	}
	return err
}
