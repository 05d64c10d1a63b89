package scenario

import (
	"context"
	"fmt"
	"slices"
	"time"

	"github.com/klassik/klassik/classroom/event"
	"github.com/klassik/klassik/zkclient"
	"github.com/twmb/franz-go/pkg/kgo"
)

// Broker failures: a broker killed, stopped, or cut off from ZooKeeper, and what the
// controller does about it (KafkaController.onBrokerFailure, ControlledShutdown,
// onControllerFailover).

// electedAfter waits for a leader-elected event of the partition whose cause contains want.
func (r *runner) electedAfter(ctx context.Context, from time.Time, timeout time.Duration, want string) (event.Event, bool) {
	is := r.about(event.LeaderElected)
	return r.waitEvent(ctx, from, timeout, func(e event.Event) bool { return is(e) && contains(e.Cause, want) })
}

func killLeader(ctx context.Context, r *runner) (bool, string, error) {
	if err := r.setupTopic(ctx, "classroom", 1, nil); err != nil {
		return false, "", err
	}
	if err := r.produce(ctx, 10, kgo.AllISRAcks()); err != nil {
		return false, "", fmt.Errorf("producing before the fault: %w", err)
	}
	before, _ := r.state()
	old := before.Leader
	ctrl, _ := r.zk.Controller(false)
	wasController := ctrl == old
	r.say(KindStep, "Killing broker %d, the leader of %s-%d, with SIGKILL; zookeeper.session.timeout.ms is %d", old, r.topic, r.partition, r.sessionMs)
	start := time.Now()
	if err := r.fault(ctx, old, "kill", nil); err != nil {
		return false, "", err
	}
	st, ok := r.waitState(ctx, r.failoverTimeout(), func(st zkclient.PartitionState) bool {
		return st.Leader != old && st.LeaderEpoch > before.LeaderEpoch
	})
	if !ok {
		return false, fmt.Sprintf("no new leader for %s-%d within %v of killing broker %d", r.topic, r.partition, r.failoverTimeout(), old), nil
	}
	// The broker-lost event came before the election, if a controller saw the broker go; when
	// the killed broker was the controller, its successor finds it gone on taking over
	// (onControllerFailover) and reports no loss.
	lost, gotLost := r.waitEvent(ctx, start, 2*time.Second, func(e event.Event) bool {
		return e.Kind == event.BrokerLost && e.Broker != nil && *e.Broker == old
	})
	if gotLost {
		r.say(KindObserve, "The controller saw /brokers/ids/%d vanish %.1f s after the kill: its ZooKeeper session had to time out", old, lost.Time.Sub(start).Seconds())
	} else if wasController {
		r.say(KindObserve, "Broker %d was also the controller: its successor found it gone when it took over", old)
	}
	r.say(KindObserve, "%s-%d state znode: leader %d, leader epoch %d -> %d, ISR %v, zkVersion %d -> %d (%.1f s after the kill)",
		r.topic, r.partition, st.Leader, before.LeaderEpoch, st.LeaderEpoch, st.ISR, before.ZkVersion, st.ZkVersion, time.Since(start).Seconds())
	// The cause is "broker N failed"; or, when the broker was restarted at once (a
	// supervisor, compose's restart policy) and registered again as its old session expired,
	// the controller saw one change of /brokers/ids with a new broker epoch and failed over
	// a bounced broker (KafkaController.processBrokerChange, bouncedBrokerIds).
	failed, bounced := fmt.Sprintf("broker %d failed", old), fmt.Sprintf("broker %d re-registered with a new session", old)
	elected := r.about(event.LeaderElected)
	why, gotCause := r.waitEvent(ctx, start, 10*time.Second, func(e event.Event) bool {
		return elected(e) && (contains(e.Cause, failed) || contains(e.Cause, bounced))
	})
	if gotCause && contains(why.Cause, bounced) {
		r.say(KindObserve, "Broker %d was restarted and registered again as its old session expired: the controller failed it over as a bounced broker", old)
	}
	if !gotCause && wasController {
		// The leader was also the controller: its successor found the partition leaderless
		// when it loaded the cluster (onControllerFailover), so that is the cause it gives.
		_, gotCause = r.electedAfter(ctx, start, 10*time.Second, "controller failover")
	}
	inISR := slices.Contains(before.ISR, st.Leader)
	if err := r.produce(ctx, 5, kgo.AllISRAcks()); err != nil {
		r.say(KindObserve, "acks=all produce to the new leader failed: %v", err)
	} else {
		r.say(KindObserve, "acks=all produce to the new leader %d succeeded", st.Leader)
	}
	switch {
	case !inISR:
		return false, fmt.Sprintf("broker %d became leader but was not in the ISR %v", st.Leader, before.ISR), nil
	case !gotCause:
		return false, fmt.Sprintf("broker %d leads, but no leader-elected event gave the cause \"broker %d failed\" (or re-registered)", st.Leader, old), nil
	}
	return true, fmt.Sprintf("Broker %d (from the ISR %v) leads %s-%d with leader epoch %d after broker %d was killed", st.Leader, before.ISR, r.topic, r.partition, st.LeaderEpoch, old), nil
}

