package broker

// AddPartitionsToTxn, key 24, versions 0-4 (KIP-98; v4 is KIP-890's batched form for brokers):
// a transactional producer names the partitions it is about to write to before it writes, so
// that its coordinator knows where to send the markers. Partitions of unknown topics answer
// UNKNOWN_TOPIC_OR_PARTITION and the others OPERATION_NOT_ATTEMPTED, as KafkaApis does; a
// refusal by the coordinator (NOT_COORDINATOR, CONCURRENT_TRANSACTIONS, PRODUCER_FENCED, ...)
// is every partition's error. In v4 a broker asks for several transactions at once, and with
// verify_only only checks that the partitions are already in the transaction.
//
// With an authorizer: v4 needs ClusterAction on the cluster; older versions, from clients,
// Write on the transactional id (else TRANSACTIONAL_ID_AUTHORIZATION_FAILED on every partition)
// and on each topic (else TOPIC_AUTHORIZATION_FAILED, the others OPERATION_NOT_ATTEMPTED).

import (
	"context"

	"github.com/klassik/klassik/broker/authz"
	"github.com/klassik/klassik/coordinator/transaction"
	"github.com/klassik/klassik/wire"
	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kmsg"
)

func init() { register(24, 0, 4, (*Broker).handleAddPartitionsToTxn) }

// txnAdd is one transaction of an AddPartitionsToTxn, in either form.
type txnAdd struct {
	id         string
	pid        int64
	epoch      int16
	verifyOnly bool
	topics     map[string][]int32
	order      []string // topics in request order
}

func (b *Broker) handleAddPartitionsToTxn(ctx context.Context, req *wire.Request) (kmsg.Response, error) {
	r := req.Body.(*kmsg.AddPartitionsToTxnRequest)
	resp := r.ResponseKind().(*kmsg.AddPartitionsToTxnResponse)
	if r.Version >= 4 && !b.authorizeCluster(req, authz.OpClusterAction) {
		resp.ErrorCode = kerr.ClusterAuthorizationFailed.Code // v4 comes from brokers only
		return resp, nil
	}
	if r.Version < 4 {
		add := txnAdd{id: r.TransactionalID, pid: r.ProducerID, epoch: r.ProducerEpoch, topics: map[string][]int32{}}
		for _, t := range r.Topics {
			add.order = append(add.order, t.Topic)
			add.topics[t.Topic] = append(add.topics[t.Topic], t.Partitions...)
		}
		var results map[transaction.TopicPartition]int16
		if b.authorize(req, authz.OpWrite, authz.ResourceTransactionalID, r.TransactionalID) {
			results = b.addPartitionsToTxn(ctx, add, r.Version < 2, b.txnWritable(req, add.order))
		}
		for _, topic := range add.order {
			rt := kmsg.NewAddPartitionsToTxnResponseTopic()
			rt.Topic = topic
			for _, p := range add.topics[topic] {
				rp := kmsg.NewAddPartitionsToTxnResponseTopicPartition()
				rp.Partition, rp.ErrorCode = p, results[transaction.TopicPartition{Topic: topic, Partition: p}]
				if results == nil {
					rp.ErrorCode = kerr.TransactionalIDAuthorizationFailed.Code
				}
				rt.Partitions = append(rt.Partitions, rp)
			}
			resp.Topics = append(resp.Topics, rt)
		}
		return resp, nil
	}
	for _, tx := range r.Transactions {
		add := txnAdd{id: tx.TransactionalID, pid: tx.ProducerID, epoch: tx.ProducerEpoch, verifyOnly: tx.VerifyOnly, topics: map[string][]int32{}}
		for _, t := range tx.Topics {
			add.order = append(add.order, t.Topic)
			add.topics[t.Topic] = append(add.topics[t.Topic], t.Partitions...)
		}
		results := b.addPartitionsToTxn(ctx, add, false, nil)
		rtx := kmsg.NewAddPartitionsToTxnResponseTransaction()
		rtx.TransactionalID = tx.TransactionalID
		for _, topic := range add.order {
			rt := kmsg.NewAddPartitionsToTxnResponseTransactionTopic()
			rt.Topic = topic
			for _, p := range add.topics[topic] {
				rp := kmsg.NewAddPartitionsToTxnResponseTransactionTopicPartition()
				rp.Partition, rp.ErrorCode = p, results[transaction.TopicPartition{Topic: topic, Partition: p}]
				rt.Partitions = append(rt.Partitions, rp)
			}
			rtx.Topics = append(rtx.Topics, rt)
		}
		resp.Transactions = append(resp.Transactions, rtx)
	}
	return resp, nil
}

// txnWritable is which of a client's topics it may add to its transaction: Write on the
// topic, and never an internal topic (a client adds __consumer_offsets with AddOffsetsToTxn),
// as KafkaApis filters them. Nil without an authorizer.
func (b *Broker) txnWritable(req *wire.Request, topics []string) map[string]bool {
	if b.authz == nil {
		return nil
	}
	var names []string
	for _, t := range topics {
		if !isInternalTopic(t) {
			names = append(names, t)
		}
	}
	return b.authorizedNames(req, authz.OpWrite, authz.ResourceTopic, names)
}

// addPartitionsToTxn checks the partitions (writable, when set, names the topics the client
// may write), asks the coordinator, and returns each partition's error code.
func (b *Broker) addPartitionsToTxn(ctx context.Context, add txnAdd, oldClient bool, writable map[string]bool) map[transaction.TopicPartition]int16 {
	out := map[transaction.TopicPartition]int16{}
	snap := b.meta.get()
	var tps []transaction.TopicPartition
	unknown := false
	for _, topic := range add.order {
		for _, p := range add.topics[topic] {
			tp := transaction.TopicPartition{Topic: topic, Partition: p}
			tps = append(tps, tp)
			if writable != nil && !writable[topic] {
				out[tp] = kerr.TopicAuthorizationFailed.Code
				unknown = true
				continue
			}
			if _, ok := snap.partition(topic, p); !ok {
				out[tp] = kerr.UnknownTopicOrPartition.Code
				unknown = true
			}
		}
	}
	if unknown {
		for _, tp := range tps {
			if _, bad := out[tp]; !bad {
				out[tp] = kerr.OperationNotAttempted.Code
			}
		}
		return out
	}
	if add.verifyOnly {
		for tp, err := range b.txns.VerifyPartitions(add.id, add.pid, add.epoch, tps) {
			out[tp] = errCode(err)
		}
		return out
	}
	code := errCode(fencedForOldClients(b.txns.AddPartitions(ctx, add.id, add.pid, add.epoch, tps), oldClient))
	for _, tp := range tps {
		out[tp] = code
	}
	return out
}
