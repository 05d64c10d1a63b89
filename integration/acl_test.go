package integration

import (
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/go-zookeeper/zk"
	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kgo"
	"github.com/twmb/franz-go/pkg/kmsg"
)

// TestACLAuthorizer checks Kafka's AclAuthorizer (authorizer.class.name =
// kafka.security.authorizer.AclAuthorizer) with real clients, resource type by resource type:
// each operation first refused to the client host (127.0.0.2) with Kafka's error code, then
// allowed by an ACL created through CreateAcls on broker 1 and seen by both brokers through
// the /kafka-acl-changes notifications (changeACLs waits on each broker's DescribeAcls), while
// the brokers' host (127.0.0.1) keeps working throughout. The subtests share the cluster and
// run in order: what one grants the client, the later ones have.
func TestACLAuthorizer(t *testing.T) {
	c := aclCluster(t, 2)
	b1, b2 := c.Broker(1).Addr(), c.Broker(2).Addr()
	topic := topicName(t, "acl-topic")
	c.CreateTopic(t, topic, 2, 2, nil)
	rec := func(v string) *kgo.Record { return &kgo.Record{Topic: topic, Value: []byte(v)} }

	t.Run("cluster IdempotentWrite: InitProducerId of an idempotent producer", func(t *testing.T) {
		req := kmsg.NewPtrInitProducerIDRequest()
		resp, err := req.RequestWith(ctxT(t, 30*time.Second), clientFrom(t, c, clientHost))
		if err != nil {
			t.Fatal(err)
		}
		wantCode(t, "InitProducerId without IdempotentWrite nor Write on any topic", resp.ErrorCode, kerr.ClusterAuthorizationFailed)
		idem := allowClient(kmsg.ACLResourceTypeCluster, "kafka-cluster", kmsg.ACLOperationIdempotentWrite)
		changeACLs(t, c, true, idem)
		resp, err = req.RequestWith(ctxT(t, 30*time.Second), clientFrom(t, c, clientHost))
		if err != nil || resp.ErrorCode != 0 || resp.ProducerID < 0 {
			t.Fatalf("InitProducerId with IdempotentWrite: %v %v", err, kerr.ErrorForCode(resp.ErrorCode))
		}
		changeACLs(t, c, false, idem) // KIP-679: Write on a topic will do as well (below)
		resp, _ = req.RequestWith(ctxT(t, 30*time.Second), clientFrom(t, c, clientHost))
		wantCode(t, "InitProducerId after IdempotentWrite was removed", resp.ErrorCode, kerr.ClusterAuthorizationFailed)
	})

	t.Run("topic Describe: Metadata hides what may not be described", func(t *testing.T) {
		m := metadataFrom(t, b1, clientHost, topic, "acl-no-such-topic")
		wantCode(t, "Metadata of the topic", topicCode(m, topic), kerr.TopicAuthorizationFailed)
		wantCode(t, "Metadata of a topic that does not exist", topicCode(m, "acl-no-such-topic"), kerr.TopicAuthorizationFailed)
		for _, mt := range m.Topics {
			if mt.TopicID != [16]byte{} || len(mt.Partitions) > 0 {
				t.Errorf("a refused topic told its id or partitions: %+v", mt)
			}
		}
		if all := listedTopics(metadataFrom(t, b1, clientHost)); len(all) != 0 {
			t.Errorf("all topics from the client host: %v, want none", all)
		}
		if all := listedTopics(metadataFrom(t, b1, brokerHost)); !contains(all, topic) {
			t.Errorf("all topics from the brokers' host: %v, want %s among them", all, topic)
		}
		changeACLs(t, c, true, allowClient(kmsg.ACLResourceTypeTopic, topic, kmsg.ACLOperationDescribe))
		m = metadataFrom(t, b2, clientHost)
		if got := listedTopics(m); len(got) != 1 || got[0] != topic || len(m.Topics[0].Partitions) != 2 {
			t.Fatalf("all topics after Describe was allowed: %v", m.Topics)
		}
		// KIP-430: the topic's authorized operations are what the ACLs allow.
		if got := m.Topics[0].AuthorizedOperations; got != ops(kmsg.ACLOperationDescribe) {
			t.Errorf("topic authorized operations %b, want DESCRIBE only", got)
		}
	})

	t.Run("topic Write: Produce", func(t *testing.T) {
		cl := clientFrom(t, c, clientHost, kgo.DisableIdempotentWrite())
		err := cl.ProduceSync(ctxT(t, 30*time.Second), rec("denied")).FirstErr()
		if !errors.Is(err, kerr.TopicAuthorizationFailed) {
			t.Fatalf("produce without Write: %v, want TOPIC_AUTHORIZATION_FAILED", err)
		}
		changeACLs(t, c, true, allowClient(kmsg.ACLResourceTypeTopic, topic, kmsg.ACLOperationWrite))
		// A new client: the old one remembers the refusal. Idempotent too: with Write on a
		// topic, InitProducerId needs no IdempotentWrite (KIP-679).
		cl = clientFrom(t, c, clientHost)
		for i := range 10 {
			if err := cl.ProduceSync(ctxT(t, 30*time.Second), rec(fmt.Sprintf("allowed-%d", i))).FirstErr(); err != nil {
				t.Fatalf("produce with Write: %v", err)
			}
		}
	})

	t.Run("topic Read: Fetch", func(t *testing.T) {
		leader := leaderOf(t, c, topic, 0)
		fetch := func() int16 {
			req := kmsg.NewPtrFetchRequest()
			req.SetVersion(12)
			req.ReplicaID, req.MaxBytes, req.MaxWaitMillis = -1, 1<<20, 0
			ft := kmsg.NewFetchRequestTopic()
			ft.Topic = topic
			fp := kmsg.NewFetchRequestTopicPartition()
			fp.Partition, fp.PartitionMaxBytes, fp.CurrentLeaderEpoch = 0, 1<<20, -1
			ft.Partitions = append(ft.Partitions, fp)
			req.Topics = append(req.Topics, ft)
			resp, err := rawFrom(t, c.Broker(leader).Addr(), clientHost).Request(req, 15*time.Second)
			if err != nil {
				t.Fatal(err)
			}
			return resp.(*kmsg.FetchResponse).Topics[0].Partitions[0].ErrorCode
		}
		wantCode(t, "Fetch without Read", fetch(), kerr.TopicAuthorizationFailed)
		changeACLs(t, c, true, allowClient(kmsg.ACLResourceTypeTopic, topic, kmsg.ACLOperationRead))
		wantCode(t, "Fetch with Read", fetch(), errNone)
		cl := clientFrom(t, c, clientHost, kgo.ConsumeTopics(topic), kgo.ConsumeResetOffset(kgo.NewOffset().AtStart()))
		if got := pollN(t, cl, 10); len(got) != 10 {
			t.Fatalf("consumed %d records, want 10", len(got))
		}
	})

	group := topicName(t, "acl-group")
	t.Run("group Read: FindCoordinator, JoinGroup, OffsetCommit", func(t *testing.T) {
		cl := clientFrom(t, c, clientHost)
		fc := kmsg.NewPtrFindCoordinatorRequest()
		fc.CoordinatorKey = group
		resp, err := fc.RequestWith(ctxT(t, 30*time.Second), cl)
		if err != nil {
			t.Fatal(err)
		}
		wantCode(t, "FindCoordinator without Describe on the group", resp.ErrorCode, kerr.GroupAuthorizationFailed)
		_, err = kadm.NewClient(cl).CommitOffsets(ctxT(t, 30*time.Second), group, offsetsAt(topic, 0, 1))
		if !errors.Is(err, kerr.GroupAuthorizationFailed) {
			t.Errorf("OffsetCommit without Read on the group: %v", err)
		}
		join := kmsg.NewPtrJoinGroupRequest()
		join.Group, join.ProtocolType, join.SessionTimeoutMillis, join.RebalanceTimeoutMillis = group, "consumer", 10000, 10000
		p := kmsg.NewJoinGroupRequestProtocol()
		p.Name, p.Metadata = "range", []byte{0, 0, 0, 0, 0, 0, 0, 0}
		join.Protocols = append(join.Protocols, p)
		jr, err := join.RequestWith(ctxT(t, 30*time.Second), cl.Broker(1))
		if err != nil {
			t.Fatal(err)
		}
		wantCode(t, "JoinGroup without Read on the group", jr.ErrorCode, kerr.GroupAuthorizationFailed)

		changeACLs(t, c, true, allowClient(kmsg.ACLResourceTypeGroup, group, kmsg.ACLOperationRead))
		consumer := clientFrom(t, c, clientHost, kgo.ConsumerGroup(group), kgo.ConsumeTopics(topic),
			kgo.ConsumeResetOffset(kgo.NewOffset().AtStart()), kgo.DisableAutoCommit())
		got := pollN(t, consumer, 10)
		if err := consumer.CommitRecords(ctxT(t, 30*time.Second), got...); err != nil {
			t.Fatalf("commit with Read on the group and the topic: %v", err)
		}
		offs, err := kadm.NewClient(c.Client(t)).FetchOffsets(ctxT(t, 30*time.Second), group)
		if err != nil || offs.Error() != nil {
			t.Fatal(err, offs.Error())
		}
		var sum int64
		offs.Each(func(o kadm.OffsetResponse) { sum += o.At })
		if sum != 10 {
			t.Errorf("committed offsets sum to %d, want 10", sum)
		}
		consumer.Close()
	})

	t.Run("group Describe and Delete: DescribeGroups, ListGroups, DeleteGroups", func(t *testing.T) {
		other := topicName(t, "acl-other-group")
		if _, err := kadm.NewClient(c.Client(t)).CommitOffsets(ctxT(t, 30*time.Second), other, offsetsAt(topic, 0, 1)); err != nil {
			t.Fatal(err)
		}
		adm := kadm.NewClient(clientFrom(t, c, clientHost))
		listed, err := adm.ListGroups(ctxT(t, 30*time.Second))
		if err != nil {
			t.Fatal(err)
		}
		if names := listed.Groups(); !contains(names, group) || contains(names, other) {
			t.Errorf("ListGroups from the client host: %v, want %s and not %s", names, group, other)
		}
		// Straight to the group's coordinator: a client library would first look for the
		// coordinator of each group, and be refused that for the other one.
		fc := kmsg.NewPtrFindCoordinatorRequest()
		fc.CoordinatorKey = group
		fr, err := fc.RequestWith(ctxT(t, 30*time.Second), c.Client(t))
		if err != nil || fr.ErrorCode != 0 {
			t.Fatal(err, fr)
		}
		req := kmsg.NewPtrDescribeGroupsRequest()
		req.SetVersion(5)
		req.Groups = []string{group, other}
		req.IncludeAuthorizedOperations = true
		raw, err := rawFrom(t, c.Broker(fr.NodeID).Addr(), clientHost).Request(req, 15*time.Second)
		if err != nil {
			t.Fatal(err)
		}
		dr := raw.(*kmsg.DescribeGroupsResponse)
		if len(dr.Groups) != 2 {
			t.Fatalf("DescribeGroups answered %d groups, want 2", len(dr.Groups))
		}
		for _, g := range dr.Groups {
			switch g.Group {
			case group: // Read implies Describe
				wantCode(t, "DescribeGroups of the group it may read", g.ErrorCode, errNone)
				if g.AuthorizedOperations != ops(kmsg.ACLOperationRead, kmsg.ACLOperationDescribe) {
					t.Errorf("group authorized operations %b, want READ and DESCRIBE", g.AuthorizedOperations)
				}
			case other:
				wantCode(t, "DescribeGroups of another group", g.ErrorCode, kerr.GroupAuthorizationFailed)
			}
		}
		del, err := adm.DeleteGroups(ctxT(t, 30*time.Second), group)
		if err != nil {
			t.Fatal(err)
		}
		if !errors.Is(del[group].Err, kerr.GroupAuthorizationFailed) {
			t.Errorf("DeleteGroups without Delete: %v", del[group].Err)
		}
		changeACLs(t, c, true, allowClient(kmsg.ACLResourceTypeGroup, group, kmsg.ACLOperationDelete))
		del, err = adm.DeleteGroups(ctxT(t, 30*time.Second), group)
		if err != nil || del[group].Err != nil {
			t.Errorf("DeleteGroups with Delete: %v %v", err, del[group].Err)
		}
	})

	t.Run("topic AlterConfigs and DescribeConfigs", func(t *testing.T) {
		adm := kadm.NewClient(clientFrom(t, c, clientHost))
		alter := func() error {
			resp, err := adm.AlterTopicConfigs(ctxT(t, 30*time.Second), []kadm.AlterConfig{{Name: "retention.ms", Value: kmsg.StringPtr("86400000")}}, topic)
			if err != nil {
				return err
			}
			return resp[0].Err
		}
		if err := alter(); !errors.Is(err, kerr.TopicAuthorizationFailed) {
			t.Errorf("AlterConfigs without AlterConfigs: %v", err)
		}
		if _, err := adm.DescribeTopicConfigs(ctxT(t, 30*time.Second), topic); !errors.Is(err, kerr.TopicAuthorizationFailed) {
			t.Errorf("DescribeConfigs without DescribeConfigs: %v", err)
		}
		changeACLs(t, c, true, allowClient(kmsg.ACLResourceTypeTopic, topic, kmsg.ACLOperationAlterConfigs))
		if err := alter(); err != nil {
			t.Errorf("AlterConfigs with AlterConfigs: %v", err)
		}
		rc, err := adm.DescribeTopicConfigs(ctxT(t, 30*time.Second), topic)
		if err != nil {
			t.Fatalf("DescribeConfigs implied by AlterConfigs: %v", err)
		}
		if v, _ := rc.On(topic, nil); v.Err != nil {
			t.Errorf("DescribeConfigs implied by AlterConfigs: %v", v.Err)
		}
	})

	t.Run("topic Create and Delete: CreateTopics, DeleteTopics", func(t *testing.T) {
		adm := kadm.NewClient(clientFrom(t, c, clientHost))
		name := topicName(t, "acl-made")
		res, err := adm.CreateTopic(ctxT(t, 30*time.Second), 1, 1, nil, name)
		if !errors.Is(err, kerr.TopicAuthorizationFailed) && !errors.Is(res.Err, kerr.TopicAuthorizationFailed) {
			t.Fatalf("CreateTopics without Create: %v %v", err, res.Err)
		}
		// A prefixed ACL covers every name it starts.
		changeACLs(t, c, true, acl{kmsg.ACLResourceTypeTopic, "acl-made-", kmsg.ACLResourcePatternTypePrefixed, anonymous, clientHost,
			kmsg.ACLOperationCreate, kmsg.ACLPermissionTypeAllow})
		req := kmsg.NewPtrCreateTopicsRequest()
		rt := kmsg.NewCreateTopicsRequestTopic()
		rt.Topic, rt.NumPartitions, rt.ReplicationFactor = name, 1, 1
		req.Topics, req.TimeoutMillis = append(req.Topics, rt), 30000
		cr, err := req.RequestWith(ctxT(t, 30*time.Second), clientFrom(t, c, clientHost))
		if err != nil {
			t.Fatal(err)
		}
		wantCode(t, "CreateTopics with a prefixed Create", cr.Topics[0].ErrorCode, errNone)
		// Without DescribeConfigs on it, the new topic's configs are not shown.
		wantCode(t, "CreateTopics' config error without DescribeConfigs", cr.Topics[0].ConfigErrorCode, kerr.TopicAuthorizationFailed)
		if len(cr.Topics[0].Configs) != 0 {
			t.Errorf("configs shown without DescribeConfigs: %d", len(cr.Topics[0].Configs))
		}
		dr, err := adm.DeleteTopics(ctxT(t, 30*time.Second), name)
		if err != nil {
			t.Fatal(err)
		}
		if !errors.Is(dr[name].Err, kerr.TopicAuthorizationFailed) {
			t.Errorf("DeleteTopics without Delete: %v", dr[name].Err)
		}
		changeACLs(t, c, true, allowClient(kmsg.ACLResourceTypeTopic, name, kmsg.ACLOperationDelete))
		dr, err = adm.DeleteTopics(ctxT(t, 30*time.Second), name)
		if err != nil || dr[name].Err != nil {
			t.Errorf("DeleteTopics with Delete: %v %v", err, dr[name].Err)
		}
	})

	t.Run("topic Create by Metadata: auto-creation", func(t *testing.T) {
		name := topicName(t, "acl-auto")
		changeACLs(t, c, true, acl{kmsg.ACLResourceTypeTopic, "acl-auto-", kmsg.ACLResourcePatternTypePrefixed, anonymous, clientHost,
			kmsg.ACLOperationDescribe, kmsg.ACLPermissionTypeAllow})
		autoCreate := func() int16 {
			req := kmsg.NewPtrMetadataRequest()
			req.SetVersion(12)
			mt := kmsg.NewMetadataRequestTopic()
			mt.Topic = kmsg.StringPtr(name)
			req.Topics, req.AllowAutoTopicCreation = append(req.Topics, mt), true
			resp, err := rawFrom(t, b1, clientHost).Request(req, 15*time.Second)
			if err != nil {
				t.Fatal(err)
			}
			return topicCode(resp.(*kmsg.MetadataResponse), name)
		}
		wantCode(t, "Metadata auto-creating without Create", autoCreate(), kerr.TopicAuthorizationFailed)
		if code := topicCode(metadataFrom(t, b1, brokerHost, name), name); code != kerr.UnknownTopicOrPartition.Code {
			t.Fatalf("the refused auto-creation created the topic: %v", kerr.ErrorForCode(code))
		}
		changeACLs(t, c, true, acl{kmsg.ACLResourceTypeTopic, "acl-auto-", kmsg.ACLResourcePatternTypePrefixed, anonymous, clientHost,
			kmsg.ACLOperationCreate, kmsg.ACLPermissionTypeAllow})
		eventually(t, 20*time.Second, func() error {
			if code := autoCreate(); code != 0 {
				return kerr.ErrorForCode(code)
			}
			return nil
		})
	})

	t.Run("deny over allow, and host matching", func(t *testing.T) {
		denied := topicName(t, "acl-denied")
		c.CreateTopic(t, denied, 1, 2, nil)
		changeACLs(t, c, true,
			acl{kmsg.ACLResourceTypeTopic, denied, kmsg.ACLResourcePatternTypeLiteral, "User:*", "*", kmsg.ACLOperationAll, kmsg.ACLPermissionTypeAllow},
			acl{kmsg.ACLResourceTypeTopic, denied, kmsg.ACLResourcePatternTypeLiteral, anonymous, clientHost, kmsg.ACLOperationWrite, kmsg.ACLPermissionTypeDeny})
		err := clientFrom(t, c, clientHost, kgo.DisableIdempotentWrite()).ProduceSync(ctxT(t, 30*time.Second), &kgo.Record{Topic: denied, Value: []byte("x")}).FirstErr()
		if !errors.Is(err, kerr.TopicAuthorizationFailed) {
			t.Errorf("produce from the denied host: %v, want TOPIC_AUTHORIZATION_FAILED", err)
		}
		if err := clientFrom(t, c, brokerHost).ProduceSync(ctxT(t, 30*time.Second), &kgo.Record{Topic: denied, Value: []byte("x")}).FirstErr(); err != nil {
			t.Errorf("produce from the other host: %v", err)
		}
		cl := clientFrom(t, c, clientHost, kgo.ConsumeTopics(denied), kgo.ConsumeResetOffset(kgo.NewOffset().AtStart()))
		if got := pollN(t, cl, 1); len(got) != 1 {
			t.Errorf("the Deny of Write also refused Read")
		}
	})

	t.Run("transactional id Write: InitProducerId, AddPartitionsToTxn, EndTxn", func(t *testing.T) {
		txnID := topicName(t, "acl-tx-one")
		req := kmsg.NewPtrInitProducerIDRequest()
		req.SetVersion(4)
		req.TransactionalID, req.TransactionTimeoutMillis = kmsg.StringPtr(txnID), 30000
		raw, err := rawFrom(t, b1, clientHost).Request(req, 15*time.Second)
		if err != nil {
			t.Fatal(err)
		}
		wantCode(t, "InitProducerId without Write on the transactional id", raw.(*kmsg.InitProducerIDResponse).ErrorCode, kerr.TransactionalIDAuthorizationFailed)
		fc := kmsg.NewPtrFindCoordinatorRequest()
		fc.CoordinatorKey, fc.CoordinatorType = txnID, 1
		fr, err := fc.RequestWith(ctxT(t, 30*time.Second), clientFrom(t, c, clientHost))
		if err != nil {
			t.Fatal(err)
		}
		wantCode(t, "FindCoordinator without Describe on the transactional id", fr.ErrorCode, kerr.TransactionalIDAuthorizationFailed)

		changeACLs(t, c, true, acl{kmsg.ACLResourceTypeTransactionalId, "acl-tx-", kmsg.ACLResourcePatternTypePrefixed, anonymous, clientHost,
			kmsg.ACLOperationWrite, kmsg.ACLPermissionTypeAllow})
		p := clientFrom(t, c, clientHost, kgo.TransactionalID(txnID))
		if err := p.BeginTransaction(); err != nil {
			t.Fatal(err)
		}
		for i := range 5 {
			if err := p.ProduceSync(ctxT(t, 30*time.Second), rec(fmt.Sprintf("txn-%d", i))).FirstErr(); err != nil {
				t.Fatalf("transactional produce: %v", err)
			}
		}
		if err := p.EndTransaction(ctxT(t, 30*time.Second), kgo.TryCommit); err != nil {
			t.Fatalf("commit: %v", err)
		}
		cl := clientFrom(t, c, clientHost, kgo.ConsumeTopics(topic), kgo.ConsumeResetOffset(kgo.NewOffset().AtStart()),
			kgo.FetchIsolationLevel(kgo.ReadCommitted()))
		n := 0
		for _, r := range pollN(t, cl, 15) {
			if strings.HasPrefix(string(r.Value), "txn-") {
				n++
			}
		}
		if n != 5 {
			t.Errorf("read %d committed transactional records, want 5", n)
		}
	})

	t.Run("cluster Alter and Describe: CreateAcls, DescribeAcls", func(t *testing.T) {
		cl := clientFrom(t, c, clientHost)
		desc := kmsg.NewPtrDescribeACLsRequest()
		desc.ResourceType, desc.ResourcePatternType, desc.Operation, desc.PermissionType =
			kmsg.ACLResourceTypeAny, kmsg.ACLResourcePatternTypeAny, kmsg.ACLOperationAny, kmsg.ACLPermissionTypeAny
		dr, err := desc.RequestWith(ctxT(t, 30*time.Second), cl)
		if err != nil {
			t.Fatal(err)
		}
		wantCode(t, "DescribeAcls without Describe on the cluster", dr.ErrorCode, kerr.ClusterAuthorizationFailed)
		create := kmsg.NewPtrCreateACLsRequest()
		cr := kmsg.NewCreateACLsRequestCreation()
		cr.ResourceType, cr.ResourceName, cr.Principal, cr.Host = kmsg.ACLResourceTypeTopic, "acl-by-client", "User:alice", "*"
		cr.Operation, cr.PermissionType = kmsg.ACLOperationRead, kmsg.ACLPermissionTypeAllow
		create.Creations = append(create.Creations, cr)
		crr, err := create.RequestWith(ctxT(t, 30*time.Second), cl)
		if err != nil {
			t.Fatal(err)
		}
		wantCode(t, "CreateAcls without Alter on the cluster", crr.Results[0].ErrorCode, kerr.ClusterAuthorizationFailed)

		changeACLs(t, c, true, allowClient(kmsg.ACLResourceTypeCluster, "kafka-cluster", kmsg.ACLOperationAlter))
		if crr, err = create.RequestWith(ctxT(t, 30*time.Second), cl); err != nil || crr.Results[0].ErrorCode != 0 {
			t.Fatalf("CreateAcls with Alter: %v %+v", err, crr)
		}
		if dr, err = desc.RequestWith(ctxT(t, 30*time.Second), cl); err != nil || dr.ErrorCode != 0 || len(dr.Resources) == 0 {
			t.Fatalf("DescribeAcls with Alter (which implies Describe): %v %+v", err, dr)
		}
	})

	t.Run("cluster AlterConfigs, Create and ClusterAction", func(t *testing.T) {
		adm := kadm.NewClient(clientFrom(t, c, clientHost))
		alter := func() error {
			resp, err := adm.ValidateAlterBrokerConfigs(ctxT(t, 30*time.Second), []kadm.AlterConfig{{Name: "log.retention.ms", Value: kmsg.StringPtr("3600000")}})
			if err != nil {
				return err
			}
			return resp[0].Err
		}
		if err := alter(); !errors.Is(err, kerr.ClusterAuthorizationFailed) {
			t.Errorf("AlterConfigs of the brokers without AlterConfigs on the cluster: %v", err)
		}
		// The controller's requests need ClusterAction, which only the brokers' host has.
		lai := kmsg.NewPtrLeaderAndISRRequest()
		lai.SetVersion(5)
		lai.ControllerID, lai.ControllerEpoch, lai.BrokerEpoch = 1, 1<<30, -1
		resp, err := rawFrom(t, b1, clientHost).Request(lai, 15*time.Second)
		if err != nil {
			t.Fatal(err)
		}
		wantCode(t, "LeaderAndIsr from a client", resp.(*kmsg.LeaderAndISRResponse).ErrorCode, kerr.ClusterAuthorizationFailed)

		changeACLs(t, c, true, allowClient(kmsg.ACLResourceTypeCluster, "kafka-cluster", kmsg.ACLOperationAlterConfigs),
			allowClient(kmsg.ACLResourceTypeCluster, "kafka-cluster", kmsg.ACLOperationCreate))
		if err := alter(); err != nil {
			t.Errorf("AlterConfigs (validate only) with AlterConfigs on the cluster: %v", err)
		}
		// Create on the cluster creates any topic.
		name := topicName(t, "acl-cluster-create")
		if res, err := adm.CreateTopic(ctxT(t, 30*time.Second), 1, 1, nil, name); err != nil || res.Err != nil {
			t.Errorf("CreateTopics with Create on the cluster: %v %v", err, res.Err)
		}
		// KIP-430: Alter, Create, AlterConfigs and what they imply (Describe, DescribeConfigs).
		dc := kmsg.NewPtrDescribeClusterRequest()
		dc.IncludeClusterAuthorizedOperations = true
		dcr, err := dc.RequestWith(ctxT(t, 30*time.Second), clientFrom(t, c, clientHost))
		if err != nil {
			t.Fatal(err)
		}
		want := ops(kmsg.ACLOperationAlter, kmsg.ACLOperationDescribe, kmsg.ACLOperationCreate, kmsg.ACLOperationAlterConfigs, kmsg.ACLOperationDescribeConfigs)
		if dcr.ClusterAuthorizedOperations != want {
			t.Errorf("cluster authorized operations %b, want %b", dcr.ClusterAuthorizedOperations, want)
		}
	})
}

