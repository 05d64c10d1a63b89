package broker

// DescribeLogDirs, key 35, versions 0-4 (KIP-113; total and usable bytes from v4, KIP-827):
// every entry of log.dirs, by absolute path, with the partitions it holds, their size (the
// bytes of their segments) and offset lag (the replica's high watermark minus its log end
// offset, never below 0, -1 when the broker has no such replica), as Kafka 3.6's
// ReplicaManager.describeLogDirs. A failed dir (KIP-112) answers KAFKA_STORAGE_ERROR. Topics
// null asks for every partition; a topic of a dir with none of the asked partitions is
// listed with no partitions, as Kafka does. A replica moving to another dir
// (AlterReplicaLogDirs, 34_alter_replica_log_dirs.go) is listed twice: in its current dir,
// and in the destination as a future replica (IsFuture) whose offset lag is the current log
// end offset minus the future log's, Kafka's getLogEndOffsetLag.
//
// log.dirs with several directories is a JBOD layout, as in Kafka: each partition lives in
// one of them, a new one in the dir holding the fewest partitions (LogManager.nextLogDirs,
// future replicas counted), a dir that fails goes offline alone while the others keep
// serving, and AlterReplicaLogDirs moves a replica from one to another.
//
// With an authorizer it needs Describe on the cluster (else CLUSTER_AUTHORIZATION_FAILED and
// no dirs).

import (
	"context"
	"path/filepath"
	"slices"
	"strings"

	"github.com/klassik/klassik/broker/authz"
	"github.com/klassik/klassik/logstore"
	"github.com/klassik/klassik/wire"
	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kmsg"
)

func init() { register(35, 0, 4, (*Broker).handleDescribeLogDirs) }

func (b *Broker) handleDescribeLogDirs(_ context.Context, req *wire.Request) (kmsg.Response, error) {
	r := req.Body.(*kmsg.DescribeLogDirsRequest)
	resp := r.ResponseKind().(*kmsg.DescribeLogDirsResponse)
	if !b.authorizeCluster(req, authz.OpDescribe) {
		resp.ErrorCode = kerr.ClusterAuthorizationFailed.Code // KafkaApis: no dirs at all
		return resp, nil
	}
	var asked map[logstore.TopicPartition]bool
	if r.Topics != nil {
		asked = map[logstore.TopicPartition]bool{}
		for _, t := range r.Topics {
			for _, p := range t.Partitions {
				asked[logstore.TopicPartition{Topic: t.Topic, Partition: p}] = true
			}
		}
	}
	for _, d := range b.logs.Dirs() {
		rd := kmsg.NewDescribeLogDirsResponseDir()
		rd.Dir = d.Path
		if abs, err := filepath.Abs(d.Path); err == nil {
			rd.Dir = abs
		}
		if d.Offline {
			rd.ErrorCode = kerr.KafkaStorageError.Code
			resp.Dirs = append(resp.Dirs, rd)
			continue
		}
		rd.TotalBytes, rd.UsableBytes = d.TotalBytes, d.UsableBytes
		for _, rl := range dirReplicas(d) {
			tp := rl.log.TopicPartition()
			if n := len(rd.Topics); n == 0 || rd.Topics[n-1].Topic != tp.Topic {
				rt := kmsg.NewDescribeLogDirsResponseDirTopic()
				rt.Topic = tp.Topic
				rt.Partitions = []kmsg.DescribeLogDirsResponseDirTopicPartition{}
				rd.Topics = append(rd.Topics, rt)
			}
			if asked != nil && !asked[tp] {
				continue
			}
			rp := kmsg.NewDescribeLogDirsResponseDirTopicPartition()
			rp.Partition, rp.Size, rp.OffsetLag, rp.IsFuture = tp.Partition, rl.log.Size(), -1, rl.future
			switch cur := b.logs.Get(tp); {
			case rl.future && cur != nil:
				rp.OffsetLag = cur.LogEndOffset() - rl.log.LogEndOffset()
			case rl.future:
			default:
				if p := b.rm.get(topicPartition{tp.Topic, tp.Partition}); p != nil {
					rp.OffsetLag = max(p.highWatermark()-rl.log.LogEndOffset(), 0)
				}
			}
			rt := &rd.Topics[len(rd.Topics)-1]
			rt.Partitions = append(rt.Partitions, rp)
		}
		resp.Dirs = append(resp.Dirs, rd)
	}
	return resp, nil
}

// replicaLog is a log of a dir and whether it is a future replica.
type replicaLog struct {
	log    *logstore.Log
	future bool
}

// dirReplicas merges a dir's current and future logs by topic and partition (a partition has
// at most one of each, in different dirs).
func dirReplicas(d logstore.DirInfo) []replicaLog {
	out := make([]replicaLog, 0, len(d.Logs)+len(d.Futures))
	for _, l := range d.Logs {
		out = append(out, replicaLog{log: l})
	}
	for _, l := range d.Futures {
		out = append(out, replicaLog{log: l, future: true})
	}
	slices.SortStableFunc(out, func(x, y replicaLog) int {
		a, b := x.log.TopicPartition(), y.log.TopicPartition()
		if c := strings.Compare(a.Topic, b.Topic); c != 0 {
			return c
		}
		return int(a.Partition - b.Partition)
	})
	return out
}
