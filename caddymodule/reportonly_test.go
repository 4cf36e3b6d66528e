package caddymodule

import (
	"encoding/json"
	"net/http"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/caddyserver/caddy/v2/caddyconfig/caddyfile"
	"go.uber.org/zap"
	"go.uber.org/zap/zapcore"
	"go.uber.org/zap/zaptest/observer"
)

// minioCORS is what newMinioLike answers a request from origin with: its
// permissive CORS headers and its Vary, untouched.
func minioCORS(origin string) http.Header {
	return http.Header{
		"Access-Control-Allow-Origin":      {origin},
		"Access-Control-Allow-Credentials": {"true"},
		"Access-Control-Allow-Methods":     {"GET, PUT, POST, DELETE, HEAD"},
		"Access-Control-Expose-Headers":    {"Date, Etag, Server, x-amz-request-id"},
		"Access-Control-Max-Age":           {"600"},
		"Vary":                             {"Origin"},
	}
}

// withoutVary returns a copy of h without Vary.
func withoutVary(h http.Header) http.Header {
	out := h.Clone()
	out.Del("Vary")
	return out
}

// TestReportOnlyLetsEveryRequestThrough: in report_only the origin answers
// every request, preflights included, and its CORS headers come back as it
// sent them, whatever the policy would have done.
func TestReportOnlyLetsEveryRequestThrough(t *testing.T) {
	h := handlerFromCaddyfile(t, "bucket_cors {\n"+assetsPolicy+"\nmode report_only\n}")
	upstream := newMinioLike(t)
	srv := frontServer(t, h, proxyTo(upstream.URL))

	tests := []struct {
		name     string
		method   string
		path     string
		header   []string
		wantCORS http.Header
	}{
		{"a preflight the policy refuses", http.MethodOptions, "/assets/key",
			[]string{"Origin", otherOrigin, "Access-Control-Request-Method", "PUT"}, minioCORS(otherOrigin)},
		{"a preflight the policy allows", http.MethodOptions, "/assets/key",
			[]string{"Origin", appOrigin, "Access-Control-Request-Method", "PUT", "Access-Control-Request-Headers", "content-type"}, minioCORS(appOrigin)},
		{"a preflight of a bucket without policy", http.MethodOptions, "/photos/key",
			[]string{"Origin", appOrigin, "Access-Control-Request-Method", "GET"}, minioCORS(appOrigin)},
		{"a preflight without Origin", http.MethodOptions, "/assets/key",
			[]string{"Access-Control-Request-Method", "GET"}, varyOrigin},
		{"a PUT the policy refuses", http.MethodPut, "/assets/key",
			[]string{"Origin", otherOrigin}, minioCORS(otherOrigin)},
		{"a GET the policy allows", http.MethodGet, "/assets/key",
			[]string{"Origin", otherOrigin}, minioCORS(otherOrigin)},
		{"a GET without its Vary", http.MethodGet, "/assets/key",
			[]string{"Origin", appOrigin, "X-Test-Upstream-Vary", ""}, withoutVary(minioCORS(appOrigin))},
		{"a GET without Origin", http.MethodGet, "/assets/key", nil, varyOrigin},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			before := upstream.requestCount()
			resp, body := do(t, srv.Client(), newRequest(t, tc.method, srv.URL+tc.path, tc.header...))
			if upstream.requestCount() != before+1 {
				t.Errorf("the origin got %d requests, want 1", upstream.requestCount()-before)
			}
			if resp.StatusCode != http.StatusOK || string(body) != "object "+tc.path {
				t.Errorf("status %d, body %q; want the origin's 200 and body", resp.StatusCode, body)
			}
			checkCORSHeaders(t, resp.Header, tc.wantCORS)
		})
	}
}

