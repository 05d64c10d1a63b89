package security

import (
	"context"
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

	"github.com/klassik/klassik/conf"
)

// testCA is a certificate authority made for one test (crypto/x509), as a user makes one with
// openssl for a cluster.
type testCA struct {
	cert *x509.Certificate
	key  *ecdsa.PrivateKey
	pem  []byte
}

var serial int64

func newTestCA(t *testing.T, name string) *testCA {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	serial++
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(serial), Subject: pkix.Name{CommonName: name, Organization: []string{"klassik tests"}},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour),
		IsCA: true, BasicConstraintsValid: true, KeyUsage: x509.KeyUsageCertSign,
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	cert, _ := x509.ParseCertificate(der)
	return &testCA{cert: cert, key: key, pem: pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der})}
}

// issue makes a certificate for subject, valid for 127.0.0.1 and localhost, and returns its
// key and certificate chain in PEM.
func (ca *testCA) issue(t *testing.T, subject pkix.Name) (keyPEM, chainPEM []byte) {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	serial++
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(serial), Subject: subject,
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour),
		KeyUsage:    x509.KeyUsageDigitalSignature,
		ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth, x509.ExtKeyUsageClientAuth},
		IPAddresses: []net.IP{net.ParseIP("127.0.0.1")}, DNSNames: []string{"localhost"},
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, ca.cert, &key.PublicKey, ca.key)
	if err != nil {
		t.Fatal(err)
	}
	kder, err := x509.MarshalPKCS8PrivateKey(key)
	if err != nil {
		t.Fatal(err)
	}
	return pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: kder}),
		append(pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}), ca.pem...)
}

func sslSettings() conf.SSLSettings {
	c := conf.Default()
	s := c.ListenerSecurity("SSL").SSL
	s.KeystoreType, s.TruststoreType = "PEM", "PEM"
	return s
}

