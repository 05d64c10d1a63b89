package controller

import (
	"context"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/klassik/klassik/zkclient"
	"github.com/rs/zerolog"
	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kmsg"
)

// logDirZK adds /log_dir_event_notification to the fake.
type logDirZK struct {
	*fakeZK
	mu      sync.Mutex
	events  []zkclient.LogDirEvent
	deleted []string
}

func (z *logDirZK) LogDirEventNotifications(bool) ([]zkclient.LogDirEvent, error) {
	z.mu.Lock()
	defer z.mu.Unlock()
	return slices.Clone(z.events), nil
}

func (z *logDirZK) DeleteLogDirEventNotifications(names []string) error {
	z.mu.Lock()
	defer z.mu.Unlock()
	z.events = slices.DeleteFunc(z.events, func(e zkclient.LogDirEvent) bool { return slices.Contains(names, e.Name) })
	z.deleted = append(z.deleted, names...)
	return nil
}

// storageErrSender answers KAFKA_STORAGE_ERROR for every partition of a LeaderAndIsr sent to
// broker bad once failed is set, as a broker whose only log dir failed does.
type storageErrSender struct {
	*fakeSender
	bad    int32
	failed bool
	mu     sync.Mutex
}

func (s *storageErrSender) Send(ctx context.Context, b zkclient.BrokerInfo, req kmsg.Request) (kmsg.Response, error) {
	resp, err := s.fakeSender.Send(ctx, b, req)
	s.mu.Lock()
	failed := s.failed
	s.mu.Unlock()
	lai, ok := req.(*kmsg.LeaderAndISRRequest)
	if err != nil || !ok || b.ID != s.bad || !failed {
		return resp, err
	}
	r := resp.(*kmsg.LeaderAndISRResponse)
	for _, ts := range lai.TopicStates {
		rt := kmsg.NewLeaderAndISRResponseTopic()
		rt.TopicID = ts.TopicID
		for _, ps := range ts.PartitionStates {
			rp := kmsg.NewLeaderAndISRResponseTopicPartition()
			rp.Topic, rp.Partition, rp.ErrorCode = ts.Topic, ps.Partition, kerr.KafkaStorageError.Code
			if lai.Version >= 5 {
				rt.Partitions = append(rt.Partitions, rp)
			} else {
				r.Partitions = append(r.Partitions, rp)
			}
		}
		if lai.Version >= 5 {
			r.Topics = append(r.Topics, rt)
		}
	}
	return r, nil
}

// KIP-112 / KafkaController.onBrokerLogDirFailure: broker 2 reports a failed log dir; the
// controller asks it about its replicas, it answers KAFKA_STORAGE_ERROR, and the partitions it
// led get leaders from the rest of the ISR while it leaves every ISR. The notification is
// deleted. Broker 2 stays registered (it still has other dirs, or is about to stop).
func TestLogDirFailureMovesLeadership(t *testing.T) {
	zk := &logDirZK{fakeZK: threeBrokers()}
	send := &storageErrSender{fakeSender: newFakeSender(), bad: 2}
	h := &harness{t: t, zk: zk.fakeZK, send: send.fakeSender}
	h.c = New(Config{BrokerID: 1, InterBrokerListenerName: "PLAINTEXT", RequestRetryBackoff: time.Millisecond}, zk, send,
		zerolog.New(zerolog.NewTestWriter(t)).Level(zerolog.InfoLevel))
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { defer close(done); h.c.Run(ctx) }()
	t.Cleanup(func() { cancel(); <-done })
	waitFor(t, "controller active", h.c.IsActive)
	h.sync()

	send.mu.Lock()
	send.failed = true
	send.mu.Unlock()
	zk.mu.Lock()
	zk.events = []zkclient.LogDirEvent{{Name: "log_dir_event_0000000000", Broker: 2}}
	zk.mu.Unlock()
	h.enqueue(zkclient.EventLogDirEventNotification, "")

	waitFor(t, "a-0 led by 3 without 2 in the ISR", func() bool {
		h.sync()
		s, _ := zk.state("a", 0)
		return s.Leader == 3 && slices.Equal(s.ISR, []int32{3, 1})
	})
	waitFor(t, "a-1 ISR without 2", func() bool {
		h.sync()
		s, _ := zk.state("a", 1)
		return s.Leader == 3 && slices.Equal(s.ISR, []int32{3})
	})
	// a-2 has no other replica: leaderless, its last ISR member kept (as on broker failure).
	if s, _ := zk.state("a", 2); s.Leader != -1 {
		t.Fatalf("a-2: %+v", s)
	}
	h.waitLAI(3, part("a", 0), func(p kmsg.LeaderAndISRRequestTopicPartition) bool { return p.Leader == 3 })
	zk.mu.Lock()
	defer zk.mu.Unlock()
	if len(zk.events) != 0 || !slices.Contains(zk.deleted, "log_dir_event_0000000000") {
		t.Fatalf("notification not deleted: pending %v deleted %v", zk.events, zk.deleted)
	}
}
