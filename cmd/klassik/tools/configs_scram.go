package tools

import (
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"io"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/klassik/klassik/broker/quota"
	"github.com/klassik/klassik/security"
	"github.com/klassik/klassik/zkclient"
	"github.com/rs/zerolog"
	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kgo"
	"github.com/twmb/franz-go/pkg/kmsg"
)

// Users' SCRAM credentials with kafka-configs.sh (Kafka 3.6's ConfigCommand):
//
//	klassik configs --bootstrap-server B --alter --entity-type users --entity-name alice \
//	    --add-config 'SCRAM-SHA-256=[iterations=8192,password=alice-secret]'
//
// sends AlterUserScramCredentials (KIP-554) with a fresh salt and the salted password (the
// password never leaves the tool); --describe lists, after the user's quotas, its mechanisms
// and iterations (DescribeUserScramCredentials). With --zookeeper instead (deprecated in Kafka,
// kept for exactly this), the tool writes the credential into /config/users/<user> itself:
// Kafka's way to create the brokers' own SCRAM users before any broker runs.

// defaultScramIterations is ConfigCommand's DefaultScramIterations.
const defaultScramIterations = 4096

var scramValue = regexp.MustCompile(`^(?:iterations=(-?[0-9]*),)?password=(.*)$`)

// parseScramValue reads "iterations=N,password=P" (iterations optional; -1 is the default).
func parseScramValue(m *security.ScramMechanism, v string) (int, []byte, error) {
	g := scramValue.FindStringSubmatch(v)
	if g == nil {
		return 0, nil, fmt.Errorf("Invalid credential property %s=%s", m.Name, "[hidden]")
	}
	it := defaultScramIterations
	if g[1] != "" && g[1] != "-1" {
		n, err := strconv.Atoi(g[1])
		if err != nil {
			return 0, nil, fmt.Errorf("Invalid credential property %s: iterations %q is not a number", m.Name, g[1])
		}
		it = n
	}
	if it < m.MinIterations {
		return 0, nil, fmt.Errorf("Iterations %d is less than the minimum %d required for %s", it, m.MinIterations, m.Name)
	}
	return it, []byte(g[2]), nil
}

// alterUserScram is ConfigCommand.alterUserScramCredentialConfigs.
func alterUserScram(ctx context.Context, cl *kgo.Client, user string, adds [][2]string, dels []string) error {
	req := kmsg.NewPtrAlterUserSCRAMCredentialsRequest()
	for _, d := range dels {
		del := kmsg.NewAlterUserSCRAMCredentialsRequestDeletion()
		del.Name, del.Mechanism = user, security.ScramMechanismNamed(d).Type
		req.Deletions = append(req.Deletions, del)
	}
	for _, a := range adds {
		m := security.ScramMechanismNamed(a[0])
		it, pw, err := parseScramValue(m, a[1])
		if err != nil {
			return usageError{err.Error()}
		}
		salt := make([]byte, 32)
		if _, err := rand.Read(salt); err != nil {
			return err
		}
		salted, err := m.SaltedPassword(pw, salt, it)
		if err != nil {
			return err
		}
		up := kmsg.NewAlterUserSCRAMCredentialsRequestUpsertion()
		up.Name, up.Mechanism, up.Iterations, up.Salt, up.SaltedPassword = user, m.Type, int32(it), salt, salted
		req.Upsertions = append(req.Upsertions, up)
	}
	resp, err := req.RequestWith(ctx, cl)
	if err != nil {
		return rootCause(err)
	}
	for _, r := range resp.Results {
		if err := kerr.ErrorForCode(r.ErrorCode); err != nil {
			return errors.New(javaError(err, r.ErrorMessage))
		}
	}
	return nil
}

// describeUserScram prints ConfigCommand's "SCRAM credential configs for user-principal 'u'
// are SCRAM-SHA-256=iterations=4096" lines; users without credentials are left out, as the
// admin client's users() leaves them out.
func describeUserScram(ctx context.Context, cl *kgo.Client, users []string, stdout io.Writer) error {
	req := kmsg.NewPtrDescribeUserSCRAMCredentialsRequest()
	for _, u := range users {
		ru := kmsg.NewDescribeUserSCRAMCredentialsRequestUser()
		ru.Name = u
		req.Users = append(req.Users, ru)
	}
	resp, err := req.RequestWith(ctx, cl)
	if err != nil {
		return rootCause(err)
	}
	if err := kerr.ErrorForCode(resp.ErrorCode); err != nil {
		return errors.New(javaError(err, resp.ErrorMessage))
	}
	for _, r := range resp.Results {
		if r.ErrorCode == kerr.ResourceNotFound.Code {
			continue
		}
		if err := kerr.ErrorForCode(r.ErrorCode); err != nil {
			cls := javaException(err)
			fmt.Fprintf(stdout, "Error retrieving SCRAM credential configs for user-principal '%s': %s: %s\n", r.User, cls[strings.LastIndexByte(cls, '.')+1:], kafkaErr(err, r.ErrorMessage))
			continue
		}
		var parts []string
		for _, ci := range r.CredentialInfos {
			name := "UNKNOWN"
			if m := security.ScramMechanismOfType(ci.Mechanism); m != nil {
				name = m.Name
			}
			parts = append(parts, fmt.Sprintf("%s=iterations=%d", name, ci.Iterations))
		}
		fmt.Fprintf(stdout, "SCRAM credential configs for user-principal '%s' are %s\n", r.User, strings.Join(parts, ", "))
	}
	return nil
}

