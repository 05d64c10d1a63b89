package broker

// SaslAuthenticate, key 36, versions 0-2 (KIP-152, KIP-368's session_lifetime_ms in v1). wire
// runs every SaslAuthenticate of a SASL exchange; one that reaches the handler comes outside an
// exchange, which Kafka's KafkaApis answers with ILLEGAL_SASL_STATE.

import (
	"context"

	"github.com/klassik/klassik/wire"
	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kmsg"
)

func init() { register(36, 0, 2, (*Broker).handleSaslAuthenticate) }

func (b *Broker) handleSaslAuthenticate(_ context.Context, req *wire.Request) (kmsg.Response, error) {
	resp := req.Body.ResponseKind().(*kmsg.SASLAuthenticateResponse)
	resp.ErrorCode = kerr.IllegalSaslState.Code
	resp.ErrorMessage = strp("SaslAuthenticate request received after successful authentication")
	return resp, nil
}
