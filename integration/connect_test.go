package integration

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kgo"
)

// connectWorker is one `klassik connect-standalone` process run in dir (so that the
// connector files' relative test.txt and test.sink.txt are there, as in Kafka's quickstart).
type connectWorker struct {
	t    *testing.T
	dir  string
	args []string
	url  string // the REST listener
	log  string
	proc *process
}

// copyKafkaConfig copies one of Kafka's quickstart files from testdata into dir, replacing
// whole lines (each must be there, so a changed file fails loudly) and appending extra.
func copyKafkaConfig(t *testing.T, dir, name string, replace map[string]string, extra string) string {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("testdata", "connect", name))
	if err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(string(b), "\n")
	for old, repl := range replace {
		i := slices.Index(lines, old)
		if i < 0 {
			t.Fatalf("%s has no line %q", name, old)
		}
		lines[i] = repl
	}
	out := strings.Join(lines, "\n") + extra
	path := filepath.Join(dir, name)
	if err := os.WriteFile(path, []byte(out), 0o644); err != nil {
		t.Fatal(err)
	}
	return path
}

func (w *connectWorker) start() {
	w.t.Helper()
	p, err := startProcess("connect-standalone", w.log, w.dir, brokerEnv(), append([]string{klassikBin, "connect-standalone"}, w.args...)...)
	if err != nil {
		w.t.Fatal(err)
	}
	w.proc = p
	// Both connectors RUNNING, as GET /connectors/NAME/status says.
	eventually(w.t, 60*time.Second, func() error {
		if p.exited() {
			w.t.Fatalf("connect-standalone exited (%s):\n%s", describeState(p.state), tailFile(w.log, 40))
		}
		for _, name := range []string{"local-file-source", "local-file-sink"} {
			var st struct {
				Connector struct{ State string }
				Tasks     []struct{ State, Trace string }
			}
			if code, err := w.getJSON("/connectors/"+name+"/status", &st); err != nil || code != 200 {
				return fmt.Errorf("status of %s: %d %v", name, code, err)
			}
			if st.Connector.State != "RUNNING" || len(st.Tasks) != 1 || st.Tasks[0].State != "RUNNING" {
				return fmt.Errorf("%s: %+v", name, st)
			}
		}
		return nil
	})
}

// stop sends sig and waits for the process to end; SIGTERM must end it cleanly (exit 0).
func (w *connectWorker) stop(sig syscall.Signal) {
	w.t.Helper()
	if err := w.proc.signal(sig); err != nil {
		w.t.Fatal(err)
	}
	st, ok := w.proc.wait(30 * time.Second)
	if !ok {
		w.t.Fatalf("connect-standalone did not exit within 30 s of %s:\n%s", sig, tailFile(w.log, 30))
	}
	if sig == syscall.SIGTERM && st.ExitCode() != 0 {
		w.t.Fatalf("connect-standalone exited %s after SIGTERM:\n%s", describeState(st), tailFile(w.log, 30))
	}
}

// waitForLog waits until one line that the current run of the process logged holds every
// one of parts.
func (w *connectWorker) waitForLog(timeout time.Duration, parts ...string) {
	w.t.Helper()
	eventually(w.t, timeout, func() error {
		b, err := os.ReadFile(w.log)
		if err != nil {
			return err
		}
		lines := strings.Split(string(b), "\n")
		for i := len(lines) - 1; i >= 0 && !strings.Contains(lines[i], ": start connect-standalone:"); i-- {
			found := true
			for _, p := range parts {
				found = found && strings.Contains(lines[i], p)
			}
			if found {
				return nil
			}
		}
		return fmt.Errorf("connect-standalone has not logged a line with %q", parts)
	})
}

