package integration

import (
	"fmt"
	"io"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"time"
)

// Debian's zookeeper package (3.8). zookeeper.jar's manifest carries the Class-Path of the
// jars it needs; slf4j-simple gives its logging a backend (to stderr, which is the node's log
// file here).
const (
	zkJar        = "/usr/share/java/zookeeper.jar"
	zkSlf4jJar   = "/usr/share/java/slf4j-simple.jar"
	zkConfDir    = "/etc/zookeeper/conf_example"
	zkMainClass  = "org.apache.zookeeper.server.quorum.QuorumPeerMain"
	zkTickTimeMs = 500
)

// zkNode is one ZooKeeper server of the test ensemble. myid is 1..n.
type zkNode struct {
	myid         int
	clientPort   int
	peerPort     int
	electionPort int
	dir          string // holds zoo.cfg, data/ (with myid) and zookeeper.log
	proc         *process
}

func (n *zkNode) addr() string    { return fmt.Sprintf("127.0.0.1:%d", n.clientPort) }
func (n *zkNode) logPath() string { return filepath.Join(n.dir, "zookeeper.log") }
func (n *zkNode) cfgPath() string { return filepath.Join(n.dir, "zoo.cfg") }

// writeZKConfigs lays out the data directory and zoo.cfg of every node. A single node runs
// standalone; more nodes form a quorum on 127.0.0.1.
func writeZKConfigs(nodes []*zkNode) error {
	var servers strings.Builder
	if len(nodes) > 1 {
		for _, n := range nodes {
			fmt.Fprintf(&servers, "server.%d=127.0.0.1:%d:%d\n", n.myid, n.peerPort, n.electionPort)
		}
	}
	for _, n := range nodes {
		data := filepath.Join(n.dir, "data")
		if err := os.MkdirAll(data, 0o755); err != nil {
			return err
		}
		if err := os.WriteFile(filepath.Join(data, "myid"), fmt.Appendf(nil, "%d\n", n.myid), 0o644); err != nil {
			return err
		}
		cfg := fmt.Sprintf(`# written by klassik's integration harness
tickTime=%d
initLimit=20
syncLimit=10
dataDir=%s
clientPort=%d
clientPortAddress=127.0.0.1
maxClientCnxns=0
admin.enableServer=false
4lw.commands.whitelist=*
%s`, zkTickTimeMs, data, n.clientPort, servers.String())
		if err := os.WriteFile(n.cfgPath(), []byte(cfg), 0o644); err != nil {
			return err
		}
	}
	return nil
}

// zkArgv is the java command line of one node.
func zkArgv(n *zkNode) []string {
	cp := []string{zkConfDir, zkJar}
	if _, err := os.Stat(zkSlf4jJar); err == nil {
		cp = append(cp, zkSlf4jJar)
	}
	return []string{
		"java",
		"-Xms32m", "-Xmx256m", "-XX:+UseSerialGC", "-XX:TieredStopAtLevel=1",
		"-Djava.awt.headless=true",
		"-Dzookeeper.jmx.log4j.disable=true",
		"-Dzookeeper.admin.enableServer=false",
		"-Dorg.slf4j.simpleLogger.showDateTime=true",
		"-cp", strings.Join(cp, ":"),
		zkMainClass, n.cfgPath(),
	}
}

// checkZooKeeperInstalled tells what is missing to run ZooKeeper, or nil.
func checkZooKeeperInstalled() error {
	if _, err := os.Stat(zkJar); err != nil {
		return fmt.Errorf("zookeeper: Debian's zookeeper package is not installed (%s missing): run scripts/install-deps.sh", zkJar)
	}
	if _, err := exec.LookPath("java"); err != nil {
		return fmt.Errorf("java not found: run scripts/install-deps.sh")
	}
	return nil
}

func (n *zkNode) start() error {
	p, err := startProcess(fmt.Sprintf("zookeeper-%d", n.myid), n.logPath(), n.dir, nil, zkArgv(n)...)
	if err != nil {
		return err
	}
	n.proc = p
	return nil
}

// serving asks the node with the srvr four-letter word whether it serves clients, which a
// quorum member does only once a leader is elected.
func (n *zkNode) serving() error {
	out, err := fourLetterWord(n.addr(), "srvr")
	if err != nil {
		return err
	}
	if !strings.Contains(out, "Mode: ") {
		return fmt.Errorf("zookeeper %d not serving: %q", n.myid, strings.TrimSpace(out))
	}
	return nil
}

// fourLetterWord sends one of ZooKeeper's four-letter commands and returns the answer.
func fourLetterWord(addr, cmd string) (string, error) {
	conn, err := net.DialTimeout("tcp", addr, 2*time.Second)
	if err != nil {
		return "", err
	}
	defer conn.Close()
	_ = conn.SetDeadline(time.Now().Add(3 * time.Second))
	if _, err := conn.Write([]byte(cmd)); err != nil {
		return "", err
	}
	b, err := io.ReadAll(conn)
	if err != nil && len(b) == 0 {
		return "", err
	}
	return string(b), nil
}

// Free ports: listen on 127.0.0.1:0, close, hand out. A port is never handed out twice in
// one test binary, which leaves only the small race with other programs on the machine.
var (
	portsMu   sync.Mutex
	portsUsed = map[int]bool{}
)

func freePort() (int, error) {
	portsMu.Lock()
	defer portsMu.Unlock()
	for range 100 {
		l, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			return 0, err
		}
		port := l.Addr().(*net.TCPAddr).Port
		l.Close()
		if !portsUsed[port] {
			portsUsed[port] = true
			return port, nil
		}
	}
	return 0, fmt.Errorf("no free port found")
}
