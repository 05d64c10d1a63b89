package broker

// Fetch, key 1, versions 0-15: record batches (format v2) are returned as stored, never
// decoded (v0-v3 expect the old message formats and get the batches converted down:
// legacy_formats.go). Consumers read below the high watermark; followers (a replica id, or from v15 the
// ReplicaState of KIP-903) read up to the log end and report their progress with their fetch
// offset. Long polling with max wait and min bytes, response and partition max bytes with at
// least one batch returned (KIP-74), leader epoch checks (KIP-320), topic ids from v13
// (KIP-516) and the diverging epoch of KIP-595 for followers that send their last fetched
// epoch (v12+). Fetch sessions (KIP-227) from v7: fetch_session.go.
//
// Fetching from the closest replica (KIP-392): from v11 a consumer may read from a follower,
// which serves it up to the high watermark it has learned from the leader; with
// replica.selector.class = RackAwareReplicaSelector the leader answers a consumer that names
// its client.rack with no records and the preferred read replica, an in-sync replica in that
// rack that has the fetch offset (replica_selector.go).
//
// Isolation (KIP-98): read_uncommitted (0) consumers read up to the high watermark,
// read_committed (1) ones up to the last stable offset, and get the aborted transactions
// overlapping what they were sent (producer id and first offset; Kafka's
// collectAbortedTransactions over the .txnindex files), so they drop those producers'
// records up to each abort marker. Every answer carries the last stable offset.
//
// Quotas (quotas.go): a consumer's fetch reads at most what its consumer_byte_rate allows in
// one window, its response bytes count against that quota, and a throttled consumer gets an
// empty answer with throttle_time_ms (v1+) and a muted connection (KIP-219). Followers'
// fetches are exempt.
//
// Authorization: a consumer needs Read on each topic, a follower ClusterAction on the
// cluster (fetchAuthorizer).

import (
	"context"
	"errors"
	"reflect"
	"slices"
	"time"

	"github.com/klassik/klassik/broker/authz"
	"github.com/klassik/klassik/broker/quota"
	"github.com/klassik/klassik/conf"
	"github.com/klassik/klassik/logstore"
	"github.com/klassik/klassik/record"
	"github.com/klassik/klassik/wire"
	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kmsg"
)

func init() { register(1, 0, 15, (*Broker).handleFetch) }

func (b *Broker) handleFetch(ctx context.Context, req *wire.Request) (kmsg.Response, error) {
	r := req.Body.(*kmsg.FetchRequest)
	replicaID := r.ReplicaID
	if r.Version >= 15 {
		replicaID = r.ReplicaState.ID
	}
	rq := quotaOf(ctx)
	if rq != nil && replicaID >= 0 {
		rq.exempt = true // a follower's fetch: replication is not a client's quota
	}
	if rq != nil && replicaID < 0 && r.Version >= 3 {
		// Never read more than the quota allows in one window (Kafka's
		// getMaxValueInQuotaWindow caps fetch max bytes, and min bytes with it).
		if most := b.quotas.fetch.MaxValueInWindow(quotaUser(req), quotaClientID(req)); most < float64(r.MaxBytes) {
			r.MaxBytes = int32(max(most, 1))
			r.MinBytes = min(r.MinBytes, r.MaxBytes)
		}
	}
	now := time.Now()
	fc, refused := b.fetchSessions.begin(r, replicaID >= 0, now)
	if refused != nil {
		return refused, nil
	}
	eff := fc.request(r) // a session's fetch reads every partition the session holds
	readable := b.fetchAuthorizer(req, replicaID >= 0)
	deadline := now.Add(time.Duration(r.MaxWaitMillis) * time.Millisecond)
	for {
		resp, bytes, waitOn := b.fetchOnce(eff, replicaID, readable)
		if bytes >= int(r.MinBytes) || r.MaxWaitMillis <= 0 || len(waitOn) == 0 {
			return b.fetchRespond(req, rq, fc, resp, bytes), nil
		}
		req.Release() // a long poll holds no request budget (queued.max.request.bytes)
		waitStart := time.Now()
		woke := waitAny(ctx, waitOn, deadline)
		rq.wait(time.Since(waitStart)) // purgatory is not handler time
		if !woke {
			resp, bytes, _ = b.fetchOnce(eff, replicaID, readable)
			return b.fetchRespond(req, rq, fc, resp, bytes), nil
		}
	}
}

// fetchRespond keeps of resp what the fetch session must send, then applies the client's
// quotas to that. A throttled answer carries no partitions: the session then forgets that it
// told the client anything, so the next fetch answers them all again.
func (b *Broker) fetchRespond(req *wire.Request, rq *requestQuota, fc fetchContext, resp *kmsg.FetchResponse, bytes int) *kmsg.FetchResponse {
	out := fc.finish(resp)
	sent := b.fetchQuota(req, rq, out, bytes)
	if sent != out {
		fc.unsent(out)
		sent.SessionID = out.SessionID
	}
	return sent
}

