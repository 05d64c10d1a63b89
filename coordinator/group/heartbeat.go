// Heartbeats, member expiry and LeaveGroup (GroupCoordinator.handleHeartbeat, handleLeaveGroup).

package group

import (
	"context"
	"time"

	"github.com/twmb/franz-go/pkg/kmsg"
)

func (c *Coordinator) completeAndScheduleNextHeartbeatExpiration(g *group, m *member) {
	c.completeAndScheduleNextExpiration(g, m, time.Duration(m.sessionTimeoutMs)*time.Millisecond)
}

// completeAndScheduleNextExpiration restarts the member's session deadline (DelayedHeartbeat).
// As Kafka's purgatory, a deadline that is already satisfied (the member is parked in a
// JoinGroup or SyncGroup) is not armed at all.
func (c *Coordinator) completeAndScheduleNextExpiration(g *group, m *member, timeout time.Duration) {
	m.heartbeat.stop()
	m.heartbeat = nil
	m.heartbeatSatisfied = false
	if m.hasSatisfiedHeartbeat() {
		return
	}
	var tm *timer
	tm = c.afterFunc(timeout, func() {
		g.mu.Lock()
		defer g.mu.Unlock()
		if m.heartbeat != tm {
			return
		}
		m.heartbeat = nil
		c.onExpireHeartbeat(g, m)
	})
	m.heartbeat = tm
}

func (c *Coordinator) onExpireHeartbeat(g *group, m *member) {
	if g.is(stateDead) || g.members[m.id] != m || m.hasSatisfiedHeartbeat() {
		return
	}
	c.logger.Info().Str("group", g.id).Str("member_id", m.id).Msg("member session expired; removing it")
	c.removeMemberAndUpdateGroup(g, m, "session expired")
}

func (c *Coordinator) removeMemberAndUpdateGroup(g *group, m *member, reason string) {
	// A parked new member is answered UNKNOWN_MEMBER_ID so that it retries the JoinGroup.
	g.maybeInvokeJoin(m, joinError("", errUnknownMemberID))
	g.remove(m.id)
	switch g.state {
	case stateStable, stateCompletingRebalance:
		c.maybePrepareRebalance(g, "removing member "+m.id+": "+reason)
	case statePreparingRebalance:
		c.checkAndCompleteJoin(g)
	}
}

func (c *Coordinator) removePendingMemberAndUpdateGroup(g *group, id string) {
	g.remove(id)
	if g.is(statePreparingRebalance) {
		c.checkAndCompleteJoin(g)
	}
}

// Heartbeat keeps a member's session alive and tells it when the group rebalances.
func (c *Coordinator) Heartbeat(ctx context.Context, req *kmsg.HeartbeatRequest) *kmsg.HeartbeatResponse {
	resp := req.ResponseKind().(*kmsg.HeartbeatResponse)
	resp.ErrorCode = c.heartbeat(req)
	return resp
}

func (c *Coordinator) heartbeat(req *kmsg.HeartbeatRequest) int16 {
	switch code := c.groupStatus(req.Group, false); code {
	case 0:
	case errCoordinatorLoadInProgress:
		return 0 // the group is loading: answer blindly, as Kafka
	default:
		return code
	}
	g := c.getGroup(req.Group)
	if g == nil {
		return errUnknownMemberID
	}
	instanceID := req.InstanceID
	if req.Version < 3 {
		instanceID = nil
	}
	g.mu.Lock()
	defer g.mu.Unlock()
	if g.is(stateDead) {
		return errCoordinatorNotAvailable
	}
	if code := g.validateCurrentMember(req.MemberID, instanceID); code != 0 {
		return code
	}
	if req.Generation != g.generation {
		return errIllegalGeneration
	}
	m := g.members[req.MemberID]
	switch g.state {
	case stateEmpty:
		return errUnknownMemberID
	case statePreparingRebalance:
		c.completeAndScheduleNextHeartbeatExpiration(g, m)
		return errRebalanceInProgress
	default: // CompletingRebalance (heartbeats may start after the JoinGroup response), Stable
		c.completeAndScheduleNextHeartbeatExpiration(g, m)
		return 0
	}
}

// LeaveGroup removes members: v0-2 one member by id; v3+ a batch, each by member id or, with an
// empty member id, by group.instance.id (KIP-345 administrative removal).
func (c *Coordinator) LeaveGroup(ctx context.Context, req *kmsg.LeaveGroupRequest) *kmsg.LeaveGroupResponse {
	resp := req.ResponseKind().(*kmsg.LeaveGroupResponse)
	leaving := req.Members
	if req.Version < 3 {
		leaving = []kmsg.LeaveGroupRequestMember{{MemberID: req.MemberID}}
	}
	top, members := c.leave(req.Group, leaving)
	if req.Version < 3 {
		if top == 0 && len(members) == 1 {
			top = members[0].ErrorCode
		}
		members = nil
	}
	resp.ErrorCode = top
	resp.Members = members
	return resp
}

func (c *Coordinator) leave(groupID string, leaving []kmsg.LeaveGroupRequestMember) (int16, []kmsg.LeaveGroupResponseMember) {
	if code := c.groupStatus(groupID, false); code != 0 {
		return code, nil
	}
	out := make([]kmsg.LeaveGroupResponseMember, 0, len(leaving))
	answer := func(l kmsg.LeaveGroupRequestMember, code int16) {
		rm := kmsg.NewLeaveGroupResponseMember()
		rm.MemberID, rm.InstanceID, rm.ErrorCode = l.MemberID, l.InstanceID, code
		out = append(out, rm)
	}
	g := c.getGroup(groupID)
	if g == nil {
		for _, l := range leaving {
			answer(l, errUnknownMemberID)
		}
		return 0, out
	}
	g.mu.Lock()
	defer g.mu.Unlock()
	if g.is(stateDead) {
		return errCoordinatorNotAvailable, nil
	}
	for _, l := range leaving {
		reason := "not provided"
		if l.Reason != nil {
			reason = *l.Reason
		}
		switch {
		case l.MemberID == "":
			id, ok := "", false
			if l.InstanceID != nil {
				id, ok = g.staticMembers[*l.InstanceID]
			}
			if !ok {
				answer(l, errUnknownMemberID)
				continue
			}
			c.removeMemberAndUpdateGroup(g, g.members[id], "LeaveGroup by instance id; client reason: "+reason)
			answer(l, 0)
		case g.isPending(l.MemberID):
			c.removePendingMemberAndUpdateGroup(g, l.MemberID)
			answer(l, 0)
		default:
			if code := g.validateCurrentMember(l.MemberID, l.InstanceID); code != 0 {
				answer(l, code)
				continue
			}
			c.removeMemberAndUpdateGroup(g, g.members[l.MemberID], "LeaveGroup; client reason: "+reason)
			answer(l, 0)
		}
		c.logger.Info().Str("group", g.id).Str("member_id", l.MemberID).Str("reason", reason).Msg("member left the group")
	}
	return 0, out
}
