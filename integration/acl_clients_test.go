package integration

import (
	"bytes"
	"context"
	"errors"
	"os/exec"
	"strings"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kgo"
	"github.com/twmb/franz-go/pkg/kmsg"
)

// runToolResult runs an external program with a deadline and returns its output and exit
// error, for the runs that are meant to fail.
func runToolResult(t *testing.T, timeout time.Duration, stdin, name string, args ...string) (string, string, error) {
	t.Helper()
	if _, err := exec.LookPath(name); err != nil {
		t.Fatalf("%s not found (run scripts/install-deps.sh): %v", name, err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()
	cmd := exec.CommandContext(ctx, name, args...)
	cmd.Stdin = strings.NewReader(stdin)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	err := cmd.Run()
	if ctx.Err() != nil {
		err = errors.Join(err, ctx.Err())
	}
	return stdout.String(), stderr.String(), err
}

// TestACLKcat: librdkafka (kcat) from the brokers' host, which the bootstrap ACLs allow
// everything, is refused by a Deny on one topic (deny over allow) with Kafka's "Topic
// authorization failed", producing and consuming, and served again once the Deny is removed.
func TestACLKcat(t *testing.T) {
	c := aclCluster(t, 1)
	topic := topicName(t, "acl-kcat")
	c.CreateTopic(t, topic, 1, 1, nil)
	b := c.BootstrapServers()
	denyWrite := acl{kmsg.ACLResourceTypeTopic, topic, kmsg.ACLResourcePatternTypeLiteral, anonymous, brokerHost, kmsg.ACLOperationWrite, kmsg.ACLPermissionTypeDeny}
	denyRead := denyWrite
	denyRead.op = kmsg.ACLOperationRead

	changeACLs(t, c, true, denyWrite)
	_, stderr, err := runToolResult(t, 60*time.Second, "refused\n", "kcat", "-b", b, "-t", topic, "-P", "-X", "message.timeout.ms=10000")
	if err == nil || !strings.Contains(strings.ToLower(stderr), "authorization failed") {
		t.Fatalf("kcat -P against a Deny of Write: %v\n%s", err, stderr)
	}
	changeACLs(t, c, false, denyWrite)
	runTool(t, 60*time.Second, "one\ntwo\nthree\n", "kcat", "-b", b, "-t", topic, "-P", "-X", "request.required.acks=all")

	changeACLs(t, c, true, denyRead)
	_, stderr, err = runToolResult(t, 60*time.Second, "", "kcat", "-b", b, "-t", topic, "-C", "-o", "beginning", "-e", "-q")
	if err == nil || !strings.Contains(strings.ToLower(stderr), "authorization failed") {
		t.Fatalf("kcat -C against a Deny of Read: %v\n%s", err, stderr)
	}
	changeACLs(t, c, false, denyRead)
	if out := runTool(t, 60*time.Second, "", "kcat", "-b", b, "-t", topic, "-C", "-o", "beginning", "-e", "-q"); out != "one\ntwo\nthree\n" {
		t.Errorf("kcat -C after the Deny was removed: %q", out)
	}
}

// TestACLTool: klassik acls takes kafka-acls.sh's flags and prints what AclCommand prints,
// and what it adds is what the brokers enforce.
func TestACLTool(t *testing.T) {
	c := aclCluster(t, 1)
	b := c.BootstrapServers()
	topic := topicName(t, "acl-tool")
	c.CreateTopic(t, topic, 1, 1, nil)
	acls := func(stdin string, args ...string) string {
		return runTool(t, 60*time.Second, stdin, klassikBin, append([]string{"acls", "--bootstrap-server", b}, args...)...)
	}
	pattern := "ResourcePattern(resourceType=TOPIC, name=" + topic + ", patternType=LITERAL)"

	out := acls("", "--add", "--allow-principal", anonymous, "--allow-host", clientHost, "--operation", "Read", "--operation", "Describe", "--topic", topic)
	entries := " \t(principal=User:ANONYMOUS, host=127.0.0.2, operation=READ, permissionType=ALLOW)\n" +
		"\t(principal=User:ANONYMOUS, host=127.0.0.2, operation=DESCRIBE, permissionType=ALLOW) \n\n"
	if want := "Adding ACLs for resource `" + pattern + "`: \n" + entries + "Current ACLs for resource `" + pattern + "`: \n" + entries; out != want {
		t.Errorf("--add printed:\n%q\nwant\n%q", out, want)
	}
	// Enforced: the client host may now read the topic.
	eventually(t, 20*time.Second, func() error {
		if code := topicCode(metadataFrom(t, c.Broker(1).Addr(), clientHost, topic), topic); code != 0 {
			return kerr.ErrorForCode(code)
		}
		return nil
	})

	// --producer and --consumer, with a prefixed pattern.
	out = acls("", "--add", "--allow-principal", "User:alice", "--producer", "--topic", "acl-pay", "--transactional-id", "acl-tx", "--resource-pattern-type", "prefixed")
	for _, want := range []string{
		"Adding ACLs for resource `ResourcePattern(resourceType=TOPIC, name=acl-pay, patternType=PREFIXED)`: \n \t(principal=User:alice, host=*, operation=WRITE, permissionType=ALLOW)\n\t(principal=User:alice, host=*, operation=DESCRIBE, permissionType=ALLOW)\n\t(principal=User:alice, host=*, operation=CREATE, permissionType=ALLOW) \n\n",
		"Adding ACLs for resource `ResourcePattern(resourceType=TRANSACTIONAL_ID, name=acl-tx, patternType=PREFIXED)`: \n \t(principal=User:alice, host=*, operation=WRITE, permissionType=ALLOW)\n\t(principal=User:alice, host=*, operation=DESCRIBE, permissionType=ALLOW) \n\n",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("--producer printed:\n%s\nwant it to contain\n%s", out, want)
		}
	}
	out = acls("", "--add", "--allow-principal", "User:bob", "--consumer", "--topic", topic, "--group", "acl-readers")
	if !strings.Contains(out, "Adding ACLs for resource `ResourcePattern(resourceType=GROUP, name=acl-readers, patternType=LITERAL)`: \n \t(principal=User:bob, host=*, operation=READ, permissionType=ALLOW) \n\n") {
		t.Errorf("--consumer printed:\n%s", out)
	}

	// --list with match: the literal topic's ACLs, and those of the wildcard that apply to it.
	out = acls("", "--list", "--topic", topic, "--resource-pattern-type", "match")
	for _, want := range []string{
		"Current ACLs for resource `ResourcePattern(resourceType=TOPIC, name=*, patternType=LITERAL)`: \n \t(principal=User:ANONYMOUS, host=127.0.0.1, operation=ALL, permissionType=ALLOW) \n\n",
		"Current ACLs for resource `" + pattern + "`: \n",
		"(principal=User:bob, host=*, operation=READ, permissionType=ALLOW)",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("--list --resource-pattern-type match printed:\n%s\nwant it to contain\n%s", out, want)
		}
	}
	out = acls("", "--list", "--principal", "User:alice")
	if !strings.HasPrefix(out, "ACLs for principal `User:alice`\n") || strings.Contains(out, "User:bob") || !strings.Contains(out, "acl-pay") {
		t.Errorf("--list --principal User:alice printed:\n%s", out)
	}

	// --remove asks first; "n" keeps, --force removes without asking.
	out = acls("n\n", "--remove", "--allow-principal", "User:bob", "--operation", "Read", "--topic", topic)
	if !strings.HasPrefix(out, "Are you sure you want to remove ACLs: \n \t(principal=User:bob, host=*, operation=READ, permissionType=ALLOW) \n from resource filter `"+pattern+"`? (y/n)\n") ||
		!strings.Contains(out, "User:bob") {
		t.Errorf("--remove answered n printed:\n%s", out)
	}
	out = acls("", "--remove", "--topic", topic, "--force")
	if strings.Contains(out, "Current ACLs for resource `"+pattern) {
		t.Errorf("--remove --force of every ACL of the topic left some:\n%s", out)
	}
	eventually(t, 20*time.Second, func() error {
		if code := topicCode(metadataFrom(t, c.Broker(1).Addr(), clientHost, topic), topic); code != kerr.TopicAuthorizationFailed.Code {
			return errors.New("the client host still describes the topic")
		}
		return nil
	})

	// Kafka's usage errors.
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"--add", "--list", "--topic", topic}, "Command must include exactly one action: --list, --add, --remove."},
		{[]string{"--add", "--topic", topic}, "You must specify one of: --allow-principal, --deny-principal when trying to add ACLs."},
		{[]string{"--add", "--allow-principal", "User:a", "--operation", "Read", "--cluster"}, "ResourceType CLUSTER only supports operations CREATE,CLUSTER_ACTION,DESCRIBE_CONFIGS,ALTER_CONFIGS,IDEMPOTENT_WRITE,ALTER,DESCRIBE,ALL"},
		{[]string{"--add", "--allow-principal", "User:a", "--topic", topic, "--resource-pattern-type", "match"}, "A '--resource-pattern-type' value of 'MATCH' is not valid when adding acls."},
		{[]string{"--list", "--producer", "--topic", topic}, `Option "[list]" can't be used with option "[producer]"`},
		{[]string{"--add", "--allow-principal", "User:a", "--consumer", "--topic", topic}, "With --consumer you must specify a --topic and a --group and no --cluster or --transactional-id option should be specified."},
	} {
		_, stderr, err := runToolResult(t, 60*time.Second, "", klassikBin, append([]string{"acls", "--bootstrap-server", b}, tc.args...)...)
		if err == nil || !strings.Contains(stderr, tc.want) {
			t.Errorf("klassik acls %s: %v, stderr %q, want %q", strings.Join(tc.args, " "), err, stderr, tc.want)
		}
	}
}

