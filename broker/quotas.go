package broker

// Client quotas (Kafka's QuotaManagers with ClientIdConfigHandler and UserConfigHandler, in
// ZooKeeper mode). producer_byte_rate, consumer_byte_rate and request_percentage are entity
// configs in /config/clients/<c>, /config/users/<u> and /config/users/<u>/clients/<c> (and
// their <default>s), read at start and again on every /config/changes notification that
// names them, without a restart. The arithmetic is in broker/quota; this file feeds it and
// applies its verdicts to requests:
//
//   - Produce counts its request's bytes against producer_byte_rate (00_produce.go);
//   - a consumer's Fetch counts its response's bytes against consumer_byte_rate, reads at
//     most what the quota allows in one window, and when throttled sends nothing, as Kafka's
//     getThrottledResponse (01_fetch.go); followers' fetches are exempt;
//   - every client request counts its handler time, waits excluded, against
//     request_percentage; requests of the controller and of other brokers are exempt.
//
// A throttled request's response carries throttle_time_ms (the larger of its byte-rate and
// request-time throttles) and the connection is muted for that long (wire's
// Request.Throttle; KIP-219).

import (
	"context"
	"math"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/klassik/klassik/broker/quota"
	"github.com/klassik/klassik/wire"
	"github.com/twmb/franz-go/pkg/kmsg"
)

// quotaManagers are the broker's three client quota managers (Kafka's QuotaManagers).
type quotaManagers struct {
	b                       *Broker
	produce, fetch, request *quota.Manager
	mu                      sync.Mutex // serializes reading entity configs into the managers
	warnedEvicted           [3]int64   // evictions already logged, per Kind; housekeeping's
}

func newQuotaManagers(b *Broker) *quotaManagers {
	cfg := quota.Config{Samples: b.cfg.QuotaWindowNum, WindowMs: int64(b.cfg.QuotaWindowSizeSeconds) * 1000}
	n := b.cfg.QuotaMaxTrackedEntities
	return &quotaManagers{
		b:       b,
		produce: quota.NewManager(quota.Produce, cfg, n),
		fetch:   quota.NewManager(quota.Fetch, cfg, n),
		request: quota.NewManager(quota.Request, cfg, n),
	}
}

func (q *quotaManagers) all() []*quota.Manager {
	return []*quota.Manager{q.produce, q.fetch, q.request}
}

func (q *quotaManagers) manager(k quota.Kind) *quota.Manager {
	switch k {
	case quota.Produce:
		return q.produce
	case quota.Fetch:
		return q.fetch
	}
	return q.request
}

// warnEvictions logs, from the broker's housekeeping, when sensors of active clients were
// dropped since the last look: more clients than klassik.quota.max.tracked.entities.
func (q *quotaManagers) warnEvictions() {
	for _, m := range q.all() {
		n := m.Evicted()
		if n > q.warnedEvicted[m.Kind()] {
			q.b.log.Warn().Str("quota", m.Kind().String()).Int64("dropped", n-q.warnedEvicted[m.Kind()]).
				Int("klassik.quota.max.tracked.entities", q.b.cfg.QuotaMaxTrackedEntities).
				Msg("more active (user, client id) combinations than klassik.quota.max.tracked.entities: the longest idle were forgotten and their rates start again from zero; raise the setting if these clients are real")
			q.warnedEvicted[m.Kind()] = n
		}
	}
}

// loadAll reads every client and user entity config (DynamicConfigManager's start-up pass
// over /config/clients, /config/users and /config/users/*/clients).
func (q *quotaManagers) loadAll() {
	zk := q.b.zk
	clients, err := zk.EntityNames("clients")
	if err != nil {
		q.b.log.Error().Err(err).Msg("listing /config/clients; client quotas follow the next change notification")
	}
	for _, c := range clients {
		q.refresh("clients/" + c)
	}
	users, err := zk.EntityNames("users")
	if err != nil {
		q.b.log.Error().Err(err).Msg("listing /config/users; user quotas follow the next change notification")
	}
	for _, u := range users {
		q.refresh("users/" + u)
		kids, err := zk.EntityNames("users/" + u + "/clients")
		if err != nil {
			q.b.log.Error().Err(err).Str("user", u).Msg("listing a user's client quotas")
			continue
		}
		for _, c := range kids {
			q.refresh("users/" + u + "/clients/" + c)
		}
	}
}

// refresh re-reads one entity config named by its notification path ("clients/<c>",
// "users/<u>", "users/<u>/clients/<c>") and applies its quotas; other paths are not quotas'.
func (q *quotaManagers) refresh(entityPath string) {
	e, ok := quota.ParseEntityPath(entityPath)
	if !ok {
		return
	}
	typ, name, _ := strings.Cut(entityPath, "/")
	cfg, err := q.b.zk.EntityConfig(typ, name)
	if err != nil {
		q.b.log.Error().Err(err).Str("entity", entityPath).Msg("reading quota config; keeping the quotas in force")
		return
	}
	q.apply(e, cfg)
}

