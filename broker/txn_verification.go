package broker

// Transaction verification on the produce path (KIP-890 part 1, Kafka 3.6's
// AddPartitionsToTxnManager, transaction.partition.verification.enable): before a leader
// appends a producer's first transactional batch to a partition (the producer has no
// transaction open there at that epoch), it asks the producer's transaction coordinator,
// with AddPartitionsToTxn v4 verify_only, whether the partition is part of the producer's
// ongoing transaction. A write that arrives late, after its transaction was aborted (a
// timed-out transaction, a fenced zombie, a retried request from before a failover), is then
// refused instead of opening a transaction in the partition that no marker will ever end:
// a hanging transaction, which would hold the last stable offset, and every read_committed
// consumer, still.
//
// Kafka 3.6 closes the window between the check and the append with a verification guard
// in the log; klassik checks once, before the append.

import (
	"context"
	"errors"
	"net"
	"strconv"
	"time"

	"github.com/klassik/klassik/coordinator/transaction"
	"github.com/klassik/klassik/record"
	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kmsg"
)

// verifyTimeout bounds one verification round trip.
const verifyTimeout = 10 * time.Second

// verifyTransactional checks records' transactional batch against its coordinator, when
// verification is on and the producer has no transaction open in p yet.
func (b *Broker) verifyTransactional(ctx context.Context, txnID string, p *partition, records []byte) error {
	if !b.brokerCfg().TransactionPartitionVerificationEnable {
		return nil
	}
	h, err := record.ParseHeader(records)
	if err != nil || !h.Transactional() || h.Control() || p.log.HasOngoingTransaction(h.ProducerID, h.ProducerEpoch) {
		return nil // not transactional, or already verified by the open transaction
	}
	tp := transaction.TopicPartition{Topic: p.tp.topic, Partition: p.tp.partition}
	err = b.verifyWithCoordinator(ctx, txnID, h.ProducerID, h.ProducerEpoch, tp)
	switch {
	case err == nil:
		return nil
	case errors.Is(err, kerr.InvalidTxnState):
		return errorf(kerr.InvalidTxnState, "Partition was not added to the transaction")
	case errors.Is(err, kerr.ProducerFenced), errors.Is(err, kerr.InvalidProducerEpoch):
		return kerr.InvalidProducerEpoch
	case errors.Is(err, kerr.InvalidProducerIDMapping):
		return kerr.InvalidProducerIDMapping
	default:
		// The coordinator could not answer (moving, loading, busy): a retriable error the
		// producer knows, as Kafka's AddPartitionsToTxnManager answers.
		b.log.Debug().Err(err).Str("transactional_id", txnID).Str("topic", tp.Topic).Int32("partition", tp.Partition).
			Msg("transaction verification failed; the producer retries")
		return errorf(kerr.NotEnoughReplicas, "could not verify the transaction of %s with its coordinator: %v", txnID, err)
	}
}

// verifyWithCoordinator asks the coordinator of txnID, this broker or another.
func (b *Broker) verifyWithCoordinator(ctx context.Context, txnID string, pid int64, epoch int16, tp transaction.TopicPartition) error {
	snap := b.meta.get()
	st, ok := snap.partition(transactionStateTopic, b.txns.PartitionFor(txnID))
	if !ok || st.Leader < 0 {
		return kerr.CoordinatorNotAvailable
	}
	if st.Leader == b.cfg.BrokerID {
		return b.txns.VerifyPartitions(txnID, pid, epoch, []transaction.TopicPartition{tp})[tp]
	}
	cb, ok := snap.brokers[st.Leader]
	if !ok {
		return kerr.CoordinatorNotAvailable
	}
	hp, ok := cb.endpoints[b.cfg.InterBrokerListenerName]
	if !ok {
		return kerr.CoordinatorNotAvailable
	}
	req := kmsg.NewPtrAddPartitionsToTxnRequest()
	req.SetVersion(4)
	tx := kmsg.NewAddPartitionsToTxnRequestTransaction()
	tx.TransactionalID, tx.ProducerID, tx.ProducerEpoch, tx.VerifyOnly = txnID, pid, epoch, true
	rt := kmsg.NewAddPartitionsToTxnRequestTransactionTopic()
	rt.Topic, rt.Partitions = tp.Topic, []int32{tp.Partition}
	tx.Topics = append(tx.Topics, rt)
	req.Transactions = append(req.Transactions, tx)
	rctx, cancel := context.WithTimeout(ctx, verifyTimeout)
	defer cancel()
	raw, err := b.txnMarkers.ch.request(rctx, st.Leader, net.JoinHostPort(hp.host, strconv.Itoa(int(hp.port))), req)
	if err != nil {
		return kerr.CoordinatorNotAvailable
	}
	resp := raw.(*kmsg.AddPartitionsToTxnResponse)
	if err := kerr.ErrorForCode(resp.ErrorCode); err != nil {
		return err
	}
	for _, rtx := range resp.Transactions {
		for _, t := range rtx.Topics {
			for _, p := range t.Partitions {
				if t.Topic == tp.Topic && p.Partition == tp.Partition {
					return kerr.ErrorForCode(p.ErrorCode)
				}
			}
		}
	}
	return kerr.UnknownServerError
}
