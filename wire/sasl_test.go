package wire

import (
	"bytes"
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/binary"
	"io"
	"math/big"
	"net"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kmsg"
	"github.com/twmb/franz-go/pkg/sasl"
	"github.com/twmb/franz-go/pkg/sasl/plain"
)

// testPlain is a PLAIN server over a fixed user table (RFC 4616's message: authzid NUL user
// NUL password); package security has the broker's.
type testPlain struct {
	users     map[string]string
	principal string
}

func (p *testPlain) Step(token []byte) ([]byte, bool, error) {
	parts := bytes.Split(token, []byte{0})
	if len(parts) != 3 {
		return nil, false, io.ErrUnexpectedEOF // not shown to the client
	}
	if pw, ok := p.users[string(parts[1])]; !ok || pw != string(parts[2]) {
		return nil, false, &AuthenticationError{Message: "Authentication failed: Invalid username or password"}
	}
	p.principal = "User:" + string(parts[1])
	return []byte{}, true, nil
}

func (p *testPlain) Principal() string { return p.principal }

var testUsers = map[string]string{"alice": "alice-secret", "bob": "bob-secret"}

func saslConfig(lifetime time.Duration) func(*ServerConfig) {
	return func(c *ServerConfig) {
		c.ListenerName = "SASL_PLAINTEXT"
		c.SASL = &SASLConfig{
			Mechanisms: []string{"PLAIN", "SCRAM-SHA-256"},
			NewServer: func(mechanism string, _ *ConnInfo) (SASLServer, error) {
				return &testPlain{users: testUsers}, nil
			},
			MaxReceiveSize:  1024,
			SessionLifetime: lifetime,
			FailureDelay:    50 * time.Millisecond,
		}
	}
}

func dialSASL(addr string, m sasl.Mechanism, tc *tls.Config) (*Client, error) {
	ctx, cancel := context.WithTimeout(context.Background(), testTimeout)
	defer cancel()
	return DialWith(ctx, addr, "sasl-test", DialOptions{SASL: m, TLS: tc})
}

func whoami(t *testing.T, c *Client) string {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), testTimeout)
	defer cancel()
	resp, err := c.Request(ctx, metadataReq(12, "whoami"))
	if err != nil {
		t.Fatalf("request after authentication: %v", err)
	}
	return *resp.(*kmsg.MetadataResponse).ClusterID
}

// TestSASLPlain: KIP-152's SaslHandshake v1 and SaslAuthenticate; the principal reaches the
// handler; a wrong password is answered SASL_AUTHENTICATION_FAILED after
// connection.failed.authentication.delay.ms, and counted.
func TestSASLPlain(t *testing.T) {
	ts := startServerWith(t, newTestHandler(), 0, nil, saslConfig(0))
	c, err := dialSASL(ts.addr, plain.Auth{User: "alice", Pass: "alice-secret"}.AsMechanism(), nil)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	if p := whoami(t, c); p != "User:alice" {
		t.Errorf("principal %q, want User:alice", p)
	}
	start := time.Now()
	_, err = dialSASL(ts.addr, plain.Auth{User: "alice", Pass: "wrong"}.AsMechanism(), nil)
	if err == nil || !strings.Contains(err.Error(), kerr.SaslAuthenticationFailed.Message) ||
		!strings.Contains(err.Error(), "Invalid username or password") {
		t.Fatalf("wrong password: %v", err)
	}
	if d := time.Since(start); d < 50*time.Millisecond {
		t.Errorf("the failure was answered after %v, before the 50ms delay", d)
	}
	// An error of the mechanism that is not an AuthenticationError says nothing more.
	_, err = dialSASL(ts.addr, sasl.Mechanism(rawMech{"PLAIN", []byte("no nul bytes")}), nil)
	if err == nil || !strings.Contains(err.Error(), "Authentication failed during authentication due to invalid credentials with SASL mechanism PLAIN") {
		t.Fatalf("garbage token: %v", err)
	}
	if ok, failed := ts.AuthStats(); ok != 1 || failed != 2 {
		t.Errorf("AuthStats = %d succeeded, %d failed; want 1, 2", ok, failed)
	}
}

