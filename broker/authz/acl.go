package authz

import (
	"fmt"
	"strings"
)

// The enums of Kafka's org.apache.kafka.common.acl and .resource packages, with their wire
// codes (the int8s of the ACL requests and responses). String gives the Java enum's name
// ("TRANSACTIONAL_ID"), Name the PascalCase name SecurityUtils uses in ZooKeeper and in
// kafka-acls.sh's --operation ("TransactionalId").

// ResourceType is org.apache.kafka.common.resource.ResourceType.
type ResourceType int8

const (
	ResourceUnknown         ResourceType = 0
	ResourceAny             ResourceType = 1 // filters only
	ResourceTopic           ResourceType = 2
	ResourceGroup           ResourceType = 3
	ResourceCluster         ResourceType = 4
	ResourceTransactionalID ResourceType = 5
	ResourceDelegationToken ResourceType = 6
	ResourceUser            ResourceType = 7
)

var resourceTypeNames = [...]string{"UNKNOWN", "ANY", "TOPIC", "GROUP", "CLUSTER", "TRANSACTIONAL_ID", "DELEGATION_TOKEN", "USER"}

// PatternType is org.apache.kafka.common.resource.PatternType.
type PatternType int8

const (
	PatternUnknown  PatternType = 0
	PatternAny      PatternType = 1 // filters only: any pattern type, the name exactly
	PatternMatch    PatternType = 2 // filters only: every pattern that applies to the name
	PatternLiteral  PatternType = 3
	PatternPrefixed PatternType = 4
)

var patternTypeNames = [...]string{"UNKNOWN", "ANY", "MATCH", "LITERAL", "PREFIXED"}

// Operation is org.apache.kafka.common.acl.AclOperation.
type Operation int8

const (
	OpUnknown         Operation = 0
	OpAny             Operation = 1 // filters only
	OpAll             Operation = 2
	OpRead            Operation = 3
	OpWrite           Operation = 4
	OpCreate          Operation = 5
	OpDelete          Operation = 6
	OpAlter           Operation = 7
	OpDescribe        Operation = 8
	OpClusterAction   Operation = 9
	OpDescribeConfigs Operation = 10
	OpAlterConfigs    Operation = 11
	OpIdempotentWrite Operation = 12
	OpCreateTokens    Operation = 13
	OpDescribeTokens  Operation = 14
)

var operationNames = [...]string{"UNKNOWN", "ANY", "ALL", "READ", "WRITE", "CREATE", "DELETE", "ALTER", "DESCRIBE",
	"CLUSTER_ACTION", "DESCRIBE_CONFIGS", "ALTER_CONFIGS", "IDEMPOTENT_WRITE", "CREATE_TOKENS", "DESCRIBE_TOKENS"}

// Permission is org.apache.kafka.common.acl.AclPermissionType.
type Permission int8

const (
	PermissionUnknown Permission = 0
	PermissionAny     Permission = 1 // filters only
	PermissionDeny    Permission = 2
	PermissionAllow   Permission = 3
)

var permissionNames = [...]string{"UNKNOWN", "ANY", "DENY", "ALLOW"}

func enumString(names []string, v int8) string {
	if v >= 0 && int(v) < len(names) {
		return names[v]
	}
	return "UNKNOWN"
}

func (t ResourceType) String() string { return enumString(resourceTypeNames[:], int8(t)) }
func (t PatternType) String() string  { return enumString(patternTypeNames[:], int8(t)) }
func (o Operation) String() string    { return enumString(operationNames[:], int8(o)) }
func (p Permission) String() string   { return enumString(permissionNames[:], int8(p)) }

// Name is SecurityUtils.resourceTypeName: "Topic", "TransactionalId".
func (t ResourceType) Name() string { return pascal(t.String()) }

// Name is SecurityUtils.operationName: "Read", "DescribeConfigs".
func (o Operation) Name() string { return pascal(o.String()) }

