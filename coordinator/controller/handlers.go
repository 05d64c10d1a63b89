package controller

import (
	"crypto/rand"
	"errors"
	"slices"
	"strconv"
	"time"

	"github.com/klassik/klassik/zkclient"
	"github.com/twmb/franz-go/pkg/kerr"
)

// This file is the effectful half of the controller: the event handlers, run only by the
// event loop goroutine. They read ZooKeeper, ask the pure decisions in election.go what to
// do, make the conditional writes, record what was written in the cluster state, and hand the
// resulting requests to the channel manager.

// maxWriteRounds bounds the re-read-and-decide-again rounds after conflicting writes
// (ErrBadVersion: a partition leader changed its ISR while we decided).
const maxWriteRounds = 10

func (c *Controller) handle(ev event) {
	var err error
	switch e := ev.(type) {
	case startupEvent:
		c.elect()
	case rebalanceEvent:
		if c.active.Load() {
			err = c.onAutoRebalance()
		}
	case shutdownEvent:
		var remaining []zkclient.TopicPartition
		remaining, err = c.onControlledShutdown(e.brokerID, e.brokerEpoch)
		replyErr := err
		if errors.Is(err, zkclient.ErrNotController) {
			replyErr = ErrNotActive
		}
		e.reply <- shutdownResult{remaining: remaining, err: replyErr}
	case electEvent:
		var codes map[zkclient.TopicPartition]int16
		codes, err = c.onElectLeaders(e.typ, e.parts)
		replyErr := err
		if errors.Is(err, zkclient.ErrNotController) {
			replyErr = ErrNotActive
		}
		e.reply <- electResult{codes: codes, err: replyErr}
	case zkclient.Event:
		err = c.handleZK(e)
	}
	if err == nil || errors.Is(err, ErrNotActive) || errors.Is(err, ErrStaleBrokerEpoch) || errors.Is(err, ErrBrokerNotAvailable) {
		return
	}
	if errors.Is(err, zkclient.ErrNotController) {
		// Kafka's ControllerMovedException: someone else holds a newer controller epoch.
		c.log.Info().Msg("controller epoch moved; resigning")
		c.resignLocal()
		c.maybeTriggerMove()
		return
	}
	c.log.Error().Err(err).Msgf("error handling controller event %T", ev)
}

func (c *Controller) handleZK(e zkclient.Event) error {
	switch e.Type {
	case zkclient.EventSessionExpired:
		// Our ephemerals, /controller among them, are gone: stop acting at once.
		if c.active.Load() {
			c.log.Info().Msg("ZooKeeper session expired; resigning")
		}
		c.resignLocal()
	case zkclient.EventSessionEstablished:
		// Kafka's RegisterBrokerAndReelect (the broker re-registers itself before this).
		c.elect()
	case zkclient.EventControllerChanged:
		c.onControllerChanged()
	}
	if !c.active.Load() {
		return nil
	}
	switch e.Type {
	case zkclient.EventBrokersChanged:
		return c.onBrokersChanged()
	case zkclient.EventTopicsChanged:
		return c.onTopicsChanged()
	case zkclient.EventPartitionsChanged:
		return c.onPartitionsChanged(e.Topic)
	case zkclient.EventTopicDeletionsChanged:
		deletions, err := c.zk.TopicDeletions(true)
		if err != nil {
			return err
		}
		return c.processDeletions(deletions)
	case zkclient.EventIsrChangeNotification:
		return c.onIsrChangeNotification()
	case zkclient.EventConfigChanged:
		// A topic may have enabled unclean.leader.election.enable: retry offline partitions
		// (Kafka's TopicUncleanLeaderElectionEnable).
		b := newBatch()
		err := c.triggerOnline(b)
		c.flush(b)
		return err
	case zkclient.EventPreferredReplicaElection:
		c.log.Debug().Msg("ignoring /admin/preferred_replica_election: use the ElectLeaders API")
	}
	return nil
}

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
	if c.rebalance != nil {
		c.rebalance.Stop()
		c.rebalance = nil
	}
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
	c.ch = newChannelManager(c.sender, c.log, c.cfg.RequestRetryBackoff)
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
	c.flush(b)
	if err != nil {
		return err
	}
	if c.cfg.AutoLeaderRebalanceEnable {
		c.rebalance = time.NewTicker(time.Duration(c.cfg.LeaderImbalanceCheckSeconds) * time.Second)
	}
	return c.processDeletions(deletions)
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
	info := &topicInfo{id: a.TopicID, replicas: map[int32][]int32{}}
	for p, r := range a.Partitions {
		info.replicas[p] = slices.Clone(r)
	}
	st.topics[topic] = info
	return nil
}

