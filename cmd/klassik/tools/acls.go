package tools

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"strings"

	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kgo"
	"github.com/twmb/franz-go/pkg/kmsg"
)

// acls mirrors kafka-acls.sh (Kafka's kafka.admin.AclCommand) in its --bootstrap-server form:
// it adds, removes and lists ACLs through CreateAcls, DeleteAcls and DescribeAcls, and prints
// what it does in AclCommand's words:
//
//	klassik acls --bootstrap-server B --add --allow-principal User:alice --operation Read --topic t
//	klassik acls --bootstrap-server B --add --allow-principal User:bob --producer --topic t --transactional-id tx
//	klassik acls --bootstrap-server B --add --allow-principal User:carol --consumer --topic t --group g
//	klassik acls --bootstrap-server B --remove --deny-principal User:eve --operation All --topic t --force
//	klassik acls --bootstrap-server B --list --topic t --resource-pattern-type match
//
// The deprecated --authorizer-properties form, which writes ZooKeeper directly, is not offered.

// The operations each resource type supports (Kafka's AclEntry.supportedOperations), which
// AclCommand checks --operation against; ALL is always allowed.
var aclSupportedOps = map[kmsg.ACLResourceType][]kmsg.ACLOperation{
	kmsg.ACLResourceTypeTopic: {kmsg.ACLOperationRead, kmsg.ACLOperationWrite, kmsg.ACLOperationCreate, kmsg.ACLOperationDescribe,
		kmsg.ACLOperationDelete, kmsg.ACLOperationAlter, kmsg.ACLOperationDescribeConfigs, kmsg.ACLOperationAlterConfigs},
	kmsg.ACLResourceTypeGroup: {kmsg.ACLOperationRead, kmsg.ACLOperationDescribe, kmsg.ACLOperationDelete},
	kmsg.ACLResourceTypeCluster: {kmsg.ACLOperationCreate, kmsg.ACLOperationClusterAction, kmsg.ACLOperationDescribeConfigs,
		kmsg.ACLOperationAlterConfigs, kmsg.ACLOperationIdempotentWrite, kmsg.ACLOperationAlter, kmsg.ACLOperationDescribe},
	kmsg.ACLResourceTypeTransactionalId: {kmsg.ACLOperationDescribe, kmsg.ACLOperationWrite},
	kmsg.ACLResourceTypeDelegationToken: {kmsg.ACLOperationDescribe},
	kmsg.ACLResourceTypeUser:            {kmsg.ACLOperationCreateTokens, kmsg.ACLOperationDescribeTokens},
}