// Name is SecurityUtils.permissionTypeName: "Allow", "Deny".
func (p Permission) Name() string { return pascal(p.String()) }

// pascal is SecurityUtils.toPascalCase: "DESCRIBE_CONFIGS" becomes "DescribeConfigs".
func pascal(enum string) string {
	var b strings.Builder
	up := true
	for _, r := range enum {
		switch {
		case r == '_':
			up = true
		case up:
			b.WriteString(strings.ToUpper(string(r)))
			up = false
		default:
			b.WriteString(strings.ToLower(string(r)))
		}
	}
	return b.String()
}

// parseName finds the value a name stands for, as SecurityUtils.valueFromMap does: the
// PascalCase name, or its upper-case form; also (as the Java enums' fromString) the enum's
// name in any case.
func parseName(names []string, s string) (int8, bool) {
	u := strings.ToUpper(strings.TrimSpace(s))
	for i, n := range names {
		if u == n || u == strings.ToUpper(pascal(n)) {
			return int8(i), true
		}
	}
	return 0, false
}

// ParseResourceType reads "Topic", "TOPIC", "TransactionalId", "transactional_id".
func ParseResourceType(s string) ResourceType {
	v, _ := parseName(resourceTypeNames[:], s)
	return ResourceType(v)
}

// ParseOperation reads "Read", "DescribeConfigs", "DESCRIBE_CONFIGS", ...; OpUnknown if none.
func ParseOperation(s string) Operation {
	v, _ := parseName(operationNames[:], s)
	return Operation(v)
}

// ParsePermission reads "Allow", "DENY", ...; PermissionUnknown if none.
func ParsePermission(s string) Permission {
	v, _ := parseName(permissionNames[:], s)
	return Permission(v)
}

// ParsePatternType reads "literal", "PREFIXED", "match", "any"; PatternUnknown if none.
func ParsePatternType(s string) PatternType {
	v, _ := parseName(patternTypeNames[:], s)
	return PatternType(v)
}

// ClusterName is the one name of the cluster resource (Resource.CLUSTER_NAME).
const ClusterName = "kafka-cluster"

// Wildcards: a literal resource named "*" is every resource of its type; "User:*" is every
// principal and "*" every host.
const (
	WildcardResource  = "*"
	WildcardPrincipal = "User:*"
	WildcardHost      = "*"
)

// Pattern is a ResourcePattern: a resource type, a name and a literal or prefixed pattern
// type.
type Pattern struct {
	Type        ResourceType
	Name        string
	PatternType PatternType
}

// String is ResourcePattern.toString, as kafka-acls.sh prints it.
func (p Pattern) String() string {
	return fmt.Sprintf("ResourcePattern(resourceType=%s, name=%s, patternType=%s)", p.Type, p.Name, p.PatternType)
}

// Entry is an AccessControlEntry: who (a principal "User:alice", or User:*), from where (a
// host address, or *), what operation, allowed or denied.
type Entry struct {
	Principal  string
	Host       string
	Operation  Operation
	Permission Permission
}

// String is AccessControlEntry.toString, as kafka-acls.sh prints it.
func (e Entry) String() string {
	return fmt.Sprintf("(principal=%s, host=%s, operation=%s, permissionType=%s)", e.Principal, e.Host, e.Operation, e.Permission)
}

// Binding is an AclBinding: an entry on a pattern.
type Binding struct {
	Pattern Pattern
	Entry   Entry
}

// PatternFilter is a ResourcePatternFilter: Type may be ResourceAny; a nil Name matches any
// name; PatternType may be PatternAny (any pattern type, the name exactly) or PatternMatch
// (every pattern that applies to Name: the literal one, the wildcard, and prefixes of it).
type PatternFilter struct {
	Type        ResourceType
	Name        *string
	PatternType PatternType
}

