package integration

import (
	"context"
	"crypto/tls"
	"crypto/x509/pkix"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kgo"
	"github.com/twmb/franz-go/pkg/kmsg"
	"github.com/twmb/franz-go/pkg/sasl"
	"github.com/twmb/franz-go/pkg/sasl/plain"
	"github.com/twmb/franz-go/pkg/sasl/scram"
)

// saslCluster is one broker with SASL_PLAINTEXT and SASL_SSL listeners (besides the harness's
// PLAINTEXT) offering PLAIN, SCRAM-SHA-256 and SCRAM-SHA-512. PLAIN's user bob is in the
// listeners' JAAS configurations, as in Kafka; SCRAM's user alice is created before the broker
// starts with `klassik configs --zookeeper`, Kafka's bootstrap of SCRAM users.
func saslCluster(t *testing.T, extra ...Option) (*Cluster, *TestCA) {
	t.Helper()
	dir := t.TempDir()
	ca := NewTestCA(t, dir, "klassik-test-ca")
	broker := ca.Issue(t, "broker", pkix.Name{CommonName: "broker"})
	plainJAAS := `org.apache.kafka.common.security.plain.PlainLoginModule required user_bob="bob-secret";`
	opts := append([]Option{
		BeforeBrokers(func(c *Cluster) {
			out := runTool(t, 60*time.Second, "", klassikBin, "configs", "--zookeeper", c.ZKConnect(), "--alter",
				"--add-config", "SCRAM-SHA-256=[iterations=8192,password=alice-secret],SCRAM-SHA-512=[password=alice-secret]",
				"--entity-type", "users", "--entity-name", "alice")
			if !strings.Contains(out, "Completed updating config for entity: user-principal 'alice'.") {
				t.Fatalf("configs --zookeeper printed:\n%s", out)
			}
		}),
		ExtraListeners("SASL_PLAINTEXT", "SASL_SSL"),
		BrokerConfig("sasl.enabled.mechanisms", "PLAIN,SCRAM-SHA-256,SCRAM-SHA-512"),
		BrokerConfig("listener.name.sasl_plaintext.plain.sasl.jaas.config", plainJAAS),
		BrokerConfig("listener.name.sasl_ssl.plain.sasl.jaas.config", plainJAAS),
		BrokerConfig("ssl.keystore.type", "PEM"),
		BrokerConfig("ssl.keystore.location", broker.KeystorePath),
		BrokerConfig("metrics.listener", "127.0.0.1:0"),
	}, extra...)
	return NewCluster(t, opts...), ca
}

type saslCase struct {
	mech, user, pass string
}

var saslCases = []saslCase{
	{"PLAIN", "bob", "bob-secret"},
	{"SCRAM-SHA-256", "alice", "alice-secret"},
	{"SCRAM-SHA-512", "alice", "alice-secret"},
}

func mechanism(mech, user, pass string) sasl.Mechanism {
	switch mech {
	case "PLAIN":
		return plain.Auth{User: user, Pass: pass}.AsMechanism()
	case "SCRAM-SHA-256":
		return scram.Auth{User: user, Pass: pass}.AsSha256Mechanism()
	}
	return scram.Auth{User: user, Pass: pass}.AsSha512Mechanism()
}

// saslOpts are a franz-go client's options for one of the SASL listeners.
func saslOpts(c *Cluster, ca *TestCA, listener, mech, user, pass string) []kgo.Opt {
	opts := []kgo.Opt{kgo.SeedBrokers(c.Broker(1).ListenerAddr(listener)), kgo.SASL(mechanism(mech, user, pass))}
	if listener == "SASL_SSL" {
		opts = append(opts, kgo.DialTLSConfig(&tls.Config{RootCAs: ca.Pool()}))
	}
	return opts
}

