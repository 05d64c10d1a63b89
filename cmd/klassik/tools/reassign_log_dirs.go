package tools

// The log directory half of reassign-partitions (Kafka 3.6's ReassignPartitionsCommand
// executeMoves, findLogDirMoveStates and replicaMoveStatesToString): a plan's "log_dirs" name,
// for each replica, the broker's log dir it is to live in ("any": wherever it is). --execute
// sends AlterReplicaLogDirs to each broker for the replicas with a dir, retrying while a
// replica is not on its broker yet (REPLICA_NOT_AVAILABLE: the broker remembers the dir and
// creates the replica there when the reassignment brings it) for --timeout ms; --verify
// reads each broker's DescribeLogDirs for the replica's current and future dirs; --cancel
// moves the replicas whose moves are running back to their current dirs.

import (
	"context"
	"errors"
	"fmt"
	"io"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kerr"
)

// anyLogDir is the log_dirs entry for "wherever the broker puts it".
const anyLogDir = "any"

// replicaDir is one replica of a plan and the log dir it is to move to (Kafka's
// TopicPartitionReplica -> dir).
type replicaDir struct {
	Topic     string
	Partition int32
	Broker    int32
	Dir       string
}

// name is TopicPartitionReplica.toString: topic-partition-broker.
func (r replicaDir) name() string {
	return r.Topic + "-" + strconv.Itoa(int(r.Partition)) + "-" + strconv.Itoa(int(r.Broker))
}

// sortReplicaDirs is compareTopicPartitionReplicas: by broker, topic, partition.
func sortReplicaDirs(rs []replicaDir) {
	sort.Slice(rs, func(i, j int) bool {
		a, b := rs[i], rs[j]
		if a.Broker != b.Broker {
			return a.Broker < b.Broker
		}
		if a.Topic != b.Topic {
			return a.Topic < b.Topic
		}
		return a.Partition < b.Partition
	})
}

func replicaNames(rs []replicaDir) string {
	sortReplicaDirs(rs)
	s := make([]string, len(rs))
	for i, r := range rs {
		s[i] = r.name()
	}
	return strings.Join(s, ",")
}

// planLogDirs pairs a partition's replicas with its log_dirs (Kafka's
// parsePartitionReassignmentData): the lists must be as long, and "any" asks for no move.
// A later entry for the same replica replaces an earlier one, as Kafka's map does.
func planLogDirs(p partReplicas, dirs []string, moves map[string]replicaDir, order *[]string) error {
	if dirs == nil {
		return nil
	}
	if len(dirs) != len(p.Replicas) {
		return fmt.Errorf("Size of replicas list %s is different from size of log dirs list %s for partition %s",
			scalaList(intStrings(p.Replicas)), scalaList(dirs), p.name())
	}
	for i, d := range dirs {
		if d == anyLogDir {
			continue
		}
		r := replicaDir{Topic: p.Topic, Partition: p.Partition, Broker: p.Replicas[i], Dir: d}
		if _, seen := moves[r.name()]; !seen {
			*order = append(*order, r.name())
		}
		moves[r.name()] = r
	}
	return nil
}

func intStrings(xs []int32) []string {
	out := make([]string, len(xs))
	for i, x := range xs {
		out[i] = strconv.Itoa(int(x))
	}
	return out
}

// scalaList prints a Scala Seq as Kafka's messages show it: List(a, b).
func scalaList(xs []string) string { return "List(" + strings.Join(xs, ", ") + ")" }

// executeMoves is Kafka's executeMoves: AlterReplicaLogDirs for every pending replica, every
// 100 ms until each has started or timeout has passed.
func executeMoves(ctx context.Context, adm *kadm.Client, stdout io.Writer, moves []replicaDir, timeout time.Duration) error {
	start := time.Now()
	pending := append([]replicaDir(nil), moves...)
	for {
		started, err := alterReplicaLogDirs(ctx, adm, pending)
		if err != nil {
			return err
		}
		if len(started) > 0 {
			fmt.Fprintf(stdout, "Successfully started log directory move%s for: %s\n", pluralS(len(started)), replicaNames(started))
		}
		var left []replicaDir
		for _, r := range pending {
			if !containsReplica(started, r) {
				left = append(left, r)
			}
		}
		pending = left
		if len(pending) == 0 {
			return nil
		}
		if time.Since(start) >= timeout {
			return fmt.Errorf("Timed out before log directory move%s could be started for: %s", pluralS(len(pending)), replicaNames(pending))
		}
		// A replica moved to a new broker with a log dir can only start moving once it is
		// there: keep asking (Kafka sleeps 100 ms too).
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(100 * time.Millisecond):
		}
	}
}

func containsReplica(rs []replicaDir, r replicaDir) bool {
	for _, x := range rs {
		if x.name() == r.name() {
			return true
		}
	}
	return false
}