// newTopicID is Kafka's Uuid.randomUuid: random, never zero, and never one whose base64
// form starts with '-'.
func newTopicID() [16]byte {
	for {
		var id [16]byte
		_, _ = rand.Read(id[:])
		if id != ([16]byte{}) && id[0]>>2 != 62 && id != [16]byte{15: 1} {
			return id
		}
	}
}

func (c *Controller) flush(b *batch) {
	if c.st == nil || c.ch == nil || b.empty() {
		return
	}
	for _, r := range c.st.buildRequests(b, c.cfg.InterBrokerListenerName) {
		c.ch.enqueue(r)
	}
}

// uncleanLookup answers unclean.leader.election.enable per topic: the topic config in
// ZooKeeper, else the broker default. Memoized for one event.
func (c *Controller) uncleanLookup() func(string) bool {
	memo := map[string]bool{}
	return func(topic string) bool {
		if v, ok := memo[topic]; ok {
			return v
		}
		v := c.cfg.UncleanLeaderElectionEnable
		conf, err := c.zk.TopicConfig(topic)
		if err != nil {
			c.log.Warn().Err(err).Str("topic", topic).Msg("cannot read topic config; no unclean election")
			v = false
		} else if s, ok := conf["unclean.leader.election.enable"]; ok {
			if b, perr := strconv.ParseBool(s); perr == nil {
				v = b
			}
		}
		memo[topic] = v
		return v
	}
}

// runChanges decides and writes the transitions of parts, committing each successful write
// to the state and the batch. A write that lost a race (ErrBadVersion) re-reads the
// partition and is decided again. It returns a per-partition outcome (nil: done) and a
// non-nil error only when the controller must resign (zkclient.ErrNotController).
func (c *Controller) runChanges(b *batch, parts []tp, what string, decide func(tp) (stateChange, error)) (map[tp]error, error) {
	st := c.st
	results := map[tp]error{}
	pending := parts
	for round := 0; len(pending) > 0; round++ {
		if round == maxWriteRounds {
			for _, p := range pending {
				results[p] = errors.New("gave up after repeated conflicting writes")
				c.logFailed(p, what, results[p])
			}
			break
		}
		var retry []tp
		creates := map[string][]stateChange{}
		for _, p := range pending {
			ch, err := decide(p)
			if err != nil {
				results[p] = err
				c.logFailed(p, what, err)
				continue
			}
			switch {
			case ch.Create:
				creates[p.Topic] = append(creates[p.Topic], ch)
				continue
			case ch.NoWrite:
				c.commit(b, ch, ch.New.ZkVersion)
				results[p] = nil
				continue
			}
			v, err := c.zk.UpdatePartitionState(st.epoch, p.Topic, p.Partition, ch.New)
			switch {
			case err == nil:
				c.commit(b, ch, v)
				results[p] = nil
			case errors.Is(err, zkclient.ErrNotController):
				return results, err
			case errors.Is(err, zkclient.ErrBadVersion):
				fresh, rerr := c.zk.PartitionState(p.Topic, p.Partition)
				if rerr != nil {
					results[p] = rerr
					c.logFailed(p, what, rerr)
					continue
				}
				c.log.Debug().Str("topic", p.Topic).Int32("partition", p.Partition).Msg("partition state changed under us; deciding again")
				st.leadership[p] = fresh
				retry = append(retry, p)
			default:
				results[p] = err
				c.logFailed(p, what, err)
			}
		}
		topics := make([]string, 0, len(creates))
		for t := range creates {
			topics = append(topics, t)
		}
		slices.Sort(topics)
		for _, t := range topics {
			states := map[int32]zkclient.PartitionState{}
			for _, ch := range creates[t] {
				states[ch.P.Partition] = ch.New
			}
			err := c.zk.CreatePartitionStates(st.epoch, t, states)
			if errors.Is(err, zkclient.ErrNotController) {
				return results, err
			}
			for _, ch := range creates[t] {
				if err == nil {
					c.commit(b, ch, 0)
					results[ch.P] = nil
					continue
				}
				results[ch.P] = err
				c.logFailed(ch.P, what, err)
				// The state may exist already (an earlier controller got this far): adopt it.
				if fresh, rerr := c.zk.PartitionState(t, ch.P.Partition); rerr == nil {
					st.leadership[ch.P] = fresh
				}
			}
		}
		pending = retry
	}
	return results, nil
}

