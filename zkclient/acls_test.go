package zkclient

import (
	"reflect"
	"testing"
	"time"

	"github.com/klassik/klassik/zkclient/zktest"
)

// TestAclZnodes checks the ACL store against a real ZooKeeper: the paths AclAuthorizer
// creates, Kafka's JSON byte for byte (ResourceZNode.encode, LiteralAclChangeStore and
// ExtendedAclChangeStore encode), conditional writes on the zkVersion, and the change
// notifications with their watch.
func TestAclZnodes(t *testing.T) {
	server, _ := zktest.Start(t)
	raw := rawConn(t, server)
	c := dial(t, server+"/acls", 6*time.Second)
	if err := c.EnsureAclPaths(); err != nil {
		t.Fatal(err)
	}
	for _, p := range []string{"/kafka-acl/Topic", "/kafka-acl/Group", "/kafka-acl/Cluster", "/kafka-acl/TransactionalId",
		"/kafka-acl/DelegationToken", "/kafka-acl/User", "/kafka-acl-extended/prefixed/Topic",
		"/kafka-acl-extended/prefixed/TransactionalId", "/kafka-acl-changes", "/kafka-acl-extended-changes"} {
		if ok, _, err := raw.Exists("/acls" + p); err != nil || !ok {
			t.Errorf("%s missing: %v", p, err)
		}
	}

	lit := AclResource{ResourceType: "Topic", Name: "payments", PatternType: PatternLiteral}
	alice := AclEntry{Principal: "User:alice", PermissionType: "Allow", Operation: "Read", Host: "*"}
	bob := AclEntry{Principal: "User:bob", PermissionType: "Deny", Operation: "Write", Host: "127.0.0.2"}
	if ok, err := c.CreateAcls(lit, []AclEntry{alice}); err != nil || !ok {
		t.Fatalf("CreateAcls = %v, %v", ok, err)
	}
	if ok, _ := c.CreateAcls(lit, []AclEntry{bob}); ok {
		t.Fatal("CreateAcls over an existing znode succeeded")
	}
	want := `{"version":1,"acls":[{"principal":"User:alice","permissionType":"Allow","operation":"Read","host":"*"}]}`
	if got := rawGet(t, raw, "/acls/kafka-acl/Topic/payments"); got != want {
		t.Errorf("znode:\n got %s\nwant %s", got, want)
	}
	entries, version, err := c.Acls(lit)
	if err != nil || version != 0 || !reflect.DeepEqual(entries, []AclEntry{alice}) {
		t.Fatalf("Acls = %v, %d, %v", entries, version, err)
	}
	if ok, _, _ := c.SetAcls(lit, []AclEntry{alice, bob}, 5); ok {
		t.Fatal("SetAcls with a stale version succeeded")
	}
	ok, v2, err := c.SetAcls(lit, []AclEntry{alice, bob}, 0)
	if err != nil || !ok || v2 != 1 {
		t.Fatalf("SetAcls = %v, %d, %v", ok, v2, err)
	}
	want = `{"version":1,"acls":[{"principal":"User:alice","permissionType":"Allow","operation":"Read","host":"*"},` +
		`{"principal":"User:bob","permissionType":"Deny","operation":"Write","host":"127.0.0.2"}]}`
	if got := rawGet(t, raw, "/acls/kafka-acl/Topic/payments"); got != want {
		t.Errorf("znode:\n got %s\nwant %s", got, want)
	}

	pre := AclResource{ResourceType: "TransactionalId", Name: "tx-", PatternType: PatternPrefixed}
	if ok, err := c.CreateAcls(pre, []AclEntry{alice}); err != nil || !ok {
		t.Fatalf("CreateAcls prefixed = %v, %v", ok, err)
	}
	if ok, _, _ := raw.Exists("/acls/kafka-acl-extended/prefixed/TransactionalId/tx-"); !ok {
		t.Error("prefixed ACLs not under /kafka-acl-extended/prefixed")
	}
	rs, err := c.AclResources()
	if err != nil || !reflect.DeepEqual(rs, []AclResource{lit, pre}) {
		t.Fatalf("AclResources = %v, %v", rs, err)
	}

	// Notifications: the watch fires, and the content is Kafka's.
	if _, _, err := c.AclChanges(false, -1, true); err != nil {
		t.Fatal(err)
	}
	if err := c.CreateAclChangeNotification(lit); err != nil {
		t.Fatal(err)
	}
	waitEvent(t, c, EventAclChanged, "")
	if _, _, err := c.AclChanges(true, -1, true); err != nil {
		t.Fatal(err)
	}
	if err := c.CreateAclChangeNotification(pre); err != nil {
		t.Fatal(err)
	}
	waitEvent(t, c, EventAclChanged, "")
	kids, _, err := raw.Children("/acls/kafka-acl-changes")
	if err != nil || len(kids) != 1 || kids[0] != "acl_changes_0000000000" {
		t.Fatalf("literal notifications = %v, %v", kids, err)
	}
	if got := rawGet(t, raw, "/acls/kafka-acl-changes/acl_changes_0000000000"); got != "TOPIC:payments" {
		t.Errorf("literal notification = %q, want TOPIC:payments", got)
	}
	if got, want := rawGet(t, raw, "/acls/kafka-acl-extended-changes/acl_changes_0000000000"),
		`{"version":1,"resourceType":"TRANSACTIONAL_ID","name":"tx-","patternType":"PREFIXED"}`; got != want {
		t.Errorf("extended notification:\n got %s\nwant %s", got, want)
	}
	got, newest, err := c.AclChanges(false, -1, false)
	if err != nil || newest != 0 || !reflect.DeepEqual(got, []AclResource{lit}) {
		t.Fatalf("AclChanges literal = %v, %d, %v", got, newest, err)
	}
	if got, newest, _ := c.AclChanges(false, 0, false); len(got) != 0 || newest != 0 {
		t.Fatalf("AclChanges after the newest = %v, %d", got, newest)
	}
	got, _, err = c.AclChanges(true, -1, false)
	if err != nil || !reflect.DeepEqual(got, []AclResource{pre}) {
		t.Fatalf("AclChanges extended = %v, %v", got, err)
	}

	// Deletion is conditional too.
	if ok, _ := c.DeleteAcls(lit, 0); ok {
		t.Fatal("DeleteAcls with a stale version succeeded")
	}
	if ok, err := c.DeleteAcls(lit, 1); err != nil || !ok {
		t.Fatalf("DeleteAcls = %v, %v", ok, err)
	}
	if entries, v, err := c.Acls(lit); err != nil || v != -1 || len(entries) != 0 {
		t.Fatalf("Acls after delete = %v, %d, %v", entries, v, err)
	}
	if err := c.PurgeAclChanges(0); err != nil {
		t.Fatal(err)
	}
	if kids, _, _ := raw.Children("/acls/kafka-acl-changes"); len(kids) != 0 {
		t.Errorf("notifications left after a purge: %v", kids)
	}

	// Names that would escape their folder are refused.
	if _, err := c.CreateAcls(AclResource{ResourceType: "Topic", Name: "a/b", PatternType: PatternLiteral}, []AclEntry{alice}); err == nil {
		t.Error("a resource name with a slash was accepted")
	}
}

