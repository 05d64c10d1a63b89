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
	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kgo"
)

// consumer-groups mirrors kafka-consumer-groups.sh (Kafka's ConsumerGroupCommand): --list,
// --describe (offsets, --members, --state), --reset-offsets (dry run unless --execute),
// --delete and --delete-offsets, printing Kafka's tables.

const missingCol = "-"

func consumerGroupsFlags() *flagSet {
	fs := newFlagSet("consumer-groups", "List all consumer groups, describe a consumer group, delete consumer group info, or reset consumer group offsets (kafka-consumer-groups.sh).")
	adminFlags(fs, "REQUIRED: The server(s) to connect to.")
	fs.Bool("list", "List all consumer groups.")
	fs.Bool("describe", "Describe consumer group and list offset lag (number of messages not yet processed) related to given group.")
	fs.Bool("delete", "Pass in groups to delete topic partition offsets and ownership information over the entire consumer group.")
	fs.Bool("delete-offsets", "Delete offsets of consumer group. Supports one consumer group at the time, and multiple topics.")
	fs.Bool("reset-offsets", "Reset offsets of consumer group. Supports one consumer group at the time, and instances should be inactive.")
	fs.Value("group", "String: consumer group", "", "The consumer group we wish to act on (repeatable with --describe and --delete).")
	fs.Bool("all-groups", "Apply to all consumer groups.")
	fs.Value("topic", "String: topic", "", "The topic whose consumer group information should be reset or deleted; 'topic:0,1,2' names partitions (repeatable).")
	fs.Bool("all-topics", "Consider all topics assigned to a group in the reset-offsets process.")
	fs.Bool("members", "Describe members of the group.")
	fs.Bool("state", "When specified with --describe, includes the state of the group; with --list, adds a STATE column.")
	fs.Bool("offsets", "Describe the group and list all topic partitions in the group along with their offset lag (the default).")
	fs.Bool("verbose", "Provide additional information, if any, when describing the group.")
	fs.Bool("dry-run", "Only show results without executing changes on consumer groups (the default for --reset-offsets).")
	fs.Bool("execute", "Execute operation.")
	fs.Bool("to-earliest", "Reset offsets to earliest offset.")
	fs.Bool("to-latest", "Reset offsets to latest offset.")
	fs.Bool("to-current", "Reset offsets to current offset.")
	fs.Value("to-offset", "Long: offset", "", "Reset offsets to a specific offset.")
	fs.Value("shift-by", "Long: number-of-offsets", "", "Reset offsets shifting current offset by 'n', where 'n' can be positive or negative.")
	fs.Value("timeout", "Long: timeout (ms)", "5000", "The timeout that can be set for some use cases.")
	return fs
}

func runConsumerGroups(args []string, stdin io.Reader, stdout, stderr io.Writer) int {
	fs := consumerGroupsFlags()
	return run(fs, args, stdout, stderr, func() error {
		action, err := fs.exactlyOne("list", "describe", "delete", "reset-offsets", "delete-offsets")
		if err != nil {
			return usageErrorf("Command must include exactly one action: --list, --describe, --delete, --reset-offsets, --delete-offsets")
		}
		bootstrap, err := adminBootstrap(fs, stderr)
		if err != nil {
			return err
		}
		groups := fs.byName["group"].all()
		allGroups := fs.byName["all-groups"].given
		switch action {
		case "describe", "delete":
			if len(groups) == 0 && !allGroups {
				return usageErrorf("Option [%s] takes one of these options: [all-groups], [group]", action)
			}
		case "reset-offsets":
			if len(groups) != 1 {
				return usageErrorf("Option [reset-offsets] takes exactly one [group] (klassik does not reset --all-groups)")
			}
		case "delete-offsets":
			if len(groups) != 1 {
				return usageErrorf("Option [delete-offsets] takes exactly one [group]")
			}
			if !fs.byName["topic"].given {
				return usageErrorf("Option [delete-offsets] takes the following options: [topic], [group]")
			}
		}
		return withAdmin(bootstrap, fs.clientOpts, func(ctx context.Context, _ *kgo.Client, adm *kadm.Client) error {
			if allGroups {
				lg, err := adm.ListGroups(ctx)
				if err != nil {
					return fmt.Errorf("Error: Executing consumer group command failed due to %v", rootCause(err))
				}
				groups = lg.Groups()
				sort.Strings(groups)
			}
			switch action {
			case "list":
				return listGroups(ctx, adm, fs.byName["state"].given, stdout)
			case "describe":
				return describeGroups(ctx, adm, fs, groups, stdout, stderr)
			case "delete":
				return deleteGroups(ctx, adm, groups, stdout, stderr)
			case "delete-offsets":
				return deleteGroupOffsets(ctx, adm, groups[0], fs.byName["topic"].all(), stdout, stderr)
			default:
				return resetOffsets(ctx, adm, fs, groups[0], stdout, stderr)
			}
		})
	})
}

