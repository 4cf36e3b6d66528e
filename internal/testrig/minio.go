package testrig

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/s3/types"
)

// How long MinIO may take to answer /minio/health/cluster, and to stop on
// SIGTERM before it is killed. It is ready in about half a second; the margin
// is for a loaded two-core machine running tests under -race.
const (
	minioReadyTimeout = 30 * time.Second
	minioStopGrace    = 10 * time.Second
)

// Credentials are the keys and region of an S3 endpoint.
type Credentials struct {
	AccessKey, SecretKey, Region string
}

// MinIO is a MinIO server on a loopback port with a fresh data directory and
// fresh root credentials.
type MinIO struct {
	// Endpoint is the S3 API's base URL, http://127.0.0.1:<port>, or
	// https://127.0.0.1:<port> with MinIOTLS.
	Endpoint string
	// AccessKey and SecretKey are the root user's; Region is us-east-1.
	AccessKey, SecretKey, Region string
	// Dir is the data directory.
	Dir string

	bin, addr, consoleAddr string
	logs                   logBuffer // output of every run, restarts included

	// certsDir is MinIO's --certs-dir when it serves https, and httpClient
	// the client of the rig's own requests, which trusts its CA.
	certsDir   string
	httpClient *http.Client

	mu   sync.Mutex
	proc *process // nil while stopped
}

// MinIOOption changes how StartMinIO runs MinIO.
type MinIOOption func(testing.TB, *MinIO)

// MinIOTLS has MinIO serve its S3 API over https only, with cert (from
// ca.Issue, for 127.0.0.1 and whatever names the test dials it by), as R2
// and S3 do. The rig's own requests (readiness, Client and the helpers
// built on it) trust ca.
func MinIOTLS(ca *CA, cert ServerCert) MinIOOption {
	return func(t testing.TB, m *MinIO) {
		t.Helper()
		// MinIO reads public.crt and private.key from its certs directory.
		m.certsDir = t.TempDir()
		for name, b := range map[string][]byte{"public.crt": cert.CertPEM, "private.key": cert.KeyPEM} {
			if err := os.WriteFile(filepath.Join(m.certsDir, name), b, 0o600); err != nil {
				t.Fatalf("testrig: %v", err)
			}
		}
		m.httpClient = &http.Client{Transport: &http.Transport{TLSClientConfig: ca.ClientConfig()}}
	}
}

// StartMinIO starts a MinIO server and waits until it is ready. It stops when
// the test ends.
func StartMinIO(t testing.TB, opts ...MinIOOption) *MinIO {
	t.Helper()
	m := &MinIO{
		AccessKey:  "rig" + randomHex(8),
		SecretKey:  randomHex(20),
		Region:     "us-east-1",
		Dir:        t.TempDir(),
		bin:        minioBinary(t),
		httpClient: &http.Client{},
	}
	for _, opt := range opts {
		opt(t, m)
	}
	scheme := "http://"
	if m.certsDir != "" {
		scheme = "https://"
	}
	t.Cleanup(func() {
		if m.exitedUnasked() {
			t.Errorf("testrig: MinIO %s exited during the test (not by Stop)", m.Endpoint)
		}
		m.stop()
		if t.Failed() {
			t.Logf("MinIO %s output:\n%s", m.Endpoint, m.logs.String())
		}
	})
	// The port can be taken between FreePort and MinIO's bind by another test
	// binary's FreePort; try another then.
	for attempt := 1; ; attempt++ {
		m.addr, m.consoleAddr = pickAddr(t), pickAddr(t)
		m.Endpoint = scheme + m.addr
		err := m.start()
		if err == nil {
			return m
		}
		if attempt < 3 && errors.Is(err, errExited) && portTaken(m.logs.String()) {
			continue
		}
		t.Fatalf("testrig: starting MinIO: %v\n%s", err, m.logs.String())
	}
}

// Stop stops the server (SIGTERM, then kill after a grace period), keeping
// its data directory and address for Start.
func (m *MinIO) Stop(t testing.TB) {
	t.Helper()
	m.stop()
}

// Start starts the server again after Stop, on the same address and data
// directory, and waits until it is ready.
func (m *MinIO) Start(t testing.TB) {
	t.Helper()
	if err := m.start(); err != nil {
		t.Fatalf("testrig: restarting MinIO: %v\n%s", err, m.logs.String())
	}
}

// Logs returns what MinIO has written so far, over all its runs.
func (m *MinIO) Logs() string { return m.logs.String() }

