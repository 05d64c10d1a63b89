package quota

import (
	"container/list"
	"math"
	"sort"
	"sync"
	"sync/atomic"
)

// Kind is a quota type (Kafka's QuotaType for client quotas); its String is the metric type
// (kafka.server:type=Produce).
type Kind int

const (
	Produce Kind = iota // producer_byte_rate: request bytes of Produce
	Fetch               // consumer_byte_rate: response bytes of consumer Fetch
	Request             // request_percentage: handler time, as a percentage of one thread
)

func (k Kind) String() string {
	switch k {
	case Produce:
		return "Produce"
	case Fetch:
		return "Fetch"
	}
	return "Request"
}

// ConfigKey is the entity config that sets this kind's quota.
func (k Kind) ConfigKey() string {
	switch k {
	case Produce:
		return "producer_byte_rate"
	case Fetch:
		return "consumer_byte_rate"
	}
	return "request_percentage"
}

// RateMetric is the name of the measured rate's metric: byte-rate, or request-time.
func (k Kind) RateMetric() string {
	if k == Request {
		return "request-time"
	}
	return "byte-rate"
}

// InactiveSensorExpirationMs is how long a sensor nobody records into is kept (Kafka's
// ClientQuotaManagerConfig.InactiveSensorExpirationTimeSeconds, an hour).
const InactiveSensorExpirationMs = 3600 * 1000

// Which levels of quota have been set (Kafka's QuotaTypes); they decide the metric tags.
const (
	clientIDQuotaEnabled     = 1
	userQuotaEnabled         = 2
	userClientIDQuotaEnabled = 4
)

// tags are a sensor's metric tags, Kafka's user and client-id ("" for none).
type tags struct{ user, clientID string }

// sensor measures one set of tags: its rate and its throttle times (Kafka's ClientSensors).
type sensor struct {
	tags     tags
	measured rate
	throttle avg
	lastMs   int64         // the last record, for expiry
	elem     *list.Element // in Manager.lru
}

// Manager is one quota type's ClientQuotaManager with Kafka's DefaultQuotaCallback: the
// quotas set per entity and the sensors measuring clients against them. Safe for concurrent
// use.
type Manager struct {
	kind       Kind
	cfg        Config
	maxSensors int
	on         atomic.Bool // enabled != 0, read without the lock on every request

	mu        sync.Mutex // guards the fields below
	enabled   int        // clientIDQuotaEnabled | userQuotaEnabled | userClientIDQuotaEnabled
	overrides map[Entity]float64
	sensors   map[tags]*sensor
	lru       list.List // of *sensor, most recently recorded first
	evicted   int64     // sensors dropped to stay within maxSensors
}

// NewManager makes a manager for kind sampling with cfg and tracking at most maxSensors
// sets of tags (klassik.quota.max.tracked.entities; at least 1).
func NewManager(kind Kind, cfg Config, maxSensors int) *Manager {
	return &Manager{
		kind:       kind,
		cfg:        cfg.valid(),
		maxSensors: max(maxSensors, 1),
		overrides:  map[Entity]float64{},
		sensors:    map[tags]*sensor{},
	}
}

// Kind is the manager's quota type.
func (m *Manager) Kind() Kind { return m.kind }

// Enabled reports whether any quota of this type was ever set (until a restart, as Kafka's
// quotasEnabled): without one nothing is measured.
func (m *Manager) Enabled() bool { return m.on.Load() }

// Update sets (ok) or removes the quota of e (ClientQuotaManager.updateQuota). Either way
// e's level counts as enabled from now on, as in Kafka: an entity config that exists but
// sets no value of this type still makes its level measured.
func (m *Manager) Update(e Entity, bound float64, ok bool) {
	m.mu.Lock()
	defer m.mu.Unlock()
	switch {
	case e.User.Set && e.ClientID.Set:
		m.enabled |= userClientIDQuotaEnabled
	case e.User.Set:
		m.enabled |= userQuotaEnabled
	case e.ClientID.Set:
		m.enabled |= clientIDQuotaEnabled
	default:
		return
	}
	m.on.Store(true)
	if ok {
		m.overrides[e] = bound
	} else {
		delete(m.overrides, e)
	}
}

