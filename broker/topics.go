package broker

import (
	"context"
	"errors"
	"sort"
	"time"

	"github.com/klassik/klassik/coordinator/controller"
	"github.com/klassik/klassik/zkclient"
	"github.com/twmb/franz-go/pkg/kerr"
)

// offsetsTopic is Kafka's internal topic of committed offsets.
const offsetsTopic = "__consumer_offsets"

func sortedPartitionIDs[V any](m map[int32]V) []int32 {
	ids := make([]int32, 0, len(m))
	for id := range m {
		ids = append(ids, id)
	}
	sort.Slice(ids, func(i, j int) bool { return ids[i] < ids[j] })
	return ids
}

// validateTopicName applies Kafka's rules (Topic.validate): 1-249 characters of
// [a-zA-Z0-9._-], and not "." or "..".
func validateTopicName(name string) error {
	if name == "" || name == "." || name == ".." {
		return errorf(kerr.InvalidTopicException, "topic name %q is not allowed", name)
	}
	if len(name) > 249 {
		return errorf(kerr.InvalidTopicException, "topic name is %d characters long; the limit is 249", len(name))
	}
	for _, c := range name {
		ok := c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '.' || c == '_' || c == '-'
		if !ok {
			return errorf(kerr.InvalidTopicException, "topic name %q contains %q; only ASCII letters, digits, '.', '_' and '-' are allowed", name, c)
		}
	}
	return nil
}

// topicSpec is a topic to create.
type topicSpec struct {
	name              string
	partitions        int32 // -1: num.partitions
	replicationFactor int16 // -1: default.replication.factor
	assignment        map[int32][]int32
	configs           map[string]string
}

// createTopic validates spec and, unless validateOnly, writes the topic to ZooKeeper, where
// the controller picks it up (Kafka's AdminZkClient.createTopic). It returns the assignment.
func (b *Broker) createTopic(spec topicSpec, validateOnly bool) (map[int32][]int32, error) {
	if err := validateTopicName(spec.name); err != nil {
		return nil, err
	}
	if _, ok := b.meta.get().topics[spec.name]; ok {
		return nil, errorf(kerr.TopicAlreadyExists, "topic %q already exists", spec.name)
	}
	if err := validateTopicConfig(b.brokerCfg(), spec.configs); err != nil {
		return nil, errorf(kerr.InvalidConfig, "%v", err) // Kafka's message as it is (ZkAdminManager.createTopics)
	}
	assignment := spec.assignment
	if len(assignment) == 0 {
		n, rf := spec.partitions, spec.replicationFactor
		if n == -1 {
			n = b.cfg.NumPartitions
		}
		if rf == -1 {
			rf = b.cfg.DefaultReplicationFactor
		}
		if n <= 0 {
			return nil, errorf(kerr.InvalidPartitions, "number of partitions must be larger than 0, not %d", n)
		}
		if rf <= 0 {
			return nil, errorf(kerr.InvalidReplicationFactor, "replication factor must be larger than 0, not %d", rf)
		}
		// Before anything sized by the request is allocated: the znode must be storable.
		if err := zkclient.CheckTopicZnodeSize(int64(n), int64(rf)); err != nil {
			return nil, errorf(kerr.InvalidPartitions, "%v", err)
		}
		var err error
		if assignment, err = b.assignReplicas(n, rf); err != nil {
			return nil, err
		}
	} else if err := b.validateAssignment(assignment, 0); err != nil {
		return nil, err
	}
	if validateOnly {
		return assignment, nil
	}
	err := b.zk.CreateTopic(zkclient.TopicAssignment{Topic: spec.name, TopicID: newTopicID(), Partitions: assignment}, spec.configs)
	if errors.Is(err, zkclient.ErrNodeExists) {
		return nil, errorf(kerr.TopicAlreadyExists, "topic %q already exists", spec.name)
	}
	if err != nil {
		return nil, errorf(kerr.UnknownServerError, "writing topic %q to ZooKeeper: %v", spec.name, err)
	}
	b.log.Info().Str("topic", spec.name).Int("partitions", len(assignment)).Msg("created topic")
	return assignment, nil
}