// pingErr is the error of one Metadata request through a new client (no retries).
func pingErr(t *testing.T, c *Cluster, opts []kgo.Opt) error {
	t.Helper()
	cl := c.Client(t, append(opts, kgo.RequestRetries(0))...)
	defer cl.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	return cl.Ping(ctx)
}

// TestSASLFranzGo: franz-go with PLAIN, SCRAM-SHA-256 and SCRAM-SHA-512 on SASL_PLAINTEXT and
// SASL_SSL: the right password produces and consumes, a wrong one is refused with
// SASL_AUTHENTICATION_FAILED and counted in the failed-authentication metric.
func TestSASLFranzGo(t *testing.T) {
	c, ca := saslCluster(t)
	for _, listener := range []string{"SASL_PLAINTEXT", "SASL_SSL"} {
		for _, sc := range saslCases {
			t.Run(listener+"/"+sc.mech, func(t *testing.T) {
				topic := topicName(t, "sasl")
				c.CreateTopic(t, topic, 1, 1, nil)
				produceAndRead(t, c, topic, 100, saslOpts(c, ca, listener, sc.mech, sc.user, sc.pass)...)
				err := pingErr(t, c, saslOpts(c, ca, listener, sc.mech, sc.user, "wrong-password"))
				if !errors.Is(err, kerr.SaslAuthenticationFailed) {
					t.Fatalf("wrong password: %v, want SASL_AUTHENTICATION_FAILED", err)
				}
				if !strings.Contains(err.Error(), "Authentication failed") {
					t.Errorf("wrong password's message: %v", err)
				}
			})
		}
	}
	// An unknown SCRAM user fails the same way as a wrong password.
	if err := pingErr(t, c, saslOpts(c, ca, "SASL_SSL", "SCRAM-SHA-256", "mallory", "alice-secret")); !errors.Is(err, kerr.SaslAuthenticationFailed) {
		t.Errorf("unknown user: %v", err)
	}
	for _, l := range []string{"SASL_PLAINTEXT", "SASL_SSL"} {
		if n := authCount(t, c, 1, "failed", l); n < 3 {
			t.Errorf("%s failed authentications = %d, want at least 3", l, n)
		}
	}
	// The harness's PLAINTEXT listener answers a SaslHandshake as Kafka does outside SASL.
	raw, err := DialRaw(c.Broker(1).Addr())
	if err != nil {
		t.Fatal(err)
	}
	defer raw.Close()
	hs := kmsg.NewPtrSASLHandshakeRequest()
	hs.SetVersion(1)
	hs.Mechanism = "PLAIN"
	resp, err := raw.Request(hs, 10*time.Second)
	if err != nil || resp.(*kmsg.SASLHandshakeResponse).ErrorCode != kerr.IllegalSaslState.Code {
		t.Errorf("SaslHandshake on PLAINTEXT: %+v, %v; want ILLEGAL_SASL_STATE", resp, err)
	}
}

