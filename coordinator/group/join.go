package group

// JoinGroup (key 11, v0-9), SyncGroup (14, v0-5), Heartbeat (12, v0-4), LeaveGroup (13, v0-5):
// the classic rebalance protocol, as Kafka 3.6's GroupCoordinator. KIP-62 (rebalance timeout,
// JoinGroup v1), KIP-394 (MEMBER_ID_REQUIRED, v4), KIP-345 (static membership, v5; batched
// LeaveGroup, v3), KIP-559 (protocol type and name in SyncGroup, v5), KIP-800 (reasons, v8),
// KIP-814 (SkipAssignment, v9).

import (
	"context"
	"time"

	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kmsg"
)

func sendJoin(ch chan joinResult, r joinResult) {
	select {
	case ch <- r:
	default: // already answered
	}
}

// JoinGroup joins (or creates) a group. It blocks until the rebalance completes or ctx ends.
func (c *Coordinator) JoinGroup(ctx context.Context, req *kmsg.JoinGroupRequest) *kmsg.JoinGroupResponse {
	resp := req.ResponseKind().(*kmsg.JoinGroupResponse)
	ch := make(chan joinResult, 1)
	c.handleJoin(ctx, req, ch)
	var r joinResult
	select {
	case r = <-ch:
	case <-ctx.Done():
		r = joinError(req.MemberID, errCoordinatorNotAvailable)
	}
	resp.ErrorCode = r.err
	resp.Generation = r.generation
	resp.ProtocolType = r.protocolType
	resp.Protocol = r.protocol
	resp.LeaderID = r.leader
	resp.SkipAssignment = r.skipAssignment
	resp.MemberID = r.memberID
	resp.Members = r.members
	return resp
}

type joinRequest struct {
	memberID           string
	instanceID         *string
	clientID           string
	clientHost         string
	rebalanceTimeoutMs int32
	sessionTimeoutMs   int32
	protocolType       string
	protocols          []protocol
	requireKnownID     bool
	supportSkip        bool
}

func (c *Coordinator) handleJoin(ctx context.Context, req *kmsg.JoinGroupRequest, ch chan joinResult) {
	if code := c.groupStatus(req.Group, false); code != 0 {
		sendJoin(ch, joinError(req.MemberID, code))
		return
	}
	if req.SessionTimeoutMillis < int32(c.cfg.GroupMinSessionTimeoutMs) || req.SessionTimeoutMillis > int32(c.cfg.GroupMaxSessionTimeoutMs) {
		sendJoin(ch, joinError(req.MemberID, errInvalidSessionTimeout))
		return
	}
	ci := clientFrom(ctx)
	jr := joinRequest{
		memberID:           req.MemberID,
		instanceID:         req.InstanceID,
		clientID:           ci.id,
		clientHost:         ci.host,
		rebalanceTimeoutMs: req.RebalanceTimeoutMillis,
		sessionTimeoutMs:   req.SessionTimeoutMillis,
		protocolType:       req.ProtocolType,
		requireKnownID:     req.Version >= 4,
		supportSkip:        req.Version >= 9,
	}
	if req.Version == 0 || jr.rebalanceTimeoutMs <= 0 {
		jr.rebalanceTimeoutMs = jr.sessionTimeoutMs // v0 has no rebalance timeout
	}
	if req.Version < 5 {
		jr.instanceID = nil
	}
	for _, p := range req.Protocols {
		jr.protocols = append(jr.protocols, protocol{name: p.Name, metadata: p.Metadata})
	}

	isUnknown := req.MemberID == ""
	var g *group
	if isUnknown {
		if g = c.getOrCreateGroup(req.Group); g == nil {
			sendJoin(ch, joinError(req.MemberID, errNotCoordinator))
			return
		}
	} else if g = c.getGroup(req.Group); g == nil {
		sendJoin(ch, joinError(req.MemberID, errUnknownMemberID))
		return
	}

	g.mu.Lock()
	defer g.mu.Unlock()
	if isUnknown {
		c.doNewMemberJoin(g, jr, ch)
	} else {
		c.doCurrentMemberJoin(g, jr, ch)
	}
	if g.is(statePreparingRebalance) {
		c.checkAndCompleteJoin(g)
	}
}

