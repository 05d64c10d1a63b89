package authz

import (
	"fmt"
	"net"
	"sort"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/klassik/klassik/zkclient"
	"github.com/rs/zerolog"
)

// ClassName is the one authorizer.class.name klassik implements.
const ClassName = "kafka.security.authorizer.AclAuthorizer"

// Config is the authorizer's part of the broker configuration.
type Config struct {
	// SuperUsers is super.users: principals ("User:admin") allowed everything from
	// everywhere, whatever the ACLs say.
	SuperUsers []string
	// AllowEveryoneIfNoACLFound is allow.everyone.if.no.acl.found: a resource no ACL applies
	// to is open to everyone (by default it is closed to everyone but super users).
	AllowEveryoneIfNoACLFound bool
}

// ParseSuperUsers splits super.users ("User:a;User:b") as AclAuthorizer.configure does
// (Java's split, which drops trailing empty parts), each part a principal.
func ParseSuperUsers(s string) ([]string, error) {
	if strings.TrimSpace(s) == "" {
		return nil, nil
	}
	parts := strings.Split(s, ";")
	for len(parts) > 0 && parts[len(parts)-1] == "" {
		parts = parts[:len(parts)-1]
	}
	out := make([]string, 0, len(parts))
	for _, p := range parts {
		p = strings.TrimSpace(p)
		if err := ParsePrincipal(p); err != nil {
			return nil, fmt.Errorf("super.users: %v", err)
		}
		out = append(out, p)
	}
	return out, nil
}

// Requester is who asks, as AuthorizableRequestContext tells the authorizer: the
// connection's principal, the client's address as Java's InetAddress.getHostAddress writes
// it, and the request's name for the audit log.
type Requester struct {
	Principal string
	Host      string
	API       string
}

// HostOf is the client address of a connection as ACLs name hosts (Java's getHostAddress):
// dotted quad for IPv4 (also for an IPv4 address reached over IPv6), eight groups of hex
// without zero compression for IPv6.
func HostOf(addr net.Addr) string {
	tcp, ok := addr.(*net.TCPAddr)
	if !ok || tcp.IP == nil {
		return ""
	}
	if v4 := tcp.IP.To4(); v4 != nil {
		return v4.String()
	}
	ip := tcp.IP.To16()
	if ip == nil {
		return tcp.IP.String()
	}
	groups := make([]string, 8)
	for i := range groups {
		groups[i] = strconv.FormatUint(uint64(ip[2*i])<<8|uint64(ip[2*i+1]), 16)
	}
	s := strings.Join(groups, ":")
	if tcp.Zone != "" {
		s += "%" + tcp.Zone
	}
	return s
}

// Action is one question: may the requester perform Operation on the literal resource
// (Type, Name)? Quiet keeps a denial out of the audit log's info lines: the question only
// filters (all topics in Metadata, ListGroups) or computes authorized operations (Kafka's
// logIfDenied = false).
type Action struct {
	Operation Operation
	Type      ResourceType
	Name      string
	Quiet     bool
}

// versioned is a resource pattern's entries and the zkVersion of its znode (-1: none).
type versioned struct {
	entries []Entry
	version int32
}

// Authorizer is Kafka's AclAuthorizer: an in-memory cache of every ACL in ZooKeeper,
// answering each request's authorization questions, and the writer of ACL changes. The cache
// is loaded by Start and kept current by the change notifications (notify.go).
//
// Concurrency: Authorize and the other readers take mu for reading; cache updates take it
// for writing. updMu serializes the read-modify-write of ZooKeeper (Kafka's lock), so two
// CreateAcls on one broker do not race each other (those on different brokers race through
// the zkVersion).
type Authorizer struct {
	cfg        Config
	superUsers map[string]bool
	store      Store
	log        zerolog.Logger // component=authorizer: the audit lines (Kafka's kafka.authorizer.logger)

	updMu sync.Mutex

	mu       sync.RWMutex
	cache    map[Pattern]versioned
	prefixed [8]int // how many prefixed patterns per resource type: none means no prefix walk

	wake chan struct{} // 1-buffered: a change notification arrived (notify.go)
}

