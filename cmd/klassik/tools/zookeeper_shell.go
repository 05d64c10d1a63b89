package tools

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"os"
	"path"
	"sort"
	"strings"
	"time"

	"github.com/go-zookeeper/zk"
	"github.com/mattn/go-isatty"
)

// zookeeper-shell mirrors Kafka's zookeeper-shell.sh, which runs ZooKeeper's ZooKeeperMain:
//
//	klassik zookeeper-shell host:2181[/chroot] [command args...]
//
// With a command it runs that one command and exits with its status; without one it reads
// commands from stdin (with a prompt only when stdin is a terminal). Commands: ls [-s] [-R],
// get [-s], stat, create [-e] [-s], set, delete, deleteall, help, quit. Output follows zkCli.

const zkUsage = `ZooKeeper -server host:port[/chroot] cmd args
	create [-s] [-e] path [data]
	delete path
	deleteall path
	get [-s] path
	help
	ls [-s] [-R] path
	quit
	set path data
	stat path`

// nopLogger silences go-zookeeper's connection log lines.
type nopLogger struct{}

func (nopLogger) Printf(string, ...any) {}

// zkShell runs commands on one connection.
type zkShell struct {
	conn   zkConn
	chroot string
	out    io.Writer
	errOut io.Writer
}

// zkConn is the part of *zk.Conn the shell uses, so the commands can be tested with a fake.
type zkConn interface {
	Children(path string) ([]string, *zk.Stat, error)
	Get(path string) ([]byte, *zk.Stat, error)
	Exists(path string) (bool, *zk.Stat, error)
	Create(path string, data []byte, flags int32, acl []zk.ACL) (string, error)
	Set(path string, data []byte, version int32) (*zk.Stat, error)
	Delete(path string, version int32) error
}

// splitConnect splits "h1:2181,h2:2181/chroot" into servers and chroot.
func splitConnect(s string) ([]string, string) {
	chroot := ""
	if i := strings.IndexByte(s, '/'); i >= 0 {
		s, chroot = s[:i], strings.TrimSuffix(s[i:], "/")
	}
	return splitServers(s), chroot
}

func runZookeeperShell(args []string, stdin io.Reader, stdout, stderr io.Writer) int {
	var server string
	var rest []string
	for i := 0; i < len(args); i++ {
		a := args[i]
		switch {
		case a == "-h" || a == "--help" || a == "-help":
			fmt.Fprintln(stdout, "USAGE: klassik zookeeper-shell zookeeper_host:port[/path] [-zk-tls-config-file file] [args...]")
			fmt.Fprintln(stdout, zkUsage)
			return 0
		case (a == "-server" || a == "--server") && i+1 < len(args) && server == "":
			server = args[i+1]
			i++
		case a == "-zk-tls-config-file" && i+1 < len(args):
			fmt.Fprintln(stderr, "Note: -zk-tls-config-file is ignored by klassik.")
			i++
		case server == "" && len(rest) == 0:
			server = a
		default:
			rest = append(rest, a)
		}
	}
	if server == "" {
		fmt.Fprintln(stderr, "USAGE: klassik zookeeper-shell zookeeper_host:port[/path] [-zk-tls-config-file file] [args...]")
		return 1
	}
	servers, chroot := splitConnect(server)
	if len(servers) == 0 {
		fmt.Fprintf(stderr, "Invalid ZooKeeper connect string %q\n", server)
		return 1
	}
	fmt.Fprintf(stdout, "Connecting to %s\n", server)
	conn, events, err := zk.Connect(servers, 30*time.Second, zk.WithLogger(nopLogger{}))
	if err != nil {
		fmt.Fprintf(stderr, "Could not connect to ZooKeeper at %s: %v\n", server, err)
		return 1
	}
	defer conn.Close()
	deadline := time.After(connectTimeout)
wait:
	for {
		select {
		case ev := <-events:
			if ev.State == zk.StateHasSession {
				break wait
			}
			if ev.State == zk.StateAuthFailed || ev.State == zk.StateExpired {
				fmt.Fprintf(stderr, "Could not connect to ZooKeeper at %s: %v\n", server, ev.State)
				return 1
			}
		case <-deadline:
			fmt.Fprintf(stderr, "Could not connect to ZooKeeper at %s within %s\n", server, connectTimeout)
			return 1
		}
	}
	fmt.Fprint(stdout, "\nWATCHER::\n\nWatchedEvent state:SyncConnected type:None path:null\n")
	sh := &zkShell{conn: conn, chroot: chroot, out: stdout, errOut: stderr}
	if len(rest) > 0 {
		return sh.exec(rest)
	}
	interactive := false
	if f, ok := stdin.(*os.File); ok && isatty.IsTerminal(f.Fd()) {
		interactive = true
	}
	sc := bufio.NewScanner(stdin)
	sc.Buffer(make([]byte, 1024*1024), 1024*1024)
	code, n := 0, 0
	for {
		if interactive {
			fmt.Fprintf(stdout, "[zk: %s(CONNECTED) %d] ", server, n)
		}
		if !sc.Scan() {
			break
		}
		fields := strings.Fields(sc.Text())
		if len(fields) == 0 {
			continue
		}
		n++
		if fields[0] == "quit" || fields[0] == "close" {
			break
		}
		code = sh.exec(fields)
	}
	return code
}

