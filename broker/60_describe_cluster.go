package broker

// DescribeCluster, key 60, versions 0-1 (KIP-700): the brokers, the controller and the cluster
// id, from the metadata cache; the admin clients' replacement for Metadata. The cluster's
// authorized operations when asked (KIP-430, authorize.go).

import (
	"context"

	"github.com/klassik/klassik/broker/authz"
	"github.com/klassik/klassik/wire"
	"github.com/twmb/franz-go/pkg/kmsg"
)

func init() { register(60, 0, 1, (*Broker).handleDescribeCluster) }

func (b *Broker) handleDescribeCluster(_ context.Context, req *wire.Request) (kmsg.Response, error) {
	r := req.Body.(*kmsg.DescribeClusterRequest)
	resp := r.ResponseKind().(*kmsg.DescribeClusterResponse)
	snap := b.meta.get()
	resp.ClusterID = b.clusterID
	resp.ControllerID = snap.controllerID
	resp.EndpointType = r.EndpointType
	if r.IncludeClusterAuthorizedOperations {
		resp.ClusterAuthorizedOperations = 0 // KafkaApis: none without Describe on the cluster
		if b.authorizeCluster(req, authz.OpDescribe) {
			resp.ClusterAuthorizedOperations = b.authorizedOperations(req, authz.ResourceCluster, authz.ClusterName)
		}
	}
	for _, id := range snap.liveBrokerIDs() {
		cb := snap.brokers[id]
		hp, ok := cb.endpoints[req.Conn.Listener]
		if !ok {
			continue
		}
		br := kmsg.NewDescribeClusterResponseBroker()
		br.NodeID, br.Host, br.Port, br.Rack = id, hp.host, hp.port, cb.rack
		resp.Brokers = append(resp.Brokers, br)
	}
	return resp, nil
}