// alterReplicaLogDirs sends each broker its replicas' dirs and returns the replicas whose
// move started; REPLICA_NOT_AVAILABLE (not there yet) is not an error, anything else is
// Kafka's "Failed to alter dir for".
func alterReplicaLogDirs(ctx context.Context, adm *kadm.Client, rs []replicaDir) ([]replicaDir, error) {
	byBroker := map[int32][]replicaDir{}
	var brokers []int32
	for _, r := range rs {
		if _, ok := byBroker[r.Broker]; !ok {
			brokers = append(brokers, r.Broker)
		}
		byBroker[r.Broker] = append(byBroker[r.Broker], r)
	}
	sort.Slice(brokers, func(i, j int) bool { return brokers[i] < brokers[j] })
	var started []replicaDir
	for _, b := range brokers {
		var req kadm.AlterReplicaLogDirsReq
		for _, r := range byBroker[b] {
			req.Add(r.Dir, kadm.TopicsSet{r.Topic: {r.Partition: {}}})
		}
		resps, err := adm.AlterBrokerReplicaLogDirs(ctx, b, req)
		for _, r := range byBroker[b] {
			rerr := err
			if rerr == nil {
				rerr = errors.New("no answer for the partition")
				if p, ok := resps[r.Topic][r.Partition]; ok {
					rerr = p.Err
				}
			}
			switch {
			case rerr == nil:
				started = append(started, r)
			case errors.Is(rerr, kerr.ReplicaNotAvailable):
			default:
				return nil, fmt.Errorf("Failed to alter dir for %s: %v", r.name(), rootCause(rerr))
			}
		}
	}
	return started, nil
}

// replicaDirsOf is Admin.describeReplicaLogDirs: for each replica, the dir of its current log
// and of its future log ("" for none), from its broker's DescribeLogDirs. Offline dirs
// (KAFKA_STORAGE_ERROR) are skipped; any other dir error fails.
func replicaDirsOf(ctx context.Context, adm *kadm.Client, rs []replicaDir) (map[string][2]string, error) {
	byBroker := map[int32]kadm.TopicsSet{}
	for _, r := range rs {
		set := byBroker[r.Broker]
		set.Add(r.Topic, r.Partition)
		byBroker[r.Broker] = set
	}
	out := map[string][2]string{}
	for b, set := range byBroker {
		dirs, err := adm.DescribeBrokerLogDirs(ctx, b, set)
		if err != nil {
			return nil, err
		}
		for dir, d := range dirs {
			if errors.Is(d.Err, kerr.KafkaStorageError) {
				continue
			}
			if d.Err != nil {
				return nil, fmt.Errorf("The error %v for log directory %s in the response from broker %d is illegal", d.Err, dir, b)
			}
			d.Topics.Each(func(p kadm.DescribedLogDirPartition) {
				k := replicaDir{Topic: p.Topic, Partition: p.Partition, Broker: b}.name()
				v := out[k]
				if p.IsFuture {
					v[1] = dir
				} else {
					v[0] = dir
				}
				out[k] = v
			})
		}
	}
	return out, nil
}

// replicaMoveStates is findLogDirMoveStates with replicaMoveStatesToString: one line per
// replica in Kafka's words.
func replicaMoveStates(ctx context.Context, adm *kadm.Client, rs []replicaDir) ([]string, error) {
	infos, err := replicaDirsOf(ctx, adm, rs)
	if err != nil {
		return nil, err
	}
	rs = append([]replicaDir(nil), rs...)
	sortReplicaDirs(rs)
	var lines []string
	for _, r := range rs {
		cur, fut := infos[r.name()][0], infos[r.name()][1]
		tp := r.Topic + "-" + strconv.Itoa(int(r.Partition))
		switch {
		case cur == "":
			lines = append(lines, fmt.Sprintf("Partition %s is not found in any live log dir on broker %d. There is likely an offline log directory on the broker.", tp, r.Broker))
		case fut == "" && cur == r.Dir:
			lines = append(lines, fmt.Sprintf("Reassignment of replica %s completed successfully.", r.name()))
		case fut == "":
			lines = append(lines, fmt.Sprintf("Partition %s on broker %d is not being moved from log dir %s to %s.", tp, r.Broker, cur, r.Dir))
		case fut == r.Dir:
			lines = append(lines, fmt.Sprintf("Reassignment of replica %s is still in progress.", r.name()))
		default:
			lines = append(lines, fmt.Sprintf("Partition %s on broker %d is being moved to log dir %s instead of %s.", tp, r.Broker, fut, r.Dir))
		}
	}
	return lines, nil
}

// cancelMoves is the log dir half of Kafka's cancelAssignment: every replica of the plan
// whose move is running is sent back to its current dir, which cancels the move.
func cancelMoves(ctx context.Context, adm *kadm.Client, stdout io.Writer, rs []replicaDir, timeout time.Duration) error {
	infos, err := replicaDirsOf(ctx, adm, rs)
	if err != nil {
		return err
	}
	var back []replicaDir
	for _, r := range rs {
		if cur, fut := infos[r.name()][0], infos[r.name()][1]; cur != "" && fut != "" {
			back = append(back, replicaDir{Topic: r.Topic, Partition: r.Partition, Broker: r.Broker, Dir: cur})
		}
	}
	if len(back) == 0 {
		fmt.Fprintln(stdout, "None of the specified partition moves are active.")
		return nil
	}
	return executeMoves(ctx, adm, stdout, back, timeout)
}
