package caddymodule

import (
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/caddyserver/caddy/v2"
)

// runCaddy adapts a Caddyfile and runs it in this process, as `caddy run`
// would, until the test ends. Only one config runs at a time in a process:
// tests that call it run one after the other (none of them is parallel).
func runCaddy(t *testing.T, caddyfileText string) {
	t.Helper()
	// Warnings (such as "not formatted") are what `caddy run` would print;
	// they do not stop it.
	cfg, warnings, err := adaptWithWarnings(t, "Caddyfile", []byte(caddyfileText))
	for _, w := range warnings {
		t.Logf("adapt warning: %s", w)
	}
	if err != nil {
		t.Fatalf("adapt: %v\n%s", err, caddyfileText)
	}
	if err := caddy.Load(cfg, true); err != nil {
		t.Fatalf("caddy.Load: %v", err)
	}
	t.Cleanup(func() {
		if err := caddy.Stop(); err != nil {
			t.Errorf("caddy.Stop: %v", err)
		}
	})
}

// testGlobalOptions keep an in-process Caddy to itself: no admin endpoint,
// no saved config, loopback only, and its storage (locks, instance ID) in a
// temporary folder rather than the user's.
func testGlobalOptions(t *testing.T) string {
	return `	admin off
	persist_config off
	default_bind 127.0.0.1
	storage file_system {
		root ` + strconv.Quote(t.TempDir()) + `
	}
`
}

// siteRequest builds a request to a site of the running Caddy: it connects
// to the port on 127.0.0.1 and names the site's host, localhost.
func siteRequest(t *testing.T, method string, port int, path string, kv ...string) *http.Request {
	t.Helper()
	req := newRequest(t, method, "http://127.0.0.1:"+strconv.Itoa(port)+path, kv...)
	req.Host = "localhost:" + strconv.Itoa(port)
	return req
}

// replaceOnce replaces old, which must occur exactly once, so that a change
// of the example that the test no longer fits fails loudly.
func replaceOnce(t *testing.T, s, old, new string) string {
	t.Helper()
	if n := strings.Count(s, old); n != 1 {
		t.Fatalf("Caddyfile.example has %q %d times; the test expects it once", old, n)
	}
	return strings.Replace(s, old, new, 1)
}

