package group

import (
	"context"
	"encoding/binary"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/rs/zerolog"
	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kmsg"
)

// fakeLog is an in-memory __consumer_offsets: appends are assigned offsets and are at once
// below the high watermark.
type fakeLog struct {
	mu        sync.Mutex
	parts     map[int32]*fakePartition
	appendErr error         // returned by Append when set
	readGate  chan struct{} // when set, Read blocks until it is closed
}

type fakePartition struct {
	batches [][]byte
	next    int64
}

func newFakeLog() *fakeLog { return &fakeLog{parts: make(map[int32]*fakePartition)} }

func (l *fakeLog) part(p int32) *fakePartition {
	if l.parts[p] == nil {
		l.parts[p] = &fakePartition{}
	}
	return l.parts[p]
}

func (l *fakeLog) Append(ctx context.Context, p int32, batch []byte) (int64, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.appendErr != nil {
		return -1, l.appendErr
	}
	fp := l.part(p)
	b := append([]byte(nil), batch...)
	base := fp.next
	binary.BigEndian.PutUint64(b, uint64(base))
	fp.next += int64(binary.BigEndian.Uint32(b[23:])) + 1
	fp.batches = append(fp.batches, b)
	return base, nil
}

func (l *fakeLog) Read(p int32, offset int64, maxBytes int) ([]byte, int64, error) {
	l.mu.Lock()
	gate := l.readGate
	l.mu.Unlock()
	if gate != nil {
		<-gate
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	fp := l.part(p)
	var out []byte
	for _, b := range fp.batches {
		base := int64(binary.BigEndian.Uint64(b))
		last := base + int64(binary.BigEndian.Uint32(b[23:]))
		if last < offset {
			continue
		}
		if len(out) > 0 && len(out)+len(b) > maxBytes {
			break
		}
		out = append(out, b...)
	}
	return out, fp.next, nil
}

func (l *fakeLog) LogStartOffset(int32) (int64, error) { return 0, nil }

// records returns every record of partition p in log order.
func (l *fakeLog) records(p int32) []offsetsRecord {
	l.mu.Lock()
	defer l.mu.Unlock()
	var out []offsetsRecord
	for _, b := range l.part(p).batches {
		d, err := decodeBatch(b)
		if err != nil {
			panic(err)
		}
		out = append(out, d.Records...)
	}
	return out
}

func testConfig() Config {
	return Config{
		BrokerID:                        1,
		OffsetsTopicNumPartitions:       1, // every group on partition 0
		GroupInitialRebalanceDelayMs:    -1,
		GroupMinSessionTimeoutMs:        10,
		GroupMaxSessionTimeoutMs:        60000,
		OffsetsRetentionCheckIntervalMs: 3600000,
	}
}

func startCoordinator(t *testing.T, cfg Config, log Log) *Coordinator {
	t.Helper()
	c := New(cfg, log, zerolog.Nop())
	t.Cleanup(c.Close)
	c.BecomeLeader(0, 1)
	waitFor(t, "partition loaded", func() bool { return c.ownsPartition(0) })
	return c
}

// waitFor polls cond until it holds or a deadline passes.
func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(2 * time.Millisecond)
	}
}

func subscription(topics ...string) []byte {
	m := kmsg.NewConsumerMemberMetadata()
	m.Version = 0
	m.Topics = topics
	return m.AppendTo(nil)
}

type joinOpts struct {
	memberID   string
	instanceID *string
	session    int32
	rebalance  int32
	meta       []byte
	version    int16
}

func joinReq(group string, o joinOpts) *kmsg.JoinGroupRequest {
	r := kmsg.NewPtrJoinGroupRequest()
	r.Version = 9
	if o.version != 0 {
		r.Version = o.version
	}
	r.Group = group
	r.MemberID = o.memberID
	r.InstanceID = o.instanceID
	r.SessionTimeoutMillis = 10000
	if o.session != 0 {
		r.SessionTimeoutMillis = o.session
	}
	r.RebalanceTimeoutMillis = 10000
	if o.rebalance != 0 {
		r.RebalanceTimeoutMillis = o.rebalance
	}
	r.ProtocolType = "consumer"
	meta := o.meta
	if meta == nil {
		meta = subscription("t1")
	}
	r.Protocols = []kmsg.JoinGroupRequestProtocol{{Name: "range", Metadata: meta}}
	return r
}

func asyncJoin(c *Coordinator, group string, o joinOpts) <-chan *kmsg.JoinGroupResponse {
	ch := make(chan *kmsg.JoinGroupResponse, 1)
	go func() {
		ctx := WithClient(context.Background(), "client", "/127.0.0.1")
		ch <- c.JoinGroup(ctx, joinReq(group, o))
	}()
	return ch
}

func recvJoin(t *testing.T, ch <-chan *kmsg.JoinGroupResponse) *kmsg.JoinGroupResponse {
	t.Helper()
	select {
	case r := <-ch:
		return r
	case <-time.After(5 * time.Second):
		t.Fatal("JoinGroup did not return")
		return nil
	}
}

// memberID asks for a member id (KIP-394).
func memberID(t *testing.T, c *Coordinator, group string) string {
	t.Helper()
	r := recvJoin(t, asyncJoin(c, group, joinOpts{}))
	if r.ErrorCode != kerr.MemberIDRequired.Code || r.MemberID == "" {
		t.Fatalf("first join: error %d member %q, want MEMBER_ID_REQUIRED", r.ErrorCode, r.MemberID)
	}
	return r.MemberID
}

