// Partition reassignment in ZooKeeper: the legacy /admin/reassign_partitions znode (Kafka's
// ReassignPartitionsZNode) and the controller's fenced write of a topic's assignment with
// adding_replicas and removing_replicas (KafkaZkClient.setTopicAssignment, KIP-455).

package zkclient

import (
	"encoding/json"
	"errors"
	"fmt"
	"sort"

	"github.com/go-zookeeper/zk"
)

const reassignPartitionsPath = "/admin/reassign_partitions"

// encodeReassignment is ReassignPartitionsZNode.encode:
// {"version":1,"partitions":[{"topic":"t","partition":0,"replicas":[1,2]}]}, in partition order.
func encodeReassignment(m map[TopicPartition][]int32) []byte {
	parts := make([]TopicPartition, 0, len(m))
	for tp := range m {
		parts = append(parts, tp)
	}
	sort.Slice(parts, func(i, j int) bool {
		if parts[i].Topic != parts[j].Topic {
			return parts[i].Topic < parts[j].Topic
		}
		return parts[i].Partition < parts[j].Partition
	})
	items := make([][]byte, len(parts))
	for i, tp := range parts {
		rs := m[tp]
		if rs == nil {
			rs = []int32{}
		}
		items[i] = jsonObject([]field{{"topic", jsonString(tp.Topic)}, {"partition", jsonInt(int64(tp.Partition))},
			{"replicas", jsonIntArray(rs)}})
	}
	return jsonObject([]field{{"version", jsonInt(1)}, {"partitions", jsonArray(items)}})
}

// decodeReassignment is ReassignPartitionsZNode.decode. Entries without a topic or replicas
// are an error, as Kafka's decoder fails on them.
func decodeReassignment(b []byte) (map[TopicPartition][]int32, error) {
	var v struct {
		Partitions []struct {
			Topic     *string `json:"topic"`
			Partition *int32  `json:"partition"`
			Replicas  []int32 `json:"replicas"`
		} `json:"partitions"`
	}
	if err := json.Unmarshal(b, &v); err != nil {
		return nil, fmt.Errorf("zkclient: bad %s data %q: %v", reassignPartitionsPath, b, err)
	}
	out := make(map[TopicPartition][]int32, len(v.Partitions))
	for _, p := range v.Partitions {
		if p.Topic == nil || p.Partition == nil || p.Replicas == nil {
			return nil, fmt.Errorf("zkclient: bad %s data %q: every partition needs topic, partition and replicas", reassignPartitionsPath, b)
		}
		out[TopicPartition{*p.Topic, *p.Partition}] = p.Replicas
	}
	return out, nil
}

// EncodeReassignment and DecodeReassignment expose the /admin/reassign_partitions JSON to
// tools and tests.
func EncodeReassignment(m map[TopicPartition][]int32) []byte { return encodeReassignment(m) }

// DecodeReassignment parses /admin/reassign_partitions data.
func DecodeReassignment(b []byte) (map[TopicPartition][]int32, error) { return decodeReassignment(b) }

// CreatePartitionReassignment writes /admin/reassign_partitions (what Kafka's old
// kafka-reassign-partitions.sh --zookeeper did); ErrNodeExists while one is in progress.
func (c *Client) CreatePartitionReassignment(m map[TopicPartition][]int32) error {
	for tp := range m {
		if err := checkName("topic", tp.Topic); err != nil {
			return err
		}
	}
	_, err := c.createRecursive(reassignPartitionsPath, encodeReassignment(m), 0)
	return err
}

// PartitionReassignment reads /admin/reassign_partitions (nil when absent); with watch, it
// watches the znode (EventPartitionReassignment on creation, change and deletion), as
// Kafka's registerZNodeChangeHandlerAndCheckExistence.
func (c *Client) PartitionReassignment(watch bool) (map[TopicPartition][]int32, error) {
	if watch {
		ok, err := c.exists(reassignPartitionsPath, true)
		if err != nil || !ok {
			return nil, err
		}
	}
	data, _, err := c.get(reassignPartitionsPath)
	if errors.Is(err, ErrNoNode) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	return decodeReassignment(data)
}

// SetPartitionReassignment overwrites /admin/reassign_partitions with what is left of it,
// fenced by the controller epoch (Kafka's setOrCreatePartitionReassignment).
func (c *Client) SetPartitionReassignment(ce ControllerEpoch, m map[TopicPartition][]int32) error {
	_, err := c.fenced(ce, &zk.SetDataRequest{Path: c.p(reassignPartitionsPath), Data: encodeReassignment(m), Version: -1})
	return err
}

// DeletePartitionReassignment removes /admin/reassign_partitions, fenced by the controller
// epoch (Kafka's deletePartitionReassignment); absent is not an error.
func (c *Client) DeletePartitionReassignment(ce ControllerEpoch) error {
	_, err := c.fenced(ce, &zk.DeleteRequest{Path: c.p(reassignPartitionsPath), Version: -1})
	if errors.Is(err, ErrNoNode) {
		return nil
	}
	return err
}

// SetTopicAssignmentFenced overwrites /brokers/topics/<t> whatever its version, fenced by the
// controller epoch: the controller's write of a reassignment's full replica set, adding and
// removing replicas (Kafka's setTopicAssignment with expectedControllerEpochZkVersion).
func (c *Client) SetTopicAssignmentFenced(ce ControllerEpoch, a TopicAssignment) error {
	if err := checkName("topic", a.Topic); err != nil {
		return err
	}
	data := encodeTopic(a)
	if err := checkZnodeData(topicPath(a.Topic), data); err != nil {
		return err
	}
	_, err := c.fenced(ce, &zk.SetDataRequest{Path: c.p(topicPath(a.Topic)), Data: data, Version: -1})
	return err
}