// commit records a written transition and queues its LeaderAndIsr (and UpdateMetadata).
func (c *Controller) commit(b *batch, ch stateChange, version int32) {
	st := ch.New
	st.ZkVersion = version
	c.st.leadership[ch.P] = st
	b.addLeaderAndIsr(c.st, ch.Recipients, ch.P, ch.IsNew)
	if ch.NoWrite {
		return
	}
	if st.Leader != noLeader {
		delete(c.st.offline, ch.P)
	}
	oldLeader := ch.Old.Leader
	if ch.Create {
		oldLeader = noLeader
	}
	ev := c.log.Info().Str("topic", ch.P.Topic).Int32("partition", ch.P.Partition).
		Int32("old_leader", oldLeader).Int32("new_leader", st.Leader).Int32("leader_epoch", st.LeaderEpoch).
		Ints32("isr", st.ISR).Int32("zk_version", st.ZkVersion).Str("reason", ch.Reason)
	switch {
	case ch.Unclean:
		ev.Bool("unclean", true).Msg("partition leader elected outside the ISR (unclean election)")
	case ch.Create || oldLeader != st.Leader:
		ev.Msg("partition leader elected")
	default:
		ev.Ints32("old_isr", ch.Old.ISR).Msg("partition ISR changed")
	}
}

func (c *Controller) logFailed(p tp, what string, err error) {
	ev := c.log.Warn()
	if errors.Is(err, errNoEligibleLeader) || errors.Is(err, errNoLiveReplica) {
		ev = c.log.Info()
	}
	var isr []int32
	if st, ok := c.st.leadership[p]; ok {
		isr = st.ISR
	}
	ev.Err(err).Str("topic", p.Topic).Int32("partition", p.Partition).Str("transition", what).
		Ints32("replicas", c.st.replicas(p)).Ints32("isr", isr).Ints32("live_brokers", c.st.brokerIDs()).
		Msg("partition state change failed")
}

// triggerOnline is triggerOnlinePartitionStateChange: every New partition gets its first
// state, every Offline partition an offline election.
func (c *Controller) triggerOnline(b *batch) error {
	st := c.st
	var newParts, offline []tp
	for _, p := range st.partitions() {
		if !st.needsLeader(p) {
			continue
		}
		if _, ok := st.leadership[p]; ok {
			st.offline[p] = true
			offline = append(offline, p)
		} else {
			newParts = append(newParts, p)
		}
	}
	if _, err := c.runChanges(b, newParts, "NewPartition->OnlinePartition", st.decideNewPartition); err != nil {
		return err
	}
	unclean := c.uncleanLookup()
	_, err := c.runChanges(b, offline, "OfflinePartition->OnlinePartition", func(p tp) (stateChange, error) {
		return st.decideElection(p, offlineElection, unclean)
	})
	return err
}