func syncReq(group, member string, gen int32, assign map[string][]byte) *kmsg.SyncGroupRequest {
	r := kmsg.NewPtrSyncGroupRequest()
	r.Version = 5
	r.Group, r.MemberID, r.Generation = group, member, gen
	for id, a := range assign {
		r.GroupAssignment = append(r.GroupAssignment, kmsg.SyncGroupRequestGroupAssignment{MemberID: id, MemberAssignment: a})
	}
	return r
}

func asyncSync(c *Coordinator, r *kmsg.SyncGroupRequest) <-chan *kmsg.SyncGroupResponse {
	ch := make(chan *kmsg.SyncGroupResponse, 1)
	go func() { ch <- c.SyncGroup(context.Background(), r) }()
	return ch
}

func recvSync(t *testing.T, ch <-chan *kmsg.SyncGroupResponse) *kmsg.SyncGroupResponse {
	t.Helper()
	select {
	case r := <-ch:
		return r
	case <-time.After(5 * time.Second):
		t.Fatal("SyncGroup did not return")
		return nil
	}
}

func heartbeat(c *Coordinator, group, member string, gen int32, instance *string) int16 {
	r := kmsg.NewPtrHeartbeatRequest()
	r.Version = 4
	r.Group, r.MemberID, r.Generation, r.InstanceID = group, member, gen, instance
	return c.Heartbeat(context.Background(), r).ErrorCode
}

func describe(t *testing.T, c *Coordinator, group string) kmsg.DescribeGroupsResponseGroup {
	t.Helper()
	r := kmsg.NewPtrDescribeGroupsRequest()
	r.Version = 5
	r.Groups = []string{group}
	return c.DescribeGroups(context.Background(), r).Groups[0]
}

// stableGroup forms a group of n members joined concurrently (thanks to the initial delay),
// syncs it and returns the member ids (leader first) and the generation.
func stableGroup(t *testing.T, c *Coordinator, group string, n int, opts ...joinOpts) ([]string, int32) {
	t.Helper()
	ids := make([]string, n)
	chans := make([]<-chan *kmsg.JoinGroupResponse, n)
	for i := range ids {
		ids[i] = memberID(t, c, group)
		var o joinOpts
		if len(opts) > 0 {
			o = opts[0]
		}
		o.memberID = ids[i]
		chans[i] = asyncJoin(c, group, o)
	}
	var leader string
	var gen int32
	for i, ch := range chans {
		r := recvJoin(t, ch)
		if r.ErrorCode != 0 {
			t.Fatalf("join %d: error %d", i, r.ErrorCode)
		}
		leader, gen = r.LeaderID, r.Generation
		if r.MemberID == r.LeaderID && len(r.Members) != n {
			t.Fatalf("leader got %d members, want %d", len(r.Members), n)
		}
	}
	assign := make(map[string][]byte)
	for _, id := range ids {
		assign[id] = []byte("assignment-" + id)
	}
	var syncs []<-chan *kmsg.SyncGroupResponse
	for _, id := range ids {
		if id != leader {
			syncs = append(syncs, asyncSync(c, syncReq(group, id, gen, nil)))
		}
	}
	ls := recvSync(t, asyncSync(c, syncReq(group, leader, gen, assign)))
	if ls.ErrorCode != 0 || string(ls.MemberAssignment) != "assignment-"+leader {
		t.Fatalf("leader sync: %+v", ls)
	}
	for _, ch := range syncs {
		if r := recvSync(t, ch); r.ErrorCode != 0 || len(r.MemberAssignment) == 0 {
			t.Fatalf("follower sync: %+v", r)
		}
	}
	sorted := []string{leader}
	for _, id := range ids {
		if id != leader {
			sorted = append(sorted, id)
		}
	}
	return sorted, gen
}