func listGroups(ctx context.Context, adm *kadm.Client, withState bool, stdout io.Writer) error {
	lg, err := adm.ListGroups(ctx)
	if err != nil {
		return fmt.Errorf("Error: Executing consumer group command failed due to %v", rootCause(err))
	}
	sorted := lg.Sorted()
	if !withState {
		for _, g := range sorted {
			fmt.Fprintln(stdout, g.Group)
		}
		return nil
	}
	w := 15
	for _, g := range sorted {
		w = max(w, len(g.Group))
	}
	fmt.Fprintf(stdout, "%-*s %s\n", w, "GROUP", "STATE")
	for _, g := range sorted {
		fmt.Fprintf(stdout, "%-*s %s\n", w, g.Group, g.State)
	}
	return nil
}

// offsetRow is one line of the describe --offsets table.
type offsetRow struct {
	Group, Topic                   string
	Partition                      int32 // -1: none
	Current, LogEnd                int64 // -1: unknown
	ConsumerID, Host, ClientID     string
	hasTopic, hasCurrent, hasLogEn bool
}

func optInt(ok bool, v int64) string {
	if !ok {
		return missingCol
	}
	return strconv.FormatInt(v, 10)
}

func orDash(s string) string {
	if s == "" {
		return missingCol
	}
	return s
}

// writeOffsetsTable prints ConsumerGroupCommand's offsets table: a leading blank line, a
// header, one row per partition, columns at least 15 wide.
func writeOffsetsTable(w io.Writer, rows []offsetRow) {
	gw, tw, cw, hw := 15, 15, 15, 15
	for _, r := range rows {
		gw = max(gw, len(r.Group))
		tw = max(tw, len(orDash(r.Topic)))
		cw = max(cw, len(orDash(r.ConsumerID)))
		hw = max(hw, len(orDash(r.Host)))
	}
	line := func(a ...string) {
		fmt.Fprintf(w, "\n%-*s %-*s %-10s %-15s %-15s %-15s %-*s %-*s %s", gw, a[0], tw, a[1], a[2], a[3], a[4], a[5], cw, a[6], hw, a[7], a[8])
	}
	line("GROUP", "TOPIC", "PARTITION", "CURRENT-OFFSET", "LOG-END-OFFSET", "LAG", "CONSUMER-ID", "HOST", "CLIENT-ID")
	for _, r := range rows {
		part := missingCol
		if r.hasTopic {
			part = strconv.Itoa(int(r.Partition))
		}
		lag := missingCol
		if r.hasCurrent && r.hasLogEn {
			lag = strconv.FormatInt(r.LogEnd-r.Current, 10) // unclamped, as getLag
		}
		line(r.Group, orDash(r.Topic), part, optInt(r.hasCurrent, r.Current), optInt(r.hasLogEn, r.LogEnd), lag, orDash(r.ConsumerID), orDash(r.Host), orDash(r.ClientID))
	}
	fmt.Fprintln(w)
}

// memberRow is one line of the describe --members table.
type memberRow struct {
	Group, ConsumerID, Host, ClientID string
	Assignment                        map[string][]int32
}

