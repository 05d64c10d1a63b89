// Topic creation, new partitions and deletion (KafkaController.processTopicChange,
// TopicDeletionManager).

package controller

import (
	"crypto/rand"
	"errors"
	"slices"

	"github.com/klassik/klassik/zkclient"
)

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
		delete(c.st.reassigning, p)
	}
	delete(c.st.topics, topic)
	delete(c.st.deleting, topic)
}
