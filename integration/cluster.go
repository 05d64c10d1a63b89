// Package integration tests klassik the way its users run it: real ZooKeeper servers
// (Debian's zookeeper package), real klassik broker processes built from cmd/klassik, and real
// Kafka clients (franz-go, kcat, confluent-kafka-python, kafka-python). It mirrors Kafka's
// core/src/test/.../integration tests and imports no klassik package: everything goes through
// the binary, the Kafka protocol and ZooKeeper.
//
// One helper drives every test:
//
//	c := NewCluster(t, Brokers(1), ZooKeepers(1), BrokerConfig("auto.create.topics.enable", false))
//	cl := c.Client(t)            // a franz-go client seeded with every broker
//	c.KillBroker(1)              // SIGKILL, like kill -9
//	c.StartBroker(1)             // same port, same log.dirs
//	data, stat := c.ZKGet(t, "/brokers/ids/1")
//
// Every process runs in its own process group and is killed when the test ends; when a test
// fails, the tail of every broker's and ZooKeeper's log is printed. Tests poll with deadlines
// (eventually), never with a bare sleep.
//
// Environment: KLASSIK_BIN uses a prebuilt binary instead of building one; KLASSIK_RACE=1
// builds it with -race; KLASSIK_TEST_KEEP=1 keeps every cluster's directory (configs, logs,
// data) after the test and prints where it is.
package integration

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/go-zookeeper/zk"
	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kgo"
	"github.com/twmb/franz-go/pkg/kmsg"
)

// klassikBin is the broker binary every cluster runs; TestMain sets it (buildKlassik).
var klassikBin string

// buildKlassik returns $KLASSIK_BIN if set, else builds ./cmd/klassik into dir (with -race
// when KLASSIK_RACE=1).
func buildKlassik(dir string) (string, error) {
	if p := os.Getenv("KLASSIK_BIN"); p != "" {
		abs, err := filepath.Abs(p)
		if err != nil {
			return "", err
		}
		if _, err := os.Stat(abs); err != nil {
			return "", fmt.Errorf("KLASSIK_BIN: %w", err)
		}
		return abs, nil
	}
	out := filepath.Join(dir, "klassik")
	args := []string{"build", "-o", out}
	if os.Getenv("KLASSIK_RACE") == "1" {
		args = append(args, "-race")
	}
	args = append(args, "github.com/klassik/klassik/cmd/klassik")
	cmd := exec.Command("go", args...)
	cmd.Stdout = os.Stderr
	cmd.Stderr = os.Stderr
	if err := cmd.Run(); err != nil {
		return "", fmt.Errorf("go %s: %w", strings.Join(args, " "), err)
	}
	return out, nil
}

// Option configures NewCluster.
type Option func(*options)

type options struct {
	brokers    int
	zookeepers int
	chroot     string
	config     []kv
}

type kv struct {
	key   string
	value any
}

// Brokers sets the number of brokers (ids 1..n). Default 1; 0 starts ZooKeeper alone.
func Brokers(n int) Option { return func(o *options) { o.brokers = n } }

// ZooKeepers sets the number of ZooKeeper servers: 1 runs standalone, 3 (or any odd n) runs a
// quorum on 127.0.0.1. Default 1.
func ZooKeepers(n int) Option { return func(o *options) { o.zookeepers = n } }

// BrokerConfig sets a Kafka broker property in every broker's server.toml, over the
// harness's defaults. value is written as a TOML string, integer or boolean by its Go type.
func BrokerConfig(key string, value any) Option {
	return func(o *options) { o.config = append(o.config, kv{key, value}) }
}

// Chroot sets the ZooKeeper chroot of zookeeper.connect ("" for none). Default "/klassik".
func Chroot(path string) Option { return func(o *options) { o.chroot = path } }

// Cluster is a ZooKeeper ensemble and klassik brokers, all on 127.0.0.1 with free ports.
//
// Methods that take no testing.TB report to the test that made the cluster and must be called
// from that test's goroutine; subtests sharing a cluster pass their own t where a method takes
// one.
type Cluster struct {
	t       testing.TB
	dir     string
	chroot  string
	zks     []*zkNode
	brokers []*Broker // brokers[id-1]
	extras  []*Broker // brokers started with StartExtraBroker, not part of the cluster
	size    int       // the number of brokers asked for
	config  []kv      // from BrokerConfig, applied over the defaults

	mu        sync.Mutex // guards the lazily made clients below
	zkConn    *zk.Conn
	meta      *kgo.Client
	clientLog *os.File
}