// clientProperties writes a Kafka client properties file (a tool's --command-config).
func clientProperties(t *testing.T, lines ...string) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), "client.properties")
	if err := os.WriteFile(p, []byte(strings.Join(lines, "\n")+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	return p
}

// TestSCRAMCredentialsTool: kafka-configs with --bootstrap-server (AlterUserScramCredentials,
// DescribeUserScramCredentials, KIP-554) through the SASL_SSL listener with --command-config,
// and with --zookeeper; /config/users/<user> holds Kafka's form of the credential next to the
// user's quotas, never the password; a new credential works at once, a deleted one no longer.
func TestSCRAMCredentialsTool(t *testing.T) {
	c, ca := saslCluster(t)
	addr := c.Broker(1).ListenerAddr("SASL_SSL")
	cmdConfig := clientProperties(t,
		"security.protocol=SASL_SSL",
		"sasl.mechanism=SCRAM-SHA-512",
		`sasl.jaas.config=org.apache.kafka.common.security.scram.ScramLoginModule required username="alice" password="alice-secret";`,
		"ssl.truststore.type=PEM",
		"ssl.truststore.location="+ca.PEMPath)
	configs := func(args ...string) string {
		return runTool(t, 60*time.Second, "", klassikBin, append([]string{"configs", "--bootstrap-server", addr, "--command-config", cmdConfig}, args...)...)
	}

	out := configs("--alter", "--add-config", "SCRAM-SHA-512=[iterations=4096,password=dave-secret]", "--entity-type", "users", "--entity-name", "dave")
	if strings.TrimSpace(out) != "Completed updating config for user dave." {
		t.Fatalf("alter printed %q", out)
	}
	if err := pingErr(t, c, saslOpts(c, ca, "SASL_SSL", "SCRAM-SHA-512", "dave", "dave-secret")); err != nil {
		t.Fatalf("dave after AlterUserScramCredentials: %v", err)
	}
	configs("--alter", "--add-config", "producer_byte_rate=1048576", "--entity-type", "users", "--entity-name", "alice")
	out = configs("--describe", "--entity-type", "users", "--entity-name", "alice")
	for _, want := range []string{
		"Quota configs for user-principal 'alice' are producer_byte_rate=1048576.0",
		"SCRAM credential configs for user-principal 'alice' are SCRAM-SHA-256=iterations=8192, SCRAM-SHA-512=iterations=4096",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("describe alice printed:\n%s\nwant a line %q", out, want)
		}
	}
	out = configs("--describe", "--entity-type", "users")
	if !strings.Contains(out, "SCRAM credential configs for user-principal 'alice' are SCRAM-SHA-256=iterations=8192, SCRAM-SHA-512=iterations=4096\nSCRAM credential configs for user-principal 'dave' are SCRAM-SHA-512=iterations=4096") {
		t.Errorf("describe all users printed:\n%s", out)
	}
	// alice's quota and credentials share her znode: she still authenticates.
	if err := pingErr(t, c, saslOpts(c, ca, "SASL_SSL", "SCRAM-SHA-256", "alice", "alice-secret")); err != nil {
		t.Fatalf("alice after a quota was set: %v", err)
	}

	data, _ := c.ZKGet(t, "/config/users/alice")
	var znode struct {
		Version int               `json:"version"`
		Config  map[string]string `json:"config"`
	}
	if err := json.Unmarshal(data, &znode); err != nil || znode.Version != 1 || znode.Config["producer_byte_rate"] != "1048576" {
		t.Fatalf("/config/users/alice = %s", data)
	}
	for _, m := range []string{"SCRAM-SHA-256", "SCRAM-SHA-512"} {
		v := znode.Config[m]
		parts := strings.Split(v, ",")
		if len(parts) != 4 || !strings.HasPrefix(parts[0], "salt=") || !strings.HasPrefix(parts[1], "stored_key=") ||
			!strings.HasPrefix(parts[2], "server_key=") || !strings.HasPrefix(parts[3], "iterations=") {
			t.Errorf("%s credential %q is not salt=...,stored_key=...,server_key=...,iterations=N", m, v)
		}
	}
	if strings.Contains(string(data), "alice-secret") {
		t.Errorf("/config/users/alice holds the password: %s", data)
	}

	// --zookeeper describe shows the stored form.
	out = runTool(t, 60*time.Second, "", klassikBin, "configs", "--zookeeper", c.ZKConnect(), "--describe", "--entity-type", "users", "--entity-name", "dave")
	if !strings.Contains(out, "Configs for user-principal 'dave' are SCRAM-SHA-512=salt=") || !strings.Contains(out, ",iterations=4096") {
		t.Errorf("configs --zookeeper --describe printed:\n%s", out)
	}

	configs("--alter", "--delete-config", "SCRAM-SHA-512", "--entity-type", "users", "--entity-name", "dave")
	if err := pingErr(t, c, saslOpts(c, ca, "SASL_SSL", "SCRAM-SHA-512", "dave", "dave-secret")); !errors.Is(err, kerr.SaslAuthenticationFailed) {
		t.Errorf("dave after his credential was deleted: %v", err)
	}
	// Kafka's refusals of the tool.
	for _, tc := range []struct{ args []string }{
		{[]string{"--alter", "--add-config", "SCRAM-SHA-256=[iterations=1024,password=x]", "--entity-type", "users", "--entity-name", "erin"}},
		{[]string{"--alter", "--add-config", "SCRAM-SHA-256=[password=x],producer_byte_rate=10", "--entity-type", "users", "--entity-name", "erin"}},
	} {
		if _, err := runToolErr(t, klassikBin, append([]string{"configs", "--bootstrap-server", addr, "--command-config", cmdConfig}, tc.args...)...); err == nil {
			t.Errorf("configs %v succeeded", tc.args)
		}
	}
}