// Matches is ResourcePatternFilter.matches.
func (f PatternFilter) Matches(p Pattern) bool {
	if f.Type != ResourceAny && f.Type != p.Type {
		return false
	}
	if f.PatternType != PatternAny && f.PatternType != PatternMatch && f.PatternType != p.PatternType {
		return false
	}
	if f.Name == nil {
		return true
	}
	name := *f.Name
	if f.PatternType == PatternAny || f.PatternType == p.PatternType {
		return name == p.Name
	}
	switch p.PatternType { // MATCH
	case PatternLiteral:
		return name == p.Name || p.Name == WildcardResource
	case PatternPrefixed:
		return strings.HasPrefix(name, p.Name)
	}
	return false
}

// matchesAtMostOne is ResourcePatternFilter.matchesAtMostOne: the filter names one pattern.
func (f PatternFilter) matchesAtMostOne() bool {
	return f.Type != ResourceAny && f.Type != ResourceUnknown && f.Name != nil &&
		f.PatternType != PatternMatch && f.PatternType != PatternUnknown
}

// EntryFilter is an AccessControlEntryFilter: nil Principal or Host match any; OpAny and
// PermissionAny match any.
type EntryFilter struct {
	Principal  *string
	Host       *string
	Operation  Operation
	Permission Permission
}

// Matches is AccessControlEntryFilter.matches.
func (f EntryFilter) Matches(e Entry) bool {
	if f.Principal != nil && *f.Principal != e.Principal {
		return false
	}
	if f.Host != nil && *f.Host != e.Host {
		return false
	}
	if f.Operation != OpAny && f.Operation != e.Operation {
		return false
	}
	return f.Permission == PermissionAny || f.Permission == e.Permission
}

// Filter is an AclBindingFilter.
type Filter struct {
	Pattern PatternFilter
	Entry   EntryFilter
}

// Matches is AclBindingFilter.matches.
func (f Filter) Matches(b Binding) bool {
	return f.Pattern.Matches(b.Pattern) && f.Entry.Matches(b.Entry)
}

// MatchAll is AclBindingFilter.ANY.
var MatchAll = Filter{
	Pattern: PatternFilter{Type: ResourceAny, PatternType: PatternAny},
	Entry:   EntryFilter{Operation: OpAny, Permission: PermissionAny},
}

// SupportedOperations is AclEntry.supportedOperations: the operations that mean something
// on a resource type, in Kafka's order, the bits of the authorized operations (KIP-430).
func SupportedOperations(t ResourceType) []Operation {
	switch t {
	case ResourceTopic:
		return []Operation{OpRead, OpWrite, OpCreate, OpDescribe, OpDelete, OpAlter, OpDescribeConfigs, OpAlterConfigs}
	case ResourceGroup:
		return []Operation{OpRead, OpDescribe, OpDelete}
	case ResourceCluster:
		return []Operation{OpCreate, OpClusterAction, OpDescribeConfigs, OpAlterConfigs, OpIdempotentWrite, OpAlter, OpDescribe}
	case ResourceTransactionalID:
		return []Operation{OpDescribe, OpWrite}
	case ResourceDelegationToken:
		return []Operation{OpDescribe}
	case ResourceUser:
		return []Operation{OpCreateTokens, OpDescribeTokens}
	}
	return nil
}

// ParsePrincipal checks that s is "principalType:principalName" (SecurityUtils.parseKafkaPrincipal).
func ParsePrincipal(s string) error {
	if !strings.Contains(s, ":") {
		return fmt.Errorf("expected a string in format principalType:principalName but got %s", s)
	}
	return nil
}

// impliedBy lists the operations whose allowance also allows op (AclAuthorizer.authorizeAction):
// Read, Write, Delete and Alter imply Describe; AlterConfigs implies DescribeConfigs.
func impliedBy(op Operation) []Operation {
	switch op {
	case OpDescribe:
		return []Operation{OpDescribe, OpRead, OpWrite, OpDelete, OpAlter}
	case OpDescribeConfigs:
		return []Operation{OpDescribeConfigs, OpAlterConfigs}
	}
	return []Operation{op}
}
