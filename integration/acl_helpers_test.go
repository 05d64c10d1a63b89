package integration

import (
	"context"
	"errors"
	"fmt"
	"net"
	"path"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/go-zookeeper/zk"
	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kgo"
	"github.com/twmb/franz-go/pkg/kmsg"
)

// Testing authorization without SASL: every PLAINTEXT connection is User:ANONYMOUS, so the
// tests tell clients apart by host, as Kafka's ACLs can. The brokers (and the harness's own
// clients) connect from 127.0.0.1 and are allowed everything there by the ACLs written before
// the brokers start; the clients under test dial from 127.0.0.2 (loopback too, on Linux) and
// get only what each test grants them.
const (
	brokerHost = "127.0.0.1"
	clientHost = "127.0.0.2"
	anonymous  = "User:ANONYMOUS"
	aclClass   = "kafka.security.authorizer.AclAuthorizer"
)

// bootstrapACLs writes, before any broker starts, the ACLs a Kafka operator writes with
// kafka-acls.sh --authorizer-properties zookeeper.connect=...: User:ANONYMOUS from the
// brokers' host may do everything, on the cluster (ClusterAction among it: the brokers' own
// requests) and on every topic, group and transactional id. The JSON is spaced as in Kafka's
// own documentation of the znodes (ZkData), to check that the brokers read it as Kafka does.
func bootstrapACLs(c *Cluster) {
	entry := fmt.Sprintf(`{"version": 1, "acls": [ { "host":"%s", "permissionType": "Allow","operation": "All","principal": "%s"}]}`, brokerHost, anonymous)
	for _, p := range []string{"/kafka-acl/Cluster/kafka-cluster", "/kafka-acl/Topic/*", "/kafka-acl/Group/*", "/kafka-acl/TransactionalId/*"} {
		writeZNode(c.t, c, p, []byte(entry))
	}
}

// writeZNode creates the znode at Path(p) with data, and its missing parents.
func writeZNode(t testing.TB, c *Cluster, p string, data []byte) {
	t.Helper()
	full := c.Path(p)
	cur := ""
	for _, part := range strings.Split(strings.Trim(path.Dir(full), "/"), "/") {
		cur += "/" + part
		if _, err := c.ZK().Create(cur, nil, 0, zk.WorldACL(zk.PermAll)); err != nil && !errors.Is(err, zk.ErrNodeExists) {
			t.Fatalf("create %s: %v", cur, err)
		}
	}
	if _, err := c.ZK().Create(full, data, 0, zk.WorldACL(zk.PermAll)); err != nil {
		t.Fatalf("create %s: %v", full, err)
	}
}

// aclCluster is a cluster of n brokers with AclAuthorizer and the bootstrap ACLs.
func aclCluster(t *testing.T, n int, opts ...Option) *Cluster {
	return NewCluster(t, append([]Option{Brokers(n), BrokerConfig("authorizer.class.name", aclClass), BeforeBrokers(bootstrapACLs)}, opts...)...)
}

// dialFrom makes connections from host, so the broker sees the client at that address.
func dialFrom(host string) func(ctx context.Context, network, addr string) (net.Conn, error) {
	d := &net.Dialer{Timeout: 5 * time.Second, LocalAddr: &net.TCPAddr{IP: net.ParseIP(host)}}
	return d.DialContext
}

// clientFrom is a franz-go client connecting from host.
func clientFrom(t *testing.T, c *Cluster, host string, opts ...kgo.Opt) *kgo.Client {
	return c.Client(t, append([]kgo.Opt{kgo.Dialer(dialFrom(host)), kgo.RetryTimeout(10 * time.Second)}, opts...)...)
}

