package integration

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kgo"
)

// Moving replicas between a broker's log dirs (KIP-113, issue 14 item 6), as Kafka 3.6 does
// it: AlterReplicaLogDirs makes a future log <topic>-<partition>.<uuid>-future in the
// destination, the broker's alter-log-dirs task copies the current log into it, and once it
// has caught up the two are swapped: the partition continues in the new dir.

// replicaDirs is where DescribeLogDirs says a broker holds topic-partition: the dirs of its
// current and future logs ("" for none), and the future's offset lag and size.
type replicaDirs struct {
	current, future          string
	futureLag, futureSize    int64
	currentSize, currentLags int64
}

func describeReplica(t testing.TB, adm *kadm.Client, broker int32, topic string, partition int32) (replicaDirs, error) {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	dirs, err := adm.DescribeBrokerLogDirs(ctx, broker, kadm.TopicsSet{topic: {partition: {}}})
	if err != nil {
		return replicaDirs{}, err
	}
	var r replicaDirs
	for dir, d := range dirs {
		if d.Err != nil {
			return r, fmt.Errorf("log dir %s: %v", dir, d.Err)
		}
		p, ok := d.Topics[topic][partition]
		switch {
		case !ok:
		case p.IsFuture:
			if r.future != "" {
				return r, fmt.Errorf("future replicas of %s-%d in %s and %s", topic, partition, r.future, dir)
			}
			r.future, r.futureLag, r.futureSize = dir, p.OffsetLag, p.Size
		default:
			if r.current != "" {
				return r, fmt.Errorf("replicas of %s-%d in %s and %s", topic, partition, r.current, dir)
			}
			r.current, r.currentSize, r.currentLags = dir, p.Size, p.OffsetLag
		}
	}
	return r, nil
}

// partitionFolders lists the folders of dir that belong to topic-partition: <t>-<p> and its
// -future and -delete variants.
func partitionFolders(t testing.TB, dir, topic string, partition int32) []string {
	t.Helper()
	ents, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	name := fmt.Sprintf("%s-%d", topic, partition)
	var out []string
	for _, e := range ents {
		if e.IsDir() && (e.Name() == name || strings.HasPrefix(e.Name(), name+".")) {
			out = append(out, e.Name())
		}
	}
	return out
}

