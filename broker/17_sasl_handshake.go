package broker

// SaslHandshake, key 17, versions 0-1 (KIP-43, KIP-152). On a SASL listener wire answers it
// before authentication and on a re-authentication (KIP-368); a handshake that reaches the
// handler came on a listener without SASL, or again on an authenticated connection whose client
// cannot re-authenticate (it used SaslAuthenticate v0): Kafka's KafkaApis answers both with
// ILLEGAL_SASL_STATE.

import (
	"context"

	"github.com/klassik/klassik/wire"
	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kmsg"
)

func init() { register(17, 0, 1, (*Broker).handleSaslHandshake) }

func (b *Broker) handleSaslHandshake(_ context.Context, req *wire.Request) (kmsg.Response, error) {
	resp := req.Body.ResponseKind().(*kmsg.SASLHandshakeResponse)
	resp.ErrorCode = kerr.IllegalSaslState.Code
	return resp, nil
}
