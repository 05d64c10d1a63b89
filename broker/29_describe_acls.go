package broker

// DescribeAcls, key 29, versions 0-3 (KIP-140; pattern types from v1, KIP-290): the ACLs a
// filter matches, grouped by resource pattern, from the authorizer's cache (broker/authz),
// as AclApis.handleDescribeAcls answers. Needs Describe on the cluster; without an authorizer
// the answer is SECURITY_DISABLED. A v0 filter may only match literal patterns (ANY is read
// as LITERAL, as Kafka's DescribeAclsRequest normalizes it).

import (
	"context"

	"github.com/klassik/klassik/broker/authz"
	"github.com/klassik/klassik/wire"
	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kmsg"
)

func init() { register(29, 0, 3, (*Broker).handleDescribeAcls) }

func (b *Broker) handleDescribeAcls(_ context.Context, req *wire.Request) (kmsg.Response, error) {
	r := req.Body.(*kmsg.DescribeACLsRequest)
	resp := r.ResponseKind().(*kmsg.DescribeACLsResponse)
	fail := func(err error) (kmsg.Response, error) {
		resp.ErrorCode, resp.ErrorMessage = errCode(err), errMessage(err)
		return resp, nil
	}
	if !b.authorizeCluster(req, authz.OpDescribe) {
		return fail(errClusterAuthorization(req))
	}
	if b.authz == nil {
		return fail(errorf(kerr.SecurityDisabled, "No Authorizer is configured on the broker"))
	}
	f, err := aclFilter(r.Version, int8(r.ResourceType), r.ResourceName, int8(r.ResourcePatternType), r.Principal, r.Host, int8(r.Operation), int8(r.PermissionType))
	if err != nil {
		return fail(err)
	}
	for _, bd := range b.authz.Acls(f) {
		n := len(resp.Resources)
		if n == 0 || aclPattern(resp.Resources[n-1]) != bd.Pattern {
			res := kmsg.NewDescribeACLsResponseResource()
			res.ResourceType = kmsg.ACLResourceType(bd.Pattern.Type)
			res.ResourceName = bd.Pattern.Name
			res.ResourcePatternType = kmsg.ACLResourcePatternType(bd.Pattern.PatternType)
			resp.Resources = append(resp.Resources, res)
			n++
		}
		a := kmsg.NewDescribeACLsResponseResourceACL()
		a.Principal, a.Host = bd.Entry.Principal, bd.Entry.Host
		a.Operation, a.PermissionType = kmsg.ACLOperation(bd.Entry.Operation), kmsg.ACLPermissionType(bd.Entry.Permission)
		resp.Resources[n-1].ACLs = append(resp.Resources[n-1].ACLs, a)
	}
	return resp, nil
}

func aclPattern(r kmsg.DescribeACLsResponseResource) authz.Pattern {
	return authz.Pattern{Type: authz.ResourceType(r.ResourceType), Name: r.ResourceName, PatternType: authz.PatternType(r.ResourcePatternType)}
}

// aclFilter reads a DescribeAcls or DeleteAcls filter as Kafka's requests validate it: at v0
// only literal patterns (ANY becomes LITERAL), and no UNKNOWN element (a code Kafka does not
// know is UNKNOWN too). Kafka refuses such a request while parsing it; klassik answers
// INVALID_REQUEST (UNSUPPORTED_VERSION for a v0 pattern type) instead of closing the
// connection.
func aclFilter(version int16, rt int8, name *string, pt int8, principal, host *string, op, perm int8) (authz.Filter, error) {
	f := authz.Filter{
		Pattern: authz.PatternFilter{Type: knownResourceType(rt), Name: name, PatternType: knownPatternType(pt)},
		Entry:   authz.EntryFilter{Principal: principal, Host: host, Operation: knownOperation(op), Permission: knownPermission(perm)},
	}
	if version == 0 {
		switch f.Pattern.PatternType {
		case authz.PatternAny, authz.PatternLiteral:
			f.Pattern.PatternType = authz.PatternLiteral
		default:
			return f, errorf(kerr.UnsupportedVersion, "Version 0 only supports literal resource pattern types")
		}
	}
	if f.Pattern.Type == authz.ResourceUnknown || f.Pattern.PatternType == authz.PatternUnknown ||
		f.Entry.Operation == authz.OpUnknown || f.Entry.Permission == authz.PermissionUnknown {
		return f, errorf(kerr.InvalidRequest, "The ACL filter contains UNKNOWN elements (resource type %d, pattern type %d, operation %d, permission type %d)", rt, pt, op, perm)
	}
	return f, nil
}

// The fromCode of each enum: a code Kafka does not know is UNKNOWN.
func knownResourceType(c int8) authz.ResourceType {
	if c < 0 || c > int8(authz.ResourceUser) {
		return authz.ResourceUnknown
	}
	return authz.ResourceType(c)
}

func knownPatternType(c int8) authz.PatternType {
	if c < 0 || c > int8(authz.PatternPrefixed) {
		return authz.PatternUnknown
	}
	return authz.PatternType(c)
}

func knownOperation(c int8) authz.Operation {
	if c < 0 || c > int8(authz.OpDescribeTokens) {
		return authz.OpUnknown
	}
	return authz.Operation(c)
}

func knownPermission(c int8) authz.Permission {
	if c < 0 || c > int8(authz.PermissionAllow) {
		return authz.PermissionUnknown
	}
	return authz.Permission(c)
}
