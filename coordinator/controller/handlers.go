package controller

import (
	"errors"

	"github.com/klassik/klassik/zkclient"
)

// This file is the effectful half of the controller: the event handlers, run only by the
// event loop goroutine. They read ZooKeeper, ask the pure decisions in election.go what to
// do, make the conditional writes, record what was written in the cluster state, and hand the
// resulting requests to the channel manager.

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
	case alterReassignEvent:
		var results map[tp]ReassignmentResult
		results, err = c.onAlterReassignments(e.reqs)
		replyErr := err
		if errors.Is(err, zkclient.ErrNotController) {
			replyErr = ErrNotActive
		}
		e.reply <- alterReassignResult{results: results, err: replyErr}
	case listReassignEvent:
		var ongoing map[tp]OngoingReassignment
		ongoing, err = c.onListReassignments(e.parts)
		e.reply <- listReassignResult{ongoing: ongoing, err: err}
	case retryOnlineEvent:
		if c.active.Load() {
			err = c.onRetryOnline()
		} else {
			c.retryTimer = nil
		}
	case offlineReplicasEvent:
		if c.active.Load() {
			err = c.onReplicasOffline(e)
		}
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
	case zkclient.EventLogDirEventNotification:
		return c.onLogDirEventNotification()
	case zkclient.EventConfigChanged:
		// A topic may have enabled unclean.leader.election.enable: retry offline partitions
		// (Kafka's TopicUncleanLeaderElectionEnable).
		c.cause = "a topic config changed (unclean.leader.election.enable)"
		defer func() { c.cause = "" }()
		b := newBatch()
		err := c.triggerOnline(b)
		c.flush(b)
		return err
	case zkclient.EventPartitionReassignment:
		b := newBatch()
		_, err := c.onZkPartitionReassignment(b)
		c.flush(b)
		return err
	case zkclient.EventPreferredReplicaElection:
		c.log.Debug().Msg("ignoring /admin/preferred_replica_election: use the ElectLeaders API")
	}
	return nil
}