// onBrokersChanged is processBrokerChange: new, dead and bounced (re-registered with a new
// czxid) brokers. A bounced broker is handled as failed, then started.
func (c *Controller) onBrokersChanged() error {
	st := c.st
	cur, err := c.zk.Brokers(true)
	if err != nil {
		return err
	}
	var added, dead, bounced []int32
	for id, info := range cur {
		old, ok := st.brokers[id]
		switch {
		case !ok:
			added = append(added, id)
		case info.Epoch != old.Epoch:
			bounced = append(bounced, id)
		}
	}
	for id := range st.brokers {
		if _, ok := cur[id]; !ok {
			dead = append(dead, id)
		}
	}
	slices.Sort(added)
	slices.Sort(dead)
	slices.Sort(bounced)
	if len(added)+len(dead)+len(bounced) == 0 {
		return nil
	}
	c.log.Info().Ints32("new", added).Ints32("dead", dead).Ints32("bounced", bounced).Ints32("live", sortedKeys(cur)).Msg("brokers changed")

	for _, id := range append(slices.Clone(dead), bounced...) {
		c.ch.removeBroker(id)
	}
	for _, id := range append(slices.Clone(added), bounced...) {
		c.ch.addBroker(cur[id])
	}
	if len(added) > 0 {
		for _, id := range added {
			st.brokers[id] = cur[id]
		}
		if err := c.onBrokerStartup(added); err != nil {
			return err
		}
	}
	if len(bounced) > 0 {
		for _, id := range bounced {
			delete(st.brokers, id)
		}
		if err := c.onBrokerFailure(bounced); err != nil {
			return err
		}
		for _, id := range bounced {
			st.brokers[id] = cur[id]
		}
		if err := c.onBrokerStartup(bounced); err != nil {
			return err
		}
	}
	if len(dead) > 0 {
		for _, id := range dead {
			delete(st.brokers, id)
		}
		return c.onBrokerFailure(dead)
	}
	return nil
}

// onBrokerStartup: the existing brokers learn of the new ones, the new ones get the full
// metadata and the state of every replica they host, and offline partitions they can lead
// get leaders.
func (c *Controller) onBrokerStartup(ids []int32) error {
	st := c.st
	var existing []int32
	for _, id := range st.brokerIDs() {
		if !slices.Contains(ids, id) {
			existing = append(existing, id)
		}
	}
	b := newBatch()
	b.addUpdateMetadata(existing)
	c.flush(b)

	var withLeaders []tp
	for _, p := range st.partitions() {
		if _, ok := st.leadership[p]; ok {
			withLeaders = append(withLeaders, p)
		}
	}
	b = newBatch()
	b.addUpdateMetadata(ids, withLeaders...)
	c.flush(b)

	b = newBatch()
	for _, id := range ids {
		for _, p := range st.partitionsOn(id) {
			if _, ok := st.leadership[p]; ok && !st.deleting[p.Topic] {
				b.addLeaderAndIsr(st, []int32{id}, p, false)
			}
		}
	}
	err := c.triggerOnline(b)
	c.flush(b)
	return err
}

// onBrokerFailure (onReplicasBecomeOffline): partitions the brokers led get new leaders; the
// brokers leave every ISR (a partition left without a leader is written with leader -1);
// everyone learns the new states and the new broker list.
func (c *Controller) onBrokerFailure(ids []int32) error {
	st := c.st
	for _, id := range ids {
		delete(st.shuttingDown, id)
	}
	b := newBatch()
	defer c.flush(b)
	if err := c.triggerOnline(b); err != nil {
		return err
	}
	for _, id := range ids {
		var parts []tp
		for _, p := range st.partitionsOn(id) {
			if st.deleting[p.Topic] {
				continue
			}
			if _, ok := st.leadership[p]; !ok {
				b.addUpdateMetadata(st.brokerIDs(), p)
				continue
			}
			parts = append(parts, p)
		}
		replica := id
		if _, err := c.runChanges(b, parts, "OnlineReplica->OfflineReplica", func(p tp) (stateChange, error) {
			return st.decideRemoveReplica(p, replica)
		}); err != nil {
			return err
		}
	}
	b.addUpdateMetadata(st.brokerIDs())
	return nil
}

