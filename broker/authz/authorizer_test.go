package authz

import (
	"errors"
	"fmt"
	"net"
	"reflect"
	"sort"
	"sync"
	"testing"
	"time"

	"github.com/klassik/klassik/zkclient"
	"github.com/rs/zerolog"
	"github.com/twmb/franz-go/pkg/kerr"
)

// memStore is the ZooKeeper side in memory, with zkVersions and notification sequence
// numbers, for the tests that need no ZooKeeper (the ZooKeeper ones are in zk_test.go).
type memStore struct {
	mu      sync.Mutex
	nodes   map[zkclient.AclResource]memNode
	changes [2][]zkclient.AclResource // literal, extended; index = sequence number
	failGet int                       // fail the next n Acls calls
	bumps   int                       // before the next n conditional writes, someone else writes first
}

type memNode struct {
	entries []zkclient.AclEntry
	version int32
}

func newMemStore() *memStore { return &memStore{nodes: map[zkclient.AclResource]memNode{}} }

func (s *memStore) EnsureAclPaths() error { return nil }

func (s *memStore) AclResources() ([]zkclient.AclResource, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []zkclient.AclResource
	for r := range s.nodes {
		out = append(out, r)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Name < out[j].Name })
	return out, nil
}

func (s *memStore) Acls(r zkclient.AclResource) ([]zkclient.AclEntry, int32, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.failGet > 0 {
		s.failGet--
		return nil, -1, errors.New("zk: connection closed")
	}
	n, ok := s.nodes[r]
	if !ok {
		return nil, -1, nil
	}
	return append([]zkclient.AclEntry(nil), n.entries...), n.version, nil
}

func (s *memStore) bump(r zkclient.AclResource) {
	if s.bumps > 0 {
		s.bumps--
		n, ok := s.nodes[r]
		if ok {
			n.version++
			s.nodes[r] = n
		} else {
			s.nodes[r] = memNode{version: 0}
		}
	}
}

func (s *memStore) CreateAcls(r zkclient.AclResource, es []zkclient.AclEntry) (bool, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.bump(r)
	if _, ok := s.nodes[r]; ok {
		return false, nil
	}
	s.nodes[r] = memNode{entries: es, version: 0}
	return true, nil
}

func (s *memStore) SetAcls(r zkclient.AclResource, es []zkclient.AclEntry, version int32) (bool, int32, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.bump(r)
	n, ok := s.nodes[r]
	if !ok || n.version != version {
		return false, -1, nil
	}
	s.nodes[r] = memNode{entries: es, version: version + 1}
	return true, version + 1, nil
}

func (s *memStore) DeleteAcls(r zkclient.AclResource, version int32) (bool, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	n, ok := s.nodes[r]
	if !ok {
		return true, nil
	}
	if version >= 0 && n.version != version {
		return false, nil
	}
	delete(s.nodes, r)
	return true, nil
}

func (s *memStore) CreateAclChangeNotification(r zkclient.AclResource) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	i := 0
	if r.PatternType == zkclient.PatternPrefixed {
		i = 1
	}
	s.changes[i] = append(s.changes[i], r)
	return nil
}

func (s *memStore) AclChanges(extended bool, last int64, _ bool) ([]zkclient.AclResource, int64, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	i := 0
	if extended {
		i = 1
	}
	var out []zkclient.AclResource
	newest := last
	for seq := last + 1; seq < int64(len(s.changes[i])); seq++ {
		out = append(out, s.changes[i][seq])
		newest = seq
	}
	return out, newest, nil
}

func (s *memStore) PurgeAclChanges(time.Duration) error { return nil }

func quiet() zerolog.Logger { return zerolog.Nop() }

func started(t *testing.T, cfg Config, s Store) (*Authorizer, *Follower) {
	t.Helper()
	a := New(cfg, s, quiet())
	f, err := a.Start()
	if err != nil {
		t.Fatal(err)
	}
	return a, f
}

func topic(name string) Pattern    { return Pattern{ResourceTopic, name, PatternLiteral} }
func prefixed(name string) Pattern { return Pattern{ResourceTopic, name, PatternPrefixed} }

func allow(principal, host string, op Operation) Entry {
	return Entry{principal, host, op, PermissionAllow}
}
func deny(principal, host string, op Operation) Entry {
	return Entry{principal, host, op, PermissionDeny}
}

func mustCreate(t *testing.T, a *Authorizer, p Pattern, es ...Entry) {
	t.Helper()
	var bs []Binding
	for _, e := range es {
		bs = append(bs, Binding{p, e})
	}
	for i, err := range a.CreateAcls(bs) {
		if err != nil {
			t.Fatalf("CreateAcls(%v) #%d: %v", p, i, err)
		}
	}
}