func aclsFlags() *flagSet {
	fs := newFlagSet("acls", "This tool helps to manage acls on kafka (kafka-acls.sh).")
	fs.Value("bootstrap-server", "server to connect to", "", "A list of host/port pairs to use for establishing the connection to the Kafka cluster. This list should be in the form host1:port1,host2:port2,... This config is required for acl management using admin client API.")
	fs.Value("command-config", "command-config", "", "A property file containing configs to be passed to Admin Client.")
	fs.Value("authorizer-properties", "authorizer-properties", "", "DEPRECATED in Kafka and not supported by klassik: use --bootstrap-server.")
	fs.Value("authorizer", "authorizer", "", "DEPRECATED in Kafka and not supported by klassik: use --bootstrap-server.")
	fs.Value("topic", "topic", "", "topic to which ACLs should be added or removed. A value of '*' indicates ACL should apply to all topics.")
	fs.Bool("cluster", "Add/Remove cluster ACLs.")
	fs.Value("group", "group", "", "Consumer Group to which the ACLs should be added or removed. A value of '*' indicates the ACLs should apply to all groups.")
	fs.Value("transactional-id", "transactional-id", "", "The transactionalId to which ACLs should be added or removed. A value of '*' indicates the ACLs should apply to all transactionalIds.")
	fs.Bool("idempotent", "Enable idempotence for the producer. This should be used in combination with the --producer option. Note that idempotence is enabled automatically if the producer is authorized to a particular transactional-id.")
	fs.Value("delegation-token", "delegation-token", "", "Delegation token to which ACLs should be added or removed. A value of '*' indicates ACL should apply to all tokens.")
	fs.Value("user-principal", "user-principal", "", "Specifies a user principal as a resource in relation with the operation. For instance one could grant CreateTokens or DescribeTokens permission on a given user principal.")
	fs.Value("resource-pattern-type", "ANY|MATCH|LITERAL|PREFIXED", "LITERAL", "The type of the resource pattern or pattern filter. When adding acls, this should be a specific pattern type, e.g. 'literal' or 'prefixed'. When listing or removing acls, a specific pattern type can be used to list or remove acls from specific resource patterns, or use the filter values of 'any' or 'match', where 'any' will match any pattern type, but will match the resource name exactly, where as 'match' will perform pattern matching to list or remove all acls that affect the supplied resource(s). WARNING: 'match', when used in combination with the '--remove' switch, should be used with care.")
	fs.Bool("add", "Indicates you are trying to add ACLs.")
	fs.Bool("remove", "Indicates you are trying to remove ACLs.")
	fs.Bool("list", "List ACLs for the specified resource, use --topic <topic> or --group <group> or --cluster to specify a resource.")
	fs.Value("operation", "operation", "All", "Operation that is being allowed or denied. Valid operation names are: Describe, DescribeConfigs, Alter, IdempotentWrite, Read, Delete, Create, ClusterAction, All, CreateTokens, DescribeTokens, Write, AlterConfigs")
	fs.Value("allow-principal", "allow-principal", "", "principal is in principalType:name format. Note that principalType must be supported by the Authorizer being used. For example, User:'*' is the wild card indicating all users.")
	fs.Value("deny-principal", "deny-principal", "", "principal is in principalType:name format. By default anyone not added through --allow-principal is denied access. You only need to use this option as negation to already allowed set. Note that principalType must be supported by the Authorizer being used. For example if you wanted to allow access to all users in the system but not test-user you can define an ACL that allows access to User:'*' and specify --deny-principal=User:test@EXAMPLE.COM. AND PLEASE REMEMBER DENY RULES TAKES PRECEDENCE OVER ALLOW RULES.")
	fs.Optional("principal", "principal", "", "List ACLs for the specified principal. principal is in principalType:name format. Note that principalType must be supported by the Authorizer being used. Multiple --principal option can be passed.")
	fs.Value("allow-host", "allow-host", "", "Host from which principals listed in --allow-principal will have access. If you have specified --allow-principal then the default for this option will be set to '*' which allows access from all hosts.")
	fs.Value("deny-host", "deny-host", "", "Host from which principals listed in --deny-principal will be denied access. If you have specified --deny-principal then the default for this option will be set to '*' which denies access from all hosts.")
	fs.Bool("producer", "Convenience option to add/remove ACLs for producer role. This will generate ACLs that allows WRITE,DESCRIBE and CREATE on topic.")
	fs.Bool("consumer", "Convenience option to add/remove ACLs for consumer role. This will generate ACLs that allows READ,DESCRIBE on topic and READ on group.")
	fs.Bool("force", "Assume Yes to all queries and do not prompt.")
	return fs
}

// aclFilter is a ResourcePatternFilter; as a pattern (name set, specific pattern type) it is a
// ResourcePattern.
type aclFilter struct {
	typ  kmsg.ACLResourceType
	name *string
	pt   kmsg.ACLResourcePatternType
}

// patternString is ResourcePattern.toString.
func (f aclFilter) patternString() string {
	return fmt.Sprintf("ResourcePattern(resourceType=%s, name=%s, patternType=%s)", f.typ, *f.name, f.pt)
}

// filterString is ResourcePatternFilter.toString.
func (f aclFilter) filterString() string {
	name := "<any>"
	if f.name != nil {
		name = *f.name
	}
	return fmt.Sprintf("ResourcePattern(resourceType=%s, name=%s, patternType=%s)", f.typ, name, f.pt)
}

