package caddymodule

import (
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"go.uber.org/zap"
	"go.uber.org/zap/zapcore"
	"go.uber.org/zap/zaptest/observer"

	"github.com/bucketcors/bucketcors/internal/testclock"
)

// newFakeClock returns a fakeClock at a fixed time, for handlerAt.
func newFakeClock() *testclock.Clock {
	return testclock.New(time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC))
}

// The TTL of the policy_dir tests.
const dirTTL = 30 * time.Second

// dirHandler provisions a handler that reads dir with a TTL of dirTTL.
func dirHandler(t *testing.T, clock *testclock.Clock, dir string) *Handler {
	t.Helper()
	return handlerAt(t, clock, `bucket_cors {
	policy_dir `+dir+`
	cache {
		ttl 30s
	}
}`)
}

// writeFile writes a file of the policy folder.
func writeFile(t *testing.T, dir, name, content string) {
	t.Helper()
	if err := os.WriteFile(filepath.Join(dir, name), []byte(content), 0o644); err != nil {
		t.Fatal(err)
	}
}

// allowing is a policy document (R2 JSON) that lets origin GET.
func allowing(origin string) string {
	return `[{"AllowedOrigins": ["` + origin + `"], "AllowedMethods": ["GET"]}]`
}

// allowingXML is the same in S3 XML.
func allowingXML(origin string) string {
	return `<CORSConfiguration><CORSRule><AllowedOrigin>` + origin + `</AllowedOrigin><AllowedMethod>GET</AllowedMethod></CORSRule></CORSConfiguration>`
}

// What a bucket's policy is, as preflights from two origins see it.
const (
	allowsApp   = "allows the app"
	allowsOther = "allows the other origin"
	noPolicy    = "no policy"
)

// policyOf tells which policy the handler applies to bucket now, from the
// answers to a preflight from each origin.
func policyOf(t *testing.T, h *Handler, bucket string) string {
	t.Helper()
	status := func(origin string) (int, string) {
		req := newRequest(t, http.MethodOptions, "http://proxy.example/"+bucket+"/key",
			"Origin", origin, "Access-Control-Request-Method", "GET")
		rec, err := serveRecorded(h, req, mustNotRun(t))
		if err != nil {
			t.Fatalf("ServeHTTP: %v", err)
		}
		return rec.Code, rec.Body.String()
	}
	app, appBody := status(appOrigin)
	other, _ := status(otherOrigin)
	switch {
	case app == http.StatusOK && other == http.StatusForbidden:
		return allowsApp
	case app == http.StatusForbidden && other == http.StatusOK:
		return allowsOther
	case app == http.StatusForbidden && other == http.StatusForbidden && strings.Contains(appBody, "CORS is not enabled"):
		return noPolicy
	}
	return "unexpected answers: " + http.StatusText(app) + " to the app, " + http.StatusText(other) + " to the other origin: " + appBody
}