func TestJoinSyncHeartbeatLeave(t *testing.T) {
	cfg := testConfig()
	cfg.GroupInitialRebalanceDelayMs = 100
	log := newFakeLog()
	c := startCoordinator(t, cfg, log)

	ids, gen := stableGroup(t, c, "g", 2)
	if gen != 1 {
		t.Fatalf("generation %d", gen)
	}
	d := describe(t, c, "g")
	if d.State != "Stable" || d.Protocol != "range" || len(d.Members) != 2 || d.AuthorizedOperations != -2147483648 {
		t.Fatalf("describe: %+v", d)
	}
	for _, m := range d.Members {
		if m.ClientID != "client" || m.ClientHost != "/127.0.0.1" || string(m.MemberAssignment) != "assignment-"+m.MemberID || len(m.ProtocolMetadata) == 0 {
			t.Fatalf("member %+v", m)
		}
	}
	// KIP-394 member ids are "<clientId>-<uuid>".
	if len(ids[0]) != len("client-")+36 || ids[0][:7] != "client-" {
		t.Fatalf("member id %q", ids[0])
	}
	if code := heartbeat(c, "g", ids[1], gen, nil); code != 0 {
		t.Fatalf("heartbeat: %d", code)
	}
	if code := heartbeat(c, "g", ids[1], gen+1, nil); code != kerr.IllegalGeneration.Code {
		t.Fatalf("heartbeat with wrong generation: %d", code)
	}
	if code := heartbeat(c, "g", "nobody", gen, nil); code != kerr.UnknownMemberID.Code {
		t.Fatalf("heartbeat unknown member: %d", code)
	}

	// The assignment was persisted as group metadata before SyncGroup answered.
	var found bool
	for _, r := range log.records(0) {
		if k, _ := parseKey(r.Key); !k.isOffset && r.Value != nil {
			var v kmsg.GroupMetadataValue
			if err := v.ReadFrom(r.Value); err != nil {
				t.Fatal(err)
			}
			if v.Version == 3 && v.Generation == gen && len(v.Members) == 2 && *v.Leader == ids[0] {
				found = true
			}
		}
	}
	if !found {
		t.Fatal("no group metadata record for the generation")
	}

	// A follower leaving makes the group rebalance: the leader's heartbeat says so.
	lr := kmsg.NewPtrLeaveGroupRequest()
	lr.Version = 0
	lr.Group, lr.MemberID = "g", ids[1]
	if resp := c.LeaveGroup(context.Background(), lr); resp.ErrorCode != 0 {
		t.Fatalf("leave: %d", resp.ErrorCode)
	}
	if code := heartbeat(c, "g", ids[0], gen, nil); code != kerr.RebalanceInProgress.Code {
		t.Fatalf("heartbeat during rebalance: %d", code)
	}
	r := recvJoin(t, asyncJoin(c, "g", joinOpts{memberID: ids[0]}))
	if r.ErrorCode != 0 || r.Generation != gen+1 || r.LeaderID != ids[0] || len(r.Members) != 1 {
		t.Fatalf("rejoin: %+v", r)
	}
	// Commits during CompletingRebalance are refused.
	if code := commit(t, c, "g", r.Generation, ids[0], 5); code != kerr.RebalanceInProgress.Code {
		t.Fatalf("commit during CompletingRebalance: %d", code)
	}
	if s := recvSync(t, asyncSync(c, syncReq("g", ids[0], r.Generation, map[string][]byte{ids[0]: []byte("x")}))); s.ErrorCode != 0 || *s.Protocol != "range" || *s.ProtocolType != "consumer" {
		t.Fatalf("sync: %+v", s)
	}
	if code := commit(t, c, "g", r.Generation, ids[0], 5); code != 0 {
		t.Fatalf("commit: %d", code)
	}
	if code := commit(t, c, "g", r.Generation-1, ids[0], 5); code != kerr.IllegalGeneration.Code {
		t.Fatalf("stale commit: %d", code)
	}
	if code := commit(t, c, "g", -1, "", 5); code != kerr.UnknownMemberID.Code {
		t.Fatalf("simple commit to a group with members: %d", code)
	}

	// The last member leaves (v3+, batched): the group is Empty with a new generation.
	lr = kmsg.NewPtrLeaveGroupRequest()
	lr.Version = 5
	lr.Group = "g"
	lr.Members = []kmsg.LeaveGroupRequestMember{{MemberID: ids[0]}, {MemberID: "ghost"}}
	resp := c.LeaveGroup(context.Background(), lr)
	if resp.ErrorCode != 0 || resp.Members[0].ErrorCode != 0 || resp.Members[1].ErrorCode != kerr.UnknownMemberID.Code {
		t.Fatalf("leave: %+v", resp)
	}
	waitFor(t, "group Empty", func() bool { return describe(t, c, "g").State == "Empty" })
}

func commit(t *testing.T, c *Coordinator, group string, gen int32, member string, offset int64) int16 {
	t.Helper()
	r := kmsg.NewPtrOffsetCommitRequest()
	r.Version = 8
	r.Group, r.Generation, r.MemberID = group, gen, member
	md := "meta"
	r.Topics = []kmsg.OffsetCommitRequestTopic{{Topic: "t1", Partitions: []kmsg.OffsetCommitRequestTopicPartition{{Partition: 0, Offset: offset, LeaderEpoch: 4, Metadata: &md}}}}
	return c.OffsetCommit(context.Background(), r).Topics[0].Partitions[0].ErrorCode
}

func fetch(t *testing.T, c *Coordinator, group string, version int16, topics []kmsg.OffsetFetchRequestTopic) *kmsg.OffsetFetchResponse {
	t.Helper()
	r := kmsg.NewPtrOffsetFetchRequest()
	r.Version = version
	r.Group = group
	r.Topics = topics
	return c.OffsetFetch(context.Background(), r)
}

func TestMemberIDRequiredAndPendingExpiry(t *testing.T) {
	c := startCoordinator(t, testConfig(), newFakeLog())
	id := memberID(t, c, "g")
	// v3 and older get a member id at once.
	r := recvJoin(t, asyncJoin(c, "g2", joinOpts{version: 3}))
	if r.ErrorCode != 0 || r.MemberID == "" || r.Generation != 1 {
		t.Fatalf("v3 join: %+v", r)
	}
	// The pending member id expires after the session timeout when unused...
	r = recvJoin(t, asyncJoin(c, "g", joinOpts{session: 30}))
	pending := r.MemberID
	waitFor(t, "pending member expiry", func() bool {
		g := c.getGroup("g")
		g.mu.Lock()
		defer g.mu.Unlock()
		return !g.isPending(pending)
	})
	// ... and a used one is accepted.
	r = recvJoin(t, asyncJoin(c, "g", joinOpts{memberID: id}))
	if r.ErrorCode != 0 || r.MemberID != id || r.LeaderID != id {
		t.Fatalf("join with id: %+v", r)
	}
	if r := recvJoin(t, asyncJoin(c, "g", joinOpts{memberID: "made-up"})); r.ErrorCode != kerr.UnknownMemberID.Code {
		t.Fatalf("unknown member id: %d", r.ErrorCode)
	}
	if r := recvJoin(t, asyncJoin(c, "g", joinOpts{session: 5})); r.ErrorCode != kerr.InvalidSessionTimeout.Code {
		t.Fatalf("session timeout below min: %d", r.ErrorCode)
	}
	bad := joinReq("g", joinOpts{memberID: id})
	bad.Protocols[0].Name = "other"
	if r := c.JoinGroup(context.Background(), bad); r.ErrorCode != kerr.InconsistentGroupProtocol.Code {
		t.Fatalf("inconsistent protocol: %d", r.ErrorCode)
	}
	if r := recvJoin(t, asyncJoin(c, "", joinOpts{})); r.ErrorCode != kerr.InvalidGroupID.Code {
		t.Fatalf("empty group id: %d", r.ErrorCode)
	}
}

