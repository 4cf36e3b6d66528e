package caddymodule

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/caddyserver/caddy/v2"
	"github.com/caddyserver/caddy/v2/modules/caddyhttp"
	"github.com/rs/cors"
	"go.uber.org/zap"
	"go.uber.org/zap/zapcore"
)

// sdkRequestHeaders is what Chromium's preflight asks for on a PutObject of
// the AWS SDK for JavaScript v3 (3.1169).
const sdkRequestHeaders = "amz-sdk-invocation-id,amz-sdk-request,authorization,content-type,x-amz-checksum-crc32,x-amz-content-sha256,x-amz-date,x-amz-sdk-checksum-algorithm,x-amz-security-token,x-amz-user-agent"

// comparedPolicy is the one policy both handlers enforce in
// BenchmarkAgainstRSCors: the app's origin (and, in the wide variant, 49
// more and one pattern), GET, PUT and HEAD, the SDK's request headers,
// ETag exposed, an hour of preflight cache. rs/cors takes no header
// patterns, so it lists the SDK's names where bucketcors has x-amz-* and
// amz-sdk-*.
type comparedPolicy struct {
	origins []string
}

func newComparedPolicy(wide bool) comparedPolicy {
	p := comparedPolicy{origins: []string{"https://app.example.com"}}
	if wide {
		for i := range 49 {
			p.origins = append(p.origins, fmt.Sprintf("https://site-%02d.example.net", i))
		}
		p.origins = append(p.origins, "https://*.preview.example.com")
	}
	return p
}

func (p comparedPolicy) bucketcors(tb testing.TB) *Handler {
	tb.Helper()
	doc, err := json.Marshal([]map[string]any{{
		"AllowedOrigins": p.origins,
		"AllowedMethods": []string{"GET", "PUT", "HEAD"},
		"AllowedHeaders": []string{"authorization", "content-type", "x-amz-*", "amz-sdk-*"},
		"ExposeHeaders":  []string{"ETag"},
		"MaxAgeSeconds":  3600,
	}})
	if err != nil {
		tb.Fatal(err)
	}
	ctx, cancel := caddy.NewContext(caddy.Context{Context: context.Background()})
	tb.Cleanup(cancel)
	h := &Handler{Policies: map[string]json.RawMessage{"assets": doc}}
	if err := h.Provision(ctx); err != nil {
		tb.Fatal(err)
	}
	// Caddy's default: INFO, so a debug line costs its level check only.
	h.logger = zap.New(zapcore.NewCore(zapcore.NewJSONEncoder(zap.NewProductionEncoderConfig()), zapcore.AddSync(io.Discard), zap.InfoLevel))
	tb.Cleanup(func() { _ = h.Cleanup() })
	return h
}

func (p comparedPolicy) rsCors(next http.Handler) http.Handler {
	return cors.New(cors.Options{
		AllowedOrigins:   p.origins,
		AllowedMethods:   []string{"GET", "PUT", "HEAD"},
		AllowedHeaders:   strings.Split(sdkRequestHeaders, ","),
		ExposedHeaders:   []string{"ETag"},
		MaxAge:           3600,
		AllowCredentials: true,
	}).Handler(next)
}

// ok200 is next in both handlers: it answers 200 with no header of its own.
var ok200 = http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
	w.WriteHeader(http.StatusOK)
})

// BenchmarkAgainstRSCors runs bucketcors's ServeHTTP and rs/cors's handler
// on the same policy and the same requests, with a reused ResponseWriter,
// and beside them the floor of bucketcors's answer (floorAnswer): the header
// map work alone of the answer S3 gives.
func BenchmarkAgainstRSCors(b *testing.B) {
	cases := []struct {
		name    string
		method  string
		headers map[string]string
	}{
		{"preflight-allowed", http.MethodOptions, map[string]string{
			"Origin": "https://app.example.com", "Access-Control-Request-Method": "PUT",
			"Access-Control-Request-Headers": "content-type,x-amz-date"}},
		{"preflight-refused", http.MethodOptions, map[string]string{
			"Origin": "https://evil.example.org", "Access-Control-Request-Method": "PUT"}},
		{"preflight-sdk", http.MethodOptions, map[string]string{
			"Origin": "https://app.example.com", "Access-Control-Request-Method": "PUT",
			"Access-Control-Request-Headers": sdkRequestHeaders}},
		{"get-allowed", http.MethodGet, map[string]string{"Origin": "https://app.example.com"}},
	}
	caddyNext := caddyhttp.HandlerFunc(func(w http.ResponseWriter, r *http.Request) error {
		ok200(w, r)
		return nil
	})
	for _, wide := range []bool{false, true} {
		p := newComparedPolicy(wide)
		bc, rc := p.bucketcors(b), p.rsCors(ok200)
		origins := fmt.Sprintf("%d-origins", len(p.origins))
		for _, tc := range cases {
			r := httptest.NewRequest(tc.method, "/assets/photos/cat.jpg", nil)
			for k, v := range tc.headers {
				r.Header.Set(k, v)
			}
			floor := recordFloor(b, bc, r, caddyNext)
			for _, impl := range []struct {
				name  string
				serve func(http.ResponseWriter) error
			}{
				{"bucketcors", func(w http.ResponseWriter) error { return bc.ServeHTTP(w, r, caddyNext) }},
				{"s3-floor", func(w http.ResponseWriter) error { floor.ServeHTTP(w, r); return nil }},
				{"rs-cors", func(w http.ResponseWriter) error { rc.ServeHTTP(w, r); return nil }},
			} {
				b.Run(tc.name+"/"+origins+"/"+impl.name, func(b *testing.B) {
					w := &benchWriter{header: make(http.Header)}
					b.ReportAllocs()
					defer reportCPU(b)()
					for b.Loop() {
						w.reset()
						if err := impl.serve(w); err != nil {
							b.Fatal(err)
						}
					}
				})
			}
		}
	}
}

