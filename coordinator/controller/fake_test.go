package controller

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/go-zookeeper/zk"
	"github.com/klassik/klassik/zkclient"
	"github.com/rs/zerolog"
	"github.com/twmb/franz-go/pkg/kmsg"
)

// fakeZK is an in-memory ZooKeeper data model with Kafka's fencing rules: writes carry the
// controller epoch's zkVersion and partition writes the state's zkVersion.
type fakeZK struct {
	mu          sync.Mutex
	controller  int32
	epoch       zkclient.ControllerEpoch
	brokers     map[int32]zkclient.BrokerInfo
	topics      map[string]zkclient.TopicAssignment
	configs     map[string]map[string]string
	states      map[tp]zkclient.PartitionState
	deletions   map[string]bool
	isrNotes    []tp
	reassign    map[tp][]int32             // /admin/reassign_partitions; nil when absent
	assignments []zkclient.TopicAssignment // every fenced topic znode write, in order
	markersGone []string
	resigned    int
	// badVersion, when set for a partition, changes the stored state (as a leader shrinking
	// its ISR would) and fails the controller's next write with ErrBadVersion.
	badVersion map[tp]func(*zkclient.PartitionState)
	// refuse fails the next n writes of a partition's state (n < 0: every write) as a lost
	// connection does, before they reach the data; refused counts them.
	refuse  map[tp]int
	refused map[tp]int
}

func newFakeZK() *fakeZK {
	return &fakeZK{
		controller: -1,
		brokers:    map[int32]zkclient.BrokerInfo{},
		topics:     map[string]zkclient.TopicAssignment{},
		configs:    map[string]map[string]string{},
		states:     map[tp]zkclient.PartitionState{},
		deletions:  map[string]bool{},
		badVersion: map[tp]func(*zkclient.PartitionState){},
		refuse:     map[tp]int{},
		refused:    map[tp]int{},
	}
}

func (f *fakeZK) addBroker(id int32, epoch int64) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.brokers[id] = zkclient.BrokerInfo{ID: id, Host: "127.0.0.1", Port: 9000 + id, Epoch: epoch,
		Endpoints: []zkclient.Endpoint{{ListenerName: "PLAINTEXT", SecurityProtocol: "PLAINTEXT", Host: "127.0.0.1", Port: 9000 + id}}}
}

func (f *fakeZK) removeBroker(id int32) {
	f.mu.Lock()
	defer f.mu.Unlock()
	delete(f.brokers, id)
}

func (f *fakeZK) addTopic(name string, assignment map[int32][]int32, states map[int32]zkclient.PartitionState) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.topics[name] = zkclient.TopicAssignment{Topic: name, Partitions: assignment}
	for p, st := range states {
		f.states[part(name, p)] = st
	}
}

func (f *fakeZK) state(t string, p int32) (zkclient.PartitionState, bool) {
	f.mu.Lock()
	defer f.mu.Unlock()
	st, ok := f.states[part(t, p)]
	return st, ok
}

// steal makes another broker the controller with a newer epoch.
func (f *fakeZK) steal(id int32) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.controller = id
	f.epoch.Epoch++
	f.epoch.ZkVersion++
}

func (f *fakeZK) Brokers(bool) (map[int32]zkclient.BrokerInfo, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	return maps.Clone(f.brokers), nil
}

func (f *fakeZK) Controller(bool) (int32, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.controller, nil
}

func (f *fakeZK) TryElectController(id int32) (zkclient.ControllerEpoch, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.controller != -1 {
		return zkclient.ControllerEpoch{}, zkclient.ErrNodeExists
	}
	f.controller = id
	f.epoch.Epoch++
	f.epoch.ZkVersion++
	return f.epoch, nil
}

func (f *fakeZK) ResignController(id int32) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.controller == id {
		f.controller = -1
		f.resigned++
	}
	return nil
}

func (f *fakeZK) Topics(bool) ([]string, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	return slices.Collect(maps.Keys(f.topics)), nil
}

func (f *fakeZK) TopicAssignment(topic string, _ bool) (zkclient.TopicAssignment, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	a, ok := f.topics[topic]
	if !ok {
		return a, zkclient.ErrNoNode
	}
	a.Partitions = maps.Clone(a.Partitions)
	return a, nil
}

func (f *fakeZK) SetTopicAssignment(a zkclient.TopicAssignment) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	if _, ok := f.topics[a.Topic]; !ok {
		return zkclient.ErrNoNode
	}
	f.topics[a.Topic] = a
	return nil
}

