package broker

// Authorized operations (KIP-430): Metadata, DescribeCluster and DescribeGroups answer, when
// asked, a bit field of the ACL operations the client may perform on each resource, as
// Kafka's AuthHelper.authorizedOperations computes it. klassik has no authorizer yet, so,
// as a Kafka broker without authorizer.class.name, it answers every operation the resource
// type supports (AclEntry.supportedOperations). When not asked, the field keeps the schema's
// default, -2147483648 (Integer.MIN_VALUE).

// Kafka's AclOperation codes (org.apache.kafka.common.acl.AclOperation).
const (
	aclRead            = 3
	aclWrite           = 4
	aclCreate          = 5
	aclDelete          = 6
	aclAlter           = 7
	aclDescribe        = 8
	aclClusterAction   = 9
	aclDescribeConfigs = 10
	aclAlterConfigs    = 11
	aclIdempotentWrite = 12
)

func opsBitField(ops ...int) int32 {
	var f int32
	for _, op := range ops {
		f |= 1 << op
	}
	return f
}

// The operations each resource type supports (AclEntry.supportedOperations), all allowed.
var (
	topicAuthorizedOperations   = opsBitField(aclRead, aclWrite, aclCreate, aclDescribe, aclDelete, aclAlter, aclDescribeConfigs, aclAlterConfigs)
	groupAuthorizedOperations   = opsBitField(aclRead, aclDescribe, aclDelete)
	clusterAuthorizedOperations = opsBitField(aclCreate, aclClusterAction, aclDescribeConfigs, aclAlterConfigs, aclIdempotentWrite, aclAlter, aclDescribe)
)
