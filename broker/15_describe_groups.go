package broker

// DescribeGroups, key 15, versions 0-5: the group coordinator describes the groups
// (coordinator/group); from v3 the broker adds each group's authorized operations when asked
// (KIP-430), for the groups described without error, as KafkaApis.handleDescribeGroupsRequest
// does. With an authorizer each group needs Describe (else GROUP_AUTHORIZATION_FAILED).

import (
	"context"

	"github.com/klassik/klassik/broker/authz"
	"github.com/klassik/klassik/coordinator/group"
	"github.com/klassik/klassik/wire"
	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kmsg"
)

func init() { register(15, 0, 5, (*Broker).handleDescribeGroups) }

func (b *Broker) handleDescribeGroups(ctx context.Context, req *wire.Request) (kmsg.Response, error) {
	r := req.Body.(*kmsg.DescribeGroupsRequest)
	// Groups the client may not describe are refused before the coordinator sees them.
	var refused []string
	if b.authz != nil {
		allowed := []string{}
		for _, g := range r.Groups {
			if b.authorize(req, authz.OpDescribe, authz.ResourceGroup, g) {
				allowed = append(allowed, g)
			} else {
				refused = append(refused, g)
			}
		}
		r.Groups = allowed
	}
	out, err := groupAPI((*group.Coordinator).DescribeGroups)(b, ctx, req)
	if err != nil {
		return nil, err
	}
	resp := out.(*kmsg.DescribeGroupsResponse)
	if r.Version >= 3 && r.IncludeAuthorizedOperations {
		for i := range resp.Groups {
			if g := &resp.Groups[i]; g.ErrorCode == 0 {
				g.AuthorizedOperations = b.authorizedOperations(req, authz.ResourceGroup, g.Group)
			}
		}
	}
	if len(refused) > 0 {
		// Kafka answers the refused groups first.
		groups := make([]kmsg.DescribeGroupsResponseGroup, 0, len(refused)+len(resp.Groups))
		for _, g := range refused {
			rg := kmsg.NewDescribeGroupsResponseGroup()
			rg.Group, rg.ErrorCode = g, kerr.GroupAuthorizationFailed.Code
			groups = append(groups, rg)
		}
		resp.Groups = append(groups, resp.Groups...)
	}
	return resp, nil
}