// Store is what the authorizer keeps in ZooKeeper: *zkclient.Client.
type Store interface {
	EnsureAclPaths() error
	AclResources() ([]zkclient.AclResource, error)
	Acls(zkclient.AclResource) ([]zkclient.AclEntry, int32, error)
	CreateAcls(zkclient.AclResource, []zkclient.AclEntry) (bool, error)
	SetAcls(zkclient.AclResource, []zkclient.AclEntry, int32) (bool, int32, error)
	DeleteAcls(zkclient.AclResource, int32) (bool, error)
	CreateAclChangeNotification(zkclient.AclResource) error
	AclChanges(extended bool, lastSeen int64, watch bool) ([]zkclient.AclResource, int64, error)
	PurgeAclChanges(maxAge time.Duration) error
}

// New makes an authorizer over store. Start loads it.
func New(cfg Config, store Store, logger zerolog.Logger) *Authorizer {
	a := &Authorizer{
		cfg:        cfg,
		superUsers: map[string]bool{},
		store:      store,
		log:        logger.With().Str("component", "authorizer").Logger(),
		cache:      map[Pattern]versioned{},
		wake:       make(chan struct{}, 1),
	}
	for _, u := range cfg.SuperUsers {
		a.superUsers[u] = true
	}
	return a
}

// Authorize is AclAuthorizer.authorizeAction: super users may do anything; otherwise the
// ACLs of the literal resource, of the wildcard "*" and of every prefixed pattern that the
// name starts with apply. With none, allow.everyone.if.no.acl.found decides. Else a matching
// Deny wins over any Allow, and an Allow of the operation (or of one that implies it: Read,
// Write, Delete, Alter imply Describe; AlterConfigs implies DescribeConfigs) is needed. An
// entry matches when its principal is the requester's or User:*, its host the requester's or
// *, and its operation the one asked or All.
func (a *Authorizer) Authorize(r Requester, act Action) bool {
	ok := a.authorize(r, act)
	a.audit(r, act, ok)
	return ok
}

func (a *Authorizer) authorize(r Requester, act Action) bool {
	if a.superUsers[r.Principal] {
		return true
	}
	a.mu.RLock()
	defer a.mu.RUnlock()
	var sets [][]Entry
	if v, ok := a.cache[Pattern{act.Type, WildcardResource, PatternLiteral}]; ok {
		sets = append(sets, v.entries)
	}
	if act.Name != WildcardResource {
		if v, ok := a.cache[Pattern{act.Type, act.Name, PatternLiteral}]; ok {
			sets = append(sets, v.entries)
		}
	}
	if int(act.Type) < len(a.prefixed) && a.prefixed[act.Type] > 0 {
		for i := 1; i <= len(act.Name); i++ {
			if v, ok := a.cache[Pattern{act.Type, act.Name[:i], PatternPrefixed}]; ok {
				sets = append(sets, v.entries)
			}
		}
	}
	if len(sets) == 0 {
		return a.cfg.AllowEveryoneIfNoACLFound
	}
	matches := func(perm Permission, op Operation) bool {
		for _, es := range sets {
			for _, e := range es {
				if e.Permission == perm &&
					(e.Principal == r.Principal || e.Principal == WildcardPrincipal) &&
					(e.Operation == op || e.Operation == OpAll) &&
					(e.Host == r.Host || e.Host == WildcardHost) {
					return true
				}
			}
		}
		return false
	}
	if matches(PermissionDeny, act.Operation) {
		return false
	}
	for _, op := range impliedBy(act.Operation) {
		if matches(PermissionAllow, op) {
			return true
		}
	}
	return false
}