// TestAlterReplicaLogDirs: a broker with two log.dirs moves a partition holding data to its
// other dir while an idempotent acks=all producer keeps writing to it. DescribeLogDirs shows
// the future replica in the destination during the move (when a poll catches it) and the
// replica there afterwards; every acknowledged record is read back at its offset, in order,
// none failed; the partition's folder is in the new dir and gone from the old one; a restart
// keeps it all. A path that is not in log.dirs is LOG_DIR_NOT_FOUND and a partition the broker
// does not host REPLICA_NOT_AVAILABLE, as in Kafka's ReplicaManager.alterReplicaLogDirs.
func TestAlterReplicaLogDirs(t *testing.T) {
	base := t.TempDir()
	dirA, dirB := filepath.Join(base, "a"), filepath.Join(base, "b")
	c := NewCluster(t, BrokerConfig("log.dirs", dirA+","+dirB))
	topic := topicName(t, "move")
	seg := "65536" // several segments to copy
	c.CreateTopic(t, topic, 2, 1, map[string]*string{"segment.bytes": &seg})
	adm := c.Admin(t)

	chk := StartChecker(t, c, topic, 2, CheckerOptions{MaxRecords: 300000, MaxDuration: 3 * time.Minute, Interval: -1, MaxInFlight: 200, ValueBytes: 200})
	chk.WaitProgress(t, 20000, 2*time.Minute)
	var before replicaDirs
	eventually(t, 30*time.Second, func() error {
		var err error
		before, err = describeReplica(t, adm, 1, topic, 0)
		if err == nil && before.current == "" {
			err = errors.New("partition 0 is in no log dir")
		}
		return err
	})
	src, dst := before.current, dirB
	if src == dirB {
		dst = dirA
	}
	t.Logf("%s-0 is in %s with %d bytes; moving it to %s", topic, src, before.currentSize, dst)

	// Watch DescribeLogDirs during the move (bounded: until stopped, at most 2 minutes).
	var (
		sawFuture  atomic.Bool
		watchErr   atomic.Value
		stopWatch  = make(chan struct{})
		watchGroup sync.WaitGroup
	)
	watchGroup.Add(1)
	go func() {
		defer watchGroup.Done()
		deadline := time.Now().Add(2 * time.Minute)
		for time.Now().Before(deadline) {
			select {
			case <-stopWatch:
				return
			default:
			}
			r, err := describeReplica(t, adm, 1, topic, 0)
			if err != nil {
				watchErr.Store(err.Error())
				return
			}
			if r.future != "" {
				if r.future != dst || r.current != src || r.futureLag < 0 || r.futureSize > r.currentSize+int64(1<<20) {
					watchErr.Store(fmt.Sprintf("during the move: %+v (moving %s to %s)", r, src, dst))
					return
				}
				sawFuture.Store(true)
			}
		}
	}()

	ctx := ctxT(t, 30*time.Second)
	var req kadm.AlterReplicaLogDirsReq
	req.Add(dst, kadm.TopicsSet{topic: {0: {}}})
	resps, err := adm.AlterBrokerReplicaLogDirs(ctx, 1, req)
	if err != nil {
		t.Fatal(err)
	}
	if r, ok := resps[topic][0]; !ok || r.Err != nil {
		t.Fatalf("AlterReplicaLogDirs %s-0 to %s: %+v", topic, dst, resps)
	}
	start := time.Now()
	eventually(t, 2*time.Minute, func() error {
		r, err := describeReplica(t, adm, 1, topic, 0)
		if err != nil {
			return err
		}
		if r.current != dst || r.future != "" {
			return fmt.Errorf("%s-0: %+v, want it in %s with no future replica", topic, r, dst)
		}
		return nil
	})
	moved := time.Since(start)
	close(stopWatch)
	watchGroup.Wait()
	if e := watchErr.Load(); e != nil {
		t.Fatal(e)
	}
	t.Logf("moved in %v (DescribeLogDirs polled every few ms %s the future replica); %d records acknowledged so far",
		moved.Round(time.Millisecond), map[bool]string{true: "saw", false: "did not see"}[sawFuture.Load()], chk.Acked())

	// Kafka's errors: a path not in log.dirs, relative or not; a partition not hosted.
	for _, tc := range []struct {
		dir, topic string
		want       error
	}{
		{filepath.Join(base, "elsewhere"), topic, kerr.LogDirNotFound},
		{"b", topic, kerr.LogDirNotFound},
		{dst + "/", topic, kerr.LogDirNotFound},
		{dst, "no-such-topic", kerr.ReplicaNotAvailable},
	} {
		var req kadm.AlterReplicaLogDirsReq
		req.Add(tc.dir, kadm.TopicsSet{tc.topic: {1: {}}})
		resps, err := adm.AlterBrokerReplicaLogDirs(ctx, 1, req)
		if err != nil {
			t.Fatal(err)
		}
		if r := resps[tc.topic][1]; !errors.Is(r.Err, tc.want) {
			t.Errorf("AlterReplicaLogDirs %s-1 to %q: %v, want %v", tc.topic, tc.dir, r.Err, tc.want)
		}
	}

	chk.WaitProgress(t, 5000, time.Minute) // the moved partition keeps taking writes
	chk.Stop(t)
	res := chk.Verify(t)
	t.Logf("checker: %s", res)
	if res.Failed > 0 {
		t.Fatalf("%d records failed during the move: %v", res.Failed, res.Errors)
	}

	// On disk: the partition's one folder is in the new dir; the old one (renamed -delete at
	// the swap) is removed in the background.
	eventually(t, 30*time.Second, func() error {
		if fs := partitionFolders(t, src, topic, 0); len(fs) > 0 {
			return fmt.Errorf("%s still holds %v", src, fs)
		}
		return nil
	})
	if fs := partitionFolders(t, dst, topic, 0); len(fs) != 1 || fs[0] != topic+"-0" {
		t.Fatalf("%s holds %v, want %s-0 alone", dst, fs, topic)
	}
	after, err := describeReplica(t, adm, 1, topic, 0)
	if err != nil {
		t.Fatal(err)
	}
	if onDisk := segmentBytes(t, filepath.Join(dst, topic+"-0")); after.currentSize != onDisk || onDisk <= before.currentSize {
		t.Errorf("moved replica: size %d, its .log files %d bytes, %d before the move", after.currentSize, onDisk, before.currentSize)
	}

	// A restart keeps the moved partition where it is, with its data.
	c.RestartBroker(1)
	c.WaitForTopic(t, topic, 2)
	eventually(t, 30*time.Second, func() error {
		r, err := describeReplica(t, adm, 1, topic, 0)
		if err == nil && (r.current != dst || r.future != "") {
			err = fmt.Errorf("after the restart %s-0: %+v, want it in %s", topic, r, dst)
		}
		return err
	})
	res = chk.Verify(t)
	t.Logf("after the restart: %s", res)
}