// full maps a user path to the server path under the chroot.
func (s *zkShell) full(p string) string {
	if s.chroot == "" {
		return p
	}
	if p == "/" {
		return s.chroot
	}
	return s.chroot + p
}

// zkError renders an error as zkCli does.
func zkError(err error, p string) string {
	switch {
	case errors.Is(err, zk.ErrNoNode):
		return "Node does not exist: " + p
	case errors.Is(err, zk.ErrNodeExists):
		return "Node already exists: " + p
	case errors.Is(err, zk.ErrNotEmpty):
		return "Node not empty: " + p
	case errors.Is(err, zk.ErrNoChildrenForEphemerals):
		return "Ephemerals cannot have children: " + p
	case errors.Is(err, zk.ErrBadVersion):
		return "version No is not valid : " + p
	}
	return err.Error()
}

// exec runs one command line and returns its exit status.
func (s *zkShell) exec(fields []string) int {
	cmd := fields[0]
	var flags []string
	var args []string
	for _, f := range fields[1:] {
		if strings.HasPrefix(f, "-") && len(args) == 0 && len(f) > 1 {
			flags = append(flags, f)
		} else {
			args = append(args, f)
		}
	}
	has := func(f string) bool {
		for _, x := range flags {
			if x == f {
				return true
			}
		}
		return false
	}
	needPath := func() (string, bool) {
		if len(args) < 1 {
			fmt.Fprintln(s.errOut, zkUsage)
			return "", false
		}
		p := args[0]
		if !strings.HasPrefix(p, "/") {
			fmt.Fprintln(s.errOut, "Path must start with / character")
			return "", false
		}
		return p, true
	}
	fail := func(err error, p string) int {
		fmt.Fprintln(s.errOut, zkError(err, p))
		return 1
	}
	switch cmd {
	case "ls", "ls2":
		p, ok := needPath()
		if !ok {
			return 1
		}
		if has("-R") {
			return s.lsR(p)
		}
		children, st, err := s.conn.Children(s.full(p))
		if err != nil {
			return fail(err, p)
		}
		sort.Strings(children)
		fmt.Fprintf(s.out, "[%s]\n", strings.Join(children, ", "))
		if has("-s") || cmd == "ls2" {
			writeStat(s.out, st)
		}
	case "get":
		p, ok := needPath()
		if !ok {
			return 1
		}
		data, st, err := s.conn.Get(s.full(p))
		if err != nil {
			return fail(err, p)
		}
		if data == nil {
			fmt.Fprintln(s.out, "null")
		} else {
			fmt.Fprintln(s.out, string(data))
		}
		if has("-s") {
			writeStat(s.out, st)
		}
	case "stat":
		p, ok := needPath()
		if !ok {
			return 1
		}
		exists, st, err := s.conn.Exists(s.full(p))
		if err != nil {
			return fail(err, p)
		}
		if !exists {
			return fail(zk.ErrNoNode, p)
		}
		writeStat(s.out, st)
	case "create":
		p, ok := needPath()
		if !ok {
			return 1
		}
		var flag int32
		if has("-e") {
			flag |= zk.FlagEphemeral
		}
		if has("-s") {
			flag |= zk.FlagSequence
		}
		var data []byte
		if len(args) > 1 {
			data = []byte(args[1])
		}
		created, err := s.conn.Create(s.full(p), data, flag, zk.WorldACL(zk.PermAll))
		if err != nil {
			return fail(err, p)
		}
		fmt.Fprintf(s.out, "Created %s\n", strings.TrimPrefix(created, s.chroot))
	case "set":
		p, ok := needPath()
		if !ok {
			return 1
		}
		if len(args) < 2 {
			fmt.Fprintln(s.errOut, zkUsage)
			return 1
		}
		if _, err := s.conn.Set(s.full(p), []byte(args[1]), -1); err != nil {
			return fail(err, p)
		}
	case "delete":
		p, ok := needPath()
		if !ok {
			return 1
		}
		if err := s.conn.Delete(s.full(p), -1); err != nil {
			return fail(err, p)
		}
	case "deleteall", "rmr":
		p, ok := needPath()
		if !ok {
			return 1
		}
		if err := s.deleteAll(s.full(p)); err != nil {
			return fail(err, p)
		}
	case "help", "h":
		fmt.Fprintln(s.out, zkUsage)
	default:
		fmt.Fprintln(s.errOut, zkUsage)
		return 1
	}
	return 0
}