// fetchQuota records a consumer's fetch against consumer_byte_rate and its handler time
// against request_percentage, and returns what to send (KafkaApis.handleFetchRequest): the
// response, or, if either quota is violated, an empty one with the fetched bytes unrecorded,
// since the consumer gets none of them and reads them again after its throttle.
func (b *Broker) fetchQuota(req *wire.Request, rq *requestQuota, resp *kmsg.FetchResponse, bytes int) *kmsg.FetchResponse {
	if rq == nil || rq.exempt {
		b.metrics.bytesOut.Add(int64(bytes))
		return resp
	}
	now := time.Now()
	user, client := quotaUser(req), quotaClientID(req)
	size, bw := 0, int64(0)
	if b.quotas.fetch.Enabled() {
		size = fetchResponseSize(resp)
		bw = b.quotas.fetch.Record(user, client, float64(size), now.UnixMilli())
	}
	timeThrottle := b.quotas.recordRequestTime(req, rq, now)
	if max(bw, timeThrottle) <= 0 {
		b.metrics.bytesOut.Add(int64(bytes))
		return resp
	}
	b.quotas.fetch.Unrecord(user, client, float64(size), now.UnixMilli())
	rq.bandwidthKind, rq.bandwidth = quota.Fetch, bw
	// FullFetchContext.getThrottledResponse: no partitions at all (Handle sets the throttle).
	return req.Body.(*kmsg.FetchRequest).ResponseKind().(*kmsg.FetchResponse)
}

// fetchResponseSize is resp's encoded size (Kafka's FetchContext.getResponseSize), found
// without copying the records: the response is encoded without them and their lengths are
// added back (a few bytes of length prefix apart).
func fetchResponseSize(resp *kmsg.FetchResponse) int {
	records := 0
	var saved [][]byte
	for ti := range resp.Topics {
		for pi := range resp.Topics[ti].Partitions {
			p := &resp.Topics[ti].Partitions[pi]
			records += len(p.RecordBatches)
			saved = append(saved, p.RecordBatches)
			p.RecordBatches = nil
		}
	}
	n := len(resp.AppendTo(nil)) + records
	i := 0
	for ti := range resp.Topics {
		for pi := range resp.Topics[ti].Partitions {
			resp.Topics[ti].Partitions[pi].RecordBatches = saved[i]
			i++
		}
	}
	return n
}

// waitAny blocks until one of chans is closed (true) or the deadline or ctx ends (false).
func waitAny(ctx context.Context, chans []<-chan struct{}, deadline time.Time) bool {
	timer := time.NewTimer(time.Until(deadline))
	defer timer.Stop()
	cases := make([]reflect.SelectCase, 0, len(chans)+2)
	cases = append(cases,
		reflect.SelectCase{Dir: reflect.SelectRecv, Chan: reflect.ValueOf(ctx.Done())},
		reflect.SelectCase{Dir: reflect.SelectRecv, Chan: reflect.ValueOf(timer.C)})
	for _, c := range chans {
		cases = append(cases, reflect.SelectCase{Dir: reflect.SelectRecv, Chan: reflect.ValueOf(c)})
	}
	chosen, _, _ := reflect.Select(cases)
	return chosen >= 2
}

// fetchAuthorizer answers, for a topic name, whether the request may read it
// (KafkaApis.handleFetchRequest): a follower's fetch needs ClusterAction on the cluster for
// every partition, a consumer's needs Read on each topic. Each name is asked once per
// request, however often a long poll reads. Nil without an authorizer.
func (b *Broker) fetchAuthorizer(req *wire.Request, follower bool) func(string) bool {
	if b.authz == nil {
		return nil
	}
	if follower {
		ok := b.authorizeCluster(req, authz.OpClusterAction)
		return func(string) bool { return ok }
	}
	asked := map[string]bool{}
	return func(name string) bool {
		ok, seen := asked[name]
		if !seen {
			ok = b.authorize(req, authz.OpRead, authz.ResourceTopic, name)
			asked[name] = ok
		}
		return ok
	}
}

