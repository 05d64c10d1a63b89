package tools

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"io"
	"math/big"
	"net"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// TestJaasConfig reads sasl.jaas.config as Kafka's JaasConfig does.
func TestJaasConfig(t *testing.T) {
	module, opts, err := parseJaasConfig(`org.apache.kafka.common.security.scram.ScramLoginModule required username="alice" password="a \"quoted\" secret;=";`)
	if err != nil || module != "org.apache.kafka.common.security.scram.ScramLoginModule" || opts["username"] != "alice" || opts["password"] != `a "quoted" secret;=` {
		t.Fatalf("parseJaasConfig = %q %q %v", module, opts, err)
	}
	if _, opts, err := parseJaasConfig("org.apache.kafka.common.security.plain.PlainLoginModule optional username=bob password=pw ;"); err != nil || opts["username"] != "bob" || opts["password"] != "pw" {
		t.Errorf("bare values: %q %v", opts, err)
	}
	for _, bad := range []string{"", "Module required username=\"a\"", "Module sometimes username=\"a\";", "Module required username;", `Module required username="a`} {
		if _, _, err := parseJaasConfig(bad); err == nil {
			t.Errorf("parseJaasConfig(%q) accepted", bad)
		}
	}
	for _, tc := range []struct {
		props map[string]string
		want  string
	}{
		{map[string]string{"security.protocol": "SASL_PLAINTEXT"}, "sasl.mechanism GSSAPI is not supported"},
		{map[string]string{"security.protocol": "SASL_PLAINTEXT", "sasl.mechanism": "PLAIN",
			"sasl.jaas.config": `org.apache.kafka.common.security.scram.ScramLoginModule required username="a" password="b";`}, "needs org.apache.kafka.common.security.plain.PlainLoginModule"},
		{map[string]string{"security.protocol": "TLS"}, "String must be one of: PLAINTEXT, SSL, SASL_PLAINTEXT, SASL_SSL"},
		{map[string]string{"security.protocol": "SSL", "ssl.truststore.location": "/x.jks"}, "klassik reads PEM files only"},
	} {
		if _, err := securityOpts(tc.props, io.Discard); err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("securityOpts(%v) = %v, want %q", tc.props, err, tc.want)
		}
	}
	for _, mech := range []string{"PLAIN", "SCRAM-SHA-256", "SCRAM-SHA-512"} {
		module := "org.apache.kafka.common.security.scram.ScramLoginModule"
		if mech == "PLAIN" {
			module = "org.apache.kafka.common.security.plain.PlainLoginModule"
		}
		m, err := saslMechanism(map[string]string{"sasl.mechanism": mech, "sasl.jaas.config": module + ` required username="a" password="b";`})
		if err != nil || m.Name() != mech {
			t.Errorf("mechanism %s: %v %v", mech, m, err)
		}
	}
}