func (m memberRow) numPartitions() int {
	n := 0
	for _, ps := range m.Assignment {
		n += len(ps)
	}
	return n
}

func writeMembersTable(w io.Writer, rows []memberRow, verbose bool) {
	gw, cw, hw, iw := 15, 15, 15, 15
	for _, r := range rows {
		gw, cw, hw, iw = max(gw, len(r.Group)), max(cw, len(r.ConsumerID)), max(hw, len(r.Host)), max(iw, len(r.ClientID))
	}
	fmt.Fprintf(w, "\n%-*s %-*s %-*s %-*s %-15s", gw, "GROUP", cw, "CONSUMER-ID", hw, "HOST", iw, "CLIENT-ID", "#PARTITIONS")
	if verbose {
		fmt.Fprint(w, " ASSIGNMENT")
	}
	for _, r := range rows {
		fmt.Fprintf(w, "\n%-*s %-*s %-*s %-*s %-15d", gw, r.Group, cw, r.ConsumerID, hw, r.Host, iw, r.ClientID, r.numPartitions())
		if verbose {
			var parts []string
			topics := make([]string, 0, len(r.Assignment))
			for t := range r.Assignment {
				topics = append(topics, t)
			}
			sort.Strings(topics)
			for _, t := range topics {
				parts = append(parts, fmt.Sprintf("%s(%s)", t, joinInts(r.Assignment[t])))
			}
			a := strings.Join(parts, ", ")
			fmt.Fprintf(w, " %s", orDash(a))
		}
	}
	fmt.Fprintln(w)
}

// stateRow is the describe --state line.
type stateRow struct {
	Group, Coordinator, Strategy, State string
	Members                             int
}

func writeStateTable(w io.Writer, rows []stateRow) {
	gw, cw := 15, 25
	for _, r := range rows {
		gw, cw = max(gw, len(r.Group)), max(cw, len(r.Coordinator))
	}
	fmt.Fprintf(w, "\n%-*s %-*s %-20s %-15s %s", gw, "GROUP", cw, "COORDINATOR (ID)", "ASSIGNMENT-STRATEGY", "STATE", "#MEMBERS")
	for _, r := range rows {
		fmt.Fprintf(w, "\n%-*s %-*s %-20s %-15s %d", gw, r.Group, cw, r.Coordinator, orDash(r.Strategy), r.State, r.Members)
	}
	fmt.Fprintln(w)
}

// groupExists prints Kafka's notes about the group's state and reports whether there is
// anything to print.
func groupStateNote(g kadm.DescribedGroup, stderr io.Writer) bool {
	switch g.State {
	case "Dead", "":
		fmt.Fprintf(stderr, "Error: Consumer group '%s' does not exist.\n", g.Group)
		return false
	case "Empty":
		fmt.Fprintf(stderr, "\nConsumer group '%s' has no active members.\n", g.Group)
	case "PreparingRebalance", "CompletingRebalance":
		fmt.Fprintf(stderr, "\nWarning: Consumer group '%s' is rebalancing.\n", g.Group)
	}
	return true
}