// TestReassignPartitionsLogDirs: `klassik reassign-partitions` with Kafka's plan JSON naming a
// log dir per replica ("log_dirs"): a replica moves to the other dir of its broker, and a
// replica reassigned to another broker is created there in the dir the plan names (the
// broker answers REPLICA_NOT_AVAILABLE until the replica exists, remembering the dir, and the
// tool retries, as kafka-reassign-partitions.sh). --verify prints Kafka's lines for partitions
// and replicas; `klassik log-dirs --describe` shows where each replica now is.
func TestReassignPartitionsLogDirs(t *testing.T) {
	base := t.TempDir()
	dirs := map[int32][2]string{}
	var opts []Option
	for id := int32(1); id <= 2; id++ {
		d := [2]string{filepath.Join(base, fmt.Sprintf("b%d-a", id)), filepath.Join(base, fmt.Sprintf("b%d-b", id))}
		dirs[id] = d
		opts = append(opts, BrokerConfigFor(id, "log.dirs", d[0]+","+d[1]))
	}
	c := NewCluster(t, append(opts, Brokers(2))...)
	topic := topicName(t, "plan")
	createTopicAssigned(t, c, topic, [][]int32{{1}, {1}})
	cl := c.Client(t, manual())
	var recs []*kgo.Record
	for i := range 4000 {
		recs = append(recs, &kgo.Record{Topic: topic, Partition: int32(i % 2), Value: fmt.Appendf(nil, "%06d-%s", i, strings.Repeat("x", 100))})
	}
	if err := cl.ProduceSync(ctxT(t, time.Minute), recs...).FirstErr(); err != nil {
		t.Fatal(err)
	}
	adm := c.Admin(t)
	var p0 replicaDirs
	eventually(t, 30*time.Second, func() error {
		var err error
		p0, err = describeReplica(t, adm, 1, topic, 0)
		if err == nil && p0.current == "" {
			err = errors.New("partition 0 is in no log dir of broker 1")
		}
		return err
	})
	// Partition 0 moves to broker 1's other dir; partition 1 moves to broker 2, into its
	// second dir (placement alone would pick the first: broker 2 holds nothing).
	to0 := dirs[1][0]
	if p0.current == to0 {
		to0 = dirs[1][1]
	}
	to1 := dirs[2][1]
	plan := fmt.Sprintf(`{"version":1,"partitions":[{"topic":%q,"partition":0,"replicas":[1],"log_dirs":[%q]},`+
		`{"topic":%q,"partition":1,"replicas":[2],"log_dirs":[%q]}]}`, topic, to0, topic, to1)
	// Told before the replica exists, broker 2 answers REPLICA_NOT_AVAILABLE and remembers the
	// dir (LogManager.maybeUpdatePreferredLogDir): the reassignment creates the replica there.
	var early kadm.AlterReplicaLogDirsReq
	early.Add(to1, kadm.TopicsSet{topic: {1: {}}})
	resps, err := adm.AlterBrokerReplicaLogDirs(ctxT(t, 30*time.Second), 2, early)
	if err != nil {
		t.Fatal(err)
	}
	if r := resps[topic][1]; !errors.Is(r.Err, kerr.ReplicaNotAvailable) {
		t.Fatalf("AlterReplicaLogDirs on broker 2 before it hosts %s-1: %v, want REPLICA_NOT_AVAILABLE", topic, r.Err)
	}
	file := filepath.Join(t.TempDir(), "plan.json")
	if err := os.WriteFile(file, []byte(plan), 0o644); err != nil {
		t.Fatal(err)
	}
	out, errOut, code := reassignTool(t, c, "--execute", "--reassignment-json-file", file, "--timeout", "60000")
	if code != 0 {
		t.Fatalf("--execute: exit %d\n%s%s", code, out, errOut)
	}
	t.Logf("--execute:\n%s", out)
	if !strings.Contains(out, fmt.Sprintf("Successfully started partition reassignments for %s-0,%s-1\n", topic, topic)) {
		t.Fatalf("--execute:\n%s", out)
	}
	startedMoves := map[string]bool{}
	for _, line := range strings.Split(out, "\n") {
		if rest, ok := strings.CutPrefix(line, "Successfully started log directory move"); ok {
			_, list, _ := strings.Cut(rest, "for: ")
			for _, r := range strings.Split(list, ",") {
				startedMoves[r] = true
			}
		}
	}
	if !startedMoves[topic+"-0-1"] || !startedMoves[topic+"-1-2"] || len(startedMoves) != 2 {
		t.Fatalf("--execute started moves %v:\n%s", startedMoves, out)
	}
	want := fmt.Sprintf("Status of partition reassignment:\nReassignment of partition %[1]s-0 is completed.\n"+
		"Reassignment of partition %[1]s-1 is completed.\nReassignment of replica %[1]s-0-1 completed successfully.\n"+
		"Reassignment of replica %[1]s-1-2 completed successfully.\n"+
		"Clearing broker-level throttles on brokers %[2]s\nClearing topic-level throttles on topic %[1]s\n", topic, "1,2")
	eventually(t, 2*time.Minute, func() error {
		out, errOut, code := reassignTool(t, c, "--verify", "--reassignment-json-file", file)
		if code != 0 || out != want {
			return fmt.Errorf("--verify: exit %d\n%s%s", code, out, errOut)
		}
		return nil
	})

	for _, tc := range []struct {
		broker    int32
		partition int32
		dir       string
	}{{1, 0, to0}, {2, 1, to1}} {
		for _, d := range dirs[tc.broker] {
			fs := partitionFolders(t, d, topic, tc.partition)
			if d == tc.dir && (len(fs) != 1 || fs[0] != fmt.Sprintf("%s-%d", topic, tc.partition)) {
				t.Errorf("broker %d %s holds %v, want the partition's folder", tc.broker, d, fs)
			}
			if d != tc.dir {
				eventually(t, 30*time.Second, func() error {
					if fs := partitionFolders(t, d, topic, tc.partition); len(fs) > 0 {
						return fmt.Errorf("broker %d %s still holds %v", tc.broker, d, fs)
					}
					return nil
				})
			}
		}
	}

	if strings.Contains(c.Broker(2).Output(), "created a future log") {
		t.Errorf("broker 2 made %s-1 elsewhere and moved it, instead of creating it in %s", topic, to1)
	}

	// kafka-log-dirs.sh --describe: Kafka's JSON, each replica in its new dir, none future.
	out = runTool(t, 60*time.Second, "", klassikBin, "log-dirs", "--describe", "--bootstrap-server", c.BootstrapServers(), "--topic-list", topic)
	lines := strings.Split(strings.TrimSpace(out), "\n")
	var desc struct {
		Brokers []struct {
			Broker  int32 `json:"broker"`
			LogDirs []struct {
				LogDir     string `json:"logDir"`
				Partitions []struct {
					Partition string `json:"partition"`
					IsFuture  bool   `json:"isFuture"`
				} `json:"partitions"`
			} `json:"logDirs"`
		} `json:"brokers"`
	}
	if err := json.Unmarshal([]byte(lines[len(lines)-1]), &desc); err != nil {
		t.Fatalf("log-dirs --describe: %v\n%s", err, out)
	}
	where := map[string]string{}
	for _, b := range desc.Brokers {
		for _, d := range b.LogDirs {
			for _, p := range d.Partitions {
				if p.IsFuture {
					t.Errorf("broker %d %s: %s is a future replica after the move", b.Broker, d.LogDir, p.Partition)
				}
				where[fmt.Sprintf("%d/%s", b.Broker, p.Partition)] = d.LogDir
			}
		}
	}
	if where[fmt.Sprintf("1/%s-0", topic)] != to0 || where[fmt.Sprintf("2/%s-1", topic)] != to1 || len(where) != 2 {
		t.Errorf("log-dirs --describe: %v, want %s-0 in %s on broker 1 and %s-1 in %s on broker 2\n%s", where, topic, to0, topic, to1, out)
	}

	got := consumeN(t, c, topic, 2, len(recs), time.Minute)
	seen := map[string]bool{}
	for _, r := range got {
		seen[string(r.Value)] = true
	}
	for _, r := range recs {
		if !seen[string(r.Value)] {
			t.Fatalf("record %q lost by the moves", r.Value)
		}
	}
}