// TestAclCodec reads what Kafka writes, including the whitespace and the upper-case names
// older tools wrote, and refuses what AclEntry.fromBytes refuses.
func TestAclCodec(t *testing.T) {
	got, err := decodeAcls([]byte(`{"version": 1, "acls": [ { "host":"host1", "permissionType": "Deny","operation": "Read","principal": "User:alice"}]}`))
	if err != nil || !reflect.DeepEqual(got, []AclEntry{{Principal: "User:alice", PermissionType: "Deny", Operation: "Read", Host: "host1"}}) {
		t.Fatalf("decodeAcls = %v, %v", got, err)
	}
	for _, bad := range []string{`{"version":2,"acls":[]}`, `{"acls":[]}`, `[1]`, `{"version":1,"acls":[{"principal":"User:a"}]}`} {
		if _, err := decodeAcls([]byte(bad)); err == nil {
			t.Errorf("decodeAcls(%s) accepted", bad)
		}
	}
	if got, err := decodeAcls(nil); err != nil || len(got) != 0 {
		t.Errorf("decodeAcls(empty) = %v, %v", got, err)
	}
	for in, want := range map[string]AclResource{
		"TOPIC:a:b":               {ResourceType: "Topic", Name: "a:b", PatternType: PatternLiteral},
		"Group:g":                 {ResourceType: "Group", Name: "g", PatternType: PatternLiteral},
		"TRANSACTIONAL_ID:t":      {ResourceType: "TransactionalId", Name: "t", PatternType: PatternLiteral},
		"CLUSTER:kafka-cluster":   {ResourceType: "Cluster", Name: "kafka-cluster", PatternType: PatternLiteral},
		"DELEGATION_TOKEN:token1": {ResourceType: "DelegationToken", Name: "token1", PatternType: PatternLiteral},
	} {
		got, err := decodeLiteralAclChange([]byte(in))
		if err != nil || got != want {
			t.Errorf("decodeLiteralAclChange(%s) = %v, %v", in, got, err)
		}
	}
	if _, err := decodeLiteralAclChange([]byte("nocolon")); err == nil {
		t.Error("a literal notification without a colon was accepted")
	}
	if _, err := decodeExtendedAclChange([]byte(`{"version":2,"resourceType":"TOPIC","name":"a","patternType":"PREFIXED"}`)); err == nil {
		t.Error("an extended notification of version 2 was accepted")
	}
}
