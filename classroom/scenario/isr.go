package scenario

import (
	"context"
	"errors"
	"fmt"
	"net/url"
	"slices"
	"strconv"
	"time"

	"github.com/klassik/klassik/classroom/event"
	"github.com/klassik/klassik/zkclient"
	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kgo"
	"github.com/twmb/franz-go/pkg/kmsg"
)

// The ISR: a leader removing a follower that stopped fetching (Partition.maybeShrinkIsr after
// replica.lag.time.max.ms), adding it back once caught up (maybeExpandIsr), what
// min.insync.replicas then does to acks=all producers, and what unclean.leader.election.enable
// decides when the ISR has no live member.

func (r *runner) pauseFetch(ctx context.Context, broker int32, d time.Duration) error {
	q := url.Values{"topic": {r.topic}, "partition": {strconv.Itoa(int(r.partition))},
		"duration_ms": {strconv.FormatInt(d.Milliseconds(), 10)}}
	return r.fault(ctx, broker, "pause-fetch", q)
}

// resumeAll ends the fetch pauses on the given brokers (best effort: a scenario cleaning up).
func (r *runner) resumeAll(ctx context.Context, brokers []int32) {
	for _, id := range brokers {
		if err := r.fault(context.WithoutCancel(ctx), id, "resume-fetch", nil); err != nil {
			r.say(KindObserve, "resume-fetch on broker %d: %v", id, err)
		}
	}
}

// lagWait is how long to wait for a lag-based ISR shrink: the lag time, the leader's check
// interval (half of it) and a margin.
func (r *runner) lagWait() time.Duration {
	return time.Duration(r.lagMs)*time.Millisecond*2 + 15*time.Second
}

// pauseFor is the pause asked of a broker: long enough for the shrink, bounded by the broker.
func (r *runner) pauseFor() time.Duration { return r.lagWait() + 60*time.Second }

func slowFollower(ctx context.Context, r *runner) (bool, string, error) {
	if err := r.setupTopic(ctx, "classroom", 1, nil); err != nil {
		return false, "", err
	}
	st0, _ := r.state()
	follower := without(st0.ISR, st0.Leader)[0]
	r.say(KindStep, "Pausing broker %d's replica fetcher for %s-%d; replica.lag.time.max.ms is %d", follower, r.topic, r.partition, r.lagMs)
	start := time.Now()
	if err := r.pauseFetch(ctx, follower, r.pauseFor()); err != nil {
		return false, "", err
	}
	defer r.resumeAll(ctx, []int32{follower})
	if err := r.produce(ctx, 20, kgo.LeaderAck()); err != nil {
		r.say(KindObserve, "producing while the follower is paused: %v", err)
	}
	st, shrunk := r.waitState(ctx, r.lagWait(), func(st zkclient.PartitionState) bool { return !slices.Contains(st.ISR, follower) })
	if !shrunk {
		return false, fmt.Sprintf("broker %d stayed in the ISR %v for %v without fetching", follower, st.ISR, r.lagWait()), nil
	}
	r.say(KindObserve, "%s-%d: ISR %v -> %v, zkVersion %d -> %d, %.1f s after the pause (the leader wrote the state znode itself)",
		r.topic, r.partition, st0.ISR, st.ISR, st0.ZkVersion, st.ZkVersion, time.Since(start).Seconds())
	_, gotShrink := r.waitEvent(ctx, start, 10*time.Second, r.about(event.ISRShrink))

	r.say(KindStep, "Resuming broker %d's fetcher", follower)
	resumed := time.Now()
	if err := r.fault(ctx, follower, "resume-fetch", nil); err != nil {
		return false, "", err
	}
	st2, back := r.waitState(ctx, 30*time.Second, func(st zkclient.PartitionState) bool { return slices.Contains(st.ISR, follower) })
	if back {
		r.say(KindObserve, "%s-%d: ISR %v -> %v, zkVersion %d, %.1f s after the resume", r.topic, r.partition, st.ISR, st2.ISR, st2.ZkVersion, time.Since(resumed).Seconds())
	}
	_, gotExpand := r.waitEvent(ctx, resumed, 10*time.Second, r.about(event.ISRExpand))
	switch {
	case time.Since(start) < time.Duration(r.lagMs)*time.Millisecond && !back:
		return false, "the ISR shrank sooner than replica.lag.time.max.ms", nil
	case !gotShrink:
		return false, "the leader published no isr-shrink", nil
	case !back || !gotExpand:
		return false, fmt.Sprintf("broker %d did not rejoin the ISR after it fetched again", follower), nil
	}
	return true, fmt.Sprintf("The ISR shrank to %v after replica.lag.time.max.ms and grew back to %v once broker %d caught up", st.ISR, st2.ISR, follower), nil
}

