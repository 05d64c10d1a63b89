package zkclient

import (
	"errors"
	"fmt"
	"path"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/go-zookeeper/zk"
)

// This file is Kafka's KafkaZkClient: the operations brokers and the controller run against
// the data model.

// EnsurePersistentPaths creates Kafka's persistent paths (ZkData.PersistentZkPaths:
// /consumers, /brokers/ids, /brokers/topics, /config/changes, /admin/delete_topics,
// /brokers/seqid, /isr_change_notification, /latest_producer_id_block,
// /log_dir_event_notification, /config/{topics,clients,users,brokers,ips}) and /feature (with
// the content a Kafka 3.x controller writes) when missing.
func (c *Client) EnsurePersistentPaths() error {
	for _, p := range persistentPaths {
		if err := c.ensurePath(p); err != nil {
			return err
		}
	}
	if _, err := c.createRecursive(featurePath, encodeFeature(), 0); err != nil && !errors.Is(err, ErrNodeExists) {
		return err
	}
	return nil
}

// GetOrCreateClusterID returns /cluster/id, writing proposed when it is absent (Kafka's
// createOrGetClusterId).
func (c *Client) GetOrCreateClusterID(proposed string) (string, error) {
	for {
		data, _, err := c.get(clusterIDPath)
		if err == nil {
			return decodeClusterID(data)
		}
		if !errors.Is(err, ErrNoNode) {
			return "", err
		}
		_, err = c.createRecursive(clusterIDPath, encodeClusterID(proposed), 0)
		if err == nil {
			return proposed, nil
		}
		if !errors.Is(err, ErrNodeExists) {
			return "", err
		}
	}
}

// RegisterBroker creates the ephemeral /brokers/ids/<id>; it returns the broker epoch (czxid).
// A taken id is ErrBrokerIDTaken (unless the node belongs to this very session, then its
// czxid is returned and its data left as is). Like Kafka's CheckedEphemeral, the node is
// created empty and filled in the same transaction.
func (c *Client) RegisterBroker(info BrokerInfo) (int64, error) {
	ts := info.Timestamp
	if ts == 0 {
		ts = time.Now().UnixMilli()
	}
	p := brokerPath(info.ID)
	data := encodeBroker(info, ts)
	for attempt := 0; ; attempt++ {
		res, i, err := c.multi(
			&zk.CreateRequest{Path: c.p(p), Data: nil, Acl: c.acl, Flags: zk.FlagEphemeral},
			&zk.SetDataRequest{Path: c.p(p), Data: data, Version: 0})
		switch {
		case err == nil:
			c.log.Info().Int32("broker", info.ID).Int64("epoch", res[1].Stat.Czxid).Msg("registered broker")
			return res[1].Stat.Czxid, nil
		case i == 0 && errors.Is(err, zk.ErrNoNode) && attempt == 0:
			if err := c.ensurePath(brokerIDsPath); err != nil {
				return 0, err
			}
			continue
		case i == 0 && errors.Is(err, zk.ErrNodeExists):
			_, stat, gerr := c.get(p)
			if errors.Is(gerr, ErrNoNode) && attempt < 5 {
				continue // went away meanwhile: try again
			}
			if gerr != nil {
				return 0, gerr
			}
			if sid := c.SessionID(); sid != 0 && stat.EphemeralOwner == sid {
				return stat.Czxid, nil
			}
			return 0, fmt.Errorf("zkclient: broker id %d is registered by ZooKeeper session 0x%x (at %s): %w",
				info.ID, stat.EphemeralOwner, p, ErrBrokerIDTaken)
		}
		return 0, zkErr("register broker at", p, err)
	}
}

// Brokers reads every registered broker and, with watch, re-arms the /brokers/ids child
// watch (EventBrokersChanged).
func (c *Client) Brokers(watch bool) (map[int32]BrokerInfo, error) {
	kids, err := c.children(brokerIDsPath, watch)
	if err != nil {
		return nil, err
	}
	out := make(map[int32]BrokerInfo, len(kids))
	for _, k := range kids {
		id, err := strconv.ParseInt(k, 10, 32)
		if err != nil {
			continue
		}
		data, stat, err := c.get(brokerPath(int32(id)))
		if errors.Is(err, ErrNoNode) {
			continue // went away; the watch reports it
		}
		if err != nil {
			return nil, err
		}
		info, err := decodeBroker(int32(id), data)
		if err != nil {
			return nil, err
		}
		info.Epoch = stat.Czxid
		out[int32(id)] = info
	}
	return out, nil
}