// TestPolicyDirChangesAreSeenAfterTheTTL: a file of the policy folder that
// is changed, added or deleted is read again once the cache's TTL has run
// out, not before; a document that no longer validates keeps the previous
// policy in use.
func TestPolicyDirChangesAreSeenAfterTheTTL(t *testing.T) {
	tests := []struct {
		name       string
		initial    map[string]string // files at start
		change     func(t *testing.T, dir string)
		wantStart  string // the policy of "assets" before the change
		wantWithin string // ... after the change, within the TTL
		wantAfter  string // ... after the TTL
	}{
		{
			name:    "file changed",
			initial: map[string]string{"assets.json": allowing(appOrigin)},
			change: func(t *testing.T, dir string) {
				writeFile(t, dir, "assets.json", allowing(otherOrigin))
			},
			wantStart: allowsApp, wantWithin: allowsApp, wantAfter: allowsOther,
		},
		{
			name:    "file added",
			initial: map[string]string{},
			change: func(t *testing.T, dir string) {
				writeFile(t, dir, "assets.json", allowing(appOrigin))
			},
			wantStart: noPolicy, wantWithin: noPolicy, wantAfter: allowsApp,
		},
		{
			name:    "file deleted",
			initial: map[string]string{"assets.json": allowing(appOrigin)},
			change: func(t *testing.T, dir string) {
				if err := os.Remove(filepath.Join(dir, "assets.json")); err != nil {
					t.Fatal(err)
				}
			},
			wantStart: allowsApp, wantWithin: allowsApp, wantAfter: noPolicy,
		},
		{
			name:    "JSON replaced by XML",
			initial: map[string]string{"assets.json": allowing(appOrigin)},
			change: func(t *testing.T, dir string) {
				if err := os.Remove(filepath.Join(dir, "assets.json")); err != nil {
					t.Fatal(err)
				}
				writeFile(t, dir, "assets.xml", allowingXML(otherOrigin))
			},
			wantStart: allowsApp, wantWithin: allowsApp, wantAfter: allowsOther,
		},
		{
			name:    "a document that no longer validates keeps the previous policy",
			initial: map[string]string{"assets.json": allowing(appOrigin)},
			change: func(t *testing.T, dir string) {
				writeFile(t, dir, "assets.json", `[{"AllowedOrigins": ["`+otherOrigin+`"], "AllowedMethods": ["PATCH"]}]`)
			},
			wantStart: allowsApp, wantWithin: allowsApp, wantAfter: allowsApp,
		},
		{
			name:    "a document that no longer parses keeps the previous policy",
			initial: map[string]string{"assets.json": allowing(appOrigin)},
			change: func(t *testing.T, dir string) {
				writeFile(t, dir, "assets.json", `[{"AllowedOrigins": [`)
			},
			wantStart: allowsApp, wantWithin: allowsApp, wantAfter: allowsApp,
		},
		{
			name:    "a second document for the bucket keeps the previous policy",
			initial: map[string]string{"assets.json": allowing(appOrigin)},
			change: func(t *testing.T, dir string) {
				writeFile(t, dir, "assets.xml", allowingXML(otherOrigin))
			},
			wantStart: allowsApp, wantWithin: allowsApp, wantAfter: allowsApp,
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			clock := newFakeClock()
			dir := t.TempDir()
			for name, content := range tc.initial {
				writeFile(t, dir, name, content)
			}
			h := dirHandler(t, clock, dir)

			if got := policyOf(t, h, "assets"); got != tc.wantStart {
				t.Fatalf("at start: %s, want %s", got, tc.wantStart)
			}
			tc.change(t, dir)
			// Each entry's TTL is jittered by ±10%.
			clock.Advance(dirTTL * 8 / 10)
			if got := policyOf(t, h, "assets"); got != tc.wantWithin {
				t.Errorf("within the TTL: %s, want %s", got, tc.wantWithin)
			}
			clock.Advance(dirTTL * 4 / 10)
			refreshNow(t, h, "assets")
			if got := policyOf(t, h, "assets"); got != tc.wantAfter {
				t.Errorf("after the TTL: %s, want %s", got, tc.wantAfter)
			}
		})
	}
}