// lsR lists a path and every descendant, breadth first, as zkCli's ls -R does.
func (s *zkShell) lsR(p string) int {
	queue := []string{p}
	for len(queue) > 0 {
		cur := queue[0]
		queue = queue[1:]
		children, _, err := s.conn.Children(s.full(cur))
		if err != nil {
			fmt.Fprintln(s.errOut, zkError(err, cur))
			return 1
		}
		fmt.Fprintln(s.out, cur)
		sort.Strings(children)
		for _, c := range children {
			queue = append(queue, path.Join(cur, c))
		}
	}
	return 0
}

// deleteAll removes a node and its subtree, children first.
func (s *zkShell) deleteAll(p string) error {
	children, _, err := s.conn.Children(p)
	if err != nil {
		return err
	}
	for _, c := range children {
		if err := s.deleteAll(path.Join(p, c)); err != nil && !errors.Is(err, zk.ErrNoNode) {
			return err
		}
	}
	return s.conn.Delete(p, -1)
}

// javaDate formats a millisecond time like java.util.Date.toString.
func javaDate(ms int64) string {
	return time.UnixMilli(ms).Format("Mon Jan 02 15:04:05 MST 2006")
}

// writeStat prints a Stat as zkCli's StatPrinter does.
func writeStat(w io.Writer, st *zk.Stat) {
	if st == nil {
		return
	}
	fmt.Fprintf(w, "cZxid = 0x%x\n", st.Czxid)
	fmt.Fprintf(w, "ctime = %s\n", javaDate(st.Ctime))
	fmt.Fprintf(w, "mZxid = 0x%x\n", st.Mzxid)
	fmt.Fprintf(w, "mtime = %s\n", javaDate(st.Mtime))
	fmt.Fprintf(w, "pZxid = 0x%x\n", st.Pzxid)
	fmt.Fprintf(w, "cversion = %d\n", st.Cversion)
	fmt.Fprintf(w, "dataVersion = %d\n", st.Version)
	fmt.Fprintf(w, "aclVersion = %d\n", st.Aversion)
	fmt.Fprintf(w, "ephemeralOwner = 0x%x\n", st.EphemeralOwner)
	fmt.Fprintf(w, "dataLength = %d\n", st.DataLength)
	fmt.Fprintf(w, "numChildren = %d\n", st.NumChildren)
}