// TestReportOnlyCountsDecisions: each CORS request counts once, by mode and
// by what the policy decided; a request without Origin is not counted.
func TestReportOnlyCountsDecisions(t *testing.T) {
	isolateMetrics(t)
	upstream := newMinioLike(t)
	requests := []struct {
		method string
		path   string
		header []string
	}{
		{http.MethodOptions, "/assets/key", []string{"Origin", otherOrigin, "Access-Control-Request-Method", "PUT"}}, // refused
		{http.MethodOptions, "/assets/key", []string{"Origin", appOrigin, "Access-Control-Request-Method", "PUT"}},   // allowed
		{http.MethodPut, "/assets/key", []string{"Origin", otherOrigin}},                                             // refused
		{http.MethodGet, "/assets/key", []string{"Origin", otherOrigin}},                                             // allowed
		{http.MethodGet, "/photos/key", []string{"Origin", appOrigin}},                                               // no policy
		{http.MethodGet, "/assets/key", nil},                                                                         // not counted
		{http.MethodOptions, "/assets/key", []string{"Access-Control-Request-Method", "GET"}},                        // not counted
	}
	for _, mode := range []string{"mode report_only", "mode enforce"} {
		h := handlerFromCaddyfile(t, "bucket_cors {\n"+assetsPolicy+"\n"+mode+"\n}")
		for _, r := range requests {
			if _, err := serveRecorded(h, newRequest(t, r.method, "http://proxy.example"+r.path, r.header...), proxyTo(upstream.URL)); err != nil {
				t.Fatal(err)
			}
		}
	}
	got := make(map[string]float64)
	for name, v := range gatherMetrics(t) {
		if strings.HasPrefix(name, "bucketcors_decisions_total") {
			got[name] = v
		}
	}
	want := map[string]float64{
		`bucketcors_decisions_total{decision="allowed",mode="report_only"}`:   2,
		`bucketcors_decisions_total{decision="refused",mode="report_only"}`:   2,
		`bucketcors_decisions_total{decision="no_policy",mode="report_only"}`: 1,
		`bucketcors_decisions_total{decision="allowed",mode="enforce"}`:       2,
		`bucketcors_decisions_total{decision="refused",mode="enforce"}`:       2,
		`bucketcors_decisions_total{decision="no_policy",mode="enforce"}`:     1,
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("decisions:\n got: %v\nwant: %v", got, want)
	}
}

