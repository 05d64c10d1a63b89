package integration

import (
	"bufio"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kgo"
)

// TestFullDisk is a sick disk failing over (KIP-112, Kafka's LogDirFailureChannel): broker 2's
// log dir is a 24 MB tmpfs, and an idempotent acks=all producer (KIP-98) writes 100-byte
// records to a topic of replication factor 3 and min.insync.replicas 2 until that disk is
// full. The kernel's ENOSPC on broker 2's append (as leader or as follower) must take the log
// dir offline: broker 2 stops serving its replicas, tells the controller through
// /log_dir_event_notification, and the controller elects other leaders for the partitions it
// led. The producer keeps being acknowledged by the two brokers left, and every acknowledged
// record is read back exactly once.
//
// only-log-dir: the tmpfs is broker 2's only log dir, so it halts with "all log dirs have
// failed", as Kafka does. one-of-two-log-dirs: broker 2 has a second log dir on the ordinary
// disk (JBOD) and keeps running and leading the partitions there; only the partitions on the
// tmpfs lose it as leader, which nothing but the log dir notification can tell the
// controller.
func TestFullDisk(t *testing.T) {
	t.Run("only-log-dir", func(t *testing.T) { testFullDisk(t, false) })
	t.Run("one-of-two-log-dirs", func(t *testing.T) { testFullDisk(t, true) })
}

func testFullDisk(t *testing.T, jbod bool) {
	const full, partitions = int32(2), int32(6)
	disk := TmpfsLogDir(full, "24m")
	if jbod {
		disk = TmpfsAndDiskLogDirs(full, "24m")
	}
	c := NewCluster(t, Brokers(3), disk,
		BrokerConfig("replica.lag.time.max.ms", 5000),
		BrokerConfig("auto.leader.rebalance.enable", false))
	topic := topicName(t, "full-disk")
	c.CreateTopic(t, topic, partitions, 3, map[string]*string{"min.insync.replicas": strp("2")})
	b := c.Broker(full)

	// The partitions broker 2 leads whose log is on the tmpfs: these must get new leaders.
	// Where each of its replicas lives, once every one of them has a directory in one of its
	// log dirs (a replica created later would otherwise be taken for one on the other disk).
	onTmpfs := map[int32]bool{}
	eventually(t, 30*time.Second, func() error {
		clear(onTmpfs)
		placed := 0
		for p := range partitions {
			if _, err := os.Stat(fmt.Sprintf("%s/%s-%d", b.LogDir(), topic, p)); err == nil {
				onTmpfs[p] = true
				placed++
			} else if _, err := os.Stat(filepath.Join(b.Dir, "data2", fmt.Sprintf("%s-%d", topic, p))); jbod && err == nil {
				placed++
			}
		}
		if placed != int(partitions) {
			return fmt.Errorf("%d of %d partitions have a directory in broker %d's log dirs", placed, partitions, full)
		}
		if jbod && len(onTmpfs) == 0 {
			return fmt.Errorf("no partition in %s", b.LogDir())
		}
		return nil
	})
	var mustMove []int32
	for p := range partitions {
		if st, err := c.ZKPartitionState(t, topic, p); err != nil {
			t.Fatal(err)
		} else if st.Leader == full && onTmpfs[p] {
			mustMove = append(mustMove, p)
		}
	}
	t.Logf("broker %d leads partitions %v of %s on its tmpfs (partitions there: %v)", full, mustMove, topic, keys(onTmpfs))
	if len(mustMove) == 0 {
		t.Fatalf("broker %d leads no partition on its tmpfs log dir; the test cannot show leadership leaving it", full)
	}

	notes := watchLogDirEvents(t, c)
	if !jbod {
		c.ExpectExit(full) // it halts when its only log dir fails
	}
	chk := StartChecker(t, c, topic, partitions, CheckerOptions{
		MaxRecords: 1_000_000, MaxDuration: 150 * time.Second,
		Interval: -1, MaxInFlight: 1000, ValueBytes: 100,
		// Uncompressed, so that 100-byte values take 100 bytes of the disk.
		ClientOpts: []kgo.Opt{kgo.ProducerBatchCompression(kgo.NoCompression())},
	})

	// The disk fills: the broker logs its first storage error.
	var failedAt time.Time
	eventually(t, 120*time.Second, func() error {
		at, ok := firstLogLine(b.StderrPath(), "I/O error: the log is offline")
		if !ok {
			free, _ := b.DiskFree()
			return fmt.Errorf("broker %d has no storage error yet (%d bytes free on its tmpfs, %d acknowledged)", full, free, chk.Acked())
		}
		failedAt = at
		return nil
	})
	ackedAtFailure := chk.Acked()
	free, _ := b.DiskFree()
	t.Logf("first storage error on broker %d at %s, %d records acknowledged, %d bytes free on the tmpfs", full, failedAt.Format(time.RFC3339Nano), ackedAtFailure, free)

	// Every partition it led on the tmpfs gets another leader; the znode's mtime says when.
	var moved time.Time
	c.eventuallyT(t, 60*time.Second, func() error {
		moved = time.Time{}
		for _, p := range mustMove {
			st, err := c.ZKPartitionState(t, topic, p)
			if err != nil {
				return err
			}
			if st.Leader == full || st.Leader < 0 {
				return fmt.Errorf("%s-%d: %+v", topic, p, st)
			}
			if st.Mtime.After(moved) {
				moved = st.Mtime
			}
		}
		return nil
	})
	noteAt, noted := notes.first()
	took := moved.Sub(failedAt)

	if jbod {
		// Still running and registered; its replicas on the tmpfs are out of every ISR and
		// those on the ordinary disk stay in.
		c.AssertAlive(t)
		c.eventuallyT(t, 30*time.Second, func() error {
			for p := range partitions {
				st, err := c.ZKPartitionState(t, topic, p)
				if err != nil {
					return err
				}
				if in := slices.Contains(st.ISR, full); in == onTmpfs[p] {
					return fmt.Errorf("%s-%d (on the tmpfs: %v): ISR %v", topic, p, onTmpfs[p], st.ISR)
				}
			}
			return nil
		})
	} else {
		code := c.WaitExit(t, full, 60*time.Second)
		if out := b.Output(); code != 1 || !strings.Contains(out, "all log dirs have failed") {
			t.Errorf("broker %d exited with code %d; want 1 and \"all log dirs have failed\"; its log:\n%s", full, code, tailFile(b.StderrPath(), 15))
		}
	}
	if !noted {
		t.Errorf("no /log_dir_event_notification znode was seen")
	}

	// The producer goes on being acknowledged after the disk filled.
	chk.WaitProgress(t, 20_000, 90*time.Second)
	chk.Stop(t)
	res := chk.Verify(t)
	after := res.Acked - ackedAtFailure
	t.Logf("MEASURE full-disk (%s): %s; %d acknowledged after the first storage error; leaders of %v moved off broker %d %v after its first storage error (log_dir_event_notification seen %v after it)",
		map[bool]string{false: "only log dir", true: "one of two log dirs"}[jbod], res, after, mustMove, full,
		took.Round(time.Millisecond), noteAt.Sub(failedAt).Round(time.Millisecond))
	if res.Lost != 0 || res.Duplicated != 0 || res.OutOfOrder != 0 || res.Corrupt != 0 {
		t.Errorf("full disk: %s", res)
	}
	if after <= 0 {
		t.Errorf("no record acknowledged after the disk filled")
	}
	if len(res.Errors) > 0 {
		t.Logf("produce errors of unacknowledged records: %v", res.Errors)
	}
}

