package integration

import (
	"context"
	"crypto/tls"
	"crypto/x509/pkix"
	"encoding/json"
	"fmt"
	"net"
	"os"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kgo"
	"github.com/twmb/franz-go/pkg/kmsg"
)

// tlsCluster is one broker with the harness's PLAINTEXT listener and an SSL one: the CA and
// the broker's KIP-651 PEM keystore are made in the test; the SSL listener requests client
// certificates (mutual TLS optional), maps a subject CN=<name>,OU=clients,... to the
// principal <name> in lower case, and looks for changed files every 300 ms.
func tlsCluster(t *testing.T, extra ...Option) (*Cluster, *TestCA, Issued) {
	t.Helper()
	dir := t.TempDir()
	ca := NewTestCA(t, dir, "klassik-test-ca")
	broker := ca.Issue(t, "broker", pkix.Name{CommonName: "broker", Organization: []string{"klassik"}})
	opts := append([]Option{
		ExtraListeners("SSL"),
		BrokerConfig("ssl.keystore.type", "PEM"),
		BrokerConfig("ssl.keystore.location", broker.KeystorePath),
		BrokerConfig("ssl.truststore.type", "PEM"),
		BrokerConfig("ssl.truststore.location", ca.PEMPath),
		BrokerConfig("listener.name.ssl.ssl.client.auth", "requested"),
		BrokerConfig("listener.name.ssl.ssl.principal.mapping.rules", "RULE:^CN=([^,]*),OU=clients(,.*)?$/$1/L,DEFAULT"),
		BrokerConfig("klassik.ssl.reload.check.interval.ms", 300),
		BrokerConfig("metrics.listener", "127.0.0.1:0"),
	}, extra...)
	return NewCluster(t, opts...), ca, broker
}

func sslAddrs(c *Cluster) []string {
	var out []string
	for _, b := range c.Brokers() {
		out = append(out, b.ListenerAddr("SSL"))
	}
	return out
}

// produceAndRead produces n records with cl to partition 0 of topic and reads them back with
// the same client's options.
func produceAndRead(t *testing.T, c *Cluster, topic string, n int, opts ...kgo.Opt) {
	t.Helper()
	cl := c.Client(t, append([]kgo.Opt{manual()}, opts...)...)
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	var recs []*kgo.Record
	for i := range n {
		recs = append(recs, &kgo.Record{Topic: topic, Partition: 0, Key: []byte(fmt.Sprint(i)), Value: []byte(fmt.Sprintf("value %d", i))})
	}
	if err := cl.ProduceSync(ctx, recs...).FirstErr(); err != nil {
		t.Fatalf("produce: %v", err)
	}
	got := consumeN(t, c, topic, 1, n, 60*time.Second, opts...)
	for i, r := range got {
		if r.Offset != int64(i) || string(r.Value) != fmt.Sprintf("value %d", i) {
			t.Fatalf("record %d read back as offset %d %q", i, r.Offset, r.Value)
		}
	}
}