// runScramWithZooKeeper is ConfigCommand.processCommandWithZk for users: --alter writes SCRAM
// credentials (and only those) into /config/users/<user> with a change notification;
// --describe prints the user's stored configs.
func runScramWithZooKeeper(connect string, t quotaTarget, action string, adds [][2]string, dels []string, stdout io.Writer) error {
	fmt.Fprintln(stdout, "Warning: --zookeeper is deprecated and will be removed in a future version of Kafka.")
	fmt.Fprintln(stdout, "Use --bootstrap-server instead to specify a broker to connect to.")
	if len(t.types) != 1 || t.types[0] != "users" {
		return usageErrorf("klassik supports --zookeeper only for users' SCRAM credentials (--entity-type users); use --bootstrap-server for %s", strings.Join(t.types, " and "))
	}
	var unknown []string
	for _, a := range adds {
		if !isScram(a[0]) {
			unknown = append(unknown, a[0]+"="+a[1])
		}
	}
	for _, d := range dels {
		if !isScram(d) {
			unknown = append(unknown, d)
		}
	}
	if action == "alter" && len(unknown) > 0 {
		shown := make([]string, 0, len(adds))
		for _, a := range adds {
			v := a[1]
			if isScram(a[0]) {
				v = "[hidden]"
			}
			shown = append(shown, a[0]+"="+v)
		}
		return fmt.Errorf("requirement failed: --bootstrap-server option must be specified to update users configs: {add: {%s}, delete: List(%s)}. User configuration updates using ZooKeeper are only supported for SCRAM credential updates.",
			strings.Join(shown, ", "), strings.Join(dels, ", "))
	}
	zk, err := zkclient.Connect(connect, 30*time.Second, 30*time.Second, zerolog.Nop())
	if err != nil {
		return fmt.Errorf("connecting to ZooKeeper at %s: %v", connect, err)
	}
	defer zk.Close()

	if action == "describe" {
		names := t.names
		if len(names) == 0 {
			all, err := zk.EntityNames("users")
			if err != nil {
				return err
			}
			for _, n := range all {
				if u, err := quota.Desanitize(n); err == nil {
					names = append(names, u)
				}
			}
		}
		for _, u := range names {
			props, err := zk.EntityConfig("users", zkUserName(u))
			if err != nil {
				return err
			}
			if len(props) == 0 && len(t.names) == 0 {
				continue // Kafka leaves out users whose znode holds only client quotas
			}
			keys := make([]string, 0, len(props))
			for k := range props {
				keys = append(keys, k)
			}
			sort.Strings(keys)
			kv := make([]string, len(keys))
			for i, k := range keys {
				kv[i] = k + "=" + props[k]
			}
			fmt.Fprintf(stdout, "Configs for %s are %s\n", userEntity(u), strings.Join(kv, ","))
		}
		return nil
	}

	if len(t.names) != 1 {
		return usageErrorf("--entity-name or --entity-default must be specified with each --entity-type for --alter")
	}
	user := t.names[0]
	props, err := zk.EntityConfig("users", zkUserName(user))
	if err != nil {
		return err
	}
	var invalid []string
	for _, d := range dels {
		if _, ok := props[d]; !ok {
			invalid = append(invalid, d)
		}
	}
	if len(invalid) > 0 {
		return fmt.Errorf("Invalid config(s): %s", strings.Join(invalid, ","))
	}
	for _, a := range adds {
		m := security.ScramMechanismNamed(a[0])
		it, pw, err := parseScramValue(m, a[1])
		if err != nil {
			return usageError{err.Error()}
		}
		cred, err := m.NewCredential(pw, it)
		if err != nil {
			return err
		}
		props[m.Name] = security.FormatCredential(cred)
	}
	for _, d := range dels {
		delete(props, d)
	}
	if err := zk.SetEntityConfig("users", zkUserName(user), props); err != nil {
		return err
	}
	fmt.Fprintf(stdout, "Completed updating config for entity: %s.\n", userEntity(user))
	return nil
}

// zkUserName is the znode name of a user: sanitized, <default> for the default.
func zkUserName(u string) string {
	if u == "" {
		return quota.DefaultEntityName
	}
	return quota.Sanitize(u)
}

// userEntity is ConfigCommand's Entity.toString for a user.
func userEntity(u string) string {
	if u == "" {
		return "default user-principal"
	}
	return "user-principal '" + u + "'"
}