var (
	alice     = Requester{Principal: "User:alice", Host: "192.168.0.1", API: "Test"}
	aliceAway = Requester{Principal: "User:alice", Host: "192.168.0.2", API: "Test"}
	bob       = Requester{Principal: "User:bob", Host: "192.168.0.1", API: "Test"}
)

func can(a *Authorizer, r Requester, op Operation, t ResourceType, name string) bool {
	return a.Authorize(r, Action{Operation: op, Type: t, Name: name})
}

// TestAuthorize follows Kafka's AuthorizerTest: host and principal matching, deny over
// allow, the wildcards, implied operations, prefixed patterns, super users and
// allow.everyone.if.no.acl.found.
func TestAuthorize(t *testing.T) {
	a, _ := started(t, Config{SuperUsers: []string{"User:superman"}}, newMemStore())

	if can(a, alice, OpRead, ResourceTopic, "t") {
		t.Error("no ACLs: allowed, want denied (allow.everyone.if.no.acl.found is false)")
	}
	if !can(a, Requester{Principal: "User:superman", Host: "10.0.0.1"}, OpAlter, ResourceCluster, ClusterName) {
		t.Error("super user denied")
	}

	mustCreate(t, a, topic("t"), allow("User:alice", "192.168.0.1", OpRead))
	if !can(a, alice, OpRead, ResourceTopic, "t") {
		t.Error("alice from her host denied Read")
	}
	if can(a, aliceAway, OpRead, ResourceTopic, "t") {
		t.Error("alice from another host allowed Read")
	}
	if can(a, bob, OpRead, ResourceTopic, "t") {
		t.Error("bob allowed Read by alice's ACL")
	}
	if can(a, alice, OpWrite, ResourceTopic, "t") {
		t.Error("Read allowed Write")
	}
	if !can(a, alice, OpDescribe, ResourceTopic, "t") {
		t.Error("Read did not imply Describe")
	}
	if can(a, alice, OpRead, ResourceGroup, "t") {
		t.Error("a topic ACL allowed a group of the same name")
	}

	// Deny wins over allow, including a wildcard principal's deny and a deny of All.
	mustCreate(t, a, topic("t"), deny("User:*", "192.168.0.1", OpRead))
	if can(a, alice, OpRead, ResourceTopic, "t") {
		t.Error("a Deny for User:* did not win over alice's Allow")
	}
	if !can(a, alice, OpDescribe, ResourceTopic, "t") {
		t.Error("a Deny of Read also denied Describe (only Allows imply)")
	}
	mustCreate(t, a, topic("t"), deny("User:alice", "*", OpAll))
	if can(a, alice, OpDescribe, ResourceTopic, "t") {
		t.Error("a Deny of All did not deny Describe")
	}

	// The wildcard resource, and All.
	mustCreate(t, a, topic("*"), allow("User:bob", "*", OpAll))
	if !can(a, bob, OpDelete, ResourceTopic, "anything") || !can(a, bob, OpWrite, ResourceTopic, "t") {
		t.Error("Allow All on topic * did not allow bob")
	}

	// Prefixed patterns apply to every name they start, and a prefixed Deny wins too.
	mustCreate(t, a, prefixed("pay"), allow("User:alice", "*", OpWrite))
	if !can(a, aliceAway, OpWrite, ResourceTopic, "payments") || !can(a, aliceAway, OpWrite, ResourceTopic, "pay") {
		t.Error("prefixed Allow on pay did not allow payments")
	}
	if can(a, aliceAway, OpWrite, ResourceTopic, "pa") {
		t.Error("prefixed Allow on pay allowed pa")
	}
	mustCreate(t, a, prefixed("payments-eu"), deny("User:alice", "*", OpWrite))
	if can(a, aliceAway, OpWrite, ResourceTopic, "payments-eu-1") || !can(a, aliceAway, OpWrite, ResourceTopic, "payments-us") {
		t.Error("a longer prefixed Deny did not carve out its names only")
	}

	// DescribeConfigs is implied by AlterConfigs, and only by it.
	mustCreate(t, a, Pattern{ResourceCluster, ClusterName, PatternLiteral}, allow("User:alice", "*", OpAlterConfigs))
	if !can(a, alice, OpDescribeConfigs, ResourceCluster, ClusterName) || can(a, alice, OpDescribe, ResourceCluster, ClusterName) {
		t.Error("AlterConfigs should imply DescribeConfigs and not Describe")
	}

	// allow.everyone.if.no.acl.found opens only resources no ACL applies to.
	open, _ := started(t, Config{AllowEveryoneIfNoACLFound: true}, a.store)
	if !can(open, bob, OpRead, ResourceGroup, "g") {
		t.Error("allow.everyone.if.no.acl.found: a group without ACLs denied")
	}
	if can(open, bob, OpRead, ResourceTopic, "t") {
		t.Error("allow.everyone.if.no.acl.found opened a topic that has ACLs")
	}
}

