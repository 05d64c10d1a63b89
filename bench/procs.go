package main

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"
)

// server is one process under test: a klassik broker or the kfake process.
type server struct {
	name    string // "broker1", "kfake"
	id      int32  // the broker id; 0 for kfake
	cmd     *exec.Cmd
	pprof   string // host:port of /debug/pprof/
	logPath string
	argv    []string
	exited  chan struct{} // closed once cmd.Wait returned
	waitErr error
}

// target is what the client talks to: a klassik cluster or a kfake cluster.
type target struct {
	name    string // "klassik", "kfake"
	addrs   []string
	servers []*server
}

// procs owns every process the benchmark starts; kill ends them all (each in its own
// process group, so a child's children go too).
type procs struct {
	mu  sync.Mutex
	all []*server
}

func (p *procs) start(name, logPath string, argv ...string) (*server, error) {
	f, err := os.Create(logPath)
	if err != nil {
		return nil, err
	}
	cmd := exec.Command(argv[0], argv[1:]...)
	cmd.Stdout, cmd.Stderr = f, f
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true, Pdeathsig: syscall.SIGKILL}
	if err := cmd.Start(); err != nil {
		f.Close()
		return nil, err
	}
	s := &server{name: name, cmd: cmd, logPath: logPath, argv: argv, exited: make(chan struct{})}
	go func() {
		s.waitErr = cmd.Wait()
		f.Close()
		close(s.exited)
	}()
	p.mu.Lock()
	p.all = append(p.all, s)
	p.mu.Unlock()
	return s, nil
}

func (p *procs) kill() {
	p.mu.Lock()
	defer p.mu.Unlock()
	for _, s := range p.all {
		s.kill9()
	}
}

// kill9 is kill -9 of the process group; it returns once the process is gone.
func (s *server) kill9() {
	select {
	case <-s.exited:
		return
	default:
	}
	_ = syscall.Kill(-s.cmd.Process.Pid, syscall.SIGKILL)
	<-s.exited
}

// stop sends SIGTERM (a klassik broker's controlled shutdown) and waits up to timeout for
// the exit; past it the process is killed and stop says so.
func (s *server) stop(timeout time.Duration) error {
	select {
	case <-s.exited:
		return s.waitErr
	default:
	}
	_ = s.cmd.Process.Signal(syscall.SIGTERM)
	t := time.NewTimer(timeout)
	defer t.Stop()
	select {
	case <-s.exited:
		return s.waitErr
	case <-t.C:
		s.kill9()
		return fmt.Errorf("%s did not exit within %v of SIGTERM; killed (log: %s)", s.name, timeout, s.logPath)
	}
}

func (s *server) alive() bool {
	select {
	case <-s.exited:
		return false
	default:
		return true
	}
}

// rssBytes is VmRSS from /proc/<pid>/status.
func (s *server) rssBytes() (int64, error) {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", s.cmd.Process.Pid))
	if err != nil {
		return 0, err
	}
	for _, line := range strings.Split(string(b), "\n") {
		if v, ok := strings.CutPrefix(line, "VmRSS:"); ok {
			f := strings.Fields(v) // "123456 kB"
			if len(f) == 2 && f[1] == "kB" {
				kb, err := strconv.ParseInt(f[0], 10, 64)
				return kb * 1024, err
			}
		}
	}
	return 0, fmt.Errorf("no VmRSS in /proc/%d/status", s.cmd.Process.Pid)
}

// cpuTime is the user and system time the process has used (/proc/<pid>/stat).
func cpuTime(pid int) (time.Duration, error) {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return 0, err
	}
	// The command name (field 2) may hold spaces; the fields after its ')' are fixed.
	i := bytes.LastIndexByte(b, ')')
	if i < 0 {
		return 0, errors.New("unreadable /proc/pid/stat")
	}
	f := strings.Fields(string(b[i+1:]))
	if len(f) < 13 {
		return 0, errors.New("short /proc/pid/stat")
	}
	// utime and stime are fields 14 and 15 of stat, 12 and 13 after the name, in clock
	// ticks: USER_HZ, 100 on Linux.
	ut, err1 := strconv.ParseInt(f[11], 10, 64)
	st, err2 := strconv.ParseInt(f[12], 10, 64)
	if err := errors.Join(err1, err2); err != nil {
		return 0, err
	}
	return time.Duration(ut+st) * 10 * time.Millisecond, nil
}