func writeFile(t *testing.T, path string, parts ...[]byte) {
	t.Helper()
	var all []byte
	for _, p := range parts {
		all = append(all, p...)
	}
	tmp := path + ".tmp"
	if err := os.WriteFile(tmp, all, 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.Rename(tmp, path); err != nil { // as a deployment tool replaces a file
		t.Fatal(err)
	}
}

// handshake runs one TLS handshake between the store's server side and client over a pipe,
// and returns what the server saw of the client.
func handshake(t *testing.T, st *TLSStore, client *tls.Config) (tls.ConnectionState, tls.ConnectionState, error) {
	t.Helper()
	a, b := net.Pipe()
	defer a.Close()
	defer b.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	srv := tls.Server(a, st.ServerConfig())
	done := make(chan error, 1)
	go func() { done <- srv.HandshakeContext(ctx) }()
	cl := tls.Client(b, client)
	cerr := cl.HandshakeContext(ctx)
	if cerr != nil {
		a.Close()
	} else {
		// In TLS 1.3 the client is done before the server has judged its certificate: read
		// on, so that the server's alert (net.Pipe has no buffer) does not block it.
		go io.Copy(io.Discard, cl)
	}
	serr := <-done
	if cerr == nil && serr != nil {
		cerr = serr
	}
	return srv.ConnectionState(), cl.ConnectionState(), cerr
}

// TestTLSStoreKeystoreFile: ssl.keystore.location holds the key and the chain in one PEM file
// (KIP-651); the client trusting the CA sees the broker's certificate, and with
// ssl.client.auth=required the server sees the client's.
func TestTLSStoreKeystoreFile(t *testing.T) {
	dir := t.TempDir()
	ca := newTestCA(t, "test CA")
	key, chain := ca.issue(t, pkix.Name{CommonName: "broker-1"})
	writeFile(t, filepath.Join(dir, "broker.pem"), key, chain)
	writeFile(t, filepath.Join(dir, "ca.pem"), ca.pem)
	s := sslSettings()
	s.KeystoreLocation = filepath.Join(dir, "broker.pem")
	s.TruststoreLocation = filepath.Join(dir, "ca.pem")
	s.ClientAuth = "required"
	st, err := NewTLSStore("SSL", s)
	if err != nil {
		t.Fatal(err)
	}
	roots := x509.NewCertPool()
	roots.AppendCertsFromPEM(ca.pem)

	// No client certificate: refused.
	if _, _, err := handshake(t, st, &tls.Config{RootCAs: roots, ServerName: "127.0.0.1"}); err == nil {
		t.Fatal("handshake without a client certificate succeeded with ssl.client.auth=required")
	}
	ck, cc := ca.issue(t, pkix.Name{CommonName: "alice", OrganizationalUnit: []string{"eng"}, Organization: []string{"example"}, Country: []string{"DE"}})
	cert, err := tls.X509KeyPair(cc, ck)
	if err != nil {
		t.Fatal(err)
	}
	srv, cl, err := handshake(t, st, &tls.Config{RootCAs: roots, ServerName: "127.0.0.1", Certificates: []tls.Certificate{cert}})
	if err != nil {
		t.Fatal(err)
	}
	if got := cl.PeerCertificates[0].Subject.CommonName; got != "broker-1" {
		t.Errorf("client saw certificate %q", got)
	}
	dn, err := SubjectName(srv.PeerCertificates[0])
	if err != nil || dn != "CN=alice,OU=eng,O=example,C=DE" {
		t.Errorf("SubjectName = %q, %v; want CN=alice,OU=eng,O=example,C=DE", dn, err)
	}

	// A client certificate from another CA: refused.
	other := newTestCA(t, "other CA")
	ok2, oc2 := other.issue(t, pkix.Name{CommonName: "mallory"})
	bad, _ := tls.X509KeyPair(oc2, ok2)
	if _, _, err := handshake(t, st, &tls.Config{RootCAs: roots, ServerName: "127.0.0.1", Certificates: []tls.Certificate{bad}}); err == nil {
		t.Fatal("a certificate of an untrusted CA was accepted")
	}
}

// TestTLSStoreInline: ssl.keystore.key and ssl.keystore.certificate.chain inline (KIP-651), and
// ssl.client.auth=requested lets a client without a certificate in.
func TestTLSStoreInline(t *testing.T) {
	ca := newTestCA(t, "test CA")
	key, chain := ca.issue(t, pkix.Name{CommonName: "broker-1"})
	s := sslSettings()
	s.KeystoreKey, s.KeystoreCertificateChain = string(key), string(chain)
	s.TruststoreCertificates = string(ca.pem)
	s.ClientAuth = "requested"
	st, err := NewTLSStore("SSL", s)
	if err != nil {
		t.Fatal(err)
	}
	roots := x509.NewCertPool()
	roots.AppendCertsFromPEM(ca.pem)
	srv, _, err := handshake(t, st, &tls.Config{RootCAs: roots, ServerName: "localhost"})
	if err != nil {
		t.Fatal(err)
	}
	if len(srv.PeerCertificates) != 0 {
		t.Errorf("server saw %d client certificates", len(srv.PeerCertificates))
	}
	if changed, err := st.Reload(); changed || err != nil {
		t.Errorf("Reload of inline material = %v, %v; want no change", changed, err)
	}
}

// TestTLSStoreReload: a keystore replaced on disk is used for the next handshakes; a broken
// replacement keeps the old material in use.
func TestTLSStoreReload(t *testing.T) {
	dir := t.TempDir()
	ca := newTestCA(t, "test CA")
	path := filepath.Join(dir, "broker.pem")
	key, chain := ca.issue(t, pkix.Name{CommonName: "first"})
	writeFile(t, path, key, chain)
	s := sslSettings()
	s.KeystoreLocation = path
	st, err := NewTLSStore("SSL", s)
	if err != nil {
		t.Fatal(err)
	}
	roots := x509.NewCertPool()
	roots.AppendCertsFromPEM(ca.pem)
	client := &tls.Config{RootCAs: roots, ServerName: "127.0.0.1"}
	if changed, err := st.Reload(); changed || err != nil {
		t.Fatalf("Reload without a change = %v, %v", changed, err)
	}
	key2, chain2 := ca.issue(t, pkix.Name{CommonName: "second"})
	writeFile(t, path, chain2, key2) // the order of the blocks does not matter
	if changed, err := st.Reload(); !changed || err != nil {
		t.Fatalf("Reload after a change = %v, %v", changed, err)
	}
	_, cl, err := handshake(t, st, client)
	if err != nil {
		t.Fatal(err)
	}
	if cn := cl.PeerCertificates[0].Subject.CommonName; cn != "second" {
		t.Errorf("after reload the server presents %q, want second", cn)
	}
	writeFile(t, path, []byte("not a keystore"))
	if changed, err := st.Reload(); changed || err == nil || !strings.Contains(err.Error(), "ssl.keystore.location") {
		t.Errorf("Reload of a broken keystore = %v, %v; want an error naming ssl.keystore.location", changed, err)
	}
	if _, cl, err := handshake(t, st, client); err != nil || cl.PeerCertificates[0].Subject.CommonName != "second" {
		t.Errorf("after a failed reload: %v (want the second certificate still served)", err)
	}
}

func TestTLSStoreErrors(t *testing.T) {
	dir := t.TempDir()
	ca := newTestCA(t, "test CA")
	key, chain := ca.issue(t, pkix.Name{CommonName: "b"})
	writeFile(t, filepath.Join(dir, "ok.pem"), key, chain)
	writeFile(t, filepath.Join(dir, "enc.pem"), []byte("-----BEGIN ENCRYPTED PRIVATE KEY-----\nAAAA\n-----END ENCRYPTED PRIVATE KEY-----\n"), chain)
	writeFile(t, filepath.Join(dir, "empty-trust.pem"), key)
	for _, tc := range []struct {
		name string
		mod  func(*conf.SSLSettings)
		want string
	}{
		{"missing file", func(s *conf.SSLSettings) { s.KeystoreLocation = filepath.Join(dir, "none.pem") }, "ssl.keystore.location: open "},
		{"encrypted", func(s *conf.SSLSettings) { s.KeystoreLocation = filepath.Join(dir, "enc.pem") }, "ssl.keystore.location: the private key is encrypted"},
		{"no certs in truststore", func(s *conf.SSLSettings) {
			s.KeystoreLocation = filepath.Join(dir, "ok.pem")
			s.TruststoreLocation = filepath.Join(dir, "empty-trust.pem")
		}, "ssl.truststore.location: no PEM certificate"},
		{"jks", func(s *conf.SSLSettings) { s.KeystoreType = "JKS" }, `ssl.keystore.type = "JKS": klassik reads only PEM keystores`},
		{"cipher", func(s *conf.SSLSettings) {
			s.KeystoreLocation = filepath.Join(dir, "ok.pem")
			s.CipherSuites = []string{"TLS_FAKE"}
		}, `ssl.cipher.suites: "TLS_FAKE" is not a cipher suite`},
	} {
		s := sslSettings()
		tc.mod(&s)
		if _, err := NewTLSStore("SSL", s); err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s: error %v, want it to contain %q", tc.name, err, tc.want)
		}
	}
}

