// Package zktest starts real ZooKeeper servers (Debian's zookeeper package) for tests: one
// standalone server with Start, or an ensemble with StartEnsemble whose nodes can be stopped
// and restarted, plus a TCP Proxy that can cut clients off (to force a session expiry).
//
// Java and /usr/share/java/zookeeper.jar must be present (override the jar with
// KLASSIK_ZK_JAR). When they are missing the test fails, unless KLASSIK_ALLOW_SKIP=1, then it
// is skipped.
package zktest

import (
	"bufio"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
)

const defaultJar = "/usr/share/java/zookeeper.jar"

// TickTime is the servers' tickTime in ms: sessions may be as short as 2 ticks (400ms), which
// keeps expiry tests fast.
const TickTime = 200

func requireJava(t testing.TB) (java, classpath string) {
	t.Helper()
	jar := os.Getenv("KLASSIK_ZK_JAR")
	if jar == "" {
		jar = defaultJar
	}
	java, err := exec.LookPath("java")
	missing := ""
	if err != nil {
		missing = "java is not on PATH"
	} else if _, err := os.Stat(jar); err != nil {
		missing = "ZooKeeper jar " + jar + " is missing (apt-get install zookeeper, or set KLASSIK_ZK_JAR)"
	}
	if missing != "" {
		if os.Getenv("KLASSIK_ALLOW_SKIP") == "1" {
			t.Skip("zktest: " + missing + "; skipping because KLASSIK_ALLOW_SKIP=1")
		}
		t.Fatal("zktest: " + missing + " (set KLASSIK_ALLOW_SKIP=1 to skip instead)")
	}
	// The Debian jar's manifest names its dependencies; the conf dir only adds log4j settings.
	cp := []string{jar}
	if _, err := os.Stat("/etc/zookeeper/conf_example"); err == nil {
		cp = append([]string{"/etc/zookeeper/conf_example"}, cp...)
	}
	return java, strings.Join(cp, ":")
}

// FreePort returns a TCP port on 127.0.0.1 that was free a moment ago.
func FreePort(t testing.TB) int {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatalf("zktest: free port: %v", err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port
}

// Node is one ZooKeeper server process.
type Node struct {
	ID         int
	ClientPort int
	Addr       string // 127.0.0.1:ClientPort
	dir        string
	cfg        string
	java, cp   string

	mu   sync.Mutex
	cmd  *exec.Cmd
	done chan struct{}
}

func (n *Node) start(t testing.TB) {
	t.Helper()
	n.mu.Lock()
	defer n.mu.Unlock()
	if n.cmd != nil {
		return
	}
	logf, err := os.OpenFile(filepath.Join(n.dir, "zookeeper.out"), os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644)
	if err != nil {
		t.Fatalf("zktest: %v", err)
	}
	cmd := exec.Command(n.java, "-Xmx128m", "-XX:+UseSerialGC", "-XX:TieredStopAtLevel=1",
		"-Dzookeeper.admin.enableServer=false", "-cp", n.cp,
		"org.apache.zookeeper.server.quorum.QuorumPeerMain", n.cfg)
	cmd.Stdout, cmd.Stderr = logf, logf
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	if err := cmd.Start(); err != nil {
		logf.Close()
		t.Fatalf("zktest: start ZooKeeper: %v", err)
	}
	done := make(chan struct{})
	go func() { cmd.Wait(); logf.Close(); close(done) }()
	n.cmd, n.done = cmd, done
}

// Stop kills the server (SIGKILL: a crash) and waits for it to exit. Idempotent.
func (n *Node) Stop() {
	n.mu.Lock()
	cmd, done := n.cmd, n.done
	n.cmd = nil
	n.mu.Unlock()
	if cmd == nil {
		return
	}
	_ = syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL)
	<-done
}

// Running reports whether the process is up.
func (n *Node) Running() bool {
	n.mu.Lock()
	defer n.mu.Unlock()
	if n.cmd == nil {
		return false
	}
	select {
	case <-n.done:
		return false
	default:
		return true
	}
}

// Mode asks the server with the "srvr" four-letter word: "standalone", "leader", "follower",
// or "" when it does not serve yet.
func (n *Node) Mode() string {
	c, err := net.DialTimeout("tcp", n.Addr, 500*time.Millisecond)
	if err != nil {
		return ""
	}
	defer c.Close()
	_ = c.SetDeadline(time.Now().Add(time.Second))
	if _, err := c.Write([]byte("srvr")); err != nil {
		return ""
	}
	sc := bufio.NewScanner(c)
	for sc.Scan() {
		if m, ok := strings.CutPrefix(sc.Text(), "Mode: "); ok {
			return strings.TrimSpace(m)
		}
	}
	return ""
}

