package security

import (
	"bytes"
	"crypto/sha256"
	"crypto/tls"
	"crypto/x509"
	"encoding/pem"
	"errors"
	"fmt"
	"net"
	"os"
	"strings"
	"sync"
	"time"

	"github.com/klassik/klassik/conf"
)

// maxPEMFile bounds a keystore or truststore file read from disk.
const maxPEMFile = 16 << 20

// TLSStore holds one listener's TLS material (its keystore and truststore, KIP-651 PEM) and
// the tls.Configs made from it. Reload reads the files again when they changed; connections
// accepted after that use the new material, established ones keep theirs (as Kafka's dynamic
// keystore update). Safe for concurrent use.
type TLSStore struct {
	listener string
	s        conf.SSLSettings

	mu     sync.Mutex // guards the fields below
	cert   *tls.Certificate
	pool   *x509.CertPool // nil: no truststore (client certificates checked against the system's CAs)
	stamps []fileStamp    // of the files read, to notice a change
	server *tls.Config
}

// fileStamp identifies one version of a file: its size, modification time and a digest of
// its content (a copy that keeps the time still differs).
type fileStamp struct {
	path   string
	size   int64
	mod    time.Time
	digest [32]byte
}

// NewTLSStore loads listener's keystore and truststore; errors name the property to fix.
func NewTLSStore(listener string, s conf.SSLSettings) (*TLSStore, error) {
	st := &TLSStore{listener: listener, s: s}
	if _, err := st.load(); err != nil {
		return nil, err
	}
	return st, nil
}

// Reload reads the keystore and truststore files again if one of them changed since the last
// load. It reports whether new material is now in use; on error the old material stays.
func (st *TLSStore) Reload() (bool, error) {
	st.mu.Lock()
	stamps := st.stamps
	st.mu.Unlock()
	changed := false
	for _, f := range stamps {
		now, err := stampOf(f.path)
		if err != nil || now.size != f.size || !now.mod.Equal(f.mod) || now.digest != f.digest {
			changed = true
			break
		}
	}
	if !changed {
		return false, nil
	}
	return st.load()
}

func (st *TLSStore) load() (bool, error) {
	var stamps []fileStamp
	cert, err := loadKeystore(st.s, &stamps)
	if err != nil {
		return false, err
	}
	pool, err := loadTruststore(st.s, &stamps)
	if err != nil {
		return false, err
	}
	server, err := st.serverConfig(cert, pool)
	if err != nil {
		return false, err
	}
	st.mu.Lock()
	st.cert, st.pool, st.stamps, st.server = cert, pool, stamps, server
	st.mu.Unlock()
	return true, nil
}

// Leaf is the current certificate (for logs: its subject and expiry).
func (st *TLSStore) Leaf() *x509.Certificate {
	st.mu.Lock()
	defer st.mu.Unlock()
	return st.cert.Leaf
}

// ServerConfig is the listener's server side: every handshake takes the material current at
// its start.
func (st *TLSStore) ServerConfig() *tls.Config {
	return &tls.Config{
		GetConfigForClient: func(*tls.ClientHelloInfo) (*tls.Config, error) {
			st.mu.Lock()
			defer st.mu.Unlock()
			return st.server, nil
		},
	}
}

func (st *TLSStore) serverConfig(cert *tls.Certificate, pool *x509.CertPool) (*tls.Config, error) {
	cfg := &tls.Config{Certificates: []tls.Certificate{*cert}, ClientCAs: pool}
	switch st.s.ClientAuth {
	case "required":
		cfg.ClientAuth = tls.RequireAndVerifyClientCert
	case "requested":
		cfg.ClientAuth = tls.VerifyClientCertIfGiven
	default:
		cfg.ClientAuth = tls.NoClientCert
	}
	if err := applyVersions(cfg, st.s); err != nil {
		return nil, err
	}
	return cfg, nil
}