func TestSessionExpiry(t *testing.T) {
	c := startCoordinator(t, testConfig(), newFakeLog())
	id := memberID(t, c, "g")
	r := recvJoin(t, asyncJoin(c, "g", joinOpts{memberID: id, session: 60}))
	s := recvSync(t, asyncSync(c, syncReq("g", id, r.Generation, map[string][]byte{id: []byte("a")})))
	if s.ErrorCode != 0 {
		t.Fatalf("sync: %d", s.ErrorCode)
	}
	// Heartbeats keep it alive for several session timeouts.
	deadline := time.Now().Add(200 * time.Millisecond)
	for time.Now().Before(deadline) {
		if code := heartbeat(c, "g", id, r.Generation, nil); code != 0 {
			t.Fatalf("heartbeat: %d", code)
		}
		time.Sleep(10 * time.Millisecond)
	}
	// Then silence: the member expires and the group goes Empty at the next generation.
	waitFor(t, "member expiry", func() bool { return describe(t, c, "g").State == "Empty" })
	if code := heartbeat(c, "g", id, r.Generation, nil); code != kerr.UnknownMemberID.Code {
		t.Fatalf("heartbeat after expiry: %d", code)
	}
	g := c.getGroup("g")
	g.mu.Lock()
	gen := g.generation
	g.mu.Unlock()
	if gen != 2 {
		t.Fatalf("generation %d, want 2", gen)
	}
}

// A member that does not rejoin within the rebalance timeout is removed (KIP-62).
func TestRebalanceTimeoutRemovesMember(t *testing.T) {
	cfg := testConfig()
	cfg.GroupInitialRebalanceDelayMs = 100
	c := startCoordinator(t, cfg, newFakeLog())
	ids, gen := stableGroup(t, c, "g", 2, joinOpts{rebalance: 150})
	// The leader rejoins (forcing a rebalance); the follower does not.
	start := time.Now()
	r := recvJoin(t, asyncJoin(c, "g", joinOpts{memberID: ids[0], rebalance: 150}))
	if r.ErrorCode != 0 || r.Generation != gen+1 || len(r.Members) != 1 {
		t.Fatalf("rejoin: %+v", r)
	}
	if time.Since(start) < 100*time.Millisecond {
		t.Fatalf("rebalance completed before the timeout")
	}
	if code := heartbeat(c, "g", ids[1], gen, nil); code != kerr.UnknownMemberID.Code {
		t.Fatalf("removed member heartbeat: %d", code)
	}
}

// InitialDelayedJoin: the first rebalance waits group.initial.rebalance.delay.ms, and members
// arriving meanwhile make the same generation.
func TestInitialRebalanceDelay(t *testing.T) {
	cfg := testConfig()
	cfg.GroupInitialRebalanceDelayMs = 150
	c := startCoordinator(t, cfg, newFakeLog())
	a, b := memberID(t, c, "g"), memberID(t, c, "g")
	start := time.Now()
	ja := asyncJoin(c, "g", joinOpts{memberID: a})
	waitFor(t, "PreparingRebalance", func() bool { return describe(t, c, "g").State == "PreparingRebalance" })
	jb := asyncJoin(c, "g", joinOpts{memberID: b})
	ra, rb := recvJoin(t, ja), recvJoin(t, jb)
	if time.Since(start) < 150*time.Millisecond {
		t.Fatal("joined before the initial delay")
	}
	if ra.Generation != 1 || rb.Generation != 1 || ra.LeaderID != a || len(ra.Members) != 2 || len(rb.Members) != 0 {
		t.Fatalf("a: %+v\nb: %+v", ra, rb)
	}
}

