package connect

import (
	"context"
	"fmt"
	"io"
	"maps"
	"os"
	"runtime/debug"
	"sort"
	"strconv"
	"sync"
	"time"

	"github.com/rs/zerolog"
	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kgo"
)

// The states of connectors and tasks (Kafka's AbstractStatus.State) that this worker uses.
const (
	StateUnassigned = "UNASSIGNED"
	StateRunning    = "RUNNING"
	StateFailed     = "FAILED"
)

// status is a connector's or a task's state and, when FAILED, why. Guarded by the Worker's mu.
type status struct {
	state string
	trace string
}

// Worker is the standalone worker: Kafka's StandaloneHerder and Worker in one. It runs the
// connectors it is given, each task on its own goroutine, shares one offsets file between its
// source tasks, and answers the REST server's questions (it implements Herder).
type Worker struct {
	cfg       *WorkerConfig
	id        string // worker_id: the REST server's advertised host:port
	clusterID string
	store     *OffsetStore
	log       zerolog.Logger

	// PollInterval is how long a file source waits for the file to grow or appear (Kafka's
	// FileStreamSourceTask waits 1 s). Set before AddConnector; for tests.
	PollInterval time.Duration
	// Stdin and Stdout stand in for the process's for connectors without a file.
	Stdin  io.Reader
	Stdout io.Writer

	ctx    context.Context // canceled by Stop: every task's
	cancel context.CancelFunc
	wg     sync.WaitGroup

	mu         sync.Mutex
	connectors map[string]*connector
}

type connector struct {
	cfg    *ConnectorConfig
	status status
	tasks  []*task
}

type task struct {
	id     int
	class  string // the task class, as Kafka's task.class
	status status
}

// NewWorker makes a worker identified by workerID (host:port) for the Kafka cluster clusterID.
func NewWorker(cfg *WorkerConfig, workerID, clusterID string, store *OffsetStore, log zerolog.Logger) *Worker {
	ctx, cancel := context.WithCancel(context.Background())
	return &Worker{cfg: cfg, id: workerID, clusterID: clusterID, store: store, log: log,
		PollInterval: time.Second, Stdin: os.Stdin, Stdout: os.Stdout,
		ctx: ctx, cancel: cancel, connectors: map[string]*connector{}}
}

// LookupClusterID connects to the worker's bootstrap servers and returns the cluster's id, as
// Kafka's worker does at start (ConnectUtils.lookupKafkaClusterId), trying until ctx ends.
func LookupClusterID(ctx context.Context, cfg *WorkerConfig) (string, error) {
	cl, err := kgo.NewClient(kgo.SeedBrokers(cfg.BootstrapServers...), kgo.ClientID("klassik-connect-cluster-id"),
		kgo.DialTimeout(5*time.Second))
	if err != nil {
		return "", err
	}
	defer cl.Close()
	adm := kadm.NewClient(cl)
	var last error
	for {
		md, err := adm.Metadata(ctx)
		if err == nil {
			return md.Cluster, nil
		}
		last = err
		select {
		case <-ctx.Done():
			return "", fmt.Errorf("Failed to connect to and describe Kafka cluster at %v. Check worker's broker connection and security properties. (%v)", cfg.BootstrapServers, last)
		case <-time.After(500 * time.Millisecond):
		}
	}
}

