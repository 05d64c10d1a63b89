package ui

import (
	"context"
	"embed"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"net"
	"net/http"
	"strings"
	"sync"
	"time"

	"github.com/rs/zerolog"

	"github.com/klassik/klassik/classroom/event"
)

//go:embed static
var static embed.FS

// Config is what `klassik ui` is given.
type Config struct {
	ZooKeeper string   // zookeeper.connect, with its chroot
	Bootstrap []string // bootstrap servers for the Kafka protocol
	Listen    string   // host:port of the page
	Log       zerolog.Logger
	Scenarios Scenarios // nil: no scenario buttons
}

// Server is the classroom.
type Server struct {
	cfg       Config
	ctx       context.Context
	zk        *watcher
	tl        *timeline
	replicas  *replicaPoller
	groups    *groupPoller
	scenarios *scenarioRunner

	changed chan struct{} // coalesced: something in the picture changed

	pmu     sync.Mutex
	latest  []byte                 // the newest /api/cluster document
	pushTo  map[chan struct{}]bool // live pages waiting for a newer document
	version uint64
}

// New connects to ZooKeeper (without waiting for a session: the page shows ZooKeeper as
// reconnecting until it has one).
func New(cfg Config) (*Server, error) {
	s := &Server{cfg: cfg, tl: newTimeline(), changed: make(chan struct{}, 1), pushTo: map[chan struct{}]bool{}}
	zw, err := newWatcher(cfg.ZooKeeper, cfg.Log, s.tl.bus, s.change)
	if err != nil {
		return nil, err
	}
	s.zk = zw
	s.replicas = newReplicaPoller(s.httpTargets, s.change)
	s.groups = newGroupPoller(cfg.Bootstrap, s.brokerEndpoints, s.tl.generation, s.change)
	s.scenarios = &scenarioRunner{sc: cfg.Scenarios, publish: s.tl.publish, results: map[string]ScenarioResult{}}
	return s, nil
}

func (s *Server) change() {
	select {
	case s.changed <- struct{}{}:
	default:
	}
}

// httpTargets are the HTTP listeners of the live brokers.
func (s *Server) httpTargets() map[int32]string {
	s.zk.mu.Lock()
	defer s.zk.mu.Unlock()
	out := map[int32]string{}
	for id, b := range s.zk.view.brokers {
		if b.alive && b.httpURL != "" {
			out[id] = b.httpURL
		}
	}
	return out
}

// brokerEndpoints are the host:port of every broker registration seen.
func (s *Server) brokerEndpoints() []string {
	s.zk.mu.Lock()
	defer s.zk.mu.Unlock()
	var out []string
	for _, b := range s.zk.view.brokers {
		for _, e := range b.info.Endpoints {
			out = append(out, joinHostPort(e.Host, e.Port))
		}
	}
	return out
}

// Handler is the classroom's routes.
func (s *Server) Handler() http.Handler {
	mux := http.NewServeMux()
	page, _ := fs.Sub(static, "static")
	mux.Handle("GET /", http.FileServer(http.FS(page)))
	mux.HandleFunc("GET /api/cluster", func(w http.ResponseWriter, r *http.Request) { writeJSON(w, s.snapshot()) })
	mux.HandleFunc("GET /api/cluster/stream", s.serveClusterStream)
	mux.Handle("GET /api/events", event.Handler(s.tl.bus))
	mux.HandleFunc("GET /api/zk", s.serveZNode)
	mux.HandleFunc("GET /api/scenarios", s.serveScenarios)
	mux.HandleFunc("POST /api/scenarios/{name}/run", s.serveRun)
	mux.HandleFunc("GET /healthz", s.serveHealth)
	return mux
}

// Run serves the classroom until ctx is done.
func (s *Server) Run(ctx context.Context) error {
	s.ctx = ctx
	ln, err := net.Listen("tcp", s.cfg.Listen)
	if err != nil {
		return err
	}
	go s.zk.run(ctx)
	go s.replicas.run(ctx)
	go s.groups.run(ctx)
	go s.pushLoop(ctx)
	srv := &http.Server{Handler: s.Handler(), ReadHeaderTimeout: 5 * time.Second}
	go func() {
		<-ctx.Done()
		sctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
		defer cancel()
		_ = srv.Shutdown(sctx)
	}()
	s.cfg.Log.Info().Str("listen", ln.Addr().String()).Msg("classroom serving")
	if err := srv.Serve(ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
		return err
	}
	return nil
}

// pushLoop rebuilds the cluster document after each change, follows the event streams of
// the brokers it names, and wakes every live page when the document differs.
func (s *Server) pushLoop(ctx context.Context) {
	for {
		select {
		case <-ctx.Done():
			return
		case <-s.changed:
		}
		for id, base := range s.httpTargets() {
			s.tl.follow(ctx, id, base)
		}
		doc, _ := json.Marshal(s.snapshot())
		s.pmu.Lock()
		if string(doc) != string(s.latest) {
			s.latest = doc
			s.version++
			for ch := range s.pushTo {
				select {
				case ch <- struct{}{}:
				default:
				}
			}
		}
		s.pmu.Unlock()
	}
}

// serveClusterStream is GET /api/cluster/stream: the /api/cluster document now and after
// every change, as Server-Sent Events (event "cluster"). A slow page skips to the newest.
func (s *Server) serveClusterStream(w http.ResponseWriter, r *http.Request) {
	flusher, ok := w.(http.Flusher)
	if !ok {
		http.Error(w, "streaming unsupported", http.StatusInternalServerError)
		return
	}
	ch := make(chan struct{}, 1)
	s.pmu.Lock()
	s.pushTo[ch] = true
	s.pmu.Unlock()
	defer func() {
		s.pmu.Lock()
		delete(s.pushTo, ch)
		s.pmu.Unlock()
	}()
	w.Header().Set("Content-Type", "text/event-stream")
	w.Header().Set("Cache-Control", "no-cache")
	w.WriteHeader(http.StatusOK)
	send := func(doc []byte) bool {
		_, err := w.Write([]byte("event: cluster\ndata: " + strings.ReplaceAll(string(doc), "\n", "") + "\n\n"))
		flusher.Flush()
		return err == nil
	}
	doc, _ := json.Marshal(s.snapshot())
	if !send(doc) {
		return
	}
	tick := time.NewTicker(15 * time.Second)
	defer tick.Stop()
	for {
		select {
		case <-r.Context().Done():
			return
		case <-tick.C:
			if _, err := w.Write([]byte(": keep-alive\n\n")); err != nil {
				return
			}
			flusher.Flush()
		case <-ch:
			s.pmu.Lock()
			doc := s.latest
			s.pmu.Unlock()
			if !send(doc) {
				return
			}
		}
	}
}

// serveHealth is GET /healthz, for container health checks: 200 while the classroom has a
// ZooKeeper session (the page is then current), 503 while it is reconnecting. The brokers do
// not count: the classroom is meant to keep working while they die.
func (s *Server) serveHealth(w http.ResponseWriter, r *http.Request) {
	s.zk.mu.Lock()
	connected := s.zk.view.connected
	s.zk.mu.Unlock()
	w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	if !connected {
		w.WriteHeader(http.StatusServiceUnavailable)
		fmt.Fprintln(w, "reconnecting to ZooKeeper")
		return
	}
	fmt.Fprintln(w, "ok: ZooKeeper session open")
}

func writeJSON(w http.ResponseWriter, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Cache-Control", "no-cache")
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	_ = enc.Encode(v)
}