// onTopicsChanged is processTopicChange: new topics get states, vanished ones are forgotten.
func (c *Controller) onTopicsChanged() error {
	st := c.st
	topics, err := c.zk.Topics(true)
	if err != nil {
		return err
	}
	slices.Sort(topics)
	var added, gone []string
	for _, t := range topics {
		if st.topics[t] == nil {
			added = append(added, t)
		}
	}
	for t := range st.topics {
		if !slices.Contains(topics, t) {
			gone = append(gone, t)
		}
	}
	slices.Sort(gone)
	for _, t := range gone {
		c.removeTopicState(t)
	}
	var newParts []tp
	for _, t := range added {
		if err := c.loadTopic(st, t); err != nil {
			return err
		}
		newParts = append(newParts, st.topicPartitions(t)...)
	}
	if len(added)+len(gone) > 0 {
		c.log.Info().Strs("new_topics", added).Strs("deleted_topics", gone).Msg("topics changed")
	}
	b := newBatch()
	_, err = c.runChanges(b, newParts, "NewPartition->OnlinePartition", st.decideNewPartition)
	c.flush(b)
	return err
}

// onPartitionsChanged is processPartitionModifications: partitions added to an existing
// topic (CreatePartitions) get states. Reassignments are not supported.
func (c *Controller) onPartitionsChanged(topic string) error {
	st := c.st
	info := st.topics[topic]
	if info == nil {
		return nil // a new topic: TopicsChanged handles it
	}
	a, err := c.zk.TopicAssignment(topic, true)
	if errors.Is(err, zkclient.ErrNoNode) {
		return nil
	}
	if err != nil {
		return err
	}
	var added []tp
	for p := range a.Partitions {
		if _, ok := info.replicas[p]; !ok {
			added = append(added, tp{Topic: topic, Partition: p})
		}
	}
	sortTPs(added)
	if len(added) == 0 {
		return nil
	}
	if st.deleting[topic] {
		c.log.Warn().Str("topic", topic).Int("partitions", len(added)).Msg("ignoring new partitions of a topic being deleted")
		return nil
	}
	for _, p := range added {
		info.replicas[p.Partition] = slices.Clone(a.Partitions[p.Partition])
	}
	if info.id == ([16]byte{}) {
		info.id = a.TopicID
	}
	c.log.Info().Str("topic", topic).Int("new_partitions", len(added)).Msg("partitions added")
	b := newBatch()
	_, err = c.runChanges(b, added, "NewPartition->OnlinePartition", st.decideNewPartition)
	c.flush(b)
	return err
}

// processDeletions is processTopicDeletion plus a simplified TopicDeletionManager.
func (c *Controller) processDeletions(topics []string) error {
	st := c.st
	slices.Sort(topics)
	var missing, existing []string
	for _, t := range topics {
		if st.topics[t] == nil {
			missing = append(missing, t)
		} else {
			existing = append(existing, t)
		}
	}
	if len(missing) > 0 {
		c.log.Warn().Strs("topics", missing).Msg("ignoring deletion of topics that do not exist")
		if err := c.removeDeletionMarkers(missing, true); err != nil {
			return err
		}
	}
	if len(existing) == 0 {
		return nil
	}
	if !c.cfg.DeleteTopicEnable {
		c.log.Info().Strs("topics", existing).Msg("delete.topic.enable is false; removing deletion markers")
		return c.removeDeletionMarkers(existing, false)
	}
	for _, t := range existing {
		if err := c.deleteTopic(t); err != nil {
			return err
		}
	}
	return nil
}

