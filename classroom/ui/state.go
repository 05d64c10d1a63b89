package ui

// The /api/cluster document. Field names are the contract the page and the tests rely on.

// Cluster is GET /api/cluster.
type Cluster struct {
	Controller Controller `json:"controller"`
	Brokers    []Broker   `json:"brokers"`
	Topics     []Topic    `json:"topics"`
	Groups     []Group    `json:"groups"`
	// ZooKeeper says whether the UI has a ZooKeeper session now ("connected", "reconnecting").
	ZooKeeper string `json:"zookeeper"`
}

// Controller is /controller and /controller_epoch: id -1 while no broker holds /controller.
type Controller struct {
	ID    int32 `json:"id"`
	Epoch int32 `json:"epoch"`
	// EpochZkVersion is /controller_epoch's zkVersion, the fence of every controller write.
	EpochZkVersion int32 `json:"epoch_zk_version"`
}

// Broker is one broker seen in /brokers/ids, alive while its ephemeral znode exists.
type Broker struct {
	ID          int32    `json:"id"`
	Alive       bool     `json:"alive"`
	Endpoints   []string `json:"endpoints"`
	SessionID   string   `json:"session_id"`   // ephemeralOwner, hex as zkCli.sh prints it
	BrokerEpoch int64    `json:"broker_epoch"` // czxid of the registration
	HTTP        string   `json:"http,omitempty"`
	Rack        string   `json:"rack,omitempty"`
	// HTTPUp says whether the last poll of the broker's /klassik/replicas answered.
	HTTPUp     bool  `json:"http_up"`
	Registered int64 `json:"registered_ms"` // the registration's ctime
}

// Topic is one topic and its partitions, ordered by partition.
type Topic struct {
	Name       string      `json:"name"`
	Internal   bool        `json:"internal"`
	Partitions []Partition `json:"partitions"`
}

// Partition is a partition's assignment, its state znode and what its leader reports.
type Partition struct {
	Partition       int32           `json:"partition"`
	Leader          int32           `json:"leader"`
	Replicas        []int32         `json:"replicas"`
	ISR             []int32         `json:"isr"`
	LeaderEpoch     int32           `json:"leader_epoch"`
	ControllerEpoch int32           `json:"controller_epoch"`
	ZkVersion       int32           `json:"zk_version"`
	HighWatermark   *int64          `json:"high_watermark"`
	LogStartOffset  *int64          `json:"log_start_offset,omitempty"`
	LogEndOffsets   map[int32]int64 `json:"log_end_offsets"`
	UnderReplicated bool            `json:"under_replicated"`
	Offline         bool            `json:"offline"`
	StateMtime      int64           `json:"state_mtime_ms"`
}

// Group is one consumer group as the group coordinator describes it.
type Group struct {
	Name        string   `json:"name"`
	State       string   `json:"state"`
	Protocol    string   `json:"protocol"`
	ProtoType   string   `json:"protocol_type"`
	Generation  int32    `json:"generation"`
	Coordinator int32    `json:"coordinator"`
	Members     []Member `json:"members"`
	Offsets     []Lag    `json:"offsets"`
	Error       string   `json:"error,omitempty"`
}

// Member is one group member and its assignment.
type Member struct {
	ID         string             `json:"id"`
	InstanceID string             `json:"instance_id,omitempty"`
	ClientID   string             `json:"client_id"`
	Host       string             `json:"host"`
	Assigned   map[string][]int32 `json:"assigned"`
}

// Lag is one partition's committed offset and lag (end offset minus committed; -1 unknown).
type Lag struct {
	Topic     string `json:"topic"`
	Partition int32  `json:"partition"`
	Member    string `json:"member,omitempty"`
	Committed int64  `json:"committed"`
	End       int64  `json:"end"`
	Lag       int64  `json:"lag"`
}