// TestAuthorizedOperations: the KIP-430 bit field, from the same rules.
func TestAuthorizedOperations(t *testing.T) {
	a, _ := started(t, Config{}, newMemStore())
	mustCreate(t, a, topic("t"), allow("User:alice", "*", OpRead), allow("User:alice", "*", OpAlterConfigs))
	got := a.AuthorizedOperations(alice, ResourceTopic, "t")
	want := int32(1<<OpRead | 1<<OpDescribe | 1<<OpAlterConfigs | 1<<OpDescribeConfigs)
	if got != want {
		t.Errorf("AuthorizedOperations = %b, want %b", got, want)
	}
	if got := a.AuthorizedOperations(bob, ResourceTopic, "t"); got != 0 {
		t.Errorf("bob's AuthorizedOperations = %b, want 0", got)
	}
}

// TestAuthorizeByResourceType follows Kafka's AuthorizerTest cases for KIP-679.
func TestAuthorizeByResourceType(t *testing.T) {
	a, _ := started(t, Config{}, newMemStore())
	by := func(r Requester) bool { return a.AuthorizeByResourceType(r, OpWrite, ResourceTopic) }
	if by(alice) {
		t.Error("no ACLs: allowed")
	}
	mustCreate(t, a, topic("t1"), allow("User:alice", "*", OpWrite))
	if !by(alice) || by(bob) {
		t.Error("a literal Allow on one topic should allow alice only")
	}
	mustCreate(t, a, topic("t1"), deny("User:alice", "*", OpWrite))
	if by(alice) {
		t.Error("the only Allow is denied by a literal Deny of the same name")
	}
	mustCreate(t, a, prefixed("p"), allow("User:alice", "*", OpWrite))
	if !by(alice) {
		t.Error("a prefixed Allow not covered by a Deny should allow")
	}
	mustCreate(t, a, prefixed("p"), deny("User:alice", "*", OpWrite))
	if by(alice) {
		t.Error("a prefixed Deny of the same prefix should cover the Allow")
	}
	mustCreate(t, a, topic("q"), allow("User:alice", "*", OpAll))
	if !by(alice) {
		t.Error("an Allow of All on a literal topic should allow")
	}
	mustCreate(t, a, topic("*"), deny("User:*", "*", OpWrite))
	if by(alice) {
		t.Error("a Deny on the wildcard should refuse whatever else allows")
	}
	root, _ := started(t, Config{SuperUsers: []string{"User:root"}}, a.store)
	if !root.AuthorizeByResourceType(Requester{Principal: "User:root"}, OpWrite, ResourceTopic) {
		t.Error("a super user was refused")
	}
}

