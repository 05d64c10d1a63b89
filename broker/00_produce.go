package broker

// Produce, key 0, versions 0-9: record batches in format v2 (v0-v2 carry the old message sets,
// converted to v2 first: legacy_formats.go). acks 0, 1 and -1 (all) with min.insync.replicas
// (KIP-1 semantics as in Kafka 0.9+), idempotent producers (KIP-98) through logstore's
// producer state, per-partition errors (KIP-467 from v8: an error message, and the records a
// batch was refused for with their batch index, see recordErrors), and the
// NOT_ENOUGH_REPLICAS_AFTER_APPEND / REQUEST_TIMED_OUT answers of Kafka's DelayedProduce.
// Transactional batches (KIP-98) open their producer's transaction in the log (logstore's
// producer state); a request carrying them must name its TransactionalID, as Kafka's
// KafkaApis requires (TRANSACTIONAL_ID_AUTHORIZATION_FAILED otherwise), and a producer's first
// transactional batch in a partition is verified with its transaction coordinator first
// (KIP-890, txn_verification.go). The request's bytes count against the client's
// producer_byte_rate (quotas.go); a throttled producer gets throttle_time_ms (v1+) and its
// connection is muted for that long (KIP-219). With an authorizer: Write on each topic, and
// on the transactional id for transactional batches (authorizeProduce).

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/klassik/klassik/broker/authz"
	"github.com/klassik/klassik/broker/quota"
	"github.com/klassik/klassik/logstore"
	"github.com/klassik/klassik/wire"
	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kmsg"
)

func init() { register(0, 0, 9, (*Broker).handleProduce) }

// produceErr maps a logstore error to Kafka's code.
func produceErr(err error) error {
	switch {
	case err == nil:
		return nil
	case errors.Is(err, logstore.ErrCorruptRecord):
		return kerr.CorruptMessage
	case errors.Is(err, logstore.ErrMessageTooLarge):
		return errorf(kerr.MessageTooLarge, "%v (the topic's max.message.bytes; the broker default is message.max.bytes)", err)
	case errors.Is(err, logstore.ErrUnsupportedMagic):
		return kerr.UnsupportedForMessageFormat
	case errors.Is(err, logstore.ErrInvalidRecord):
		return kerr.InvalidRecord
	case errors.Is(err, logstore.ErrOutOfOrderSequence):
		return kerr.OutOfOrderSequenceNumber
	case errors.Is(err, logstore.ErrInvalidProducerEpoch):
		return kerr.InvalidProducerEpoch
	case errors.Is(err, logstore.ErrInvalidTimestamp):
		return kerr.InvalidTimestamp
	case errors.Is(err, logstore.ErrInvalidTxnState):
		return kerr.InvalidTxnState
	case errors.Is(err, logstore.ErrCoordinatorFenced):
		return kerr.TransactionCoordinatorFenced
	}
	var ke *kerr.Error
	if errors.As(err, &ke) {
		return ke
	}
	return kerr.KafkaStorageError
}

// pendingAck is an appended partition waiting for the high watermark (acks=all).
type pendingAck struct {
	p      *partition
	ti, pi int // where its answer sits in the response
	last   int64
}

