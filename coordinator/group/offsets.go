package group

// OffsetCommit (key 8, v0-8), OffsetFetch (9, v0-8), OffsetDelete (47, v0), DeleteGroups (42,
// v0-2), ListGroups (16, v0-4), DescribeGroups (15, v0-5). KIP-211 (offset retention counted
// from when the group became Empty; OffsetCommit v5 drops the retention time), KIP-320 (leader
// epochs, OffsetCommit v6 / OffsetFetch v5), KIP-447 (require_stable, OffsetFetch v7), KIP-709
// (several groups per OffsetFetch, v8), KIP-496 (OffsetDelete), KIP-518 (ListGroups states
// filter, v4), KIP-430 (authorized operations, DescribeGroups v3).

import (
	"context"
	"math"
	"sort"
	"strings"

	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kmsg"
)

type commitItem struct {
	topicIdx, partIdx int
	tp                topicPartition
	entry             offsetEntry
	tooLarge          bool
}

// OffsetCommit stores offsets in __consumer_offsets; each partition is acknowledged only after
// the append is replicated (acks=all).
func (c *Coordinator) OffsetCommit(ctx context.Context, req *kmsg.OffsetCommitRequest) *kmsg.OffsetCommitResponse {
	resp := req.ResponseKind().(*kmsg.OffsetCommitResponse)
	now := c.nowMs()
	expire := int64(-1)
	if req.Version >= 2 && req.Version <= 4 && req.RetentionTimeMillis != -1 {
		expire = now + req.RetentionTimeMillis
	}
	var items []commitItem
	for ti, t := range req.Topics {
		rt := kmsg.NewOffsetCommitResponseTopic()
		rt.Topic = t.Topic
		for pi, p := range t.Partitions {
			rp := kmsg.NewOffsetCommitResponseTopicPartition()
			rp.Partition = p.Partition
			rt.Partitions = append(rt.Partitions, rp)
			e := offsetEntry{offset: p.Offset, leaderEpoch: -1, commitTimestamp: now, expireTimestamp: expire}
			if req.Version >= 6 {
				e.leaderEpoch = p.LeaderEpoch
			}
			if req.Version == 1 && p.Timestamp != -1 {
				e.commitTimestamp = p.Timestamp
			}
			if p.Metadata != nil {
				e.metadata = *p.Metadata
			}
			items = append(items, commitItem{
				topicIdx: ti, partIdx: pi,
				tp:       topicPartition{t.Topic, p.Partition},
				entry:    e,
				tooLarge: len(e.metadata) > c.cfg.OffsetMetadataMaxBytes,
			})
		}
		resp.Topics = append(resp.Topics, rt)
	}
	gen, memberID, instanceID := req.Generation, req.MemberID, req.InstanceID
	if req.Version == 0 {
		gen, memberID = -1, ""
	}
	if req.Version < 7 {
		instanceID = nil
	}
	codes := c.commitOffsets(ctx, req.Group, gen, memberID, instanceID, items)
	for i, it := range items {
		resp.Topics[it.topicIdx].Partitions[it.partIdx].ErrorCode = codes[i]
	}
	return resp
}