// aclEntry is an AccessControlEntry.
type aclEntry struct {
	principal, host string
	op              kmsg.ACLOperation
	perm            kmsg.ACLPermissionType
}

// String is AccessControlEntry.toString.
func (e aclEntry) String() string {
	return fmt.Sprintf("(principal=%s, host=%s, operation=%s, permissionType=%s)", e.principal, e.host, e.op, e.perm)
}

// aclGroup is a resource (or filter) with its entries, in the order they were made.
type aclGroup struct {
	f       aclFilter
	entries []aclEntry
}

func (g *aclGroup) add(e aclEntry) {
	for _, x := range g.entries {
		if x == e {
			return
		}
	}
	g.entries = append(g.entries, e)
}

// entryLines is AclCommand's " \t(...)\n\t(...) " block: a space, the entries one per line
// each after a tab, and a space.
func entryLines(es []aclEntry) string {
	lines := make([]string, len(es))
	for i, e := range es {
		lines[i] = "\t" + e.String()
	}
	return " " + strings.Join(lines, "\n") + " "
}

func runAcls(args []string, stdin io.Reader, stdout, stderr io.Writer) int {
	fs := aclsFlags()
	return run(fs, args, stdout, stderr, func() error {
		action, err := checkAclArgs(fs)
		if err != nil {
			return err
		}
		pt, err := aclPatternType(fs.byName["resource-pattern-type"].str())
		if err != nil {
			return err
		}
		cl, err := newClient(fs.byName["bootstrap-server"].str(), fs.clientOpts...) // --command-config, read by run
		if err != nil {
			return err
		}
		defer cl.Close()
		a := &aclCommand{fs: fs, pt: pt, cl: cl, stdin: bufio.NewReader(stdin), stdout: stdout}
		switch action {
		case "add":
			err = a.add()
		case "remove":
			err = a.remove()
		default:
			err = a.list()
		}
		var ue usageError
		if errors.As(err, &ue) {
			return err // printUsageAndExit
		}
		if err != nil {
			// AclCommand.main: "Error while executing ACL command: ..." and exit 1.
			fmt.Fprintf(stdout, "Error while executing ACL command: %v\n", err)
			return exitCode(1)
		}
		return nil
	})
}

// checkAclArgs is AclCommandOptions.checkArgs; it returns the action.
func checkAclArgs(fs *flagSet) (string, error) {
	given := func(n string) bool { return fs.byName[n].given }
	if given("authorizer-properties") || given("authorizer") {
		return "", usageErrorf("klassik acls manages ACLs through the brokers only: use --bootstrap-server (the --authorizer-properties form, deprecated in Kafka, is not supported)")
	}
	if !given("bootstrap-server") {
		return "", missing("bootstrap-server")
	}
	action, err := fs.exactlyOne("list", "add", "remove")
	if err != nil {
		return "", usageErrorf("Command must include exactly one action: --list, --add, --remove. ")
	}
	invalid := func(used string, others ...string) error {
		if !given(used) {
			return nil
		}
		for _, o := range others {
			if given(o) {
				return usageErrorf("Option \"[%s]\" can't be used with option \"[%s]\"", used, o)
			}
		}
		return nil
	}
	for _, err := range []error{
		invalid("list", "producer", "consumer", "allow-host", "allow-principal", "deny-host", "deny-principal"),
		invalid("producer", "operation", "deny-principal", "deny-host"),
		invalid("consumer", "operation", "deny-principal", "deny-host"),
	} {
		if err != nil {
			return "", err
		}
	}
	switch {
	case given("principal") && !given("list"):
		return "", usageErrorf("The --principal option is only available if --list is set")
	case given("producer") && !given("topic"):
		return "", usageErrorf("With --producer you must specify a --topic")
	case given("idempotent") && !given("producer"):
		return "", usageErrorf("The --idempotent option is only available if --producer is set")
	case given("consumer") && (!given("topic") || !given("group") || (!given("producer") && (given("cluster") || given("transactional-id")))):
		return "", usageErrorf("With --consumer you must specify a --topic and a --group and no --cluster or --transactional-id option should be specified.")
	}
	return action, nil
}

