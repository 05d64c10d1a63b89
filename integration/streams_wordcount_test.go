package integration

import (
	"context"
	"encoding/binary"
	"fmt"
	"math/rand"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kgo"
)

// Kafka's quickstart step 7 (Kafka Streams' WordCountDemo) with `klassik streams-wordcount`
// as real processes against a real three-broker cluster.

const (
	wcInput     = "streams-plaintext-input"
	wcOutput    = "streams-wordcount-output"
	wcGroup     = "streams-wordcount"
	wcChangelog = "streams-wordcount-KSTREAM-AGGREGATE-STATE-STORE-0000000003-changelog"
	wcRepart    = "streams-wordcount-KSTREAM-AGGREGATE-STATE-STORE-0000000003-repartition"
)

// TestStreamsWordCount runs WordCount (exactly_once_v2) over two input partitions, so that
// the words of one line are counted by different tasks through the repartition topic, and
// checks the output topic as Kafka's quickstart shows it: one record per count update, key
// the word, value LongSerializer's 8 big-endian bytes, every word's values exactly 1, 2, ...
// n in order (a record counted twice would repeat a value or pass n). Then: a SIGTERM and a
// restart carry on from the changelog (kafka 3 -> 4); a second instance shares the tasks; a
// SIGKILL of both in the middle of a batch and a restart lose and double nothing; and the
// console-consumer line of Kafka's Streams quickstart prints "kafka\t4".
func TestStreamsWordCount(t *testing.T) {
	c := NewCluster(t, Brokers(3),
		// A killed instance's open transaction is aborted a second after its
		// transaction.timeout.ms, not ten.
		BrokerConfig("transaction.abort.timed.out.transaction.cleanup.interval.ms", 1000))
	c.CreateTopic(t, wcInput, 2, 3, nil)
	c.CreateTopic(t, wcOutput, 2, 3, map[string]*string{"cleanup.policy": kadm.StringPtr("compact")})
	props := filepath.Join(t.TempDir(), "streams.properties")
	if err := os.WriteFile(props, []byte("# how soon a killed instance's tasks move\nsession.timeout.ms=6000\ntransaction.timeout.ms=5000\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	out := newWordCountReader(t, c)
	in := c.Client(t, manual())
	want := map[string]int64{}
	lineNo := 0
	produce := func(lines ...string) {
		t.Helper()
		var rs []*kgo.Record
		for _, l := range lines {
			rs = append(rs, &kgo.Record{Topic: wcInput, Partition: int32(lineNo % 2), Value: []byte(l)})
			lineNo++
		}
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		if err := in.ProduceSync(ctx, rs...).FirstErr(); err != nil {
			t.Fatalf("producing to %s: %v", wcInput, err)
		}
	}
	add := func(counts map[string]int64) {
		for w, n := range counts {
			want[w] += n
		}
	}

	// Kafka's Streams quickstart, step 5: three lines.
	a := startWordCount(t, c, "wordcount-a", props)
	produce("all streams lead to kafka", "hello kafka streams", "join kafka summit")
	add(map[string]int64{"all": 1, "streams": 2, "lead": 1, "to": 1, "kafka": 3, "hello": 1, "join": 1, "summit": 1})
	out.waitCounts(t, want, time.Minute)
	checkWordCountTopics(t, c)

	// SIGTERM: the demo's shutdown hook closes the application and it exits 0. The next
	// instance restores the counts from the changelog and carries on: kafka=4.
	a.stop(t, syscall.SIGTERM)
	produce("hello kafka streams")
	add(map[string]int64{"hello": 1, "kafka": 1, "streams": 1})
	b := startWordCount(t, c, "wordcount-b", props)
	out.waitCounts(t, want, time.Minute)

	// The console-consumer line of Kafka's Streams quickstart, Kafka's formatter named.
	consoleOut := runTool(t, 60*time.Second, "", klassikBin, "console-consumer", "--bootstrap-server", c.BootstrapServers(),
		"--topic", wcOutput, "--from-beginning", "--formatter", "kafka.tools.DefaultMessageFormatter",
		"--property", "print.key=true", "--property", "print.value=true",
		"--property", "key.deserializer=org.apache.kafka.common.serialization.StringDeserializer",
		"--property", "value.deserializer=org.apache.kafka.common.serialization.LongDeserializer",
		"--max-messages", "14", "--timeout-ms", "30000")
	checkConsoleCounts(t, consoleOut, want)

	// A second instance: the group spreads the four tasks (0_0, 0_1, 1_0, 1_1) over both.
	d := startWordCount(t, c, "wordcount-c", props)
	eventually(t, time.Minute, func() error {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		gs, err := c.Admin(t).DescribeGroups(ctx, wcGroup)
		if err != nil {
			return err
		}
		g := gs[wcGroup]
		if g.State != "Stable" || len(g.Members) != 2 {
			return fmt.Errorf("group %s is %s with %d members", wcGroup, g.State, len(g.Members))
		}
		return nil
	})
	rng := rand.New(rand.NewSource(1))
	vocab := strings.Fields("kafka streams zookeeper broker topic partition replica leader follower offset commit group record batch log segment index producer consumer transaction")
	batch := func(n int) []string {
		var lines []string
		for range n {
			var ws []string
			for range 1 + rng.Intn(6) {
				w := vocab[rng.Intn(len(vocab))]
				want[w]++
				ws = append(ws, w)
			}
			lines = append(lines, strings.Join(ws, " "))
		}
		return lines
	}
	produce(batch(100)...)
	// Upper case and punctuation: lower-cased, split on \W+.
	produce("Kafka, KAFKA! kafka?", "ZooKeeper's log")
	add(map[string]int64{"kafka": 3, "zookeeper": 1, "s": 1, "log": 1})
	out.waitCounts(t, want, time.Minute)

	// SIGKILL both in the middle of a batch, then a new instance: it waits out their
	// sessions and open transactions, restores the committed counts, and processes again
	// exactly what was not committed.
	before, words := out.total(), wantTotal(want)
	produce(batch(2000)...)
	words = wantTotal(want) - words
	// Polled every few milliseconds, not with eventually's backoff: the two instances
	// count thousands of words a second, and the kill is to land in the middle.
	for deadline := time.Now().Add(time.Minute); out.total() < before+100; {
		if time.Now().After(deadline) {
			t.Fatalf("only %d output records within a minute of the batch", out.total()-before)
		}
		time.Sleep(5 * time.Millisecond)
	}
	b.stop(t, syscall.SIGKILL)
	d.stop(t, syscall.SIGKILL)
	t.Logf("killed both instances after %d of the batch's %d output records", out.total()-before, words)
	produce("kafka after the kill")
	add(map[string]int64{"kafka": 1, "after": 1, "the": 1, "kill": 1})
	e := startWordCount(t, c, "wordcount-d", props)
	out.waitCounts(t, want, 2*time.Minute)
	e.stop(t, syscall.SIGTERM)
}

// wantTotal is the number of output records the counts stand for: one per update.
func wantTotal(want map[string]int64) int64 {
	var n int64
	for _, c := range want {
		n += c
	}
	return n
}

// wordCount is one `klassik streams-wordcount` process.
type wordCount struct {
	p   *process
	log string
}

func startWordCount(t *testing.T, c *Cluster, name, props string) *wordCount {
	t.Helper()
	w := &wordCount{log: filepath.Join(c.dir, name+".log")}
	p, err := startProcess(name, w.log, c.dir, brokerEnv(), klassikBin, "streams-wordcount", "--bootstrap-server", c.BootstrapServers(), props)
	if err != nil {
		t.Fatal(err)
	}
	w.p = p
	t.Cleanup(func() {
		if !p.exited() {
			p.kill()
		}
		if t.Failed() {
			t.Logf("%s log (last lines):\n%s", name, tailFile(w.log, 40))
		}
		if crash := findCrash(w.log); crash != "" {
			t.Errorf("%s crashed: %s", name, crash)
		}
	})
	return w
}

// stop sends sig and waits for the process to end: exit code 0 after SIGTERM.
func (w *wordCount) stop(t *testing.T, sig syscall.Signal) {
	t.Helper()
	if err := w.p.signal(sig); err != nil {
		t.Fatalf("%v\n%s", err, tailFile(w.log, 40))
	}
	st, ok := w.p.wait(60 * time.Second)
	if !ok {
		t.Fatalf("%s did not exit within 60s of %v:\n%s", w.p.name, sig, tailFile(w.log, 40))
	}
	if sig == syscall.SIGTERM && st.ExitCode() != 0 {
		t.Fatalf("%s %s after SIGTERM, want exit code 0:\n%s", w.p.name, describeState(st), tailFile(w.log, 40))
	}
}

// wordCountReader reads streams-wordcount-output from the start with read_committed and
// checks every record as it comes: a key, an 8-byte value, and for each word the values
// 1, 2, 3, ... with none missing, repeated or out of order.
type wordCountReader struct {
	c       *Cluster
	mu      sync.Mutex
	last    map[string]int64
	records int
	pos     map[int32]int64 // the offset after the last record or marker read, by partition
	bad     []string
}

func newWordCountReader(t *testing.T, c *Cluster) *wordCountReader {
	r := &wordCountReader{c: c, last: map[string]int64{}, pos: map[int32]int64{}}
	cl := c.Client(t, kgo.ConsumeTopics(wcOutput), kgo.ConsumeResetOffset(kgo.NewOffset().AtStart()),
		kgo.FetchIsolationLevel(kgo.ReadCommitted()), kgo.KeepControlRecords(), kgo.FetchMaxWait(500*time.Millisecond))
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() {
		defer close(done)
		for ctx.Err() == nil {
			fs := cl.PollFetches(ctx)
			r.mu.Lock()
			fs.EachRecord(func(rec *kgo.Record) {
				r.pos[rec.Partition] = rec.Offset + 1
				if rec.Attrs.IsControl() {
					return
				}
				r.records++
				if rec.Key == nil || len(rec.Value) != 8 {
					r.bad = append(r.bad, fmt.Sprintf("offset %d-%d: key %q, value %x (want a word and 8 bytes)", rec.Partition, rec.Offset, rec.Key, rec.Value))
					return
				}
				w, n := string(rec.Key), int64(binary.BigEndian.Uint64(rec.Value))
				if n != r.last[w]+1 {
					r.bad = append(r.bad, fmt.Sprintf("offset %d-%d: %s=%d after %s=%d", rec.Partition, rec.Offset, w, n, w, r.last[w]))
				}
				r.last[w] = n
			})
			r.mu.Unlock()
		}
	}()
	t.Cleanup(func() { cancel(); <-done })
	return r
}

func (r *wordCountReader) total() int {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.records
}

// waitCounts waits until every word has its count, then reads on to the output's last
// stable offset and checks that nothing counted further, nothing else was counted, and no
// record broke the sequence.
func (r *wordCountReader) waitCounts(t *testing.T, want map[string]int64, timeout time.Duration) {
	t.Helper()
	deadline := time.Now().Add(timeout)
	check := func() error {
		r.mu.Lock()
		defer r.mu.Unlock()
		if len(r.bad) > 0 {
			t.Fatalf("output records out of sequence (counted twice, or lost):\n%s", strings.Join(r.bad, "\n"))
		}
		var words []string
		for w := range want {
			words = append(words, w)
		}
		slices.Sort(words)
		for _, w := range words {
			if r.last[w] > want[w] {
				t.Fatalf("%s counted %d times, but only %d were produced (counted twice)", w, r.last[w], want[w])
			}
			if r.last[w] != want[w] {
				return fmt.Errorf("%s=%d, want %d", w, r.last[w], want[w])
			}
		}
		return nil
	}
	eventually(t, time.Until(deadline), check)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	lso, err := r.c.Admin(t).ListCommittedOffsets(ctx, wcOutput)
	cancel()
	if err != nil {
		t.Fatal(err)
	}
	eventually(t, 30*time.Second, func() error {
		r.mu.Lock()
		defer r.mu.Unlock()
		var behind []string
		lso.Each(func(o kadm.ListedOffset) {
			if r.pos[o.Partition] < o.Offset {
				behind = append(behind, fmt.Sprintf("%d at %d of %d", o.Partition, r.pos[o.Partition], o.Offset))
			}
		})
		if len(behind) > 0 {
			return fmt.Errorf("reader behind the last stable offset: %v", behind)
		}
		return nil
	})
	if err := check(); err != nil {
		t.Fatal(err)
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	for w, n := range r.last {
		if want[w] != n {
			t.Fatalf("word %q counted %d, want %d", w, n, want[w])
		}
	}
}

// checkWordCountTopics checks the internal topics WordCount made: Kafka's names, as many
// partitions as the input, the changelog compacted, the repartition topic kept forever.
func checkWordCountTopics(t *testing.T, c *Cluster) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	adm := c.Admin(t)
	md, err := adm.Metadata(ctx, wcChangelog, wcRepart)
	if err != nil {
		t.Fatal(err)
	}
	for _, topic := range []string{wcChangelog, wcRepart} {
		if d := md.Topics[topic]; d.Err != nil || len(d.Partitions) != 2 {
			t.Errorf("%s: %d partitions (%v), want 2", topic, len(d.Partitions), d.Err)
		}
	}
	rcs, err := adm.DescribeTopicConfigs(ctx, wcChangelog, wcRepart)
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]map[string]string{
		wcChangelog: {"cleanup.policy": "compact"},
		wcRepart:    {"cleanup.policy": "delete", "retention.ms": "-1", "segment.bytes": "52428800"},
	}
	for _, rc := range rcs {
		for _, cfg := range rc.Configs {
			if w, ok := want[rc.Name][cfg.Key]; ok && (cfg.Value == nil || *cfg.Value != w) {
				t.Errorf("%s: %s=%v, want %s", rc.Name, cfg.Key, cfg.MaybeValue(), w)
			}
		}
	}
}

// checkConsoleCounts checks console-consumer's "word\tcount" lines: each word's counts in
// order 1..n, the last one the count wanted.
var consoleCountLine = regexp.MustCompile(`^([a-z]+)\t([0-9]+)$`)

func checkConsoleCounts(t *testing.T, out string, want map[string]int64) {
	t.Helper()
	last := map[string]int64{}
	for _, line := range strings.Split(strings.TrimSuffix(out, "\n"), "\n") {
		m := consoleCountLine.FindStringSubmatch(line)
		if m == nil {
			t.Fatalf("console-consumer line %q is not word<TAB>count:\n%s", line, out)
		}
		var n int64
		fmt.Sscan(m[2], &n)
		if n != last[m[1]]+1 {
			t.Fatalf("console-consumer printed %s\t%d after %d:\n%s", m[1], n, last[m[1]], out)
		}
		last[m[1]] = n
	}
	for w, n := range want {
		if last[w] != n {
			t.Fatalf("console-consumer: %s\t%d last, want %d:\n%s", w, last[w], n, out)
		}
	}
	if !strings.Contains(out, "kafka\t4\n") {
		t.Fatalf("console-consumer output lacks kafka\\t4:\n%s", out)
	}
}

// TestStreamsWordCountAtLeastOnce runs WordCount with processing.guarantee=at_least_once
// (Kafka Streams' own default) on one broker: no transactions, offsets committed every
// commit.interval.ms and at shutdown, so a SIGTERM and a restart carry on exactly (kafka 3,
// then 4) from the changelog and the committed offsets.
func TestStreamsWordCountAtLeastOnce(t *testing.T) {
	c := NewCluster(t, Brokers(1))
	c.CreateTopic(t, wcInput, 1, 1, nil)
	c.CreateTopic(t, wcOutput, 1, 1, map[string]*string{"cleanup.policy": kadm.StringPtr("compact")})
	props := filepath.Join(t.TempDir(), "streams.properties")
	if err := os.WriteFile(props, []byte("processing.guarantee=at_least_once\ncommit.interval.ms=1000\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	out := newWordCountReader(t, c)
	in := c.Client(t)
	produce := func(lines ...string) {
		t.Helper()
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		for _, l := range lines {
			if err := in.ProduceSync(ctx, &kgo.Record{Topic: wcInput, Value: []byte(l)}).FirstErr(); err != nil {
				t.Fatal(err)
			}
		}
	}
	a := startWordCount(t, c, "wordcount-alos-a", props)
	produce("all streams lead to kafka", "hello kafka streams", "join kafka summit")
	want := map[string]int64{"all": 1, "streams": 2, "lead": 1, "to": 1, "kafka": 3, "hello": 1, "join": 1, "summit": 1}
	out.waitCounts(t, want, time.Minute)
	if log, _ := os.ReadFile(a.log); !strings.Contains(string(log), "processing.guarantee=at_least_once") {
		t.Fatalf("the log does not say at_least_once:\n%s", log)
	}
	a.stop(t, syscall.SIGTERM)
	produce("hello kafka streams")
	want["hello"], want["kafka"], want["streams"] = 2, 4, 3
	b := startWordCount(t, c, "wordcount-alos-b", props)
	out.waitCounts(t, want, time.Minute)
	b.stop(t, syscall.SIGTERM)
}