// commitOffsets is handleCommitOffsets + storeOffsets; it returns one code per item.
func (c *Coordinator) commitOffsets(ctx context.Context, groupID string, gen int32, memberID string, instanceID *string, items []commitItem) []int16 {
	codes := make([]int16, len(items))
	all := func(code int16) []int16 {
		for i := range codes {
			codes[i] = code
		}
		return codes
	}
	if len(items) == 0 {
		return codes
	}
	if code := c.groupStatus(groupID, true); code != 0 {
		return all(code)
	}
	g := c.getGroup(groupID)
	if g == nil {
		if gen >= 0 {
			// Not a group using Kafka's group management, or an old generation.
			return all(errIllegalGeneration)
		}
		if g = c.getOrCreateGroup(groupID); g == nil {
			return all(errNotCoordinator)
		}
	}

	g.mu.Lock()
	if code := g.validateOffsetCommit(gen, memberID, instanceID); code != 0 {
		g.mu.Unlock()
		return all(code)
	}
	switch g.state {
	case stateCompletingRebalance:
		// The member has the new generation from JoinGroup but not its assignment yet.
		g.mu.Unlock()
		return all(errRebalanceInProgress)
	case stateStable, statePreparingRebalance:
		// A commit counts as a heartbeat; during PreparingRebalance the next heartbeat tells
		// the member to rejoin.
		c.completeAndScheduleNextHeartbeatExpiration(g, g.members[memberID])
	}

	now := c.nowMs()
	var recs []offsetsRecord
	for _, it := range items {
		if !it.tooLarge {
			recs = append(recs, offsetsRecord{Timestamp: now, Key: offsetCommitKey(groupID, it.tp.topic, it.tp.partition), Value: offsetCommitValue(it.entry)})
		}
	}
	if len(recs) == 0 {
		g.mu.Unlock()
		return all(kerr.OffsetMetadataTooLarge.Code)
	}
	for _, it := range items {
		if !it.tooLarge {
			g.pendingCommits[it.tp]++
		}
	}
	done := make(chan int16, 1)
	c.storeAt(g, encodeBatch(now, recs), func(base int64, err error) {
		for _, it := range items {
			if it.tooLarge {
				continue
			}
			if g.pendingCommits[it.tp]--; g.pendingCommits[it.tp] <= 0 {
				delete(g.pendingCommits, it.tp)
			}
			if err == nil && !g.is(stateDead) {
				// onOffsetCommitAppend: unless a transactional commit later in the log
				// became visible meanwhile.
				e := it.entry
				e.appendedOffset = base
				if cur, ok := g.offsets[it.tp]; !ok || cur.olderThan(e) {
					g.offsets[it.tp] = e
				}
			}
		}
		if err != nil {
			c.logger.Debug().Err(err).Str("group", groupID).Msg("offset commit failed to append")
		}
		done <- storeOffsetsError(err)
	})
	g.mu.Unlock()

	var code int16
	select {
	case code = <-done:
	case <-ctx.Done():
		code = kerr.RequestTimedOut.Code
	}
	for i, it := range items {
		if it.tooLarge {
			codes[i] = kerr.OffsetMetadataTooLarge.Code
		} else {
			codes[i] = code
		}
	}
	return codes
}

// validateOffsetCommit: generation -1 with an Empty group is a simple (assign()) or admin
// commit; otherwise the member and generation must be current, and only members commit to a
// group that has members.
func (g *group) validateOffsetCommit(gen int32, memberID string, instanceID *string) int16 {
	switch {
	case g.is(stateDead):
		return errCoordinatorNotAvailable
	case gen < 0 && g.is(stateEmpty):
		return 0
	case gen >= 0 || memberID != "" || instanceID != nil:
		if code := g.validateCurrentMember(memberID, instanceID); code != 0 {
			return code
		}
		if gen != g.generation {
			return errIllegalGeneration
		}
		return 0
	case !g.is(stateEmpty):
		return errUnknownMemberID
	}
	return 0
}

type fetchedOffset struct {
	tp    topicPartition
	entry offsetEntry
	found bool
	err   int16
}

// fetchOffsets is handleFetchOffsets: requested nil means every partition the group has.
func (c *Coordinator) fetchOffsets(groupID string, requested []topicPartition, requireStable bool) (int16, []fetchedOffset) {
	if code := c.groupStatus(groupID, true); code != 0 {
		return code, nil
	}
	var out []fetchedOffset
	g := c.getGroup(groupID)
	if g != nil {
		g.mu.Lock()
		defer g.mu.Unlock()
		if g.is(stateDead) {
			g = nil
		}
	}
	if g == nil {
		for _, tp := range requested {
			out = append(out, fetchedOffset{tp: tp})
		}
		return 0, out
	}
	if requested == nil {
		for tp := range g.offsets {
			requested = append(requested, tp)
		}
		sort.Slice(requested, func(i, j int) bool {
			if requested[i].topic != requested[j].topic {
				return requested[i].topic < requested[j].topic
			}
			return requested[i].partition < requested[j].partition
		})
	}
	for _, tp := range requested {
		if requireStable && (g.hasPendingCommit(tp) || g.hasPendingTxnCommit(tp)) {
			out = append(out, fetchedOffset{tp: tp, err: kerr.UnstableOffsetCommit.Code})
			continue
		}
		e, ok := g.offsets[tp]
		out = append(out, fetchedOffset{tp: tp, entry: e, found: ok})
	}
	return 0, out
}

