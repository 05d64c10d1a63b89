package broker

// FindCoordinator, key 10, versions 0-4: the coordinator of a group is the leader of partition
// abs(hashCode(group)) % offsets.topic.num.partitions of __consumer_offsets, which is created
// on first use (compacted, offsets.topic.replication.factor replicas). v4 looks up several
// keys at once (KIP-699). The coordinator of a transactional id (key type 1) is found the same
// way in __transaction_state: abs(hashCode(id)) % transaction.state.log.num.partitions.
// With an authorizer the key needs Describe (on the group or the transactional id).

import (
	"context"
	"errors"

	"github.com/klassik/klassik/broker/authz"
	"github.com/klassik/klassik/wire"
	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kmsg"
)

func init() { register(10, 0, 4, (*Broker).handleFindCoordinator) }

func (b *Broker) handleFindCoordinator(_ context.Context, req *wire.Request) (kmsg.Response, error) {
	r := req.Body.(*kmsg.FindCoordinatorRequest)
	resp := r.ResponseKind().(*kmsg.FindCoordinatorResponse)
	keys := r.CoordinatorKeys
	if r.Version < 4 {
		keys = []string{r.CoordinatorKey}
	}
	for _, key := range keys {
		c := kmsg.NewFindCoordinatorResponseCoordinator()
		c.Key = key
		c.NodeID, c.Port = -1, -1
		err := b.authorizeCoordinatorKey(req, r.CoordinatorType, key)
		if err == nil {
			err = b.findCoordinator(&c, r.CoordinatorType, key, req.Conn.Listener)
		}
		c.ErrorCode = errCode(err)
		if err != nil {
			c.ErrorMessage = errMessage(err)
		}
		resp.Coordinators = append(resp.Coordinators, c)
	}
	if r.Version < 4 && len(resp.Coordinators) == 1 {
		c := resp.Coordinators[0]
		resp.ErrorCode, resp.ErrorMessage, resp.NodeID, resp.Host, resp.Port = c.ErrorCode, c.ErrorMessage, c.NodeID, c.Host, c.Port
		resp.Coordinators = nil
	}
	return resp, nil
}

// authorizeCoordinatorKey is KafkaApis.getCoordinator's check: Describe on the group, or on
// the transactional id.
func (b *Broker) authorizeCoordinatorKey(req *wire.Request, typ int8, key string) error {
	switch {
	case typ == 0 && !b.authorize(req, authz.OpDescribe, authz.ResourceGroup, key):
		return kerr.GroupAuthorizationFailed
	case typ == 1 && !b.authorize(req, authz.OpDescribe, authz.ResourceTransactionalID, key):
		return kerr.TransactionalIDAuthorizationFailed
	}
	return nil
}

func (b *Broker) findCoordinator(c *kmsg.FindCoordinatorResponseCoordinator, typ int8, key, listener string) error {
	var topic string
	var partition int32
	var create func() error
	switch typ {
	case 0:
		topic, partition, create = offsetsTopic, b.groups.PartitionFor(key), b.createOffsetsTopic
	case 1:
		topic, partition, create = transactionStateTopic, b.txns.PartitionFor(key), b.createTransactionStateTopic
	default:
		return errorf(kerr.InvalidRequest, "coordinator type %d is not 0 (group) or 1 (transaction)", typ)
	}
	snap := b.meta.get()
	if _, ok := snap.topics[topic]; !ok {
		if err := create(); err != nil {
			return err
		}
		return kerr.CoordinatorNotAvailable
	}
	st, ok := snap.partition(topic, partition)
	if !ok || st.Leader < 0 {
		return kerr.CoordinatorNotAvailable
	}
	cb, alive := snap.brokers[st.Leader]
	hp, reachable := cb.endpoints[listener]
	if !alive || !reachable {
		return kerr.CoordinatorNotAvailable
	}
	c.NodeID, c.Host, c.Port = st.Leader, hp.host, hp.port
	return nil
}

// createOffsetsTopic creates __consumer_offsets as Kafka does on the first FindCoordinator.
func (b *Broker) createOffsetsTopic() error {
	rf := b.cfg.OffsetsTopicReplicationFactor
	if live := len(b.meta.get().brokers); int(rf) > live {
		return errorf(kerr.CoordinatorNotAvailable, "__consumer_offsets needs offsets.topic.replication.factor=%d live brokers; %d are alive", rf, live)
	}
	_, err := b.createTopic(topicSpec{
		name: offsetsTopic, partitions: b.cfg.OffsetsTopicNumPartitions, replicationFactor: rf,
		configs: map[string]string{
			"cleanup.policy":   "compact",
			"compression.type": "producer",
			"segment.bytes":    i64s(b.cfg.OffsetsTopicSegmentBytes),
		},
	}, false)
	if err != nil && !errors.Is(err, kerr.TopicAlreadyExists) {
		return err
	}
	return nil
}
