package group

import (
	"context"
	"testing"

	"github.com/rs/zerolog"
	"github.com/twmb/franz-go/pkg/kmsg"
)

// A transaction that ends while its group's partition is still loading: the broker wrote the
// COMMIT marker and told CompleteTxn, but the loader's read ended before the marker (here: the
// fake log holds no marker at all). The loaded group must not keep the producer's offsets
// pending forever (OffsetFetch with require_stable would answer UNSTABLE_OFFSET_COMMIT to
// every consumer of the group); the commit applies once the load ends.
func TestTxnCompletedWhileLoading(t *testing.T) {
	log := newFakeLog()
	cfg := testConfig()
	c1 := startCoordinator(t, cfg, log)
	r := kmsg.NewPtrTxnOffsetCommitRequest()
	r.Version = 3
	r.TransactionalID, r.Group, r.ProducerID, r.ProducerEpoch, r.Generation = "tx", "g", 7, 0, -1
	r.Topics = []kmsg.TxnOffsetCommitRequestTopic{{Topic: "t1", Partitions: []kmsg.TxnOffsetCommitRequestTopicPartition{{Partition: 0, Offset: 42, LeaderEpoch: -1}}}}
	if code := c1.TxnOffsetCommit(context.Background(), r).Topics[0].Partitions[0].ErrorCode; code != 0 {
		t.Fatalf("TxnOffsetCommit: %d", code)
	}
	c1.Resign(0, 2)

	log.mu.Lock()
	gate := make(chan struct{})
	log.readGate = gate
	log.mu.Unlock()
	c2 := New(cfg, log, zerolog.Nop())
	t.Cleanup(c2.Close)
	c2.BecomeLeader(0, 2)
	c2.CompleteTxn(7, []int32{0}, true) // while the loader waits to read
	close(gate)
	waitFor(t, "load", func() bool { return c2.ownsPartition(0) })

	f := kmsg.NewPtrOffsetFetchRequest()
	f.Version, f.Group, f.RequireStable = 7, "g", true
	f.Topics = []kmsg.OffsetFetchRequestTopic{{Topic: "t1", Partitions: []int32{0}}}
	resp := c2.OffsetFetch(context.Background(), f)
	if resp.ErrorCode != 0 || len(resp.Topics) != 1 || resp.Topics[0].Partitions[0].ErrorCode != 0 || resp.Topics[0].Partitions[0].Offset != 42 {
		t.Fatalf("OffsetFetch (require_stable) after the load: %+v, want offset 42 and no error", resp)
	}
}
