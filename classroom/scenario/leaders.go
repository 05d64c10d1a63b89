package scenario

import (
	"context"
	"fmt"
	"slices"
	"time"

	"github.com/klassik/klassik/zkclient"
	"github.com/twmb/franz-go/pkg/kadm"
)

// Preferred replica election: the first replica of the assignment is the preferred leader;
// ElectLeaders (kafka-leader-election.sh --election-type preferred) moves leadership back to
// it when it is alive and in the ISR (PreferredReplicaPartitionLeaderElectionStrategy).

func preferredLeaderElection(ctx context.Context, r *runner) (bool, string, error) {
	if err := r.setupTopic(ctx, "classroom", 1, nil); err != nil {
		return false, "", err
	}
	reps, _ := r.replicas()
	preferred := reps[0]
	st0, _ := r.state()
	r.say(KindObserve, "%s-%d: replicas %v, so broker %d is the preferred leader; the leader is %d", r.topic, r.partition, reps, preferred, st0.Leader)
	if st0.Leader == preferred {
		r.say(KindStep, "Moving leadership off broker %d: expiring its ZooKeeper session, so the controller elects another ISR member", preferred)
		start := time.Now()
		if err := r.fault(ctx, preferred, "expire-session", nil); err != nil {
			return false, "", err
		}
		st, ok := r.waitState(ctx, r.failoverTimeout(), func(st zkclient.PartitionState) bool { return st.Leader >= 0 && st.Leader != preferred })
		if !ok {
			return false, fmt.Sprintf("leadership did not move off broker %d", preferred), nil
		}
		r.say(KindObserve, "%s-%d: leader %d -> %d (%.1f s)", r.topic, r.partition, preferred, st.Leader, time.Since(start).Seconds())
	}
	st1, ok := r.waitState(ctx, r.failoverTimeout(), func(st zkclient.PartitionState) bool {
		return st.Leader >= 0 && st.Leader != preferred && slices.Contains(st.ISR, preferred)
	})
	if !ok {
		if st1.Leader == preferred {
			return false, fmt.Sprintf("broker %d led again before the election was asked for (auto.leader.rebalance?)", preferred), nil
		}
		return false, fmt.Sprintf("broker %d did not rejoin the ISR %v", preferred, st1.ISR), nil
	}
	r.say(KindObserve, "Broker %d is back in the ISR %v, but broker %d leads", preferred, st1.ISR, st1.Leader)
	r.say(KindStep, "ElectLeaders, election type PREFERRED, for %s-%d", r.topic, r.partition)
	start := time.Now()
	ectx, cancel := context.WithTimeout(ctx, 15*time.Second)
	res, err := r.adm.ElectLeaders(ectx, kadm.ElectPreferredReplica, kadm.TopicsSet{r.topic: {r.partition: struct{}{}}})
	cancel()
	if err != nil {
		return false, "", fmt.Errorf("ElectLeaders: %w", err)
	}
	for _, ps := range res {
		for _, p := range ps {
			r.say(KindObserve, "ElectLeaders answered for %s-%d: %s", p.Topic, p.Partition, errText(p.Err))
		}
	}
	st2, ok := r.waitState(ctx, 15*time.Second, func(st zkclient.PartitionState) bool { return st.Leader == preferred })
	if !ok {
		return false, fmt.Sprintf("broker %d is not leader after the preferred election: leader %d", preferred, st2.Leader), nil
	}
	r.say(KindObserve, "%s-%d: leader %d -> %d, leader epoch %d", r.topic, r.partition, st1.Leader, preferred, st2.LeaderEpoch)
	if _, ok := r.electedAfter(ctx, start, 10*time.Second, "preferred replica election"); !ok {
		return false, "no leader-elected event with the cause \"preferred replica election\"", nil
	}
	return true, fmt.Sprintf("The preferred replica election made broker %d, the first replica of %v, leader again", preferred, reps), nil
}