// TestTLSConfig: a PEM trust store verifies the broker's certificate; an empty
// ssl.endpoint.identification.algorithm accepts a certificate for another host name but not
// one from another authority; a PEM key store presents the client's certificate.
func TestTLSConfig(t *testing.T) {
	dir := t.TempDir()
	ca, caKey := makeCert(t, nil, nil, "test-ca", nil)
	server, serverKey := makeCert(t, ca, caKey, "broker.example", nil)
	client, clientKey := makeCert(t, ca, caKey, "client", nil)
	other, _ := makeCert(t, nil, nil, "other-ca", nil)
	write := func(name string, blocks ...*pem.Block) string {
		var b []byte
		for _, blk := range blocks {
			b = append(b, pem.EncodeToMemory(blk)...)
		}
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, b, 0o600); err != nil {
			t.Fatal(err)
		}
		return p
	}
	caFile := write("ca.pem", certBlock(ca))
	otherFile := write("other.pem", certBlock(other))
	keystore := write("client.pem", certBlock(client), keyBlock(t, clientKey))

	pool := x509.NewCertPool()
	pool.AddCert(ca)
	ln, err := tls.Listen("tcp", "127.0.0.1:0", &tls.Config{
		Certificates: []tls.Certificate{{Certificate: [][]byte{server.Raw}, PrivateKey: serverKey}},
		ClientAuth:   tls.VerifyClientCertIfGiven, ClientCAs: pool,
	})
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	peers := make(chan int, 8)
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			tc := c.(*tls.Conn)
			_ = tc.SetDeadline(time.Now().Add(5 * time.Second))
			if tc.Handshake() == nil {
				peers <- len(tc.ConnectionState().PeerCertificates)
			}
			c.Close()
		}
	}()
	dial := func(props map[string]string, serverName string) error {
		cfg, err := tlsConfig(props)
		if err != nil {
			return err
		}
		cfg.ServerName = serverName // what kgo sets from the broker's host
		c, err := tls.DialWithDialer(&net.Dialer{Timeout: 5 * time.Second}, "tcp", ln.Addr().String(), cfg)
		if err != nil {
			return err
		}
		return c.Close()
	}
	pemTrust := map[string]string{"ssl.truststore.type": "PEM", "ssl.truststore.location": caFile}
	if err := dial(pemTrust, "broker.example"); err != nil {
		t.Errorf("trusted CA, right name: %v", err)
	}
	if err := dial(pemTrust, "127.0.0.1"); err == nil {
		t.Error("a certificate for another host name was accepted with host name verification on")
	}
	noHost := map[string]string{"ssl.truststore.type": "PEM", "ssl.truststore.location": caFile, "ssl.endpoint.identification.algorithm": ""}
	if err := dial(noHost, "127.0.0.1"); err != nil {
		t.Errorf("host name verification off: %v", err)
	}
	if err := dial(map[string]string{"ssl.truststore.type": "PEM", "ssl.truststore.location": otherFile, "ssl.endpoint.identification.algorithm": ""}, "127.0.0.1"); err == nil {
		t.Error("a certificate from an untrusted authority was accepted")
	}
	withKey := map[string]string{"ssl.truststore.type": "PEM", "ssl.truststore.location": caFile, "ssl.keystore.type": "PEM", "ssl.keystore.location": keystore}
	for len(peers) > 0 {
		<-peers
	}
	if err := dial(withKey, "broker.example"); err != nil {
		t.Fatalf("with a client certificate: %v", err)
	}
	select {
	case n := <-peers:
		if n != 1 {
			t.Errorf("the server saw %d client certificates, want 1", n)
		}
	case <-time.After(5 * time.Second):
		t.Error("the server saw no handshake")
	}
}

func makeCert(t *testing.T, parent *x509.Certificate, parentKey *ecdsa.PrivateKey, cn string, _ []string) (*x509.Certificate, *ecdsa.PrivateKey) {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(time.Now().UnixNano()),
		Subject:      pkix.Name{CommonName: cn},
		NotBefore:    time.Now().Add(-time.Hour),
		NotAfter:     time.Now().Add(time.Hour),
		KeyUsage:     x509.KeyUsageDigitalSignature | x509.KeyUsageCertSign,
		ExtKeyUsage:  []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth, x509.ExtKeyUsageClientAuth},
	}
	signer, signerKey := tmpl, key
	if parent == nil {
		tmpl.IsCA, tmpl.BasicConstraintsValid = true, true
	} else {
		tmpl.DNSNames = []string{cn}
		signer, signerKey = parent, parentKey
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, signer, &key.PublicKey, signerKey)
	if err != nil {
		t.Fatal(err)
	}
	cert, err := x509.ParseCertificate(der)
	if err != nil {
		t.Fatal(err)
	}
	return cert, key
}

func certBlock(c *x509.Certificate) *pem.Block { return &pem.Block{Type: "CERTIFICATE", Bytes: c.Raw} }

func keyBlock(t *testing.T, k *ecdsa.PrivateKey) *pem.Block {
	der, err := x509.MarshalPKCS8PrivateKey(k)
	if err != nil {
		t.Fatal(err)
	}
	return &pem.Block{Type: "PRIVATE KEY", Bytes: der}
}
