package group

import (
	"bytes"
	"crypto/rand"
	"fmt"
	"sort"
	"sync"

	"github.com/twmb/franz-go/pkg/kmsg"
)

// groupState is the classic group's state (Kafka's GroupState).
type groupState int8

const (
	stateEmpty groupState = iota
	statePreparingRebalance
	stateCompletingRebalance
	stateStable
	stateDead
)

func (s groupState) String() string {
	switch s {
	case stateEmpty:
		return "Empty"
	case statePreparingRebalance:
		return "PreparingRebalance"
	case stateCompletingRebalance:
		return "CompletingRebalance"
	case stateStable:
		return "Stable"
	default:
		return "Dead"
	}
}

// validPrevious mirrors GroupState.validPreviousStates.
func (s groupState) validPrevious(from groupState) bool {
	switch s {
	case statePreparingRebalance:
		return from == stateStable || from == stateCompletingRebalance || from == stateEmpty
	case stateCompletingRebalance:
		return from == statePreparingRebalance
	case stateStable:
		return from == stateCompletingRebalance
	case stateEmpty:
		return from == statePreparingRebalance
	default:
		return true
	}
}

const consumerProtocolType = "consumer"

type topicPartition struct {
	topic     string
	partition int32
}

// offsetEntry is one committed offset (Kafka's OffsetAndMetadata).
type offsetEntry struct {
	offset          int64
	leaderEpoch     int32 // -1: none
	metadata        string
	commitTimestamp int64
	expireTimestamp int64 // -1: none (only OffsetCommit v2-v4 with a retention time set one)

	// appendedOffset is the offset in __consumer_offsets of the batch that holds the commit
	// (Kafka's CommitRecordMetadataAndOffset.appendedBatchOffset), -1 while it is being
	// appended: of two commits of a partition, the later in the log wins, which matters when a
	// transactional commit becomes visible after a plain one written later.
	appendedOffset int64
}

// olderThan is CommitRecordMetadataAndOffset.olderThan.
func (o offsetEntry) olderThan(that offsetEntry) bool { return o.appendedOffset < that.appendedOffset }

type protocol struct {
	name     string
	metadata []byte
}

// joinResult is what a waiting JoinGroup gets (Kafka's JoinGroupResult).
type joinResult struct {
	members        []kmsg.JoinGroupResponseMember
	memberID       string
	generation     int32
	protocolType   *string
	protocol       *string
	leader         string
	skipAssignment bool
	err            int16
}

func joinError(memberID string, code int16) joinResult {
	return joinResult{memberID: memberID, generation: -1, err: code}
}

// syncResult is what a waiting SyncGroup gets.
type syncResult struct {
	protocolType *string
	protocol     *string
	assignment   []byte
	err          int16
}

// member is one member of a group (Kafka's MemberMetadata). Owned by its group's mu.
type member struct {
	id                 string
	instanceID         *string
	clientID           string
	clientHost         string
	rebalanceTimeoutMs int32
	sessionTimeoutMs   int32
	protocolType       string
	protocols          []protocol
	assignment         []byte
	order              uint64 // join order; gives "first member" and stable listings

	// awaitingJoin and awaitingSync are the parked JoinGroup and SyncGroup requests: each is
	// a channel with room for one result that the request's goroutine waits on.
	awaitingJoin chan joinResult
	awaitingSync chan syncResult

	isNew              bool
	heartbeatSatisfied bool
	heartbeat          *timer // the member's session (or new-member join) deadline
}

func (m *member) isStatic() bool { return m.instanceID != nil }

func (m *member) metadata(protocol string) []byte {
	for _, p := range m.protocols {
		if p.name == protocol {
			return p.metadata
		}
	}
	return nil
}

// matches reports whether protocols equal the member's, in order (MemberMetadata.matches).
func (m *member) matches(protocols []protocol) bool {
	if len(protocols) != len(m.protocols) {
		return false
	}
	for i := range protocols {
		if protocols[i].name != m.protocols[i].name || !bytes.Equal(protocols[i].metadata, m.protocols[i].metadata) {
			return false
		}
	}
	return true
}

func (m *member) hasSatisfiedHeartbeat() bool {
	if m.isNew {
		return m.heartbeatSatisfied
	}
	if m.awaitingJoin != nil || m.awaitingSync != nil {
		return true
	}
	return m.heartbeatSatisfied
}

