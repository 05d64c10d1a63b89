// One broker process of a test cluster: its config, folder and lifecycle.

package integration

import (
	"fmt"
	"net"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"time"
)

// Broker is one klassik broker process of a cluster. Its port, directory and log.dirs stay
// the same across restarts.
type Broker struct {
	ID   int32
	Port int
	Dir  string // holds server.toml, stderr.log and data/ (log.dirs)

	logDirs []string // log.dirs: Dir/data, or the dirs TmpfsLogDir made
	disk    *tmpfs   // the small filesystem of TmpfsLogDir, or nil

	c           *Cluster
	config      []kv
	proc        *process
	wantRunning bool
	zkProxies   []*tcpProxy // one per ZooKeeper server; zookeeper.connect names them
	frozen      bool        // paused by FreezeBroker

	// listenerPorts are the ports of the listeners ExtraListeners added, by name.
	listenerPorts map[string]int
}

// ListenerAddr is the host:port of one of the listeners ExtraListeners added ("PLAINTEXT" is
// Addr).
func (b *Broker) ListenerAddr(name string) string {
	if name == "PLAINTEXT" {
		return b.Addr()
	}
	p, ok := b.listenerPorts[name]
	if !ok {
		b.c.t.Fatalf("broker %d has no listener %s", b.ID, name)
	}
	return fmt.Sprintf("127.0.0.1:%d", p)
}

// Addr is the broker's host:port.
func (b *Broker) Addr() string { return fmt.Sprintf("127.0.0.1:%d", b.Port) }

// LogDir is the broker's (first) log dir.
func (b *Broker) LogDir() string { return b.logDirs[0] }

// LogDirs is the broker's log.dirs.
func (b *Broker) LogDirs() []string { return b.logDirs }

// ConfigPath is the broker's server.toml.
func (b *Broker) ConfigPath() string { return filepath.Join(b.Dir, "server.toml") }

// StderrPath is the file the broker's stderr (its JSON log) and stdout go to.
func (b *Broker) StderrPath() string { return filepath.Join(b.Dir, "stderr.log") }

// Frozen reports whether FreezeBroker paused the broker (and ThawBroker has not resumed it).
func (b *Broker) Frozen() bool { return b.frozen }

// Running reports whether the broker process is alive.
func (b *Broker) Running() bool { return b.proc != nil && !b.proc.exited() }

// PID is the broker's process id (0 if never started).
func (b *Broker) PID() int {
	if b.proc == nil {
		return 0
	}
	return b.proc.pid()
}

// Wait waits up to timeout for the broker process to exit and returns its exit code (-1 when
// killed by a signal) and whether it exited.
func (b *Broker) Wait(timeout time.Duration) (code int, exited bool) {
	if b.proc == nil {
		return 0, false
	}
	st, ok := b.proc.wait(timeout)
	if !ok {
		return 0, false
	}
	return st.ExitCode(), true
}

// Output returns everything the broker wrote on stderr and stdout so far.
func (b *Broker) Output() string {
	data, _ := os.ReadFile(b.StderrPath())
	return string(data)
}

func (c *Cluster) newBroker(id int32, extra bool) *Broker {
	b := &Broker{ID: id, Port: c.port(), c: c}
	b.Dir = filepath.Join(c.dir, fmt.Sprintf("broker-%d", id))
	if extra {
		b.Dir = filepath.Join(c.dir, fmt.Sprintf("extra-%d-broker-%d", len(c.extras)+1, id))
	}
	b.logDirs = []string{filepath.Join(b.Dir, "data")}
	if spec, ok := c.disks[id]; ok && !extra {
		c.mountLogDir(b, spec)
	}
	for _, d := range b.logDirs {
		if err := os.MkdirAll(d, 0o755); err != nil {
			c.t.Fatal(err)
		}
	}
	// The broker reaches ZooKeeper through its own proxies, so that CutOffZooKeeper can
	// partition it from the ensemble alone.
	var proxied []string
	for _, n := range c.zks {
		p, err := newTCPProxy(n.addr())
		if err != nil {
			c.t.Fatal(err)
		}
		b.zkProxies = append(b.zkProxies, p)
		proxied = append(proxied, p.Addr())
	}
	rf := min(3, c.size)
	listeners := fmt.Sprintf("PLAINTEXT://127.0.0.1:%d", b.Port)
	for _, name := range c.extraListeners {
		if b.listenerPorts == nil {
			b.listenerPorts = map[string]int{}
		}
		b.listenerPorts[name] = c.port()
		listeners += fmt.Sprintf(",%s://127.0.0.1:%d", name, b.listenerPorts[name])
	}
	b.config = []kv{
		{"broker.id", int(id)},
		{"listeners", listeners},
		{"zookeeper.connect", strings.Join(proxied, ",") + c.chroot},
		{"zookeeper.session.timeout.ms", 6000},
		{"log.dirs", strings.Join(b.logDirs, ",")},
		{"num.partitions", 1},
		{"default.replication.factor", rf},
		{"min.insync.replicas", 1},
		{"offsets.topic.replication.factor", rf},
		{"offsets.topic.num.partitions", 5},
		{"transaction.state.log.replication.factor", rf},
		{"transaction.state.log.min.isr", 1},
		{"transaction.state.log.num.partitions", 5},
		{"group.initial.rebalance.delay.ms", 0},
	}
	for _, o := range append(slices.Clone(c.config), c.perBroker[id]...) {
		b.config = setKV(b.config, o.key, o.value)
	}
	return b
}

