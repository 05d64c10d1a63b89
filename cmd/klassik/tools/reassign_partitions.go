package tools

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"os"
	"slices"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kgo"
	"github.com/twmb/franz-go/pkg/kmsg"
)

// reassign-partitions mirrors kafka-reassign-partitions.sh (Kafka 3.6's
// ReassignPartitionsCommand) in its --bootstrap-server form: --generate proposes a plan for
// moving topics onto a broker list, --execute starts a plan through
// AlterPartitionReassignments (KIP-455), --verify reports each partition's progress,
// --cancel reverts the plan's running reassignments and --list shows them. A plan's
// "log_dirs" move replicas between their broker's log dirs (AlterReplicaLogDirs,
// reassign_log_dirs.go). Output lines are Kafka's. --throttle sets Kafka's replication
// throttles and --verify clears them (reassign_throttle.go); --replica-alter-log-dirs-throttle
// is not supported.

func reassignFlags() *flagSet {
	fs := newFlagSet("reassign-partitions", "This tool helps to move topic partitions between replicas (kafka-reassign-partitions.sh).")
	adminFlags(fs, "REQUIRED: the server(s) to use for bootstrapping.")
	fs.Bool("generate", "Generate a candidate partition reassignment configuration. Note that this only generates a candidate assignment, it does not execute it.")
	fs.Bool("execute", "Kick off the reassignment as specified by the --reassignment-json-file option.")
	fs.Bool("verify", "Verify if the reassignment completed as specified by the --reassignment-json-file option.")
	fs.Bool("cancel", "Cancel an active reassignment.")
	fs.Bool("list", "List all active partition reassignments.")
	fs.Value("reassignment-json-file", "String: manual assignment json file path", "", "The JSON file with the partition reassignment configuration.")
	fs.Value("topics-to-move-json-file", "String: topics to reassign json file path", "", "Generate a reassignment configuration to move the partitions of the specified topics to the list of brokers specified by the --broker-list option. The format to use is - {\"topics\": [{\"topic\": \"foo\"},{\"topic\": \"foo1\"}], \"version\":1}")
	fs.Value("broker-list", "String: brokerlist", "", "The list of brokers to which the partitions need to be reassigned in the form \"0,1,2\". This is required if --topics-to-move-json-file is used to generate reassignment configuration")
	fs.Bool("disable-rack-aware", "Disable rack aware replica assignment (klassik's --generate is never rack aware).")
	fs.Bool("additional", "Execute this reassignment in addition to any other ongoing ones.")
	fs.Bool("preserve-throttles", "Do not modify broker or topic throttles.")
	fs.Value("throttle", "Long", "-1", "The movement of partitions between brokers will be throttled to this value (bytes/sec). This option can be included with --execute when a reassignment is started, and it can be altered by resubmitting the current reassignment along with the --additional flag. The throttle rate should be at least 1 KB/s.")
	fs.Value("replica-alter-log-dirs-throttle", "Long", "-1", "The movement of replicas between log directories on the same broker will be throttled to this value (bytes/sec) (not supported by klassik).")
	fs.Value("timeout", "Long", "10000", "The maximum time in ms to wait for log directory replica assignment to begin.")
	return fs
}