// Quota is the quota set on e itself, if any.
func (m *Manager) Quota(e Entity) (float64, bool) {
	m.mu.Lock()
	defer m.mu.Unlock()
	v, ok := m.overrides[e]
	return v, ok
}

// metricTagsLocked is DefaultQuotaCallback.quotaMetricTags: which sensor a connection of
// user and clientID records into. With one level of quotas the tags are fixed; with several,
// the most specific entity that has a quota decides.
func (m *Manager) metricTagsLocked(user, clientID string) tags {
	switch m.enabled {
	case 0, clientIDQuotaEnabled:
		return tags{"", clientID}
	case userQuotaEnabled:
		return tags{user, ""}
	case userClientIDQuotaEnabled:
		return tags{user, clientID}
	}
	has := func(u, c Name) bool { _, ok := m.overrides[Entity{User: u, ClientID: c}]; return ok }
	u, c := Named(user), Named(clientID)
	switch {
	case has(u, c), has(u, DefaultName()):
		return tags{user, clientID} // 1) /config/users/<u>/clients/<c>, 2) .../clients/<default>
	case has(u, Name{}):
		return tags{user, ""} // 3) /config/users/<u>
	case has(DefaultName(), c), has(DefaultName(), DefaultName()):
		return tags{user, clientID} // 4) /config/users/<default>/clients/<c>, 5) .../<default>
	case has(DefaultName(), Name{}):
		return tags{user, ""} // 6) /config/users/<default>
	}
	return tags{"", clientID} // 7) /config/clients/<c>, 8) /config/clients/<default>
}

// limitLocked is DefaultQuotaCallback.quotaLimit: the bound for a sensor's tags, walking
// Kafka's precedence from the most specific entity; false for no quota.
func (m *Manager) limitLocked(t tags) (float64, bool) {
	try := func(es ...Entity) (float64, bool) {
		for _, e := range es {
			if v, ok := m.overrides[e]; ok {
				return v, true
			}
		}
		return 0, false
	}
	u, c, d := Named(t.user), Named(t.clientID), DefaultName()
	switch {
	case t.user != "" && t.clientID != "":
		return try(Entity{u, c}, Entity{u, d}, Entity{d, c}, Entity{d, d})
	case t.user != "":
		return try(Entity{User: u}, Entity{User: d})
	case t.clientID != "":
		return try(Entity{ClientID: c}, Entity{ClientID: d})
	}
	return 0, false
}

// Limit is the quota that applies to a connection of user and clientID; false when none does.
func (m *Manager) Limit(user, clientID string) (float64, bool) {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.limitLocked(m.metricTagsLocked(user, clientID))
}

// MaxValueInWindow is the most that may be recorded at once without a certain throttle
// (ClientQuotaManager.getMaxValueInQuotaWindow): the quota times Samples-1 windows. Fetch
// caps its response to it. +Inf without a quota.
func (m *Manager) MaxValueInWindow(user, clientID string) float64 {
	bound, ok := m.Limit(user, clientID)
	if !ok {
		return math.Inf(1)
	}
	return bound * float64(m.cfg.Samples-1) * float64(m.cfg.WindowMs) / 1000
}

// sensorLocked finds or makes the sensor for t, expiring idle ones and dropping the one
// idle longest past maxSensors.
func (m *Manager) sensorLocked(t tags, nowMs int64) *sensor {
	if s := m.sensors[t]; s != nil {
		m.lru.MoveToFront(s.elem)
		s.lastMs = nowMs
		return s
	}
	for back := m.lru.Back(); back != nil; back = m.lru.Back() {
		old := back.Value.(*sensor)
		if nowMs-old.lastMs < InactiveSensorExpirationMs && len(m.sensors) < m.maxSensors {
			break
		}
		if nowMs-old.lastMs < InactiveSensorExpirationMs {
			m.evicted++
		}
		m.lru.Remove(back)
		delete(m.sensors, old.tags)
	}
	s := &sensor{tags: t, lastMs: nowMs}
	s.elem = m.lru.PushFront(s)
	m.sensors[t] = s
	return s
}