// AddConnector creates a connector and starts its tasks (StandaloneHerder.putConnectorConfig).
func (w *Worker) AddConnector(c *ConnectorConfig) error {
	w.mu.Lock()
	if _, dup := w.connectors[c.Name]; dup {
		w.mu.Unlock()
		return fmt.Errorf("Connector %s already exists", c.Name)
	}
	conn := &connector{cfg: c, status: status{state: StateRunning}}
	// One source task reads one file (FileStreamSourceConnector.taskConfigs returns one
	// config whatever tasks.max is); a sink has tasks.max tasks in its consumer group.
	n := 1
	if c.Type == "sink" {
		n = c.TasksMax
	}
	for i := 0; i < n; i++ {
		conn.tasks = append(conn.tasks, &task{id: i, class: taskClass(c), status: status{state: StateUnassigned}})
	}
	w.connectors[c.Name] = conn
	w.mu.Unlock()

	w.log.Info().Str("connector", c.Name).Str("class", c.Class).Str("version", Version).
		Msgf("Instantiated connector %s with version %s of type class %s", c.Name, Version, c.Class)
	var out *sinkFile
	if c.Type == "sink" {
		var err error
		if out, err = openSinkFile(c.File, w.Stdout); err != nil {
			w.setStatus(c.Name, nil, StateFailed, err.Error())
			return err
		}
	}
	for _, t := range conn.tasks {
		id := fmt.Sprintf("%s-%d", c.Name, t.id)
		var run func(context.Context) error
		var kind string
		if c.Type == "source" {
			kind = "WorkerSourceTask"
			st := &sourceTask{w: w, c: c, id: id, log: w.log.With().Str("connector", c.Name).Str("task", id).Logger()}
			run = st.run
		} else {
			kind = "WorkerSinkTask"
			st := &sinkTask{w: w, c: c, id: id, out: out, log: w.log.With().Str("connector", c.Name).Str("task", id).Logger()}
			run = st.run
		}
		w.setStatus(c.Name, t, StateRunning, "")
		w.wg.Add(1)
		go func() {
			defer w.wg.Done()
			w.log.Info().Str("task", id).Msgf("%s{id=%s} Task started", kind, id)
			err := run(w.ctx)
			if err != nil {
				w.log.Error().Err(err).Str("task", id).Msgf("%s{id=%s} Task threw an uncaught and unrecoverable exception. Task is being killed and will not recover until manually restarted", kind, id)
				w.setStatus(c.Name, t, StateFailed, err.Error())
				return
			}
			w.setStatus(c.Name, t, StateUnassigned, "")
			w.log.Info().Str("task", id).Msgf("%s{id=%s} Task stopped", kind, id)
		}()
	}
	w.log.Info().Str("connector", c.Name).Msgf("Finished creating connector %s", c.Name)
	return nil
}

func taskClass(c *ConnectorConfig) string {
	if c.Type == "source" {
		return "org.apache.kafka.connect.file.FileStreamSourceTask"
	}
	return "org.apache.kafka.connect.file.FileStreamSinkTask"
}

// setStatus sets a task's status, or the connector's when t is nil.
func (w *Worker) setStatus(name string, t *task, state, trace string) {
	w.mu.Lock()
	defer w.mu.Unlock()
	if t != nil {
		t.status = status{state, trace}
		return
	}
	if c := w.connectors[name]; c != nil {
		c.status = status{state, trace}
	}
}

// Stop stops every task, letting each commit what it has delivered, and waits for them (at
// most the graceful shutdown timeout plus the offset flush timeout, Kafka's bounds), then
// writes the offsets file one last time.
func (w *Worker) Stop() {
	w.cancel()
	done := make(chan struct{})
	go func() { w.wg.Wait(); close(done) }()
	limit := w.cfg.ShutdownTimeout + w.cfg.OffsetFlushTimeout + 5*time.Second
	select {
	case <-done:
	case <-time.After(limit):
		w.log.Error().Dur("waited", limit).Msg("Graceful stop of tasks failed: some tasks did not stop in time")
	}
	if err := w.store.Flush(); err != nil {
		w.log.Error().Err(err).Msg("Failed to flush offsets to storage")
	}
}

// --- Herder: what the REST server reads ---

// ServerInfo is GET /: Kafka's version this follows, klassik's commit, the cluster's id.
func (w *Worker) ServerInfo() ServerInfo {
	return ServerInfo{Version: Version, Commit: buildCommit(), KafkaClusterID: w.clusterID}
}