// Cooperative rebalancing (KIP-429) relies on a member rejoining a Stable group with new
// metadata: that starts a rebalance and members keep their ids.
func TestRejoinWithNewMetadataRebalances(t *testing.T) {
	cfg := testConfig()
	cfg.GroupInitialRebalanceDelayMs = 100
	c := startCoordinator(t, cfg, newFakeLog())
	ids, gen := stableGroup(t, c, "g", 2)
	// A follower with unchanged metadata just gets the current generation back.
	r := recvJoin(t, asyncJoin(c, "g", joinOpts{memberID: ids[1]}))
	if r.ErrorCode != 0 || r.Generation != gen || describe(t, c, "g").State != "Stable" {
		t.Fatalf("unchanged rejoin: %+v", r)
	}
	jf := asyncJoin(c, "g", joinOpts{memberID: ids[1], meta: subscription("t1", "t2")})
	waitFor(t, "rebalance", func() bool { return heartbeat(c, "g", ids[0], gen, nil) == kerr.RebalanceInProgress.Code })
	jl := asyncJoin(c, "g", joinOpts{memberID: ids[0]})
	rf, rl := recvJoin(t, jf), recvJoin(t, jl)
	if rf.MemberID != ids[1] || rl.MemberID != ids[0] || rf.Generation != gen+1 || rl.LeaderID != ids[0] || len(rl.Members) != 2 {
		t.Fatalf("follower %+v\nleader %+v", rf, rl)
	}
}

// KIP-345: a static member restarting rejoins a Stable group without a rebalance; the old
// member id is fenced.
func TestStaticMemberRejoin(t *testing.T) {
	cfg := testConfig()
	cfg.GroupInitialRebalanceDelayMs = 100
	c := startCoordinator(t, cfg, newFakeLog())
	inst := "instance-1"
	ra := asyncJoin(c, "g", joinOpts{instanceID: &inst})
	rb := asyncJoin(c, "g", joinOpts{instanceID: strp("instance-2")})
	a, b := recvJoin(t, ra), recvJoin(t, rb)
	if a.ErrorCode != 0 || b.ErrorCode != 0 || a.MemberID[:len(inst)+1] != inst+"-" {
		t.Fatalf("static joins: %+v %+v", a, b)
	}
	leader, gen := a.LeaderID, a.Generation
	assign := map[string][]byte{a.MemberID: []byte("A"), b.MemberID: []byte("B")}
	other := b.MemberID
	if leader == b.MemberID {
		other = a.MemberID
	}
	fs := asyncSync(c, syncReq("g", other, gen, nil))
	if s := recvSync(t, asyncSync(c, syncReq("g", leader, gen, assign))); s.ErrorCode != 0 {
		t.Fatalf("leader sync: %d", s.ErrorCode)
	}
	recvSync(t, fs)

	// instance-1 restarts: it joins without a member id.
	r := recvJoin(t, asyncJoin(c, "g", joinOpts{instanceID: &inst, version: 8}))
	if r.ErrorCode != 0 || r.Generation != gen || r.MemberID == a.MemberID || r.LeaderID != leader {
		t.Fatalf("static rejoin: %+v (old id %s)", r, a.MemberID)
	}
	if st := describe(t, c, "g").State; st != "Stable" {
		t.Fatalf("state %s after static rejoin", st)
	}
	s := recvSync(t, asyncSync(c, &kmsg.SyncGroupRequest{Version: 5, Group: "g", MemberID: r.MemberID, InstanceID: &inst, Generation: gen}))
	if s.ErrorCode != 0 || string(s.MemberAssignment) != "A" {
		t.Fatalf("sync after static rejoin: %+v", s)
	}
	if code := heartbeat(c, "g", a.MemberID, gen, &inst); code != kerr.FencedInstanceID.Code {
		t.Fatalf("old member id heartbeat: %d", code)
	}
	if code := heartbeat(c, "g", r.MemberID, gen, &inst); code != 0 {
		t.Fatalf("new member id heartbeat: %d", code)
	}
	// LeaveGroup v3+ by instance id only.
	lr := kmsg.NewPtrLeaveGroupRequest()
	lr.Version = 3
	lr.Group = "g"
	lr.Members = []kmsg.LeaveGroupRequestMember{{InstanceID: &inst}}
	if resp := c.LeaveGroup(context.Background(), lr); resp.ErrorCode != 0 || resp.Members[0].ErrorCode != 0 {
		t.Fatalf("leave by instance id: %+v", resp)
	}
	if code := heartbeat(c, "g", b.MemberID, gen, strp("instance-2")); code != kerr.RebalanceInProgress.Code {
		t.Fatalf("remaining member heartbeat: %d", code)
	}
}

func strp(s string) *string { return &s }

