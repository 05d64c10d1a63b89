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
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/go-zookeeper/zk"
	"github.com/twmb/franz-go/pkg/kgo"
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
	perBroker  map[int32][]kv     // by broker id: BrokerConfigFor
	disks      map[int32]diskSpec // by broker id: TmpfsLogDir
	listeners  []string           // ExtraListeners
	before     []func(c *Cluster) // BeforeBrokers
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

// ExtraListeners gives every broker more listeners besides the harness's PLAINTEXT one, each on
// its own free port on 127.0.0.1 (Broker.ListenerAddr): "SSL", "SASL_SSL", or a name that
// listener.security.protocol.map maps (set it with BrokerConfig).
func ExtraListeners(names ...string) Option {
	return func(o *options) { o.listeners = append(o.listeners, names...) }
}

// BrokerConfigFor sets a property in one broker's server.toml only, over BrokerConfig's.
func BrokerConfigFor(id int32, key string, value any) Option {
	return func(o *options) {
		if o.perBroker == nil {
			o.perBroker = map[int32][]kv{}
		}
		o.perBroker[id] = append(o.perBroker[id], kv{key, value})
	}
}

// BeforeBrokers runs f once ZooKeeper is up and before any broker starts: to write znodes
// the brokers must find at their first start (ACLs that let them talk to each other, as
// kafka-acls.sh --authorizer-properties zookeeper.connect=... writes them in Kafka; SCRAM users,
// as kafka-configs --zookeeper creates them).
func BeforeBrokers(f func(c *Cluster)) Option {
	return func(o *options) { o.before = append(o.before, f) }
}

// Cluster is a ZooKeeper ensemble and klassik brokers, all on 127.0.0.1 with free ports.
//
// Methods that take no testing.TB report to the test that made the cluster and must be called
// from that test's goroutine; subtests sharing a cluster pass their own t where a method takes
// one.
type Cluster struct {
	t         testing.TB
	dir       string
	chroot    string
	zks       []*zkNode
	brokers   []*Broker      // brokers[id-1]
	extras    []*Broker      // brokers started with StartExtraBroker, not part of the cluster
	size      int            // the number of brokers asked for
	config    []kv           // from BrokerConfig, applied over the defaults
	perBroker map[int32][]kv // from BrokerConfigFor, applied last
	disks     map[int32]diskSpec

	extraListeners []string // from ExtraListeners

	mu        sync.Mutex // guards the lazily made clients below
	zkConn    *zk.Conn
	meta      *kgo.Client
	clientLog *os.File
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
	if len(o.disks) > 0 {
		if ok, why := TmpfsPermitted(); !ok {
			t.Skipf("a tmpfs log dir needs permission to mount (run as root): %s", why)
		}
	}
	c := &Cluster{t: t, dir: clusterDir(t), chroot: strings.TrimSuffix(o.chroot, "/"), config: o.config, perBroker: o.perBroker, disks: o.disks,
		extraListeners: o.listeners}
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
	for _, f := range o.before {
		f(c)
	}

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
		if err := b.unmount(); err != nil {
			c.t.Error(err)
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

// --- brokers ---

func (c *Cluster) brokerByID(id int32) *Broker {
	if id < 1 || int(id) > len(c.brokers) {
		return nil
	}
	return c.brokers[id-1]
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

// --- clients ---

// --- polling ---

func (c *Cluster) eventuallyT(t testing.TB, timeout time.Duration, f func() error) {
	t.Helper()
	eventually(t, timeout, func() error {
		if err := c.checkAlive(); err != nil {
			t.Fatal(err)
		}
		return f()
	})
}