// fetchOnce reads every requested partition once (readable, when set, says which topics the
// request may read). It returns the response, the bytes it holds, and the change channels
// to wait on when that is not enough yet.
func (b *Broker) fetchOnce(r *kmsg.FetchRequest, replicaID int32, readable func(string) bool) (*kmsg.FetchResponse, int, []<-chan struct{}) {
	resp := r.ResponseKind().(*kmsg.FetchResponse)
	snap := b.meta.get()
	budget := int(r.MaxBytes)
	if r.Version < 3 || budget <= 0 {
		budget = 1<<31 - 1
	}
	total := 0
	var waitOn []<-chan struct{}
	hasError := false
	now := time.Now().UnixMilli()
	params := fetchParams{replicaID: replicaID, readCommitted: r.IsolationLevel == 1, magic: fetchMagic(r.Version)}
	if replicaID < 0 && r.Version >= 11 {
		// KIP-392: a consumer that may be sent to another replica may also read from a
		// follower; the leader picks one in its rack when replica.selector.class asks for it.
		params.anyReplica = true
		if r.Rack != "" && b.cfg.ReplicaSelectorClass == conf.RackAwareReplicaSelector {
			params.rack, params.snap = r.Rack, snap
		}
	}

	for _, rt := range r.Topics {
		st := kmsg.NewFetchResponseTopic()
		st.Topic, st.TopicID = rt.Topic, rt.TopicID
		name := rt.Topic
		if r.Version >= 13 {
			name = snap.topicNames[rt.TopicID]
		}
		for _, rp := range rt.Partitions {
			sp := kmsg.NewFetchResponseTopicPartition()
			sp.Partition = rp.Partition
			sp.HighWatermark, sp.LastStableOffset, sp.LogStartOffset = -1, -1, -1
			var p *partition
			denied := readable != nil && (replicaID >= 0 || name != "") && !readable(name)
			if name != "" && !denied {
				p = b.rm.get(topicPartition{name, rp.Partition})
			}
			switch {
			case denied && replicaID >= 0: // a follower without ClusterAction: every partition
				sp.ErrorCode = kerr.TopicAuthorizationFailed.Code
			case name == "" && r.Version >= 13:
				sp.ErrorCode = kerr.UnknownTopicID.Code
			case denied:
				sp.ErrorCode = kerr.TopicAuthorizationFailed.Code
			case p == nil && b.rm.isOffline(topicPartition{name, rp.Partition}):
				sp.ErrorCode = kerr.KafkaStorageError.Code
			case p == nil:
				if _, known := snap.partition(name, rp.Partition); known {
					sp.ErrorCode = kerr.NotLeaderForPartition.Code
				} else {
					sp.ErrorCode = kerr.UnknownTopicOrPartition.Code
				}
			default:
				maxBytes := min(int(rp.PartitionMaxBytes), budget-total)
				n, ch, err := p.fetchInto(&sp, rp, params, maxBytes, total == 0, now)
				if err != nil {
					sp.ErrorCode = errCode(err)
				}
				total += n
				if ch != nil {
					waitOn = append(waitOn, ch)
				}
			}
			if sp.ErrorCode != 0 || sp.PreferredReadReplica >= 0 {
				hasError = true // answered at once, as Kafka does for both
			}
			if sp.RecordBatches == nil {
				sp.RecordBatches = []byte{} // Kafka sends empty records, never null; librdkafka rejects null
			}
			st.Partitions = append(st.Partitions, sp)
		}
		resp.Topics = append(resp.Topics, st)
	}
	if hasError {
		waitOn = nil // Kafka answers at once when a partition has an error
	}
	return resp, total, waitOn
}

// fetchParams is what of a Fetch request decides how each partition is read.
type fetchParams struct {
	replicaID     int32 // >= 0: a follower's fetch
	readCommitted bool
	anyReplica    bool              // a consumer that may read from a follower (v11+, KIP-392)
	rack          string            // the consumer's client.rack, when the rack-aware selector is on
	snap          *metadataSnapshot // with rack: the brokers' racks
	magic         int8              // Fetch v0-v3: the legacy message format to convert to; -1 none
}