// OffsetFetch returns committed offsets: partitions without one get offset -1, a group that
// does not exist has no offsets and no error.
func (c *Coordinator) OffsetFetch(ctx context.Context, req *kmsg.OffsetFetchRequest) *kmsg.OffsetFetchResponse {
	resp := req.ResponseKind().(*kmsg.OffsetFetchResponse)
	if req.Version >= 8 {
		for _, rg := range req.Groups {
			var requested []topicPartition
			if rg.Topics != nil {
				requested = []topicPartition{}
				for _, t := range rg.Topics {
					for _, p := range t.Partitions {
						requested = append(requested, topicPartition{t.Topic, p})
					}
				}
			}
			code, offs := c.fetchOffsets(rg.Group, requested, req.RequireStable)
			g := kmsg.NewOffsetFetchResponseGroup()
			g.Group = rg.Group
			g.ErrorCode = code
			for _, o := range offs {
				if n := len(g.Topics); n == 0 || g.Topics[n-1].Topic != o.tp.topic {
					t := kmsg.NewOffsetFetchResponseGroupTopic()
					t.Topic = o.tp.topic
					g.Topics = append(g.Topics, t)
				}
				p := kmsg.NewOffsetFetchResponseGroupTopicPartition()
				p.Partition = o.tp.partition
				p.Offset, p.LeaderEpoch, p.Metadata, p.ErrorCode = fetchedFields(o)
				t := &g.Topics[len(g.Topics)-1]
				t.Partitions = append(t.Partitions, p)
			}
			resp.Groups = append(resp.Groups, g)
		}
		return resp
	}

	var requested []topicPartition
	if req.Topics != nil || req.Version < 2 {
		requested = []topicPartition{}
		for _, t := range req.Topics {
			for _, p := range t.Partitions {
				requested = append(requested, topicPartition{t.Topic, p})
			}
		}
	}
	code, offs := c.fetchOffsets(req.Group, requested, req.Version >= 7 && req.RequireStable)
	if code != 0 {
		if req.Version >= 2 {
			resp.ErrorCode = code
			return resp
		}
		// v0-1 have no top-level error: every requested partition carries it.
		offs = offs[:0]
		for _, tp := range requested {
			offs = append(offs, fetchedOffset{tp: tp, err: code})
		}
	}
	for _, o := range offs {
		if n := len(resp.Topics); n == 0 || resp.Topics[n-1].Topic != o.tp.topic {
			t := kmsg.NewOffsetFetchResponseTopic()
			t.Topic = o.tp.topic
			resp.Topics = append(resp.Topics, t)
		}
		p := kmsg.NewOffsetFetchResponseTopicPartition()
		p.Partition = o.tp.partition
		p.Offset, p.LeaderEpoch, p.Metadata, p.ErrorCode = fetchedFields(o)
		t := &resp.Topics[len(resp.Topics)-1]
		t.Partitions = append(t.Partitions, p)
	}
	return resp
}

func fetchedFields(o fetchedOffset) (offset int64, epoch int32, metadata *string, code int16) {
	if !o.found || o.err != 0 {
		empty := ""
		return -1, -1, &empty, o.err
	}
	md := o.entry.metadata
	return o.entry.offset, o.entry.leaderEpoch, &md, 0
}