func killController(ctx context.Context, r *runner) (bool, string, error) {
	old, err := r.zk.Controller(false)
	if err != nil || old < 0 {
		return false, "", fmt.Errorf("no controller in /controller: %v", err)
	}
	ce, err := r.zk.ControllerEpoch()
	if err != nil {
		return false, "", fmt.Errorf("reading /controller_epoch: %w", err)
	}
	r.say(KindObserve, "/controller names broker %d; /controller_epoch is %d", old, ce.Epoch)
	r.say(KindStep, "Killing the controller, broker %d, with SIGKILL", old)
	start := time.Now()
	if err := r.fault(ctx, old, "kill", nil); err != nil {
		return false, "", err
	}
	var now int32 = -1
	if !waitFor(ctx, r.failoverTimeout(), func() bool {
		now, err = r.zk.Controller(false)
		return err == nil && now >= 0 && now != old
	}) {
		return false, fmt.Sprintf("no new controller within %v of killing broker %d", r.failoverTimeout(), old), nil
	}
	ce2, _ := r.zk.ControllerEpoch()
	r.say(KindObserve, "/controller now names broker %d, controller epoch %d (%.1f s after the kill)", now, ce2.Epoch, time.Since(start).Seconds())
	e, ok := r.waitEvent(ctx, start, 10*time.Second, func(e event.Event) bool {
		return e.Kind == event.ControllerElected && e.Source == fmt.Sprint(now)
	})
	switch {
	case ce2.Epoch != ce.Epoch+1:
		return false, fmt.Sprintf("controller epoch went from %d to %d, not up by one", ce.Epoch, ce2.Epoch), nil
	case !ok:
		return false, fmt.Sprintf("broker %d holds /controller but published no controller-elected event", now), nil
	}
	_ = e
	return true, fmt.Sprintf("Broker %d took over as controller with epoch %d after controller %d (epoch %d) was killed", now, ce2.Epoch, old, ce.Epoch), nil
}

