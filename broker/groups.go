package broker

// The group APIs. Their logic is the group coordinator's (coordinator/group: Kafka's
// GroupCoordinator), one method per API; this file registers them with the version ranges
// Kafka 3.6 serves, and gives the coordinator its storage: the partitions of
// __consumer_offsets that this broker leads.
//
//	JoinGroup 11 v0-9, SyncGroup 14 v0-5, Heartbeat 12 v0-4, LeaveGroup 13 v0-5,
//	OffsetCommit 8 v0-8, OffsetFetch 9 v0-8, DescribeGroups 15 v0-5, ListGroups 16 v0-4,
//	DeleteGroups 42 v0-2, OffsetDelete 47 v0.
//
// TxnOffsetCommit (28_txn_offset_commit.go) checks topics first, as OffsetCommit does.
// FindCoordinator (10_find_coordinator.go) is the broker's own: it needs the metadata cache;
// so does OffsetCommit (08_offset_commit.go), which checks topics and partitions first.
// DescribeGroups (15_describe_groups.go) adds the authorized operations.

import (
	"context"
	"net"
	"time"

	"github.com/klassik/klassik/coordinator/group"
	"github.com/klassik/klassik/wire"
	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kmsg"
)

func init() {
	// Each behind its authorization (groups_authz.go).
	register(11, 0, 9, handleJoinGroup)
	register(14, 0, 5, handleSyncGroup)
	register(12, 0, 4, handleHeartbeat)
	register(13, 0, 5, handleLeaveGroup)
	register(9, 0, 8, handleOffsetFetch)
	register(16, 0, 4, handleListGroups)
	register(42, 0, 2, handleDeleteGroups)
	register(47, 0, 0, handleOffsetDelete)
}

// groupAPI adapts a coordinator method to a handler.
func groupAPI[Req kmsg.Request, Resp kmsg.Response](f func(*group.Coordinator, context.Context, Req) Resp) handlerFunc {
	return func(b *Broker, ctx context.Context, req *wire.Request) (kmsg.Response, error) {
		clientID, host := "", ""
		if req.ClientID != nil {
			clientID = *req.ClientID
		}
		if tcp, ok := req.Conn.RemoteAddr.(*net.TCPAddr); ok {
			host = "/" + tcp.IP.String() // Kafka prints the client's InetAddress this way
		}
		return f(b.groups, group.WithClient(ctx, clientID, host), req.Body.(Req)), nil
	}
}

// offsetsLog implements group.Log over the __consumer_offsets partitions this broker hosts.
type offsetsLog struct{ internalLog }

func newOffsetsLog(b *Broker) offsetsLog { return offsetsLog{internalLog{b, offsetsTopic}} }

// offsetCommitTimeout is Kafka's offsets.commit.timeout.ms default.
const offsetCommitTimeout = 5 * time.Second

// Append appends as the coordinator (AppendOrigin.COORDINATOR: a transactional offset commit
// has its producer epoch checked, an older one is INVALID_PRODUCER_EPOCH, and opens the
// producer's transaction in the partition for WriteTxnMarkers to close) and waits for
// acks=all. It returns the batch's base offset.
func (l offsetsLog) Append(ctx context.Context, p int32, batch []byte) (int64, error) {
	part, err := l.partition(p)
	if err != nil {
		return -1, err
	}
	res, err := part.appendAsCoordinator(batch, time.Now().UnixMilli())
	if err != nil {
		return -1, produceErr(err)
	}
	ctx, cancel := context.WithTimeout(ctx, offsetCommitTimeout)
	defer cancel()
	return res.FirstOffset, part.awaitHW(ctx, res.LastOffset)
}

// internalLog reads the partitions of an internal topic this broker leads, for the
// coordinator that owns the topic.
type internalLog struct {
	b     *Broker
	topic string
}

func (l internalLog) partition(p int32) (*partition, error) {
	part := l.b.rm.get(topicPartition{l.topic, p})
	if part == nil {
		return nil, kerr.NotLeaderForPartition
	}
	return part, nil
}

// Read reads up to the log end, not the high watermark, as Kafka's loaders do
// (FetchIsolation.LOG_END): just after an election the new leader's high watermark can lag
// behind records the old leader had acknowledged, and everything in the leader's log is what
// the partition will hold.
func (l internalLog) Read(p int32, offset int64, maxBytes int) ([]byte, int64, error) {
	part, err := l.partition(p)
	if err != nil {
		return nil, -1, err
	}
	end := part.log.LogEndOffset()
	if offset >= end {
		return nil, end, nil
	}
	data, err := part.log.Read(offset, maxBytes, end, true)
	return data, end, err
}

// LogStartOffset is the partition's first offset.
func (l internalLog) LogStartOffset(p int32) (int64, error) {
	part, err := l.partition(p)
	if err != nil {
		return -1, err
	}
	return part.log.LogStartOffset(), nil
}

// coordinatorLeadershipChanged tells the group and transaction coordinators when this broker
// starts or stops leading a partition of their internal topics (Kafka's onLeadershipChange
// callbacks).
func (b *Broker) coordinatorLeadershipChanged(tp topicPartition, leader bool, epoch int32) {
	b.txnLeadershipChanged(tp, leader, epoch)
	if tp.topic != offsetsTopic || b.groups == nil {
		return
	}
	if leader {
		b.groups.BecomeLeader(tp.partition, epoch)
	} else {
		b.groups.Resign(tp.partition, epoch)
	}
}
