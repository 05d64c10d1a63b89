package broker

// InitProducerId, key 22, versions 0-4 (KIP-98, KIP-360): idempotent producers get a producer
// id from this broker's block of ids (taken from /latest_producer_id_block) and epoch 0.
// Transactional ids are not supported: klassik has no transaction coordinator yet.

import (
	"context"

	"github.com/klassik/klassik/wire"
	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kmsg"
)

func init() { register(22, 0, 4, (*Broker).handleInitProducerID) }

func (b *Broker) handleInitProducerID(_ context.Context, req *wire.Request) (kmsg.Response, error) {
	r := req.Body.(*kmsg.InitProducerIDRequest)
	resp := r.ResponseKind().(*kmsg.InitProducerIDResponse)
	resp.ProducerID, resp.ProducerEpoch = -1, -1
	if r.TransactionalID != nil {
		resp.ErrorCode = kerr.TransactionalIDAuthorizationFailed.Code
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
