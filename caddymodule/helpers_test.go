package caddymodule

import (
	"context"
	"encoding/json"
	"encoding/xml"
	"errors"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"reflect"
	"sort"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/caddyserver/caddy/v2"
	"github.com/caddyserver/caddy/v2/caddyconfig/caddyfile"
	"github.com/caddyserver/caddy/v2/modules/caddyhttp"
	"go.uber.org/zap"

	"github.com/bucketcors/bucketcors/internal/testclock"
)

// testTimeout bounds every wait of the tests: generous, so that a loaded
// machine does not fail them, and finite, so that a hang is reported.
const testTimeout = 30 * time.Second

// The origins the tests' policies name.
const (
	appOrigin     = "https://app.example.com"
	previewOrigin = "https://pr-7.preview.example.com"
	otherOrigin   = "https://evil.example.net"
)

// assetsPolicy is the Caddyfile of the policy most tests use: a rule for the
// app (credentials, headers, expose, max age) and a public read rule.
const assetsPolicy = `policy assets {
		rule {
			id      web
			origins https://app.example.com https://*.preview.example.com
			methods GET PUT HEAD
			headers content-type x-amz-*
			expose  ETag x-amz-version-id
			max_age 1h
		}
		rule {
			id      public-read
			origins *
			methods GET
		}
	}`

// The headers that assetsPolicy's first rule grants to appOrigin on an
// actual request.
var appGrant = http.Header{
	"Access-Control-Allow-Origin":      {appOrigin},
	"Access-Control-Allow-Credentials": {"true"},
	"Access-Control-Allow-Methods":     {"GET, PUT, HEAD"},
	"Access-Control-Expose-Headers":    {"ETag, x-amz-version-id"},
	"Access-Control-Max-Age":           {"3600"},
}

// publicGrant is what assetsPolicy's `*` rule grants any origin for GET.
var publicGrant = http.Header{
	"Access-Control-Allow-Origin":  {"*"},
	"Access-Control-Allow-Methods": {"GET"},
}

// grantFor returns a copy of grant that allows origin.
func grantFor(grant http.Header, origin string) http.Header {
	out := grant.Clone()
	out.Set("Access-Control-Allow-Origin", origin)
	return out
}

// with returns a copy of h with the given header lines added.
func with(h http.Header, kv ...string) http.Header {
	out := h.Clone()
	if out == nil {
		out = http.Header{}
	}
	for i := 0; i < len(kv); i += 2 {
		out.Add(kv[i], kv[i+1])
	}
	return out
}

// corsHeaders returns the Access-Control-* and Vary lines of h: the set
// every test compares whole, so that a header that should not be there is
// caught as surely as one that is missing.
func corsHeaders(h http.Header) http.Header {
	out := http.Header{}
	for key, values := range h {
		if strings.HasPrefix(http.CanonicalHeaderKey(key), "Access-Control-") || http.CanonicalHeaderKey(key) == "Vary" {
			out[http.CanonicalHeaderKey(key)] = append([]string(nil), values...)
		}
	}
	return out
}

// checkCORSHeaders fails the test unless the CORS headers of got are
// exactly want (nil for none at all).
func checkCORSHeaders(t *testing.T, got, want http.Header) {
	t.Helper()
	gotSet, wantSet := corsHeaders(got), corsHeaders(want)
	if !reflect.DeepEqual(gotSet, wantSet) {
		t.Errorf("CORS headers:\n got: %s\nwant: %s", formatHeader(gotSet), formatHeader(wantSet))
	}
}

