package connect

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/rs/zerolog"
)

// The REST API's entities, with Kafka's JSON field names (runtime/rest/entities).

// ServerInfo is GET /.
type ServerInfo struct {
	Version        string `json:"version"`
	Commit         string `json:"commit"`
	KafkaClusterID string `json:"kafka_cluster_id"`
}

// TaskID names a task: {"connector":"local-file-source","task":0}.
type TaskID struct {
	Connector string `json:"connector"`
	Task      int    `json:"task"`
}

// ConnectorInfo is GET /connectors/NAME.
type ConnectorInfo struct {
	Name   string            `json:"name"`
	Config map[string]string `json:"config"`
	Tasks  []TaskID          `json:"tasks"`
	Type   string            `json:"type"`
}

// ConnectorState is the connector's part of a status.
type ConnectorState struct {
	State    string `json:"state"`
	WorkerID string `json:"worker_id"`
	Trace    string `json:"trace,omitempty"`
}

// TaskState is one task's status.
type TaskState struct {
	ID       int    `json:"id"`
	State    string `json:"state"`
	WorkerID string `json:"worker_id"`
	Trace    string `json:"trace,omitempty"`
}

// ConnectorStateInfo is GET /connectors/NAME/status.
type ConnectorStateInfo struct {
	Name      string         `json:"name"`
	Connector ConnectorState `json:"connector"`
	Tasks     []TaskState    `json:"tasks"`
	Type      string         `json:"type"`
}

// TaskInfo is one entry of GET /connectors/NAME/tasks.
type TaskInfo struct {
	ID     TaskID            `json:"id"`
	Config map[string]string `json:"config"`
}

// PluginInfo is one entry of GET /connector-plugins.
type PluginInfo struct {
	Class   string `json:"class"`
	Type    string `json:"type"`
	Version string `json:"version"`
}

// errorMessage is Kafka's error body: {"error_code":404,"message":"Connector x not found"}.
type errorMessage struct {
	ErrorCode int    `json:"error_code"`
	Message   string `json:"message"`
}

// Herder is what the REST server asks about the connectors (the StandaloneHerder's read side).
type Herder interface {
	ServerInfo() ServerInfo
	Connectors() []string // sorted
	ConnectorInfo(name string) (ConnectorInfo, bool)
	ConnectorStatus(name string) (ConnectorStateInfo, bool)
	TaskConfigs(name string) ([]TaskInfo, bool)
}

// RESTServer serves the read-only part of Kafka Connect's REST API on the worker's listeners.
// Requests that would change something (POST, PUT, DELETE) are answered 405: a standalone
// worker here runs the connectors of its command line.
type RESTServer struct {
	herder Herder
	log    zerolog.Logger
	srv    *http.Server
	lns    []net.Listener
}

// NewRESTServer binds every listener (so that the worker's id can name the bound port);
// Serve starts answering.
func NewRESTServer(listeners []Listener, log zerolog.Logger) (*RESTServer, error) {
	s := &RESTServer{log: log}
	s.srv = &http.Server{Handler: s, ReadHeaderTimeout: 10 * time.Second, ReadTimeout: 30 * time.Second,
		WriteTimeout: 30 * time.Second, MaxHeaderBytes: 64 << 10}
	for _, l := range listeners {
		ln, err := net.Listen("tcp", l.Addr())
		if err != nil {
			for _, o := range s.lns {
				o.Close()
			}
			return nil, fmt.Errorf("Unable to initialize REST server: listeners http://%s: %w", l.Addr(), err)
		}
		s.lns = append(s.lns, ln)
	}
	return s, nil
}

// Addrs are the bound addresses, in the order of listeners.
func (s *RESTServer) Addrs() []net.Addr {
	var out []net.Addr
	for _, ln := range s.lns {
		out = append(out, ln.Addr())
	}
	return out
}

// Serve answers on every listener from h until Shutdown.
func (s *RESTServer) Serve(h Herder) {
	s.herder = h
	for _, ln := range s.lns {
		go func(ln net.Listener) {
			if err := s.srv.Serve(ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
				s.log.Error().Err(err).Str("listener", ln.Addr().String()).Msg("REST server stopped")
			}
		}(ln)
	}
}

// Shutdown stops the server, letting requests in progress finish within ctx.
func (s *RESTServer) Shutdown(ctx context.Context) error {
	err := s.srv.Shutdown(ctx)
	for _, ln := range s.lns {
		ln.Close() // listeners Serve never took (Shutdown before Serve)
	}
	return err
}

