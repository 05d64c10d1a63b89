package integration

import (
	"bytes"
	"fmt"
	"os"
	"os/exec"
	"strings"
	"syscall"
	"time"
)

// process is one child process (a ZooKeeper node or a broker) started in its own process
// group, with stdout and stderr appended to a log file. Killing it kills the whole group, so
// nothing a test starts outlives it.
//
// Ownership: a process is driven by the goroutine of the test that started it; the only
// concurrent access is the wait goroutine, which publishes state and waitErr before closing
// done.
type process struct {
	name    string
	logPath string
	cmd     *exec.Cmd
	done    chan struct{}
	state   *os.ProcessState // set before done is closed
	waitErr error            // set before done is closed
}

// startProcess starts argv in dir with its output appended to logPath. A header line naming
// the command is written first, so a log that holds several runs of a broker (restarts)
// shows where each one begins.
// env nil inherits the test's environment.
func startProcess(name, logPath, dir string, env []string, argv ...string) (*process, error) {
	f, err := os.OpenFile(logPath, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644)
	if err != nil {
		return nil, err
	}
	fmt.Fprintf(f, "==== %s: start %s: %s\n", time.Now().Format(time.RFC3339Nano), name, strings.Join(argv, " "))
	cmd := exec.Command(argv[0], argv[1:]...)
	cmd.Dir = dir
	cmd.Env = env
	cmd.Stdout = f
	cmd.Stderr = f
	// Own process group: signals go to the group. Pdeathsig: if the test binary itself dies
	// (a go test -timeout panic skips t.Cleanup), the kernel kills the child.
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true, Pdeathsig: syscall.SIGKILL}
	if err := cmd.Start(); err != nil {
		f.Close()
		return nil, fmt.Errorf("start %s: %w", name, err)
	}
	p := &process{name: name, logPath: logPath, cmd: cmd, done: make(chan struct{})}
	go func() {
		err := cmd.Wait()
		p.waitErr = err
		p.state = cmd.ProcessState
		fmt.Fprintf(f, "==== %s: %s %s\n", time.Now().Format(time.RFC3339Nano), name, describeState(cmd.ProcessState))
		f.Close()
		close(p.done)
	}()
	return p, nil
}

func (p *process) pid() int { return p.cmd.Process.Pid }

// signal sends sig to the process group.
func (p *process) signal(sig syscall.Signal) error {
	if p.exited() {
		return fmt.Errorf("%s already exited (%s)", p.name, describeState(p.state))
	}
	return syscall.Kill(-p.pid(), sig)
}

func (p *process) exited() bool {
	select {
	case <-p.done:
		return true
	default:
		return false
	}
}

// wait waits up to timeout for the process to exit.
func (p *process) wait(timeout time.Duration) (*os.ProcessState, bool) {
	t := time.NewTimer(timeout)
	defer t.Stop()
	select {
	case <-p.done:
		return p.state, true
	case <-t.C:
		return nil, false
	}
}

// kill SIGKILLs the process group and waits for the process to be reaped.
func (p *process) kill() {
	_ = syscall.Kill(-p.pid(), syscall.SIGKILL)
	<-p.done
}

// describeState says how a process ended: "exited with code N" or "killed by signal S".
func describeState(st *os.ProcessState) string {
	if st == nil {
		return "still running"
	}
	if ws, ok := st.Sys().(syscall.WaitStatus); ok && ws.Signaled() {
		return fmt.Sprintf("killed by signal %s", ws.Signal())
	}
	return fmt.Sprintf("exited with code %d", st.ExitCode())
}

// tailFile returns the last n lines of the file at path.
func tailFile(path string, n int) string {
	b, err := os.ReadFile(path)
	if err != nil {
		return fmt.Sprintf("(cannot read %s: %v)", path, err)
	}
	b = bytes.TrimRight(b, "\n")
	lines := bytes.Split(b, []byte("\n"))
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return string(bytes.Join(lines, []byte("\n")))
}

// crashMarkers are what the Go runtime prints when a process dies of a panic, a fatal error
// or a detected data race: none of them may ever appear in a broker's output.
var crashMarkers = []string{"panic: ", "fatal error: ", "WARNING: DATA RACE"}

// findCrash returns the first line of the file at path that starts with a crash marker.
func findCrash(path string) string {
	b, err := os.ReadFile(path)
	if err != nil {
		return ""
	}
	for _, line := range strings.Split(string(b), "\n") {
		for _, m := range crashMarkers {
			if strings.HasPrefix(line, m) {
				return line
			}
		}
	}
	return ""
}