// deleteTopic: every broker learns the partitions are being deleted (leader -2), every live
// replica gets StopReplica(delete=true), then the topic's znodes go. Unlike Kafka, the
// controller does not wait for the StopReplica responses, nor for offline replicas to come
// back: a broker that was down keeps the logs of a deleted topic until it deletes the logs
// of partitions it is no longer assigned (a broker-side duty).
func (c *Controller) deleteTopic(topic string) error {
	st := c.st
	parts := st.topicPartitions(topic)
	c.log.Info().Str("topic", topic).Int("partitions", len(parts)).Msg("deleting topic")
	st.deleting[topic] = true
	b := newBatch()
	b.addUpdateMetadata(st.brokerIDs(), parts...)
	for _, p := range parts {
		b.addStopReplica(filter(st.replicas(p), st.isLiveOrShuttingDown), p, true)
	}
	c.flush(b)
	err := c.zk.DeleteTopic(st.epoch, topic)
	if errors.Is(err, zkclient.ErrNotController) {
		return err
	}
	if err != nil && !errors.Is(err, zkclient.ErrNoNode) {
		c.log.Error().Err(err).Str("topic", topic).Msg("cannot remove the topic's znodes; the deletion is retried on the next change")
		return nil
	}
	c.removeTopicState(topic)
	c.log.Info().Str("topic", topic).Msg("topic deleted")
	return nil
}

func (c *Controller) removeDeletionMarkers(topics []string, topicsMissing bool) error {
	if r, ok := c.zk.(TopicDeletionMarkerRemover); ok {
		return r.DeleteTopicDeletionMarkers(c.st.epoch, topics)
	}
	if !topicsMissing {
		c.log.Warn().Strs("topics", topics).Msg("the ZooKeeper client cannot remove /admin/delete_topics markers; leaving them")
		return nil
	}
	for _, t := range topics {
		if err := c.zk.DeleteTopic(c.st.epoch, t); err != nil && !errors.Is(err, zkclient.ErrNoNode) {
			return err
		}
	}
	return nil
}

func (c *Controller) removeTopicState(topic string) {
	for _, p := range c.st.topicPartitions(topic) {
		delete(c.st.leadership, p)
		delete(c.st.offline, p)
	}
	delete(c.st.topics, topic)
	delete(c.st.deleting, topic)
}

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
	c.flush(b)
	return nil
}

// onControlledShutdown is doControlledShutdown.
func (c *Controller) onControlledShutdown(id int32, brokerEpoch int64) ([]tp, error) {
	if !c.active.Load() {
		return nil, ErrNotActive
	}
	st := c.st
	info, ok := st.brokers[id]
	if !ok {
		return nil, ErrBrokerNotAvailable
	}
	if brokerEpoch != -1 && brokerEpoch < info.Epoch {
		c.log.Info().Int32("shutting_down", id).Int64("epoch", brokerEpoch).Int64("current_epoch", info.Epoch).Msg("controlled shutdown from an old broker epoch")
		return nil, ErrStaleBrokerEpoch
	}
	st.shuttingDown[id] = true
	c.log.Info().Int32("shutting_down", id).Msg("controlled shutdown")
	var led, followed []tp
	for _, p := range st.partitionsOn(id) {
		cur, ok := st.leadership[p]
		if !ok || len(st.replicas(p)) <= 1 || st.deleting[p.Topic] {
			continue
		}
		if cur.Leader == id {
			led = append(led, p)
		} else {
			followed = append(followed, p)
		}
	}
	b := newBatch()
	_, err := c.runChanges(b, led, "controlled shutdown", func(p tp) (stateChange, error) {
		return st.decideElection(p, controlledShutdownElection, nil)
	})
	if err == nil {
		for _, p := range followed {
			b.addStopReplica([]int32{id}, p, false)
		}
		_, err = c.runChanges(b, followed, "OnlineReplica->OfflineReplica", func(p tp) (stateChange, error) {
			return st.decideRemoveReplica(p, id)
		})
	}
	c.flush(b)
	if err != nil {
		return nil, err
	}
	remaining := []tp{}
	for _, p := range st.partitions() {
		// As Kafka, a partition with no other replica cannot move and does not hold the
		// shutdown back.
		if cur, ok := st.leadership[p]; ok && cur.Leader == id && len(st.replicas(p)) > 1 {
			remaining = append(remaining, p)
		}
	}
	return remaining, nil
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
