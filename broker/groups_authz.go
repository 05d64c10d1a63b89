package broker

// Authorization of the group APIs, as KafkaApis asks it before the group coordinator sees a
// request (the coordinator itself knows nothing of ACLs):
//
//	JoinGroup, SyncGroup, Heartbeat, LeaveGroup   Read on the group
//	OffsetFetch                                   Describe on the group, Describe on each topic
//	                                              (unauthorized topics: TOPIC_AUTHORIZATION_FAILED, or
//	                                              left out when all topics were asked for)
//	DescribeGroups                                Describe on each group (15_describe_groups.go)
//	ListGroups                                    Describe on the cluster, else only the groups it may describe
//	DeleteGroups                                  Delete on each group
//	OffsetDelete                                  Delete on the group, Read on each topic
//	OffsetCommit, TxnOffsetCommit                 in their own files
//
// A refused group is answered GROUP_AUTHORIZATION_FAILED.

import (
	"context"

	"github.com/klassik/klassik/broker/authz"
	"github.com/klassik/klassik/coordinator/group"
	"github.com/klassik/klassik/wire"
	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kmsg"
)

var errGroupAuth = kerr.GroupAuthorizationFailed.Code

// groupAPIFor is groupAPI behind a check of op on the request's one group; refused, the
// request gets its empty response with refuse applied.
func groupAPIFor[Req kmsg.Request, Resp kmsg.Response](f func(*group.Coordinator, context.Context, Req) Resp,
	op authz.Operation, groupOf func(Req) string, refuse func(Resp)) handlerFunc {
	inner := groupAPI(f)
	return func(b *Broker, ctx context.Context, req *wire.Request) (kmsg.Response, error) {
		r := req.Body.(Req)
		if !b.authorize(req, op, authz.ResourceGroup, groupOf(r)) {
			resp := r.ResponseKind().(Resp)
			refuse(resp)
			return resp, nil
		}
		return inner(b, ctx, req)
	}
}

var (
	handleJoinGroup = groupAPIFor((*group.Coordinator).JoinGroup, authz.OpRead,
		func(r *kmsg.JoinGroupRequest) string { return r.Group },
		func(resp *kmsg.JoinGroupResponse) { resp.ErrorCode = errGroupAuth })
	handleSyncGroup = groupAPIFor((*group.Coordinator).SyncGroup, authz.OpRead,
		func(r *kmsg.SyncGroupRequest) string { return r.Group },
		func(resp *kmsg.SyncGroupResponse) { resp.ErrorCode = errGroupAuth })
	handleHeartbeat = groupAPIFor((*group.Coordinator).Heartbeat, authz.OpRead,
		func(r *kmsg.HeartbeatRequest) string { return r.Group },
		func(resp *kmsg.HeartbeatResponse) { resp.ErrorCode = errGroupAuth })
	handleLeaveGroup = groupAPIFor((*group.Coordinator).LeaveGroup, authz.OpRead,
		func(r *kmsg.LeaveGroupRequest) string { return r.Group },
		func(resp *kmsg.LeaveGroupResponse) { resp.ErrorCode = errGroupAuth })
)