func (n *Node) logTail() string {
	b, _ := os.ReadFile(filepath.Join(n.dir, "zookeeper.out"))
	if len(b) > 3000 {
		b = b[len(b)-3000:]
	}
	return string(b)
}

// Ensemble is a set of ZooKeeper servers on 127.0.0.1.
type Ensemble struct {
	Nodes []*Node
	t     testing.TB
}

// Connect is the zookeeper.connect string of every node ("127.0.0.1:p1,127.0.0.1:p2,...").
func (e *Ensemble) Connect() string {
	addrs := make([]string, len(e.Nodes))
	for i, n := range e.Nodes {
		addrs[i] = n.Addr
	}
	return strings.Join(addrs, ",")
}

// StopNode kills node i (0-based).
func (e *Ensemble) StopNode(i int) { e.Nodes[i].Stop() }

// RestartNode starts node i again (same data dir and ports) and waits until it serves.
func (e *Ensemble) RestartNode(i int) {
	e.t.Helper()
	e.Nodes[i].start(e.t)
	e.waitServing(e.Nodes[i:i+1], 60*time.Second)
}

// Stop kills every node. Idempotent; also run by t.Cleanup.
func (e *Ensemble) Stop() {
	for _, n := range e.Nodes {
		n.Stop()
	}
}

// WaitQuorum waits until every running node serves (a leader has been elected).
func (e *Ensemble) WaitQuorum() {
	e.t.Helper()
	var up []*Node
	for _, n := range e.Nodes {
		if n.Running() {
			up = append(up, n)
		}
	}
	e.waitServing(up, 60*time.Second)
}

func (e *Ensemble) waitServing(nodes []*Node, timeout time.Duration) {
	e.t.Helper()
	deadline := time.Now().Add(timeout)
	for _, n := range nodes {
		for n.Mode() == "" {
			if !n.Running() || time.Now().After(deadline) {
				e.Stop()
				e.t.Fatalf("zktest: ZooKeeper node %d (%s) did not start serving; its log ends:\n%s", n.ID, n.Addr, n.logTail())
			}
			time.Sleep(50 * time.Millisecond)
		}
	}
}

// StartEnsemble starts size ZooKeeper servers forming one ensemble (size 1: standalone) and
// waits until they serve. They are killed at the end of the test.
func StartEnsemble(t testing.TB, size int) *Ensemble {
	t.Helper()
	java, cp := requireJava(t)
	base := t.TempDir()
	e := &Ensemble{t: t}
	var servers []string
	for i := 1; i <= size; i++ {
		n := &Node{ID: i, ClientPort: FreePort(t), java: java, cp: cp, dir: filepath.Join(base, fmt.Sprintf("zk%d", i))}
		n.Addr = fmt.Sprintf("127.0.0.1:%d", n.ClientPort)
		e.Nodes = append(e.Nodes, n)
		if size > 1 {
			servers = append(servers, fmt.Sprintf("server.%d=127.0.0.1:%d:%d", i, FreePort(t), FreePort(t)))
		}
	}
	for _, n := range e.Nodes {
		data := filepath.Join(n.dir, "data")
		if err := os.MkdirAll(data, 0o755); err != nil {
			t.Fatalf("zktest: %v", err)
		}
		cfg := []string{
			fmt.Sprintf("tickTime=%d", TickTime),
			"initLimit=50",
			"syncLimit=25",
			"dataDir=" + data,
			fmt.Sprintf("clientPort=%d", n.ClientPort),
			"clientPortAddress=127.0.0.1",
			"admin.enableServer=false",
			"4lw.commands.whitelist=*",
			"maxClientCnxns=0",
			"minSessionTimeout=400",
			"maxSessionTimeout=60000",
			"preAllocSize=1024",
			"forceSync=no",
		}
		if size > 1 {
			cfg = append(cfg, servers...)
			if err := os.WriteFile(filepath.Join(data, "myid"), []byte(fmt.Sprintf("%d\n", n.ID)), 0o644); err != nil {
				t.Fatalf("zktest: %v", err)
			}
		}
		n.cfg = filepath.Join(n.dir, "zoo.cfg")
		if err := os.WriteFile(n.cfg, []byte(strings.Join(cfg, "\n")+"\n"), 0o644); err != nil {
			t.Fatalf("zktest: %v", err)
		}
	}
	t.Cleanup(e.Stop)
	for _, n := range e.Nodes {
		n.start(t)
	}
	e.waitServing(e.Nodes, 60*time.Second)
	return e
}

// Start starts one standalone ZooKeeper server and returns its connect string
// ("127.0.0.1:port") and a stop function (also run by t.Cleanup).
func Start(t testing.TB) (connect string, stop func()) {
	t.Helper()
	e := StartEnsemble(t, 1)
	return e.Connect(), e.Stop
}
