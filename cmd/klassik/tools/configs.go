package tools

import (
	"context"
	"errors"
	"fmt"
	"io"
	"sort"
	"strconv"
	"strings"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kgo"
	"github.com/twmb/franz-go/pkg/kmsg"
)

// configs mirrors kafka-configs.sh (Kafka's ConfigCommand) for topics and brokers:
// --describe prints the dynamic (or, with --all, every) config with its synonyms, and --alter
// applies --add-config/--delete-config through IncrementalAlterConfigs (KIP-339). Client
// quotas (--entity-type clients|users) are in configs_quotas.go.

func configsFlags() *flagSet {
	fs := newFlagSet("configs", "Add, remove, or describe configs for a topic, broker, client id or user (kafka-configs.sh).")
	adminFlags(fs, "REQUIRED: The Kafka server to connect to.")
	fs.Value("zookeeper", "urls", "", "DEPRECATED. The ZooKeeper connection string (host:port,host:port/chroot): klassik takes it only to alter or describe users' SCRAM credentials, the way to create the brokers' own SCRAM users before any broker runs. Not allowed otherwise.")
	fs.Value("entity-type", "String", "", "Type of entity (topics/clients/users/brokers); users and clients may be given together for the quotas of one user's client id (repeatable).")
	fs.Value("entity-name", "String", "", "Name of entity (topic name/client id/user principal name/broker id) (repeatable, one per --entity-type).")
	fs.Bool("entity-default", "Default entity name for clients/users/brokers (applies to corresponding entity type in command line).")
	fs.Value("topic", "String", "", "The topic's name; the same as --entity-type topics --entity-name <topic>.")
	fs.Value("client", "String", "", "The client's ID; the same as --entity-type clients --entity-name <client>.")
	fs.Bool("client-defaults", "The config defaults for all clients.")
	fs.Value("user", "String", "", "The user's principal name; the same as --entity-type users --entity-name <user>.")
	fs.Bool("user-defaults", "The config defaults for all users.")
	fs.Value("broker", "String", "", "The broker's ID; the same as --entity-type brokers --entity-name <broker>.")
	fs.Bool("broker-defaults", "The config defaults for all brokers; the same as --entity-type brokers --entity-default.")
	fs.Bool("describe", "List configs for the given entity.")
	fs.Bool("alter", "Alter the configuration for the entity.")
	fs.Bool("all", "List all configs for the given topic or broker, including those that are not dynamic.")
	fs.Value("add-config", "String", "", "Key Value pairs of configs to add. Square brackets can be used to group values which contain commas: 'k1=v1,k2=[v1,v2,v2],k3=v3' (repeatable). For clients and users: producer_byte_rate, consumer_byte_rate, request_percentage.")
	fs.Value("add-config-file", "String", "", "Path to a properties file with configs to add.")
	fs.Value("delete-config", "String", "", "Config keys to remove: 'k1,k2' (repeatable).")
	return fs
}

// configTarget is the entity a configs command acts on.
type configTarget struct {
	kind        string // "topics" or "brokers"
	name        string // topic name or broker id; "" for all topics or the broker default
	isDefault   bool
	explicitAll bool // no name given for topics: every topic
}