// TestCreateAndDeleteAcls: validation, sets, filters (literal, prefixed, any, match) and the
// results per filter, as AclAuthorizer gives them.
func TestCreateAndDeleteAcls(t *testing.T) {
	s := newMemStore()
	a, _ := started(t, Config{}, s)
	readAll := allow("User:alice", "*", OpRead)
	errs := a.CreateAcls([]Binding{
		{topic("t"), readAll},
		{topic("t"), readAll}, // twice: a set
		{Pattern{ResourceCluster, "other", PatternLiteral}, readAll},
		{topic("a/b"), readAll},
		{topic(""), readAll},
		{topic("t"), Entry{"alice", "*", OpRead, PermissionAllow}},
		{Pattern{ResourceTopic, "x", PatternMatch}, readAll},
		{prefixed("t"), deny("User:bob", "*", OpWrite)},
	})
	for i, wantInvalid := range []bool{false, false, true, true, true, true, true, false} {
		if gotInvalid := errors.Is(errs[i], kerr.InvalidRequest); gotInvalid != wantInvalid || (!wantInvalid && errs[i] != nil) {
			t.Errorf("binding %d: err %v, want invalid %v", i, errs[i], wantInvalid)
		}
	}
	if n := s.nodes[toZk(topic("t"))]; len(n.entries) != 1 || n.version != 0 {
		t.Errorf("znode of t = %+v, want one entry at version 0", n)
	}
	if len(s.changes[0]) != 1 || len(s.changes[1]) != 1 {
		t.Errorf("notifications = %v, want one literal and one extended", s.changes)
	}
	// Adding what is there changes nothing and writes no notification.
	a.CreateAcls([]Binding{{topic("t"), readAll}})
	if len(s.changes[0]) != 1 {
		t.Errorf("a no-op CreateAcls wrote a notification")
	}

	all := a.Acls(MatchAll)
	want := []Binding{{topic("t"), readAll}, {prefixed("t"), deny("User:bob", "*", OpWrite)}}
	if !reflect.DeepEqual(all, want) {
		t.Errorf("Acls(any) = %v, want %v", all, want)
	}
	name := "tea"
	match := Filter{Pattern: PatternFilter{ResourceTopic, &name, PatternMatch}, Entry: MatchAll.Entry}
	if got := a.Acls(match); !reflect.DeepEqual(got, []Binding{{prefixed("t"), deny("User:bob", "*", OpWrite)}}) {
		t.Errorf("Acls(match tea) = %v", got)
	}

	// Delete: the literal filter deletes the literal only; a binding two filters match is
	// reported under the first.
	tName := "t"
	lit := Filter{Pattern: PatternFilter{ResourceTopic, &tName, PatternLiteral}, Entry: MatchAll.Entry}
	anyT := Filter{Pattern: PatternFilter{ResourceTopic, &tName, PatternAny}, Entry: MatchAll.Entry}
	res := a.DeleteAcls([]Filter{lit, anyT})
	if len(res[0].Bindings) != 1 || res[0].Bindings[0].Binding != (Binding{topic("t"), readAll}) || res[0].Bindings[0].Err != nil {
		t.Errorf("filter 0 deleted %+v", res[0])
	}
	if len(res[1].Bindings) != 1 || res[1].Bindings[0].Binding.Pattern != prefixed("t") {
		t.Errorf("filter 1 deleted %+v", res[1])
	}
	if len(s.nodes) != 0 {
		t.Errorf("znodes left: %v", s.nodes)
	}
	if got := a.Acls(MatchAll); len(got) != 0 {
		t.Errorf("cache left: %v", got)
	}

	// A filter naming one pattern deletes ACLs this broker has not heard of yet.
	s.nodes[toZk(topic("late"))] = memNode{entries: entriesToZk([]Entry{readAll}), version: 3}
	late := "late"
	res = a.DeleteAcls([]Filter{{Pattern: PatternFilter{ResourceTopic, &late, PatternLiteral}, Entry: MatchAll.Entry}})
	if len(res[0].Bindings) != 1 || len(s.nodes) != 0 {
		t.Errorf("ACLs written elsewhere not deleted: %+v, %v", res, s.nodes)
	}
}

// TestConflictingWriters: a conditional write that loses to another broker's is read again
// and retried, and the other writer's entries survive.
func TestConflictingWriters(t *testing.T) {
	s := newMemStore()
	a, _ := started(t, Config{}, s)
	mustCreate(t, a, topic("t"), allow("User:alice", "*", OpRead))
	// Another broker adds bob behind this one's back.
	r := toZk(topic("t"))
	n := s.nodes[r]
	s.nodes[r] = memNode{entries: append(n.entries, entriesToZk([]Entry{allow("User:bob", "*", OpRead)})...), version: n.version + 1}
	s.bumps = 2 // and wins twice more
	mustCreate(t, a, topic("t"), allow("User:carol", "*", OpRead))
	if got := len(s.nodes[r].entries); got != 3 {
		t.Errorf("entries after the conflict: %v, want alice, bob and carol", s.nodes[r].entries)
	}
	if !can(a, bob, OpRead, ResourceTopic, "t") {
		t.Error("the cache lost the other writer's entry")
	}
}

// TestNotifications: a second authorizer on the same store (another broker) applies the
// first one's changes once notified, and retries a reload that failed.
func TestNotifications(t *testing.T) {
	s := newMemStore()
	a1, _ := started(t, Config{}, s)
	mustCreate(t, a1, topic("before"), allow("User:alice", "*", OpRead))
	a2, f2 := started(t, Config{}, s)
	if !can(a2, alice, OpRead, ResourceTopic, "before") {
		t.Fatal("Start did not load the ACLs")
	}
	mustCreate(t, a1, topic("t"), allow("User:alice", "*", OpRead))
	mustCreate(t, a1, prefixed("p"), allow("User:alice", "*", OpWrite))
	if can(a2, alice, OpRead, ResourceTopic, "t") {
		t.Fatal("applied before any notification was processed")
	}
	s.failGet = 1
	if err := f2.process(); err == nil {
		t.Fatal("a failed read was not reported")
	}
	if err := f2.process(); err != nil {
		t.Fatal(err)
	}
	if !can(a2, alice, OpRead, ResourceTopic, "t") || !can(a2, alice, OpWrite, ResourceTopic, "p1") {
		t.Error("the notifications were not applied")
	}
	a1.DeleteAcls([]Filter{MatchAll})
	if err := f2.process(); err != nil {
		t.Fatal(err)
	}
	if can(a2, alice, OpRead, ResourceTopic, "t") || can(a2, alice, OpWrite, ResourceTopic, "p1") || len(a2.Acls(MatchAll)) != 0 {
		t.Error("deletions were not applied")
	}
}

