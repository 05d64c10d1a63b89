package tools

import (
	"slices"
	"strings"
	"testing"
)

// formatAsReassignmentJson's output: sorted, one "any" log dir per replica.
func TestReassignmentJSON(t *testing.T) {
	got := formatReassignmentJSON([]partReplicas{{"foo", 1, []int32{2, 3}}, {"bar", 0, []int32{1}}, {"foo", 0, []int32{3, 1}}})
	want := `{"version":1,"partitions":[{"topic":"bar","partition":0,"replicas":[1],"log_dirs":["any"]},` +
		`{"topic":"foo","partition":0,"replicas":[3,1],"log_dirs":["any","any"]},{"topic":"foo","partition":1,"replicas":[2,3],"log_dirs":["any","any"]}]}`
	if got != want {
		t.Fatalf("got  %s\nwant %s", got, want)
	}
	back, moves, err := parseReassignmentJSON(want)
	if err != nil || len(back) != 3 || !slices.Equal(back[1].Replicas, []int32{3, 1}) || len(moves) != 0 {
		t.Fatalf("%+v %+v %v", back, moves, err)
	}
	for bad, msg := range map[string]string{
		`{"version":1,"partitions":[]}`:                                                                                      "cannot be empty",
		`{"version":1,"partitions":[{"topic":"a","partition":0,"replicas":[1,1]}]}`:                                          "duplicate entries",
		`{"version":1,"partitions":[{"topic":"a","partition":0,"replicas":[1]},{"topic":"a","partition":0,"replicas":[2]}]}`: "duplicate topic partitions: a-0",
		`{"version":1,"partitions":[{"topic":"a","partition":0,"replicas":[1,2],"log_dirs":["/data"]}]}`:                     "Size of replicas list List(1, 2) is different from size of log dirs list List(/data) for partition a-0",
		`{"version":2,"partitions":[{"topic":"a","partition":0,"replicas":[1]}]}`:                                            "Not supported version",
		`nope`: "Unable to parse",
	} {
		if _, _, err := parseReassignmentJSON(bad); err == nil || !strings.Contains(err.Error(), msg) {
			t.Errorf("%s: %v, want %q", bad, err, msg)
		}
	}
}

// log_dirs (Kafka's parsePartitionReassignmentData): one per replica, "any" asks for no move,
// the others are replica moves named topic-partition-broker and listed by broker, topic and
// partition (compareTopicPartitionReplicas).
func TestReassignmentLogDirs(t *testing.T) {
	plan := `{"version":1,"partitions":[` +
		`{"topic":"b","partition":1,"replicas":[2,1],"log_dirs":["/d/x","any"]},` +
		`{"topic":"a","partition":0,"replicas":[1,2],"log_dirs":["/d/y","/d/z"]},` +
		`{"topic":"c","partition":0,"replicas":[3]}]}`
	parts, moves, err := parseReassignmentJSON(plan)
	if err != nil || len(parts) != 3 {
		t.Fatalf("%+v %v", parts, err)
	}
	want := []replicaDir{{"b", 1, 2, "/d/x"}, {"a", 0, 1, "/d/y"}, {"a", 0, 2, "/d/z"}}
	if !slices.Equal(moves, want) {
		t.Fatalf("moves %+v, want %+v", moves, want)
	}
	if got := replicaNames(moves); got != "a-0-1,a-0-2,b-1-2" {
		t.Errorf("replica names %q", got)
	}
}

// AdminUtils.assignReplicasToBrokersRackUnaware with start index and shift 0: Kafka's own
// test case (5 brokers, 10 partitions, replication factor 3).
func TestAssignRackUnaware(t *testing.T) {
	defer func(f func(int) int) { assignRand = f }(assignRand)
	assignRand = func(int) int { return 0 }
	got := assignRackUnaware(10, 3, []int32{0, 1, 2, 3, 4})
	want := [][]int32{{0, 1, 2}, {1, 2, 3}, {2, 3, 4}, {3, 4, 0}, {4, 0, 1}, {0, 2, 3}, {1, 3, 4}, {2, 4, 0}, {3, 0, 1}, {4, 1, 2}}
	for p := range want {
		if !slices.Equal(got[p], want[p]) {
			t.Fatalf("partition %d: %v, want %v (all: %v)", p, got[p], want[p], got)
		}
	}
}