// Controller reads /controller (-1 when absent) and, with watch, watches it (an exists watch,
// so creation, deletion and change all give EventControllerChanged).
func (c *Client) Controller(watch bool) (int32, error) {
	if watch {
		ok, err := c.exists(controllerPath, true)
		if err != nil || !ok {
			return -1, err
		}
	}
	data, _, err := c.get(controllerPath)
	if errors.Is(err, ErrNoNode) {
		return -1, nil
	}
	if err != nil {
		return -1, err
	}
	return decodeController(data)
}

// ControllerEpoch reads /controller_epoch (ErrNoNode when no controller was ever elected).
func (c *Client) ControllerEpoch() (ControllerEpoch, error) {
	data, stat, err := c.get(controllerEpochPath)
	if err != nil {
		return ControllerEpoch{}, err
	}
	e, err := decodeControllerEpoch(data)
	return ControllerEpoch{Epoch: e, ZkVersion: stat.Version}, err
}

// TryElectController tries to create /controller for brokerID and, in the same transaction,
// increments /controller_epoch conditionally on its zkVersion (Kafka's
// registerControllerAndIncrementControllerEpoch; /controller_epoch is created at 0 when absent,
// so the first controller has epoch 1). It returns the new epoch and its zkVersion. Someone
// else winning is ErrNodeExists.
func (c *Client) TryElectController(brokerID int32) (ControllerEpoch, error) {
	ts := time.Now().UnixMilli()
	for attempt := 0; ; attempt++ {
		cur, err := c.ControllerEpoch()
		if errors.Is(err, ErrNoNode) {
			_, err = c.createRecursive(controllerEpochPath, encodeControllerEpoch(0), 0)
			if err == nil || errors.Is(err, ErrNodeExists) {
				continue
			}
		}
		if err != nil {
			return ControllerEpoch{}, err
		}
		next := cur.Epoch + 1
		res, _, err := c.multi(
			&zk.CreateRequest{Path: c.p(controllerPath), Data: encodeController(brokerID, ts), Acl: c.acl, Flags: zk.FlagEphemeral},
			&zk.SetDataRequest{Path: c.p(controllerEpochPath), Data: encodeControllerEpoch(next), Version: cur.ZkVersion})
		if err == nil {
			ce := ControllerEpoch{Epoch: next, ZkVersion: res[1].Stat.Version}
			c.log.Info().Int32("broker", brokerID).Int32("epoch", ce.Epoch).Int32("epochZkVersion", ce.ZkVersion).Msg("elected controller")
			return ce, nil
		}
		if !errors.Is(err, zk.ErrNodeExists) && !errors.Is(err, zk.ErrBadVersion) {
			return ControllerEpoch{}, zkErr("elect controller at", controllerPath, err)
		}
		// Kafka's checkControllerAndEpoch: did our own earlier attempt win after all?
		id, cerr := c.Controller(false)
		if cerr != nil {
			return ControllerEpoch{}, cerr
		}
		if id == brokerID {
			if now, err := c.ControllerEpoch(); err == nil && now.Epoch == next {
				return now, nil
			}
		}
		if id >= 0 {
			return ControllerEpoch{}, fmt.Errorf("zkclient: broker %d is controller: %w", id, ErrNodeExists)
		}
		if attempt >= 10 {
			return ControllerEpoch{}, zkErr("elect controller at", controllerPath, err)
		}
		// The epoch moved but nobody holds /controller: another round.
	}
}

// ResignController deletes /controller if this broker holds it (through this session).
func (c *Client) ResignController(brokerID int32) error {
	data, stat, err := c.get(controllerPath)
	if errors.Is(err, ErrNoNode) {
		return nil
	}
	if err != nil {
		return err
	}
	id, err := decodeController(data)
	if err != nil || id != brokerID || stat.EphemeralOwner != c.SessionID() {
		return err
	}
	if err := c.conn.Delete(c.p(controllerPath), stat.Version); err != nil && !errors.Is(err, zk.ErrNoNode) {
		return zkErr("delete", controllerPath, err)
	}
	return nil
}

