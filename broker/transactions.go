package broker

// The transaction coordinator's place in the broker. Its logic is package
// coordinator/transaction (Kafka's TransactionCoordinator); this file hands it what it needs
// from the broker: the partitions of __transaction_state this broker leads (txnStateLog), the
// WriteTxnMarkers sender (txnMarkerChannel, Kafka's TransactionMarkerChannelManager), and
// producer ids; and it creates __transaction_state on first use, as Kafka does on the first
// FindCoordinator for a transactional id.

import (
	"context"
	"errors"
	"fmt"
	"net"
	"strconv"
	"sync"
	"time"

	"github.com/klassik/klassik/coordinator/transaction"
	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kmsg"
)

func (b *Broker) newTransactionCoordinator() *transaction.Coordinator {
	b.txnMarkers = newTxnMarkerChannel(b)
	return transaction.New(transaction.Config{
		BrokerID:                    b.cfg.BrokerID,
		Events:                      b.bus,
		NumPartitions:               b.cfg.TransactionStateLogNumPartitions,
		MaxTimeoutMs:                int32(min(b.cfg.TransactionMaxTimeoutMs, 1<<31-1)),
		AbortTimedOutIntervalMs:     b.cfg.TransactionAbortTimedOutTransactionCleanupIntervalMs,
		RemoveExpiredIntervalMs:     b.cfg.TransactionRemoveExpiredTransactionCleanupIntervalMs,
		TransactionalIDExpirationMs: int64(b.cfg.TransactionalIDExpirationMs),
		OffsetsTopicNumPartitions:   b.cfg.OffsetsTopicNumPartitions,
	}, txnStateLog{internalLog{b, transactionStateTopic}}, b.txnMarkers, txnProducerIDs{b}, b.base)
}

// txnStateLog implements transaction.Log over the __transaction_state partitions this broker
// leads.
type txnStateLog struct{ internalLog }

func (l txnStateLog) Append(ctx context.Context, p int32, batch []byte) error {
	part, err := l.partition(p)
	if err != nil {
		return err
	}
	res, err := part.appendAsLeader(batch, -1, time.Now().UnixMilli())
	if err != nil {
		return produceErr(err)
	}
	return part.awaitHW(ctx, res.LastOffset)
}

// txnProducerIDs gives the coordinator this broker's producer id blocks.
type txnProducerIDs struct{ b *Broker }

func (p txnProducerIDs) NextID() (int64, error) { return p.b.pids.nextID() }

// txnLeadershipChanged tells the transaction coordinator when this broker starts or stops
// leading a partition of __transaction_state.
func (b *Broker) txnLeadershipChanged(tp topicPartition, leader bool, epoch int32) {
	if tp.topic != transactionStateTopic || b.txns == nil {
		return
	}
	if leader {
		b.txns.BecomeLeader(tp.partition, epoch)
	} else {
		b.txns.Resign(tp.partition, epoch)
	}
}

// createTransactionStateTopic creates __transaction_state as Kafka does on the first
// FindCoordinator for a transactional id: transaction.state.log.num.partitions partitions,
// .replication.factor replicas, compacted, min.insync.replicas .min.isr, segments of
// .segment.bytes, unclean election never.
func (b *Broker) createTransactionStateTopic() error {
	rf := b.cfg.TransactionStateLogReplicationFactor
	if live := len(b.meta.get().brokers); int(rf) > live {
		return errorf(kerr.CoordinatorNotAvailable, "__transaction_state needs transaction.state.log.replication.factor=%d live brokers; %d are alive", rf, live)
	}
	_, err := b.createTopic(topicSpec{
		name: transactionStateTopic, partitions: b.cfg.TransactionStateLogNumPartitions, replicationFactor: rf,
		configs: map[string]string{
			"cleanup.policy":                 "compact",
			"compression.type":               "uncompressed",
			"min.insync.replicas":            fmt.Sprint(b.cfg.TransactionStateLogMinIsr),
			"segment.bytes":                  i64s(b.cfg.TransactionStateLogSegmentBytes),
			"unclean.leader.election.enable": "false",
		},
	}, false)
	if err != nil && !errors.Is(err, kerr.TopicAlreadyExists) {
		return err
	}
	return nil
}

// txnMarkerChannel implements transaction.MarkerWriter: it groups the partitions by their
// current leader and sends each leader one WriteTxnMarkers over the inter-broker listener,
// this broker included, as Kafka's TransactionMarkerChannelManager does.
type txnMarkerChannel struct {
	b  *Broker
	ch *controllerChannel
}

