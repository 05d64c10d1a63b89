// Log directory failures (KIP-112): KafkaController.processLogDirEventNotification,
// onBrokerLogDirFailure and the KAFKA_STORAGE_ERROR answers of LeaderAndIsr responses.
//
// A broker that lost a log dir writes /log_dir_event_notification/log_dir_event_<seq>. The
// controller sends that broker a LeaderAndIsr for every replica it hosts; the broker answers
// KAFKA_STORAGE_ERROR for the replicas on the failed dir. Those answers come back as an
// offlineReplicasEvent, and each such replica goes OnlineReplica -> OfflineReplica: it leaves
// the ISR, a partition it led gets a leader elected from the rest of the ISR, and every broker
// learns the new states. The notifications are deleted once handled. The replica stays out of
// the ISR because it no longer fetches, so neither a clean election nor a preferred one picks
// it again; a restart of the broker brings it back as any restarted replica.

package controller

import (
	"slices"

	"github.com/klassik/klassik/zkclient"
	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kmsg"
)

// LogDirEventZK is the part of zkclient that reads and deletes
// /log_dir_event_notification children. *zkclient.Client implements it; when the ZK handed to
// New lacks it, log dir events are not watched (brokers that lose every dir still shut down,
// which the broker watch handles).
type LogDirEventZK interface {
	LogDirEventNotifications(watch bool) ([]zkclient.LogDirEvent, error)
	DeleteLogDirEventNotifications(names []string) error
}

var _ LogDirEventZK = (*zkclient.Client)(nil)

// offlineReplicasEvent: a broker answered KAFKA_STORAGE_ERROR for these partitions in a
// LeaderAndIsr response (Kafka's LeaderAndIsrResponseReceived).
type offlineReplicasEvent struct {
	broker int32
	epoch  int64 // the broker epoch the request went to
	resp   *kmsg.LeaderAndISRResponse
}

// clearLogDirEvents arms the watch and deletes pending notifications, at controller
// failover: every replica gets a LeaderAndIsr then, and offline ones answer
// KAFKA_STORAGE_ERROR anyway (Kafka deletes them at failover too).
func (c *Controller) clearLogDirEvents() error {
	lz, ok := c.zk.(LogDirEventZK)
	if !ok {
		return nil
	}
	evs, err := lz.LogDirEventNotifications(true)
	if err != nil {
		return err
	}
	return lz.DeleteLogDirEventNotifications(eventNames(evs))
}

func eventNames(evs []zkclient.LogDirEvent) []string {
	names := make([]string, len(evs))
	for i, e := range evs {
		names[i] = e.Name
	}
	return names
}

// onLogDirEventNotification is processLogDirEventNotification and onBrokerLogDirFailure:
// each notifying broker that is live gets a LeaderAndIsr for all its replicas; then the
// notifications are deleted.
func (c *Controller) onLogDirEventNotification() error {
	lz, ok := c.zk.(LogDirEventZK)
	if !ok {
		return nil
	}
	evs, err := lz.LogDirEventNotifications(true)
	if err != nil || len(evs) == 0 {
		return err
	}
	st := c.st
	var ids []int32
	for _, e := range evs {
		if !slices.Contains(ids, e.Broker) && st.isLiveOrShuttingDown(e.Broker) {
			ids = append(ids, e.Broker)
		}
	}
	slices.Sort(ids)
	c.log.Info().Ints32("brokers", ids).Int("notifications", len(evs)).Msg("log dir failure: asking the brokers for the state of their replicas")
	b := newBatch()
	for _, id := range ids {
		for _, p := range st.partitionsOn(id) {
			if _, ok := st.leadership[p]; ok && !st.deleting[p.Topic] {
				b.addLeaderAndIsr(st, []int32{id}, p, false)
			}
		}
	}
	c.flush(b)
	return lz.DeleteLogDirEventNotifications(eventNames(evs))
}

// onReplicasOffline is onReplicasBecomeOffline for replicas on a failed log dir: they leave
// the ISR, partitions they led elect a new leader, and every broker learns the states.
func (c *Controller) onReplicasOffline(e offlineReplicasEvent) error {
	st := c.st
	info, ok := st.brokers[e.broker]
	if !ok || info.Epoch != e.epoch {
		return nil // the broker went or came back since: the broker watch handles it
	}
	var parts []tp
	for _, p := range st.storageErrors(e.resp) {
		if st.offlineDirs[e.broker][p] || !st.exists(p) || st.deleting[p.Topic] || !slices.Contains(st.replicas(p), e.broker) {
			continue // known already, or nothing to move
		}
		if st.offlineDirs[e.broker] == nil {
			st.offlineDirs[e.broker] = map[tp]bool{}
		}
		st.offlineDirs[e.broker][p] = true
		if _, ok := st.leadership[p]; ok {
			parts = append(parts, p)
		}
	}
	if len(parts) == 0 {
		return nil
	}
	sortTPs(parts)
	c.log.Warn().Int32("broker", e.broker).Int("partitions", len(parts)).Msg("replicas on a failed log dir are offline")
	b := newBatch()
	defer c.flush(b)
	replica := e.broker
	if _, err := c.runChanges(b, parts, "OnlineReplica->OfflineReplica (log dir failure)", func(p tp) (stateChange, error) {
		return st.decideRemoveReplica(p, replica)
	}); err != nil {
		return err
	}
	if err := c.triggerOnline(b); err != nil {
		return err
	}
	b.addUpdateMetadata(st.brokerIDs(), parts...)
	return nil
}

// hasStorageErrors reports whether a LeaderAndIsr response holds a KAFKA_STORAGE_ERROR.
func hasStorageErrors(resp kmsg.Response) (*kmsg.LeaderAndISRResponse, bool) {
	r, ok := resp.(*kmsg.LeaderAndISRResponse)
	if !ok {
		return nil, false
	}
	for _, t := range r.Topics {
		for _, p := range t.Partitions {
			if p.ErrorCode == kerr.KafkaStorageError.Code {
				return r, true
			}
		}
	}
	for _, p := range r.Partitions {
		if p.ErrorCode == kerr.KafkaStorageError.Code {
			return r, true
		}
	}
	return r, false
}

// storageErrors lists the partitions r answered KAFKA_STORAGE_ERROR, resolving the topic ids
// of v5+ responses against the state. Event loop only.
func (s *clusterState) storageErrors(r *kmsg.LeaderAndISRResponse) []tp {
	var out []tp
	for _, t := range r.Topics {
		name := ""
		for n, info := range s.topics {
			if info.id == t.TopicID {
				name = n
				break
			}
		}
		for _, p := range t.Partitions {
			if name != "" && p.ErrorCode == kerr.KafkaStorageError.Code {
				out = append(out, tp{Topic: name, Partition: p.Partition})
			}
		}
	}
	for _, p := range r.Partitions {
		if p.ErrorCode == kerr.KafkaStorageError.Code {
			out = append(out, tp{Topic: p.Topic, Partition: p.Partition})
		}
	}
	return out
}