func (m *MinIO) start() error {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.proc != nil && !m.proc.exited() {
		return fmt.Errorf("MinIO %s is already running", m.Endpoint)
	}
	env := withoutPrefix(os.Environ(), "MINIO_")
	env = append(env,
		"MINIO_ROOT_USER="+m.AccessKey,
		"MINIO_ROOT_PASSWORD="+m.SecretKey,
		"MINIO_REGION="+m.Region,
		"MINIO_BROWSER=off",         // no console
		"MINIO_UPDATE=off",          // no update check at start
		"MINIO_CALLHOME_ENABLE=off", // no call-home
		// CI mode: a 256 MiB buffer pool instead of half the machine's
		// memory, and no root-disk check on the temp directory. CI sets
		// CI=true, which does the same; this makes local runs alike.
		"MINIO_CI_CD=on",
	)
	args := []string{"server", m.Dir, "--address", m.addr, "--console-address", m.consoleAddr}
	if m.certsDir != "" {
		args = append(args, "--certs-dir", m.certsDir)
	}
	p, err := startProcess("MinIO", &m.logs, m.bin, args, env, m.Dir)
	if err != nil {
		return err
	}
	client := &http.Client{Transport: m.httpClient.Transport, Timeout: 2 * time.Second}
	// /minio/health/ready answers 200 as soon as the HTTP server is up, while
	// S3 calls still fail with XMinioServerNotInitialized; the cluster check
	// answers 200 once the object layer, bucket metadata and IAM are
	// initialized, when S3 calls work.
	err = p.waitFor(minioReadyTimeout, func() bool {
		resp, err := client.Get(m.Endpoint + "/minio/health/cluster")
		if err != nil {
			return false
		}
		resp.Body.Close()
		return resp.StatusCode == http.StatusOK
	})
	if err != nil {
		p.stop(minioStopGrace)
		return err
	}
	m.proc = p
	return nil
}

// exitedUnasked reports whether the server, once ready, has exited without
// a Stop: a crash that the test should hear of.
func (m *MinIO) exitedUnasked() bool {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.proc != nil && m.proc.exited()
}

func (m *MinIO) stop() {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.proc != nil {
		m.proc.stop(minioStopGrace)
		m.proc = nil
	}
}

// Credentials returns the root credentials, for AWS.
func (m *MinIO) Credentials() Credentials {
	return Credentials{AccessKey: m.AccessKey, SecretKey: m.SecretKey, Region: m.Region}
}

// Client returns an S3 client of the server: path-style, root credentials,
// region us-east-1. Options can change it, for example to send it through
// Caddy: func(o *s3.Options) { o.BaseEndpoint = aws.String(caddyURL) }.
func (m *MinIO) Client(t testing.TB, optFns ...func(*s3.Options)) *s3.Client {
	t.Helper()
	o := s3.Options{
		Region:       m.Region,
		BaseEndpoint: aws.String(m.Endpoint),
		UsePathStyle: true,
		Credentials:  credentials.NewStaticCredentialsProvider(m.AccessKey, m.SecretKey, ""),
	}
	if m.certsDir != "" {
		o.HTTPClient = m.httpClient
	}
	return s3.New(o, optFns...)
}

// s3Timeout bounds each call of the helpers below.
const s3Timeout = 30 * time.Second

// CreateBucket creates a bucket.
func (m *MinIO) CreateBucket(t testing.TB, name string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), s3Timeout)
	defer cancel()
	if _, err := m.Client(t).CreateBucket(ctx, &s3.CreateBucketInput{Bucket: aws.String(name)}); err != nil {
		t.Fatalf("testrig: creating bucket %q: %v", name, err)
	}
}

// PutObject stores an object; contentType may be empty.
func (m *MinIO) PutObject(t testing.TB, bucket, key string, body []byte, contentType string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), s3Timeout)
	defer cancel()
	in := &s3.PutObjectInput{Bucket: aws.String(bucket), Key: aws.String(key), Body: bytes.NewReader(body)}
	if contentType != "" {
		in.ContentType = aws.String(contentType)
	}
	if _, err := m.Client(t).PutObject(ctx, in); err != nil {
		t.Fatalf("testrig: putting %s/%s: %v", bucket, key, err)
	}
}

// GetObject returns an object's body, and false when there is no such key.
func (m *MinIO) GetObject(t testing.TB, bucket, key string) ([]byte, bool) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), s3Timeout)
	defer cancel()
	out, err := m.Client(t).GetObject(ctx, &s3.GetObjectInput{Bucket: aws.String(bucket), Key: aws.String(key)})
	if err != nil {
		var nsk *types.NoSuchKey
		if errors.As(err, &nsk) {
			return nil, false
		}
		t.Fatalf("testrig: getting %s/%s: %v", bucket, key, err)
	}
	defer out.Body.Close()
	body, err := io.ReadAll(out.Body)
	if err != nil {
		t.Fatalf("testrig: reading %s/%s: %v", bucket, key, err)
	}
	return body, true
}

// portTaken reports whether MinIO's output says that its port is in use.
func portTaken(output string) bool {
	return strings.Contains(output, "port is already in use") || // MinIO's words
		strings.Contains(output, "address already in use")
}

// withoutPrefix returns env without the variables whose names start with
// prefix, so that settings of the person running the tests do not leak in.
func withoutPrefix(env []string, prefix string) []string {
	var out []string
	for _, kv := range env {
		if !strings.HasPrefix(kv, prefix) {
			out = append(out, kv)
		}
	}
	return out
}

func randomHex(n int) string {
	b := make([]byte, n)
	if _, err := rand.Read(b); err != nil {
		panic(err)
	}
	return hex.EncodeToString(b)[:n]
}
