package tools

import (
	"context"
	"encoding/base64"
	"errors"
	"fmt"
	"io"
	"regexp"
	"sort"
	"strconv"
	"strings"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kgo"
	"github.com/twmb/franz-go/pkg/kmsg"
)

// topics mirrors kafka-topics.sh (Kafka's TopicCommand): --create, --list, --describe, --alter
// and --delete against --bootstrap-server, with Kafka's output and error sentences.

type topicsOpts struct {
	bootstrap          string
	action             string
	topic              string
	partitions         int32 // -1: not given (broker default, KIP-464)
	replicationFactor  int16 // -1: not given
	configs            map[string]string
	assignment         [][]int32
	ifNotExists        bool
	ifExists           bool
	excludeInternal    bool
	underReplicated    bool
	unavailable        bool
	topicsWithOverride bool
}

func topicsFlags() *flagSet {
	fs := newFlagSet("topics", "Create, delete, describe, or change a topic (kafka-topics.sh).")
	adminFlags(fs, "REQUIRED: The Kafka server to connect to.")
	fs.Bool("create", "Create a new topic.")
	fs.Bool("list", "List all available topics.")
	fs.Bool("describe", "List details for the given topics.")
	fs.Bool("alter", "Alter the number of partitions and replica assignment.")
	fs.Bool("delete", "Delete a topic.")
	fs.Value("topic", "String: topic", "", "The topic to create, alter, describe or delete. It also accepts a regular expression, except for --create.")
	fs.Value("partitions", "Integer: # of partitions", "", "The number of partitions for the topic being created or altered. If not supplied for create, defaults to the cluster default.")
	fs.Value("replication-factor", "Integer: replication factor", "", "The replication factor for each partition in the topic being created. If not supplied, defaults to the cluster default.")
	fs.Value("config", "String: name=value", "", "A topic configuration override for the topic being created (repeatable).")
	fs.Value("replica-assignment", "String: broker_id_for_part1_replica1:broker_id_for_part1_replica2,...", "", "A list of manual partition-to-broker assignments for the topic being created or altered.")
	fs.Bool("if-not-exists", "If set when creating topics, the action will only execute if the topic does not already exist.")
	fs.Bool("if-exists", "If set when altering, deleting or describing topics, the action will only execute if the topic exists.")
	fs.Bool("exclude-internal", "Exclude internal topics when running list or describe command.")
	fs.Bool("under-replicated-partitions", "If set when describing topics, only show under replicated partitions.")
	fs.Bool("unavailable-partitions", "If set when describing topics, only show partitions whose leader is not available.")
	fs.Bool("topics-with-overrides", "If set when describing topics, only show topics that have overridden configs.")
	return fs
}