func setKV(list []kv, key string, value any) []kv {
	for i := range list {
		if list[i].key == key {
			list[i].value = value
			return list
		}
	}
	return append(list, kv{key, value})
}

// writeConfig writes server.toml: Kafka's property names as TOML dotted keys.
func (b *Broker) writeConfig() error {
	var sb strings.Builder
	fmt.Fprintf(&sb, "# broker %d, written by klassik's integration harness\n", b.ID)
	for _, e := range b.config {
		v, err := tomlValue(e.value)
		if err != nil {
			return fmt.Errorf("%s: %w", e.key, err)
		}
		fmt.Fprintf(&sb, "%s = %s\n", e.key, v)
	}
	return os.WriteFile(b.ConfigPath(), []byte(sb.String()), 0o644)
}

func tomlValue(v any) (string, error) {
	switch x := v.(type) {
	case string:
		if strings.ContainsFunc(x, func(r rune) bool { return r < 0x20 || r == 0x7f }) {
			return "", fmt.Errorf("control character in %q", x)
		}
		return `"` + strings.NewReplacer(`\`, `\\`, `"`, `\"`).Replace(x) + `"`, nil
	case bool:
		return strconv.FormatBool(x), nil
	case int:
		return strconv.Itoa(x), nil
	case int32:
		return strconv.FormatInt(int64(x), 10), nil
	case int64:
		return strconv.FormatInt(x, 10), nil
	default:
		return "", fmt.Errorf("unsupported config value type %T", v)
	}
}

func (b *Broker) configValue(key string) any {
	for _, e := range b.config {
		if e.key == key {
			return e.value
		}
	}
	return nil
}

// sessionTimeout is the broker's zookeeper.session.timeout.ms.
func (b *Broker) sessionTimeout() time.Duration {
	if ms, ok := b.configValue("zookeeper.session.timeout.ms").(int); ok {
		return time.Duration(ms) * time.Millisecond
	}
	return 18 * time.Second // Kafka's default
}

// brokerEnv is the test's environment without KAFKA_* variables, which klassik reads as
// configuration overrides, as Kafka's container images do.
func brokerEnv() []string {
	var env []string
	for _, e := range os.Environ() {
		if !strings.HasPrefix(e, "KAFKA_") {
			env = append(env, e)
		}
	}
	return env
}

func (c *Cluster) startBroker(b *Broker) {
	c.t.Helper()
	if b.Running() {
		c.t.Fatalf("broker %d is already running", b.ID)
	}
	if err := b.writeConfig(); err != nil {
		c.t.Fatal(err)
	}
	p, err := startProcess(fmt.Sprintf("broker-%d", b.ID), b.StderrPath(), b.Dir, brokerEnv(),
		klassikBin, "broker", "--config", b.ConfigPath())
	if err != nil {
		c.t.Fatal(err)
	}
	b.proc = p
	b.wantRunning = true
}

// waitStarted waits until the broker listens and its /brokers/ids/<id> registration exists.
func (c *Cluster) waitStarted(b *Broker) {
	c.t.Helper()
	c.eventually(60*time.Second, func() error {
		conn, err := net.DialTimeout("tcp", b.Addr(), time.Second)
		if err != nil {
			return fmt.Errorf("broker %d not listening: %w", b.ID, err)
		}
		conn.Close()
		_, stat, err := c.ZK().Get(c.Path(fmt.Sprintf("/brokers/ids/%d", b.ID)))
		if err != nil {
			return fmt.Errorf("broker %d registration: %w", b.ID, err)
		}
		if stat.EphemeralOwner == 0 {
			return fmt.Errorf("broker %d registration is not ephemeral", b.ID)
		}
		return nil
	})
}

// Broker returns the broker with id, failing the test if there is none.
func (c *Cluster) Broker(id int32) *Broker {
	c.t.Helper()
	b := c.brokerByID(id)
	if b == nil {
		c.t.Fatalf("no broker %d in this cluster", id)
	}
	return b
}