func parseConfigTarget(fs *flagSet) (configTarget, error) {
	var t configTarget
	kind := fs.byName["entity-type"].str()
	name := fs.byName["entity-name"].str()
	switch {
	case fs.byName["topic"].given:
		kind, name = "topics", fs.byName["topic"].str()
	case fs.byName["broker"].given:
		kind, name = "brokers", fs.byName["broker"].str()
	case fs.byName["broker-defaults"].given:
		kind = "brokers"
		t.isDefault = true
	}
	switch kind {
	case "topics", "brokers":
	case "":
		return t, usageErrorf("At least one entity type must be specified")
	case "ips", "broker-loggers", "client-metrics":
		return t, fmt.Errorf("Entity type %s is not supported by klassik; use topics, clients, users or brokers", kind)
	default:
		return t, usageErrorf("Invalid entity type %s, the entity type must be one of topics, clients, users, brokers", kind)
	}
	t.kind, t.name = kind, name
	if fs.byName["entity-default"].given {
		if kind != "brokers" {
			return t, usageErrorf("--entity-default is only supported for brokers in klassik")
		}
		t.isDefault = true
	}
	if kind == "brokers" && name != "" {
		if _, err := strconv.ParseInt(name, 10, 32); err != nil {
			return t, fmt.Errorf("The entity name for brokers must be a valid integer broker id, but it is: %s", name)
		}
	}
	if t.name == "" && !t.isDefault && kind == "topics" {
		t.explicitAll = true
	}
	return t, nil
}

// splitConfigList splits "k1=v1,k2=[a,b],k3=v3" at the commas outside square brackets.
func splitConfigList(s string) []string {
	var out []string
	depth, start := 0, 0
	for i, c := range s {
		switch c {
		case '[':
			depth++
		case ']':
			if depth > 0 {
				depth--
			}
		case ',':
			if depth == 0 {
				out = append(out, s[start:i])
				start = i + 1
			}
		}
	}
	out = append(out, s[start:])
	var trimmed []string
	for _, p := range out {
		if p = strings.TrimSpace(p); p != "" {
			trimmed = append(trimmed, p)
		}
	}
	return trimmed
}

// parseAddConfig reads --add-config values into an ordered list of key/value pairs; a value in
// square brackets loses the brackets ("[a,b]" is the list "a,b").
func parseAddConfig(vals []string) ([][2]string, error) {
	var out [][2]string
	for _, v := range vals {
		for _, kv := range splitConfigList(v) {
			k, val, ok := strings.Cut(kv, "=")
			if !ok || strings.TrimSpace(k) == "" {
				return nil, fmt.Errorf("Invalid entity config: all configs to be added must be in the format \"key=val\" (got %q)", kv)
			}
			val = strings.TrimSpace(val)
			if strings.HasPrefix(val, "[") && strings.HasSuffix(val, "]") {
				val = val[1 : len(val)-1]
			}
			out = append(out, [2]string{strings.TrimSpace(k), val})
		}
	}
	return out, nil
}

// sourceName is Kafka's ConfigEntry.ConfigSource name.
func sourceName(s kmsg.ConfigSource) string {
	switch s {
	case 1:
		return "DYNAMIC_TOPIC_CONFIG"
	case 2:
		return "DYNAMIC_BROKER_CONFIG"
	case 3:
		return "DYNAMIC_DEFAULT_BROKER_CONFIG"
	case 4:
		return "STATIC_BROKER_CONFIG"
	case 5:
		return "DEFAULT_CONFIG"
	case 6:
		return "DYNAMIC_BROKER_LOGGER_CONFIG"
	case 7:
		return "CLIENT_METRICS_CONFIG"
	}
	return "UNKNOWN"
}

func strOrNull(p *string) string {
	if p == nil {
		return "null"
	}
	return *p
}

// writeConfigEntry prints one config line as ConfigCommand does.
func writeConfigEntry(w io.Writer, c kadm.Config) {
	syn := make([]string, len(c.Synonyms))
	for i, s := range c.Synonyms {
		syn[i] = fmt.Sprintf("%s:%s=%s", sourceName(s.Source), s.Key, strOrNull(s.Value))
	}
	fmt.Fprintf(w, "  %s=%s sensitive=%t synonyms={%s}\n", c.Key, strOrNull(c.Value), c.Sensitive, strings.Join(syn, ", "))
}

// describeHeader is the line ConfigCommand prints before an entity's configs.
func describeHeader(t configTarget, name string, all bool) string {
	if t.kind == "brokers" && name == "" {
		return "Default configs for brokers in the cluster are:"
	}
	src := "Dynamic"
	if all {
		src = "All"
	}
	return fmt.Sprintf("%s configs for %s %s are:", src, strings.TrimSuffix(t.kind, "s"), name)
}