// TestSASLBadInput: before authentication only ApiVersions, SaslHandshake and SaslAuthenticate
// are read, each frame at most sasl.server.max.receive.size; a garbage token is answered
// SASL_AUTHENTICATION_FAILED after connection.failed.authentication.delay.ms and the connection
// closes; an oversized token and a frame that is no request close it at once; each with a log
// line and counted; the broker serves on.
func TestSASLBadInput(t *testing.T) {
	c, _ := saslCluster(t, BrokerConfig("connection.failed.authentication.delay.ms", 500))
	addr := c.Broker(1).ListenerAddr("SASL_PLAINTEXT")
	dial := func() *RawConn {
		r, err := DialRaw(addr)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { r.Close() })
		return r
	}
	handshake := func(r *RawConn, mech string) {
		hs := kmsg.NewPtrSASLHandshakeRequest()
		hs.SetVersion(1)
		hs.Mechanism = mech
		resp, err := r.Request(hs, 10*time.Second)
		if err != nil || resp.(*kmsg.SASLHandshakeResponse).ErrorCode != 0 {
			t.Fatalf("SaslHandshake %s: %+v, %v", mech, resp, err)
		}
	}
	authenticate := func(r *RawConn, token []byte) (kmsg.Response, error) {
		a := kmsg.NewPtrSASLAuthenticateRequest()
		a.SetVersion(2)
		a.SASLAuthBytes = token
		return r.Request(a, 10*time.Second)
	}
	closed := func(r *RawConn) {
		t.Helper()
		if _, err := r.Request(kmsg.NewPtrApiVersionsRequest(), 10*time.Second); err == nil || strings.Contains(err.Error(), "timeout") {
			t.Fatalf("the connection is still open: %v", err)
		}
	}

	// A garbage SCRAM token.
	r := dial()
	handshake(r, "SCRAM-SHA-256")
	start := time.Now()
	resp, err := authenticate(r, []byte("\xff\xfe not a client-first-message \x00"))
	if err != nil {
		t.Fatalf("garbage token: %v", err)
	}
	ar := resp.(*kmsg.SASLAuthenticateResponse)
	if ar.ErrorCode != kerr.SaslAuthenticationFailed.Code || ar.ErrorMessage == nil ||
		*ar.ErrorMessage != "Authentication failed during authentication due to invalid credentials with SASL mechanism SCRAM-SHA-256" {
		t.Fatalf("garbage token answered %d %v", ar.ErrorCode, ar.ErrorMessage)
	}
	if d := time.Since(start); d < 500*time.Millisecond {
		t.Errorf("the failure was answered after %v, before connection.failed.authentication.delay.ms", d)
	}
	closed(r)

	// A token larger than sasl.server.max.receive.size (512 KiB).
	r = dial()
	handshake(r, "PLAIN")
	if resp, err := authenticate(r, make([]byte, 600<<10)); err == nil {
		t.Fatalf("an oversized token was answered: %+v", resp)
	}

	// Not a request at all, then a Produce before authenticating.
	for _, req := range []kmsg.Request{kmsg.NewPtrMetadataRequest(), kmsg.NewPtrProduceRequest()} {
		r = dial()
		if resp, err := r.Request(req, 10*time.Second); err == nil {
			t.Fatalf("%T before authentication answered %+v", req, resp)
		}
	}
	c.eventually(10*time.Second, func() error {
		log, _ := os.ReadFile(c.Broker(1).StderrPath())
		for _, want := range []string{
			"failed SASL authentication with mechanism SCRAM-SHA-256",
			"a frame during SASL authentication is larger than sasl.server.max.receive.size",
			"unexpected Kafka request of type Metadata during SASL handshake",
			"unexpected Kafka request of type Produce during SASL handshake",
		} {
			if !strings.Contains(string(log), want) {
				return fmt.Errorf("no broker log line with %q", want)
			}
		}
		return nil
	})
	if n := authCount(t, c, 1, "failed", "SASL_PLAINTEXT"); n != 4 {
		t.Errorf("failed authentications on SASL_PLAINTEXT = %d, want 4", n)
	}
	if err := c.Client(t).Ping(context.Background()); err != nil {
		t.Fatalf("the broker stopped serving: %v", err)
	}
}

