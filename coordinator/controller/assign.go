package controller

import (
	"errors"
	"fmt"
	"math/rand/v2"
	"slices"
)

// Errors of AssignReplicas; the error text is Kafka's message.
var (
	ErrInvalidPartitions        = errors.New("invalid partitions")         // INVALID_PARTITIONS
	ErrInvalidReplicationFactor = errors.New("invalid replication factor") // INVALID_REPLICATION_FACTOR
)

type assignError struct {
	kind error
	msg  string
}

func (e *assignError) Error() string { return e.msg }
func (e *assignError) Unwrap() error { return e.kind }

// AssignReplicas is Kafka's rack-unaware replica assignment (AdminUtils.assignReplicasToBrokers):
// brokers sorted, a random (or given, when >= 0) start index and replica shift. Used by the
// broker for CreateTopics, auto-creation and CreatePartitions.
//
// The first replica of partition p goes to broker (p + startIndex) mod n, round robin; the
// j-th follower is placed 1 + (shift + j) mod (n-1) brokers after it, so followers never land
// on the first replica's broker, and the shift grows by one each time the partition id wraps
// around the broker list, so that the same broker sets do not repeat. A given startIndex is
// also the initial shift, as in Kafka. Partition ids start at startPartition (0 when
// negative). Errors wrap ErrInvalidPartitions or ErrInvalidReplicationFactor and read as
// Kafka's messages.
func AssignReplicas(brokers []int32, partitions int32, replicationFactor int16, startIndex, startPartition int32) (map[int32][]int32, error) {
	if partitions <= 0 {
		return nil, &assignError{ErrInvalidPartitions, "Number of partitions must be larger than 0."}
	}
	if replicationFactor <= 0 {
		return nil, &assignError{ErrInvalidReplicationFactor, "Replication factor must be larger than 0."}
	}
	if int(replicationFactor) > len(brokers) {
		return nil, &assignError{ErrInvalidReplicationFactor,
			fmt.Sprintf("Replication factor: %d larger than available brokers: %d.", replicationFactor, len(brokers))}
	}
	bs := slices.Clone(brokers)
	slices.Sort(bs)
	n := int32(len(bs))
	first, shift := startIndex, startIndex
	if startIndex < 0 {
		first, shift = rand.Int32N(n), rand.Int32N(n)
	}
	p := max(startPartition, 0)
	out := make(map[int32][]int32, partitions)
	for range partitions {
		if p > 0 && p%n == 0 {
			shift++
		}
		lead := (p + first) % n
		replicas := make([]int32, 0, replicationFactor)
		replicas = append(replicas, bs[lead])
		for j := int32(0); j < int32(replicationFactor)-1; j++ {
			replicas = append(replicas, bs[followerIndex(lead, shift, j, n)])
		}
		out[p] = replicas
		p++
	}
	return out, nil
}

// followerIndex places follower j of a partition whose first replica is at index lead.
func followerIndex(lead, shift, j, n int32) int32 {
	offset := 1 + (shift+j)%(n-1)
	return (lead + offset) % n
}
