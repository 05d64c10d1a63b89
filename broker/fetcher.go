package broker

import (
	"context"
	"errors"
	"fmt"
	"net"
	"strconv"
	"sync"
	"time"

	"github.com/klassik/klassik/classroom/event"
	"github.com/klassik/klassik/logstore"
	"github.com/klassik/klassik/wire"
	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kmsg"
)

// fetcherManager runs one replica fetcher per leader broker this broker follows (Kafka's
// ReplicaFetcherManager with num.replica.fetchers = 1).
type fetcherManager struct {
	b        *Broker
	mu       sync.Mutex
	fetchers map[int32]*replicaFetcher
	closed   bool
	pauses   fetchPauses // the classroom's pause-fetch fault (faults.go)
}

func newFetcherManager(b *Broker) *fetcherManager {
	return &fetcherManager{b: b, fetchers: map[int32]*replicaFetcher{}}
}

// fetchPartition is one partition a fetcher copies.
type fetchPartition struct {
	p           *partition
	leaderEpoch int32
	truncate    bool // must find the divergence point (OffsetsForLeaderEpoch) before fetching
	backoffTill time.Time
	inSync      bool // at the leader's high watermark after the last fetch (not throttled)
}

// addPartition makes the fetcher for leader (at addr) copy p, truncating first.
func (m *fetcherManager) addPartition(leader int32, addr string, p *partition, leaderEpoch int32) {
	m.removePartition(p.tp)
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.closed {
		return
	}
	f := m.fetchers[leader]
	if f != nil && f.addr != addr {
		f.stop()
		delete(m.fetchers, leader)
		f = nil
	}
	if f == nil {
		f = newReplicaFetcher(m.b, leader, addr)
		m.fetchers[leader] = f
	}
	f.add(&fetchPartition{p: p, leaderEpoch: leaderEpoch, truncate: true})
}

// removePartition stops copying tp, wherever it was fetched from.
func (m *fetcherManager) removePartition(tp topicPartition) {
	m.mu.Lock()
	defer m.mu.Unlock()
	for id, f := range m.fetchers {
		if f.remove(tp) == 0 {
			f.stop()
			delete(m.fetchers, id)
		}
	}
}

func (m *fetcherManager) close() {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.closed = true
	for id, f := range m.fetchers {
		f.stop()
		delete(m.fetchers, id)
	}
}

// replicaFetcher copies partitions from one leader: it sends Fetch with this broker's id as
// the replica id, appends what comes back as a follower and keeps the high watermark the
// leader reports (Kafka's ReplicaFetcherThread).
type replicaFetcher struct {
	b      *Broker
	leader int32
	addr   string
	ctx    context.Context
	cancel context.CancelFunc
	done   chan struct{}

	mu    sync.Mutex
	parts map[topicPartition]*fetchPartition
	wake  chan struct{}
}

func newReplicaFetcher(b *Broker, leader int32, addr string) *replicaFetcher {
	ctx, cancel := context.WithCancel(b.ctx)
	f := &replicaFetcher{b: b, leader: leader, addr: addr, ctx: ctx, cancel: cancel,
		done: make(chan struct{}), parts: map[topicPartition]*fetchPartition{}, wake: make(chan struct{}, 1)}
	go f.run()
	return f
}

func (f *replicaFetcher) add(fp *fetchPartition) {
	f.mu.Lock()
	f.parts[fp.p.tp] = fp
	f.mu.Unlock()
	select {
	case f.wake <- struct{}{}:
	default:
	}
}

// remove drops tp and returns how many partitions are left.
func (f *replicaFetcher) remove(tp topicPartition) int {
	f.mu.Lock()
	defer f.mu.Unlock()
	delete(f.parts, tp)
	return len(f.parts)
}

func (f *replicaFetcher) stop() {
	f.cancel()
	<-f.done
}