func (c *Coordinator) doNewMemberJoin(g *group, jr joinRequest, ch chan joinResult) {
	switch {
	case g.is(stateDead):
		sendJoin(ch, joinError("", errCoordinatorNotAvailable))
		return
	case !g.supportsProtocols(jr.protocolType, jr.protocols):
		sendJoin(ch, joinError("", errInconsistentProtocol))
		return
	}
	prefix := jr.clientID
	if jr.instanceID != nil {
		prefix = *jr.instanceID
	}
	newID := prefix + "-" + newUUID()
	if jr.instanceID != nil {
		if oldID, ok := g.staticMembers[*jr.instanceID]; ok {
			c.logger.Info().Str("group", g.id).Str("instance_id", *jr.instanceID).Str("old_member_id", oldID).
				Str("member_id", newID).Stringer("state", g.state).Msg("static member rejoined with unknown member id; replacing it")
			c.updateStaticMemberAndRebalance(g, oldID, newID, *jr.instanceID, jr, ch)
			return
		}
		c.addMemberAndRebalance(g, newID, jr, ch)
		return
	}
	if jr.requireKnownID {
		// KIP-394: hand out the member id and have the client rejoin with it.
		g.pendingMembers[newID] = c.afterFunc(time.Duration(jr.sessionTimeoutMs)*time.Millisecond, func() {
			g.mu.Lock()
			defer g.mu.Unlock()
			if g.isPending(newID) && !g.is(stateDead) {
				c.removePendingMemberAndUpdateGroup(g, newID)
			}
		})
		sendJoin(ch, joinError(newID, errMemberIDRequired))
		return
	}
	c.addMemberAndRebalance(g, newID, jr, ch)
}

func (c *Coordinator) doCurrentMemberJoin(g *group, jr joinRequest, ch chan joinResult) {
	switch {
	case g.is(stateDead):
		sendJoin(ch, joinError(jr.memberID, errCoordinatorNotAvailable))
		return
	case !g.supportsProtocols(jr.protocolType, jr.protocols):
		sendJoin(ch, joinError(jr.memberID, errInconsistentProtocol))
		return
	}
	if g.isPending(jr.memberID) {
		if jr.instanceID != nil { // pending ids are handed to dynamic members only
			sendJoin(ch, joinError(jr.memberID, kerr.UnknownServerError.Code))
			return
		}
		c.addMemberAndRebalance(g, jr.memberID, jr, ch)
		return
	}
	if code := g.validateCurrentMember(jr.memberID, jr.instanceID); code != 0 {
		sendJoin(ch, joinError(jr.memberID, code))
		return
	}
	m := g.members[jr.memberID]
	switch g.state {
	case statePreparingRebalance:
		c.updateMemberAndRebalance(g, m, jr, ch)
	case stateCompletingRebalance:
		if m.matches(jr.protocols) {
			// The member lost the JoinGroup response; give it the current generation again.
			var members []kmsg.JoinGroupResponseMember
			if g.isLeader(m.id) {
				members = g.currentMemberMetadata()
			}
			sendJoin(ch, g.currentJoinResult(m.id, members))
		} else {
			c.updateMemberAndRebalance(g, m, jr, ch)
		}
	case stateStable:
		if g.isLeader(m.id) || !m.matches(jr.protocols) {
			// The leader rejoining forces a rebalance (it may have seen metadata changes);
			// so does a member whose subscription changed (e.g. cooperative revocation).
			c.updateMemberAndRebalance(g, m, jr, ch)
		} else {
			sendJoin(ch, g.currentJoinResult(m.id, nil))
		}
	default:
		sendJoin(ch, joinError(jr.memberID, errUnknownMemberID))
	}
}

func (g *group) currentJoinResult(memberID string, members []kmsg.JoinGroupResponseMember) joinResult {
	return joinResult{
		members:      members,
		memberID:     memberID,
		generation:   g.generation,
		protocolType: g.protocolTypePtr(),
		protocol:     g.protocolPtr(),
		leader:       g.leader,
	}
}

// validateCurrentMember: a given instance id must map to memberID (else FENCED_INSTANCE_ID,
// or UNKNOWN_MEMBER_ID if unknown), and memberID must be a member.
func (g *group) validateCurrentMember(memberID string, instanceID *string) int16 {
	if instanceID != nil {
		cur, ok := g.staticMembers[*instanceID]
		if !ok {
			return errUnknownMemberID
		}
		if cur != memberID {
			return errFencedInstanceID
		}
	}
	if _, ok := g.members[memberID]; !ok {
		return errUnknownMemberID
	}
	return 0
}