// handleOffsetFetch checks the group(s) and topics, asks the coordinator about what may be
// seen, and adds the refusals.
func handleOffsetFetch(b *Broker, ctx context.Context, req *wire.Request) (kmsg.Response, error) {
	inner := groupAPI((*group.Coordinator).OffsetFetch)
	if b.authz == nil {
		return inner(b, ctx, req)
	}
	r := req.Body.(*kmsg.OffsetFetchRequest)
	if r.Version >= 8 {
		return b.offsetFetchGroups(ctx, req, r, inner)
	}
	if !b.authorize(req, authz.OpDescribe, authz.ResourceGroup, r.Group) {
		resp := r.ResponseKind().(*kmsg.OffsetFetchResponse)
		if r.Version >= 2 {
			resp.ErrorCode = errGroupAuth
			return resp, nil
		}
		for _, t := range r.Topics { // v0-1 have no top-level error
			rt := kmsg.NewOffsetFetchResponseTopic()
			rt.Topic = t.Topic
			for _, p := range t.Partitions {
				rp := kmsg.NewOffsetFetchResponseTopicPartition()
				rp.Partition, rp.Offset, rp.ErrorCode = p, -1, errGroupAuth
				rt.Partitions = append(rt.Partitions, rp)
			}
			resp.Topics = append(resp.Topics, rt)
		}
		return resp, nil
	}
	var refused []kmsg.OffsetFetchRequestTopic
	if r.Topics != nil {
		kept := []kmsg.OffsetFetchRequestTopic{}
		for _, t := range r.Topics {
			if b.authorize(req, authz.OpDescribe, authz.ResourceTopic, t.Topic) {
				kept = append(kept, t)
			} else {
				refused = append(refused, t)
			}
		}
		r.Topics = kept
	}
	out, err := inner(b, ctx, req)
	if err != nil {
		return nil, err
	}
	resp := out.(*kmsg.OffsetFetchResponse)
	if resp.ErrorCode != 0 {
		return resp, nil
	}
	if r.Topics == nil { // all topics: keep only those the client may describe
		kept := resp.Topics[:0]
		for _, t := range resp.Topics {
			if b.authorize(req, authz.OpDescribe, authz.ResourceTopic, t.Topic) {
				kept = append(kept, t)
			}
		}
		resp.Topics = kept
	}
	for _, t := range refused {
		rt := kmsg.NewOffsetFetchResponseTopic()
		rt.Topic = t.Topic
		for _, p := range t.Partitions {
			rp := kmsg.NewOffsetFetchResponseTopicPartition()
			rp.Partition, rp.Offset, rp.ErrorCode = p, -1, kerr.TopicAuthorizationFailed.Code
			rt.Partitions = append(rt.Partitions, rp)
		}
		resp.Topics = append(resp.Topics, rt)
	}
	return resp, nil
}

// offsetFetchGroups is OffsetFetch v8+, several groups in one request.
func (b *Broker) offsetFetchGroups(ctx context.Context, req *wire.Request, r *kmsg.OffsetFetchRequest, inner handlerFunc) (kmsg.Response, error) {
	type verdict struct {
		ok      bool
		refused []kmsg.OffsetFetchRequestGroupTopic
	}
	verdicts := make([]verdict, len(r.Groups))
	var asked []kmsg.OffsetFetchRequestGroup
	for i, g := range r.Groups {
		if !b.authorize(req, authz.OpDescribe, authz.ResourceGroup, g.Group) {
			continue
		}
		verdicts[i].ok = true
		if g.Topics != nil {
			kept := []kmsg.OffsetFetchRequestGroupTopic{}
			for _, t := range g.Topics {
				if b.authorize(req, authz.OpDescribe, authz.ResourceTopic, t.Topic) {
					kept = append(kept, t)
				} else {
					verdicts[i].refused = append(verdicts[i].refused, t)
				}
			}
			g.Topics = kept
		}
		asked = append(asked, g)
	}
	all := r.Groups
	r.Groups = asked
	out, err := inner(b, ctx, req)
	if err != nil {
		return nil, err
	}
	answered := out.(*kmsg.OffsetFetchResponse).Groups
	resp := r.ResponseKind().(*kmsg.OffsetFetchResponse)
	next := 0
	for i, g := range all {
		if !verdicts[i].ok {
			rg := kmsg.NewOffsetFetchResponseGroup()
			rg.Group, rg.ErrorCode = g.Group, errGroupAuth
			resp.Groups = append(resp.Groups, rg)
			continue
		}
		if next >= len(answered) {
			break
		}
		rg := answered[next]
		next++
		if rg.ErrorCode == 0 && g.Topics == nil {
			kept := rg.Topics[:0]
			for _, t := range rg.Topics {
				if b.authorize(req, authz.OpDescribe, authz.ResourceTopic, t.Topic) {
					kept = append(kept, t)
				}
			}
			rg.Topics = kept
		}
		if rg.ErrorCode == 0 {
			for _, t := range verdicts[i].refused {
				rt := kmsg.NewOffsetFetchResponseGroupTopic()
				rt.Topic = t.Topic
				for _, p := range t.Partitions {
					rp := kmsg.NewOffsetFetchResponseGroupTopicPartition()
					rp.Partition, rp.Offset, rp.ErrorCode = p, -1, kerr.TopicAuthorizationFailed.Code
					rt.Partitions = append(rt.Partitions, rp)
				}
				rg.Topics = append(rg.Topics, rt)
			}
		}
		resp.Groups = append(resp.Groups, rg)
	}
	return resp, nil
}