func (b *Broker) handleProduce(ctx context.Context, req *wire.Request) (kmsg.Response, error) {
	r := req.Body.(*kmsg.ProduceRequest)
	resp := r.ResponseKind().(*kmsg.ProduceResponse)
	now := time.Now().UnixMilli()
	var waits []pendingAck
	anyErr := false
	txnDenied, writable := b.authorizeProduce(req, r)

	for _, rt := range r.Topics {
		st := kmsg.NewProduceResponseTopic()
		st.Topic = rt.Topic
		for _, rp := range rt.Partitions {
			sp := kmsg.NewProduceResponseTopicPartition()
			sp.Partition = rp.Partition
			sp.BaseOffset = -1
			err := func() error {
				if txnDenied {
					return kerr.TransactionalIDAuthorizationFailed
				}
				if writable != nil && !writable[rt.Topic] {
					return kerr.TopicAuthorizationFailed
				}
				if r.TransactionID == nil && hasTransactionalBatch(rp.Records) {
					return errorf(kerr.TransactionalIDAuthorizationFailed, "transactional records need a transactional id in the produce request")
				}
				if r.Acks != 0 && r.Acks != 1 && r.Acks != -1 {
					return kerr.InvalidRequiredAcks
				}
				if req.Version < 3 {
					v2, err := b.legacyToV2(rp.Records) // legacy_formats.go
					if err != nil {
						return err
					}
					rp.Records = v2
				}
				if err := validateClientProduce(rt.Topic, rp.Records); err != nil {
					return err
				}
				p := b.rm.get(topicPartition{rt.Topic, rp.Partition})
				if p == nil {
					if b.rm.isOffline(topicPartition{rt.Topic, rp.Partition}) {
						return errorf(kerr.KafkaStorageError, "the log dir of this replica on broker %d has failed", b.cfg.BrokerID)
					}
					if _, known := b.meta.get().partition(rt.Topic, rp.Partition); known {
						return kerr.NotLeaderForPartition
					}
					return kerr.UnknownTopicOrPartition
				}
				if r.TransactionID != nil {
					if err := b.verifyTransactional(ctx, *r.TransactionID, p, rp.Records); err != nil {
						return err
					}
				}
				res, err := p.appendAsLeader(rp.Records, r.Acks, now)
				var recErrs *logstore.RecordErrors
				if errors.As(err, &recErrs) {
					sp.LogStartOffset = p.log.LogStartOffset()
					return recordErrors(rt.Topic, rp.Partition, recErrs, &sp, req.Version)
				}
				if err != nil {
					return produceErr(err)
				}
				if !res.Duplicate {
					b.metrics.messagesIn.Add(int64(res.NumRecords))
					b.metrics.bytesIn.Add(int64(len(rp.Records)))
				}
				sp.BaseOffset = res.FirstOffset
				sp.LogAppendTime = res.LogAppendTime
				sp.LogStartOffset = res.LogStartOffset
				if r.Acks == -1 {
					waits = append(waits, pendingAck{p: p, ti: len(resp.Topics), pi: len(st.Partitions), last: res.LastOffset})
				}
				return nil
			}()
			if err != nil {
				anyErr = true
				sp.ErrorCode = errCode(err)
				if req.Version >= 8 && sp.ErrorCode != kerr.NotLeaderForPartition.Code && sp.ErrorMessage == nil {
					sp.ErrorMessage = strp(fmt.Sprintf("%s-%d: %v", rt.Topic, rp.Partition, err))
				}
			}
			st.Partitions = append(st.Partitions, sp)
		}
		resp.Topics = append(resp.Topics, st)
	}
	if r.Acks != 0 && len(waits) > 0 {
		req.Release() // appended: the wait for replicas must not hold queued.max.request.bytes
		waitStart := time.Now()
		b.awaitReplication(ctx, resp, waits, time.Duration(r.TimeoutMillis)*time.Millisecond)
		quotaOf(ctx).wait(time.Since(waitStart)) // purgatory is not handler time
	}
	if rq := quotaOf(ctx); rq != nil {
		// Kafka records the whole request's size once it is answered; acks=0 is exempt from
		// the request-time quota, not from this one (KafkaApis.handleProduceRequest).
		rq.bandwidthKind = quota.Produce
		rq.bandwidth = b.quotas.produce.Record(quotaUser(req), quotaClientID(req), float64(req.Size), time.Now().UnixMilli())
		rq.timeRecorded = rq.timeRecorded || r.Acks == 0
	}
	if r.Acks == 0 {
		if anyErr {
			// Kafka closes the connection so that the producer refreshes its metadata.
			return nil, fmt.Errorf("acks=0 produce failed on some partition")
		}
		return nil, nil
	}
	return resp, nil
}