// ClientConfig is the broker's client side towards serverName on this listener (the
// inter-broker listener): it trusts the truststore (the system's CAs without one), presents the
// keystore's certificate when asked (mutual TLS), and checks the server's name unless
// ssl.endpoint.identification.algorithm is "".
func (st *TLSStore) ClientConfig(serverName string) (*tls.Config, error) {
	st.mu.Lock()
	cert, pool := st.cert, st.pool
	st.mu.Unlock()
	cfg := &tls.Config{RootCAs: pool, Certificates: []tls.Certificate{*cert}, ServerName: serverName}
	if err := applyVersions(cfg, st.s); err != nil {
		return nil, err
	}
	if st.s.EndpointIdentificationAlgorithm == "" {
		// The chain is still checked, only not the name: Go's InsecureSkipVerify turns off
		// both, so the chain is verified here.
		cfg.InsecureSkipVerify = true
		cfg.VerifyConnection = func(cs tls.ConnectionState) error { return verifyChain(cs, pool) }
	}
	return cfg, nil
}

func verifyChain(cs tls.ConnectionState, roots *x509.CertPool) error {
	if len(cs.PeerCertificates) == 0 {
		return errors.New("the server sent no certificate")
	}
	inter := x509.NewCertPool()
	for _, c := range cs.PeerCertificates[1:] {
		inter.AddCert(c)
	}
	_, err := cs.PeerCertificates[0].Verify(x509.VerifyOptions{Roots: roots, Intermediates: inter})
	return err
}

// tlsVersions maps ssl.enabled.protocols' names to Go's versions.
var tlsVersions = map[string]uint16{"TLSv1": tls.VersionTLS10, "TLSv1.1": tls.VersionTLS11, "TLSv1.2": tls.VersionTLS12, "TLSv1.3": tls.VersionTLS13}

// applyVersions sets the range of ssl.enabled.protocols and the ssl.cipher.suites.
func applyVersions(cfg *tls.Config, s conf.SSLSettings) error {
	for _, p := range s.EnabledProtocols {
		v, ok := tlsVersions[p]
		if !ok {
			return fmt.Errorf("%s: %q is not a TLS version (TLSv1.2, TLSv1.3)", s.Source("ssl.enabled.protocols"), p)
		}
		if cfg.MinVersion == 0 || v < cfg.MinVersion {
			cfg.MinVersion = v
		}
		cfg.MaxVersion = max(cfg.MaxVersion, v)
	}
	if len(s.CipherSuites) == 0 {
		return nil
	}
	byName := map[string]uint16{}
	for _, cs := range append(tls.CipherSuites(), tls.InsecureCipherSuites()...) {
		byName[cs.Name] = cs.ID
	}
	for _, name := range s.CipherSuites {
		id, ok := byName[name]
		if !ok {
			return fmt.Errorf("%s: %q is not a cipher suite Go implements (IANA names, e.g. TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256)", s.Source("ssl.cipher.suites"), name)
		}
		cfg.CipherSuites = append(cfg.CipherSuites, id)
	}
	return nil
}

// loadKeystore reads the private key and certificate chain: one PEM file
// (ssl.keystore.location) or the inline ssl.keystore.key and ssl.keystore.certificate.chain.
func loadKeystore(s conf.SSLSettings, stamps *[]fileStamp) (*tls.Certificate, error) {
	if s.KeystoreType != "PEM" {
		return nil, fmt.Errorf(`%s = %q: klassik reads only PEM keystores (KIP-651)`, s.Source("ssl.keystore.type"), s.KeystoreType)
	}
	var keyPEM, chainPEM []byte
	where := s.Source("ssl.keystore.location")
	if s.KeystoreLocation != "" {
		data, err := readPEMFile(s.KeystoreLocation, stamps)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", where, err)
		}
		keyPEM, chainPEM = data, data
	} else {
		where = s.Source("ssl.keystore.key") + " and " + s.Source("ssl.keystore.certificate.chain")
		keyPEM, chainPEM = []byte(s.KeystoreKey), []byte(s.KeystoreCertificateChain)
	}
	if hasBlock(keyPEM, "ENCRYPTED PRIVATE KEY") {
		return nil, fmt.Errorf("%s: the private key is encrypted; klassik reads only unencrypted PEM keys (openssl pkey -in key.pem -out key-plain.pem)", where)
	}
	cert, err := tls.X509KeyPair(chainPEM, keyPEM)
	if err != nil {
		return nil, fmt.Errorf("%s: %v (want a PEM private key and the PEM certificate chain, the broker's certificate first)", where, err)
	}
	return &cert, nil
}