// rawFrom is a RawConn to addr from host.
func rawFrom(t *testing.T, addr, host string) *RawConn {
	t.Helper()
	conn, err := dialFrom(host)(context.Background(), "tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { conn.Close() })
	return &RawConn{conn: conn, f: kmsg.NewRequestFormatter(kmsg.FormatterClientID("klassik-acl-test"))}
}

// acl is one ACL binding as the ACL requests carry it.
type acl struct {
	rt        kmsg.ACLResourceType
	name      string
	pt        kmsg.ACLResourcePatternType
	principal string
	host      string
	op        kmsg.ACLOperation
	perm      kmsg.ACLPermissionType
}

// allowClient allows User:ANONYMOUS from the client host op on a literal resource.
func allowClient(rt kmsg.ACLResourceType, name string, op kmsg.ACLOperation) acl {
	return acl{rt, name, kmsg.ACLResourcePatternTypeLiteral, anonymous, clientHost, op, kmsg.ACLPermissionTypeAllow}
}

func (a acl) String() string {
	return fmt.Sprintf("%s %s %s:%s %s@%s %s", a.perm, a.op, a.rt, a.name, a.principal, a.host, a.pt)
}

// changeACLs creates (add) or deletes ACLs with a request to broker 1 from the brokers' host,
// then waits until every broker's DescribeAcls agrees: the change notification reached each.
func changeACLs(t *testing.T, c *Cluster, add bool, acls ...acl) {
	t.Helper()
	cl := c.Client(t)
	ctx := ctxT(t, 30*time.Second)
	if add {
		req := kmsg.NewPtrCreateACLsRequest()
		for _, a := range acls {
			cr := kmsg.NewCreateACLsRequestCreation()
			cr.ResourceType, cr.ResourceName, cr.ResourcePatternType = a.rt, a.name, a.pt
			cr.Principal, cr.Host, cr.Operation, cr.PermissionType = a.principal, a.host, a.op, a.perm
			req.Creations = append(req.Creations, cr)
		}
		resp, err := req.RequestWith(ctx, cl.Broker(1))
		if err != nil {
			t.Fatal(err)
		}
		for i, r := range resp.Results {
			if r.ErrorCode != 0 {
				t.Fatalf("CreateAcls %v: %v %v", acls[i], kerr.ErrorForCode(r.ErrorCode), r.ErrorMessage)
			}
		}
	} else {
		req := kmsg.NewPtrDeleteACLsRequest()
		for _, a := range acls {
			f := kmsg.NewDeleteACLsRequestFilter()
			f.ResourceType, f.ResourceName, f.ResourcePatternType = a.rt, kmsg.StringPtr(a.name), a.pt
			f.Principal, f.Host, f.Operation, f.PermissionType = kmsg.StringPtr(a.principal), kmsg.StringPtr(a.host), a.op, a.perm
			req.Filters = append(req.Filters, f)
		}
		resp, err := req.RequestWith(ctx, cl.Broker(1))
		if err != nil {
			t.Fatal(err)
		}
		for i, r := range resp.Results {
			if r.ErrorCode != 0 || len(r.MatchingACLs) != 1 {
				t.Fatalf("DeleteAcls %v: %v %v, matched %d", acls[i], kerr.ErrorForCode(r.ErrorCode), r.ErrorMessage, len(r.MatchingACLs))
			}
		}
	}
	for _, b := range c.Brokers() {
		eventually(t, 20*time.Second, func() error {
			for _, a := range acls {
				if has := describeACL(t, cl, b.ID, a); has != add {
					return fmt.Errorf("broker %d: ACL %v present %v, want %v", b.ID, a, has, add)
				}
			}
			return nil
		})
	}
}

// describeACL reports whether broker id lists a (DescribeAcls with a's exact filter).
func describeACL(t *testing.T, cl *kgo.Client, id int32, a acl) bool {
	t.Helper()
	req := kmsg.NewPtrDescribeACLsRequest()
	req.ResourceType, req.ResourceName, req.ResourcePatternType = a.rt, kmsg.StringPtr(a.name), a.pt
	req.Principal, req.Host, req.Operation, req.PermissionType = kmsg.StringPtr(a.principal), kmsg.StringPtr(a.host), a.op, a.perm
	resp, err := req.RequestWith(ctxT(t, 15*time.Second), cl.Broker(int(id)))
	if err != nil {
		t.Fatalf("DescribeAcls on broker %d: %v", id, err)
	}
	if resp.ErrorCode != 0 {
		t.Fatalf("DescribeAcls on broker %d: %v", id, kerr.ErrorForCode(resp.ErrorCode))
	}
	return len(resp.Resources) == 1 && len(resp.Resources[0].ACLs) == 1
}

// metadataFrom asks broker addr, from host, for topics (nil: all), with the topics' authorized
// operations.
func metadataFrom(t *testing.T, addr, host string, topics ...string) *kmsg.MetadataResponse {
	t.Helper()
	req := kmsg.NewPtrMetadataRequest()
	req.SetVersion(12)
	req.IncludeTopicAuthorizedOperations = true
	if topics != nil {
		req.Topics = []kmsg.MetadataRequestTopic{}
	}
	for _, tp := range topics {
		mt := kmsg.NewMetadataRequestTopic()
		mt.Topic = kmsg.StringPtr(tp)
		req.Topics = append(req.Topics, mt)
	}
	resp, err := rawFrom(t, addr, host).Request(req, 15*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	return resp.(*kmsg.MetadataResponse)
}

// topicCode is the error code Metadata gave topic, or -1 when the topic is not listed.
func topicCode(m *kmsg.MetadataResponse, topic string) int16 {
	for _, t := range m.Topics {
		if t.Topic != nil && *t.Topic == topic {
			return t.ErrorCode
		}
	}
	return -1
}

func listedTopics(m *kmsg.MetadataResponse) []string {
	var out []string
	for _, t := range m.Topics {
		if t.Topic != nil {
			out = append(out, *t.Topic)
		}
	}
	slices.Sort(out)
	return out
}

// wantCode fails the test unless code is want.
func wantCode(t *testing.T, what string, code int16, want *kerr.Error) {
	t.Helper()
	if code != want.Code {
		t.Errorf("%s: %v, want %v", what, kerr.ErrorForCode(code), want)
	}
}

// ops is the KIP-430 bit field of some operations.
func ops(os ...kmsg.ACLOperation) int32 {
	var b int32
	for _, o := range os {
		b |= 1 << o
	}
	return b
}

// pollN polls cl until it has n records or 30 s pass, and returns what it got.
func pollN(t *testing.T, cl *kgo.Client, n int) []*kgo.Record {
	t.Helper()
	ctx := ctxT(t, 30*time.Second)
	var got []*kgo.Record
	for len(got) < n && ctx.Err() == nil {
		fs := cl.PollFetches(ctx)
		fs.EachError(func(topic string, p int32, err error) {
			if ctx.Err() == nil {
				t.Logf("fetch %s/%d: %v", topic, p, err)
			}
		})
		got = append(got, fs.Records()...)
	}
	return got
}

// offsetsAt is one partition's offset to commit.
func offsetsAt(topic string, partition int32, at int64) kadm.Offsets {
	o := kadm.Offsets{}
	o.AddOffset(topic, partition, at, -1)
	return o
}

func contains(xs []string, x string) bool { return slices.Contains(xs, x) }

// notified reports whether a child of the change folder p holds content.
func notified(t *testing.T, c *Cluster, p, content string) bool {
	t.Helper()
	for _, k := range c.ZKChildren(t, p) {
		if data, _ := c.ZKGet(t, p+"/"+k); string(data) == content {
			return true
		}
	}
	return false
}

// errNone stands for error code 0 in wantCode.
var errNone = &kerr.Error{Message: "NONE", Code: 0}