// aclPatternType is AclCommand's PatternTypeConverter: any case of ANY, MATCH, LITERAL or
// PREFIXED.
func aclPatternType(s string) (kmsg.ACLResourcePatternType, error) {
	switch strings.ToUpper(strings.TrimSpace(s)) {
	case "ANY":
		return kmsg.ACLResourcePatternTypeAny, nil
	case "MATCH":
		return kmsg.ACLResourcePatternTypeMatch, nil
	case "LITERAL":
		return kmsg.ACLResourcePatternTypeLiteral, nil
	case "PREFIXED":
		return kmsg.ACLResourcePatternTypePrefixed, nil
	}
	return 0, usageErrorf("Unknown resource-pattern-type: %s", s)
}

type aclCommand struct {
	fs     *flagSet
	pt     kmsg.ACLResourcePatternType
	cl     *kgo.Client
	stdin  *bufio.Reader
	stdout io.Writer
}

// resourceFilters is AclCommand.getResourceFilter: the resources named on the command line,
// with the pattern type of --resource-pattern-type. The cluster counts only with a literal
// pattern type, as in Kafka.
func (a *aclCommand) resourceFilters(dieIfNone bool) ([]aclFilter, error) {
	var out []aclFilter
	seen := map[string]bool{}
	addName := func(t kmsg.ACLResourceType, name string) {
		k := t.String() + "\x00" + name
		if seen[k] {
			return
		}
		seen[k] = true
		n := name
		out = append(out, aclFilter{typ: t, name: &n, pt: a.pt})
	}
	for _, t := range a.fs.byName["topic"].all() {
		addName(kmsg.ACLResourceTypeTopic, strings.TrimSpace(t))
	}
	if a.pt == kmsg.ACLResourcePatternTypeLiteral && (a.fs.byName["cluster"].given || a.fs.byName["idempotent"].given) {
		addName(kmsg.ACLResourceTypeCluster, "kafka-cluster")
	}
	for _, g := range a.fs.byName["group"].all() {
		addName(kmsg.ACLResourceTypeGroup, strings.TrimSpace(g))
	}
	for _, t := range a.fs.byName["transactional-id"].all() {
		addName(kmsg.ACLResourceTypeTransactionalId, t)
	}
	for _, t := range a.fs.byName["delegation-token"].all() {
		addName(kmsg.ACLResourceTypeDelegationToken, strings.TrimSpace(t))
	}
	for _, u := range a.fs.byName["user-principal"].all() {
		addName(kmsg.ACLResourceTypeUser, strings.TrimSpace(u))
	}
	if len(out) == 0 && dieIfNone {
		return nil, usageErrorf("You must provide at least one resource: --topic <topic> or --cluster or --group <group> or --delegation-token <Delegation Token ID>")
	}
	return out, nil
}

// principals reads a principal option: each "Type:name".
func (a *aclCommand) principals(opt string) ([]string, error) {
	var out []string
	for _, p := range a.fs.byName[opt].all() {
		p = strings.TrimSpace(p)
		if !strings.Contains(p, ":") {
			return nil, fmt.Errorf("expected a string in format principalType:principalName but got %s", p)
		}
		out = append(out, p)
	}
	return out, nil
}

// hosts is AclCommand.getHosts: the hosts given, else * when principals were.
func (a *aclCommand) hosts(hostOpt, principalOpt string) []string {
	if o := a.fs.byName[hostOpt]; o.given {
		var out []string
		for _, h := range o.all() {
			out = append(out, strings.TrimSpace(h))
		}
		return out
	}
	if a.fs.byName[principalOpt].given {
		return []string{"*"}
	}
	return nil
}