// fetchInto reads one partition into sp. It returns the bytes read and the channel that
// signals new data.
func (p *partition) fetchInto(sp *kmsg.FetchResponseTopicPartition, rp kmsg.FetchRequestTopicPartition, fp fetchParams, maxBytes int, minOne bool, nowMs int64) (int, <-chan struct{}, error) {
	replicaID, readCommitted := fp.replicaID, fp.readCommitted
	p.mu.Lock()
	leader := p.isLeaderLocked()
	if !leader && !(fp.anyReplica && p.leaderID >= 0 && !p.stopped) {
		p.mu.Unlock()
		return 0, nil, kerr.NotLeaderForPartition
	}
	if err := checkEpoch(rp.CurrentLeaderEpoch, p.leaderEpoch); err != nil {
		p.mu.Unlock()
		return 0, nil, err
	}
	if leader && fp.rack != "" {
		if id := p.preferredReadReplicaLocked(fp.snap, fp.rack, rp.FetchOffset); id >= 0 {
			sp.HighWatermark, sp.LastStableOffset, sp.LogStartOffset = p.hw, p.log.LastStableOffset(p.hw), p.log.LogStartOffset()
			sp.PreferredReadReplica = id
			p.mu.Unlock()
			return 0, nil, nil
		}
	}
	follower := replicaID >= 0
	var throttled, throttledNow bool // leader.replication.throttled.replicas (replication_quota.go)
	if follower {
		if err := p.updateFollowerLocked(replicaID, rp.FetchOffset, nowMs); err != nil {
			p.mu.Unlock()
			return 0, nil, err
		}
		throttled = p.config.leaderThrottled.has(p.tp.partition)
		throttledNow = throttled && !slices.Contains(p.isr, replicaID) && p.b.leaderQuotaExceeded(nowMs)
	}
	leo := p.log.LogEndOffset()
	lso := p.log.LastStableOffset(p.hw)
	limit := p.hw
	switch {
	case follower:
		limit = leo
		readCommitted = false
	case readCommitted:
		limit = lso
		sp.AbortedTransactions = []kmsg.FetchResponseTopicPartitionAbortedTransaction{} // Kafka sends an empty list, not null
	}
	sp.HighWatermark, sp.LastStableOffset, sp.LogStartOffset = p.hw, lso, p.log.LogStartOffset()
	ch := p.hwChanged // a consumer waits for the high watermark
	if follower {
		ch = p.changed // a follower for the log end
	}
	p.mu.Unlock()

	if follower && rp.LastFetchedEpoch >= 0 {
		// KIP-595: tell a follower whose last epoch diverges from ours where to truncate.
		epoch, end := p.log.EndOffsetForEpoch(rp.LastFetchedEpoch)
		if epoch != rp.LastFetchedEpoch || end < rp.FetchOffset {
			sp.DivergingEpoch.Epoch, sp.DivergingEpoch.EndOffset = epoch, end
			return 0, nil, nil
		}
	}
	if rp.FetchOffset < sp.LogStartOffset || rp.FetchOffset > leo {
		return 0, nil, kerr.OffsetOutOfRange
	}
	if rp.FetchOffset >= limit || maxBytes <= 0 && !minOne || throttledNow {
		return 0, ch, nil
	}
	data, err := p.log.Read(rp.FetchOffset, max(maxBytes, 0), limit, minOne)
	if err != nil {
		if errors.Is(err, logstore.ErrOffsetOutOfRange) {
			return 0, nil, kerr.OffsetOutOfRange
		}
		if errors.Is(err, logstore.ErrCorruptRecord) {
			// A stored batch failed its CRC check: Kafka's Errors.forException answer.
			return 0, nil, kerr.CorruptMessage
		}
		return 0, nil, kerr.KafkaStorageError
	}
	if fp.magic >= 0 && len(data) > 0 {
		// An old fetch: legacy messages (legacy_formats.go). Batches holding only markers
		// convert to nothing; read on past them, or an old consumer would ask for the same
		// offset forever.
		for tries := 0; ; tries++ {
			conv, err := p.b.downConvert(data, fp.magic, max(maxBytes, 1))
			if err != nil {
				return 0, nil, kerr.CorruptMessage
			}
			if len(conv) > 0 || tries == 8 {
				data = conv
				break
			}
			next := rp.FetchOffset
			_ = record.ForEachBatch(data, func(h record.BatchHeader, _ []byte) error { next = h.NextOffset(); return nil })
			if next >= limit {
				data = nil
				break
			}
			if data, err = p.log.Read(next, max(maxBytes, 0), limit, minOne); err != nil || len(data) == 0 {
				data = nil
				break
			}
		}
	}
	sp.RecordBatches = data
	if len(data) == 0 {
		return 0, ch, nil
	}
	if throttled {
		p.b.replQuotas.leader.Record(len(data), nowMs)
	}
	if readCommitted {
		addAbortedTransactions(sp, p.log, rp.FetchOffset, data)
	}
	return len(data), ch, nil
}

// addAbortedTransactions lists in sp the aborted transactions overlapping the batches in data,
// read from fetchOffset (Kafka's LocalLog.addAbortedTransactions): only batch headers are read.
func addAbortedTransactions(sp *kmsg.FetchResponseTopicPartition, log *logstore.Log, fetchOffset int64, data []byte) {
	upper := fetchOffset
	_ = record.ForEachBatch(data, func(h record.BatchHeader, _ []byte) error {
		upper = h.NextOffset()
		return nil
	})
	for _, a := range log.AbortedTransactions(fetchOffset, upper) {
		at := kmsg.NewFetchResponseTopicPartitionAbortedTransaction()
		at.ProducerID, at.FirstOffset = a.ProducerID, a.FirstOffset
		sp.AbortedTransactions = append(sp.AbortedTransactions, at)
	}
}