// OffsetDelete deletes a group's offsets of some partitions (KIP-496): allowed for an Empty
// group, and for a consumer group's topics that none of its members subscribes to.
func (c *Coordinator) OffsetDelete(ctx context.Context, req *kmsg.OffsetDeleteRequest) *kmsg.OffsetDeleteResponse {
	resp := req.ResponseKind().(*kmsg.OffsetDeleteResponse)
	if code := c.groupStatus(req.Group, false); code != 0 {
		resp.ErrorCode = code
		return resp
	}
	g := c.getGroup(req.Group)
	if g == nil {
		resp.ErrorCode = errGroupIDNotFound
		return resp
	}
	perPartition := make(map[topicPartition]int16)
	var eligible []topicPartition
	g.mu.Lock()
	for _, t := range req.Topics {
		for _, p := range t.Partitions {
			tp := topicPartition{t.Topic, p.Partition}
			switch {
			case g.is(stateDead):
				resp.ErrorCode = errGroupIDNotFound
			case g.is(stateEmpty):
				eligible = append(eligible, tp)
			case g.hasProtoType && g.protocolType == consumerProtocolType:
				if g.isSubscribedToTopic(tp.topic) {
					perPartition[tp] = kerr.GroupSubscribedToTopic.Code
				} else {
					eligible = append(eligible, tp)
				}
			default:
				resp.ErrorCode = errNonEmptyGroup
			}
		}
	}
	if g.is(stateDead) {
		resp.ErrorCode = errGroupIDNotFound
	}
	g.mu.Unlock()
	if resp.ErrorCode != 0 {
		return resp
	}
	if len(eligible) > 0 {
		n := c.cleanupGroups([]*group{g}, func(g *group) []topicPartition { return g.removeOffsets(eligible) })
		c.logger.Info().Str("group", g.id).Int("offsets", n).Msg("deleted offsets")
	}
	for _, t := range req.Topics {
		rt := kmsg.NewOffsetDeleteResponseTopic()
		rt.Topic = t.Topic
		for _, p := range t.Partitions {
			rp := kmsg.NewOffsetDeleteResponseTopicPartition()
			rp.Partition = p.Partition
			rp.ErrorCode = perPartition[topicPartition{t.Topic, p.Partition}]
			rt.Partitions = append(rt.Partitions, rp)
		}
		resp.Topics = append(resp.Topics, rt)
	}
	return resp
}

// removeOffsets drops the given partitions' offsets and returns those that existed.
func (g *group) removeOffsets(tps []topicPartition) []topicPartition {
	var removed []topicPartition
	for _, tp := range tps {
		for _, pending := range g.pendingTxnOffsets {
			delete(pending, tp) // as Kafka's removeOffsets; an emptied producer map stays until its marker
		}
		if _, ok := g.offsets[tp]; ok {
			delete(g.offsets, tp)
			removed = append(removed, tp)
		}
	}
	return removed
}

// DeleteGroups deletes Empty groups with their offsets (NON_EMPTY_GROUP otherwise), writing
// tombstones for the offsets and the group metadata.
func (c *Coordinator) DeleteGroups(ctx context.Context, req *kmsg.DeleteGroupsRequest) *kmsg.DeleteGroupsResponse {
	resp := req.ResponseKind().(*kmsg.DeleteGroupsResponse)
	codes := make(map[string]int16)
	var eligible []*group
	for _, id := range req.Groups {
		if _, dup := codes[id]; dup {
			continue
		}
		if code := c.groupStatus(id, true); code != 0 {
			codes[id] = code
			continue
		}
		g := c.getGroup(id)
		if g == nil {
			codes[id] = errGroupIDNotFound
			continue
		}
		g.mu.Lock()
		switch g.state {
		case stateDead:
			codes[id] = errGroupIDNotFound
		case stateEmpty:
			g.transitionTo(stateDead, c.nowMs())
			eligible = append(eligible, g)
			codes[id] = 0
		default:
			codes[id] = errNonEmptyGroup
		}
		g.mu.Unlock()
	}
	if len(eligible) > 0 {
		n := c.cleanupGroups(eligible, func(g *group) []topicPartition {
			var all []topicPartition
			for tp := range g.offsets {
				all = append(all, tp)
			}
			return g.removeOffsets(all)
		})
		c.logger.Info().Int("groups", len(eligible)).Int("offsets", n).Msg("deleted groups")
	}
	seen := make(map[string]bool)
	for _, id := range req.Groups {
		if seen[id] {
			continue
		}
		seen[id] = true
		rg := kmsg.NewDeleteGroupsResponseGroup()
		rg.Group = id
		rg.ErrorCode = codes[id]
		resp.Groups = append(resp.Groups, rg)
	}
	return resp
}