// Plugins are the connector classes there are (GET /connector-plugins), Kafka's order.
func Plugins() []PluginInfo {
	return []PluginInfo{{FileStreamSinkClass, "sink", Version}, {FileStreamSourceClass, "source", Version}}
}

func (s *RESTServer) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	parts := strings.Split(strings.Trim(r.URL.Path, "/"), "/")
	if len(parts) == 1 && parts[0] == "" {
		parts = nil
	}
	// Every route is read-only; a known path with another method is 405, as Jersey answers.
	known := len(parts) == 0 || (parts[0] == "connector-plugins" && len(parts) == 1) ||
		(parts[0] == "connectors" && len(parts) <= 3) || (parts[0] == "connectors" && len(parts) == 5 && parts[2] == "tasks" && parts[4] == "status")
	if !known {
		writeError(w, http.StatusNotFound, "HTTP 404 Not Found")
		return
	}
	if r.Method != http.MethodGet && r.Method != http.MethodHead {
		writeError(w, http.StatusMethodNotAllowed, "HTTP 405 Method Not Allowed")
		return
	}
	h := s.herder
	switch {
	case len(parts) == 0:
		writeJSON(w, http.StatusOK, h.ServerInfo())
	case parts[0] == "connector-plugins":
		writeJSON(w, http.StatusOK, Plugins())
	case len(parts) == 1:
		s.listConnectors(w, r)
	case len(parts) == 2:
		if info, ok := h.ConnectorInfo(parts[1]); ok {
			writeJSON(w, http.StatusOK, info)
			return
		}
		notFound(w, parts[1])
	case parts[2] == "config":
		if info, ok := h.ConnectorInfo(parts[1]); ok {
			writeJSON(w, http.StatusOK, info.Config)
			return
		}
		notFound(w, parts[1])
	case parts[2] == "status":
		if st, ok := h.ConnectorStatus(parts[1]); ok {
			writeJSON(w, http.StatusOK, st)
			return
		}
		notFound(w, parts[1])
	case parts[2] == "tasks" && len(parts) == 3:
		if tasks, ok := h.TaskConfigs(parts[1]); ok {
			writeJSON(w, http.StatusOK, tasks)
			return
		}
		notFound(w, parts[1])
	case parts[2] == "tasks":
		st, ok := h.ConnectorStatus(parts[1])
		if !ok {
			notFound(w, parts[1])
			return
		}
		id, err := strconv.Atoi(parts[3])
		if err != nil {
			writeError(w, http.StatusNotFound, "HTTP 404 Not Found")
			return
		}
		for _, t := range st.Tasks {
			if t.ID == id {
				writeJSON(w, http.StatusOK, t)
				return
			}
		}
		writeError(w, http.StatusNotFound, fmt.Sprintf("Status for task %s-%d not found", parts[1], id))
	default:
		writeError(w, http.StatusNotFound, "HTTP 404 Not Found")
	}
}

// listConnectors is GET /connectors, with Kafka's ?expand=status and ?expand=info.
func (s *RESTServer) listConnectors(w http.ResponseWriter, r *http.Request) {
	names := s.herder.Connectors()
	expand := r.URL.Query()["expand"]
	if len(expand) == 0 {
		writeJSON(w, http.StatusOK, names)
		return
	}
	out := map[string]map[string]any{}
	for _, n := range names {
		m := map[string]any{}
		for _, e := range expand {
			switch e {
			case "status":
				if st, ok := s.herder.ConnectorStatus(n); ok {
					m["status"] = st
				}
			case "info":
				if info, ok := s.herder.ConnectorInfo(n); ok {
					m["info"] = info
				}
			}
		}
		out[n] = m
	}
	writeJSON(w, http.StatusOK, out)
}

func notFound(w http.ResponseWriter, name string) {
	writeError(w, http.StatusNotFound, "Connector "+name+" not found")
}

func writeError(w http.ResponseWriter, code int, msg string) {
	writeJSON(w, code, errorMessage{ErrorCode: code, Message: msg})
}

// writeJSON answers v as JSON; like Jackson, it leaves <, > and & unescaped.
func writeJSON(w http.ResponseWriter, code int, v any) {
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(v); err != nil {
		code = http.StatusInternalServerError
		buf.Reset()
		buf.WriteString(`{"error_code":500,"message":"encoding the response failed"}`)
	}
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(code)
	w.Write(bytes.TrimSuffix(buf.Bytes(), []byte("\n")))
}