// startZooKeeper starts a standalone ZooKeeper (Debian's package) and waits until it serves.
func startZooKeeper(p *procs, dir string) (addr string, err error) {
	port, err := freePort()
	if err != nil {
		return "", err
	}
	zkDir := filepath.Join(dir, "zookeeper")
	if err := os.MkdirAll(filepath.Join(zkDir, "data"), 0o755); err != nil {
		return "", err
	}
	cfg := fmt.Sprintf("tickTime=500\ninitLimit=20\nsyncLimit=10\ndataDir=%s\nclientPort=%d\nclientPortAddress=127.0.0.1\nadmin.enableServer=false\n4lw.commands.whitelist=*\nmaxClientCnxns=0\n",
		filepath.Join(zkDir, "data"), port)
	if err := os.WriteFile(filepath.Join(zkDir, "zoo.cfg"), []byte(cfg), 0o644); err != nil {
		return "", err
	}
	if _, err := p.start("zookeeper", filepath.Join(zkDir, "zookeeper.log"), "java", "-Xmx512m", "-XX:+UseSerialGC",
		"-Dzookeeper.jmx.log4j.disable=true",
		"-cp", "/etc/zookeeper/conf_example:/usr/share/java/zookeeper.jar:/usr/share/java/slf4j-simple.jar",
		"org.apache.zookeeper.server.quorum.QuorumPeerMain", filepath.Join(zkDir, "zoo.cfg")); err != nil {
		return "", err
	}
	addr = fmt.Sprintf("127.0.0.1:%d", port)
	err = poll(90*time.Second, func() error {
		out, err := fourLetter(addr, "srvr")
		if err == nil && !strings.Contains(out, "Mode: ") {
			err = errors.New("not serving")
		}
		return err
	})
	if err != nil {
		return "", fmt.Errorf("zookeeper (log: %s): %w", filepath.Join(zkDir, "zookeeper.log"), err)
	}
	return addr, nil
}

// klassikCluster starts n brokers under the ZooKeeper chroot /<name>, each with its
// metrics.listener (for /debug/pprof/) on a free port. extra is appended to each server.toml.
func klassikCluster(p *procs, bin, dir, name, zkAddr string, n int, extra string) (*target, error) {
	rf, minISR := min(n, 3), min(n, 2)
	t := &target{name: "klassik"}
	for id := 1; id <= n; id++ {
		port, err1 := freePort()
		mport, err2 := freePort()
		if err := errors.Join(err1, err2); err != nil {
			return nil, err
		}
		bDir := filepath.Join(dir, fmt.Sprintf("%s-broker%d", name, id))
		if err := os.MkdirAll(filepath.Join(bDir, "data"), 0o755); err != nil {
			return nil, err
		}
		cfg := fmt.Sprintf(`broker.id = %d
listeners = "PLAINTEXT://127.0.0.1:%d"
metrics.listener = "127.0.0.1:%d"
zookeeper.connect = "%s/%s"
log.dirs = "%s"
num.partitions = 1
default.replication.factor = %d
min.insync.replicas = %d
offsets.topic.replication.factor = %d
transaction.state.log.replication.factor = %d
transaction.state.log.min.isr = 1
%s`, id, port, mport, zkAddr, name, filepath.Join(bDir, "data"), rf, minISR, rf, rf, extra)
		cfgPath := filepath.Join(bDir, "server.toml")
		if err := os.WriteFile(cfgPath, []byte(cfg), 0o644); err != nil {
			return nil, err
		}
		s, err := p.start(fmt.Sprintf("broker%d", id), filepath.Join(bDir, "stderr.log"), bin, "broker", "--config", cfgPath)
		if err != nil {
			return nil, err
		}
		s.id, s.pprof = int32(id), fmt.Sprintf("127.0.0.1:%d", mport)
		t.servers = append(t.servers, s)
		t.addrs = append(t.addrs, fmt.Sprintf("127.0.0.1:%d", port))
	}
	// Ready when each broker's /healthz says it has its session and is in the controller's
	// metadata.
	for _, s := range t.servers {
		if err := poll(90*time.Second, func() error {
			if !s.alive() {
				return fmt.Errorf("exited: %v (log: %s)", s.waitErr, s.logPath)
			}
			return httpOK("http://" + s.pprof + "/healthz")
		}); err != nil {
			return nil, fmt.Errorf("klassik %s: %w", s.name, err)
		}
	}
	return t, nil
}

