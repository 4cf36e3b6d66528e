package caddymodule

import (
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/caddyserver/caddy/v2"
	"github.com/caddyserver/caddy/v2/modules/caddyhttp"
	"go.uber.org/zap"
)

// benchPolicy is a typical policy: a web app that reads and uploads.
const benchPolicy = `[{
	"AllowedOrigins": ["https://app.example.com", "https://*.example.org"],
	"AllowedMethods": ["GET", "PUT", "HEAD"],
	"AllowedHeaders": ["content-type", "x-amz-*"],
	"ExposeHeaders": ["ETag"],
	"MaxAgeSeconds": 3600
}]`

// benchWriter is a ResponseWriter that a benchmark reuses, so that what it
// measures is the handler's own work: the server gives every response a
// new header map, which is not the module's cost.
type benchWriter struct {
	header http.Header
	status int
}

func (w *benchWriter) Header() http.Header         { return w.header }
func (w *benchWriter) Write(p []byte) (int, error) { return len(p), nil }
func (w *benchWriter) WriteHeader(status int)      { w.status = status }
func (w *benchWriter) reset()                      { clear(w.header); w.status = 0 }

// upstreamNext answers as reverse_proxy does in front of MinIO: the
// origin's headers, its permissive CORS among them, then the body.
var upstreamNext = caddyhttp.HandlerFunc(func(w http.ResponseWriter, r *http.Request) error {
	h := w.Header()
	h["Content-Type"] = upstreamValues.contentType
	h["Etag"] = upstreamValues.etag
	h["Access-Control-Allow-Origin"] = upstreamValues.origin
	h["Access-Control-Allow-Credentials"] = upstreamValues.credentials
	h["Vary"] = upstreamValues.vary
	w.WriteHeader(http.StatusOK)
	_, err := w.Write(upstreamValues.body)
	return err
})

var upstreamValues = struct {
	contentType, etag, origin, credentials, vary []string
	body                                         []byte
}{
	contentType: []string{"application/octet-stream"},
	etag:        []string{`"0123456789abcdef"`},
	origin:      []string{"https://app.example.com"},
	credentials: []string{"true"},
	vary:        []string{"Origin, Accept-Encoding"},
	body:        make([]byte, 4096),
}

// newBenchHandler provisions a handler with benchPolicy for the bucket
// "assets" and a logger that writes nothing.
func newBenchHandler(tb testing.TB) *Handler {
	tb.Helper()
	ctx, cancel := caddy.NewContext(caddy.Context{Context: context.Background()})
	tb.Cleanup(cancel)
	h := &Handler{Policies: map[string]json.RawMessage{"assets": json.RawMessage(benchPolicy)}}
	if err := h.Provision(ctx); err != nil {
		tb.Fatal(err)
	}
	h.logger = zap.NewNop()
	tb.Cleanup(func() { _ = h.Cleanup() })
	return h
}

// BenchmarkServeHTTP measures the handler per request, with a next that
// costs nothing of its own: the allocations reported are the module's.
func BenchmarkServeHTTP(b *testing.B) {
	cases := []struct {
		name    string
		method  string
		headers map[string]string
	}{
		{"preflight/allowed", http.MethodOptions, map[string]string{
			"Origin": "https://app.example.com", "Access-Control-Request-Method": "PUT",
			"Access-Control-Request-Headers": "content-type,x-amz-date"}},
		{"preflight/refused", http.MethodOptions, map[string]string{
			"Origin": "https://evil.example.net", "Access-Control-Request-Method": "PUT"}},
		{"preflight/no-policy", http.MethodOptions, map[string]string{
			"Origin": "https://app.example.com", "Access-Control-Request-Method": "GET"}},
		{"get/allowed", http.MethodGet, map[string]string{"Origin": "https://app.example.com"}},
		{"get/refused", http.MethodGet, map[string]string{"Origin": "https://evil.example.net"}},
		{"get/no-origin", http.MethodGet, nil},
	}
	h := newBenchHandler(b)
	for _, tc := range cases {
		b.Run(tc.name, func(b *testing.B) {
			target := "/assets/photos/cat.jpg"
			if tc.name == "preflight/no-policy" {
				target = "/other/cat.jpg"
			}
			r := httptest.NewRequest(tc.method, target, nil)
			for k, v := range tc.headers {
				r.Header.Set(k, v)
			}
			w := &benchWriter{header: make(http.Header)}
			b.ReportAllocs()
			for b.Loop() {
				w.reset()
				if err := h.ServeHTTP(w, r, upstreamNext); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// BenchmarkNextAlone is the baseline of BenchmarkServeHTTP's GET cases:
// what the stand-in for reverse_proxy costs without the module.
func BenchmarkNextAlone(b *testing.B) {
	r := httptest.NewRequest(http.MethodGet, "/assets/photos/cat.jpg", nil)
	r.Header.Set("Origin", "https://app.example.com")
	w := &benchWriter{header: make(http.Header)}
	b.ReportAllocs()
	for b.Loop() {
		w.reset()
		if err := upstreamNext(w, r); err != nil {
			b.Fatal(err)
		}
	}
}
