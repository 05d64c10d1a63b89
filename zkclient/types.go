package zkclient

import (
	"errors"
	"fmt"
)

// Errors. Every error returned by the client wraps one of these where one applies, so callers
// test with errors.Is.
var (
	ErrNodeExists    = errors.New("znode already exists")
	ErrNoNode        = errors.New("znode does not exist")
	ErrBadVersion    = errors.New("znode version changed (conditional write lost)")
	ErrBrokerIDTaken = fmt.Errorf("broker id is already registered: %w", ErrNodeExists)
	ErrNotController = errors.New("controller epoch moved: this broker is no longer controller")
)

// BrokerInfo is /brokers/ids/<id> (Kafka's BrokerIdZNode, version 5).
type BrokerInfo struct {
	ID        int32
	Host      string     // host of the first PLAINTEXT endpoint ("" when none)
	Port      int32      // port of the first PLAINTEXT endpoint (-1 when none)
	Endpoints []Endpoint // "PLAINTEXT://h:9092" entries
	Rack      string     // "" when none
	Epoch     int64      // czxid of the znode; filled on read
	Timestamp int64      // ms; 0 on write means now
	JmxPort   int32      // the management port: klassik writes metrics.listener's port, -1 (or 0) for none
	Version   int32      // JSON version; filled on read (written: 5)
	// Features are the supported features, name -> raw JSON of the version range
	// ({"min_version":1,"max_version":3}). klassik writes {}.
	Features map[string]string
}

// HTTPAddrs are where the broker's HTTP listener (metrics.listener, registered in jmx_port)
// may be reached, as host:port: the jmx_port on the registration's host, then on the host of
// each other advertised endpoint, without repeats. A wildcard or empty host
// stands for the loopback address 127.0.0.1. Nil when jmx_port is unset. Several
// candidates matter where one network names a broker differently from another (in docker
// compose the registration's host is the in-network kafka1, the host sees localhost): the
// caller takes one it can reach (classroom/event.HTTPBase).
func (b BrokerInfo) HTTPAddrs() []string {
	if b.JmxPort <= 0 {
		return nil
	}
	hosts := []string{b.Host}
	for _, e := range b.Endpoints {
		hosts = append(hosts, e.Host)
	}
	var out []string
	seen := map[string]bool{}
	for i, h := range hosts {
		if i == 0 && h == "" && len(hosts) > 1 {
			continue // no PLAINTEXT host: the endpoints say where the broker is
		}
		if h == "" || h == "0.0.0.0" || h == "::" {
			h = "127.0.0.1"
		}
		a := formatAddress(h, b.JmxPort)
		if !seen[a] {
			seen[a] = true
			out = append(out, a)
		}
	}
	return out
}

// Endpoint is one advertised listener.
type Endpoint struct {
	ListenerName     string // defaults to SecurityProtocol
	SecurityProtocol string // PLAINTEXT; defaults to ListenerName, then PLAINTEXT
	Host             string
	Port             int32
}

// ConnectionString is Kafka's EndPoint.connectionString: "LISTENER://host:port" (IPv6 hosts
// in brackets).
func (e Endpoint) ConnectionString() string {
	return e.listener() + "://" + formatAddress(e.Host, e.Port)
}

func (e Endpoint) listener() string {
	switch {
	case e.ListenerName != "":
		return e.ListenerName
	case e.SecurityProtocol != "":
		return e.SecurityProtocol
	}
	return "PLAINTEXT"
}

func (e Endpoint) protocol() string {
	switch {
	case e.SecurityProtocol != "":
		return e.SecurityProtocol
	case e.ListenerName != "":
		return e.ListenerName
	}
	return "PLAINTEXT"
}

// PartitionState is /brokers/topics/<t>/partitions/<p>/state (Kafka's LeaderAndIsr).
type PartitionState struct {
	Leader          int32
	LeaderEpoch     int32
	ControllerEpoch int32
	ISR             []int32
	ZkVersion       int32 // the znode's version; the partition epoch
	// LeaderRecoveryState is 0 (RECOVERED, not written) or 1 (RECOVERING, KIP-704).
	LeaderRecoveryState int8
}

// TopicAssignment is /brokers/topics/<t>.
type TopicAssignment struct {
	Topic            string
	TopicID          [16]byte          // written base64 (URL-safe, no padding, as Kafka's Uuid); zero: not written
	Partitions       map[int32][]int32 // partition -> replicas in assignment order
	AddingReplicas   map[int32][]int32
	RemovingReplicas map[int32][]int32
	// ZkVersion is the znode's version, filled on read; SetTopicAssignment writes only if the
	// znode still has it (-1: any version).
	ZkVersion int32
}

// ControllerEpoch is the controller epoch and the zkVersion of /controller_epoch that fences
// every write a controller makes.
type ControllerEpoch struct {
	Epoch     int32
	ZkVersion int32
}

// TopicPartition names one partition.
type TopicPartition struct {
	Topic     string
	Partition int32
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
	EventLogDirEventNotification                   // children of /log_dir_event_notification
	EventPartitionReassignment                     // /admin/reassign_partitions created, changed or deleted
	EventAclChanged                                // children of /kafka-acl-changes or /kafka-acl-extended-changes
)

var eventNames = [...]string{
	"SessionExpired", "SessionEstablished", "Disconnected", "BrokersChanged", "ControllerChanged",
	"TopicsChanged", "TopicDeletionsChanged", "PartitionsChanged", "IsrChangeNotification",
	"ConfigChanged", "PreferredReplicaElection", "LogDirEventNotification", "PartitionReassignment",
	"AclChanged",
}

func (t EventType) String() string {
	if t >= 0 && int(t) < len(eventNames) {
		return eventNames[t]
	}
	return fmt.Sprintf("EventType(%d)", int(t))
}

// Event is a ZooKeeper change, made typed. Watches are one-shot in ZooKeeper; the client
// re-arms them when the caller reads again through a method called with watch set.
type Event struct {
	Type  EventType
	Topic string // for EventPartitionsChanged
}
