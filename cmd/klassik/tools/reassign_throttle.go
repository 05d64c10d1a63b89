package tools

// Replication throttles for reassignments, as kafka-reassign-partitions.sh sets and clears
// them (ReassignPartitionsCommand.modifyReassignmentThrottle and clearAllThrottles):
// --execute --throttle N sets leader.replication.throttled.rate and
// follower.replication.throttled.rate to N on every broker the plan moves replicas from or to,
// leader.replication.throttled.replicas on each topic to the partitions' current replicas
// ("partition:broker", the sources) and follower.replication.throttled.replicas to the
// replicas being added (the destinations). --verify, once no reassignment and no log dir move
// is running, deletes all four again (unless --preserve-throttles).

import (
	"context"
	"fmt"
	"io"
	"slices"
	"strconv"
	"strings"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kmsg"
)

const (
	leaderThrottleRate       = "leader.replication.throttled.rate"
	followerThrottleRate     = "follower.replication.throttled.rate"
	leaderThrottledReplicas  = "leader.replication.throttled.replicas"
	followerThrottledReplics = "follower.replication.throttled.replicas"
)

const youMustRunVerify = "Warning: You must run --verify periodically, until the reassignment completes, to ensure the throttle is removed."

// reassignmentThrottle applies --throttle for plan: current holds each partition's replicas
// now, ongoing the reassignments already running (whose sources are their original replicas).
func reassignmentThrottle(ctx context.Context, adm *kadm.Client, stdout io.Writer, plan, current []partReplicas,
	ongoing map[string]kmsg.ListPartitionReassignmentsResponseTopicPartition, throttle int64) error {
	now := map[string][]int32{}
	for _, p := range current {
		now[p.name()] = p.Replicas
	}
	leader, follower := map[string][]string{}, map[string][]string{}
	brokers := map[int32]bool{}
	for _, p := range plan {
		sources := now[p.name()]
		if o, ok := ongoing[p.name()]; ok {
			sources = slices.DeleteFunc(slices.Clone(o.Replicas), func(r int32) bool { return slices.Contains(o.AddingReplicas, r) })
		}
		for _, s := range sources {
			leader[p.Topic] = append(leader[p.Topic], fmt.Sprintf("%d:%d", p.Partition, s))
			brokers[s] = true
		}
		for _, d := range p.Replicas {
			brokers[d] = true
			if !slices.Contains(sources, d) {
				follower[p.Topic] = append(follower[p.Topic], fmt.Sprintf("%d:%d", p.Partition, d))
			}
		}
	}
	for topic := range leader {
		set := func(name string, items []string) kadm.AlterConfig {
			slices.Sort(items) // Kafka joins a sorted set of "p:b" strings
			v := strings.Join(slices.Compact(items), ",")
			return kadm.AlterConfig{Op: kadm.SetConfig, Name: name, Value: &v}
		}
		resps, err := adm.AlterTopicConfigs(ctx, []kadm.AlterConfig{set(leaderThrottledReplicas, leader[topic]), set(followerThrottledReplics, follower[topic])}, topic)
		if err := alterErr(resps, err); err != nil {
			return err
		}
	}
	rate := strconv.FormatInt(throttle, 10)
	for _, id := range sortedIDs(brokers) {
		resps, err := adm.AlterBrokerConfigs(ctx, []kadm.AlterConfig{
			{Op: kadm.SetConfig, Name: leaderThrottleRate, Value: &rate},
			{Op: kadm.SetConfig, Name: followerThrottleRate, Value: &rate},
		}, id)
		if err := alterErr(resps, err); err != nil {
			return err
		}
	}
	fmt.Fprintf(stdout, "The inter-broker throttle limit was set to %d B/s\n", throttle)
	return nil
}

// clearThrottles removes every reassignment throttle of the plan's topics and of the live
// brokers and the plan's brokers, printing Kafka's two lines.
func clearThrottles(ctx context.Context, adm *kadm.Client, stdout io.Writer, plan []partReplicas) error {
	live, err := adm.ListBrokers(ctx)
	if err != nil {
		return err
	}
	brokers := map[int32]bool{}
	for _, b := range live {
		brokers[b.NodeID] = true
	}
	topics := map[string]bool{}
	for _, p := range plan {
		topics[p.Topic] = true
		for _, r := range p.Replicas {
			brokers[r] = true
		}
	}
	ids := sortedIDs(brokers)
	fmt.Fprintf(stdout, "Clearing broker-level throttles on broker%s %s\n", pluralS(len(ids)), joinIDs(ids))
	del := func(names ...string) []kadm.AlterConfig {
		var out []kadm.AlterConfig
		for _, n := range names {
			out = append(out, kadm.AlterConfig{Op: kadm.DeleteConfig, Name: n})
		}
		return out
	}
	for _, id := range ids {
		resps, err := adm.AlterBrokerConfigs(ctx, del(leaderThrottleRate, followerThrottleRate), id)
		if err := alterErr(resps, err); err != nil {
			return err
		}
	}
	names := make([]string, 0, len(topics))
	for t := range topics {
		names = append(names, t)
	}
	slices.Sort(names)
	fmt.Fprintf(stdout, "Clearing topic-level throttles on topic%s %s\n", pluralS(len(names)), strings.Join(names, ","))
	if len(names) == 0 {
		return nil
	}
	resps, err := adm.AlterTopicConfigs(ctx, del(leaderThrottledReplicas, followerThrottledReplics), names...)
	return alterErr(resps, err)
}

func alterErr(resps kadm.AlterConfigsResponses, err error) error {
	if err != nil {
		return err
	}
	for _, r := range resps {
		if r.Err != nil {
			return fmt.Errorf("altering the configs of %s: %v%s", r.Name, r.Err, errMessageSuffix(r.ErrMessage))
		}
	}
	return nil
}

func errMessageSuffix(m string) string {
	if m == "" {
		return ""
	}
	return " (" + m + ")"
}

func sortedIDs(m map[int32]bool) []int32 {
	out := make([]int32, 0, len(m))
	for id := range m {
		out = append(out, id)
	}
	slices.Sort(out)
	return out
}

func joinIDs(ids []int32) string {
	s := make([]string, len(ids))
	for i, id := range ids {
		s[i] = strconv.Itoa(int(id))
	}
	return strings.Join(s, ",")
}