// TestACLSuperUsersAndAllowEveryone: super.users are allowed everything whatever the ACLs
// (here User:ANONYMOUS, the way a PLAINTEXT cluster lets its brokers talk: every PLAINTEXT
// client is then a super user too), and allow.everyone.if.no.acl.found opens exactly the
// resources no ACL applies to.
func TestACLSuperUsersAndAllowEveryone(t *testing.T) {
	t.Run("super.users", func(t *testing.T) {
		c := NewCluster(t, BrokerConfig("authorizer.class.name", aclClass), BrokerConfig("super.users", "User:admin;"+anonymous))
		topic := topicName(t, "acl-super")
		c.CreateTopic(t, topic, 1, 1, nil)
		changeACLs(t, c, true, acl{kmsg.ACLResourceTypeTopic, topic, kmsg.ACLResourcePatternTypeLiteral, "User:*", "*", kmsg.ACLOperationAll, kmsg.ACLPermissionTypeDeny})
		cl := clientFrom(t, c, clientHost)
		if err := cl.ProduceSync(ctxT(t, 30*time.Second), &kgo.Record{Topic: topic, Value: []byte("super")}).FirstErr(); err != nil {
			t.Errorf("a super user was refused by a Deny: %v", err)
		}
	})
	t.Run("allow.everyone.if.no.acl.found", func(t *testing.T) {
		c := NewCluster(t, BrokerConfig("authorizer.class.name", aclClass), BrokerConfig("allow.everyone.if.no.acl.found", true))
		open, closed := topicName(t, "acl-open"), topicName(t, "acl-closed")
		c.CreateTopic(t, open, 1, 1, nil)
		c.CreateTopic(t, closed, 1, 1, nil)
		changeACLs(t, c, true, acl{kmsg.ACLResourceTypeTopic, closed, kmsg.ACLResourcePatternTypeLiteral, "User:bob", "*", kmsg.ACLOperationWrite, kmsg.ACLPermissionTypeAllow})
		cl := clientFrom(t, c, clientHost, kgo.DisableIdempotentWrite())
		if err := cl.ProduceSync(ctxT(t, 30*time.Second), &kgo.Record{Topic: open, Value: []byte("x")}).FirstErr(); err != nil {
			t.Errorf("produce to a topic without ACLs: %v", err)
		}
		err := cl.ProduceSync(ctxT(t, 30*time.Second), &kgo.Record{Topic: closed, Value: []byte("x")}).FirstErr()
		if !errors.Is(err, kerr.TopicAuthorizationFailed) {
			t.Errorf("produce to a topic with an ACL for someone else: %v, want TOPIC_AUTHORIZATION_FAILED", err)
		}
	})
}