// handleListGroups lists every group to a client that may describe the cluster, else only
// the groups it may describe (asked quietly).
func handleListGroups(b *Broker, ctx context.Context, req *wire.Request) (kmsg.Response, error) {
	out, err := groupAPI((*group.Coordinator).ListGroups)(b, ctx, req)
	if err != nil || b.authz == nil || b.authorizeQuiet(req, authz.OpDescribe, authz.ResourceCluster, authz.ClusterName) {
		return out, err
	}
	resp := out.(*kmsg.ListGroupsResponse)
	kept := resp.Groups[:0]
	for _, g := range resp.Groups {
		if b.authorizeQuiet(req, authz.OpDescribe, authz.ResourceGroup, g.Group) {
			kept = append(kept, g)
		}
	}
	resp.Groups = kept
	return resp, nil
}

// handleDeleteGroups deletes the groups the client may delete and refuses the others.
func handleDeleteGroups(b *Broker, ctx context.Context, req *wire.Request) (kmsg.Response, error) {
	inner := groupAPI((*group.Coordinator).DeleteGroups)
	if b.authz == nil {
		return inner(b, ctx, req)
	}
	r := req.Body.(*kmsg.DeleteGroupsRequest)
	var allowed, refused []string
	seen := map[string]bool{}
	for _, g := range r.Groups {
		if seen[g] {
			continue
		}
		seen[g] = true
		if b.authorize(req, authz.OpDelete, authz.ResourceGroup, g) {
			allowed = append(allowed, g)
		} else {
			refused = append(refused, g)
		}
	}
	r.Groups = allowed
	resp := r.ResponseKind().(*kmsg.DeleteGroupsResponse)
	if len(allowed) > 0 {
		out, err := inner(b, ctx, req)
		if err != nil {
			return nil, err
		}
		resp = out.(*kmsg.DeleteGroupsResponse)
	}
	for _, g := range refused {
		rg := kmsg.NewDeleteGroupsResponseGroup()
		rg.Group, rg.ErrorCode = g, errGroupAuth
		resp.Groups = append(resp.Groups, rg)
	}
	return resp, nil
}

// handleOffsetDelete needs Delete on the group; partitions of topics the client may not read
// are answered TOPIC_AUTHORIZATION_FAILED and not deleted.
func handleOffsetDelete(b *Broker, ctx context.Context, req *wire.Request) (kmsg.Response, error) {
	inner := groupAPI((*group.Coordinator).OffsetDelete)
	if b.authz == nil {
		return inner(b, ctx, req)
	}
	r := req.Body.(*kmsg.OffsetDeleteRequest)
	if !b.authorize(req, authz.OpDelete, authz.ResourceGroup, r.Group) {
		resp := r.ResponseKind().(*kmsg.OffsetDeleteResponse)
		resp.ErrorCode = errGroupAuth
		return resp, nil
	}
	var refused []kmsg.OffsetDeleteRequestTopic
	kept := []kmsg.OffsetDeleteRequestTopic{}
	for _, t := range r.Topics {
		if b.authorize(req, authz.OpRead, authz.ResourceTopic, t.Topic) {
			kept = append(kept, t)
		} else {
			refused = append(refused, t)
		}
	}
	r.Topics = kept
	out, err := inner(b, ctx, req)
	if err != nil {
		return nil, err
	}
	resp := out.(*kmsg.OffsetDeleteResponse)
	if resp.ErrorCode != 0 {
		return resp, nil
	}
	for _, t := range refused {
		rt := kmsg.NewOffsetDeleteResponseTopic()
		rt.Topic = t.Topic
		for _, p := range t.Partitions {
			rp := kmsg.NewOffsetDeleteResponseTopicPartition()
			rp.Partition, rp.ErrorCode = p.Partition, kerr.TopicAuthorizationFailed.Code
			rt.Partitions = append(rt.Partitions, rp)
		}
		resp.Topics = append(resp.Topics, rt)
	}
	return resp, nil
}