func TestOffsetCommitFetch(t *testing.T) {
	log := newFakeLog()
	c := startCoordinator(t, testConfig(), log)
	if code := commit(t, c, "simple", -1, "", 42); code != 0 {
		t.Fatalf("simple commit: %d", code)
	}
	resp := fetch(t, c, "simple", 8-1, []kmsg.OffsetFetchRequestTopic{{Topic: "t1", Partitions: []int32{0, 1}}})
	ps := resp.Topics[0].Partitions
	if resp.ErrorCode != 0 || ps[0].Offset != 42 || ps[0].LeaderEpoch != 4 || *ps[0].Metadata != "meta" || ps[1].Offset != -1 {
		t.Fatalf("fetch: %+v", resp)
	}
	// All partitions (null topics, v2+).
	if resp := fetch(t, c, "simple", 5, nil); len(resp.Topics) != 1 || resp.Topics[0].Partitions[0].Offset != 42 {
		t.Fatalf("fetch all: %+v", resp)
	}
	// An unknown group: no offsets, no error.
	resp = fetch(t, c, "nobody", 1, []kmsg.OffsetFetchRequestTopic{{Topic: "t1", Partitions: []int32{0}}})
	if resp.Topics[0].Partitions[0].Offset != -1 || resp.Topics[0].Partitions[0].ErrorCode != 0 {
		t.Fatalf("fetch unknown group: %+v", resp)
	}
	// v8: several groups.
	r := kmsg.NewPtrOffsetFetchRequest()
	r.Version = 8
	r.Groups = []kmsg.OffsetFetchRequestGroup{{Group: "simple"}, {Group: "nobody", Topics: []kmsg.OffsetFetchRequestGroupTopic{{Topic: "t1", Partitions: []int32{3}}}}}
	r8 := c.OffsetFetch(context.Background(), r)
	if len(r8.Groups) != 2 || r8.Groups[0].Topics[0].Partitions[0].Offset != 42 || r8.Groups[1].Topics[0].Partitions[0].Offset != -1 {
		t.Fatalf("v8 fetch: %+v", r8)
	}
	// Metadata over offset.metadata.max.bytes.
	cr := kmsg.NewPtrOffsetCommitRequest()
	cr.Version = 2
	cr.Group, cr.Generation, cr.RetentionTimeMillis = "simple", -1, 60000
	big := string(make([]byte, 4097))
	cr.Topics = []kmsg.OffsetCommitRequestTopic{{Topic: "t1", Partitions: []kmsg.OffsetCommitRequestTopicPartition{{Partition: 0, Offset: 1, Metadata: &big}, {Partition: 1, Offset: 7}}}}
	cresp := c.OffsetCommit(context.Background(), cr)
	if cresp.Topics[0].Partitions[0].ErrorCode != kerr.OffsetMetadataTooLarge.Code || cresp.Topics[0].Partitions[1].ErrorCode != 0 {
		t.Fatalf("commit: %+v", cresp)
	}
	// The record is an offset commit with key version 1 and, carrying a retention, value v1.
	recs := log.records(0)
	last := recs[len(recs)-1]
	k, _ := parseKey(last.Key)
	if !k.isOffset || k.group != "simple" || k.topic != "t1" || k.partition != 1 || binary.BigEndian.Uint16(last.Key) != 1 || binary.BigEndian.Uint16(last.Value) != 1 {
		t.Fatalf("last record %+v", k)
	}
	// Commits to a group without generation from an unknown generation are refused.
	if code := commit(t, c, "other", 3, "m", 1); code != kerr.IllegalGeneration.Code {
		t.Fatalf("commit with generation to unknown group: %d", code)
	}
}

func TestAppendErrorsMapped(t *testing.T) {
	log := newFakeLog()
	c := startCoordinator(t, testConfig(), log)
	for _, tc := range []struct {
		err  error
		want int16
	}{
		{kerr.NotEnoughReplicas, kerr.CoordinatorNotAvailable.Code},
		{kerr.NotLeaderForPartition, kerr.NotCoordinator.Code},
		{kerr.RequestTimedOut, kerr.RequestTimedOut.Code},
		{kerr.MessageTooLarge, kerr.InvalidCommitOffsetSize.Code},
	} {
		log.mu.Lock()
		log.appendErr = tc.err
		log.mu.Unlock()
		if code := commit(t, c, "g", -1, "", 1); code != tc.want {
			t.Errorf("append error %v: code %d, want %d", tc.err, code, tc.want)
		}
	}
	if resp := fetch(t, c, "g", 5, nil); len(resp.Topics) != 0 {
		t.Fatalf("failed commits are visible: %+v", resp)
	}
}

// A second coordinator reading the same log (a failover) rebuilds groups and offsets.
func TestLoadAfterFailover(t *testing.T) {
	cfg := testConfig()
	cfg.GroupInitialRebalanceDelayMs = 50
	log := newFakeLog()
	c1 := startCoordinator(t, cfg, log)
	ids, gen := stableGroup(t, c1, "g", 2)
	if code := commit(t, c1, "g", gen, ids[1], 100); code != 0 {
		t.Fatalf("commit: %d", code)
	}
	if code := commit(t, c1, "simple", -1, "", 7); code != 0 {
		t.Fatalf("commit: %d", code)
	}
	commit(t, c1, "simple", -1, "", 8) // the last commit of a key wins

	c1.Resign(0, 2)
	if code := heartbeat(c1, "g", ids[0], gen, nil); code != kerr.NotCoordinator.Code {
		t.Fatalf("heartbeat after resign: %d", code)
	}

	log.mu.Lock()
	gate := make(chan struct{})
	log.readGate = gate
	log.mu.Unlock()
	c2 := New(cfg, log, zerolog.Nop())
	t.Cleanup(c2.Close)
	c2.BecomeLeader(0, 2)
	if code := heartbeat(c2, "g", ids[0], gen, nil); code != 0 {
		t.Fatalf("heartbeat while loading: %d (Kafka answers blindly)", code)
	}
	if code := commit(t, c2, "g", gen, ids[0], 1); code != kerr.CoordinatorLoadInProgress.Code {
		t.Fatalf("commit while loading: %d", code)
	}
	if d := describe(t, c2, "g"); d.ErrorCode != kerr.CoordinatorLoadInProgress.Code {
		t.Fatalf("describe while loading: %d", d.ErrorCode)
	}
	close(gate)
	waitFor(t, "load", func() bool { return c2.ownsPartition(0) })

	d := describe(t, c2, "g")
	if d.State != "Stable" || len(d.Members) != 2 || d.Protocol != "range" {
		t.Fatalf("reloaded group: %+v", d)
	}
	if code := heartbeat(c2, "g", ids[1], gen, nil); code != 0 {
		t.Fatalf("heartbeat after load: %d", code)
	}
	resp := fetch(t, c2, "g", 5, nil)
	if len(resp.Topics) != 1 || resp.Topics[0].Partitions[0].Offset != 100 {
		t.Fatalf("reloaded offsets: %+v", resp)
	}
	if resp := fetch(t, c2, "simple", 5, nil); resp.Topics[0].Partitions[0].Offset != 8 {
		t.Fatalf("reloaded simple offsets: %+v", resp)
	}
	// The leader rejoining works on the reloaded group: the follower is kept if it rejoins.
	jl := asyncJoin(c2, "g", joinOpts{memberID: ids[0]})
	waitFor(t, "rebalance", func() bool { return describe(t, c2, "g").State == "PreparingRebalance" })
	jf := asyncJoin(c2, "g", joinOpts{memberID: ids[1]})
	if rl, rf := recvJoin(t, jl), recvJoin(t, jf); rl.Generation != gen+1 || rf.Generation != gen+1 || len(rl.Members) != 2 {
		t.Fatalf("rejoin after load: %+v %+v", rl, rf)
	}
}