// authorizeProduce asks KafkaApis' questions of a Produce: a request carrying transactional
// batches needs Write on its transactional id (else every partition is refused with
// TRANSACTIONAL_ID_AUTHORIZATION_FAILED), and each topic needs Write (else
// TOPIC_AUTHORIZATION_FAILED, before the topic's existence is looked at). Idempotent
// producers need nothing more here: InitProducerId checked them. writable is nil without an
// authorizer.
func (b *Broker) authorizeProduce(req *wire.Request, r *kmsg.ProduceRequest) (txnDenied bool, writable map[string]bool) {
	if b.authz == nil {
		return false, nil
	}
	names := make([]string, 0, len(r.Topics))
	txn := false
	for _, rt := range r.Topics {
		names = append(names, rt.Topic)
		for _, rp := range rt.Partitions {
			txn = txn || (req.Version >= 3 && hasTransactionalBatch(rp.Records))
		}
	}
	if txn {
		txnDenied = r.TransactionID == nil || !b.authorize(req, authz.OpWrite, authz.ResourceTransactionalID, *r.TransactionID)
	}
	return txnDenied, b.authorizedNames(req, authz.OpWrite, authz.ResourceTopic, names)
}

// awaitReplication waits until every partition's high watermark passes its appended batches
// (Kafka's DelayedProduce), or the request timeout.
func (b *Broker) awaitReplication(ctx context.Context, resp *kmsg.ProduceResponse, waits []pendingAck, timeout time.Duration) {
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	for _, w := range waits {
		sp := &resp.Topics[w.ti].Partitions[w.pi]
		for {
			w.p.mu.Lock()
			ch := w.p.hwChanged
			done, err := w.p.ackStateLocked(w.last)
			w.p.mu.Unlock()
			if done {
				sp.ErrorCode = errCode(err)
				break
			}
			select {
			case <-ch:
				continue
			case <-ctx.Done():
				sp.ErrorCode = kerr.RequestTimedOut.Code
			}
			break
		}
	}
}

// ackStateLocked says whether an acks=all append ending at last is settled, and with what
// error. Caller holds mu.
func (p *partition) ackStateLocked(last int64) (bool, error) {
	if !p.isLeaderLocked() {
		return true, kerr.NotLeaderForPartition
	}
	if p.hw > last {
		if len(p.isr) < p.config.minInsyncReplicas {
			return true, kerr.NotEnoughReplicasAfterAppend
		}
		return true, nil
	}
	return false, nil
}

// recordErrors answers a batch refused for some of its records as Kafka 3.6 does
// (LogValidator.processRecordErrors, ReplicaManager): the whole batch fails with
// INVALID_RECORD, and from v8 error_records names each offending record by its index in the
// batch with its reason, and error_message sums them up. The batch's other records get no
// entry: a client fails them along with it (the Java producer says they were "part of a
// batch which had one or more invalid records"; franz-go fails every record of the batch
// with INVALID_RECORD).
func recordErrors(topic string, partition int32, re *logstore.RecordErrors, sp *kmsg.ProduceResponseTopicPartition, version int16) error {
	if version < 8 {
		return kerr.InvalidRecord
	}
	shown := make([]string, 0, 3)
	for i, r := range re.Records {
		msg := fmt.Sprintf("%s in topic partition %s-%d", r.Message, topic, partition)
		e := kmsg.NewProduceResponseTopicPartitionErrorRecord()
		e.RelativeOffset, e.ErrorMessage = r.BatchIndex, strp(msg)
		sp.ErrorRecords = append(sp.ErrorRecords, e)
		if i < 3 {
			shown = append(shown, fmt.Sprintf("RecordError(batchIndex=%d, message='%s')", r.BatchIndex, msg))
		}
	}
	sp.ErrorMessage = strp(fmt.Sprintf("One or more records have been rejected due to %d record errors in total, and only showing the first three errors at most: [%s]",
		len(re.Records), strings.Join(shown, ", ")))
	return kerr.InvalidRecord
}
