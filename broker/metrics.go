package broker

import (
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/pprof"
	"sort"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/twmb/franz-go/pkg/kmsg"
)

// metrics are the broker's counters, exposed in Prometheus' text format on metrics.listener
// under the names the Prometheus JMX exporter gives Kafka's own MBeans, so dashboards made for
// Kafka read them (kafka.server:type=BrokerTopicMetrics,name=MessagesInPerSec becomes
// kafka_server_brokertopicmetrics_messagesin_total).
type metrics struct {
	messagesIn atomic.Int64
	bytesIn    atomic.Int64
	bytesOut   atomic.Int64
	isrShrinks atomic.Int64
	isrExpands atomic.Int64

	mu       sync.Mutex
	requests map[int16]*latency
}

// latency is a request-time histogram for one API (Kafka's RequestMetrics TotalTimeMs).
type latency struct {
	count   int64
	sumMs   float64
	buckets []int64 // cumulative counts per latencyBounds entry
}

var latencyBounds = []float64{1, 5, 10, 50, 100, 500, 1000, 5000, 30000}

func newMetrics() *metrics { return &metrics{requests: map[int16]*latency{}} }

func (m *metrics) observe(key int16, d time.Duration) {
	ms := float64(d) / float64(time.Millisecond)
	m.mu.Lock()
	defer m.mu.Unlock()
	l := m.requests[key]
	if l == nil {
		l = &latency{buckets: make([]int64, len(latencyBounds))}
		m.requests[key] = l
	}
	l.count++
	l.sumMs += ms
	for i, b := range latencyBounds {
		if ms <= b {
			l.buckets[i]++
		}
	}
}

// writeMetrics renders every metric.
func (b *Broker) writeMetrics(w io.Writer) {
	m := b.metrics
	counter := func(name, help string, v int64) {
		fmt.Fprintf(w, "# HELP %s %s\n# TYPE %s counter\n%s %d\n", name, help, name, name, v)
	}
	gauge := func(name, help string, v int64) {
		fmt.Fprintf(w, "# HELP %s %s\n# TYPE %s gauge\n%s %d\n", name, help, name, name, v)
	}
	counter("kafka_server_brokertopicmetrics_messagesin_total", "Records appended as leader.", m.messagesIn.Load())
	counter("kafka_server_brokertopicmetrics_bytesin_total", "Record bytes received from producers.", m.bytesIn.Load())
	counter("kafka_server_brokertopicmetrics_bytesout_total", "Record bytes sent to consumers and followers.", m.bytesOut.Load())
	counter("kafka_server_replicamanager_isrshrinks_total", "ISR shrinks of partitions this broker leads.", m.isrShrinks.Load())
	counter("kafka_server_replicamanager_isrexpands_total", "ISR expansions of partitions this broker leads.", m.isrExpands.Load())
	if b.groups != nil {
		counter("kafka_coordinator_group_corrupt_records_total", "Batches and records of __consumer_offsets the group loader could not decode and skipped.", b.groups.CorruptRecords())
	}

	var leaders, underReplicated int64
	for _, p := range b.rm.all() {
		v := p.view()
		if v.isLeader {
			leaders++
			if len(v.isr) < len(v.replicas) {
				underReplicated++
			}
		}
	}
	gauge("kafka_server_replicamanager_leadercount", "Partitions this broker leads.", leaders)
	sessions, sessionParts := b.fetchSessions.stats()
	gauge("kafka_server_fetchsessioncache_numincrementalfetchsessions", "Fetch sessions (KIP-227) this broker keeps.", int64(sessions))
	gauge("kafka_server_fetchsessioncache_numincrementalfetchpartitionscached", "Partitions held by those sessions.", int64(sessionParts))
	gauge("kafka_server_replicamanager_partitioncount", "Partitions this broker hosts.", int64(len(b.rm.all())))
	gauge("kafka_server_replicamanager_underreplicatedpartitions", "Led partitions whose ISR is smaller than the replica set.", underReplicated)

	var active, offline int64
	if b.ctrl != nil && b.ctrl.IsActive() {
		active = 1
		snap := b.meta.get()
		for _, t := range snap.topics {
			for _, st := range t.partitions {
				if _, alive := snap.brokers[st.Leader]; st.Leader < 0 || !alive {
					offline++
				}
			}
		}
	}
	gauge("kafka_controller_kafkacontroller_activecontrollercount", "1 on the active controller.", active)
	gauge("kafka_controller_kafkacontroller_offlinepartitionscount", "Partitions without a live leader (reported by the active controller).", offline)

	b.writeQuotaMetrics(w)
	b.writeAuthMetrics(w)

	m.mu.Lock()
	defer m.mu.Unlock()
	keys := make([]int, 0, len(m.requests))
	for k := range m.requests {
		keys = append(keys, int(k))
	}
	sort.Ints(keys)
	const hist = "kafka_network_requestmetrics_totaltimems"
	fmt.Fprintf(w, "# HELP %s Time to serve a request, by API.\n# TYPE %s histogram\n", hist, hist)
	for _, k := range keys {
		l := m.requests[int16(k)]
		name := kmsg.NameForKey(int16(k))
		for i, bound := range latencyBounds {
			fmt.Fprintf(w, "%s_bucket{request=%q,le=\"%g\"} %d\n", hist, name, bound, l.buckets[i])
		}
		fmt.Fprintf(w, "%s_bucket{request=%q,le=\"+Inf\"} %d\n", hist, name, l.count)
		fmt.Fprintf(w, "%s_sum{request=%q} %g\n%s_count{request=%q} %d\n", hist, name, l.sumMs, hist, name, l.count)
	}
}