// Topics lists /brokers/topics children (with watch, re-arms the child watch).
func (c *Client) Topics(watch bool) ([]string, error) {
	kids, err := c.children(topicsPath, watch)
	sort.Strings(kids)
	return kids, err
}

// TopicAssignment reads /brokers/topics/<t> (with watch, re-arms its data watch:
// EventPartitionsChanged).
func (c *Client) TopicAssignment(topic string, watch bool) (TopicAssignment, error) {
	if err := checkName("topic", topic); err != nil {
		return TopicAssignment{}, err
	}
	data, stat, err := c.getW(topicPath(topic), watch)
	if err != nil {
		return TopicAssignment{}, err
	}
	a, err := decodeTopic(topic, data)
	a.ZkVersion = stat.Version
	return a, err
}

// CreateTopic writes /brokers/topics/<t> and /config/topics/<t> (config may be empty) in one
// transaction for an admin request (Kafka's AdminZkClient.createTopicWithAssignment); the
// controller then creates partition states. An existing topic is ErrNodeExists.
func (c *Client) CreateTopic(a TopicAssignment, config map[string]string) error {
	if err := checkName("topic", a.Topic); err != nil {
		return err
	}
	for _, p := range []string{topicsPath, configPath + "/topics"} {
		if err := c.ensurePath(p); err != nil {
			return err
		}
	}
	cfg := encodeEntityConfig(config)
	data := encodeTopic(a)
	if err := checkZnodeData(topicPath(a.Topic), data); err != nil {
		return err
	}
	for attempt := 0; ; attempt++ {
		cfgExists, err := c.exists(topicConfigPath(a.Topic), false)
		if err != nil {
			return err
		}
		var cfgOp any = &zk.CreateRequest{Path: c.p(topicConfigPath(a.Topic)), Data: cfg, Acl: c.acl}
		if cfgExists {
			cfgOp = &zk.SetDataRequest{Path: c.p(topicConfigPath(a.Topic)), Data: cfg, Version: -1}
		}
		_, i, err := c.multi(&zk.CreateRequest{Path: c.p(topicPath(a.Topic)), Data: data, Acl: c.acl}, cfgOp)
		switch {
		case err == nil:
			return nil
		case i == 0:
			return zkErr("create topic", topicPath(a.Topic), err)
		case i == 1 && attempt < 5 && (errors.Is(err, zk.ErrNodeExists) || errors.Is(err, zk.ErrNoNode)):
			continue // the config znode appeared or vanished meanwhile
		}
		return zkErr("create topic", topicConfigPath(a.Topic), err)
	}
}

// SetTopicAssignment overwrites /brokers/topics/<t> (CreatePartitions, reassignment) if its
// version is still a.ZkVersion (-1: any).
func (c *Client) SetTopicAssignment(a TopicAssignment) error {
	if err := checkName("topic", a.Topic); err != nil {
		return err
	}
	data := encodeTopic(a)
	if err := checkZnodeData(topicPath(a.Topic), data); err != nil {
		return err
	}
	_, err := c.conn.Set(c.p(topicPath(a.Topic)), data, a.ZkVersion)
	return zkErr("set", topicPath(a.Topic), err)
}

// PartitionState reads one partition's state (ErrNoNode when absent).
func (c *Client) PartitionState(topic string, partition int32) (PartitionState, error) {
	if err := checkName("topic", topic); err != nil {
		return PartitionState{}, err
	}
	data, stat, err := c.get(partitionStatePath(topic, partition))
	if err != nil {
		return PartitionState{}, err
	}
	return decodePartitionState(data, stat.Version)
}

