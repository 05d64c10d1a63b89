package zkclient

// API contract: these signatures are what coordinator/ and broker/ use.

import (
	"errors"
	"time"

	"github.com/rs/zerolog"
)

// Errors.
var (
	ErrNodeExists    = errors.New("znode already exists")
	ErrNoNode        = errors.New("znode does not exist")
	ErrBadVersion    = errors.New("znode version changed (conditional write lost)")
	ErrBrokerIDTaken = errors.New("broker id is already registered") // wraps ErrNodeExists
	ErrNotController = errors.New("controller epoch moved: this broker is no longer controller")
)

// BrokerInfo is /brokers/ids/<id> (Kafka's BrokerIdZNode, version 5).
type BrokerInfo struct {
	ID        int32
	Host      string            // host of the first endpoint
	Port      int32             // port of the first endpoint
	Endpoints []Endpoint        // "PLAINTEXT://h:9092" entries
	Rack      string            // "" when none
	Epoch     int64             // czxid of the znode; filled on read
	Timestamp int64             // ms
	Features  map[string]string // written as {}
}

// Endpoint is one advertised listener.
type Endpoint struct {
	ListenerName     string
	SecurityProtocol string // PLAINTEXT
	Host             string
	Port             int32
}

// PartitionState is /brokers/topics/<t>/partitions/<p>/state (Kafka's LeaderAndIsr).
type PartitionState struct {
	Leader          int32
	LeaderEpoch     int32
	ControllerEpoch int32
	ISR             []int32
	ZkVersion       int32 // the znode's version; the partition epoch
}

// TopicAssignment is /brokers/topics/<t>.
type TopicAssignment struct {
	Topic            string
	TopicID          [16]byte          // written base64 (URL-safe, no padding, as Kafka's Uuid)
	Partitions       map[int32][]int32 // partition -> replicas in assignment order
	AddingReplicas   map[int32][]int32
	RemovingReplicas map[int32][]int32
}

// ControllerEpoch is the controller epoch and the zkVersion of /controller_epoch that fences
// every write a controller makes.
type ControllerEpoch struct {
	Epoch     int32
	ZkVersion int32
}

// EventType names what changed under a watch.
type EventType int

const (
	EventSessionExpired           EventType = iota // the session was lost; ephemerals are gone
	EventSessionEstablished                        // a (new or resumed) session is usable
	EventDisconnected                              // connection to the ensemble lost (session may survive)
	EventBrokersChanged                            // children of /brokers/ids
	EventControllerChanged                         // /controller created, deleted or changed
	EventTopicsChanged                             // children of /brokers/topics
	EventTopicDeletionsChanged                     // children of /admin/delete_topics
	EventPartitionsChanged                         // /brokers/topics/<Topic> data (CreatePartitions)
	EventIsrChangeNotification                     // children of /isr_change_notification
	EventConfigChanged                             // children of /config/changes
	EventPreferredReplicaElection                  // /admin/preferred_replica_election
)

// Event is a ZooKeeper change, made typed. Watches are one-shot in ZooKeeper; the client
// re-arms them when the caller reads again through a Watch* method.
type Event struct {
	Type  EventType
	Topic string // for EventPartitionsChanged
}

// Client is Kafka's ZooKeeper data model over go-zookeeper, rooted at the chroot of
// zookeeper.connect. Safe for concurrent use.
type Client struct{}

// Connect dials the ensemble in connect ("h1:2181,h2:2181/chroot"), creating the chroot when
// missing, and waits up to connTimeout for a session. Events (watches and session changes)
// arrive on Events().
func Connect(connect string, sessionTimeout, connTimeout time.Duration, logger zerolog.Logger) (*Client, error) {
	panic("unimplemented")
}

// Events is the channel every watch and session change is delivered on. It is never closed
// before Close. Buffered; a slow reader delays, never loses, events.
func (c *Client) Events() <-chan Event { panic("unimplemented") }

// SessionID is the current session's id (0 when none).
func (c *Client) SessionID() int64 { panic("unimplemented") }

// Close ends the session (ephemerals vanish at once).
func (c *Client) Close() { panic("unimplemented") }

// EnsurePersistentPaths creates Kafka's persistent paths (/brokers/ids, /brokers/topics,
// /brokers/seqid, /config/topics, /config/changes, /config/brokers, /admin/delete_topics,
// /isr_change_notification, /consumers, /latest_producer_id_block, /log_dir_event_notification, ...).
func (c *Client) EnsurePersistentPaths() error { panic("unimplemented") }

// GetOrCreateClusterID returns /cluster/id, writing proposed when it is absent.
func (c *Client) GetOrCreateClusterID(proposed string) (string, error) { panic("unimplemented") }

// RegisterBroker creates the ephemeral /brokers/ids/<id>; it returns the broker epoch (czxid).
// A taken id is ErrBrokerIDTaken (unless the node belongs to this very session).
func (c *Client) RegisterBroker(info BrokerInfo) (int64, error) { panic("unimplemented") }