// firstLogLine returns the time of the broker's first JSON log line with that message.
func firstLogLine(path, msg string) (time.Time, bool) {
	f, err := os.Open(path)
	if err != nil {
		return time.Time{}, false
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 64<<10), 1<<20)
	for sc.Scan() {
		line := sc.Bytes()
		if !strings.Contains(string(line), msg) {
			continue
		}
		var e struct {
			Time    time.Time `json:"time"`
			Message string    `json:"message"`
		}
		if json.Unmarshal(line, &e) == nil && e.Message == msg {
			return e.Time, true
		}
	}
	return time.Time{}, false
}

// logDirEvents records when the first /log_dir_event_notification child was created.
type logDirEvents struct {
	mu   sync.Mutex
	at   time.Time
	seen bool
}

func (e *logDirEvents) first() (time.Time, bool) {
	e.mu.Lock()
	defer e.mu.Unlock()
	return e.at, e.seen
}

// watchLogDirEvents watches /log_dir_event_notification until the test ends and records the
// creation time (ZooKeeper's ctime) of the first notification it sees. The controller deletes
// them quickly, so it uses a watch, not polling.
func watchLogDirEvents(t *testing.T, c *Cluster) *logDirEvents {
	ev := &logDirEvents{}
	p := c.Path("/log_dir_event_notification")
	conn := c.ZK()
	done := make(chan struct{})
	t.Cleanup(func() { close(done) })
	go func() {
		for {
			kids, _, ch, err := conn.ChildrenW(p)
			if err != nil {
				select {
				case <-done:
					return
				case <-time.After(100 * time.Millisecond):
					continue
				}
			}
			for _, k := range kids {
				if _, st, err := conn.Get(p + "/" + k); err == nil {
					ev.mu.Lock()
					if !ev.seen {
						ev.at, ev.seen = time.UnixMilli(st.Ctime), true
					}
					ev.mu.Unlock()
				} else {
					// deleted already: it existed by now at the latest
					ev.mu.Lock()
					if !ev.seen {
						ev.at, ev.seen = time.Now(), true
					}
					ev.mu.Unlock()
				}
			}
			select {
			case <-done:
				return
			case <-ch:
			}
		}
	}()
	return ev
}

func keys(m map[int32]bool) []int32 {
	var out []int32
	for k := range m {
		out = append(out, k)
	}
	slices.Sort(out)
	return out
}