func runReassignPartitions(args []string, _ io.Reader, stdout, stderr io.Writer) int {
	fs := reassignFlags()
	return run(fs, args, stdout, stderr, func() error {
		action, err := fs.exactlyOne("generate", "execute", "verify", "cancel", "list")
		if err != nil {
			return usageErrorf("Command must include exactly one action: --generate, --execute, --verify, --cancel, --list")
		}
		bootstrap, err := adminBootstrap(fs, stderr)
		if err != nil {
			return err
		}
		if o := fs.byName["replica-alter-log-dirs-throttle"]; o.given && o.str() != "-1" {
			return fmt.Errorf("--replica-alter-log-dirs-throttle is not supported by klassik: moves between log dirs are not throttled (replica.alter.log.dirs.io.max.bytes.per.second)")
		}
		throttle, err := strconv.ParseInt(fs.byName["throttle"].str(), 10, 64)
		if err != nil {
			return usageErrorf("--throttle: want a number of bytes per second, got %q", fs.byName["throttle"].str())
		}
		if fs.byName["throttle"].given && action != "execute" {
			return usageErrorf("Option \"[throttle]\" can't be used with action \"[%s]\"", action)
		}
		var plan string
		switch action {
		case "generate":
			if err := fs.requireGiven("topics-to-move-json-file"); err != nil {
				return err
			}
			if err := fs.requireGiven("broker-list"); err != nil {
				return err
			}
			plan, err = readFile(fs.byName["topics-to-move-json-file"].str())
		case "execute", "verify", "cancel":
			if err := fs.requireGiven("reassignment-json-file"); err != nil {
				return err
			}
			plan, err = readFile(fs.byName["reassignment-json-file"].str())
		}
		if err != nil {
			return err
		}
		timeoutMs, err := strconv.ParseInt(fs.byName["timeout"].str(), 10, 64)
		if err != nil || timeoutMs < 0 {
			return usageErrorf("--timeout: want a number of milliseconds, got %q", fs.byName["timeout"].str())
		}
		timeout := time.Duration(timeoutMs) * time.Millisecond
		return withAdmin(bootstrap, fs.clientOpts, func(ctx context.Context, cl *kgo.Client, adm *kadm.Client) error {
			switch action {
			case "generate":
				return reassignGenerate(ctx, adm, stdout, plan, fs.byName["broker-list"].str())
			case "execute":
				return reassignExecute(ctx, cl, adm, stdout, plan, fs.byName["additional"].given, throttle, timeout)
			case "verify":
				return reassignVerify(ctx, cl, adm, stdout, plan, fs.byName["preserve-throttles"].given)
			case "cancel":
				return reassignCancel(ctx, cl, adm, stdout, plan, timeout)
			}
			return reassignList(ctx, cl, stdout)
		})
	})
}

func readFile(name string) (string, error) {
	b, err := os.ReadFile(name)
	if err != nil {
		return "", fmt.Errorf("Cannot read %s: %v", name, err)
	}
	return string(b), nil
}

// partReplicas is one partition of a plan.
type partReplicas struct {
	Topic     string  `json:"topic"`
	Partition int32   `json:"partition"`
	Replicas  []int32 `json:"replicas"`
}

func (p partReplicas) name() string { return p.Topic + "-" + strconv.Itoa(int(p.Partition)) }

func sortParts(ps []partReplicas) {
	sort.Slice(ps, func(i, j int) bool {
		if ps[i].Topic != ps[j].Topic {
			return ps[i].Topic < ps[j].Topic
		}
		return ps[i].Partition < ps[j].Partition
	})
}

// formatReassignmentJSON is formatAsReassignmentJson: partitions sorted, log_dirs "any".
func formatReassignmentJSON(ps []partReplicas) string {
	sortParts(ps)
	items := make([]string, len(ps))
	for i, p := range ps {
		rs := make([]string, len(p.Replicas))
		dirs := make([]string, len(p.Replicas))
		for j, r := range p.Replicas {
			rs[j], dirs[j] = strconv.Itoa(int(r)), `"any"`
		}
		topic, _ := json.Marshal(p.Topic)
		items[i] = fmt.Sprintf(`{"topic":%s,"partition":%d,"replicas":[%s],"log_dirs":[%s]}`,
			topic, p.Partition, strings.Join(rs, ","), strings.Join(dirs, ","))
	}
	return `{"version":1,"partitions":[` + strings.Join(items, ",") + `]}`
}