func formatHeader(h http.Header) string {
	if len(h) == 0 {
		return "(none)"
	}
	keys := make([]string, 0, len(h))
	for k := range h {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	var b strings.Builder
	for _, k := range keys {
		b.WriteString("\n\t" + k + ": " + strconv.Quote(strings.Join(h[k], `" | "`)))
	}
	return b.String()
}

// s3ErrorBody is the XML error body the tests expect, decoded by field so
// that the test does not depend on the handler's own type.
type s3ErrorBody struct {
	XMLName      xml.Name `xml:"Error"`
	Code         string   `xml:"Code"`
	Message      string   `xml:"Message"`
	Method       string   `xml:"Method"`
	ResourceType string   `xml:"ResourceType"`
}

// The S3 error bodies of refused preflights, as S3 words them.
func badRequestBody() *s3ErrorBody {
	return &s3ErrorBody{Code: "BadRequest", Message: "Insufficient information. Origin request header needed."}
}

func notEnabledBody(method string) *s3ErrorBody {
	return &s3ErrorBody{Code: "AccessForbidden", Message: "CORSResponse: CORS is not enabled for this bucket.", Method: method, ResourceType: "BUCKET"}
}

func notAllowedBody(method string) *s3ErrorBody {
	return &s3ErrorBody{
		Code:         "AccessForbidden",
		Message:      "CORSResponse: This CORS request is not allowed. This is usually because the evalution of Origin, request method / Access-Control-Request-Method or Access-Control-Request-Headers are not whitelisted by the resource's CORS spec.",
		Method:       method,
		ResourceType: "OBJECT",
	}
}

// checkS3Error fails the test unless body is an S3 XML error equal to want,
// sent as application/xml with its exact length.
func checkS3Error(t *testing.T, header http.Header, body []byte, want *s3ErrorBody) {
	t.Helper()
	if ct := header.Get("Content-Type"); ct != "application/xml" {
		t.Errorf("Content-Type = %q, want application/xml", ct)
	}
	if cl := header.Get("Content-Length"); cl != strconv.Itoa(len(body)) {
		t.Errorf("Content-Length = %q, body has %d bytes", cl, len(body))
	}
	if !strings.HasPrefix(string(body), xml.Header) {
		t.Errorf("body does not start with the XML declaration: %q", body)
	}
	var got s3ErrorBody
	if err := xml.Unmarshal(body, &got); err != nil {
		t.Fatalf("body is not an S3 XML error: %v\n%s", err, body)
	}
	got.XMLName = xml.Name{}
	if got != *want {
		t.Errorf("S3 error:\n got: %+v\nwant: %+v", got, *want)
	}
}

// handlerFromCaddyfile parses a bucket_cors block, round-trips the result
// through its JSON config (as `caddy adapt` and `caddy run` do), provisions
// and validates it, and retires it when the test ends.
func handlerFromCaddyfile(t *testing.T, block string) *Handler {
	t.Helper()
	return handlerAt(t, nil, block)
}

// handlerAt is handlerFromCaddyfile with the handler's clock set to clock
// (nil: the real one).
func handlerAt(t *testing.T, clock *testclock.Clock, block string) *Handler {
	t.Helper()
	parsed := new(Handler)
	if err := parsed.UnmarshalCaddyfile(caddyfile.NewTestDispenser(block)); err != nil {
		t.Fatalf("parsing the Caddyfile: %v", err)
	}
	raw, err := json.Marshal(parsed)
	if err != nil {
		t.Fatal(err)
	}
	h := new(Handler)
	if err := json.Unmarshal(raw, h); err != nil {
		t.Fatal(err)
	}
	if clock != nil {
		h.now = clock.Now
	}
	return provision(t, h)
}

// provision provisions h the way Caddy's own module tests do, and retires
// it when the test ends. Its logs are dropped.
func provision(t *testing.T, h *Handler) *Handler {
	t.Helper()
	ctx, cancel := newTestContext()
	t.Cleanup(cancel)
	if err := h.Provision(ctx); err != nil {
		t.Fatalf("Provision: %v", err)
	}
	t.Cleanup(func() {
		if err := h.Cleanup(); err != nil {
			t.Errorf("Cleanup: %v", err)
		}
	})
	useLogger(h, zap.NewNop())
	if err := h.Validate(); err != nil {
		t.Fatalf("Validate: %v", err)
	}
	return h
}

// newTestContext is a Caddy context as Caddy's own module tests make it:
// no config, a metrics registry of its own.
func newTestContext() (caddy.Context, context.CancelFunc) {
	return caddy.NewContext(caddy.Context{Context: context.Background()})
}

// prepare gives r what Caddy's server gives every request before the
// handlers see it: the replacer, with the request's placeholders.
func prepare(r *http.Request, w http.ResponseWriter) *http.Request {
	return caddyhttp.PrepareRequest(r, caddy.NewReplacer(), w, &caddyhttp.Server{})
}

// serveRecorded runs one request through h with a recorder, as Caddy's
// server would, and returns the recorder and the handler's error.
func serveRecorded(h *Handler, r *http.Request, next caddyhttp.Handler) (*httptest.ResponseRecorder, error) {
	rec := httptest.NewRecorder()
	err := h.ServeHTTP(rec, prepare(r, rec), next)
	return rec, err
}

// frontServer serves h over real HTTP, with Caddy's error handling when no
// error routes are set: a failing handler chain gets its status written,
// with whatever headers the handlers left.
func frontServer(t *testing.T, h *Handler, next caddyhttp.Handler) *httptest.Server {
	t.Helper()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		err := h.ServeHTTP(w, prepare(r, w), next)
		if err == nil {
			return
		}
		var he caddyhttp.HandlerError
		if errors.As(err, &he) {
			w.WriteHeader(he.StatusCode)
		} else {
			w.WriteHeader(http.StatusInternalServerError)
		}
	}))
	t.Cleanup(srv.Close)
	return srv
}