func belowMinISR(ctx context.Context, r *runner) (bool, string, error) {
	two := "2"
	if err := r.setupTopic(ctx, "classroom", 1, map[string]*string{"min.insync.replicas": &two}); err != nil {
		return false, "", err
	}
	// The topic may exist from an earlier scenario (or be the learner's own) with another
	// value: set it for this run, and put back what was there afterwards.
	restore, err := r.overrideTopicConfig(ctx, "min.insync.replicas", "2")
	if err != nil {
		return false, "", err
	}
	defer restore()
	cfg := r.topicConfig(ctx, "min.insync.replicas")
	r.say(KindObserve, "%s has min.insync.replicas=%s", r.topic, cfg)
	st0, _ := r.state()
	followers := without(st0.ISR, st0.Leader)
	r.say(KindStep, "Pausing the fetchers of both followers %v", followers)
	start := time.Now()
	for _, f := range followers {
		if err := r.pauseFetch(ctx, f, r.pauseFor()); err != nil {
			r.resumeAll(ctx, followers)
			return false, "", err
		}
	}
	defer r.resumeAll(ctx, followers)
	st, ok := r.waitState(ctx, r.lagWait(), func(st zkclient.PartitionState) bool { return len(st.ISR) == 1 })
	if !ok {
		return false, fmt.Sprintf("the ISR did not shrink to the leader alone: %v", st.ISR), nil
	}
	r.say(KindObserve, "%s-%d: ISR %v after %.1f s: fewer than min.insync.replicas", r.topic, r.partition, st.ISR, time.Since(start).Seconds())
	allErr := r.produce(ctx, 1, kgo.AllISRAcks())
	r.say(KindObserve, "acks=all produce: %v", errText(allErr))
	oneErr := r.produce(ctx, 1, kgo.LeaderAck())
	r.say(KindObserve, "acks=1 produce: %v", errText(oneErr))
	r.say(KindStep, "Resuming both followers")
	r.resumeAll(ctx, followers)
	if st2, ok := r.waitState(ctx, 30*time.Second, func(st zkclient.PartitionState) bool { return len(st.ISR) == len(st0.ISR) }); ok {
		r.say(KindObserve, "%s-%d: ISR back to %v", r.topic, r.partition, st2.ISR)
	}
	switch {
	case !errors.Is(allErr, kerr.NotEnoughReplicas) && !errors.Is(allErr, kerr.NotEnoughReplicasAfterAppend):
		return false, fmt.Sprintf("acks=all got %v, not NOT_ENOUGH_REPLICAS", errText(allErr)), nil
	case oneErr != nil:
		return false, fmt.Sprintf("acks=1 was refused: %v", oneErr), nil
	}
	return true, fmt.Sprintf("With ISR %v below min.insync.replicas=2, acks=all was refused with NOT_ENOUGH_REPLICAS and acks=1 was written", st.ISR), nil
}

func errText(err error) string {
	if err == nil {
		return "ok"
	}
	return err.Error()
}

func (r *runner) topicConfig(ctx context.Context, name string) string {
	ctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	rcs, err := r.adm.DescribeTopicConfigs(ctx, r.topic)
	if err != nil {
		return "?"
	}
	for _, rc := range rcs {
		for _, c := range rc.Configs {
			if c.Key == name && c.Value != nil {
				return *c.Value
			}
		}
	}
	return "?"
}

