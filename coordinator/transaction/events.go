package transaction

import (
	"fmt"
	"strings"

	"github.com/klassik/klassik/classroom/event"
)

// The classroom's view of the coordinator: every state change written to
// __transaction_state, and every set of markers written, as one timeline event each, in the
// words of Kafka's TransactionCoordinator and TransactionMarkerChannelManager logs.

// publishTransition announces a state change that was just written. Caller holds t.mu.
func (c *Coordinator) publishTransition(t *txnMetadata, prev, next snapshot) {
	var what string
	switch {
	case prev.producerEpoch < 0:
		what = fmt.Sprintf("Initialized transactionalId %s with producerId %d and producer epoch %d on partition %s-%d",
			t.id, next.producerID, next.producerEpoch, stateTopic, t.partition)
	case next.state == Empty && next.producerEpoch != prev.producerEpoch:
		what = fmt.Sprintf("transactionalId %s: new producer epoch %d for producerId %d (epoch %d is fenced)",
			t.id, next.producerEpoch, next.producerID, prev.producerEpoch)
	case next.state == PrepareAbort && next.producerEpoch != prev.producerEpoch:
		what = fmt.Sprintf("transactionalId %s: aborting the open transaction and fencing producer epoch %d (new epoch %d)",
			t.id, prev.producerEpoch, next.producerEpoch)
	case next.state == Ongoing && prev.state == Ongoing:
		what = fmt.Sprintf("transactionalId %s: partitions %s added to the ongoing transaction of producerId %d",
			t.id, partitionList(next), next.producerID)
	default:
		what = fmt.Sprintf("transactionalId %s: %s -> %s (producerId %d, epoch %d%s)", t.id, prev.state, next.state,
			next.producerID, next.producerEpoch, partitionsSuffix(next))
	}
	c.cfg.Events.Publish(event.Event{Kind: event.Transaction, Cause: next.state.String(),
		Text:            fmt.Sprintf("[TransactionCoordinator id=%d] %s", c.cfg.BrokerID, what),
		TransactionalID: t.id, ProducerID: event.Int64(next.producerID), Broker: event.Int32(c.cfg.BrokerID),
		Topic: stateTopic, Partition: event.Int32(t.partition)})
}

// publishMarkers announces markers written to every partition of a transaction.
func (c *Coordinator) publishMarkers(t *txnMetadata, m Markers, tps []TopicPartition) {
	kind := "ABORT"
	if m.Commit {
		kind = "COMMIT"
	}
	c.cfg.Events.Publish(event.Event{Kind: event.Transaction, Cause: "markers",
		Text: fmt.Sprintf("[Transaction Marker Channel Manager %d]: Wrote %s markers of producerId %d (epoch %d, coordinator epoch %d) to %s",
			c.cfg.BrokerID, kind, m.ProducerID, m.ProducerEpoch, m.CoordinatorEpoch, joinPartitions(tps)),
		TransactionalID: t.id, ProducerID: event.Int64(m.ProducerID), Broker: event.Int32(c.cfg.BrokerID)})
}

const stateTopic = "__transaction_state"

func partitionList(s snapshot) string { return joinPartitions(s.sortedPartitions()) }

func partitionsSuffix(s snapshot) string {
	if len(s.partitions) == 0 {
		return ""
	}
	return ", partitions " + partitionList(s)
}

func joinPartitions(tps []TopicPartition) string {
	parts := make([]string, len(tps))
	for i, tp := range tps {
		parts[i] = fmt.Sprintf("%s-%d", tp.Topic, tp.Partition)
	}
	return "[" + strings.Join(parts, ", ") + "]"
}