func (f *replicaFetcher) run() {
	defer close(f.done)
	log := f.b.base.With().Str("component", "replica-fetcher").Int32("leader", f.leader).Logger()
	backoff := time.Duration(f.b.cfg.ReplicaFetchBackoffMs) * time.Millisecond
	var client *wire.Client
	var session fetcherSession // fetcher_session.go
	defer func() {
		if client != nil {
			_ = client.Close()
		}
	}()
	for f.ctx.Err() == nil {
		if client == nil {
			c, err := f.b.dialBroker(f.ctx, f.addr, fmt.Sprintf("klassik-replica-fetcher-%d", f.b.cfg.BrokerID))
			if err != nil {
				log.Debug().Err(err).Msg("connecting to leader")
				f.sleep(backoff)
				continue
			}
			client = c
		}
		if err := f.truncateIfNeeded(client); err != nil {
			log.Debug().Err(err).Msg("OffsetsForLeaderEpoch")
			_ = client.Close()
			client = nil
			f.sleep(backoff)
			continue
		}
		req, parts := f.buildFetch()
		if req == nil {
			select {
			case <-f.ctx.Done():
			case <-f.wake:
			case <-time.After(backoff):
			}
			continue
		}
		change := session.shape(req)
		ctx, cancel := context.WithTimeout(f.ctx, time.Duration(f.b.cfg.ReplicaSocketTimeoutMs)*time.Millisecond)
		resp, err := client.Request(ctx, req)
		cancel()
		if err != nil {
			if f.ctx.Err() == nil {
				log.Debug().Err(err).Msg("fetching from leader")
			}
			_ = client.Close()
			client = nil
			session.reset()
			f.sleep(backoff)
			continue
		}
		if !session.done(resp.(*kmsg.FetchResponse), change) {
			log.Debug().Err(kerr.ErrorForCode(resp.(*kmsg.FetchResponse).ErrorCode)).Msg("fetch session ended; fetching in full")
			continue
		}
		f.process(resp.(*kmsg.FetchResponse), parts, backoff)
	}
}

// backoff is replica.fetch.backoff.ms: the wait before retrying anything that failed.
func (f *replicaFetcher) backoff() time.Duration {
	return time.Duration(max(f.b.cfg.ReplicaFetchBackoffMs, 1)) * time.Millisecond
}

func (f *replicaFetcher) sleep(d time.Duration) {
	select {
	case <-f.ctx.Done():
	case <-time.After(d):
	}
}

// buildFetch makes the next Fetch for the partitions that are ready.
func (f *replicaFetcher) buildFetch() (*kmsg.FetchRequest, map[topicPartition]*fetchPartition) {
	f.mu.Lock()
	defer f.mu.Unlock()
	now := time.Now()
	req := kmsg.NewPtrFetchRequest()
	req.SetVersion(12)
	req.ReplicaID = f.b.cfg.BrokerID
	req.MaxWaitMillis = int32(f.b.cfg.ReplicaFetchWaitMaxMs)
	req.MinBytes = int32(f.b.cfg.ReplicaFetchMinBytes)
	req.MaxBytes = int32(f.b.cfg.ReplicaFetchResponseMaxBytes)
	parts := map[topicPartition]*fetchPartition{}
	byTopic := map[string]int{}
	throttleChecked, throttleExceeded := false, false
	for tp, fp := range f.parts {
		if fp.truncate || now.Before(fp.backoffTill) || f.b.fetchers.paused(tp) {
			continue
		}
		if !fp.inSync && fp.p.throttledAsFollower() {
			// follower.replication.throttled.replicas (replication_quota.go)
			if !throttleChecked {
				throttleChecked, throttleExceeded = true, f.b.followerQuotaExceeded(now)
			}
			if throttleExceeded {
				continue
			}
		}
		i, ok := byTopic[tp.topic]
		if !ok {
			i = len(req.Topics)
			byTopic[tp.topic] = i
			t := kmsg.NewFetchRequestTopic()
			t.Topic = tp.topic
			req.Topics = append(req.Topics, t)
		}
		rp := kmsg.NewFetchRequestTopicPartition()
		rp.Partition = tp.partition
		rp.CurrentLeaderEpoch = fp.leaderEpoch
		rp.FetchOffset = fp.p.log.LogEndOffset()
		rp.LogStartOffset = fp.p.log.LogStartOffset()
		rp.PartitionMaxBytes = int32(f.b.cfg.ReplicaFetchMaxBytes)
		req.Topics[i].Partitions = append(req.Topics[i].Partitions, rp)
		parts[tp] = fp
	}
	if len(parts) == 0 {
		return nil, nil
	}
	return req, parts
}

