package zkclient

// Exported decoders and paths for readers outside the broker that watch ZooKeeper themselves
// (the classroom, `klassik ui`): one copy of each decoder, shared, so the two cannot drift.

// Kafka's znode paths, without the chroot.
const (
	BrokerIDsPath       = brokerIDsPath
	TopicsPath          = topicsPath
	ControllerPath      = controllerPath
	ControllerEpochPath = controllerEpochPath
)

// BrokerPath is /brokers/ids/<id>.
func BrokerPath(id int32) string { return brokerPath(id) }

// TopicPath is /brokers/topics/<t>.
func TopicPath(t string) string { return topicPath(t) }

// PartitionStatePath is /brokers/topics/<t>/partitions/<p>/state.
func PartitionStatePath(t string, p int32) string { return partitionStatePath(t, p) }

// DecodeBroker decodes a broker registration (versions 1 to 5); Epoch is left for the caller
// to fill from the znode's czxid.
func DecodeBroker(id int32, b []byte) (BrokerInfo, error) { return decodeBroker(id, b) }

// DecodeController decodes /controller and returns the controller's broker id.
func DecodeController(b []byte) (int32, error) { return decodeController(b) }

// DecodeControllerEpoch decodes /controller_epoch.
func DecodeControllerEpoch(b []byte) (int32, error) { return decodeControllerEpoch(b) }

// DecodeTopic decodes /brokers/topics/<t>.
func DecodeTopic(topic string, b []byte) (TopicAssignment, error) { return decodeTopic(topic, b) }

// DecodePartitionState decodes a partition's state znode; zkVersion is its stat's version.
func DecodePartitionState(b []byte, zkVersion int32) (PartitionState, error) {
	return decodePartitionState(b, zkVersion)
}
