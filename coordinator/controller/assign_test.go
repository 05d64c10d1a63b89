package controller

import (
	"errors"
	"maps"
	"slices"
	"testing"
)

// Kafka's AdminRackAwareTest.testAssignmentWithRackAwareWithUnevenReplicas sibling for brokers
// without racks: 5 brokers, 10 partitions, RF 3, fixed start index 0 (so shift 0).
func TestAssignReplicasKafkaExample(t *testing.T) {
	got, err := AssignReplicas([]int32{4, 2, 0, 3, 1}, 10, 3, 0, -1)
	if err != nil {
		t.Fatal(err)
	}
	want := map[int32][]int32{
		0: {0, 1, 2},
		1: {1, 2, 3},
		2: {2, 3, 4},
		3: {3, 4, 0},
		4: {4, 0, 1},
		5: {0, 2, 3}, // the shift grows once the partitions wrap around the brokers
		6: {1, 3, 4},
		7: {2, 4, 0},
		8: {3, 0, 1},
		9: {4, 1, 2},
	}
	if !maps.EqualFunc(got, want, slices.Equal[[]int32]) {
		t.Fatalf("got %v\nwant %v", got, want)
	}
}

// CreatePartitions passes the next partition id: ids continue from there, and the shift
// is the one Kafka would have reached at that id.
func TestAssignReplicasStartPartition(t *testing.T) {
	all, _ := AssignReplicas([]int32{0, 1, 2, 3, 4}, 10, 3, 0, 0)
	tail, err := AssignReplicas([]int32{0, 1, 2, 3, 4}, 3, 3, 0, 7)
	if err != nil {
		t.Fatal(err)
	}
	if len(tail) != 3 {
		t.Fatalf("got %v", tail)
	}
	// From partition 7 the shift starts at 0 again (Kafka's loop only counts wraps seen in
	// this call), so only the first replica matches the full assignment.
	for p := int32(7); p < 10; p++ {
		if tail[p][0] != all[p][0] {
			t.Fatalf("partition %d: first replica %d, want %d", p, tail[p][0], all[p][0])
		}
	}
}

func TestAssignReplicasRandomIsValid(t *testing.T) {
	brokers := []int32{10, 11, 12, 13}
	for range 50 {
		got, err := AssignReplicas(brokers, 12, 3, -1, -1)
		if err != nil {
			t.Fatal(err)
		}
		firsts := map[int32]int{}
		for p := int32(0); p < 12; p++ {
			r := got[p]
			if len(r) != 3 {
				t.Fatalf("partition %d: %v", p, r)
			}
			s := slices.Clone(r)
			slices.Sort(s)
			if len(slices.Compact(s)) != 3 {
				t.Fatalf("partition %d has a broker twice: %v", p, r)
			}
			firsts[r[0]]++
		}
		for _, b := range brokers {
			if firsts[b] != 3 {
				t.Fatalf("first replicas not round robin: %v", firsts)
			}
		}
	}
}

func TestAssignReplicasErrors(t *testing.T) {
	_, err := AssignReplicas([]int32{1, 2}, 3, 3, -1, -1)
	if !errors.Is(err, ErrInvalidReplicationFactor) || err.Error() != "Replication factor: 3 larger than available brokers: 2." {
		t.Fatalf("got %v", err)
	}
	if _, err := AssignReplicas([]int32{1}, 0, 1, -1, -1); !errors.Is(err, ErrInvalidPartitions) {
		t.Fatalf("got %v", err)
	}
	if _, err := AssignReplicas([]int32{1}, 1, 0, -1, -1); !errors.Is(err, ErrInvalidReplicationFactor) {
		t.Fatalf("got %v", err)
	}
	got, err := AssignReplicas([]int32{7}, 2, 1, -1, -1)
	if err != nil || !slices.Equal(got[0], []int32{7}) || !slices.Equal(got[1], []int32{7}) {
		t.Fatalf("single broker: %v %v", got, err)
	}
}
