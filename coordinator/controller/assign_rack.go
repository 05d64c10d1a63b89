package controller

import (
	"errors"
	"fmt"
	"math/rand/v2"
	"slices"
)

// ErrPartialRacks is the refusal of a rack-aware assignment when only some brokers have a
// broker.rack (Kafka's AdminOperationException, answered UNKNOWN_SERVER_ERROR); the error's
// text is Kafka's message.
var ErrPartialRacks = errors.New("partial racks")

// AssignReplicasToBrokers is the assignment Kafka's AdminZkClient makes for a new topic or new
// partitions (RackAwareMode.Enforced): rack-unaware when no broker has a rack, rack-aware
// when every broker has one, and refused when only some do. racks maps broker id to its
// broker.rack ("" none).
func AssignReplicasToBrokers(racks map[int32]string, partitions int32, replicationFactor int16, startIndex, startPartition int32) (map[int32][]int32, error) {
	brokers := make([]int32, 0, len(racks))
	withRack := 0
	for id, r := range racks {
		brokers = append(brokers, id)
		if r != "" {
			withRack++
		}
	}
	switch {
	case withRack == 0:
		return AssignReplicas(brokers, partitions, replicationFactor, startIndex, startPartition)
	case withRack < len(racks):
		return nil, &assignError{ErrPartialRacks, "Not all brokers have rack information for replica rack aware assignment."}
	}
	return AssignReplicasRackAware(racks, partitions, replicationFactor, startIndex, startPartition)
}

// AssignReplicasRackAware is Kafka's AdminUtils.assignReplicasToBrokersRackAware: the brokers
// are listed alternating between racks (rack-sorted, brokers sorted within each rack), the first
// replica of each partition goes round robin over that list as in AssignReplicas, and each
// further replica goes to the next broker, shifted as there, that is on a rack without a
// replica of the partition yet (once every rack has one, any broker without one), so replicas
// spread over as many racks as they can.
func AssignReplicasRackAware(racks map[int32]string, partitions int32, replicationFactor int16, startIndex, startPartition int32) (map[int32][]int32, error) {
	if partitions <= 0 {
		return nil, &assignError{ErrInvalidPartitions, "Number of partitions must be larger than 0."}
	}
	if replicationFactor <= 0 {
		return nil, &assignError{ErrInvalidReplicationFactor, "Replication factor must be larger than 0."}
	}
	if int(replicationFactor) > len(racks) {
		return nil, &assignError{ErrInvalidReplicationFactor,
			fmt.Sprintf("Replication factor: %d larger than available brokers: %d.", replicationFactor, len(racks))}
	}
	list := rackAlternated(racks)
	n := int32(len(list))
	numRacks := int32(0)
	seenRack := map[string]bool{}
	for _, r := range racks {
		if !seenRack[r] {
			seenRack[r] = true
			numRacks++
		}
	}
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
		leader := list[lead]
		replicas := []int32{leader}
		racksUsed := map[string]bool{racks[leader]: true}
		brokersUsed := map[int32]bool{leader: true}
		k := int32(0)
		for range int(replicationFactor) - 1 {
			for {
				b := list[followerIndex(lead, shift*numRacks, k, n)]
				k++
				rackOK := !racksUsed[racks[b]] || int32(len(racksUsed)) == numRacks
				brokerOK := !brokersUsed[b] || int32(len(brokersUsed)) == n
				if rackOK && brokerOK {
					replicas = append(replicas, b)
					racksUsed[racks[b]] = true
					brokersUsed[b] = true
					break
				}
			}
		}
		out[p] = replicas
		p++
	}
	return out, nil
}

// rackAlternated is Kafka's getRackAlternatedBrokerList: one broker of each rack in turn, racks
// sorted by name and each rack's brokers by id.
func rackAlternated(racks map[int32]string) []int32 {
	byRack := map[string][]int32{}
	for id, r := range racks {
		byRack[r] = append(byRack[r], id)
	}
	names := make([]string, 0, len(byRack))
	for r, ids := range byRack {
		slices.Sort(ids)
		names = append(names, r)
	}
	slices.Sort(names)
	out := make([]int32, 0, len(racks))
	for i := 0; len(out) < len(racks); i = (i + 1) % len(names) {
		if ids := byRack[names[i]]; len(ids) > 0 {
			out = append(out, ids[0])
			byRack[names[i]] = ids[1:]
		}
	}
	return out
}