func (c *Coordinator) addMemberAndRebalance(g *group, id string, jr joinRequest, ch chan joinResult) {
	m := &member{
		id:                 id,
		instanceID:         jr.instanceID,
		clientID:           jr.clientID,
		clientHost:         jr.clientHost,
		rebalanceTimeoutMs: jr.rebalanceTimeoutMs,
		sessionTimeoutMs:   jr.sessionTimeoutMs,
		protocolType:       jr.protocolType,
		protocols:          jr.protocols,
		isNew:              true,
	}
	if g.is(statePreparingRebalance) && g.generation == 0 {
		g.newMemberAdded = true // lets InitialDelayedJoin wait a little longer
	}
	g.add(m, ch)
	// A new member cannot heartbeat while parked in JoinGroup; it is dropped if the rebalance
	// takes longer than the new-member join timeout.
	c.completeAndScheduleNextExpiration(g, m, c.newMemberJoinTimeout)
	c.maybePrepareRebalance(g, "adding new member "+id)
}

func (c *Coordinator) updateMemberAndRebalance(g *group, m *member, jr joinRequest, ch chan joinResult) {
	c.replaceJoinWaiter(g, m)
	g.updateMember(m, jr.protocols, jr.rebalanceTimeoutMs, jr.sessionTimeoutMs, ch)
	c.maybePrepareRebalance(g, "member "+m.id+" rejoined")
}

// replaceJoinWaiter answers a JoinGroup that a newer one from the same member replaces.
func (c *Coordinator) replaceJoinWaiter(g *group, m *member) {
	if m.awaitingJoin != nil {
		g.maybeInvokeJoin(m, joinError(m.id, errRebalanceInProgress))
	}
}

// updateStaticMemberAndRebalance: a known group.instance.id joined with an unknown member id.
// The old member id is fenced and replaced; in Stable state, with a protocol choice that stays
// the same, there is no rebalance: the group is persisted with the new member id and the
// member gets the current generation (KIP-345).
func (c *Coordinator) updateStaticMemberAndRebalance(g *group, oldID, newID, instanceID string, jr joinRequest, ch chan joinResult) {
	currentLeader := g.leader
	m := g.replaceStaticMember(instanceID, oldID, newID)
	c.completeAndScheduleNextHeartbeatExpiration(g, m)
	oldReb, oldSess, oldProtocols := m.rebalanceTimeoutMs, m.sessionTimeoutMs, m.protocols
	g.updateMember(m, jr.protocols, jr.rebalanceTimeoutMs, jr.sessionTimeoutMs, ch)

	switch g.state {
	case stateStable:
		if !g.hasProtocol || g.selectProtocol() != g.protocol {
			c.maybePrepareRebalance(g, "static member "+newID+" changed the group's protocol")
			return
		}
		gen := g.generation
		batch := encodeBatch(c.nowMs(), []record{{Timestamp: c.nowMs(), Key: groupMetadataKey(g.id), Value: g.metadataValue(nil)}})
		c.store(g, batch, func(err error) {
			if g.generation != gen || !g.is(stateStable) || g.members[newID] != m {
				return // the group moved on; the member takes part in whatever happens now
			}
			if code := storeGroupError(err); code != 0 {
				c.logger.Warn().Err(err).Str("group", g.id).Msg("failed to persist static member replacement; reverting")
				g.updateMember(m, oldProtocols, oldReb, oldSess, nil)
				old := g.replaceStaticMember(instanceID, newID, oldID)
				c.completeAndScheduleNextHeartbeatExpiration(g, old)
				r := g.currentJoinResult("", nil)
				r.leader = currentLeader
				r.err = code
				sendJoin(ch, r)
				return
			}
			if jr.supportSkip {
				// KIP-814: the static leader learns it leads but skips the assignment.
				isLeader := g.isLeader(newID)
				var members []kmsg.JoinGroupResponseMember
				if isLeader {
					members = g.currentMemberMetadata()
				}
				r := g.currentJoinResult(newID, members)
				r.skipAssignment = isLeader
				g.maybeInvokeJoin(m, r)
			} else {
				// Before v9, return the old leader id so that a rejoining leader does not run
				// an assignment that a Stable group would ignore.
				r := g.currentJoinResult(newID, nil)
				r.leader = currentLeader
				g.maybeInvokeJoin(m, r)
			}
		})
	case stateCompletingRebalance:
		// The leader may already assign to the old member id: rebalance again.
		c.prepareRebalance(g, "static member "+newID+" rejoined during CompletingRebalance")
	case statePreparingRebalance:
		// It simply takes part in the ongoing rebalance.
	}
}

func (c *Coordinator) maybePrepareRebalance(g *group, reason string) {
	if g.canRebalance() {
		c.prepareRebalance(g, reason)
	}
}

