// Certificates for TLS tests: a CA made for the test with crypto/x509, and PEM files for
// brokers (a KIP-651 keystore: the key and the chain in one file) and clients, as an operator
// makes them with openssl.

package integration

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"math/big"
	"net"
	"os"
	"path/filepath"
	"sync/atomic"
	"testing"
	"time"
)

// TestCA is a certificate authority of one test, with its certificate in a PEM file (a
// truststore).
type TestCA struct {
	Cert    *x509.Certificate
	key     *ecdsa.PrivateKey
	PEMPath string // the CA certificate as a PEM truststore
	dir     string
}

var certSerial atomic.Int64

// NewTestCA makes a CA named cn; its files go in dir.
func NewTestCA(t testing.TB, dir, cn string) *TestCA {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(certSerial.Add(1)), Subject: pkix.Name{CommonName: cn, Organization: []string{"klassik integration"}},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(24 * time.Hour),
		IsCA: true, BasicConstraintsValid: true, KeyUsage: x509.KeyUsageCertSign | x509.KeyUsageCRLSign,
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	cert, _ := x509.ParseCertificate(der)
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	ca := &TestCA{Cert: cert, key: key, dir: dir, PEMPath: filepath.Join(dir, "ca-"+cn+".pem")}
	writePEM(t, ca.PEMPath, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}))
	return ca
}

// Issued is a certificate the CA signed, in PEM files.
type Issued struct {
	KeystorePath string // the private key and the chain in one file (KIP-651's keystore)
	KeyPath      string // the private key alone
	CertPath     string // the certificate, then the CA's (the chain)
	TLS          tls.Certificate
}

// Issue signs a certificate for subject, valid for 127.0.0.1 and localhost, as both server
// and client.
func (ca *TestCA) Issue(t testing.TB, name string, subject pkix.Name) Issued {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(certSerial.Add(1)), Subject: subject,
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(24 * time.Hour),
		KeyUsage:    x509.KeyUsageDigitalSignature,
		ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth, x509.ExtKeyUsageClientAuth},
		IPAddresses: []net.IP{net.ParseIP("127.0.0.1")}, DNSNames: []string{"localhost"},
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, ca.Cert, &key.PublicKey, ca.key)
	if err != nil {
		t.Fatal(err)
	}
	kder, err := x509.MarshalPKCS8PrivateKey(key)
	if err != nil {
		t.Fatal(err)
	}
	keyPEM := pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: kder})
	chain := append(pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}),
		pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: ca.Cert.Raw})...)
	is := Issued{
		KeystorePath: filepath.Join(ca.dir, name+"-keystore.pem"),
		KeyPath:      filepath.Join(ca.dir, name+"-key.pem"),
		CertPath:     filepath.Join(ca.dir, name+"-cert.pem"),
	}
	writePEM(t, is.KeystorePath, append(append([]byte{}, keyPEM...), chain...))
	writePEM(t, is.KeyPath, keyPEM)
	writePEM(t, is.CertPath, chain)
	if is.TLS, err = tls.X509KeyPair(chain, keyPEM); err != nil {
		t.Fatal(err)
	}
	return is
}

// Pool is a cert pool holding the CA, for a Go client's RootCAs.
func (ca *TestCA) Pool() *x509.CertPool {
	p := x509.NewCertPool()
	p.AddCert(ca.Cert)
	return p
}

// writePEM writes through a temporary file and a rename, as a deployment tool replaces a
// certificate: a broker reloading it never reads half a file.
func writePEM(t testing.TB, path string, data []byte) {
	t.Helper()
	tmp := path + ".tmp"
	if err := os.WriteFile(tmp, data, 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.Rename(tmp, path); err != nil {
		t.Fatal(err)
	}
}

// Dir is the cluster's directory (configs, logs, data; certificates of TLS tests).
func (c *Cluster) Dir() string { return c.dir }