// TestACLZnodesAndNotifications: CreateAcls writes Kafka's znodes byte for byte (a literal
// pattern under /kafka-acl, a prefixed one under /kafka-acl-extended/prefixed, their change
// notifications in /kafka-acl-changes and /kafka-acl-extended-changes), a change made
// through one broker is applied by the other through the notification without a restart, and
// an ACL written to ZooKeeper by hand, as a Kafka broker or kafka-acls.sh would, is applied too.
func TestACLZnodesAndNotifications(t *testing.T) {
	c := aclCluster(t, 2)
	topic := topicName(t, "acl-zk")
	c.CreateTopic(t, topic, 1, 2, nil)
	b2 := c.Broker(2).Addr()
	wantCode(t, "broker 2, before", topicCode(metadataFrom(t, b2, clientHost, topic), topic), kerr.TopicAuthorizationFailed)

	// Through broker 1; the client asks broker 2 only.
	changeACLs(t, c, true, allowClient(kmsg.ACLResourceTypeTopic, topic, kmsg.ACLOperationDescribe))
	wantCode(t, "broker 2, after CreateAcls on broker 1", topicCode(metadataFrom(t, b2, clientHost, topic), topic), errNone)

	data, _ := c.ZKGet(t, "/kafka-acl/Topic/"+topic)
	if want := `{"version":1,"acls":[{"principal":"User:ANONYMOUS","permissionType":"Allow","operation":"Describe","host":"127.0.0.2"}]}`; string(data) != want {
		t.Errorf("/kafka-acl/Topic/%s:\n got %s\nwant %s", topic, data, want)
	}
	if !notified(t, c, "/kafka-acl-changes", "TOPIC:"+topic) {
		t.Errorf("no /kafka-acl-changes notification for TOPIC:%s", topic)
	}

	changeACLs(t, c, true, acl{kmsg.ACLResourceTypeTransactionalId, "acl-zk-", kmsg.ACLResourcePatternTypePrefixed, "User:*", "*",
		kmsg.ACLOperationDescribe, kmsg.ACLPermissionTypeDeny})
	data, _ = c.ZKGet(t, "/kafka-acl-extended/prefixed/TransactionalId/acl-zk-")
	if want := `{"version":1,"acls":[{"principal":"User:*","permissionType":"Deny","operation":"Describe","host":"*"}]}`; string(data) != want {
		t.Errorf("prefixed znode:\n got %s\nwant %s", data, want)
	}
	if want := `{"version":1,"resourceType":"TRANSACTIONAL_ID","name":"acl-zk-","patternType":"PREFIXED"}`; !notified(t, c, "/kafka-acl-extended-changes", want) {
		t.Errorf("no /kafka-acl-extended-changes notification %s", want)
	}

	// Removing the last ACL of a resource deletes its znode, and the brokers forget it.
	changeACLs(t, c, false, allowClient(kmsg.ACLResourceTypeTopic, topic, kmsg.ACLOperationDescribe))
	if c.ZKExists(t, "/kafka-acl/Topic/"+topic) {
		t.Error("the znode of a resource without ACLs is still there")
	}
	wantCode(t, "broker 2, after DeleteAcls", topicCode(metadataFrom(t, b2, clientHost, topic), topic), kerr.TopicAuthorizationFailed)

	// Written by hand, as another tool would: the znode, then the notification.
	writeZNode(t, c, "/kafka-acl/Topic/"+topic, []byte(`{"version":1,"acls":[{"principal":"User:ANONYMOUS","permissionType":"Allow","operation":"Read","host":"127.0.0.2"}]}`))
	if _, err := c.ZK().Create(c.Path("/kafka-acl-changes/acl_changes_"), []byte("TOPIC:"+topic), zk.FlagSequence, zk.WorldACL(zk.PermAll)); err != nil {
		t.Fatal(err)
	}
	eventually(t, 20*time.Second, func() error {
		for _, b := range c.Brokers() {
			if code := topicCode(metadataFrom(t, b.Addr(), clientHost, topic), topic); code != 0 {
				return fmt.Errorf("broker %d: %v", b.ID, kerr.ErrorForCode(code))
			}
		}
		return nil
	})
}