// buildCommit is the git revision klassik was built from, as the binary's build info has it.
func buildCommit() string {
	if bi, ok := debug.ReadBuildInfo(); ok {
		for _, s := range bi.Settings {
			if s.Key == "vcs.revision" {
				return s.Value
			}
		}
	}
	return "unknown"
}

func (w *Worker) Connectors() []string {
	w.mu.Lock()
	defer w.mu.Unlock()
	names := make([]string, 0, len(w.connectors))
	for n := range w.connectors {
		names = append(names, n)
	}
	sort.Strings(names)
	return names
}

func (w *Worker) ConnectorInfo(name string) (ConnectorInfo, bool) {
	w.mu.Lock()
	defer w.mu.Unlock()
	c := w.connectors[name]
	if c == nil {
		return ConnectorInfo{}, false
	}
	info := ConnectorInfo{Name: name, Config: maps.Clone(c.cfg.Raw), Type: c.cfg.Type, Tasks: []TaskID{}}
	for _, t := range c.tasks {
		info.Tasks = append(info.Tasks, TaskID{Connector: name, Task: t.id})
	}
	return info, true
}

func (w *Worker) ConnectorStatus(name string) (ConnectorStateInfo, bool) {
	w.mu.Lock()
	defer w.mu.Unlock()
	c := w.connectors[name]
	if c == nil {
		return ConnectorStateInfo{}, false
	}
	st := ConnectorStateInfo{Name: name, Type: c.cfg.Type, Tasks: []TaskState{},
		Connector: ConnectorState{State: c.status.state, WorkerID: w.id, Trace: c.status.trace}}
	for _, t := range c.tasks {
		st.Tasks = append(st.Tasks, TaskState{ID: t.id, State: t.status.state, WorkerID: w.id, Trace: t.status.trace})
	}
	return st, true
}

func (w *Worker) TaskConfigs(name string) ([]TaskInfo, bool) {
	w.mu.Lock()
	defer w.mu.Unlock()
	c := w.connectors[name]
	if c == nil {
		return nil, false
	}
	out := []TaskInfo{}
	for _, t := range c.tasks {
		cfg := maps.Clone(c.cfg.Raw)
		cfg["task.class"] = t.class
		out = append(out, TaskInfo{ID: TaskID{Connector: name, Task: t.id}, Config: cfg})
	}
	return out, true
}

// WorkerID is the worker's id as Kafka forms it: the REST server's advertised host and port.
// An empty host (listeners=http://:8083) is this machine's host name.
func WorkerID(cfg *WorkerConfig, boundPort int) string {
	host := cfg.AdvertisedHost
	if host == "" && len(cfg.Listeners) > 0 {
		host = cfg.Listeners[0].Host
	}
	if host == "" {
		host, _ = os.Hostname()
	}
	port := cfg.AdvertisedPort
	if port == 0 {
		port = boundPort
	}
	return host + ":" + strconv.Itoa(port)
}

// clientOpts are the options every client of the worker shares.
func (w *Worker) clientOpts(clientID string) []kgo.Opt {
	return []kgo.Opt{
		kgo.SeedBrokers(w.cfg.BootstrapServers...),
		kgo.ClientID(clientID),
		kgo.DialTimeout(5 * time.Second),
		kgo.AllowAutoTopicCreation(), // as Kafka's clients ask for, so connect-test is made on first use
		kgo.WithLogger(kgoLogger{w.log}),
	}
}

// kgoLogger passes franz-go's warnings and errors to the worker's log.
type kgoLogger struct{ log zerolog.Logger }

func (l kgoLogger) Level() kgo.LogLevel { return kgo.LogLevelWarn }

func (l kgoLogger) Log(level kgo.LogLevel, msg string, keyvals ...any) {
	ev := l.log.Warn()
	if level == kgo.LogLevelError {
		ev = l.log.Error()
	}
	for i := 0; i+1 < len(keyvals); i += 2 {
		ev = ev.Interface(fmt.Sprint(keyvals[i]), keyvals[i+1])
	}
	ev.Str("component", "kgo").Msg(msg)
}
