// Package authz is klassik's authorizer: Kafka's AclAuthorizer
// (authorizer.class.name = "kafka.security.authorizer.AclAuthorizer"), the ZooKeeper-mode
// authorizer of classic Kafka, with the ACL model of org.apache.kafka.common.acl.
//
// # The model
//
// An ACL binds an entry to a resource pattern:
//
//	pattern: resource type (Topic, Group, Cluster, TransactionalId, DelegationToken, User),
//	         name, and LITERAL (the name itself; "*" is every resource of the type)
//	         or PREFIXED (every resource whose name starts with it)
//	entry:   principal ("User:alice", or User:* for everyone), host (the client's address,
//	         or * for anywhere), operation (Read, Write, Create, Delete, Alter, Describe,
//	         ClusterAction, DescribeConfigs, AlterConfigs, IdempotentWrite, ..., or All),
//	         Allow or Deny
//
// A request's question is "may principal P from host H perform operation O on resource R?"
// (Authorize). Super users (super.users) may do anything. Otherwise the ACLs that apply to R
// are those of R's literal pattern, of the wildcard, and of every prefixed pattern R's name
// starts with; if there are none, allow.everyone.if.no.acl.found decides (by default: no). A
// Deny that matches P, H and O (or All) refuses, whatever allows; else an Allow of O is
// needed, where an Allow of Read, Write, Delete or Alter also allows Describe, and one of
// AlterConfigs allows DescribeConfigs.
//
// Which operation on which resource each request needs is the broker's business (it follows
// Kafka's KafkaApis, API by API); the principal is the connection's (wire.ConnInfo.Principal:
// User:ANONYMOUS on a PLAINTEXT listener, whoever authenticated on an SASL or SSL one).
//
// # Where ACLs live
//
// In ZooKeeper, as Kafka keeps them (zkclient/acls.go): one znode per resource pattern,
// /kafka-acl/<ResourceType>/<name> for literal ones and
// /kafka-acl-extended/prefixed/<ResourceType>/<name> for prefixed ones, holding
// {"version":1,"acls":[{"principal":"User:alice","permissionType":"Allow","operation":"Read","host":"*"}]}.
// Every broker keeps all of them in memory (Start loads them) and hears of changes through
// sequential notifications under /kafka-acl-changes and /kafka-acl-extended-changes, each
// naming the resource to read again (notify.go). CreateAcls and DeleteAcls write a resource's
// znode on condition of its zkVersion and then the notification (update.go), so a Kafka
// broker or kafka-acls.sh sharing the ZooKeeper sees klassik's ACLs, and the other way round.
package authz