func describeGroups(ctx context.Context, adm *kadm.Client, fs *flagSet, groups []string, stdout, stderr io.Writer) error {
	dgs, err := adm.DescribeGroups(ctx, groups...)
	if err != nil && len(dgs) == 0 {
		return fmt.Errorf("Error: Executing consumer group command failed due to %v", rootCause(err))
	}
	failed := false
	for _, name := range groups {
		g, ok := dgs[name]
		if !ok {
			fmt.Fprintf(stderr, "Error: Consumer group '%s' does not exist.\n", name)
			failed = true
			continue
		}
		if errors.Is(g.Err, kerr.GroupIDNotFound) {
			fmt.Fprintf(stderr, "Error: Consumer group '%s' does not exist.\n", name)
			failed = true
			continue
		}
		if g.Err != nil {
			fmt.Fprintf(stderr, "Error: Executing consumer group command failed due to %s\n", kafkaErr(g.Err, &g.ErrMessage))
			failed = true
			continue
		}
		switch {
		case fs.byName["members"].given:
			if !groupStateNote(g, stderr) {
				failed = true
				continue
			}
			var rows []memberRow
			for _, m := range g.Members {
				r := memberRow{Group: name, ConsumerID: m.MemberID, Host: m.ClientHost, ClientID: m.ClientID, Assignment: map[string][]int32{}}
				if c, ok := m.Assigned.AsConsumer(); ok {
					for _, t := range c.Topics {
						r.Assignment[t.Topic] = append(r.Assignment[t.Topic], t.Partitions...)
					}
				}
				rows = append(rows, r)
			}
			writeMembersTable(stdout, rows, fs.byName["verbose"].given)
		case fs.byName["state"].given:
			if !groupStateNote(g, stderr) {
				failed = true
				continue
			}
			coord := fmt.Sprintf("%s:%d (%d)", g.Coordinator.Host, g.Coordinator.Port, g.Coordinator.NodeID)
			writeStateTable(stdout, []stateRow{{Group: name, Coordinator: coord, Strategy: g.Protocol, State: g.State, Members: len(g.Members)}})
		default:
			committed, err := adm.FetchOffsets(ctx, name)
			if err != nil {
				fmt.Fprintf(stderr, "Error: Executing consumer group command failed due to %v\n", rootCause(err))
				failed = true
				continue
			}
			if (g.State == "Dead" || g.State == "") && len(committed) == 0 {
				groupStateNote(g, stderr)
				failed = true
				continue
			}
			groupStateNote(g, stderr)
			rows := offsetRows(ctx, adm, g, committed)
			writeOffsetsTable(stdout, rows)
		}
	}
	if failed {
		return exitCode(1)
	}
	return nil
}

// offsetRows builds the offsets table: partitions assigned to members first (ordered by
// member), then members without partitions, then partitions that only have a committed offset.
func offsetRows(ctx context.Context, adm *kadm.Client, g kadm.DescribedGroup, committed kadm.OffsetResponses) []offsetRow {
	topicSet := map[string]bool{}
	for t := range committed {
		topicSet[t] = true
	}
	for t := range g.AssignedPartitions() {
		topicSet[t] = true
	}
	var topics []string
	for t := range topicSet {
		topics = append(topics, t)
	}
	var ends kadm.ListedOffsets
	if len(topics) > 0 {
		ends, _ = adm.ListEndOffsets(ctx, topics...)
	}
	row := func(t string, p int32) offsetRow {
		r := offsetRow{Group: g.Group, Topic: t, Partition: p, hasTopic: true}
		if c, ok := committed.Lookup(t, p); ok && c.Err == nil && c.At >= 0 {
			r.Current, r.hasCurrent = c.At, true
		}
		if e, ok := ends.Lookup(t, p); ok && e.Err == nil {
			r.LogEnd, r.hasLogEn = e.Offset, true
		}
		return r
	}
	var rows, idle []offsetRow
	assigned := map[string]map[int32]bool{}
	for _, m := range g.Members {
		c, ok := m.Assigned.AsConsumer()
		n := 0
		if ok {
			var mine []offsetRow
			for _, t := range c.Topics {
				for _, p := range t.Partitions {
					r := row(t.Topic, p)
					r.ConsumerID, r.Host, r.ClientID = m.MemberID, m.ClientHost, m.ClientID
					mine = append(mine, r)
					if assigned[t.Topic] == nil {
						assigned[t.Topic] = map[int32]bool{}
					}
					assigned[t.Topic][p] = true
					n++
				}
			}
			sort.Slice(mine, func(i, j int) bool {
				if mine[i].Topic != mine[j].Topic {
					return mine[i].Topic < mine[j].Topic
				}
				return mine[i].Partition < mine[j].Partition
			})
			rows = append(rows, mine...)
		}
		if n == 0 {
			idle = append(idle, offsetRow{Group: g.Group, ConsumerID: m.MemberID, Host: m.ClientHost, ClientID: m.ClientID})
		}
	}
	rows = append(rows, idle...)
	var rest []offsetRow
	for t, ps := range committed {
		for p := range ps {
			if !assigned[t][p] {
				rest = append(rest, row(t, p))
			}
		}
	}
	sort.Slice(rest, func(i, j int) bool {
		if rest[i].Topic != rest[j].Topic {
			return rest[i].Topic < rest[j].Topic
		}
		return rest[i].Partition < rest[j].Partition
	})
	return append(rows, rest...)
}