func TestParse(t *testing.T) {
	for in, want := range map[string]Operation{"Read": OpRead, "DESCRIBE_CONFIGS": OpDescribeConfigs, "describeconfigs": OpDescribeConfigs,
		"IdempotentWrite": OpIdempotentWrite, "All": OpAll, "nope": OpUnknown} {
		if got := ParseOperation(in); got != want {
			t.Errorf("ParseOperation(%s) = %v, want %v", in, got, want)
		}
	}
	if ResourceTransactionalID.Name() != "TransactionalId" || OpClusterAction.Name() != "ClusterAction" || PermissionAllow.Name() != "Allow" {
		t.Error("PascalCase names wrong")
	}
	if got := (Binding{topic("t"), allow("User:alice", "*", OpRead)}); got.Pattern.String() != "ResourcePattern(resourceType=TOPIC, name=t, patternType=LITERAL)" ||
		got.Entry.String() != "(principal=User:alice, host=*, operation=READ, permissionType=ALLOW)" {
		t.Errorf("toString forms: %s %s", got.Pattern, got.Entry)
	}
	for in, want := range map[string][]string{"": nil, "User:a;User:b": {"User:a", "User:b"}, " User:a ; User:b;": {"User:a", "User:b"}} {
		got, err := ParseSuperUsers(in)
		if err != nil || !reflect.DeepEqual(got, want) {
			t.Errorf("ParseSuperUsers(%q) = %v, %v", in, got, err)
		}
	}
	if _, err := ParseSuperUsers("alice"); err == nil {
		t.Error("ParseSuperUsers(alice) accepted a principal without a type")
	}
	for addr, want := range map[string]string{"127.0.0.2:9": "127.0.0.2", "[::1]:9": "0:0:0:0:0:0:0:1", "[::ffff:10.0.0.1]:9": "10.0.0.1",
		"[2001:db8::ab]:9": "2001:db8:0:0:0:0:0:ab"} {
		tcp, _ := net.ResolveTCPAddr("tcp", addr)
		if got := HostOf(tcp); got != want {
			t.Errorf("HostOf(%s) = %s, want %s", addr, got, want)
		}
	}
}

// badStore answers one resource's znode as unreadable, as zkclient does for JSON Kafka would
// not read.
type badStore struct {
	*memStore
	bad    zkclient.AclResource
	broken *bool
}

func (s badStore) Acls(r zkclient.AclResource) ([]zkclient.AclEntry, int32, error) {
	if r == s.bad && *s.broken {
		return nil, -1, fmt.Errorf("zkclient: /kafka-acl/Topic/x: %w", zkclient.ErrBadAcls)
	}
	return s.memStore.Acls(r)
}

// TestUnreadableNotification: a notification naming an unreadable znode is skipped, as
// Kafka's listener skips it, and the cache keeps what it had; later notifications apply. (At
// start an unreadable znode stops the broker, as Kafka's loadCache does.)
func TestUnreadableNotification(t *testing.T) {
	mem := newMemStore()
	a1, _ := started(t, Config{}, mem)
	mustCreate(t, a1, topic("x"), allow("User:alice", "*", OpRead))
	broken := false
	a2, f2 := started(t, Config{}, badStore{mem, toZk(topic("x")), &broken})
	broken = true // read at start; unreadable once changed
	mustCreate(t, a1, topic("x"), allow("User:bob", "*", OpRead))
	mustCreate(t, a1, topic("y"), allow("User:bob", "*", OpRead))
	if err := f2.process(); err != nil {
		t.Fatalf("an unreadable znode stopped the notifications: %v", err)
	}
	if !can(a2, alice, OpRead, ResourceTopic, "x") || can(a2, bob, OpRead, ResourceTopic, "x") {
		t.Error("the cache of the unreadable resource changed")
	}
	if !can(a2, bob, OpRead, ResourceTopic, "y") {
		t.Error("the readable change after it was not applied")
	}
}
