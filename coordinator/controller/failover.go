// Controller election and failover: becoming controller, loading the cluster from ZooKeeper,
// resigning (KafkaController.elect, onControllerFailover).

package controller

import (
	"errors"
	"slices"
	"time"

	"github.com/klassik/klassik/zkclient"
	"github.com/twmb/franz-go/pkg/kmsg"
)

// elect is Kafka's elect(): try to create /controller; the winner fails over, the losers
// keep a watch on /controller.
func (c *Controller) elect() {
	id, err := c.zk.Controller(true)
	if err != nil {
		c.log.Warn().Err(err).Msg("cannot read /controller; election postponed")
		return
	}
	if id != -1 {
		if id == c.cfg.BrokerID && !c.active.Load() {
			// A /controller of ours that this process does not act on (left from a
			// resumed session): give it up so that an election happens.
			c.log.Info().Msg("found a stale /controller of this broker; deleting it")
			if err := c.zk.ResignController(c.cfg.BrokerID); err != nil {
				c.log.Warn().Err(err).Msg("cannot delete stale /controller")
			}
			return // its deletion fires ControllerChanged, which elects again
		}
		c.log.Debug().Int32("controller", id).Msg("controller already elected")
		return
	}
	ce, err := c.zk.TryElectController(c.cfg.BrokerID)
	if errors.Is(err, zkclient.ErrNodeExists) {
		winner, _ := c.zk.Controller(true)
		c.log.Debug().Int32("controller", winner).Msg("another broker won the controller election")
		return
	}
	if err != nil {
		c.log.Error().Err(err).Msg("controller election failed")
		c.maybeTriggerMove()
		return
	}
	c.log.Info().Int32("controller_epoch", ce.Epoch).Int32("epoch_zk_version", ce.ZkVersion).Msg("elected as the controller")
	c.publishElected(ce)
	c.cause = "controller failover: partitions without a live leader"
	defer func() { c.cause = "" }()
	if err := c.onControllerFailover(ce); err != nil {
		c.log.Error().Err(err).Msg("controller failover failed; resigning")
		c.resignLocal()
		c.maybeTriggerMove()
	}
}

// onControllerChanged handles the /controller watch: resign when someone else holds it,
// elect when it is gone.
func (c *Controller) onControllerChanged() {
	id, err := c.zk.Controller(true)
	if err != nil {
		c.log.Warn().Err(err).Msg("cannot read /controller")
		return
	}
	if c.active.Load() && id != c.cfg.BrokerID {
		c.log.Info().Int32("controller", id).Msg("controller moved; resigning")
		c.resignLocal()
	}
	if id == -1 {
		c.elect()
	}
}

// maybeTriggerMove is Kafka's triggerControllerMove: delete /controller if it is still ours,
// so that a healthy broker takes over.
func (c *Controller) maybeTriggerMove() {
	id, err := c.zk.Controller(true)
	if err != nil || id != c.cfg.BrokerID {
		return
	}
	if err := c.zk.ResignController(c.cfg.BrokerID); err != nil {
		c.log.Warn().Err(err).Msg("cannot delete /controller")
	}
}

// resignLocal is onControllerResignation: stop acting and forget the cluster state.
func (c *Controller) resignLocal() {
	wasActive := c.active.Swap(false)
	if wasActive && c.st != nil {
		c.publishResigned(c.st.epoch.Epoch)
	}
	if c.rebalance != nil {
		c.rebalance.Stop()
		c.rebalance = nil
	}
	c.stopRetryOnline()
	if c.ch != nil {
		c.ch.shutdown()
		c.ch = nil
	}
	c.st = nil
	if wasActive {
		c.log.Info().Msg("resigned as controller")
	}
}