// rawMech sends one fixed token.
type rawMech struct {
	name  string
	token []byte
}

func (m rawMech) Name() string { return m.name }
func (m rawMech) Authenticate(context.Context, string) (sasl.Session, []byte, error) {
	return rawSession{}, m.token, nil
}

type rawSession struct{}

func (rawSession) Challenge([]byte) (bool, []byte, error) { return true, nil, nil }

func handshakeFrame(version int16, mechanism string, corr int32) []byte {
	r := kmsg.NewPtrSASLHandshakeRequest()
	r.SetVersion(version)
	r.Mechanism = mechanism
	return AppendRequest(nil, r, corr, strp("raw"))
}

func authenticateFrame(version int16, token []byte, corr int32) []byte {
	r := kmsg.NewPtrSASLAuthenticateRequest()
	r.SetVersion(version)
	r.SASLAuthBytes = token
	return AppendRequest(nil, r, corr, strp("raw"))
}

func sizePrefixed(b []byte) []byte {
	return append(binary.BigEndian.AppendUint32(nil, uint32(len(b))), b...)
}

// TestSASLHandshakeV0Raw: after SaslHandshake v0 the tokens travel as raw size-prefixed
// frames, as kafka-python sends them; PLAIN's answer is an empty frame, and a wrong password
// closes the connection without an answer.
func TestSASLHandshakeV0Raw(t *testing.T) {
	ts := startServerWith(t, newTestHandler(), 0, nil, saslConfig(0))
	c := rawDial(t, ts.addr)
	rawWrite(t, c, handshakeFrame(0, "PLAIN", 1))
	if corr, body := rawRead(t, c); corr != 1 {
		t.Fatalf("handshake response correlation %d", corr)
	} else {
		r := kmsg.NewPtrSASLHandshakeResponse()
		r.SetVersion(0)
		if err := r.ReadFrom(body); err != nil || r.ErrorCode != 0 || strings.Join(r.SupportedMechanisms, ",") != "PLAIN,SCRAM-SHA-256" {
			t.Fatalf("handshake response %+v, %v", r, err)
		}
	}
	rawWrite(t, c, sizePrefixed([]byte("\x00alice\x00alice-secret")))
	var size [4]byte
	if _, err := io.ReadFull(c, size[:]); err != nil || binary.BigEndian.Uint32(size[:]) != 0 {
		t.Fatalf("PLAIN's raw answer: %v %x, want an empty frame", err, size)
	}
	rawWrite(t, c, AppendRequest(nil, metadataReq(12, "whoami"), 2, strp("raw")))
	_, body := rawRead(t, c)
	md := kmsg.NewPtrMetadataResponse()
	md.SetVersion(12)
	if err := md.ReadFrom(body[1:]); err != nil || *md.ClusterID != "User:alice" {
		t.Fatalf("metadata after raw authentication: %v %+v", err, md.ClusterID)
	}

	bad := rawDial(t, ts.addr)
	rawWrite(t, bad, handshakeFrame(0, "PLAIN", 1))
	rawRead(t, bad)
	rawWrite(t, bad, sizePrefixed([]byte("\x00alice\x00nope")))
	expectClosed(t, bad)
	waitFor(t, "the failure's log line", func() bool {
		return strings.Contains(ts.logs.String(), "failed SASL authentication with mechanism PLAIN")
	})
}