// CreatePartitionStates creates state znodes (and their parents) fenced by /controller_epoch's
// zkVersion; ErrNotController when it moved. The states themselves are created in fenced
// transactions of at most maxMultiBytes each, in partition order, so that no request exceeds
// ZooKeeper's jute.maxbuffer (Kafka creates them one fenced create each): if one already
// exists, none of its transaction is created (ErrNodeExists naming it), and the
// transactions after it are not tried.
func (c *Client) CreatePartitionStates(ce ControllerEpoch, topic string, states map[int32]PartitionState) error {
	if err := checkName("topic", topic); err != nil {
		return err
	}
	parts := make([]int32, 0, len(states))
	for p := range states {
		parts = append(parts, p)
	}
	sort.Slice(parts, func(i, j int) bool { return parts[i] < parts[j] })
	// Parents first (Kafka's createTopicPartitions / createTopicPartition), each fenced.
	parents := []string{topicPartitionsPath(topic)}
	for _, p := range parts {
		parents = append(parents, partitionPath(topic, p))
	}
	for _, pp := range parents {
		ok, err := c.exists(pp, false)
		if err != nil {
			return err
		}
		if ok {
			continue
		}
		if _, err := c.fenced(ce, &zk.CreateRequest{Path: c.p(pp), Acl: c.acl}); err != nil && !errors.Is(err, ErrNodeExists) {
			return err
		}
	}
	var ops []any
	size := 0
	for i, p := range parts {
		op := &zk.CreateRequest{Path: c.p(partitionStatePath(topic, p)), Data: encodePartitionState(states[p]), Acl: c.acl}
		ops = append(ops, op)
		size += len(op.Path) + len(op.Data) + 64 // framing and ACL, generously
		if size < maxMultiBytes && i < len(parts)-1 {
			continue
		}
		if _, err := c.fenced(ce, ops...); err != nil {
			return err
		}
		ops, size = ops[:0], 0
	}
	return nil
}

// UpdatePartitionState writes one state znode if its zkVersion is st.ZkVersion and the
// controller epoch still holds; returns the new zkVersion. ErrBadVersion or ErrNotController.
func (c *Client) UpdatePartitionState(ce ControllerEpoch, topic string, partition int32, st PartitionState) (int32, error) {
	if err := checkName("topic", topic); err != nil {
		return 0, err
	}
	res, err := c.fenced(ce, &zk.SetDataRequest{Path: c.p(partitionStatePath(topic, partition)),
		Data: encodePartitionState(st), Version: st.ZkVersion})
	if err != nil {
		return 0, err
	}
	return res[0].Stat.Version, nil
}

// UpdatePartitionStateAsLeader is the leader's own conditional write of its ISR (Kafka's
// pre-AlterPartition path): no controller-epoch check, only the znode version.
func (c *Client) UpdatePartitionStateAsLeader(topic string, partition int32, st PartitionState) (int32, error) {
	if err := checkName("topic", topic); err != nil {
		return 0, err
	}
	p := partitionStatePath(topic, partition)
	stat, err := c.conn.Set(c.p(p), encodePartitionState(st), st.ZkVersion)
	if err != nil {
		return 0, zkErr("set", p, err)
	}
	return stat.Version, nil
}

// CreateIsrChangeNotification writes /isr_change_notification/isr_change_<seq>.
func (c *Client) CreateIsrChangeNotification(parts []TopicPartition) error {
	_, err := c.createRecursive(isrChangePath+"/"+isrChangePrefix, encodePartitionList(parts), zk.FlagSequence)
	return err
}

// IsrChangeNotifications reads and deletes every pending notification (with watch, re-arming
// the child watch: EventIsrChangeNotification). Partitions are returned once each, in the
// order of the notifications.
func (c *Client) IsrChangeNotifications(watch bool) ([]TopicPartition, error) {
	kids, err := c.children(isrChangePath, watch)
	if err != nil {
		return nil, err
	}
	sort.Strings(kids)
	var out []TopicPartition
	seen := map[TopicPartition]bool{}
	for _, k := range kids {
		if !strings.HasPrefix(k, isrChangePrefix) {
			continue
		}
		p := isrChangePath + "/" + k
		data, _, err := c.get(p)
		if errors.Is(err, ErrNoNode) {
			continue
		}
		if err != nil {
			return nil, err
		}
		if parts, err := decodePartitionList(data); err == nil {
			for _, tp := range parts {
				if !seen[tp] {
					seen[tp] = true
					out = append(out, tp)
				}
			}
		} else {
			c.log.Warn().Err(err).Str("path", p).Msg("dropping unreadable ISR change notification")
		}
		if err := c.conn.Delete(c.p(p), -1); err != nil && !errors.Is(err, zk.ErrNoNode) {
			return nil, zkErr("delete", p, err)
		}
	}
	return out, nil
}

// CreateLogDirEventNotification writes /log_dir_event_notification/log_dir_event_<seq>
// (persistent sequential, {"version":1,"broker":N,"event":1}): broker lost a log dir and the
// controller must re-elect the partitions it had there (Kafka's propagateLogDirEvent).
func (c *Client) CreateLogDirEventNotification(broker int32) error {
	_, err := c.createRecursive(logDirEventPath+"/"+logDirEventPrefix, encodeLogDirEvent(broker), zk.FlagSequence)
	return err
}