// process appends what the leader returned and adopts its high watermark.
func (f *replicaFetcher) process(resp *kmsg.FetchResponse, parts map[topicPartition]*fetchPartition, backoff time.Duration) {
	for _, rt := range resp.Topics {
		for _, rp := range rt.Partitions {
			tp := topicPartition{rt.Topic, rp.Partition}
			fp := parts[tp]
			if fp == nil {
				continue
			}
			f.mu.Lock()
			current := f.parts[tp] == fp
			f.mu.Unlock()
			if !current {
				continue // removed or re-added while the fetch was in flight
			}
			switch rp.ErrorCode {
			case 0:
				f.appendFetched(fp, rp)
			case kerr.OffsetOutOfRange.Code:
				f.handleOutOfRange(fp, rp)
			default:
				// Fenced, not leader, unknown epoch: wait for the controller's next LeaderAndIsr.
				fp.backoffTill = time.Now().Add(backoff)
			}
		}
	}
}

func (f *replicaFetcher) appendFetched(fp *fetchPartition, rp kmsg.FetchResponseTopicPartition) {
	p := fp.p
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.stopped || p.leaderID != f.leader || p.leaderEpoch != fp.leaderEpoch {
		return
	}
	if len(rp.RecordBatches) > 0 {
		if p.config.followerThrottled.has(p.tp.partition) {
			f.b.replQuotas.follower.Record(len(rp.RecordBatches), time.Now().UnixMilli())
		}
		if _, err := p.log.AppendAsFollower(rp.RecordBatches); err != nil {
			// Never retried at once: a failed disk takes the log dir offline (the partition
			// then leaves this fetcher); anything else re-checks the divergence point after
			// replica.fetch.backoff.ms.
			f.b.log.Error().Err(err).Str("topic", p.tp.topic).Int32("partition", p.tp.partition).Msg("appending fetched batches")
			fp.backoffTill = time.Now().Add(f.backoff())
			fp.truncate = !errors.Is(err, logstore.ErrLogDirOffline)
			return
		}
	}
	if rp.LogStartOffset > p.log.LogStartOffset() && rp.LogStartOffset <= p.log.LogEndOffset() {
		_ = p.log.IncrementLogStartOffset(rp.LogStartOffset)
	}
	if hw := min(rp.HighWatermark, p.log.LogEndOffset()); hw > p.hw {
		p.setHWLocked(hw)
	}
	fp.inSync = p.log.LogEndOffset() >= rp.HighWatermark // Kafka's isReplicaInSync: no lag
	p.signal()
}

// handleOutOfRange: the follower's log end is outside the leader's log. Above it, find the
// divergence again; below the leader's log start, start over at the leader's log start.
func (f *replicaFetcher) handleOutOfRange(fp *fetchPartition, rp kmsg.FetchResponseTopicPartition) {
	p := fp.p
	p.mu.Lock()
	defer p.mu.Unlock()
	if rp.LogStartOffset >= 0 && p.log.LogEndOffset() < rp.LogStartOffset {
		if err := p.log.TruncateFullyAndStartAt(rp.LogStartOffset); err == nil {
			p.setHWLocked(rp.LogStartOffset)
		} else {
			fp.backoffTill = time.Now().Add(f.backoff())
		}
		return
	}
	fp.truncate = true
}