// parseTopicsOpts checks the command line the way TopicCommand does.
func parseTopicsOpts(fs *flagSet, stderr io.Writer) (*topicsOpts, error) {
	o := &topicsOpts{partitions: -1, replicationFactor: -1, configs: map[string]string{}}
	action, err := fs.exactlyOne("list", "describe", "create", "alter", "delete")
	if err != nil {
		return nil, usageErrorf("Command must include exactly one action: --list, --describe, --create, --alter or --delete")
	}
	o.action = action
	if o.bootstrap, err = adminBootstrap(fs, stderr); err != nil {
		return nil, err
	}
	o.topic = fs.byName["topic"].str()
	if (action == "create" || action == "alter" || action == "delete") && o.topic == "" {
		return nil, missing("topic")
	}
	if p := fs.byName["partitions"]; p.given {
		if action != "create" && action != "alter" {
			return nil, usageErrorf("Option \"[partitions]\" can't be used with option \"[%s]\"", action)
		}
		n, err := p.integer()
		if err != nil {
			return nil, err
		}
		if n < 1 {
			return nil, fmt.Errorf("The partitions must be greater than 0")
		}
		o.partitions = int32(n)
	} else if action == "alter" {
		return nil, usageErrorf("Missing required argument \"[partitions]\"")
	}
	if r := fs.byName["replication-factor"]; r.given {
		if action != "create" {
			return nil, usageErrorf("Option \"[replication-factor]\" can't be used with option \"[%s]\"", action)
		}
		n, err := r.integer()
		if err != nil {
			return nil, err
		}
		if n < 1 || n > 32767 {
			return nil, fmt.Errorf("The replication factor must be between 1 and 32767")
		}
		o.replicationFactor = int16(n)
	}
	if c := fs.byName["config"]; c.given {
		if action != "create" {
			return nil, usageErrorf("Option \"[config]\" can't be used with option \"[%s]\"; use 'klassik configs' to change configs", action)
		}
		for _, kv := range c.all() {
			k, v, ok := strings.Cut(kv, "=")
			if !ok || k == "" {
				return nil, fmt.Errorf("Invalid topic config: all configs to be added must be in the format \"key=val\" (got %q)", kv)
			}
			o.configs[strings.TrimSpace(k)] = strings.TrimSpace(v)
		}
	}
	if ra := fs.byName["replica-assignment"]; ra.given {
		if action != "create" {
			return nil, usageErrorf("Option \"[replica-assignment]\" is only supported with --create in klassik")
		}
		if fs.byName["partitions"].given || fs.byName["replication-factor"].given {
			return nil, usageErrorf("Option \"[replica-assignment]\" can't be used with option \"[partitions]\" or \"[replication-factor]\"")
		}
		a, err := parseReplicaAssignment(ra.str())
		if err != nil {
			return nil, err
		}
		o.assignment = a
	}
	o.ifNotExists = fs.byName["if-not-exists"].given
	o.ifExists = fs.byName["if-exists"].given
	if o.ifNotExists && action != "create" {
		return nil, usageErrorf("Option \"[if-not-exists]\" can only be used with option \"[create]\"")
	}
	o.excludeInternal = fs.byName["exclude-internal"].given
	o.underReplicated = fs.byName["under-replicated-partitions"].given
	o.unavailable = fs.byName["unavailable-partitions"].given
	o.topicsWithOverride = fs.byName["topics-with-overrides"].given
	if (o.underReplicated || o.unavailable || o.topicsWithOverride) && action != "describe" {
		return nil, usageErrorf("Options --under-replicated-partitions, --unavailable-partitions and --topics-with-overrides can only be used with --describe")
	}
	return o, nil
}

// parseReplicaAssignment reads "1:2,2:3" (partitions separated by commas, replicas by colons).
func parseReplicaAssignment(s string) ([][]int32, error) {
	var out [][]int32
	for i, part := range strings.Split(s, ",") {
		var replicas []int32
		seen := map[int32]bool{}
		for _, r := range strings.Split(part, ":") {
			n, err := strconv.ParseInt(strings.TrimSpace(r), 10, 32)
			if err != nil {
				return nil, fmt.Errorf("Invalid replica assignment %q: %q is not a broker id", s, r)
			}
			if seen[int32(n)] {
				return nil, fmt.Errorf("Partition replica lists may not contain duplicate entries: partition %d has %s", i, part)
			}
			seen[int32(n)] = true
			replicas = append(replicas, int32(n))
		}
		if len(out) > 0 && len(replicas) != len(out[0]) {
			return nil, fmt.Errorf("Partition %d has different replication factor: %s", i, part)
		}
		out = append(out, replicas)
	}
	return out, nil
}

func runTopics(args []string, stdin io.Reader, stdout, stderr io.Writer) int {
	fs := topicsFlags()
	return run(fs, args, stdout, stderr, func() error {
		o, err := parseTopicsOpts(fs, stderr)
		if err != nil {
			return err
		}
		return withAdmin(o.bootstrap, fs.clientOpts, func(ctx context.Context, cl *kgo.Client, adm *kadm.Client) error {
			var runErr error
			switch o.action {
			case "create":
				runErr = createTopic(ctx, cl, o, stdout)
			case "list":
				runErr = listTopics(ctx, adm, o, stdout)
			case "describe":
				runErr = describeTopics(ctx, adm, o, stdout)
			case "alter":
				runErr = alterTopic(ctx, adm, o)
			case "delete":
				runErr = deleteTopics(ctx, adm, o)
			}
			if runErr != nil {
				return fmt.Errorf("Error while executing topic command : %v", runErr)
			}
			return nil
		})
	})
}