// TestSASLReauthentication: KIP-368 with franz-go. With connections.max.reauth.ms on the
// SASL_SSL listener, SaslAuthenticate tells the client its session's lifetime; the client
// authenticates again on the same connections before the end and produces throughout.
func TestSASLReauthentication(t *testing.T) {
	c, ca := saslCluster(t, BrokerConfig("listener.name.sasl_ssl.connections.max.reauth.ms", 1500))
	topic := topicName(t, "reauth")
	c.CreateTopic(t, topic, 1, 1, nil)
	cl := c.Client(t, append(saslOpts(c, ca, "SASL_SSL", "SCRAM-SHA-512", "alice", "alice-secret"), manual())...)
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	before := authCount(t, c, 1, "successful", "SASL_SSL")
	end := time.Now().Add(6 * time.Second)
	n := 0
	for time.Now().Before(end) {
		if err := cl.ProduceSync(ctx, &kgo.Record{Topic: topic, Partition: 0, Value: []byte(fmt.Sprint(n))}).FirstErr(); err != nil {
			t.Fatalf("produce %d after %d: %v", n, n, err)
		}
		n++
		time.Sleep(50 * time.Millisecond) // paces the producer across four session lifetimes
	}
	after := authCount(t, c, 1, "successful", "SASL_SSL")
	if after-before < 3 {
		t.Errorf("%d authentications on SASL_SSL during 6 s of 1.5 s sessions, want at least 3 (re-authentication)", after-before)
	}
	consumeN(t, c, topic, 1, n, 30*time.Second)
	log, _ := os.ReadFile(c.Broker(1).StderrPath())
	if strings.Contains(string(log), "the SASL session expired") {
		t.Error("a franz-go connection was closed for an expired session")
	}
	t.Logf("%d records produced; %d authentications", n, after-before)
}