// TestAlterReplicaLogDirsKilled: the broker is killed (kill -9) right after it accepted a move
// of a partition holding tens of megabytes, most likely in the middle of the copy. Whatever
// point the kill hit, the restarted broker ends the move cleanly, as Kafka resumes a -future
// folder found at start-up: the partition ends up in the destination alone, no -future or
// -delete folder is left, and every acknowledged record is there.
func TestAlterReplicaLogDirsKilled(t *testing.T) {
	base := t.TempDir()
	dirA, dirB := filepath.Join(base, "a"), filepath.Join(base, "b")
	c := NewCluster(t, BrokerConfig("log.dirs", dirA+","+dirB))
	topic := topicName(t, "kill")
	c.CreateTopic(t, topic, 1, 1, nil)
	adm := c.Admin(t)
	chk := StartChecker(t, c, topic, 1, CheckerOptions{MaxRecords: 150000, MaxDuration: 3 * time.Minute, Interval: -1,
		MaxInFlight: 1000, ValueBytes: 250, ClientOpts: []kgo.Opt{kgo.ProducerBatchCompression(kgo.NoCompression())}})
	chk.WaitProgress(t, 150000, 3*time.Minute)
	chk.Stop(t)
	var before replicaDirs
	eventually(t, 30*time.Second, func() error {
		var err error
		if before, err = describeReplica(t, adm, 1, topic, 0); err == nil && before.current == "" {
			err = errors.New("the partition is in no log dir")
		}
		return err
	})
	src, dst := before.current, dirB
	if src == dirB {
		dst = dirA
	}
	var req kadm.AlterReplicaLogDirsReq
	req.Add(dst, kadm.TopicsSet{topic: {0: {}}})
	resps, err := adm.AlterBrokerReplicaLogDirs(ctxT(t, 30*time.Second), 1, req)
	if err != nil || resps[topic][0].Err != nil {
		t.Fatalf("AlterReplicaLogDirs: %v %+v", err, resps)
	}
	c.KillBroker(1)
	c.Broker(1).Wait(30 * time.Second)
	var state []string
	for _, d := range []string{src, dst} {
		state = append(state, fmt.Sprintf("%s: %v", filepath.Base(d), partitionFolders(t, d, topic, 0)))
	}
	t.Logf("killed with %d bytes to move; on disk then: %s", before.currentSize, strings.Join(state, "; "))

	c.StartBroker(1)
	c.WaitForTopic(t, topic, 1)
	eventually(t, 2*time.Minute, func() error {
		r, err := describeReplica(t, adm, 1, topic, 0)
		if err == nil && (r.current != dst || r.future != "") {
			err = fmt.Errorf("after the restart: %+v, want the partition in %s", r, dst)
		}
		return err
	})
	eventually(t, 30*time.Second, func() error {
		if fs := partitionFolders(t, src, topic, 0); len(fs) > 0 {
			return fmt.Errorf("%s still holds %v", src, fs)
		}
		if fs := partitionFolders(t, dst, topic, 0); len(fs) != 1 || fs[0] != topic+"-0" {
			return fmt.Errorf("%s holds %v", dst, fs)
		}
		return nil
	})
	res := chk.Verify(t)
	t.Logf("checker: %s", res)
}