func stopBroker(ctx context.Context, r *runner) (bool, string, error) {
	if err := r.setupTopic(ctx, "classroom", 1, nil); err != nil {
		return false, "", err
	}
	before, _ := r.state()
	old := before.Leader
	path := fmt.Sprintf("/brokers/ids/%d", old)
	r.say(KindStep, "Stopping broker %d, the leader of %s-%d, with SIGTERM (controlled shutdown)", old, r.topic, r.partition)
	start := time.Now()
	if err := r.fault(ctx, old, "shutdown", nil); err != nil {
		return false, "", err
	}
	var registeredAtMove bool
	st, ok := r.waitState(ctx, 60*time.Second, func(st zkclient.PartitionState) bool {
		if st.Leader != old && st.LeaderEpoch > before.LeaderEpoch {
			_, registeredAtMove = r.brokers()[old]
			return true
		}
		return false
	})
	if !ok {
		return false, fmt.Sprintf("leadership of %s-%d did not move off broker %d", r.topic, r.partition, old), nil
	}
	moved := time.Since(start)
	r.say(KindObserve, "%s-%d: leader %d -> %d, leader epoch %d, ISR %v, %.1f s after SIGTERM; %s %s",
		r.topic, r.partition, old, st.Leader, st.LeaderEpoch, st.ISR, moved.Seconds(), path,
		map[bool]string{true: "still existed then: the broker was still alive", false: "was already gone"}[registeredAtMove])
	_, gotCause := r.electedAfter(ctx, start, 10*time.Second, fmt.Sprintf("controlled shutdown of broker %d", old))
	gone := waitFor(ctx, 60*time.Second, func() bool { _, ok := r.brokers()[old]; return !ok })
	if gone {
		r.say(KindObserve, "%s vanished: broker %d closed its ZooKeeper session on exit", path, old)
	}
	switch {
	case !gotCause:
		return false, fmt.Sprintf("no leader-elected event with the cause \"controlled shutdown of broker %d\"", old), nil
	case moved > time.Duration(r.sessionMs)*time.Millisecond:
		return false, fmt.Sprintf("leadership moved after %.1f s, no sooner than a session timeout: not a controlled shutdown", moved.Seconds()), nil
	}
	return true, fmt.Sprintf("Controlled shutdown moved %s-%d from broker %d to %d in %.1f s, before the broker left", r.topic, r.partition, old, st.Leader, moved.Seconds()), nil
}

func expireSession(ctx context.Context, r *runner) (bool, string, error) {
	if err := r.setupTopic(ctx, "classroom", 1, nil); err != nil {
		return false, "", err
	}
	ctrl, _ := r.zk.Controller(false)
	st0, _ := r.state()
	// Prefer the partition's leader, unless it is the controller: the controller's own
	// expiry is a controller failover, which kill-controller shows.
	target := st0.Leader
	if target == ctrl {
		for _, id := range st0.ISR {
			if id != ctrl {
				target = id
				break
			}
		}
	}
	info, ok := r.brokers()[target]
	if !ok {
		return false, "", fmt.Errorf("broker %d is not registered", target)
	}
	r.say(KindObserve, "/brokers/ids/%d has broker epoch (czxid) %d", target, info.Epoch)
	start := time.Now()
	if err := r.fault(ctx, target, "expire-session", nil); err != nil {
		return false, "", err
	}
	_, lost := r.waitEvent(ctx, start, r.failoverTimeout(), func(e event.Event) bool {
		return e.Kind == event.BrokerLost && e.Broker != nil && *e.Broker == target
	})
	var epoch int64
	back := waitFor(ctx, r.failoverTimeout(), func() bool {
		b, ok := r.brokers()[target]
		epoch = b.Epoch
		return ok && b.Epoch > info.Epoch
	})
	if back {
		r.say(KindObserve, "Broker %d registered again with a new session: broker epoch %d -> %d (%.1f s after the fault)", target, info.Epoch, epoch, time.Since(start).Seconds())
	}
	if target == st0.Leader {
		if st, ok := r.waitState(ctx, 10*time.Second, func(st zkclient.PartitionState) bool { return st.LeaderEpoch > st0.LeaderEpoch }); ok {
			r.say(KindObserve, "%s-%d: leader %d -> %d, leader epoch %d", r.topic, r.partition, st0.Leader, st.Leader, st.LeaderEpoch)
		}
	}
	if st, ok := r.waitState(ctx, r.failoverTimeout(), func(st zkclient.PartitionState) bool { return slices.Contains(st.ISR, target) }); ok {
		r.say(KindObserve, "%s-%d: broker %d is back in the ISR %v", r.topic, r.partition, target, st.ISR)
	}
	switch {
	case !lost:
		return false, fmt.Sprintf("the controller published no broker-lost for broker %d", target), nil
	case !back:
		return false, fmt.Sprintf("broker %d did not register again with a new broker epoch", target), nil
	}
	return true, fmt.Sprintf("Broker %d's session expired: the controller treated it as failed, and it came back with broker epoch %d", target, epoch), nil
}