func (f *fakeZK) TopicConfig(topic string) (map[string]string, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	return maps.Clone(f.configs[topic]), nil
}

func (f *fakeZK) PartitionState(topic string, partition int32) (zkclient.PartitionState, error) {
	st, ok := f.state(topic, partition)
	if !ok {
		return st, zkclient.ErrNoNode
	}
	return st, nil
}

func (f *fakeZK) CreatePartitionStates(ce zkclient.ControllerEpoch, topic string, states map[int32]zkclient.PartitionState) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	if ce.ZkVersion != f.epoch.ZkVersion {
		return zkclient.ErrNotController
	}
	for p := range states {
		if _, ok := f.states[part(topic, p)]; ok {
			return zkclient.ErrNodeExists
		}
	}
	for p, st := range states {
		st.ZkVersion = 0
		f.states[part(topic, p)] = st
	}
	return nil
}

func (f *fakeZK) UpdatePartitionState(ce zkclient.ControllerEpoch, topic string, partition int32, st zkclient.PartitionState) (int32, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	p := part(topic, partition)
	if n := f.refuse[p]; n != 0 {
		if n > 0 {
			f.refuse[p] = n - 1
		}
		f.refused[p]++
		return 0, fmt.Errorf("zkclient: multi: %w", zk.ErrConnectionClosed)
	}
	if ce.ZkVersion != f.epoch.ZkVersion {
		return 0, zkclient.ErrNotController
	}
	cur, ok := f.states[p]
	if !ok {
		return 0, zkclient.ErrNoNode
	}
	if mutate := f.badVersion[p]; mutate != nil {
		delete(f.badVersion, p)
		mutate(&cur)
		cur.ZkVersion++
		f.states[p] = cur
	}
	if cur.ZkVersion != st.ZkVersion {
		return 0, zkclient.ErrBadVersion
	}
	st.ZkVersion++
	f.states[p] = st
	return st.ZkVersion, nil
}

func (f *fakeZK) IsrChangeNotifications(bool) ([]zkclient.TopicPartition, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	n := f.isrNotes
	f.isrNotes = nil
	return n, nil
}

func (f *fakeZK) TopicDeletions(bool) ([]string, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	return slices.Collect(maps.Keys(f.deletions)), nil
}

func (f *fakeZK) DeleteTopic(ce zkclient.ControllerEpoch, topic string) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	if ce.ZkVersion != f.epoch.ZkVersion {
		return zkclient.ErrNotController
	}
	delete(f.topics, topic)
	delete(f.deletions, topic)
	for p := range f.states {
		if p.Topic == topic {
			delete(f.states, p)
		}
	}
	return nil
}

// DeleteTopicDeletionMarkers makes fakeZK a TopicDeletionMarkerRemover.
func (f *fakeZK) DeleteTopicDeletionMarkers(_ zkclient.ControllerEpoch, topics []string) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	for _, t := range topics {
		delete(f.deletions, t)
		f.markersGone = append(f.markersGone, t)
	}
	return nil
}

func (f *fakeZK) SetTopicAssignmentFenced(ce zkclient.ControllerEpoch, a zkclient.TopicAssignment) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	if ce.ZkVersion != f.epoch.ZkVersion {
		return zkclient.ErrNotController
	}
	if _, ok := f.topics[a.Topic]; !ok {
		return zkclient.ErrNoNode
	}
	a.Partitions, a.AddingReplicas, a.RemovingReplicas = maps.Clone(a.Partitions), maps.Clone(a.AddingReplicas), maps.Clone(a.RemovingReplicas)
	f.topics[a.Topic] = a
	f.assignments = append(f.assignments, a)
	return nil
}

func (f *fakeZK) PartitionReassignment(bool) (map[tp][]int32, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	return maps.Clone(f.reassign), nil
}

func (f *fakeZK) SetPartitionReassignment(ce zkclient.ControllerEpoch, m map[tp][]int32) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	if ce.ZkVersion != f.epoch.ZkVersion {
		return zkclient.ErrNotController
	}
	if f.reassign == nil {
		return zkclient.ErrNoNode
	}
	f.reassign = maps.Clone(m)
	return nil
}

func (f *fakeZK) DeletePartitionReassignment(ce zkclient.ControllerEpoch) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	if ce.ZkVersion != f.epoch.ZkVersion {
		return zkclient.ErrNotController
	}
	f.reassign = nil
	return nil
}