// entriesFor is AclCommand.getAcl: every allowed principal with every operation from every
// allowed host, then the same for the denied ones.
func (a *aclCommand) entriesFor(ops []kmsg.ACLOperation) ([]aclEntry, error) {
	allowP, err := a.principals("allow-principal")
	if err != nil {
		return nil, err
	}
	denyP, err := a.principals("deny-principal")
	if err != nil {
		return nil, err
	}
	g := aclGroup{}
	for _, side := range []struct {
		ps    []string
		hosts []string
		perm  kmsg.ACLPermissionType
	}{
		{allowP, a.hosts("allow-host", "allow-principal"), kmsg.ACLPermissionTypeAllow},
		{denyP, a.hosts("deny-host", "deny-principal"), kmsg.ACLPermissionTypeDeny},
	} {
		for _, p := range side.ps {
			for _, op := range ops {
				for _, h := range side.hosts {
					g.add(aclEntry{principal: p, host: h, op: op, perm: side.perm})
				}
			}
		}
	}
	return g.entries, nil
}

// filterToAcls is AclCommand.getResourceFilterToAcls: what --producer, --consumer or
// --operation make of each resource, checked against the resource types' operations.
func (a *aclCommand) filterToAcls() ([]aclGroup, error) {
	filters, err := a.resourceFilters(true)
	if err != nil {
		return nil, err
	}
	var out []aclGroup
	index := map[string]int{}
	put := func(f aclFilter, es []aclEntry) {
		k := f.filterString()
		i, ok := index[k]
		if !ok {
			i = len(out)
			index[k] = i
			out = append(out, aclGroup{f: f})
		}
		for _, e := range es {
			out[i].add(e)
		}
	}
	producer, consumer := a.fs.byName["producer"].given, a.fs.byName["consumer"].given
	if !producer && !consumer {
		var ops []kmsg.ACLOperation
		for _, s := range a.fs.byName["operation"].all() {
			op, err := kmsg.ParseACLOperation(strings.TrimSpace(s))
			if err != nil {
				op = kmsg.ACLOperationUnknown
			}
			ops = append(ops, op)
		}
		if len(ops) == 0 {
			ops = []kmsg.ACLOperation{kmsg.ACLOperationAll}
		}
		es, err := a.entriesFor(ops)
		if err != nil {
			return nil, err
		}
		for _, f := range filters {
			put(f, es)
		}
	}
	if producer {
		topicEs, err := a.entriesFor([]kmsg.ACLOperation{kmsg.ACLOperationWrite, kmsg.ACLOperationDescribe, kmsg.ACLOperationCreate})
		if err != nil {
			return nil, err
		}
		txnEs, _ := a.entriesFor([]kmsg.ACLOperation{kmsg.ACLOperationWrite, kmsg.ACLOperationDescribe})
		idemEs, _ := a.entriesFor([]kmsg.ACLOperation{kmsg.ACLOperationIdempotentWrite})
		for _, f := range filters {
			switch {
			case f.typ == kmsg.ACLResourceTypeTopic:
				put(f, topicEs)
			case f.typ == kmsg.ACLResourceTypeTransactionalId:
				put(f, txnEs)
			case f.typ == kmsg.ACLResourceTypeCluster && a.fs.byName["idempotent"].given:
				put(f, idemEs)
			}
		}
	}
	if consumer {
		topicEs, err := a.entriesFor([]kmsg.ACLOperation{kmsg.ACLOperationRead, kmsg.ACLOperationDescribe})
		if err != nil {
			return nil, err
		}
		groupEs, _ := a.entriesFor([]kmsg.ACLOperation{kmsg.ACLOperationRead})
		for _, f := range filters {
			switch f.typ {
			case kmsg.ACLResourceTypeTopic:
				put(f, topicEs)
			case kmsg.ACLResourceTypeGroup:
				put(f, groupEs)
			}
		}
	}
	for _, g := range out { // AclCommand.validateOperation
		valid := append([]kmsg.ACLOperation{}, aclSupportedOps[g.f.typ]...)
		for _, e := range g.entries {
			if e.op == kmsg.ACLOperationAll {
				continue
			}
			ok := false
			for _, v := range valid {
				ok = ok || v == e.op
			}
			if !ok {
				names := make([]string, 0, len(valid)+1)
				for _, v := range valid {
					names = append(names, v.String())
				}
				names = append(names, kmsg.ACLOperationAll.String())
				return nil, usageErrorf("ResourceType %s only supports operations %s", g.f.typ, strings.Join(names, ","))
			}
		}
	}
	return out, nil
}