// TestSASLSSLInterBroker: three brokers whose inter-broker listener is SASL_SSL with
// SCRAM-SHA-512, the brokers' own user created with configs --zookeeper before they start (as
// Kafka's docs do it): followers replicate, the controller sends LeaderAndIsr and
// UpdateMetadata, and a leader's death is handled, all over authenticated TLS connections.
func TestSASLSSLInterBroker(t *testing.T) {
	dir := t.TempDir()
	ca := NewTestCA(t, dir, "cluster-ca")
	ks := ca.Issue(t, "brokers", pkix.Name{CommonName: "broker", OrganizationalUnit: []string{"brokers"}})
	opts := append(chaosConfig(), Brokers(3),
		BeforeBrokers(func(c *Cluster) {
			runTool(t, 60*time.Second, "", klassikBin, "configs", "--zookeeper", c.ZKConnect(), "--alter",
				"--add-config", "SCRAM-SHA-512=[password=admin-secret]", "--entity-type", "users", "--entity-name", "admin")
			runTool(t, 60*time.Second, "", klassikBin, "configs", "--zookeeper", c.ZKConnect(), "--alter",
				"--add-config", "SCRAM-SHA-512=[password=alice-secret]", "--entity-type", "users", "--entity-name", "alice")
		}),
		ExtraListeners("SASL_SSL"),
		BrokerConfig("inter.broker.listener.name", "SASL_SSL"),
		BrokerConfig("sasl.enabled.mechanisms", "SCRAM-SHA-512"),
		BrokerConfig("sasl.mechanism.inter.broker.protocol", "SCRAM-SHA-512"),
		BrokerConfig("listener.name.sasl_ssl.scram-sha-512.sasl.jaas.config",
			`org.apache.kafka.common.security.scram.ScramLoginModule required username="admin" password="admin-secret";`),
		BrokerConfig("ssl.keystore.type", "PEM"),
		BrokerConfig("ssl.keystore.location", ks.KeystorePath),
		BrokerConfig("ssl.truststore.type", "PEM"),
		BrokerConfig("ssl.truststore.location", ca.PEMPath),
		BrokerConfig("metrics.listener", "127.0.0.1:0"),
		// Sessions of 2 s: the brokers' own connections (wire.Client) must authenticate again
		// on the way (KIP-368), or the others close them.
		BrokerConfig("listener.name.sasl_ssl.connections.max.reauth.ms", 2000),
	)
	c := NewCluster(t, opts...)
	for _, b := range c.Brokers() {
		log, _ := os.ReadFile(b.StderrPath())
		if !regexp.MustCompile(`"listener":"SASL_SSL","protocol":"SASL_SSL","sasl_mechanism":"SCRAM-SHA-512",.*"message":"inter-broker connections"`).Match(log) {
			t.Fatalf("broker %d does not use SASL_SSL with SCRAM-SHA-512 for inter-broker connections", b.ID)
		}
	}
	topic := topicName(t, "interbroker")
	c.CreateTopic(t, topic, 1, 3, map[string]*string{"min.insync.replicas": strp("2")})
	waitFullISR(t, c, topic, 1)

	var seeds []string
	for _, b := range c.Brokers() {
		seeds = append(seeds, b.ListenerAddr("SASL_SSL"))
	}
	secure := []kgo.Opt{kgo.SeedBrokers(seeds...), kgo.SASL(mechanism("SCRAM-SHA-512", "alice", "alice-secret")),
		kgo.DialTLSConfig(&tls.Config{RootCAs: ca.Pool()})}
	cl := c.Client(t, append(secure, manual(), kgo.RetryBackoffFn(func(int) time.Duration { return 50 * time.Millisecond }),
		kgo.MetadataMinAge(100*time.Millisecond))...)
	recs := makeRecords(500, 1)
	produceAll(t, cl, topic, recs[:250], time.Minute)
	// Over three session lifetimes the followers keep fetching on their connections.
	time.Sleep(6 * time.Second) // let the inter-broker sessions pass their lifetime, several times
	produceAll(t, cl, topic, recs[250:], time.Minute)
	waitReplicasIdentical(t, c, topic, 0, time.Minute)
	waitFullISR(t, c, topic, 1)
	for _, b := range c.Brokers() {
		log, _ := os.ReadFile(b.StderrPath())
		if strings.Contains(string(log), "the SASL session expired") {
			t.Errorf("broker %d closed a connection whose session expired: a broker did not re-authenticate", b.ID)
		}
	}

	// Each broker took authenticated connections from the others (followers, controller).
	for _, b := range c.Brokers() {
		if n := authCount(t, c, b.ID, "successful", "SASL_SSL"); n < 1 {
			t.Errorf("broker %d: no successful SASL_SSL authentication", b.ID)
		}
	}

	leader := zkLeaderOf(t, c, topic, 0)
	c.KillBroker(leader)
	more := makeRecords(100, 1)
	produceAll(t, cl, topic, more, time.Minute)
	after, _ := c.ZKPartitionState(t, topic, 0)
	if after.Leader == leader {
		t.Fatalf("broker %d still leads after it was killed", leader)
	}
	c.StartBroker(leader)
	waitFullISR(t, c, topic, 1)
	got := consumeN(t, c, topic, 1, len(recs)+len(more), time.Minute, secure...)
	checkRecords(t, append(recs, more...), got, 0)
}

