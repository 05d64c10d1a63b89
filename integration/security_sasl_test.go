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
	"strings"
	"testing"
	"time"

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
		name := fmt.Sprintf(`kafka_server_socket_server_metrics_failed_authentication_total\{listener="%s"\}`, l)
		if n := metric(t, c, 1, name); n < 3 {
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