// AuthorizeByResourceType is AclAuthorizer.authorizeByResourceType (KIP-679): may the
// requester perform op on at least one resource of type t? A literal Deny on the wildcard
// refuses; allow.everyone.if.no.acl.found then allows; else some Allow (literal or prefixed)
// must not be overruled by a Deny of the same name or of a prefix of it. Implied operations
// do not count here, as in Kafka. InitProducerId asks it for Write on topics.
func (a *Authorizer) AuthorizeByResourceType(r Requester, op Operation, t ResourceType) bool {
	ok := a.authorizeByResourceType(r, op, t)
	a.audit(r, Action{Operation: op, Type: t, Name: "NONE"}, ok)
	return ok
}

func (a *Authorizer) authorizeByResourceType(r Requester, op Operation, t ResourceType) bool {
	if a.superUsers[r.Principal] {
		return true
	}
	a.mu.RLock()
	defer a.mu.RUnlock()
	denyLit, denyPre, allowLit, allowPre := map[string]bool{}, map[string]bool{}, map[string]bool{}, map[string]bool{}
	for p, v := range a.cache {
		if p.Type != t {
			continue
		}
		for _, e := range v.entries {
			if (e.Principal != r.Principal && e.Principal != WildcardPrincipal) ||
				(e.Host != r.Host && e.Host != WildcardHost) || (e.Operation != op && e.Operation != OpAll) {
				continue
			}
			switch {
			case e.Permission == PermissionDeny && p.PatternType == PatternLiteral:
				denyLit[p.Name] = true
			case e.Permission == PermissionDeny:
				denyPre[p.Name] = true
			case e.Permission == PermissionAllow && p.PatternType == PatternLiteral:
				allowLit[p.Name] = true
			case e.Permission == PermissionAllow:
				allowPre[p.Name] = true
			}
		}
	}
	if denyLit[WildcardResource] {
		return false
	}
	if a.cfg.AllowEveryoneIfNoACLFound {
		return true
	}
	dominated := func(name string) bool { // a prefixed Deny covers name
		for i := 1; i <= len(name); i++ {
			if denyPre[name[:i]] {
				return true
			}
		}
		return false
	}
	for name := range allowPre {
		if !dominated(name) {
			return true
		}
	}
	for name := range allowLit {
		if name == WildcardResource || (!denyLit[name] && !dominated(name)) {
			return true
		}
	}
	return false
}

// AuthorizedOperations is AuthHelper.authorizedOperations (KIP-430): the bit field of the
// supported operations of the resource that the requester may perform (bit n for the
// operation of code n), asked quietly.
func (a *Authorizer) AuthorizedOperations(r Requester, t ResourceType, name string) int32 {
	var bits int32
	for _, op := range SupportedOperations(t) {
		if a.authorize(r, Action{Operation: op, Type: t, Name: name, Quiet: true}) {
			bits |= 1 << op
		}
	}
	return bits
}

// audit writes Kafka's authorizer log line: a denial of an explicit request at info, the
// rest at debug.
func (a *Authorizer) audit(r Requester, act Action, allowed bool) {
	lvl := zerolog.DebugLevel
	if !allowed && !act.Quiet {
		lvl = zerolog.InfoLevel
	}
	ev := a.log.WithLevel(lvl)
	if ev == nil || !ev.Enabled() {
		return
	}
	result := "Allowed"
	if !allowed {
		result = "Denied"
	}
	ev.Msgf("Principal = %s is %s Operation = %s from host = %s on resource = %s:%s:%s for request = %s",
		r.Principal, result, act.Operation.Name(), r.Host, act.Type.Name(), PatternLiteral, act.Name, r.API)
}

// Acls is AclAuthorizer.acls: every binding the filter matches, in Kafka's ResourceOrdering
// (resource type, pattern type, then name in reverse) and each pattern's entries in stored
// order.
func (a *Authorizer) Acls(f Filter) []Binding {
	a.mu.RLock()
	defer a.mu.RUnlock()
	var out []Binding
	for _, p := range a.sortedPatterns() {
		for _, e := range a.cache[p].entries {
			b := Binding{Pattern: p, Entry: e}
			if f.Matches(b) {
				out = append(out, b)
			}
		}
	}
	return out
}