func uncleanElection(ctx context.Context, r *runner) (bool, string, error) {
	off := "false"
	if err := r.setupTopic(ctx, "classroom-unclean", 1, map[string]*string{"unclean.leader.election.enable": &off}); err != nil {
		return false, "", err
	}
	if err := r.setTopicConfig(ctx, "unclean.leader.election.enable", "false"); err != nil {
		return false, "", err
	}
	if err := r.produce(ctx, 10, kgo.AllISRAcks()); err != nil {
		return false, "", fmt.Errorf("producing before the fault: %w", err)
	}
	st0, _ := r.state()
	leader := st0.Leader
	followers := without(st0.ISR, leader)
	r.say(KindStep, "Pausing the fetchers of the followers %v until the ISR is the leader %d alone", followers, leader)
	for _, f := range followers {
		if err := r.pauseFetch(ctx, f, r.pauseFor()); err != nil {
			r.resumeAll(ctx, followers)
			return false, "", err
		}
	}
	defer r.resumeAll(ctx, followers)
	if st, ok := r.waitState(ctx, r.lagWait(), func(st zkclient.PartitionState) bool { return len(st.ISR) == 1 }); !ok {
		return false, fmt.Sprintf("the ISR did not shrink to the leader alone: %v", st.ISR), nil
	}
	if err := r.produce(ctx, 10, kgo.LeaderAck()); err != nil {
		return false, "", fmt.Errorf("acks=1 produce to the lone leader: %w", err)
	}
	hw, _ := r.endOffset(ctx)
	r.say(KindObserve, "The ISR is [%d] alone; it has records up to offset %d that no follower copied", leader, hw)
	r.say(KindStep, "Killing the leader, broker %d, with SIGKILL", leader)
	start := time.Now()
	if err := r.fault(ctx, leader, "kill", nil); err != nil {
		return false, "", err
	}
	st, offline := r.waitState(ctx, r.failoverTimeout(), func(st zkclient.PartitionState) bool { return st.Leader == -1 })
	if !offline {
		return false, fmt.Sprintf("%s-%d did not go offline with unclean election off: leader %d, ISR %v", r.topic, r.partition, st.Leader, st.ISR), nil
	}
	r.say(KindObserve, "%s-%d is offline: leader -1, ISR %v (Kafka keeps the last ISR member), %.1f s after the kill", r.topic, r.partition, st.ISR, time.Since(start).Seconds())
	// It stays offline: nothing may elect an out-of-sync replica.
	if !waitFor(ctx, 3*time.Second, func() bool { s, _ := r.state(); return s.Leader != -1 }) {
		r.say(KindObserve, "Still offline 3 s later: with unclean.leader.election.enable=false Kafka prefers unavailability to losing data")
	} else {
		return false, "a leader was elected with unclean election off", nil
	}
	r.resumeAll(ctx, followers)
	r.say(KindStep, "Setting unclean.leader.election.enable=true on %s", r.topic)
	enabled := time.Now()
	if err := r.setTopicConfig(ctx, "unclean.leader.election.enable", "true"); err != nil {
		return false, "", err
	}
	st2, elected := r.waitState(ctx, 30*time.Second, func(st zkclient.PartitionState) bool { return st.Leader >= 0 && st.Leader != leader })
	if !elected {
		return false, "no out-of-sync replica was elected after enabling unclean leader election", nil
	}
	r.say(KindObserve, "%s-%d: broker %d, not in the ISR, is leader (leader epoch %d, ISR %v), %.1f s after the config change",
		r.topic, r.partition, st2.Leader, st2.LeaderEpoch, st2.ISR, time.Since(enabled).Seconds())
	_, gotEvent := r.waitEvent(ctx, enabled, 10*time.Second, func(e event.Event) bool {
		return r.about(event.LeaderElected)(e) && contains(e.Cause, "unclean")
	})
	var hw2 int64 = -1
	waitFor(ctx, 15*time.Second, func() bool { var err error; hw2, err = r.endOffset(ctx); return err == nil })
	if hw2 >= 0 && hw2 < hw {
		r.say(KindObserve, "Data loss: the partition now ends at offset %d; the %d records at %d..%d written only to broker %d are gone", hw2, hw-hw2, hw2, hw-1, leader)
	} else {
		r.say(KindObserve, "The partition ends at offset %d (it ended at %d on the old leader)", hw2, hw)
	}
	if !gotEvent {
		return false, "the controller published no unclean leader-elected event", nil
	}
	return true, fmt.Sprintf("Offline with unclean election off; with it on, out-of-sync broker %d was elected (end offset %d -> %d)", st2.Leader, hw, hw2), nil
}

func (r *runner) setTopicConfig(ctx context.Context, key, value string) error {
	ctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	resps, err := r.adm.AlterTopicConfigs(ctx, []kadm.AlterConfig{{Op: kadm.SetConfig, Name: key, Value: &value}}, r.topic)
	if err == nil {
		for _, rr := range resps {
			if rr.Err != nil {
				err = rr.Err
			}
		}
	}
	if err != nil {
		return fmt.Errorf("setting %s=%s on %s: %w", key, value, r.topic, err)
	}
	return nil
}

// overrideTopicConfig sets key=value on the scenario's topic and returns what undoes it: the
// previous override put back, or the override deleted when the topic had none.
func (r *runner) overrideTopicConfig(ctx context.Context, key, value string) (func(), error) {
	dctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	rcs, err := r.adm.DescribeTopicConfigs(dctx, r.topic)
	cancel()
	var prev *string
	if err == nil {
		for _, rc := range rcs {
			for _, c := range rc.Configs {
				if c.Key == key && c.Source == kmsg.ConfigSourceDynamicTopicConfig && c.Value != nil {
					v := *c.Value
					prev = &v
				}
			}
		}
	}
	if err := r.setTopicConfig(ctx, key, value); err != nil {
		return nil, err
	}
	return func() {
		op := kadm.AlterConfig{Op: kadm.DeleteConfig, Name: key}
		if prev != nil {
			op = kadm.AlterConfig{Op: kadm.SetConfig, Name: key, Value: prev}
		}
		uctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 10*time.Second)
		defer cancel()
		if _, err := r.adm.AlterTopicConfigs(uctx, []kadm.AlterConfig{op}, r.topic); err != nil {
			r.say(KindObserve, "putting back %s on %s: %v", key, r.topic, err)
		}
	}, nil
}