// shown reports whether describe lists a config: with --all every one, otherwise only those
// set dynamically on this entity.
func shown(t configTarget, name string, c kadm.Config, all bool) bool {
	if all {
		return true
	}
	switch {
	case t.kind == "topics":
		return c.Source == kmsg.ConfigSourceDynamicTopicConfig
	case name == "":
		return c.Source == kmsg.ConfigSourceDynamicDefaultBrokerConfig
	default:
		return c.Source == kmsg.ConfigSourceDynamicBrokerConfig
	}
}

func runConfigs(args []string, stdin io.Reader, stdout, stderr io.Writer) int {
	fs := configsFlags()
	return run(fs, args, stdout, stderr, func() error {
		action, err := fs.exactlyOne("describe", "alter")
		if err != nil {
			return usageErrorf("Command must include exactly one action: --describe, --alter")
		}
		zkConnect := fs.byName["zookeeper"].str()
		var bootstrap string
		switch {
		case zkConnect != "" && fs.byName["bootstrap-server"].given:
			return usageErrorf("Only one of --bootstrap-server or --zookeeper must be specified")
		case zkConnect == "":
			b, err := adminBootstrap(fs, stderr)
			if err != nil {
				return err
			}
			bootstrap = b
		}
		qt, quotas, err := parseQuotaTarget(fs) // --entity-type clients|users
		if err != nil {
			return err
		}
		var t configTarget
		if !quotas {
			if t, err = parseConfigTarget(fs); err != nil {
				return err
			}
		}
		var adds [][2]string
		var dels []string
		if action == "alter" {
			if t.explicitAll {
				return usageErrorf("An entity name must be specified with --alter of topics")
			}
			if t.kind == "brokers" && t.name == "" && !t.isDefault {
				return usageErrorf("An entity name must be specified with --alter of brokers, or --entity-default")
			}
			adds, err = parseAddConfig(fs.byName["add-config"].all())
			if err != nil {
				return err
			}
			if f := fs.byName["add-config-file"].str(); f != "" {
				m, err := loadConfigFile(f)
				if err != nil {
					return err
				}
				keys := make([]string, 0, len(m))
				for k := range m {
					keys = append(keys, k)
				}
				sort.Strings(keys)
				for _, k := range keys {
					adds = append(adds, [2]string{k, m[k]})
				}
			}
			for _, d := range fs.byName["delete-config"].all() {
				for _, k := range strings.Split(d, ",") {
					if k = strings.TrimSpace(k); k != "" {
						dels = append(dels, k)
					}
				}
			}
			if len(adds) == 0 && len(dels) == 0 {
				return usageErrorf("At least one of --add-config, --add-config-file, or --delete-config must be specified with --alter")
			}
			for _, a := range adds {
				for _, d := range dels {
					if a[0] == d {
						return fmt.Errorf("Invalid config(s): %s (it is both added and deleted)", d)
					}
				}
			}
		} else if fs.byName["add-config"].given || fs.byName["delete-config"].given {
			return usageErrorf("Option \"[add-config]\" and \"[delete-config]\" can only be used with --alter")
		}
		if zkConnect != "" {
			if !quotas {
				return usageErrorf("klassik supports --zookeeper only for users' SCRAM credentials (--entity-type users); use --bootstrap-server")
			}
			return runScramWithZooKeeper(zkConnect, qt, action, adds, dels, stdout)
		}
		if quotas {
			return runQuotaConfigs(qt, action, bootstrap, fs.clientOpts, adds, dels, args, stdout)
		}
		return withAdmin(bootstrap, fs.clientOpts, func(ctx context.Context, _ *kgo.Client, adm *kadm.Client) error {
			var err error
			if action == "describe" {
				err = describeConfigs(ctx, adm, t, fs.byName["all"].given, stdout)
			} else {
				err = alterConfigs(ctx, adm, t, adds, dels, stdout)
			}
			if err != nil {
				return fmt.Errorf("Error while executing config command with args '%s'\n%v", strings.Join(args, " "), err)
			}
			return nil
		})
	})
}