// sortedPatterns lists the cache's patterns in ResourceOrdering. Called with mu held.
func (a *Authorizer) sortedPatterns() []Pattern {
	ps := make([]Pattern, 0, len(a.cache))
	for p := range a.cache {
		ps = append(ps, p)
	}
	sort.Slice(ps, func(i, j int) bool {
		if ps[i].Type != ps[j].Type {
			return ps[i].Type < ps[j].Type
		}
		if ps[i].PatternType != ps[j].PatternType {
			return ps[i].PatternType < ps[j].PatternType
		}
		return ps[i].Name > ps[j].Name
	})
	return ps
}

// updateCache makes entries the pattern's cached ACLs (none: forgotten). Called with mu not
// held.
func (a *Authorizer) updateCache(p Pattern, v versioned) {
	a.mu.Lock()
	defer a.mu.Unlock()
	_, had := a.cache[p]
	if len(v.entries) > 0 {
		a.cache[p] = v
		if !had && p.PatternType == PatternPrefixed && int(p.Type) < len(a.prefixed) {
			a.prefixed[p.Type]++
		}
	} else if had {
		delete(a.cache, p)
		if p.PatternType == PatternPrefixed && int(p.Type) < len(a.prefixed) {
			a.prefixed[p.Type]--
		}
	}
}

// cached is the pattern's cached ACLs, and whether it has any.
func (a *Authorizer) cached(p Pattern) (versioned, bool) {
	a.mu.RLock()
	defer a.mu.RUnlock()
	v, ok := a.cache[p]
	return v, ok
}

// ---- between the cache's types and ZooKeeper's ----

func toZk(p Pattern) zkclient.AclResource {
	pt := zkclient.PatternLiteral
	if p.PatternType == PatternPrefixed {
		pt = zkclient.PatternPrefixed
	}
	return zkclient.AclResource{ResourceType: p.Type.Name(), Name: p.Name, PatternType: pt}
}

func fromZk(r zkclient.AclResource) (Pattern, error) {
	t := ParseResourceType(r.ResourceType)
	if t == ResourceUnknown || t == ResourceAny {
		return Pattern{}, fmt.Errorf("unknown resource type %q", r.ResourceType)
	}
	pt := PatternLiteral
	if r.PatternType == zkclient.PatternPrefixed {
		pt = PatternPrefixed
	}
	return Pattern{Type: t, Name: r.Name, PatternType: pt}, nil
}

func entriesToZk(es []Entry) []zkclient.AclEntry {
	out := make([]zkclient.AclEntry, len(es))
	for i, e := range es {
		out[i] = zkclient.AclEntry{Principal: e.Principal, PermissionType: e.Permission.Name(), Operation: e.Operation.Name(), Host: e.Host}
	}
	return out
}

// entriesFromZk reads the znode's entries. An entry with an operation or permission Kafka
// would not know is dropped with a warning; it could never match a request anyway.
func (a *Authorizer) entriesFromZk(p Pattern, zs []zkclient.AclEntry) []Entry {
	out := make([]Entry, 0, len(zs))
	seen := map[Entry]bool{}
	for _, z := range zs {
		e := Entry{Principal: z.Principal, Host: z.Host, Operation: ParseOperation(z.Operation), Permission: ParsePermission(z.PermissionType)}
		if e.Operation <= OpAny || e.Permission <= PermissionAny || ParsePrincipal(e.Principal) != nil {
			a.log.Warn().Str("resource", p.String()).Interface("acl", z).Msg("ignoring an ACL entry with an unknown operation, permission type or principal")
			continue
		}
		if !seen[e] { // a set, as Kafka reads it
			seen[e] = true
			out = append(out, e)
		}
	}
	return out
}