// parseReassignmentJSON is parsePartitionReassignmentData: the partitions' replicas, and the
// replicas whose log_dirs entry names a dir (not "any"), in plan order.
func parseReassignmentJSON(s string) ([]partReplicas, []replicaDir, error) {
	var v struct {
		Version    *int `json:"version"`
		Partitions []struct {
			Topic     *string  `json:"topic"`
			Partition *int32   `json:"partition"`
			Replicas  []int32  `json:"replicas"`
			LogDirs   []string `json:"log_dirs"`
		} `json:"partitions"`
	}
	if err := json.Unmarshal([]byte(s), &v); err != nil {
		return nil, nil, fmt.Errorf("Unable to parse the reassignment JSON: %v", err)
	}
	if v.Version != nil && *v.Version != 1 {
		return nil, nil, fmt.Errorf("Not supported version field value %d", *v.Version)
	}
	if len(v.Partitions) == 0 {
		return nil, nil, errors.New("Partition reassignment list cannot be empty")
	}
	var out []partReplicas
	seen := map[string]bool{}
	moves := map[string]replicaDir{}
	var order []string
	for _, p := range v.Partitions {
		if p.Topic == nil || p.Partition == nil || p.Replicas == nil {
			return nil, nil, errors.New("Every partition in the reassignment JSON needs topic, partition and replicas")
		}
		pr := partReplicas{Topic: *p.Topic, Partition: *p.Partition, Replicas: p.Replicas}
		if err := planLogDirs(pr, p.LogDirs, moves, &order); err != nil {
			return nil, nil, err
		}
		if seen[pr.name()] {
			return nil, nil, fmt.Errorf("Reassignment JSON file contains duplicate topic partitions: %s", pr.name())
		}
		seen[pr.name()] = true
		if len(distinctInts(pr.Replicas)) != len(pr.Replicas) {
			return nil, nil, fmt.Errorf("Partition replica lists may not contain duplicate entries: %s contains multiple entries for %s", pr.name(), dupes(pr.Replicas))
		}
		if len(pr.Replicas) == 0 {
			return nil, nil, fmt.Errorf("Partition %s has an empty replica list", pr.name())
		}
		out = append(out, pr)
	}
	var dirs []replicaDir
	for _, k := range order {
		dirs = append(dirs, moves[k])
	}
	return out, dirs, nil
}

func distinctInts(xs []int32) []int32 {
	var out []int32
	for _, x := range xs {
		if !slices.Contains(out, x) {
			out = append(out, x)
		}
	}
	return out
}

func dupes(xs []int32) string {
	var d []string
	for i, x := range xs {
		if slices.Contains(xs[:i], x) && !slices.Contains(d, strconv.Itoa(int(x))) {
			d = append(d, strconv.Itoa(int(x)))
		}
	}
	return strings.Join(d, ",")
}

// currentAssignment reads the replicas of the given partitions from Metadata; a missing one
// is Kafka's "Unable to find partition".
func currentAssignment(ctx context.Context, adm *kadm.Client, parts []partReplicas) ([]partReplicas, error) {
	var topics []string
	for _, p := range parts {
		if !slices.Contains(topics, p.Topic) {
			topics = append(topics, p.Topic)
		}
	}
	md, err := adm.Metadata(ctx, topics...)
	if err != nil {
		return nil, err
	}
	var out []partReplicas
	for _, p := range parts {
		td, ok := md.Topics[p.Topic]
		if !ok || td.Err != nil {
			return nil, fmt.Errorf("Unable to find partition: %s", p.name())
		}
		pd, ok := td.Partitions[p.Partition]
		if !ok {
			return nil, fmt.Errorf("Unable to find partition: %s", p.name())
		}
		out = append(out, partReplicas{Topic: p.Topic, Partition: p.Partition, Replicas: slices.Clone(pd.Replicas)})
	}
	return out, nil
}

// assignRand picks --generate's starting broker and shift, as Kafka's random start index;
// tests replace it.
var assignRand = func(n int) int { return rand.IntN(n) }

// assignRackUnaware is AdminUtils.assignReplicasToBrokersRackUnaware.
func assignRackUnaware(partitions, rf int, brokers []int32) [][]int32 {
	n := len(brokers)
	start := assignRand(n)
	shift := assignRand(n)
	out := make([][]int32, partitions)
	for p := 0; p < partitions; p++ {
		if p > 0 && p%n == 0 {
			shift++
		}
		first := (p + start) % n
		rs := []int32{brokers[first]}
		for j := 0; j < rf-1; j++ {
			s := 1 + (shift+j)%(n-1)
			rs = append(rs, brokers[(first+s)%n])
		}
		out[p] = rs
	}
	return out
}

