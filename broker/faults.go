package broker

// Fault injection for the classroom, on metrics.listener, only with klassik.faults.enable.
// Every fault is real and announced as a `fault` event before it acts:
//
//	POST /klassik/faults/kill            SIGKILL this process (as `kill -9`): no controlled
//	                                     shutdown; the controller notices when the ZooKeeper
//	                                     session expires (as PID 1 of a container, which
//	                                     cannot be sent SIGKILL from inside: exit 137 at once)
//	POST /klassik/faults/shutdown        SIGTERM this process: controlled shutdown, exit 0
//	POST /klassik/faults/expire-session  cut this broker off from ZooKeeper until its session
//	                                     expires (a network partition from the ensemble)
//	POST /klassik/faults/pause-fetch?topic=T&partition=P&duration_ms=N
//	                                     this broker's replica fetcher stops fetching that
//	                                     partition (every partition without topic) for N ms
//	POST /klassik/faults/resume-fetch    end every pause
//	POST /klassik/faults/delay-controller-requests?delay_ms=N&duration_ms=M
//	                                     for M ms, this broker applies each request from the
//	                                     controller (LeaderAndIsr, UpdateMetadata, StopReplica)
//	                                     N ms late: its metadata falls behind, as on a broker
//	                                     with a stalled disk or a long pause; delay_ms=0 ends it

import (
	"context"
	"fmt"
	"net/http"
	"os"
	"strconv"
	"sync"
	"syscall"
	"time"

	"github.com/klassik/klassik/classroom/event"
)

// maxPause bounds a fetch pause, so a forgotten fault heals itself.
const maxPause = 10 * time.Minute

func (b *Broker) faultRoutes(mux *http.ServeMux) {
	fault := func(name string, act func(w http.ResponseWriter, r *http.Request)) {
		mux.HandleFunc("POST /klassik/faults/"+name, func(w http.ResponseWriter, r *http.Request) {
			if !b.cfg.FaultsEnable {
				http.Error(w, fmt.Sprintf("fault injection is off on broker %d: set klassik.faults.enable = true", b.cfg.BrokerID),
					http.StatusForbidden)
				return
			}
			act(w, r)
		})
	}
	fault("kill", func(w http.ResponseWriter, _ *http.Request) {
		b.publishFault("kill", fmt.Sprintf("Fault: broker %d is killed with SIGKILL (kill -9): no controlled shutdown, its ZooKeeper session lives until it times out", b.cfg.BrokerID))
		accepted(w, "killing broker %d\n", b.cfg.BrokerID)
		go func() {
			time.Sleep(100 * time.Millisecond) // let the response and the event stream flush
			if os.Getpid() == 1 {
				// The first process of a PID namespace (the broker in its container) is sent
				// no signal it has no handler for, SIGKILL included, by processes inside the
				// namespace: the kernel drops it. Exit as abruptly instead: no deferred work,
				// no controlled shutdown, no ZooKeeper session close; the status is a
				// SIGKILL's (128+9), so a restart policy sees a failure.
				os.Exit(137)
			}
			_ = syscall.Kill(os.Getpid(), syscall.SIGKILL)
		}()
	})
	fault("shutdown", func(w http.ResponseWriter, _ *http.Request) {
		b.publishFault("shutdown", fmt.Sprintf("Fault: broker %d is stopped with SIGTERM: controlled shutdown, then exit", b.cfg.BrokerID))
		accepted(w, "stopping broker %d\n", b.cfg.BrokerID)
		go func() {
			time.Sleep(100 * time.Millisecond)
			_ = syscall.Kill(os.Getpid(), syscall.SIGTERM)
		}()
	})
	fault("expire-session", func(w http.ResponseWriter, _ *http.Request) {
		// ZooKeeper expires a session it has not heard from for its timeout, checked on tick
		// boundaries: stay away a little longer than that, then reconnect and be told.
		d := max(b.zk.SessionTimeout(), 4*time.Second) + 4*time.Second
		b.publishFault("expire-session", fmt.Sprintf("Fault: broker %d is cut off from ZooKeeper for %d ms, longer than zookeeper.session.timeout.ms=%d: session 0x%x will expire",
			b.cfg.BrokerID, d.Milliseconds(), b.cfg.ZookeeperSessionTimeoutMs, b.zk.SessionID()))
		b.zk.CutOff(d)
		accepted(w, "broker %d cut off from ZooKeeper for %d ms\n", b.cfg.BrokerID, d.Milliseconds())
	})
	fault("pause-fetch", func(w http.ResponseWriter, r *http.Request) {
		q := r.URL.Query()
		ms, err := strconv.ParseInt(q.Get("duration_ms"), 10, 64)
		if err != nil || ms <= 0 {
			http.Error(w, "duration_ms: want a positive number of milliseconds", http.StatusBadRequest)
			return
		}
		d := min(time.Duration(ms)*time.Millisecond, maxPause)
		topic := q.Get("topic")
		what := "every partition"
		var part int32 = -1
		if topic != "" {
			p, err := strconv.ParseInt(q.Get("partition"), 10, 32)
			if err != nil || p < 0 {
				http.Error(w, "partition: want a partition number with topic", http.StatusBadRequest)
				return
			}
			part = int32(p)
			what = fmt.Sprintf("%s-%d", topic, part)
		}
		b.publishFault("pause-fetch", fmt.Sprintf("Fault: broker %d's replica fetcher stops fetching %s for %d ms", b.cfg.BrokerID, what, d.Milliseconds()))
		b.fetchers.pause(topic, part, time.Now().Add(d))
		accepted(w, "broker %d paused fetching %s for %d ms\n", b.cfg.BrokerID, what, d.Milliseconds())
	})
	fault("delay-controller-requests", func(w http.ResponseWriter, r *http.Request) {
		q := r.URL.Query()
		delay, err1 := strconv.ParseInt(q.Get("delay_ms"), 10, 64)
		dur, err2 := strconv.ParseInt(q.Get("duration_ms"), 10, 64)
		if err1 != nil || delay < 0 || err2 != nil || dur <= 0 {
			http.Error(w, "want delay_ms >= 0 and duration_ms > 0", http.StatusBadRequest)
			return
		}
		d, span := min(time.Duration(delay)*time.Millisecond, maxPause), min(time.Duration(dur)*time.Millisecond, maxPause)
		if d == 0 {
			b.publishFault("delay-controller-requests", fmt.Sprintf("Fault ends: broker %d applies the controller's requests at once again", b.cfg.BrokerID))
		} else {
			b.publishFault("delay-controller-requests", fmt.Sprintf("Fault: for %d ms broker %d applies each request from the controller (LeaderAndIsr, UpdateMetadata, StopReplica) %d ms late: its metadata falls behind the controller's",
				span.Milliseconds(), b.cfg.BrokerID, d.Milliseconds()))
		}
		b.ctrlDelay.Store(&controllerDelay{delay: d, until: time.Now().Add(span)})
		accepted(w, "broker %d delays controller requests by %d ms for %d ms\n", b.cfg.BrokerID, d.Milliseconds(), span.Milliseconds())
	})
	fault("resume-fetch", func(w http.ResponseWriter, _ *http.Request) {
		b.publishFault("resume-fetch", fmt.Sprintf("Fault ends: broker %d's replica fetcher fetches every partition again", b.cfg.BrokerID))
		b.fetchers.resume()
		accepted(w, "broker %d fetching again\n", b.cfg.BrokerID)
	})
}