// TestSASLRefusals: before authentication only ApiVersions (once), SaslHandshake and
// SaslAuthenticate are accepted; a mechanism not enabled gets UNSUPPORTED_SASL_MECHANISM and
// the enabled list; an oversized or garbage frame closes the connection with a log line.
func TestSASLRefusals(t *testing.T) {
	ts := startServerWith(t, newTestHandler(), 0, nil, saslConfig(0))

	c := rawDial(t, ts.addr)
	rawWrite(t, c, AppendRequest(nil, metadataReq(12, "x"), 1, strp("early")))
	expectClosed(t, c)

	c = rawDial(t, ts.addr)
	rawWrite(t, c, handshakeFrame(1, "GSSAPI", 1))
	_, body := rawRead(t, c)
	r := kmsg.NewPtrSASLHandshakeResponse()
	r.SetVersion(1)
	if err := r.ReadFrom(body); err != nil || r.ErrorCode != kerr.UnsupportedSaslMechanism.Code || strings.Join(r.SupportedMechanisms, ",") != "PLAIN,SCRAM-SHA-256" {
		t.Fatalf("GSSAPI handshake answered %+v, %v", r, err)
	}
	expectClosed(t, c)

	c = rawDial(t, ts.addr)
	av := kmsg.NewPtrApiVersionsRequest()
	av.SetVersion(3)
	av.ClientSoftwareName, av.ClientSoftwareVersion = "t", "1"
	rawWrite(t, c, AppendRequest(nil, av, 1, strp("v")))
	if corr, _ := rawRead(t, c); corr != 1 {
		t.Fatalf("ApiVersions before the handshake: correlation %d", corr)
	}
	rawWrite(t, c, AppendRequest(nil, av, 2, strp("v"))) // a second one: Kafka's HANDSHAKE_REQUEST state refuses it
	expectClosed(t, c)

	c = rawDial(t, ts.addr)
	rawWrite(t, c, handshakeFrame(1, "PLAIN", 1))
	rawRead(t, c)
	rawWrite(t, c, authenticateFrame(1, bytes.Repeat([]byte("x"), 2000), 2)) // over MaxReceiveSize 1024
	expectClosed(t, c)

	c = rawDial(t, ts.addr)
	rawWrite(t, c, sizePrefixed([]byte("\xff\xfe this is no request header at all")))
	expectClosed(t, c)

	c = rawDial(t, ts.addr)
	rawWrite(t, c, handshakeFrame(1, "PLAIN", 1))
	rawRead(t, c)
	rawWrite(t, c, AppendRequest(nil, metadataReq(12, "x"), 2, strp("mid"))) // not SaslAuthenticate
	expectClosed(t, c)

	logs := ts.logs.String()
	for _, want := range []string{
		"unexpected Kafka request of type Metadata during SASL handshake",
		`the client asked for SASL mechanism \"GSSAPI\"`,
		"a frame during SASL authentication is larger than sasl.server.max.receive.size",
		"size 2",
		"not a Kafka request during SASL authentication",
		"unexpected Kafka request of type Metadata during SASL authentication",
	} {
		if !strings.Contains(logs, want) {
			t.Errorf("no log line with %q in:\n%s", want, logs)
		}
	}
	if _, failed := ts.AuthStats(); failed != 6 {
		t.Errorf("%d failed authentications counted, want 6", failed)
	}
}