// fakeSender records the requests each broker received, in order; fail decides whether a
// send fails (for retry tests).
type fakeSender struct {
	mu       sync.Mutex
	received map[int32][]kmsg.Request
	fail     func(broker int32, req kmsg.Request) bool
	attempts int
}

func newFakeSender() *fakeSender { return &fakeSender{received: map[int32][]kmsg.Request{}} }

func (s *fakeSender) Send(ctx context.Context, b zkclient.BrokerInfo, req kmsg.Request) (kmsg.Response, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.attempts++
	if s.fail != nil && s.fail(b.ID, req) {
		return nil, errors.New("connection refused")
	}
	s.received[b.ID] = append(s.received[b.ID], req)
	return req.ResponseKind(), nil
}

func (s *fakeSender) requests(broker int32) []kmsg.Request {
	s.mu.Lock()
	defer s.mu.Unlock()
	return slices.Clone(s.received[broker])
}

// waitFor polls cond until it holds or the deadline passes.
func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	tick := time.NewTicker(2 * time.Millisecond)
	defer tick.Stop()
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		<-tick.C
	}
}

type harness struct {
	t    *testing.T
	zk   *fakeZK
	send *fakeSender
	c    *Controller
}

func startController(t *testing.T, zk *fakeZK, cfg Config) *harness {
	t.Helper()
	if cfg.BrokerID == 0 {
		cfg.BrokerID = 1
	}
	cfg.InterBrokerListenerName = "PLAINTEXT"
	if cfg.RequestRetryBackoff == 0 {
		cfg.RequestRetryBackoff = time.Millisecond
	}
	h := &harness{t: t, zk: zk, send: newFakeSender()}
	h.c = New(cfg, zk, h.send, zerolog.New(zerolog.NewTestWriter(t)).Level(zerolog.InfoLevel))
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() {
		defer close(done)
		h.c.Run(ctx)
	}()
	t.Cleanup(func() {
		cancel()
		<-done
	})
	return h
}

// sync returns once every event enqueued before it has been handled (ElectLeaders with no
// partitions is an event like any other).
func (h *harness) sync() {
	h.t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if _, err := h.c.ElectLeaders(ctx, ElectPreferred, []tp{}); err != nil && !errors.Is(err, ErrNotActive) {
		h.t.Fatal(err)
	}
}

func (h *harness) enqueue(typ zkclient.EventType, topic string) {
	h.c.Enqueue(zkclient.Event{Type: typ, Topic: topic})
	h.sync()
}

// lastPartitionState finds the newest LeaderAndIsr partition state for p sent to broker.
func (h *harness) lastLAI(broker int32, p tp) (kmsg.LeaderAndISRRequestTopicPartition, bool) {
	var found kmsg.LeaderAndISRRequestTopicPartition
	ok := false
	for _, r := range h.send.requests(broker) {
		if lai, isLAI := r.(*kmsg.LeaderAndISRRequest); isLAI {
			for _, ts := range lai.TopicStates {
				for _, ps := range ts.PartitionStates {
					if ts.Topic == p.Topic && ps.Partition == p.Partition {
						found, ok = ps, true
					}
				}
			}
		}
	}
	return found, ok
}

func (h *harness) waitLAI(broker int32, p tp, cond func(kmsg.LeaderAndISRRequestTopicPartition) bool) {
	h.t.Helper()
	waitFor(h.t, "LeaderAndIsr", func() bool {
		ps, ok := h.lastLAI(broker, p)
		return ok && cond(ps)
	})
}

func (h *harness) waitUM(broker int32, cond func(*kmsg.UpdateMetadataRequest) bool) {
	h.t.Helper()
	waitFor(h.t, "UpdateMetadata", func() bool {
		for _, r := range h.send.requests(broker) {
			if um, ok := r.(*kmsg.UpdateMetadataRequest); ok && cond(um) {
				return true
			}
		}
		return false
	})
}

func umPartition(um *kmsg.UpdateMetadataRequest, p tp) (kmsg.UpdateMetadataRequestTopicPartition, bool) {
	for _, ts := range um.TopicStates {
		for _, ps := range ts.PartitionStates {
			if ts.Topic == p.Topic && ps.Partition == p.Partition {
				return ps, true
			}
		}
	}
	return kmsg.UpdateMetadataRequestTopicPartition{}, false
}

func part(topic string, p int32) tp { return tp{Topic: topic, Partition: p} }

func testLogger(t *testing.T) zerolog.Logger {
	return zerolog.New(zerolog.NewTestWriter(t)).Level(zerolog.InfoLevel)
}
