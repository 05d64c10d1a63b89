// ISR change notifications, requested and automatic preferred leader elections
// (KafkaController.processIsrChangeNotification, onReplicaElection, checkAndTriggerAutoLeaderRebalance).

package controller

import (
	"errors"
	"slices"

	"github.com/klassik/klassik/zkclient"
	"github.com/twmb/franz-go/pkg/kerr"
)

// onIsrChangeNotification: partition leaders changed ISRs in ZooKeeper themselves; refresh
// those states and tell every broker.
func (c *Controller) onIsrChangeNotification() error {
	st := c.st
	parts, err := c.zk.IsrChangeNotifications(true)
	if err != nil {
		return err
	}
	seen := map[tp]bool{}
	var changed []tp
	for _, p := range parts {
		if seen[p] || !st.exists(p) {
			continue
		}
		seen[p] = true
		fresh, err := c.zk.PartitionState(p.Topic, p.Partition)
		if errors.Is(err, zkclient.ErrNoNode) {
			continue
		}
		if err != nil {
			return err
		}
		st.leadership[p] = fresh
		changed = append(changed, p)
	}
	if len(changed) == 0 {
		return nil
	}
	c.log.Debug().Int("partitions", len(changed)).Msg("ISR change notification")
	b := newBatch()
	b.addUpdateMetadata(st.brokerIDs(), changed...)
	// Reassigning partitions whose target replicas are now all in the ISR finish (Kafka's
	// PartitionReassignmentIsrChangeHandler).
	c.cause = "partition reassignment: target replicas in the ISR"
	defer func() { c.cause = "" }()
	err = c.maybeCompleteReassignments(b, changed)
	c.flush(b)
	return err
}

// onElectLeaders is processReplicaLeaderElection for the admin API.
func (c *Controller) onElectLeaders(typ ElectionType, parts []tp) (map[tp]int16, error) {
	codes := map[tp]int16{}
	if !c.active.Load() {
		for _, p := range parts {
			codes[p] = kerr.NotController.Code
		}
		return codes, ErrNotActive
	}
	st := c.st
	if parts == nil {
		parts = st.partitions()
	}
	var electable []tp
	for _, p := range parts {
		if _, done := codes[p]; done || slices.Contains(electable, p) {
			continue
		}
		cur, hasState := st.leadership[p]
		switch {
		case !st.exists(p):
			codes[p] = kerr.UnknownTopicOrPartition.Code
		case st.deleting[p.Topic]:
			codes[p] = kerr.InvalidTopicException.Code
		case typ == ElectPreferred && hasState && cur.Leader == st.replicas(p)[0]:
			codes[p] = kerr.ElectionNotNeeded.Code
		case typ != ElectPreferred && hasState && cur.Leader != noLeader && st.isLiveOrShuttingDown(cur.Leader):
			codes[p] = kerr.ElectionNotNeeded.Code
		default:
			electable = append(electable, p)
		}
	}
	strat, failCode := preferredElection, kerr.PreferredLeaderNotAvailable.Code
	if typ != ElectPreferred {
		strat, failCode = offlineElectionAllowUnclean, kerr.EligibleLeadersNotAvailable.Code
	}
	c.log.Info().Str("strategy", strat.String()).Int("partitions", len(electable)).Msg("leader election requested")
	b := newBatch()
	unclean := c.uncleanLookup()
	results, err := c.runChanges(b, electable, strat.String()+" election", func(p tp) (stateChange, error) {
		return st.decideElection(p, strat, unclean)
	})
	c.flush(b)
	for _, p := range electable {
		res, ok := results[p]
		switch {
		case !ok:
			codes[p] = kerr.NotController.Code
		case res == nil:
			codes[p] = 0
		case errors.Is(res, errNoEligibleLeader), errors.Is(res, errNoState):
			codes[p] = failCode
		default:
			codes[p] = kerr.UnknownServerError.Code
		}
	}
	return codes, err
}

// onAutoRebalance is the auto leader rebalance task (auto.leader.rebalance.enable).
func (c *Controller) onAutoRebalance() error {
	st := c.st
	cands := st.rebalanceCandidates(c.cfg.LeaderImbalancePerBrokerPercentage)
	if len(cands) == 0 {
		return nil
	}
	c.log.Info().Int("partitions", len(cands)).Msg("auto leader rebalance: preferred replica election")
	b := newBatch()
	_, err := c.runChanges(b, cands, "preferred election", func(p tp) (stateChange, error) {
		return st.decideElection(p, preferredElection, nil)
	})
	c.flush(b)
	return err
}
