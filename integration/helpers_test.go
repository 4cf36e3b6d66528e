// Package integration tests bucketcors end to end: a Caddy built with the
// module in front of a real MinIO, reached by real clients (aws-sdk-go-v2,
// net/http and headless Chromium, whose own CORS enforcement decides every
// browser case). The programs come from internal/testrig.
package integration

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"slices"
	"sort"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"

	"github.com/bucketcors/bucketcors/internal/testrig"
)

// callTimeout bounds one request of a test, and one SDK call.
const callTimeout = 30 * time.Second

// hostPort is the host:port of a base URL such as MinIO's endpoint.
func hostPort(t testing.TB, baseURL string) string {
	t.Helper()
	u, err := url.Parse(baseURL)
	if err != nil || u.Host == "" {
		t.Fatalf("not a base URL: %q", baseURL)
	}
	return u.Host
}

// sdkCtx returns a context for one SDK call.
func sdkCtx(t testing.TB) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), callTimeout)
	t.Cleanup(cancel)
	return ctx
}

// clientVia returns an S3 client with MinIO's root credentials and the
// SDK's defaults whose endpoint is baseURL: requests are signed for
// baseURL's host and sent there.
func clientVia(t testing.TB, m *testrig.MinIO, baseURL string) *s3.Client {
	t.Helper()
	return m.Client(t, func(o *s3.Options) { o.BaseEndpoint = aws.String(baseURL) })
}

// presignGet returns a presigned GET URL of bucket/key, signed for baseURL's
// host.
func presignGet(t testing.TB, m *testrig.MinIO, baseURL, bucket, key string) string {
	t.Helper()
	req, err := s3.NewPresignClient(clientVia(t, m, baseURL)).PresignGetObject(sdkCtx(t),
		&s3.GetObjectInput{Bucket: aws.String(bucket), Key: aws.String(key)})
	if err != nil {
		t.Fatalf("presigning GET %s/%s: %v", bucket, key, err)
	}
	return req.URL
}

// presignPut returns a presigned PUT URL of bucket/key, signed for baseURL's
// host, and the headers it signed (Content-Type when contentType is set).
func presignPut(t testing.TB, m *testrig.MinIO, baseURL, bucket, key, contentType string) (string, http.Header) {
	t.Helper()
	in := &s3.PutObjectInput{Bucket: aws.String(bucket), Key: aws.String(key)}
	if contentType != "" {
		in.ContentType = aws.String(contentType)
	}
	req, err := s3.NewPresignClient(clientVia(t, m, baseURL)).PresignPutObject(sdkCtx(t), in)
	if err != nil {
		t.Fatalf("presigning PUT %s/%s: %v", bucket, key, err)
	}
	return req.URL, req.SignedHeader
}

// tamperSignature returns the presigned URL u with one hex digit of its
// X-Amz-Signature changed, everything else as it was.
func tamperSignature(t testing.TB, u string) string {
	t.Helper()
	parsed, err := url.Parse(u)
	if err != nil {
		t.Fatal(err)
	}
	sig := parsed.Query().Get("X-Amz-Signature")
	if len(sig) != 64 {
		t.Fatalf("presigned URL without a SigV4 signature: %s", u)
	}
	flipped := "0"
	if sig[0] == '0' {
		flipped = "1"
	}
	return strings.Replace(u, "X-Amz-Signature="+sig, "X-Amz-Signature="+flipped+sig[1:], 1)
}

// makePublic lets anyone read the objects of bucket, as a bucket of public
// assets (fonts, data files) is set up.
func makePublic(t testing.TB, m *testrig.MinIO, bucket string) {
	t.Helper()
	doc := fmt.Sprintf(`{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"AWS":["*"]},`+
		`"Action":["s3:GetObject"],"Resource":["arn:aws:s3:::%s/*"]}]}`, bucket)
	if _, err := m.Client(t).PutBucketPolicy(sdkCtx(t), &s3.PutBucketPolicyInput{
		Bucket: aws.String(bucket), Policy: aws.String(doc),
	}); err != nil {
		t.Fatalf("making bucket %s public: %v", bucket, err)
	}
}

// headETag returns the ETag MinIO itself gives bucket/key.
func headETag(t testing.TB, m *testrig.MinIO, bucket, key string) string {
	t.Helper()
	out, err := m.Client(t).HeadObject(sdkCtx(t), &s3.HeadObjectInput{Bucket: aws.String(bucket), Key: aws.String(key)})
	if err != nil {
		t.Fatalf("HeadObject %s/%s on MinIO: %v", bucket, key, err)
	}
	return aws.ToString(out.ETag)
}

// httpClient is a plain client: no redirects followed, nothing added.
var httpClient = &http.Client{
	Timeout:       callTimeout,
	CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
}

// response is what a plain HTTP client got.
type response struct {
	status int
	header http.Header
	body   []byte
}

