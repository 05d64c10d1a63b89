package broker

import (
	"sort"
	"sync"

	"github.com/twmb/franz-go/pkg/kmsg"
)

// leaderDuringDelete is the leader the controller sends in UpdateMetadata for partitions of a
// topic being deleted (Kafka's LeaderAndIsr.LeaderDuringDelete).
const leaderDuringDelete = -2

// metadataCache is the broker's view of the cluster, written only by the controller's
// UpdateMetadata requests (Kafka's ZkMetadataCache). Safe for concurrent use: readers take a
// snapshot pointer; UpdateMetadata builds a new snapshot and swaps it in.
type metadataCache struct {
	mu      sync.RWMutex
	snap    *metadataSnapshot
	changed chan struct{} // closed and replaced on every update
}

type metadataSnapshot struct {
	controllerID    int32
	controllerEpoch int32
	brokers         map[int32]cachedBroker
	topics          map[string]*cachedTopic
	topicNames      map[[16]byte]string
}

type cachedBroker struct {
	id        int32
	rack      *string
	endpoints map[string]hostPort // by listener name
}

type hostPort struct {
	host string
	port int32
}

type cachedTopic struct {
	name       string
	id         [16]byte
	partitions map[int32]kmsg.UpdateMetadataRequestTopicPartition
}

func newMetadataCache() *metadataCache {
	return &metadataCache{
		snap: &metadataSnapshot{
			controllerID: -1,
			brokers:      map[int32]cachedBroker{},
			topics:       map[string]*cachedTopic{},
			topicNames:   map[[16]byte]string{},
		},
		changed: make(chan struct{}),
	}
}

func (c *metadataCache) get() *metadataSnapshot {
	c.mu.RLock()
	defer c.mu.RUnlock()
	return c.snap
}

// waitChan is closed at the next update.
func (c *metadataCache) waitChan() <-chan struct{} {
	c.mu.RLock()
	defer c.mu.RUnlock()
	return c.changed
}

// apply merges an UpdateMetadata request, as Kafka: live brokers are replaced wholesale,
// partition states are upserted, and partitions whose leader is leaderDuringDelete are removed.
// It returns the partitions removed.
func (c *metadataCache) apply(req *kmsg.UpdateMetadataRequest) (deleted []topicPartition) {
	c.mu.Lock()
	defer c.mu.Unlock()
	old := c.snap
	next := &metadataSnapshot{
		controllerID:    req.ControllerID,
		controllerEpoch: req.ControllerEpoch,
		brokers:         make(map[int32]cachedBroker, len(req.LiveBrokers)),
		topics:          make(map[string]*cachedTopic, len(old.topics)),
		topicNames:      make(map[[16]byte]string, len(old.topicNames)),
	}
	for _, lb := range req.LiveBrokers {
		cb := cachedBroker{id: lb.ID, rack: lb.Rack, endpoints: map[string]hostPort{}}
		for _, ep := range lb.Endpoints {
			cb.endpoints[ep.ListenerName] = hostPort{ep.Host, ep.Port}
		}
		next.brokers[lb.ID] = cb
	}
	for name, t := range old.topics {
		next.topics[name] = t
	}
	for _, ts := range req.TopicStates {
		t := next.topics[ts.Topic]
		cp := &cachedTopic{name: ts.Topic, id: ts.TopicID, partitions: map[int32]kmsg.UpdateMetadataRequestTopicPartition{}}
		if t != nil {
			for p, st := range t.partitions {
				cp.partitions[p] = st
			}
			if cp.id == ([16]byte{}) {
				cp.id = t.id
			}
		}
		for _, ps := range ts.PartitionStates {
			if ps.Leader == leaderDuringDelete {
				delete(cp.partitions, ps.Partition)
				deleted = append(deleted, topicPartition{ts.Topic, ps.Partition})
				continue
			}
			cp.partitions[ps.Partition] = ps
		}
		if len(cp.partitions) == 0 {
			delete(next.topics, ts.Topic)
		} else {
			next.topics[ts.Topic] = cp
		}
	}
	for name, t := range next.topics {
		if t.id != ([16]byte{}) {
			next.topicNames[t.id] = name
		}
	}
	c.snap = next
	close(c.changed)
	c.changed = make(chan struct{})
	return deleted
}

// topicNamesSorted lists every topic.
func (s *metadataSnapshot) topicNamesSorted() []string {
	names := make([]string, 0, len(s.topics))
	for n := range s.topics {
		names = append(names, n)
	}
	sort.Strings(names)
	return names
}

// liveBrokerIDs lists the live brokers, sorted.
func (s *metadataSnapshot) liveBrokerIDs() []int32 {
	ids := make([]int32, 0, len(s.brokers))
	for id := range s.brokers {
		ids = append(ids, id)
	}
	sort.Slice(ids, func(i, j int) bool { return ids[i] < ids[j] })
	return ids
}

// liveBrokerRacks maps each live broker to its broker.rack ("" none).
func (s *metadataSnapshot) liveBrokerRacks() map[int32]string {
	racks := make(map[int32]string, len(s.brokers))
	for id, b := range s.brokers {
		racks[id] = ""
		if b.rack != nil {
			racks[id] = *b.rack
		}
	}
	return racks
}

// partition returns the cached state of one partition.
func (s *metadataSnapshot) partition(topic string, p int32) (kmsg.UpdateMetadataRequestTopicPartition, bool) {
	t := s.topics[topic]
	if t == nil {
		return kmsg.UpdateMetadataRequestTopicPartition{}, false
	}
	st, ok := t.partitions[p]
	return st, ok
}

// topicPartition names one partition inside the broker package.
type topicPartition struct {
	topic     string
	partition int32
}
