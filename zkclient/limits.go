package zkclient

import (
	"errors"
	"fmt"
)

// JuteMaxBuffer is ZooKeeper's default jute.maxbuffer (0xfffff bytes): the largest znode
// a server stores, and about the largest request it reads (a larger one closes the client's
// connection). Kafka in ZooKeeper mode lives within it too: a topic znode
// (/brokers/topics/<t>) must fit.
const JuteMaxBuffer = 0xfffff

// maxMultiBytes is the most znode data and paths CreatePartitionStates puts in one multi
// transaction: well under JuteMaxBuffer, leaving room for per-op framing and ACLs.
const maxMultiBytes = 512 << 10

// ErrZnodeTooLarge: the data would not fit in a znode (JuteMaxBuffer).
var ErrZnodeTooLarge = errors.New("znode too large")

// topicZnodeFixed is the size of a topic znode with no partitions but a topic id:
// {"version":3,"partitions":{},"adding_replicas":{},"removing_replicas":{},"topic_id":"<22>"}.
var topicZnodeFixed = int64(len(encodeTopic(TopicAssignment{TopicID: [16]byte{1}})))

// MinTopicZnodeSize is a lower bound on the bytes of the topic znode of partitions
// partitions (numbered from 0) holding replicas replica ids in all, each broker id taken as
// one digit: the JSON is at least this long, whatever the brokers. It allocates nothing, so
// callers can check a client's request against JuteMaxBuffer before building anything sized
// by it. Each partition costs `"<p>":[]` and a comma, each replica a digit and a comma.
func MinTopicZnodeSize(partitions, replicas int64) int64 {
	if partitions <= 0 {
		return topicZnodeFixed
	}
	partitions = min(partitions, 1<<40) // far past any limit; keeps the sums from overflowing
	replicas = min(replicas, 1<<50)
	size := topicZnodeFixed + digitsUpTo(partitions) + 5*partitions + (partitions - 1)
	if replicas > partitions {
		size += 2*replicas - partitions // replicas digits and replicas-1 commas per partition
	} else if replicas > 0 {
		size += replicas
	}
	return size
}

// digitsUpTo is the number of decimal digits of 0, 1, ..., n-1 together (n below 10^18).
func digitsUpTo(n int64) int64 {
	var total int64
	for lo, hi, width := int64(0), int64(10), int64(1); lo < n; lo, hi, width = hi, hi*10, width+1 {
		total += (min(n, hi) - lo) * width
	}
	return total
}

// CheckTopicZnodeSize refuses a topic of partitions partitions with replicationFactor
// replicas each whose znode could not be stored (over JuteMaxBuffer). The error wraps
// ErrZnodeTooLarge and says how large it would be and how many partitions would fit.
func CheckTopicZnodeSize(partitions int64, replicationFactor int64) error {
	need := MinTopicZnodeSize(partitions, partitions*replicationFactor)
	if need <= JuteMaxBuffer {
		return nil
	}
	fit := maxPartitionsFitting(replicationFactor)
	return fmt.Errorf("%w: %d partitions x %d replicas would need a topic znode of at least %d bytes, over ZooKeeper's jute.maxbuffer of %d bytes (at most about %d partitions fit at this replication factor)",
		ErrZnodeTooLarge, partitions, replicationFactor, need, JuteMaxBuffer, fit)
}

// CheckAssignmentZnodeSize is CheckTopicZnodeSize for a manual assignment of partitions
// partitions holding replicas replica ids in all.
func CheckAssignmentZnodeSize(partitions, replicas int64) error {
	need := MinTopicZnodeSize(partitions, replicas)
	if need <= JuteMaxBuffer {
		return nil
	}
	return fmt.Errorf("%w: an assignment of %d partitions with %d replicas in all would need a topic znode of at least %d bytes, over ZooKeeper's jute.maxbuffer of %d bytes",
		ErrZnodeTooLarge, partitions, replicas, need, JuteMaxBuffer)
}

// maxPartitionsFitting is the largest partition count whose MinTopicZnodeSize at
// replicationFactor fits in JuteMaxBuffer.
func maxPartitionsFitting(replicationFactor int64) int64 {
	lo, hi := int64(0), int64(JuteMaxBuffer) // every partition costs at least 6 bytes
	for lo < hi {
		mid := (lo + hi + 1) / 2
		if MinTopicZnodeSize(mid, mid*replicationFactor) <= JuteMaxBuffer {
			lo = mid
		} else {
			hi = mid - 1
		}
	}
	return lo
}

// checkZnodeData refuses data that ZooKeeper would not store at path.
func checkZnodeData(path string, data []byte) error {
	if len(data) > JuteMaxBuffer {
		return fmt.Errorf("zkclient: %s: %w: %d bytes, the limit is %d", path, ErrZnodeTooLarge, len(data), JuteMaxBuffer)
	}
	return nil
}