// loadTruststore reads the trusted CA certificates, or returns nil when none are configured.
func loadTruststore(s conf.SSLSettings, stamps *[]fileStamp) (*x509.CertPool, error) {
	var data []byte
	where := s.Source("ssl.truststore.location")
	switch {
	case s.TruststoreLocation != "":
		var err error
		if data, err = readPEMFile(s.TruststoreLocation, stamps); err != nil {
			return nil, fmt.Errorf("%s: %w", where, err)
		}
	case s.TruststoreCertificates != "":
		where = s.Source("ssl.truststore.certificates")
		data = []byte(s.TruststoreCertificates)
	default:
		return nil, nil
	}
	if s.TruststoreType != "PEM" {
		return nil, fmt.Errorf(`%s = %q: klassik reads only PEM truststores (KIP-651)`, s.Source("ssl.truststore.type"), s.TruststoreType)
	}
	pool := x509.NewCertPool()
	n := 0
	for rest := data; ; {
		var b *pem.Block
		if b, rest = pem.Decode(rest); b == nil {
			break
		}
		if b.Type != "CERTIFICATE" {
			continue
		}
		c, err := x509.ParseCertificate(b.Bytes)
		if err != nil {
			return nil, fmt.Errorf("%s: certificate %d: %v", where, n+1, err)
		}
		pool.AddCert(c)
		n++
	}
	if n == 0 {
		return nil, fmt.Errorf("%s: no PEM certificate (-----BEGIN CERTIFICATE-----) found", where)
	}
	return pool, nil
}

func readPEMFile(path string, stamps *[]fileStamp) ([]byte, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	fi, err := f.Stat()
	if err != nil {
		return nil, err
	}
	if fi.Size() > maxPEMFile {
		return nil, fmt.Errorf("%d bytes is more than a PEM keystore or truststore holds (the limit is %d)", fi.Size(), maxPEMFile)
	}
	var buf bytes.Buffer
	if _, err := buf.ReadFrom(f); err != nil {
		return nil, err
	}
	data := buf.Bytes()
	*stamps = append(*stamps, fileStamp{path: path, size: fi.Size(), mod: fi.ModTime(), digest: sha256.Sum256(data)})
	return data, nil
}

func stampOf(path string) (fileStamp, error) {
	fi, err := os.Stat(path)
	if err != nil {
		return fileStamp{}, err
	}
	if fi.Size() > maxPEMFile {
		return fileStamp{path: path, size: fi.Size(), mod: fi.ModTime()}, nil
	}
	data, err := os.ReadFile(path)
	if err != nil {
		return fileStamp{}, err
	}
	return fileStamp{path: path, size: fi.Size(), mod: fi.ModTime(), digest: sha256.Sum256(data)}, nil
}

func hasBlock(data []byte, typ string) bool {
	for rest := data; ; {
		var b *pem.Block
		if b, rest = pem.Decode(rest); b == nil {
			return false
		}
		if b.Type == typ {
			return true
		}
	}
}

// DialHost is the host part of addr ("host:port"), the name a TLS client checks.
func DialHost(addr string) string {
	host, _, err := net.SplitHostPort(addr)
	if err != nil {
		return addr
	}
	return strings.Trim(host, "[]")
}