// LogDirEvent is one pending /log_dir_event_notification child.
type LogDirEvent struct {
	Name   string // log_dir_event_<seq>
	Broker int32
}

// LogDirEventNotifications lists the pending notifications in sequence order (with watch,
// re-arming the child watch: EventLogDirEventNotification). Unreadable ones are logged and
// deleted. The controller deletes the others once handled (DeleteLogDirEventNotifications).
func (c *Client) LogDirEventNotifications(watch bool) ([]LogDirEvent, error) {
	kids, err := c.children(logDirEventPath, watch)
	if err != nil {
		return nil, err
	}
	sort.Strings(kids)
	var out []LogDirEvent
	for _, k := range kids {
		if !strings.HasPrefix(k, logDirEventPrefix) {
			continue
		}
		p := logDirEventPath + "/" + k
		data, _, err := c.get(p)
		if errors.Is(err, ErrNoNode) {
			continue
		}
		if err != nil {
			return nil, err
		}
		broker, err := decodeLogDirEvent(data)
		if err != nil {
			c.log.Warn().Err(err).Str("path", p).Msg("dropping unreadable log dir event notification")
			if err := c.DeleteLogDirEventNotifications([]string{k}); err != nil {
				return nil, err
			}
			continue
		}
		out = append(out, LogDirEvent{Name: k, Broker: broker})
	}
	return out, nil
}

// DeleteLogDirEventNotifications deletes handled notifications by name; missing ones are
// no error.
func (c *Client) DeleteLogDirEventNotifications(names []string) error {
	for _, k := range names {
		if !strings.HasPrefix(k, logDirEventPrefix) || strings.Contains(k, "/") {
			continue
		}
		p := logDirEventPath + "/" + k
		if err := c.conn.Delete(c.p(p), -1); err != nil && !errors.Is(err, zk.ErrNoNode) {
			return zkErr("delete", p, err)
		}
	}
	return nil
}

// MarkTopicForDeletion creates /admin/delete_topics/<t> (ErrNodeExists when already marked).
func (c *Client) MarkTopicForDeletion(topic string) error {
	if err := checkName("topic", topic); err != nil {
		return err
	}
	_, err := c.createRecursive(deleteTopicPath(topic), nil, 0)
	return err
}

// TopicDeletions lists /admin/delete_topics children (with watch, re-arming the child watch:
// EventTopicDeletionsChanged).
func (c *Client) TopicDeletions(watch bool) ([]string, error) {
	kids, err := c.children(deleteTopicsPath, watch)
	sort.Strings(kids)
	return kids, err
}

// DeleteTopic removes /brokers/topics/<t> recursively, /config/topics/<t> and
// /admin/delete_topics/<t> in one transaction fenced by the controller epoch. Parts already
// gone are skipped.
func (c *Client) DeleteTopic(ce ControllerEpoch, topic string) error {
	if err := checkName("topic", topic); err != nil {
		return err
	}
	for attempt := 0; ; attempt++ {
		var ops []any
		var walk func(p string) error
		walk = func(p string) error { // children first
			kids, err := c.children(p, false)
			if errors.Is(err, ErrNoNode) {
				return nil
			}
			if err != nil {
				return err
			}
			for _, k := range kids {
				if err := walk(p + "/" + k); err != nil {
					return err
				}
			}
			ops = append(ops, &zk.DeleteRequest{Path: c.p(p), Version: -1})
			return nil
		}
		if err := walk(topicPath(topic)); err != nil {
			return err
		}
		for _, p := range []string{topicConfigPath(topic), deleteTopicPath(topic)} {
			ok, err := c.exists(p, false)
			if err != nil {
				return err
			}
			if ok {
				ops = append(ops, &zk.DeleteRequest{Path: c.p(p), Version: -1})
			}
		}
		if len(ops) == 0 {
			return nil
		}
		_, err := c.fenced(ce, ops...)
		if err == nil || errors.Is(err, ErrNotController) || attempt >= 5 {
			return err
		}
		// A child appeared or a node vanished meanwhile: walk again.
	}
}