// restart starts a stopped klassik broker again with its own config and data.
func (p *procs) restart(t *target, s *server) (*server, error) {
	ns, err := p.start(s.name, s.logPath+".restarted", s.argv...)
	if err != nil {
		return nil, err
	}
	ns.id, ns.pprof = s.id, s.pprof
	for i := range t.servers {
		if t.servers[i] == s {
			t.servers[i] = ns
		}
	}
	// A broker holding thousands of partitions loads each log before it serves: minutes.
	return ns, poll(10*time.Minute, func() error {
		if !ns.alive() {
			return fmt.Errorf("exited: %v (log: %s)", ns.waitErr, ns.logPath)
		}
		return httpOK("http://" + ns.pprof + "/healthz")
	})
}

// kfakeCluster starts bench/kfakeserver with n brokers and reads the addresses it prints.
func kfakeCluster(p *procs, bin, dir, name string, n int) (*target, error) {
	logPath := filepath.Join(dir, name+"-kfake.log")
	s, err := p.start("kfake", logPath, bin, "-brokers", strconv.Itoa(n), "-pprof", "127.0.0.1:0")
	if err != nil {
		return nil, err
	}
	t := &target{name: "kfake", servers: []*server{s}}
	err = poll(60*time.Second, func() error {
		if !s.alive() {
			return fmt.Errorf("exited: %v (log: %s)", s.waitErr, logPath)
		}
		f, err := os.Open(logPath)
		if err != nil {
			return err
		}
		defer f.Close()
		var addrs []string
		sc := bufio.NewScanner(io.LimitReader(f, 1<<20))
		for sc.Scan() {
			if a, ok := strings.CutPrefix(sc.Text(), "LISTEN "); ok {
				addrs = append(addrs, a)
			} else if a, ok := strings.CutPrefix(sc.Text(), "PPROF "); ok {
				s.pprof = a
			} else if sc.Text() == "READY" {
				t.addrs = addrs
				return nil
			}
		}
		return errors.New("not listening yet")
	})
	if err != nil {
		return nil, fmt.Errorf("kfake: %w", err)
	}
	return t, nil
}

func httpOK(url string) error {
	c := http.Client{Timeout: 2 * time.Second}
	resp, err := c.Get(url)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(io.LimitReader(resp.Body, 4096))
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("%s: %s: %s", url, resp.Status, strings.TrimSpace(string(b)))
	}
	return nil
}

func poll(timeout time.Duration, f func() error) error {
	deadline := time.Now().Add(timeout)
	for {
		err := f()
		if err == nil {
			return nil
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("not ready after %v: %w", timeout, err)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

func fourLetter(addr, cmd string) (string, error) {
	conn, err := net.DialTimeout("tcp", addr, 2*time.Second)
	if err != nil {
		return "", err
	}
	defer conn.Close()
	_ = conn.SetDeadline(time.Now().Add(3 * time.Second))
	if _, err := conn.Write([]byte(cmd)); err != nil {
		return "", err
	}
	b, err := io.ReadAll(io.LimitReader(conn, 16<<20))
	return string(b), err
}

func freePort() (int, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, err
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port, nil
}