// TestTLSFranzGo: franz-go over the SSL listener with a CA made in the test: Metadata over SSL
// names the SSL endpoints (the listener the request came on), produce and fetch work, and the
// broker's registration shows the listener with its protocol.
func TestTLSFranzGo(t *testing.T) {
	c, ca, _ := tlsCluster(t)
	topic := topicName(t, "tls")
	c.CreateTopic(t, topic, 1, 1, nil)
	tlsOpt := kgo.DialTLSConfig(&tls.Config{RootCAs: ca.Pool()})
	produceAndRead(t, c, topic, 200, kgo.SeedBrokers(sslAddrs(c)...), tlsOpt)

	md, err := kadm.NewClient(c.Client(t, kgo.SeedBrokers(sslAddrs(c)...), tlsOpt)).BrokerMetadata(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if got, want := fmt.Sprintf("127.0.0.1:%d", md.Brokers[0].Port), c.Broker(1).ListenerAddr("SSL"); got != want {
		t.Errorf("metadata over SSL lists the broker at %s, want its SSL listener %s", got, want)
	}
	data, _ := c.ZKGet(t, "/brokers/ids/1")
	var reg struct {
		Endpoints []string          `json:"endpoints"`
		Map       map[string]string `json:"listener_security_protocol_map"`
	}
	if err := json.Unmarshal(data, &reg); err != nil || reg.Map["SSL"] != "SSL" || len(reg.Endpoints) != 2 ||
		reg.Endpoints[1] != "SSL://"+c.Broker(1).ListenerAddr("SSL") {
		t.Errorf("/brokers/ids/1 = %s", data)
	}

	// A client that does not trust the broker's CA fails the handshake.
	other := NewTestCA(t, t.TempDir(), "other-ca")
	bad := c.Client(t, kgo.SeedBrokers(sslAddrs(c)...), kgo.DialTLSConfig(&tls.Config{RootCAs: other.Pool()}), kgo.RequestRetries(0))
	ctx, cancel := context.WithTimeout(context.Background(), 15*time.Second)
	defer cancel()
	if err := bad.Ping(ctx); err == nil || !strings.Contains(err.Error(), "certificate") {
		t.Errorf("a client trusting another CA: %v, want a certificate error", err)
	}
}

// TestMutualTLSPrincipal: with a client certificate the principal is the subject mapped by
// ssl.principal.mapping.rules (Kafka's SslPrincipalMapper): CN=Alice,OU=clients,... becomes
// User:alice. A producer_byte_rate quota for user alice throttles her and nobody else, which is
// how a broker shows whom it took a connection for.
func TestMutualTLSPrincipal(t *testing.T) {
	c, ca, _ := tlsCluster(t, BrokerConfig("quota.window.num", 2))
	topic := topicName(t, "mtls")
	c.CreateTopic(t, topic, 1, 1, nil)
	adm := c.Admin(t)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	rate := float64(2048)
	if _, err := adm.AlterClientQuotas(ctx, []kadm.AlterClientQuotaEntry{{
		Entity: []kadm.ClientQuotaEntityComponent{{Type: "user", Name: kmsg.StringPtr("alice")}},
		Ops:    []kadm.AlterClientQuotaOp{{Key: "producer_byte_rate", Value: rate}},
	}}); err != nil {
		t.Fatal(err)
	}
	alice := ca.Issue(t, "alice", pkix.Name{CommonName: "Alice", OrganizationalUnit: []string{"clients"}, Organization: []string{"example"}})
	bob := ca.Issue(t, "bob", pkix.Name{CommonName: "Bob", OrganizationalUnit: []string{"clients"}})
	throttledAs := func(cert *tls.Certificate) int64 {
		cfg := &tls.Config{RootCAs: ca.Pool()}
		if cert != nil {
			cfg.Certificates = []tls.Certificate{*cert}
		}
		h := &throttleHook{}
		cl := c.Client(t, kgo.SeedBrokers(sslAddrs(c)...), kgo.DialTLSConfig(cfg), kgo.WithHooks(h), manual(),
			kgo.ProducerBatchMaxBytes(1<<20), kgo.ProducerLinger(0))
		value := make([]byte, 32<<10)
		for range 3 {
			if err := cl.ProduceSync(ctx, &kgo.Record{Topic: topic, Partition: 0, Value: value}).FirstErr(); err != nil {
				t.Fatalf("produce: %v", err)
			}
		}
		cl.Close()
		return h.n.Load()
	}
	// The quota reaches the broker through /config/changes; alice's first throttle shows it
	// arrived.
	c.eventually(30*time.Second, func() error {
		if n := throttledAs(&alice.TLS); n == 0 {
			return fmt.Errorf("alice (CN=Alice,OU=clients) was not throttled by her 2 KiB/s quota")
		}
		return nil
	})
	if n := throttledAs(&bob.TLS); n != 0 {
		t.Errorf("bob was throttled %d times by alice's quota", n)
	}
	if n := throttledAs(nil); n != 0 {
		t.Errorf("a client without a certificate (User:ANONYMOUS) was throttled %d times", n)
	}
	if ok := authCount(t, c, 1, "successful", "SSL"); ok < 3 {
		t.Errorf("successful authentications on SSL = %d, want at least 3", ok)
	}
}

// TestTLSMismatchedProtocols: a TLS client hello on the PLAINTEXT listener and a plaintext
// request on the SSL listener each get a clean close and a log line saying what happened; the
// broker serves on.
func TestTLSMismatchedProtocols(t *testing.T) {
	c, ca, _ := tlsCluster(t)
	b := c.Broker(1)

	// A TLS client on the PLAINTEXT port: its handshake fails, the broker closes.
	conn, err := net.DialTimeout("tcp", b.Addr(), 5*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	tc := tls.Client(conn, &tls.Config{RootCAs: ca.Pool(), ServerName: "127.0.0.1"})
	tc.SetDeadline(time.Now().Add(10 * time.Second))
	if err := tc.Handshake(); err == nil {
		t.Fatal("a TLS handshake succeeded on the PLAINTEXT listener")
	} else if strings.Contains(err.Error(), "timeout") {
		t.Fatalf("the broker did not close the connection: %v", err)
	}
	conn.Close()

	// A plaintext ApiVersions on the SSL port: closed, no answer.
	raw, err := DialRaw(b.ListenerAddr("SSL"))
	if err != nil {
		t.Fatal(err)
	}
	defer raw.Close()
	av := kmsg.NewPtrApiVersionsRequest()
	av.SetVersion(3)
	av.ClientSoftwareName, av.ClientSoftwareVersion = "raw", "1"
	if resp, err := raw.Request(av, 10*time.Second); err == nil {
		t.Fatalf("the SSL listener answered a plaintext ApiVersions: %+v", resp)
	} else if strings.Contains(err.Error(), "timeout") {
		t.Fatalf("the broker did not close the plaintext connection on its SSL listener: %v", err)
	}

	c.eventually(10*time.Second, func() error {
		log, _ := os.ReadFile(b.StderrPath())
		for _, want := range []string{
			"the client began a TLS handshake on plaintext listener PLAINTEXT",
			"the client did not begin a TLS handshake on TLS listener SSL",
		} {
			if !strings.Contains(string(log), want) {
				return fmt.Errorf("no broker log line with %q", want)
			}
		}
		return nil
	})
	if err := c.Client(t).Ping(context.Background()); err != nil {
		t.Fatalf("the broker stopped serving after the bad connections: %v", err)
	}
	if failed := authCount(t, c, 1, "failed", "SSL"); failed < 1 {
		t.Errorf("failed authentications on SSL = %d, want the plaintext client counted", failed)
	}
}

// TestTLSKeystoreReload: a renewed certificate written over the keystore file is served to the
// connections that follow, without a restart; the connections made before it keep working.
func TestTLSKeystoreReload(t *testing.T) {
	c, ca, broker := tlsCluster(t)
	addr := c.Broker(1).ListenerAddr("SSL")
	served := func() string {
		conn, err := tls.DialWithDialer(&net.Dialer{Timeout: 5 * time.Second}, "tcp", addr, &tls.Config{RootCAs: ca.Pool()})
		if err != nil {
			t.Fatalf("TLS dial: %v", err)
		}
		defer conn.Close()
		return conn.ConnectionState().PeerCertificates[0].Subject.CommonName
	}
	if cn := served(); cn != "broker" {
		t.Fatalf("serving %q", cn)
	}
	before := c.Client(t, kgo.SeedBrokers(addr), kgo.DialTLSConfig(&tls.Config{RootCAs: ca.Pool()}))
	if err := before.Ping(context.Background()); err != nil {
		t.Fatal(err)
	}
	renewed := ca.Issue(t, "renewed", pkix.Name{CommonName: "broker-renewed"})
	data, err := os.ReadFile(renewed.KeystorePath)
	if err != nil {
		t.Fatal(err)
	}
	writePEM(t, broker.KeystorePath, data)
	c.eventually(30*time.Second, func() error {
		if cn := served(); cn != "broker-renewed" {
			return fmt.Errorf("still serving %q", cn)
		}
		return nil
	})
	if err := before.Ping(context.Background()); err != nil {
		t.Errorf("a client connected before the reload: %v", err)
	}
	log, _ := os.ReadFile(c.Broker(1).StderrPath())
	if !regexp.MustCompile(`TLS keystore and truststore reloaded`).Match(log) {
		t.Error("no log line for the reload")
	}
}