// AllocateProducerIDBlock takes the next block of blockSize producer ids from
// /latest_producer_id_block (a conditional write retried on conflict, Kafka's
// ZkProducerIdManager.getNewProducerIdBlock), returning its first and last ids.
func (c *Client) AllocateProducerIDBlock(brokerID int32, blockSize int64) (first, last int64, err error) {
	if blockSize <= 0 {
		return 0, 0, fmt.Errorf("zkclient: producer id block size %d", blockSize)
	}
	for {
		data, stat, err := c.get(producerIDBlockPath)
		if errors.Is(err, ErrNoNode) {
			first, last = 0, blockSize-1
			_, err = c.createRecursive(producerIDBlockPath, encodeProducerIDBlock(brokerID, first, last), 0)
			if err == nil {
				return first, last, nil
			}
			if errors.Is(err, ErrNodeExists) {
				continue
			}
			return 0, 0, err
		}
		if err != nil {
			return 0, 0, err
		}
		first = 0
		if len(data) > 0 {
			_, prevLast, err := decodeProducerIDBlock(data)
			if err != nil {
				return 0, 0, err
			}
			first = prevLast + 1
		}
		last = first + blockSize - 1
		if last < first {
			return 0, 0, fmt.Errorf("zkclient: producer ids exhausted (block after %d)", first-1)
		}
		_, err = c.conn.Set(c.p(producerIDBlockPath), encodeProducerIDBlock(brokerID, first, last), stat.Version)
		if err == nil {
			return first, last, nil
		}
		if !errors.Is(err, zk.ErrBadVersion) {
			return 0, 0, zkErr("set", producerIDBlockPath, err)
		}
	}
}

// GenerateBrokerSequenceID bumps /brokers/seqid and returns its new version (Kafka's
// generateBrokerSequenceId, used for broker.id generation).
func (c *Client) GenerateBrokerSequenceID() (int32, error) {
	stat, err := c.conn.Set(c.p(brokerSeqIDPath), nil, -1)
	if errors.Is(err, zk.ErrNoNode) {
		if err := c.ensurePath(brokerSeqIDPath); err != nil {
			return 0, err
		}
		stat, err = c.conn.Set(c.p(brokerSeqIDPath), nil, -1)
	}
	if err != nil {
		return 0, zkErr("set", brokerSeqIDPath, err)
	}
	return stat.Version, nil
}

// CreatePreferredReplicaElection writes /admin/preferred_replica_election (Kafka's
// PreferredReplicaElectionZNode); ErrNodeExists while one is in progress.
func (c *Client) CreatePreferredReplicaElection(parts []TopicPartition) error {
	_, err := c.createRecursive(preferredReplicaElectionPath, encodePartitionList(parts), 0)
	return err
}

// PreferredReplicaElection reads /admin/preferred_replica_election (nil when absent); with
// watch, watches it (EventPreferredReplicaElection on creation, change and deletion).
func (c *Client) PreferredReplicaElection(watch bool) ([]TopicPartition, error) {
	if watch {
		ok, err := c.exists(preferredReplicaElectionPath, true)
		if err != nil || !ok {
			return nil, err
		}
	}
	data, _, err := c.get(preferredReplicaElectionPath)
	if errors.Is(err, ErrNoNode) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	return decodePartitionList(data)
}

// DeletePreferredReplicaElection removes /admin/preferred_replica_election, fenced by the
// controller epoch.
func (c *Client) DeletePreferredReplicaElection(ce ControllerEpoch) error {
	_, err := c.fenced(ce, &zk.DeleteRequest{Path: c.p(preferredReplicaElectionPath), Version: -1})
	if errors.Is(err, ErrNoNode) {
		return nil
	}
	return err
}

// Raw reads any znode by its Kafka path (chroot added): for tools such as zookeeper-shell.
func (c *Client) Raw(kafkaPath string) ([]byte, *zk.Stat, error) {
	if !path.IsAbs(kafkaPath) {
		return nil, nil, fmt.Errorf("zkclient: path %q is not absolute", kafkaPath)
	}
	return c.get(kafkaPath)
}

// RawChildren lists any znode's children by its Kafka path (chroot added).
func (c *Client) RawChildren(kafkaPath string) ([]string, error) {
	if !path.IsAbs(kafkaPath) {
		return nil, fmt.Errorf("zkclient: path %q is not absolute", kafkaPath)
	}
	kids, err := c.children(kafkaPath, false)
	sort.Strings(kids)
	return kids, err
}
