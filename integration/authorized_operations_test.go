package integration

import (
	"slices"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kmsg"
)

// TestAuthorizedOperations: with no authorizer, Kafka answers every operation a resource type
// supports when asked (KIP-430; AuthHelper.authorizedOperations over
// AclEntry.supportedOperations), and -2147483648 when not (issue 14, item 6): topics 3576
// (READ, WRITE, CREATE, DELETE, ALTER, DESCRIBE, DESCRIBE_CONFIGS, ALTER_CONFIGS), groups 328
// (READ, DELETE, DESCRIBE), the cluster 8096 (CREATE, ALTER, DESCRIBE, CLUSTER_ACTION,
// DESCRIBE_CONFIGS, ALTER_CONFIGS, IDEMPOTENT_WRITE).
func TestAuthorizedOperations(t *testing.T) {
	const topicOps, groupOps, clusterOps, notAsked = 3576, 328, 8096, -2147483648
	c := NewCluster(t)
	topic := topicName(t, "ops")
	c.CreateTopic(t, topic, 1, 1, nil)
	conn, err := DialRaw(c.Broker(1).Addr())
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()

	metadata := func(version int16, ask bool) *kmsg.MetadataResponse {
		t.Helper()
		req := kmsg.NewPtrMetadataRequest()
		req.SetVersion(version)
		mt := kmsg.NewMetadataRequestTopic()
		mt.Topic = kmsg.StringPtr(topic)
		req.Topics = append(req.Topics, mt)
		req.IncludeClusterAuthorizedOperations, req.IncludeTopicAuthorizedOperations = ask, ask
		resp, err := conn.Request(req, 15*time.Second)
		if err != nil {
			t.Fatalf("metadata v%d: %v", version, err)
		}
		return resp.(*kmsg.MetadataResponse)
	}
	// v8-10 carry the cluster's operations, v11+ only the topics' (KIP-700).
	for _, v := range []int16{8, 10} {
		m := metadata(v, true)
		if m.AuthorizedOperations != clusterOps || len(m.Topics) != 1 || m.Topics[0].AuthorizedOperations != topicOps {
			t.Errorf("metadata v%d asked: cluster %d, topics %+v; want cluster %d, topic %d", v, m.AuthorizedOperations, m.Topics, clusterOps, topicOps)
		}
		m = metadata(v, false)
		if m.AuthorizedOperations != notAsked || m.Topics[0].AuthorizedOperations != notAsked {
			t.Errorf("metadata v%d not asked: cluster %d topic %d, want %d", v, m.AuthorizedOperations, m.Topics[0].AuthorizedOperations, notAsked)
		}
	}
	if m := metadata(12, true); m.Topics[0].AuthorizedOperations != topicOps {
		t.Errorf("metadata v12 asked: topic %d, want %d", m.Topics[0].AuthorizedOperations, topicOps)
	}

	cl := c.Client(t)
	for _, ask := range []bool{true, false} {
		req := kmsg.NewPtrDescribeClusterRequest()
		req.IncludeClusterAuthorizedOperations = ask
		resp, err := req.RequestWith(ctxT(t, 30*time.Second), cl)
		if err != nil {
			t.Fatal(err)
		}
		want := int32(notAsked)
		if ask {
			want = clusterOps
		}
		if resp.ClusterAuthorizedOperations != want {
			t.Errorf("describe cluster (asked %v): %d, want %d", ask, resp.ClusterAuthorizedOperations, want)
		}
	}

	// A group through kadm, which asks and decodes the bit field.
	group := topicName(t, "group")
	o := kadm.Offsets{}
	o.AddOffset(topic, 0, 0, -1)
	if _, err := c.Admin(t).CommitOffsets(ctxT(t, 30*time.Second), group, o); err != nil {
		t.Fatal(err)
	}
	dgs, err := c.Admin(t).DescribeGroups(ctxT(t, 30*time.Second), group)
	if err != nil {
		t.Fatal(err)
	}
	got := dgs[group].AuthorizedOperations
	want := []kadm.ACLOperation{kadm.OpRead, kadm.OpDelete, kadm.OpDescribe}
	slices.Sort(got)
	slices.Sort(want)
	if !slices.Equal(got, want) {
		t.Errorf("group authorized operations %v, want %v", got, want)
	}
	req := kmsg.NewPtrDescribeGroupsRequest()
	req.Groups = []string{group}
	resp, err := req.RequestWith(ctxT(t, 30*time.Second), cl)
	if err != nil {
		t.Fatal(err)
	}
	if resp.Groups[0].AuthorizedOperations != notAsked {
		t.Errorf("describe groups not asked: %d, want %d", resp.Groups[0].AuthorizedOperations, notAsked)
	}
	req.IncludeAuthorizedOperations = true
	if resp, err = req.RequestWith(ctxT(t, 30*time.Second), cl); err != nil {
		t.Fatal(err)
	}
	if resp.Groups[0].AuthorizedOperations != groupOps {
		t.Errorf("describe groups asked: %d, want %d", resp.Groups[0].AuthorizedOperations, groupOps)
	}
}
