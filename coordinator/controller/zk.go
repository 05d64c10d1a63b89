package controller

import "github.com/klassik/klassik/zkclient"

// ZK is the part of the ZooKeeper data model (zkclient) the controller uses. *zkclient.Client
// satisfies it; tests hand in an in-memory fake.
//
// Every method that writes controller-owned data (partition states, topic removal) is fenced
// by the controller epoch: it fails with zkclient.ErrNotController once another broker has
// become controller, and the controller then resigns.
type ZK interface {
	// Brokers reads /brokers/ids/* (epoch = czxid) and, with watch, re-arms the child watch.
	Brokers(watch bool) (map[int32]zkclient.BrokerInfo, error)
	// Controller reads /controller (-1 when absent) and, with watch, watches it.
	Controller(watch bool) (int32, error)
	// TryElectController creates /controller and bumps /controller_epoch;
	// zkclient.ErrNodeExists when another broker won.
	TryElectController(brokerID int32) (zkclient.ControllerEpoch, error)
	// ResignController deletes /controller if this broker holds it.
	ResignController(brokerID int32) error

	Topics(watch bool) ([]string, error)
	TopicAssignment(topic string, watch bool) (zkclient.TopicAssignment, error)
	SetTopicAssignment(a zkclient.TopicAssignment) error
	TopicConfig(topic string) (map[string]string, error)

	PartitionState(topic string, partition int32) (zkclient.PartitionState, error)
	CreatePartitionStates(ce zkclient.ControllerEpoch, topic string, states map[int32]zkclient.PartitionState) error
	UpdatePartitionState(ce zkclient.ControllerEpoch, topic string, partition int32, st zkclient.PartitionState) (int32, error)

	IsrChangeNotifications(watch bool) ([]zkclient.TopicPartition, error)
	TopicDeletions(watch bool) ([]string, error)
	DeleteTopic(ce zkclient.ControllerEpoch, topic string) error

	// Reassignment (reassign.go): the fenced write of a topic's assignment with its adding
	// and removing replicas, and the legacy /admin/reassign_partitions znode (nil when absent;
	// with watch, watched for creation, change and deletion).
	SetTopicAssignmentFenced(ce zkclient.ControllerEpoch, a zkclient.TopicAssignment) error
	PartitionReassignment(watch bool) (map[zkclient.TopicPartition][]int32, error)
	SetPartitionReassignment(ce zkclient.ControllerEpoch, m map[zkclient.TopicPartition][]int32) error
	DeletePartitionReassignment(ce zkclient.ControllerEpoch) error
}

// TopicDeletionMarkerRemover is an optional extension of ZK: removing
// /admin/delete_topics/<t> markers without touching the topic (Kafka's
// KafkaZkClient.deleteTopicDeletions), needed when delete.topic.enable=false or the marked
// topic does not exist. zkclient's API does not declare it yet; when the ZK handed to New
// lacks it, the controller logs and leaves such markers in place (for a topic that does not
// exist it falls back to DeleteTopic, which removes the marker along with nothing else).
type TopicDeletionMarkerRemover interface {
	DeleteTopicDeletionMarkers(ce zkclient.ControllerEpoch, topics []string) error
}

// *zkclient.Client is the production implementation.
var _ ZK = (*zkclient.Client)(nil)
