package quota

import "sync"

// Replication is Kafka's ReplicationQuotaManager: one rate of the bytes a broker moves for
// throttled replicas, as a leader (sent to followers that are not in sync) or as a follower
// (fetched while not in sync), against leader.replication.throttled.rate or
// follower.replication.throttled.rate. It never delays anyone: the leader leaves a throttled
// partition's records out of a follower's answer while the rate is over its bound, and the
// follower leaves the partition out of its next fetch (ReplicaManager.shouldLeaderThrottle,
// ReplicaFetcherThread.shouldFollowerThrottle). Which replicas are throttled is the topic
// configs' business, not this type's. Safe for concurrent use.
type Replication struct {
	mu  sync.Mutex
	cfg Config // replication.quota.window.num, replication.quota.window.size.seconds
	r   rate
}

// NewReplication measures with cfg's sampling.
func NewReplication(cfg Config) *Replication { return &Replication{cfg: cfg.valid()} }

// Record adds bytes moved at nowMs (Kafka records without checking).
func (q *Replication) Record(bytes int, nowMs int64) {
	q.mu.Lock()
	q.r.record(q.cfg, float64(bytes), nowMs)
	q.mu.Unlock()
}

// Exceeded reports whether the rate at nowMs is above bound bytes per second
// (isQuotaExceeded). A bound of Long.MAX_VALUE, the default, is never exceeded.
func (q *Replication) Exceeded(bound int64, nowMs int64) bool {
	if bound == 1<<63-1 {
		return false
	}
	return q.Rate(nowMs) > float64(bound)
}

// Rate is the measured bytes per second at nowMs.
func (q *Replication) Rate(nowMs int64) float64 {
	q.mu.Lock()
	defer q.mu.Unlock()
	return q.r.measure(q.cfg, nowMs)
}