// do sends one request and reads the whole answer.
func do(t testing.TB, method, rawURL string, header map[string]string, body []byte) response {
	t.Helper()
	var rd io.Reader
	if body != nil {
		rd = bytes.NewReader(body)
	}
	req, err := http.NewRequest(method, rawURL, rd)
	if err != nil {
		t.Fatalf("%s %s: %v", method, rawURL, err)
	}
	for k, v := range header {
		req.Header.Set(k, v)
	}
	resp, err := httpClient.Do(req)
	if err != nil {
		t.Fatalf("%s %s: %v", method, rawURL, err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatalf("%s %s: reading the body: %v", method, rawURL, err)
	}
	return response{status: resp.StatusCode, header: resp.Header, body: b}
}

// corsHeaders returns the Access-Control-* headers of h, by canonical name,
// the values of a repeated header joined with "|".
func corsHeaders(h http.Header) map[string]string {
	out := map[string]string{}
	for k, v := range h {
		if strings.HasPrefix(strings.ToLower(k), "access-control-") {
			out[http.CanonicalHeaderKey(k)] = strings.Join(v, "|")
		}
	}
	return out
}

// checkCORS fails the test unless h has exactly the Access-Control-* headers
// of want (nil or empty: none at all).
func checkCORS(t testing.TB, what string, h http.Header, want map[string]string) {
	t.Helper()
	got := corsHeaders(h)
	if len(want) == 0 && len(got) == 0 {
		return
	}
	if fmt.Sprint(sortedPairs(got)) != fmt.Sprint(sortedPairs(want)) {
		t.Errorf("%s: Access-Control-* headers\n got  %v\n want %v", what, sortedPairs(got), sortedPairs(want))
	}
}

func sortedPairs(m map[string]string) []string {
	var out []string
	for k, v := range m {
		out = append(out, k+": "+v)
	}
	sort.Strings(out)
	return out
}

// varyNames returns the names Vary lists, over all its lines, lower case.
func varyNames(h http.Header) []string {
	var out []string
	for _, line := range h.Values("Vary") {
		for item := range strings.SplitSeq(line, ",") {
			if item = strings.TrimSpace(item); item != "" {
				out = append(out, strings.ToLower(item))
			}
		}
	}
	return out
}

// checkVaryOrigin fails the test unless Vary names Origin exactly once, as
// every answer of a bucket with a policy must, so that no shared cache
// serves one origin's answer to another.
func checkVaryOrigin(t testing.TB, what string, h http.Header) {
	t.Helper()
	names := varyNames(h)
	n := 0
	for _, name := range names {
		if name == "origin" {
			n++
		}
	}
	if n != 1 {
		t.Errorf("%s: Vary %q names Origin %d times, want once", what, h.Values("Vary"), n)
	}
}

// pages serves the HTML pages the browser tests load, under any host name:
// http://app.test:<port>/ and http://evil.test:<port>/ are two origins of
// the same server (the rig maps *.test to 127.0.0.1 in Chromium).
type pages struct {
	port int
	mu   sync.Mutex
	html map[string]string // by path; "/" is a blank page
}

// startPages starts a page server on 127.0.0.1 that stops when the test
// ends.
func startPages(t testing.TB) *pages {
	t.Helper()
	p := &pages{html: map[string]string{"/": "<!doctype html><title>blank</title><body></body>"}}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		p.mu.Lock()
		html, ok := p.html[r.URL.Path]
		p.mu.Unlock()
		if !ok {
			http.NotFound(w, r)
			return
		}
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		w.Header().Set("Cache-Control", "no-store")
		io.WriteString(w, html)
	}))
	t.Cleanup(srv.Close)
	u, _ := url.Parse(srv.URL)
	p.port, _ = strconv.Atoi(u.Port())
	return p
}

// add serves html at path.
func (p *pages) add(path, html string) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.html[path] = html
}

// origin is the origin of the pages under host ("app.test").
func (p *pages) origin(host string) string {
	return fmt.Sprintf("http://%s:%d", host, p.port)
}

// url is the address of the page at path under host.
func (p *pages) url(host, path string) string {
	return p.origin(host) + path
}

// consoleText joins what the page's console got, for matching and messages.
func consoleText(r testrig.FetchResult) string {
	return strings.Join(r.Console, "\n")
}

// checkNoCORSConsole fails the test when the console reports a CORS
// refusal.
func checkNoCORSConsole(t testing.TB, what string, console []string) {
	t.Helper()
	for _, line := range console {
		if strings.Contains(line, "CORS policy") {
			t.Errorf("%s: the console reports a CORS refusal: %s", what, line)
		}
	}
}

// checkBlocked fails the test unless the fetch was rejected with the
// browser's CORS error, and the console gives Chromium's reason, which must
// contain reason.
func checkBlocked(t testing.TB, what string, r testrig.FetchResult, fetchURL, origin, reason string) {
	t.Helper()
	if r.Status != 0 || r.Error != "TypeError: Failed to fetch" {
		t.Errorf("%s: fetch gave status %d, error %q; want the rejection TypeError: Failed to fetch", what, r.Status, r.Error)
	}
	prefix := fmt.Sprintf("Access to fetch at '%s' from origin '%s' has been blocked by CORS policy: ", fetchURL, origin)
	idx := slices.IndexFunc(r.Console, func(line string) bool {
		return strings.Contains(line, prefix) && strings.Contains(line, reason)
	})
	if idx < 0 {
		t.Errorf("%s: no console message %q…%q; the console has:\n%s", what, prefix, reason, consoleText(r))
	}
}
