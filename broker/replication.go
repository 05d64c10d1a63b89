package broker

import (
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/klassik/klassik/classroom/event"
	"github.com/klassik/klassik/internal/backoff"
	"github.com/klassik/klassik/zkclient"
	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kmsg"
)

// This file is the leader's half of replication (Kafka's Partition.makeLeader,
// updateFollowerFetchState, maybeExpandIsr and maybeShrinkIsr). The follower's half is the
// replica fetcher (fetcher.go).
//
// ISR changes are written by the leader itself, as in Kafka before AlterPartition (KIP-497):
// a conditional write of the partition state znode on its zkVersion, then an
// /isr_change_notification so the controller refreshes every broker's metadata.

// makeLeaderLocked applies a LeaderAndIsr that names this broker leader. Caller holds mu.
func (p *partition) makeLeaderLocked(ps kmsg.LeaderAndISRRequestTopicPartition, nowMs int64) {
	newEpoch := ps.LeaderEpoch > p.leaderEpoch || p.leaderID != p.self
	p.leaderID, p.leaderEpoch = ps.Leader, ps.LeaderEpoch
	p.partitionEpoch, p.controllerEpoch = ps.ZKVersion, ps.ControllerEpoch
	p.replicas, p.isr = slices.Clone(ps.Replicas), slices.Clone(ps.ISR)
	if newEpoch {
		leo := p.log.LogEndOffset()
		if err := p.log.AssignEpochStartOffset(ps.LeaderEpoch, leo); err != nil {
			p.b.log.Error().Err(err).Str("topic", p.tp.topic).Int32("partition", p.tp.partition).Msg("recording leader epoch")
		}
		p.epochStartOffset = leo
		p.followers = map[int32]*replicaState{}
		for _, id := range p.replicas {
			if id == p.self {
				continue
			}
			f := &replicaState{leo: -1}
			if slices.Contains(p.isr, id) {
				f.lastCaughtUpMs = nowMs
			}
			p.followers[id] = f
		}
	}
	p.maybeIncrementHWLocked()
	p.signal()
}

// makeFollowerLocked applies a LeaderAndIsr that names another broker leader. Caller holds mu.
// It reports whether the fetcher must (re)start for this partition.
func (p *partition) makeFollowerLocked(ps kmsg.LeaderAndISRRequestTopicPartition) bool {
	changed := ps.Leader != p.leaderID || ps.LeaderEpoch > p.leaderEpoch
	p.leaderID, p.leaderEpoch = ps.Leader, ps.LeaderEpoch
	p.partitionEpoch, p.controllerEpoch = ps.ZKVersion, ps.ControllerEpoch
	p.replicas, p.isr = slices.Clone(ps.Replicas), slices.Clone(ps.ISR)
	p.followers = nil
	p.signal()
	return changed
}

// updateFollowerLocked records a follower's fetch (Kafka's updateFollowerFetchState): its log
// end offset is the offset it asks for; it is caught up when that reaches the leader's log end.
// Caller holds mu and is leader.
func (p *partition) updateFollowerLocked(id int32, fetchOffset int64, nowMs int64) error {
	f := p.followers[id]
	if f == nil {
		return kerr.NotLeaderForPartition
	}
	leo := p.log.LogEndOffset()
	switch {
	case fetchOffset >= leo:
		f.lastCaughtUpMs = nowMs
	case fetchOffset >= f.lastFetchLeaderLEO && f.lastFetchMs > 0:
		f.lastCaughtUpMs = max(f.lastCaughtUpMs, f.lastFetchMs)
	}
	f.leo, f.lastFetchLeaderLEO, f.lastFetchMs = fetchOffset, leo, nowMs

	if slices.Contains(p.isr, id) {
		if p.maybeIncrementHWLocked() {
			p.signal()
		}
		return nil
	}
	// maybeExpandIsr: back in sync once it has everything up to the high watermark and the
	// start of the current leader epoch.
	if fetchOffset >= p.hw && fetchOffset >= p.epochStartOffset {
		next := append(slices.Clone(p.isr), id)
		slices.Sort(next)
		p.proposeISRLocked(next, "expand", fmt.Sprintf("broker %d caught up to the high watermark %d (its LEO %d, leader LEO %d)",
			id, p.hw, fetchOffset, leo))
	}
	return nil
}

// maybeShrinkISRs drops followers that have not caught up within replica.lag.time.max.ms
// from the ISR of every partition this broker leads.
func (b *Broker) maybeShrinkISRs() {
	now := time.Now().UnixMilli()
	for _, p := range b.rm.all() {
		p.mu.Lock()
		if p.isLeaderLocked() && !p.isrUpdating {
			var keep []int32
			var why []string
			leo := p.log.LogEndOffset()
			for _, id := range p.isr {
				f := p.followers[id]
				if id == p.self || f != nil && now-f.lastCaughtUpMs <= b.cfg.ReplicaLagTimeMaxMs {
					keep = append(keep, id)
					continue
				}
				var fleo int64 = -1
				if f != nil {
					fleo = f.leo
				}
				why = append(why, fmt.Sprintf("broker %d has not caught up for replica.lag.time.max.ms=%d ms (its LEO %d, leader LEO %d)",
					id, b.cfg.ReplicaLagTimeMaxMs, fleo, leo))
			}
			if len(keep) < len(p.isr) {
				p.proposeISRLocked(keep, "shrink", strings.Join(why, "; "))
			}
		}
		p.mu.Unlock()
	}
}