// TestBrokenPolicyFileIsLoggedOncePerTTL: while a policy file does not
// parse, the previous policy stays in use and the failure is logged once
// per TTL, not once per request; once fixed, the new policy is used.
func TestBrokenPolicyFileIsLoggedOncePerTTL(t *testing.T) {
	clock := newFakeClock()
	dir := t.TempDir()
	writeFile(t, dir, "assets.json", allowing(appOrigin))
	h := dirHandler(t, clock, dir)
	core, logs := observer.New(zapcore.DebugLevel)
	useLogger(h, zap.New(core))
	failures := func() []observer.LoggedEntry {
		return logs.FilterMessage("reading bucket policy failed").AllUntimed()
	}

	if got := policyOf(t, h, "assets"); got != allowsApp {
		t.Fatalf("at start: %s", got)
	}
	writeFile(t, dir, "assets.json", `[{"AllowedOrigins": [`)
	clock.Advance(dirTTL * 12 / 10)
	refreshNow(t, h, "assets")
	for range 5 {
		if got := policyOf(t, h, "assets"); got != allowsApp {
			t.Fatalf("with the file broken: %s, want the previous policy", got)
		}
	}
	logged := failures()
	if len(logged) != 1 {
		t.Fatalf("the failure was logged %d times within one TTL, want once: %v", len(logged), logged)
	}
	entry := logged[0]
	fields := entry.ContextMap()
	if entry.Level != zapcore.WarnLevel || fields["bucket"] != "assets" || fields["previous_policy_kept"] != true ||
		!strings.Contains(fields["error"].(string), filepath.Join(dir, "assets.json")) {
		t.Errorf("log entry = %v %v, want a warning naming the bucket and the file, previous policy kept", entry.Level, fields)
	}

	clock.Advance(dirTTL * 12 / 10)
	refreshNow(t, h, "assets")
	for range 3 {
		policyOf(t, h, "assets")
	}
	if n := len(failures()); n != 2 {
		t.Errorf("after another TTL the failure was logged %d times in all, want 2", n)
	}

	writeFile(t, dir, "assets.json", allowing(otherOrigin))
	clock.Advance(dirTTL * 12 / 10)
	refreshNow(t, h, "assets")
	if got := policyOf(t, h, "assets"); got != allowsOther {
		t.Errorf("after the fix: %s, want the new policy", got)
	}
	if n := len(failures()); n != 2 {
		t.Errorf("a good read was logged as a failure: %d failures", n)
	}
}

// TestNewBrokenPolicyFileIsAnsweredAsUnavailable: a bucket whose first
// document does not parse has no previous policy to fall back on: its
// preflights get S3's 503, and its other requests go on without CORS
// headers rather than with a guessed policy.
func TestNewBrokenPolicyFileIsAnsweredAsUnavailable(t *testing.T) {
	clock := newFakeClock()
	dir := t.TempDir()
	h := dirHandler(t, clock, dir)
	writeFile(t, dir, "assets.json", `[{"AllowedOrigins": [`)

	req := newRequest(t, http.MethodOptions, "http://proxy.example/assets/key", "Origin", appOrigin, "Access-Control-Request-Method", "GET")
	rec, err := serveRecorded(h, req, mustNotRun(t))
	if err != nil {
		t.Fatal(err)
	}
	if rec.Code != http.StatusServiceUnavailable {
		t.Errorf("preflight status = %d, want 503", rec.Code)
	}
	checkCORSHeaders(t, rec.Header(), nil)

	upstream := newMinioLike(t)
	srv := frontServer(t, h, proxyTo(upstream.URL))
	resp, _ := do(t, srv.Client(), newRequest(t, http.MethodGet, srv.URL+"/assets/key", "Origin", appOrigin, "X-Test-Upstream-Vary", ""))
	if resp.StatusCode != http.StatusOK {
		t.Errorf("GET status = %d, want the origin's 200", resp.StatusCode)
	}
	checkCORSHeaders(t, resp.Header, varyOrigin)
}