// TestExampleCaddyfileDemo runs Caddyfile.example itself (with free ports
// instead of 8080, 8081, 3000 and 3001) and checks what its README
// describes: the page on http://localhost:3000 may read the bucket, the
// same page on :3001 may not, though the stand-in bucket answers every
// origin with MinIO's permissive headers.
func TestExampleCaddyfileDemo(t *testing.T) {
	raw, err := os.ReadFile(filepath.Join("..", "Caddyfile.example"))
	if err != nil {
		t.Fatal(err)
	}
	exampleDir, err := filepath.Abs(filepath.Join("..", "example"))
	if err != nil {
		t.Fatal(err)
	}
	proxy, bucket, page, otherPage := freePort(t), freePort(t), freePort(t), freePort(t)
	cf := string(raw)
	cf = replaceOnce(t, cf, "\tauto_https off\n", "\tauto_https off\n"+testGlobalOptions(t))
	cf = replaceOnce(t, cf, "\nhttp://localhost:8080 {", fmt.Sprintf("\nhttp://localhost:%d {", proxy))
	cf = replaceOnce(t, cf, "\treverse_proxy localhost:8081\n", fmt.Sprintf("\treverse_proxy localhost:%d\n", bucket))
	cf = replaceOnce(t, cf, "\nhttp://localhost:8081 {", fmt.Sprintf("\nhttp://localhost:%d {", bucket))
	cf = replaceOnce(t, cf, "\nhttp://localhost:3000, http://localhost:3001 {",
		fmt.Sprintf("\nhttp://localhost:%d, http://localhost:%d {", page, otherPage))
	cf = replaceOnce(t, cf, "root * example/bucket", "root * "+strconv.Quote(filepath.Join(exampleDir, "bucket")))
	cf = replaceOnce(t, cf, "root * example/site", "root * "+strconv.Quote(filepath.Join(exampleDir, "site")))
	runCaddy(t, cf)

	font, err := os.ReadFile(filepath.Join(exampleDir, "bucket", "assets", "Roboto-Light.ttf"))
	if err != nil {
		t.Fatal(err)
	}
	data, err := os.ReadFile(filepath.Join(exampleDir, "bucket", "assets", "data.json"))
	if err != nil {
		t.Fatal(err)
	}

	// The policy names http://localhost:3000; the Origin header says so
	// whatever port the page is really served from.
	const allowed, refused = "http://localhost:3000", "http://localhost:3001"
	grant := http.Header{
		"Access-Control-Allow-Origin":      {allowed},
		"Access-Control-Allow-Credentials": {"true"},
		"Access-Control-Allow-Methods":     {"GET, HEAD"},
		"Access-Control-Expose-Headers":    {"ETag"},
		"Access-Control-Max-Age":           {"3600"},
	}
	vary := preflightVaryLine.Get("Vary")
	// file_server's own Vary, with Origin merged after it.
	fileServerVary := http.Header{"Vary": {"Accept-Encoding", "Origin"}}

	tests := []struct {
		name       string
		req        *http.Request
		wantStatus int
		wantCORS   http.Header
		wantBody   []byte       // nil: not checked
		wantError  *s3ErrorBody // an S3 error body
	}{
		{
			name: "the font's preflight from :3000 is allowed",
			req: siteRequest(t, http.MethodOptions, proxy, "/assets/Roboto-Light.ttf",
				"Origin", allowed, "Access-Control-Request-Method", "GET"),
			wantStatus: http.StatusOK,
			wantCORS:   with(grant, "Vary", vary),
			wantBody:   []byte{},
		},
		{
			name: "the page's preflighted PUT is refused: the policy allows GET and HEAD",
			req: siteRequest(t, http.MethodOptions, proxy, "/assets/upload.txt",
				"Origin", allowed, "Access-Control-Request-Method", "PUT", "Access-Control-Request-Headers", "content-type"),
			wantStatus: http.StatusForbidden,
			wantCORS:   http.Header{"Vary": {vary}},
			wantError:  notAllowedBody("PUT"),
		},
		{
			name: "a preflight from :3001 is refused",
			req: siteRequest(t, http.MethodOptions, proxy, "/assets/data.json",
				"Origin", refused, "Access-Control-Request-Method", "GET"),
			wantStatus: http.StatusForbidden,
			wantCORS:   http.Header{"Vary": {vary}},
			wantError:  notAllowedBody("GET"),
		},
		{
			name:       "the font from :3000 carries the grant",
			req:        siteRequest(t, http.MethodGet, proxy, "/assets/Roboto-Light.ttf", "Origin", allowed),
			wantStatus: http.StatusOK,
			wantCORS:   with(grant, "Vary", "Accept-Encoding", "Vary", grantVaryLine),
			wantBody:   font,
		},
		{
			name:       "the JSON from :3000 carries the grant",
			req:        siteRequest(t, http.MethodGet, proxy, "/assets/data.json", "Origin", allowed),
			wantStatus: http.StatusOK,
			wantCORS:   with(grant, "Vary", "Accept-Encoding", "Vary", grantVaryLine),
			wantBody:   data,
		},
		{
			name:       "the font from :3001 carries no Access-Control-* header",
			req:        siteRequest(t, http.MethodGet, proxy, "/assets/Roboto-Light.ttf", "Origin", refused),
			wantStatus: http.StatusOK,
			wantCORS:   fileServerVary,
			wantBody:   font,
		},
		{
			name:       "the JSON from :3001 carries no Access-Control-* header",
			req:        siteRequest(t, http.MethodGet, proxy, "/assets/data.json", "Origin", refused),
			wantStatus: http.StatusOK,
			wantCORS:   fileServerVary,
			wantBody:   data,
		},
		{
			name:       "a missing object from :3000 is a 404 the page can read",
			req:        siteRequest(t, http.MethodGet, proxy, "/assets/nope.txt", "Origin", allowed),
			wantStatus: http.StatusNotFound,
			wantCORS:   with(grant, "Vary", grantVaryLine),
		},
		{
			name: "the stand-in bucket itself echoes :3001 with credentials, as MinIO does",
			req:  siteRequest(t, http.MethodGet, bucket, "/assets/data.json", "Origin", refused),
			wantCORS: http.Header{
				"Access-Control-Allow-Origin":      {refused},
				"Access-Control-Allow-Credentials": {"true"},
				"Access-Control-Allow-Methods":     {"GET, PUT, POST, DELETE, HEAD"},
				"Vary":                             {"Accept-Encoding"},
			},
			wantStatus: http.StatusOK,
			wantBody:   data,
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			resp, body := do(t, http.DefaultClient, tc.req)
			if resp.StatusCode != tc.wantStatus {
				t.Errorf("status = %d, want %d; body:\n%.300s", resp.StatusCode, tc.wantStatus, body)
			}
			checkCORSHeaders(t, resp.Header, tc.wantCORS)
			if tc.wantBody != nil && string(body) != string(tc.wantBody) {
				t.Errorf("body: %d bytes, want the %d bytes of the file", len(body), len(tc.wantBody))
			}
			if tc.wantError != nil {
				checkS3Error(t, resp.Header, body, tc.wantError)
			}
		})
	}

	for _, port := range []int{page, otherPage} {
		t.Run(fmt.Sprintf("the page is served on :%d", port), func(t *testing.T) {
			resp, body := do(t, http.DefaultClient, siteRequest(t, http.MethodGet, port, "/"))
			if resp.StatusCode != http.StatusOK || !strings.Contains(string(body), "<title>bucketcors demo</title>") {
				t.Errorf("status %d, body:\n%.300s", resp.StatusCode, body)
			}
		})
	}
}

