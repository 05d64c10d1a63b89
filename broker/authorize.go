package broker

// Authorization: the questions each handler asks, as Kafka's AuthHelper asks them of the
// authorizer (broker/authz) when authorizer.class.name is set. Without an authorizer every
// question is answered yes, as in a Kafka broker without one.
//
// Which operation on which resource each API needs is written in its handler, after
// KafkaApis; the principal is the connection's (wire.ConnInfo.Principal, User:ANONYMOUS on a
// PLAINTEXT listener) and the host the client's address. The brokers' own requests
// (LeaderAndIsr, UpdateMetadata, StopReplica, ControlledShutdown, WriteTxnMarkers, follower
// Fetch, OffsetsForLeaderEpoch, AddPartitionsToTxn v4) need ClusterAction on the cluster.
// Over PLAINTEXT a broker is User:ANONYMOUS like any client, so that principal needs it:
// through super.users (then every PLAINTEXT client is a super user, as in Kafka), or through
// an Allow restricted to the brokers' hosts.
//
// Authorized operations (KIP-430): Metadata, DescribeCluster and DescribeGroups answer, when
// asked, the bit field of the operations the client may perform on each resource
// (AuthHelper.authorizedOperations); without an authorizer, every operation the resource type
// supports. When not asked, the field keeps the schema's default, -2147483648.

import (
	"github.com/klassik/klassik/broker/authz"
	"github.com/klassik/klassik/wire"
	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kmsg"
)

// startAuthorizer loads the ACLs and starts following their changes, when the authorizer
// is configured (b.authz stays nil otherwise).
func (b *Broker) startAuthorizer() error {
	if !b.cfg.AuthorizerEnabled() {
		return nil
	}
	supers, err := authz.ParseSuperUsers(b.cfg.SuperUsers)
	if err != nil {
		return err
	}
	a := authz.New(authz.Config{SuperUsers: supers, AllowEveryoneIfNoACLFound: b.cfg.AllowEveryoneIfNoACLFound}, b.zk, b.base)
	f, err := a.Start()
	if err != nil {
		return err
	}
	b.authz = a
	b.goRun(func() { f.Run(b.ctx) })
	b.log.Info().Str("authorizer.class.name", b.cfg.AuthorizerClassName).Strs("super.users", supers).
		Bool("allow.everyone.if.no.acl.found", b.cfg.AllowEveryoneIfNoACLFound).Msg("authorizer started")
	return nil
}

// requester is who sent req, for the authorizer.
func requester(req *wire.Request) authz.Requester {
	r := authz.Requester{Principal: wire.AnonymousPrincipal, API: kmsg.NameForKey(req.Key)}
	if req.Conn != nil {
		r.Principal = req.Conn.Principal()
		r.Host = authz.HostOf(req.Conn.RemoteAddr)
	}
	return r
}

// authorize asks whether req may perform op on the literal resource (t, name); a denial is
// audited at info.
func (b *Broker) authorize(req *wire.Request, op authz.Operation, t authz.ResourceType, name string) bool {
	if b.authz == nil {
		return true
	}
	return b.authz.Authorize(requester(req), authz.Action{Operation: op, Type: t, Name: name})
}

// authorizeQuiet is authorize for a question that only filters (Kafka's logIfDenied = false).
func (b *Broker) authorizeQuiet(req *wire.Request, op authz.Operation, t authz.ResourceType, name string) bool {
	if b.authz == nil {
		return true
	}
	return b.authz.Authorize(requester(req), authz.Action{Operation: op, Type: t, Name: name, Quiet: true})
}

// authorizeCluster asks about the cluster resource, kafka-cluster.
func (b *Broker) authorizeCluster(req *wire.Request, op authz.Operation) bool {
	return b.authorize(req, op, authz.ResourceCluster, authz.ClusterName)
}

// authorizedNames is AuthHelper.filterByAuthorized: the names among names that req may
// perform op on, each asked once.
func (b *Broker) authorizedNames(req *wire.Request, op authz.Operation, t authz.ResourceType, names []string) map[string]bool {
	out := make(map[string]bool, len(names))
	asked := make(map[string]bool, len(names))
	for _, n := range names {
		if asked[n] {
			continue
		}
		asked[n] = true
		if b.authorize(req, op, t, n) {
			out[n] = true
		}
	}
	return out
}

// authorizedOperations is the KIP-430 bit field of resource (t, name) for req.
func (b *Broker) authorizedOperations(req *wire.Request, t authz.ResourceType, name string) int32 {
	if b.authz == nil {
		var bits int32
		for _, op := range authz.SupportedOperations(t) {
			bits |= 1 << op
		}
		return bits
	}
	return b.authz.AuthorizedOperations(requester(req), t, name)
}

// errClusterAuthorization is the answer to a request that needs an operation on the cluster
// the requester may not perform (Kafka's ClusterAuthorizationException).
func errClusterAuthorization(req *wire.Request) error {
	return errorf(kerr.ClusterAuthorizationFailed, "Request %s from %s is not authorized.", kmsg.NameForKey(req.Key), requester(req).Principal)
}

// authorizeConfigResource is the check of DescribeConfigs (op DescribeConfigs) and of
// AlterConfigs and IncrementalAlterConfigs (op AlterConfigs): a broker's configs (and its
// loggers', type 8) are the cluster's, a topic's are the topic's. Other resource types are
// left to the handler to refuse.
func (b *Broker) authorizeConfigResource(req *wire.Request, op authz.Operation, typ kmsg.ConfigResourceType, name string) error {
	switch typ {
	case kmsg.ConfigResourceTypeBroker, kmsg.ConfigResourceTypeBrokerLogger:
		if !b.authorizeCluster(req, op) {
			return errorf(kerr.ClusterAuthorizationFailed, "Cluster authorization failed.")
		}
	case kmsg.ConfigResourceTypeTopic:
		if !b.authorize(req, op, authz.ResourceTopic, name) {
			return errorf(kerr.TopicAuthorizationFailed, "Topic authorization failed.")
		}
	}
	return nil
}