// maxThrottleMs bounds a throttle: one window for request time (Kafka's
// ClientRequestQuotaManager), the whole sampled span for byte rates (see the package doc).
func (m *Manager) maxThrottleMs() int64 {
	if m.kind == Request {
		return m.cfg.WindowMs
	}
	return m.cfg.spanMs()
}

// Record adds v for a connection of user and clientID at nowMs and returns how long to
// throttle it, 0 within its quota (ClientQuotaManager.maybeRecordAndGetThrottleTimeMs).
// Nothing is recorded while no quota of this type was ever set.
func (m *Manager) Record(user, clientID string, v float64, nowMs int64) int64 {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.enabled == 0 {
		return 0
	}
	t := m.metricTagsLocked(user, clientID)
	s := m.sensorLocked(t, nowMs)
	s.measured.record(m.cfg, v, nowMs)
	bound, ok := m.limitLocked(t)
	if !ok {
		return 0
	}
	observed := s.measured.measure(m.cfg, nowMs)
	if observed <= bound { // Quota.acceptable for an upper bound
		return 0
	}
	return max(BoundedThrottleTimeMs(observed, bound, s.measured.windowMs(m.cfg, nowMs), m.maxThrottleMs()), 0)
}

// Unrecord takes back v recorded at nowMs (ClientQuotaManager.unrecordQuotaSensor): a
// throttled Fetch sends no data, so its bytes must not count.
func (m *Manager) Unrecord(user, clientID string, v float64, nowMs int64) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.enabled == 0 {
		return
	}
	t := m.metricTagsLocked(user, clientID)
	m.sensorLocked(t, nowMs).measured.record(m.cfg, -v, nowMs)
}

// RecordThrottle notes that a connection was throttled for ms (the throttle-time metric).
func (m *Manager) RecordThrottle(user, clientID string, ms int64, nowMs int64) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.enabled == 0 || ms <= 0 {
		return
	}
	t := m.metricTagsLocked(user, clientID)
	m.sensorLocked(t, nowMs).throttle.record(m.cfg, float64(ms), nowMs)
}

// SensorStat is one sensor's metrics: kafka.server:type=<Kind>,user=<u>,client-id=<c> with
// byte-rate (or request-time) and throttle-time (NaN-free: HasThrottle false when no
// throttle was recorded in the window).
type SensorStat struct {
	User, ClientID string // the metric tags; User sanitized as Kafka tags it
	Rate           float64
	Throttle       float64
	HasThrottle    bool
}

// Stats lists every live sensor at nowMs, sorted by tags, and how many sensors were dropped
// so far to stay within the cap.
func (m *Manager) Stats(nowMs int64) ([]SensorStat, int64) {
	m.mu.Lock()
	defer m.mu.Unlock()
	out := make([]SensorStat, 0, len(m.sensors))
	for _, s := range m.sensors {
		st := SensorStat{User: Sanitize(s.tags.user), ClientID: s.tags.clientID, Rate: s.measured.measure(m.cfg, nowMs)}
		st.Throttle, st.HasThrottle = s.throttle.measure(m.cfg, nowMs)
		out = append(out, st)
	}
	sort.Slice(out, func(i, j int) bool {
		if out[i].User != out[j].User {
			return out[i].User < out[j].User
		}
		return out[i].ClientID < out[j].ClientID
	})
	return out, m.evicted
}

// Evicted is how many sensors were dropped so far to stay within the cap.
func (m *Manager) Evicted() int64 {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.evicted
}

// Tracked is the number of sensors held.
func (m *Manager) Tracked() int {
	m.mu.Lock()
	defer m.mu.Unlock()
	return len(m.sensors)
}