// TestSASLReauthentication: KIP-368. The broker grants connections.max.reauth.ms; a client
// that authenticated with SaslAuthenticate v1 authenticates again on the same connection
// before the session ends and carries on; one that used v0 is disconnected at its first
// request after the end; a re-authentication may not change the principal.
func TestSASLReauthentication(t *testing.T) {
	const lifetime = 300 * time.Millisecond
	ts := startServerWith(t, newTestHandler(), 0, nil, saslConfig(lifetime))
	c, err := dialSASL(ts.addr, plain.Auth{User: "bob", Pass: "bob-secret"}.AsMechanism(), nil)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	deadline := time.Now().Add(4 * lifetime)
	for i := 0; time.Now().Before(deadline); i++ {
		if p := whoami(t, c); p != "User:bob" {
			t.Fatalf("request %d: principal %q", i, p)
		}
		time.Sleep(20 * time.Millisecond) // pacing the requests across several sessions
	}
	if ok, _ := ts.AuthStats(); ok < 3 {
		t.Errorf("%d authentications over 4 session lifetimes, want at least 3 (re-authentication)", ok)
	}

	// SaslAuthenticate v0: no KIP-368, so the broker closes the connection once the session
	// is over and a request arrives.
	raw := rawDial(t, ts.addr)
	rawWrite(t, raw, handshakeFrame(1, "PLAIN", 1))
	rawRead(t, raw)
	rawWrite(t, raw, authenticateFrame(0, []byte("\x00alice\x00alice-secret"), 2))
	rawRead(t, raw)
	rawWrite(t, raw, AppendRequest(nil, metadataReq(12, "whoami"), 3, strp("raw")))
	rawRead(t, raw)
	time.Sleep(lifetime + 50*time.Millisecond) // let the session end
	rawWrite(t, raw, AppendRequest(nil, metadataReq(12, "whoami"), 4, strp("raw")))
	expectClosed(t, raw)
	waitFor(t, "the expiry log line", func() bool { return strings.Contains(ts.logs.String(), "the SASL session expired") })

	// A different user on re-authentication: refused, the connection closes.
	var calls atomic.Int32
	m := plain.Plain(func(context.Context) (plain.Auth, error) {
		if calls.Add(1) == 1 {
			return plain.Auth{User: "alice", Pass: "alice-secret"}, nil
		}
		return plain.Auth{User: "bob", Pass: "bob-secret"}, nil
	})
	sw, err := dialSASL(ts.addr, m, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer sw.Close()
	time.Sleep(lifetime) // past 85% of the session: the next request re-authenticates
	ctx, cancel := context.WithTimeout(context.Background(), testTimeout)
	defer cancel()
	if _, err := sw.Request(ctx, metadataReq(12, "whoami")); err == nil || !strings.Contains(err.Error(), "Cannot change principals during re-authentication from User:alice: User:bob") {
		t.Fatalf("re-authentication as another user: %v", err)
	}
}

// testTLS makes a CA, a server certificate for 127.0.0.1 and a client certificate, in memory.
func testTLS(t *testing.T) (server, client *tls.Config) {
	t.Helper()
	newKey := func() *ecdsa.PrivateKey {
		k, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
		if err != nil {
			t.Fatal(err)
		}
		return k
	}
	caKey := newKey()
	caTmpl := &x509.Certificate{SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "wire test CA"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour), IsCA: true, BasicConstraintsValid: true,
		KeyUsage: x509.KeyUsageCertSign}
	caDER, err := x509.CreateCertificate(rand.Reader, caTmpl, caTmpl, &caKey.PublicKey, caKey)
	if err != nil {
		t.Fatal(err)
	}
	ca, _ := x509.ParseCertificate(caDER)
	issue := func(serial int64, cn string, usage x509.ExtKeyUsage) tls.Certificate {
		k := newKey()
		tmpl := &x509.Certificate{SerialNumber: big.NewInt(serial), Subject: pkix.Name{CommonName: cn},
			NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour),
			ExtKeyUsage: []x509.ExtKeyUsage{usage}, IPAddresses: []net.IP{net.ParseIP("127.0.0.1")}}
		der, err := x509.CreateCertificate(rand.Reader, tmpl, ca, &k.PublicKey, caKey)
		if err != nil {
			t.Fatal(err)
		}
		return tls.Certificate{Certificate: [][]byte{der}, PrivateKey: k}
	}
	pool := x509.NewCertPool()
	pool.AddCert(ca)
	server = &tls.Config{Certificates: []tls.Certificate{issue(2, "broker", x509.ExtKeyUsageServerAuth)},
		ClientCAs: pool, ClientAuth: tls.VerifyClientCertIfGiven}
	client = &tls.Config{RootCAs: pool, ServerName: "127.0.0.1",
		Certificates: []tls.Certificate{issue(3, "client-1", x509.ExtKeyUsageClientAuth)}}
	return server, client
}