func newTxnMarkerChannel(b *Broker) *txnMarkerChannel {
	ch := newControllerChannel(b, fmt.Sprintf("klassik-txn-markers-%d", b.cfg.BrokerID))
	return &txnMarkerChannel{b: b, ch: ch}
}

// markerRequestTimeout bounds one WriteTxnMarkers round trip: the leader waits up to
// markerTimeout for its replicas.
const markerRequestTimeout = markerTimeout + 5*time.Second

func (m *txnMarkerChannel) WriteMarkers(ctx context.Context, mk transaction.Markers) map[transaction.TopicPartition]error {
	out := make(map[transaction.TopicPartition]error, len(mk.Partitions))
	snap := m.b.meta.get()
	byLeader := map[int32][]transaction.TopicPartition{}
	for _, tp := range mk.Partitions {
		t, ok := snap.topics[tp.Topic]
		if len(snap.brokers) == 0 {
			// No UpdateMetadata yet (just started): a missing topic proves nothing.
			out[tp] = kerr.LeaderNotAvailable
			continue
		}
		if !ok {
			out[tp] = transaction.ErrPartitionGone
			continue
		}
		st, ok := t.partitions[tp.Partition]
		switch {
		case !ok:
			out[tp] = transaction.ErrPartitionGone
		case st.Leader < 0:
			out[tp] = kerr.LeaderNotAvailable
		default:
			byLeader[st.Leader] = append(byLeader[st.Leader], tp)
		}
	}
	var mu sync.Mutex
	var wg sync.WaitGroup
	for leader, tps := range byLeader {
		wg.Add(1)
		go func() {
			defer wg.Done()
			res := m.send(ctx, snap, leader, mk, tps)
			mu.Lock()
			for tp, err := range res {
				out[tp] = err
			}
			mu.Unlock()
		}()
	}
	wg.Wait()
	return out
}

// send writes the markers of tps to their leader.
func (m *txnMarkerChannel) send(ctx context.Context, snap *metadataSnapshot, leader int32, mk transaction.Markers, tps []transaction.TopicPartition) map[transaction.TopicPartition]error {
	out := make(map[transaction.TopicPartition]error, len(tps))
	fail := func(err error) map[transaction.TopicPartition]error {
		for _, tp := range tps {
			out[tp] = err
		}
		return out
	}
	cb, ok := snap.brokers[leader]
	if !ok {
		return fail(kerr.BrokerNotAvailable)
	}
	hp, ok := cb.endpoints[m.b.cfg.InterBrokerListenerName]
	if !ok {
		return fail(fmt.Errorf("broker %d has no %s listener", leader, m.b.cfg.InterBrokerListenerName))
	}
	req := kmsg.NewPtrWriteTxnMarkersRequest()
	rm := kmsg.NewWriteTxnMarkersRequestMarker()
	rm.ProducerID, rm.ProducerEpoch, rm.Committed, rm.CoordinatorEpoch = mk.ProducerID, mk.ProducerEpoch, mk.Commit, mk.CoordinatorEpoch
	for _, tp := range tps {
		if n := len(rm.Topics); n == 0 || rm.Topics[n-1].Topic != tp.Topic {
			rt := kmsg.NewWriteTxnMarkersRequestMarkerTopic()
			rt.Topic = tp.Topic
			rm.Topics = append(rm.Topics, rt)
		}
		rt := &rm.Topics[len(rm.Topics)-1]
		rt.Partitions = append(rt.Partitions, tp.Partition)
	}
	req.Markers = append(req.Markers, rm)
	rctx, cancel := context.WithTimeout(ctx, markerRequestTimeout)
	defer cancel()
	raw, err := m.ch.request(rctx, leader, net.JoinHostPort(hp.host, strconv.Itoa(int(hp.port))), req)
	if err != nil {
		return fail(err)
	}
	resp := raw.(*kmsg.WriteTxnMarkersResponse)
	for _, sm := range resp.Markers {
		for _, st := range sm.Topics {
			for _, sp := range st.Partitions {
				tp := transaction.TopicPartition{Topic: st.Topic, Partition: sp.Partition}
				out[tp] = nil
				if sp.ErrorCode != 0 {
					out[tp] = kerr.ErrorForCode(sp.ErrorCode)
				}
			}
		}
	}
	for _, tp := range tps {
		if _, ok := out[tp]; !ok {
			out[tp] = kerr.UnknownServerError // the leader did not answer for it
		}
	}
	return out
}
