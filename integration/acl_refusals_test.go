package integration

import (
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kmsg"
)

// TestACLRefusals: every other API a client can send, from a host no ACL allows anything,
// answers Kafka's authorization error in Kafka's place (KafkaApis), request by request at an
// exact version on a raw connection; and the brokers (127.0.0.1), allowed everything, are
// served the same requests (the first case of each pair).
func TestACLRefusals(t *testing.T) {
	c := aclCluster(t, 1)
	topic := topicName(t, "acl-refused")
	c.CreateTopic(t, topic, 1, 1, nil)
	addr := c.Broker(1).Addr()
	group, txn := "acl-refused-group", "acl-refused-txn"

	type tc struct {
		name string
		req  func() kmsg.Request
		code func(kmsg.Response) int16
		want *kerr.Error
	}
	req := func(v int16, r kmsg.Request) kmsg.Request { r.SetVersion(v); return r }
	for _, c := range []tc{
		{"ListOffsets: Describe on the topic", func() kmsg.Request {
			r := kmsg.NewPtrListOffsetsRequest()
			r.ReplicaID = -1
			t := kmsg.NewListOffsetsRequestTopic()
			t.Topic = topic
			p := kmsg.NewListOffsetsRequestTopicPartition()
			p.Timestamp = -1
			t.Partitions = append(t.Partitions, p)
			r.Topics = append(r.Topics, t)
			return req(7, r)
		}, func(r kmsg.Response) int16 { return r.(*kmsg.ListOffsetsResponse).Topics[0].Partitions[0].ErrorCode }, kerr.TopicAuthorizationFailed},
		{"DeleteRecords: Delete on the topic", func() kmsg.Request {
			r := kmsg.NewPtrDeleteRecordsRequest()
			t := kmsg.NewDeleteRecordsRequestTopic()
			t.Topic = topic
			p := kmsg.NewDeleteRecordsRequestTopicPartition()
			p.Offset = 0
			t.Partitions = append(t.Partitions, p)
			r.Topics, r.TimeoutMillis = append(r.Topics, t), 5000
			return req(2, r)
		}, func(r kmsg.Response) int16 { return r.(*kmsg.DeleteRecordsResponse).Topics[0].Partitions[0].ErrorCode }, kerr.TopicAuthorizationFailed},
		{"OffsetForLeaderEpoch: ClusterAction, or Describe on the topic", func() kmsg.Request {
			r := kmsg.NewPtrOffsetForLeaderEpochRequest()
			r.ReplicaID = -1
			t := kmsg.NewOffsetForLeaderEpochRequestTopic()
			t.Topic = topic
			p := kmsg.NewOffsetForLeaderEpochRequestTopicPartition()
			p.CurrentLeaderEpoch, p.LeaderEpoch = -1, 0
			t.Partitions = append(t.Partitions, p)
			r.Topics = append(r.Topics, t)
			return req(4, r)
		}, func(r kmsg.Response) int16 {
			return r.(*kmsg.OffsetForLeaderEpochResponse).Topics[0].Partitions[0].ErrorCode
		}, kerr.TopicAuthorizationFailed},
		{"CreatePartitions: Alter on the topic", func() kmsg.Request {
			r := kmsg.NewPtrCreatePartitionsRequest()
			t := kmsg.NewCreatePartitionsRequestTopic()
			t.Topic, t.Count = topic, 2
			r.Topics, r.TimeoutMillis, r.ValidateOnly = append(r.Topics, t), 5000, true
			return req(3, r)
		}, func(r kmsg.Response) int16 { return r.(*kmsg.CreatePartitionsResponse).Topics[0].ErrorCode }, kerr.TopicAuthorizationFailed},
		{"DescribeProducers: Read on the topic", func() kmsg.Request {
			r := kmsg.NewPtrDescribeProducersRequest()
			t := kmsg.NewDescribeProducersRequestTopic()
			t.Topic, t.Partitions = topic, []int32{0}
			r.Topics = append(r.Topics, t)
			return req(0, r)
		}, func(r kmsg.Response) int16 {
			return r.(*kmsg.DescribeProducersResponse).Topics[0].Partitions[0].ErrorCode
		}, kerr.TopicAuthorizationFailed},
		{"Fetch of a follower: ClusterAction", func() kmsg.Request {
			r := kmsg.NewPtrFetchRequest()
			r.ReplicaID, r.MaxBytes = 2, 1<<20
			t := kmsg.NewFetchRequestTopic()
			t.Topic = topic
			p := kmsg.NewFetchRequestTopicPartition()
			p.PartitionMaxBytes, p.CurrentLeaderEpoch = 1<<20, -1
			t.Partitions = append(t.Partitions, p)
			r.Topics = append(r.Topics, t)
			return req(12, r)
		}, func(r kmsg.Response) int16 { return r.(*kmsg.FetchResponse).Topics[0].Partitions[0].ErrorCode }, kerr.TopicAuthorizationFailed},
		{"ElectLeaders: Alter on the cluster", func() kmsg.Request {
			r := kmsg.NewPtrElectLeadersRequest()
			t := kmsg.NewElectLeadersRequestTopic()
			t.Topic, t.Partitions = topic, []int32{0}
			r.Topics, r.TimeoutMillis = append(r.Topics, t), 5000
			return req(2, r)
		}, func(r kmsg.Response) int16 { return r.(*kmsg.ElectLeadersResponse).ErrorCode }, kerr.ClusterAuthorizationFailed},
		{"DescribeLogDirs: Describe on the cluster", func() kmsg.Request {
			return req(4, kmsg.NewPtrDescribeLogDirsRequest())
		}, func(r kmsg.Response) int16 { return r.(*kmsg.DescribeLogDirsResponse).ErrorCode }, kerr.ClusterAuthorizationFailed},
		{"AlterReplicaLogDirs: Alter on the cluster", func() kmsg.Request {
			r := kmsg.NewPtrAlterReplicaLogDirsRequest()
			d := kmsg.NewAlterReplicaLogDirsRequestDir()
			d.Dir = "/nowhere"
			dt := kmsg.NewAlterReplicaLogDirsRequestDirTopic()
			dt.Topic, dt.Partitions = topic, []int32{0}
			d.Topics = append(d.Topics, dt)
			r.Dirs = append(r.Dirs, d)
			return req(2, r)
		}, func(r kmsg.Response) int16 {
			return r.(*kmsg.AlterReplicaLogDirsResponse).Topics[0].Partitions[0].ErrorCode
		}, kerr.ClusterAuthorizationFailed},
		{"ListPartitionReassignments: Describe on the cluster", func() kmsg.Request {
			r := kmsg.NewPtrListPartitionReassignmentsRequest()
			r.TimeoutMillis = 5000
			return req(0, r)
		}, func(r kmsg.Response) int16 { return r.(*kmsg.ListPartitionReassignmentsResponse).ErrorCode }, kerr.ClusterAuthorizationFailed},
		{"AlterPartitionReassignments: Alter on the cluster", func() kmsg.Request {
			r := kmsg.NewPtrAlterPartitionAssignmentsRequest()
			r.TimeoutMillis = 5000
			return req(0, r)
		}, func(r kmsg.Response) int16 { return r.(*kmsg.AlterPartitionAssignmentsResponse).ErrorCode }, kerr.ClusterAuthorizationFailed},
		{"DescribeClientQuotas: DescribeConfigs on the cluster", func() kmsg.Request {
			return req(1, kmsg.NewPtrDescribeClientQuotasRequest())
		}, func(r kmsg.Response) int16 { return r.(*kmsg.DescribeClientQuotasResponse).ErrorCode }, kerr.ClusterAuthorizationFailed},
		{"AlterClientQuotas: AlterConfigs on the cluster", func() kmsg.Request {
			r := kmsg.NewPtrAlterClientQuotasRequest()
			e := kmsg.NewAlterClientQuotasRequestEntry()
			ee := kmsg.NewAlterClientQuotasRequestEntryEntity()
			ee.Type, ee.Name = "client-id", kmsg.StringPtr("x")
			op := kmsg.NewAlterClientQuotasRequestEntryOp()
			op.Key, op.Value = "producer_byte_rate", 1024
			e.Entity, e.Ops = append(e.Entity, ee), append(e.Ops, op)
			r.Entries, r.ValidateOnly = append(r.Entries, e), true
			return req(1, r)
		}, func(r kmsg.Response) int16 { return r.(*kmsg.AlterClientQuotasResponse).Entries[0].ErrorCode }, kerr.ClusterAuthorizationFailed},
		{"DescribeConfigs of the broker: DescribeConfigs on the cluster", func() kmsg.Request {
			r := kmsg.NewPtrDescribeConfigsRequest()
			res := kmsg.NewDescribeConfigsRequestResource()
			res.ResourceType, res.ResourceName = kmsg.ConfigResourceTypeBroker, "1"
			r.Resources = append(r.Resources, res)
			return req(4, r)
		}, func(r kmsg.Response) int16 { return r.(*kmsg.DescribeConfigsResponse).Resources[0].ErrorCode }, kerr.ClusterAuthorizationFailed},
		{"UpdateMetadata: ClusterAction", func() kmsg.Request {
			r := kmsg.NewPtrUpdateMetadataRequest()
			r.ControllerID, r.ControllerEpoch, r.BrokerEpoch = 1, 0, -1 // stale: from the brokers' host it changes nothing
			return req(7, r)
		}, func(r kmsg.Response) int16 { return r.(*kmsg.UpdateMetadataResponse).ErrorCode }, kerr.ClusterAuthorizationFailed},
		{"StopReplica: ClusterAction", func() kmsg.Request {
			r := kmsg.NewPtrStopReplicaRequest()
			r.ControllerID, r.ControllerEpoch, r.BrokerEpoch = 1, 0, -1 // stale: from the brokers' host it changes nothing
			return req(3, r)
		}, func(r kmsg.Response) int16 { return r.(*kmsg.StopReplicaResponse).ErrorCode }, kerr.ClusterAuthorizationFailed},
		{"ControlledShutdown: ClusterAction", func() kmsg.Request {
			r := kmsg.NewPtrControlledShutdownRequest()
			r.BrokerID, r.BrokerEpoch = 99, -1
			return req(3, r)
		}, func(r kmsg.Response) int16 { return r.(*kmsg.ControlledShutdownResponse).ErrorCode }, kerr.ClusterAuthorizationFailed},
		{"WriteTxnMarkers: ClusterAction", func() kmsg.Request {
			r := kmsg.NewPtrWriteTxnMarkersRequest()
			m := kmsg.NewWriteTxnMarkersRequestMarker()
			m.ProducerID, m.ProducerEpoch = 1<<40, 0
			mt := kmsg.NewWriteTxnMarkersRequestMarkerTopic()
			mt.Topic, mt.Partitions = topic, []int32{0}
			m.Topics = append(m.Topics, mt)
			r.Markers = append(r.Markers, m)
			return req(1, r)
		}, func(r kmsg.Response) int16 {
			return r.(*kmsg.WriteTxnMarkersResponse).Markers[0].Topics[0].Partitions[0].ErrorCode
		}, kerr.ClusterAuthorizationFailed},
		{"AddPartitionsToTxn v4 (brokers): ClusterAction", func() kmsg.Request {
			r := kmsg.NewPtrAddPartitionsToTxnRequest()
			tx := kmsg.NewAddPartitionsToTxnRequestTransaction()
			tx.TransactionalID, tx.ProducerID, tx.VerifyOnly = txn, 1<<40, true
			r.Transactions = append(r.Transactions, tx)
			return req(4, r)
		}, func(r kmsg.Response) int16 { return r.(*kmsg.AddPartitionsToTxnResponse).ErrorCode }, kerr.ClusterAuthorizationFailed},
		{"AddPartitionsToTxn v3: Write on the transactional id", func() kmsg.Request {
			r := kmsg.NewPtrAddPartitionsToTxnRequest()
			r.TransactionalID, r.ProducerID = txn, 1<<40
			rt := kmsg.NewAddPartitionsToTxnRequestTopic()
			rt.Topic, rt.Partitions = topic, []int32{0}
			r.Topics = append(r.Topics, rt)
			return req(3, r)
		}, func(r kmsg.Response) int16 {
			return r.(*kmsg.AddPartitionsToTxnResponse).Topics[0].Partitions[0].ErrorCode
		}, kerr.TransactionalIDAuthorizationFailed},
		{"AddOffsetsToTxn: Write on the transactional id", func() kmsg.Request {
			r := kmsg.NewPtrAddOffsetsToTxnRequest()
			r.TransactionalID, r.ProducerID, r.Group = txn, 1<<40, group
			return req(3, r)
		}, func(r kmsg.Response) int16 { return r.(*kmsg.AddOffsetsToTxnResponse).ErrorCode }, kerr.TransactionalIDAuthorizationFailed},
		{"EndTxn: Write on the transactional id", func() kmsg.Request {
			r := kmsg.NewPtrEndTxnRequest()
			r.TransactionalID, r.ProducerID, r.Commit = txn, 1<<40, true
			return req(3, r)
		}, func(r kmsg.Response) int16 { return r.(*kmsg.EndTxnResponse).ErrorCode }, kerr.TransactionalIDAuthorizationFailed},
		{"TxnOffsetCommit: Write on the transactional id", func() kmsg.Request {
			r := kmsg.NewPtrTxnOffsetCommitRequest()
			r.TransactionalID, r.Group, r.ProducerID, r.Generation = txn, group, 1<<40, -1
			rt := kmsg.NewTxnOffsetCommitRequestTopic()
			rt.Topic = topic
			rp := kmsg.NewTxnOffsetCommitRequestTopicPartition()
			rt.Partitions = append(rt.Partitions, rp)
			r.Topics = append(r.Topics, rt)
			return req(3, r)
		}, func(r kmsg.Response) int16 {
			return r.(*kmsg.TxnOffsetCommitResponse).Topics[0].Partitions[0].ErrorCode
		}, kerr.TransactionalIDAuthorizationFailed},
		{"DescribeTransactions: Describe on the transactional id", func() kmsg.Request {
			r := kmsg.NewPtrDescribeTransactionsRequest()
			r.TransactionalIDs = []string{txn}
			return req(0, r)
		}, func(r kmsg.Response) int16 {
			return r.(*kmsg.DescribeTransactionsResponse).TransactionStates[0].ErrorCode
		}, kerr.TransactionalIDAuthorizationFailed},
		{"Heartbeat: Read on the group", func() kmsg.Request {
			r := kmsg.NewPtrHeartbeatRequest()
			r.Group, r.Generation, r.MemberID = group, 1, "m"
			return req(4, r)
		}, func(r kmsg.Response) int16 { return r.(*kmsg.HeartbeatResponse).ErrorCode }, kerr.GroupAuthorizationFailed},
		{"SyncGroup: Read on the group", func() kmsg.Request {
			r := kmsg.NewPtrSyncGroupRequest()
			r.Group, r.Generation, r.MemberID = group, 1, "m"
			return req(5, r)
		}, func(r kmsg.Response) int16 { return r.(*kmsg.SyncGroupResponse).ErrorCode }, kerr.GroupAuthorizationFailed},
		{"LeaveGroup: Read on the group", func() kmsg.Request {
			r := kmsg.NewPtrLeaveGroupRequest()
			r.Group = group
			return req(5, r)
		}, func(r kmsg.Response) int16 { return r.(*kmsg.LeaveGroupResponse).ErrorCode }, kerr.GroupAuthorizationFailed},
		{"OffsetFetch: Describe on the group", func() kmsg.Request {
			r := kmsg.NewPtrOffsetFetchRequest()
			g := kmsg.NewOffsetFetchRequestGroup()
			g.Group = group
			r.Groups = append(r.Groups, g)
			return req(8, r)
		}, func(r kmsg.Response) int16 { return r.(*kmsg.OffsetFetchResponse).Groups[0].ErrorCode }, kerr.GroupAuthorizationFailed},
		{"OffsetDelete: Delete on the group", func() kmsg.Request {
			r := kmsg.NewPtrOffsetDeleteRequest()
			r.Group = group
			return req(0, r)
		}, func(r kmsg.Response) int16 { return r.(*kmsg.OffsetDeleteResponse).ErrorCode }, kerr.GroupAuthorizationFailed},
	} {
		t.Run(c.name, func(t *testing.T) {
			resp, err := rawFrom(t, addr, clientHost).Request(c.req(), 15*time.Second)
			if err != nil {
				t.Fatal(err)
			}
			wantCode(t, "from the client host", c.code(resp), c.want)
			resp, err = rawFrom(t, addr, brokerHost).Request(c.req(), 15*time.Second)
			if err != nil {
				t.Fatal(err)
			}
			if code := c.code(resp); code == c.want.Code {
				t.Errorf("from the brokers' host, which may do everything: %v", c.want)
			}
		})
	}
}