func deleteGroups(ctx context.Context, adm *kadm.Client, groups []string, stdout, stderr io.Writer) error {
	resps, err := adm.DeleteGroups(ctx, groups...)
	if err != nil && len(resps) == 0 {
		return fmt.Errorf("Error: Executing consumer group command failed due to %v", rootCause(err))
	}
	var ok []string
	failed := map[string]string{}
	for _, g := range groups {
		r, found := resps[g]
		switch {
		case !found:
			failed[g] = "no response from the group coordinator"
		case r.Err != nil:
			msg := kafkaErr(r.Err, &r.ErrMessage)
			if errors.Is(r.Err, kerr.GroupIDNotFound) {
				msg = "The group id does not exist."
			} else if errors.Is(r.Err, kerr.NonEmptyGroup) {
				msg = "The group is not empty."
			}
			failed[g] = msg
		default:
			ok = append(ok, g)
		}
	}
	quote := func(gs []string) string { return "'" + strings.Join(gs, "', '") + "'" }
	if len(failed) == 0 {
		fmt.Fprintf(stdout, "Deletion of requested consumer groups (%s) was successful.\n", quote(ok))
		return nil
	}
	fmt.Fprintln(stderr, "Error: Deletion of some consumer groups failed:")
	for _, g := range groups {
		if msg, bad := failed[g]; bad {
			fmt.Fprintf(stderr, "* Group '%s' could not be deleted due to: %s\n", g, msg)
		}
	}
	if len(ok) > 0 {
		fmt.Fprintf(stdout, "\nThese consumer groups were deleted successfully: %s\n", quote(ok))
	}
	return exitCode(1)
}

// parseTopicPartitions reads --topic values "t" or "t:0,1,2". A nil partition list means all.
func parseTopicPartitions(vals []string) (map[string][]int32, []string, error) {
	m := map[string][]int32{}
	var order []string
	for _, v := range vals {
		t, ps, hasParts := strings.Cut(v, ":")
		if t == "" {
			return nil, nil, fmt.Errorf("Invalid --topic %q: the topic name is empty", v)
		}
		if _, seen := m[t]; !seen {
			order = append(order, t)
			m[t] = nil
		}
		if hasParts {
			for _, p := range strings.Split(ps, ",") {
				n, err := strconv.ParseInt(strings.TrimSpace(p), 10, 32)
				if err != nil {
					return nil, nil, fmt.Errorf("Invalid --topic %q: %q is not a partition number", v, p)
				}
				m[t] = append(m[t], int32(n))
			}
		}
	}
	return m, order, nil
}