func TestResignAnswersParkedRequests(t *testing.T) {
	cfg := testConfig()
	cfg.GroupInitialRebalanceDelayMs = 5000
	c := startCoordinator(t, cfg, newFakeLog())
	id := memberID(t, c, "g")
	j := asyncJoin(c, "g", joinOpts{memberID: id})
	waitFor(t, "PreparingRebalance", func() bool { return describe(t, c, "g").State == "PreparingRebalance" })
	c.Resign(0, -1)
	if r := recvJoin(t, j); r.ErrorCode != kerr.NotCoordinator.Code {
		t.Fatalf("parked join after resign: %d", r.ErrorCode)
	}
}

func TestDeleteGroupsWritesTombstones(t *testing.T) {
	log := newFakeLog()
	c := startCoordinator(t, testConfig(), log)
	id := memberID(t, c, "g")
	r := recvJoin(t, asyncJoin(c, "g", joinOpts{memberID: id}))
	recvSync(t, asyncSync(c, syncReq("g", id, r.Generation, map[string][]byte{id: []byte("a")})))
	if code := commit(t, c, "g", r.Generation, id, 9); code != 0 {
		t.Fatalf("commit: %d", code)
	}
	del := func(groups ...string) []kmsg.DeleteGroupsResponseGroup {
		req := kmsg.NewPtrDeleteGroupsRequest()
		req.Version = 2
		req.Groups = groups
		return c.DeleteGroups(context.Background(), req).Groups
	}
	if g := del("g", "missing"); g[0].ErrorCode != kerr.NonEmptyGroup.Code || g[1].ErrorCode != kerr.GroupIDNotFound.Code {
		t.Fatalf("delete: %+v", g)
	}
	lr := kmsg.NewPtrLeaveGroupRequest()
	lr.Version = 1
	lr.Group, lr.MemberID = "g", id
	c.LeaveGroup(context.Background(), lr)
	waitFor(t, "Empty", func() bool { return describe(t, c, "g").State == "Empty" })
	if g := del("g"); g[0].ErrorCode != 0 {
		t.Fatalf("delete: %+v", g)
	}
	var offsetTomb, groupTomb bool
	for _, r := range log.records(0) {
		k, _ := parseKey(r.Key)
		if r.Value == nil && k.isOffset && k.group == "g" && k.topic == "t1" {
			offsetTomb = true
		}
		if r.Value == nil && !k.isOffset && k.group == "g" {
			groupTomb = true
		}
	}
	if !offsetTomb || !groupTomb {
		t.Fatalf("tombstones: offset %v group %v", offsetTomb, groupTomb)
	}
	if d := describe(t, c, "g"); d.State != "Dead" {
		t.Fatalf("deleted group: %+v", d)
	}
	// A new coordinator finds nothing.
	c2 := startCoordinator(t, testConfig(), log)
	if c2.getGroup("g") != nil {
		t.Fatal("deleted group reloaded")
	}
	if resp := fetch(t, c2, "g", 5, nil); len(resp.Topics) != 0 {
		t.Fatalf("deleted offsets reloaded: %+v", resp)
	}
}

func TestOffsetDelete(t *testing.T) {
	c := startCoordinator(t, testConfig(), newFakeLog())
	id := memberID(t, c, "g")
	r := recvJoin(t, asyncJoin(c, "g", joinOpts{memberID: id, meta: subscription("t1")}))
	recvSync(t, asyncSync(c, syncReq("g", id, r.Generation, map[string][]byte{id: []byte("a")})))
	cr := kmsg.NewPtrOffsetCommitRequest()
	cr.Version = 8
	cr.Group, cr.Generation, cr.MemberID = "g", r.Generation, id
	cr.Topics = []kmsg.OffsetCommitRequestTopic{
		{Topic: "t1", Partitions: []kmsg.OffsetCommitRequestTopicPartition{{Partition: 0, Offset: 1}}},
		{Topic: "t2", Partitions: []kmsg.OffsetCommitRequestTopicPartition{{Partition: 0, Offset: 2}}},
	}
	c.OffsetCommit(context.Background(), cr)
	dr := kmsg.NewPtrOffsetDeleteRequest()
	dr.Group = "g"
	dr.Topics = []kmsg.OffsetDeleteRequestTopic{
		{Topic: "t1", Partitions: []kmsg.OffsetDeleteRequestTopicPartition{{Partition: 0}}},
		{Topic: "t2", Partitions: []kmsg.OffsetDeleteRequestTopicPartition{{Partition: 0}}},
	}
	resp := c.OffsetDelete(context.Background(), dr)
	if resp.ErrorCode != 0 || resp.Topics[0].Partitions[0].ErrorCode != kerr.GroupSubscribedToTopic.Code || resp.Topics[1].Partitions[0].ErrorCode != 0 {
		t.Fatalf("offset delete: %+v", resp)
	}
	f := fetch(t, c, "g", 5, nil)
	if len(f.Topics) != 1 || f.Topics[0].Topic != "t1" {
		t.Fatalf("offsets after delete: %+v", f)
	}
	dr.Group = "missing"
	if resp := c.OffsetDelete(context.Background(), dr); resp.ErrorCode != kerr.GroupIDNotFound.Code {
		t.Fatalf("offset delete of a missing group: %d", resp.ErrorCode)
	}
}