// do sends req with a deadline and returns the response and its whole body.
func do(t *testing.T, client *http.Client, req *http.Request) (*http.Response, []byte) {
	t.Helper()
	ctx, cancel := context.WithTimeout(req.Context(), testTimeout)
	defer cancel()
	resp, err := client.Do(req.WithContext(ctx))
	if err != nil {
		t.Fatalf("%s %s: %v", req.Method, req.URL, err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatalf("%s %s: reading the body: %v", req.Method, req.URL, err)
	}
	return resp, body
}

// newRequest builds a request with the given header lines.
func newRequest(t *testing.T, method, url string, kv ...string) *http.Request {
	t.Helper()
	req, err := http.NewRequest(method, url, nil)
	if err != nil {
		t.Fatal(err)
	}
	for i := 0; i < len(kv); i += 2 {
		req.Header.Add(kv[i], kv[i+1])
	}
	return req
}

// minioLike is an upstream that answers as MinIO does by default: every
// Origin echoed back with credentials and every method, whatever the
// bucket. The path picks the status: .../missing is 404, .../broken is 500.
// X-Test-Upstream-Vary lines, when sent, become the answer's Vary lines, an
// empty one none (MinIO's own Vary is "Origin"). It counts the requests it gets.
type minioLike struct {
	*httptest.Server
	mu       sync.Mutex
	requests []string
}

func newMinioLike(t *testing.T) *minioLike {
	t.Helper()
	m := &minioLike{}
	m.Server = httptest.NewServer(http.HandlerFunc(m.serve))
	t.Cleanup(m.Close)
	return m
}

func (m *minioLike) serve(w http.ResponseWriter, r *http.Request) {
	m.mu.Lock()
	m.requests = append(m.requests, r.Method+" "+r.URL.Path)
	m.mu.Unlock()

	h := w.Header()
	if origin := r.Header.Get("Origin"); origin != "" {
		h.Set("Access-Control-Allow-Origin", origin)
		h.Set("Access-Control-Allow-Credentials", "true")
		h.Set("Access-Control-Allow-Methods", "GET, PUT, POST, DELETE, HEAD")
		h.Set("Access-Control-Expose-Headers", "Date, Etag, Server, x-amz-request-id")
		h.Set("Access-Control-Max-Age", "600")
	}
	if vary, ok := r.Header["X-Test-Upstream-Vary"]; ok {
		if vary[0] != "" {
			h["Vary"] = vary
		}
	} else {
		h.Set("Vary", "Origin")
	}
	h.Set("ETag", `"abc"`)
	switch {
	case strings.HasSuffix(r.URL.Path, "/missing"):
		h.Set("Content-Type", "application/xml")
		w.WriteHeader(http.StatusNotFound)
		io.WriteString(w, "<Error><Code>NoSuchKey</Code></Error>")
	case strings.HasSuffix(r.URL.Path, "/broken"):
		h.Set("Content-Type", "application/xml")
		w.WriteHeader(http.StatusInternalServerError)
		io.WriteString(w, "<Error><Code>InternalError</Code></Error>")
	default:
		io.WriteString(w, "object "+r.URL.Path)
	}
}

func (m *minioLike) requestCount() int {
	return len(m.requestsSeen())
}

// requestsSeen returns "METHOD /path" of each request the origin got.
func (m *minioLike) requestsSeen() []string {
	m.mu.Lock()
	defer m.mu.Unlock()
	return append([]string(nil), m.requests...)
}

// proxyTo returns a next handler that does with a response what
// reverse_proxy does: copy its header lines, write its status, stream its
// body. A failed round trip is Caddy's 502.
func proxyTo(upstream string) caddyhttp.Handler {
	return caddyhttp.HandlerFunc(func(w http.ResponseWriter, r *http.Request) error {
		req, err := http.NewRequestWithContext(r.Context(), r.Method, upstream+r.URL.RequestURI(), nil)
		if err != nil {
			return caddyhttp.Error(http.StatusBadGateway, err)
		}
		req.Header = r.Header.Clone()
		resp, err := http.DefaultTransport.RoundTrip(req)
		if err != nil {
			return caddyhttp.Error(http.StatusBadGateway, err)
		}
		defer resp.Body.Close()
		for key, values := range resp.Header {
			w.Header()[key] = append(w.Header()[key], values...)
		}
		w.WriteHeader(resp.StatusCode)
		_, err = io.Copy(w, resp.Body)
		return err
	})
}

// mustNotRun is a next handler for requests that must be answered before
// reaching it.
func mustNotRun(t *testing.T) caddyhttp.Handler {
	return caddyhttp.HandlerFunc(func(http.ResponseWriter, *http.Request) error {
		t.Errorf("the request reached next")
		return nil
	})
}

// freePort returns a loopback port that nothing listens on now.
func freePort(t *testing.T) int {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	port := l.Addr().(*net.TCPAddr).Port
	if err := l.Close(); err != nil {
		t.Fatal(err)
	}
	return port
}

// useLogger makes l the logger of h and of the cache h shares.
func useLogger(h *Handler, l *zap.Logger) {
	h.logger = l
	if h.policies.Sources != nil {
		h.policies.Sources.UseLogger(l)
	}
}

// settle waits until no policy load of h's cache is in flight: a
// background refresh started by a request has stored its result.
func settle(t *testing.T, h *Handler) {
	t.Helper()
	deadline := time.Now().Add(testTimeout)
	for h.policies.Sources.Counters().Cache.LoadsInFlight > 0 {
		if time.Now().After(deadline) {
			t.Fatal("a policy load is still in flight")
		}
		time.Sleep(time.Millisecond)
	}
}

// refreshNow has h re-read bucket's policy as the first request past its
// TTL does, and waits for the background load to end.
func refreshNow(t *testing.T, h *Handler, bucket string) {
	t.Helper()
	req := newRequest(t, http.MethodOptions, "http://proxy.example/"+bucket+"/key",
		"Origin", appOrigin, "Access-Control-Request-Method", "GET")
	if _, err := serveRecorded(h, req, mustNotRun(t)); err != nil {
		t.Fatalf("ServeHTTP: %v", err)
	}
	settle(t, h)
}
