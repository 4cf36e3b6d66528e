package caddymodule

import (
	"errors"
	"net/http"
	"testing"

	"github.com/caddyserver/caddy/v2/modules/caddyhttp"
)

var varyOrigin = http.Header{"Vary": {"Origin"}}

// restOfGrantVary is what a grant adds to an origin's own Vary: Origin.
const restOfGrantVary = "Access-Control-Request-Headers, Access-Control-Request-Method"

// TestActualRequestsGetThePolicysHeadersOnly: whatever the origin sends
// (here MinIO's permissive defaults), a response carries the policy's grant
// when a rule allows the request's Origin and method, no Access-Control-*
// header at all otherwise, and Vary: Origin merged once; 4xx and 5xx
// answers too, so that a page can read its errors.
func TestActualRequestsGetThePolicysHeadersOnly(t *testing.T) {
	h := handlerFromCaddyfile(t, `bucket_cors {
	`+assetsPolicy+`
}`)
	upstream := newMinioLike(t)
	srv := frontServer(t, h, proxyTo(upstream.URL))

	tests := []struct {
		name       string
		method     string
		path       string
		header     []string
		wantStatus int
		wantCORS   http.Header
		wantBody   string
	}{
		{
			name:   "allowed GET gets the rule's headers",
			method: http.MethodGet, path: "/assets/photo.jpg",
			header:     []string{"Origin", appOrigin},
			wantStatus: http.StatusOK,
			wantCORS:   with(appGrant, "Vary", "Origin", "Vary", restOfGrantVary),
			wantBody:   "object /assets/photo.jpg",
		},
		{
			name:   "allowed HEAD",
			method: http.MethodHead, path: "/assets/photo.jpg",
			header:     []string{"Origin", appOrigin},
			wantStatus: http.StatusOK,
			wantCORS:   with(appGrant, "Vary", "Origin", "Vary", restOfGrantVary),
		},
		{
			name:   "allowed PUT from an origin pattern",
			method: http.MethodPut, path: "/assets/upload.bin",
			header:     []string{"Origin", previewOrigin},
			wantStatus: http.StatusOK,
			wantCORS:   with(grantFor(appGrant, previewOrigin), "Vary", "Origin", "Vary", restOfGrantVary),
			wantBody:   "object /assets/upload.bin",
		},
		{
			name:   "GET from any origin falls to the * rule",
			method: http.MethodGet, path: "/assets/photo.jpg",
			header:     []string{"Origin", otherOrigin},
			wantStatus: http.StatusOK,
			wantCORS:   with(publicGrant, "Vary", "Origin", "Vary", restOfGrantVary),
			wantBody:   "object /assets/photo.jpg",
		},
		{
			name:   "refused origin: none of the origin's permissive headers get through",
			method: http.MethodPut, path: "/assets/upload.bin",
			header:     []string{"Origin", otherOrigin},
			wantStatus: http.StatusOK,
			wantCORS:   varyOrigin,
			wantBody:   "object /assets/upload.bin",
		},
		{
			name:   "refused method",
			method: http.MethodDelete, path: "/assets/photo.jpg",
			header:     []string{"Origin", appOrigin},
			wantStatus: http.StatusOK,
			wantCORS:   varyOrigin,
			wantBody:   "object /assets/photo.jpg",
		},
		{
			name:   "upstream 404 keeps the grant",
			method: http.MethodGet, path: "/assets/missing",
			header:     []string{"Origin", appOrigin},
			wantStatus: http.StatusNotFound,
			wantCORS:   with(appGrant, "Vary", "Origin", "Vary", restOfGrantVary),
			wantBody:   "<Error><Code>NoSuchKey</Code></Error>",
		},
		{
			name:   "upstream 500 keeps the grant",
			method: http.MethodGet, path: "/assets/broken",
			header:     []string{"Origin", appOrigin},
			wantStatus: http.StatusInternalServerError,
			wantCORS:   with(appGrant, "Vary", "Origin", "Vary", restOfGrantVary),
			wantBody:   "<Error><Code>InternalError</Code></Error>",
		},
		{
			name:   "upstream 404 for a refused origin has no CORS headers",
			method: http.MethodPut, path: "/assets/missing",
			header:     []string{"Origin", otherOrigin},
			wantStatus: http.StatusNotFound,
			wantCORS:   varyOrigin,
			wantBody:   "<Error><Code>NoSuchKey</Code></Error>",
		},
		{
			name:   "no Origin: no CORS headers, Vary: Origin all the same",
			method: http.MethodGet, path: "/assets/photo.jpg",
			header:     []string{"X-Test-Upstream-Vary", ""},
			wantStatus: http.StatusOK,
			wantCORS:   varyOrigin,
			wantBody:   "object /assets/photo.jpg",
		},
		{
			name:   "two Origin headers: no grant",
			method: http.MethodGet, path: "/assets/photo.jpg",
			header:     []string{"Origin", appOrigin, "Origin", appOrigin},
			wantStatus: http.StatusOK,
			wantCORS:   varyOrigin,
			wantBody:   "object /assets/photo.jpg",
		},
		{
			name:   "the origin's Vary: Origin is not repeated, the other two names added",
			method: http.MethodGet, path: "/assets/photo.jpg",
			header:     []string{"Origin", appOrigin, "X-Test-Upstream-Vary", "Origin"},
			wantStatus: http.StatusOK,
			wantCORS:   with(appGrant, "Vary", "Origin", "Vary", restOfGrantVary),
			wantBody:   "object /assets/photo.jpg",
		},
		{
			name:   "the origin's other Vary is kept and Origin added",
			method: http.MethodGet, path: "/assets/photo.jpg",
			header:     []string{"Origin", appOrigin, "X-Test-Upstream-Vary", "Accept-Encoding"},
			wantStatus: http.StatusOK,
			wantCORS:   with(appGrant, "Vary", "Accept-Encoding", "Vary", grantVaryLine),
			wantBody:   "object /assets/photo.jpg",
		},
		{
			name:   "Origin already in a list, in any case, is not added",
			method: http.MethodGet, path: "/assets/photo.jpg",
			header:     []string{"X-Test-Upstream-Vary", "accept-encoding, origin"},
			wantStatus: http.StatusOK,
			wantCORS:   http.Header{"Vary": {"accept-encoding, origin"}},
			wantBody:   "object /assets/photo.jpg",
		},
		{
			name:   "Vary: * already covers Origin",
			method: http.MethodGet, path: "/assets/photo.jpg",
			header:     []string{"Origin", appOrigin, "X-Test-Upstream-Vary", "*"},
			wantStatus: http.StatusOK,
			wantCORS:   with(appGrant, "Vary", "*"),
			wantBody:   "object /assets/photo.jpg",
		},
		{
			name:   "bucket without policy: the origin's CORS headers removed, Vary: Origin added",
			method: http.MethodGet, path: "/nopolicy/photo.jpg",
			header:     []string{"Origin", appOrigin, "X-Test-Upstream-Vary", ""},
			wantStatus: http.StatusOK,
			wantCORS:   varyOrigin,
			wantBody:   "object /nopolicy/photo.jpg",
		},
		{
			name:   "bucket without policy keeps the origin's own Vary",
			method: http.MethodGet, path: "/nopolicy/photo.jpg",
			header:     []string{"Origin", appOrigin},
			wantStatus: http.StatusOK,
			wantCORS:   varyOrigin,
			wantBody:   "object /nopolicy/photo.jpg",
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			resp, body := do(t, srv.Client(), newRequest(t, tc.method, srv.URL+tc.path, tc.header...))
			if resp.StatusCode != tc.wantStatus {
				t.Errorf("status = %d, want %d", resp.StatusCode, tc.wantStatus)
			}
			checkCORSHeaders(t, resp.Header, tc.wantCORS)
			if string(body) != tc.wantBody {
				t.Errorf("body = %q, want %q", body, tc.wantBody)
			}
			if got := resp.Header.Get("ETag"); got != `"abc"` {
				t.Errorf("ETag = %q: the origin's other headers must get through", got)
			}
		})
	}
}

