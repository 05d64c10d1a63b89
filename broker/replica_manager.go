package broker

import (
	"sync"

	"github.com/klassik/klassik/logstore"
	"github.com/twmb/franz-go/pkg/kerr"
)

// replicaManager holds the partitions this broker hosts (Kafka's ReplicaManager). Safe for
// concurrent use; each partition guards its own state.
type replicaManager struct {
	b *Broker

	mu              sync.RWMutex
	parts           map[topicPartition]*partition
	offline         map[topicPartition]bool // replicas whose log dir failed (log_dir_failure.go)
	controllerEpoch int32                   // the newest controller epoch seen in a LeaderAndIsr/StopReplica
}

func newReplicaManager(b *Broker) *replicaManager {
	return &replicaManager{b: b, parts: map[topicPartition]*partition{}, offline: map[topicPartition]bool{}}
}

func (rm *replicaManager) get(tp topicPartition) *partition {
	rm.mu.RLock()
	defer rm.mu.RUnlock()
	return rm.parts[tp]
}

func (rm *replicaManager) all() []*partition {
	rm.mu.RLock()
	defer rm.mu.RUnlock()
	out := make([]*partition, 0, len(rm.parts))
	for _, p := range rm.parts {
		out = append(out, p)
	}
	return out
}

// getOrCreate returns the partition, opening (or creating) its log. A replica whose log dir
// failed is not created again elsewhere: KAFKA_STORAGE_ERROR until the broker restarts.
func (rm *replicaManager) getOrCreate(tp topicPartition) (*partition, error) {
	if p := rm.get(tp); p != nil {
		return p, nil
	}
	if rm.isOffline(tp) {
		return nil, kerr.KafkaStorageError
	}
	cfg := rm.b.topicConfigs.get(tp.topic)
	log, err := rm.b.logs.GetOrCreate(logstore.TopicPartition{Topic: tp.topic, Partition: tp.partition}, cfg.log)
	if err != nil {
		return nil, err
	}
	rm.mu.Lock()
	defer rm.mu.Unlock()
	if p := rm.parts[tp]; p != nil {
		return p, nil
	}
	p := newPartition(rm.b, tp, rm.b.cfg.BrokerID, log, cfg, rm.b.savedHW(tp))
	rm.parts[tp] = p
	if rm.b.logs.Future(logstore.TopicPartition{Topic: tp.topic, Partition: tp.partition}) != nil {
		// A move to another log dir that a restart (or a StopReplica) interrupted resumes
		// (Kafka's becomeLeaderOrFollower with a future log found by loadLogs).
		rm.b.alterDirs.add(tp)
	}
	return p, nil
}

// remove stops hosting tp and, with deleteLog, deletes its data.
func (rm *replicaManager) remove(tp topicPartition, deleteLog bool) error {
	rm.mu.Lock()
	p := rm.parts[tp]
	delete(rm.parts, tp)
	rm.mu.Unlock()
	if p != nil {
		p.mu.Lock()
		p.stopped = true
		p.leaderID = -1
		p.signal()
		p.mu.Unlock()
	}
	rm.b.fetchers.removePartition(tp)
	rm.b.alterDirs.remove(tp) // a move resumes if the partition comes back; deleted with the log
	rm.b.coordinatorLeadershipChanged(tp, false, -1)
	if deleteLog {
		return rm.b.logs.Delete(logstore.TopicPartition{Topic: tp.topic, Partition: tp.partition})
	}
	return nil
}

// highWatermarks lists every partition's high watermark for the checkpoint file.
func (rm *replicaManager) highWatermarks() map[logstore.TopicPartition]int64 {
	out := map[logstore.TopicPartition]int64{}
	for _, p := range rm.all() {
		out[logstore.TopicPartition{Topic: p.tp.topic, Partition: p.tp.partition}] = p.highWatermark()
	}
	return out
}