func (c *Coordinator) prepareRebalance(g *group, reason string) {
	if g.is(stateCompletingRebalance) {
		c.resetAndPropagateAssignmentError(g, errRebalanceInProgress)
	}
	c.removeSyncExpiration(g)
	wasEmpty := g.is(stateEmpty)
	g.lastReason = reason
	g.transitionTo(statePreparingRebalance, c.nowMs())
	c.logger.Info().Str("group", g.id).Int32("generation", g.generation).Str("reason", reason).Msg("preparing to rebalance")
	if wasEmpty {
		// InitialDelayedJoin: give more members the chance to join the first generation.
		delay := int64(c.cfg.GroupInitialRebalanceDelayMs)
		c.scheduleJoin(g, true, delay, max(int64(g.rebalanceTimeoutMs())-delay, 0))
	} else {
		c.scheduleJoin(g, false, int64(g.rebalanceTimeoutMs()), 0)
	}
}

// scheduleJoin arms the group's delayed join: DelayedJoin (initial false: completes as soon as
// every member rejoined, or after delayMs) or InitialDelayedJoin (completes only on its timer,
// re-arming while new members keep joining, up to remainingMs more).
func (c *Coordinator) scheduleJoin(g *group, initial bool, delayMs, remainingMs int64) {
	c.stopJoinTimer(g)
	token := g.joinToken
	g.joinInitial = initial
	g.joinTimer = c.afterFunc(time.Duration(delayMs)*time.Millisecond, func() {
		g.mu.Lock()
		defer g.mu.Unlock()
		if g.joinToken != token || g.joinTimer == nil {
			return
		}
		g.joinTimer = nil
		g.joinToken++
		if initial && g.newMemberAdded && remainingMs != 0 {
			g.newMemberAdded = false
			c.scheduleJoin(g, true, min(int64(c.cfg.GroupInitialRebalanceDelayMs), remainingMs), max(remainingMs-delayMs, 0))
			return
		}
		c.onCompleteJoin(g)
	})
	if !initial {
		c.checkAndCompleteJoin(g)
	}
}

func (c *Coordinator) stopJoinTimer(g *group) {
	g.joinTimer.stop()
	g.joinTimer = nil
	g.joinToken++
}

// checkAndCompleteJoin completes a (non-initial) delayed join once every member has rejoined.
func (c *Coordinator) checkAndCompleteJoin(g *group) {
	if g.joinTimer != nil && !g.joinInitial && g.hasAllMembersJoined() {
		c.stopJoinTimer(g)
		c.onCompleteJoin(g)
	}
}

// onCompleteJoin ends PreparingRebalance: dynamic members that did not rejoin are removed, the
// next generation starts and every parked JoinGroup is answered (the leader's with all
// members' metadata).
func (c *Coordinator) onCompleteJoin(g *group) {
	if !g.is(statePreparingRebalance) {
		return
	}
	for _, m := range g.sortedMembers() {
		if m.awaitingJoin == nil && !m.isStatic() {
			c.logger.Info().Str("group", g.id).Str("member_id", m.id).Msg("removing member that did not rejoin in time")
			g.remove(m.id)
		}
	}
	if !g.maybeElectNewJoinedLeader() && len(g.members) > 0 {
		// Only static members that did not rejoin are left: wait another rebalance timeout,
		// until their sessions expire.
		c.logger.Warn().Str("group", g.id).Msg("could not complete rebalance because no members rejoined")
		c.scheduleJoin(g, false, int64(g.rebalanceTimeoutMs()), 0)
		return
	}
	g.initNextGeneration(c.nowMs())
	if g.is(stateEmpty) {
		c.logger.Info().Str("group", g.id).Int32("generation", g.generation).Msg("group is now empty")
		c.publishRebalance(g)
		batch := encodeBatch(c.nowMs(), []record{{Timestamp: c.nowMs(), Key: groupMetadataKey(g.id), Value: g.metadataValue(nil)}})
		c.store(g, batch, func(err error) {
			if err != nil {
				c.logger.Warn().Err(err).Str("group", g.id).Msg("failed to write empty group metadata")
			}
		})
		return
	}
	c.logger.Info().Str("group", g.id).Int32("generation", g.generation).Int("members", len(g.members)).
		Str("protocol", g.protocol).Msg("stabilized group")
	c.publishRebalance(g)
	for _, m := range g.sortedMembers() {
		var members []kmsg.JoinGroupResponseMember
		if g.isLeader(m.id) {
			members = g.currentMemberMetadata()
		}
		g.maybeInvokeJoin(m, g.currentJoinResult(m.id, members))
		c.completeAndScheduleNextHeartbeatExpiration(g, m)
		m.isNew = false
		g.pendingSyncMembers[m.id] = true
	}
	c.schedulePendingSync(g)
}