func reassignGenerate(ctx context.Context, adm *kadm.Client, stdout io.Writer, topicsJSON, brokerList string) error {
	var v struct {
		Topics []struct {
			Topic string `json:"topic"`
		} `json:"topics"`
	}
	if err := json.Unmarshal([]byte(topicsJSON), &v); err != nil {
		return fmt.Errorf("Unable to parse the topics-to-move JSON: %v", err)
	}
	var topics []string
	for _, t := range v.Topics {
		if slices.Contains(topics, t.Topic) {
			return fmt.Errorf("List of topics to reassign contains duplicate entries: %s", t.Topic)
		}
		topics = append(topics, t.Topic)
	}
	var brokers []int32
	for _, s := range strings.Split(brokerList, ",") {
		id, err := strconv.ParseInt(strings.TrimSpace(s), 10, 32)
		if err != nil {
			return fmt.Errorf("Invalid broker id %q in --broker-list", s)
		}
		if slices.Contains(brokers, int32(id)) {
			return fmt.Errorf("Broker list contains duplicate entries: %d", id)
		}
		brokers = append(brokers, int32(id))
	}
	slices.Sort(brokers) // the order of the cluster's nodes, as Kafka's getBrokerMetadata
	md, err := adm.Metadata(ctx, topics...)
	if err != nil {
		return err
	}
	for _, b := range brokers {
		if !slices.ContainsFunc(md.Brokers, func(d kadm.BrokerDetail) bool { return d.NodeID == b }) {
			return fmt.Errorf("Unknown broker id %d", b)
		}
	}
	var current, proposed []partReplicas
	slices.Sort(topics)
	for _, t := range topics {
		td, ok := md.Topics[t]
		if !ok || td.Err != nil {
			return fmt.Errorf("Topic %s not found", t)
		}
		ps := td.Partitions.Sorted()
		if len(ps) == 0 {
			continue
		}
		rf := len(ps[0].Replicas)
		if rf > len(brokers) {
			return fmt.Errorf("Replication factor: %d larger than available brokers: %d.", rf, len(brokers))
		}
		for _, p := range ps {
			current = append(current, partReplicas{Topic: t, Partition: p.Partition, Replicas: slices.Clone(p.Replicas)})
		}
		for i, rs := range assignRackUnaware(len(ps), rf, brokers) {
			proposed = append(proposed, partReplicas{Topic: t, Partition: int32(i), Replicas: rs})
		}
	}
	fmt.Fprintf(stdout, "Current partition replica assignment\n%s\n\n", formatReassignmentJSON(current))
	fmt.Fprintf(stdout, "Proposed partition reassignment configuration\n%s\n", formatReassignmentJSON(proposed))
	return nil
}

// listReassignments asks the controller (kgo routes the request there) for the running
// reassignments of parts, or of every partition when parts is nil.
func listReassignments(ctx context.Context, cl *kgo.Client, parts []partReplicas) (map[string]kmsg.ListPartitionReassignmentsResponseTopicPartition, error) {
	req := kmsg.NewPtrListPartitionReassignmentsRequest()
	req.TimeoutMillis = int32(requestTimeout.Milliseconds())
	if parts != nil {
		idx := map[string]int{}
		for _, p := range parts {
			i, ok := idx[p.Topic]
			if !ok {
				i = len(req.Topics)
				idx[p.Topic] = i
				t := kmsg.NewListPartitionReassignmentsRequestTopic()
				t.Topic = p.Topic
				req.Topics = append(req.Topics, t)
			}
			req.Topics[i].Partitions = append(req.Topics[i].Partitions, p.Partition)
		}
	}
	resp, err := req.RequestWith(ctx, cl)
	if err != nil {
		return nil, err
	}
	if err := kerr.ErrorForCode(resp.ErrorCode); err != nil {
		return nil, fmt.Errorf("ListPartitionReassignments failed: %v", err)
	}
	out := map[string]kmsg.ListPartitionReassignmentsResponseTopicPartition{}
	for _, t := range resp.Topics {
		for _, p := range t.Partitions {
			out[partReplicas{Topic: t.Topic, Partition: p.Partition}.name()] = p
		}
	}
	return out, nil
}