// vote returns the member's most preferred protocol among candidates.
func (m *member) vote(candidates map[string]bool) string {
	for _, p := range m.protocols {
		if candidates[p.name] {
			return p.name
		}
	}
	return ""
}

// group is one classic group and its committed offsets (Kafka's GroupMetadata). Every field is
// owned by mu; the coordinator's map only says which groups exist.
type group struct {
	mu        sync.Mutex
	id        string
	partition int32

	state          groupState
	stateTimestamp int64 // ms; -1 unknown (old metadata)
	protocolType   string
	hasProtoType   bool
	protocol       string
	hasProtocol    bool
	generation     int32
	leader         string // "" none
	lastReason     string // why the current rebalance began, for the classroom's timeline

	members            map[string]*member
	staticMembers      map[string]string // instance id -> member id
	pendingMembers     map[string]*timer // KIP-394 member ids handed out but not yet joined
	pendingSyncMembers map[string]bool
	numAwaitingJoin    int
	supportedProtocols map[string]int
	subscribedTopics   map[string]bool // nil: unknown
	newMemberAdded     bool
	nextOrder          uint64

	joinTimer   *timer // DelayedJoin / InitialDelayedJoin
	joinInitial bool
	joinToken   uint64
	syncTimer   *timer // DelayedSync
	syncToken   uint64

	offsets        map[topicPartition]offsetEntry
	pendingCommits map[topicPartition]int // appends in flight

	// pendingTxnOffsets are the transactional offset commits (TxnOffsetCommit) of each
	// producer id whose transaction has not ended yet (Kafka's
	// pendingTransactionalOffsetCommits): not visible to OffsetFetch until the producer's
	// COMMIT marker is written (txn.go). An entry whose appendedOffset is -1 is still being
	// appended.
	pendingTxnOffsets map[int64]map[topicPartition]offsetEntry

	// Writes to __consumer_offsets for this group are appended in the order they were
	// prepared under mu: a write takes ticket writeNext and appends when writeTurn reaches it.
	writeNext, writeTurn uint64
	writeCond            *sync.Cond
}

func newGroup(id string, partition int32, now int64) *group {
	g := &group{
		id:                 id,
		partition:          partition,
		state:              stateEmpty,
		stateTimestamp:     now,
		members:            make(map[string]*member),
		staticMembers:      make(map[string]string),
		pendingMembers:     make(map[string]*timer),
		pendingSyncMembers: make(map[string]bool),
		supportedProtocols: make(map[string]int),
		offsets:            make(map[topicPartition]offsetEntry),
		pendingCommits:     make(map[topicPartition]int),
		pendingTxnOffsets:  make(map[int64]map[topicPartition]offsetEntry),
	}
	g.writeCond = sync.NewCond(&g.mu)
	return g
}

func (g *group) is(s groupState) bool { return g.state == s }

func (g *group) transitionTo(s groupState, now int64) {
	if !s.validPrevious(g.state) {
		panic(fmt.Sprintf("group %q: invalid transition %s -> %s", g.id, g.state, s))
	}
	g.state = s
	g.stateTimestamp = now
}

func (g *group) canRebalance() bool { return statePreparingRebalance.validPrevious(g.state) }

func (g *group) isLeader(id string) bool { return g.leader != "" && g.leader == id }

func (g *group) protocolTypePtr() *string {
	if !g.hasProtoType {
		return nil
	}
	s := g.protocolType
	return &s
}

func (g *group) protocolPtr() *string {
	if !g.hasProtocol {
		return nil
	}
	s := g.protocol
	return &s
}

// sortedMembers lists members in join order.
func (g *group) sortedMembers() []*member {
	ms := make([]*member, 0, len(g.members))
	for _, m := range g.members {
		ms = append(ms, m)
	}
	sort.Slice(ms, func(i, j int) bool { return ms[i].order < ms[j].order })
	return ms
}

func (g *group) add(m *member, ch chan joinResult) {
	if m.instanceID != nil {
		g.staticMembers[*m.instanceID] = m.id
	}
	if len(g.members) == 0 {
		g.protocolType, g.hasProtoType = m.protocolType, true
	}
	if g.leader == "" {
		g.leader = m.id
	}
	g.nextOrder++
	m.order = g.nextOrder
	g.members[m.id] = m
	g.incProtocols(m)
	m.awaitingJoin = ch
	if ch != nil {
		g.numAwaitingJoin++
	}
	g.removePending(m.id)
}

