package broker

// The checks Kafka makes on a client's Produce before anything reaches the log: internal
// topics belong to the brokers (ReplicaManager.appendToLocalLog with internalTopicsAllowed
// false: "Cannot append to internal topic"), and clients may not write control batches
// (LogValidator: "Clients are not allowed to write control records"). The brokers' own
// writers, the group coordinator appending to __consumer_offsets (groups.go), call
// partition.appendAsLeader directly and are not subject to them.

import (
	"github.com/klassik/klassik/record"
	"github.com/twmb/franz-go/pkg/kerr"
)

// transactionStateTopic is Kafka's internal topic of the transaction coordinator.
const transactionStateTopic = "__transaction_state"

// isInternalTopic reports Kafka's internal topics (Topic.isInternal).
func isInternalTopic(name string) bool {
	return name == offsetsTopic || name == transactionStateTopic
}

// validateClientProduce refuses what a client may not write to topic: an internal topic is
// INVALID_TOPIC_EXCEPTION, a control batch INVALID_RECORD. Only batch headers are read; a
// batch set whose framing is broken passes here and is refused by the log's own checks.
func validateClientProduce(topic string, records []byte) error {
	if isInternalTopic(topic) {
		return errorf(kerr.InvalidTopicException, "cannot append to internal topic %s", topic)
	}
	var control bool
	_ = record.ForEachBatch(records, func(h record.BatchHeader, _ []byte) error {
		control = control || h.Control()
		return nil
	})
	if control {
		return errorf(kerr.InvalidRecord, "clients are not allowed to write control records")
	}
	return nil
}

// hasTransactionalBatch reports a batch with the transactional bit among records (Kafka's
// ProduceRequest.hasTransactionalRecords).
func hasTransactionalBatch(records []byte) bool {
	var txn bool
	_ = record.ForEachBatch(records, func(h record.BatchHeader, _ []byte) error {
		txn = txn || h.Transactional()
		return nil
	})
	return txn
}