// KIP-211: offsets of a group without members expire offsets.retention.minutes after the last
// commit (no protocol type) or after the group became Empty.
func TestOffsetRetention(t *testing.T) {
	log := newFakeLog()
	c := startCoordinator(t, testConfig(), log)
	var mu sync.Mutex
	now := time.Now()
	c.now = func() time.Time { mu.Lock(); defer mu.Unlock(); return now }
	advance := func(d time.Duration) { mu.Lock(); now = now.Add(d); mu.Unlock() }

	if code := commit(t, c, "simple", -1, "", 5); code != 0 {
		t.Fatalf("commit: %d", code)
	}
	advance(24 * time.Hour)
	if n := c.expireOffsets(); n != 0 {
		t.Fatalf("expired %d offsets too early", n)
	}
	advance(7 * 24 * time.Hour)
	if n := c.expireOffsets(); n != 1 {
		t.Fatalf("expired %d offsets, want 1", n)
	}
	if resp := fetch(t, c, "simple", 5, nil); len(resp.Topics) != 0 {
		t.Fatalf("expired offsets still served: %+v", resp)
	}
	if c.getGroup("simple") != nil {
		t.Fatal("group without offsets and members not removed")
	}
	recs := log.records(0)
	if k, _ := parseKey(recs[len(recs)-1].Key); !k.isOffset || recs[len(recs)-1].Value != nil {
		t.Fatalf("no offset tombstone written: %+v", k)
	}
}

func TestListGroups(t *testing.T) {
	c := startCoordinator(t, testConfig(), newFakeLog())
	commit(t, c, "simple", -1, "", 1)
	id := memberID(t, c, "g")
	recvJoin(t, asyncJoin(c, "g", joinOpts{memberID: id}))
	r := kmsg.NewPtrListGroupsRequest()
	r.Version = 4
	resp := c.ListGroups(context.Background(), r)
	if len(resp.Groups) != 2 {
		t.Fatalf("list: %+v", resp)
	}
	r.StatesFilter = []string{"CompletingRebalance"}
	resp = c.ListGroups(context.Background(), r)
	if len(resp.Groups) != 1 || resp.Groups[0].Group != "g" || resp.Groups[0].ProtocolType != "consumer" {
		t.Fatalf("filtered list: %+v", resp)
	}
}

func TestNotCoordinator(t *testing.T) {
	cfg := testConfig()
	cfg.OffsetsTopicNumPartitions = 50
	c := New(cfg, newFakeLog(), zerolog.Nop())
	defer c.Close()
	c.BecomeLeader(4, 0) // "abc" lives on partition 4
	waitFor(t, "load", func() bool { return c.ownsPartition(4) })
	if code := commit(t, c, "my-group", -1, "", 1); code != kerr.NotCoordinator.Code {
		t.Fatalf("commit to a group of another coordinator: %d", code)
	}
	if code := commit(t, c, "abc", -1, "", 1); code != 0 {
		t.Fatalf("commit: %d", code)
	}
	c.Close()
	if code := commit(t, c, "abc", -1, "", 1); code != kerr.CoordinatorNotAvailable.Code {
		t.Fatalf("commit after close: %d", code)
	}
}

// Many members joining and leaving at once must not race (run with -race).
func TestConcurrentMembers(t *testing.T) {
	cfg := testConfig()
	cfg.GroupInitialRebalanceDelayMs = 20
	c := startCoordinator(t, cfg, newFakeLog())
	var wg sync.WaitGroup
	for i := 0; i < 8; i++ {
		wg.Add(1)
		go func(i int) {
			defer wg.Done()
			ctx, cancel := context.WithTimeout(context.Background(), 3*time.Second)
			defer cancel()
			ctx = WithClient(ctx, fmt.Sprintf("c%d", i), "h")
			r := c.JoinGroup(ctx, joinReq("g", joinOpts{version: 3, rebalance: 300}))
			if r.ErrorCode != 0 {
				return
			}
			s := c.SyncGroup(ctx, syncReq("g", r.MemberID, r.Generation, map[string][]byte{r.MemberID: {1}}))
			_ = s
			heartbeat(c, "g", r.MemberID, r.Generation, nil)
			lr := kmsg.NewPtrLeaveGroupRequest()
			lr.Version = 2
			lr.Group, lr.MemberID = "g", r.MemberID
			c.LeaveGroup(ctx, lr)
		}(i)
	}
	wg.Wait()
}
