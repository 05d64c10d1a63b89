package event

import "time"

// Kinds of events. A classroom page groups and colours them by kind; the text says the rest.
const (
	ControllerElected  = "controller-elected"  // this broker won /controller; epoch in ControllerEpoch
	ControllerResigned = "controller-resigned" // this broker stopped being the controller
	BrokerRegistered   = "broker-registered"   // a broker's /brokers/ids/N appeared (Broker)
	BrokerLost         = "broker-lost"         // a broker's /brokers/ids/N went away (Broker)
	LeaderElected      = "leader-elected"      // the controller chose a partition leader; Cause says why
	ISRShrink          = "isr-shrink"          // a leader removed replicas from the ISR; Cause says why
	ISRExpand          = "isr-expand"          // a leader added a caught-up replica to the ISR
	ZKWrite            = "zk-write"            // a conditional ZooKeeper write and its versions
	RequestSent        = "request-sent"        // LeaderAndIsr, UpdateMetadata or StopReplica to a broker
	BecameLeader       = "became-leader"       // a broker started leading a partition (LeaderAndIsr)
	BecameFollower     = "became-follower"     // a broker started following a partition
	Truncation         = "truncation"          // a follower truncated its log after a leader change
	GroupRebalance     = "group-rebalance"     // a consumer group moved to a new generation
	Transaction        = "transaction"         // a transactional id changed state, or its markers were written
	LogDirFailed       = "log-dir-failed"      // a log directory went offline
	HighWatermark      = "high-watermark"      // a partition's high watermark moved (sampled, not every move)
	WatchFired         = "watch-fired"         // a ZooKeeper watch fired (source "zookeeper")
	Fault              = "fault"               // a fault was injected on purpose (klassik.faults.enable)
	Scenario           = "scenario"            // a scenario's narration
)

// Event is one entry of the timeline. Only Time, Source, Kind and Text are always set; the
// other fields name what the event is about, so a page can link it to the partition, broker
// or znode it concerns.
type Event struct {
	Seq         uint64    `json:"seq"`
	Run         int64     `json:"run"` // the publishing process's run (Bus.Run)
	Time        time.Time `json:"time"`
	Source      string    `json:"source"`                 // broker id, "zookeeper" or "scenario"
	BrokerEpoch int64     `json:"broker_epoch,omitempty"` // the publishing broker's epoch (czxid)
	Kind        string    `json:"kind"`
	Text        string    `json:"text"` // one line, in Kafka's words
	Cause       string    `json:"cause,omitempty"`

	Broker          *int32  `json:"broker,omitempty"` // the broker the event is about
	Topic           string  `json:"topic,omitempty"`
	Partition       *int32  `json:"partition,omitempty"`
	Leader          *int32  `json:"leader,omitempty"`
	ISR             []int32 `json:"isr,omitempty"`
	LeaderEpoch     *int32  `json:"leader_epoch,omitempty"`
	ZKVersion       *int32  `json:"zk_version,omitempty"`
	ControllerEpoch *int32  `json:"controller_epoch,omitempty"`
	ZNode           string  `json:"znode,omitempty"`
	Group           string  `json:"group,omitempty"`
	Generation      *int32  `json:"generation,omitempty"`
	TransactionalID string  `json:"transactional_id,omitempty"`
	ProducerID      *int64  `json:"producer_id,omitempty"`
	Offset          *int64  `json:"offset,omitempty"`
}

// Int32 and Int64 make the optional fields easy to fill: event.Int32(p).
func Int32(v int32) *int32 { return &v }

// Int64 returns a pointer to v.
func Int64(v int64) *int64 { return &v }

// Publisher takes events. The controller, the group coordinator and the replica manager each
// hold one; a nil Publisher is not allowed, use Discard.
type Publisher interface {
	Publish(Event)
}

// Discard drops every event.
var Discard Publisher = discard{}

type discard struct{}

func (discard) Publish(Event) {}