func createTopic(ctx context.Context, cl *kgo.Client, o *topicsOpts, stdout io.Writer) error {
	req := kmsg.NewPtrCreateTopicsRequest()
	req.TimeoutMillis = int32(requestTimeout.Milliseconds())
	t := kmsg.NewCreateTopicsRequestTopic()
	t.Topic = o.topic
	t.NumPartitions = o.partitions
	t.ReplicationFactor = o.replicationFactor
	for i, replicas := range o.assignment {
		a := kmsg.NewCreateTopicsRequestTopicReplicaAssignment()
		a.Partition = int32(i)
		a.Replicas = replicas
		t.ReplicaAssignment = append(t.ReplicaAssignment, a)
	}
	keys := make([]string, 0, len(o.configs))
	for k := range o.configs {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		c := kmsg.NewCreateTopicsRequestTopicConfig()
		c.Name = k
		v := o.configs[k]
		c.Value = &v
		t.Configs = append(t.Configs, c)
	}
	req.Topics = append(req.Topics, t)
	resp, err := req.RequestWith(ctx, cl)
	if err != nil {
		return rootCause(err)
	}
	for _, rt := range resp.Topics {
		if err := kerr.ErrorForCode(rt.ErrorCode); err != nil {
			if errors.Is(err, kerr.TopicAlreadyExists) {
				if o.ifNotExists {
					return nil
				}
				return fmt.Errorf("Topic '%s' already exists.", o.topic)
			}
			return errors.New(kafkaErr(err, rt.ErrorMessage))
		}
	}
	fmt.Fprintf(stdout, "Created topic %s.\n", o.topic)
	return nil
}

// matchTopics selects the topics named by --topic, which, as in Kafka, may be a regular
// expression; a name that is not a valid expression is matched literally.
func matchTopics(all []string, pattern string) []string {
	if pattern == "" {
		return all
	}
	var out []string
	re, err := regexp.Compile("^(?:" + pattern + ")$")
	for _, t := range all {
		if t == pattern || (err == nil && re.MatchString(t)) {
			out = append(out, t)
		}
	}
	return out
}

// selectTopics lists the cluster's topics and applies --topic and --exclude-internal. A
// --topic that matches nothing is an error unless --if-exists was given.
func selectTopics(ctx context.Context, adm *kadm.Client, o *topicsOpts) (kadm.TopicDetails, []string, error) {
	tds, err := adm.ListTopicsWithInternal(ctx)
	if err != nil {
		return nil, nil, rootCause(err)
	}
	var names []string
	for _, n := range tds.Names() {
		if o.excludeInternal && tds[n].IsInternal {
			continue
		}
		names = append(names, n)
	}
	names = matchTopics(names, o.topic)
	if o.topic != "" && len(names) == 0 && !o.ifExists {
		return nil, nil, fmt.Errorf("Topic '%s' does not exist as expected", o.topic)
	}
	return tds, names, nil
}

func listTopics(ctx context.Context, adm *kadm.Client, o *topicsOpts, stdout io.Writer) error {
	_, names, err := selectTopics(ctx, adm, o)
	if err != nil {
		return err
	}
	for _, n := range names {
		fmt.Fprintln(stdout, n)
	}
	return nil
}

// partitionView is what describe prints for one partition.
type partitionView struct {
	Partition int32
	Leader    int32 // -1: none
	Replicas  []int32
	ISR       []int32
	Offline   []int32
}

// topicView is what describe prints for one topic.
type topicView struct {
	Name       string
	ID         [16]byte
	Partitions []partitionView
	Configs    []string // non-default configs as k=v
}

// kafkaUUID renders a topic id the way Kafka's Uuid.toString does: URL-safe base64 without
// padding.
func kafkaUUID(id [16]byte) string { return base64.RawURLEncoding.EncodeToString(id[:]) }

// writeTopicHeader prints TopicCommand's topic line.
func writeTopicHeader(w io.Writer, t topicView) {
	rf := 0
	if len(t.Partitions) > 0 {
		rf = len(t.Partitions[0].Replicas)
	}
	fmt.Fprintf(w, "Topic: %s", t.Name)
	if t.ID != [16]byte{} {
		fmt.Fprintf(w, "\tTopicId: %s", kafkaUUID(t.ID))
	}
	fmt.Fprintf(w, "\tPartitionCount: %d\tReplicationFactor: %d\tConfigs: %s\n", len(t.Partitions), rf, strings.Join(t.Configs, ","))
}

