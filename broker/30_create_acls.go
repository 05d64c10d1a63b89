package broker

// CreateAcls, key 30, versions 0-3 (KIP-140; pattern types from v1, KIP-290): each creation
// is validated (no UNKNOWN element, no "/" in the name, the cluster named kafka-cluster, a
// principal "Type:name") and the valid ones are written to ZooKeeper by the authorizer, one
// conditional write per resource pattern followed by a change notification every broker acts
// on (broker/authz). Needs Alter on the cluster; without an authorizer every creation is
// SECURITY_DISABLED (AclApis.handleCreateAcls).

import (
	"context"

	"github.com/klassik/klassik/broker/authz"
	"github.com/klassik/klassik/wire"
	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kmsg"
)

func init() { register(30, 0, 3, (*Broker).handleCreateAcls) }

func (b *Broker) handleCreateAcls(_ context.Context, req *wire.Request) (kmsg.Response, error) {
	r := req.Body.(*kmsg.CreateACLsRequest)
	resp := r.ResponseKind().(*kmsg.CreateACLsResponse)
	var all error
	switch {
	case !b.authorizeCluster(req, authz.OpAlter):
		all = errClusterAuthorization(req)
	case b.authz == nil:
		all = errorf(kerr.SecurityDisabled, "No Authorizer is configured.")
	}
	errs := make([]error, len(r.Creations))
	var bindings []authz.Binding
	var at []int // where each binding's result goes
	for i, c := range r.Creations {
		if all != nil {
			errs[i] = all
			continue
		}
		pt := knownPatternType(int8(c.ResourcePatternType))
		if r.Version == 0 && pt != authz.PatternLiteral {
			errs[i] = errorf(kerr.UnsupportedVersion, "Version 0 only supports literal resource pattern types")
			continue
		}
		bindings = append(bindings, authz.Binding{
			Pattern: authz.Pattern{Type: knownResourceType(int8(c.ResourceType)), Name: c.ResourceName, PatternType: pt},
			Entry: authz.Entry{Principal: c.Principal, Host: c.Host, Operation: knownOperation(int8(c.Operation)),
				Permission: knownPermission(int8(c.PermissionType))},
		})
		at = append(at, i)
	}
	if len(bindings) > 0 {
		for j, err := range b.authz.CreateAcls(bindings) {
			if err != nil {
				b.log.Warn().Err(err).Str("resource", bindings[j].Pattern.String()).Str("acl", bindings[j].Entry.String()).Msg("failed to create ACL")
			}
			errs[at[j]] = err
		}
	}
	for _, err := range errs {
		res := kmsg.NewCreateACLsResponseResult()
		if err != nil {
			res.ErrorCode, res.ErrorMessage = errCode(err), errMessage(err)
		}
		resp.Results = append(resp.Results, res)
	}
	return resp, nil
}