// truncateIfNeeded asks the leader, with OffsetsForLeaderEpoch, where this follower's log
// diverges from its own, and truncates there (KIP-101, KIP-279). Without any epoch it falls
// back to the high watermark, as Kafka does.
func (f *replicaFetcher) truncateIfNeeded(client *wire.Client) error {
	f.mu.Lock()
	var todo []*fetchPartition
	now := time.Now()
	for _, fp := range f.parts {
		if fp.truncate && !now.Before(fp.backoffTill) {
			todo = append(todo, fp)
		}
	}
	f.mu.Unlock()
	if len(todo) == 0 {
		return nil
	}
	req := kmsg.NewPtrOffsetForLeaderEpochRequest()
	req.SetVersion(4)
	req.ReplicaID = f.b.cfg.BrokerID
	byTopic := map[string]int{}
	asked := map[topicPartition]int32{}
	for _, fp := range todo {
		epoch, ok := fp.p.log.LatestEpoch()
		if !ok {
			f.truncateTo(fp, fp.p.highWatermark())
			continue
		}
		i, seen := byTopic[fp.p.tp.topic]
		if !seen {
			i = len(req.Topics)
			byTopic[fp.p.tp.topic] = i
			t := kmsg.NewOffsetForLeaderEpochRequestTopic()
			t.Topic = fp.p.tp.topic
			req.Topics = append(req.Topics, t)
		}
		rp := kmsg.NewOffsetForLeaderEpochRequestTopicPartition()
		rp.Partition = fp.p.tp.partition
		rp.CurrentLeaderEpoch = fp.leaderEpoch
		rp.LeaderEpoch = epoch
		req.Topics[i].Partitions = append(req.Topics[i].Partitions, rp)
		asked[fp.p.tp] = epoch
	}
	if len(req.Topics) == 0 {
		return nil
	}
	ctx, cancel := context.WithTimeout(f.ctx, time.Duration(f.b.cfg.ReplicaSocketTimeoutMs)*time.Millisecond)
	defer cancel()
	raw, err := client.Request(ctx, req)
	if err != nil {
		return err
	}
	resp := raw.(*kmsg.OffsetForLeaderEpochResponse)
	byTP := map[topicPartition]*fetchPartition{}
	for _, fp := range todo {
		byTP[fp.p.tp] = fp
	}
	for _, rt := range resp.Topics {
		for _, rp := range rt.Partitions {
			tp := topicPartition{rt.Topic, rp.Partition}
			fp := byTP[tp]
			if fp == nil {
				continue
			}
			if rp.ErrorCode != 0 {
				fp.backoffTill = time.Now().Add(time.Duration(f.b.cfg.ReplicaFetchBackoffMs) * time.Millisecond)
				continue
			}
			target := rp.EndOffset
			if rp.LeaderEpoch < 0 || rp.EndOffset < 0 {
				target = fp.p.highWatermark() // the leader knows no such epoch
			} else if rp.LeaderEpoch != asked[tp] {
				// KIP-279: the leader's answer is for an older epoch; our own end of that
				// epoch may be earlier still.
				if _, ours := fp.p.log.EndOffsetForEpoch(rp.LeaderEpoch); ours >= 0 && ours < target {
					target = ours
				}
			}
			f.truncateTo(fp, target)
		}
	}
	return nil
}

func (f *replicaFetcher) truncateTo(fp *fetchPartition, offset int64) {
	p := fp.p
	p.mu.Lock()
	defer p.mu.Unlock()
	if offset < p.log.LogEndOffset() {
		if err := p.log.TruncateTo(offset); err != nil {
			f.b.log.Error().Err(err).Str("topic", p.tp.topic).Int32("partition", p.tp.partition).Msg("truncating")
			fp.backoffTill = time.Now().Add(f.backoff())
			return
		}
		f.b.log.Info().Str("topic", p.tp.topic).Int32("partition", p.tp.partition).Int64("offset", offset).Msg("truncated to the leader's log")
		if p.hw > offset {
			p.setHWLocked(offset)
		}
	}
	leo := p.log.LogEndOffset()
	text := fmt.Sprintf("[ReplicaFetcher replicaId=%d, leaderId=%d] Truncating partition %s-%d to offset %d after leader epoch change to %d (log end offset now %d)",
		f.b.cfg.BrokerID, f.leader, p.tp.topic, p.tp.partition, offset, fp.leaderEpoch, leo)
	if offset >= leo {
		text = fmt.Sprintf("[ReplicaFetcher replicaId=%d, leaderId=%d] Truncation check of %s-%d at leader epoch %d: log ends at %d, no divergence, nothing removed",
			f.b.cfg.BrokerID, f.leader, p.tp.topic, p.tp.partition, fp.leaderEpoch, leo)
	}
	f.b.bus.Publish(event.Event{Kind: event.Truncation, Text: text, Topic: p.tp.topic, Partition: event.Int32(p.tp.partition),
		Leader: event.Int32(f.leader), LeaderEpoch: event.Int32(fp.leaderEpoch), Offset: event.Int64(offset)})
	fp.truncate = false
	p.signal()
}

// leaderAddr is the inter-broker address of broker id, from a LeaderAndIsr's live leaders or
// else the metadata cache.
func (b *Broker) leaderAddr(id int32, live []kmsg.LeaderAndISRRequestLiveLeader) (string, bool) {
	for _, l := range live {
		if l.BrokerID == id {
			return net.JoinHostPort(l.Host, strconv.Itoa(int(l.Port))), true
		}
	}
	if cb, ok := b.meta.get().brokers[id]; ok {
		if hp, ok := cb.endpoints[b.cfg.InterBrokerListenerName]; ok {
			return net.JoinHostPort(hp.host, strconv.Itoa(int(hp.port))), true
		}
	}
	return "", false
}
