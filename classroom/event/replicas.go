package event

// ReplicasPath is where a broker serves its replicas' state on its HTTP listener
// (metrics.listener), for the classroom page and scenarios.
const ReplicasPath = "/klassik/replicas"

// Replicas is GET ReplicasPath: what one broker knows of the replicas it holds, as Kafka's
// ReplicaManager MBeans and kafka-log-dirs.sh would show them.
type Replicas struct {
	BrokerID int32     `json:"broker_id"`
	Replicas []Replica `json:"replicas"`
}

// Replica is one partition replica on the answering broker.
type Replica struct {
	Topic          string     `json:"topic"`
	Partition      int32      `json:"partition"`
	Leader         bool       `json:"leader"` // this broker leads the partition
	LeaderID       int32      `json:"leader_id"`
	LeaderEpoch    int32      `json:"leader_epoch"`
	ZKVersion      int32      `json:"zk_version"` // the partition epoch
	LogStartOffset int64      `json:"log_start_offset"`
	LogEndOffset   int64      `json:"log_end_offset"`
	HighWatermark  int64      `json:"high_watermark"`
	Replicas       []int32    `json:"replicas"`
	ISR            []int32    `json:"isr"`
	Followers      []Follower `json:"followers,omitempty"`    // on a leader
	FetchPaused    bool       `json:"fetch_paused,omitempty"` // on a follower, by a fault
}

// Follower is a leader's view of one follower, from that follower's fetches.
type Follower struct {
	Broker       int32 `json:"broker"`
	LogEndOffset int64 `json:"log_end_offset"` // -1 before its first fetch
	CaughtUp     bool  `json:"caught_up"`      // it had everything the leader had at its last fetch
	LastCaughtUp int64 `json:"last_caught_up_ms,omitempty"`
}