// TestTLSListener: the handshake comes first; the principal is the client certificate's
// subject; a plaintext client on the TLS listener and a TLS client on a plaintext one are each
// closed with a log line saying so.
func TestTLSListener(t *testing.T) {
	srvTLS, cliTLS := testTLS(t)
	ts := startServerWith(t, newTestHandler(), 0, nil, func(c *ServerConfig) {
		c.ListenerName = "SSL"
		c.TLS = srvTLS
		c.TLSPrincipal = func(cs tls.ConnectionState) (string, error) {
			if len(cs.PeerCertificates) == 0 {
				return AnonymousPrincipal, nil
			}
			return "User:CN=" + cs.PeerCertificates[0].Subject.CommonName, nil
		}
	})
	c, err := dialSASL(ts.addr, nil, cliTLS)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	if p := whoami(t, c); p != "User:CN=client-1" {
		t.Errorf("principal %q", p)
	}
	anon := cliTLS.Clone()
	anon.Certificates = nil
	c2, err := dialSASL(ts.addr, nil, anon)
	if err != nil {
		t.Fatal(err)
	}
	defer c2.Close()
	if p := whoami(t, c2); p != AnonymousPrincipal {
		t.Errorf("principal without a certificate %q", p)
	}

	pt := rawDial(t, ts.addr)
	rawWrite(t, pt, AppendRequest(nil, metadataReq(12, "x"), 1, strp("plaintext")))
	expectClosed(t, pt)
	waitFor(t, "the plaintext-on-TLS log line", func() bool {
		return strings.Contains(ts.logs.String(), "the client did not begin a TLS handshake on TLS listener SSL")
	})

	plainSrv := startServer(t, newTestHandler(), 0)
	ctx, cancel := context.WithTimeout(context.Background(), testTimeout)
	defer cancel()
	if _, err := DialWith(ctx, plainSrv.addr, "tls", DialOptions{TLS: cliTLS}); err == nil {
		t.Fatal("a TLS handshake with a plaintext listener succeeded")
	}
	waitFor(t, "the TLS-on-plaintext log line", func() bool {
		return strings.Contains(plainSrv.logs.String(), "the client began a TLS handshake on plaintext listener PLAINTEXT")
	})
	if ok, failed := ts.AuthStats(); ok != 2 || failed != 1 {
		t.Errorf("AuthStats = %d, %d; want 2 succeeded, 1 failed", ok, failed)
	}
}

// TestSASLOverTLS: SASL_SSL, the SASL principal is the connection's, not the certificate's.
func TestSASLOverTLS(t *testing.T) {
	srvTLS, cliTLS := testTLS(t)
	ts := startServerWith(t, newTestHandler(), 0, nil, func(c *ServerConfig) {
		saslConfig(0)(c)
		c.ListenerName = "SASL_SSL"
		c.TLS = srvTLS
	})
	c, err := dialSASL(ts.addr, plain.Auth{User: "alice", Pass: "alice-secret"}.AsMechanism(), cliTLS)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	if p := whoami(t, c); p != "User:alice" {
		t.Errorf("principal %q", p)
	}
}

// FuzzSASLExchange writes arbitrary bytes to a SASL listener as a client's whole stream and
// reads whatever comes back until the server closes: the authentication state machine must
// never panic nor hang, whatever frames, sizes and tokens arrive.
func FuzzSASLExchange(f *testing.F) {
	f.Add(append(handshakeFrame(1, "PLAIN", 1), authenticateFrame(1, []byte("\x00alice\x00alice-secret"), 2)...))
	f.Add(append(handshakeFrame(0, "PLAIN", 1), sizePrefixed([]byte("\x00alice\x00nope"))...))
	f.Add(append(handshakeFrame(1, "SCRAM-SHA-256", 1), authenticateFrame(2, []byte("n,,n=u,r=x"), 2)...))
	f.Add(handshakeFrame(1, "GSSAPI", 7))
	f.Add([]byte{0x16, 0x03, 0x01, 0x00, 0x10})
	f.Add([]byte{0, 0, 0, 3, 0, 17, 0})
	ts := startServerWith(f, newTestHandler(), 0, nil, func(c *ServerConfig) {
		saslConfig(time.Second)(c)
		c.SASL.FailureDelay = 0
	})
	f.Fuzz(func(t *testing.T, stream []byte) {
		c, err := net.DialTimeout("tcp", ts.addr, testTimeout)
		if err != nil {
			t.Fatal(err)
		}
		defer c.Close()
		c.SetDeadline(time.Now().Add(testTimeout))
		if _, err := c.Write(stream); err != nil {
			return // the server closed first
		}
		c.(*net.TCPConn).CloseWrite()
		if _, err := io.Copy(io.Discard, c); isTimeout(err) {
			t.Fatalf("the server neither answered nor closed within %v", testTimeout)
		}
	})
}