func (a *aclCommand) add() error {
	if a.pt != kmsg.ACLResourcePatternTypeLiteral && a.pt != kmsg.ACLResourcePatternTypePrefixed {
		return usageErrorf("A '--resource-pattern-type' value of '%s' is not valid when adding acls.", a.pt)
	}
	groups, err := a.filterToAcls()
	if err != nil {
		return err
	}
	for _, g := range groups {
		if len(g.entries) == 0 {
			return usageErrorf("You must specify one of: --allow-principal, --deny-principal when trying to add ACLs.")
		}
	}
	for _, g := range groups {
		fmt.Fprintf(a.stdout, "Adding ACLs for resource `%s`: \n%s\n\n", g.f.patternString(), entryLines(g.entries))
		req := kmsg.NewPtrCreateACLsRequest()
		for _, e := range g.entries {
			c := kmsg.NewCreateACLsRequestCreation()
			c.ResourceType, c.ResourceName, c.ResourcePatternType = g.f.typ, *g.f.name, g.f.pt
			c.Principal, c.Host, c.Operation, c.PermissionType = e.principal, e.host, e.op, e.perm
			req.Creations = append(req.Creations, c)
		}
		ctx, cancel := reqCtx()
		resp, err := req.RequestWith(ctx, a.cl)
		cancel()
		if err != nil {
			return rootCause(err)
		}
		for _, r := range resp.Results {
			if err := kerr.ErrorForCode(r.ErrorCode); err != nil {
				return aclAPIError(err, r.ErrorMessage)
			}
		}
	}
	return a.list()
}

func (a *aclCommand) remove() error {
	groups, err := a.filterToAcls()
	if err != nil {
		return err
	}
	for _, g := range groups {
		var msg string
		if len(g.entries) == 0 {
			msg = fmt.Sprintf("Are you sure you want to delete all ACLs for resource filter `%s`? (y/n)", g.f.filterString())
		} else {
			msg = fmt.Sprintf("Are you sure you want to remove ACLs: \n%s\n from resource filter `%s`? (y/n)", entryLines(g.entries), g.f.filterString())
		}
		if !a.confirm(msg) {
			continue
		}
		req := kmsg.NewPtrDeleteACLsRequest()
		filter := func(e *aclEntry) kmsg.DeleteACLsRequestFilter {
			f := kmsg.NewDeleteACLsRequestFilter()
			f.ResourceType, f.ResourceName, f.ResourcePatternType = g.f.typ, g.f.name, g.f.pt
			f.Operation, f.PermissionType = kmsg.ACLOperationAny, kmsg.ACLPermissionTypeAny
			if e != nil { // AccessControlEntry.toFilter: the entry exactly
				f.Principal, f.Host = &e.principal, &e.host
				f.Operation, f.PermissionType = e.op, e.perm
			}
			return f
		}
		if len(g.entries) == 0 {
			req.Filters = append(req.Filters, filter(nil))
		}
		for i := range g.entries {
			req.Filters = append(req.Filters, filter(&g.entries[i]))
		}
		ctx, cancel := reqCtx()
		resp, err := req.RequestWith(ctx, a.cl)
		cancel()
		if err != nil {
			return rootCause(err)
		}
		for _, r := range resp.Results {
			if err := kerr.ErrorForCode(r.ErrorCode); err != nil {
				return aclAPIError(err, r.ErrorMessage)
			}
			for _, m := range r.MatchingACLs {
				if err := kerr.ErrorForCode(m.ErrorCode); err != nil {
					return aclAPIError(err, m.ErrorMessage)
				}
			}
		}
	}
	return a.list()
}