func describeConfigs(ctx context.Context, adm *kadm.Client, t configTarget, all bool, stdout io.Writer) error {
	var rcs kadm.ResourceConfigs
	var names []string
	var err error
	if t.kind == "topics" {
		names = []string{t.name}
		if t.explicitAll {
			tds, err := adm.ListTopics(ctx)
			if err != nil {
				return rootCause(err)
			}
			names = tds.Names()
		}
		if len(names) == 0 {
			return nil
		}
		rcs, err = adm.DescribeTopicConfigs(ctx, names...)
	} else {
		var ids []int32
		if t.name != "" {
			n, _ := strconv.ParseInt(t.name, 10, 32)
			ids = append(ids, int32(n))
		}
		names = []string{t.name}
		rcs, err = adm.DescribeBrokerConfigs(ctx, ids...)
	}
	if err != nil && len(rcs) == 0 {
		return rootCause(err)
	}
	for _, name := range names {
		rc, err := rcs.On(name, nil)
		if err != nil {
			return fmt.Errorf("no configs were returned for %s %s", strings.TrimSuffix(t.kind, "s"), name)
		}
		if rc.Err != nil {
			msg := kafkaErr(rc.Err, &rc.ErrMessage)
			if t.kind == "topics" && strings.Contains(rc.Err.Error(), "UNKNOWN_TOPIC_OR_PARTITION") {
				msg = fmt.Sprintf("The topic '%s' does not exist.", name)
			}
			return errors.New(msg)
		}
		fmt.Fprintln(stdout, describeHeader(t, name, all))
		for _, c := range rc.Configs {
			if shown(t, name, c, all) {
				writeConfigEntry(stdout, c)
			}
		}
	}
	return nil
}

func alterConfigs(ctx context.Context, adm *kadm.Client, t configTarget, adds [][2]string, dels []string, stdout io.Writer) error {
	var acs []kadm.AlterConfig
	for _, a := range adds {
		v := a[1]
		acs = append(acs, kadm.AlterConfig{Op: kadm.SetConfig, Name: a[0], Value: &v})
	}
	for _, d := range dels {
		acs = append(acs, kadm.AlterConfig{Op: kadm.DeleteConfig, Name: d})
	}
	var resps kadm.AlterConfigsResponses
	var err error
	if t.kind == "topics" {
		resps, err = adm.AlterTopicConfigs(ctx, acs, t.name)
	} else if t.isDefault || t.name == "" {
		resps, err = adm.AlterBrokerConfigs(ctx, acs)
	} else {
		n, _ := strconv.ParseInt(t.name, 10, 32)
		resps, err = adm.AlterBrokerConfigs(ctx, acs, int32(n))
	}
	if err != nil && len(resps) == 0 {
		return rootCause(err)
	}
	for _, r := range resps {
		if r.Err != nil {
			msg := kafkaErr(r.Err, &r.ErrMessage)
			if t.kind == "topics" && strings.Contains(r.Err.Error(), "UNKNOWN_TOPIC_OR_PARTITION") {
				msg = fmt.Sprintf("The topic '%s' does not exist.", t.name)
			}
			return errors.New(msg)
		}
	}
	switch {
	case t.kind == "topics":
		fmt.Fprintf(stdout, "Completed updating config for topic %s.\n", t.name)
	case t.isDefault || t.name == "":
		fmt.Fprintln(stdout, "Completed updating default config for brokers in the cluster.")
	default:
		fmt.Fprintf(stdout, "Completed updating config for broker %s.\n", t.name)
	}
	return nil
}