func (w *connectWorker) getJSON(path string, v any) (int, error) {
	resp, err := http.Get(w.url + path)
	if err != nil {
		return 0, err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	if err != nil {
		return 0, err
	}
	if v != nil {
		if err := json.Unmarshal(b, v); err != nil {
			return resp.StatusCode, fmt.Errorf("%s: %v: %s", path, err, b)
		}
	}
	return resp.StatusCode, nil
}

func (w *connectWorker) getBody(path string) (int, string) {
	w.t.Helper()
	resp, err := http.Get(w.url + path)
	if err != nil {
		w.t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	return resp.StatusCode, string(b)
}

// appendLines writes lines to the file one at a time, every gap, as a program logging to it.
func appendLines(t *testing.T, path string, lines []string, gap time.Duration) {
	f, err := os.OpenFile(path, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644)
	if err != nil {
		t.Error(err)
		return
	}
	defer f.Close()
	for _, l := range lines {
		if _, err := f.WriteString(l + "\n"); err != nil {
			t.Error(err)
			return
		}
		time.Sleep(gap)
	}
}

func numbered(prefix string, n int) []string {
	out := make([]string, n)
	for i := range out {
		out[i] = fmt.Sprintf("%s-%04d", prefix, i)
	}
	return out
}

func readLines(t *testing.T, path string) []string {
	t.Helper()
	b, err := os.ReadFile(path)
	if os.IsNotExist(err) {
		return nil
	}
	if err != nil {
		t.Fatal(err)
	}
	s := strings.TrimSuffix(string(b), "\n")
	if s == "" {
		return nil
	}
	return strings.Split(s, "\n")
}

// waitForLine waits until the sink file holds line.
func waitForLine(t *testing.T, w *connectWorker, path, line string, timeout time.Duration) {
	t.Helper()
	eventually(t, timeout, func() error {
		if w.proc.exited() {
			t.Fatalf("connect-standalone exited (%s):\n%s", describeState(w.proc.state), tailFile(w.log, 40))
		}
		if slices.Contains(readLines(t, path), line) {
			return nil
		}
		return fmt.Errorf("%s does not hold %q yet (%d lines)", filepath.Base(path), line, len(readLines(t, path)))
	})
}

// topicValues reads every record of connect-test from the start, up to its end now.
func topicValues(t *testing.T, c *Cluster) (values []string, nullKeys bool) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	ends, err := c.Admin(t).ListEndOffsets(ctx, "connect-test")
	if err != nil {
		t.Fatal(err)
	}
	end, ok := ends.Lookup("connect-test", 0)
	if !ok || end.Err != nil {
		t.Fatalf("end offset of connect-test: %+v", end)
	}
	cl := c.Client(t, kgo.ConsumePartitions(map[string]map[int32]kgo.Offset{"connect-test": {0: kgo.NewOffset().AtStart()}}))
	nullKeys = true
	for int64(len(values)) < end.Offset {
		fs := cl.PollFetches(ctx)
		if ctx.Err() != nil {
			t.Fatalf("read %d of %d records of connect-test", len(values), end.Offset)
		}
		fs.EachRecord(func(r *kgo.Record) {
			values = append(values, string(r.Value))
			nullKeys = nullKeys && r.Key == nil
		})
	}
	return values, nullKeys
}

func envelope(line string) string {
	b, _ := json.Marshal(line)
	return `{"schema":{"type":"string","optional":false},"payload":` + string(b) + `}`
}

// counts tallies lines.
func counts(lines []string) map[string]int {
	m := map[string]int{}
	for _, l := range lines {
		m[l]++
	}
	return m
}

// TestConnectQuickstart runs Kafka's quickstart step 6 with Kafka's own files
// (testdata/connect, from Kafka 3.6.2): the worker's bootstrap.servers, offsets file and a
// REST listener point at this test, and nothing else changes. It checks the pipeline
// test.txt -> connect-test -> test.sink.txt, the exact JsonConverter envelopes in the topic
// (Kafka's quickstart shows {"schema":{"type":"string","optional":false},"payload":"foo"}),
// the REST status, and restarts while lines are being appended:
//
//   - after SIGTERM, exactly once: the source commits the position of every acknowledged
//     line and the sink syncs its file and commits its group's offsets before they exit;
//   - after SIGKILL, at least once (Kafka's guarantee): nothing is lost; what repeats is what
//     was delivered after the last offset.flush.interval.ms (10 s) flush of each side.
func TestConnectQuickstart(t *testing.T) {
	c := NewCluster(t, Brokers(1))
	dir := filepath.Join(c.dir, "connect")
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	port := c.port()
	worker := copyKafkaConfig(t, dir, "connect-standalone.properties", map[string]string{
		"bootstrap.servers=localhost:9092":                  "bootstrap.servers=" + c.BootstrapServers(),
		"offset.storage.file.filename=/tmp/connect.offsets": "offset.storage.file.filename=" + filepath.Join(dir, "connect.offsets"),
	}, fmt.Sprintf("\nlisteners=http://127.0.0.1:%d\n", port))
	source := copyKafkaConfig(t, dir, "connect-file-source.properties", nil, "")
	sink := copyKafkaConfig(t, dir, "connect-file-sink.properties", nil, "")
	w := &connectWorker{t: t, dir: dir, args: []string{worker, source, sink}, url: fmt.Sprintf("http://127.0.0.1:%d", port),
		log: filepath.Join(c.dir, "connect.log")}
	t.Cleanup(func() {
		if line := findCrash(w.log); line != "" {
			t.Errorf("connect-standalone crashed: %s", line)
		}
		if w.proc != nil {
			w.proc.kill()
			if t.Failed() {
				t.Logf("connect-standalone log (last lines):\n%s", tailFile(w.log, 60))
			}
		}
	})
	input, output := filepath.Join(dir, "test.txt"), filepath.Join(dir, "test.sink.txt")

	// The quickstart: echo -e "foo\nbar" > test.txt, start Connect, more test.sink.txt.
	if err := os.WriteFile(input, []byte("foo\nbar\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	w.start()
	waitForLine(t, w, output, "bar", 60*time.Second)
	if got := readLines(t, output); !slices.Equal(got, []string{"foo", "bar"}) {
		t.Fatalf("test.sink.txt: %q", got)
	}
	values, nullKeys := topicValues(t, c)
	want := []string{`{"schema":{"type":"string","optional":false},"payload":"foo"}`, `{"schema":{"type":"string","optional":false},"payload":"bar"}`}
	if !slices.Equal(values, want) || !nullKeys {
		t.Fatalf("connect-test holds %q (null keys: %v), want %q", values, nullKeys, want)
	}
	appendLines(t, input, []string{"Another line"}, 0)
	waitForLine(t, w, output, "Another line", 30*time.Second)

	// The REST API's basics.
	var names []string
	if code, err := w.getJSON("/connectors", &names); err != nil || code != 200 || !slices.Equal(names, []string{"local-file-sink", "local-file-source"}) {
		t.Fatalf("GET /connectors: %d %q %v", code, names, err)
	}
	code, body := w.getBody("/connectors/local-file-source/status")
	wantStatus := fmt.Sprintf(`{"name":"local-file-source","connector":{"state":"RUNNING","worker_id":"127.0.0.1:%d"},"tasks":[{"id":0,"state":"RUNNING","worker_id":"127.0.0.1:%d"}],"type":"source"}`, port, port)
	if code != 200 || body != wantStatus {
		t.Fatalf("GET /connectors/local-file-source/status: %d %s\nwant %s", code, body, wantStatus)
	}
	if code, body := w.getBody("/connectors/nope/status"); code != 404 || body != `{"error_code":404,"message":"Connector nope not found"}` {
		t.Fatalf("unknown connector: %d %s", code, body)
	}
	var info struct {
		Config map[string]string
		Type   string
	}
	if code, err := w.getJSON("/connectors/local-file-sink", &info); err != nil || code != 200 || info.Type != "sink" || info.Config["topics"] != "connect-test" {
		t.Fatalf("GET /connectors/local-file-sink: %d %+v %v", code, info, err)
	}
	var root struct {
		Version, Commit string
		ClusterID       string `json:"kafka_cluster_id"`
	}
	if code, err := w.getJSON("/", &root); err != nil || code != 200 || root.ClusterID == "" || root.Version == "" {
		t.Fatalf("GET /: %d %+v %v", code, root, err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	md, err := c.Admin(t).Metadata(ctx)
	cancel()
	if err != nil || md.Cluster != root.ClusterID {
		t.Fatalf("GET / says cluster %q, Metadata says %q (%v)", root.ClusterID, md.Cluster, err)
	}

	// SIGTERM while lines are being appended, then a restart: exactly once.
	first := append([]string{"foo", "bar", "Another line"}, numbered("term", 400)...)
	var wg sync.WaitGroup
	wg.Add(1)
	go func() { defer wg.Done(); appendLines(t, input, numbered("term", 400), 5*time.Millisecond) }()
	waitForLine(t, w, output, "term-0100", 30*time.Second)
	w.stop(syscall.SIGTERM)
	stoppedAt := len(readLines(t, output))
	w.start()
	wg.Wait()
	waitForLine(t, w, output, "term-0399", 60*time.Second)
	got := readLines(t, output)
	if !slices.Equal(got, first) {
		t.Fatalf("after a SIGTERM at sink line %d, test.sink.txt does not hold every line exactly once in order: %d lines, %d distinct",
			stoppedAt, len(got), len(counts(got)))
	}
	values, _ = topicValues(t, c)
	for i, v := range values {
		if i >= len(first) || v != envelope(first[i]) {
			t.Fatalf("after a SIGTERM, connect-test record %d is %s, want %s (%d records for %d lines)", i, v, envelope(first[min(i, len(first)-1)]), len(values), len(first))
		}
	}
	if len(values) != len(first) {
		t.Fatalf("after a SIGTERM, connect-test holds %d records for %d lines", len(values), len(first))
	}
	t.Logf("SIGTERM at sink line %d of %d: every line exactly once in test.sink.txt and in connect-test", stoppedAt, len(first))

	// Both sides flush every offset.flush.interval.ms (10 s): wait for the flushes that cover
	// every line so far, so that what a SIGKILL repeats is only what came after them.
	fi, err := os.Stat(input)
	if err != nil {
		t.Fatal(err)
	}
	w.waitForLog(30*time.Second, "Committing offsets for", fmt.Sprintf(`"position":%d`, fi.Size()))
	w.waitForLog(30*time.Second, fmt.Sprintf("Committed offsets {connect-test-0=OffsetAndMetadata{offset=%d}}", len(first)))

	// SIGKILL while lines are being appended, then a restart: nothing lost.
	wg.Add(1)
	go func() { defer wg.Done(); appendLines(t, input, numbered("kill", 400), 5*time.Millisecond) }()
	waitForLine(t, w, output, "kill-0100", 30*time.Second)
	w.stop(syscall.SIGKILL)
	killedAt := len(readLines(t, output))
	w.start()
	wg.Wait()
	// The killed sink's group member holds its partition until its session times out
	// (45 s), then the new one resumes from the last committed offset.
	waitForLine(t, w, output, "kill-0399", 120*time.Second)
	all := append(slices.Clone(first), numbered("kill", 400)...)
	got = readLines(t, output)
	seen := counts(got)
	for _, l := range all {
		if seen[l] == 0 {
			t.Fatalf("after a SIGKILL, line %q was lost", l)
		}
	}
	if len(seen) != len(all) {
		t.Fatalf("test.sink.txt holds %d distinct lines, %d were written", len(seen), len(all))
	}
	for _, l := range first {
		if seen[l] != 1 {
			t.Fatalf("line %q, committed by both sides before the SIGKILL, is in test.sink.txt %d times", l, seen[l])
		}
	}
	values, _ = topicValues(t, c)
	topicSeen := counts(values)
	for _, l := range all {
		if topicSeen[envelope(l)] == 0 {
			t.Fatalf("after a SIGKILL, line %q is not in connect-test", l)
		}
	}
	for _, l := range first {
		if topicSeen[envelope(l)] != 1 {
			t.Fatalf("line %q, committed by the source before the SIGKILL, is in connect-test %d times", l, topicSeen[envelope(l)])
		}
	}
	t.Logf("SIGKILL at sink line %d: nothing lost; %d lines repeated in test.sink.txt, %d records repeated in connect-test "+
		"(the lines each side delivered after its last offset flush)", killedAt, len(got)-len(all), len(values)-len(all))

	// A last clean stop commits the position of the whole file.
	w.stop(syscall.SIGTERM)
	fi, err = os.Stat(input)
	if err != nil {
		t.Fatal(err)
	}
	offsets, err := os.ReadFile(filepath.Join(dir, "connect.offsets"))
	if err != nil {
		t.Fatal(err)
	}
	wantOffsets := fmt.Sprintf(`{"version":1,"offsets":[{"key":["local-file-source",{"filename":"test.txt"}],"value":{"position":%d}}]}`, fi.Size())
	if strings.TrimSpace(string(offsets)) != wantOffsets {
		t.Fatalf("connect.offsets: %s\nwant %s", offsets, wantOffsets)
	}
	if log, _ := os.ReadFile(w.log); !strings.Contains(string(log), "Committing offsets for") {
		t.Fatalf("connect-standalone's log lacks its offset commits:\n%s", tailFile(w.log, 40))
	}

	// A connector class klassik does not have stops the worker as Kafka's does (exit 3),
	// naming the class.
	bad := filepath.Join(dir, "bad-connector.properties")
	if err := os.WriteFile(bad, []byte("name=jdbc\nconnector.class=io.confluent.connect.jdbc.JdbcSourceConnector\ntopic=t\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	ctx, cancel = context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, klassikBin, "connect-standalone", worker, bad)
	cmd.Dir = dir
	out, err := cmd.CombinedOutput()
	if code := cmd.ProcessState.ExitCode(); code != 3 || !strings.Contains(string(out), "io.confluent.connect.jdbc.JdbcSourceConnector") {
		t.Fatalf("an unknown connector class: exit %d (%v), want 3 and a message naming it:\n%s", code, err, out)
	}

	// Without file, the source reads standard input and the sink writes standard output, as
	// Kafka's file connectors do; a connector's own value.converter overrides the worker's.
	stdinWorker := copyKafkaConfig(t, dir, "connect-standalone.properties", map[string]string{
		"bootstrap.servers=localhost:9092":                  "bootstrap.servers=" + c.BootstrapServers(),
		"offset.storage.file.filename=/tmp/connect.offsets": "offset.storage.file.filename=" + filepath.Join(dir, "stdin.offsets"),
	}, fmt.Sprintf("\nlisteners=http://127.0.0.1:%d\n", port))
	stdinSource := filepath.Join(dir, "stdin-source.properties")
	stdoutSink := filepath.Join(dir, "stdout-sink.properties")
	os.WriteFile(stdinSource, []byte("name=stdin-source\nconnector.class=org.apache.kafka.connect.file.FileStreamSourceConnector\ntopic=connect-stdin\n"+
		"value.converter=org.apache.kafka.connect.storage.StringConverter\n"), 0o644)
	os.WriteFile(stdoutSink, []byte("name=stdout-sink\nconnector.class=FileStreamSinkConnector\ntopics=connect-stdin\n"+
		"value.converter=StringConverter\n"), 0o644)
	stdout := filepath.Join(dir, "stdout.txt")
	outFile, err := os.Create(stdout)
	if err != nil {
		t.Fatal(err)
	}
	defer outFile.Close()
	logFile, err := os.Create(filepath.Join(c.dir, "connect-stdin.log"))
	if err != nil {
		t.Fatal(err)
	}
	defer logFile.Close()
	proc := exec.Command(klassikBin, "connect-standalone", stdinWorker, stdinSource, stdoutSink)
	proc.Dir, proc.Stdin, proc.Stdout, proc.Stderr = dir, strings.NewReader("from stdin 1\nfrom stdin 2\n"), outFile, logFile
	proc.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
	if err := proc.Start(); err != nil {
		t.Fatal(err)
	}
	exited := make(chan error, 1)
	go func() { exited <- proc.Wait() }()
	defer func() {
		proc.Process.Kill()
		<-exited
	}()
	eventually(t, 60*time.Second, func() error {
		if got := readLines(t, stdout); !slices.Equal(got, []string{"from stdin 1", "from stdin 2"}) {
			return fmt.Errorf("standard output holds %q", got)
		}
		return nil
	})
	ctx, cancel = context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	cl := c.Client(t, kgo.ConsumePartitions(map[string]map[int32]kgo.Offset{"connect-stdin": {0: kgo.NewOffset().AtStart()}}))
	var stdinValues []string
	for len(stdinValues) < 2 && ctx.Err() == nil {
		cl.PollFetches(ctx).EachRecord(func(r *kgo.Record) { stdinValues = append(stdinValues, string(r.Value)) })
	}
	if !slices.Equal(stdinValues, []string{"from stdin 1", "from stdin 2"}) {
		t.Fatalf("connect-stdin holds %q, want the lines as StringConverter writes them", stdinValues)
	}
	proc.Process.Signal(syscall.SIGTERM)
	select {
	case err := <-exited:
		exited <- err
		if err != nil {
			t.Fatalf("connect-standalone reading stdin: %v after SIGTERM", err)
		}
	case <-time.After(30 * time.Second):
		t.Fatal("connect-standalone reading stdin did not stop within 30 s of SIGTERM")
	}
}