// TestClientConfig: the inter-broker client trusts the truststore and checks the host name,
// unless ssl.endpoint.identification.algorithm is "" (then only the chain).
func TestClientConfig(t *testing.T) {
	ca := newTestCA(t, "test CA")
	key, chain := ca.issue(t, pkix.Name{CommonName: "broker"})
	s := sslSettings()
	s.KeystoreKey, s.KeystoreCertificateChain, s.TruststoreCertificates = string(key), string(chain), string(ca.pem)
	st, err := NewTLSStore("SSL", s)
	if err != nil {
		t.Fatal(err)
	}
	good, _ := st.ClientConfig("127.0.0.1")
	if _, _, err := handshake(t, st, good); err != nil {
		t.Errorf("client to 127.0.0.1: %v", err)
	}
	wrong, _ := st.ClientConfig("broker-9.example.com")
	if _, _, err := handshake(t, st, wrong); err == nil {
		t.Error("host name check passed for a name the certificate does not hold")
	}
	s.EndpointIdentificationAlgorithm = ""
	st2, _ := NewTLSStore("SSL", s)
	noName, _ := st2.ClientConfig("broker-9.example.com")
	if _, _, err := handshake(t, st2, noName); err != nil {
		t.Errorf("without endpoint identification: %v", err)
	}
	other := newTestCA(t, "other")
	s.TruststoreCertificates = string(other.pem)
	st3, _ := NewTLSStore("SSL", s)
	untrusting, _ := st3.ClientConfig("broker-9.example.com")
	if _, _, err := handshake(t, st, untrusting); err == nil {
		t.Error("without endpoint identification the chain was not checked")
	}
}
