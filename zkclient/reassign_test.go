package zkclient

import (
	"reflect"
	"testing"
)

// The legacy znode's JSON as Kafka's ReassignPartitionsZNode writes it, read back.
func TestReassignmentCodec(t *testing.T) {
	m := map[TopicPartition][]int32{{"b", 0}: {4, 1}, {"a", 1}: {2, 3}, {"a", 0}: {1, 2, 4}}
	got := string(encodeReassignment(m))
	want := `{"version":1,"partitions":[{"topic":"a","partition":0,"replicas":[1,2,4]},{"topic":"a","partition":1,"replicas":[2,3]},{"topic":"b","partition":0,"replicas":[4,1]}]}`
	if got != want {
		t.Fatalf("encode:\n got %s\nwant %s", got, want)
	}
	back, err := decodeReassignment([]byte(got))
	if err != nil || !reflect.DeepEqual(back, m) {
		t.Fatalf("decode: %v %v", back, err)
	}
	for _, bad := range []string{`{`, `{"version":1,"partitions":[{"partition":0,"replicas":[1]}]}`, `{"version":1,"partitions":[{"topic":"a","partition":0}]}`} {
		if _, err := decodeReassignment([]byte(bad)); err == nil {
			t.Errorf("decode %s: no error", bad)
		}
	}
}