// alterReassignments sends AlterPartitionReassignments (nil replicas cancel) and returns the
// per-partition errors, as "T-P: message" lines in partition order.
func alterReassignments(ctx context.Context, cl *kgo.Client, parts []partReplicas, cancel bool) ([]string, error) {
	req := kmsg.NewPtrAlterPartitionAssignmentsRequest()
	req.TimeoutMillis = int32(requestTimeout.Milliseconds())
	idx := map[string]int{}
	for _, p := range parts {
		i, ok := idx[p.Topic]
		if !ok {
			i = len(req.Topics)
			idx[p.Topic] = i
			t := kmsg.NewAlterPartitionAssignmentsRequestTopic()
			t.Topic = p.Topic
			req.Topics = append(req.Topics, t)
		}
		rp := kmsg.NewAlterPartitionAssignmentsRequestTopicPartition()
		rp.Partition = p.Partition
		if !cancel {
			rp.Replicas = slices.Clone(p.Replicas)
		}
		req.Topics[i].Partitions = append(req.Topics[i].Partitions, rp)
	}
	resp, err := req.RequestWith(ctx, cl)
	if err != nil {
		return nil, err
	}
	if err := kerr.ErrorForCode(resp.ErrorCode); err != nil {
		return nil, fmt.Errorf("AlterPartitionReassignments failed: %v", err)
	}
	var failed []partReplicas
	msgs := map[string]string{}
	for _, t := range resp.Topics {
		for _, p := range t.Partitions {
			if p.ErrorCode == 0 {
				continue
			}
			pr := partReplicas{Topic: t.Topic, Partition: p.Partition}
			msg := kerr.ErrorForCode(p.ErrorCode).Error()
			if p.ErrorMessage != nil && *p.ErrorMessage != "" {
				msg = *p.ErrorMessage
			}
			failed = append(failed, pr)
			msgs[pr.name()] = msg
		}
	}
	sortParts(failed)
	var lines []string
	for _, p := range failed {
		lines = append(lines, p.name()+": "+msgs[p.name()])
	}
	return lines, nil
}

func names(ps []partReplicas) string {
	sortParts(ps)
	s := make([]string, len(ps))
	for i, p := range ps {
		s[i] = p.name()
	}
	return strings.Join(s, ",")
}

// pluralS is Kafka's `if (n == 1) "" else "s"`.
func pluralS(n int) string {
	if n == 1 {
		return ""
	}
	return "s"
}

func reassignExecute(ctx context.Context, cl *kgo.Client, adm *kadm.Client, stdout io.Writer, planJSON string, additional bool, throttle int64, timeout time.Duration) error {
	plan, moves, err := parseReassignmentJSON(planJSON)
	if err != nil {
		return err
	}
	ongoing, err := listReassignments(ctx, cl, nil)
	if err != nil {
		return err
	}
	if !additional && len(ongoing) > 0 {
		return errors.New("Cannot execute because there is an existing partition assignment.  Use --additional to override this and create a new partition assignment in addition to the existing one. The --additional flag can also be used to change the throttle by resubmitting the current reassignment.")
	}
	brokers, err := adm.ListBrokers(ctx)
	if err != nil {
		return err
	}
	for _, p := range plan {
		for _, r := range p.Replicas {
			if !slices.ContainsFunc(brokers, func(d kadm.BrokerDetail) bool { return d.NodeID == r }) {
				return fmt.Errorf("Unknown broker id %d", r)
			}
		}
	}
	current, err := currentAssignment(ctx, adm, plan)
	if err != nil {
		return err
	}
	fmt.Fprintf(stdout, "Current partition replica assignment\n\n%s\n\nSave this to use as the --reassignment-json-file option during rollback\n", formatReassignmentJSON(current))
	if throttle >= 0 {
		fmt.Fprintln(stdout, youMustRunVerify)
		if err := reassignmentThrottle(ctx, adm, stdout, plan, current, ongoing, throttle); err != nil {
			return err
		}
	}
	failed, err := alterReassignments(ctx, cl, plan, false)
	if err != nil {
		return err
	}
	if len(failed) > 0 {
		return fmt.Errorf("Error reassigning partition(s):\n%s", strings.Join(failed, "\n"))
	}
	fmt.Fprintf(stdout, "Successfully started partition reassignment%s for %s\n", pluralS(len(plan)), names(plan))
	if len(moves) > 0 {
		return executeMoves(ctx, adm, stdout, moves, timeout)
	}
	return nil
}