// Brokers reads every registered broker and re-arms the /brokers/ids child watch.
func (c *Client) Brokers(watch bool) (map[int32]BrokerInfo, error) { panic("unimplemented") }

// Controller reads /controller (-1 when absent) and, with watch, watches it.
func (c *Client) Controller(watch bool) (int32, error) { panic("unimplemented") }

// TryElectController tries to create /controller for brokerID and, on success, increments
// /controller_epoch (creating it at 1 if absent) in a conditional write, returning the new
// epoch and its zkVersion. Someone else winning is ErrNodeExists.
func (c *Client) TryElectController(brokerID int32) (ControllerEpoch, error) { panic("unimplemented") }

// ResignController deletes /controller if this broker holds it.
func (c *Client) ResignController(brokerID int32) error { panic("unimplemented") }

// Topics lists /brokers/topics children (with watch, re-arms the child watch).
func (c *Client) Topics(watch bool) ([]string, error) { panic("unimplemented") }

// TopicAssignment reads /brokers/topics/<t> (with watch, re-arms its data watch).
func (c *Client) TopicAssignment(topic string, watch bool) (TopicAssignment, error) {
	panic("unimplemented")
}

// CreateTopic writes /brokers/topics/<t> and /config/topics/<t> (config may be empty) for an
// admin request; the controller then creates partition states. An existing topic is
// ErrNodeExists.
func (c *Client) CreateTopic(a TopicAssignment, config map[string]string) error {
	panic("unimplemented")
}

// SetTopicAssignment overwrites /brokers/topics/<t> (CreatePartitions) if its version matches.
func (c *Client) SetTopicAssignment(a TopicAssignment) error { panic("unimplemented") }

// PartitionState reads one partition's state (ErrNoNode when absent).
func (c *Client) PartitionState(topic string, partition int32) (PartitionState, error) {
	panic("unimplemented")
}

// CreatePartitionStates creates state znodes (and their parents) in one multi that checks
// /controller_epoch's zkVersion; ErrNotController when it moved.
func (c *Client) CreatePartitionStates(ce ControllerEpoch, topic string, states map[int32]PartitionState) error {
	panic("unimplemented")
}

// UpdatePartitionState writes one state znode if its zkVersion is st.ZkVersion and the
// controller epoch still holds; returns the new zkVersion. ErrBadVersion or ErrNotController.
func (c *Client) UpdatePartitionState(ce ControllerEpoch, topic string, partition int32, st PartitionState) (int32, error) {
	panic("unimplemented")
}

// UpdatePartitionStateAsLeader is the leader's own conditional write of its ISR (Kafka's
// pre-AlterPartition path): no controller-epoch check, only the znode version.
func (c *Client) UpdatePartitionStateAsLeader(topic string, partition int32, st PartitionState) (int32, error) {
	panic("unimplemented")
}

// CreateIsrChangeNotification writes /isr_change_notification/isr_change_<seq>.
func (c *Client) CreateIsrChangeNotification(parts []TopicPartition) error { panic("unimplemented") }

// IsrChangeNotifications reads and deletes every pending notification (re-arming the watch).
func (c *Client) IsrChangeNotifications(watch bool) ([]TopicPartition, error) { panic("unimplemented") }

// TopicPartition names one partition.
type TopicPartition struct {
	Topic     string
	Partition int32
}

// MarkTopicForDeletion creates /admin/delete_topics/<t>.
func (c *Client) MarkTopicForDeletion(topic string) error { panic("unimplemented") }

// TopicDeletions lists /admin/delete_topics children (re-arming the watch).
func (c *Client) TopicDeletions(watch bool) ([]string, error) { panic("unimplemented") }

// DeleteTopic removes /brokers/topics/<t> recursively, /config/topics/<t> and
// /admin/delete_topics/<t>, fenced by the controller epoch.
func (c *Client) DeleteTopic(ce ControllerEpoch, topic string) error { panic("unimplemented") }

// TopicConfig reads /config/topics/<t> (empty map when absent).
func (c *Client) TopicConfig(topic string) (map[string]string, error) { panic("unimplemented") }

// SetTopicConfig writes /config/topics/<t> and a /config/changes/config_change_<seq>
// notification for "topics/<t>".
func (c *Client) SetTopicConfig(topic string, config map[string]string) error { panic("unimplemented") }

// ConfigChanges returns entity paths ("topics/<t>") of notifications after seq lastSeen,
// and the newest sequence number; with watch, re-arms the child watch.
func (c *Client) ConfigChanges(lastSeen int64, watch bool) (entities []string, newest int64, err error) {
	panic("unimplemented")
}

// AllocateProducerIDBlock takes the next block of blockSize producer ids from
// /latest_producer_id_block (a conditional write retried on conflict), returning its first
// and last ids.
func (c *Client) AllocateProducerIDBlock(brokerID int32, blockSize int64) (first, last int64, err error) {
	panic("unimplemented")
}