// assignReplicas places the replicas of n new partitions on the live brokers as Kafka's
// AdminUtils.assignReplicasToBrokers does: spread over racks when the brokers have a
// broker.rack (every one of them must then), round robin otherwise.
func (b *Broker) assignReplicas(n int32, rf int16) (map[int32][]int32, error) {
	a, err := controller.AssignReplicasToBrokers(b.meta.get().liveBrokerRacks(), n, rf, -1, 0)
	switch {
	case errors.Is(err, controller.ErrPartialRacks):
		return nil, errorf(kerr.UnknownServerError, "%v", err) // Kafka's AdminOperationException
	case err != nil:
		return nil, errorf(kerr.InvalidReplicationFactor, "%v", err)
	}
	return a, nil
}

// checkAssignmentFits refuses a manual assignment (partitions entries holding replicas ids in
// all) whose topic znode could not be stored, before it is copied into anything.
func checkAssignmentFits(partitions, replicas int64) error {
	if err := zkclient.CheckAssignmentZnodeSize(partitions, replicas); err != nil {
		return errorf(kerr.InvalidReplicaAssignment, "%v", err)
	}
	return nil
}

// validateAssignment checks a manual replica assignment: partitions numbered from first
// without gaps, the same replication factor everywhere, no duplicate or unknown brokers.
func (b *Broker) validateAssignment(a map[int32][]int32, first int32) error {
	live := b.meta.get().brokers
	rf := -1
	for i := first; i < first+int32(len(a)); i++ {
		replicas, ok := a[i]
		if !ok {
			return errorf(kerr.InvalidReplicaAssignment, "partitions must be numbered consecutively from %d", first)
		}
		if rf == -1 {
			rf = len(replicas)
		}
		if len(replicas) != rf || rf == 0 {
			return errorf(kerr.InvalidReplicaAssignment, "every partition must have the same, non-zero number of replicas")
		}
		seen := map[int32]bool{}
		for _, r := range replicas {
			if seen[r] {
				return errorf(kerr.InvalidReplicaAssignment, "partition %d lists broker %d twice", i, r)
			}
			seen[r] = true
			if _, ok := live[r]; !ok {
				return errorf(kerr.BrokerNotAvailable, "broker %d in the assignment of partition %d is not alive", r, i)
			}
		}
	}
	return nil
}

// autoCreateTopic creates a topic a client asked about (auto.create.topics.enable); the client
// is told LEADER_NOT_AVAILABLE and retries, as with Kafka. The two internal topics get their
// own partition counts, replication factors and configs, as Kafka's
// AutoTopicCreationManager.creatableTopic gives them: a Metadata request naming
// __consumer_offsets (sarama sends one when a coordinator is not available) must not create it
// with num.partitions, or every group hashed past that partition count never finds a
// coordinator.
func (b *Broker) autoCreateTopic(name string) error {
	var err error
	switch name {
	case offsetsTopic:
		err = b.createOffsetsTopic()
	case transactionStateTopic:
		err = b.createTransactionStateTopic()
	default:
		_, err = b.createTopic(topicSpec{name: name, partitions: -1, replicationFactor: -1}, false)
	}
	if err == nil || errors.Is(err, kerr.TopicAlreadyExists) {
		return kerr.LeaderNotAvailable
	}
	if name == offsetsTopic || name == transactionStateTopic {
		return kerr.LeaderNotAvailable // not enough brokers yet: FindCoordinator tells why
	}
	b.log.Warn().Err(err).Str("topic", name).Msg("auto-creating topic")
	return err
}

// waitForMetadata waits until cond holds on the metadata cache or the deadline passes.
func (b *Broker) waitForMetadata(ctx context.Context, deadline time.Time, cond func(*metadataSnapshot) bool) bool {
	for {
		ch := b.meta.waitChan()
		if cond(b.meta.get()) {
			return true
		}
		wait := time.Until(deadline)
		if wait <= 0 {
			return false
		}
		timer := time.NewTimer(wait)
		select {
		case <-ch:
			timer.Stop()
		case <-timer.C:
			return cond(b.meta.get())
		case <-ctx.Done():
			timer.Stop()
			return false
		}
	}
}
