package tools

import (
	"strings"
	"testing"
)

// TestAclsArgs: AclCommandOptions.checkArgs' refusals, before any broker is asked.
func TestAclsArgs(t *testing.T) {
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"--list"}, `Missing required argument "[bootstrap-server]"`},
		{[]string{"--bootstrap-server", "b:1", "--topic", "t"}, "Command must include exactly one action: --list, --add, --remove. "},
		{[]string{"--bootstrap-server", "b:1", "--list", "--allow-principal", "User:a"}, `Option "[list]" can't be used with option "[allow-principal]"`},
		{[]string{"--bootstrap-server", "b:1", "--add", "--producer", "--operation", "Read", "--topic", "t"}, `Option "[producer]" can't be used with option "[operation]"`},
		{[]string{"--bootstrap-server", "b:1", "--add", "--producer"}, "With --producer you must specify a --topic"},
		{[]string{"--bootstrap-server", "b:1", "--add", "--idempotent", "--topic", "t"}, "The --idempotent option is only available if --producer is set"},
		{[]string{"--bootstrap-server", "b:1", "--add", "--principal", "User:a", "--topic", "t"}, "The --principal option is only available if --list is set"},
		{[]string{"--bootstrap-server", "b:1", "--add", "--consumer", "--topic", "t", "--group", "g", "--cluster"}, "With --consumer you must specify a --topic and a --group"},
		{[]string{"--authorizer-properties", "zookeeper.connect=z:2181", "--list"}, "use --bootstrap-server"},
		{[]string{"--bootstrap-server", "b:1", "--list", "--resource-pattern-type", "regex"}, "Unknown resource-pattern-type: regex"},
	} {
		code, _, stderr := runCmd(t, "acls", tc.args...)
		if code != 1 || !strings.Contains(stderr, tc.want) {
			t.Errorf("acls %s: exit %d, stderr %q, want %q", strings.Join(tc.args, " "), code, stderr, tc.want)
		}
	}
}

// TestAclsFromFlags: what --operation, --producer, --consumer and the hosts make of each
// resource (AclCommand.getResourceFilterToAcls), in the order the command line gives.
func TestAclsFromFlags(t *testing.T) {
	parse := func(args ...string) *aclCommand {
		fs := aclsFlags()
		if err := fs.parse(args); err != nil {
			t.Fatal(err)
		}
		pt, err := aclPatternType(fs.byName["resource-pattern-type"].str())
		if err != nil {
			t.Fatal(err)
		}
		return &aclCommand{fs: fs, pt: pt}
	}
	a := parse("--add", "--allow-principal", "User:a", "--allow-principal", "User:b", "--allow-host", "10.0.0.1",
		"--deny-principal", "User:c", "--operation", "Read", "--operation", "Write", "--topic", "t", "--topic", "u")
	groups, err := a.filterToAcls()
	if err != nil {
		t.Fatal(err)
	}
	if len(groups) != 2 || groups[0].f.patternString() != "ResourcePattern(resourceType=TOPIC, name=t, patternType=LITERAL)" ||
		groups[1].f.patternString() != "ResourcePattern(resourceType=TOPIC, name=u, patternType=LITERAL)" {
		t.Fatalf("resources %+v", groups)
	}
	// Read on a group is fine, Write is not: AclCommand.validateOperation.
	if _, err := parse("--add", "--allow-principal", "User:a", "--operation", "Write", "--group", "g").filterToAcls(); err == nil ||
		!strings.Contains(err.Error(), "ResourceType GROUP only supports operations READ,DESCRIBE,DELETE,ALL") {
		t.Errorf("Write on a group: %v", err)
	}
	got := entryLines(groups[0].entries)
	want := " \t(principal=User:a, host=10.0.0.1, operation=READ, permissionType=ALLOW)\n" +
		"\t(principal=User:a, host=10.0.0.1, operation=WRITE, permissionType=ALLOW)\n" +
		"\t(principal=User:b, host=10.0.0.1, operation=READ, permissionType=ALLOW)\n" +
		"\t(principal=User:b, host=10.0.0.1, operation=WRITE, permissionType=ALLOW)\n" +
		"\t(principal=User:c, host=*, operation=READ, permissionType=DENY)\n" +
		"\t(principal=User:c, host=*, operation=WRITE, permissionType=DENY) "
	if got != want {
		t.Errorf("entries:\n%q\nwant\n%q", got, want)
	}

	// --producer --consumer on one topic: the union; --idempotent adds the cluster.
	groups, err = parse("--add", "--allow-principal", "User:a", "--producer", "--consumer", "--idempotent", "--topic", "t", "--group", "g").filterToAcls()
	if err != nil {
		t.Fatal(err)
	}
	var summary []string
	for _, g := range groups {
		var opsOf []string
		for _, e := range g.entries {
			opsOf = append(opsOf, e.op.String())
		}
		summary = append(summary, g.f.typ.String()+":"+strings.Join(opsOf, ","))
	}
	if got, want := strings.Join(summary, " "), "TOPIC:WRITE,DESCRIBE,CREATE,READ CLUSTER:IDEMPOTENT_WRITE GROUP:READ"; got != want {
		t.Errorf("--producer --consumer --idempotent: %s, want %s", got, want)
	}

	// The cluster counts only with a literal pattern type (AclCommand.getResourceFilter).
	fs, err := parse("--list", "--cluster", "--resource-pattern-type", "any").resourceFilters(false)
	if err != nil || len(fs) != 0 {
		t.Errorf("--cluster with pattern type any: %v %v", fs, err)
	}
}
