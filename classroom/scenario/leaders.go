package scenario

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"time"

	"github.com/klassik/klassik/zkclient"
	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kerr"
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
	if err := r.electPreferred(ctx); err != nil {
		return false, "", err
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

// electPreferred sends ElectLeaders (PREFERRED) for the scenario's partition to the controller.
// The controller may have just moved (the preferred broker's session expired a moment ago):
// on NOT_CONTROLLER, or no answer for the partition, it refreshes metadata and asks again,
// with a growing pause, for at most 20 s.
func (r *runner) electPreferred(ctx context.Context) error {
	deadline := time.Now().Add(20 * time.Second)
	pause := 200 * time.Millisecond
	for {
		ectx, cancel := context.WithTimeout(ctx, 10*time.Second)
		res, err := r.adm.ElectLeaders(ectx, kadm.ElectPreferredReplica, kadm.TopicsSet{r.topic: {r.partition: struct{}{}}})
		cancel()
		if err != nil {
			return fmt.Errorf("ElectLeaders: %w", err)
		}
		p, ok := res[r.topic][r.partition]
		switch {
		case ok && !errors.Is(p.Err, kerr.NotController):
			r.say(KindObserve, "ElectLeaders answered for %s-%d: %s", r.topic, r.partition, errText(p.Err))
			return nil
		case time.Now().After(deadline):
			return fmt.Errorf("ElectLeaders for %s-%d: no controller answered within 20 s (last: %v)", r.topic, r.partition, errText(p.Err))
		}
		r.say(KindObserve, "ElectLeaders reached a broker that is not the controller; asking Metadata for the controller again")
		r.kc.ForceMetadataRefresh()
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(pause):
		}
		pause = min(2*pause, 2*time.Second)
	}
}