func (g *group) remove(id string) {
	if m, ok := g.members[id]; ok {
		delete(g.members, id)
		g.decProtocols(m)
		if m.awaitingJoin != nil {
			g.numAwaitingJoin--
		}
		if m.instanceID != nil {
			delete(g.staticMembers, *m.instanceID)
		}
		m.heartbeat.stop()
		m.heartbeat = nil
	}
	if g.isLeader(id) {
		g.leader = ""
		if ms := g.sortedMembers(); len(ms) > 0 {
			g.leader = ms[0].id
		}
	}
	g.removePending(id)
	delete(g.pendingSyncMembers, id)
}

func (g *group) isPending(id string) bool {
	_, ok := g.pendingMembers[id]
	return ok
}

func (g *group) removePending(id string) {
	if t, ok := g.pendingMembers[id]; ok {
		t.stop()
		delete(g.pendingMembers, id)
	}
}

// maybeElectNewJoinedLeader makes a member that rejoined the leader if the leader did not
// rejoin; false if nobody rejoined.
func (g *group) maybeElectNewJoinedLeader() bool {
	if g.leader == "" {
		return false
	}
	if l := g.members[g.leader]; l != nil && l.awaitingJoin != nil {
		return true
	}
	for _, m := range g.sortedMembers() {
		if m.awaitingJoin != nil {
			g.leader = m.id
			return true
		}
	}
	return false
}

func (g *group) replaceStaticMember(instanceID, oldID, newID string) *member {
	m := g.members[oldID]
	delete(g.members, oldID)
	g.maybeInvokeJoin(m, joinError(oldID, errFencedInstanceID))
	g.maybeInvokeSync(m, syncResult{err: errFencedInstanceID})
	m.id = newID
	g.members[newID] = m
	if g.isLeader(oldID) {
		g.leader = newID
	}
	g.staticMembers[instanceID] = newID
	return m
}

func (g *group) hasAllMembersJoined() bool {
	return len(g.members) == g.numAwaitingJoin && len(g.pendingMembers) == 0
}

func (g *group) rebalanceTimeoutMs() int32 {
	var t int32
	for _, m := range g.members {
		t = max(t, m.rebalanceTimeoutMs)
	}
	return t
}

func (g *group) incProtocols(m *member) {
	for _, p := range m.protocols {
		g.supportedProtocols[p.name]++
	}
}

func (g *group) decProtocols(m *member) {
	for _, p := range m.protocols {
		if g.supportedProtocols[p.name]--; g.supportedProtocols[p.name] <= 0 {
			delete(g.supportedProtocols, p.name)
		}
	}
}

func (g *group) candidateProtocols() map[string]bool {
	c := make(map[string]bool)
	for name, n := range g.supportedProtocols {
		if n == len(g.members) {
			c[name] = true
		}
	}
	return c
}

// selectProtocol picks the protocol by vote: each member votes for its most preferred
// protocol that every member supports; the most votes wins (ties: first in join order).
func (g *group) selectProtocol() string {
	candidates := g.candidateProtocols()
	votes := make(map[string]int)
	var order []string
	for _, m := range g.sortedMembers() {
		v := m.vote(candidates)
		if votes[v] == 0 {
			order = append(order, v)
		}
		votes[v]++
	}
	best := ""
	for _, p := range order {
		if best == "" || votes[p] > votes[best] {
			best = p
		}
	}
	return best
}

// supportsProtocols: an Empty group takes any non-empty type and protocol list; otherwise the
// type must match and one of the protocols must be supported by every member.
func (g *group) supportsProtocols(protocolType string, protocols []protocol) bool {
	if g.is(stateEmpty) {
		return protocolType != "" && len(protocols) > 0
	}
	if !g.hasProtoType || g.protocolType != protocolType {
		return false
	}
	for _, p := range protocols {
		if g.supportedProtocols[p.name] == len(g.members) {
			return true
		}
	}
	return false
}