// TestBehindRealReverseProxy runs bucket_cors in front of Caddy's own
// reverse_proxy to a MinIO-like origin, and to an origin that is down:
// the origin's permissive headers never get through, its errors keep the
// grant, and so does Caddy's own 502.
func TestBehindRealReverseProxy(t *testing.T) {
	upstream := newMinioLike(t)
	proxy, downProxy, down := freePort(t), freePort(t), freePort(t)
	policy := strings.ReplaceAll(assetsPolicy, "\n", "\n\t") // one level deeper, in a site
	runCaddy(t, fmt.Sprintf(`{
	auto_https off
%s}

http://localhost:%d {
	bucket_cors {
		%s
	}
	reverse_proxy %s
}

http://localhost:%d {
	bucket_cors {
		%s
	}
	reverse_proxy 127.0.0.1:%d
}
`, testGlobalOptions(t), proxy, policy, upstream.Listener.Addr(), downProxy, policy, down))

	tests := []struct {
		name       string
		req        *http.Request
		wantStatus int
		wantCORS   http.Header
	}{
		{"allowed GET", siteRequest(t, http.MethodGet, proxy, "/assets/a.txt", "Origin", appOrigin),
			http.StatusOK, with(appGrant, "Vary", "Origin", "Vary", restOfGrantVary)},
		{"refused PUT", siteRequest(t, http.MethodPut, proxy, "/assets/a.txt", "Origin", otherOrigin),
			http.StatusOK, varyOrigin},
		{"origin's 404", siteRequest(t, http.MethodGet, proxy, "/assets/missing", "Origin", appOrigin),
			http.StatusNotFound, with(appGrant, "Vary", "Origin", "Vary", restOfGrantVary)},
		{"origin's 500", siteRequest(t, http.MethodGet, proxy, "/assets/broken", "Origin", appOrigin),
			http.StatusInternalServerError, with(appGrant, "Vary", "Origin", "Vary", restOfGrantVary)},
		{"no Origin", siteRequest(t, http.MethodGet, proxy, "/assets/a.txt", "X-Test-Upstream-Vary", "Accept-Encoding"),
			http.StatusOK, http.Header{"Vary": {"Accept-Encoding", "Origin"}}},
		{"bucket without policy", siteRequest(t, http.MethodGet, proxy, "/nopolicy/a.txt", "Origin", appOrigin, "X-Test-Upstream-Vary", ""),
			http.StatusOK, varyOrigin},
		{"allowed preflight", siteRequest(t, http.MethodOptions, proxy, "/assets/a.txt", "Origin", appOrigin, "Access-Control-Request-Method", "PUT"),
			http.StatusOK, with(appGrant, "Vary", preflightVaryLine.Get("Vary"))},
		{"origin down: Caddy's 502 carries the grant", siteRequest(t, http.MethodGet, downProxy, "/assets/a.txt", "Origin", appOrigin),
			http.StatusBadGateway, with(appGrant, "Vary", grantVaryLine)},
		{"origin down, refused origin: 502 without CORS headers", siteRequest(t, http.MethodPut, downProxy, "/assets/a.txt", "Origin", otherOrigin),
			http.StatusBadGateway, varyOrigin},
		{"origin down: a preflight is answered all the same", siteRequest(t, http.MethodOptions, downProxy, "/assets/a.txt", "Origin", appOrigin, "Access-Control-Request-Method", "GET"),
			http.StatusOK, with(appGrant, "Vary", preflightVaryLine.Get("Vary"))},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			resp, _ := do(t, http.DefaultClient, tc.req)
			if resp.StatusCode != tc.wantStatus {
				t.Errorf("status = %d, want %d", resp.StatusCode, tc.wantStatus)
			}
			checkCORSHeaders(t, resp.Header, tc.wantCORS)
		})
	}
	for _, r := range upstream.requestsSeen() {
		if strings.HasPrefix(r, http.MethodOptions) {
			t.Errorf("a preflight reached the origin: %s", r)
		}
	}
}