// confirm is AclCommand.confirmAction: --force, or a "y" on stdin.
func (a *aclCommand) confirm(msg string) bool {
	if a.fs.byName["force"].given {
		return true
	}
	fmt.Fprintln(a.stdout, msg)
	line, _ := a.stdin.ReadString('\n')
	return strings.EqualFold(strings.TrimSpace(line), "y")
}

// list is AdminClientService.listAcls: the ACLs of the resources named (every ACL when none
// is), grouped by resource, or for each --principal only that principal's.
func (a *aclCommand) list() error {
	filters, err := a.resourceFilters(false)
	if err != nil {
		return err
	}
	var reqs []*kmsg.DescribeACLsRequest
	if len(filters) == 0 {
		r := kmsg.NewPtrDescribeACLsRequest()
		r.ResourceType, r.ResourcePatternType = kmsg.ACLResourceTypeAny, kmsg.ACLResourcePatternTypeAny
		r.Operation, r.PermissionType = kmsg.ACLOperationAny, kmsg.ACLPermissionTypeAny
		reqs = append(reqs, r)
	}
	for _, f := range filters {
		r := kmsg.NewPtrDescribeACLsRequest()
		r.ResourceType, r.ResourceName, r.ResourcePatternType = f.typ, f.name, f.pt
		r.Operation, r.PermissionType = kmsg.ACLOperationAny, kmsg.ACLPermissionTypeAny
		reqs = append(reqs, r)
	}
	var groups []aclGroup
	index := map[string]int{}
	for _, r := range reqs {
		ctx, cancel := reqCtx()
		resp, err := r.RequestWith(ctx, a.cl)
		cancel()
		if err != nil {
			return rootCause(err)
		}
		if err := kerr.ErrorForCode(resp.ErrorCode); err != nil {
			return aclAPIError(err, resp.ErrorMessage)
		}
		for _, res := range resp.Resources {
			name := res.ResourceName
			f := aclFilter{typ: res.ResourceType, name: &name, pt: res.ResourcePatternType}
			k := f.patternString()
			i, ok := index[k]
			if !ok {
				i = len(groups)
				index[k] = i
				groups = append(groups, aclGroup{f: f})
			}
			for _, e := range res.ACLs {
				groups[i].add(aclEntry{principal: e.Principal, host: e.Host, op: e.Operation, perm: e.PermissionType})
			}
		}
	}
	print := func(gs []aclGroup) {
		for _, g := range gs {
			fmt.Fprintf(a.stdout, "Current ACLs for resource `%s`: \n%s\n\n", g.f.patternString(), entryLines(g.entries))
		}
	}
	principals := a.fs.byName["principal"]
	if !principals.given {
		print(groups)
		return nil
	}
	for _, p := range principals.all() {
		p = strings.TrimSpace(p)
		fmt.Fprintf(a.stdout, "ACLs for principal `%s`\n", p)
		var mine []aclGroup
		for _, g := range groups {
			var es []aclEntry
			for _, e := range g.entries {
				if e.principal == p {
					es = append(es, e)
				}
			}
			if len(es) > 0 {
				mine = append(mine, aclGroup{f: g.f, entries: es})
			}
		}
		print(mine)
	}
	return nil
}

// aclAPIError names a refusal as the Java admin client's exception would.
func aclAPIError(err error, msg *string) error {
	var ke *kerr.Error
	if errors.As(err, &ke) && msg != nil && *msg != "" {
		return fmt.Errorf("%s: %s", ke.Message, *msg)
	}
	if errors.As(err, &ke) {
		return fmt.Errorf("%s: %s", ke.Message, ke.Description)
	}
	return err
}