func (g *group) updateMember(m *member, protocols []protocol, rebalanceTimeoutMs, sessionTimeoutMs int32, ch chan joinResult) {
	g.decProtocols(m)
	m.protocols = protocols
	g.incProtocols(m)
	m.rebalanceTimeoutMs = rebalanceTimeoutMs
	m.sessionTimeoutMs = sessionTimeoutMs
	if ch != nil && m.awaitingJoin == nil {
		g.numAwaitingJoin++
	} else if ch == nil && m.awaitingJoin != nil {
		g.numAwaitingJoin--
	}
	m.awaitingJoin = ch
}

func (g *group) maybeInvokeJoin(m *member, r joinResult) {
	if m.awaitingJoin != nil {
		m.awaitingJoin <- r
		m.awaitingJoin = nil
		g.numAwaitingJoin--
	}
}

func (g *group) maybeInvokeSync(m *member, r syncResult) bool {
	if m.awaitingSync == nil {
		return false
	}
	m.awaitingSync <- r
	m.awaitingSync = nil
	return true
}

func (g *group) initNextGeneration(now int64) {
	g.generation++
	if len(g.members) > 0 {
		g.protocol, g.hasProtocol = g.selectProtocol(), true
		g.subscribedTopics = g.computeSubscribedTopics()
		g.transitionTo(stateCompletingRebalance, now)
	} else {
		g.protocol, g.hasProtocol = "", false
		g.subscribedTopics = g.computeSubscribedTopics()
		g.transitionTo(stateEmpty, now)
	}
	clear(g.pendingSyncMembers)
}

// currentMemberMetadata is what the leader's JoinGroup response lists.
func (g *group) currentMemberMetadata() []kmsg.JoinGroupResponseMember {
	ms := g.sortedMembers()
	out := make([]kmsg.JoinGroupResponseMember, 0, len(ms))
	for _, m := range ms {
		jm := kmsg.NewJoinGroupResponseMember()
		jm.MemberID = m.id
		jm.InstanceID = m.instanceID
		jm.ProtocolMetadata = m.metadata(g.protocol)
		out = append(out, jm)
	}
	return out
}

// computeSubscribedTopics decodes the consumer protocol subscriptions of the members (nil when
// the group is not a consumer group or a subscription does not decode).
func (g *group) computeSubscribedTopics() map[string]bool {
	if !g.hasProtoType || g.protocolType != consumerProtocolType {
		return nil
	}
	topics := make(map[string]bool)
	if len(g.members) == 0 {
		return topics
	}
	if !g.hasProtocol {
		return nil
	}
	for _, m := range g.members {
		var s kmsg.ConsumerMemberMetadata
		if err := s.ReadFrom(m.metadata(g.protocol)); err != nil {
			return nil
		}
		for _, t := range s.Topics {
			topics[t] = true
		}
	}
	return topics
}

func (g *group) isSubscribedToTopic(topic string) bool {
	if g.subscribedTopics == nil {
		return true
	}
	return g.subscribedTopics[topic]
}

func (g *group) hasPendingCommit(tp topicPartition) bool { return g.pendingCommits[tp] > 0 }

// hasOffsets is GroupMetadata.hasOffsets: committed offsets, or commits still to be decided.
func (g *group) hasOffsets() bool {
	return len(g.offsets) > 0 || len(g.pendingCommits) > 0 || len(g.pendingTxnOffsets) > 0
}

// removeExpiredOffsets is GroupMetadata.removeExpiredOffsets (KIP-211): an Empty group's offsets
// expire retention after the group became Empty; a Stable consumer group's offsets of topics it
// no longer subscribes to expire retention after their commit; a group with no protocol type
// (simple consumers using assign()) expires each offset retention after its commit. Offsets
// with an explicit expire timestamp (OffsetCommit v2-v4) expire at that time.
func (g *group) removeExpiredOffsets(now, retentionMs int64) []topicPartition {
	expire := func(base func(offsetEntry) int64, subscribed map[string]bool) []topicPartition {
		var out []topicPartition
		for tp, o := range g.offsets {
			if subscribed[tp.topic] || g.hasPendingCommit(tp) {
				continue
			}
			if o.expireTimestamp >= 0 {
				if now >= o.expireTimestamp {
					out = append(out, tp)
				}
			} else if now-base(o) >= retentionMs {
				out = append(out, tp)
			}
		}
		return out
	}
	var expired []topicPartition
	switch {
	case g.hasProtoType && g.is(stateEmpty):
		expired = expire(func(o offsetEntry) int64 {
			if g.stateTimestamp >= 0 {
				return g.stateTimestamp
			}
			return o.commitTimestamp
		}, nil)
	case g.hasProtoType && g.protocolType == consumerProtocolType && g.subscribedTopics != nil && g.is(stateStable):
		expired = expire(func(o offsetEntry) int64 { return o.commitTimestamp }, g.subscribedTopics)
	case !g.hasProtoType:
		expired = expire(func(o offsetEntry) int64 { return o.commitTimestamp }, nil)
	}
	for _, tp := range expired {
		delete(g.offsets, tp)
	}
	return expired
}

