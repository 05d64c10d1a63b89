// Broker start-up, failure and controlled shutdown (KafkaController.onBrokerStartup,
// onBrokerFailure, ControlledShutdown).

package controller

import (
	"fmt"
	"slices"
	"strconv"
	"strings"

	timeline "github.com/klassik/klassik/classroom/event"
	"github.com/klassik/klassik/zkclient"
)

// brokerIDs formats ids for a cause: "1" or "1, 2".
func brokerIDs(ids []int32) string {
	s := make([]string, len(ids))
	for i, id := range ids {
		s[i] = strconv.Itoa(int(id))
	}
	return strings.Join(s, ", ")
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

	var lost, joined []zkclient.BrokerInfo
	for _, id := range append(slices.Clone(dead), bounced...) {
		lost = append(lost, st.brokers[id])
	}
	for _, id := range append(slices.Clone(added), bounced...) {
		joined = append(joined, cur[id])
	}
	c.publishBrokers(timeline.BrokerLost, lost, sortedKeys(cur))
	c.publishBrokers(timeline.BrokerRegistered, joined, sortedKeys(cur))
	defer func() { c.cause = "" }()

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
		c.cause = fmt.Sprintf("broker %s started", brokerIDs(added))
		if err := c.onBrokerStartup(added); err != nil {
			return err
		}
	}
	if len(bounced) > 0 {
		for _, id := range bounced {
			delete(st.brokers, id)
		}
		c.cause = fmt.Sprintf("broker %s re-registered with a new session (its old one expired)", brokerIDs(bounced))
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
		c.cause = fmt.Sprintf("broker %s failed", brokerIDs(dead))
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
	if err == nil {
		err = c.resumeReassignmentsFor(b, ids)
	}
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
		delete(st.offlineDirs, id) // a restarted broker brings its log dirs back
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
	c.cause = fmt.Sprintf("controlled shutdown of broker %d", id)
	defer func() { c.cause = "" }()
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