// floorAnswer replays one answer of bucketcors with the least work Go's
// header map allows any handler that answers as S3 does: it reads the
// request headers that S3's rules read (Origin, Access-Control-Request-Method
// and -Headers) and, for a request that goes on to the origin, the origin's
// CORS headers (to remove them) and its Vary; then it sets each header of the
// recorded answer from a value made in advance (shared, so no allocation;
// no policy, no writer wrapper) and writes the recorded status and body. Its
// time is a floor under bucketcors's own in BenchmarkAgainstRSCors.
type floorAnswer struct {
	proxied bool
	keys    []string
	values  [][]string
	status  int
	body    []byte
	// read keeps the compiler from dropping a look-up.
	read int
}

// recordFloor records bucketcors's answer to r and returns its floorAnswer.
func recordFloor(tb testing.TB, bc *Handler, r *http.Request, next caddyhttp.Handler) *floorAnswer {
	tb.Helper()
	rec := httptest.NewRecorder()
	if err := bc.ServeHTTP(rec, r, next); err != nil {
		tb.Fatal(err)
	}
	f := &floorAnswer{proxied: r.Method != http.MethodOptions, status: rec.Code, body: rec.Body.Bytes()}
	for key, values := range rec.Header() {
		f.keys, f.values = append(f.keys, key), append(f.values, values)
	}
	return f
}

func (f *floorAnswer) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	f.read += len(r.Header["Origin"]) + len(r.Header["Access-Control-Request-Method"]) + len(r.Header["Access-Control-Request-Headers"])
	h := w.Header()
	if f.proxied {
		for key := range h {
			if len(key) >= 15 && strings.EqualFold(key[:15], "Access-Control-") {
				delete(h, key)
			}
		}
		f.read += len(h["Vary"])
	}
	for i, key := range f.keys {
		h[key] = f.values[i]
	}
	w.WriteHeader(f.status)
	if len(f.body) > 0 {
		_, _ = w.Write(f.body)
	}
}

// reportCPU starts counting the processor time of a benchmark; the function
// it returns reports it per operation as cpu-ns/op. On a machine shared with
// other work, ns/op counts the time the benchmark waited for a processor,
// cpu-ns/op does not (but it counts the collector's work on other threads).
func reportCPU(b *testing.B) func() {
	start, ok := cpuTime()
	return func() {
		end, _ := cpuTime()
		if ok && b.N > 0 {
			b.ReportMetric(float64(end-start)/float64(b.N), "cpu-ns/op")
		}
	}
}

// TestComparedHandlersAgree checks that the benchmark compares like with
// like: on each of its requests both handlers grant or refuse alike.
func TestComparedHandlersAgree(t *testing.T) {
	p := newComparedPolicy(false)
	bc, rc := p.bucketcors(t), p.rsCors(ok200)
	for _, tc := range []struct {
		method, origin, reqMethod, reqHeaders string
		granted                               bool
	}{
		{http.MethodOptions, "https://app.example.com", "PUT", "content-type,x-amz-date", true},
		{http.MethodOptions, "https://app.example.com", "PUT", sdkRequestHeaders, true},
		{http.MethodOptions, "https://evil.example.org", "PUT", "", false},
		{http.MethodGet, "https://app.example.com", "", "", true},
	} {
		r := httptest.NewRequest(tc.method, "/assets/photos/cat.jpg", nil)
		r.Header.Set("Origin", tc.origin)
		if tc.reqMethod != "" {
			r.Header.Set("Access-Control-Request-Method", tc.reqMethod)
		}
		if tc.reqHeaders != "" {
			r.Header.Set("Access-Control-Request-Headers", tc.reqHeaders)
		}
		bw, rw := httptest.NewRecorder(), httptest.NewRecorder()
		if err := bc.ServeHTTP(bw, r, caddyhttp.HandlerFunc(func(w http.ResponseWriter, r *http.Request) error { ok200(w, r); return nil })); err != nil {
			t.Fatal(err)
		}
		rc.ServeHTTP(rw, r)
		for name, rec := range map[string]*httptest.ResponseRecorder{"bucketcors": bw, "rs/cors": rw} {
			if got := rec.Header().Get("Access-Control-Allow-Origin") != ""; got != tc.granted {
				t.Errorf("%s %s from %s: %s granted = %v, want %v", tc.method, tc.reqHeaders, tc.origin, name, got, tc.granted)
			}
		}
	}
}