// ListGroups lists the groups this coordinator serves; v4 filters by state.
func (c *Coordinator) ListGroups(ctx context.Context, req *kmsg.ListGroupsRequest) *kmsg.ListGroupsResponse {
	resp := req.ResponseKind().(*kmsg.ListGroupsResponse)
	if c.isClosed() {
		resp.ErrorCode = errCoordinatorNotAvailable
		return resp
	}
	c.mu.Lock()
	for _, st := range c.partitions {
		if st.loading {
			resp.ErrorCode = errCoordinatorLoadInProgress
		}
	}
	groups := make([]*group, 0, len(c.groups))
	for _, g := range c.groups {
		groups = append(groups, g)
	}
	c.mu.Unlock()
	sort.Slice(groups, func(i, j int) bool { return groups[i].id < groups[j].id })

	var states []string
	if req.Version >= 4 {
		states = req.StatesFilter
	}
	for _, g := range groups {
		g.mu.Lock()
		state, ptype := g.state, g.protocolType
		g.mu.Unlock()
		if state == stateDead {
			continue
		}
		if len(states) > 0 && !containsFold(states, state.String()) {
			continue
		}
		lg := kmsg.NewListGroupsResponseGroup()
		lg.Group = g.id
		lg.ProtocolType = ptype
		lg.GroupState = state.String()
		lg.GroupType = "classic"
		resp.Groups = append(resp.Groups, lg)
	}
	return resp
}

func containsFold(list []string, s string) bool {
	for _, x := range list {
		if strings.EqualFold(x, s) {
			return true
		}
	}
	return false
}

// DescribeGroups describes groups; members' metadata and assignments are only shown when the
// group is Stable (GroupMetadata.summary).
func (c *Coordinator) DescribeGroups(ctx context.Context, req *kmsg.DescribeGroupsRequest) *kmsg.DescribeGroupsResponse {
	resp := req.ResponseKind().(*kmsg.DescribeGroupsResponse)
	for _, id := range req.Groups {
		dg := kmsg.NewDescribeGroupsResponseGroup()
		dg.Group = id
		dg.AuthorizedOperations = math.MinInt32
		if code := c.groupStatus(id, true); code != 0 {
			dg.ErrorCode = code
			resp.Groups = append(resp.Groups, dg)
			continue
		}
		g := c.getGroup(id)
		if g == nil {
			dg.State = stateDead.String()
			resp.Groups = append(resp.Groups, dg)
			continue
		}
		g.mu.Lock()
		dg.State = g.state.String()
		dg.ProtocolType = g.protocolType
		stable := g.is(stateStable)
		if stable {
			dg.Protocol = g.protocol
		}
		for _, m := range g.sortedMembers() {
			dm := kmsg.NewDescribeGroupsResponseGroupMember()
			dm.MemberID = m.id
			dm.InstanceID = m.instanceID
			dm.ClientID = m.clientID
			dm.ClientHost = m.clientHost
			dm.ProtocolMetadata, dm.MemberAssignment = []byte{}, []byte{}
			if stable {
				if md := m.metadata(g.protocol); md != nil {
					dm.ProtocolMetadata = md
				}
				if m.assignment != nil {
					dm.MemberAssignment = m.assignment
				}
			}
			dg.Members = append(dg.Members, dm)
		}
		g.mu.Unlock()
		resp.Groups = append(resp.Groups, dg)
	}
	return resp
}