// apply sets e's three quotas from its config (ClientIdConfigHandler.updateQuotaConfig): a
// key that is absent removes that quota. A value that is not a positive number (written by
// some other tool) is logged and removes it too.
func (q *quotaManagers) apply(e quota.Entity, cfg map[string]string) {
	q.mu.Lock()
	defer q.mu.Unlock()
	for _, m := range q.all() {
		key := m.Kind().ConfigKey()
		s, ok := cfg[key]
		v, err := strconv.ParseFloat(strings.TrimSpace(s), 64)
		if ok && (err != nil || !validQuotaValue(v)) {
			q.b.log.Warn().Str("entity", e.String()).Str("config", key).Str("value", s).
				Msg("ignoring a quota that is not a positive number")
			ok = false
		}
		old, had := m.Quota(e)
		m.Update(e, v, ok)
		if ok != had || (ok && old != v) {
			ev := q.b.log.Info().Str("quota", m.Kind().String()).Str("entity", e.String())
			if ok {
				ev.Float64("bound", v).Msg("quota set")
			} else {
				ev.Msg("quota removed")
			}
		}
	}
}

// validQuotaValue: a quota must be a positive, finite number; 0 would throttle forever.
func validQuotaValue(v float64) bool { return v > 0 && !math.IsInf(v, 0) && !math.IsNaN(v) }

// quotaUser is the user a connection's quotas are kept under: the principal's name without
// its type ("ANONYMOUS" for User:ANONYMOUS), as Kafka's KafkaPrincipal.getName.
func quotaUser(req *wire.Request) string {
	p := wire.AnonymousPrincipal
	if req.Conn != nil {
		p = req.Conn.Principal()
	}
	if _, name, ok := strings.Cut(p, ":"); ok {
		return name
	}
	return p
}

func quotaClientID(req *wire.Request) string {
	if req.ClientID == nil {
		return ""
	}
	return *req.ClientID
}

// requestQuota is one request's quota bookkeeping, carried in its context from Handle to
// the handler and back. The handler's goroutine owns it; nil-safe.
type requestQuota struct {
	start  time.Time
	waited time.Duration // in purgatory (acks=all, a long poll): not handler time
	exempt bool          // a follower's fetch: no request-time quota

	bandwidth     int64 // the byte-rate throttle the handler decided
	bandwidthKind quota.Kind
	timeRecorded  bool  // the handler already recorded its request time (Fetch) or must not (acks=0)
	timeThrottle  int64 // the request-time throttle, if the handler recorded it
}

type requestQuotaKey struct{}

func quotaOf(ctx context.Context) *requestQuota {
	rq, _ := ctx.Value(requestQuotaKey{}).(*requestQuota)
	return rq
}

// wait notes time spent waiting for others (replication, new data).
func (rq *requestQuota) wait(d time.Duration) {
	if rq != nil {
		rq.waited += d
	}
}

// handlerTime is the time spent handling so far, waits excluded.
func (rq *requestQuota) handlerTime(now time.Time) time.Duration {
	return max(now.Sub(rq.start)-rq.waited, 0)
}

// exemptFromRequestQuota: the controller's requests and inter-broker ones are not a client's
// (Kafka authorizes them as CLUSTER_ACTION and sends them with sendResponseExemptThrottle).
func exemptFromRequestQuota(key int16) bool {
	switch key {
	case 4, 5, 6, 7, 27: // LeaderAndIsr, StopReplica, UpdateMetadata, ControlledShutdown, WriteTxnMarkers
		return true
	}
	return false
}

// recordRequestTime records rq's handler time so far against request_percentage and returns
// the throttle (ClientRequestQuotaManager.maybeRecordAndGetThrottleTimeMs). A handler that
// must decide before answering (Fetch) calls it; Handle does for everyone else.
func (q *quotaManagers) recordRequestTime(req *wire.Request, rq *requestQuota, now time.Time) int64 {
	if rq == nil || rq.timeRecorded {
		return 0
	}
	rq.timeRecorded = true
	if rq.exempt || exemptFromRequestQuota(req.Key) || !q.request.Enabled() {
		return 0
	}
	// Kafka's nanosToPercentage: handler seconds as a percentage of one thread-second.
	pct := rq.handlerTime(now).Seconds() * 100
	rq.timeThrottle = q.request.Record(quotaUser(req), quotaClientID(req), pct, now.UnixMilli())
	return rq.timeThrottle
}

// finish applies a request's quotas once its handler answered (Kafka's
// sendResponseMaybeThrottle and requestHelper.throttle): the larger of its byte-rate and
// request-time throttles goes into the response's throttle_time_ms, into the throttle-time
// metric of the quota that decided it, and mutes the connection for that long. resp may be
// nil (Produce with acks=0: no answer, but still muted).
func (q *quotaManagers) finish(req *wire.Request, resp kmsg.Response, rq *requestQuota) {
	if rq == nil {
		return
	}
	now := time.Now()
	timeThrottle := rq.timeThrottle
	if !rq.timeRecorded {
		timeThrottle = q.recordRequestTime(req, rq, now)
	}
	ms := max(rq.bandwidth, timeThrottle)
	if ms <= 0 {
		return
	}
	ms = min(ms, math.MaxInt32)
	by := q.request
	if rq.bandwidth > timeThrottle {
		by = q.manager(rq.bandwidthKind)
	}
	by.RecordThrottle(quotaUser(req), quotaClientID(req), ms, now.UnixMilli())
	if t, ok := resp.(kmsg.SetThrottleResponse); ok {
		t.SetThrottle(int32(ms))
	}
	req.Throttle(time.Duration(ms) * time.Millisecond)
}

// enabled reports whether any client quota was ever set on this broker; until then Handle
// keeps no quota bookkeeping at all.
func (q *quotaManagers) enabled() bool {
	return q != nil && (q.produce.Enabled() || q.fetch.Enabled() || q.request.Enabled())
}