// metadataValue encodes the group as a GroupMetadataValue (version 3) with the given
// assignment (nil: the members' current assignments).
func (g *group) metadataValue(assignment map[string][]byte) []byte {
	v := kmsg.NewGroupMetadataValue()
	v.Version = groupValueVersion
	v.ProtocolType = g.protocolType
	v.Generation = g.generation
	v.Protocol = g.protocolPtr()
	if g.leader != "" {
		l := g.leader
		v.Leader = &l
	}
	v.CurrentStateTimestamp = g.stateTimestamp
	for _, m := range g.sortedMembers() {
		vm := kmsg.NewGroupMetadataValueMember()
		vm.MemberID = m.id
		vm.InstanceID = m.instanceID
		vm.ClientID = m.clientID
		vm.ClientHost = m.clientHost
		vm.RebalanceTimeoutMillis = m.rebalanceTimeoutMs
		vm.SessionTimeoutMillis = m.sessionTimeoutMs
		vm.Subscription = m.metadata(g.protocol)
		if vm.Subscription == nil {
			vm.Subscription = []byte{}
		}
		if assignment != nil {
			vm.Assignment = assignment[m.id]
		} else {
			vm.Assignment = m.assignment
		}
		if vm.Assignment == nil {
			vm.Assignment = []byte{}
		}
		v.Members = append(v.Members, vm)
	}
	return v.AppendTo(nil)
}

// loadGroupValue rebuilds a group from its GroupMetadataValue (readGroupMessageValue): Empty
// without members, else Stable.
func loadGroupValue(id string, partition int32, b []byte, now int64) (*group, error) {
	var v kmsg.GroupMetadataValue
	if err := v.ReadFrom(b); err != nil {
		return nil, err
	}
	g := newGroup(id, partition, now)
	g.generation = v.Generation
	if v.ProtocolType != "" {
		g.protocolType, g.hasProtoType = v.ProtocolType, true
	}
	if v.Protocol != nil {
		g.protocol, g.hasProtocol = *v.Protocol, true
	}
	g.stateTimestamp = -1
	if v.Version >= 2 && v.CurrentStateTimestamp != -1 {
		g.stateTimestamp = v.CurrentStateTimestamp
	}
	for _, vm := range v.Members {
		m := &member{
			id:                 vm.MemberID,
			instanceID:         vm.InstanceID,
			clientID:           vm.ClientID,
			clientHost:         vm.ClientHost,
			rebalanceTimeoutMs: vm.RebalanceTimeoutMillis,
			sessionTimeoutMs:   vm.SessionTimeoutMillis,
			protocolType:       v.ProtocolType,
			protocols:          []protocol{{name: g.protocol, metadata: vm.Subscription}},
			assignment:         vm.Assignment,
		}
		if v.Version == 0 {
			m.rebalanceTimeoutMs = m.sessionTimeoutMs
		}
		g.add(m, nil)
	}
	// add() elects the first member; the stored leader wins.
	g.leader = ""
	if v.Leader != nil {
		if _, ok := g.members[*v.Leader]; ok {
			g.leader = *v.Leader
		}
	}
	if g.leader == "" && len(g.members) > 0 {
		g.leader = g.sortedMembers()[0].id
	}
	if len(g.members) > 0 {
		g.state = stateStable
	}
	g.subscribedTopics = g.computeSubscribedTopics()
	return g, nil
}

// newUUID returns a random RFC 4122 version 4 UUID in its text form, as Java's
// UUID.randomUUID().toString().
func newUUID() string {
	var u [16]byte
	_, _ = rand.Read(u[:])
	u[6] = u[6]&0x0f | 0x40
	u[8] = u[8]&0x3f | 0x80
	return fmt.Sprintf("%x-%x-%x-%x-%x", u[0:4], u[4:6], u[6:8], u[8:10], u[10:16])
}
