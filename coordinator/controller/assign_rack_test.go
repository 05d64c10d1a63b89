package controller

import (
	"errors"
	"slices"
	"testing"
)

// The cases of Kafka's AdminRackAwareTest.testGetRackAlternatedBrokerListAndAssignReplicasToBrokers.
func TestRackAlternatedAssignment(t *testing.T) {
	racks := map[int32]string{0: "rack1", 1: "rack3", 2: "rack3", 3: "rack2", 4: "rack2", 5: "rack1"}
	if got := rackAlternated(racks); !slices.Equal(got, []int32{0, 3, 1, 5, 4, 2}) {
		t.Fatalf("rack-alternated list %v", got)
	}
	without5 := map[int32]string{0: "rack1", 1: "rack3", 2: "rack3", 3: "rack2", 4: "rack2"}
	if got := rackAlternated(without5); !slices.Equal(got, []int32{0, 3, 1, 4, 2}) {
		t.Fatalf("rack-alternated list without broker 5: %v", got)
	}
	got, err := AssignReplicasToBrokers(racks, 7, 3, 0, 0)
	if err != nil {
		t.Fatal(err)
	}
	want := map[int32][]int32{0: {0, 3, 1}, 1: {3, 1, 5}, 2: {1, 5, 4}, 3: {5, 4, 2}, 4: {4, 2, 0}, 5: {2, 0, 3}, 6: {0, 4, 2}}
	for p, w := range want {
		if !slices.Equal(got[p], w) {
			t.Errorf("partition %d: %v, want %v", p, got[p], w)
		}
	}
}

// Every partition's replicas land on distinct brokers and on as many racks as there are.
func TestRackAwareSpreadsOverRacks(t *testing.T) {
	racks := map[int32]string{1: "a", 2: "a", 3: "b", 4: "b", 5: "c", 6: "c"}
	for _, start := range []int32{-1, 0, 3} {
		got, err := AssignReplicasToBrokers(racks, 24, 3, start, 0)
		if err != nil {
			t.Fatal(err)
		}
		for p, rs := range got {
			seenRack, seenBroker := map[string]bool{}, map[int32]bool{}
			for _, r := range rs {
				seenRack[racks[r]], seenBroker[r] = true, true
			}
			if len(seenRack) != 3 || len(seenBroker) != 3 {
				t.Fatalf("start %d partition %d: replicas %v span racks %v", start, p, rs, seenRack)
			}
		}
	}
	if _, err := AssignReplicasToBrokers(map[int32]string{1: "a", 2: ""}, 1, 1, 0, 0); !errors.Is(err, ErrPartialRacks) {
		t.Fatalf("some brokers without a rack: %v", err)
	}
	// No racks: Kafka's rack-unaware assignment, unchanged.
	a, _ := AssignReplicasToBrokers(map[int32]string{1: "", 2: "", 3: ""}, 3, 2, 0, 0)
	b, _ := AssignReplicas([]int32{1, 2, 3}, 3, 2, 0, 0)
	for p := range b {
		if !slices.Equal(a[p], b[p]) {
			t.Fatalf("partition %d: %v, rack-unaware gives %v", p, a[p], b[p])
		}
	}
}
