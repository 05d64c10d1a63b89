package broker

// AlterReplicaLogDirs, key 34, versions 0-2 (KIP-113; v2 is the flexible version, KIP-482):
// move replicas of this broker to another of its log dirs, as Kafka 3.6's
// ReplicaManager.alterReplicaLogDirs. Per destination, an absolute path that must be an
// entry of log.dirs, the partitions to move there; a partition named under two dirs takes
// the last, as Kafka's request map does. For each partition:
//
//   - a topic whose future folder name (<topic>-<partition>.<32 hex>-future) would pass 255
//     bytes: INVALID_TOPIC_EXCEPTION (KAFKA-4893);
//   - a path that is not an entry of log.dirs: LOG_DIR_NOT_FOUND; an offline one:
//     KAFKA_STORAGE_ERROR, as for a partition whose dir failed;
//   - a move under way to another dir is cancelled first (its future log deleted);
//   - the dir is remembered as where the partition's log is to be created, unless its log is
//     there already (LogManager.maybeUpdatePreferredLogDir), so a partition not hosted yet
//     lands there when it comes (a reassignment onto this broker with a log dir): it answers
//     REPLICA_NOT_AVAILABLE, which kafka-reassign-partitions.sh retries;
//   - a hosted partition in another dir gets a future log there, which the alter-log-dirs
//     task fills and swaps in (alter_log_dirs.go, logstore's future.go); KAFKA_STORAGE_ERROR
//     while any log dir is offline, as Kafka (no future log is made then). A partition
//     already in the dir, or already moving there, answers NONE and nothing changes.
//
// klassik has no authorizer, so Kafka's ALTER on CLUSTER check
// (CLUSTER_AUTHORIZATION_FAILED) is not made.
//
// With an authorizer it needs Alter on the cluster (else CLUSTER_AUTHORIZATION_FAILED for
// every partition).

import (
	"context"
	"errors"

	"github.com/klassik/klassik/broker/authz"
	"github.com/klassik/klassik/logstore"
	"github.com/klassik/klassik/wire"
	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kmsg"
)

func init() { register(34, 0, 2, (*Broker).handleAlterReplicaLogDirs) }

// maxFutureDirName is the longest folder name of Kafka's check (UnifiedLog.logFutureDirName).
const maxFutureDirName = 255

func (b *Broker) handleAlterReplicaLogDirs(_ context.Context, req *wire.Request) (kmsg.Response, error) {
	r := req.Body.(*kmsg.AlterReplicaLogDirsRequest)
	resp := r.ResponseKind().(*kmsg.AlterReplicaLogDirsResponse)
	dest := map[topicPartition]string{}
	var order []topicPartition
	for _, d := range r.Dirs {
		for _, t := range d.Topics {
			for _, p := range t.Partitions {
				tp := topicPartition{t.Topic, p}
				if _, seen := dest[tp]; !seen {
					order = append(order, tp)
				}
				dest[tp] = d.Dir
			}
		}
	}
	allowed := b.authorizeCluster(req, authz.OpAlter) // KafkaApis: Alter on the cluster
	b.alterDirs.reqMu.Lock()
	defer b.alterDirs.reqMu.Unlock()
	idx := map[string]int{}
	for _, tp := range order {
		var err error = kerr.ClusterAuthorizationFailed
		if allowed {
			err = b.alterReplicaLogDir(tp, dest[tp])
		}
		if err != nil && allowed {
			b.log.Warn().Err(err).Str("topic", tp.topic).Int32("partition", tp.partition).Str("log_dir", dest[tp]).
				Msg("unable to alter log dirs")
		}
		i, ok := idx[tp.topic]
		if !ok {
			i = len(resp.Topics)
			idx[tp.topic] = i
			rt := kmsg.NewAlterReplicaLogDirsResponseTopic()
			rt.Topic = tp.topic
			resp.Topics = append(resp.Topics, rt)
		}
		rp := kmsg.NewAlterReplicaLogDirsResponseTopicPartition()
		rp.Partition, rp.ErrorCode = tp.partition, errCode(err)
		resp.Topics[i].Partitions = append(resp.Topics[i].Partitions, rp)
	}
	return resp, nil
}

// alterReplicaLogDir handles one partition of the request; nil is NONE.
func (b *Broker) alterReplicaLogDir(tp topicPartition, dir string) error {
	lt := logstore.TopicPartition{Topic: tp.topic, Partition: tp.partition}
	if len(logstore.LogDirName(lt))+1+32+len(logstore.FutureDirSuffix) > maxFutureDirName {
		return errorf(kerr.InvalidTopicException, "The topic name is too long.")
	}
	online, err := b.logs.LogDirOnline(dir)
	if err != nil {
		return errorf(kerr.LogDirNotFound, "Log dir %s is not found in the config.", dir)
	}
	if !online {
		return errorf(kerr.KafkaStorageError, "Log directory %s is offline", dir)
	}
	if b.rm.isOffline(tp) {
		return errorf(kerr.KafkaStorageError, "Partition %s-%d is offline", tp.topic, tp.partition)
	}
	p := b.rm.get(tp)
	if p != nil {
		if _, future := b.logs.LogDirsOf(lt); future != "" && future != dir {
			// Partition.futureReplicaDirChanged: stop the current move first.
			b.alterDirs.remove(tp)
			if err := b.logs.RemoveFuture(lt); err != nil {
				return errorf(kerr.KafkaStorageError, "removing the future log of %s-%d: %v", tp.topic, tp.partition, err)
			}
			b.log.Info().Str("topic", tp.topic).Int32("partition", tp.partition).Str("was_moving_to", future).
				Msg("cancelled the move to another log dir")
		}
	}
	if err := b.logs.MaybeUpdatePreferredLogDir(lt, dir); err != nil {
		b.log.Warn().Err(err).Msg("not remembering the log dir of a partition not hosted yet")
	}
	if p == nil {
		return errorf(kerr.ReplicaNotAvailable, "Partition %s-%d is not hosted by broker %d; its log will be created in %s",
			tp.topic, tp.partition, b.cfg.BrokerID, dir)
	}
	created, err := b.logs.CreateFuture(lt, dir)
	switch {
	case errors.Is(err, logstore.ErrNoLog):
		return errorf(kerr.ReplicaNotAvailable, "Partition %s-%d has no log on broker %d", tp.topic, tp.partition, b.cfg.BrokerID)
	case errors.Is(err, logstore.ErrLogDirOffline):
		return errorf(kerr.KafkaStorageError, "%v", err)
	case err != nil:
		return err
	}
	if _, future := b.logs.LogDirsOf(lt); created || future != "" {
		b.alterDirs.add(tp) // a future log found at start-up is copied from now on, too
	}
	return nil
}
