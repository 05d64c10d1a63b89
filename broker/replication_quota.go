package broker

// Replication quotas (Kafka's ReplicationQuotaManager, KIP-73): the throttle that
// kafka-reassign-partitions.sh --throttle sets so a reassignment's copying does not crowd
// out clients. Two dynamic per-broker rates, leader.replication.throttled.rate and
// follower.replication.throttled.rate (/config/brokers/<id>), and two topic configs that
// name the throttled replicas, leader.replication.throttled.replicas (the "partition:broker"
// pairs where that broker, as leader, throttles what it sends) and
// follower.replication.throttled.replicas (where that broker, as follower, throttles what it
// fetches). Only replicas that are not in sync are held back: a follower in the ISR is never
// throttled, so acks=all producers are not slowed by a reassignment.
//
// As a leader (01_fetch.go): a follower's fetch of a throttled partition, from a follower
// outside the ISR, gets no records while the leader's rate of throttled bytes is over its
// bound; every throttled partition's bytes are counted. As a follower (fetcher.go): a
// throttled partition that is behind the leader's high watermark is left out of the next
// fetch while the follower's rate is over its bound; its fetched bytes are counted.

import (
	"time"

	"github.com/klassik/klassik/broker/quota"
	"github.com/klassik/klassik/conf"
)

type replicationQuotas struct {
	leader, follower *quota.Replication
}

func newReplicationQuotas(cfg *conf.Config) replicationQuotas {
	qc := quota.Config{Samples: cfg.ReplicationQuotaWindowNum, WindowMs: int64(cfg.ReplicationQuotaWindowSizeSeconds) * 1000}
	return replicationQuotas{leader: quota.NewReplication(qc), follower: quota.NewReplication(qc)}
}

func (b *Broker) leaderQuotaExceeded(nowMs int64) bool {
	return b.replQuotas.leader.Exceeded(b.brokerCfg().LeaderReplicationThrottledRate, nowMs)
}

func (b *Broker) followerQuotaExceeded(now time.Time) bool {
	return b.replQuotas.follower.Exceeded(b.brokerCfg().FollowerReplicationThrottledRate, now.UnixMilli())
}

// throttledAsFollower reports whether follower.replication.throttled.replicas names this
// replica. The fetcher calls it holding its own lock: p.mu is never held while a fetcher's
// is taken.
func (p *partition) throttledAsFollower() bool {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.config.followerThrottled.has(p.tp.partition)
}