// writePartitionLine prints TopicCommand's partition line.
func writePartitionLine(w io.Writer, topic string, p partitionView) {
	leader := "none"
	if p.Leader >= 0 {
		leader = strconv.Itoa(int(p.Leader))
	}
	fmt.Fprintf(w, "\tTopic: %s\tPartition: %d\tLeader: %s\tReplicas: %s\tIsr: %s", topic, p.Partition, leader, joinInts(p.Replicas), joinInts(p.ISR))
	if len(p.Offline) > 0 {
		fmt.Fprintf(w, "\tOffline: %s", joinInts(p.Offline))
	}
	fmt.Fprintln(w)
}

func underReplicated(p partitionView) bool { return len(p.ISR) < len(p.Replicas) }

func unavailable(p partitionView, live map[int32]bool) bool {
	return p.Leader < 0 || (live != nil && !live[p.Leader])
}

// writeDescription prints describe's output for the topics in order.
func writeDescription(w io.Writer, topics []topicView, o *topicsOpts, live map[int32]bool) {
	filtering := o.underReplicated || o.unavailable
	for _, t := range topics {
		if o.topicsWithOverride && len(t.Configs) == 0 {
			continue
		}
		if !filtering {
			writeTopicHeader(w, t)
		}
		if o.topicsWithOverride {
			continue
		}
		for _, p := range t.Partitions {
			if o.underReplicated && !underReplicated(p) {
				continue
			}
			if o.unavailable && !unavailable(p, live) {
				continue
			}
			writePartitionLine(w, t.Name, p)
		}
	}
}

func describeTopics(ctx context.Context, adm *kadm.Client, o *topicsOpts, stdout io.Writer) error {
	tds, names, err := selectTopics(ctx, adm, o)
	if err != nil {
		return err
	}
	if len(names) == 0 {
		return nil
	}
	live := map[int32]bool{}
	if brokers, err := adm.ListBrokers(ctx); err == nil {
		for _, b := range brokers {
			live[b.NodeID] = true
		}
	} else {
		live = nil
	}
	configs := map[string][]string{}
	if rcs, err := adm.DescribeTopicConfigs(ctx, names...); err == nil {
		for _, rc := range rcs {
			if rc.Err != nil {
				continue
			}
			for _, c := range rc.Configs {
				if c.Source == kmsg.ConfigSourceDefaultConfig {
					continue
				}
				configs[rc.Name] = append(configs[rc.Name], c.Key+"="+c.MaybeValue())
			}
		}
	}
	var views []topicView
	for _, n := range names {
		td := tds[n]
		v := topicView{Name: n, ID: td.ID, Configs: configs[n]}
		for _, p := range td.Partitions.Sorted() {
			v.Partitions = append(v.Partitions, partitionView{
				Partition: p.Partition, Leader: p.Leader, Replicas: p.Replicas, ISR: p.ISR, Offline: p.OfflineReplicas,
			})
		}
		views = append(views, v)
	}
	writeDescription(stdout, views, o, live)
	return nil
}

func alterTopic(ctx context.Context, adm *kadm.Client, o *topicsOpts) error {
	_, names, err := selectTopics(ctx, adm, o)
	if err != nil {
		return err
	}
	if len(names) == 0 {
		return nil
	}
	resps, err := adm.UpdatePartitions(ctx, int(o.partitions), names...)
	if err != nil {
		return rootCause(err)
	}
	for _, n := range names {
		r, ok := resps[n]
		if ok && r.Err != nil {
			return errors.New(kafkaErr(r.Err, &r.ErrMessage))
		}
	}
	return nil
}

func deleteTopics(ctx context.Context, adm *kadm.Client, o *topicsOpts) error {
	tds, names, err := selectTopics(ctx, adm, o)
	if err != nil {
		return err
	}
	for _, n := range names {
		if tds[n].IsInternal {
			return fmt.Errorf("Topic %s is a kafka internal topic and is not allowed to be marked for deletion.", n)
		}
	}
	if len(names) == 0 {
		return nil
	}
	resps, err := adm.DeleteTopics(ctx, names...)
	if err != nil {
		return rootCause(err)
	}
	for _, n := range names {
		if r, ok := resps[n]; ok && r.Err != nil {
			return errors.New(kafkaErr(r.Err, &r.ErrMessage))
		}
	}
	return nil
}