// writeQuotaMetrics renders the client quota sensors under Kafka's names: MBean
// kafka.server:type=Produce|Fetch|Request,user=<u>,client-id=<c> with byte-rate (request-time
// for Request, in percent of a thread) and throttle-time (the mean throttle in ms over the
// sampled window; NaN without one, as Kafka's Avg), as the JMX exporter names them:
// kafka_server_produce_byte_rate{user="",client_id="slow"}.
func (b *Broker) writeQuotaMetrics(w io.Writer) {
	if b.quotas == nil {
		return
	}
	now := time.Now().UnixMilli()
	for _, qm := range b.quotas.all() {
		stats, evicted := qm.Stats(now)
		typ := strings.ToLower(qm.Kind().String())
		rateName := "kafka_server_" + typ + "_" + strings.ReplaceAll(qm.Kind().RateMetric(), "-", "_")
		throttleName := "kafka_server_" + typ + "_throttle_time"
		fmt.Fprintf(w, "# HELP %s Tracking %s per user/client-id.\n# TYPE %s gauge\n", rateName, qm.Kind().RateMetric(), rateName)
		for _, st := range stats {
			fmt.Fprintf(w, "%s{user=%q,client_id=%q} %g\n", rateName, st.User, st.ClientID, st.Rate)
		}
		fmt.Fprintf(w, "# HELP %s Tracking average throttle-time per user/client-id.\n# TYPE %s gauge\n", throttleName, throttleName)
		for _, st := range stats {
			v := "NaN"
			if st.HasThrottle {
				v = strconv.FormatFloat(st.Throttle, 'g', -1, 64)
			}
			fmt.Fprintf(w, "%s{user=%q,client_id=%q} %s\n", throttleName, st.User, st.ClientID, v)
		}
		name := "klassik_quota_" + typ + "_sensors_evicted_total"
		fmt.Fprintf(w, "# HELP %s Sensors of active clients dropped to stay within klassik.quota.max.tracked.entities.\n# TYPE %s counter\n%s %d\n", name, name, name, evicted)
	}
}

// startMetricsListener serves /metrics and /healthz on metrics.listener, if set.
func (b *Broker) startMetricsListener() error {
	if b.cfg.MetricsListener == "" {
		return nil
	}
	ln, err := net.Listen("tcp", b.cfg.MetricsListener)
	if err != nil {
		return fmt.Errorf("metrics.listener %s: %w", b.cfg.MetricsListener, err)
	}
	mux := http.NewServeMux()
	mux.HandleFunc("/metrics", func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", "text/plain; version=0.0.4")
		b.writeMetrics(w)
	})
	mux.HandleFunc("/healthz", func(w http.ResponseWriter, _ *http.Request) {
		if b.zk == nil || b.zk.SessionID() == 0 {
			http.Error(w, "no ZooKeeper session", http.StatusServiceUnavailable)
			return
		}
		if _, ok := b.meta.get().brokers[b.cfg.BrokerID]; !ok {
			http.Error(w, "not yet in the controller's metadata", http.StatusServiceUnavailable)
			return
		}
		fmt.Fprintln(w, "ok")
	})
	// Go's profiler, for looking inside a running broker (go tool pprof host:port/debug/pprof/profile).
	mux.HandleFunc("/debug/pprof/", pprof.Index)
	mux.HandleFunc("/debug/pprof/profile", pprof.Profile)
	mux.HandleFunc("/debug/pprof/trace", pprof.Trace)
	b.classroomRoutes(mux)
	b.httpPort = int32(ln.Addr().(*net.TCPAddr).Port)
	srv := &http.Server{Handler: mux, ReadHeaderTimeout: 5 * time.Second}
	b.httpServer = srv
	b.goRun(func() { _ = srv.Serve(ln) })
	b.log.Info().Str("addr", ln.Addr().String()).Msg("metrics listening")
	return nil
}

// writeAuthMetrics renders each listener's authentication counts under the names the JMX
// exporter gives Kafka's socket-server-metrics (successful-authentication-total,
// failed-authentication-total, per listener): a TLS client certificate or a SASL exchange that
// succeeded, and a TLS handshake, SASL exchange or SASL frame that failed.
func (b *Broker) writeAuthMetrics(w io.Writer) {
	for _, kind := range []string{"successful", "failed"} {
		name := "kafka_server_socket_server_metrics_" + kind + "_authentication_total"
		fmt.Fprintf(w, "# HELP %s Connections that %s authentication, by listener.\n# TYPE %s counter\n", name,
			map[string]string{"successful": "passed", "failed": "failed"}[kind], name)
		for _, s := range b.servers {
			ok, failed := s.AuthStats()
			n := ok
			if kind == "failed" {
				n = failed
			}
			fmt.Fprintf(w, "%s{listener=%q} %d\n", name, s.ListenerName(), n)
		}
	}
}