// Broker is one klassik broker process of a cluster. Its port, directory and log.dirs stay
// the same across restarts.
type Broker struct {
	ID   int32
	Port int
	Dir  string // holds server.toml, stderr.log and data/ (log.dirs)

	c           *Cluster
	config      []kv
	proc        *process
	wantRunning bool
	zkProxies   []*tcpProxy // one per ZooKeeper server; zookeeper.connect names them
	frozen      bool        // paused by FreezeBroker
}

// Addr is the broker's host:port.
func (b *Broker) Addr() string { return fmt.Sprintf("127.0.0.1:%d", b.Port) }

// LogDir is the broker's log.dirs.
func (b *Broker) LogDir() string { return filepath.Join(b.Dir, "data") }

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

// NewCluster starts ZooKeeper and the brokers, waits until every broker is registered and
// listed in Metadata and a controller is elected, and registers cleanup that kills every
// process it started.
func NewCluster(t testing.TB, opts ...Option) *Cluster {
	t.Helper()
	if klassikBin == "" {
		t.Fatal("integration: the klassik binary is not built (TestMain builds it, or set KLASSIK_BIN)")
	}
	if err := checkZooKeeperInstalled(); err != nil {
		t.Fatal(err)
	}
	o := options{brokers: 1, zookeepers: 1, chroot: "/klassik"}
	for _, opt := range opts {
		opt(&o)
	}
	if o.brokers < 0 || o.zookeepers < 1 {
		t.Fatalf("integration: need at least one ZooKeeper and no negative number of brokers, got %d and %d", o.zookeepers, o.brokers)
	}
	c := &Cluster{t: t, dir: clusterDir(t), chroot: strings.TrimSuffix(o.chroot, "/"), config: o.config}
	t.Cleanup(c.shutdown)

	f, err := os.Create(filepath.Join(c.dir, "clients.log"))
	if err != nil {
		t.Fatal(err)
	}
	c.clientLog = f

	for i := 1; i <= o.zookeepers; i++ {
		n := &zkNode{myid: i, dir: filepath.Join(c.dir, fmt.Sprintf("zookeeper-%d", i))}
		n.clientPort = c.port()
		if o.zookeepers > 1 {
			n.peerPort, n.electionPort = c.port(), c.port()
		}
		c.zks = append(c.zks, n)
	}
	if err := writeZKConfigs(c.zks); err != nil {
		t.Fatal(err)
	}
	for _, n := range c.zks {
		if err := n.start(); err != nil {
			t.Fatal(err)
		}
	}
	c.waitZooKeeper(t)

	c.size = o.brokers
	for id := 1; id <= o.brokers; id++ {
		b := c.newBroker(int32(id), false)
		c.brokers = append(c.brokers, b)
	}
	for _, b := range c.brokers {
		c.startBroker(b)
	}
	for _, b := range c.brokers {
		c.waitStarted(b)
	}
	if o.brokers > 0 {
		c.WaitForBrokers(o.brokers)
		c.WaitForController(t)
	}
	return c
}

func clusterDir(t testing.TB) string {
	if os.Getenv("KLASSIK_TEST_KEEP") == "" {
		return t.TempDir()
	}
	name := regexp.MustCompile(`[^A-Za-z0-9_-]+`).ReplaceAllString(t.Name(), "_")
	dir, err := os.MkdirTemp("", "klassik-"+name+"-")
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("KLASSIK_TEST_KEEP: cluster directory %s is kept", dir)
	return dir
}

func (c *Cluster) port() int {
	p, err := freePort()
	if err != nil {
		c.t.Fatal(err)
	}
	return p
}