// TestSASLPrincipalsMeetACLs: the SASL user is the principal the authorizer judges. With
// AclAuthorizer, User:alice (SCRAM) allowed to write a topic writes it, User:bob (PLAIN) is
// refused with TOPIC_AUTHORIZATION_FAILED, and SCRAM credentials need Describe and Alter on
// the cluster (CLUSTER_AUTHORIZATION_FAILED for bob).
func TestSASLPrincipalsMeetACLs(t *testing.T) {
	c, ca := saslCluster(t, BrokerConfig("authorizer.class.name", aclClass), BeforeBrokers(bootstrapACLs))
	topic := topicName(t, "acl")
	c.CreateTopic(t, topic, 1, 1, nil)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	acl := kadm.NewACLs().Allow("User:alice").AllowHosts("*").Topics(topic).Operations(kadm.OpWrite, kadm.OpDescribe).ResourcePatternType(kadm.ACLPatternLiteral)
	if res, err := c.Admin(t).CreateACLs(ctx, acl); err != nil || res[0].Err != nil {
		t.Fatalf("CreateACLs: %v %v", err, res)
	}
	produce := func(mech, user, pass string) error {
		cl := c.Client(t, append(saslOpts(c, ca, "SASL_SSL", mech, user, pass), manual(), kgo.RequestRetries(2))...)
		defer cl.Close()
		pctx, pcancel := context.WithTimeout(ctx, 15*time.Second)
		defer pcancel()
		return cl.ProduceSync(pctx, &kgo.Record{Topic: topic, Partition: 0, Value: []byte(user)}).FirstErr()
	}
	c.eventually(20*time.Second, func() error { // the ACL reaches the authorizer through its notification
		return produce("SCRAM-SHA-512", "alice", "alice-secret")
	})
	if err := produce("PLAIN", "bob", "bob-secret"); !errors.Is(err, kerr.TopicAuthorizationFailed) {
		t.Errorf("bob's produce: %v, want TOPIC_AUTHORIZATION_FAILED", err)
	}

	bob := c.Client(t, saslOpts(c, ca, "SASL_SSL", "PLAIN", "bob", "bob-secret")...)
	d := kmsg.NewPtrDescribeUserSCRAMCredentialsRequest()
	if resp, err := d.RequestWith(ctx, bob); err != nil || resp.ErrorCode != kerr.ClusterAuthorizationFailed.Code {
		t.Errorf("bob's DescribeUserScramCredentials: %+v, %v", resp, err)
	}
	a := kmsg.NewPtrAlterUserSCRAMCredentialsRequest()
	del := kmsg.NewAlterUserSCRAMCredentialsRequestDeletion()
	del.Name, del.Mechanism = "alice", 2
	a.Deletions = append(a.Deletions, del)
	if resp, err := a.RequestWith(ctx, bob); err != nil || len(resp.Results) != 1 || resp.Results[0].ErrorCode != kerr.ClusterAuthorizationFailed.Code {
		t.Errorf("bob's AlterUserScramCredentials: %+v, %v", resp, err)
	}
	if err := pingErr(t, c, saslOpts(c, ca, "SASL_SSL", "SCRAM-SHA-512", "alice", "alice-secret")); err != nil {
		t.Errorf("alice after bob's refused deletion: %v", err)
	}
}
