package broker

// DeleteAcls, key 31, versions 0-3 (KIP-140; pattern types from v1, KIP-290): every ACL each
// filter matches is removed, by the authorizer, with conditional writes and change
// notifications (broker/authz); the answer lists, per filter, the bindings it deleted. A
// filter that names one pattern exactly also deletes ACLs written on another broker that this
// one has not heard of yet. Needs Alter on the cluster; without an authorizer every filter is
// SECURITY_DISABLED (AclApis.handleDeleteAcls). A v0 filter matches literal patterns only.

import (
	"context"

	"github.com/klassik/klassik/broker/authz"
	"github.com/klassik/klassik/wire"
	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kmsg"
)

func init() { register(31, 0, 3, (*Broker).handleDeleteAcls) }

func (b *Broker) handleDeleteAcls(_ context.Context, req *wire.Request) (kmsg.Response, error) {
	r := req.Body.(*kmsg.DeleteACLsRequest)
	resp := r.ResponseKind().(*kmsg.DeleteACLsResponse)
	var all error
	switch {
	case !b.authorizeCluster(req, authz.OpAlter):
		all = errClusterAuthorization(req)
	case b.authz == nil:
		all = errorf(kerr.SecurityDisabled, "No Authorizer is configured.")
	}
	errs := make([]error, len(r.Filters))
	var filters []authz.Filter
	var at []int
	for i, f := range r.Filters {
		if all != nil {
			errs[i] = all
			continue
		}
		af, err := aclFilter(r.Version, int8(f.ResourceType), f.ResourceName, int8(f.ResourcePatternType), f.Principal, f.Host, int8(f.Operation), int8(f.PermissionType))
		if err != nil {
			errs[i] = err
			continue
		}
		filters = append(filters, af)
		at = append(at, i)
	}
	resp.Results = make([]kmsg.DeleteACLsResponseResult, len(r.Filters))
	for i := range resp.Results {
		resp.Results[i] = kmsg.NewDeleteACLsResponseResult()
		if errs[i] != nil {
			resp.Results[i].ErrorCode, resp.Results[i].ErrorMessage = errCode(errs[i]), errMessage(errs[i])
		}
	}
	if len(filters) == 0 {
		return resp, nil
	}
	for j, res := range b.authz.DeleteAcls(filters) {
		out := &resp.Results[at[j]]
		if res.Err != nil {
			out.ErrorCode, out.ErrorMessage = errCode(res.Err), errMessage(res.Err)
		}
		for _, d := range res.Bindings {
			m := kmsg.NewDeleteACLsResponseResultMatchingACL()
			if d.Err != nil {
				m.ErrorCode, m.ErrorMessage = errCode(d.Err), errMessage(d.Err)
			}
			m.ResourceType = kmsg.ACLResourceType(d.Binding.Pattern.Type)
			m.ResourceName = d.Binding.Pattern.Name
			m.ResourcePatternType = kmsg.ACLResourcePatternType(d.Binding.Pattern.PatternType)
			m.Principal, m.Host = d.Binding.Entry.Principal, d.Binding.Entry.Host
			m.Operation, m.PermissionType = kmsg.ACLOperation(d.Binding.Entry.Operation), kmsg.ACLPermissionType(d.Binding.Entry.Permission)
			out.MatchingACLs = append(out.MatchingACLs, m)
		}
	}
	return resp, nil
}