// shutdown kills every process, closes the clients, fails the test if a broker crashed, and
// prints the logs' tails when the test failed.
func (c *Cluster) shutdown() {
	c.mu.Lock()
	if c.meta != nil {
		c.meta.Close()
	}
	if c.zkConn != nil {
		c.zkConn.Close()
	}
	c.mu.Unlock()
	all := append(slices.Clone(c.brokers), c.extras...)
	for _, b := range all {
		if b.proc != nil {
			b.proc.kill()
		}
		for _, p := range b.zkProxies {
			p.Close()
		}
	}
	for _, n := range c.zks {
		if n.proc != nil {
			n.proc.kill()
		}
	}
	for _, b := range all {
		if line := findCrash(b.StderrPath()); line != "" {
			c.t.Errorf("broker %d crashed: %s", b.ID, line)
		}
	}
	if c.t.Failed() {
		for _, b := range all {
			c.t.Logf("---- broker %d (%s), last lines of %s ----\n%s", b.ID, b.Addr(), b.StderrPath(), tailFile(b.StderrPath(), 60))
		}
		for _, n := range c.zks {
			c.t.Logf("---- zookeeper %d (%s), last lines of %s ----\n%s", n.myid, n.addr(), n.logPath(), tailFile(n.logPath(), 15))
		}
		if c.clientLog != nil {
			c.t.Logf("---- clients, last lines of %s ----\n%s", c.clientLog.Name(), tailFile(c.clientLog.Name(), 25))
		}
	}
	if c.clientLog != nil {
		c.clientLog.Close()
	}
}

func (c *Cluster) waitZooKeeper(t testing.TB) {
	t.Helper()
	eventually(t, 90*time.Second, func() error {
		for _, n := range c.zks {
			if n.proc == nil {
				continue
			}
			if n.proc.exited() {
				return fmt.Errorf("zookeeper %d %s:\n%s", n.myid, describeState(n.proc.state), tailFile(n.logPath(), 20))
			}
			if err := n.serving(); err != nil {
				return err
			}
		}
		return nil
	})
}

// ZKConnect is the brokers' zookeeper.connect: every node, then the chroot.
func (c *Cluster) ZKConnect() string {
	return strings.Join(c.zkAddrs(), ",") + c.chroot
}

func (c *Cluster) zkAddrs() []string {
	var addrs []string
	for _, n := range c.zks {
		addrs = append(addrs, n.addr())
	}
	return addrs
}

// Chroot is the chroot of zookeeper.connect ("" for none).
func (c *Cluster) Chroot() string { return c.chroot }

// Path returns the ZooKeeper path of a Kafka znode under the chroot: Path("/brokers/ids").
func (c *Cluster) Path(p string) string {
	if c.chroot == "" {
		return p
	}
	if p == "/" {
		return c.chroot
	}
	return c.chroot + p
}

// ZK returns a ZooKeeper client connected to the ensemble, without chroot (use Path). It is
// shared by the cluster's users and closed when the test ends.
func (c *Cluster) ZK() *zk.Conn {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.zkConn == nil {
		conn, _, err := zk.Connect(c.zkAddrs(), 10*time.Second,
			zk.WithLogger(log.New(c.clientLog, "zk-client ", log.LstdFlags|log.Lmicroseconds)),
			zk.WithLogInfo(false))
		if err != nil {
			c.t.Fatal(err)
		}
		c.zkConn = conn
	}
	return c.zkConn
}

// ZKGet reads the znode at Path(p), failing the test if it cannot.
func (c *Cluster) ZKGet(t testing.TB, p string) ([]byte, *zk.Stat) {
	t.Helper()
	data, stat, err := c.ZK().Get(c.Path(p))
	if err != nil {
		t.Fatalf("zookeeper get %s: %v", c.Path(p), err)
	}
	return data, stat
}

// ZKExists reports whether the znode at Path(p) exists, failing the test on other errors.
func (c *Cluster) ZKExists(t testing.TB, p string) bool {
	t.Helper()
	ok, _, err := c.ZK().Exists(c.Path(p))
	if err != nil {
		t.Fatalf("zookeeper exists %s: %v", c.Path(p), err)
	}
	return ok
}

// ZKChildren lists the children of Path(p), failing the test if it cannot.
func (c *Cluster) ZKChildren(t testing.TB, p string) []string {
	t.Helper()
	kids, _, err := c.ZK().Children(c.Path(p))
	if err != nil {
		t.Fatalf("zookeeper children %s: %v", c.Path(p), err)
	}
	slices.Sort(kids)
	return kids
}

// --- brokers ---