func accepted(w http.ResponseWriter, format string, args ...any) {
	w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	w.WriteHeader(http.StatusAccepted)
	fmt.Fprintf(w, format, args...)
	if f, ok := w.(http.Flusher); ok {
		f.Flush()
	}
}

func (b *Broker) publishFault(name, text string) {
	b.log.Warn().Str("fault", name).Msg(text)
	b.bus.Publish(event.Event{Kind: event.Fault, Text: text, Cause: name, Broker: event.Int32(b.cfg.BrokerID)})
}

// fetchPauses are the partitions whose fetching is paused on purpose, and until when. Its own
// lock, taken inside a fetcher's: it never takes another.
type fetchPauses struct {
	mu    sync.Mutex
	all   time.Time
	parts map[topicPartition]time.Time
}

func (m *fetcherManager) pause(topic string, partition int32, until time.Time) {
	m.pauses.mu.Lock()
	defer m.pauses.mu.Unlock()
	if topic == "" {
		m.pauses.all = until
		return
	}
	if m.pauses.parts == nil {
		m.pauses.parts = map[topicPartition]time.Time{}
	}
	m.pauses.parts[topicPartition{topic, partition}] = until
}

func (m *fetcherManager) resume() {
	m.pauses.mu.Lock()
	m.pauses.all, m.pauses.parts = time.Time{}, nil
	m.pauses.mu.Unlock()
	m.mu.Lock()
	defer m.mu.Unlock()
	for _, f := range m.fetchers {
		select {
		case f.wake <- struct{}{}:
		default:
		}
	}
}

// paused reports whether fetching tp is paused now.
func (m *fetcherManager) paused(tp topicPartition) bool {
	now := time.Now()
	m.pauses.mu.Lock()
	defer m.pauses.mu.Unlock()
	if now.Before(m.pauses.all) {
		return true
	}
	until, ok := m.pauses.parts[tp]
	if ok && !now.Before(until) {
		delete(m.pauses.parts, tp)
		return false
	}
	return ok
}

// controllerDelay is the delay-controller-requests fault: until when, and by how much.
type controllerDelay struct {
	delay time.Duration
	until time.Time
}

// delayControllerRequest holds a request from the controller while the fault lasts.
func (b *Broker) delayControllerRequest(ctx context.Context) {
	f := b.ctrlDelay.Load()
	if f == nil || f.delay == 0 || !time.Now().Before(f.until) {
		return
	}
	t := time.NewTimer(f.delay)
	defer t.Stop()
	select {
	case <-t.C:
	case <-ctx.Done():
	}
}