func deleteGroupOffsets(ctx context.Context, adm *kadm.Client, group string, topicArgs []string, stdout, stderr io.Writer) error {
	tps, order, err := parseTopicPartitions(topicArgs)
	if err != nil {
		return err
	}
	set := kadm.TopicsSet{}
	for _, t := range order {
		ps := tps[t]
		if ps == nil {
			all, err := topicPartitions(ctx, adm, t)
			if err != nil {
				fmt.Fprintf(stderr, "Error: %v\n", err)
				return exitCode(1)
			}
			ps = all
		}
		set.Add(t, ps...)
	}
	resps, err := adm.DeleteOffsets(ctx, group, set)
	if err != nil {
		switch {
		case errors.Is(err, kerr.GroupIDNotFound):
			fmt.Fprintf(stderr, "Error: '%s' does not exist.\n", group)
		case errors.Is(err, kerr.NonEmptyGroup):
			fmt.Fprintf(stderr, "Error: Deleting offsets of a consumer group '%s' is forbidden if the group is not empty.\n", group)
		case errors.Is(err, kerr.InvalidGroupID):
			fmt.Fprintf(stderr, "Error: '%s' is not valid.\n", group)
		default:
			fmt.Fprintf(stderr, "Error: Encounter some unknown error: %v\n", rootCause(err))
		}
		return exitCode(1)
	}
	partErr := false
	for _, ps := range resps {
		for _, e := range ps {
			if e != nil {
				partErr = true
			}
		}
	}
	if partErr {
		fmt.Fprintln(stderr, "Error: Encounter some partition level error, see the follow-up details:")
	} else {
		fmt.Fprintf(stdout, "Request succeed for deleting offsets with topic %s group %s\n", strings.Join(order, ", "), group)
	}
	type tp struct {
		t string
		p int32
		e error
	}
	var list []tp
	for t, ps := range resps {
		for p, e := range ps {
			list = append(list, tp{t, p, e})
		}
	}
	sort.Slice(list, func(i, j int) bool {
		if list[i].t != list[j].t {
			return list[i].t < list[j].t
		}
		return list[i].p < list[j].p
	})
	fmt.Fprintf(stdout, "\n%-30s %-15s %-15s", "TOPIC", "PARTITION", "STATUS")
	for _, x := range list {
		st := "Successful"
		if x.e != nil {
			st = "Error: " + kafkaErr(x.e, nil)
		}
		fmt.Fprintf(stdout, "\n%-30s %-15d %-15s", x.t, x.p, st)
	}
	fmt.Fprintln(stdout)
	if partErr {
		return exitCode(1)
	}
	return nil
}

// resetPlan is one partition's new offset.
type resetPlan struct {
	Topic     string
	Partition int32
	Offset    int64
}

// resetScenario is the chosen --to-*/--shift-by option.
type resetScenario struct {
	kind string // earliest, latest, current, offset, shift
	n    int64
}

// newOffset computes a partition's new offset for the scenario, clamped to the log's range
// as Kafka does for --to-offset and --shift-by.
func (s resetScenario) newOffset(start, end, current int64, hasCurrent bool) int64 {
	clamp := func(v int64) int64 { return min(max(v, start), end) }
	switch s.kind {
	case "earliest":
		return start
	case "latest":
		return end
	case "current":
		if hasCurrent {
			return current
		}
		return end
	case "offset":
		return clamp(s.n)
	default: // shift
		base := end
		if hasCurrent {
			base = current
		}
		return clamp(base + s.n)
	}
}

func parseResetScenario(fs *flagSet) (resetScenario, error) {
	var got []resetScenario
	for _, k := range []string{"to-earliest", "to-latest", "to-current"} {
		if fs.byName[k].given {
			got = append(got, resetScenario{kind: strings.TrimPrefix(k, "to-")})
		}
	}
	if o := fs.byName["to-offset"]; o.given {
		n, err := o.integer()
		if err != nil {
			return resetScenario{}, err
		}
		got = append(got, resetScenario{kind: "offset", n: n})
	}
	if o := fs.byName["shift-by"]; o.given {
		n, err := o.integer()
		if err != nil {
			return resetScenario{}, err
		}
		got = append(got, resetScenario{kind: "shift", n: n})
	}
	if len(got) != 1 {
		return resetScenario{}, usageErrorf("Option [reset-offsets] takes exactly one of these options: --to-earliest, --to-latest, --to-current, --to-offset, --shift-by")
	}
	return got[0], nil
}

func writeResetTable(w io.Writer, group string, plan []resetPlan) {
	if len(plan) == 0 {
		return
	}
	fmt.Fprintf(w, "\n%-30s %-30s %-10s %-15s\n", "GROUP", "TOPIC", "PARTITION", "NEW-OFFSET")
	for _, p := range plan {
		fmt.Fprintf(w, "%-30s %-30s %-10d %-15d\n", group, p.Topic, p.Partition, p.Offset)
	}
}