// TestFailingNextLeavesTheGrantForCaddysErrorStatus: when reverse_proxy
// fails (an unreachable origin), Caddy writes the error status on the
// response writer after the handlers return; the grant must already be on
// it, and whatever CORS headers the origin left must be gone.
func TestFailingNextLeavesTheGrantForCaddysErrorStatus(t *testing.T) {
	h := handlerFromCaddyfile(t, `bucket_cors {
	`+assetsPolicy+`
}`)
	dialFailed := errors.New("dial tcp 127.0.0.1:9: connect: connection refused")
	// next fails as reverse_proxy does, after a header line the response
	// must not keep.
	next := caddyhttp.HandlerFunc(func(w http.ResponseWriter, r *http.Request) error {
		w.Header().Set("Access-Control-Allow-Origin", r.Header.Get("Origin"))
		return caddyhttp.Error(http.StatusBadGateway, dialFailed)
	})

	tests := []struct {
		name     string
		method   string
		path     string
		origin   string
		wantCORS http.Header
	}{
		{"allowed origin", http.MethodGet, "/assets/photo.jpg", appOrigin, with(appGrant, "Vary", grantVaryLine)},
		{"refused origin", http.MethodPut, "/assets/photo.jpg", otherOrigin, varyOrigin},
		{"bucket without policy", http.MethodGet, "/nopolicy/photo.jpg", appOrigin, varyOrigin},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			// On the writer, as Caddy's server finds it.
			rec, err := serveRecorded(h, newRequest(t, tc.method, "http://proxy.example"+tc.path, "Origin", tc.origin), next)
			var he caddyhttp.HandlerError
			if !errors.As(err, &he) || he.StatusCode != http.StatusBadGateway || !errors.Is(err, dialFailed) {
				t.Fatalf("ServeHTTP error = %v, want next's 502 unchanged", err)
			}
			if rec.Flushed || rec.Body.Len() > 0 {
				t.Errorf("the handler wrote a response; Caddy's server must write the error")
			}
			checkCORSHeaders(t, rec.Header(), tc.wantCORS)

			// Over HTTP, with the status written as Caddy's server does.
			srv := frontServer(t, h, next)
			resp, _ := do(t, srv.Client(), newRequest(t, tc.method, srv.URL+tc.path, "Origin", tc.origin))
			if resp.StatusCode != http.StatusBadGateway {
				t.Errorf("status = %d, want 502", resp.StatusCode)
			}
			checkCORSHeaders(t, resp.Header, tc.wantCORS)
		})
	}
}
