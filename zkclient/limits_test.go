package zkclient

import (
	"errors"
	"strings"
	"testing"
)

// TestMinTopicZnodeSize: the bound never exceeds the JSON klassik writes (Kafka's
// TopicZNode), and equals it when broker ids have one digit.
func TestMinTopicZnodeSize(t *testing.T) {
	for _, c := range []struct {
		partitions, rf int
		broker         int32
	}{{1, 1, 1}, {9, 3, 1}, {10, 1, 7}, {11, 2, 3}, {1234, 3, 5}, {100001, 1, 2}, {500, 3, 1001}} {
		a := TopicAssignment{TopicID: [16]byte{9}, Partitions: map[int32][]int32{}}
		for p := range c.partitions {
			rs := make([]int32, c.rf)
			for i := range rs {
				rs[i] = c.broker
			}
			a.Partitions[int32(p)] = rs
		}
		got := int64(len(encodeTopic(a)))
		bound := MinTopicZnodeSize(int64(c.partitions), int64(c.partitions*c.rf))
		if bound > got {
			t.Errorf("%d x %d (broker %d): bound %d above the real size %d", c.partitions, c.rf, c.broker, bound, got)
		}
		if c.broker < 10 && bound != got {
			t.Errorf("%d x %d (broker %d): bound %d, real size %d; want equal for one-digit ids", c.partitions, c.rf, c.broker, bound, got)
		}
	}
}

// TestCheckTopicZnodeSize: the 2,000,000,000 partition request of issue 8 is refused with
// a message naming jute.maxbuffer, without allocating; what fits passes.
func TestCheckTopicZnodeSize(t *testing.T) {
	err := CheckTopicZnodeSize(2_000_000_000, 1)
	if !errors.Is(err, ErrZnodeTooLarge) || !strings.Contains(err.Error(), "jute.maxbuffer of 1048575 bytes") ||
		!strings.Contains(err.Error(), "2000000000 partitions x 1 replicas") {
		t.Fatalf("2e9 partitions: %v", err)
	}
	if allocs := testing.AllocsPerRun(10, func() { _ = MinTopicZnodeSize(2_000_000_000, 2_000_000_000*3) }); allocs != 0 {
		t.Fatalf("the bound allocates %v times", allocs)
	}
	if err := CheckTopicZnodeSize(1000, 3); err != nil {
		t.Fatalf("1000 x 3: %v", err)
	}
	fit := maxPartitionsFitting(3)
	if CheckTopicZnodeSize(fit, 3) != nil || CheckTopicZnodeSize(fit+1, 3) == nil {
		t.Fatalf("the largest fitting count at RF 3 is not %d", fit)
	}
	t.Logf("at most %d partitions at RF 3, %d at RF 1", fit, maxPartitionsFitting(1))
	if err := CheckTopicZnodeSize(1<<31-1, 32767); !errors.Is(err, ErrZnodeTooLarge) {
		t.Fatalf("largest request: %v", err)
	}
}