func resetOffsets(ctx context.Context, adm *kadm.Client, fs *flagSet, group string, stdout, stderr io.Writer) error {
	scenario, err := parseResetScenario(fs)
	if err != nil {
		return err
	}
	if fs.byName["topic"].given == fs.byName["all-topics"].given {
		return usageErrorf("Option [reset-offsets] takes exactly one of these options: --all-topics, --topic")
	}
	execute := fs.byName["execute"].given
	if execute && fs.byName["dry-run"].given {
		return usageErrorf("Option [execute] can't be used with option [dry-run]")
	}
	if !execute && !fs.byName["dry-run"].given {
		fmt.Fprintln(stderr, "WARN: No action will be performed as the --execute option is missing. Add --dry-run to say so explicitly, or --execute to apply the new offsets.")
	}
	dgs, err := adm.DescribeGroups(ctx, group)
	if err != nil && len(dgs) == 0 {
		return fmt.Errorf("Error: Executing consumer group command failed due to %v", rootCause(err))
	}
	if g, ok := dgs[group]; ok && g.Err == nil && g.State != "Empty" && g.State != "Dead" && g.State != "" {
		return fmt.Errorf("Error: Assignments can only be reset if the group '%s' is inactive, but the current state is %s.", group, g.State)
	}
	committed, err := adm.FetchOffsets(ctx, group)
	if err != nil {
		return fmt.Errorf("Error: Executing consumer group command failed due to %v", rootCause(err))
	}
	want := map[string][]int32{}
	var order []string
	if fs.byName["all-topics"].given {
		for t, ps := range committed {
			order = append(order, t)
			for p := range ps {
				want[t] = append(want[t], p)
			}
		}
		sort.Strings(order)
	} else {
		want, order, err = parseTopicPartitions(fs.byName["topic"].all())
		if err != nil {
			return err
		}
		for _, t := range order {
			if want[t] == nil {
				ps, err := topicPartitions(ctx, adm, t)
				if err != nil {
					return fmt.Errorf("Error: %v", err)
				}
				want[t] = ps
			}
		}
	}
	if len(order) == 0 {
		fmt.Fprintf(stderr, "Error: The group '%s' has no committed offsets, so --all-topics selects nothing.\n", group)
		return exitCode(1)
	}
	starts, err := adm.ListStartOffsets(ctx, order...)
	if err != nil {
		return fmt.Errorf("Error: %v", rootCause(err))
	}
	ends, err := adm.ListEndOffsets(ctx, order...)
	if err != nil {
		return fmt.Errorf("Error: %v", rootCause(err))
	}
	var plan []resetPlan
	for _, t := range order {
		ps := append([]int32(nil), want[t]...)
		sort.Slice(ps, func(i, j int) bool { return ps[i] < ps[j] })
		for _, p := range ps {
			s, ok1 := starts.Lookup(t, p)
			e, ok2 := ends.Lookup(t, p)
			if !ok1 || !ok2 || s.Err != nil || e.Err != nil {
				return fmt.Errorf("Error: Partition %s-%d does not exist or has no leader", t, p)
			}
			c, hasC := committed.Lookup(t, p)
			cur := int64(-1)
			if hasC && c.Err == nil && c.At >= 0 {
				cur = c.At
			} else {
				hasC = false
			}
			plan = append(plan, resetPlan{Topic: t, Partition: p, Offset: scenario.newOffset(s.Offset, e.Offset, cur, hasC)})
		}
	}
	if execute {
		var os kadm.Offsets
		for _, p := range plan {
			os.AddOffset(p.Topic, p.Partition, p.Offset, -1)
		}
		resps, err := adm.CommitOffsets(ctx, group, os)
		if err != nil {
			return fmt.Errorf("Error: Executing consumer group command failed due to %v", rootCause(err))
		}
		if err := resps.Error(); err != nil {
			return fmt.Errorf("Error: Executing consumer group command failed due to %s", kafkaErr(err, nil))
		}
	}
	writeResetTable(stdout, group, plan)
	return nil
}