// TestReportOnlyLogsEachRefusalOnceAMinute: a would-be refusal is logged
// at INFO with the explain verdict, once a minute per bucket and origin.
func TestReportOnlyLogsEachRefusalOnceAMinute(t *testing.T) {
	clock := newFakeClock()
	h := handlerAt(t, clock, `bucket_cors {
	`+assetsPolicy+`
	policy media {
		rule {
			origins https://app.example.com
			methods GET
		}
	}
	mode report_only
}`)
	core, logs := observer.New(zapcore.DebugLevel)
	useLogger(h, zap.New(core))
	upstream := newMinioLike(t)
	refusal := func(bucket, origin string) {
		t.Helper()
		req := newRequest(t, http.MethodOptions, "http://proxy.example/"+bucket+"/key",
			"Origin", origin, "Access-Control-Request-Method", "PUT")
		if _, err := serveRecorded(h, req, proxyTo(upstream.URL)); err != nil {
			t.Fatal(err)
		}
	}
	type line struct{ bucket, origin, verdict string }
	logged := func() []line {
		var out []line
		for _, e := range logs.FilterMessage("report_only: enforcing would refuse this CORS request").All() {
			if e.Level != zapcore.InfoLevel {
				t.Errorf("logged at %s, want INFO", e.Level)
			}
			f := e.ContextMap()
			out = append(out, line{f["bucket"].(string), f["origin"].(string), f["verdict"].(string)})
		}
		return out
	}
	const otherOnMedia = `refused: rule 1: origin https://evil.example.net not listed`
	const appPUTOnMedia = `refused: rule 1: method PUT not allowed`

	steps := []struct {
		name    string
		advance time.Duration
		bucket  string
		origin  string
		want    []line // every line logged so far
	}{
		{"the first refusal is logged", 0, "assets", otherOrigin,
			[]line{{"assets", otherOrigin, refusedPUTFromOther}}},
		{"the same again is not", 0, "assets", otherOrigin,
			[]line{{"assets", otherOrigin, refusedPUTFromOther}}},
		{"the same origin on another bucket is", time.Second, "media", otherOrigin,
			[]line{{"assets", otherOrigin, refusedPUTFromOther}, {"media", otherOrigin, otherOnMedia}}},
		{"another origin on the same bucket is", 0, "media", appOrigin,
			[]line{{"assets", otherOrigin, refusedPUTFromOther}, {"media", otherOrigin, otherOnMedia}, {"media", appOrigin, appPUTOnMedia}}},
		{"59s after the first, not yet", 58 * time.Second, "assets", otherOrigin,
			[]line{{"assets", otherOrigin, refusedPUTFromOther}, {"media", otherOrigin, otherOnMedia}, {"media", appOrigin, appPUTOnMedia}}},
		{"a minute after the first, again", time.Second, "assets", otherOrigin,
			[]line{{"assets", otherOrigin, refusedPUTFromOther}, {"media", otherOrigin, otherOnMedia}, {"media", appOrigin, appPUTOnMedia}, {"assets", otherOrigin, refusedPUTFromOther}}},
		{"the second bucket's line is a minute from its own", 0, "media", otherOrigin,
			[]line{{"assets", otherOrigin, refusedPUTFromOther}, {"media", otherOrigin, otherOnMedia}, {"media", appOrigin, appPUTOnMedia}, {"assets", otherOrigin, refusedPUTFromOther}}},
	}
	for _, step := range steps {
		clock.Advance(step.advance)
		refusal(step.bucket, step.origin)
		if got := logged(); !reflect.DeepEqual(got, step.want) {
			t.Fatalf("%s: logged\n%q\nwant\n%q", step.name, got, step.want)
		}
	}
	// Allowed requests and buckets without policy log nothing.
	req := newRequest(t, http.MethodGet, "http://proxy.example/photos/key", "Origin", otherOrigin)
	if _, err := serveRecorded(h, req, proxyTo(upstream.URL)); err != nil {
		t.Fatal(err)
	}
	if n := len(logged()); n != 4 {
		t.Errorf("%d lines after a request to a bucket without policy, want 4", n)
	}
}

// TestModeMustBeKnown: a mode other than enforce or report_only fails the
// Caddyfile and the JSON config, saying which modes there are.
func TestModeMustBeKnown(t *testing.T) {
	const want = `mode "bogus": use enforce (answer by the policy, the default) or report_only (judge and count, but let every request through)`
	err := new(Handler).UnmarshalCaddyfile(caddyfile.NewTestDispenser("bucket_cors {\n\tmode bogus\n}"))
	if err == nil || !strings.Contains(err.Error(), want) || !strings.Contains(err.Error(), "Testfile:2") {
		t.Errorf("Caddyfile: error %v, want one that says %q on Testfile:2", err, want)
	}
	ctx, cancel := newTestContext()
	defer cancel()
	h := &Handler{Mode: "bogus"}
	err = h.Provision(ctx)
	if err == nil {
		h.Cleanup()
	}
	if err == nil || !strings.Contains(err.Error(), want) {
		t.Errorf("JSON config: error %v, want %q", err, want)
	}
}

// TestDecisionsAreOnEveryConfigsRegistry: a config whose handlers have only
// inline policies (no cache) still shows its decisions in /metrics.
func TestDecisionsAreOnEveryConfigsRegistry(t *testing.T) {
	ctx, cancel := newTestContext()
	defer cancel()
	h := &Handler{Policies: map[string]json.RawMessage{"assets": json.RawMessage(allowing(appOrigin))}, Mode: ModeReportOnly}
	if err := h.Provision(ctx); err != nil {
		t.Fatalf("Provision: %v", err)
	}
	defer h.Cleanup()
	families, err := ctx.GetMetricsRegistry().Gather()
	if err != nil {
		t.Fatal(err)
	}
	for _, mf := range families {
		if mf.GetName() == "bucketcors_decisions_total" {
			return
		}
	}
	t.Error("the config's registry has no bucketcors_decisions_total")
}