func reassignVerify(ctx context.Context, cl *kgo.Client, adm *kadm.Client, stdout io.Writer, planJSON string, preserveThrottles bool) error {
	plan, moves, err := parseReassignmentJSON(planJSON)
	if err != nil {
		return err
	}
	all, err := listReassignments(ctx, cl, nil)
	if err != nil {
		return err
	}
	ongoing, err := listReassignments(ctx, cl, plan)
	if err != nil {
		return err
	}
	current, err := currentAssignment(ctx, adm, plan)
	if err != nil {
		return err
	}
	now := map[string][]int32{}
	for _, p := range current {
		now[p.name()] = p.Replicas
	}
	sortParts(plan)
	lines := []string{"Status of partition reassignment:"}
	for _, p := range plan {
		o, running := ongoing[p.name()]
		switch {
		case running && len(o.AddingReplicas)+len(o.RemovingReplicas) > 0:
			lines = append(lines, fmt.Sprintf("Reassignment of partition %s is still in progress.", p.name()))
		case slices.Equal(now[p.name()], p.Replicas):
			lines = append(lines, fmt.Sprintf("Reassignment of partition %s is completed.", p.name()))
		default:
			lines = append(lines, fmt.Sprintf("There is no active reassignment of partition %s, but replica set is %s rather than %s.",
				p.name(), joinInts(now[p.name()]), joinInts(p.Replicas)))
		}
	}
	fmt.Fprintln(stdout, strings.Join(lines, "\n"))
	// verifyReplicaMoves: the moves' lines, printed as Kafka does even when there are none
	// (an empty line then).
	moveLines, err := replicaMoveStates(ctx, adm, moves)
	if err != nil {
		return err
	}
	fmt.Fprintln(stdout, strings.Join(moveLines, "\n"))
	movesOngoing := slices.ContainsFunc(moveLines, func(l string) bool { return !strings.HasSuffix(l, " completed successfully.") })
	if len(all) == 0 && !movesOngoing && !preserveThrottles {
		// Done: clear every throttle, as Kafka does (it cannot know which brokers earlier
		// reassignments throttled).
		return clearThrottles(ctx, adm, stdout, plan)
	}
	return nil
}

func reassignCancel(ctx context.Context, cl *kgo.Client, adm *kadm.Client, stdout io.Writer, planJSON string, timeout time.Duration) error {
	plan, moves, err := parseReassignmentJSON(planJSON)
	if err != nil {
		return err
	}
	ongoing, err := listReassignments(ctx, cl, plan)
	if err != nil {
		return err
	}
	var active []partReplicas
	for _, p := range plan {
		if o, ok := ongoing[p.name()]; ok && len(o.AddingReplicas)+len(o.RemovingReplicas) > 0 {
			active = append(active, p)
		}
	}
	if len(active) == 0 {
		fmt.Fprintln(stdout, "None of the specified partition reassignments are active.")
	} else {
		failed, err := alterReassignments(ctx, cl, active, true)
		if err != nil {
			return err
		}
		if len(failed) > 0 {
			return fmt.Errorf("Error cancelling partition reassignment%s for:\n%s", pluralS(len(failed)), strings.Join(failed, "\n"))
		}
		fmt.Fprintf(stdout, "Successfully cancelled partition reassignment%s for: %s\n", pluralS(len(active)), names(active))
	}
	return cancelMoves(ctx, adm, stdout, moves, timeout)
}

func reassignList(ctx context.Context, cl *kgo.Client, stdout io.Writer) error {
	ongoing, err := listReassignments(ctx, cl, nil)
	if err != nil {
		return err
	}
	if len(ongoing) == 0 {
		fmt.Fprintln(stdout, "No partition reassignments found.")
		return nil
	}
	keys := make([]string, 0, len(ongoing))
	for k := range ongoing {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	fmt.Fprintln(stdout, "Current partition reassignments:")
	for _, k := range keys {
		o := ongoing[k]
		fmt.Fprintf(stdout, "%s: replicas: %s. adding: %s. removing: %s.\n", k, joinInts(o.Replicas), joinInts(o.AddingReplicas), joinInts(o.RemovingReplicas))
	}
	return nil
}