// isrRetry is the leader's backoff after a refused ISR write: the next proposal waits until
// after retryAt, unless the partition state has moved since (a LeaderAndIsr brought a new
// zkVersion, so a write may succeed at once). Guarded by the partition's mu.
type isrRetry struct {
	backoff   backoff.Backoff // 50 ms doubling to 5 s, with jitter
	refusedAt int32           // the zkVersion the refused write was conditional on
	retryAt   time.Time       // zero: no refusal pending
}

// allowLocked reports whether an ISR write may be tried now.
func (r *isrRetry) allowLocked(partitionEpoch int32, now time.Time) bool {
	if r.retryAt.IsZero() {
		return true
	}
	if partitionEpoch != r.refusedAt {
		r.backoff.Reset()
		r.retryAt = time.Time{}
		return true
	}
	return !now.Before(r.retryAt)
}

// proposeISRLocked writes a new ISR to ZooKeeper in the background; the partition adopts it
// when the conditional write succeeds. After a refused write, proposals wait for the
// backoff (isrRetry) instead of rewriting on every follower fetch. Caller holds mu.
func (p *partition) proposeISRLocked(isr []int32, why, cause string) {
	if p.isrUpdating || !p.isrRetry.allowLocked(p.partitionEpoch, time.Now()) {
		return
	}
	p.isrUpdating = true
	st := zkclient.PartitionState{
		Leader: p.self, LeaderEpoch: p.leaderEpoch, ControllerEpoch: p.controllerEpoch,
		ISR: isr, ZkVersion: p.partitionEpoch,
	}
	epoch := p.leaderEpoch
	b := p.b
	b.goRun(func() {
		version, err := b.zk.UpdatePartitionStateAsLeader(p.tp.topic, p.tp.partition, st)
		p.mu.Lock()
		p.isrUpdating = false
		var retryIn time.Duration
		if err != nil {
			retryIn = p.isrRetry.backoff.Next()
			p.isrRetry.refusedAt, p.isrRetry.retryAt = st.ZkVersion, time.Now().Add(retryIn)
		} else {
			p.isrRetry.backoff.Reset()
			p.isrRetry.retryAt = time.Time{}
		}
		applied := err == nil && p.leaderEpoch == epoch && p.isLeaderLocked()
		if applied {
			old := p.isr
			p.isr, p.partitionEpoch = isr, version
			p.maybeIncrementHWLocked()
			p.signal()
			if len(isr) < len(old) {
				b.metrics.isrShrinks.Add(1)
			} else {
				b.metrics.isrExpands.Add(1)
			}
			b.log.Info().Str("topic", p.tp.topic).Int32("partition", p.tp.partition).
				Ints32("old_isr", old).Ints32("new_isr", isr).Str("change", why).Msg("ISR updated")
			kind, verb := event.ISRExpand, "Expanding"
			if len(isr) < len(old) {
				kind, verb = event.ISRShrink, "Shrinking"
			}
			b.bus.Publish(event.Event{Kind: kind, Cause: cause,
				Text: fmt.Sprintf("[Partition %s-%d broker=%d] %s ISR from %s to %s (zkVersion %d -> %d): %s",
					p.tp.topic, p.tp.partition, p.self, verb, ints(old), ints(isr), st.ZkVersion, version, cause),
				Topic: p.tp.topic, Partition: event.Int32(p.tp.partition), Leader: event.Int32(p.self),
				ISR: slices.Clone(isr), LeaderEpoch: event.Int32(epoch), ZKVersion: event.Int32(version),
				ZNode: fmt.Sprintf("/brokers/topics/%s/partitions/%d/state", p.tp.topic, p.tp.partition)})
		}
		p.mu.Unlock()
		if err != nil {
			b.log.Warn().Err(err).Str("topic", p.tp.topic).Int32("partition", p.tp.partition).
				Dur("retry_in", retryIn).Int32("zk_version", st.ZkVersion).
				Msg("ISR update refused; waiting for the controller's state or the backoff before trying again")
			return
		}
		if applied {
			if err := b.zk.CreateIsrChangeNotification([]zkclient.TopicPartition{{Topic: p.tp.topic, Partition: p.tp.partition}}); err != nil {
				b.log.Warn().Err(err).Msg("writing ISR change notification")
			}
		}
	})
}

// ints formats broker ids as Kafka's logs do: [1,2,3].
func ints(ids []int32) string {
	parts := make([]string, len(ids))
	for i, id := range ids {
		parts[i] = strconv.Itoa(int(id))
	}
	return "[" + strings.Join(parts, ",") + "]"
}
