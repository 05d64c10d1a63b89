// SyncGroup: the leader's assignment handed to every member (GroupCoordinator.handleSyncGroup).

package group

import (
	"context"
	"time"

	"github.com/twmb/franz-go/pkg/kmsg"
)

func sendSync(ch chan syncResult, r syncResult) {
	select {
	case ch <- r:
	default:
	}
}

// schedulePendingSync is DelayedSync: members that do not SyncGroup within the rebalance
// timeout are removed and the group rebalances.
func (c *Coordinator) schedulePendingSync(g *group) {
	c.stopSyncTimer(g)
	token, gen := g.syncToken, g.generation
	g.syncTimer = c.afterFunc(time.Duration(g.rebalanceTimeoutMs())*time.Millisecond, func() {
		g.mu.Lock()
		defer g.mu.Unlock()
		if g.syncToken != token || g.syncTimer == nil {
			return
		}
		g.syncTimer = nil
		g.syncToken++
		if gen != g.generation || !(g.is(stateCompletingRebalance) || g.is(stateStable)) || len(g.pendingSyncMembers) == 0 {
			return
		}
		var ids []string
		for id := range g.pendingSyncMembers {
			ids = append(ids, id)
		}
		for _, id := range ids {
			g.remove(id)
		}
		c.logger.Info().Str("group", g.id).Strs("members", ids).Msg("removed members that did not SyncGroup in time")
		c.prepareRebalance(g, "members did not sync in time")
	})
}

func (c *Coordinator) stopSyncTimer(g *group) {
	g.syncTimer.stop()
	g.syncTimer = nil
	g.syncToken++
}

func (c *Coordinator) removePendingSyncMember(g *group, id string) {
	delete(g.pendingSyncMembers, id)
	if len(g.pendingSyncMembers) == 0 {
		c.stopSyncTimer(g)
	}
}

func (c *Coordinator) removeSyncExpiration(g *group) {
	clear(g.pendingSyncMembers)
	c.stopSyncTimer(g)
}

func (c *Coordinator) resetAndPropagateAssignmentError(g *group, code int16) {
	for _, m := range g.members {
		m.assignment = nil
	}
	c.propagateAssignment(g, code)
}

func (c *Coordinator) setAndPropagateAssignment(g *group, assignment map[string][]byte) {
	for _, m := range g.members {
		m.assignment = assignment[m.id]
	}
	c.propagateAssignment(g, 0)
}

func (c *Coordinator) propagateAssignment(g *group, code int16) {
	var ptype, proto *string
	if code == 0 {
		ptype, proto = g.protocolTypePtr(), g.protocolPtr()
	}
	for _, m := range g.sortedMembers() {
		r := syncResult{protocolType: ptype, protocol: proto, assignment: m.assignment, err: code}
		if g.maybeInvokeSync(m, r) {
			// Restart the session now: it may have lapsed while the member waited.
			c.completeAndScheduleNextHeartbeatExpiration(g, m)
		}
	}
}

// SyncGroup delivers the leader's assignment. It blocks until the leader's assignment is
// persisted (for the leader and the followers alike) or ctx ends.
func (c *Coordinator) SyncGroup(ctx context.Context, req *kmsg.SyncGroupRequest) *kmsg.SyncGroupResponse {
	resp := req.ResponseKind().(*kmsg.SyncGroupResponse)
	ch := make(chan syncResult, 1)
	c.handleSync(req, ch)
	var r syncResult
	select {
	case r = <-ch:
	case <-ctx.Done():
		r = syncResult{err: errRebalanceInProgress}
	}
	resp.ErrorCode = r.err
	resp.ProtocolType = r.protocolType
	resp.Protocol = r.protocol
	resp.MemberAssignment = r.assignment
	if resp.MemberAssignment == nil {
		resp.MemberAssignment = []byte{}
	}
	return resp
}

func (c *Coordinator) handleSync(req *kmsg.SyncGroupRequest, ch chan syncResult) {
	switch code := c.groupStatus(req.Group, false); code {
	case 0:
	case errCoordinatorLoadInProgress:
		// The rebalance state was lost with the old coordinator: have the member rejoin.
		sendSync(ch, syncResult{err: errRebalanceInProgress})
		return
	default:
		sendSync(ch, syncResult{err: code})
		return
	}
	g := c.getGroup(req.Group)
	if g == nil {
		sendSync(ch, syncResult{err: errUnknownMemberID})
		return
	}
	instanceID := req.InstanceID
	if req.Version < 3 {
		instanceID = nil
	}
	g.mu.Lock()
	defer g.mu.Unlock()

	var code int16
	switch {
	case g.is(stateDead):
		code = errCoordinatorNotAvailable
	default:
		code = g.validateCurrentMember(req.MemberID, instanceID)
	}
	if code == 0 {
		switch {
		case req.Generation != g.generation:
			code = errIllegalGeneration
		case req.ProtocolType != nil && (!g.hasProtoType || *req.ProtocolType != g.protocolType):
			code = errInconsistentProtocol
		case req.Protocol != nil && (!g.hasProtocol || *req.Protocol != g.protocol):
			code = errInconsistentProtocol
		}
	}
	if code != 0 {
		sendSync(ch, syncResult{err: code})
		return
	}

	m := g.members[req.MemberID]
	switch g.state {
	case stateEmpty:
		sendSync(ch, syncResult{err: errUnknownMemberID})
	case statePreparingRebalance:
		sendSync(ch, syncResult{err: errRebalanceInProgress})
	case stateStable:
		c.removePendingSyncMember(g, m.id)
		sendSync(ch, syncResult{protocolType: g.protocolTypePtr(), protocol: g.protocolPtr(), assignment: m.assignment})
		c.completeAndScheduleNextHeartbeatExpiration(g, m)
	case stateCompletingRebalance:
		if m.awaitingSync != nil {
			g.maybeInvokeSync(m, syncResult{err: errRebalanceInProgress}) // replaced by this request
		}
		m.awaitingSync = ch
		c.removePendingSyncMember(g, m.id)
		if !g.isLeader(m.id) {
			return
		}
		assignment := make(map[string][]byte, len(g.members))
		for _, a := range req.GroupAssignment {
			if _, ok := g.members[a.MemberID]; ok {
				assignment[a.MemberID] = a.MemberAssignment
			}
		}
		for id := range g.members {
			if assignment[id] == nil {
				assignment[id] = []byte{}
			}
		}
		gen := g.generation
		batch := encodeBatch(c.nowMs(), []offsetsRecord{{Timestamp: c.nowMs(), Key: groupMetadataKey(g.id), Value: g.metadataValue(assignment)}})
		c.store(g, batch, func(err error) {
			if !g.is(stateCompletingRebalance) || g.generation != gen {
				return // a member joined or left meanwhile; the new rebalance answers everyone
			}
			if code := storeGroupError(err); code != 0 {
				c.logger.Warn().Err(err).Str("group", g.id).Int32("generation", gen).Msg("failed to persist group assignment")
				c.resetAndPropagateAssignmentError(g, code)
				c.maybePrepareRebalance(g, "failed to persist the assignment")
				return
			}
			c.setAndPropagateAssignment(g, assignment)
			g.transitionTo(stateStable, c.nowMs())
		})
	}
}