// onControllerFailover is Kafka's onControllerFailover: load everything from ZooKeeper, tell
// every broker the cluster's metadata, send every replica its partition state, elect leaders
// where there are none, resume topic deletions.
func (c *Controller) onControllerFailover(ce zkclient.ControllerEpoch) error {
	st := newClusterState(c.cfg.BrokerID, ce)
	brokers, err := c.zk.Brokers(true)
	if err != nil {
		return err
	}
	st.brokers = brokers
	topics, err := c.zk.Topics(true)
	if err != nil {
		return err
	}
	slices.Sort(topics)
	for _, t := range topics {
		if err := c.loadTopic(st, t); err != nil {
			return err
		}
	}
	for _, p := range st.partitions() {
		ps, err := c.zk.PartitionState(p.Topic, p.Partition)
		if errors.Is(err, zkclient.ErrNoNode) {
			continue
		}
		if err != nil {
			return err
		}
		st.leadership[p] = ps
	}
	deletions, err := c.zk.TopicDeletions(true)
	if err != nil {
		return err
	}
	// Pending ISR change notifications are read and dropped: every state was just read.
	if _, err := c.zk.IsrChangeNotifications(true); err != nil {
		return err
	}

	c.st = st
	if err := c.clearLogDirEvents(); err != nil {
		return err
	}
	c.ch = newChannelManager(c.sender, c.log, c.cfg.RequestRetryBackoff)
	c.ch.onStorageErrors = func(info zkclient.BrokerInfo, resp *kmsg.LeaderAndISRResponse) {
		c.push(offlineReplicasEvent{broker: info.ID, epoch: info.Epoch, resp: resp})
	}
	c.ch.events, c.ch.from = c.events, c.cfg.BrokerID
	for _, id := range st.brokerIDs() {
		c.ch.addBroker(st.brokers[id])
	}
	c.active.Store(true)
	c.log.Info().Int32("controller_epoch", ce.Epoch).Ints32("live_brokers", st.brokerIDs()).Int("topics", len(st.topics)).
		Int("pending_deletions", len(deletions)).Msg("controller state loaded")

	// Brokers learn the live brokers (and, here, every partition) before any LeaderAndIsr.
	b := newBatch()
	b.addUpdateMetadata(st.brokerIDs(), st.partitions()...)
	c.flush(b)

	// ReplicaStateMachine.startup: every live replica gets its partition's state.
	b = newBatch()
	for _, p := range st.partitions() {
		if _, ok := st.leadership[p]; ok && !st.deleting[p.Topic] {
			b.addLeaderAndIsr(st, filter(st.replicas(p), st.isLiveOrShuttingDown), p, false)
		}
	}
	// PartitionStateMachine.startup: New and Offline partitions go Online where they can.
	err = c.triggerOnline(b)
	if err == nil {
		err = c.offlineDeadReplicas(b)
	}
	c.flush(b)
	if err != nil {
		return err
	}
	if c.cfg.AutoLeaderRebalanceEnable {
		c.rebalance = time.NewTicker(time.Duration(c.cfg.LeaderImbalanceCheckSeconds) * time.Second)
	}
	if err := c.initializePartitionReassignments(); err != nil {
		return err
	}
	return c.processDeletions(deletions)
}

// offlineDeadReplicas is the offline half of ReplicaStateMachine.startup: a replica on a broker
// that is not registered goes OfflineReplica, out of the ISR, and a partition it still leads
// (no election could replace it) is left leaderless. This is what a new controller does for
// the brokers that died while there was none, the old controller among them: without it a
// partition whose only ISR member was the killed controller would keep naming it leader.
func (c *Controller) offlineDeadReplicas(b *batch) error {
	st := c.st
	dead := map[int32][]tp{}
	for _, p := range st.partitions() {
		cur, ok := st.leadership[p]
		if !ok || st.deleting[p.Topic] {
			continue
		}
		for _, r := range cur.ISR {
			if !st.isLiveOrShuttingDown(r) {
				dead[r] = append(dead[r], p)
			}
		}
	}
	ids := make([]int32, 0, len(dead))
	for id := range dead {
		ids = append(ids, id)
	}
	slices.Sort(ids)
	for _, id := range ids {
		replica := id
		if _, err := c.runChanges(b, dead[id], "OnlineReplica->OfflineReplica", func(p tp) (stateChange, error) {
			return st.decideRemoveReplica(p, replica)
		}); err != nil {
			return err
		}
	}
	return nil
}

// loadTopic reads /brokers/topics/<t> (arming its watch) into st, giving the topic an id
// if it has none (Kafka's processTopicIds).
func (c *Controller) loadTopic(st *clusterState, topic string) error {
	a, err := c.zk.TopicAssignment(topic, true)
	if errors.Is(err, zkclient.ErrNoNode) {
		return nil
	}
	if err != nil {
		return err
	}
	if a.TopicID == ([16]byte{}) {
		a.TopicID = newTopicID()
		if err := c.zk.SetTopicAssignment(a); err != nil {
			c.log.Warn().Err(err).Str("topic", topic).Msg("cannot write a topic id")
			a.TopicID = [16]byte{}
		}
	}
	info := &topicInfo{id: a.TopicID, replicas: map[int32][]int32{}, adding: map[int32][]int32{}, removing: map[int32][]int32{}}
	for p, r := range a.Partitions {
		info.replicas[p] = slices.Clone(r)
		// A reassignment in flight (KIP-455's adding_replicas/removing_replicas), resumed
		// by initializePartitionReassignments.
		if add, rem := a.AddingReplicas[p], a.RemovingReplicas[p]; len(add)+len(rem) > 0 {
			info.adding[p], info.removing[p] = slices.Clone(add), slices.Clone(rem)
			st.reassigning[tp{Topic: topic, Partition: p}] = true
		}
	}
	st.topics[topic] = info
	return nil
}
