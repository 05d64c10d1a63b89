// The controller's entries in the classroom's timeline (package classroom/event, imported
// as timeline: this package's own `event` is the loop's event type): what
// Kafka's controller.log and state-change.log would say, one line each, with the cause.

package controller

import (
	"fmt"
	"strconv"
	"strings"

	timeline "github.com/klassik/klassik/classroom/event"
	"github.com/klassik/klassik/zkclient"
	"github.com/twmb/franz-go/pkg/kmsg"
)

func brokerList(ids []int32) string {
	parts := make([]string, len(ids))
	for i, id := range ids {
		parts[i] = strconv.Itoa(int(id))
	}
	return "[" + strings.Join(parts, ",") + "]"
}

func (c *Controller) publishElected(ce zkclient.ControllerEpoch) {
	c.events.Publish(timeline.Event{Kind: timeline.ControllerElected,
		Text: fmt.Sprintf("[Controller id=%d] Broker %d won the controller election: /controller created, controller epoch %d (/controller_epoch zkVersion %d)",
			c.cfg.BrokerID, c.cfg.BrokerID, ce.Epoch, ce.ZkVersion),
		Broker: timeline.Int32(c.cfg.BrokerID), ControllerEpoch: timeline.Int32(ce.Epoch), ZKVersion: timeline.Int32(ce.ZkVersion), ZNode: "/controller"})
}

func (c *Controller) publishResigned(epoch int32) {
	c.events.Publish(timeline.Event{Kind: timeline.ControllerResigned,
		Text:   fmt.Sprintf("[Controller id=%d] Resigned as the controller (epoch %d)", c.cfg.BrokerID, epoch),
		Broker: timeline.Int32(c.cfg.BrokerID), ControllerEpoch: timeline.Int32(epoch), ZNode: "/controller"})
}

// publishBrokers announces brokers that registered or were lost, as the controller saw them.
func (c *Controller) publishBrokers(kind string, infos []zkclient.BrokerInfo, live []int32) {
	for _, info := range infos {
		text := fmt.Sprintf("[Controller id=%d] Newly added broker %d (broker epoch %d), live brokers %s",
			c.cfg.BrokerID, info.ID, info.Epoch, brokerList(live))
		if kind == timeline.BrokerLost {
			text = fmt.Sprintf("[Controller id=%d] Broker failure: /brokers/ids/%d is gone (broker epoch %d), live brokers %s",
				c.cfg.BrokerID, info.ID, info.Epoch, brokerList(live))
		}
		c.events.Publish(timeline.Event{Kind: kind, Text: text, Broker: timeline.Int32(info.ID),
			ZNode: fmt.Sprintf("/brokers/ids/%d", info.ID), Offset: timeline.Int64(info.Epoch)})
	}
}

// causeOf says why a state change was made, in the words a learner would use.
func (c *Controller) causeOf(ch stateChange) string {
	switch {
	case ch.Create:
		return "new topic"
	case ch.Unclean:
		return "unclean election: no live replica in ISR, unclean.leader.election.enable=true for " + ch.P.Topic
	case strings.HasPrefix(ch.Reason, "preferred"):
		return "preferred replica election"
	case c.cause != "":
		return c.cause
	}
	return ch.Reason
}

// publishCommit announces a written partition state: the conditional write, and the leader
// election it carried.
func (c *Controller) publishCommit(ch stateChange, st zkclient.PartitionState) {
	p := ch.P
	znode := fmt.Sprintf("/brokers/topics/%s/partitions/%d/state", p.Topic, p.Partition)
	cause := c.causeOf(ch)
	base := timeline.Event{Cause: cause, Topic: p.Topic, Partition: timeline.Int32(p.Partition), Leader: timeline.Int32(st.Leader),
		ISR: st.ISR, LeaderEpoch: timeline.Int32(st.LeaderEpoch), ZKVersion: timeline.Int32(st.ZkVersion),
		ControllerEpoch: timeline.Int32(st.ControllerEpoch), ZNode: znode}
	w := base
	w.Kind = timeline.ZKWrite
	if ch.Create {
		w.Text = fmt.Sprintf("[Controller id=%d] Created %s (zkVersion 0): leader %d, leader epoch %d, ISR %s",
			c.cfg.BrokerID, znode, st.Leader, st.LeaderEpoch, brokerList(st.ISR))
	} else {
		w.Text = fmt.Sprintf("[Controller id=%d] Conditional write of %s at zkVersion %d succeeded, now zkVersion %d: leader %d, leader epoch %d, ISR %s",
			c.cfg.BrokerID, znode, ch.New.ZkVersion, st.ZkVersion, st.Leader, st.LeaderEpoch, brokerList(st.ISR))
	}
	c.events.Publish(w)

	old := ch.Old.Leader
	if ch.Create {
		old = noLeader
	}
	if !ch.Create && old == st.Leader {
		return
	}
	e := base
	e.Kind = timeline.LeaderElected
	switch {
	case st.Leader == noLeader:
		e.Text = fmt.Sprintf("[Controller id=%d] Partition %s-%d is offline: no leader (leader epoch %d, ISR %s): %s",
			c.cfg.BrokerID, p.Topic, p.Partition, st.LeaderEpoch, brokerList(st.ISR), cause)
	case ch.Unclean:
		e.Text = fmt.Sprintf("[Controller id=%d] Unclean leader election for %s-%d: broker %d, not in the ISR, is leader (leader epoch %d); records it never replicated are lost",
			c.cfg.BrokerID, p.Topic, p.Partition, st.Leader, st.LeaderEpoch)
	default:
		e.Text = fmt.Sprintf("[Controller id=%d] Elected broker %d leader of %s-%d (leader epoch %d, ISR %s): %s",
			c.cfg.BrokerID, st.Leader, p.Topic, p.Partition, st.LeaderEpoch, brokerList(st.ISR), cause)
	}
	c.events.Publish(e)
}

// publishSent announces a controller request delivered to a broker.
func publishSent(pub timeline.Publisher, from, to int32, req kmsg.Request) {
	n := 0
	switch r := req.(type) {
	case *kmsg.LeaderAndISRRequest:
		n = len(r.PartitionStates)
		for _, t := range r.TopicStates {
			n += len(t.PartitionStates)
		}
	case *kmsg.UpdateMetadataRequest:
		n = len(r.PartitionStates)
		for _, t := range r.TopicStates {
			n += len(t.PartitionStates)
		}
	case *kmsg.StopReplicaRequest:
		for _, t := range r.Topics {
			n += len(t.Partitions) + len(t.PartitionStates)
		}
	}
	pub.Publish(timeline.Event{Kind: timeline.RequestSent,
		Text:   fmt.Sprintf("[Controller id=%d] Sent %s to broker %d for %d partitions", from, apiName(req), to, n),
		Broker: timeline.Int32(to)})
}