// TestPolicyDirReadsEveryDialect: the folder's JSON (wrangler here) and XML
// documents apply to their buckets; other files are no policies.
func TestPolicyDirReadsEveryDialect(t *testing.T) {
	h := handlerFromCaddyfile(t, `bucket_cors {
	policy_dir testdata/policy_dir
}`)
	vary := preflightVaryLine.Get("Vary")
	tests := []struct {
		bucket, origin string
		header         []string
		wantStatus     int
		wantCORS       http.Header
	}{
		{"docs", "https://docs.example.com", nil, http.StatusOK, http.Header{
			"Access-Control-Allow-Origin":      {"https://docs.example.com"},
			"Access-Control-Allow-Credentials": {"true"},
			"Access-Control-Allow-Methods":     {"GET, HEAD"},
			"Access-Control-Max-Age":           {"300"},
			"Vary":                             {vary},
		}},
		{"media", "https://player.example.com", []string{"Access-Control-Request-Headers", "Range"}, http.StatusOK, http.Header{
			"Access-Control-Allow-Origin":      {"https://player.example.com"},
			"Access-Control-Allow-Credentials": {"true"},
			"Access-Control-Allow-Methods":     {"GET, HEAD"},
			"Access-Control-Allow-Headers":     {"range"},
			"Access-Control-Expose-Headers":    {"Content-Range"},
			"Access-Control-Max-Age":           {"600"},
			"Vary":                             {vary},
		}},
		{"README", "https://docs.example.com", nil, http.StatusForbidden, http.Header{"Vary": {vary}}},
	}
	for _, tc := range tests {
		t.Run(tc.bucket, func(t *testing.T) {
			req := newRequest(t, http.MethodOptions, "http://proxy.example/"+tc.bucket+"/key",
				append([]string{"Origin", tc.origin, "Access-Control-Request-Method", "GET"}, tc.header...)...)
			rec, err := serveRecorded(h, req, mustNotRun(t))
			if err != nil {
				t.Fatal(err)
			}
			if rec.Code != tc.wantStatus {
				t.Errorf("status = %d, want %d", rec.Code, tc.wantStatus)
			}
			checkCORSHeaders(t, rec.Header(), tc.wantCORS)
		})
	}
}

// TestPolicyDirSkipsWhatS3WouldRefuse: the folder's documents are judged
// by S3's rules. One that S3 would refuse is logged and skipped, and its
// bucket grants nothing (a preflight gets 503, as for any policy that cannot
// be read); one that S3 accepts with an origin no browser sends loads with a
// warning and its other origins work; the configuration starts all the same.
func TestPolicyDirSkipsWhatS3WouldRefuse(t *testing.T) {
	dir := t.TempDir()
	writeFile(t, dir, "bad.json", `[{"AllowedOrigins": ["`+appOrigin+`"], "AllowedMethods": ["PATCH"]}]`)
	writeFile(t, dir, "good.json", allowing(appOrigin))
	writeFile(t, dir, "empty-origin.json", `[{"AllowedOrigins": ["", "`+appOrigin+`"], "AllowedMethods": ["GET"]}]`)
	core, logs := observer.New(zapcore.DebugLevel)
	h := &Handler{PolicyDir: dir, state: state{logger: zap.New(core)}}
	ctx, cancel := newTestContext()
	defer cancel()
	if err := h.Provision(ctx); err != nil {
		t.Fatalf("Provision refused the folder: %v", err)
	}
	t.Cleanup(func() { h.Cleanup() })

	skipped := logs.FilterMessage("policy_dir: skipping a policy that cannot be used").AllUntimed()
	if len(skipped) != 1 || skipped[0].ContextMap()["bucket"] != "bad" ||
		!strings.Contains(skipped[0].ContextMap()["error"].(string), `AllowedMethods[1] "PATCH": Found unsupported HTTP method in CORS config`) {
		t.Errorf("skipped documents logged: %v, want bad.json with S3's error", skipped)
	}
	warned := logs.FilterMessage("bucket policy loaded with warnings").AllUntimed()
	if len(warned) != 1 || warned[0].ContextMap()["bucket"] != "empty-origin" {
		t.Errorf("warnings logged: %v, want empty-origin's", warned)
	}
	for bucket, want := range map[string]string{"good": allowsApp, "empty-origin": allowsApp} {
		if got := policyOf(t, h, bucket); got != want {
			t.Errorf("bucket %s: %s, want %s", bucket, got, want)
		}
	}
	rec, err := serveRecorded(h, newRequest(t, http.MethodOptions, "http://proxy.example/bad/key",
		"Origin", appOrigin, "Access-Control-Request-Method", "GET"), mustNotRun(t))
	if err != nil || rec.Code != http.StatusServiceUnavailable {
		t.Errorf("bucket bad: preflight answered %d, %v; want 503", rec.Code, err)
	}
	checkCORSHeaders(t, rec.Header(), nil)
}
