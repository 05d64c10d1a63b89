package broker

// ApiVersions, key 18, versions 0-3 (KIP-35, KIP-511 for the flexible v3 with client software
// name and version). The answer is built from the APIs registered in this package, so klassik
// never advertises an API it does not serve. A request at a version newer than served gets the
// v0 answer with UNSUPPORTED_VERSION from wire (ApiVersionsFallback), as Kafka does.

import (
	"context"

	"github.com/klassik/klassik/wire"
	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kmsg"
)

func init() { register(18, 0, 3, (*Broker).handleApiVersions) }

func (b *Broker) handleApiVersions(_ context.Context, req *wire.Request) (kmsg.Response, error) {
	resp := req.Body.ResponseKind().(*kmsg.ApiVersionsResponse)
	resp.ApiKeys = apiVersionKeys()
	return resp, nil
}

// apiVersionsFallback is the v0 answer to an ApiVersions at an unknown version.
func apiVersionsFallback() *kmsg.ApiVersionsResponse {
	resp := kmsg.NewPtrApiVersionsResponse()
	resp.ErrorCode = kerr.UnsupportedVersion.Code
	resp.ApiKeys = apiVersionKeys()
	return resp
}
