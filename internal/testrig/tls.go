package testrig

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
	"testing"
	"time"
)

// certLifetime is how long the rig's certificates are valid: longer than
// any test, short enough that none is worth keeping.
const certLifetime = 2 * time.Hour

// CA is a certificate authority made for one test, for servers that must
// speak https as the stores people proxy to do (R2 and S3 are https only).
// Nothing outside the test trusts it.
type CA struct {
	// CertPEM is the CA's certificate, PEM-encoded.
	CertPEM []byte
	// CertFile is a file holding CertPEM, for programs that take a trust
	// store as a path: Caddy's `tls_trust_pool file <path>`, or
	// SSL_CERT_FILE for Go programs.
	CertFile string
	// Pool holds the CA's certificate, for Go clients.
	Pool *x509.CertPool

	cert *x509.Certificate
	key  *ecdsa.PrivateKey
}

// ServerCert is a server certificate and its key, signed by a CA.
type ServerCert struct {
	// CertPEM and KeyPEM are the certificate and its PKCS #8 private key,
	// PEM-encoded, as MinIO reads them from its certs directory.
	CertPEM, KeyPEM []byte
	// TLS is the pair for a Go server (tls.Config.Certificates).
	TLS tls.Certificate
}

// NewCA makes a CA with a fresh P-256 key.
func NewCA(t testing.TB) *CA {
	t.Helper()
	key := newKey(t)
	now := time.Now()
	tmpl := &x509.Certificate{
		SerialNumber:          randomSerial(t),
		Subject:               pkix.Name{CommonName: "bucketcors test CA " + randomHex(8)},
		NotBefore:             now.Add(-time.Minute),
		NotAfter:              now.Add(certLifetime),
		KeyUsage:              x509.KeyUsageCertSign | x509.KeyUsageCRLSign,
		BasicConstraintsValid: true,
		IsCA:                  true,
		MaxPathLenZero:        true,
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatalf("testrig: making a CA: %v", err)
	}
	cert, err := x509.ParseCertificate(der)
	if err != nil {
		t.Fatalf("testrig: %v", err)
	}
	ca := &CA{
		CertPEM:  pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}),
		CertFile: filepath.Join(t.TempDir(), "ca.pem"),
		Pool:     x509.NewCertPool(),
		cert:     cert,
		key:      key,
	}
	ca.Pool.AddCert(cert)
	if err := os.WriteFile(ca.CertFile, ca.CertPEM, 0o644); err != nil {
		t.Fatalf("testrig: %v", err)
	}
	return ca
}

// Issue makes a server certificate signed by the CA for names: host names
// (r2.test) and IP addresses (127.0.0.1), each a subject alternative name.
func (ca *CA) Issue(t testing.TB, names ...string) ServerCert {
	t.Helper()
	if len(names) == 0 {
		t.Fatal("testrig: Issue needs at least one name")
	}
	key := newKey(t)
	now := time.Now()
	tmpl := &x509.Certificate{
		SerialNumber: randomSerial(t),
		Subject:      pkix.Name{CommonName: names[0]},
		NotBefore:    now.Add(-time.Minute),
		NotAfter:     now.Add(certLifetime),
		KeyUsage:     x509.KeyUsageDigitalSignature,
		ExtKeyUsage:  []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
	}
	for _, n := range names {
		if ip := net.ParseIP(n); ip != nil {
			tmpl.IPAddresses = append(tmpl.IPAddresses, ip)
		} else {
			tmpl.DNSNames = append(tmpl.DNSNames, n)
		}
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, ca.cert, &key.PublicKey, ca.key)
	if err != nil {
		t.Fatalf("testrig: issuing a certificate for %v: %v", names, err)
	}
	keyDER, err := x509.MarshalPKCS8PrivateKey(key)
	if err != nil {
		t.Fatalf("testrig: %v", err)
	}
	sc := ServerCert{
		CertPEM: pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}),
		KeyPEM:  pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: keyDER}),
	}
	if sc.TLS, err = tls.X509KeyPair(sc.CertPEM, sc.KeyPEM); err != nil {
		t.Fatalf("testrig: %v", err)
	}
	return sc
}

// ClientConfig returns a TLS client config that trusts the CA and nothing
// else.
func (ca *CA) ClientConfig() *tls.Config {
	return &tls.Config{RootCAs: ca.Pool, MinVersion: tls.VersionTLS12}
}

func newKey(t testing.TB) *ecdsa.PrivateKey {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatalf("testrig: %v", err)
	}
	return key
}

func randomSerial(t testing.TB) *big.Int {
	t.Helper()
	n, err := rand.Int(rand.Reader, new(big.Int).Lsh(big.NewInt(1), 127))
	if err != nil {
		t.Fatalf("testrig: %v", err)
	}
	return n
}