func (c *Cluster) newBroker(id int32, extra bool) *Broker {
	b := &Broker{ID: id, Port: c.port(), c: c}
	b.Dir = filepath.Join(c.dir, fmt.Sprintf("broker-%d", id))
	if extra {
		b.Dir = filepath.Join(c.dir, fmt.Sprintf("extra-%d-broker-%d", len(c.extras)+1, id))
	}
	if err := os.MkdirAll(b.LogDir(), 0o755); err != nil {
		c.t.Fatal(err)
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
	b.config = []kv{
		{"broker.id", int(id)},
		{"listeners", fmt.Sprintf("PLAINTEXT://127.0.0.1:%d", b.Port)},
		{"zookeeper.connect", strings.Join(proxied, ",") + c.chroot},
		{"zookeeper.session.timeout.ms", 6000},
		{"log.dirs", b.LogDir()},
		{"num.partitions", 1},
		{"default.replication.factor", rf},
		{"min.insync.replicas", 1},
		{"offsets.topic.replication.factor", rf},
		{"offsets.topic.num.partitions", 5},
		{"transaction.state.log.replication.factor", rf},
		{"transaction.state.log.min.isr", 1},
		{"group.initial.rebalance.delay.ms", 0},
	}
	for _, o := range c.config {
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

func (c *Cluster) brokerByID(id int32) *Broker {
	if id < 1 || int(id) > len(c.brokers) {
		return nil
	}
	return c.brokers[id-1]
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

// Brokers returns the cluster's brokers, in id order.
func (c *Cluster) Brokers() []*Broker { return slices.Clone(c.brokers) }

// Bootstrap lists every broker's host:port.
func (c *Cluster) Bootstrap() []string {
	var addrs []string
	for _, b := range c.brokers {
		addrs = append(addrs, b.Addr())
	}
	return addrs
}

// BootstrapServers is Bootstrap joined with commas, as bootstrap.servers and kcat -b take it.
func (c *Cluster) BootstrapServers() string { return strings.Join(c.Bootstrap(), ",") }

// KillBroker sends SIGKILL to the broker, like kill -9, and waits until it is gone.
func (c *Cluster) KillBroker(id int32) {
	c.t.Helper()
	b := c.Broker(id)
	if !b.Running() {
		c.t.Fatalf("KillBroker(%d): broker is not running", id)
	}
	b.wantRunning = false
	b.proc.kill()
}

// StopBroker sends SIGTERM, which runs Kafka's controlled shutdown, and waits for the broker
// to exit. It returns the exit code and fails the test unless it is 0.
func (c *Cluster) StopBroker(id int32) int {
	c.t.Helper()
	b := c.Broker(id)
	if !b.Running() {
		c.t.Fatalf("StopBroker(%d): broker is not running", id)
	}
	b.wantRunning = false
	if err := b.proc.signal(syscall.SIGTERM); err != nil {
		c.t.Fatal(err)
	}
	st, ok := b.proc.wait(90 * time.Second)
	if !ok {
		b.proc.kill()
		c.t.Fatalf("broker %d did not exit within 90s of SIGTERM", id)
	}
	if st.ExitCode() != 0 {
		c.t.Errorf("broker %d after SIGTERM: %s, want exit code 0", id, describeState(st))
	}
	return st.ExitCode()
}

// StartBroker starts a stopped or killed broker again with the same config, port and
// log.dirs, and waits until it is registered. Like an operator restarting Kafka after kill -9,
// it first waits for ZooKeeper to expire the previous process's session, whose ephemeral
// /brokers/ids/<id> would otherwise still be there.
func (c *Cluster) StartBroker(id int32) {
	c.t.Helper()
	b := c.Broker(id)
	if b.proc != nil && !b.Running() {
		p := c.Path(fmt.Sprintf("/brokers/ids/%d", id))
		eventually(c.t, b.sessionTimeout()+30*time.Second, func() error {
			ok, _, err := c.ZK().Exists(p)
			if err != nil {
				return err
			}
			if ok {
				return fmt.Errorf("%s of the previous broker %d process is still there", p, id)
			}
			return nil
		})
	}
	c.startBroker(b)
	c.waitStarted(b)
}

// RestartBroker stops the broker with SIGTERM (expecting exit code 0) if it runs, then starts
// it again.
func (c *Cluster) RestartBroker(id int32) {
	c.t.Helper()
	if c.Broker(id).Running() {
		c.StopBroker(id)
	}
	c.StartBroker(id)
}

// StartExtraBroker starts one more broker process with the given broker.id (possibly one
// already in use), its own port and log.dirs, and the cluster's config. It is not part of the
// cluster: Bootstrap does not list it, and it is killed when the test ends.
func (c *Cluster) StartExtraBroker(id int32) *Broker {
	c.t.Helper()
	b := c.newBroker(id, true)
	c.extras = append(c.extras, b)
	c.startBroker(b)
	return b
}

// ExpireZKSession makes ZooKeeper expire the broker's session, as a network partition
// between the broker and the ensemble longer than zookeeper.session.timeout.ms does: the
// broker's ZooKeeper proxies drop its connections and refuse new ones until ZooKeeper has
// removed its ephemeral /brokers/ids/<id>, then let it reconnect. The broker keeps running
// and serving clients throughout. It returns once the broker may reconnect; the caller waits
// for whatever should follow (re-registration with a new epoch, a new controller).
func (c *Cluster) ExpireZKSession(id int32) {
	c.t.Helper()
	b := c.Broker(id)
	if !b.Running() {
		c.t.Fatalf("ExpireZKSession(%d): broker is not running", id)
	}
	p := c.Path(fmt.Sprintf("/brokers/ids/%d", id))
	_, before, err := c.ZK().Get(p)
	if err != nil {
		c.t.Fatalf("ExpireZKSession(%d): %s: %v", id, p, err)
	}
	c.CutOffZooKeeper(id)
	defer c.ReconnectZooKeeper(id)
	eventually(c.t, b.sessionTimeout()+30*time.Second, func() error {
		_, st, err := c.ZK().Get(p)
		if errors.Is(err, zk.ErrNoNode) {
			return nil
		}
		if err != nil {
			return err
		}
		if st.EphemeralOwner != before.EphemeralOwner {
			return nil
		}
		return fmt.Errorf("session 0x%x of broker %d not expired yet", before.EphemeralOwner, id)
	})
}

// CutOffZooKeeper partitions the broker from every ZooKeeper server (its proxies drop their
// connections and refuse new ones) while clients and other brokers still reach it. Its
// session expires after zookeeper.session.timeout.ms unless ReconnectZooKeeper comes first.
func (c *Cluster) CutOffZooKeeper(id int32) {
	c.t.Helper()
	for _, p := range c.Broker(id).zkProxies {
		p.Block()
	}
}

// ReconnectZooKeeper ends CutOffZooKeeper: the broker may reach ZooKeeper again.
func (c *Cluster) ReconnectZooKeeper(id int32) {
	c.t.Helper()
	for _, p := range c.Broker(id).zkProxies {
		p.Unblock()
	}
}

// FreezeBroker pauses the broker process with SIGSTOP, as a long GC pause or a frozen VM
// does: it neither serves nor fetches nor talks to ZooKeeper until ThawBroker.
func (c *Cluster) FreezeBroker(id int32) {
	c.t.Helper()
	b := c.Broker(id)
	if err := b.proc.signal(syscall.SIGSTOP); err != nil {
		c.t.Fatal(err)
	}
	b.frozen = true
	c.t.Cleanup(func() { _ = b.proc.signal(syscall.SIGCONT) })
}

// ThawBroker resumes a broker paused by FreezeBroker.
func (c *Cluster) ThawBroker(id int32) {
	c.t.Helper()
	b := c.Broker(id)
	if err := b.proc.signal(syscall.SIGCONT); err != nil {
		c.t.Fatal(err)
	}
	b.frozen = false
}

// PartitionState is the JSON of /brokers/topics/<t>/partitions/<p>/state, with its zkVersion.
type PartitionState struct {
	Leader          int32   `json:"leader"`
	LeaderEpoch     int32   `json:"leader_epoch"`
	ControllerEpoch int32   `json:"controller_epoch"`
	ISR             []int32 `json:"isr"`
	ZkVersion       int32   `json:"-"`
}

// ZKPartitionState reads a partition's state znode.
func (c *Cluster) ZKPartitionState(t testing.TB, topic string, partition int32) (PartitionState, error) {
	t.Helper()
	data, stat, err := c.ZK().Get(c.Path(fmt.Sprintf("/brokers/topics/%s/partitions/%d/state", topic, partition)))
	if err != nil {
		return PartitionState{}, err
	}
	var st PartitionState
	if err := json.Unmarshal(data, &st); err != nil {
		return PartitionState{}, fmt.Errorf("state znode %q: %w", data, err)
	}
	st.ZkVersion = stat.Version
	return st, nil
}

// StopZooKeeperNode stops ZooKeeper server myid (1..n) with SIGTERM and waits for it to exit.
func (c *Cluster) StopZooKeeperNode(myid int) {
	c.t.Helper()
	n := c.zkNode(myid)
	if n.proc == nil || n.proc.exited() {
		c.t.Fatalf("zookeeper %d is not running", myid)
	}
	_ = n.proc.signal(syscall.SIGTERM)
	if _, ok := n.proc.wait(30 * time.Second); !ok {
		n.proc.kill()
	}
}

// StartZooKeeperNode starts ZooKeeper server myid again with its data and waits until it
// serves.
func (c *Cluster) StartZooKeeperNode(myid int) {
	c.t.Helper()
	n := c.zkNode(myid)
	if n.proc != nil && !n.proc.exited() {
		c.t.Fatalf("zookeeper %d is already running", myid)
	}
	if err := n.start(); err != nil {
		c.t.Fatal(err)
	}
	eventually(c.t, 90*time.Second, func() error {
		if n.proc.exited() {
			return fmt.Errorf("zookeeper %d %s", myid, describeState(n.proc.state))
		}
		return n.serving()
	})
}

// StartZooKeeperNodes starts several stopped ZooKeeper servers at once and waits until each
// serves: after the whole ensemble was down no single server can serve until a quorum is
// back, so StartZooKeeperNode one at a time would wait in vain.
func (c *Cluster) StartZooKeeperNodes(myids ...int) {
	c.t.Helper()
	for _, id := range myids {
		n := c.zkNode(id)
		if n.proc != nil && !n.proc.exited() {
			c.t.Fatalf("zookeeper %d is already running", id)
		}
		if err := n.start(); err != nil {
			c.t.Fatal(err)
		}
	}
	c.waitZooKeeper(c.t)
}

func (c *Cluster) zkNode(myid int) *zkNode {
	c.t.Helper()
	if myid < 1 || myid > len(c.zks) {
		c.t.Fatalf("no zookeeper %d in this cluster", myid)
	}
	return c.zks[myid-1]
}

// --- clients ---

// Client returns a franz-go client seeded with every broker, closed when t ends. Its log goes
// to the cluster's clients.log.
func (c *Cluster) Client(t testing.TB, opts ...kgo.Opt) *kgo.Client {
	t.Helper()
	name := t.Name()
	all := []kgo.Opt{
		kgo.SeedBrokers(c.Bootstrap()...),
		kgo.WithLogger(kgo.BasicLogger(c.clientLog, kgo.LogLevelInfo, func() string { return name + " " })),
	}
	cl, err := kgo.NewClient(append(all, opts...)...)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(cl.Close)
	return cl
}

// Admin returns a kadm client over a new Client.
func (c *Cluster) Admin(t testing.TB) *kadm.Client {
	t.Helper()
	return kadm.NewClient(c.Client(t))
}

func (c *Cluster) metaClient() *kgo.Client {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.meta == nil {
		cl, err := kgo.NewClient(kgo.SeedBrokers(c.Bootstrap()...),
			kgo.WithLogger(kgo.BasicLogger(c.clientLog, kgo.LogLevelWarn, func() string { return "harness " })),
			kgo.RequestRetries(2))
		if err != nil {
			c.t.Fatal(err)
		}
		c.meta = cl
	}
	return c.meta
}

// Metadata sends a Metadata request (no topics: all topics) without topic auto-creation.
func (c *Cluster) Metadata(ctx context.Context, topics ...string) (*kmsg.MetadataResponse, error) {
	req := kmsg.NewPtrMetadataRequest()
	for _, tp := range topics {
		rt := kmsg.NewMetadataRequestTopic()
		rt.Topic = kmsg.StringPtr(tp)
		req.Topics = append(req.Topics, rt)
	}
	req.AllowAutoTopicCreation = false
	return req.RequestWith(ctx, c.metaClient())
}

// WaitForBrokers waits until Metadata lists exactly n brokers.
func (c *Cluster) WaitForBrokers(n int) {
	c.t.Helper()
	c.eventually(60*time.Second, func() error {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		resp, err := c.Metadata(ctx)
		if err != nil {
			return err
		}
		var ids []int32
		for _, b := range resp.Brokers {
			ids = append(ids, b.NodeID)
		}
		if len(ids) != n {
			return fmt.Errorf("metadata lists brokers %v, want %d brokers", ids, n)
		}
		return nil
	})
}

// WaitForController waits until /controller names a broker and Metadata reports the same
// controller, and returns its id.
func (c *Cluster) WaitForController(t testing.TB) int32 {
	t.Helper()
	var id int32
	c.eventuallyT(t, 60*time.Second, func() error {
		data, _, err := c.ZK().Get(c.Path("/controller"))
		if err != nil {
			return fmt.Errorf("%s: %w", c.Path("/controller"), err)
		}
		var ctl struct {
			BrokerID *int32 `json:"brokerid"`
		}
		if err := json.Unmarshal(data, &ctl); err != nil || ctl.BrokerID == nil {
			return fmt.Errorf("/controller holds %q: %v", data, err)
		}
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		resp, err := c.Metadata(ctx)
		if err != nil {
			return err
		}
		if resp.ControllerID != *ctl.BrokerID {
			return fmt.Errorf("metadata controller %d, /controller says %d", resp.ControllerID, *ctl.BrokerID)
		}
		id = *ctl.BrokerID
		return nil
	})
	return id
}

// WaitForTopic waits until Metadata lists topic with n partitions, each with a leader.
func (c *Cluster) WaitForTopic(t testing.TB, topic string, partitions int) {
	t.Helper()
	c.eventuallyT(t, 60*time.Second, func() error {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		resp, err := c.Metadata(ctx, topic)
		if err != nil {
			return err
		}
		if len(resp.Topics) != 1 {
			return fmt.Errorf("metadata for %q returned %d topics", topic, len(resp.Topics))
		}
		rt := resp.Topics[0]
		if rt.ErrorCode != 0 {
			return fmt.Errorf("metadata for %q: error code %d", topic, rt.ErrorCode)
		}
		if len(rt.Partitions) != partitions {
			return fmt.Errorf("metadata for %q lists %d partitions, want %d", topic, len(rt.Partitions), partitions)
		}
		for _, p := range rt.Partitions {
			if p.ErrorCode != 0 || p.Leader < 0 {
				return fmt.Errorf("%s-%d: leader %d, error code %d", topic, p.Partition, p.Leader, p.ErrorCode)
			}
		}
		return nil
	})
}

// CreateTopic creates topic through CreateTopics (kadm) and waits until every partition has
// a leader.
func (c *Cluster) CreateTopic(t testing.TB, topic string, partitions int32, replicationFactor int16, configs map[string]*string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if _, err := c.Admin(t).CreateTopic(ctx, partitions, replicationFactor, configs, topic); err != nil {
		t.Fatalf("create topic %q: %v", topic, err)
	}
	c.WaitForTopic(t, topic, int(partitions))
}

// --- polling ---

// eventually calls f until it returns nil, failing t with f's last error after timeout.
func eventually(t testing.TB, timeout time.Duration, f func() error) {
	t.Helper()
	deadline := time.Now().Add(timeout)
	interval := 10 * time.Millisecond
	for {
		err := f()
		if err == nil {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("still not done after %v: %v", timeout, err)
		}
		timer := time.NewTimer(interval)
		<-timer.C
		interval = min(2*interval, 250*time.Millisecond)
	}
}

// eventually is eventually on the cluster's test, which also fails at once when a broker that
// should run has exited.
func (c *Cluster) eventually(timeout time.Duration, f func() error) {
	c.t.Helper()
	c.eventuallyT(c.t, timeout, f)
}

func (c *Cluster) eventuallyT(t testing.TB, timeout time.Duration, f func() error) {
	t.Helper()
	eventually(t, timeout, func() error {
		if err := c.checkAlive(); err != nil {
			t.Fatal(err)
		}
		return f()
	})
}

// checkAlive reports a broker that should run but has exited.
func (c *Cluster) checkAlive() error {
	for _, b := range c.brokers {
		if b.wantRunning && b.proc != nil && b.proc.exited() {
			return fmt.Errorf("broker %d %s; last lines of its log:\n%s", b.ID, describeState(b.proc.state), tailFile(b.StderrPath(), 40))
		}
	}
	return nil
}

// AssertAlive fails the test if a broker that should run has exited.
func (c *Cluster) AssertAlive(t testing.TB) {
	t.Helper()
	if err := c.checkAlive(); err != nil {
		t.Fatal(err)
	}
}
